/**
 * The tape: Times & Sales for the symbols the views' detail panes watch. The book conflates
 * trades away (a frame carries the latest one per symbol), so the detail pane's list of every
 * trade needs its own path: a ring of the last `capacity` trades per WATCHED symbol, kept by one
 * handler per watched symbol on the client's HandlerRegistry (it shows in the handler inspector as
 * `tape: AAPL`), and sent to the views that watch it in batches (every `flushMs` at most), never one
 * event per trade.
 *
 * Beside the trades, the tape keeps what the detail pane's quote shows that a frame does not
 * carry: the quote's exchanges and the day's VWAP (from the stream's daily bars), and the day's
 * open, high, low, volume and previous close, seeded from a REST snapshot when a symbol is first
 * watched (`seed`) so that a closed market shows the last session rather than dashes.
 *
 * Each view watches one symbol or none (`watch`); a symbol nobody watches has no handler, ring
 * or timer. `attach` registers the handlers on a client's registry and returns the disposer, the
 * way the book attaches: the stream source calls it for every new client, so the tape survives a
 * source switch (the rings are emptied then: another market's trades; views are told `reset`).
 *
 * No electron import.
 */
import {
  TAPE_PACE_MS,
  type TapeDay,
  type TapeQuote,
  type TapeTrade,
  type TapeUpdate,
} from '../../shared/api.ts';
import type { DataMessage } from '../../shared/market.ts';
import type { AlpacaRest } from '../rest/alpaca-rest.ts';
import type { Disposer, HandlerRegistry } from '../stream/handlers.ts';
import type { Logger } from '../stream/log.ts';

export interface TapeOptions {
  /** Trades kept per watched symbol. Default 200. */
  readonly capacity?: number;
  /** The longest a trade waits before it is sent. Default TAPE_PACE_MS (250 ms). */
  readonly flushMs?: number;
  /** Sends one batch to one view. */
  readonly send: (viewId: string, update: TapeUpdate) => void;
  readonly logger?: Logger;
}

export const DEFAULT_TAPE_CAPACITY = 200;
export const DEFAULT_TAPE_FLUSH_MS = TAPE_PACE_MS;

/** What a snapshot tells of a symbol when it is first watched. */
export interface TapeSeed {
  readonly trade?: TapeTrade;
  readonly quote?: TapeQuote;
  readonly day?: Partial<TapeDay>;
}

const NO_DAY: TapeDay = {
  open: null,
  high: null,
  low: null,
  volume: null,
  vwap: null,
  prevClose: null,
};

/** One watched symbol: its ring, what is waiting to be sent, and who watches. */
class Watched {
  readonly symbol: string;
  readonly viewers = new Set<string>();
  /** A ring: `ring[(start + i) % capacity]` is the i-th oldest of `count`. */
  readonly ring: (TapeTrade | undefined)[];
  start = 0;
  count = 0;
  /** Trades since the last batch (never more than the ring holds). */
  pending = 0;
  quote: TapeQuote | undefined;
  day: TapeDay | undefined;
  quoteDirty = false;
  dayDirty = false;
  /** The next batch replaces what the views hold. */
  reset = false;
  disposer: Disposer | undefined;

  constructor(symbol: string, capacity: number) {
    this.symbol = symbol;
    this.ring = new Array<TapeTrade | undefined>(capacity);
  }

  push(trade: TapeTrade): void {
    const capacity = this.ring.length;
    if (this.count < capacity) {
      this.ring[(this.start + this.count) % capacity] = trade;
      this.count++;
    } else {
      this.ring[this.start] = trade;
      this.start = (this.start + 1) % capacity;
    }
    if (this.pending < capacity) this.pending++;
  }

  /** The newest `n` trades, oldest first. */
  last(n: number): TapeTrade[] {
    const capacity = this.ring.length;
    const take = Math.min(n, this.count);
    const out: TapeTrade[] = [];
    for (let i = this.count - take; i < this.count; i++) {
      const trade = this.ring[(this.start + i) % capacity];
      if (trade) out.push(trade);
    }
    return out;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.start = 0;
    this.count = 0;
    this.pending = 0;
    this.quote = undefined;
    this.day = undefined;
    this.reset = true;
  }

  get dirty(): boolean {
    return this.pending > 0 || this.quoteDirty || this.dayDirty || this.reset;
  }
}

export class Tape {
  readonly capacity: number;
  readonly #flushMs: number;
  readonly #send: TapeOptions['send'];
  readonly #log: Logger | undefined;
  /** Which symbol each view watches. */
  readonly #views = new Map<string, string>();
  readonly #watched = new Map<string, Watched>();
  #registry: HandlerRegistry | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Attached before: a new registry then means a new source. */
  #everAttached = false;
  #closed = false;

  constructor(options: TapeOptions) {
    const capacity = options.capacity ?? DEFAULT_TAPE_CAPACITY;
    if (!Number.isInteger(capacity) || capacity <= 0)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.#flushMs = Math.max(0, options.flushMs ?? DEFAULT_TAPE_FLUSH_MS);
    this.#send = options.send;
    this.#log = options.logger;
  }

  /** Symbols watched by at least one view. */
  get symbols(): ReadonlySet<string> {
    return new Set(this.#watched.keys());
  }

  /** Whether a batch timer is pending (the core's resource count). */
  get timerActive(): boolean {
    return this.#timer !== undefined;
  }

  /** Trades held for `symbol` (0 when not watched). */
  size(symbol: string): number {
    return this.#watched.get(symbol)?.count ?? 0;
  }

  /**
   * `viewId` now watches `symbol` (null: nothing). Answers what is known of it: the recent
   * trades, the quote and the day. Whether it was newly watched is `fresh` (the caller then seeds
   * it from a snapshot).
   */
  watch(viewId: string, symbol: string | null): { update: TapeUpdate | null; fresh: boolean } {
    if (this.#closed) return { update: null, fresh: false };
    const before = this.#views.get(viewId);
    if (before !== undefined && before !== symbol) this.#unwatch(viewId, before);
    if (symbol === null) {
      this.#views.delete(viewId);
      return { update: null, fresh: false };
    }
    this.#views.set(viewId, symbol);
    let w = this.#watched.get(symbol);
    const fresh = w === undefined;
    if (!w) {
      w = new Watched(symbol, this.capacity);
      this.#watched.set(symbol, w);
      this.#register(w);
    }
    w.viewers.add(viewId);
    return { update: this.#whole(w), fresh };
  }

  /** A view closed: whatever it watched is released. */
  release(viewId: string): void {
    const symbol = this.#views.get(viewId);
    if (symbol === undefined) return;
    this.#views.delete(viewId);
    this.#unwatch(viewId, symbol);
  }

  /**
   * What a snapshot said of a watched symbol: fills only what the stream has not brought yet
   * (the stream is newer), and the views hear of it in the next batch.
   */
  seed(symbol: string, seed: TapeSeed): void {
    const w = this.#watched.get(symbol);
    if (!w) return;
    if (seed.trade && w.count === 0) w.push(seed.trade);
    if (seed.quote && w.quote === undefined) {
      w.quote = seed.quote;
      w.quoteDirty = true;
    }
    if (seed.day) {
      const day = w.day ?? NO_DAY;
      const merged: TapeDay = {
        open: pick(day.open, seed.day.open),
        high: pick(day.high, seed.day.high),
        low: pick(day.low, seed.day.low),
        volume: pick(day.volume, seed.day.volume),
        vwap: pick(day.vwap, seed.day.vwap),
        prevClose: pick(day.prevClose, seed.day.prevClose),
      };
      w.day = merged;
      w.dayDirty = true;
    }
    this.#schedule();
  }

  /**
   * Registers one handler per watched symbol on `handlers` (and on it for symbols watched later),
   * until the returned disposer runs. A registry replacing another one means another source: the
   * rings are emptied and the views told to drop what they hold.
   */
  attach(handlers: HandlerRegistry): () => void {
    if (this.#registry === handlers)
      throw new Error('the tape is already attached to this registry');
    if (this.#registry) this.#detachHandlers();
    const replacing = this.#everAttached;
    this.#everAttached = true;
    this.#registry = handlers;
    for (const w of this.#watched.values()) {
      if (replacing) w.clear();
      this.#register(w);
    }
    if (replacing && this.#watched.size > 0) this.#schedule();
    let disposed = false;
    return () => {
      if (disposed) return;
      disposed = true;
      if (this.#registry === handlers) this.#detachHandlers();
    };
  }

  /** Sends every pending batch now (the timer does this; tests may too). */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const w of this.#watched.values()) {
      if (!w.dirty) continue;
      const update: TapeUpdate = w.reset
        ? this.#whole(w)
        : {
            symbol: w.symbol,
            trades: w.last(w.pending),
            reset: false,
            quote: w.quoteDirty ? w.quote : undefined,
            day: w.dayDirty ? w.day : undefined,
          };
      w.pending = 0;
      w.quoteDirty = false;
      w.dayDirty = false;
      w.reset = false;
      for (const viewId of w.viewers) {
        try {
          this.#send(viewId, update);
        } catch (err) {
          this.#log?.error({ err, view: viewId }, 'sending a tape batch failed');
        }
      }
    }
  }

  /** Removes every handler and timer; later calls do nothing. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#detachHandlers();
    this.#watched.clear();
    this.#views.clear();
  }

  #whole(w: Watched): TapeUpdate {
    return {
      symbol: w.symbol,
      trades: w.last(w.count),
      reset: true,
      quote: w.quote,
      day: w.day,
    };
  }

  #unwatch(viewId: string, symbol: string): void {
    const w = this.#watched.get(symbol);
    if (!w) return;
    w.viewers.delete(viewId);
    if (w.viewers.size > 0) return;
    w.disposer?.();
    w.disposer = undefined;
    this.#watched.delete(symbol);
  }

  #register(w: Watched): void {
    const registry = this.#registry;
    if (!registry || w.disposer) return;
    try {
      w.disposer = registry.on('*', w.symbol, (msg) => this.#onMessage(w, msg), {
        name: `tape: ${w.symbol}`,
        builtin: true,
      });
    } catch (err) {
      // The registry's handler limit: the pane shows no trades, the rest of the app goes on.
      this.#log?.warn({ err, symbol: w.symbol }, 'the tape could not watch a symbol');
    }
  }

  #detachHandlers(): void {
    for (const w of this.#watched.values()) {
      w.disposer?.();
      w.disposer = undefined;
    }
    this.#registry = undefined;
  }

  /** Per message of a watched symbol, at feed rate: no allocation beyond the trade kept. */
  #onMessage(w: Watched, msg: DataMessage): void {
    switch (msg.kind) {
      case 'trade': {
        w.push({
          time: msg.timeMs,
          price: msg.price,
          size: msg.size,
          exchange: msg.exchange ?? '',
          conditions: msg.conditions ?? [],
        });
        const day = w.day;
        if (day) {
          // The daily bar comes once a minute; the day's range and volume move with every trade.
          w.day = {
            ...day,
            high: day.high === null ? msg.price : Math.max(day.high, msg.price),
            low: day.low === null ? msg.price : Math.min(day.low, msg.price),
            volume: day.volume === null ? msg.size : day.volume + msg.size,
          };
          w.dayDirty = true;
        }
        break;
      }
      case 'quote':
        w.quote = {
          bidPrice: msg.bidPrice,
          bidSize: msg.bidSize,
          bidExchange: msg.bidExchange ?? '',
          askPrice: msg.askPrice,
          askSize: msg.askSize,
          askExchange: msg.askExchange ?? '',
          time: msg.timeMs,
        };
        w.quoteDirty = true;
        break;
      case 'dailyBar': {
        const day = w.day ?? NO_DAY;
        w.day = {
          open: msg.open,
          high: msg.high,
          low: msg.low,
          volume: msg.volume,
          vwap: msg.vwap ?? null,
          prevClose: day.prevClose,
        };
        w.dayDirty = true;
        break;
      }
      default:
        return;
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      try {
        this.flush();
      } catch (err) {
        this.#log?.error({ err }, 'a tape flush failed');
      }
    }, this.#flushMs);
  }
}

/** `current` unless it is unknown and the seed knows better. */
function pick(current: number | null, seeded: number | null | undefined): number | null {
  return current === null && typeof seeded === 'number' && Number.isFinite(seeded)
    ? seeded
    : current;
}

/**
 * What a REST snapshot tells of `symbol` for the tape: its latest trade and quote (with the
 * exchanges) and the day (open, high, low, volume, VWAP, previous close). Undefined when the
 * snapshot has nothing or fails: the stream fills the pane then, and nothing else depends on it.
 */
export async function snapshotSeed(
  rest: Pick<AlpacaRest, 'stockSnapshots' | 'cryptoSnapshots'>,
  symbol: string,
  feed: string,
): Promise<TapeSeed | undefined> {
  const crypto = symbol.includes('/');
  const snaps = crypto
    ? await rest.cryptoSnapshots([symbol])
    : await rest.stockSnapshots([symbol], { feed });
  const snap = snaps.get(symbol);
  if (!snap) return undefined;
  const { latestTrade: t, latestQuote: q, dailyBar: d, prevDailyBar: p } = snap;
  return {
    ...(t
      ? {
          trade: {
            time: t.time,
            price: t.price,
            size: t.size,
            exchange: t.exchange ?? '',
            conditions: t.conditions,
          },
        }
      : {}),
    ...(q
      ? {
          quote: {
            bidPrice: q.bidPrice,
            bidSize: q.bidSize,
            bidExchange: q.bidExchange ?? '',
            askPrice: q.askPrice,
            askSize: q.askSize,
            askExchange: q.askExchange ?? '',
            time: q.time,
          },
        }
      : {}),
    day: {
      ...(d
        ? { open: d.open, high: d.high, low: d.low, volume: d.volume, vwap: d.vwap ?? null }
        : {}),
      ...(p ? { prevClose: p.close } : {}),
    },
  };
}
