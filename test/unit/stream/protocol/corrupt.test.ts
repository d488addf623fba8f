import { describe, expect, it } from 'vitest';
import type { Codec } from '../../../../shared/market.ts';
import {
  INVALID_REASONS,
  decodeToArray,
  encodeServerFrame,
  framePackr,
  normalizeItem,
} from '../../../../electron/stream/protocol/index.ts';
import type { InvalidItem, InvalidReason } from '../../../../electron/stream/protocol/index.ts';

const T = '2025-03-04T15:02:11.123456789Z';
const QUOTE = { T: 'q', S: 'AAPL', bp: 1, bs: 2, ap: 3, as: 4, t: T };
const TRADE = { T: 't', S: 'AAPL', i: 1, p: 1, s: 1, t: T };

function reasons(invalid: readonly InvalidItem[]): InvalidReason[] {
  return invalid.map((i) => i.reason);
}

function json(text: string) {
  return decodeToArray(text, false, 'json');
}

describe('the corrupted-message list (JSON text)', () => {
  it.each([
    ['""', '', 'empty-frame'],
    ['whitespace', '  \n ', 'empty-frame'],
    ['not json', 'not json', 'corrupt-json'],
    ['partial', '{"partial": ', 'corrupt-json'],
    ['truncated batch', '[{"T":"q","S":"AAPL"', 'corrupt-json'],
    ['null', 'null', 'not-array'],
    ['number', '42', 'not-array'],
    ['string', '"hello"', 'not-array'],
    ['boolean', 'true', 'not-array'],
  ] as const)('%s -> %s', (_name, text, reason) => {
    const { messages, invalid } = json(text);
    expect(messages).toEqual([]);
    expect(reasons(invalid)).toEqual([reason]);
  });

  it('[] is a valid empty batch: nothing delivered, nothing invalid', () => {
    expect(json('[]')).toEqual({ messages: [], invalid: [] });
  });

  it('a lone object is reported not-array and still delivered as a batch of one', () => {
    const { messages, invalid } = json(JSON.stringify(QUOTE));
    expect(reasons(invalid)).toEqual(['not-array']);
    expect(messages).toMatchObject([{ kind: 'quote', symbol: 'AAPL' }]);
  });

  it('delivers the good items of a batch and counts each bad one by reason', () => {
    const batch = [
      QUOTE,
      5,
      null,
      [QUOTE],
      'q',
      {},
      { T: 7 },
      { T: 'zz', S: 'AAPL' },
      { ...QUOTE, bp: '1.5' },
      { ...QUOTE, S: undefined },
      { ...TRADE, S: '' },
      { ...TRADE, p: '__INF__' }, // becomes 1e400, which JSON.parse reads as Infinity
      { ...TRADE, t: 1741100403 },
      { ...TRADE, t: 'yesterday at noon, roughly' },
      { ...TRADE, s: null },
      { T: 'error', code: '402', msg: 'auth failed' },
      { T: 'error', msg: 'no code' },
      { T: 'subscription', trades: 'AAPL' },
      { T: 'subscription', quotes: ['AAPL', 3] },
      { T: 'o', S: 'BTC/USD', t: T, b: [{ p: 1 }] },
      { T: 'n', id: 1, headline: 'no time' },
      TRADE,
    ];
    const { messages, invalid } = json(JSON.stringify(batch).replace('"__INF__"', '1e400'));
    expect(messages).toMatchObject([{ kind: 'quote' }, { kind: 'trade' }]);
    expect(reasons(invalid)).toEqual([
      'not-object',
      'not-object',
      'not-object',
      'not-object',
      'missing-type',
      'wrong-type',
      'unknown-type',
      'wrong-type',
      'missing-field',
      'wrong-type',
      'wrong-type',
      'wrong-type',
      'wrong-type',
      'missing-field',
      'wrong-type',
      'missing-field',
      'wrong-type',
      'wrong-type',
      'wrong-type',
      'missing-field',
    ]);
    expect(messages.length + invalid.length).toBe(batch.length);
    const details = invalid.map((i) => i.detail);
    expect(details[7]).toBe('q.bp: expected a finite number, got a string');
    expect(details[8]).toBe('q.S: expected a non-empty string, got nothing');
    expect(details[10]).toBe('t.p: expected a finite number, got Infinity');
  });

  it('keeps excerpts short and detached from a huge frame', () => {
    const huge = `[${'x'.repeat(100_000)}`;
    const [item] = json(huge).invalid;
    expect(item?.reason).toBe('corrupt-json');
    expect(item?.excerpt).toBe('['.concat('x'.repeat(119)));
    const big = { T: 'q', S: 'A', bp: 'y'.repeat(10_000) };
    const [bad] = json(JSON.stringify([big])).invalid;
    expect(bad?.excerpt.length).toBe(120);
    expect(bad?.excerpt.startsWith('{"T":"q","S":"A","bp":"yyy')).toBe(true);
  });

  it('is lenient on optional fields of the wrong type', () => {
    const { messages, invalid } = json(
      JSON.stringify([
        { ...QUOTE, bx: 5, c: ['R', 1], z: null },
        { ...TRADE, x: [], tks: 0, i: {} },
      ]),
    );
    expect(invalid).toEqual([]);
    expect(messages[0]).toMatchObject({
      bidExchange: undefined,
      conditions: undefined,
      tape: undefined,
    });
    expect(messages[1]).toMatchObject({ exchange: undefined, takerSide: undefined, id: '' });
  });
});

describe('the corrupted-message list (msgpack binary)', () => {
  const mp = (bytes: Buffer) => decodeToArray(bytes, true, 'msgpack');
  const good = encodeServerFrame([QUOTE, TRADE], 'msgpack') as Buffer;

  it.each([
    ['zero-length', Buffer.alloc(0), 'empty-frame'],
    ['reserved byte 0xc1', Buffer.from([0xc1]), 'corrupt-msgpack'],
    ['text in a binary frame', Buffer.from('not msgpack at all'), 'corrupt-msgpack'],
    ['JSON in a binary frame', Buffer.from('[{"T":"q"}]'), 'corrupt-msgpack'],
    ['truncated array header', Buffer.from([0xdc, 0xff]), 'corrupt-msgpack'],
    ['truncated frame', good.subarray(0, good.length - 3), 'corrupt-msgpack'],
    ['truncated string', good.subarray(0, 8), 'corrupt-msgpack'],
    ['trailing bytes', Buffer.concat([good, Buffer.from([1, 2])]), 'corrupt-msgpack'],
    ['nil', Buffer.from([0xc0]), 'not-array'],
    ['a number', Buffer.from([0x2a]), 'not-array'],
  ] as const)('%s -> %s', (_name, bytes, reason) => {
    const { messages, invalid } = mp(bytes);
    expect(messages).toEqual([]);
    expect(reasons(invalid)).toEqual([reason]);
    expect(invalid[0]?.excerpt.length).toBeLessThanOrEqual(120);
  });

  it('keeps decoding after garbage', () => {
    mp(Buffer.from([0xdc, 0xff]));
    expect(mp(good).messages).toHaveLength(2);
  });

  it('bad items inside a good msgpack batch; NaN and Infinity are not numbers', () => {
    const frame = framePackr.pack([
      { ...QUOTE, bp: Number.NaN },
      { ...QUOTE, as: Number.POSITIVE_INFINITY },
      true,
      { T: 'q', S: 'AAPL', bp: 1, bs: 2, ap: 3, as: 4, t: Buffer.from('2025') },
      QUOTE,
    ]);
    const { messages, invalid } = mp(frame);
    expect(messages).toHaveLength(1);
    expect(reasons(invalid)).toEqual(['wrong-type', 'wrong-type', 'not-object', 'wrong-type']);
  });
});

describe('trade ids that are numbers but no integers', () => {
  // Found by the property test (seed 799468713): a trade with i = 5e-324 came out with that number
  // as its id, where a numeric id is always a safe integer and anything else is text.
  it('are kept as their text, in both codecs and on the fast path', () => {
    const odd = [5e-324, 1.5, -0.25, Number.NaN];
    const frame = framePackr.pack(odd.map((i) => ({ ...TRADE, i })));
    const packed = decodeToArray(frame, true, 'msgpack');
    expect(packed.invalid).toEqual([]);
    expect(packed.messages.map((m) => (m.kind === 'trade' ? m.id : undefined))).toEqual([
      '5e-324',
      '1.5',
      '-0.25',
      'NaN',
    ]);
    const text = decodeToArray(
      `[${odd
        .slice(0, 3)
        .map((i) => JSON.stringify({ ...TRADE, i }))
        .join(',')}]`,
      false,
      'json',
    );
    expect(text.messages.map((m) => (m.kind === 'trade' ? m.id : undefined))).toEqual([
      '5e-324',
      '1.5',
      '-0.25',
    ]);
    // Integers stay numbers.
    const whole = decodeToArray(framePackr.pack([{ ...TRADE, i: 42 }]), true, 'msgpack');
    expect(whole.messages.map((m) => (m.kind === 'trade' ? m.id : undefined))).toEqual([42]);
  });
});

describe('never throws on odd frame data', () => {
  it.each([
    ['undefined', undefined, 'empty-frame'],
    ['null', null, 'empty-frame'],
    ['a number', 42, 'corrupt-json'],
    ['an array of non-buffers', [1, 2], 'corrupt-json'],
    ['a plain object', { length: 3 }, 'corrupt-json'],
  ] as const)('%s', (_name, data, reason) => {
    for (const codec of ['json', 'msgpack'] as const satisfies readonly Codec[]) {
      const { invalid } = decodeToArray(data as never, false, codec);
      expect(reasons(invalid)).toEqual([reason]);
    }
  });
});

describe('normalizeItem', () => {
  it('returns whether it delivered, and reports the rest', () => {
    const seen: string[] = [];
    const sink = {
      message: () => seen.push('message'),
      invalid: (i: InvalidItem) => seen.push(i.reason),
    };
    expect(normalizeItem(QUOTE, sink)).toBe(true);
    expect(normalizeItem({ T: 'q' }, sink)).toBe(false);
    expect(normalizeItem(undefined, sink)).toBe(false);
    expect(seen).toEqual(['message', 'missing-field', 'not-object']);
  });

  it('exports every reason', () => {
    expect(INVALID_REASONS).toEqual([
      'empty-frame',
      'corrupt-json',
      'corrupt-msgpack',
      'not-array',
      'not-object',
      'missing-type',
      'unknown-type',
      'missing-field',
      'wrong-type',
      'negative-value',
      'inconsistent-bar',
      'implausible-time',
    ]);
  });
});
