/**
 * The relay sends what its upstream client decoded: the way back to the wire must lose nothing.
 * Each kind goes wire -> domain -> wire -> frame -> domain again, in both codecs, and comes back
 * equal; frames joined from items encoded one by one are byte for byte the frames the simulator
 * writes.
 */
import { describe, expect, it } from 'vitest';
import type { Codec, MarketMessage } from '../../../shared/market.ts';
import { channelOf, toWireItem } from '../../../electron/relay/wire.ts';
import {
  decodeFrame,
  encodeServerFrame,
  encodeServerItem,
  joinServerItems,
  type InvalidItem,
} from '../../../electron/stream/protocol/index.ts';
import type { DataMessage } from '../../../shared/market.ts';

const T = `${new Date(Date.now() - 60_000).toISOString().slice(0, -1)}456789Z`;

const WIRE: Record<string, unknown>[] = [
  {
    T: 'q',
    S: 'AAPL',
    bx: 'V',
    bp: 228.5,
    bs: 3,
    ax: 'Q',
    ap: 228.52,
    as: 2,
    c: ['R'],
    t: T,
    z: 'C',
  },
  { T: 'q', S: 'BTC/USD', bp: 90_000.5, bs: 0.25, ap: 90_001, as: 1.5, t: T },
  {
    T: 't',
    S: 'AAPL',
    i: 52_983_525_001_001,
    x: 'V',
    p: 228.5,
    s: 100,
    c: ['@', 'I'],
    t: T,
    z: 'C',
  },
  { T: 'b', S: 'AAPL', o: 1, h: 2, l: 0.5, c: 1.5, v: 10_000_000_000, n: 10, vw: 1.2, t: T },
  { T: 'd', S: 'MSFT', o: 1, h: 2, l: 0.5, c: 1.5, v: 1000, n: 10, vw: 1.2, t: T },
  { T: 'u', S: 'MSFT', o: 1, h: 2, l: 0.5, c: 1.5, v: 1000, t: T },
  { T: 's', S: 'AAPL', sc: 'H', sm: 'Trading Halt', rc: 'T12', rm: 'News pending', t: T, z: 'C' },
  { T: 'l', S: 'AAPL', u: 240.1, d: 216.2, i: 'B', t: T, z: 'C' },
  {
    T: 'c',
    S: 'AAPL',
    x: 'V',
    oi: 1,
    op: 228.5,
    os: 100,
    oc: ['@'],
    ci: 2,
    cp: 228.55,
    cs: 100,
    cc: ['@'],
    t: T,
    z: 'C',
  },
  { T: 'x', S: 'AAPL', i: 3, x: 'V', p: 228.5, s: 100, a: 'C', t: T, z: 'C' },
  { T: 'i', S: 'AAPL', p: 228.4, t: T, z: 'C' },
  { T: 'o', S: 'BTC/USD', t: T, b: [{ p: 90_000, s: 1 }], a: [{ p: 90_001, s: 0 }], r: true },
  {
    T: 'n',
    id: 24_843_171,
    headline: 'Headline',
    summary: 'Summary',
    author: 'Author',
    created_at: T,
    updated_at: T,
    content: '',
    url: 'https://example.com/n',
    symbols: ['AAPL', 'MSFT'],
    source: 'benzinga',
  },
];

function decode(
  frame: string | Buffer,
  codec: Codec,
): { messages: MarketMessage[]; invalid: InvalidItem[] } {
  const messages: MarketMessage[] = [];
  const invalid: InvalidItem[] = [];
  decodeFrame(frame, codec === 'msgpack', codec, {
    message: (m) => messages.push(m),
    invalid: (i) => invalid.push(i),
  });
  return { messages, invalid };
}

describe('toWireItem', () => {
  it.each(['json', 'msgpack'] as const)(
    'wire -> domain -> wire is lossless for every kind (%s)',
    (codec) => {
      const first = decode(encodeServerFrame(WIRE, codec), codec);
      expect(first.invalid).toEqual([]);
      expect(first.messages).toHaveLength(WIRE.length);
      const back = (first.messages as DataMessage[]).map(toWireItem);
      expect(back).toEqual(WIRE);
      const again = decode(
        joinServerItems(
          back.map((i) => encodeServerItem(i, codec)),
          codec,
        ),
        codec,
      );
      expect(again.invalid).toEqual([]);
      expect(again.messages).toEqual(first.messages);
    },
  );

  it('gives a crypto trade id past 2^53 back with every digit', () => {
    const text = `[{"T":"t","S":"BTC/USD","i":12345678901234567890,"p":1.5,"s":0.25,"t":"${T}","tks":"B"}]`;
    const [trade] = decode(text, 'json').messages as DataMessage[];
    expect(trade).toMatchObject({ kind: 'trade', id: '12345678901234567890', takerSide: 'B' });
    const json = encodeServerItem(toWireItem(trade as DataMessage), 'json') as string;
    expect(json).toContain('"i":12345678901234567890');
    const packed = decode(
      joinServerItems([encodeServerItem(toWireItem(trade as DataMessage), 'msgpack')], 'msgpack'),
      'msgpack',
    );
    expect(packed.messages[0]).toMatchObject({ id: '12345678901234567890' });
  });

  it('names the channel a client subscribes for each kind', () => {
    const { messages } = decode(encodeServerFrame(WIRE, 'json'), 'json');
    expect((messages as DataMessage[]).map(channelOf)).toEqual([
      'quotes',
      'quotes',
      'trades',
      'bars',
      'dailyBars',
      'updatedBars',
      'statuses',
      'lulds',
      'trades',
      'trades',
      'imbalances',
      'orderbooks',
      'news',
    ]);
  });
});

describe('joinServerItems', () => {
  it.each([0, 1, 15, 16, 300, 70_000])(
    'makes the same frame as encodeServerFrame for %i items',
    (n) => {
      const items = Array.from({ length: n }, (_, i) => ({ ...WIRE[i % 4] }));
      for (const codec of ['json', 'msgpack'] as const) {
        const joined = joinServerItems(
          items.map((i) => encodeServerItem(i, codec)),
          codec,
        );
        // equals(), not toEqual: a deep diff of a megabyte buffer takes vitest seconds.
        expect(Buffer.from(joined).equals(Buffer.from(encodeServerFrame(items, codec)))).toBe(true);
      }
    },
  );
});
