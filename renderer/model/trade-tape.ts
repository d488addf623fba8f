/**
 * The renderer's copy of the watched symbol's tape (Times & Sales), folded from `tape:watch`
 * answers and `tape:trades` events, outside React like the quote board: the store bumps one
 * counter per batch and the detail pane reads this when it draws (on the tape's clock,
 * renderer/tape-pace.ts).
 *
 * Rows are kept newest first, at most `capacity`, each numbered (`seq`, rising) so the chart can
 * fold the trades it has not seen yet, and marked up or down against the trade before it (a
 * trade at the same price keeps the previous trade's direction, as tapes usually show ticks).
 */
import type { TapeDay, TapeQuote, TapeTrade, TapeUpdate } from '../../shared/api.ts';
import type { Move } from './board.ts';

export const TAPE_ROWS = 200;

export interface TapeRow extends TapeTrade {
  /** Rises by one per trade folded into this tape. */
  readonly seq: number;
  /** Against the previous trade: 1 up, -1 down, 0 the first or no move seen yet. */
  readonly move: Move;
}

export class TradeTape {
  readonly capacity: number;
  #symbol: string | undefined;
  /** Newest first. */
  #rows: TapeRow[] = [];
  #seq = 0;
  #quote: TapeQuote | undefined;
  #day: TapeDay | undefined;
  /** Raised by `reset` and by an update that replaced the trades (the chart refolds). */
  #epoch = 0;

  constructor(capacity = TAPE_ROWS) {
    this.capacity = capacity;
  }

  get symbol(): string | undefined {
    return this.#symbol;
  }

  /** Newest first; do not mutate. */
  get rows(): readonly TapeRow[] {
    return this.#rows;
  }

  get quote(): TapeQuote | undefined {
    return this.#quote;
  }

  get day(): TapeDay | undefined {
    return this.#day;
  }

  /** The seq of the newest trade (0: none yet). */
  get seq(): number {
    return this.#seq;
  }

  /** Changes whenever the held trades were replaced rather than appended to. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Starts over for `symbol` (undefined: watch nothing). */
  reset(symbol: string | undefined): void {
    this.#symbol = symbol;
    this.#rows = [];
    this.#quote = undefined;
    this.#day = undefined;
    this.#epoch++;
  }

  /** Folds an update; false when it is about another symbol (a late batch of the previous one). */
  apply(update: TapeUpdate): boolean {
    if (update.symbol !== this.#symbol) return false;
    if (update.reset) {
      this.#rows = [];
      this.#epoch++;
    }
    if (update.trades.length > 0) {
      const added: TapeRow[] = [];
      let previous = this.#rows[0];
      for (const trade of update.trades) {
        const move: Move =
          previous === undefined || trade.price === previous.price
            ? (previous?.move ?? 0)
            : trade.price > previous.price
              ? 1
              : -1;
        const row: TapeRow = { ...trade, seq: ++this.#seq, move };
        added.push(row);
        previous = row;
      }
      added.reverse();
      const next = added.length >= this.capacity ? added : added.concat(this.#rows);
      this.#rows = next.length > this.capacity ? next.slice(0, this.capacity) : next;
    }
    if (update.quote !== undefined) this.#quote = update.quote;
    if (update.day !== undefined) this.#day = update.day;
    return true;
  }

  /** Trades newer than `seq`, oldest first (what the chart has not folded yet). */
  since(seq: number): TapeRow[] {
    const out: TapeRow[] = [];
    for (const row of this.#rows) {
      if (row.seq <= seq) break;
      out.push(row);
    }
    return out.reverse();
  }
}
