/**
 * Frame decoding: turns one WebSocket message from the Alpaca stream (JSON text, or msgpack binary)
 * into domain messages delivered to a sink, item by item, in wire order. Bad input of any kind is
 * reported to the sink as an InvalidItem and never throws; a bad item does not cost the rest of its
 * batch. Exceptions thrown by the sink itself propagate to the caller.
 *
 * Decisions where the protocol is silent:
 * - `[]` is a valid empty batch: zero messages, nothing invalid.
 * - A lone object (Alpaca always sends arrays) is reported as 'not-array' and then still decoded as
 *   a batch of one, so no data is lost to a server that skips the brackets.
 * - Whitespace-only text and zero-length binary are 'empty-frame'.
 * - Ids above 2^53 sent as numbers are rounded by JSON.parse (and by an unpackr that reads int64 as
 *   a double). When an item shows such an id, the frame is decoded again exactly (JSON.parse's
 *   source-text reviver; a bigint-reading unpackr) from that item on. Only those frames pay.
 */
import { C1, Unpackr } from 'msgpackr';
import type { Codec, MarketMessage } from '../../../shared/market.ts';
import { fastDecodeJson } from './fast-json.ts';
import { fastDecodeMsgpack } from './fast-msgpack.ts';
import { frameUnpackr } from './msgpack.ts';
import type { FrameSink, InvalidItem, InvalidReason } from './normalize.ts';
import { EXCERPT_LENGTH, detach, idPrecision, normalize } from './normalize.ts';
import { itemSpans, rawExcerpt } from './raw-items.ts';

export { INVALID_REASONS, normalizeItem } from './normalize.ts';
export type { FrameSink, InvalidItem, InvalidReason } from './normalize.ts';

/** What the ws library hands to a 'message' listener, plus plain text. */
export type FrameData = string | Buffer | ArrayBuffer | Buffer[];

export type ParsedFrame =
  | {
      readonly ok: true;
      readonly value: unknown;
      /** The JSON text or msgpack bytes, kept for an exact re-decode. */
      readonly source: string | Buffer;
    }
  | {
      readonly ok: false;
      readonly reason: Extract<InvalidReason, 'empty-frame' | 'corrupt-json' | 'corrupt-msgpack'>;
      readonly detail: string;
      readonly excerpt: string;
    };

/** Reads int64 as bigint, so ids past 2^53 stay exact; used only to re-decode such frames. */
const exactUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });

const ID_KEYS = new Set(['i', 'oi', 'ci', 'id']);

/** JSON.parse reviver (Node >= 21: third argument with the source text) keeping big ids exact. */
function exactIdReviver(key: string, value: unknown, context?: { source?: string }): unknown {
  if (
    typeof value === 'number' &&
    (value > Number.MAX_SAFE_INTEGER || value < -Number.MAX_SAFE_INTEGER) &&
    ID_KEYS.has(key) &&
    typeof context?.source === 'string'
  ) {
    return context.source;
  }
  return value;
}

function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (Array.isArray(data)) {
    if (data.length === 1 && Buffer.isBuffer(data[0])) return data[0];
    return Buffer.concat(data as Uint8Array[]);
  }
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`unsupported frame data: ${data === null ? 'null' : typeof data}`);
}

function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : 'unknown error';
  return text.length > 160 ? text.slice(0, 160) : text;
}

function textExcerpt(text: string): string {
  return detach(text.length > EXCERPT_LENGTH ? text.slice(0, EXCERPT_LENGTH) : text);
}

function bytesExcerpt(bytes: Buffer): string {
  return bytes.subarray(0, EXCERPT_LENGTH / 2).toString('hex');
}

/**
 * One frame to its parsed value, never throwing. A text frame is always JSON; a binary frame is
 * msgpack under the msgpack codec and UTF-8 JSON under the json codec (ws delivers some servers'
 * text as binary).
 */
export function parseFrame(data: FrameData, isBinary: boolean, codec: Codec): ParsedFrame {
  if (data === null || data === undefined) {
    return { ok: false, reason: 'empty-frame', detail: 'no frame data', excerpt: '' };
  }
  let text: string | undefined;
  let bytes: Buffer | undefined;
  try {
    if (typeof data === 'string') {
      text = data;
      return { ok: true, value: JSON.parse(text), source: text };
    }
    bytes = toBuffer(data);
    if (isBinary && codec === 'msgpack') {
      if (bytes.length === 0) {
        return {
          ok: false,
          reason: 'empty-frame',
          detail: 'zero-length binary frame',
          excerpt: '',
        };
      }
      const value: unknown = frameUnpackr.unpack(bytes);
      // msgpackr turns the reserved byte 0xc1 into a marker object instead of failing.
      if (value === C1) {
        return {
          ok: false,
          reason: 'corrupt-msgpack',
          detail: 'frame is the reserved byte 0xc1',
          excerpt: bytesExcerpt(bytes),
        };
      }
      return { ok: true, value, source: bytes };
    }
    text = bytes.toString('utf8');
    return { ok: true, value: JSON.parse(text), source: text };
  } catch (err) {
    if (text !== undefined) {
      if (text.trim().length === 0) {
        return { ok: false, reason: 'empty-frame', detail: 'empty text frame', excerpt: '' };
      }
      return {
        ok: false,
        reason: 'corrupt-json',
        detail: `frame is not JSON: ${messageOf(err)}`,
        excerpt: textExcerpt(text),
      };
    }
    if (bytes !== undefined) {
      return {
        ok: false,
        reason: 'corrupt-msgpack',
        detail: `frame is not msgpack: ${messageOf(err)}`,
        excerpt: bytesExcerpt(bytes),
      };
    }
    return {
      ok: false,
      reason: isBinary && codec === 'msgpack' ? 'corrupt-msgpack' : 'corrupt-json',
      detail: messageOf(err),
      excerpt: '',
    };
  }
}

/** The frame decoded again with exact big ids, or undefined if that fails (then ids stay rounded). */
function redecodeExact(source: string | Buffer): unknown[] | undefined {
  let value: unknown;
  try {
    value =
      typeof source === 'string' ? JSON.parse(source, exactIdReviver) : exactUnpackr.unpack(source);
  } catch {
    return undefined;
  }
  return Array.isArray(value) ? (value as unknown[]) : [value];
}

/**
 * The sink normalize reports to on the generic path: an invalid item's excerpt is replaced by the
 * item's own text or bytes from the frame (raw-items.ts), found on the frame's first invalid item.
 */
class RawExcerptSink implements FrameSink {
  readonly #sink: FrameSink;
  readonly #source: string | Buffer;
  #spans: number[] | undefined;
  index = 0;

  constructor(sink: FrameSink, source: string | Buffer) {
    this.#sink = sink;
    this.#source = source;
  }

  message(msg: MarketMessage): void {
    this.#sink.message(msg);
  }

  invalid(item: InvalidItem): void {
    this.#spans ??= itemSpans(this.#source);
    const excerpt = rawExcerpt(this.#source, this.#spans, this.index);
    this.#sink.invalid({
      reason: item.reason,
      detail: item.detail,
      excerpt: excerpt || item.excerpt,
    });
  }
}

function deliver(batch: unknown[], source: string | Buffer, sink: FrameSink): number {
  let items = batch;
  let exact = false;
  let delivered = 0;
  const reports = new RawExcerptSink(sink, source);
  for (let i = 0; i < items.length; i++) {
    idPrecision.lost = false;
    reports.index = i;
    let msg = normalize(items[i], reports);
    if (msg === undefined) continue;
    if (idPrecision.lost && !exact) {
      exact = true;
      const again = redecodeExact(source);
      if (again !== undefined && again.length === items.length) {
        items = again;
        msg = normalize(items[i], reports) ?? msg;
      }
    }
    sink.message(msg);
    delivered++;
  }
  return delivered;
}

/**
 * Decodes one frame into the sink and returns how many messages it delivered. Never throws because
 * of its input; exceptions thrown by the sink propagate (the caller isolates its own handlers).
 *
 * Frames made only of quotes, trades and bars (nearly all of them at feed rate) take a fused fast
 * path (fast-msgpack.ts, fast-json.ts) that reads the bytes once and builds the domain messages directly, with
 * output identical to the generic path; it hands anything else back untouched, and the generic
 * path (parse, then normalize per item) decodes and reports it as before.
 */
export function decodeFrame(
  data: FrameData,
  isBinary: boolean,
  codec: Codec,
  sink: FrameSink,
): number {
  // Text given as a string (tests, tools) stays on the generic path: encoding it to bytes first
  // would cost more than the fast path saves.
  if (typeof data !== 'string' && data !== null && data !== undefined) {
    let bytes: Buffer | undefined;
    try {
      bytes = toBuffer(data);
    } catch {
      bytes = undefined; // parseFrame reports it
    }
    if (bytes !== undefined) {
      const n =
        isBinary && codec === 'msgpack'
          ? fastDecodeMsgpack(bytes, sink)
          : fastDecodeJson(bytes, sink);
      if (n >= 0) return n;
      data = bytes; // a Buffer[] is not concatenated twice
    }
  }
  const parsed = parseFrame(data, isBinary, codec);
  if (!parsed.ok) {
    sink.invalid({ reason: parsed.reason, detail: parsed.detail, excerpt: parsed.excerpt });
    return 0;
  }
  const value = parsed.value;
  if (Array.isArray(value)) return deliver(value, parsed.source, sink);
  const excerpt =
    typeof parsed.source === 'string' ? textExcerpt(parsed.source) : bytesExcerpt(parsed.source);
  if (typeof value === 'object' && value !== null) {
    sink.invalid({
      reason: 'not-array',
      detail: 'frame is a lone object, not an array; decoded as a batch of one',
      excerpt,
    });
    return deliver([value], parsed.source, sink);
  }
  const what = value === null ? 'null' : typeof value;
  sink.invalid({ reason: 'not-array', detail: `frame is ${what}, not an array`, excerpt });
  return 0;
}

/** decodeFrame collected into arrays, for tests and tools. */
export function decodeToArray(
  data: FrameData,
  isBinary: boolean,
  codec: Codec,
): { messages: MarketMessage[]; invalid: InvalidItem[] } {
  const messages: MarketMessage[] = [];
  const invalid: InvalidItem[] = [];
  decodeFrame(data, isBinary, codec, {
    message: (msg) => messages.push(msg),
    invalid: (item) => invalid.push(item),
  });
  return { messages, invalid };
}
