/**
 * The msgpack fast path against the generic path. The reference is the generic decoder's own parts
 * (parseFrame = frameUnpackr, then normalizeItem per item), so the comparison stays meaningful once
 * decodeFrame itself tries the fast path first. Frames come from framePackr (as the simulator and
 * the bench encode) and from a hand-rolled encoder that picks a random valid msgpack encoding for
 * every value (int widths, float32, str8/16/32, map16/32, array16/32, every timestamp layout), so
 * the odd encodings a server may use are exercised too.
 */
import { describe, expect, it } from 'vitest';
import type { MarketMessage } from '../../../../shared/market.ts';
import { formatEpoch } from '../../../../shared/market.ts';
import {
  decodeFrame,
  normalizeItem,
  parseFrame,
} from '../../../../electron/stream/protocol/decode.ts';
import type { FrameSink, InvalidItem } from '../../../../electron/stream/protocol/decode.ts';
import {
  FAST_MSGPACK_CACHE_LIMIT,
  fastDecodeMsgpack,
  fastMsgpackCacheSizes,
} from '../../../../electron/stream/protocol/fast-msgpack.ts';
import { WireTimestamp, framePackr } from '../../../../electron/stream/protocol/msgpack.ts';

// ---------------------------------------------------------------------------------------------
// Harness

interface Collected {
  messages: MarketMessage[];
  reports: InvalidItem[];
}

function collector(): FrameSink & Collected {
  const messages: MarketMessage[] = [];
  const reports: InvalidItem[] = [];
  return { messages, reports, message: (m) => messages.push(m), invalid: (i) => reports.push(i) };
}

/** The generic path: msgpackr's frameUnpackr (via parseFrame) and normalize, item by item. */
function generic(bytes: Buffer): (Collected & { array: boolean }) | undefined {
  const parsed = parseFrame(bytes, true, 'msgpack');
  if (!parsed.ok) return undefined;
  const sink = collector();
  if (!Array.isArray(parsed.value)) return { messages: [], reports: sink.reports, array: false };
  for (const item of parsed.value as unknown[]) normalizeItem(item, sink);
  return { messages: sink.messages, reports: sink.reports, array: true };
}

function fast(bytes: Buffer): { n: number; messages: MarketMessage[]; calls: number } {
  const messages: MarketMessage[] = [];
  let calls = 0;
  const n = fastDecodeMsgpack(bytes, {
    message: (m) => {
      calls++;
      messages.push(m);
    },
    invalid: () => {
      calls++;
      throw new Error('the fast path must never report an invalid item');
    },
  });
  return { n, messages, calls };
}

/** Same values, same key order, and Object.is on every number (so -0 and NaN count). */
function expectIdentical(actual: readonly MarketMessage[], expected: readonly MarketMessage[]) {
  expect(actual).toStrictEqual(expected);
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as unknown as Record<string, unknown>;
    const e = expected[i] as unknown as Record<string, unknown>;
    expect(Object.keys(a)).toEqual(Object.keys(e));
    for (const key of Object.keys(e)) {
      if (typeof e[key] === 'number' || typeof a[key] === 'number') {
        if (!Object.is(a[key], e[key])) {
          throw new Error(`${key}: ${String(a[key])} is not ${String(e[key])} (item ${i})`);
        }
      }
    }
  }
}

interface Tally {
  accepted: number;
  refused: number;
}

/**
 * The contract for one frame: -1 leaves the sink untouched; otherwise the messages are exactly
 * the generic path's, which must have found nothing invalid; decodeFrame agrees as well.
 */
function check(bytes: Buffer, tally?: Tally): number {
  const f = fast(bytes);
  if (f.n === -1) {
    expect(f.calls).toBe(0);
    if (tally) tally.refused++;
    return -1;
  }
  if (tally) tally.accepted++;
  expect(f.n).toBe(f.messages.length);
  const g = generic(bytes);
  expect(g).toBeDefined();
  expect(g?.array).toBe(true);
  expect(g?.reports).toEqual([]);
  expectIdentical(f.messages, g?.messages ?? []);
  const whole = collector();
  expect(decodeFrame(bytes, true, 'msgpack', whole)).toBe(f.n);
  expect(whole.reports).toEqual([]);
  expectIdentical(f.messages, whole.messages);
  return f.n;
}

// ---------------------------------------------------------------------------------------------
// A msgpack writer that picks a random valid encoding for every value

type Node =
  | { readonly k: 'num'; readonly v: number } // a JS number: any encoding that reads back as it
  | { readonly k: 'int'; readonly v: bigint } // an integer: any int width (or a float, when exact)
  | { readonly k: 'f32'; readonly v: number } // forced float32 (v must be exact in float32)
  | { readonly k: 'f64'; readonly v: number } // forced float64
  | { readonly k: 'str'; readonly v: string }
  | { readonly k: 'strBytes'; readonly b: readonly number[] } // a str of raw (maybe invalid) bytes
  | { readonly k: 'nil' }
  | { readonly k: 'bool'; readonly v: boolean }
  | { readonly k: 'undef' }
  | { readonly k: 'ts'; readonly s: number; readonly ns: number }
  | { readonly k: 'raw'; readonly b: readonly number[] }
  | { readonly k: 'arr'; readonly items: readonly Node[] }
  | { readonly k: 'map'; readonly entries: readonly (readonly [Key, Node])[] };

/** A key: fixstr text (the normal case), or a node written as is (str8 keys and other oddities). */
type Key = string | Node;

const num = (v: number): Node => ({ k: 'num', v });
const str = (v: string): Node => ({ k: 'str', v });
const NIL: Node = { k: 'nil' };

type Rand = () => number;

function mulberry32(seed: number): Rand {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pickOf = <T>(rand: Rand, list: readonly T[]): T =>
  list[Math.floor(rand() * list.length)] as T;
const intBelow = (rand: Rand, n: number): number => Math.floor(rand() * n);

class Writer {
  readonly out: number[] = [];
  /** Set when a 64-bit integer past 2^53 was written: the fast path leaves those to the generic. */
  bigInt64 = false;
  readonly rand: Rand;
  /** No 64-bit integers past 2^53 (they are written as floats then). */
  readonly clean: boolean;
  constructor(rand: Rand, clean = false) {
    this.rand = rand;
    this.clean = clean;
  }

  bytes(...b: number[]): void {
    for (const x of b) this.out.push(x & 0xff);
  }
  u16(v: number): void {
    this.bytes(v >>> 8, v);
  }
  u32(v: number): void {
    this.bytes(v >>> 24, v >>> 16, v >>> 8, v);
  }
  big64(v: bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt.asUintN(64, v));
    this.bytes(...b);
  }
  f64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    this.bytes(0xcb, ...b);
  }
  f32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatBE(v);
    this.bytes(0xca, ...b);
  }

  int(v: bigint): void {
    const options: (() => void)[] = [];
    if (v >= 0n && v <= 127n) options.push(() => this.bytes(Number(v)));
    if (v >= -32n && v < 0n) options.push(() => this.bytes(Number(v) & 0xff));
    if (v >= 0n && v <= 0xffn) options.push(() => this.bytes(0xcc, Number(v)));
    if (v >= 0n && v <= 0xffffn) options.push(() => (this.bytes(0xcd), this.u16(Number(v))));
    if (v >= 0n && v <= 0xffffffffn) options.push(() => (this.bytes(0xce), this.u32(Number(v))));
    const past53 = v > 2n ** 53n - 1n || v < -(2n ** 53n) + 1n;
    if (past53 && this.clean) {
      // left out below
    } else if (v >= 0n && v < 2n ** 64n) {
      options.push(() => ((this.bigInt64 ||= past53), this.bytes(0xcf), this.big64(v)));
    }
    if (v >= -128n && v <= 127n) options.push(() => this.bytes(0xd0, Number(v)));
    if (v >= -32768n && v <= 32767n) options.push(() => (this.bytes(0xd1), this.u16(Number(v))));
    if (v >= -(2n ** 31n) && v < 2n ** 31n) {
      options.push(() => (this.bytes(0xd2), this.u32(Number(v))));
    }
    if (past53 && this.clean) {
      // left out
    } else if (v >= -(2n ** 63n) && v < 2n ** 63n) {
      options.push(() => ((this.bigInt64 ||= past53), this.bytes(0xd3), this.big64(v)));
    }
    const asNumber = Number(v);
    if (BigInt(asNumber) === v) options.push(() => this.f64(asNumber));
    if (BigInt(asNumber) === v && Math.fround(asNumber) === asNumber) {
      options.push(() => this.f32(asNumber));
    }
    pickOf(this.rand, options)();
  }

  number(v: number): void {
    if (Number.isInteger(v) && !Object.is(v, -0) && Math.abs(v) < 2 ** 63 && this.rand() < 0.8) {
      this.int(BigInt(v));
    } else if (Object.is(Math.fround(v), v) && this.rand() < 0.3) {
      this.f32(v);
    } else {
      this.f64(v);
    }
  }

  strHeader(len: number): void {
    const options: (() => void)[] = [];
    if (len < 32)
      options.push(
        () => this.bytes(0xa0 | len),
        () => this.bytes(0xa0 | len),
      );
    if (len < 0x100) options.push(() => this.bytes(0xd9, len));
    if (len < 0x10000) options.push(() => (this.bytes(0xda), this.u16(len)));
    options.push(() => (this.bytes(0xdb), this.u32(len)));
    pickOf(this.rand, options)();
  }

  container(len: number, fix: number, b16: number, b32: number): void {
    const options: (() => void)[] = [];
    if (len < 16)
      options.push(
        () => this.bytes(fix | len),
        () => this.bytes(fix | len),
      );
    if (len < 0x10000) options.push(() => (this.bytes(b16), this.u16(len)));
    options.push(() => (this.bytes(b32), this.u32(len)));
    pickOf(this.rand, options)();
  }

  timestamp(s: number, ns: number): void {
    const options: (() => void)[] = [];
    if (ns === 0 && s >= 0 && s < 2 ** 32) {
      options.push(() => (this.bytes(0xd6, 0xff), this.u32(s)));
      options.push(() => (this.bytes(0xc7, 4, 0xff), this.u32(s)));
    }
    if (s >= 0 && s < 2 ** 34) {
      const hi = ns * 4 + Math.floor(s / 2 ** 32);
      options.push(() => (this.bytes(0xd7, 0xff), this.u32(hi), this.u32(s >>> 0)));
      options.push(() => (this.bytes(0xc7, 8, 0xff), this.u32(hi), this.u32(s >>> 0)));
    }
    options.push(() => (this.bytes(0xc7, 12, 0xff), this.u32(ns), this.big64(BigInt(s))));
    pickOf(this.rand, options)();
  }

  key(key: Key): void {
    if (typeof key === 'string') {
      const b = Buffer.from(key, 'utf8');
      this.bytes(0xa0 | b.length, ...b); // keys stay fixstr: the fast path's subset
    } else {
      this.node(key);
    }
  }

  node(n: Node): void {
    switch (n.k) {
      case 'num':
        return this.number(n.v);
      case 'int':
        return this.int(n.v);
      case 'f32':
        return this.f32(n.v);
      case 'f64':
        return this.f64(n.v);
      case 'str': {
        const b = Buffer.from(n.v, 'utf8');
        this.strHeader(b.length);
        return this.bytes(...b);
      }
      case 'strBytes':
        this.strHeader(n.b.length);
        return this.bytes(...n.b);
      case 'nil':
        return this.bytes(0xc0);
      case 'bool':
        return this.bytes(n.v ? 0xc3 : 0xc2);
      case 'undef':
        return this.bytes(0xd4, 0, 0);
      case 'ts':
        return this.timestamp(n.s, n.ns);
      case 'raw':
        return this.bytes(...n.b);
      case 'arr':
        this.container(n.items.length, 0x90, 0xdc, 0xdd);
        for (const item of n.items) this.node(item);
        return;
      case 'map':
        this.container(n.entries.length, 0x80, 0xde, 0xdf);
        for (const [key, value] of n.entries) {
          this.key(key);
          this.node(value);
        }
        return;
    }
  }
}

function encode(rand: Rand, root: Node, g?: Gen): Buffer {
  const w = new Writer(rand, g?.clean);
  w.node(root);
  if (g && w.bigInt64) g.sure = false;
  return Buffer.from(w.out);
}

// ---------------------------------------------------------------------------------------------
// Random items. `sure` is false once a choice was made that the fast path may refuse by design
// (it then has to fall back; the generic path still decodes the frame).

interface Gen {
  readonly rand: Rand;
  /** Make no choice the fast path may refuse (every other frame, so that most are taken). */
  readonly clean: boolean;
  sure: boolean;
}

/** Whether to make a choice the fast path may refuse by design; remembers that it was made. */
function risky(g: Gen): boolean {
  if (g.clean) return false;
  g.sure = false;
  return true;
}

const MIN_SECONDS = -62_167_219_200;
const MAX_SECONDS = 253_402_300_799;
const SYMBOL_POOL = [
  'A',
  'AAPL',
  'MSFT',
  'BRK.B',
  'BTC/USD',
  'DOGE/USD',
  'AAVE/USDC',
  'SHIB/USDT1',
];
const ASCII = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./-_@ ';

function asciiText(g: Gen, min: number, max: number): string {
  const len = min + intBelow(g.rand, max - min + 1);
  let s = '';
  for (let i = 0; i < len; i++) {
    // Mostly printable, now and then a control character (still ASCII).
    s += g.rand() < 0.03 ? String.fromCharCode(intBelow(g.rand, 32)) : pickOf(g.rand, [...ASCII]);
  }
  return s;
}

/** A random finite double from random bits (any exponent). */
function anyDouble(rand: Rand): number {
  const b = Buffer.alloc(8);
  for (let i = 0; i < 8; i++) b[i] = intBelow(rand, 256);
  const v = b.readDoubleBE(0);
  return Number.isFinite(v) ? v : 1.5;
}

/** The number a numeric node reads back as (NaN for anything else). */
function numberOf(node: Node): number {
  if (node.k === 'num' || node.k === 'f32' || node.k === 'f64') return node.v;
  if (node.k === 'int') return Number(node.v);
  return Number.NaN;
}

/**
 * A valid price, size or volume, in any of its encodings: finite and not below zero (normalize
 * refuses negative ones; -0 passes), so negative encodings are drawn and then left for anyNumber.
 */
function requiredNumber(g: Gen): Node {
  for (;;) {
    const node = anyNumber(g);
    if (numberOf(node) >= 0) return node;
  }
}

/** Any finite number, in any of its encodings, negative ones included (n, vw, unknown keys). */
function anyNumber(g: Gen): Node {
  const r = g.rand();
  if (r < 0.25) return num(Math.round(g.rand() * 1e6) / 100); // a price
  if (r < 0.4) return num(intBelow(g.rand, 1000));
  if (r < 0.5) return num(-intBelow(g.rand, 1e6));
  if (r < 0.55) return { k: 'f64', v: -0 };
  if (r < 0.6) return { k: 'f32', v: -0 };
  if (r < 0.65) return { k: 'f32', v: Math.fround(g.rand() * 1000 - 500) };
  if (r < 0.72)
    return { k: 'int', v: BigInt(Math.floor((g.rand() * 2 - 1) * Number.MAX_SAFE_INTEGER)) };
  if (r < 0.75)
    return {
      k: 'int',
      v: pickOf(g.rand, [2n ** 53n - 1n, -(2n ** 53n) + 1n, 2n ** 32n, -(2n ** 31n)]),
    };
  if (r < 0.8) return num(pickOf(g.rand, [1e300, -1e300, 5e-324, Number.MAX_VALUE, 2 ** 60, 1e21]));
  return num(anyDouble(g.rand));
}

/** An optional number (n, vw): usually a number, sometimes anything normalize maps to undefined. */
function optionalNumber(g: Gen): Node | undefined {
  const r = g.rand();
  if (r < 0.15) return undefined;
  if (r < 0.2) return NIL;
  if (r < 0.23) return { k: 'undef' };
  if (r < 0.26) return { k: 'f64', v: Number.NaN };
  if (r < 0.29) return { k: 'f64', v: pickOf(g.rand, [Infinity, -Infinity]) };
  if (r < 0.32) return str(asciiText(g, 0, 5));
  if (r < 0.34) return { k: 'bool', v: g.rand() < 0.5 };
  return anyNumber(g);
}

/** An optional string slot (bx, ax, z, x, tks). */
function optionalString(g: Gen): Node | undefined {
  const r = g.rand();
  if (r < 0.15) return undefined;
  if (r < 0.2) return NIL;
  if (r < 0.23) return { k: 'undef' };
  if (r < 0.27) return requiredNumber(g);
  if (r < 0.3) return { k: 'bool', v: g.rand() < 0.5 };
  if (r < 0.32 && risky(g)) {
    // non-ASCII: the fast path may refuse it
    return str(pickOf(g.rand, ['é', 'Ü', '日本', '\u{1f600}']));
  }
  if (r < 0.33 && risky(g)) {
    // bytes that are not UTF-8
    return { k: 'strBytes', b: [0x41, 0xff, 0xc3] };
  }
  if (r < 0.34 && risky(g)) {
    // a nested value where normalize wants a string (it maps it to undefined)
    return { k: 'arr', items: [str('V')] };
  }
  return str(
    g.rand() < 0.8 ? pickOf(g.rand, ['V', 'Q', 'K', 'P', 'A', 'B', 'C', '']) : asciiText(g, 0, 20),
  );
}

function symbolNode(g: Gen): Node {
  const r = g.rand();
  if (r < 0.6) return str(pickOf(g.rand, SYMBOL_POOL));
  if (r < 0.95) return str(asciiText(g, 1, 14));
  return str(asciiText(g, 15, 40));
}

function conditionsNode(g: Gen): Node | undefined {
  const r = g.rand();
  if (r < 0.15) return undefined;
  if (r < 0.2) return NIL;
  if (r < 0.23) return str('@');
  if (r < 0.26) return requiredNumber(g);
  const n = intBelow(g.rand, r < 0.3 ? 40 : 5);
  const items: Node[] = [];
  for (let i = 0; i < n; i++) {
    const e = g.rand();
    if (e < 0.85) items.push(str(pickOf(g.rand, ['@', 'I', 'F', 'T', 'R', '', 'Z4', 'xyz'])));
    else if (e < 0.95) items.push(str(asciiText(g, 0, 35)));
    else if (e < 0.97) items.push(NIL);
    else items.push(num(intBelow(g.rand, 10)));
  }
  return { k: 'arr', items };
}

function idNode(g: Gen): Node | undefined {
  const r = g.rand();
  if (r < 0.1) return undefined;
  if (r < 0.13) return NIL;
  if (r < 0.15) return { k: 'bool', v: true };
  if (r < 0.25) return str(asciiText(g, 0, 30));
  if (r < 0.3) return { k: 'f64', v: pickOf(g.rand, [1.5, -0, -2.25, Number.NaN]) };
  if (r < 0.35)
    return { k: 'int', v: pickOf(g.rand, [2n ** 53n - 1n, -(2n ** 53n) + 1n, 0n, -1n]) };
  return { k: 'int', v: BigInt(52_983_525_029_461 + intBelow(g.rand, 1e6)) };
}

function timeNode(g: Gen): Node {
  const r = g.rand();
  const ns = g.rand() < 0.2 ? 0 : intBelow(g.rand, 1e9);
  if (r < 0.6) {
    // Around now, as a live feed sends it.
    return { k: 'ts', s: 1_741_098_600 + intBelow(g.rand, 86_400), ns };
  }
  if (r < 0.8) {
    // Anywhere from 1970 to now (earlier or over a day ahead is refused: see BREAKS).
    return { k: 'ts', s: Math.floor(g.rand() * (Date.now() / 1000)), ns };
  }
  if (r < 0.83) return { k: 'ts', s: pickOf(g.rand, [0, 1, 2 ** 30, 2 ** 31 - 1 - 2 ** 30]), ns };
  // RFC 3339 text, as a JSON-minded server might put in msgpack.
  const s = 1_741_098_600 + intBelow(g.rand, 86_400);
  const t = g.rand();
  if (t < 0.5) return str(formatEpoch(s, ns));
  if (t < 0.8) {
    const digits = intBelow(g.rand, 10);
    const frac = digits === 0 ? '' : `.${String(ns).padStart(9, '0').slice(0, digits)}`;
    return str(
      `${new Date(s * 1000).toISOString().slice(0, 19)}${frac}${pickOf(g.rand, ['Z', '+05:30', '-04:00'])}`,
    );
  }
  // Passes normalize's shape check without being a date: timeMs is NaN on both paths.
  return str(pickOf(g.rand, ['2025-13-45T99:99:99Z', '20250304T150211.123456Z', '1'.repeat(25)]));
}

function unknownValue(g: Gen): Node {
  const r = g.rand();
  if (r < 0.3) return anyNumber(g);
  if (r < 0.45) return str(asciiText(g, 0, 40));
  if (r < 0.5) return str('naïve ✓'); // skipped, so non-ASCII is fine
  if (r < 0.55) return { k: 'strBytes', b: [0xff, 0xfe, 0x80] };
  if (r < 0.65) return NIL;
  if (r < 0.7) return { k: 'bool', v: false };
  if (r < 0.75) return { k: 'undef' };
  if (r < 0.85) return timeNode(g);
  if (r < 0.88) return { k: 'raw', b: [0xd8, 0xff, ...new Array<number>(16).fill(7)] }; // bad timestamp, ignored
  if (!risky(g)) return NIL;
  return r < 0.95 ? { k: 'arr', items: [num(1)] } : { k: 'map', entries: [['a', num(1)]] };
}

function shuffle<T>(rand: Rand, list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = intBelow(rand, i + 1);
    [list[i], list[j]] = [list[j] as T, list[i] as T];
  }
  return list;
}

type Entries = [Key, Node][];

function put(entries: Entries, key: string, value: Node | undefined): void {
  if (value !== undefined) entries.push([key, value]);
}

/** A valid q / t / b / d / u item, keys in random order. */
function validItem(g: Gen): Entries {
  const entries: Entries = [];
  const kind = g.rand();
  const T = kind < 0.8 ? 'q' : kind < 0.95 ? 't' : pickOf(g.rand, ['b', 'd', 'u']);
  put(entries, 'T', str(T));
  put(entries, 'S', symbolNode(g));
  put(entries, 't', timeNode(g));
  if (T === 'q') {
    put(entries, 'bx', optionalString(g));
    put(entries, 'bp', requiredNumber(g));
    put(entries, 'bs', requiredNumber(g));
    put(entries, 'ax', optionalString(g));
    put(entries, 'ap', requiredNumber(g));
    put(entries, 'as', requiredNumber(g));
    put(entries, 'c', conditionsNode(g));
    put(entries, 'z', optionalString(g));
  } else if (T === 't') {
    put(entries, 'i', idNode(g));
    put(entries, 'x', optionalString(g));
    put(entries, 'p', requiredNumber(g));
    put(entries, 's', requiredNumber(g));
    put(entries, 'c', conditionsNode(g));
    put(entries, 'z', optionalString(g));
    put(entries, 'tks', optionalString(g));
  } else {
    // Ordered as a bar is: low <= open, close <= high.
    const [l, a, b, h] = [0, 1, 2, 3]
      .map(() => requiredNumber(g))
      .sort((x, y) => numberOf(x) - numberOf(y)) as [Node, Node, Node, Node];
    const [o, c] = g.rand() < 0.5 ? [a, b] : [b, a];
    put(entries, 'o', o);
    put(entries, 'h', h);
    put(entries, 'l', l);
    put(entries, 'c', c);
    put(entries, 'v', requiredNumber(g));
    put(entries, 'n', optionalNumber(g));
    put(entries, 'vw', optionalNumber(g));
  }
  // Keys of the other kinds and keys nobody knows: normalize ignores them.
  const extras = intBelow(g.rand, 4);
  for (let i = 0; i < extras; i++) {
    const key = pickOf(g.rand, ['r', 'foo', '', '__proto__', 'bid', 'tk', 'xx', 'Tq', 'ts']);
    if (entries.some(([k]) => k === key)) continue;
    put(entries, key, unknownValue(g));
  }
  return shuffle(g.rand, entries);
}

function frameOf(items: readonly Entries[]): Node {
  return { k: 'arr', items: items.map((entries): Node => ({ k: 'map', entries })) };
}

// Kinds of damage to one item: each makes the generic path report it, or is something the
// fast path leaves to the generic path on purpose.
const BREAKS: readonly ((g: Gen, item: Entries) => Entries)[] = [
  (g, item) => {
    const gone = pickOf(g.rand, ['T', 'S', 't']);
    return item.filter(([k]) => k !== gone); // a required key missing
  },
  (_g, item) => item.filter(([k]) => !['bp', 'p', 'o'].includes(k as string)), // missing number
  (g, item) => set(item, 'S', pickOf(g.rand, [str(''), num(5), NIL, { k: 'undef' }])),
  (g, item) =>
    set(
      item,
      'T',
      pickOf(g.rand, [str('s'), str('success'), str('error'), str('x'), str('Q'), num(1), NIL]),
    ),
  (g, item) =>
    set(
      item,
      pickOf(g.rand, ['bp', 'bs', 'ap', 'as', 'p', 's', 'o', 'h', 'l', 'v']),
      pickOf(g.rand, [
        str('1.5'),
        NIL,
        { k: 'bool', v: true },
        { k: 'f64', v: NaN },
        { k: 'f64', v: Infinity },
        { k: 'arr', items: [] },
      ]),
    ),
  (g, item) =>
    set(
      item,
      't',
      pickOf(g.rand, [
        str('garbage-but-not-a-time'),
        str('2025-03-04T15:02Z'),
        num(1741098600),
        { k: 'raw', b: [0xd7, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0] }, // nanoseconds >= 1e9
        { k: 'raw', b: [0xc7, 12, 0xff, 0x3b, 0x9a, 0xca, 0x00, 0, 0, 0, 0, 0, 0, 0, 0] }, // ns = 1e9
        { k: 'raw', b: [0xc7, 12, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x3b, 0x04, 0xba, 0xcc, 0] }, // year > 9999
        { k: 'raw', b: [0xd5, 0xff, 1, 2] }, // a timestamp of 2 bytes
        { k: 'raw', b: [0xd6, 0x01, 1, 2, 3, 4] }, // an unknown extension type
      ]),
    ),
  (g, item) => set(item, pickOf(g.rand, ['bx', 'S', 'z']), { k: 'map', entries: [['a', num(1)]] }), // nested
  (g, item) => [...item, pickOf(g.rand, item)], // a duplicate key
  (g, item) =>
    set(item, 'i', { k: 'int', v: pickOf(g.rand, [2n ** 53n, 2n ** 60n + 1n, -(2n ** 53n)]) }),
  (g, item) => set(item, 'i', { k: 'f64', v: pickOf(g.rand, [2 ** 53, 1e20, -Infinity]) }),
  (g, item) =>
    set(item, pickOf(g.rand, ['bp', 'p', 'o']), {
      k: 'int',
      v: pickOf(g.rand, [2n ** 53n, -(2n ** 62n)]),
    }),
  (g, item) => set(item, pickOf(g.rand, ['bx', 'S', 'foo']), { k: 'raw', b: [0xc1] }),
  (_g, item) => set(item, 'S', str('ÄAPL')),
  (_g, item) => set(item, 'x', { k: 'raw', b: [0xc4, 2, 1, 2] }), // bin
  (_g, item) => set(item, 'z', { k: 'ts', s: 1, ns: 0 }), // a timestamp where a string is optional
  (_g, item) => [
    ...item.filter(([k]) => k !== 'S'),
    [{ k: 'raw', b: [0xd9, 1, 0x53] }, str('AAPL')],
  ], // str8 key
  (_g, item) => [...item, [{ k: 'raw', b: [0x01] }, num(1)]], // an integer key
  // Extensions msgpackr has no reader for (it throws) or reads as objects, in any slot.
  (g, item) =>
    set(
      item,
      pickOf(g.rand, ['bx', 'foo', 'z', 'n']),
      pickOf<Node>(g.rand, [
        { k: 'raw', b: [0xd4, 0x01, 0x00] },
        { k: 'raw', b: [0xd4, 0x72, 0x00] },
        { k: 'raw', b: [0xc7, 0x02, 0x05, 0x01, 0x02] },
        { k: 'raw', b: [0xd6, 0x73, 0x90, 0, 0, 0] },
      ]),
    ),
  // Impossible values: a negative price or size, a time before 1970 or over a day ahead.
  (g, item) =>
    set(
      item,
      pickOf(g.rand, ['bp', 'bs', 'ap', 'as', 'p', 's', 'v', 'l']),
      pickOf<Node>(g.rand, [
        num(-1),
        num(-0.01),
        { k: 'f32', v: -0.5 },
        { k: 'int', v: -(2n ** 40n) },
      ]),
    ),
  (g, item) =>
    set(
      item,
      't',
      pickOf<Node>(g.rand, [
        { k: 'ts', s: -1, ns: 999_999_999 },
        { k: 'ts', s: MIN_SECONDS, ns: 0 },
        { k: 'ts', s: MAX_SECONDS, ns: 0 },
        { k: 'ts', s: Math.floor(Date.now() / 1000) + 2 * 86_400, ns: 0 },
        str('0000-01-01T00:00:00Z'),
        str('9999-12-31T23:59:59.999999999Z'),
        str('1969-12-31T23:59:59.5Z'),
      ]),
    ),
];

function set(item: Entries, key: string, value: Node): Entries {
  return [...item.filter(([k]) => k !== key), [key, value]];
}

// ---------------------------------------------------------------------------------------------

describe('fastDecodeMsgpack: differential against the generic path', () => {
  it('frames as framePackr writes them (the simulator and the bench)', () => {
    const rand = mulberry32(0xfa57);
    const tally: Tally = { accepted: 0, refused: 0 };
    let sure = 0;
    for (let f = 0; f < 400; f++) {
      const g: Gen = { rand, clean: f % 2 === 0, sure: true };
      const frame: Record<string, unknown>[] = [];
      const size = 1 + intBelow(rand, f % 10 === 0 ? 150 : 20);
      for (let i = 0; i < size; i++) frame.push(plain(validItem(g)));
      const bytes = Buffer.from(framePackr.pack(frame));
      const n = check(bytes, tally);
      if (g.sure) {
        sure++;
        expect(n, bytes.toString('hex')).toBe(size);
      }
    }
    expect(sure).toBeGreaterThanOrEqual(200);
    expect(tally.accepted).toBeGreaterThanOrEqual(sure);
  });

  it('every encoding a server may choose (int widths, float32, str8-32, map16/32, array16/32, timestamps)', () => {
    const rand = mulberry32(0x5eed);
    const tally: Tally = { accepted: 0, refused: 0 };
    let sure = 0;
    for (let f = 0; f < 1500; f++) {
      const g: Gen = { rand, clean: f % 2 === 0, sure: true };
      const size = f % 50 === 0 ? 0 : 1 + intBelow(rand, 12);
      const items: Entries[] = [];
      for (let i = 0; i < size; i++) items.push(validItem(g));
      const bytes = encode(rand, frameOf(items), g);
      const n = check(bytes, tally);
      if (g.sure) {
        sure++;
        expect(n, bytes.toString('hex')).toBe(size);
      }
    }
    // The generator must mostly produce frames the fast path is meant to take.
    expect(sure).toBeGreaterThan(600);
    expect(tally.accepted).toBeGreaterThanOrEqual(sure);
  });

  it('a frame with one bad item falls back as a whole (or, where the generic path agrees, not)', () => {
    const rand = mulberry32(0xbad);
    const tally: Tally = { accepted: 0, refused: 0 };
    for (let f = 0; f < 1500; f++) {
      const g: Gen = { rand, clean: f % 2 === 0, sure: true };
      const size = 1 + intBelow(rand, 8);
      const items: Entries[] = [];
      for (let i = 0; i < size; i++) items.push(validItem(g));
      const at = intBelow(rand, size);
      const breakIt = BREAKS[f % BREAKS.length] as (g: Gen, item: Entries) => Entries;
      items[at] = breakIt(g, items[at] as Entries);
      check(encode(rand, frameOf(items)), tally);
    }
    // Every kind of damage above is refused by design (the few that are harmless, e.g. removing
    // a key that is absent anyway, may still pass, and then must match).
    expect(tally.refused).toBeGreaterThan(1300);
  });

  it('non-item frame contents: other values, lone maps, truncation, trailing bytes', () => {
    const rand = mulberry32(0x7a11);
    const tally: Tally = { accepted: 0, refused: 0 };
    for (let f = 0; f < 600; f++) {
      const g: Gen = { rand, clean: f % 2 === 0, sure: true };
      const size = 1 + intBelow(rand, 6);
      const items: Entries[] = [];
      for (let i = 0; i < size; i++) items.push(validItem(g));
      const good = encode(rand, frameOf(items));
      const r = f % 6;
      let bytes: Buffer;
      if (r === 0)
        bytes = good.subarray(0, intBelow(rand, good.length)); // truncated
      else if (r === 1)
        bytes = Buffer.concat([good, Buffer.from([intBelow(rand, 256)])]); // trailing
      else if (r === 2)
        bytes = encode(rand, { k: 'map', entries: items[0] ?? [] }); // lone map
      else if (r === 3) {
        // A non-map item somewhere in the batch.
        const odd = pickOf<Node>(rand, [
          num(1),
          str('q'),
          NIL,
          { k: 'arr', items: [] },
          { k: 'undef' },
        ]);
        const nodes: Node[] = items.map((entries): Node => ({ k: 'map', entries }));
        nodes.splice(intBelow(rand, nodes.length + 1), 0, odd);
        bytes = encode(rand, { k: 'arr', items: nodes });
      } else if (r === 4) {
        // Array count larger than what follows.
        bytes = Buffer.from(good);
        const head = bytes[0] as number;
        if ((head & 0xf0) === 0x90 && head < 0x9f) bytes[0] = head + 1;
        else bytes = Buffer.concat([bytes, Buffer.from([0x81])]);
      } else {
        bytes = Buffer.from(good);
        bytes[intBelow(rand, bytes.length)] = intBelow(rand, 256); // one random byte changed
      }
      check(bytes, tally);
    }
    expect(tally.refused).toBeGreaterThan(400);
  });
});

/** Entries to a plain object for framePackr (keys here are always text). */
function plain(entries: Entries): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, node] of entries) {
    // defineProperty: `__proto__` must be an own key, as msgpack has it, not the prototype.
    Object.defineProperty(out, key as string, {
      value: value(node),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function value(node: Node): unknown {
  switch (node.k) {
    case 'num':
    case 'f32':
    case 'f64':
      return node.v;
    case 'int':
      return node.v >= -(2n ** 31n) && node.v < 2n ** 32n ? Number(node.v) : node.v;
    case 'str':
      return node.v;
    case 'nil':
      return null;
    case 'bool':
      return node.v;
    case 'undef':
      return undefined;
    case 'ts':
      return new WireTimestamp(node.s, node.ns);
    case 'arr':
      return node.items.map(value);
    case 'map':
      return plain(node.entries as Entries);
    case 'strBytes':
    case 'raw':
      return 'x'; // framePackr cannot write raw bytes; any plain value will do
  }
}

// ---------------------------------------------------------------------------------------------

const T9 = new WireTimestamp(1_741_100_531, 123_456_789);

function quote(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    T: 'q',
    S: 'MSFT',
    bx: 'V',
    bp: 411.02,
    bs: 3,
    ax: 'Q',
    ap: 411.05,
    as: 2,
    c: ['R'],
    z: 'C',
    t: T9,
    ...extra,
  };
}

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** `[{T:'t', S:'A', p:<num>, s:1, t:<ts>}]` with hand-written bytes for p and t. */
function tradeBytes(price: string, time = 'd6ff 67c7 1b00'): Buffer {
  return hex(`91 85 a154 a174 a153 a141 a170 ${price} a173 01 a174 ${time}`);
}

describe('fastDecodeMsgpack: named cases', () => {
  it('the empty batch is 0 messages and no sink call; an empty buffer is not handled', () => {
    for (const bytes of [hex('90'), hex('dc0000'), hex('dd00000000')]) {
      expect(fast(bytes)).toEqual({ n: 0, messages: [], calls: 0 });
    }
    expect(fast(Buffer.alloc(0)).n).toBe(-1);
  });

  it('the bench feed: every frame taken, identical to the generic path', async () => {
    const { encodeFeed } = await import('../../../../bench/feed.ts');
    const feed = encodeFeed({ messages: 3000 }, 'msgpack');
    let total = 0;
    for (const frame of feed.frames) total += check(frame);
    expect(total).toBe(feed.messages);
  });

  it('odd number encodings: float32, -0, int64, uint64, int8..int32, negative fixint', () => {
    const cases: [string, number][] = [
      ['ca 40490fdb', Math.fround(Math.PI)],
      ['cb 8000000000000000', -0],
      ['ca 80000000', -0],
      ['d3 ffffffffffffff85', -123],
      ['d3 ffe0000000000001', -(2 ** 53) + 1],
      ['cf 001fffffffffffff', 2 ** 53 - 1],
      ['d0 80', -128],
      ['d1 8000', -32768],
      ['d2 80000000', -(2 ** 31)],
      ['ce ffffffff', 2 ** 32 - 1],
      ['cd ffff', 65535],
      ['e0', -32],
      ['ff', -1],
      ['7f', 127],
    ];
    for (const [bytes, expected] of cases) {
      const frame = tradeBytes(bytes);
      if (expected < 0) {
        // Read right, then refused as a price below zero: by both paths.
        expect(fast(frame).n).toBe(-1);
        const reports = generic(frame)?.reports;
        expect(reports?.map((r) => r.reason)).toEqual(['negative-value']);
        expect(reports?.[0]?.detail).toBe(`t.p: ${expected} is below zero`);
        continue;
      }
      expect(check(frame)).toBe(1);
      const [msg] = fast(frame).messages;
      expect(Object.is(msg?.kind === 'trade' ? msg.price : undefined, expected)).toBe(true);
    }
    // Past 2^53 the generic path's exact re-decode applies: left to it.
    expect(fast(tradeBytes('cf 0020000000000000')).n).toBe(-1);
    expect(fast(tradeBytes('d3 ffe0000000000000')).n).toBe(-1);
  });

  it('every timestamp layout, including ext8 with 12 bytes; years 1900, 0000 and 9999 refused', () => {
    const layouts: [string, string][] = [
      ['d6ff 67c71b00', '2025-03-04T15:23:44Z'],
      ['c704ff 67c71b00', '2025-03-04T15:23:44Z'],
      ['d7ff 00000004 67c71b00', '2025-03-04T15:23:44.000000001Z'],
      ['c708ff ee6b27fc 67c71b00', '2025-03-04T15:23:44.999999999Z'],
      ['c70cff 00000001 0000000067c71b00', '2025-03-04T15:23:44.000000001Z'],
      ['c70cff 00000000 0000000000000000', '1970-01-01T00:00:00Z'],
    ];
    for (const [time, text] of layouts) {
      const frame = tradeBytes('01', time);
      expect(check(frame)).toBe(1);
      expect(fast(frame).messages[0]).toMatchObject({ time: text });
    }
    // Well-formed, but before 1970 or far ahead: both paths refuse the item as implausible.
    for (const time of [
      'c70cff 075bcd15 ffffffff7c558180', // 1900-01-01T00:00:00.123456789Z
      'c70cff 3b9ac9ff ffffffffffffffff', // 1969-12-31T23:59:59.999999999Z
      'c70cff 00000000 fffffff1868b8400', // 0000-01-01T00:00:00Z
      'c70cff 3b9ac9ff 0000003afff4417f', // 9999-12-31T23:59:59.999999999Z
      'd6ff ffffffff', // 2106-02-07T06:28:15Z, the last 32-bit timestamp
    ]) {
      const frame = tradeBytes('01', time);
      expect(fast(frame).n).toBe(-1);
      expect(generic(frame)?.reports.map((r) => r.reason)).toEqual(['implausible-time']);
    }
    // Out of range or malformed: the generic path reports the item, so the fast path refuses.
    for (const time of [
      'c70cff 00000000 fffffff1868b83ff',
      'c70cff 3b9aca00 0000000067c71b00',
      'd8ff' + '00'.repeat(16),
      'c710ff' + '00'.repeat(16),
      'd5ff 0000',
    ]) {
      const frame = tradeBytes('01', time);
      expect(fast(frame).n).toBe(-1);
      expect(generic(frame)?.reports.length).toBe(1);
    }
  });

  it('map16 items, array16/array32 batches, str8/16/32 values and fixext1 undefined', () => {
    const map16 = hex(
      '91 de0005 a154 a174 a153 d904 41415054 a170 da0002 3132 a173 01 a174 d6ff67c71b00',
    );
    // p is the string "12": not a number, so that item is invalid in both paths.
    expect(fast(map16).n).toBe(-1);
    expect(generic(map16)?.reports).toHaveLength(1);
    const ok = hex(
      'dc0001 de0006 a154 a174 a153 db00000004 41415054 a170 cb405c6f5c28f5c28f a173 01 a17a d40000 a174 d6ff67c71b00',
    );
    expect(check(ok)).toBe(1);
    expect(fast(ok).messages[0]).toMatchObject({ symbol: 'AAPT', price: 113.74, tape: undefined });
    const arr32 = hex('dd00000001 85 a154 a174 a153 a141 a170 01 a173 01 a174 d6ff67c71b00');
    expect(check(arr32)).toBe(1);
  });

  it('str8 keys, integer keys, duplicate keys and 0xc1 go to the generic path', () => {
    const cases = [
      '91 85 d90154 a174 a153 a141 a170 01 a173 01 a174 d6ff67c71b00', // str8 key T
      '91 86 a154 a174 a153 a141 a170 01 a173 01 a174 d6ff67c71b00 01 01', // integer key
      '91 86 a154 a174 a153 a141 a170 01 a173 01 a174 d6ff67c71b00 a170 02', // p twice
      '91 86 a154 a174 a153 a141 a170 01 a173 01 a174 d6ff67c71b00 a178 c1', // 0xc1
      'c1',
    ];
    for (const c of cases) expect(fast(hex(c)).n).toBe(-1);
    // The generic path decodes the str8-key and duplicate-key frames: they are valid msgpack.
    expect(generic(hex(cases[0] as string))?.messages).toHaveLength(1);
    expect(generic(hex(cases[2] as string))?.messages).toHaveLength(1);
  });

  it("extensions other than the timestamp and undefined are the generic path's", () => {
    // fixext1 type 1 (no reader: msgpackr throws), ext8 type 5, and type 0x73 (a Set in msgpackr).
    for (const ext of ['d40100', 'c702050102', 'd67390000000']) {
      for (const key of ['a17a', 'a3666f6f']) {
        // [{T:'t', S:'A', p:1, s:1, t:<ts>, <key>: <ext>}]
        const frame = hex(
          `91 86 a154 a174 a153 a141 a170 01 a173 01 a174 d6ff67c71b00 ${key} ${ext}`,
        );
        expect(fast(frame).n).toBe(-1);
      }
    }
    expect(parseFrame(hex('91 81 a17a d40100'), true, 'msgpack').ok).toBe(false);
    // A type -1 extension under an unknown key is decoded (even when malformed) and ignored.
    const ignored = hex('91 86 a154 a174 a153 a141 a170 01 a173 01 a174 d6ff67c71b00 a172 d4ff00');
    expect(check(ignored)).toBe(1);
  });

  it('non-ASCII bytes never hit the intern cache (a key that collides with an ASCII one)', () => {
    // 'AB' and the bytes 40 c2 pack to the same 7-bit key; the second is not ASCII.
    const frame = (sym: string) =>
      hex(`91 85 a154 a174 a153 a2${sym} a170 01 a173 01 a174 d6ff67c71b00`);
    expect(check(frame('4142'))).toBe(1);
    expect(check(frame('4142'))).toBe(1); // now cached
    expect(fast(frame('40c2')).n).toBe(-1);
    expect(generic(frame('40c2'))?.messages[0]).toMatchObject({ symbol: '@\ufffd' });
    // Same for a condition list: ['AB'] is cached, ['@\xc2'] must not be served from it.
    const withC = (c: string) =>
      hex(
        `91 88 a154 a171 a153 a141 a26270 01 a26273 01 a26170 01 a26173 01 a163 91a2${c} a174 d6ff67c71b00`,
      );
    expect(check(withC('4142'))).toBe(1);
    expect(fast(withC('40c2')).n).toBe(-1);
  });

  it('nil counts as missing for required fields and as absent for optional ones', () => {
    const nilPrice = Buffer.from(framePackr.pack([quote({ bp: null })]));
    expect(fast(nilPrice).n).toBe(-1);
    expect(generic(nilPrice)?.reports[0]?.reason).toBe('missing-field');
    const nilOptional = Buffer.from(framePackr.pack([quote({ bx: null, c: null, z: null })]));
    expect(check(nilOptional)).toBe(1);
    expect(fast(nilOptional).messages[0]).toMatchObject({
      bidExchange: undefined,
      conditions: undefined,
      tape: undefined,
    });
    const trade = { T: 't', S: 'X', i: null, p: 1, s: 2, t: T9 };
    const nilId = Buffer.from(framePackr.pack([trade]));
    expect(check(nilId)).toBe(1);
    expect(fast(nilId).messages[0]).toMatchObject({ id: '' });
  });

  it("control and other messages are not the fast path's", () => {
    const frames = [
      [{ T: 'success', msg: 'connected' }],
      [{ T: 'subscription', trades: ['AAPL'] }],
      [quote(), { T: 'error', code: 406, msg: 'connection limit exceeded' }],
      [quote(), { T: 's', S: 'AAPL', sc: 'H', sm: 'Halt', rc: 'T12', rm: 'x', t: T9, z: 'C' }],
      [{ T: 'o', S: 'BTC/USD', t: T9, b: [{ p: 1, s: 2 }], a: [] }],
    ];
    for (const frame of frames) expect(fast(Buffer.from(framePackr.pack(frame))).n).toBe(-1);
    expect(fast(Buffer.from(framePackr.pack(quote()))).n).toBe(-1); // a lone map
  });

  it('condition lists are shared frozen arrays; mixed lists are undefined as in normalize', () => {
    const a = fast(Buffer.from(framePackr.pack([quote({ c: ['@', 'I'] })]))).messages[0];
    const b = fast(Buffer.from(framePackr.pack([quote({ c: ['@', 'I'] })]))).messages[0];
    expect(a?.kind === 'quote' && a.conditions).toEqual(['@', 'I']);
    expect(a?.kind === 'quote' && b?.kind === 'quote' && a.conditions === b.conditions).toBe(true);
    expect(Object.isFrozen(a?.kind === 'quote' ? a.conditions : undefined)).toBe(true);
    const mixed = Buffer.from(framePackr.pack([quote({ c: ['@', 5] })]));
    expect(check(mixed)).toBe(1);
    expect(fast(mixed).messages[0]).toMatchObject({ conditions: undefined });
  });

  it('timeMs is bit-identical to timeToEpochMs(time) across the whole accepted range', () => {
    const rand = mulberry32(0x71e);
    const frame: Record<string, unknown>[] = [];
    for (let i = 0; i < 2000; i++) {
      const s =
        i % 2 === 0
          ? Math.floor(rand() * (Date.now() / 1000))
          : 1_741_000_000 + intBelow(rand, 1e6);
      const ns = i % 7 === 0 ? 0 : intBelow(rand, 1e9);
      frame.push(quote({ t: new WireTimestamp(s, ns) }));
    }
    // check() compares timeMs with Object.is against the generic path, which calls timeToEpochMs.
    expect(check(Buffer.from(framePackr.pack(frame)))).toBe(2000);
  });

  it('a throwing sink propagates, delivers in order up to the throw, and leaves the decoder usable', () => {
    const frame = Buffer.from(
      framePackr.pack([quote({ S: 'A' }), quote({ S: 'B' }), quote({ S: 'C' })]),
    );
    const seen: string[] = [];
    const boom = new Error('handler failed');
    expect(() =>
      fastDecodeMsgpack(frame, {
        message: (m) => {
          seen.push(m.kind === 'quote' ? m.symbol : '?');
          if (seen.length === 2) throw boom;
        },
        invalid: () => undefined,
      }),
    ).toThrow(boom);
    expect(seen).toEqual(['A', 'B']);
    expect(check(frame)).toBe(3);
  });

  it('a call from inside the sink is refused (the caller decodes that frame generically)', () => {
    const frame = Buffer.from(framePackr.pack([quote(), quote()]));
    const inner: number[] = [];
    const n = fastDecodeMsgpack(frame, {
      message: () => {
        inner.push(
          fastDecodeMsgpack(frame, { message: () => undefined, invalid: () => undefined }),
        );
      },
      invalid: () => undefined,
    });
    expect(n).toBe(2);
    expect(inner).toEqual([-1, -1]);
  });

  it('reads a frame that is a view into a larger buffer (byteOffset) correctly', () => {
    const body = Buffer.from(framePackr.pack([quote({ bp: 0.1 + 0.2 })]));
    const big = Buffer.alloc(body.length + 13, 0xee);
    body.copy(big, 7);
    const view = big.subarray(7, 7 + body.length);
    expect(check(view)).toBe(1);
    expect(fast(view).messages[0]).toMatchObject({ bidPrice: 0.1 + 0.2 });
  });

  it('intern caches stop growing at their limit', () => {
    const rand = mulberry32(0xcace);
    const chunk = 2000;
    for (let done = 0; done < FAST_MSGPACK_CACHE_LIMIT * 2 + chunk; done += chunk) {
      const frame: Record<string, unknown>[] = [];
      for (let i = 0; i < chunk; i++) {
        // Distinct symbols of 5-7 and 8-14 characters, distinct condition lists.
        const n = done + i;
        const sym = `${n.toString(36)}${i % 2 === 0 ? '' : '/USDT'}`;
        frame.push(
          quote({ S: sym, c: [n.toString(36)], bx: String.fromCharCode(65 + intBelow(rand, 26)) }),
        );
      }
      expect(fast(Buffer.from(framePackr.pack(frame))).n).toBe(chunk);
    }
    const sizes = fastMsgpackCacheSizes();
    expect(sizes.strings).toBeLessThanOrEqual(2 * FAST_MSGPACK_CACHE_LIMIT);
    expect(sizes.strings).toBeGreaterThanOrEqual(FAST_MSGPACK_CACHE_LIMIT);
    expect(sizes.conditions).toBe(FAST_MSGPACK_CACHE_LIMIT);
    // Still correct once full.
    expect(check(Buffer.from(framePackr.pack([quote({ S: 'NEWSYM', c: ['NEWC'] })])))).toBe(1);
  });
});
