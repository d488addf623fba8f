/**
 * One view's frames as main's cursor builds them (electron/stream/book-cursor.ts), for board and
 * store tests that cannot load the book itself: a symbol's id is its row number in order of first
 * appearance, each frame names the symbols the view was not told yet, and a full frame (the first,
 * and the first after a resync) carries every row and names every symbol from id 0.
 */
import { FRAME_COLUMNS, type QuoteFrame } from '../../shared/frame.ts';
import { T0 } from './fake-api.ts';

const BID = FRAME_COLUMNS.indexOf('bidPrice');

export class ViewFrames {
  readonly #symbols: string[] = [];
  readonly #ids = new Map<string, number>();
  /** Latest bid per id. */
  readonly #bids: number[] = [];
  #told = 0;
  #seq = 0;
  #full = true;

  /** What 'frames:resync' does to the cursor: the next frame is full. */
  resync(): void {
    this.#full = true;
  }

  /** The next frame: the rows of `updates` ([symbol, bid], new symbols get the next id). */
  take(updates: readonly (readonly [symbol: string, bid: number])[] = []): QuoteFrame {
    const changed: number[] = [];
    for (const [symbol, bid] of updates) {
      let id = this.#ids.get(symbol);
      if (id === undefined) {
        id = this.#symbols.length;
        this.#ids.set(symbol, id);
        this.#symbols.push(symbol);
      }
      this.#bids[id] = bid;
      if (!changed.includes(id)) changed.push(id);
    }
    const full = this.#full;
    const ids = full ? this.#symbols.map((_s, id) => id) : changed;
    const n = ids.length;
    const values = new Float64Array(n * FRAME_COLUMNS.length).fill(NaN);
    ids.forEach((id, i) => (values[BID * n + i] = this.#bids[id]!));
    const base = full ? 0 : this.#told;
    this.#told = this.#symbols.length;
    this.#full = false;
    return {
      seq: ++this.#seq,
      builtAt: T0,
      conflated: 0,
      full,
      rows: Int32Array.from(ids),
      symbolBase: base,
      newSymbols: this.#symbols.slice(base),
      values,
    };
  }
}
