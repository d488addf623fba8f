/**
 * The fused fast path for JSON frames: reads the frame's UTF-8 bytes once and builds quotes, trades
 * and bars directly through normalize.ts's builders, with no intermediate wire object and no
 * whole-frame string. It covers the common case only and hands everything else back: it returns -1
 * (having called the sink not at all) and the caller runs the generic path (decode.ts) on the whole
 * frame, so a frame is decoded by exactly one of the two, and both give identical messages.
 *
 * Accepted (anything else is -1):
 * - A top-level array, whitespace around any token, of objects whose T is q, t, b, d or u with
 *   every required field valid by normalize.ts's rules. `[]` delivers nothing and returns 0.
 * - Keys and string values of printable ASCII without escapes. A backslash, a control byte or any
 *   byte >= 0x80 inside a string gives -1 (such frames are rare, and the generic path decodes them
 *   exactly). This also covers a UTF-8 BOM, which JSON.parse rejects as well.
 * - Values: strings, numbers, true/false/null, and flat arrays of those. A nested object, or an
 *   array inside an array, gives -1 even where normalize would ignore it.
 * - Unknown keys with such values are skipped (normalize ignores them). A known key given twice
 *   gives -1 (JSON.parse would keep the last one; not worth imitating).
 * - Numbers exactly as JSON.parse converts them: Clinger's fast path (an integer mantissa below
 *   2^53 scaled by 10^k, |k| <= 22, is one correctly rounded operation on exact operands), else
 *   Number() of the number's own bytes, which V8 converts with the same correctly rounded algorithm
 *   as JSON.parse once the text has passed the strict JSON number grammar checked here.
 * - Trade ids: a number stays a number while |id| <= 2^53-1 (beyond, -1: the generic path
 *   re-decodes those exactly); a string stays a string; anything else is '' as in idOf.
 *
 * - `time` is a fresh string; `timeMs` is bit-identical to timeToEpochMs(time) (see timeMsOf).
 * - Impossible values (a negative price or size, an inconsistent bar, a time before 1970 or more
 *   than a day ahead) give -1, so that the generic path reports them, by normalize.ts's rules.
 *
 * Memory: strings kept in messages are fresh (String.fromCharCode or Buffer#latin1Slice copies),
 * never slices of the frame, and the module drops its reference to the frame before delivering.
 * Symbols and short codes (up to 7 characters) are interned through a cache keyed by their bytes
 * packed into a number, and condition lists through a cache of FROZEN shared arrays (the domain
 * type is readonly); both caches stop growing at CACHE_LIMIT entries so that a hostile server
 * cannot grow memory without bound.
 *
 * Speed: the member loop (scanItem) is one function with the cursor in a local, since the byte
 * scan is most of the work; on the benchmark feed this path costs about 0.6x a bare
 * `JSON.parse(buffer.toString())` and under half the generic path.
 */
import type { Bar, MarketMessage, TradeId } from '../../../shared/market.ts';
import { timeToEpochMs } from '../../../shared/market.ts';
import type { FrameSink } from './normalize.ts';
import {
  implausibleTime,
  makeBar,
  makeQuote,
  makeTrade,
  plausibleBar,
  timeBound,
} from './normalize.ts';

/** Node's Buffer has an untyped, argument-check-free latin1 slicer; it copies into a new string. */
type Bytes = Buffer & { latin1Slice(start: number, end: number): string };

/** Entries per intern cache; past it, new strings are simply not cached. */
const CACHE_LIMIT = 50_000;
/** Offsets live in Int32Arrays; no WebSocket frame comes near this. */
const MAX_FRAME = 0x7fff_ffff;
/** Elements of one condition list; longer lists (never seen) go to the generic path. */
const MAX_CONDITIONS = 32;

// What a key's value was. Kept per key slot for the item being read.
const ABSENT = 0;
const NUMBER = 1;
const STRING = 2;
const OTHER = 3; // null, true, false, or an array (only `c` keeps its array, in `conditions`)

// Key slots: every key any of the five kinds reads. A key unknown to all of them goes to SKIP.
const K_T = 0;
const K_S = 1;
const K_BX = 2;
const K_BP = 3;
const K_BS = 4;
const K_AX = 5;
const K_AP = 6;
const K_AS = 7;
const K_C = 8;
const K_TIME = 9;
const K_Z = 10;
const K_I = 11;
const K_X = 12;
const K_P = 13;
const K_SIZE = 14;
const K_TKS = 15;
const K_O = 16;
const K_H = 17;
const K_L = 18;
const K_V = 19;
const K_N = 20;
const K_VW = 21;
const SKIP = 22;
const SLOTS = 23;

/** One-character keys by their byte. */
const ONE_CHAR_KEYS = new Int8Array(128).fill(SKIP);
for (const [key, slot] of [
  ['T', K_T],
  ['S', K_S],
  ['c', K_C],
  ['t', K_TIME],
  ['z', K_Z],
  ['i', K_I],
  ['x', K_X],
  ['p', K_P],
  ['s', K_SIZE],
  ['o', K_O],
  ['h', K_H],
  ['l', K_L],
  ['v', K_V],
  ['n', K_N],
] as const) {
  ONE_CHAR_KEYS[key.charCodeAt(0)] = slot;
}

/** Exact powers of ten: every one up to 1e22 is a double without rounding. */
const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
  1e18, 1e19, 1e20, 1e21, 1e22,
];
const TWO_53 = 9_007_199_254_740_992;

const NO_CONDITIONS: readonly string[] = Object.freeze([]);

/** Every one-character string of ASCII, by its byte. */
const ONE_CHAR_STRINGS: string[] = [];
for (let c = 0; c < 128; c++) ONE_CHAR_STRINGS.push(String.fromCharCode(c));
/** Condition lists of one one-character string, by its byte, made when first seen. */
const SINGLE_CONDITIONS: (readonly string[] | undefined)[] = new Array<undefined>(128).fill(
  undefined,
);

// Per-frame state. The parser is a set of small functions sharing these instead of passing a
// cursor object around; every entry point resets them, and `src` is dropped before delivery.
const EMPTY = Buffer.alloc(0) as Bytes;
let src: Bytes = EMPTY;
/** The same bytes, for reading four at a time. */
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));
let view: DataView<ArrayBufferLike> = EMPTY_VIEW;
let pos = 0;
let end = 0;

// Per-item state: the value of each key slot (type, number, or string span), and `c` as a list.
const types = new Uint8Array(SLOTS);
const nums = new Float64Array(SLOTS);
const starts = new Int32Array(SLOTS);
const ends = new Int32Array(SLOTS);
/** Bit per slot: which keys the item just read had (a slot's type is stale without its bit). */
let present = 0;
let conditions: readonly string[] | undefined;
const condStarts = new Int32Array(MAX_CONDITIONS);
const condEnds = new Int32Array(MAX_CONDITIONS);

const strCache = new Map<number, string>();
const condCache = new Map<number, readonly string[]>();

/** Messages of the frame being read; delivered only once the whole frame was understood. */
const scratch: (MarketMessage | undefined)[] = [];
let batch = scratch;
let delivering = false;

function skipWs(): void {
  const b = src;
  let p = pos;
  while (p < end) {
    const c = b[p]!;
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
    p++;
  }
  pos = p;
}

/** The byte at pos, or -1 past the end. */
function peek(): number {
  return pos < end ? src[pos]! : -1;
}

/**
 * A string's body from pos (just past the opening quote) to its closing quote, whose index it
 * returns (pos then points after it); -1 for an escape, a control byte, a non-ASCII byte or no end.
 */
function scanString(): number {
  const b = src;
  const e = end;
  let p = pos;
  while (p < e) {
    const c = b[p]!;
    if (c === 34) {
      pos = p + 1;
      return p;
    }
    if (c === 92 || c < 32 || c > 126) return -1;
    p++;
  }
  return -1;
}

/**
 * A number from pos per the JSON grammar, converted as JSON.parse does; NaN (which no JSON number
 * can be) when the text is not a JSON number. The caller checks what follows it.
 */
function scanNumber(): number {
  const b = src;
  const e = end;
  const start = pos;
  let p = start;
  let neg = false;
  let c = b[p]!;
  if (c === 45) {
    neg = true;
    if (++p >= e) return Number.NaN;
    c = b[p]!;
  }
  let m = 0;
  if (c === 48) {
    c = ++p < e ? b[p]! : 0;
    if (c >= 48 && c <= 57) return Number.NaN; // leading zero
  } else if (c >= 49 && c <= 57) {
    do {
      m = m * 10 + (c - 48);
      c = ++p < e ? b[p]! : 0;
    } while (c >= 48 && c <= 57);
  } else {
    return Number.NaN;
  }
  let scale = 0;
  if (c === 46) {
    c = ++p < e ? b[p]! : 0;
    if (c < 48 || c > 57) return Number.NaN;
    do {
      m = m * 10 + (c - 48);
      scale--;
      c = ++p < e ? b[p]! : 0;
    } while (c >= 48 && c <= 57);
  }
  if (c === 101 || c === 69) {
    c = ++p < e ? b[p]! : 0;
    let expNeg = false;
    if (c === 43 || c === 45) {
      expNeg = c === 45;
      c = ++p < e ? b[p]! : 0;
    }
    if (c < 48 || c > 57) return Number.NaN;
    let exp = 0;
    do {
      if (exp < 1e6) exp = exp * 10 + (c - 48); // past that the fallback decides; no overflow
      c = ++p < e ? b[p]! : 0;
    } while (c >= 48 && c <= 57);
    scale += expNeg ? -exp : exp;
  }
  pos = p;
  if (m === 0) return neg ? -0 : 0;
  // m accumulated exactly iff it ended below 2^53 (each step exact, values only grow).
  if (m < TWO_53 && scale >= -22 && scale <= 22) {
    const v = scale < 0 ? m / POW10[-scale]! : m * POW10[scale]!;
    return neg ? -v : v;
  }
  return Number(b.latin1Slice(start, p));
}

/** `rest` (the literal's bytes after its first) at pos+1; moves past the literal. */
function scanLiteral(rest: string): boolean {
  const b = src;
  const p = pos + 1;
  if (p + rest.length > end) return false;
  for (let k = 0; k < rest.length; k++) if (b[p + k] !== rest.charCodeAt(k)) return false;
  pos = p + rest.length;
  return true;
}

/** A scalar array element: number, true, false or null (strings are handled by the caller). */
function scanScalar(c: number): boolean {
  if (c === 45 || (c >= 48 && c <= 57)) {
    const n = scanNumber();
    return n === n;
  }
  if (c === 110) return scanLiteral('ull');
  if (c === 116) return scanLiteral('rue');
  if (c === 102) return scanLiteral('alse');
  return false;
}

/**
 * A flat array from pos (just past '['). For the `c` slot, a list of strings also becomes
 * `conditions`: interned frozen arrays when short, else a fresh frozen array.
 */
function scanArray(keep: boolean): boolean {
  // One one-character string, as in ["R"]: one frozen array per character, no cache key.
  const b = src;
  const p = pos;
  if (p + 3 < end && b[p] === 34 && b[p + 2] === 34 && b[p + 3] === 93) {
    const ch = b[p + 1]!;
    if (ch >= 32 && ch <= 126 && ch !== 34 && ch !== 92) {
      pos = p + 4;
      if (keep) conditions = SINGLE_CONDITIONS[ch] ??= Object.freeze([ONE_CHAR_STRINGS[ch]!]);
      return true;
    }
  }
  skipWs();
  let c = peek();
  if (c === 93) {
    pos++;
    if (keep) conditions = NO_CONDITIONS;
    return true;
  }
  let count = 0;
  let allStrings = true;
  for (;;) {
    if (c === 34) {
      pos++;
      const s = pos;
      const q = scanString();
      if (q < 0) return false;
      if (keep) {
        if (count >= MAX_CONDITIONS) return false;
        condStarts[count] = s;
        condEnds[count] = q;
      }
    } else {
      if (!scanScalar(c)) return false;
      allStrings = false;
    }
    count++;
    skipWs();
    c = peek();
    if (c === 93) {
      pos++;
      break;
    }
    if (c !== 44) return false;
    pos++;
    skipWs();
    c = peek();
  }
  if (keep) conditions = allStrings ? conditionList(count) : undefined;
  return true;
}

/** The condition list of the spans just read, from the cache when it packs into a key. */
function conditionList(count: number): readonly string[] {
  const b = src;
  if (count === 1 && condEnds[0] === condStarts[0]! + 1) {
    const ch = b[condStarts[0]!]!;
    return (SINGLE_CONDITIONS[ch] ??= Object.freeze([ONE_CHAR_STRINGS[ch]!]));
  }
  // Key: a leading 1, then each string's bytes (7 bits each, never 0) and a 0 after it, base 128;
  // unique for lists of up to 7 symbols in all (50 bits, exact in a double).
  let key = 1;
  let symbols = 0;
  for (let k = 0; k < count; k++) {
    const s = condStarts[k]!;
    const e = condEnds[k]!;
    symbols += e - s + 1;
    if (symbols > 7) break;
    for (let p = s; p < e; p++) key = key * 128 + b[p]!;
    key *= 128;
  }
  if (symbols <= 7) {
    const hit = condCache.get(key);
    if (hit !== undefined) return hit;
  }
  const list: string[] = new Array<string>(count);
  for (let k = 0; k < count; k++) list[k] = intern(condStarts[k]!, condEnds[k]!);
  const frozen: readonly string[] = Object.freeze(list);
  if (symbols <= 7 && condCache.size < CACHE_LIMIT) condCache.set(key, frozen);
  return frozen;
}

/** The text of bytes [s, e): interned when up to 7 characters, else a fresh copy. */
function intern(s: number, e: number): string {
  const len = e - s;
  const b = src;
  if (len === 1) return ONE_CHAR_STRINGS[b[s]!]!; // exchanges, tapes, conditions
  if (len > 7) return b.latin1Slice(s, e);
  // Printable ASCII never has a 0 byte, so base 128 without a sentinel is unique; up to 4
  // characters (every stock symbol) the key stays a small integer, the cheapest kind of Map key.
  let key = 0;
  for (let p = s; p < e; p++) key = key * 128 + b[p]!;
  let text = strCache.get(key);
  if (text === undefined) {
    text = b.latin1Slice(s, e);
    if (strCache.size < CACHE_LIMIT) strCache.set(key, text);
  }
  return text;
}

/** A value other than a string or number at pos (c is its first byte) into `slot`. */
function scanOther(slot: number, c: number): boolean {
  types[slot] = OTHER;
  if (c === 91) {
    pos++;
    return scanArray(slot === K_C);
  }
  return scanScalar(c);
}

/** The slot of a two-character key. */
function twoCharSlot(c0: number, c1: number): number {
  if (c0 === 98) {
    // b?
    if (c1 === 120) return K_BX;
    if (c1 === 112) return K_BP;
    if (c1 === 115) return K_BS;
  } else if (c0 === 97) {
    // a?
    if (c1 === 120) return K_AX;
    if (c1 === 112) return K_AP;
    if (c1 === 115) return K_AS;
  } else if (c0 === 118 && c1 === 119) {
    return K_VW;
  }
  return SKIP;
}

/** The type of a slot's value in the item just read. */
function typeOf(slot: number): number {
  return (present & (1 << slot)) !== 0 ? types[slot]! : ABSENT;
}

/** A required number: the value when finite, else NaN. */
function reqNum(slot: number): number {
  return typeOf(slot) === NUMBER ? nums[slot]! : Number.NaN;
}

function optNum(slot: number): number | undefined {
  if (typeOf(slot) !== NUMBER) return undefined;
  const n = nums[slot]!;
  return n - n === 0 ? n : undefined;
}

function optStr(slot: number): string | undefined {
  return typeOf(slot) === STRING ? intern(starts[slot]!, ends[slot]!) : undefined;
}

/** S: a non-empty string, or undefined. */
function symbolOf(): string | undefined {
  if (typeOf(K_S) !== STRING) return undefined;
  const s = starts[K_S]!;
  const e = ends[K_S]!;
  return e > s ? intern(s, e) : undefined;
}

/** t: normalize's isTime (20+ characters, a digit first) as fresh text, or undefined. */
function timeOf(): string | undefined {
  if (typeOf(K_TIME) !== STRING) return undefined;
  const s = starts[K_TIME]!;
  const e = ends[K_TIME]!;
  if (e - s < 20) return undefined;
  const c = src[s]!;
  if (c < 48 || c > 57) return undefined;
  const b = src;
  // The usual form (nine fractional digits): one builtin call that allocates a flat one-byte
  // string, a little cheaper than crossing into C++ for latin1Slice.
  if (e - s === 30) {
    // prettier-ignore
    return String.fromCharCode(
      b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!,
      b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!, b[s + 14]!, b[s + 15]!, b[s + 16]!,
      b[s + 17]!, b[s + 18]!, b[s + 19]!, b[s + 20]!, b[s + 21]!, b[s + 22]!, b[s + 23]!,
      b[s + 24]!, b[s + 25]!, b[s + 26]!, b[s + 27]!, b[s + 28]!, b[s + 29]!,
    );
  }
  return b.latin1Slice(s, e);
}

// Whole seconds already converted, keyed by the 19 bytes of `YYYY-MM-DDTHH:MM:SS` read as five
// 32-bit words (the last two overlap). A few entries, because a frame mixes quotes of this second
// with bars of the minute or day, which made timeToEpochMs's one-entry cache miss (and run a regex
// and Date.parse) twice per bar.
const SECOND_SLOTS = 4;
const secondWords = new Int32Array(SECOND_SLOTS * 5);
const secondMs = new Float64Array(SECOND_SLOTS);
let secondCount = 0;
let secondNext = 0;

/**
 * timeToEpochMs(time) of the time whose bytes are [s, e), bit for bit, reading the bytes: for
 * `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` it computes exactly what timeToEpochMs computes (Date.parse of
 * the whole seconds + Z, plus the fraction as n / 10^k, one correctly rounded division of exact
 * operands, times 1000); any other text goes to timeToEpochMs itself. Calling timeToEpochMs for
 * every message instead (even with a cache of several seconds in it) measured 373 -> 503 ns per
 * message for the whole fast path: it reads the string a character at a time, this reads words.
 */
function timeMsOf(s: number, e: number, time: string): number {
  const b = src;
  const len = e - s;
  if (len > 30 || b[e - 1] !== 90) return timeToEpochMs(time); // 'Z'
  let frac = 0;
  let digits = 0;
  if (len > 20) {
    if (len === 21 || b[s + 19] !== 46) return timeToEpochMs(time); // '.' and 1-9 digits
    for (let p = s + 20; p < e - 1; p++) {
      const d = b[p]! - 48;
      if (d < 0 || d > 9) return timeToEpochMs(time);
      frac = frac * 10 + d;
    }
    digits = len - 21;
  }
  const v = view;
  const w0 = v.getInt32(s, true);
  const w1 = v.getInt32(s + 4, true);
  const w2 = v.getInt32(s + 8, true);
  const w3 = v.getInt32(s + 12, true);
  const w4 = v.getInt32(s + 15, true);
  let ms = Number.NaN;
  for (let k = 0, w = 0; k < secondCount; k++, w += 5) {
    if (
      secondWords[w + 4] === w4 &&
      secondWords[w + 3] === w3 &&
      secondWords[w] === w0 &&
      secondWords[w + 1] === w1 &&
      secondWords[w + 2] === w2
    ) {
      ms = secondMs[k]!;
      break;
    }
  }
  if (ms !== ms) {
    // Not seen: the whole seconds must have digits and separators exactly where the RFC 3339
    // pattern of timeToEpochMs wants them, since a cached entry skips that check.
    for (let k = 0; k < 19; k++) {
      const c = b[s + k]!;
      const want = SECOND_SHAPE.charCodeAt(k);
      if (want === 100 ? c < 48 || c > 57 : c !== want) return timeToEpochMs(time);
    }
    ms = Date.parse(`${time.slice(0, 19)}Z`);
    if (ms !== ms) return ms; // as timeToEpochMs: the pattern matched, the date did not parse
    const w = secondNext * 5;
    secondWords[w] = w0;
    secondWords[w + 1] = w1;
    secondWords[w + 2] = w2;
    secondWords[w + 3] = w3;
    secondWords[w + 4] = w4;
    secondMs[secondNext] = ms;
    secondNext = (secondNext + 1) % SECOND_SLOTS;
    if (secondCount < SECOND_SLOTS) secondCount++;
  }
  return digits === 0 ? ms : ms + (frac / POW10[digits]!) * 1000;
}

/** `d` stands for a digit. */
const SECOND_SHAPE = 'dddd-dd-ddTdd:dd:dd';

/** idOf, except that a number past 2^53-1 is refused (NaN): the generic path re-decodes it. */
function idOf(): TradeId {
  const type = typeOf(K_I);
  if (type === NUMBER) {
    const id = nums[K_I]!;
    return id > Number.MAX_SAFE_INTEGER || id < -Number.MAX_SAFE_INTEGER ? Number.NaN : id;
  }
  if (type === STRING) return src.latin1Slice(starts[K_I]!, ends[K_I]!);
  return '';
}

/**
 * One object from pos (just past '{') to a message, or undefined to refuse the frame. The member
 * loop is written out in one function with the cursor in a local: the hot path of the decoder.
 */
function scanItem(): MarketMessage | undefined {
  const b = src;
  const e = end;
  let p = pos;
  let mask = 0;
  conditions = undefined;
  let c = p < e ? b[p]! : -1;
  while (c === 32 || c === 10 || c === 13 || c === 9) c = ++p < e ? b[p]! : -1;
  if (c !== 125) {
    for (;;) {
      // The key: a string without escapes, matched by length and bytes.
      if (c !== 34) return undefined;
      const ks = ++p;
      for (;;) {
        if (p >= e) return undefined;
        c = b[p]!;
        if (c === 34) break;
        if (c === 92 || c < 32 || c > 126) return undefined;
        p++;
      }
      const len = p - ks;
      const slot =
        len === 1
          ? ONE_CHAR_KEYS[b[ks]!]!
          : len === 2
            ? twoCharSlot(b[ks]!, b[ks + 1]!)
            : len === 3 && b[ks] === 116 && b[ks + 1] === 107 && b[ks + 2] === 115
              ? K_TKS
              : SKIP;
      if (slot !== SKIP) {
        const bit = 1 << slot;
        if ((mask & bit) !== 0) return undefined; // a duplicate key
        mask |= bit;
      }
      c = ++p < e ? b[p]! : -1;
      while (c === 32 || c === 10 || c === 13 || c === 9) c = ++p < e ? b[p]! : -1;
      if (c !== 58) return undefined;
      c = ++p < e ? b[p]! : -1;
      while (c === 32 || c === 10 || c === 13 || c === 9) c = ++p < e ? b[p]! : -1;
      // The value.
      if (c === 34) {
        const vs = ++p;
        for (;;) {
          if (p >= e) return undefined;
          c = b[p]!;
          if (c === 34) break;
          if (c === 92 || c < 32 || c > 126) return undefined;
          p++;
        }
        types[slot] = STRING;
        starts[slot] = vs;
        ends[slot] = p;
        p++;
      } else if (c >= 49 && c <= 57) {
        // A positive number without a leading zero: the common case (prices, sizes, ids), read
        // here when it has no exponent and takes Clinger's fast path, else by scanNumber.
        let q = p;
        let m = 0;
        let d = c - 48;
        do {
          m = m * 10 + d;
          c = ++q < e ? b[q]! : -1;
          d = c - 48;
        } while (d >= 0 && d <= 9);
        let scale = 0;
        let plain = true; // no exponent, and digits after a '.' (else scanNumber decides)
        if (c === 46) {
          c = ++q < e ? b[q]! : -1;
          d = c - 48;
          if (d < 0 || d > 9) plain = false;
          while (d >= 0 && d <= 9) {
            m = m * 10 + d;
            scale++;
            c = ++q < e ? b[q]! : -1;
            d = c - 48;
          }
        }
        let n: number;
        if (plain && c !== 101 && c !== 69 && m < TWO_53 && scale <= 22) {
          n = scale === 0 ? m : m / POW10[scale]!;
          p = q;
        } else {
          pos = p;
          n = scanNumber();
          if (n !== n) return undefined;
          p = pos;
        }
        types[slot] = NUMBER;
        nums[slot] = n;
      } else if (c === 45 || c === 48) {
        pos = p;
        const n = scanNumber();
        if (n !== n) return undefined;
        p = pos;
        types[slot] = NUMBER;
        nums[slot] = n;
      } else {
        pos = p;
        if (!scanOther(slot, c)) return undefined;
        p = pos;
      }
      c = p < e ? b[p]! : -1;
      while (c === 32 || c === 10 || c === 13 || c === 9) c = ++p < e ? b[p]! : -1;
      if (c === 44) {
        c = ++p < e ? b[p]! : -1;
        while (c === 32 || c === 10 || c === 13 || c === 9) c = ++p < e ? b[p]! : -1;
        continue;
      }
      if (c !== 125) return undefined;
      break;
    }
  }
  pos = p + 1;
  present = mask;
  if (typeOf(K_T) !== STRING || ends[K_T] !== starts[K_T]! + 1) return undefined;
  switch (b[starts[K_T]!]) {
    case 113: // q
      return quote();
    case 116: // t
      return trade();
    case 98: // b
      return bar('bar');
    case 100: // d
      return bar('dailyBar');
    case 117: // u
      return bar('updatedBar');
    default:
      return undefined;
  }
}

function quote(): MarketMessage | undefined {
  const symbol = symbolOf();
  if (symbol === undefined) return undefined;
  const bidPrice = reqNum(K_BP);
  const bidSize = reqNum(K_BS);
  const askPrice = reqNum(K_AP);
  const askSize = reqNum(K_AS);
  if (bidPrice - bidPrice !== 0 || bidSize - bidSize !== 0) return undefined;
  if (askPrice - askPrice !== 0 || askSize - askSize !== 0) return undefined;
  // normalize.ts refuses what no market sends: comparisons on numbers already at hand.
  if (bidPrice < 0 || bidSize < 0 || askPrice < 0 || askSize < 0) return undefined;
  const time = timeOf();
  if (time === undefined) return undefined;
  const timeMs = timeMsOf(starts[K_TIME]!, ends[K_TIME]!, time);
  if ((timeMs < 0 || timeMs > timeBound.latestMs) && implausibleTime(timeMs)) return undefined;
  return makeQuote(
    symbol,
    optStr(K_BX),
    bidPrice,
    bidSize,
    optStr(K_AX),
    askPrice,
    askSize,
    typeOf(K_C) === OTHER ? conditions : undefined,
    time,
    timeMs,
    optStr(K_Z),
  );
}

function trade(): MarketMessage | undefined {
  const symbol = symbolOf();
  if (symbol === undefined) return undefined;
  const price = reqNum(K_P);
  const size = reqNum(K_SIZE);
  if (price - price !== 0 || size - size !== 0 || price < 0 || size < 0) return undefined;
  const time = timeOf();
  if (time === undefined) return undefined;
  const timeMs = timeMsOf(starts[K_TIME]!, ends[K_TIME]!, time);
  if ((timeMs < 0 || timeMs > timeBound.latestMs) && implausibleTime(timeMs)) return undefined;
  const id = idOf();
  if (id !== id) return undefined;
  return makeTrade(
    symbol,
    id,
    optStr(K_X),
    price,
    size,
    typeOf(K_C) === OTHER ? conditions : undefined,
    time,
    timeMs,
    optStr(K_Z),
    optStr(K_TKS),
  );
}

function bar(kind: Bar['kind']): MarketMessage | undefined {
  const symbol = symbolOf();
  if (symbol === undefined) return undefined;
  const open = reqNum(K_O);
  const high = reqNum(K_H);
  const low = reqNum(K_L);
  const close = reqNum(K_C);
  const volume = reqNum(K_V);
  if (open - open !== 0 || high - high !== 0 || low - low !== 0) return undefined;
  if (close - close !== 0 || volume - volume !== 0) return undefined;
  if (!plausibleBar(open, high, low, close, volume)) return undefined;
  const time = timeOf();
  if (time === undefined) return undefined;
  const timeMs = timeMsOf(starts[K_TIME]!, ends[K_TIME]!, time);
  if ((timeMs < 0 || timeMs > timeBound.latestMs) && implausibleTime(timeMs)) return undefined;
  return makeBar(
    kind,
    symbol,
    open,
    high,
    low,
    close,
    volume,
    optNum(K_N),
    optNum(K_VW),
    time,
    timeMs,
  );
}

/** The whole frame into `batch`; the message count, or -1 to refuse. */
function scanFrame(): number {
  skipWs();
  if (peek() !== 91) return -1;
  pos++;
  skipWs();
  let count = 0;
  let c = peek();
  if (c !== 93) {
    const out = batch;
    for (;;) {
      if (c !== 123) return -1;
      pos++;
      const msg = scanItem();
      if (msg === undefined) return -1;
      out[count++] = msg;
      skipWs();
      c = peek();
      if (c === 93) break;
      if (c !== 44) return -1;
      pos++;
      skipWs();
      c = peek();
    }
  }
  pos++;
  skipWs();
  return pos === end ? count : -1;
}

/**
 * Decodes a JSON frame's bytes (a text frame as ws hands it over) into the sink and returns how
 * many messages it delivered; or returns -1, without having called the sink, when the frame is not
 * one the fast path takes (see the module comment): the caller then decodes it the generic way.
 * Never throws because of its input; an exception thrown by the sink propagates.
 */
export function fastDecodeJson(bytes: Uint8Array, sink: FrameSink): number {
  if (bytes.length === 0 || bytes.length > MAX_FRAME) return -1;
  // A sink that decodes another frame while this one is being delivered gets its own batch.
  const out = delivering ? [] : scratch;
  batch = out;
  let count: number;
  try {
    src = (
      Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    ) as Bytes;
    view = new DataView(src.buffer, src.byteOffset, src.byteLength);
    pos = 0;
    end = bytes.length;
    count = scanFrame();
  } catch {
    // Nothing here throws on any input that we know of; if something does, the generic path decides.
    count = -1;
  } finally {
    src = EMPTY; // do not keep the frame alive until the next one
    view = EMPTY_VIEW;
    batch = scratch;
  }
  if (count <= 0) return count;
  const wasDelivering = delivering;
  delivering = true;
  let k = 0;
  try {
    for (; k < count; k++) {
      const msg = out[k]!;
      out[k] = undefined; // the scratch array must not keep old messages alive either
      sink.message(msg);
    }
  } finally {
    // A throwing sink leaves the rest undelivered: do not keep them alive either.
    for (let j = k + 1; j < count; j++) out[j] = undefined;
    delivering = wasDelivering;
  }
  return count;
}
