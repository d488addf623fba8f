/**
 * NATS wire: symbol tokens are reversible and always one legal subject token; data batches come
 * back as the same values (trade ids past 2^53 included); bad payloads and interest messages
 * are refused with a reason.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DataMessage } from '../../../shared/market.ts';
import {
  NatsSubjects,
  checkPrefix,
  encodeControl,
  packMessages,
  readInterest,
  readState,
  symbolToken,
  tokenSymbol,
  unpackMessages,
} from '../../../electron/relay/nats-wire.ts';

/** A NATS subject token: no separator, wildcard or whitespace, not empty. */
const LEGAL_TOKEN = /^[^.*>\s]+$/;

describe('symbolToken', () => {
  it('encodes the awkward symbols readably', () => {
    expect(symbolToken('AAPL')).toBe('AAPL');
    expect(symbolToken('BRK.B')).toBe('BRK_2EB');
    expect(symbolToken('BTC/USD')).toBe('BTC_2FUSD');
    expect(symbolToken('A_B')).toBe('A_5FB');
    expect(symbolToken('*')).toBe('_2A');
    expect(symbolToken('>')).toBe('_3E');
    expect(symbolToken('A B\t')).toBe('A_20B_09');
    expect(symbolToken('')).toBe('_');
    expect(symbolToken('é')).toBe('_C3_A9');
  });

  it('round-trips any string to one legal token, and different symbols never share one', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 24 }),
        fc.string({ maxLength: 8 }),
        (a, b) => {
          const token = symbolToken(a);
          expect(token).toMatch(LEGAL_TOKEN);
          expect(tokenSymbol(token)).toBe(a);
          if (a !== b) expect(symbolToken(b)).not.toBe(token);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses tokens it cannot have made', () => {
    for (const bad of ['A.B', 'A_2', 'A_zz', 'A_41', 'A*', '_FF', 'A B']) {
      expect(() => tokenSymbol(bad), bad).toThrow(RangeError);
    }
  });
});

describe('NatsSubjects', () => {
  it('lays out data, interest, hello and state subjects under the prefix and feed', () => {
    const s = new NatsSubjects('md.alpaca', 'iex');
    const quote = { kind: 'quote', symbol: 'BRK.B' } as DataMessage;
    const correction = { kind: 'correction', symbol: 'AAPL' } as DataMessage;
    expect(s.forMessage(quote)).toBe('md.alpaca.iex.q.BRK_2EB');
    // corrections travel with the trades they correct, as Alpaca sends them on `trades`
    expect(s.forMessage(correction)).toBe('md.alpaca.iex.t.AAPL');
    expect(s.forPair('quotes', 'BRK.B')).toBe('md.alpaca.iex.q.BRK_2EB');
    expect(s.forPair('trades', '*')).toBe('md.alpaca.iex.t.*');
    expect(s.forPair('news', 'AAPL')).toBe('md.alpaca.iex.n.*');
    expect(s.interest).toBe('md.alpaca.iex.interest');
    expect(s.hello).toBe('md.alpaca.iex.hello');
    expect(s.state('abc123')).toBe('md.alpaca.iex.state.abc123');
    expect(() => s.state('a.b')).toThrow(RangeError);
  });

  it('refuses prefixes that are not plain subject tokens', () => {
    for (const bad of ['', 'a..b', 'a.*', 'a.>', 'a b', '.a', 'a.']) {
      expect(() => checkPrefix(bad), bad).toThrow(RangeError);
    }
    expect(checkPrefix('alpaca')).toBe('alpaca');
  });
});

// ------------------------------------------------------------------ messages

const symbol = fc.stringMatching(/^[A-Z][A-Z0-9./]{0,9}$/);
/** -0 is not kept (msgpack and JSON both send it as 0): Alpaca's clients never see it either. */
const num = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x));
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.option(arb, { nil: undefined });
const conditions = maybe(fc.array(fc.string({ maxLength: 2 }), { maxLength: 3 }));
/** As the decoder makes them: a number while exact, else the exact decimal text. */
const tradeId = fc.oneof(
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }).map((n) => n.toString()),
);
const time = fc.constant('2026-12-07T10:50:01.123456789Z');
const timeMs = fc.integer({ min: 0, max: 2 ** 42 });

const quote = fc.record({
  kind: fc.constant('quote' as const),
  symbol,
  bidExchange: maybe(fc.string({ maxLength: 1 })),
  bidPrice: num,
  bidSize: num,
  askExchange: maybe(fc.string({ maxLength: 1 })),
  askPrice: num,
  askSize: num,
  conditions,
  time,
  timeMs,
  tape: maybe(fc.constantFrom('A', 'B', 'C')),
});
const trade = fc.record({
  kind: fc.constant('trade' as const),
  symbol,
  id: tradeId,
  exchange: maybe(fc.string({ maxLength: 1 })),
  price: num,
  size: num,
  conditions,
  time,
  timeMs,
  tape: maybe(fc.constantFrom('A', 'B', 'C')),
  takerSide: maybe(fc.constantFrom('B', 'S')),
});
const bar = fc.record({
  kind: fc.constantFrom('bar' as const, 'dailyBar' as const, 'updatedBar' as const),
  symbol,
  open: num,
  high: num,
  low: num,
  close: num,
  volume: num,
  tradeCount: maybe(fc.nat()),
  vwap: maybe(num),
  time,
  timeMs,
});
const correction = fc.record({
  kind: fc.constant('correction' as const),
  symbol,
  exchange: maybe(fc.string({ maxLength: 1 })),
  originalId: tradeId,
  originalPrice: num,
  originalSize: num,
  originalConditions: conditions,
  correctedId: tradeId,
  correctedPrice: num,
  correctedSize: num,
  correctedConditions: conditions,
  time,
  timeMs,
  tape: maybe(fc.constantFrom('A', 'B', 'C')),
});
const orderbook = fc.record({
  kind: fc.constant('orderbook' as const),
  symbol,
  time,
  timeMs,
  bids: fc.array(fc.record({ price: num, size: num }), { maxLength: 4 }),
  asks: fc.array(fc.record({ price: num, size: num }), { maxLength: 4 }),
  reset: fc.boolean(),
});
const news = fc.array(symbol, { minLength: 1, maxLength: 3 }).chain((symbols) =>
  fc.record({
    kind: fc.constant('news' as const),
    id: fc.nat().map(String),
    symbol: fc.constant(symbols[0] ?? ''),
    symbols: fc.constant(symbols),
    headline: fc.string(),
    summary: fc.string(),
    author: fc.string(),
    content: fc.string(),
    url: fc.string(),
    source: fc.string(),
    createdAt: time,
    updatedAt: time,
    time,
    timeMs,
  }),
);
const message: fc.Arbitrary<DataMessage> = fc.oneof(quote, trade, bar, correction, orderbook, news);

describe('packMessages / unpackMessages', () => {
  it('give back the same DataMessage values, absent fields and big trade ids included', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 5 }), (generated) => {
        // fast-check may build objects without a prototype; the decoder's have Object's.
        const batch = structuredClone(generated);
        const back = unpackMessages(packMessages(batch));
        expect(back).toStrictEqual({ ok: true, messages: batch });
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a crypto trade id past 2^53 exact', () => {
    const id = '18446744073709551615';
    const msg = {
      kind: 'trade',
      symbol: 'BTC/USD',
      id,
      exchange: undefined,
      price: 97000.5,
      size: 0.0012,
      conditions: undefined,
      time: '2026-12-07T10:50:01.1Z',
      timeMs: 1_796_640_601_100,
      tape: undefined,
      takerSide: 'B',
    } satisfies DataMessage;
    const back = unpackMessages(packMessages([msg]));
    expect(back.ok && back.messages[0]).toStrictEqual(msg);
  });

  it('refuses what is not a batch of data messages, with a reason', () => {
    const bad = [
      Uint8Array.from([0xc1]), // never used in msgpack
      packMessages({ kind: 'quote' } as unknown as DataMessage[]),
      packMessages([{ kind: 'bogus', symbol: 'A' }] as unknown as DataMessage[]),
      packMessages([{ kind: 'quote' }] as unknown as DataMessage[]),
      packMessages([{ kind: 'news', symbol: 'A', symbols: 'A' }] as unknown as DataMessage[]),
      new Uint8Array(0),
    ];
    for (const payload of bad) {
      const read = unpackMessages(payload);
      expect(read.ok).toBe(false);
      if (!read.ok) expect(read.reason.length).toBeGreaterThan(0);
    }
  });
});

describe('interest messages', () => {
  it('reads an announcement and a goodbye, and refuses garbage', () => {
    const announce = {
      v: 1 as const,
      relay: 'r1',
      seq: 3,
      leaseMs: 3000,
      pairs: { quotes: ['AAPL', 'BRK.B'], trades: ['*'] },
    };
    expect(readInterest(encodeControl(announce))).toStrictEqual({ ok: true, value: announce });
    expect(readInterest(encodeControl({ v: 1, relay: 'r1', bye: true }))).toStrictEqual({
      ok: true,
      value: { v: 1, relay: 'r1', bye: true },
    });
    const garbage = [
      'not json',
      '{}',
      '{"v":2,"relay":"r1","seq":1,"leaseMs":3000,"pairs":{}}',
      '{"v":1,"relay":"a.b","seq":1,"leaseMs":3000,"pairs":{}}',
      '{"v":1,"relay":"r1","seq":1,"leaseMs":1,"pairs":{}}',
      '{"v":1,"relay":"r1","seq":1,"leaseMs":3000,"pairs":{"bogus":["A"]}}',
      '{"v":1,"relay":"r1","seq":1,"leaseMs":3000,"pairs":{"quotes":"A"}}',
    ];
    for (const text of garbage) {
      expect(readInterest(new TextEncoder().encode(text)).ok, text).toBe(false);
    }
    expect(readInterest(Uint8Array.from([0xff, 0xfe])).ok).toBe(false);
  });

  it('reads the holder state', () => {
    const state = {
      v: 1 as const,
      holder: 'h1',
      seq: 4,
      confirmed: { quotes: ['AAPL'] },
      refused: [['trades', 'BOGUS', 410]] as ['trades', string, number][],
    };
    expect(readState(encodeControl(state))).toStrictEqual({ ok: true, value: state });
    expect(readState(new TextEncoder().encode('{"v":1}')).ok).toBe(false);
  });
});
