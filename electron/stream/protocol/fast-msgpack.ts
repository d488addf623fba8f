/**
 * The msgpack fast path: reads an Alpaca binary frame once and builds the domain messages directly
 * (through normalize.ts's makeQuote / makeTrade / makeBar), skipping the wire objects msgpackr would
 * build for the generic path (decode.ts: frameUnpackr, then normalize per item). It handles only the
 * common case, a batch made entirely of valid quotes, trades and bars, and returns -1 for anything
 * else without having called the sink, so the caller can decode that frame generically instead.
 *
 * What is understood, exactly as the generic path would decode it:
 * - The frame: array (fixarray, array16, array32) of maps (fixmap, map16, map32) with fixstr keys,
 *   every item's T one of q, t, b, d, u and its required fields valid by normalize.ts's rules.
 * - Values: str (fixstr, str8/16/32; ASCII only where the value is kept), float64, float32,
 *   integers of every width (int64/uint64 only within +-(2^53-1)), nil, booleans, the `undefined`
 *   extension (fixext1 type 0, which msgpackr writes for undefined), arrays of scalars in `c`,
 *   and the timestamp extension (type -1 as fixext4, fixext8 or ext8 of 4/8/12 bytes) in `t`.
 * - Unknown keys are skipped when their value is a scalar (a string of any bytes, number, nil,
 *   boolean, undefined, or any type -1 extension: msgpackr decodes those without throwing and
 *   normalize ignores the key); an unknown key holding an array, a map or another extension -> -1.
 * Everything else -> -1: other T values, a required field missing or mistyped, a value normalize.ts
 * refuses as impossible (negative price or size, inconsistent bar, implausible time), a duplicate known
 * key, non-fixstr keys, non-ASCII bytes in a kept string, an id beyond 2^53, a nested value where a
 * scalar is expected, extensions outside `t`, a malformed timestamp, 0xc1, truncation, trailing
 * bytes, a lone map, an empty buffer. Never throws because of its input.
 *
 * Strings of up to 14 bytes that repeat (symbols, exchange and tape codes, condition codes) are
 * interned through bounded caches keyed by their bytes (7 bits per ASCII byte packed into a number),
 * so a busy symbol costs a map lookup rather than a new string; condition lists are interned as
 * frozen shared arrays (the domain type is readonly). Ids and times are unique, so never interned.
 * Every string is built from the bytes (fromCharCode), never sliced out of a larger string, so a
 * kept string does not pin a frame.
 */
import type { Bar, MarketMessage, Quote, Trade, TradeId } from '../../../shared/market.ts';
import { formatEpoch, timeToEpochMs } from '../../../shared/market.ts';
import {
  implausibleTime,
  makeBar,
  makeQuote,
  makeTrade,
  plausibleBar,
  timeBound,
} from './normalize.ts';
import type { FrameSink } from './normalize.ts';

/** Entries each intern cache may hold; past that, strings are still built, just not kept. */
export const FAST_MSGPACK_CACHE_LIMIT = 50_000;

/** Thrown inside the decoder to abandon the frame; caught at the top, never escapes. */
const REFUSE = new Error('fast msgpack path: frame not handled');

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const TWO_32 = 0x1_0000_0000;

// Years 0000-9999, as in msgpack.ts unpackTimestamp.
const MIN_SECONDS = -62_167_219_200;
const MAX_SECONDS = 253_402_300_799;

const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

// The frame being read. Module state rather than parameters: the readers are small functions that
// TurboFan inlines, and passing four values through each would not make them faster.
let src: Uint8Array = EMPTY;
let view: DataView = EMPTY_VIEW;
let pos = 0;
let end = 0;

function refuse(): never {
  throw REFUSE;
}

// ---------------------------------------------------------------------------------------------
// Strings

/** One-character strings for every ASCII byte (exchange and tape codes, most conditions). */
const ONE_CHAR: readonly string[] = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i));

/** Strings of 2-7 bytes by key (1 then 7 bits per byte: < 2^50, exact in a double). */
const shortStrings = new Map<number, string>();
/** Strings of 8-14 bytes: first 7 bytes' key, then the rest's key. */
const longStrings = new Map<number, Map<number, string>>();
let longCount = 0;
/** Condition arrays by key (1, then per element 5 bits of length and 7 per byte; < 2^53). */
const conditionArrays = new Map<number, readonly string[]>();

/** The current sizes of the intern caches (for tests: they must stay bounded). */
export function fastMsgpackCacheSizes(): { strings: number; conditions: number } {
  return { strings: shortStrings.size + longCount, conditions: conditionArrays.size };
}

/** A new flat string of `len` ASCII bytes at `start`; refuses any byte >= 0x80. */
function freshAscii(start: number, len: number): string {
  const stop = start + len;
  for (let i = start; i < stop; i++) if ((src[i] as number) >= 0x80) refuse();
  if (len <= 12) {
    // Below 13 characters V8 copies on concatenation, so this builds one flat string.
    let s = '';
    for (let i = start; i < stop; i++) s += ONE_CHAR[src[i] as number] as string;
    return s;
  }
  return String.fromCharCode.apply(null, src.subarray(start, stop) as unknown as number[]);
}

/** Key of up to 7 ASCII bytes, with a leading 1 so that lengths differ; refuses non-ASCII. */
function asciiKey(start: number, stop: number): number {
  let k = 1;
  for (let i = start; i < stop; i++) {
    const b = src[i] as number;
    if (b >= 0x80) refuse();
    k = k * 128 + b;
  }
  return k;
}

/** The ASCII string of `len` bytes at `start` (already bounds-checked), interned when short. */
function internAscii(start: number, len: number): string {
  if (len === 1) {
    const b = src[start] as number;
    if (b >= 0x80) refuse();
    return ONE_CHAR[b] as string;
  }
  if (len === 0) return '';
  if (len <= 7) {
    const k = asciiKey(start, start + len);
    let s = shortStrings.get(k);
    if (s === undefined) {
      s = freshAscii(start, len);
      if (shortStrings.size < FAST_MSGPACK_CACHE_LIMIT) shortStrings.set(k, s);
    }
    return s;
  }
  if (len > 14) return freshAscii(start, len);
  const k1 = asciiKey(start, start + 7);
  const k2 = asciiKey(start + 7, start + len);
  let inner = longStrings.get(k1);
  let s = inner?.get(k2);
  if (s === undefined) {
    s = freshAscii(start, len);
    if (longCount < FAST_MSGPACK_CACHE_LIMIT) {
      if (inner === undefined) {
        inner = new Map();
        longStrings.set(k1, inner);
      }
      inner.set(k2, s);
      longCount++;
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Scalars

const NONE = 0; // nil, booleans, undefined: "not a number, not a string" to every normalizer
const NUM = 1;
const STR = 2;

/** Outputs of readScalar: the number, or the string's bytes (start, length). */
let sNum = 0;
let sStart = 0;
let sLen = 0;

function need(n: number): void {
  if (end - pos < n) refuse();
}

function strAt(start: number, len: number): number {
  if (end - start < len) refuse();
  sStart = start;
  sLen = len;
  pos = start + len;
  return STR;
}

/**
 * Reads one scalar and says which kind (NONE / NUM / STR). Numbers come out as msgpackr's
 * frameUnpackr reads them (float32 widened exactly, int64 as hi * 2^32 + lo), except that 64-bit
 * integers beyond 2^53 - 1 in magnitude are refused. Anything not a scalar is refused.
 */
function readScalar(): number {
  if (pos >= end) refuse();
  const tok = src[pos] as number;
  if (tok < 0x80) {
    pos++;
    sNum = tok;
    return NUM;
  }
  if (tok >= 0xe0) {
    pos++;
    sNum = tok - 0x100;
    return NUM;
  }
  if (tok >= 0xa0 && tok < 0xc0) return strAt(pos + 1, tok - 0xa0);
  switch (tok) {
    case 0xc0: // nil
    case 0xc2: // false
    case 0xc3: // true
      pos++;
      return NONE;
    case 0xca:
      need(5);
      sNum = view.getFloat32(pos + 1);
      pos += 5;
      return NUM;
    case 0xcb:
      need(9);
      sNum = view.getFloat64(pos + 1);
      pos += 9;
      return NUM;
    case 0xcc:
      need(2);
      sNum = src[pos + 1] as number;
      pos += 2;
      return NUM;
    case 0xcd:
      need(3);
      sNum = view.getUint16(pos + 1);
      pos += 3;
      return NUM;
    case 0xce:
      need(5);
      sNum = view.getUint32(pos + 1);
      pos += 5;
      return NUM;
    case 0xcf: {
      need(9);
      // msgpackr's int64AsType 'number' arithmetic; past 2^53 the exact re-decode is the
      // generic path's business.
      const v = view.getUint32(pos + 1) * TWO_32 + view.getUint32(pos + 5);
      if (v > MAX_SAFE) refuse();
      sNum = v;
      pos += 9;
      return NUM;
    }
    case 0xd0:
      need(2);
      sNum = view.getInt8(pos + 1);
      pos += 2;
      return NUM;
    case 0xd1:
      need(3);
      sNum = view.getInt16(pos + 1);
      pos += 3;
      return NUM;
    case 0xd2:
      need(5);
      sNum = view.getInt32(pos + 1);
      pos += 5;
      return NUM;
    case 0xd3: {
      need(9);
      const v = view.getInt32(pos + 1) * TWO_32 + view.getUint32(pos + 5);
      if (v > MAX_SAFE || v < -MAX_SAFE) refuse();
      sNum = v;
      pos += 9;
      return NUM;
    }
    case 0xd4:
      // fixext1 type 0: msgpackr's `undefined` (what framePackr writes for undefined values).
      need(3);
      if (src[pos + 1] !== 0) refuse();
      pos += 3;
      return NONE;
    case 0xd9:
      need(2);
      return strAt(pos + 2, src[pos + 1] as number);
    case 0xda:
      need(3);
      return strAt(pos + 3, view.getUint16(pos + 1));
    case 0xdb:
      need(5);
      return strAt(pos + 5, view.getUint32(pos + 1));
    default:
      return refuse();
  }
}

/** Ext header sizes by token: fixext1..16 are 0xd4..0xd8 (payload 1..16), ext8 is 0xc7. */
function skipTimestampOrUndefined(): boolean {
  const tok = src[pos] as number;
  let header: number;
  let len: number;
  if (tok >= 0xd4 && tok <= 0xd8) {
    need(2);
    header = 2;
    len = 1 << (tok - 0xd4);
  } else if (tok === 0xc7) {
    need(3);
    header = 3;
    len = src[pos + 1] as number;
  } else {
    return false;
  }
  const type = src[pos + header - 1] as number;
  // Type -1 runs our unpackTimestamp, which never throws (a bad one is BAD_TIMESTAMP, and the
  // key is ignored anyway); type 0 is undefined. Any other type may throw or build an object.
  if (type !== 0xff && !(type === 0 && tok === 0xd4)) return false;
  need(header + len);
  pos += header + len;
  return true;
}

/** Skips the value of a key normalize ignores; refuses values that are not plain scalars. */
function skipValue(): void {
  if (pos >= end) refuse();
  const tok = src[pos] as number;
  if ((tok >= 0xc7 && tok <= 0xc9) || (tok >= 0xd4 && tok <= 0xd8)) {
    if (!skipTimestampOrUndefined()) refuse();
    return;
  }
  readScalar();
}

/** A number slot: the number, or NaN for nil / booleans / strings (normalize's num()). */
function readNum(): number {
  return readScalar() === NUM ? sNum : Number.NaN;
}

/** An optional string slot (normalize's optStr): the string, else undefined. */
function readOptStr(): string | undefined {
  return readScalar() === STR ? internAscii(sStart, sLen) : undefined;
}

/** The symbol: a non-empty string, else the item is invalid. */
function readSymbol(): string {
  if (readScalar() !== STR || sLen === 0) refuse();
  return internAscii(sStart, sLen);
}

/** A trade id as normalize's idOf makes it; ids past 2^53 are refused. */
function readId(): TradeId {
  const kind = readScalar();
  if (kind === NUM) {
    const v = sNum;
    if (v > MAX_SAFE || v < -MAX_SAFE) refuse();
    return Number.isInteger(v) ? v : String(v);
  }
  // Never interned: ids are unique, they would only fill the cache.
  if (kind === STR) return freshAscii(sStart, sLen);
  return '';
}

const Q = 1;
const T = 2;
const B = 3;
const D = 4;
const U = 5;

/** T: one of q t b d u, else this frame is not for the fast path. */
function readType(): number {
  if (readScalar() !== STR || sLen !== 1) refuse();
  switch (src[sStart]) {
    case 0x71: // q
      return Q;
    case 0x74: // t
      return T;
    case 0x62: // b
      return B;
    case 0x64: // d
      return D;
    case 0x75: // u
      return U;
    default:
      return refuse();
  }
}

// ---------------------------------------------------------------------------------------------
// Time

/** Outputs of readTime. */
let tText = '';
let tMs = 0;

/**
 * The `t` field: the timestamp extension turned into text exactly as msgpack.ts unpackTimestamp
 * does, or a string that normalize's isTime accepts. `timeMs` is timeToEpochMs(text): for text
 * built by formatEpoch that is seconds * 1000 plus (nanos / 1e9) * 1000, the very operations
 * timeToEpochMs performs on that text (Date.parse of the whole seconds is exact; the fraction of
 * nine digits is read as n / 10^9), so it is computed from the numbers (tests prove it identical).
 */
function readTime(): void {
  if (pos >= end) refuse();
  const tok = src[pos] as number;
  let seconds: number;
  let nanos = 0;
  let at: number;
  let len: number;
  if (tok === 0xd6 || tok === 0xd7) {
    len = tok === 0xd6 ? 4 : 8;
    need(2 + len);
    if (src[pos + 1] !== 0xff) refuse();
    at = pos + 2;
    pos += 2 + len;
  } else if (tok === 0xc7) {
    need(3);
    len = src[pos + 1] as number;
    if (src[pos + 2] !== 0xff || (len !== 4 && len !== 8 && len !== 12)) refuse();
    need(3 + len);
    at = pos + 3;
    pos += 3 + len;
  } else {
    if (readScalar() !== STR) refuse();
    // normalize's isTime: at least 20 characters, starting with a digit.
    const first = src[sStart] as number;
    if (sLen < 20 || first < 48 || first > 57) refuse();
    tText = freshAscii(sStart, sLen);
    tMs = timeToEpochMs(tText);
    return;
  }
  if (len === 4) {
    seconds = view.getUint32(at);
  } else if (len === 8) {
    const hi = view.getUint32(at);
    nanos = hi >>> 2;
    seconds = (hi & 0x3) * TWO_32 + view.getUint32(at + 4);
  } else {
    nanos = view.getUint32(at);
    // Number(getBigInt64) for every value in range; outside it, rounding cannot bring it back in.
    seconds = view.getInt32(at + 4) * TWO_32 + view.getUint32(at + 8);
  }
  // A malformed timestamp makes the item invalid in the generic path (BAD_TIMESTAMP).
  if (nanos >= 1e9 || seconds < MIN_SECONDS || seconds > MAX_SECONDS) refuse();
  tText = formatEpoch(seconds, nanos);
  tMs = nanos === 0 ? seconds * 1000 : seconds * 1000 + (nanos / 1e9) * 1000;
}

// ---------------------------------------------------------------------------------------------
// Conditions (`c`): a condition list for quotes and trades, the close for bars

/** Outputs of readC: normalize's num(o.c) and strings(o.c). */
let cNum = Number.NaN;
let cArr: readonly string[] | undefined;

/** Element positions of the array being read (start, length pairs); reused. */
const elements: number[] = [];

const NO_CONDITIONS: readonly string[] = Object.freeze([]);

function readC(): void {
  if (pos >= end) refuse();
  const tok = src[pos] as number;
  let n: number;
  if (tok >= 0x90 && tok <= 0x9f) {
    n = tok - 0x90;
    pos++;
  } else if (tok === 0xdc) {
    need(3);
    n = view.getUint16(pos + 1);
    pos += 3;
  } else if (tok === 0xdd) {
    need(5);
    n = view.getUint32(pos + 1);
    pos += 5;
  } else {
    cArr = undefined;
    cNum = readNum();
    return;
  }
  cNum = Number.NaN; // num(array)
  if (n > end - pos) refuse();
  if (elements.length > 512) elements.length = 0;
  let allStrings = true;
  // The key: 1, then per element its length (5 bits) and its bytes (7 bits each); only while it
  // stays below 2^53 and every element is a short string.
  let key = 1;
  let keyed = true;
  for (let i = 0; i < n; i++) {
    const kind = readScalar();
    if (kind !== STR) {
      allStrings = false;
      continue;
    }
    elements[2 * i] = sStart;
    elements[2 * i + 1] = sLen;
    if (!allStrings) continue;
    if (keyed && sLen < 32 && key < 2 ** 48 / 2 ** (7 * sLen)) {
      key = key * 32 + sLen;
      const stop = sStart + sLen;
      for (let j = sStart; j < stop; j++) {
        const b = src[j] as number;
        if (b >= 0x80) refuse();
        key = key * 128 + b;
      }
    } else {
      keyed = false;
    }
  }
  if (!allStrings) {
    // strings(o.c) is undefined; the elements still had to be valid scalars.
    cArr = undefined;
    return;
  }
  if (n === 0) {
    cArr = NO_CONDITIONS;
    return;
  }
  if (keyed) {
    const hit = conditionArrays.get(key);
    if (hit !== undefined) {
      cArr = hit;
      return;
    }
  }
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++)
    out[i] = internAscii(elements[2 * i] as number, elements[2 * i + 1] as number);
  if (keyed && conditionArrays.size < FAST_MSGPACK_CACHE_LIMIT) {
    Object.freeze(out);
    conditionArrays.set(key, out);
  }
  cArr = out;
}

// ---------------------------------------------------------------------------------------------
// Items

// One bit per known key, to refuse duplicates (msgpackr keeps the last; we do not guess).
const K_T = 1 << 0;
const K_S = 1 << 1;
const K_t = 1 << 2;
const K_c = 1 << 3;
const K_z = 1 << 4;
const K_i = 1 << 5;
const K_x = 1 << 6;
const K_p = 1 << 7;
const K_s = 1 << 8;
const K_o = 1 << 9;
const K_h = 1 << 10;
const K_l = 1 << 11;
const K_v = 1 << 12;
const K_n = 1 << 13;
const K_bx = 1 << 14;
const K_bp = 1 << 15;
const K_bs = 1 << 16;
const K_ax = 1 << 17;
const K_ap = 1 << 18;
const K_as = 1 << 19;
const K_vw = 1 << 20;
const K_tks = 1 << 21;

function once(seen: number, bit: number): number {
  if ((seen & bit) !== 0) refuse();
  return seen | bit;
}

const finite = (x: number): boolean => x - x === 0;

// The array and map header reads here, in readC and in decodeAll are written out each time on
// purpose: one shared readCount(fixBase, tok16) measured 3-9% slower per message (386 -> 410 ns
// on bench/feed.ts frames, same process, alternating).
function readItem(): Quote | Trade | Bar {
  if (pos >= end) refuse();
  const tok = src[pos] as number;
  let count: number;
  if (tok >= 0x80 && tok <= 0x8f) {
    count = tok - 0x80;
    pos++;
  } else if (tok === 0xde) {
    need(3);
    count = view.getUint16(pos + 1);
    pos += 3;
  } else if (tok === 0xdf) {
    need(5);
    count = view.getUint32(pos + 1);
    pos += 5;
  } else {
    return refuse();
  }
  let seen = 0;
  let type = 0;
  let symbol = '';
  let time = '';
  let timeMs = 0;
  let bx: string | undefined;
  let ax: string | undefined;
  let z: string | undefined;
  let x: string | undefined;
  let tks: string | undefined;
  let id: TradeId = '';
  let conditions: readonly string[] | undefined;
  let close = Number.NaN;
  let bp = Number.NaN;
  let bs = Number.NaN;
  let ap = Number.NaN;
  let as = Number.NaN;
  let p = Number.NaN;
  let s = Number.NaN;
  let o = Number.NaN;
  let h = Number.NaN;
  let l = Number.NaN;
  let v = Number.NaN;
  let n = Number.NaN;
  let vw = Number.NaN;
  for (let k = 0; k < count; k++) {
    if (pos >= end) refuse();
    const head = src[pos] as number;
    // fixstr keys only: msgpackr turns any other key into text in ways not worth repeating here.
    if (head < 0xa0 || head > 0xbf) refuse();
    const len = head - 0xa0;
    const at = pos + 1;
    if (end - at < len) refuse();
    pos = at + len;
    const c0 = src[at] as number;
    if (len === 1) {
      switch (c0) {
        case 0x54: // T
          seen = once(seen, K_T);
          type = readType();
          continue;
        case 0x53: // S
          seen = once(seen, K_S);
          symbol = readSymbol();
          continue;
        case 0x74: // t
          seen = once(seen, K_t);
          readTime();
          time = tText;
          timeMs = tMs;
          continue;
        case 0x63: // c
          seen = once(seen, K_c);
          readC();
          close = cNum;
          conditions = cArr;
          continue;
        case 0x7a: // z
          seen = once(seen, K_z);
          z = readOptStr();
          continue;
        case 0x69: // i
          seen = once(seen, K_i);
          id = readId();
          continue;
        case 0x78: // x
          seen = once(seen, K_x);
          x = readOptStr();
          continue;
        case 0x70: // p
          seen = once(seen, K_p);
          p = readNum();
          continue;
        case 0x73: // s
          seen = once(seen, K_s);
          s = readNum();
          continue;
        case 0x6f: // o
          seen = once(seen, K_o);
          o = readNum();
          continue;
        case 0x68: // h
          seen = once(seen, K_h);
          h = readNum();
          continue;
        case 0x6c: // l
          seen = once(seen, K_l);
          l = readNum();
          continue;
        case 0x76: // v
          seen = once(seen, K_v);
          v = readNum();
          continue;
        case 0x6e: // n
          seen = once(seen, K_n);
          n = readNum();
          continue;
        default:
          skipValue();
          continue;
      }
    }
    if (len === 2) {
      switch ((c0 << 8) | (src[at + 1] as number)) {
        case 0x6278: // bx
          seen = once(seen, K_bx);
          bx = readOptStr();
          continue;
        case 0x6270: // bp
          seen = once(seen, K_bp);
          bp = readNum();
          continue;
        case 0x6273: // bs
          seen = once(seen, K_bs);
          bs = readNum();
          continue;
        case 0x6178: // ax
          seen = once(seen, K_ax);
          ax = readOptStr();
          continue;
        case 0x6170: // ap
          seen = once(seen, K_ap);
          ap = readNum();
          continue;
        case 0x6173: // as
          seen = once(seen, K_as);
          as = readNum();
          continue;
        case 0x7677: // vw
          seen = once(seen, K_vw);
          vw = readNum();
          continue;
        default:
          skipValue();
          continue;
      }
    }
    if (len === 3 && c0 === 0x74 && src[at + 1] === 0x6b && src[at + 2] === 0x73) {
      // tks
      seen = once(seen, K_tks);
      tks = readOptStr();
      continue;
    }
    skipValue();
  }
  // Every kind here needs T, a symbol and a time.
  if ((seen & (K_T | K_S | K_t)) !== (K_T | K_S | K_t)) refuse();
  // normalize.ts refuses what no market sends (negative prices and sizes, an inconsistent bar, a
  // time before 1970 or over a day ahead): comparisons on numbers already at hand.
  if ((timeMs < 0 || timeMs > timeBound.latestMs) && implausibleTime(timeMs)) refuse();
  switch (type) {
    case Q:
      if (!(finite(bp) && finite(bs) && finite(ap) && finite(as))) refuse();
      if (bp < 0 || bs < 0 || ap < 0 || as < 0) refuse();
      return makeQuote(symbol, bx, bp, bs, ax, ap, as, conditions, time, timeMs, z);
    case T:
      if (!(finite(p) && finite(s)) || p < 0 || s < 0) refuse();
      return makeTrade(symbol, id, x, p, s, conditions, time, timeMs, z, tks);
    default:
      if (!(finite(o) && finite(h) && finite(l) && finite(close) && finite(v))) refuse();
      if (!plausibleBar(o, h, l, close, v)) refuse();
      return makeBar(
        type === B ? 'bar' : type === D ? 'dailyBar' : 'updatedBar',
        symbol,
        o,
        h,
        l,
        close,
        v,
        finite(n) ? n : undefined,
        finite(vw) ? vw : undefined,
        time,
        timeMs,
      );
  }
}

// ---------------------------------------------------------------------------------------------
// Frames

/** Messages of the frame being decoded, delivered only once all of it was understood. */
const scratch: (MarketMessage | undefined)[] = [];
/** How many entries of `scratch` hold messages (cleared after delivery or refusal). */
let filled = 0;
/** Set while the sink runs: a re-entrant call would overwrite `scratch`, so it gets -1. */
let delivering = false;

function clearScratch(from: number): void {
  for (let i = from; i < filled; i++) scratch[i] = undefined;
  filled = 0;
  if (scratch.length > 4096) scratch.length = 0;
}

function decodeAll(bytes: Uint8Array): number {
  src = bytes;
  end = bytes.length;
  pos = 0;
  if (end === 0) refuse();
  view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tok = bytes[0] as number;
  let n: number;
  if (tok >= 0x90 && tok <= 0x9f) {
    n = tok - 0x90;
    pos = 1;
  } else if (tok === 0xdc) {
    need(3);
    n = view.getUint16(1);
    pos = 3;
  } else if (tok === 0xdd) {
    need(5);
    n = view.getUint32(1);
    pos = 5;
  } else {
    return refuse();
  }
  // Every item takes at least one byte: a larger count is truncated, whatever follows.
  if (n > end - pos) refuse();
  for (let i = 0; i < n; i++) {
    scratch[i] = readItem();
    filled = i + 1;
  }
  if (pos !== end) refuse();
  return n;
}

/**
 * Decodes a frame of quotes, trades and bars into the sink and returns how many messages it
 * delivered, or returns -1 without touching the sink when the frame is anything else (the caller
 * then runs the generic path on it). Exceptions thrown by the sink propagate.
 */
export function fastDecodeMsgpack(bytes: Uint8Array, sink: FrameSink): number {
  if (delivering) return -1;
  let n: number;
  try {
    n = decodeAll(bytes);
  } catch {
    // REFUSE, or a RangeError from a read we did not bounds-check well enough: either way the
    // generic path decides what this frame is.
    clearScratch(0);
    return -1;
  } finally {
    // Do not keep the frame alive until the next one.
    src = EMPTY;
    view = EMPTY_VIEW;
  }
  delivering = true;
  let i = 0;
  try {
    for (; i < n; i++) {
      const msg = scratch[i] as MarketMessage;
      scratch[i] = undefined;
      sink.message(msg);
    }
  } finally {
    delivering = false;
    clearScratch(i);
  }
  return n;
}
