/**
 * Where each item of a batch lies in its frame, so that an invalid item's excerpt shows what was on
 * the wire rather than what the parser made of it: JSON.parse turns `1e400` into Infinity, which
 * prints as `null`, and msgpackr turns a broken timestamp into a marker that prints as nothing. Only
 * the invalid path comes here: the spans of a frame are found once, on its first invalid item, by
 * one pass over text or bytes the parser has already accepted (so the scanners need not be strict),
 * without recursion (a deeply nested item cannot overflow the stack).
 */
import { EXCERPT_LENGTH, detach } from './normalize.ts';

/**
 * [start, end) of each top-level item: the elements of an array frame, or the whole frame as one
 * item when it is a lone value (decoded as a batch of one).
 */
export function itemSpans(source: string | Uint8Array): number[] {
  return typeof source === 'string' ? jsonSpans(source) : msgpackSpans(source);
}

/** The excerpt of item `index`: raw JSON text, or the hex of its msgpack bytes. */
export function rawExcerpt(
  source: string | Uint8Array,
  spans: readonly number[],
  index: number,
): string {
  const start = spans[2 * index];
  const end = spans[2 * index + 1];
  if (start === undefined || end === undefined) return '';
  if (typeof source === 'string') {
    return detach(source.slice(start, Math.min(end, start + EXCERPT_LENGTH)));
  }
  return Buffer.from(
    source.buffer,
    source.byteOffset + start,
    Math.min(end - start, EXCERPT_LENGTH / 2),
  ).toString('hex');
}

function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function jsonSpans(text: string): number[] {
  const spans: number[] = [];
  const n = text.length;
  let p = 0;
  while (p < n && isWs(text.charCodeAt(p))) p++;
  if (text.charCodeAt(p) !== 91) {
    let e = n;
    while (e > p && isWs(text.charCodeAt(e - 1))) e--;
    spans.push(p, e);
    return spans;
  }
  p++;
  for (;;) {
    while (p < n && isWs(text.charCodeAt(p))) p++;
    if (p >= n || text.charCodeAt(p) === 93) return spans;
    const start = p;
    let depth = 0;
    // Up to the ',' or ']' that ends this element at the top level of the batch.
    for (; p < n; p++) {
      const c = text.charCodeAt(p);
      if (c === 34) {
        for (p++; p < n; p++) {
          const d = text.charCodeAt(p);
          if (d === 92) p++;
          else if (d === 34) break;
        }
      } else if (c === 123 || c === 91) {
        depth++;
      } else if (c === 125 || c === 93) {
        if (depth === 0) break;
        depth--;
      } else if (c === 44 && depth === 0) {
        break;
      }
    }
    let end = p;
    while (end > start && isWs(text.charCodeAt(end - 1))) end--;
    spans.push(start, end);
    if (p >= n || text.charCodeAt(p) === 93) return spans;
    p++; // the ','
  }
}

function msgpackSpans(bytes: Uint8Array): number[] {
  const spans: number[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tok = bytes[0] ?? 0;
  let count: number;
  let p: number;
  if (tok >= 0x90 && tok <= 0x9f) {
    count = tok - 0x90;
    p = 1;
  } else if (tok === 0xdc && bytes.length >= 3) {
    count = view.getUint16(1);
    p = 3;
  } else if (tok === 0xdd && bytes.length >= 5) {
    count = view.getUint32(1);
    p = 5;
  } else {
    spans.push(0, bytes.length);
    return spans;
  }
  for (let i = 0; i < count && p < bytes.length; i++) {
    const end = skipMsgpack(bytes, view, p);
    spans.push(p, end);
    p = end;
  }
  return spans;
}

/**
 * The offset just past the value at `start`, clamped to the end of the bytes (a header read past
 * the end throws a RangeError or reads undefined; the parser accepted these bytes, so neither is
 * expected, and either just ends the span at the end of the frame).
 */
function skipMsgpack(bytes: Uint8Array, view: DataView, start: number): number {
  const n = bytes.length;
  try {
    const p = skipFrom(bytes, view, start);
    return p <= n ? p : n;
  } catch {
    return n;
  }
}

function skipFrom(bytes: Uint8Array, view: DataView, start: number): number {
  const n = bytes.length;
  let p = start;
  let pending = 1; // values still to skip, children included
  while (pending > 0 && p < n) {
    pending--;
    const tok = bytes[p] as number;
    if (tok < 0x80 || tok >= 0xe0 || tok === 0xc0 || tok === 0xc1 || tok === 0xc2 || tok === 0xc3) {
      p += 1;
    } else if (tok <= 0x8f) {
      pending += 2 * (tok - 0x80);
      p += 1;
    } else if (tok <= 0x9f) {
      pending += tok - 0x90;
      p += 1;
    } else if (tok <= 0xbf) {
      p += 1 + (tok - 0xa0);
    } else {
      switch (tok) {
        case 0xc4: // bin8, str8
        case 0xd9:
          p += 2 + (bytes[p + 1] as number);
          break;
        case 0xc5: // bin16, str16
        case 0xda:
          p += 3 + view.getUint16(p + 1);
          break;
        case 0xc6: // bin32, str32
        case 0xdb:
          p += 5 + view.getUint32(p + 1);
          break;
        case 0xc7: // ext8
          p += 3 + (bytes[p + 1] as number);
          break;
        case 0xc8: // ext16
          p += 4 + view.getUint16(p + 1);
          break;
        case 0xc9: // ext32
          p += 6 + view.getUint32(p + 1);
          break;
        case 0xca:
          p += 5;
          break;
        case 0xcb:
          p += 9;
          break;
        case 0xcc:
        case 0xd0:
          p += 2;
          break;
        case 0xcd:
        case 0xd1:
          p += 3;
          break;
        case 0xce:
        case 0xd2:
          p += 5;
          break;
        case 0xcf:
        case 0xd3:
          p += 9;
          break;
        case 0xd4: // fixext 1, 2, 4, 8, 16 (type byte + data)
          p += 3;
          break;
        case 0xd5:
          p += 4;
          break;
        case 0xd6:
          p += 6;
          break;
        case 0xd7:
          p += 10;
          break;
        case 0xd8:
          p += 18;
          break;
        case 0xdc:
          pending += view.getUint16(p + 1);
          p += 3;
          break;
        case 0xdd:
          pending += view.getUint32(p + 1);
          p += 5;
          break;
        case 0xde:
          pending += 2 * view.getUint16(p + 1);
          p += 3;
          break;
        case 0xdf:
          pending += 2 * view.getUint32(p + 1);
          p += 5;
          break;
        default:
          p += 1;
      }
    }
  }
  return p;
}
