/**
 * The conflation book's row storage (electron/stream/book.ts): per symbol row, the frame's figures
 * and two internal times, with the symbol index and the open cursors that must hear of every
 * change. Shared by the book, which writes rows, and its cursors, which gather them into frames.
 */
import { FRAME_COLUMNS } from '../../shared/frame.ts';
import type { Logger } from './log.ts';

export const INITIAL_CAPACITY = 64;
/** Frame columns; `BookStore.columns()` lists them first, in FRAME_COLUMNS order. */
export const COLUMNS = FRAME_COLUMNS.length;

/** The store's columns: the frame's, in FRAME_COLUMNS order, then the internal ones. */
const STORE_COLUMNS = [...FRAME_COLUMNS, 'dailyTime', 'prevTime'] as const;

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
  bidPrice = nanArray(INITIAL_CAPACITY);
  bidSize = nanArray(INITIAL_CAPACITY);
  askPrice = nanArray(INITIAL_CAPACITY);
  askSize = nanArray(INITIAL_CAPACITY);
  quoteTime = nanArray(INITIAL_CAPACITY);
  lastPrice = nanArray(INITIAL_CAPACITY);
  lastSize = nanArray(INITIAL_CAPACITY);
  tradeTime = nanArray(INITIAL_CAPACITY);
  volume = nanArray(INITIAL_CAPACITY);
  refPrice = nanArray(INITIAL_CAPACITY);
  receivedAt = nanArray(INITIAL_CAPACITY);
  prevClose = nanArray(INITIAL_CAPACITY);
  dayOpen = nanArray(INITIAL_CAPACITY);
  dayHigh = nanArray(INITIAL_CAPACITY);
  dayLow = nanArray(INITIAL_CAPACITY);
  polledAt = nanArray(INITIAL_CAPACITY);
  /** Not in frames: epoch ms of the start of the daily bar applied last; NaN = none. */
  dailyTime = nanArray(INITIAL_CAPACITY);
  /** Not in frames: epoch ms of the start of the day prevClose closed; NaN = none or rolled. */
  prevTime = nanArray(INITIAL_CAPACITY);
  /** Open cursors; replaced (never mutated) on open/close, so a notification may close one safely. */
  cursors: readonly RowListener[] = [];
  readonly now: () => number;
  readonly log: Logger;

  constructor(now: () => number, log: Logger) {
    this.now = now;
    this.log = log;
  }

  /** Every column, frame ones in FRAME_COLUMNS order, then the internal ones. */
  columns(): Float64Array[] {
    return STORE_COLUMNS.map((name) => this[name]);
  }

  /** Replaces every column (grow, reset), in the order columns() gives them. */
  setColumns(cols: readonly Float64Array[]): void {
    STORE_COLUMNS.forEach((name, k) => {
      this[name] = cols[k]!;
    });
  }

  grow(): void {
    const capacity = this.capacity * 2;
    this.setColumns(
      this.columns().map((old) => {
        const next = nanArray(capacity);
        next.set(old);
        return next;
      }),
    );
    this.capacity = capacity;
    for (const c of this.cursors) c.resize(capacity);
  }

  /** Drops every row and shrinks the storage back to its initial size. */
  reset(): void {
    this.index.clear();
    this.symbols.length = 0;
    this.size = 0;
    this.capacity = INITIAL_CAPACITY;
    this.setColumns(this.columns().map(() => nanArray(INITIAL_CAPACITY)));
  }

  /** Marks `row` changed for every open cursor. */
  touch(row: number): void {
    const cursors = this.cursors;
    for (let i = 0; i < cursors.length; i++) cursors[i]!.mark(row);
  }
}

export function nanArray(n: number): Float64Array {
  return new Float64Array(n).fill(Number.NaN);
}
