import { describe, expect, it } from 'vitest';
import { Unpackr } from 'msgpackr';
import type { Codec, MarketMessage } from '../../../../shared/market.ts';
import {
  WireTimestamp,
  decodeFrame,
  decodeToArray,
  encodeServerFrame,
  framePackr,
  normalizeItem,
} from '../../../../electron/stream/protocol/index.ts';
import type { FrameSink, InvalidItem } from '../../../../electron/stream/protocol/index.ts';
import { CASES } from './wire-items.ts';

const CODECS: readonly Codec[] = ['json', 'msgpack'];

function decode(frame: string | Buffer, codec: Codec) {
  return decodeToArray(frame, codec === 'msgpack', codec);
}

function collect(): FrameSink & { messages: MarketMessage[]; reports: InvalidItem[] } {
  const messages: MarketMessage[] = [];
  const reports: InvalidItem[] = [];
  return { messages, reports, message: (m) => messages.push(m), invalid: (i) => reports.push(i) };
}

/** The fixed shape of each kind: property names in order, whatever the wire left out. */
const SHAPES: Record<string, readonly string[]> = {
  quote: [
    'kind',
    'symbol',
    'bidExchange',
    'bidPrice',
    'bidSize',
    'askExchange',
    'askPrice',
    'askSize',
    'conditions',
    'time',
    'timeMs',
    'tape',
  ],
  trade: [
    'kind',
    'symbol',
    'id',
    'exchange',
    'price',
    'size',
    'conditions',
    'time',
    'timeMs',
    'tape',
    'takerSide',
  ],
  bar: [
    'kind',
    'symbol',
    'open',
    'high',
    'low',
    'close',
    'volume',
    'tradeCount',
    'vwap',
    'time',
    'timeMs',
  ],
};

describe.each(CODECS)('every message type, %s codec', (codec) => {
  it.each(CASES)('$name', ({ wire, expected }) => {
    const frame = encodeServerFrame([wire], codec);
    expect(typeof frame === 'string').toBe(codec === 'json');
    const { messages, invalid } = decode(frame, codec);
    expect(invalid).toEqual([]);
    expect(messages).toHaveLength(1);
    // toStrictEqual also checks that absent optional fields are present as undefined.
    expect(messages[0]).toStrictEqual(expected);
    const shape = SHAPES[expected.kind.endsWith('Bar') ? 'bar' : expected.kind];
    if (shape) expect(Object.keys(messages[0] ?? {})).toEqual(shape);
  });

  it('delivers a whole batch in wire order', () => {
    const frame = encodeServerFrame(
      CASES.map((c) => c.wire),
      codec,
    );
    const { messages, invalid } = decode(frame, codec);
    expect(invalid).toEqual([]);
    expect(messages).toStrictEqual(CASES.map((c) => c.expected));
  });
});

describe('msgpack timestamps', () => {
  it('writes times as the timestamp extension, not strings, and reads back 9 digits', () => {
    const frame = encodeServerFrame([CASES[0]?.wire ?? {}], 'msgpack') as Buffer;
    // fixext 8 with type -1 (0xff): the 64-bit timestamp layout
    expect(frame.includes(Buffer.from([0xd7, 0xff]))).toBe(true);
    expect(frame.includes(Buffer.from('2025-03-04'))).toBe(false);
    const [quote] = decode(frame, 'msgpack').messages;
    expect(quote?.kind === 'quote' && quote.time).toBe('2025-03-04T15:02:11.123456789Z');
  });

  it('reads the 32-bit and 96-bit layouts', () => {
    const ts32 = Buffer.from([0xd6, 0xff, 0x67, 0xc7, 0x15, 0x73]); // 1741100403 s
    const ts96 = Buffer.concat([
      Buffer.from([0xc7, 12, 0xff]),
      Buffer.from([0x1d, 0xcd, 0x65, 0x00]), // 500000000 ns
      Buffer.from([0, 0, 0, 0, 0x67, 0xc7, 0x15, 0x73]), // 1741100403 s
    ]);
    for (const [bytes, time] of [
      [ts32, '2025-03-04T15:00:03Z'],
      [ts96, '2025-03-04T15:00:03.500000000Z'],
    ] as const) {
      const head = framePackr.pack([{ T: 'i', S: 'AAPL', p: 1, t: 0 }]);
      // replace the trailing positive fixint 0 (the value of t) by the extension bytes
      const frame = Buffer.concat([head.subarray(0, head.length - 1), bytes]);
      const { messages, invalid } = decode(frame, 'msgpack');
      expect(invalid).toEqual([]);
      expect(messages[0]).toMatchObject({ kind: 'imbalance', time });
    }
  });

  it('gives UTC text for a timestamp that JSON sent with an offset and 1 digit', () => {
    const wire = { T: 'b', S: 'X', o: 1, h: 1, l: 1, c: 1, v: 1, t: '2025-03-04T10:02:11.5-05:00' };
    expect(decode(encodeServerFrame([wire], 'json'), 'json').messages[0]?.kind).toBe('bar');
    const [bar] = decode(encodeServerFrame([wire], 'msgpack'), 'msgpack').messages;
    expect(bar).toMatchObject({ time: '2025-03-04T15:02:11.500000000Z' });
  });

  it('reports a malformed timestamp extension as wrong-type and keeps the batch', () => {
    const good = { T: 'i', S: 'AAPL', p: 1, t: new WireTimestamp(1741100403, 7) };
    const packed = framePackr.pack([{ T: 'i', S: 'AAPL', p: 1, t: 0 }, good]);
    // the first item's t (fixint 0) becomes a 5-byte ext of type -1, a length no layout has
    const at = packed.indexOf(Buffer.from([0xa1, 0x74, 0x00])) + 2;
    const frame = Buffer.concat([
      packed.subarray(0, at),
      Buffer.from([0xc7, 5, 0xff, 1, 2, 3, 4, 5]),
      packed.subarray(at + 1),
    ]);
    const { messages, invalid } = decode(frame, 'msgpack');
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatchObject({ reason: 'wrong-type' });
    expect(invalid[0]?.detail).toContain('malformed msgpack timestamp');
    expect(messages).toEqual([
      {
        kind: 'imbalance',
        symbol: 'AAPL',
        price: 1,
        time: '2025-03-04T15:00:03.000000007Z',
        timeMs: 1741100403000 + 7e-6,
        tape: undefined,
      },
    ]);
  });
});

describe('ids', () => {
  const BIG = '12345678901234567891'; // > 2^64 would not fit uint64; this is < 2^64 and > 2^53

  it('keeps a big crypto trade id exact in JSON, where JSON.parse alone rounds it', () => {
    expect(String(JSON.parse(BIG))).not.toBe(BIG);
    const text =
      `[{"T":"t","S":"BTC/USD","i":1,"p":1,"s":1,"t":"2025-03-04T15:02:11Z"},` +
      `{"T":"t","S":"BTC/USD","i":${BIG},"p":2,"s":0.5,"t":"2025-03-04T15:02:11Z"},` +
      `{"T":"c","S":"BTC/USD","oi":${BIG},"op":1,"os":1,"ci":${BIG}1,"cp":1,"cs":1,"t":"2025-03-04T15:02:11Z"},` +
      `{"T":"n","id":${BIG},"created_at":"2025-03-04T15:02:11Z"}]`;
    const { messages, invalid } = decodeToArray(text, false, 'json');
    expect(invalid).toEqual([]);
    // Exact ids stay the numbers they were; the one past 2^53 is its exact text.
    expect(messages.map((m) => ('id' in m ? m.id : undefined))).toEqual([1, BIG, undefined, BIG]);
    expect(messages[1]).toMatchObject({ price: 2, size: 0.5 });
    expect(messages[2]).toMatchObject({ originalId: BIG, correctedId: `${BIG}1` });
  });

  it('keeps a big id exact when encodeServerFrame writes it from a bigint, both codecs', () => {
    const wire = { T: 't', S: 'BTC/USD', i: BigInt(BIG), p: 1, s: 1, t: '2025-03-04T15:02:11Z' };
    for (const codec of CODECS) {
      const frame = encodeServerFrame([wire], codec);
      if (codec === 'json') expect(frame).toContain(`"i":${BIG}`);
      const [trade] = decode(frame, codec).messages;
      expect(trade).toMatchObject({ kind: 'trade', id: BIG });
    }
  });

  it('counts each item once when a frame is re-decoded for a big id', () => {
    const text = `[{"T":"zz"},{"T":"t","S":"A","i":${BIG},"p":1,"s":1,"t":"2025-03-04T15:02:11Z"},{"T":"q"}]`;
    const sink = collect();
    expect(decodeFrame(text, false, 'json', sink)).toBe(1);
    expect(sink.reports.map((i) => i.reason)).toEqual(['unknown-type', 'missing-field']);
    expect(sink.messages).toMatchObject([{ id: BIG }]);
  });

  it('keeps exact number ids as numbers and makes bigint ids text, including an unpackr that yields bigint', () => {
    const sink = collect();
    const base = { T: 't', S: 'A', p: 1, s: 1, t: '2025-03-04T15:02:11Z' };
    normalizeItem({ ...base, i: 42 }, sink);
    normalizeItem({ ...base, i: BigInt(BIG) }, sink);
    normalizeItem({ ...base, i: 'abc' }, sink);
    normalizeItem(base, sink); // absent id: lenient
    expect(sink.messages.map((m) => (m.kind === 'trade' ? m.id : null))).toEqual([
      42,
      BIG,
      'abc',
      '',
    ]);
    // int64AsType 'auto' (numbers when safe, bigint past 2^53) keeps the id exact in one pass
    const auto = new Unpackr({
      useRecords: false,
      mapsAsObjects: true,
      int64AsType: 'auto',
    } as never);
    const decoded: unknown = auto.unpack(framePackr.pack({ ...base, i: BigInt(BIG), s: 7n }));
    expect(normalizeItem(decoded, sink)).toBe(true);
    expect(sink.messages[4]).toMatchObject({ id: BIG, size: 7 });
  });
});

describe('frame data forms', () => {
  const text = encodeServerFrame([CASES[0]?.wire ?? {}], 'json') as string;
  const packed = encodeServerFrame([CASES[0]?.wire ?? {}], 'msgpack') as Buffer;
  const expected = [CASES[0]?.expected];

  it('reads a text frame as JSON whatever the codec, and a Buffer text frame too', () => {
    expect(decodeToArray(text, false, 'msgpack').messages).toEqual(expected);
    expect(decodeToArray(Buffer.from(text), false, 'msgpack').messages).toEqual(expected);
  });

  it('reads a binary frame as UTF-8 JSON under the json codec', () => {
    expect(decodeToArray(Buffer.from(text), true, 'json').messages).toEqual(expected);
  });

  it('accepts ArrayBuffer and Buffer[] fragments', () => {
    const copy = new Uint8Array(packed).buffer;
    expect(decodeToArray(copy, true, 'msgpack').messages).toEqual(expected);
    const parts = [packed.subarray(0, 5), packed.subarray(5, 9), packed.subarray(9)];
    expect(decodeToArray(parts, true, 'msgpack').messages).toEqual(expected);
    const textParts = [Buffer.from(text.slice(0, 7)), Buffer.from(text.slice(7))];
    expect(decodeToArray(textParts, false, 'json').messages).toEqual(expected);
  });
});

describe('sink contract', () => {
  it('returns the number of messages delivered', () => {
    const frame = encodeServerFrame(
      [CASES[0]?.wire ?? {}, { T: '?' }, CASES[2]?.wire ?? {}],
      'json',
    );
    const sink = collect();
    expect(decodeFrame(frame, false, 'json', sink)).toBe(2);
    expect(sink.messages).toHaveLength(2);
    expect(sink.reports).toHaveLength(1);
  });

  it('lets an exception thrown by the sink propagate, without reporting it as invalid input', () => {
    const boom = new Error('handler failed');
    const invalid: InvalidItem[] = [];
    const sink: FrameSink = {
      message: () => {
        throw boom;
      },
      invalid: (i) => invalid.push(i),
    };
    const frame = encodeServerFrame([CASES[0]?.wire ?? {}], 'msgpack');
    expect(() => decodeFrame(frame, true, 'msgpack', sink)).toThrow(boom);
    expect(invalid).toEqual([]);
  });
});
