/**
 * Reads a view's frames back into a symbol-per-row shape for assertions: frames name symbols by
 * id (shared/frame.ts), so a test keeps one reader per view, in frame order, as a page keeps its
 * symbol table. The reader throws where a page would only skip a row: an id it was never told.
 */
import {
  FRAME_COLUMNS,
  frameColumn,
  SymbolTable,
  type FrameColumn,
  type QuoteFrame,
} from '../../shared/frame.ts';

/** A frame with its ids resolved and its values split into named columns (views, not copies). */
export type ReadFrame = Pick<QuoteFrame, 'seq' | 'builtAt' | 'conflated' | 'full'> & {
  readonly symbols: readonly string[];
} & Readonly<Record<FrameColumn, Float64Array>>;

export class FrameReader {
  readonly table = new SymbolTable();

  /** Learns `frame` (frames of one view, in order) and resolves it. */
  read(frame: QuoteFrame): ReadFrame {
    this.table.learn(frame);
    const symbols = Array.from(frame.rows, (id, i) => {
      const symbol = this.table.symbolOf(id);
      if (symbol === undefined) throw new Error(`frame ${frame.seq} row ${i}: unknown id ${id}`);
      return symbol;
    });
    const columns = Object.fromEntries(
      FRAME_COLUMNS.map((name) => [name, frameColumn(frame, name)]),
    ) as Record<FrameColumn, Float64Array>;
    return {
      seq: frame.seq,
      builtAt: frame.builtAt,
      conflated: frame.conflated,
      full: frame.full,
      symbols,
      ...columns,
    };
  }
}

/** One frame read on its own: for a full frame, or one built by buildFrame (self-contained). */
export function readFrame(frame: QuoteFrame): ReadFrame {
  return new FrameReader().read(frame);
}
