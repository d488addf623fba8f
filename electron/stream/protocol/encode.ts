/**
 * Encoding for both directions of the Alpaca stream. Client side: auth / subscribe / unsubscribe
 * actions, each ONE object (never an array), in JSON text or msgpack binary. Server side, for the
 * simulator: data frames written the way Alpaca writes them (a JSON array; or msgpack with
 * timestamps as the timestamp extension), and a never-throwing reader for client actions.
 */
import type { Channel, Codec } from '../../../shared/market.ts';
import { CHANNELS } from '../../../shared/market.ts';
import type { FrameData } from './decode.ts';
import { parseFrame } from './decode.ts';
import { WireTimestamp, framePackr } from './msgpack.ts';

/** Symbols to add or remove per channel: subscriptions are deltas. */
export type ChannelDelta = Partial<Record<Channel, readonly string[]>>;

export type ClientAction =
  | { readonly action: 'auth'; readonly key: string; readonly secret: string }
  | ({ readonly action: 'subscribe' | 'unsubscribe' } & ChannelDelta);

/** The wire object: channels in CHANNELS order, empty or absent lists left out. */
function wireAction(action: ClientAction): Record<string, unknown> {
  if (action.action === 'auth') {
    return { action: 'auth', key: action.key, secret: action.secret };
  }
  const out: Record<string, unknown> = { action: action.action };
  for (const channel of CHANNELS) {
    const symbols = action[channel];
    if (symbols !== undefined && symbols.length > 0) out[channel] = symbols;
  }
  return out;
}

/** JSON text, or a msgpack binary frame. */
export function encodeAction(action: ClientAction, codec: Codec): string | Buffer {
  const wire = wireAction(action);
  return codec === 'msgpack' ? framePackr.pack(wire) : JSON.stringify(wire);
}

/**
 * UTF-8 size of the action's JSON form. The server's limit is on that form, so the subscription
 * planner chunks by it whatever the codec (msgpack is never larger).
 */
export function actionByteLength(action: ClientAction): number {
  return Buffer.byteLength(JSON.stringify(wireAction(action)), 'utf8');
}

const TIMESTAMP_KEYS = ['t', 'created_at', 'updated_at'] as const;

/** Cheap pre-check before the full parse in WireTimestamp.fromRfc3339. */
function looksLikeTime(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 20 && v.charCodeAt(10) === 84; // 'T'
}

/**
 * Integer fields that can pass 2^32: trade ids, volumes, trade counts. msgpackr writes a JS
 * number beyond 32 bits as float64, which strict decoders refuse for an integer field (the Go
 * SDK reads `i` with DecodeInt64); as a bigint it goes out as the int64 / uint64 Alpaca sends.
 */
const WIDE_INTEGER_KEYS = ['i', 'oi', 'ci', 'v', 'n'] as const;

/**
 * The item as Alpaca writes it in msgpack: RFC 3339 strings as the timestamp extension, wide
 * integers as 64-bit integers. Copied only if something changes.
 */
function withWireTimestamps(item: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key of TIMESTAMP_KEYS) {
    const value = item[key];
    if (!looksLikeTime(value)) continue;
    const ts = WireTimestamp.fromRfc3339(value);
    if (ts === undefined) continue;
    out ??= { ...item };
    out[key] = ts;
  }
  for (const key of WIDE_INTEGER_KEYS) {
    const value = item[key];
    if (typeof value !== 'number' || value <= 0xffffffff || !Number.isSafeInteger(value)) continue;
    out ??= { ...item };
    out[key] = BigInt(value);
  }
  return out ?? item;
}

type RawJson = (text: string) => unknown;
const rawJSON = (JSON as unknown as { rawJSON?: RawJson }).rawJSON;

/** Writes a bigint as a bare JSON number with every digit, as Alpaca sends big crypto trade ids. */
function bigintReplacer(_key: string, value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  return rawJSON === undefined ? value.toString() : rawJSON(value.toString());
}

/**
 * A server data frame: a JSON array; or a msgpack array in which every RFC 3339 string under the
 * top-level keys 't', 'created_at', 'updated_at' is written as the timestamp extension. Bigint
 * values become exact JSON numbers (or msgpack int64). Throws only on unencodable input (cycles),
 * which is the simulator's own bug.
 */
export function encodeServerFrame(
  items: readonly Record<string, unknown>[],
  codec: Codec,
): string | Buffer {
  if (codec === 'msgpack') {
    const wire: Record<string, unknown>[] = new Array<Record<string, unknown>>(items.length);
    for (let i = 0; i < items.length; i++) wire[i] = withWireTimestamps(items[i] ?? {});
    return framePackr.pack(wire);
  }
  try {
    return JSON.stringify(items);
  } catch (err) {
    // The common case stays on the fast path without a replacer; bigints are rare.
    if (!(err instanceof TypeError)) throw err;
    return JSON.stringify(items, bigintReplacer);
  }
}

/**
 * One server item on its own, for a server that sends the same item to many clients in frames of
 * different makeup (the relay): JSON text of the object, or its msgpack bytes with the wire
 * timestamps. `joinServerItems` makes a frame of such parts without encoding anything again.
 */
export function encodeServerItem(item: Record<string, unknown>, codec: Codec): string | Buffer {
  if (codec === 'msgpack') return framePackr.pack(withWireTimestamps(item));
  try {
    return JSON.stringify(item);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return JSON.stringify(item, bigintReplacer);
  }
}

/**
 * A frame of items each made by `encodeServerItem` in the same codec: a JSON array of the texts,
 * or a msgpack array header followed by the items' bytes (what packing the array would write).
 */
export function joinServerItems(
  parts: readonly (string | Buffer)[],
  codec: Codec,
): string | Buffer {
  if (codec === 'json') return `[${parts.join(',')}]`;
  const n = parts.length;
  let header: Buffer;
  if (n < 16) {
    header = Buffer.from([0x90 | n]);
  } else if (n < 0x10000) {
    header = Buffer.from([0xdc, n >> 8, n & 0xff]);
  } else {
    header = Buffer.alloc(5);
    header[0] = 0xdd;
    header.writeUInt32BE(n, 1);
  }
  return Buffer.concat([header, ...(parts as Buffer[])]);
}

export type DecodedClientAction =
  | { readonly ok: true; readonly action: Record<string, unknown> }
  | { readonly ok: false; readonly reason: string };

/**
 * A client message as the simulator receives it: one object with a string `action`. Anything else
 * gets a reason (the simulator answers 400 invalid syntax). Never throws.
 */
export function decodeClientAction(
  data: FrameData,
  isBinary: boolean,
  codec: Codec,
): DecodedClientAction {
  const parsed = parseFrame(data, isBinary, codec);
  if (!parsed.ok) return { ok: false, reason: `${parsed.reason}: ${parsed.detail}` };
  const value = parsed.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'not-object: an action is one object' };
  }
  const action = value as Record<string, unknown>;
  if (typeof action.action !== 'string') {
    return { ok: false, reason: 'missing-action: no string "action" field' };
  }
  return { ok: true, action };
}
