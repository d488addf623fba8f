/**
 * The JSON fast path (fast-json.ts) against the generic path (decode.ts: JSON.parse + normalize).
 * The contract under test: fastDecodeJson either refuses a frame (-1) without having called the
 * sink, or delivers exactly what decodeFrame delivers for the same bytes: the same messages with the
 * same values (Object.is on every number: -0, NaN), the same keys in the same order, and no invalid
 * reports. Seeded random frames cover both halves (clean frames must be accepted, or the fast path
 * would be useless), then named cases pin down the edges.
 */
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../../../electron/stream/protocol/decode.ts';
import { fastDecodeJson } from '../../../../electron/stream/protocol/fast-json.ts';
import type { FrameSink, InvalidItem } from '../../../../electron/stream/protocol/normalize.ts';
import type { MarketMessage } from '../../../../shared/market.ts';
import { timeToEpochMs } from '../../../../shared/market.ts';

// ---------------------------------------------------------------------------------------------
// Running both paths

interface Run {
  readonly returned: number;
  readonly messages: MarketMessage[];
  readonly invalid: InvalidItem[];
}

function runFast(bytes: Uint8Array): Run {
  const messages: MarketMessage[] = [];
  const invalid: InvalidItem[] = [];
  const returned = fastDecodeJson(bytes, {
    message: (m) => messages.push(m),
    invalid: (i) => invalid.push(i),
  });
  return { returned, messages, invalid };
}

function runGeneric(bytes: Buffer): Run {
  const messages: MarketMessage[] = [];
  const invalid: InvalidItem[] = [];
  const returned = decodeFrame(bytes, false, 'json', {
    message: (m) => messages.push(m),
    invalid: (i) => invalid.push(i),
  });
  return { returned, messages, invalid };
}

/** Same values, same key order, Object.is on every number and string, arrays element-wise. */
function expectIdentical(fast: readonly MarketMessage[], generic: readonly MarketMessage[]): void {
  expect(fast).toStrictEqual(generic);
  expect(fast.length).toBe(generic.length);
  for (let k = 0; k < fast.length; k++) {
    const f = fast[k] as unknown as Record<string, unknown>;
    const g = generic[k] as unknown as Record<string, unknown>;
    expect(Object.keys(f)).toEqual(Object.keys(g));
    for (const key of Object.keys(g)) {
      const fv = f[key];
      const gv = g[key];
      if (Array.isArray(gv)) {
        expect(Array.isArray(fv)).toBe(true);
        const fa = fv as unknown[];
        expect(fa.length).toBe(gv.length);
        for (let i = 0; i < gv.length; i++) expect(Object.is(fa[i], gv[i])).toBe(true);
      } else if (!Object.is(fv, gv)) {
        throw new Error(`message ${k}.${key}: fast ${String(fv)} != generic ${String(gv)}`);
      }
    }
  }
}

/**
 * The differential check of one frame. Returns whether the fast path took it.
 */
function check(text: string | Buffer): boolean {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const fast = runFast(bytes);
  expect(fast.invalid).toEqual([]);
  if (fast.returned === -1) {
    expect(fast.messages).toEqual([]);
    return false;
  }
  const generic = runGeneric(bytes);
  if (generic.invalid.length > 0 || fast.returned !== generic.returned) {
    throw new Error(
      `fast path took a frame the generic path reports (${JSON.stringify(generic.invalid)}): ${bytes.toString('utf8').slice(0, 300)}`,
    );
  }
  expect(fast.returned).toBe(fast.messages.length);
  expectIdentical(fast.messages, generic.messages);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Seeded generation

/** mulberry32: small, seeded, reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  readonly r: () => number;
  constructor(seed: number) {
    this.r = rng(seed);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.r() * list.length)] as T;
  }
  digits(n: number, first = '0123456789'): string {
    let s = n > 0 ? this.pick(first.split('')) : '';
    for (let k = 1; k < n; k++) s += String(this.int(0, 9));
    return s;
  }
  shuffle<T>(list: T[]): T[] {
    for (let k = list.length - 1; k > 0; k--) {
      const j = this.int(0, k);
      [list[k], list[j]] = [list[j] as T, list[k] as T];
    }
    return list;
  }
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Any valid JSON number text, from everyday prices to edge cases of the conversion. */
function numberText(g: Gen): string {
  switch (g.int(0, 7)) {
    case 0:
      return JSON.stringify(Math.round(g.r() * 100_000) / 100); // a price in cents
    case 1:
      return String(g.int(0, 100_000)); // a size
    case 2: {
      // Any double, as JavaScript writes it (shortest round trip, exponents for big and tiny).
      const x = (g.r() - 0.5) * 10 ** g.int(-30, 30);
      return JSON.stringify(x);
    }
    case 3:
      return g.pick([
        '0',
        '-0',
        '0.0',
        '-0.0',
        '0e0',
        '-0E+7',
        '0.000',
        '1e22',
        '1e23',
        '9007199254740991',
        '9007199254740992',
        '9007199254740993',
        '123456789012345.6',
        '0.1',
        '0.30000000000000004',
        '4.35',
        '1.7976931348623157e308',
        '5e-324',
        '2.2250738585072014E-308',
        '-1e-400',
        '411.02',
        '4.1102E2',
        '41102e-2',
        '0.41102e+3',
      ]);
    default: {
      // Synthetic: sign, integer part, fraction, exponent, each with random length.
      let s = g.chance(0.3) ? '-' : '';
      s += g.chance(0.2) ? '0' : g.digits(g.int(1, 20), '123456789');
      if (g.chance(0.6)) s += `.${g.digits(g.int(1, 25))}`;
      if (g.chance(0.4)) {
        s +=
          g.pick(['e', 'E']) + g.pick(['', '+', '-']) + String(g.int(0, g.chance(0.1) ? 400 : 30));
      }
      return s;
    }
  }
}

/** A time text: mostly the feed's form, seconds varying, with every odd form now and then. */
function timeText(g: Gen): string {
  const seconds = Date.UTC(2025, 2, 4, 14, 30, 0) / 1000 + g.int(0, 12);
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  const u = g.r();
  if (u < 0.7) return `${base}.${g.digits(9)}Z`;
  if (u < 0.85) return `${base}${g.chance(0.3) ? '' : `.${g.digits(g.int(1, 9))}`}Z`;
  return g.pick([
    `${base}.${g.digits(10)}Z`,
    `${base}.Z`,
    `${base}+02:00`,
    `${base}.123-05:30`,
    `${base}z`,
    `${base.replace('T', ' ')}.5Z`,
    '2025-13-01T00:00:00Z',
    '2025-02-30T00:00:00.1Z',
    '2025-03-04T24:00:00Z',
    '2025-03-04T23:59:60Z',
    '1970-01-01T00:00:00.000000001Z',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59.999999999Z',
    '12345678901234567890',
    '2025-03-04T15:02:11.5',
    '2025-03-04T15:02:1x.5Z',
  ]);
}

/** A string literal that the fast path takes: printable ASCII, no quote or backslash. */
function plainString(g: Gen, maxLen: number): string {
  let s = '';
  const n = g.int(0, maxLen);
  for (let k = 0; k < n; k++) {
    let c = g.int(32, 126);
    if (c === 34 || c === 92) c = 65;
    s += String.fromCharCode(c);
  }
  return s;
}

function symbolText(g: Gen): string {
  const u = g.r();
  if (u < 0.85) {
    let s = '';
    for (let k = g.int(1, 4); k > 0; k--) s += g.pick(LETTERS.split(''));
    return s;
  }
  return g.pick(['BTC/USD', 'ETH/USDT', 'BRK.B', 'VERYLONGSYMBOL', 'ABCDE', 'X']);
}

interface Options {
  /** Only what the fast path must accept. */
  readonly clean: boolean;
}

/** The members of one item, as `"key":value` texts (value text already JSON). */
function itemMembers(g: Gen, o: Options): [string, string][] {
  const str = (s: string) => JSON.stringify(s);
  const num = () => (o.clean ? cleanNumber(g) : wildNumber(g));
  const optStr = (): string | undefined => {
    const u = g.r();
    if (u < 0.6) return str(g.pick(['V', 'Q', 'K', 'N', 'A', 'B', 'C']));
    if (u < 0.7) return undefined;
    if (u < 0.75) return 'null';
    if (u < 0.8) return str(plainString(g, 12));
    if (u < 0.85) return numberText(g);
    if (u < 0.9) return g.pick(['true', 'false', '[]', '["V"]', '[1,null,"a"]']);
    return o.clean ? str('NYSE') : g.pick(['{}', '"\\u0056"', '"Ü"', '[["V"]]', '"a\\"b"']);
  };
  const conditions = (): string | undefined => {
    const u = g.r();
    if (u < 0.5) return '["R"]';
    if (u < 0.6) return undefined;
    if (u < 0.7) return g.pick(['["@","I"]', '["@","F","T"]', '[]', '[ "@" , "I" ]', '["R"]']);
    if (u < 0.8) {
      const list: string[] = [];
      for (let k = g.int(0, 6); k > 0; k--) list.push(plainString(g, 4));
      return JSON.stringify(list);
    }
    if (u < 0.9) return g.pick(['null', '"R"', '5', '[1,"R"]', '["R",null]', 'true']);
    return o.clean
      ? '["LONGCONDITION","X"]'
      : g.pick(['[["R"]]', '[{"a":1}]', '["\\u0052"]', JSON.stringify(new Array(40).fill('R'))]);
  };
  const time = (): string => (o.clean ? str(cleanTime(g)) : wildTime(g));
  const symbol = (): string => (o.clean || g.chance(0.9) ? str(symbolText(g)) : wildRequired(g));

  const members: [string, string | undefined][] = [];
  const kind =
    o.clean || g.chance(0.95) ? g.pick(['q', 'q', 'q', 'q', 't', 't', 'b', 'd', 'u']) : '';
  if (kind === '') {
    members.push([
      'T',
      g.pick([
        '"s"',
        '"success"',
        '"error"',
        '"subscription"',
        '"Q"',
        '"qq"',
        '""',
        '5',
        'null',
        '"x"',
        '"o"',
        '"n"',
      ]),
    ]);
    members.push(['S', str('AAPL')], ['t', time()]);
  } else if (!o.clean && g.chance(0.02)) {
    members.push(['S', symbol()]); // no T at all
  } else {
    members.push(['T', str(kind)], ['S', symbol()], ['t', time()]);
  }
  if (kind === 'q') {
    members.push(['bx', optStr()], ['bp', num()], ['bs', num()], ['ax', optStr()]);
    members.push(['ap', num()], ['as', num()], ['c', conditions()], ['z', optStr()]);
  } else if (kind === 't') {
    members.push(['i', idText(g, o)], ['x', optStr()], ['p', num()], ['s', num()]);
    members.push(['c', conditions()], ['z', optStr()], ['tks', optStr()]);
  } else if (kind !== '') {
    const [o0, h0, l0, c0] = barPrices(g, o, num);
    members.push(['o', o0], ['h', h0], ['l', l0], ['c', c0], ['v', num()]);
    members.push(['n', g.chance(0.8) ? numberText(g) : optStr()]);
    members.push(['vw', g.chance(0.8) ? numberText(g) : optStr()]);
  }
  // Keys the item's kind does not read, some of them known to other kinds.
  if (g.chance(0.3)) {
    const extra: [string, string][] = [
      ['zz', '1'],
      ['foo', '"bar"'],
      ['__proto__', 'null'],
      ['', 'true'],
      ['k', '[1,"a",null,false]'],
      ['tks', '"B"'],
      ['o', '"text"'],
      ['i', '1e400'],
      ['vw', '[]'],
      ['bp', 'null'],
    ];
    const [key, value] = g.pick(extra);
    if (!members.some(([k]) => k === key)) members.push([key, value]);
  }
  if (!o.clean && g.chance(0.03)) members.push(['nested', '{"a":[1,2,{"b":null}]}']);
  if (!o.clean && g.chance(0.03) && members.length > 0) members.push(g.pick(members)); // duplicate
  const out = members.filter((m): m is [string, string] => m[1] !== undefined);
  return g.shuffle(out);
}

/**
 * Numbers a clean item may carry in a required field: finite and not below zero (normalize refuses
 * a negative price or size), whatever their form; -0 included.
 */
function cleanNumber(g: Gen): string {
  for (;;) {
    const t = numberText(g);
    const n = Number(t);
    if (Number.isFinite(n) && n >= 0) return t;
  }
}

/** Mostly clean, so that wild frames are still taken often; now and then negative or not a number. */
function wildNumber(g: Gen): string {
  if (g.chance(0.1)) return wildRequired(g);
  return g.chance(0.93) ? cleanNumber(g) : numberText(g);
}

/**
 * A bar's open, high, low and close: ordered as a real bar is (low <= open, close <= high) when
 * clean, and mostly so when wild (an unordered bar is refused by both paths).
 */
function barPrices(g: Gen, o: Options, num: () => string): [string, string, string, string] {
  const four = [num(), num(), num(), num()];
  if (!o.clean && g.chance(0.2)) return four as [string, string, string, string];
  const byValue = four
    .map((text) => ({ text, n: Number(text) }))
    .sort((a, b) => (a.n === b.n || a.n !== a.n || b.n !== b.n ? 0 : a.n - b.n))
    .map((x) => x.text);
  const [low, a, b, high] = byValue as [string, string, string, string];
  return g.chance(0.5) ? [a, high, low, b] : [b, high, low, a];
}

function wildRequired(g: Gen): string {
  return g.pick([
    'null',
    '"1.5"',
    'true',
    '[1]',
    '{}',
    '1e400',
    '-1E999',
    '""',
    '01',
    '1.',
    '.5',
    '+1',
    '-',
    'NaN',
    'Infinity',
    '0x10',
    '1_000',
  ]);
}

/** Times a clean item may carry: shaped as normalize wants, and not before 1970 or a day ahead. */
function cleanTime(g: Gen): string {
  for (;;) {
    const t = timeText(g);
    const ms = timeToEpochMs(t);
    if (t.length >= 20 && /^\d/.test(t) && !(ms < 0 || ms > Date.now() + 86_400_000)) return t;
  }
}

function wildTime(g: Gen): string {
  return g.chance(0.9)
    ? JSON.stringify(timeText(g))
    : g.pick(['null', '1741098600', '""', '"2025"', '"x025-03-04T14:30:00.000000000Z"', '[]']);
}

function idText(g: Gen, o: Options): string | undefined {
  const u = g.r();
  if (u < 0.6) return String(g.int(1, 2 ** 31) * g.int(1, 4_000_000));
  if (u < 0.65) return undefined;
  if (u < 0.7) return g.pick(['null', 'true', '[]', '"abc"', '""', '-0', '1.5', '-17']);
  if (u < 0.8) return JSON.stringify(String(g.int(0, 2 ** 40)));
  if (u < 0.9) return g.pick(['9007199254740991', '-9007199254740991', '9007199254740990.5']);
  return o.clean
    ? '"18446744073709551615"'
    : g.pick(['9007199254740992', '18446744073709551615', '-9007199254740993', '1e300']);
}

const WS = [' ', '\t', '\n', '\r'];

/** JSON text of a frame of items, with or without whitespace between tokens. */
function frameText(g: Gen, items: [string, string][][], spaced: boolean): string {
  const ws = (): string => {
    if (!spaced || g.chance(0.5)) return '';
    let s = '';
    for (let k = g.int(1, 3); k > 0; k--) s += g.pick(WS);
    return s;
  };
  const item = (members: [string, string][]) =>
    `{${ws()}${members.map(([k, v]) => `${JSON.stringify(k)}${ws()}:${ws()}${v}`).join(`${ws()},${ws()}`)}${ws()}}`;
  return `${ws()}[${ws()}${items.map(item).join(`${ws()},${ws()}`)}${ws()}]${ws()}`;
}

function randomItems(g: Gen, o: Options, count: number): [string, string][][] {
  const items: [string, string][][] = [];
  for (let k = 0; k < count; k++) items.push(itemMembers(g, o));
  return items;
}

// ---------------------------------------------------------------------------------------------
// Differential property tests

describe('fastDecodeJson: differential against the generic path', () => {
  it('accepts every clean frame (any key order, whitespace, number form) and matches exactly', () => {
    const g = new Gen(0x5eed);
    let messages = 0;
    for (let f = 0; f < 1500; f++) {
      const items = randomItems(g, { clean: true }, g.int(1, 30));
      const text = frameText(g, items, g.chance(0.4));
      if (!check(text)) throw new Error(`clean frame refused: ${text.slice(0, 400)}`);
      messages += items.length;
    }
    expect(messages).toBeGreaterThan(10_000);
  });

  it('frames from JSON.stringify of items with random key order are accepted and match', () => {
    const g = new Gen(42);
    for (let f = 0; f < 200; f++) {
      const frame: Record<string, unknown>[] = [];
      for (let k = g.int(1, 150); k > 0; k--) {
        const members = itemMembers(g, { clean: true });
        // Rebuild the item as an object, keys inserted in the shuffled order.
        const obj: Record<string, unknown> = {};
        for (const [key, value] of members) obj[key] = JSON.parse(value) as unknown;
        frame.push(obj);
      }
      const text = JSON.stringify(frame);
      if (!check(text)) throw new Error(`stringified frame refused: ${text.slice(0, 400)}`);
    }
  });

  it('wild frames: whatever the fast path takes equals the generic result, the rest is refused', () => {
    const g = new Gen(7);
    let taken = 0;
    let refused = 0;
    for (let f = 0; f < 3000; f++) {
      const items = randomItems(g, { clean: false }, g.int(1, 4));
      if (check(frameText(g, items, g.chance(0.4)))) taken++;
      else refused++;
    }
    // Both halves must be exercised, or the test proves nothing.
    expect(taken).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(300);
  });

  it('clean frames with one bad item are refused as a whole', () => {
    const g = new Gen(99);
    // [key, value, whether the generic path reports the item invalid]: the fast path refuses
    // them all, some because normalize would, some because it does not decode them itself.
    const BAD: [string, string, boolean][] = [
      ['bp', 'null', true],
      ['bp', '"411.02"', true],
      ['bp', '1e400', true],
      ['bp', '[411.02]', true],
      ['S', '""', true],
      ['S', '5', true],
      ['t', '"2025-03-04"', true],
      ['t', '1741098600', true],
      ['t', '"T025-03-04T14:30:00Z"', true],
      ['T', 'null', true],
      ['S', '"A\\u0042"', false],
      ['S', '"ÄB"', false],
      ['T', '"s"', false],
      ['T', '"success"', false],
      ['z', '{"a":1}', false],
      ['c', '[["R"]]', false],
      ['bx', '"\\n"', false],
    ];
    for (let f = 0; f < 300; f++) {
      const items: [string, string][][] = [];
      for (let k = g.int(1, 20); k > 0; k--) {
        const members: [string, string][] = [
          ['T', '"q"'],
          ['S', JSON.stringify(symbolText(g))],
          ['bp', cleanNumber(g)],
          ['bs', cleanNumber(g)],
          ['ap', cleanNumber(g)],
          ['as', cleanNumber(g)],
          ['t', JSON.stringify(cleanTime(g))],
        ];
        if (g.chance(0.5)) members.push(['bx', '"V"'], ['c', '["R"]'], ['z', '"C"']);
        items.push(g.shuffle(members));
      }
      const victim = g.pick(items);
      const [key, value, genericInvalid] = g.pick(BAD);
      const at = victim.findIndex(([k]) => k === key);
      if (at >= 0) victim[at] = [key, value];
      else victim.push([key, value]);
      const text = frameText(g, items, g.chance(0.3));
      const fast = runFast(Buffer.from(text));
      expect(fast.returned, text).toBe(-1);
      expect(fast.messages).toEqual([]);
      expect(runGeneric(Buffer.from(text)).invalid.length > 0, text).toBe(genericInvalid);
    }
  });

  it('truncated, spliced and garbage-trailed frames: refused or identical', () => {
    const g = new Gen(1234);
    let taken = 0;
    for (let f = 0; f < 600; f++) {
      const text = frameText(g, randomItems(g, { clean: true }, g.int(1, 6)), g.chance(0.3));
      const bytes = Buffer.from(text);
      // A proper prefix of the array is never JSON; cutting only trailing whitespace keeps it.
      const core = Buffer.byteLength(text.replace(/[ \t\n\r]+$/, ''));
      const cuts = bytes.length < 200 ? bytes.length : 40;
      for (let k = 0; k < cuts; k++) {
        const at = bytes.length < 200 ? k : g.int(0, bytes.length - 1);
        expect(check(bytes.subarray(0, at))).toBe(at >= core);
      }
      // One changed byte, one inserted byte, one deleted byte.
      const at = g.int(0, bytes.length - 1);
      const changed = Buffer.from(bytes);
      changed[at] = g.int(0, 255);
      if (check(changed)) taken++;
      const inserted = Buffer.concat([
        bytes.subarray(0, at),
        Buffer.of(g.int(0, 255)),
        bytes.subarray(at),
      ]);
      if (check(inserted)) taken++;
      const deleted = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
      if (check(deleted)) taken++;
      // Trailing bytes after the array.
      const tail = g.pick(['x', ']', ',', '[]', '{}', '\u00a0', '\ufeff', '0', ' \n\t\r', ' ,']);
      const trailed = check(Buffer.concat([bytes, Buffer.from(tail)]));
      expect(trailed).toBe(tail === ' \n\t\r'); // only JSON whitespace may follow
    }
    // Some single-byte changes keep the frame valid (a digit for a digit...): those must match.
    expect(taken).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Numbers and times, field by field

const T0 = '2025-03-04T15:02:11.123456789Z';

function quoteFrame(bp: string, t = T0): string {
  return `[{"T":"q","S":"MSFT","bp":${bp},"bs":1,"ap":2,"as":3,"t":${JSON.stringify(t)}}]`;
}

describe('fastDecodeJson: numbers', () => {
  it('converts every valid finite JSON number exactly as JSON.parse does', () => {
    const g = new Gen(2024);
    for (let k = 0; k < 20_000; k++) {
      const text = numberText(g);
      const expected = JSON.parse(text) as number;
      const run = runFast(Buffer.from(quoteFrame(text)));
      if (!Number.isFinite(expected) || expected < 0) {
        expect(run.returned).toBe(-1); // normalize refuses a non-finite or negative price
        continue;
      }
      expect(run.returned).toBe(1);
      const got = (run.messages[0] as { bidPrice: number }).bidPrice;
      if (!Object.is(got, expected)) throw new Error(`${text}: got ${got}, JSON.parse ${expected}`);
    }
  });

  it('keeps -0, and reads exponents, fractions and signs', () => {
    const cases: [string, number][] = [
      ['-0', -0],
      ['-0.0', -0],
      ['-0e10', -0],
      ['0', 0],
      ['4.1102E2', 411.02],
      ['41102e-2', 411.02],
      ['0.41102e+3', 411.02],
      ['1E-7', 1e-7],
      ['123456789012345678901234567890', 1.2345678901234568e29],
      ['0.1', 0.1],
      ['9007199254740993', 9007199254740992],
    ];
    for (const [text, value] of cases) {
      const run = runFast(Buffer.from(quoteFrame(text)));
      expect(run.returned, text).toBe(1);
      expect(Object.is((run.messages[0] as { bidPrice: number }).bidPrice, value), text).toBe(true);
      check(quoteFrame(text));
    }
  });

  it('refuses what JSON forbids: leading zeros, bare dots, plus signs, hex, words', () => {
    for (const text of [
      '01',
      '-01',
      '00',
      '1.',
      '.5',
      '-.5',
      '+1',
      '0x10',
      '1e',
      '1e+',
      '--1',
      '1.5.5',
      'NaN',
      'Infinity',
      '-',
      '1_0',
    ]) {
      expect(runFast(Buffer.from(quoteFrame(text))).returned, text).toBe(-1);
      // The generic path agrees that these frames are not JSON.
      expect(runGeneric(Buffer.from(quoteFrame(text))).invalid[0]?.reason, text).toBe(
        'corrupt-json',
      );
    }
  });
});

describe('fastDecodeJson: times', () => {
  it('timeMs is bit-identical to timeToEpochMs for every fraction length and many seconds', () => {
    const g = new Gen(31337);
    for (let k = 0; k < 5000; k++) {
      // Many distinct seconds, minutes and days, so that the fast path's cache turns over.
      const seconds = Date.UTC(2025, 2, 4) / 1000 + g.int(-400_000, 400_000);
      const base = new Date(seconds * 1000).toISOString().slice(0, 19);
      const digits = g.int(0, 9);
      const t = digits === 0 ? `${base}Z` : `${base}.${g.digits(digits)}Z`;
      const run = runFast(Buffer.from(quoteFrame('1', t)));
      expect(run.returned).toBe(1);
      const msg = run.messages[0] as { time: string; timeMs: number };
      expect(msg.time).toBe(t);
      if (!Object.is(msg.timeMs, timeToEpochMs(t))) {
        throw new Error(`${t}: ${msg.timeMs} != ${timeToEpochMs(t)}`);
      }
    }
  });

  it('odd times: the same text and the same timeMs (NaN included) as the generic path', () => {
    const g = new Gen(5);
    for (let k = 0; k < 300; k++) expect(check(quoteFrame('1', cleanTime(g)))).toBe(true);
    for (const t of [
      '2025-02-30T00:00:00Z',
      '2025-02-30T00:00:00.5Z',
      '2025-03-04T24:00:00Z',
      '2025-03-04 15:02:11.5Z',
      '2025-03-04T15:02:11.5+01:00',
      '2025-03-04T15:02:11.1234567890Z',
      '2025-03-04T15:02:11.Z',
      '12345678901234567890',
      '2025-03-04T15:02:11.12x456789Z',
    ]) {
      expect(check(quoteFrame('1', t)), t).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Named edge cases

function recording(): FrameSink & { calls: number } {
  const sink = {
    calls: 0,
    message: () => {
      sink.calls++;
    },
    invalid: () => {
      sink.calls++;
    },
  };
  return sink;
}

const Q1 =
  '{"T":"q","S":"MSFT","bx":"V","bp":411.02,"bs":3,"ax":"Q","ap":411.05,"as":2,"c":["R"],"z":"C","t":"2025-03-04T15:02:11.123456789Z"}';
const T1 =
  '{"T":"t","S":"AAPL","i":52983525029461,"x":"V","p":227.5,"s":100,"c":["@","I"],"z":"C","t":"2025-03-04T15:02:11.5Z"}';
const B1 =
  '{"T":"b","S":"SPY","o":580.1,"h":581,"l":579.95,"c":580.5,"v":123456,"n":789,"vw":580.33,"t":"2025-03-04T15:02:00Z"}';

describe('fastDecodeJson: named cases', () => {
  it('decodes a quote, a trade and a bar to exactly the generic messages', () => {
    const text = `[${Q1},${T1},${B1}]`;
    expect(check(text)).toBe(true);
    const run = runFast(Buffer.from(text));
    expect(run.returned).toBe(3);
    expect(run.messages[0]).toStrictEqual({
      kind: 'quote',
      symbol: 'MSFT',
      bidExchange: 'V',
      bidPrice: 411.02,
      bidSize: 3,
      askExchange: 'Q',
      askPrice: 411.05,
      askSize: 2,
      conditions: ['R'],
      time: '2025-03-04T15:02:11.123456789Z',
      timeMs: timeToEpochMs('2025-03-04T15:02:11.123456789Z'),
      tape: 'C',
    });
    expect(run.messages.map((m) => m.kind)).toEqual(['quote', 'trade', 'bar']);
    for (const kind of ['d', 'u'])
      expect(check(`[${B1.replace('"T":"b"', `"T":"${kind}"`)}]`)).toBe(true);
  });

  it('an empty array delivers nothing and returns 0, whitespace allowed', () => {
    for (const text of ['[]', ' [ ] ', '\n[\r\n\t]\n']) {
      const sink = recording();
      expect(fastDecodeJson(Buffer.from(text), sink)).toBe(0);
      expect(sink.calls).toBe(0);
    }
  });

  it('refuses whatever is not a top-level array of data items, without calling the sink', () => {
    const refused = [
      '',
      '   ',
      Q1, // a lone object: the generic path reports it
      `[${Q1}][]`, // a second top-level value
      `[${Q1}] {}`,
      `[${Q1},]`, // trailing comma
      `[,${Q1}]`,
      `[${Q1}`, // truncated
      `\ufeff[${Q1}]`, // UTF-8 BOM
      '[1]',
      '["q"]',
      '[null]',
      '[[]]',
      `[${Q1.replace('"T":"q"', '"T":"s"')}]`,
      '[{"T":"success","msg":"connected"}]',
      '[{"T":"error","code":402,"msg":"auth failed"}]',
      '[{"T":"subscription","trades":["AAPL"],"quotes":[]}]',
      `[${Q1.replace('"T":"q",', '')}]`, // no T
      `[${Q1.replace('"T":"q"', '"T":"q","T":"q"')}]`, // duplicate key
      `[${Q1.replace('"bp":411.02', '"bp":null')}]`, // null for a required field
      `[${Q1.replace('"S":"MSFT"', '"S":"MS\\u0046T"')}]`, // an escape
      `[${Q1.replace('"S":"MSFT"', '"S":"MSFT\\\\"')}]`,
      `[${Q1.replace('"S":"MSFT"', '"S":"MSFTé"')}]`, // non-ASCII
      `[${Q1.replace('"T"', '"\\u0054"')}]`, // an escaped key
      `[${Q1.replace('"z":"C"', '"z":{"tape":"C"}')}]`, // a nested object
      `[${Q1.replace('"c":["R"]', '"c":[["R"]]')}]`, // a nested array
      `[${T1.replace('52983525029461', '9007199254740992')}]`, // an id past 2^53-1
      `[${T1.replace('52983525029461', '18446744073709551615')}]`,
      `[${Q1}\u0000]`,
    ];
    for (const text of refused) {
      const sink = recording();
      expect(fastDecodeJson(Buffer.from(text), sink), text).toBe(-1);
      expect(sink.calls, text).toBe(0);
    }
  });

  it('the BOM is refused because the generic path rejects it too', () => {
    const text = Buffer.concat([Buffer.of(0xef, 0xbb, 0xbf), Buffer.from(`[${Q1}]`)]);
    expect(runFast(text).returned).toBe(-1);
    expect(runGeneric(text).invalid[0]?.reason).toBe('corrupt-json');
  });

  it('a duplicate key is refused: JSON.parse keeps the last, which the fast path does not imitate', () => {
    const text = `[${Q1.replace('"bp":411.02', '"bp":1,"bp":411.02')}]`;
    expect(runFast(Buffer.from(text)).returned).toBe(-1);
    expect((runGeneric(Buffer.from(text)).messages[0] as { bidPrice: number }).bidPrice).toBe(
      411.02,
    );
  });

  it('trade ids: exact numbers stay numbers, strings stay strings, big numbers go generic', () => {
    const id = (text: string) => {
      const frame = `[${T1.replace('52983525029461', text)}]`;
      expect(check(frame)).toBe(true);
      return (runFast(Buffer.from(frame)).messages[0] as { id: unknown }).id;
    };
    expect(id('9007199254740991')).toBe(9007199254740991);
    expect(id('-9007199254740991')).toBe(-9007199254740991);
    expect(id('1.5')).toBe(1.5);
    expect(Object.is(id('-0'), -0)).toBe(true);
    expect(id('"18446744073709551615"')).toBe('18446744073709551615');
    expect(id('null')).toBe('');
    expect(id('true')).toBe('');
    const big = `[${T1.replace('52983525029461', '9007199254740993')}]`;
    expect(runFast(Buffer.from(big)).returned).toBe(-1);
    // ...where the generic path re-decodes it exactly.
    expect((runGeneric(Buffer.from(big)).messages[0] as { id: unknown }).id).toBe(
      '9007199254740993',
    );
  });

  it('optional fields: null, absent or mistyped become what normalize makes of them', () => {
    const text =
      '[{"T":"q","S":"BTC/USD","bx":null,"bp":87000.5,"bs":0.51,"ax":5,"ap":87001,"as":1.25,"c":[1,"R"],"z":["C"],"t":"2025-03-04T15:02:11.000000001Z"},' +
      '{"T":"t","S":"BTC/USD","i":"abc","p":87000.5,"s":0.001,"tks":"B","t":"2025-03-04T15:02:11.1Z"},' +
      '{"T":"d","S":"SPY","o":1,"h":2,"l":0.5,"c":1.5,"v":10,"n":null,"vw":"x","t":"2025-03-04T05:00:00Z"}]';
    expect(check(text)).toBe(true);
    const [q, t, d] = runFast(Buffer.from(text)).messages as unknown as Record<string, unknown>[];
    expect([q!.bidExchange, q!.askExchange, q!.conditions, q!.tape]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect([t!.exchange, t!.conditions, t!.tape, t!.takerSide, t!.id]).toEqual([
      undefined,
      undefined,
      undefined,
      'B',
      'abc',
    ]);
    expect([d!.tradeCount, d!.vwap, d!.kind]).toEqual([undefined, undefined, 'dailyBar']);
  });

  it('skips unknown keys with scalar or flat-array values, as normalize ignores them', () => {
    const text = `[${Q1.replace('{', '{"zz":1,"foo":"bar","__proto__":null,"":true,"k":[1,"a",null,false],"i":1e400,')}]`;
    expect(check(text)).toBe(true);
  });

  it('odd whitespace anywhere JSON allows it', () => {
    const spaced =
      '\r\n[ \t{ "T" :\t"q" ,\n"S":"MSFT" ,"bp"  :  411.02e0 ,\r\n "bs":3,"ap":\t4.1105E2,"as":2 , ' +
      '"c" : [ "R" , "X" ] ,"t"\n:\n"2025-03-04T15:02:11.5Z" } ,\n' +
      `${T1}\t]\n\r `;
    expect(JSON.parse(spaced)).toHaveLength(2);
    expect(check(spaced)).toBe(true);
  });

  it('condition lists are shared frozen arrays, equal to the generic ones', () => {
    const text = `[${Q1},${Q1},${T1},${T1.replace('["@","I"]', '[ "@" , "I" ]')}]`;
    expect(check(text)).toBe(true);
    const [a, b, c, d] = runFast(Buffer.from(text)).messages as unknown as {
      conditions: readonly string[];
    }[];
    expect(a!.conditions).toBe(b!.conditions);
    expect(c!.conditions).toBe(d!.conditions);
    expect(Object.isFrozen(a!.conditions)).toBe(true);
    expect(Object.isFrozen(c!.conditions)).toBe(true);
  });

  it('takes a plain Uint8Array as well as a Buffer, at any offset in its buffer', () => {
    const inner = Buffer.from(`xx[${Q1},${T1}]yy`);
    const view = new Uint8Array(inner.buffer, inner.byteOffset + 2, inner.length - 4);
    const run = runFast(view);
    expect(run.returned).toBe(2);
    expectIdentical(run.messages, runGeneric(Buffer.from(view)).messages);
  });

  it('an exception from the sink propagates, and the next frame decodes normally', () => {
    const text = Buffer.from(`[${Q1},${T1}]`);
    let seen = 0;
    const failing: FrameSink = {
      message: () => {
        seen++;
        throw new Error('handler failed');
      },
      invalid: () => undefined,
    };
    expect(() => fastDecodeJson(text, failing)).toThrow('handler failed');
    expect(seen).toBe(1);
    expect(check(text)).toBe(true);
  });

  it('a sink that decodes another frame while receiving one gets both right', () => {
    const outer = Buffer.from(`[${Q1},${T1},${B1}]`);
    const inner = Buffer.from(`[${T1},${T1}]`);
    const got: string[] = [];
    const sink: FrameSink = {
      message: (m) => {
        got.push(m.kind);
        if (got.length === 1) {
          expect(
            fastDecodeJson(inner, {
              message: (x) => got.push(`inner ${x.kind}`),
              invalid: () => undefined,
            }),
          ).toBe(2);
        }
      },
      invalid: () => undefined,
    };
    expect(fastDecodeJson(outer, sink)).toBe(3);
    expect(got).toEqual(['quote', 'inner trade', 'inner trade', 'trade', 'bar']);
  });

  it('stays correct past the intern caches limits (many distinct symbols and lists)', () => {
    const g = new Gen(77);
    for (let f = 0; f < 360; f++) {
      const items: string[] = [];
      for (let k = 0; k < 150; k++) {
        const n = f * 150 + k;
        // Distinct 5- and 6-character symbols, and distinct condition lists that fit a cache key.
        const symbol = `S${n.toString(36).toUpperCase().padStart(4, '0')}${g.chance(0.5) ? 'X' : ''}`;
        items.push(
          Q1.replace('"MSFT"', JSON.stringify(symbol)).replace(
            '["R"]',
            JSON.stringify([String.fromCharCode(97 + (n % 26)), n.toString(36)]),
          ),
        );
      }
      const text = `[${items.join(',')}]`;
      const run = runFast(Buffer.from(text));
      expect(run.returned).toBe(150);
      expectIdentical(run.messages, runGeneric(Buffer.from(text)).messages);
    }
  });
});
