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
  /** The server's error code (405 symbol limit, 410 / 413 channel not allowed), or 0 when the echo left it out. */
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

  /** Forgets every refusal, so that those symbols are planned again. Returns how many. */
  clearRefused(): number {
    let n = 0;
    for (const refused of this.#refused.values()) {
      n += refused.size;
      refused.clear();
    }
    if (n > 0) this.#emit('refused');
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
   * A server error while an action was in flight (or just after its echo). 405 (symbol limit):
   * the symbols of the subscribe that the server did not confirm are refused. 410 / 413 (channel
   * or star not allowed here): likewise for that action's channels. Returns false, changing
   * nothing, for other codes, which are not about a subscription.
   */
  onError(code: number): boolean {
    if (code !== 405 && code !== 410 && code !== 413) return false;
    const action = this.#inFlight ?? this.#lastSettled;
    this.#inFlight = undefined;
    this.#lastSettled = undefined;
    if (action) this.#reconcile(action, code);
    this.#emit('refused');
    return true;
  }

  /** The connection was lost: the server holds nothing for us, so the next plan sends everything. */
  reset(): void {
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

  /** Marks the symbols of a settled or failed action that the server did not honour. */
  #reconcile(action: PlannedAction, code: number): void {
    const at = this.#now();
    for (const channel of CHANNELS) {
      const symbols = action.channels[channel];
      if (!symbols) continue;
      const confirmed = this.#confirmed.get(channel);
      if (action.action === 'subscribe') {
        const desired = this.#desired.get(channel);
        const refused = this.#refused.get(channel);
        for (const s of symbols) {
          if (confirmed?.has(s) || !desired?.has(s)) continue;
          refused?.set(s, { code, at });
          if (code === 0)
            this.#log.warn(
              { channel, symbol: s },
              'the subscription echo left out a requested symbol',
            );
        }
      } else {
        const ignored = this.#ignoredUnsubscribes.get(channel);
        for (const s of symbols) if (confirmed?.has(s)) ignored?.add(s);
      }
    }
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
   * until the next symbol would pass the byte limit. A symbol too big on its own goes alone.
   */
  #collect(
    action: PlannedAction['action'],
    wanted: (channel: Channel, symbol: string) => boolean,
    source: Map<Channel, { keys(): Iterable<string> }>,
  ): PlannedAction | undefined {
    let bytes = action === 'subscribe' ? SUBSCRIBE_BASE : UNSUBSCRIBE_BASE;
    const channels: Partial<Record<Channel, string[]>> = {};
    let any = false;
    for (const channel of CHANNELS) {
      const candidates: string[] = [];
      for (const s of source.get(channel)?.keys() ?? []) if (wanted(channel, s)) candidates.push(s);
      if (candidates.length === 0) continue;
      candidates.sort();
      let list: string[] | undefined;
      for (const s of candidates) {
        // `,"quotes":["S"]` for the first symbol of a channel, `,"S"` for the next ones.
        const cost = list ? s.length + 3 : channel.length + s.length + 8;
        if (any && bytes + cost > this.#maxActionBytes) return { action, channels, bytes };
        if (!list) {
          list = [];
          channels[channel] = list;
        }
        list.push(s);
        bytes += cost;
        any = true;
      }
    }
    return any ? { action, channels, bytes } : undefined;
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
