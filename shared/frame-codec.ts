/**
 * Binary encoding of a QuoteFrame, for the browser-mode WebSocket bridge (Electron windows get
 * frames over a MessagePort by structured clone and need none of this). Values travel as raw
 * little-endian float64s: no per-number text, NaN survives, and decoding is a few header reads
 * plus, where the bytes are aligned, typed-array views with no copy at all.
 *
 * Layout, version 3 (all numbers little-endian). Version 2 carried a symbol string per row and
 * one array per column; version 3 carries symbol ids and only the symbols the view has not been
 * told (shared/frame.ts). A peer of another version is refused by name, never misread.
 *
 *   offset  size  field
 *   0       4     magic "MMQF" (4D 4D 51 46)
 *   4       2     u16 version = 3
 *   6       2     u16 flags: bit 0 = full; other bits must be 0
 *   8       4     u32 n = rows
 *   12      4     u32 S = byte length of the symbol table
 *   16      8     f64 seq          (a non-negative integer)
 *   24      8     f64 builtAt      (finite)
 *   32      8     f64 conflated    (a non-negative integer)
 *   40      4     u32 symbolBase   (the id of the first new symbol)
 *   44      4     u32 m = new symbols
 *   48      S     symbol table: per new symbol, u16 byte length then that many UTF-8 bytes; length
 *                 0 is '' (a symbol the sender could not carry)
 *   48+S    P     zero padding to the next multiple of 8 (P in 0..7)
 *   I       4n    the rows' symbol ids, u32 each (below 2^31), I = 48 + S + P
 *   I+4n    Q     zero padding to the next multiple of 8 (Q = 4 when n is odd, else 0)
 *   V       8kn   the values, k = FRAME_COLUMNS.length columns of n float64s in that order
 *
 * The total length is therefore fully determined by the header, and decode checks it exactly
 * before reading further, so truncation, trailing bytes and a lying count or table length are all
 * caught (and a huge count in a short message never triggers a huge allocation). Every structural
 * field is checked; what cannot be checked is the float bits of the values themselves (any bit
 * pattern is a double) - integrity of the payload is the transport's job (WebSocket over TCP).
 * Decode never returns a partially read frame: it throws FrameDecodeError.
 *
 * No platform imports: runs in the browser and in Node (TextEncoder/TextDecoder are global in both).
 */
import { FRAME_COLUMNS, frameProblem, type QuoteFrame } from './frame.ts';

export const FRAME_MAGIC = 0x46514d4d; // "MMQF" read as a little-endian u32
export const FRAME_VERSION = 3;
export const FRAME_HEADER_BYTES = 48;
/** Longest symbol in UTF-8 bytes (the length prefix is a u16). */
export const MAX_SYMBOL_BYTES = 0xffff;
/** Ids and symbolBase travel as u32s that must also fit an Int32Array. */
const MAX_ID = 0x7fffffff;

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

/** A frame with no rows and no new symbols (not full). */
export function emptyFrame(seq: number, builtAt: number): QuoteFrame {
  return {
    seq,
    builtAt,
    conflated: 0,
    full: false,
    rows: new Int32Array(0),
    symbolBase: 0,
    newSymbols: [],
    values: new Float64Array(0),
  };
}

/**
 * The frame as bytes (a fresh buffer, exactly sized). Throws RangeError for a frame that decode
 * would refuse: values whose length is not columns x rows, a negative or too large id or
 * symbolBase, an over-long new symbol, one with an unpaired surrogate (UTF-8 cannot carry it), a
 * seq or conflated that is not a non-negative integer, a non-finite builtAt. An empty new symbol
 * ('', not carried) is allowed.
 */
export function encodeFrame(frame: QuoteFrame): Uint8Array<ArrayBuffer> {
  checkHeader(frame.seq, frame.builtAt, frame.conflated, (m) => new RangeError(m));
  const problem = frameProblem(frame);
  if (problem !== undefined) throw new RangeError(problem);
  const ids = frame.rows;
  const n = ids.length;
  for (let i = 0; i < n; i++) {
    if (ids[i]! > MAX_ID) throw new RangeError(`row ${i} has symbol id ${ids[i]!}, past ${MAX_ID}`);
  }
  const fresh = frame.newSymbols;
  const m = fresh.length;
  if (frame.symbolBase + m > MAX_ID) {
    throw new RangeError(`symbol ids up to ${frame.symbolBase + m} are past ${MAX_ID}`);
  }

  // Pass 1: sizes. ASCII symbols (nearly all) are written char by char; others go through UTF-8.
  const utf8: (Uint8Array | undefined)[] = [];
  let tableBytes = 0;
  for (let j = 0; j < m; j++) {
    const sym = fresh[j]!;
    let len = sym.length;
    let bytes: Uint8Array | undefined;
    if (!isAscii(sym)) {
      if (!isWellFormed(sym)) {
        throw new RangeError(`symbol ${j} has an unpaired surrogate: ${JSON.stringify(sym)}`);
      }
      bytes = encoder.encode(sym);
      len = bytes.length;
    }
    utf8.push(bytes);
    if (len > MAX_SYMBOL_BYTES) {
      throw new RangeError(`symbol ${j} is ${len} bytes of UTF-8, more than ${MAX_SYMBOL_BYTES}`);
    }
    tableBytes += 2 + len;
  }
  const idsAt = align8(FRAME_HEADER_BYTES + tableBytes);
  const valuesAt = idsAt + align8(4 * n);
  const total = valuesAt + ROW_BYTES * n;

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
  dv.setUint32(40, frame.symbolBase, true);
  dv.setUint32(44, m, true);

  // Pass 2: the symbol table. Padding stays zero (a fresh ArrayBuffer is zeroed).
  let p = FRAME_HEADER_BYTES;
  for (let j = 0; j < m; j++) {
    const bytes = utf8[j];
    if (bytes === undefined) {
      const sym = fresh[j]!;
      dv.setUint16(p, sym.length, true);
      p += 2;
      for (let c = 0; c < sym.length; c++) u8[p++] = sym.charCodeAt(c);
    } else {
      dv.setUint16(p, bytes.length, true);
      p += 2;
      u8.set(bytes, p);
      p += bytes.length;
    }
  }

  if (LITTLE_ENDIAN) {
    new Int32Array(buffer, idsAt, n).set(ids);
    new Float64Array(buffer, valuesAt, COLUMN_COUNT * n).set(frame.values);
  } else {
    for (let i = 0; i < n; i++) dv.setUint32(idsAt + 4 * i, ids[i]!, true);
    const values = frame.values;
    for (let q = 0; q < values.length; q++) dv.setFloat64(valuesAt + 8 * q, values[q]!, true);
  }
  return u8;
}

/**
 * Why `symbol` cannot be named in an encoded frame (the per-symbol checks of encodeFrame: no
 * unpaired surrogate, at most MAX_SYMBOL_BYTES of UTF-8; '' is allowed, as "not carried"), or
 * undefined when it can. For a sender that would rather blank one odd symbol than lose a whole
 * frame (electron/host/server.ts).
 */
export function symbolProblem(symbol: string): string | undefined {
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
 * trailing bytes, another magic or version, unknown flags, a symbol table that disagrees with its
 * count, invalid UTF-8, bad header numbers, an id past 2^31 - 1, non-zero padding.
 *
 * Where the ids and values are aligned in memory (always, for an ArrayBuffer received whole), the
 * returned arrays are views into `bytes`' memory, not copies: do not reuse that buffer while the
 * frame is in use. Otherwise they are copied once.
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
  if (length < 8) {
    throw new FrameDecodeError(`truncated: ${length} bytes, shorter than any frame header`);
  }
  const dv = new DataView(u8.buffer, u8.byteOffset, length);
  if (dv.getUint32(0, true) !== FRAME_MAGIC) {
    throw new FrameDecodeError('not a quote frame (bad magic; expected "MMQF")');
  }
  const version = dv.getUint16(4, true);
  if (version !== FRAME_VERSION) {
    throw new FrameDecodeError(
      `unsupported version ${version} (this build reads version ${FRAME_VERSION}): the other ` +
        'side runs a different build of the app; reload the page once both are the same',
    );
  }
  if (length < FRAME_HEADER_BYTES) {
    throw new FrameDecodeError(
      `truncated: ${length} bytes, shorter than the ${FRAME_HEADER_BYTES}-byte header`,
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
  const symbolBase = dv.getUint32(40, true);
  const m = dv.getUint32(44, true);
  checkHeader(seq, builtAt, conflated, (msg) => new FrameDecodeError(msg));
  if (symbolBase + m > MAX_ID) {
    throw new FrameDecodeError(`symbol ids up to ${symbolBase + m} are past ${MAX_ID}`);
  }
  if (tableBytes < 2 * m) {
    throw new FrameDecodeError(
      `a ${tableBytes}-byte symbol table cannot hold ${m} symbols (2 bytes each at least)`,
    );
  }
  const tableEnd = FRAME_HEADER_BYTES + tableBytes;
  const idsAt = align8(tableEnd);
  const valuesAt = idsAt + align8(4 * n);
  const expected = valuesAt + ROW_BYTES * n; // < 2^53: every term comes from u32s
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

  const newSymbols: string[] = [];
  let p = FRAME_HEADER_BYTES;
  for (let j = 0; j < m; j++) {
    if (p + 2 > tableEnd) {
      throw new FrameDecodeError(`the symbol table ends at symbol ${j} of ${m}`);
    }
    const len = dv.getUint16(p, true);
    p += 2;
    if (p + len > tableEnd) {
      throw new FrameDecodeError(`symbol ${j} (${len} bytes) runs past the symbol table`);
    }
    newSymbols.push(len === 0 ? '' : readSymbol(u8, p, len, j));
    p += len;
  }
  if (p !== tableEnd) {
    throw new FrameDecodeError(
      `the symbol table has ${tableEnd - p} bytes left over after ${m} symbols`,
    );
  }
  for (let q = tableEnd; q < idsAt; q++) {
    if (u8[q] !== 0) throw new FrameDecodeError(`non-zero padding byte at offset ${q}`);
  }
  for (let q = idsAt + 4 * n; q < valuesAt; q++) {
    if (u8[q] !== 0) throw new FrameDecodeError(`non-zero padding byte at offset ${q}`);
  }

  let rows: Int32Array;
  let values: Float64Array;
  if (LITTLE_ENDIAN) {
    let buffer: ArrayBufferLike = u8.buffer;
    let base = u8.byteOffset + idsAt;
    if (base % 8 !== 0) {
      const copy = new Uint8Array(expected - idsAt);
      copy.set(u8.subarray(idsAt, expected));
      buffer = copy.buffer;
      base = 0;
    }
    rows = new Int32Array(buffer, base, n);
    values = new Float64Array(buffer, base + (valuesAt - idsAt), COLUMN_COUNT * n);
  } else {
    rows = new Int32Array(n);
    for (let i = 0; i < n; i++) rows[i] = dv.getUint32(idsAt + 4 * i, true);
    values = new Float64Array(COLUMN_COUNT * n);
    for (let q = 0; q < values.length; q++) values[q] = dv.getFloat64(valuesAt + 8 * q, true);
  }
  for (let i = 0; i < n; i++) {
    // A u32 past 2^31 - 1 reads back negative through the Int32Array.
    if (rows[i]! < 0) throw new FrameDecodeError(`row ${i} has a symbol id past ${MAX_ID}`);
  }

  return {
    seq,
    builtAt,
    conflated,
    full: (flags & FLAG_FULL) !== 0,
    rows,
    symbolBase,
    newSymbols,
    values,
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
