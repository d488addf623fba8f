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
  /** What `change` is measured against: the daily bar's open where known, else the first trade seen. */
  readonly refPrice: Float64Array;
  /** Epoch ms when main received the newest update of the row (socket-to-screen latency). */
  readonly receivedAt: Float64Array;
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
] as const;
export type FrameColumn = (typeof FRAME_COLUMNS)[number];
