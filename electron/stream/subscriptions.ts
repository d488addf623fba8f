/**
 * The subscription planner: what the app wants (the desired set per channel, reference-counted
 * so that two consumers of AAPL quotes make one upstream subscription) against what the server
 * says it sends (the confirmed set, from its whole-set echo). It owns no socket: the client asks
 * `next()` for the delta to send, sends it, and reports the echo or the error. One action is in
 * flight at a time; everything changed meanwhile is folded into the next delta, unsubscribes
 * first (they free symbol-limit slots), chunked under a byte limit.
 *
 * Refusals are remembered per (channel, symbol) so that a refused symbol is reported, not retried
 * in a loop, and not even after a reconnect, until its consumers let go of it or `clearRefused()`.
 * For the same reason a subscribe whose echo does not list a symbol marks that symbol refused
 * with code 0, and an unsubscribe the echo ignores is not repeated on this connection: otherwise
 * a server that silently declines would get the same action forever.
 *
 * An error names no symbol, and a delta folds many (channel, symbol) pairs into one action, so
 * an error about an action in flight is handled by "isolate, then refuse": one bad pair must not
 * take the innocent ones of its action down with it, and the failed action is never sent again
 * as it was (Alpaca: a 400 is the client's own bug, do not resend the same message).
 * - A subscribe naming several channels (400, 405, 410, 413): nothing is refused; from then on
 *   every subscribe names one channel, so that a channel the feed lacks fails on its own.
 * - A subscribe of several symbols on one channel: 410 and 413 are about the channel (not on this
 *   feed; `*` not allowed), so its unconfirmed symbols are refused, except that a 413 to an
 *   action holding `*` refuses just `*`. 400 and 405 may be about one symbol or about how many
 *   were asked at once, so nothing is refused: the cap on symbols per subscribe drops to half the
 *   failed action's (at least 1) and the rest is sent again in smaller actions (bisection).
 * - A subscribe of one symbol on one channel: that pair is refused with the code.
 * - An unsubscribe: its symbols join the ignored unsubscribes, not repeated on this connection.
 * Each step sends something strictly smaller or refuses something, so errors cannot loop. The feed
 * and the account's symbol limit do not change between connections, so what these errors teach
 * (one channel per subscribe, the symbol cap) outlives `reset()`; `clearRefused()`, the user's
 * "try again", forgets it with the refusals (the plan or the feed may have changed since).
 * An error after the echo of its action (no action in flight) is about that action: the echo
 * already said which pairs the server took, so the ones it left out are refused with the code,
 * with no isolating. A 400 counts only while an action is in flight.
 */
import {
  CHANNELS,
  type Channel,
  type ChannelSets,
  type SubscriptionMessage,
} from '../../shared/market.ts';
import { silentLogger, type Logger } from './log.ts';

/** Upper-case letters, digits, `.` `/` `-` (BRK.B, BTC/USD), starting with a letter or digit; or `*`. */
const SYMBOL = /^(?:\*|[A-Z0-9][A-Z0-9./-]*)$/;

/** Trims and upper-cases a symbol; undefined when it is not a valid symbol (or not a string). */
export function normalizeSymbol(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const s = raw.trim().toUpperCase();
  return SYMBOL.test(s) ? s : undefined;
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

const SUBSCRIBE_BASE = JSON.stringify({ action: 'subscribe' }).length;
const UNSUBSCRIBE_BASE = JSON.stringify({ action: 'unsubscribe' }).length;

function makeChannelMap<V>(make: () => V): Map<Channel, V> {
  return new Map(CHANNELS.map((c) => [c, make()]));
}

export class SubscriptionManager {
  readonly #maxActionBytes: number;
  readonly #now: () => number;
  readonly #log: Logger;
  /** Channel -> symbol -> refcount (>= 1; a symbol at 0 is deleted). */
  readonly #desired = makeChannelMap(() => new Map<string, number>());
  #confirmed = makeChannelMap(() => new Set<string>());
  readonly #refused = makeChannelMap(() => new Map<string, { code: number; at: number }>());
  /** Unsubscribes the server ignored on this connection; not repeated until reset(). */
  #ignoredUnsubscribes = makeChannelMap(() => new Set<string>());
  #inFlight: PlannedAction | undefined;
  /** The last action an echo settled: a 405 may arrive after the echo of the action it is about. */
  #lastSettled: PlannedAction | undefined;
  /**
   * Set by an error to a subscribe naming several channels, so that a channel the feed lacks
   * fails alone. Kept across reset() (same feed); cleared by clearRefused().
   */
  #oneChannelPerSubscribe = false;
  /**
   * Most (channel, symbol) pairs per subscribe, halved by a 400 or 405 to a one-channel action
   * of several symbols. Kept across reset() (same account limit), raised there to the number of
   * pairs the server held; cleared by clearRefused().
   */
  #maxSymbolsPerSubscribe = Infinity;
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
      left = true;
    }
    if (left) this.#emit('desired');
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
   * Forgets every refusal, so that those symbols are planned again, and what errors taught about
   * splitting subscribes (the user may have changed plan or feed before asking to try again).
   * Returns how many refusals.
   */
  clearRefused(): number {
    let n = 0;
    for (const refused of this.#refused.values()) {
      n += refused.size;
      refused.clear();
    }
    const split = this.#oneChannelPerSubscribe || this.#maxSymbolsPerSubscribe !== Infinity;
    this.#oneChannelPerSubscribe = false;
    this.#maxSymbolsPerSubscribe = Infinity;
    if (n > 0 || split) this.#emit('refused');
    return n;
  }

  /**
   * The next action to send, marked in flight; undefined while one is in flight or when the
   * server already sends exactly what is wanted.
   */
  next(): PlannedAction | undefined {
    if (this.#inFlight) return undefined;
    const plan = this.#plan();
    if (plan) this.#inFlight = plan;
    return plan;
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

    const flight = this.#inFlight;
    this.#inFlight = undefined;
    this.#lastSettled = flight;
    if (flight) this.#reconcile(flight, 0);
    this.#emit('confirmed');
  }

  /**
   * A server error about the action in flight (or, for 405 / 410 / 413, the one just echoed):
   * 400 invalid syntax, 405 symbol limit, 410 channel not on this feed, 413 `*` not allowed. The
   * action in flight is isolated or refused as the module comment says; for the action already
   * echoed, the pairs its echo left out are refused with the code. Either way nothing is in
   * flight afterwards and listeners hear of it, so the next action can go. Returns false,
   * changing nothing, for other codes, which are not about a subscription, and for a 400 with
   * nothing in flight, which cannot be told apart from one about some other message.
   */
  onError(code: number): boolean {
    if (!ACTION_ERRORS.has(code)) return false;
    const flight = this.#inFlight;
    if (code === 400 && !flight) return false;
    const settled = this.#lastSettled;
    this.#inFlight = undefined;
    this.#lastSettled = undefined;
    // With nothing to blame, listeners still hear of the error, as before.
    const refused = flight
      ? this.#isolate(flight, code)
      : settled
        ? this.#reconcile(settled, code)
        : true;
    this.#emit(refused ? 'refused' : 'in-flight');
    return true;
  }

  /**
   * The connection was lost: the server holds nothing for us, so the next plan sends everything.
   * Refusals and one-channel splitting stay (same feed, same account). The symbol cap stays too,
   * but rises to what the server held at once: those pairs were accepted together, so after a
   * reconnect they go back in one action rather than one round trip per symbol.
   */
  reset(): void {
    let held = 0;
    for (const set of this.#confirmed.values()) held += set.size;
    if (this.#maxSymbolsPerSubscribe !== Infinity) {
      this.#maxSymbolsPerSubscribe = Math.max(this.#maxSymbolsPerSubscribe, held);
    }
    this.#confirmed = makeChannelMap(() => new Set<string>());
    this.#ignoredUnsubscribes = makeChannelMap(() => new Set<string>());
    this.#inFlight = undefined;
    this.#lastSettled = undefined;
    this.#emit('confirmed');
  }

  /** Forgets the action in flight (its echo is lost), keeping the confirmed set. */
  abandonInFlight(): PlannedAction | undefined {
    const flight = this.#inFlight;
    this.#inFlight = undefined;
    this.#lastSettled = undefined;
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

  /** Sizes of the internal maps, for memory tests and diagnostics. */
  footprint(): { desired: number; confirmed: number; refused: number; ignored: number } {
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
    if (named.length > 1) {
      this.#oneChannelPerSubscribe = true;
      this.#log.warn(
        { code, channels: named },
        'a subscribe naming several channels failed; sending one channel per subscribe from now on',
      );
      return false;
    }
    const channel = named[0];
    const symbols = channel === undefined ? [] : (action.channels[channel] ?? []);
    if (channel === undefined || symbols.length <= 1) return this.#reconcile(action, code);
    if (CHANNEL_ERRORS.has(code)) {
      // "* not allowed" names its culprit: the other symbols of the action are innocent.
      const blamed = code === 413 && symbols.includes('*') ? ['*'] : symbols;
      return this.#reconcile({ ...action, channels: { [channel]: blamed } }, code);
    }
    // Half the failed action, so that the retry is strictly smaller whatever the cap was.
    this.#maxSymbolsPerSubscribe = Math.max(1, Math.floor(symbols.length / 2));
    this.#log.warn(
      { code, channel, symbols: symbols.length, cap: this.#maxSymbolsPerSubscribe },
      'a subscribe of several symbols failed; sending fewer symbols per subscribe from now on',
    );
    return false;
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

  #plan(): PlannedAction | undefined {
    return (
      this.#collect(
        'unsubscribe',
        (c, s) => {
          return !this.#desired.get(c)?.has(s) && !this.#ignoredUnsubscribes.get(c)?.has(s);
        },
        this.#confirmed,
      ) ??
      this.#collect(
        'subscribe',
        (c, s) => {
          return !this.#confirmed.get(c)?.has(s) && !this.#refused.get(c)?.has(s);
        },
        this.#desired,
      )
    );
  }

  /**
   * The first chunk of the delta: channels in CHANNELS order, symbols sorted, packed greedily
   * until the next symbol would pass the byte limit. A symbol too big on its own goes alone. A
   * subscribe also stops at the symbol cap and, once errors asked for it, at its first channel.
   */
  #collect(
    action: PlannedAction['action'],
    wanted: (channel: Channel, symbol: string) => boolean,
    source: Map<Channel, { keys(): Iterable<string> }>,
  ): PlannedAction | undefined {
    const subscribe = action === 'subscribe';
    const maxSymbols = subscribe ? this.#maxSymbolsPerSubscribe : Infinity;
    const oneChannel = subscribe && this.#oneChannelPerSubscribe;
    let bytes = subscribe ? SUBSCRIBE_BASE : UNSUBSCRIBE_BASE;
    const channels: Partial<Record<Channel, string[]>> = {};
    let count = 0;
    for (const channel of CHANNELS) {
      const candidates: string[] = [];
      for (const s of source.get(channel)?.keys() ?? []) if (wanted(channel, s)) candidates.push(s);
      if (candidates.length === 0) continue;
      if (oneChannel && count > 0) break;
      candidates.sort();
      let list: string[] | undefined;
      for (const s of candidates) {
        // `,"quotes":["S"]` for the first symbol of a channel, `,"S"` for the next ones.
        const cost = list ? s.length + 3 : channel.length + s.length + 8;
        if (count > 0 && (bytes + cost > this.#maxActionBytes || count >= maxSymbols))
          return { action, channels, bytes };
        if (!list) {
          list = [];
          channels[channel] = list;
        }
        list.push(s);
        bytes += cost;
        count += 1;
      }
    }
    return count > 0 ? { action, channels, bytes } : undefined;
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
