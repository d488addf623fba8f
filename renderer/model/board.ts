/**
 * The renderer's quote board: the latest values per symbol, folded from quote frames, outside React.
 *
 * A frame costs one pass over its rows and no allocation per quote once a symbol has its row: frames
 * name symbols by id (shared/frame.ts), and the board keeps the id -> row table, so a row is one
 * array read, not a string hash. Each row is a mutable record whose `version` rises when any of its values changes, so the watchlist
 * compares one number to know whether a row needs drawing. The store bumps one counter per frame;
 * the watchlist's canvas then draws only the visible cells that changed, never one render per quote.
 */
import { FRAME_COLUMNS, type QuoteFrame } from '../../shared/frame.ts';

// Where each field sits in a frame's values (column k of row i at k * rows + i).
const BID_PRICE = FRAME_COLUMNS.indexOf('bidPrice');
const BID_SIZE = FRAME_COLUMNS.indexOf('bidSize');
const ASK_PRICE = FRAME_COLUMNS.indexOf('askPrice');
const ASK_SIZE = FRAME_COLUMNS.indexOf('askSize');
const QUOTE_TIME = FRAME_COLUMNS.indexOf('quoteTime');
const LAST_PRICE = FRAME_COLUMNS.indexOf('lastPrice');
const LAST_SIZE = FRAME_COLUMNS.indexOf('lastSize');
const TRADE_TIME = FRAME_COLUMNS.indexOf('tradeTime');
const VOLUME = FRAME_COLUMNS.indexOf('volume');
const REF_PRICE = FRAME_COLUMNS.indexOf('refPrice');
const RECEIVED_AT = FRAME_COLUMNS.indexOf('receivedAt');
const PREV_CLOSE = FRAME_COLUMNS.indexOf('prevClose');
const DAY_OPEN = FRAME_COLUMNS.indexOf('dayOpen');
const DAY_HIGH = FRAME_COLUMNS.indexOf('dayHigh');
const DAY_LOW = FRAME_COLUMNS.indexOf('dayLow');
const POLLED_AT = FRAME_COLUMNS.indexOf('polledAt');

/** -1: fell, 0: unchanged or no earlier value, 1: rose. */
export type Move = -1 | 0 | 1;

/** The cells that flash when they change. */
export const FLASH_FIELDS = ['bid', 'ask', 'last'] as const;
export type FlashField = (typeof FLASH_FIELDS)[number];

/** How long a changed price stays lit after its latest change. */
export const FLASH_MS = 900;

/**
 * After a resync request (failed, or answered by a full frame that has not come), how long before
 * the board asks again: a link that keeps failing or losing frames must not get one request, nor
 * one full frame, per frame.
 */
export const RESYNC_RETRY_MS = 1_000;

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
  /**
   * This frame shows that an earlier one was lost, and no full frame is on its way yet: ask main
   * for one now ('frames:resync'), then call resyncFailed() if the request fails.
   */
  readonly resync: boolean;
}

export class QuoteBoard {
  readonly #rows = new Map<string, QuoteRow>();
  /** The view's symbol ids (shared/frame.ts): id -> symbol; '' = unknown or not carried. */
  #names: string[] = [];
  /** id -> row, filled on the id's first row (a frame may name symbols it carries no row of). */
  #byId: (QuoteRow | undefined)[] = [];
  #frames = 0;
  #conflated = 0;
  #lastSeq = 0;
  #gaps = 0;
  #unknownRows = 0;
  #resyncs = 0;
  /** A frame was lost and no full frame has been folded since. */
  #broken = false;
  /**
   * When a full frame was last asked for, or its request failed (epoch ms, the clock `apply` is
   * given); -Infinity once a full frame came. The next ask waits RESYNC_RETRY_MS from it.
   */
  #askedAt = Number.NEGATIVE_INFINITY;

  /**
   * Folds a frame in at wall-clock `now`. A `full` frame is the whole truth: symbols it leaves out
   * are dropped (main removed them), and it starts the id table afresh. Rows whose id this board
   * was never told (a lost frame: a bug) are skipped and counted; the next full frame heals, and
   * the fold says when to ask main for one (`resync`): at the first sign of a lost frame (a
   * sequence gap, a symbolBase past the table, a row of an id never named), then again while no
   * full frame has come, at most every RESYNC_RETRY_MS (the full frame may have been lost too, or
   * the request failed; a transport that keeps losing frames gets one full frame a second, not one
   * a frame).
   * Rows of an id named '' (a symbol the transport could not carry) are skipped and counted too,
   * but ask for nothing: a full frame would name them '' again.
   * `measured`: which changed rows' receipt times the fold returns (all when undefined).
   */
  apply(
    frame: QuoteFrame,
    now: number,
    measured?: (symbol: string, receivedAt: number) => boolean,
  ): FrameFold {
    const gap = this.#lastSeq !== 0 && frame.seq !== this.#lastSeq + 1 && !frame.full;
    if (gap) this.#gaps += 1;
    if (frame.full) {
      this.#broken = false;
      this.#askedAt = Number.NEGATIVE_INFINITY;
    }
    this.#lastSeq = frame.seq;
    this.#frames += 1;
    this.#conflated += frame.conflated;
    const ids = frame.rows;
    const n = ids.length;
    let lost = !this.#learn(frame) || gap;
    if (frame.full) {
      const keep = new Set<string>();
      for (let i = 0; i < n; i++) keep.add(this.#names[ids[i]!] ?? '');
      for (const symbol of this.#rows.keys()) if (!keep.has(symbol)) this.#rows.delete(symbol);
    }
    let changed = 0;
    const receivedAts: number[] = [];
    const values = frame.values;
    for (let i = 0; i < n; i++) {
      const row = this.#byId[ids[i]!] ?? this.#rowOf(ids[i]!);
      if (row === undefined) {
        this.#unknownRows += 1;
        // Never named (past the table's end), rather than named '' (not carried).
        if (ids[i]! >= this.#names.length) lost = true;
        continue;
      }
      if (this.#fold(row, values, n, i, now)) {
        changed += 1;
        const at = values[RECEIVED_AT * n + i];
        if (
          at !== undefined &&
          Number.isFinite(at) &&
          (measured === undefined || measured(row.symbol, at))
        )
          receivedAts.push(at);
      }
    }
    if (lost) this.#broken = true;
    let resync = false;
    if (this.#broken && now >= this.#askedAt + RESYNC_RETRY_MS) {
      this.#askedAt = now;
      this.#resyncs += 1;
      resync = true;
    }
    return { changed, receivedAts, resync };
  }

  /**
   * The resync request of a fold failed: the first frame folded RESYNC_RETRY_MS after `now` asks
   * again (the loss is still there, whether or not a frame shows it again).
   */
  resyncFailed(now: number): void {
    this.#askedAt = now;
  }

  /**
   * The frame's new symbols into the id table (a full frame first empties it). `#names` and
   * `#byId` always have the same length. A symbolBase past the end means a frame was lost: these
   * ids stay unknown like the lost ones (their rows are skipped) until the next full frame; the
   * gap is not filled, so a bad symbolBase cannot make the table grow without bound. Returns
   * false then.
   */
  #learn(frame: QuoteFrame): boolean {
    if (frame.full) {
      this.#names = [];
      this.#byId = [];
    }
    const names = this.#names;
    const byId = this.#byId;
    const base = frame.symbolBase;
    if (base > names.length) return false;
    const fresh = frame.newSymbols;
    for (let j = 0; j < fresh.length; j++) {
      const id = base + j;
      if (id === names.length) {
        names.push(fresh[j]!);
        byId.push(undefined);
      } else {
        names[id] = fresh[j]!;
        byId[id] = undefined;
      }
    }
    return true;
  }

  /** The row of symbol id `id` (created when new), or undefined when the id is unknown. */
  #rowOf(id: number): QuoteRow | undefined {
    const symbol = this.#names[id];
    if (symbol === undefined || symbol === '') return undefined;
    let row = this.#rows.get(symbol);
    if (row === undefined) {
      row = emptyRow(symbol);
      this.#rows.set(symbol, row);
    }
    this.#byId[id] = row;
    return row;
  }

  /**
   * Every frame row is main's whole row for that symbol (the book copies complete rows, full frame
   * or not), so its values replace the board's as they are: NaN means main has no value (a new
   * source, a symbol removed and added again), and an old value must not survive it.
   */
  #fold(row: QuoteRow, v: Float64Array, n: number, i: number, now: number): boolean {
    const bid = v[BID_PRICE * n + i] ?? NaN;
    const ask = v[ASK_PRICE * n + i] ?? NaN;
    const last = v[LAST_PRICE * n + i] ?? NaN;
    const bidSize = v[BID_SIZE * n + i] ?? NaN;
    const askSize = v[ASK_SIZE * n + i] ?? NaN;
    const lastSize = v[LAST_SIZE * n + i] ?? NaN;
    const volume = v[VOLUME * n + i] ?? NaN;
    const ref = v[REF_PRICE * n + i] ?? NaN;
    const prevClose = v[PREV_CLOSE * n + i] ?? NaN;
    const dayOpen = v[DAY_OPEN * n + i] ?? NaN;
    const dayHigh = v[DAY_HIGH * n + i] ?? NaN;
    const dayLow = v[DAY_LOW * n + i] ?? NaN;
    const polledAt = v[POLLED_AT * n + i] ?? NaN;
    const quoteTime = v[QUOTE_TIME * n + i] ?? NaN;
    const tradeTime = v[TRADE_TIME * n + i] ?? NaN;
    const receivedAt = v[RECEIVED_AT * n + i] ?? NaN;
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

  /**
   * Frames folded in, updates main conflated before they reached this view, sequence gaps, rows
   * skipped because their symbol id was never named to this board (0 unless a frame was lost or a
   * symbol could not be carried), and full frames asked of main to heal a lost one.
   */
  get stats(): {
    readonly frames: number;
    readonly conflated: number;
    readonly lastSeq: number;
    readonly gaps: number;
    readonly unknownRows: number;
    readonly resyncs: number;
  } {
    return {
      frames: this.#frames,
      conflated: this.#conflated,
      lastSeq: this.#lastSeq,
      gaps: this.#gaps,
      unknownRows: this.#unknownRows,
      resyncs: this.#resyncs,
    };
  }
}

function mark(cell: { move: Move; at: number; count: number }, move: Move, now: number): void {
  if (move === 0) return;
  cell.move = move;
  cell.at = now;
  cell.count += 1;
}
