/**
 * Impossible market data (issue 15, finding 5): negative prices and sizes, bars that contradict
 * themselves, times before 1970 or more than a day ahead are refused per item, counted by reason,
 * on every path (generic JSON, the JSON fast path, the msgpack fast path), and an excerpt shows the
 * item as it was on the wire.
 */
import { describe, expect, it } from 'vitest';
import { decodeFrame, decodeToArray } from '../../../../electron/stream/protocol/decode.ts';
import { encodeServerFrame } from '../../../../electron/stream/protocol/encode.ts';
import {
  MAX_FUTURE_MS,
  implausibleTime,
  timeBound,
} from '../../../../electron/stream/protocol/normalize.ts';
import { framePackr } from '../../../../electron/stream/protocol/msgpack.ts';
import type { InvalidItem } from '../../../../electron/stream/protocol/index.ts';
import type { MarketMessage } from '../../../../shared/market.ts';

const T = '2025-03-04T15:02:11.123456789Z';
const QUOTE = { T: 'q', S: 'AAPL', bp: 227.5, bs: 1, ap: 227.52, as: 2, t: T };
const TRADE = { T: 't', S: 'AAPL', i: 1, p: 227.5, s: 100, t: T };
const BAR = { T: 'b', S: 'SPY', o: 580.1, h: 581, l: 579.95, c: 580.5, v: 123456, t: T };

type Wire = Record<string, unknown>;

/** Every way the same frame reaches the decoder: JSON text, JSON bytes (fast path), msgpack. */
function everyPath(items: Wire[]): Array<[string, ReturnType<typeof decodeToArray>]> {
  const json = JSON.stringify(items);
  return [
    ['json text', decodeToArray(json, false, 'json')],
    ['json bytes', decodeToArray(Buffer.from(json), false, 'json')],
    ['msgpack', decodeToArray(Buffer.from(framePackr.pack(items)), true, 'msgpack')],
  ];
}

function isoIn(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}

/** [what, item, reason]: one impossible item each. */
const REFUSED: Array<[string, Wire, InvalidItem['reason']]> = [
  ['a negative bid price', { ...QUOTE, bp: -0.01 }, 'negative-value'],
  ['a negative bid size', { ...QUOTE, bs: -1 }, 'negative-value'],
  ['a negative ask price', { ...QUOTE, ap: -227.52 }, 'negative-value'],
  ['a negative ask size', { ...QUOTE, as: -5 }, 'negative-value'],
  ['a negative trade price', { ...TRADE, p: -1 }, 'negative-value'],
  ['a negative trade size', { ...TRADE, s: -100 }, 'negative-value'],
  ['a negative volume', { ...BAR, v: -1 }, 'negative-value'],
  ['a negative low', { ...BAR, o: -1, h: 1, l: -2, c: 0 }, 'negative-value'],
  ['high below low', { ...BAR, o: 580, h: 579, l: 581, c: 580 }, 'inconsistent-bar'],
  ['open above high', { ...BAR, o: 582 }, 'inconsistent-bar'],
  ['open below low', { ...BAR, o: 579 }, 'inconsistent-bar'],
  ['close above high', { ...BAR, c: 581.01 }, 'inconsistent-bar'],
  ['close below low', { ...BAR, T: 'd', c: 1 }, 'inconsistent-bar'],
  ['an updated bar with high below low', { ...BAR, T: 'u', h: 1 }, 'inconsistent-bar'],
  ['year 0000', { ...QUOTE, t: '0000-01-01T00:00:00Z' }, 'implausible-time'],
  ['year 9999', { ...TRADE, t: '9999-12-31T23:59:59.999999999Z' }, 'implausible-time'],
  ['a second before 1970', { ...BAR, t: '1969-12-31T23:59:59Z' }, 'implausible-time'],
  ['two days ahead', { ...QUOTE, t: isoIn(2 * 86_400_000) }, 'implausible-time'],
  ['negative LULD band', { T: 'l', S: 'X', u: -1, d: 1, t: T }, 'negative-value'],
  ['negative imbalance price', { T: 'i', S: 'X', p: -3, t: T }, 'negative-value'],
  [
    'negative corrected size',
    { T: 'c', S: 'X', op: 1, os: 1, cp: 1, cs: -1, t: T },
    'negative-value',
  ],
  ['negative cancelled price', { T: 'x', S: 'X', p: -1, s: 1, t: T }, 'negative-value'],
  ['a status from year 9999', { T: 's', S: 'X', t: '9999-01-01T00:00:00Z' }, 'implausible-time'],
  [
    'news from year 0000',
    { T: 'n', id: 1, created_at: '0000-01-01T00:00:00Z' },
    'implausible-time',
  ],
  [
    'an order book level of negative size',
    { T: 'o', S: 'BTC/USD', b: [{ p: 1, s: -1 }], a: [], t: T },
    'negative-value',
  ],
];

describe('impossible values are refused per item, on every path', () => {
  it.each(REFUSED)('%s', (_what, bad, reason) => {
    for (const [path, { messages, invalid }] of everyPath([QUOTE, bad, TRADE, BAR])) {
      // Only the bad item goes; its neighbours are delivered.
      expect(
        messages.map((m) => m.kind),
        path,
      ).toEqual(['quote', 'trade', 'bar']);
      expect(
        invalid.map((i) => i.reason),
        path,
      ).toEqual([reason]);
    }
  });

  it('zero stays allowed (Alpaca sends 0 for no bid or ask); so do -0 and flat bars', () => {
    const items: Wire[] = [
      { ...QUOTE, bp: 0, bs: 0 },
      { ...QUOTE, ap: 0, as: 0 },
      { ...TRADE, s: 0 },
      { ...BAR, o: 5, h: 5, l: 5, c: 5, v: 0 },
      { ...QUOTE, t: '1970-01-01T00:00:00Z' },
      { ...QUOTE, t: isoIn(60 * 60_000) }, // an hour ahead: a skewed clock, not an impossible time
    ];
    for (const [path, { messages, invalid }] of everyPath(items)) {
      expect(invalid, path).toEqual([]);
      expect(messages, path).toHaveLength(items.length);
    }
    const minusZero = decodeToArray(
      '[{"T":"q","S":"A","bp":-0,"bs":-0.0,"ap":1,"as":1,"t":"' + T + '"}]',
      false,
      'json',
    );
    expect(minusZero.invalid).toEqual([]);
  });

  it('details say which field and why', () => {
    const { invalid } = decodeToArray(
      JSON.stringify([
        { ...QUOTE, as: -5 },
        { ...BAR, h: 1 },
        { ...TRADE, t: '9999-12-31T23:59:59Z' },
      ]),
      false,
      'json',
    );
    expect(invalid.map((i) => i.detail)).toEqual([
      'q.as: -5 is below zero',
      'b: o 580.1, h 1, l 579.95, c 580.5: needs l <= o, c <= h',
      't.t: 9999-12-31T23:59:59Z is before 1970 or more than a day ahead',
    ]);
  });
});

describe('excerpts show what was on the wire', () => {
  it('1e400 is shown as 1e400, not null; the excerpt is the bad item, not its batch', () => {
    const good = `{"T":"q","S":"AAPL","bp":1,"bs":1,"ap":2,"as":1,"t":"${T}"}`;
    const bad = `{"T":"q","S":"MSFT","bp":1e400,"bs":1,"ap":2,"as":1,"t":"${T}"}`;
    for (const frame of [`[${good}, ${bad}]`, `[ ${good} ,\n ${bad} ]`]) {
      for (const data of [frame, Buffer.from(frame)]) {
        const { invalid, messages } = decodeToArray(data, false, 'json');
        expect(messages).toHaveLength(1);
        expect(invalid).toHaveLength(1);
        expect(invalid[0]?.excerpt).toBe(bad);
      }
    }
  });

  it('a long item is cut to the excerpt length; strings with brackets and quotes do not confuse it', () => {
    const tricky = `{"T":"q","S":"A","x":"],[{\\"}","bp":-1,"bs":1,"ap":2,"as":1,"t":"${T}","pad":"${'y'.repeat(300)}"}`;
    const { invalid } = decodeToArray(`[${tricky},{"T":"q"}]`, false, 'json');
    expect(invalid.map((i) => i.reason)).toEqual(['negative-value', 'missing-field']);
    expect(invalid[0]?.excerpt).toBe(tricky.slice(0, 120));
    expect(invalid[1]?.excerpt).toBe('{"T":"q"}');
  });

  it('a lone object (not an array) is its own excerpt', () => {
    const lone = `{"T":"t","S":"A","p":-2,"s":1,"t":"${T}"}`;
    const { invalid } = decodeToArray(lone, false, 'json');
    expect(invalid.map((i) => [i.reason, i.excerpt])).toEqual([
      ['not-array', lone],
      ['negative-value', lone],
    ]);
  });

  it('msgpack: the excerpt is the hex of the item bytes (an infinite float64 included)', () => {
    const items = [QUOTE, { ...QUOTE, S: 'INF', bp: Infinity }, { ...TRADE, p: -1 }];
    const bytes = Buffer.from(framePackr.pack(items));
    const { invalid } = decodeToArray(bytes, true, 'msgpack');
    expect(invalid.map((i) => i.reason)).toEqual(['wrong-type', 'negative-value']);
    for (const [k, item] of [items[1], items[2]].entries()) {
      const own = Buffer.from(framePackr.pack(item)).toString('hex');
      expect(invalid[k]?.excerpt).toBe(own.slice(0, 120));
    }
    expect(invalid[0]?.excerpt).toContain('cb7ff0000000000000'); // float64 +Infinity
  });

  it('deep nesting in a neighbour does not hurt the scan', () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const frame = `[{"T":"q","deep":${deep}},{"T":"q","S":"A","bp":-1,"bs":1,"ap":1,"as":1,"t":"${T}"}]`;
    const { invalid } = decodeToArray(frame, false, 'json');
    expect(invalid.map((i) => i.reason)).toEqual(['missing-field', 'negative-value']);
    expect(invalid[1]?.excerpt.startsWith('{"T":"q","S":"A","bp":-1')).toBe(true);
  });
});

describe('the time bound', () => {
  it('is a day ahead of the wall clock, read again only when a time passes the cached bound', () => {
    expect(MAX_FUTURE_MS).toBe(86_400_000);
    timeBound.latestMs = 0; // as at start-up: nothing read yet
    expect(implausibleTime(Date.now())).toBe(false);
    const bound = timeBound.latestMs;
    expect(bound).toBeGreaterThanOrEqual(Date.now() + MAX_FUTURE_MS - 1_000);
    expect(implausibleTime(Date.now() - 1_000)).toBe(false);
    expect(timeBound.latestMs).toBe(bound); // under the bound: no clock read
    expect(implausibleTime(Date.now() + 2 * MAX_FUTURE_MS)).toBe(true);
    expect(implausibleTime(-1)).toBe(true);
    expect(implausibleTime(Number.NaN)).toBe(false); // unparsable text stays as lenient as before
  });

  it('the fast paths refresh a stale bound instead of refusing live data', () => {
    const now = new Date().toISOString();
    for (const [data, binary, codec] of [
      [Buffer.from(JSON.stringify([{ ...QUOTE, t: now }])), false, 'json'],
      [Buffer.from(framePackr.pack([{ ...QUOTE, t: now }])), true, 'msgpack'],
    ] as const) {
      timeBound.latestMs = 0;
      const messages: MarketMessage[] = [];
      const reports: InvalidItem[] = [];
      decodeFrame(data, binary, codec, {
        message: (m) => messages.push(m),
        invalid: (i) => reports.push(i),
      });
      expect(reports).toEqual([]);
      expect(messages).toHaveLength(1);
    }
  });

  it('the encoder the simulator uses produces nothing the decoder refuses', () => {
    const frame = encodeServerFrame([QUOTE, TRADE, BAR], 'msgpack');
    expect(decodeToArray(frame, true, 'msgpack').invalid).toEqual([]);
  });
});
