/**
 * The subscription planner: what the app wants (the desired set per channel, reference-counted
 * so that two consumers of AAPL quotes make one upstream subscription) against what the server
 * says it sends (the confirmed set, from its whole-set echo). It owns no socket: the client asks
 * `next()` for the delta to send, sends it, and reports the echo or the error. One action is in
 * flight at a time; everything changed meanwhile is folded into the next delta, unsubscribes
 * first (they free symbol-limit slots), then queued probe groups (below), then the rest of the
 * subscribes, chunked under a byte limit.
 *
 * Order is priority, not the alphabet: over a plan's symbol limit the server keeps what came
 * first, so the user's order decides which symbols stream. Symbols rank by `setPriority()` (the
 * caller's order, e.g. the active watchlist first), then by when they were first wanted; a delta
 * lists symbol after symbol, each on all its pending channels, so a limit cuts between symbols,
 * not between channels. The same order every time makes the same cut after a reconnect.
 *
 * Refusals are remembered per (channel, symbol) so that a refused symbol is reported, not retried
 * in a loop, and not even after a reconnect, until its consumers let go of it or `clearRefused()`.
 * For the same reason a subscribe whose echo does not list a symbol marks that symbol refused
 * with code 0, and an unsubscribe the echo ignores is not repeated on this connection: otherwise
 * a server that silently declines would get the same action forever.
 *
 * An error names no symbol, and a delta folds many (channel, symbol) pairs into one action, so
 * an error about the action in flight is handled by "isolate, then refuse": one bad pair must not
 * take the innocent ones of its action down with it, and the failed action is never sent again
 * as it was (Alpaca: a 400 is the client's own bug, do not resend the same message).
 * - A subscribe naming several channels (400, 410, 413): nothing is refused; from then on
 *   every subscribe names one channel, so that a channel the feed lacks fails on its own. A 405
 *   is about how many pairs, never about a channel, so it is bisected as below instead: splitting
 *   by channel would fill the limit with one channel of every symbol.
 * - A subscribe of several pairs (one channel, or several after a 405): 410 and 413 are about the
 *   channel (not on this feed; `*` not allowed), so its unconfirmed symbols are refused, except
 *   that a 413 to an action holding `*` refuses just `*`. 400 and 405 may be about one symbol or
 *   about how many were asked at once, so nothing is refused: the failed action's pairs that are
 *   still wanted, in priority order, are split in two halves, "probe groups", queued at the front
 *   and sent as they are before any other subscribe (bisection, depth first). A failed group is
 *   split the same way. Only that action is bisected: every other pending symbol still goes at
 *   full size, so one bad symbol costs about 2 * log2(n) actions, not one round trip per symbol.
 *   The queue drains before any other subscribe is planned, so its symbols are never packed back
 *   with the rest of the action that failed. Under a limit the groups that pass are the longest
 *   prefix of the priority order that fits.
 * - A subscribe of one symbol on one channel: that pair is refused with the code. For a 405 it
 *   also means the connection holds all it may: every other pair waiting to be subscribed
 *   (queued in probe groups or not) is refused with 405 at once, without sending it, since each
 *   would only earn its own 405. Unsubscribes still go out; refusals stay until the consumers let
 *   go or `clearRefused()`, so capacity freed later is not filled behind the user's back.
 * - An unsubscribe: its symbols join the ignored unsubscribes, not repeated on this connection.
 * Each step sends something strictly smaller or refuses something, so errors cannot loop.
 *
 * What errors taught outlives `reset()`: refusals and one channel per subscribe (same feed, same
 * account), and the probe queue too. A new session starts from the desired set less the refused
 * pairs, so nothing over the symbol limit goes again; the queued groups are kept because the
 * action they came from failed as a whole: sending its symbols together again in the new session
 * would repeat a failed message (for a 400, a certain failure) where a kept group costs at most
 * one action more. A probe in flight when the session ends is queued again. `clearRefused()`, the
 * user's "try again", forgets refusals and the one-channel rule (the plan or the feed may have
 * changed since) but keeps queued groups: they only decide how symbols are grouped. When the
 * priority changed since the refusals (a refused symbol now ranks before a held one), it also
 * gives back the held pairs of the symbols that rank after the best refused one and outside the
 * first ones in priority order that fit in what the server holds now, so that the limit is
 * filled again in priority order with as few unsubscribes as can be known to be needed. A new
 * priority alone unsubscribes nothing.
 *
 * Late errors. Alpaca may echo an action and only then send its 405: by then the client has sent
 * the next action, and blaming that one would bisect and refuse innocent pairs. So the pairs an
 * echo leaves out of its action (refused with code 0, if still wanted) are remembered until the
 * next echo; the next action error while any are remembered is theirs: their refusals take its
 * code and the action in flight is left alone (`onError` says 'attributed', so that the client
 * keeps that action's echo deadline). Were the error really about the action in flight, its echo
 * would never come: the client's echo deadline handles that, and the next error about it is
 * isolated as usual. A 400 counts only while an action is in flight (otherwise it may be about
 * auth). A server that applies part of a subscribe keeps pairs in its own order, perhaps
 * channel by channel: after such a late 405 the held pairs that rank too low are given back and
 * the first symbols that surely fit are planned again (a bounded number of times per
 * connection), so that the limit still holds the priority order.
 */
import {
  CHANNELS,
  type Channel,
  type ChannelSets,
  type SubscriptionMessage,
} from '../../shared/market.ts';
import { silentLogger, type Logger } from './log.ts';

/** ASCII letters, digits, `.` `/` `-` (BRK.B, BTC/USD), starting with a letter or digit; or `*`. */
const SYMBOL = /^(?:\*|[A-Za-z0-9][A-Za-z0-9./-]*)$/;

/**
 * Trims and upper-cases a symbol; undefined when it is not a valid symbol (or not a string). The
 * ASCII check comes first: upper-casing would turn `ıbm` into `IBM` and `straße` into `STRASSE`.
 */
export function normalizeSymbol(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const s = raw.trim();
  return SYMBOL.test(s) ? s.toUpperCase() : undefined;
}

/** Symbols that failed validation; nothing was changed by the call that threw it. */
export class SymbolError extends Error {
  readonly symbols: readonly string[];

  constructor(symbols: readonly string[]) {
    super(
      `invalid symbol${symbols.length === 1 ? '' : 's'}: ${symbols.map((s) => JSON.stringify(s)).join(', ')}`,
    );
    this.name = 'SymbolError';
    this.symbols = symbols;
  }
}

export interface PlannedAction {
  readonly action: 'subscribe' | 'unsubscribe';
  readonly channels: Partial<Record<Channel, string[]>>;
  /** Length of `JSON.stringify({ action, ...channels })`, which is its UTF-8 size (symbols are ASCII). */
  readonly bytes: number;
}

export interface RefusedSymbol {
  readonly channel: Channel;
  readonly symbol: string;
  /**
   * The server's error code (400 invalid syntax, 405 symbol limit, 410 channel not on this feed,
   * 413 `*` not allowed), or 0 when the echo left it out.
   */
  readonly code: number;
  /** Wall-clock ms. */
  readonly at: number;
}

export type SubscriptionChange = 'desired' | 'confirmed' | 'refused' | 'in-flight';

/** What `onError` took a server error to be about. */
export type ErrorOutcome = 'consumed' | 'attributed' | 'ignored';

export interface SubscriptionManagerOptions {
  /** Upper bound on the JSON size of one action; larger deltas are chunked. Default 16,384. */
  readonly maxActionBytes?: number;
  /** Wall-clock ms, for refusal times. */
  readonly now?: () => number;
  readonly logger?: Logger;
}

/** Errors about the subscribe or unsubscribe action the client sent. */
const ACTION_ERRORS: ReadonlySet<number> = new Set([400, 405, 410, 413]);
/** Of those, the ones about a channel as a whole rather than about some of its symbols. */
const CHANNEL_ERRORS: ReadonlySet<number> = new Set([410, 413]);

/** A refusal for the symbol limit: 405, or left out of an echo (0) until its late 405 comes. */
function overLimit(code: number): boolean {
  return code === 405 || code === 0;
}

/** Late-405 rebalances per connection: enough for a partial apply or two, never a loop. */
const MAX_REBALANCES = 4;

const SUBSCRIBE_BASE = JSON.stringify({ action: 'subscribe' }).length;
const UNSUBSCRIBE_BASE = JSON.stringify({ action: 'unsubscribe' }).length;

function makeChannelMap<V>(make: () => V): Map<Channel, V> {
  return new Map(CHANNELS.map((c) => [c, make()]));
}

/** A (channel, symbol) pair. */
type Pair = readonly [Channel, string];

/** Pairs to subscribe together, as they are, in priority order: one half of a failed subscribe. */
interface ProbeGroup {
  readonly pairs: readonly Pair[];
}

/** The pairs an action names, channel by channel. */
function pairsOf(action: PlannedAction): Pair[] {
  return CHANNELS.flatMap((c) => (action.channels[c] ?? []).map((s): Pair => [c, s]));
}

/**
 * The `channels` of an action holding these pairs, channels in CHANNELS order (the wire order),
 * each channel's symbols in the order given.
 */
function channelsOf(
  pairs: Iterable<Pair> | Map<Channel, string[]>,
): Partial<Record<Channel, string[]>> {
  const lists = new Map<Channel, string[]>();
  if (pairs instanceof Map) for (const [c, list] of pairs) lists.set(c, list);
  else
    for (const [c, s] of pairs) {
      const list = lists.get(c);
      if (list) list.push(s);
      else lists.set(c, [s]);
    }
  const out: Partial<Record<Channel, string[]>> = {};
  for (const c of CHANNELS) {
    const list = lists.get(c);
    if (list && list.length > 0) out[c] = list;
  }
  return out;
}

/** The next action and, when it is a queued probe group, that group's index in the queue. */
interface Plan {
  readonly action: PlannedAction;
  readonly probe: number | undefined;
}

export class SubscriptionManager {
  readonly #maxActionBytes: number;
  readonly #now: () => number;
  readonly #log: Logger;
  /** Channel -> symbol -> refcount (>= 1; a symbol at 0 is deleted). */
  readonly #desired = makeChannelMap(() => new Map<string, number>());
  /**
   * Symbol -> when it was first wanted (a counter), while it is wanted on any channel: the order
   * after the explicit priority, so that the order is the caller's even without one.
   */
  readonly #firstWanted = new Map<string, number>();
  #wantedCounter = 0;
  /** Symbol -> rank from setPriority(); lower first. Symbols not named rank after all named. */
  #priority = new Map<string, number>();
  /** #order(), until setPriority() or a symbol entering or leaving the wanted set. */
  #orderCache: readonly string[] | undefined;
  #confirmed = makeChannelMap(() => new Set<string>());
  readonly #refused = makeChannelMap(() => new Map<string, { code: number; at: number }>());
  /** Unsubscribes the server ignored on this connection; not repeated until reset(). */
  #ignoredUnsubscribes = makeChannelMap(() => new Set<string>());
  /**
   * Held pairs given back to make room for higher-priority ones (clearRefused()): unsubscribed
   * though wanted, then planned again as pending once the server has let go of them.
   */
  #evicting = makeChannelMap(() => new Set<string>());
  /** Late-405 rebalances on this connection (#rebalance). */
  #rebalances = 0;
  /**
   * After making room, the symbols that surely fit: while any of their pairs is pending, only
   * theirs are subscribed, so that a server applying part of an action in its own order cannot
   * hand their room to the pairs given back. Empty otherwise.
   */
  #first = new Set<string>();
  #inFlight: PlannedAction | undefined;
  /** The probe group the action in flight was made of, queued again if that action is lost. */
  #inFlightProbe: ProbeGroup | undefined;
  /**
   * Halves of failed subscribes, sent as they are, first one first, before other subscribes.
   * Kept across reset() and clearRefused() (see the module comment).
   */
  #probes: ProbeGroup[] = [];
  /**
   * Pairs the last echo left out of its action (refused with code 0 if still wanted): an action
   * error arriving before the next echo is about them (a 405 may follow the echo of its action).
   */
  #leftOut: [Channel, string][] = [];
  /**
   * Set by an error to a subscribe naming several channels, so that a channel the feed lacks
   * fails alone. Kept across reset() (same feed); cleared by clearRefused().
   */
  #oneChannelPerSubscribe = false;
  readonly #listeners = new Set<(change: SubscriptionChange) => void>();

  constructor(options: SubscriptionManagerOptions = {}) {
    this.#maxActionBytes = options.maxActionBytes ?? 16_384;
    this.#now = options.now ?? Date.now;
    this.#log = options.logger ?? silentLogger();
  }

  /**
   * Adds one reference per distinct symbol (a symbol named twice in one call counts once).
   * Throws SymbolError, changing nothing, if any symbol is invalid.
   */
  add(channel: Channel, symbols: readonly string[]): void {
    const desired = this.#desiredOf(channel);
    let entered = false;
    for (const s of this.#validate(symbols)) {
      const n = desired.get(s) ?? 0;
      desired.set(s, n + 1);
      if (n === 0) entered = true;
      if (!this.#firstWanted.has(s)) {
        this.#firstWanted.set(s, this.#wantedCounter++);
        this.#orderCache = undefined;
      }
    }
    if (entered) this.#emit('desired');
  }

  /**
   * Drops one reference per distinct symbol; a symbol without references is ignored. At zero the
   * symbol leaves the desired set and its refusal, if any, is forgotten.
   */
  remove(channel: Channel, symbols: readonly string[]): void {
    const desired = this.#desiredOf(channel);
    let left = false;
    for (const s of this.#validate(symbols)) {
      const n = desired.get(s);
      if (n === undefined) continue;
      if (n > 1) {
        desired.set(s, n - 1);
        continue;
      }
      desired.delete(s);
      this.#refused.get(channel)?.delete(s);
      if (!CHANNELS.some((c) => this.#desired.get(c)?.has(s))) {
        this.#firstWanted.delete(s);
        this.#orderCache = undefined;
      }
      left = true;
    }
    if (left) this.#emit('desired');
  }

  /**
   * The order in which symbols are subscribed: these first, in this order (invalid ones ignored),
   * then the others by when they were first wanted. It changes nothing already sent or refused:
   * it orders what is planned next (pending pairs, a reconnect, pairs `clearRefused()` frees), so
   * a new order never costs an unsubscribe. Replaces the previous order.
   */
  setPriority(symbols: readonly string[]): void {
    const priority = new Map<string, number>();
    for (const raw of symbols) {
      const s = normalizeSymbol(raw);
      if (s !== undefined && !priority.has(s)) priority.set(s, priority.size);
    }
    this.#priority = priority;
    this.#orderCache = undefined;
  }

  refcount(channel: Channel, symbol: string): number {
    const s = normalizeSymbol(symbol);
    return s === undefined ? 0 : (this.#desired.get(channel)?.get(s) ?? 0);
  }

  desired(): ChannelSets {
    return this.#sets((c) => this.#desired.get(c)?.keys());
  }

  confirmed(): ChannelSets {
    return this.#sets((c) => this.#confirmed.get(c)?.values());
  }

  refused(): RefusedSymbol[] {
    const out: RefusedSymbol[] = [];
    for (const channel of CHANNELS) {
      const refused = this.#refused.get(channel);
      if (!refused) continue;
      for (const symbol of [...refused.keys()].sort()) {
        const r = refused.get(symbol);
        if (r) out.push({ channel, symbol, code: r.code, at: r.at });
      }
    }
    return out;
  }

  /**
   * Forgets every refusal, so that those symbols are planned again, and the one-channel rule
   * (the user may have changed plan or feed before asking to try again). Queued probe groups
   * stay: they only decide how symbols are grouped. Held symbols ranking after the best refused
   * one are given back first (see the module comment). Returns how many refusals.
   */
  clearRefused(): number {
    let n = 0;
    let best: string | undefined;
    for (const refused of this.#refused.values()) {
      n += refused.size;
      for (const s of refused.keys())
        if (best === undefined || this.#compare(s, best) < 0) best = s;
      refused.clear();
    }
    this.#first = new Set();
    if (best !== undefined) this.#makeRoom(best);
    const split = this.#oneChannelPerSubscribe;
    this.#oneChannelPerSubscribe = false;
    if (n > 0 || split) this.#emit('refused');
    return n;
  }

  /**
   * The next action to send, marked in flight; undefined while one is in flight or when the
   * server already sends exactly what is wanted.
   */
  next(): PlannedAction | undefined {
    if (this.#inFlight) return undefined;
    // Groups with nothing left to send (let go, refused, confirmed) would only take memory.
    if (this.#probes.length > 0)
      this.#probes = this.#probes.filter((g) => g.pairs.some(([c, s]) => this.#pending(c, s)));
    // The same for the symbols to send first, once none of their pairs is left to send.
    if (
      this.#first.size > 0 &&
      ![...this.#first].some((s) => CHANNELS.some((c) => this.#pending(c, s)))
    )
      this.#first = new Set();
    const plan = this.#plan();
    if (!plan) return undefined;
    if (plan.probe !== undefined) {
      // Groups before it have nothing left to send; the group itself is now in flight.
      const [group] = this.#probes.splice(0, plan.probe + 1).slice(-1);
      this.#inFlightProbe = group;
    }
    this.#inFlight = plan.action;
    return plan.action;
  }

  inFlight(): PlannedAction | undefined {
    return this.#inFlight;
  }

  /** Nothing in flight and nothing left to send. */
  isSettled(): boolean {
    return this.#inFlight === undefined && this.#plan() === undefined;
  }

  /** The server's whole-set echo: the new confirmed set; settles the action in flight. */
  onEcho(msg: SubscriptionMessage): void {
    const confirmed = makeChannelMap(() => new Set<string>());
    for (const channel of CHANNELS) {
      const set = confirmed.get(channel);
      const refused = this.#refused.get(channel);
      for (const s of msg.channels[channel] ?? []) {
        set?.add(s);
        refused?.delete(s);
      }
    }
    this.#confirmed = confirmed;
    for (const [channel, ignored] of this.#ignoredUnsubscribes) {
      const set = confirmed.get(channel);
      for (const s of ignored) if (!set?.has(s)) ignored.delete(s);
    }
    for (const [channel, evicting] of this.#evicting) {
      const set = confirmed.get(channel);
      for (const s of evicting) if (!set?.has(s)) evicting.delete(s);
    }

    const flight = this.#inFlight;
    this.#inFlight = undefined;
    this.#inFlightProbe = undefined;
    // A late error about an older action would have come before this echo: only this action's
    // left-out pairs can still be blamed. All of them, even those no longer wanted (and so not
    // refused): the error is still theirs, not the next action's.
    this.#leftOut = [];
    if (flight?.action === 'subscribe') {
      for (const channel of CHANNELS) {
        for (const s of flight.channels[channel] ?? [])
          if (!confirmed.get(channel)?.has(s)) this.#leftOut.push([channel, s]);
      }
    }
    if (flight) this.#reconcile(flight, 0);
    this.#emit('confirmed');
  }

  /**
   * A server error about a subscription action: 400 invalid syntax, 405 symbol limit, 410
   * channel not on this feed, 413 `*` not allowed. Returns what it was taken to be about:
   * - 'attributed': the pairs the last echo left out (see the module comment), which take its
   *   code; the action in flight, if any, is untouched and still waits for its echo.
   * - 'consumed': the action in flight, isolated or refused as the module comment says; nothing
   *   is in flight afterwards, so the next action can go (and its echo deadline can go too).
   * - 'ignored', changing nothing: other codes, which are not about a subscription; a 400 with
   *   nothing in flight, which cannot be told apart from one about some other message; and any
   *   code with neither an action in flight nor left-out pairs to blame.
   * Listeners hear of any change.
   */
  onError(code: number): ErrorOutcome {
    if (!ACTION_ERRORS.has(code)) return 'ignored';
    const flight = this.#inFlight;
    if (!flight && code === 400) return 'ignored';
    // Only a 405 is known to come late (after the echo of its action); any other code is about
    // the action in flight, and blaming it on old left-out pairs would leave that action to time
    // out and be sent again.
    if (this.#leftOut.length > 0 && code === 405) {
      const refused = this.#attribute(code);
      if (this.#rebalance() || refused) this.#emit('refused');
      return 'attributed';
    }
    if (!flight) return 'ignored';
    this.#inFlight = undefined;
    this.#inFlightProbe = undefined;
    this.#emit(this.#isolate(flight, code) ? 'refused' : 'in-flight');
    return 'consumed';
  }

  /**
   * The connection was lost: the server holds nothing for us, so the next plan sends everything
   * not refused. Refusals, one-channel splitting and queued probe groups stay (see the module
   * comment); a probe group in flight is queued again, in front.
   */
  reset(): void {
    this.#confirmed = makeChannelMap(() => new Set<string>());
    this.#ignoredUnsubscribes = makeChannelMap(() => new Set<string>());
    this.#evicting = makeChannelMap(() => new Set<string>());
    this.#rebalances = 0;
    this.#requeueInFlightProbe();
    this.#inFlight = undefined;
    this.#leftOut = [];
    this.#emit('confirmed');
  }

  /**
   * Forgets the action in flight (its echo is lost), keeping the confirmed set; a probe group
   * goes back to the front of the queue, since it has not failed.
   */
  abandonInFlight(): PlannedAction | undefined {
    const flight = this.#inFlight;
    this.#requeueInFlightProbe();
    this.#inFlight = undefined;
    if (flight) this.#emit('in-flight');
    return flight;
  }

  /**
   * Called after any change that may alter the plan: desired, confirmed (echo, reset), refused,
   * or the in-flight action dropped. A listener that throws is logged and does not stop the others.
   */
  onChange(listener: (change: SubscriptionChange) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Sizes of the internal maps, for memory tests and diagnostics: pairs, except `probes` (queued
   * probe groups) and `leftOut` (pairs the last echo left out).
   */
  footprint(): {
    desired: number;
    confirmed: number;
    refused: number;
    ignored: number;
    evicting: number;
    first: number;
    probes: number;
    leftOut: number;
  } {
    const total = (m: Map<Channel, { size: number }>): number => {
      let n = 0;
      for (const v of m.values()) n += v.size;
      return n;
    };
    return {
      desired: total(this.#desired),
      confirmed: total(this.#confirmed),
      refused: total(this.#refused),
      ignored: total(this.#ignoredUnsubscribes),
      evicting: total(this.#evicting),
      first: this.#first.size,
      probes: this.#probes.length,
      leftOut: this.#leftOut.length,
    };
  }

  #desiredOf(channel: Channel): Map<string, number> {
    const desired = this.#desired.get(channel);
    if (!desired) throw new TypeError(`unknown channel: ${JSON.stringify(channel)}`);
    return desired;
  }

  #validate(symbols: readonly string[]): Set<string> {
    if (!Array.isArray(symbols)) throw new TypeError('symbols must be an array of strings');
    const bad: string[] = [];
    const good = new Set<string>();
    for (const raw of symbols as readonly unknown[]) {
      const s = normalizeSymbol(raw);
      if (s === undefined) bad.push(typeof raw === 'string' ? raw : `<${typeof raw}>`);
      else good.add(s);
    }
    if (bad.length > 0) throw new SymbolError(bad);
    return good;
  }

  /**
   * Held by the server and no longer wanted (or given back to make room), and not already
   * refused as an unsubscribe.
   */
  #unsubscribeDue(channel: Channel, symbol: string): boolean {
    return (
      (!this.#desired.get(channel)?.has(symbol) || this.#evicting.get(channel)?.has(symbol)) ===
        true && !this.#ignoredUnsubscribes.get(channel)?.has(symbol)
    );
  }

  #unsubscribePending(): boolean {
    for (const [channel, held] of this.#confirmed)
      for (const s of held) if (this.#unsubscribeDue(channel, s)) return true;
    return false;
  }

  /** (channel, symbol) pairs the server confirmed for one channel on this session. */
  confirmedCount(channel: Channel): number {
    return this.#confirmed.get(channel)?.size ?? 0;
  }

  /** Wanted, not held by the server and not refused: a subscribe for it is due. */
  #pending(channel: Channel, symbol: string): boolean {
    return (
      (this.#desired.get(channel)?.has(symbol) ?? false) &&
      !this.#confirmed.get(channel)?.has(symbol) &&
      !this.#refused.get(channel)?.has(symbol)
    );
  }

  #requeueInFlightProbe(): void {
    if (this.#inFlightProbe) this.#probes.unshift(this.#inFlightProbe);
    this.#inFlightProbe = undefined;
  }

  /**
   * A late error: the pairs the last echo left out take its code (those still refused; the
   * user may have let go of some since). Returns whether any refusal changed.
   */
  #attribute(code: number): boolean {
    const at = this.#now();
    const blamed: string[] = [];
    for (const [channel, symbol] of this.#leftOut) {
      const refused = this.#refused.get(channel);
      if (!refused?.has(symbol)) continue;
      refused.set(symbol, { code, at });
      blamed.push(`${channel}:${symbol}`);
    }
    this.#leftOut = [];
    this.#log.warn(
      { code, count: blamed.length, pairs: blamed.slice(0, 10) },
      'an error after a subscription echo: blaming the pairs that echo left out',
    );
    return blamed.length > 0;
  }

  /**
   * An error about the action in flight: split it (nothing refused) when it may hold innocent
   * pairs, refuse otherwise. Returns whether anything was refused.
   */
  #isolate(action: PlannedAction, code: number): boolean {
    const named = CHANNELS.filter((c) => (action.channels[c]?.length ?? 0) > 0);
    if (action.action === 'unsubscribe') {
      this.#log.warn(
        { code, channels: named },
        'the server refused an unsubscribe; not repeating it on this connection',
      );
      return this.#reconcile(action, code);
    }
    if (named.length > 1 && code !== 405) {
      this.#oneChannelPerSubscribe = true;
      this.#log.warn(
        { code, channels: named },
        'a subscribe naming several channels failed; sending one channel per subscribe from now on',
      );
      return false;
    }
    const channel = named[0];
    if (channel === undefined) return false;
    const pairs = this.#ordered(pairsOf(action));
    if (pairs.length <= 1) {
      if (code === 405) return this.#refuseOverLimit(action);
      return this.#reconcile(action, code);
    }
    if (CHANNEL_ERRORS.has(code)) {
      // Only one channel is named here (several would have split by channel above).
      const symbols = action.channels[channel] ?? [];
      // "* not allowed" names its culprit: the other symbols of the action are innocent.
      const blamed = code === 413 && symbols.includes('*') ? ['*'] : symbols;
      return this.#reconcile({ ...action, channels: { [channel]: blamed } }, code);
    }
    const left = pairs.filter(([c, s]) => this.#pending(c, s));
    const half = Math.ceil(left.length / 2);
    const groups = [left.slice(0, half), left.slice(half)]
      .filter((g) => g.length > 0)
      .map((g): ProbeGroup => ({ pairs: g }));
    this.#probes.unshift(...groups);
    this.#log.warn(
      { code, channels: named, pairs: pairs.length, halves: groups.map((g) => g.pairs.length) },
      'a subscribe of several symbols failed; trying each half on its own',
    );
    return false;
  }

  /**
   * A 405 to a subscribe of one pair: the connection holds all it may, so that pair and every
   * other one waiting to be subscribed are refused now rather than each by its own 405.
   */
  #refuseOverLimit(action: PlannedAction): boolean {
    if (this.#unsubscribePending()) {
      // An unsubscribe about to go out frees a slot: the pair gets another try after it (the
      // planner sends unsubscribes first), instead of being refused for a limit about to move.
      this.#probes.unshift({ pairs: pairsOf(action) });
      this.#log.warn(
        { code: 405 },
        'symbol limit reached while an unsubscribe is pending; retrying after it',
      );
      return false;
    }
    const at = this.#now();
    const own = new Set(
      CHANNELS.flatMap((c) => (action.channels[c] ?? []).map((s) => `${c}:${s}`)),
    );
    let refusedOwn = false;
    let more = 0;
    for (const [channel, desired] of this.#desired) {
      const refused = this.#refused.get(channel);
      for (const s of desired.keys()) {
        if (!this.#pending(channel, s)) continue;
        refused?.set(s, { code: 405, at });
        if (own.has(`${channel}:${s}`)) refusedOwn = true;
        else more += 1;
      }
    }
    this.#probes = [];
    let held = 0;
    for (const set of this.#confirmed.values()) held += set.size;
    this.#log.warn(
      { code: 405, held, refused: more, pair: [...own][0] },
      `symbol limit reached: ${String(held)} held; ${String(more)} more refused`,
    );
    return refusedOwn || more > 0;
  }

  /**
   * Marks the symbols of a settled or failed action that the server did not honour. Returns
   * whether a subscribe's symbol was refused.
   */
  #reconcile(action: PlannedAction, code: number): boolean {
    const at = this.#now();
    let any = false;
    for (const channel of CHANNELS) {
      const symbols = action.channels[channel];
      if (!symbols) continue;
      const confirmed = this.#confirmed.get(channel);
      if (action.action === 'subscribe') {
        const desired = this.#desired.get(channel);
        const refused = this.#refused.get(channel);
        const now: string[] = [];
        for (const s of symbols) {
          if (confirmed?.has(s) || !desired?.has(s)) continue;
          refused?.set(s, { code, at });
          now.push(s);
          if (code === 0)
            this.#log.warn(
              { channel, symbol: s },
              'the subscription echo left out a requested symbol',
            );
        }
        if (now.length > 0 && code !== 0)
          this.#log.warn(
            { code, channel, count: now.length, symbols: now.slice(0, 10) },
            'the server refused a subscription',
          );
        any ||= now.length > 0;
      } else {
        const ignored = this.#ignoredUnsubscribes.get(channel);
        for (const s of symbols) if (confirmed?.has(s)) ignored?.add(s);
      }
    }
    return any;
  }

  /** Unsubscribes first, then the first probe group with anything left, then other subscribes. */
  #plan(): Plan | undefined {
    const unsubscribe = this.#collect(
      'unsubscribe',
      (c, s) => this.#unsubscribeDue(c, s),
      this.#confirmed,
    );
    if (unsubscribe) return { action: unsubscribe, probe: undefined };
    for (const [index, group] of this.#probes.entries()) {
      const left = group.pairs.filter(([c, s]) => this.#pending(c, s));
      if (left.length > 0) {
        // Sent as it is; its size was under the byte limit when it was half of a larger action.
        const channels = channelsOf(left);
        const bytes = JSON.stringify({ action: 'subscribe', ...channels }).length;
        return { action: { action: 'subscribe', channels, bytes }, probe: index };
      }
    }
    // Nothing queued is pending now (or the loop above would have returned), so no queued symbol
    // can be packed back with the others of the action it came from.
    const first = this.#first;
    const subscribe =
      (first.size > 0
        ? this.#collect('subscribe', (c, s) => first.has(s) && this.#pending(c, s), this.#desired)
        : undefined) ?? this.#collect('subscribe', (c, s) => this.#pending(c, s), this.#desired);
    return subscribe ? { action: subscribe, probe: undefined } : undefined;
  }

  /**
   * The first chunk of the delta: symbols in priority order, each on its channels in CHANNELS
   * order, packed greedily until the next pair would pass the byte limit. A pair too big on its
   * own goes alone. A subscribe also keeps to one channel (its first pair's) once errors asked
   * for it.
   */
  #collect(
    action: PlannedAction['action'],
    wanted: (channel: Channel, symbol: string) => boolean,
    source: Map<Channel, ReadonlyMap<string, unknown> | ReadonlySet<string>>,
  ): PlannedAction | undefined {
    const oneChannel = action === 'subscribe' && this.#oneChannelPerSubscribe;
    const channels = CHANNELS.filter((c) => (source.get(c)?.size ?? 0) > 0);
    let symbols: Iterable<string>;
    if (action === 'subscribe') {
      // Every wanted symbol, in the cached priority order: the scan stops at the byte limit.
      symbols = this.#order();
    } else {
      // Symbols no longer wanted have no rank: collect the few due, then order them.
      const due = new Set<string>();
      for (const channel of channels)
        for (const s of source.get(channel)?.keys() ?? []) if (wanted(channel, s)) due.add(s);
      if (due.size === 0) return undefined;
      symbols = this.#inPriorityOrder([...due]);
    }
    let bytes = action === 'subscribe' ? SUBSCRIBE_BASE : UNSUBSCRIBE_BASE;
    const lists = new Map<Channel, string[]>();
    let only: Channel | undefined;
    let count = 0;
    const done = (): PlannedAction => ({ action, channels: channelsOf(lists), bytes });
    for (const s of symbols) {
      for (const channel of channels) {
        if (oneChannel && only !== undefined && channel !== only) continue;
        if (!source.get(channel)?.has(s) || !wanted(channel, s)) continue;
        const list = lists.get(channel);
        // `,"quotes":["S"]` for the first symbol of a channel, `,"S"` for the next ones.
        const cost = list ? s.length + 3 : channel.length + s.length + 8;
        if (count > 0 && bytes + cost > this.#maxActionBytes) return done();
        if (list) list.push(s);
        else lists.set(channel, [s]);
        only ??= channel;
        bytes += cost;
        count += 1;
      }
    }
    return count > 0 ? done() : undefined;
  }

  /** Every wanted symbol in priority order; cached until the priority or the wanted set changes. */
  #order(): readonly string[] {
    this.#orderCache ??= this.#inPriorityOrder([...this.#firstWanted.keys()]);
    return this.#orderCache;
  }

  /**
   * Marks for eviction the held pairs of wanted symbols that rank after `best` (a refused symbol)
   * and outside the first ones that surely fit (#firstFitting). Returns those first ones and how
   * many pairs were marked.
   */
  #makeRoom(best: string): { keep: Set<string>; evicted: number } {
    const keep = this.#firstFitting();
    let evicted = 0;
    for (const [channel, held] of this.#confirmed) {
      const desired = this.#desired.get(channel);
      const evicting = this.#evicting.get(channel);
      for (const s of held) {
        if (!desired?.has(s) || keep.has(s) || this.#compare(s, best) <= 0) continue;
        if (evicting?.has(s)) continue;
        evicting?.add(s);
        evicted += 1;
      }
    }
    if (evicted > 0) {
      this.#first = keep;
      this.#log.info(
        { pairs: evicted, before: best },
        'making room in priority order: giving back held pairs that rank after a refused one',
      );
    }
    return { keep, evicted };
  }

  /**
   * After a late 405: a server that applied part of a subscribe may have kept pairs in its own
   * order (channel by channel) rather than ours. If a refused symbol now ranks before held ones
   * that cannot be known to fit, those are given back and the refusals of the first symbols
   * that surely fit are forgotten, so that the limit holds the priority prefix. At most
   * MAX_REBALANCES times per connection, so that a server counting differently cannot make it
   * loop. Returns whether anything changed.
   */
  #rebalance(): boolean {
    if (this.#rebalances >= MAX_REBALANCES) return false;
    // Only the limit's refusals: a channel the feed lacks or a bad symbol never fits.
    let best: string | undefined;
    for (const refused of this.#refused.values())
      for (const [s, r] of refused)
        if (overLimit(r.code) && (best === undefined || this.#compare(s, best) < 0)) best = s;
    if (best === undefined) return false;
    const { keep, evicted } = this.#makeRoom(best);
    if (evicted === 0) return false;
    this.#rebalances += 1;
    for (const refused of this.#refused.values())
      for (const s of keep) if (overLimit(refused.get(s)?.code ?? -1)) refused.delete(s);
    return true;
  }

  /**
   * The wanted symbols, in priority order, whose pairs together number no more than the server
   * holds now: they surely fit, so making room never gives them back.
   */
  #firstFitting(): Set<string> {
    const pairs = new Map<string, number>();
    let room = 0;
    for (const channel of CHANNELS) {
      room += this.#confirmed.get(channel)?.size ?? 0;
      const refused = this.#refused.get(channel);
      for (const s of this.#desired.get(channel)?.keys() ?? []) {
        // A pair refused for another reason than the limit would never take room.
        const code = refused?.get(s)?.code;
        if (code === undefined || overLimit(code)) pairs.set(s, (pairs.get(s) ?? 0) + 1);
      }
    }
    const keep = new Set<string>();
    for (const s of this.#inPriorityOrder([...pairs.keys()])) {
      room -= pairs.get(s) ?? 0;
      if (room < 0) break;
      keep.add(s);
    }
    return keep;
  }

  /** Priority order: setPriority() rank, then when first wanted, then the alphabet (not wanted). */
  /**
   * The same order as #compare for a whole list, by one numeric key per symbol: a comparator
   * doing map look-ups took about 250 ms for 20,000 symbols, this takes a few.
   */
  #inPriorityOrder(symbols: readonly string[]): string[] {
    const named = this.#priority.size;
    const keys = new Float64Array(symbols.length);
    const strays: string[] = [];
    const index: number[] = [];
    for (const [i, s] of symbols.entries()) {
      const rank = this.#priority.get(s);
      const seq = this.#firstWanted.get(s);
      if (rank === undefined && seq === undefined) {
        strays.push(s);
        continue;
      }
      keys[i] = rank ?? named + (seq ?? 0);
      index.push(i);
    }
    index.sort((a, b) => (keys[a] ?? 0) - (keys[b] ?? 0));
    const out = index.map((i) => symbols[i] as string);
    for (const s of strays.sort()) out.push(s);
    return out;
  }

  #compare(a: string, b: string): number {
    const rank = (s: string): number => this.#priority.get(s) ?? Infinity;
    const seq = (s: string): number => this.#firstWanted.get(s) ?? Infinity;
    return rank(a) - rank(b) || seq(a) - seq(b) || (a < b ? -1 : a > b ? 1 : 0);
  }

  /** Pairs in priority order: symbol by symbol, each symbol's channels in CHANNELS order. */
  #ordered(pairs: Pair[]): Pair[] {
    const index = (c: Channel): number => CHANNELS.indexOf(c);
    return pairs.sort(([ca, a], [cb, b]) => this.#compare(a, b) || index(ca) - index(cb));
  }

  #sets(symbolsOf: (channel: Channel) => Iterable<string> | undefined): ChannelSets {
    const out = {} as Record<Channel, string[]>;
    for (const channel of CHANNELS) out[channel] = [...(symbolsOf(channel) ?? [])].sort();
    return out;
  }

  #emit(change: SubscriptionChange): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (err) {
        this.#log.error({ err, change }, 'a subscription listener threw');
      }
    }
  }
}
