/**
 * The conflation book's row storage (electron/stream/book.ts): per symbol row, the frame's figures
 * and two internal times, with the symbol index and the open cursors that must hear of every
 * change. Shared by the book, which writes rows, and its cursors, which gather them into frames.
 *
 * Row-major: row r's fields are `cells[r * STRIDE + FIELD]`, the frame's in FRAME_COLUMNS order
 * first. A frame gathers its changed rows, which are scattered over the book (500 of 5,000 rows
 * at random): one row is then 144 contiguous bytes (two or three cache lines) where one value per
 * column meant sixteen separate misses, right after feed work has evicted them
 * (BENCHMARKS.md, frames). The writes per message touch the same one row either way.
 */
import { FRAME_COLUMNS, type FrameColumn } from '../../shared/frame.ts';
import type { Logger } from './log.ts';

export const INITIAL_CAPACITY = 64;
/** Frame columns; a row's first COLUMNS cells, in FRAME_COLUMNS order. */
export const COLUMNS = FRAME_COLUMNS.length;

// A row's cells. The frame's come first, at their FRAME_COLUMNS index (checked below), so that a
// frame build copies cells 0..COLUMNS-1 of a row without naming them.
export const BID_PRICE = 0;
export const BID_SIZE = 1;
export const ASK_PRICE = 2;
export const ASK_SIZE = 3;
export const QUOTE_TIME = 4;
export const LAST_PRICE = 5;
export const LAST_SIZE = 6;
export const TRADE_TIME = 7;
export const VOLUME = 8;
export const REF_PRICE = 9;
export const RECEIVED_AT = 10;
export const PREV_CLOSE = 11;
export const DAY_OPEN = 12;
export const DAY_HIGH = 13;
export const DAY_LOW = 14;
export const POLLED_AT = 15;
/** Not in frames: epoch ms of the start of the daily bar applied last; NaN = none. */
export const DAILY_TIME = 16;
/** Not in frames: epoch ms of the start of the day prevClose closed; NaN = none or rolled. */
export const PREV_TIME = 17;
/** Cells per row. */
export const STRIDE = 18;

/** Where each frame column sits in a row. */
const FIELD_OF: Readonly<Record<FrameColumn, number>> = {
  bidPrice: BID_PRICE,
  bidSize: BID_SIZE,
  askPrice: ASK_PRICE,
  askSize: ASK_SIZE,
  quoteTime: QUOTE_TIME,
  lastPrice: LAST_PRICE,
  lastSize: LAST_SIZE,
  tradeTime: TRADE_TIME,
  volume: VOLUME,
  refPrice: REF_PRICE,
  receivedAt: RECEIVED_AT,
  prevClose: PREV_CLOSE,
  dayOpen: DAY_OPEN,
  dayHigh: DAY_HIGH,
  dayLow: DAY_LOW,
  polledAt: POLLED_AT,
};
// A column added to or moved in shared/frame.ts must move here too: fail at load, not in a frame.
FRAME_COLUMNS.forEach((name, k) => {
  if (FIELD_OF[name] !== k) {
    throw new Error(`book store: frame column ${name} is at ${k}, its cell at ${FIELD_OF[name]}`);
  }
});
if (STRIDE !== COLUMNS + 2) throw new Error('book store: STRIDE must be COLUMNS + 2');

/** The cell of `column` within a row. */
export function fieldOf(column: FrameColumn): number {
  return FIELD_OF[column];
}

/** What the store asks of an open cursor. */
export interface RowListener {
  /** Row `row` changed (per message: keep it small). */
  mark(row: number): void;
  /** The storage now holds `capacity` rows. */
  resize(capacity: number): void;
  /** Rows were dropped or renumbered: the next frame carries every row. */
  reset(capacity: number): void;
}

export class BookStore {
  capacity = INITIAL_CAPACITY;
  size = 0;
  readonly index = new Map<string, number>();
  readonly symbols: string[] = [];
  /** `capacity` rows of STRIDE cells; NaN = no value. Replaced (never resized) on grow and reset. */
  cells = nanArray(INITIAL_CAPACITY * STRIDE);
  /** Open cursors; replaced (never mutated) on open/close, so a notification may close one safely. */
  cursors: readonly RowListener[] = [];
  readonly now: () => number;
  readonly log: Logger;

  constructor(now: () => number, log: Logger) {
    this.now = now;
    this.log = log;
  }

  grow(): void {
    const capacity = this.capacity * 2;
    const next = nanArray(capacity * STRIDE);
    next.set(this.cells);
    this.cells = next;
    this.capacity = capacity;
    for (const c of this.cursors) c.resize(capacity);
  }

  /** Drops every row and shrinks the storage back to its initial size. */
  reset(): void {
    this.index.clear();
    this.symbols.length = 0;
    this.size = 0;
    this.capacity = INITIAL_CAPACITY;
    this.cells = nanArray(INITIAL_CAPACITY * STRIDE);
  }

  /** Every cell of `row` back to NaN (a row about to be reused). */
  clearRow(row: number): void {
    this.cells.fill(Number.NaN, row * STRIDE, (row + 1) * STRIDE);
  }

  /** Copies row `from` over row `to` (compaction). */
  moveRow(from: number, to: number): void {
    this.cells.copyWithin(to * STRIDE, from * STRIDE, (from + 1) * STRIDE);
  }

  /** Marks `row` changed for every open cursor. */
  touch(row: number): void {
    const cursors = this.cursors;
    for (let i = 0; i < cursors.length; i++) cursors[i]!.mark(row);
  }
}

function nanArray(n: number): Float64Array {
  return new Float64Array(n).fill(Number.NaN);
}
