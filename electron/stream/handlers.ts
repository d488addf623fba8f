/**
 * The HandlerRegistry: named consumers of normalized messages, routed by (kind or '*', symbol or
 * '*'), with the bookkeeping the handler inspector shows (calls, errors with stack, time spent).
 * `dispatch` runs per message at feed rate, so every route's handler list is precomputed, merged
 * in registration order, when handlers change: a dispatch is two Map gets and a loop, allocates
 * nothing and never throws. A throwing handler is counted and logged (rate-limited) and the others
 * still run.
 *
 * Time spent is SAMPLED: each handler's own calls are timed one in `timeEvery` (default 8), with a
 * countdown per handler; the other calls read no clock at all. Timing each call cost n+1 clock
 * reads per message (4 for a quote with the app's handlers), about 5% of the client's CPU at feed
 * rate, which is more than the handlers themselves. Calls and errors are exact; mean and max come
 * from the timed calls (a rare slow call is seen with probability 1/timeEvery, a handler that is
 * slow every time shows at its first call, which is always timed); total is mean x calls.
 * `lastCalledAt` is exact when the caller passes the frame's receipt time (the client does);
 * without it, it is the time of the latest timed call.
 *
 * Changes during a dispatch: route lists are copy-on-write, so a dispatch walks the list it
 * started with. A handler removed mid-dispatch is skipped if it has not run yet for this message
 * (it is never called after `remove` returns); a handler added mid-dispatch first runs for the
 * next message.
 */
import { DATA_KINDS, type DataKind, type DataMessage } from '../../shared/market.ts';
import { silentLogger, type Logger } from './log.ts';
import { normalizeSymbol } from './subscriptions.ts';

export type HandlerKind = DataKind | '*';

/** The message type a handler for `K` receives (bars: `Bar`, whose kind covers three letters). */
export type MessageOf<K extends HandlerKind> = K extends DataKind
  ? DataMessage extends infer M
    ? M extends { readonly kind: infer MK }
      ? K extends MK
        ? M
        : never
      : never
    : never
  : DataMessage;

export type HandlerFn<K extends HandlerKind> = (msg: MessageOf<K>) => void;

export interface HandlerOptions {
  readonly name?: string;
  /** Built-in handlers (book, metrics, tape) survive `clear()` unless it includes them. */
  readonly builtin?: boolean;
}

/** Removes the handler; calling it again does nothing. */
export type Disposer = (() => void) & { readonly id: string };

export interface HandlerErrorInfo {
  readonly message: string;
  readonly stack: string | undefined;
  /** Wall-clock ms. */
  readonly at: number;
}

export interface HandlerStats {
  readonly id: string;
  readonly name: string;
  readonly kind: HandlerKind;
  /** The symbol or '*'. */
  readonly symbol: string;
  readonly builtin: boolean;
  readonly calls: number;
  readonly errors: number;
  readonly lastError: HandlerErrorInfo | undefined;
  readonly totalMs: number;
  readonly maxMs: number;
  readonly meanMs: number;
  /** Wall-clock ms. */
  readonly registeredAt: number;
  /** Wall-clock ms, derived from the monotonic clock at `list()` time. */
  readonly lastCalledAt: number | undefined;
}

export type HandlerErrorCode = 'limit' | 'duplicate' | 'invalid';

export class HandlerError extends Error {
  readonly code: HandlerErrorCode;

  constructor(code: HandlerErrorCode, message: string) {
    super(message);
    this.name = 'HandlerError';
    this.code = code;
  }
}

export interface HandlerRegistryOptions {
  /** Default 256, built-in handlers included. */
  readonly maxHandlers?: number;
  readonly logger?: Logger;
  /** Wall-clock ms. */
  readonly now?: () => number;
  /** Monotonic ms (performance.now), for time spent. */
  readonly clock?: () => number;
  /** Time one call in this many of each handler (default 8; 1 = every call). */
  readonly timeEvery?: number;
}

/** A throwing handler is logged at most once per this many ms, with the count it skipped. */
const ERROR_LOG_INTERVAL_MS = 1000;
/** Per-second error counts for `recentErrors()`; 64 slots cover the 60 s window. */
const ERROR_RING = 64;

const KIND_SET: ReadonlySet<string> = new Set(DATA_KINDS);

/** One registration. A class so that every entry has the same shape for the dispatch loop. */
class Entry {
  readonly id: string;
  readonly seq: number;
  readonly name: string;
  readonly kind: HandlerKind;
  readonly symbol: string;
  readonly builtin: boolean;
  readonly fn: (msg: DataMessage) => void;
  readonly registeredAt: number;
  removed = false;
  calls = 0;
  /** Calls whose time was measured; totalMs and maxMs are over these. */
  timed = 0;
  /** Calls left until the next timed one; 1 = the next (so the first call is always timed). */
  untilTimed = 1;
  errors = 0;
  totalMs = 0;
  maxMs = 0;
  /** Monotonic ms; -1 = never. */
  lastCalledMono = -1;
  /** The last thrown value, turned into text only when read: formatting a stack costs more than the throw. */
  lastErrorValue: unknown = undefined;
  /** Wall-clock ms; -1 = never. */
  lastErrorAt = -1;
  /** Monotonic ms of the last error log line; -Infinity = never. */
  lastLoggedMono = Number.NEGATIVE_INFINITY;
  unlogged = 0;

  constructor(
    id: string,
    seq: number,
    kind: HandlerKind,
    symbol: string,
    fn: (msg: DataMessage) => void,
    name: string,
    builtin: boolean,
    registeredAt: number,
  ) {
    this.id = id;
    this.seq = seq;
    this.kind = kind;
    this.symbol = symbol;
    this.fn = fn;
    this.name = name;
    this.builtin = builtin;
    this.registeredAt = registeredAt;
  }
}

/** Precomputed lists for one data kind: per symbol with any exact handler, and the fallback. */
interface Route {
  /** (kind, *) and (*, *): for symbols without handlers of their own. */
  wildcard: readonly Entry[];
  /** (kind, sym), (*, sym), (kind, *) and (*, *), merged in registration order. */
  readonly bySymbol: Map<string, readonly Entry[]>;
}

const EMPTY: readonly Entry[] = Object.freeze([]);

function errorInfo(err: unknown, at: number): HandlerErrorInfo {
  if (err instanceof Error) return { message: String(err.message), stack: err.stack, at };
  let message: string;
  try {
    message = String(err);
  } catch {
    message = 'a non-Error value was thrown';
  }
  return { message, stack: undefined, at };
}

export class HandlerRegistry {
  readonly #max: number;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #clock: () => number;
  /** Every live entry by id, in registration order. */
  readonly #entries = new Map<string, Entry>();
  /** Registrations by kind (or '*') then symbol (or '*'); empty maps and lists are deleted. */
  readonly #sources = new Map<HandlerKind, Map<string, Entry[]>>();
  readonly #routes = new Map<string, Route>();
  readonly #listeners = new Set<() => void>();
  #seq = 0;
  readonly #timeEvery: number;
  /** The clock at the end of the latest timed call: lastCalled of untimed ones without `at`. */
  #lastClock: number;
  readonly #errorRing = new Float64Array(ERROR_RING);
  #errorSecond = Number.NEGATIVE_INFINITY;

  constructor(options: HandlerRegistryOptions = {}) {
    this.#max = options.maxHandlers ?? 256;
    this.#log = options.logger ?? silentLogger();
    this.#now = options.now ?? Date.now;
    this.#clock = options.clock ?? (() => performance.now());
    this.#timeEvery = Math.max(1, Math.floor(options.timeEvery ?? 8));
    this.#lastClock = this.#clock();
    for (const kind of DATA_KINDS) this.#routes.set(kind, { wildcard: EMPTY, bySymbol: new Map() });
  }

  /**
   * Registers `fn` for messages of `kind` ('*': every kind) about `symbol` ('*': every symbol;
   * symbols are trimmed and upper-cased). Handlers run in registration order. Throws
   * HandlerError: 'invalid' for a bad kind, symbol, function or name; 'duplicate' when this
   * function is already registered for this kind and symbol; 'limit' past `maxHandlers`.
   */
  on<K extends HandlerKind>(
    kind: K,
    symbol: string,
    fn: HandlerFn<K>,
    options: HandlerOptions = {},
  ): Disposer {
    if (kind !== '*' && !KIND_SET.has(kind)) {
      throw new HandlerError('invalid', `unknown message kind: ${JSON.stringify(kind)}`);
    }
    const sym = normalizeSymbol(symbol);
    if (sym === undefined)
      throw new HandlerError('invalid', `invalid symbol: ${JSON.stringify(symbol)}`);
    if (typeof fn !== 'function') throw new HandlerError('invalid', 'a handler must be a function');
    if (options.name !== undefined && typeof options.name !== 'string') {
      throw new HandlerError('invalid', 'a handler name must be a string');
    }
    const handler = fn as (msg: DataMessage) => void;
    const list = this.#sources.get(kind)?.get(sym);
    if (list?.some((e) => e.fn === handler)) {
      throw new HandlerError('duplicate', `this function is already registered for ${kind} ${sym}`);
    }
    if (this.#entries.size >= this.#max) {
      throw new HandlerError(
        'limit',
        `handler limit reached: ${this.#max} handlers are registered; remove one or raise maxHandlers`,
      );
    }

    const seq = ++this.#seq;
    const id = `h${seq}`;
    const name = options.name ?? (fn.name || 'anonymous');
    const entry = new Entry(
      id,
      seq,
      kind,
      sym,
      handler,
      name,
      options.builtin === true,
      this.#now(),
    );
    this.#entries.set(id, entry);
    let bySymbol = this.#sources.get(kind);
    if (!bySymbol) {
      bySymbol = new Map();
      this.#sources.set(kind, bySymbol);
    }
    if (list) list.push(entry);
    else bySymbol.set(sym, [entry]);
    this.#refresh(kind, sym);
    this.#emit();
    return Object.assign(
      () => {
        this.remove(id);
      },
      { id },
    );
  }

  /** Removes a handler by id; false when there is none (already removed). */
  remove(id: string): boolean {
    const entry = this.#entries.get(id);
    if (!entry) return false;
    entry.removed = true;
    this.#entries.delete(id);
    const bySymbol = this.#sources.get(entry.kind);
    const list = bySymbol?.get(entry.symbol);
    if (bySymbol && list) {
      const i = list.indexOf(entry);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) bySymbol.delete(entry.symbol);
      if (bySymbol.size === 0) this.#sources.delete(entry.kind);
    }
    this.#refresh(entry.kind, entry.symbol);
    this.#emit();
    return true;
  }

  /** Removes the user handlers (and the built-in ones too if asked); returns how many. */
  clear(options: { includeBuiltin?: boolean } = {}): number {
    const all = options.includeBuiltin === true;
    let n = 0;
    for (const entry of this.#entries.values()) {
      if (entry.builtin && !all) continue;
      entry.removed = true;
      this.#entries.delete(entry.id);
      n++;
    }
    if (n === 0) return 0;
    this.#sources.clear();
    for (const entry of this.#entries.values()) {
      let bySymbol = this.#sources.get(entry.kind);
      if (!bySymbol) {
        bySymbol = new Map();
        this.#sources.set(entry.kind, bySymbol);
      }
      const list = bySymbol.get(entry.symbol);
      if (list) list.push(entry);
      else bySymbol.set(entry.symbol, [entry]);
    }
    for (const kind of DATA_KINDS) this.#rebuildKind(kind, true);
    this.#emit();
    return n;
  }

  /** A snapshot of every handler's stats, in registration order. */
  list(): HandlerStats[] {
    const wall = this.#now();
    const mono = this.#clock();
    const out: HandlerStats[] = [];
    for (const e of this.#entries.values()) {
      out.push({
        id: e.id,
        name: e.name,
        kind: e.kind,
        symbol: e.symbol,
        builtin: e.builtin,
        calls: e.calls,
        errors: e.errors,
        lastError: e.lastErrorAt < 0 ? undefined : errorInfo(e.lastErrorValue, e.lastErrorAt),
        totalMs: e.timed === 0 ? 0 : (e.totalMs / e.timed) * e.calls,
        maxMs: e.maxMs,
        meanMs: e.timed === 0 ? 0 : e.totalMs / e.timed,
        registeredAt: e.registeredAt,
        lastCalledAt: e.lastCalledMono < 0 ? undefined : wall - (mono - e.lastCalledMono),
      });
    }
    return out;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Errors thrown by handlers in the last 60 s (whole seconds), for health. */
  recentErrors(): number {
    const second = Math.floor(this.#clock() / 1000);
    this.#rollErrors(second);
    let n = 0;
    for (let s = second - 59; s <= second; s++) n += this.#errorRing[s & (ERROR_RING - 1)] ?? 0;
    return n;
  }

  /**
   * Calls every handler routed to `msg`. Never throws. `at`: the monotonic time (this registry's
   * clock) the message arrived, recorded as the handlers' last call on untimed dispatches.
   */
  dispatch(msg: DataMessage, at?: number): void {
    const route = this.#routes.get(msg.kind);
    if (route === undefined) return;
    const list = route.bySymbol.get(msg.symbol) ?? route.wildcard;
    const n = list.length;
    if (n === 0) return;
    const when = at ?? this.#lastClock;
    for (let i = 0; i < n; i++) {
      const e = list[i];
      if (e === undefined || e.removed) continue;
      // Called through a local so the handler's `this` is not our entry.
      const fn = e.fn;
      if (--e.untilTimed > 0) {
        try {
          fn(msg);
        } catch (err) {
          this.#failed(e, err, this.#clock());
        }
        e.calls++;
        e.lastCalledMono = when;
        continue;
      }
      // This handler's turn to be timed: a countdown per handler, so that a feed whose kinds
      // repeat with a period dividing timeEvery (quote, trade, quote, trade...) cannot keep one
      // kind's handlers from ever being timed.
      e.untilTimed = this.#timeEvery;
      const t = this.#clock();
      try {
        fn(msg);
      } catch (err) {
        this.#failed(e, err, t);
      }
      const end = this.#clock();
      const spent = end - t;
      e.calls++;
      e.timed++;
      e.totalMs += spent;
      if (spent > e.maxMs) e.maxMs = spent;
      e.lastCalledMono = t;
      this.#lastClock = end;
    }
  }

  /** Called after every add, remove or clear (for the handler table). Returns the unsubscriber. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Sizes of the internal maps, for memory tests and diagnostics. */
  footprint(): { handlers: number; sourceKeys: number; routeKeys: number } {
    let sourceKeys = 0;
    for (const m of this.#sources.values()) sourceKeys += m.size;
    let routeKeys = 0;
    for (const r of this.#routes.values()) routeKeys += r.bySymbol.size;
    return { handlers: this.#entries.size, sourceKeys, routeKeys };
  }

  #failed(e: Entry, err: unknown, mono: number): void {
    e.errors++;
    e.lastErrorValue = err;
    e.lastErrorAt = this.#now();
    const second = Math.floor(mono / 1000);
    this.#rollErrors(second);
    this.#errorRing[second & (ERROR_RING - 1)]! += 1;
    if (mono - e.lastLoggedMono < ERROR_LOG_INTERVAL_MS) {
      e.unlogged++;
      return;
    }
    const suppressed = e.unlogged;
    e.unlogged = 0;
    e.lastLoggedMono = mono;
    try {
      this.#log.error(
        {
          err,
          handler: { id: e.id, name: e.name, kind: e.kind, symbol: e.symbol },
          errors: e.errors,
          suppressed,
        },
        suppressed > 0
          ? `handler threw (${suppressed} more since the last report)`
          : 'handler threw',
      );
    } catch {
      // A logger that fails must not turn a handler error into a dispatch error.
    }
  }

  #rollErrors(second: number): void {
    if (second <= this.#errorSecond) return;
    const gap = Math.min(second - this.#errorSecond, ERROR_RING);
    for (let k = 0; k < gap; k++) this.#errorRing[(second - k) & (ERROR_RING - 1)] = 0;
    this.#errorSecond = second;
  }

  /** Recomputes the route lists a registration of (kind, symbol) takes part in. */
  #refresh(kind: HandlerKind, symbol: string): void {
    const kinds = kind === '*' ? DATA_KINDS : [kind];
    for (const k of kinds) {
      if (symbol === '*') this.#rebuildKind(k, false);
      else this.#rebuildSymbol(k, symbol);
    }
  }

  /** The wildcard list of a kind and every per-symbol list of it (`fresh`: rediscover symbols). */
  #rebuildKind(kind: DataKind, fresh: boolean): void {
    const route = this.#routes.get(kind);
    if (!route) return;
    route.wildcard = merge(this.#source(kind, '*'), this.#source('*', '*'), undefined, undefined);
    const symbols = new Set(route.bySymbol.keys());
    if (fresh) {
      route.bySymbol.clear();
      symbols.clear();
      for (const s of this.#sources.get(kind)?.keys() ?? []) symbols.add(s);
      for (const s of this.#sources.get('*')?.keys() ?? []) symbols.add(s);
      symbols.delete('*');
    }
    for (const s of symbols) this.#rebuildSymbol(kind, s);
  }

  #rebuildSymbol(kind: DataKind, symbol: string): void {
    const route = this.#routes.get(kind);
    if (!route) return;
    const exact = this.#source(kind, symbol);
    const anyKind = this.#source('*', symbol);
    if (!exact && !anyKind) {
      route.bySymbol.delete(symbol);
      return;
    }
    route.bySymbol.set(
      symbol,
      merge(exact, anyKind, this.#source(kind, '*'), this.#source('*', '*')),
    );
  }

  #source(kind: HandlerKind, symbol: string): readonly Entry[] | undefined {
    return this.#sources.get(kind)?.get(symbol);
  }

  #emit(): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch (err) {
        this.#log.error({ err }, 'a handler-registry listener threw');
      }
    }
  }
}

/** A fresh list (never one a dispatch may be walking) of the given lists, in registration order. */
function merge(
  a: readonly Entry[] | undefined,
  b: readonly Entry[] | undefined,
  c: readonly Entry[] | undefined,
  d: readonly Entry[] | undefined,
): readonly Entry[] {
  const out: Entry[] = [];
  if (a) out.push(...a);
  if (b) out.push(...b);
  if (c) out.push(...c);
  if (d) out.push(...d);
  if (out.length === 0) return EMPTY;
  return out.sort((x, y) => x.seq - y.seq);
}
