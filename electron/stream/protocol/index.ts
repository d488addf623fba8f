/**
 * The Alpaca stream codec: frame decoding with per-item validation and normalization into the
 * domain messages of shared/market.ts, and action / server-frame encoding, in JSON and msgpack.
 */
export { decodeFrame, decodeToArray, normalizeItem, INVALID_REASONS } from './decode.ts';
export type { FrameData, FrameSink, InvalidItem, InvalidReason } from './decode.ts';
export {
  actionByteLength,
  decodeClientAction,
  encodeAction,
  encodeServerFrame,
  encodeServerItem,
  joinServerItems,
} from './encode.ts';
export type { ChannelDelta, ClientAction, DecodedClientAction } from './encode.ts';
export { BAD_TIMESTAMP, WireTimestamp, frameUnpackr, framePackr } from './msgpack.ts';
