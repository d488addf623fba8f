/**
 * QuoteFrame: what changed since a view's previous frame, latest value per symbol, as columns.
 * Columns (one typed array per field) clone in one memcpy each under structured clone, where an
 * array of objects costs a property walk per quote; and they encode to one binary message for the
 * browser-mode bridge. NaN means "no value yet" in every number column.
 */

export interface QuoteFrame {
  /** Per view: 1, 2, 3, ... A gap means a bug, never flow control (conflation keeps the latest). */
  readonly seq: number;
  /** Epoch ms when main built the frame. */
  readonly builtAt: number;
  /** Quote and trade updates folded into a newer one since the previous frame of this view. */
  readonly conflated: number;
  /** Whether this frame carries every known symbol (the first one, or after a reset). */
  readonly full: boolean;
  /** Symbols, one per row; row i of every column belongs to symbols[i]. */
  readonly symbols: readonly string[];
  readonly bidPrice: Float64Array;
  readonly bidSize: Float64Array;
  readonly askPrice: Float64Array;
  readonly askSize: Float64Array;
  /** Epoch ms of the exchange timestamp of the latest quote. */
  readonly quoteTime: Float64Array;
  readonly lastPrice: Float64Array;
  readonly lastSize: Float64Array;
  /** Epoch ms of the exchange timestamp of the latest trade. */
  readonly tradeTime: Float64Array;
  /** Day volume from the latest daily bar plus trades since, else trades seen since subscribing. */
  readonly volume: Float64Array;
  /**
   * What `change` is measured against: the previous session's close where known (from a snapshot,
   * rolled forward when a new session starts), else the day's open, else the first trade seen.
   */
  readonly refPrice: Float64Array;
  /** Epoch ms when main received the newest update of the row (socket-to-screen latency). */
  readonly receivedAt: Float64Array;
  /** The previous regular session's close (a snapshot's `prevDailyBar.c`); NaN when unknown. */
  readonly prevClose: Float64Array;
  /** The day's open, high and low (the daily bar, widened by trades since). */
  readonly dayOpen: Float64Array;
  readonly dayHigh: Float64Array;
  readonly dayLow: Float64Array;
  /**
   * Epoch ms of the snapshot that last filled a row the stream does not carry (over the plan's
   * symbol limit, or while the stream is down): the row is polled and this is its age's origin.
   * NaN for a streamed row.
   */
  readonly polledAt: Float64Array;
}

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

/** The columns of a frame from an array in FRAME_COLUMNS order (a missing one is an empty array). */
export function frameColumns(columns: readonly Float64Array[]): Pick<QuoteFrame, FrameColumn> {
  const out = {} as Record<FrameColumn, Float64Array>;
  FRAME_COLUMNS.forEach((name, k) => {
    out[name] = columns[k] ?? new Float64Array(0);
  });
  return out;
}
