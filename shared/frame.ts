/**
 * QuoteFrame: what changed since a view's previous frame, latest value per symbol, as one
 * column-major block of numbers plus symbol ids. A frame names a symbol by a small integer id; the
 * symbol strings themselves travel once per view, in the first frame that uses each id (and in
 * every `full` frame, which starts the view's table afresh). Cloning 500 short strings per frame
 * cost about half of a frame's structured clone (BENCHMARKS.md, frames); the ids ride in the
 * values' buffer, 4 bytes a row. NaN means "no value yet" in every column.
 *
 * The view side keeps the id -> symbol table: SymbolTable below, or its own equivalent (the
 * renderer's QuoteBoard keeps an id -> row table).
 */

export interface QuoteFrame {
  /**
   * Per view: 1, 2, 3, ... A gap means a bug, never flow control (conflation keeps the latest):
   * the view asks for a full frame ('frames:resync') to learn what the lost one named.
   */
  readonly seq: number;
  /** Epoch ms when main built the frame. */
  readonly builtAt: number;
  /** Quote and trade updates folded into a newer one since the previous frame of this view. */
  readonly conflated: number;
  /**
   * Whether this frame carries every known symbol (the first one, or after a reset). It also
   * restarts the view's symbol table: ids from before it mean nothing any more.
   */
  readonly full: boolean;
  /** Per row, the id of its symbol in the view's table (see newSymbols). */
  readonly rows: Int32Array;
  /** The id of newSymbols[0]. */
  readonly symbolBase: number;
  /**
   * The symbols of ids symbolBase, symbolBase + 1, ...: the ones this frame is the first to name
   * (after a full frame's reset, all of them). An id keeps its symbol until the next full frame;
   * naming an id again with the same symbol is allowed. '' stands for a symbol the transport could
   * not carry (frame-codec.ts): rows with that id are to be ignored.
   */
  readonly newSymbols: readonly string[];
  /**
   * The rows' values, column-major in FRAME_COLUMNS order: column k of row i is at
   * `k * rows.length + i` (frameColumn() gives one column as a view).
   */
  readonly values: Float64Array;
}

/**
 * The columns, in their order within `values`. What each holds:
 * - bidPrice, bidSize, askPrice, askSize; quoteTime: epoch ms of the latest quote's exchange time;
 * - lastPrice, lastSize; tradeTime: epoch ms of the latest trade's exchange time;
 * - volume: day volume from the latest daily bar plus trades since, else trades seen since
 *   subscribing;
 * - refPrice: what `change` is measured against: the previous session's close where known (from a
 *   snapshot, rolled forward when a new session starts), else the day's open, else the first trade;
 * - receivedAt: epoch ms when main received the newest update of the row (socket-to-screen);
 * - prevClose: the previous regular session's close (a snapshot's `prevDailyBar.c`), NaN unknown;
 * - dayOpen, dayHigh, dayLow: the daily bar, widened by trades since;
 * - polledAt: epoch ms of the snapshot that last filled a row the stream does not carry (over the
 *   plan's symbol limit, or while the stream is down): its age's origin. NaN for a streamed row.
 */
export const FRAME_COLUMNS = [
  'bidPrice',
  'bidSize',
  'askPrice',
  'askSize',
  'quoteTime',
  'lastPrice',
  'lastSize',
  'tradeTime',
  'volume',
  'refPrice',
  'receivedAt',
  'prevClose',
  'dayOpen',
  'dayHigh',
  'dayLow',
  'polledAt',
] as const;
export type FrameColumn = (typeof FRAME_COLUMNS)[number];

/** Each column's index k in `values` (column k of row i is at k * rows + i). */
export const COLUMN_INDEX: Readonly<Record<FrameColumn, number>> = Object.fromEntries(
  FRAME_COLUMNS.map((name, k) => [name, k]),
) as Record<FrameColumn, number>;

/** One column of `frame` as a view into its values (no copy). */
export function frameColumn(frame: QuoteFrame, column: FrameColumn): Float64Array {
  const n = frame.rows.length;
  const at = COLUMN_INDEX[column] * n;
  return frame.values.subarray(at, at + n);
}

/** Why `frame`'s shape is inconsistent (values length, ids, symbolBase), or undefined when sound. */
export function frameProblem(frame: QuoteFrame): string | undefined {
  const n = frame.rows.length;
  if (frame.values.length !== n * FRAME_COLUMNS.length) {
    return `${frame.values.length} values for ${n} rows of ${FRAME_COLUMNS.length} columns`;
  }
  if (!Number.isSafeInteger(frame.symbolBase) || frame.symbolBase < 0) {
    return `symbolBase must be a non-negative integer, got ${String(frame.symbolBase)}`;
  }
  for (let i = 0; i < n; i++) {
    if (frame.rows[i]! < 0) return `row ${i} has a negative symbol id ${frame.rows[i]!}`;
  }
  return undefined;
}

/**
 * A view's id -> symbol table. learn() each frame in order, before reading its rows. A frame whose
 * rows use an id the table never learned (a frame lost in between) resolves those rows to
 * undefined: the caller skips them, and the next full frame heals the table (a view asks for one
 * with 'frames:resync').
 */
export class SymbolTable {
  #symbols: string[] = [];

  /**
   * Takes in `frame`'s new symbols (after dropping everything when the frame is full). Returns
   * false when it cannot: symbolBase lies past the table's end, so a frame naming the ids in
   * between was lost, and these new ids stay unknown too (filling the gap would let one bad
   * symbolBase, up to 2^31, allocate without bound).
   */
  learn(frame: QuoteFrame): boolean {
    if (frame.full) this.#symbols = [];
    const table = this.#symbols;
    const base = frame.symbolBase;
    if (base > table.length) return false;
    const fresh = frame.newSymbols;
    for (let j = 0; j < fresh.length; j++) {
      if (base + j === table.length) table.push(fresh[j]!);
      else table[base + j] = fresh[j]!;
    }
    return true;
  }

  /** The symbol of `id`, or undefined when unknown (never learned, or not carried). */
  symbolOf(id: number): string | undefined {
    const symbol = this.#symbols[id];
    return symbol === '' ? undefined : symbol;
  }

  /** Row by row, the symbols of a frame learned last (undefined where unknown). */
  symbolsOf(frame: QuoteFrame): (string | undefined)[] {
    return Array.from(frame.rows, (id) => this.symbolOf(id));
  }

  /** Ids named since the last full frame (including '' ones). */
  get size(): number {
    return this.#symbols.length;
  }
}

/** One row of `buildFrame`: its symbol and the values it has (others NaN). */
export interface FrameRowInput {
  readonly symbol: string;
  readonly values?: Partial<Record<FrameColumn, number>>;
}

/** Ids for `buildFrame`: symbol -> id, shared by every frame of one view. */
export class SymbolIds {
  readonly #ids = new Map<string, number>();
  readonly #symbols: string[] = [];

  idOf(symbol: string): number {
    let id = this.#ids.get(symbol);
    if (id === undefined) {
      id = this.#symbols.length;
      this.#ids.set(symbol, id);
      this.#symbols.push(symbol);
    }
    return id;
  }

  symbolOf(id: number): string | undefined {
    return this.#symbols[id];
  }
}

/** The ids every buildFrame call without its own SymbolIds shares (stable for the process). */
const processIds = new SymbolIds();

/**
 * A frame from symbol-keyed rows, for tools and tests that have no book. Self-contained: it names
 * every id from 0 to the highest it uses (re-naming is allowed), so any reader decodes it whatever
 * frames it saw before. Ids come from `ids` (default: one table for the whole process).
 */
export function buildFrame(
  header: {
    readonly seq: number;
    readonly builtAt: number;
    readonly conflated?: number;
    readonly full?: boolean;
  },
  input: readonly FrameRowInput[],
  ids: SymbolIds = processIds,
): QuoteFrame {
  const n = input.length;
  const rows = new Int32Array(n);
  const values = new Float64Array(n * FRAME_COLUMNS.length).fill(Number.NaN);
  let high = -1;
  input.forEach((row, i) => {
    const id = ids.idOf(row.symbol);
    rows[i] = id;
    high = Math.max(high, id);
    FRAME_COLUMNS.forEach((name, k) => {
      const v = row.values?.[name];
      if (v !== undefined) values[k * n + i] = v;
    });
  });
  const newSymbols: string[] = [];
  for (let id = 0; id <= high; id++) newSymbols.push(ids.symbolOf(id)!);
  return {
    seq: header.seq,
    builtAt: header.builtAt,
    conflated: header.conflated ?? 0,
    full: header.full ?? false,
    rows,
    symbolBase: 0,
    newSymbols,
    values,
  };
}
