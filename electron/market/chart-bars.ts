/**
 * Full OHLCV bars for the detail chart, one symbol at a time, through the REST client's bars
 * function: a small LRU cache of (symbol, timeframe, range) so that flipping between timeframes or
 * back to the previous symbol costs no request, with requests in flight shared between callers.
 *
 * A range wholly in the past is history and is kept until evicted. A range reaching into the last
 * minute or the future (today's chart) is still growing: it is reused for `liveTtlMs` only, then
 * fetched again.
 *
 * Each caller may cancel its own wait; the shared request is cancelled only when every caller
 * waiting for it has gone.
 */
import type { RestBar, Timeframe } from '../rest/types.ts';
import { TIMEFRAMES } from '../rest/types.ts';

export interface BarsRequestOptions {
  readonly timeframe: Timeframe;
  /** Epoch ms, inclusive. */
  readonly start: number;
  /** Epoch ms, exclusive. */
  readonly end: number;
  readonly signal?: AbortSignal;
}

/** Multi-symbol bars, every page followed; a symbol without bars may be absent from the map. */
export type FetchBars = (
  symbols: readonly string[],
  options: BarsRequestOptions,
) => Promise<ReadonlyMap<string, readonly RestBar[]>>;

export interface ChartBarsOptions {
  readonly fetchBars: FetchBars;
  /** Ranges kept. Default 8. */
  readonly capacity?: number;
  /** How long a range still growing is reused. Default 30 s. */
  readonly liveTtlMs?: number;
  readonly now?: () => number;
}

export interface ChartBarsQuery {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly start: number;
  readonly end: number;
  readonly signal?: AbortSignal;
}

export const DEFAULT_CHART_CAPACITY = 8;
export const DEFAULT_LIVE_TTL_MS = 30_000;
/** A bar can still change for about a minute after its range ends (late trades, corrections). */
const SETTLE_MS = 60_000;

interface Entry {
  readonly bars: readonly RestBar[];
  readonly fetchedAt: number;
  /** The range was complete when fetched: never stale. */
  readonly final: boolean;
}

interface InFlight {
  readonly promise: Promise<readonly RestBar[]>;
  readonly controller: AbortController;
  waiters: number;
}

export class ChartBars {
  readonly capacity: number;
  readonly #fetchBars: FetchBars;
  readonly #liveTtlMs: number;
  readonly #now: () => number;
  /** Map order is recency: the first key is the least recently used. */
  readonly #cache = new Map<string, Entry>();
  readonly #inFlight = new Map<string, InFlight>();
  #requests = 0;

  constructor(options: ChartBarsOptions) {
    const capacity = options.capacity ?? DEFAULT_CHART_CAPACITY;
    if (!Number.isInteger(capacity) || capacity <= 0) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#fetchBars = options.fetchBars;
    this.#liveTtlMs = options.liveTtlMs ?? DEFAULT_LIVE_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Ranges cached. */
  get size(): number {
    return this.#cache.size;
  }

  /** Requests made through `fetchBars` so far (a cache hit or a shared wait makes none). */
  get requests(): number {
    return this.#requests;
  }

  /**
   * The bars of `symbol` in `[start, end)` at `timeframe`, oldest first. The array is shared with
   * other callers and frozen. Rejects with a RangeError for a bad query, with the caller's abort
   * reason when its signal aborts, and with the fetch's error when it fails (nothing is cached then).
   */
  get(query: ChartBarsQuery): Promise<readonly RestBar[]> {
    const symbol = query.symbol.trim().toUpperCase();
    const problem = checkQuery(symbol, query);
    if (problem) return Promise.reject(new RangeError(problem));
    if (query.signal?.aborted) return Promise.reject(abortReason(query.signal));
    const key = `${symbol}|${query.timeframe}|${query.start}|${query.end}`;

    const cached = this.#cache.get(key);
    if (cached) {
      if (cached.final || this.#now() - cached.fetchedAt < this.#liveTtlMs) {
        this.#cache.delete(key);
        this.#cache.set(key, cached);
        return Promise.resolve(cached.bars);
      }
      this.#cache.delete(key);
    }

    let flight = this.#inFlight.get(key);
    if (!flight) flight = this.#start(key, symbol, query);
    return this.#wait(key, flight, query.signal);
  }

  #start(key: string, symbol: string, query: ChartBarsQuery): InFlight {
    const controller = new AbortController();
    const requestedAt = this.#now();
    this.#requests++;
    const flight: InFlight = {
      controller,
      waiters: 0,
      // Through a new Promise so that a fetch function throwing synchronously still rejects.
      promise: new Promise<ReadonlyMap<string, readonly RestBar[]>>((resolve) => {
        resolve(
          this.#fetchBars([symbol], {
            timeframe: query.timeframe,
            start: query.start,
            end: query.end,
            signal: controller.signal,
          }),
        );
      }).then(
        (bySymbol) => {
          this.#settled(key, flight);
          const bars = Object.freeze(
            [...(bySymbol.get(symbol) ?? [])]
              .filter((b) => b.time >= query.start && b.time < query.end)
              .sort((a, b) => a.time - b.time),
          );
          this.#store(key, {
            bars,
            fetchedAt: requestedAt,
            final: query.end <= requestedAt - SETTLE_MS,
          });
          return bars;
        },
        (err: unknown) => {
          this.#settled(key, flight);
          throw err;
        },
      ),
    };
    // Every waiter handles the outcome through its own promise; this one must not go unhandled
    // when they all left.
    flight.promise.catch(() => undefined);
    this.#inFlight.set(key, flight);
    return flight;
  }

  /** Forgets `flight` unless a newer request for the same key has replaced it. */
  #settled(key: string, flight: InFlight): void {
    if (this.#inFlight.get(key) === flight) this.#inFlight.delete(key);
  }

  /** Forgets the cached ranges of `symbol`, or all of them. Requests in flight go on. */
  invalidate(symbol?: string): void {
    if (symbol === undefined) {
      this.#cache.clear();
      return;
    }
    const prefix = `${symbol.trim().toUpperCase()}|`;
    for (const key of [...this.#cache.keys()]) if (key.startsWith(prefix)) this.#cache.delete(key);
  }

  #wait(
    key: string,
    flight: InFlight,
    signal: AbortSignal | undefined,
  ): Promise<readonly RestBar[]> {
    flight.waiters++;
    if (!signal) return flight.promise;
    return new Promise<readonly RestBar[]>((resolve, reject) => {
      const onAbort = (): void => {
        flight.waiters--;
        // The last one out cancels the request: nobody wants its answer any more. A caller arriving
        // after that starts a fresh request instead of joining a cancelled one.
        if (flight.waiters === 0) {
          this.#settled(key, flight);
          flight.controller.abort(abortReason(signal));
        }
        reject(abortReason(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (bars) => {
          signal.removeEventListener('abort', onAbort);
          resolve(bars);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(asError(err));
        },
      );
    });
  }

  #store(key: string, entry: Entry): void {
    this.#cache.delete(key);
    this.#cache.set(key, entry);
    while (this.#cache.size > this.capacity) {
      const oldest = this.#cache.keys().next();
      if (oldest.done === true) break;
      this.#cache.delete(oldest.value);
    }
  }
}

function checkQuery(symbol: string, query: ChartBarsQuery): string | undefined {
  if (symbol === '') return 'chart bars need a symbol';
  if (!(TIMEFRAMES as readonly string[]).includes(query.timeframe)) {
    return `unknown timeframe ${String(query.timeframe)} (expected one of ${TIMEFRAMES.join(', ')})`;
  }
  if (!Number.isFinite(query.start) || !Number.isFinite(query.end)) {
    return 'chart bars need a start and an end in epoch ms';
  }
  if (query.start >= query.end) return 'chart bars need a start before the end';
  return undefined;
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error
    ? reason
    : new DOMException('This operation was aborted', 'AbortError');
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
