/**
 * msgpack plumbing shared by the client codec and the simulator. Alpaca sends timestamps as the
 * msgpack timestamp extension (type -1). msgpackr turns that into a `Date`, which keeps only
 * milliseconds; we register our own reader so that a timestamp becomes the same RFC 3339 string,
 * with all nine digits, that the JSON codec delivers. The registration is process-wide (msgpackr
 * keeps one extension table); nothing else in this process uses msgpackr's Date decoding.
 */
import { Packr, Unpackr, addExtension } from 'msgpackr';
import { formatEpoch } from '../../../shared/market.ts';

/** A timestamp to be written as the msgpack timestamp extension, with nanosecond precision. */
export class WireTimestamp {
  readonly seconds: number;
  readonly nanoseconds: number;
  constructor(seconds: number, nanoseconds: number) {
    this.seconds = seconds;
    this.nanoseconds = nanoseconds;
  }

  /** From RFC 3339 text; undefined when the text is not a timestamp. */
  static fromRfc3339(text: string): WireTimestamp | undefined {
    const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(
      text,
    );
    if (!m) return undefined;
    const ms = Date.parse(`${m[1]}${m[3]}`);
    if (Number.isNaN(ms)) return undefined;
    return new WireTimestamp(Math.floor(ms / 1000), Number((m[2] ?? '').padEnd(9, '0')));
  }
}

/** Encodes per the msgpack spec: timestamp 64 when seconds fit 34 bits, else timestamp 96. */
function packTimestamp(ts: WireTimestamp): Uint8Array {
  const { seconds, nanoseconds } = ts;
  if (seconds >= 0 && seconds < 2 ** 34) {
    const out = new Uint8Array(8);
    const view = new DataView(out.buffer);
    // upper 30 bits nanoseconds, lower 34 bits seconds
    const hi = nanoseconds * 4 + Math.floor(seconds / 2 ** 32);
    view.setUint32(0, hi >>> 0);
    view.setUint32(4, seconds >>> 0);
    return out;
  }
  const out = new Uint8Array(12);
  const view = new DataView(out.buffer);
  view.setUint32(0, nanoseconds >>> 0);
  view.setBigInt64(4, BigInt(seconds));
  return out;
}

/**
 * Decodes the three timestamp layouts into RFC 3339 text; undefined for a wrong length, nanoseconds
 * of a second or more, or a date outside what RFC 3339 years can say. Never throws: it runs inside
 * msgpackr's reader, where a throw would lose the whole frame instead of one item.
 */
export function unpackTimestamp(data: Uint8Array): string | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let seconds: number;
  let nanoseconds = 0;
  switch (data.byteLength) {
    case 4:
      seconds = view.getUint32(0);
      break;
    case 8: {
      const hi = view.getUint32(0);
      nanoseconds = Math.floor(hi / 4);
      seconds = (hi & 0x3) * 2 ** 32 + view.getUint32(4);
      break;
    }
    case 12:
      nanoseconds = view.getUint32(0);
      seconds = Number(view.getBigInt64(4));
      break;
    default:
      return undefined;
  }
  // Years 0000-9999: the range RFC 3339 text (and Date) can represent.
  if (nanoseconds >= 1e9 || seconds < -62_167_219_200 || seconds > 253_402_300_799)
    return undefined;
  return formatEpoch(seconds, nanoseconds);
}

/** Marker for a malformed timestamp extension; the validator reports it as a wrong field type. */
export const BAD_TIMESTAMP: unique symbol = Symbol('bad msgpack timestamp');

addExtension({
  Class: WireTimestamp,
  // The spec's type -1 is the byte 0xff; msgpackr keys its reader table by the unsigned byte.
  type: 0xff,
  pack: (value: WireTimestamp) => packTimestamp(value),
  unpack: (data: Uint8Array) => unpackTimestamp(data) ?? BAD_TIMESTAMP,
});

/** Decoder for frames from the server: plain objects, no msgpackr records. */
export const frameUnpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'number',
});

/** Encoder for frames we send (actions, and the simulator's data): standard msgpack only. */
export const framePackr = new Packr({ useRecords: false, variableMapSize: true });
