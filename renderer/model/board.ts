/**
 * The renderer's quote board: the latest values per symbol, folded from quote frames, outside React.
 *
 * A frame costs one pass over its rows and no allocation per quote once a symbol has its row: each
 * row is a mutable record whose `version` rises when any of its values changes, so the watchlist
 * compares one number to know whether a row needs drawing. The store bumps one counter per frame;
 * the watchlist's canvas then draws only the visible cells that changed, never one render per quote.
 */
import type { QuoteFrame } from '../../shared/frame.ts';

/** -1: fell, 0: unchanged or no earlier value, 1: rose. */
export type Move = -1 | 0 | 1;

/** The cells that flash when they change. */
export const FLASH_FIELDS = ['bid', 'ask', 'last'] as const;
export type FlashField = (typeof FLASH_FIELDS)[number];

/** How long a changed price stays lit after its latest change. */
export const FLASH_MS = 900;

/** A symbol whose last update is older than this is marked stale. */
export const STALE_AFTER_MS = 15_000;

export interface QuoteRow {
  readonly symbol: string;
  bid: number;
  bidSize: number;
  ask: number;
  askSize: number;
  last: number;
  lastSize: number;
  volume: number;
  /** What `change` is measured against (the previous close where known). */
  ref: number;
  /** The previous regular session's close; NaN when unknown. */
  prevClose: number;
  /** The day's open, high and low; NaN when unknown. */
  dayOpen: number;
  dayHigh: number;
  dayLow: number;
  /** Epoch ms of the snapshot that filled this row when it is polled, not streamed; else NaN. */
  polledAt: number;
  /** Epoch ms of the exchange timestamps. */
  quoteTime: number;
  tradeTime: number;
  /** Epoch ms when main received the newest update of this row; NaN before any. */
  receivedAt: number;
  /** Rises on every change of any value: what the watchlist's canvas and mirror compare. */
  version: number;
  /** Per flashing cell: direction, when (epoch ms) of its latest change, how many changes. */
  readonly flash: Record<FlashField, { move: Move; at: number; count: number }>;
}

function emptyRow(symbol: string): QuoteRow {
  return {
    symbol,
    bid: NaN,
    bidSize: NaN,
    ask: NaN,
    askSize: NaN,
    last: NaN,
    lastSize: NaN,
    volume: NaN,
    ref: NaN,
    prevClose: NaN,
    dayOpen: NaN,
    dayHigh: NaN,
    dayLow: NaN,
    polledAt: NaN,
    quoteTime: NaN,
    tradeTime: NaN,
    receivedAt: NaN,
    version: 0,
    flash: {
      bid: { move: 0, at: NaN, count: 0 },
      ask: { move: 0, at: NaN, count: 0 },
      last: { move: 0, at: NaN, count: 0 },
    },
  };
}

/** The direction of a change; no earlier value (NaN) is not a change. */
export function moveOf(previous: number, next: number): Move {
  if (Number.isNaN(previous) || Number.isNaN(next) || previous === next) return 0;
  return next > previous ? 1 : -1;
}

/** Whether a cell changed within FLASH_MS of `now`, and which way: the class it wears. */
export function flashOf(
  cell: { readonly move: Move; readonly at: number },
  now: number,
): 'up' | 'down' | undefined {
  if (cell.move === 0 || !(now - cell.at < FLASH_MS)) return undefined;
  return cell.move > 0 ? 'up' : 'down';
}

export type Freshness = 'waiting' | 'fresh' | 'stale';

/** `waiting`: nothing received yet; `stale`: nothing for STALE_AFTER_MS or longer. */
export function freshnessOf(
  receivedAt: number,
  now: number,
  staleAfterMs = STALE_AFTER_MS,
): Freshness {
  if (!Number.isFinite(receivedAt)) return 'waiting';
  return now - receivedAt >= staleAfterMs ? 'stale' : 'fresh';
}

/** Spread (ask - bid) when both sides are there and not crossed into nonsense. */
export function spreadOf(row: Pick<QuoteRow, 'bid' | 'ask'>): number {
  return Number.isFinite(row.bid) && Number.isFinite(row.ask) && row.bid > 0 && row.ask > 0
    ? row.ask - row.bid
    : NaN;
}

/** Change of the last trade against the reference price: absolute and in percent. */
export function changeOf(row: Pick<QuoteRow, 'last' | 'ref'>): { abs: number; pct: number } {
  if (!Number.isFinite(row.last) || !Number.isFinite(row.ref) || row.ref === 0)
    return { abs: NaN, pct: NaN };
  const abs = row.last - row.ref;
  return { abs, pct: (abs / row.ref) * 100 };
}

/**
 * The day's range as the bar draws it: where last, and the open, sit between low and high (0..1),
 * widened by the last trade when it is outside (a daily bar a moment behind the trade). NaN when
 * there is no range yet.
 */
export function dayRangeOf(row: Pick<QuoteRow, 'last' | 'dayLow' | 'dayHigh' | 'dayOpen'>): {
  low: number;
  high: number;
  at: number;
  open: number;
} {
  let low = row.dayLow;
  let high = row.dayHigh;
  if (Number.isFinite(row.last)) {
    if (!(low <= row.last)) low = Number.isFinite(low) ? row.last : low;
    if (!(high >= row.last)) high = Number.isFinite(high) ? row.last : high;
  }
  if (!Number.isFinite(low) || !Number.isFinite(high) || !Number.isFinite(row.last))
    return { low, high, at: NaN, open: NaN };
  const width = high - low;
  const place = (v: number) => (width > 0 ? (v - low) / width : 0.5);
  return {
    low,
    high,
    at: place(row.last),
    open: Number.isFinite(row.dayOpen) ? Math.min(1, Math.max(0, place(row.dayOpen))) : NaN,
  };
}

/**
 * The extended-hours change: in pre-market the last trade against the previous close; after hours
 * against today's regular close (`regularClose`, from the session's minute series). NaN in the
 * regular session and when the reference is unknown.
 */
export function extendedChangeOf(
  row: Pick<QuoteRow, 'last' | 'prevClose'>,
  session: string | undefined,
  regularClose: number,
): { abs: number; pct: number } {
  const ref = session === 'pre' ? row.prevClose : session === 'post' ? regularClose : NaN;
  if (!Number.isFinite(row.last) || !Number.isFinite(ref) || ref === 0)
    return { abs: NaN, pct: NaN };
  const abs = row.last - ref;
  return { abs, pct: (abs / ref) * 100 };
}

export interface FrameFold {
  /** Rows whose values changed. */
  readonly changed: number;
  /**
   * Main's receipt times of the changed rows that carry one (ms, may be noisy), of the rows on
   * screen only when the fold was told which those are.
   */
  readonly receivedAts: readonly number[];
}

export class QuoteBoard {
  readonly #rows = new Map<string, QuoteRow>();
  #frames = 0;
  #conflated = 0;
  #lastSeq = 0;
  #gaps = 0;

  /**
   * Folds a frame in at wall-clock `now`. A `full` frame is the whole truth: symbols it leaves out
   * are dropped (main removed them). `shown`: the symbols on screen, whose receipt times the fold
   * returns (all rows' when undefined).
   */
  apply(frame: QuoteFrame, now: number, shown?: ReadonlySet<string>): FrameFold {
    if (this.#lastSeq !== 0 && frame.seq !== this.#lastSeq + 1 && !frame.full) this.#gaps += 1;
    this.#lastSeq = frame.seq;
    this.#frames += 1;
    this.#conflated += frame.conflated;
    if (frame.full) {
      const keepSymbols = new Set(frame.symbols);
      for (const symbol of this.#rows.keys())
        if (!keepSymbols.has(symbol)) this.#rows.delete(symbol);
    }
    let changed = 0;
    const receivedAts: number[] = [];
    const n = frame.symbols.length;
    for (let i = 0; i < n; i++) {
      const symbol = frame.symbols[i];
      if (symbol === undefined) continue;
      let row = this.#rows.get(symbol);
      if (row === undefined) {
        row = emptyRow(symbol);
        this.#rows.set(symbol, row);
      }
      if (this.#fold(row, frame, i, now)) {
        changed += 1;
        const at = frame.receivedAt[i];
        if (at !== undefined && Number.isFinite(at) && (shown === undefined || shown.has(symbol)))
          receivedAts.push(at);
      }
    }
    return { changed, receivedAts };
  }

  /**
   * Every frame row is main's whole row for that symbol (the book copies complete rows, full frame
   * or not), so its values replace the board's as they are: NaN means main has no value (a new
   * source, a symbol removed and added again), and an old value must not survive it.
   */
  #fold(row: QuoteRow, f: QuoteFrame, i: number, now: number): boolean {
    const bid = f.bidPrice[i] ?? NaN;
    const ask = f.askPrice[i] ?? NaN;
    const last = f.lastPrice[i] ?? NaN;
    const bidSize = f.bidSize[i] ?? NaN;
    const askSize = f.askSize[i] ?? NaN;
    const lastSize = f.lastSize[i] ?? NaN;
    const volume = f.volume[i] ?? NaN;
    const ref = f.refPrice[i] ?? NaN;
    const prevClose = f.prevClose[i] ?? NaN;
    const dayOpen = f.dayOpen[i] ?? NaN;
    const dayHigh = f.dayHigh[i] ?? NaN;
    const dayLow = f.dayLow[i] ?? NaN;
    const polledAt = f.polledAt[i] ?? NaN;
    const quoteTime = f.quoteTime[i] ?? NaN;
    const tradeTime = f.tradeTime[i] ?? NaN;
    const receivedAt = f.receivedAt[i] ?? NaN;
    const same =
      Object.is(bid, row.bid) &&
      Object.is(ask, row.ask) &&
      Object.is(last, row.last) &&
      Object.is(bidSize, row.bidSize) &&
      Object.is(askSize, row.askSize) &&
      Object.is(lastSize, row.lastSize) &&
      Object.is(volume, row.volume) &&
      Object.is(ref, row.ref) &&
      Object.is(prevClose, row.prevClose) &&
      Object.is(dayOpen, row.dayOpen) &&
      Object.is(dayHigh, row.dayHigh) &&
      Object.is(dayLow, row.dayLow) &&
      Object.is(polledAt, row.polledAt) &&
      Object.is(quoteTime, row.quoteTime) &&
      Object.is(tradeTime, row.tradeTime) &&
      Object.is(receivedAt, row.receivedAt);
    if (same) return false;
    mark(row.flash.bid, moveOf(row.bid, bid), now);
    mark(row.flash.ask, moveOf(row.ask, ask), now);
    mark(row.flash.last, moveOf(row.last, last), now);
    row.bid = bid;
    row.ask = ask;
    row.last = last;
    row.bidSize = bidSize;
    row.askSize = askSize;
    row.lastSize = lastSize;
    row.volume = volume;
    row.ref = ref;
    row.prevClose = prevClose;
    row.dayOpen = dayOpen;
    row.dayHigh = dayHigh;
    row.dayLow = dayLow;
    row.polledAt = polledAt;
    row.quoteTime = quoteTime;
    row.tradeTime = tradeTime;
    row.receivedAt = receivedAt;
    row.version += 1;
    return true;
  }

  /** The row of `symbol`, or undefined before its first frame. */
  get(symbol: string): QuoteRow | undefined {
    return this.#rows.get(symbol);
  }

  has(symbol: string): boolean {
    return this.#rows.has(symbol);
  }

  get size(): number {
    return this.#rows.size;
  }

  rows(): IterableIterator<QuoteRow> {
    return this.#rows.values();
  }

  /** Frames folded in, updates main conflated before they reached this view, sequence gaps. */
  get stats(): {
    readonly frames: number;
    readonly conflated: number;
    readonly lastSeq: number;
    readonly gaps: number;
  } {
    return {
      frames: this.#frames,
      conflated: this.#conflated,
      lastSeq: this.#lastSeq,
      gaps: this.#gaps,
    };
  }
}

function mark(cell: { move: Move; at: number; count: number }, move: Move, now: number): void {
  if (move === 0) return;
  cell.move = move;
  cell.at = now;
  cell.count += 1;
}
