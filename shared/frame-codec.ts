/**
 * Binary encoding of a QuoteFrame, for the browser-mode WebSocket bridge (Electron windows get
 * frames over a MessagePort by structured clone and need none of this). Columns travel as raw
 * little-endian float64s: no per-number text, NaN survives, and decoding is a few header reads
 * plus, where the bytes are 8-aligned, Float64Array views with no copy at all.
 *
 * Layout, version 2 (all numbers little-endian; version 1 had the first 11 columns only):
 *
 *   offset  size  field
 *   0       4     magic "MMQF" (4D 4D 51 46)
 *   4       2     u16 version = 2
 *   6       2     u16 flags: bit 0 = full; other bits must be 0
 *   8       4     u32 count (rows)
 *   12      4     u32 S = byte length of the symbol table
 *   16      8     f64 seq          (a non-negative integer)
 *   24      8     f64 builtAt      (finite)
 *   32      8     f64 conflated    (a non-negative integer)
 *   40      S     symbol table: per row, u16 byte length (>= 1) then that many UTF-8 bytes
 *   40+S    P     zero padding to the next multiple of 8 (P in 0..7)
 *   C       8kn   the k = FRAME_COLUMNS.length columns in that order, n float64s each (C = 40 + S + P)
 *
 * The total length is therefore fully determined by the header, and decode checks it exactly
 * before reading further, so truncation, trailing bytes and a lying count or table length are all
 * caught (and a huge count in a short message never triggers a huge allocation). Every structural
 * field is checked; what cannot be checked is the float bits of the columns themselves (any bit
 * pattern is a double) - integrity of the payload is the transport's job (WebSocket over TCP).
 * Decode never returns a partially read frame: it throws FrameDecodeError.
 *
 * No platform imports: runs in the browser and in Node (TextEncoder/TextDecoder are global in both).
 */
import { FRAME_COLUMNS, frameColumns, type QuoteFrame } from './frame.ts';

export const FRAME_MAGIC = 0x46514d4d; // "MMQF" read as a little-endian u32
export const FRAME_VERSION = 2;
export const FRAME_HEADER_BYTES = 40;
/** Longest symbol in UTF-8 bytes (the length prefix is a u16). */
export const MAX_SYMBOL_BYTES = 0xffff;

const FLAG_FULL = 1;
const COLUMN_COUNT = FRAME_COLUMNS.length;
const ROW_BYTES = COLUMN_COUNT * 8;

/** Thrown by decodeFrame for input that is not a well-formed frame of a version this build reads. */
export class FrameDecodeError extends Error {
  constructor(message: string) {
    super(`cannot decode quote frame: ${message}`);
    this.name = 'FrameDecodeError';
  }
}

/** Float64Array's platform byte order is little-endian everywhere this runs; checked, not assumed. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const encoder = new TextEncoder();
// fatal: invalid UTF-8 throws instead of becoming U+FFFD; ignoreBOM: a leading U+FEFF is data.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A frame with no rows (not full). */
export function emptyFrame(seq: number, builtAt: number): QuoteFrame {
  const none = new Float64Array(0);
  return {
    seq,
    builtAt,
    conflated: 0,
    full: false,
    symbols: [],
    ...frameColumns(FRAME_COLUMNS.map(() => none)),
  };
}

/**
 * The frame as bytes (a fresh buffer, exactly sized). Throws RangeError for a frame that decode
 * would refuse: columns whose length differs from the symbol count, an empty or over-long symbol,
 * a symbol with an unpaired surrogate (UTF-8 cannot carry it), a seq or conflated that is not a
 * non-negative integer, a non-finite builtAt.
 */
export function encodeFrame(frame: QuoteFrame): Uint8Array<ArrayBuffer> {
  checkHeader(frame.seq, frame.builtAt, frame.conflated, (m) => new RangeError(m));
  const symbols = frame.symbols;
  const n = symbols.length;
  const columns: Float64Array[] = [];
  for (const name of FRAME_COLUMNS) {
    const col = frame[name];
    if (col.length !== n) {
      throw new RangeError(`column ${name} has ${col.length} values for ${n} symbols`);
    }
    columns.push(col);
  }

  // Pass 1: sizes. ASCII symbols (nearly all) are written char by char; others go through UTF-8.
  const utf8: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(n);
  let tableBytes = 0;
  for (let i = 0; i < n; i++) {
    const sym = symbols[i]!;
    let len = sym.length;
    if (!isAscii(sym)) {
      if (!isWellFormed(sym)) {
        throw new RangeError(`symbol ${i} has an unpaired surrogate: ${JSON.stringify(sym)}`);
      }
      const bytes = encoder.encode(sym);
      utf8[i] = bytes;
      len = bytes.length;
    }
    if (len === 0) throw new RangeError(`symbol ${i} is empty`);
    if (len > MAX_SYMBOL_BYTES) {
      throw new RangeError(`symbol ${i} is ${len} bytes of UTF-8, more than ${MAX_SYMBOL_BYTES}`);
    }
    tableBytes += 2 + len;
  }
  const columnsAt = align8(FRAME_HEADER_BYTES + tableBytes);
  const total = columnsAt + ROW_BYTES * n;

  const buffer = new ArrayBuffer(total);
  const u8 = new Uint8Array(buffer);
  const dv = new DataView(buffer);
  dv.setUint32(0, FRAME_MAGIC, true);
  dv.setUint16(4, FRAME_VERSION, true);
  dv.setUint16(6, frame.full ? FLAG_FULL : 0, true);
  dv.setUint32(8, n, true);
  dv.setUint32(12, tableBytes, true);
  dv.setFloat64(16, frame.seq, true);
  dv.setFloat64(24, frame.builtAt, true);
  dv.setFloat64(32, frame.conflated, true);

  // Pass 2: the symbol table. Padding stays zero (a fresh ArrayBuffer is zeroed).
  let p = FRAME_HEADER_BYTES;
  for (let i = 0; i < n; i++) {
    const bytes = utf8[i];
    if (bytes === undefined) {
      const sym = symbols[i]!;
      dv.setUint16(p, sym.length, true);
      p += 2;
      for (let j = 0; j < sym.length; j++) u8[p++] = sym.charCodeAt(j);
    } else {
      dv.setUint16(p, bytes.length, true);
      p += 2;
      u8.set(bytes, p);
      p += bytes.length;
    }
  }

  if (LITTLE_ENDIAN) {
    const out = new Float64Array(buffer, columnsAt, COLUMN_COUNT * n);
    for (let k = 0; k < COLUMN_COUNT; k++) out.set(columns[k]!, k * n);
  } else {
    let q = columnsAt;
    for (const col of columns) {
      for (let i = 0; i < n; i++, q += 8) dv.setFloat64(q, col[i]!, true);
    }
  }
  return u8;
}

/**
 * Why `symbol` cannot be a row of an encoded frame (the per-symbol checks of encodeFrame: not
 * empty, no unpaired surrogate, at most MAX_SYMBOL_BYTES of UTF-8), or undefined when it can. For a
 * sender that would rather drop one odd row than lose a whole frame (electron/host/server.ts).
 */
export function symbolProblem(symbol: string): string | undefined {
  if (symbol.length === 0) return 'empty';
  let len = symbol.length;
  if (!isAscii(symbol)) {
    if (!isWellFormed(symbol)) return 'has an unpaired surrogate (UTF-8 cannot carry it)';
    len = encoder.encode(symbol).length;
  }
  if (len > MAX_SYMBOL_BYTES) return `is ${len} bytes of UTF-8, more than ${MAX_SYMBOL_BYTES}`;
  return undefined;
}

/**
 * The frame in `bytes`. Throws FrameDecodeError for anything else: empty or truncated input,
 * trailing bytes, another magic or version, unknown flags, a symbol table that disagrees with the
 * count, invalid UTF-8, bad header numbers, non-zero padding.
 *
 * Where the column data is 8-byte aligned in memory (always, for an ArrayBuffer received whole),
 * the returned columns are views into `bytes`' memory, not copies: do not reuse that buffer while
 * the frame is in use. Otherwise the column bytes are copied once.
 */
export function decodeFrame(bytes: ArrayBuffer | ArrayBufferView): QuoteFrame {
  let u8: Uint8Array;
  if (ArrayBuffer.isView(bytes)) {
    u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } else if (isArrayBuffer(bytes)) {
    u8 = new Uint8Array(bytes);
  } else {
    throw new FrameDecodeError(`expected an ArrayBuffer or a typed array, got ${describe(bytes)}`);
  }
  const length = u8.byteLength;
  if (length === 0) throw new FrameDecodeError('the input is empty');
  if (length < FRAME_HEADER_BYTES) {
    throw new FrameDecodeError(
      `truncated: ${length} bytes, shorter than the ${FRAME_HEADER_BYTES}-byte header`,
    );
  }
  const dv = new DataView(u8.buffer, u8.byteOffset, length);
  if (dv.getUint32(0, true) !== FRAME_MAGIC) {
    throw new FrameDecodeError('not a quote frame (bad magic; expected "MMQF")');
  }
  const version = dv.getUint16(4, true);
  if (version !== FRAME_VERSION) {
    throw new FrameDecodeError(
      `unsupported version ${version} (this build reads version ${FRAME_VERSION})`,
    );
  }
  const flags = dv.getUint16(6, true);
  if ((flags & ~FLAG_FULL) !== 0) {
    throw new FrameDecodeError(`unknown flags 0x${flags.toString(16)}`);
  }
  const n = dv.getUint32(8, true);
  const tableBytes = dv.getUint32(12, true);
  const seq = dv.getFloat64(16, true);
  const builtAt = dv.getFloat64(24, true);
  const conflated = dv.getFloat64(32, true);
  checkHeader(seq, builtAt, conflated, (m) => new FrameDecodeError(m));
  if (tableBytes < 3 * n) {
    throw new FrameDecodeError(
      `a ${tableBytes}-byte symbol table cannot hold ${n} symbols (3 bytes each at least)`,
    );
  }
  const tableEnd = FRAME_HEADER_BYTES + tableBytes;
  const columnsAt = align8(tableEnd);
  const expected = columnsAt + ROW_BYTES * n; // < 2^53: both terms come from u32s
  if (length < expected) {
    throw new FrameDecodeError(
      `truncated: ${length} bytes, the header announces ${expected} (${n} rows)`,
    );
  }
  if (length > expected) {
    throw new FrameDecodeError(
      `${length - expected} unexpected trailing bytes after ${expected} (${n} rows)`,
    );
  }

  const symbols = new Array<string>(n);
  let p = FRAME_HEADER_BYTES;
  for (let i = 0; i < n; i++) {
    if (p + 2 > tableEnd) {
      throw new FrameDecodeError(`the symbol table ends at symbol ${i} of ${n}`);
    }
    const len = dv.getUint16(p, true);
    p += 2;
    if (len === 0) throw new FrameDecodeError(`symbol ${i} has length 0`);
    if (p + len > tableEnd) {
      throw new FrameDecodeError(`symbol ${i} (${len} bytes) runs past the symbol table`);
    }
    symbols[i] = readSymbol(u8, p, len, i);
    p += len;
  }
  if (p !== tableEnd) {
    throw new FrameDecodeError(
      `the symbol table has ${tableEnd - p} bytes left over after ${n} symbols`,
    );
  }
  for (let q = tableEnd; q < columnsAt; q++) {
    if (u8[q] !== 0) throw new FrameDecodeError(`non-zero padding byte at offset ${q}`);
  }

  const columns: Float64Array[] = [];
  if (LITTLE_ENDIAN) {
    let buffer: ArrayBufferLike = u8.buffer;
    let base = u8.byteOffset + columnsAt;
    if (base % 8 !== 0) {
      const copy = new Uint8Array(ROW_BYTES * n);
      copy.set(u8.subarray(columnsAt, expected));
      buffer = copy.buffer;
      base = 0;
    }
    for (let k = 0; k < COLUMN_COUNT; k++) {
      columns.push(new Float64Array(buffer, base + k * n * 8, n));
    }
  } else {
    let q = columnsAt;
    for (let k = 0; k < COLUMN_COUNT; k++) {
      const col = new Float64Array(n);
      for (let i = 0; i < n; i++, q += 8) col[i] = dv.getFloat64(q, true);
      columns.push(col);
    }
  }

  return {
    seq,
    builtAt,
    conflated,
    full: (flags & FLAG_FULL) !== 0,
    symbols,
    ...frameColumns(columns),
  };
}

function checkHeader(
  seq: number,
  builtAt: number,
  conflated: number,
  fail: (message: string) => Error,
): void {
  if (!Number.isSafeInteger(seq) || seq < 0) {
    throw fail(`seq must be a non-negative integer, got ${String(seq)}`);
  }
  if (!Number.isFinite(builtAt)) throw fail(`builtAt must be finite, got ${String(builtAt)}`);
  if (!Number.isSafeInteger(conflated) || conflated < 0) {
    throw fail(`conflated must be a non-negative integer, got ${String(conflated)}`);
  }
}

function readSymbol(u8: Uint8Array, at: number, len: number, i: number): string {
  let ascii = true;
  for (let j = at; j < at + len; j++) {
    if (u8[j]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    let s = '';
    for (let j = at; j < at + len; j++) s += String.fromCharCode(u8[j]!);
    return s;
  }
  try {
    return decoder.decode(u8.subarray(at, at + len));
  } catch {
    throw new FrameDecodeError(`symbol ${i} is not valid UTF-8`);
  }
}

function align8(n: number): number {
  // Not bitwise: n may pass 2^31 for a lying header.
  return Math.ceil(n / 8) * 8;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** No unpaired UTF-16 surrogate (String.prototype.isWellFormed is ES2024, past our lib). */
function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return false;
    const next = s.charCodeAt(i + 1);
    if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
    i++;
  }
  return true;
}

function isArrayBuffer(x: unknown): x is ArrayBuffer {
  // instanceof fails across realms (iframes, vm contexts); the tag does not.
  return x instanceof ArrayBuffer || Object.prototype.toString.call(x) === '[object ArrayBuffer]';
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'object') return Object.prototype.toString.call(x);
  return typeof x;
}
