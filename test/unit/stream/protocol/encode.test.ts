import { describe, expect, it } from 'vitest';
import type { Codec } from '../../../../shared/market.ts';
import {
  actionByteLength,
  decodeClientAction,
  encodeAction,
  encodeServerFrame,
  frameUnpackr,
} from '../../../../electron/stream/protocol/index.ts';
import type { ClientAction } from '../../../../electron/stream/protocol/index.ts';

const CODECS: readonly Codec[] = ['json', 'msgpack'];

const AUTH: ClientAction = { action: 'auth', key: 'PK123', secret: 's3cr3t' };
const SUBSCRIBE: ClientAction = {
  action: 'subscribe',
  quotes: ['AAPL', 'MSFT'],
  trades: ['AAPL'],
  bars: [],
  news: ['*'],
};

function readBack(frame: string | Buffer): unknown {
  return typeof frame === 'string' ? JSON.parse(frame) : frameUnpackr.unpack(frame);
}

describe('encodeAction', () => {
  it('writes auth as one JSON object', () => {
    expect(encodeAction(AUTH, 'json')).toBe('{"action":"auth","key":"PK123","secret":"s3cr3t"}');
  });

  it('writes a delta with channels in a fixed order and empty lists left out', () => {
    expect(encodeAction(SUBSCRIBE, 'json')).toBe(
      '{"action":"subscribe","trades":["AAPL"],"quotes":["AAPL","MSFT"],"news":["*"]}',
    );
    expect(encodeAction({ action: 'unsubscribe', bars: [], lulds: ['X'] }, 'json')).toBe(
      '{"action":"unsubscribe","lulds":["X"]}',
    );
  });

  it.each(CODECS)('round-trips in %s, as one object and never an array', (codec) => {
    const expected = [
      { action: 'auth', key: 'PK123', secret: 's3cr3t' },
      { action: 'subscribe', trades: ['AAPL'], quotes: ['AAPL', 'MSFT'], news: ['*'] },
    ];
    [AUTH, SUBSCRIBE].forEach((action, i) => {
      const frame = encodeAction(action, codec);
      expect(Buffer.isBuffer(frame)).toBe(codec === 'msgpack');
      expect(readBack(frame)).toEqual(expected[i]);
      const decoded = decodeClientAction(frame, codec === 'msgpack', codec);
      expect(decoded).toEqual({ ok: true, action: expected[i] });
    });
  });

  it('gives the byte length of the JSON form, in UTF-8 bytes', () => {
    const wide: ClientAction = { action: 'subscribe', quotes: ['ÄÖÜ', 'BRK.B'], dailyBars: [] };
    for (const action of [AUTH, SUBSCRIBE, wide]) {
      expect(actionByteLength(action)).toBe(Buffer.byteLength(encodeAction(action, 'json')));
    }
    expect(actionByteLength(wide)).toBe((encodeAction(wide, 'json') as string).length + 3);
  });
});

describe('encodeServerFrame', () => {
  const items = [
    { T: 'q', S: 'AAPL', bp: 1, bs: 1, ap: 2, as: 1, t: '2025-03-04T15:02:11.123456789Z' },
    { T: 'n', id: 1, created_at: '2025-03-04T15:02:11Z', updated_at: '2025-03-04T15:03:00.5Z' },
    { T: 's', S: 'AAPL', t: 'not a time but long enough', sm: '2025-03-04T15:02:11Z' },
  ];

  it('writes a JSON array as is', () => {
    const frame = encodeServerFrame(items, 'json');
    expect(frame).toBe(JSON.stringify(items));
  });

  it('writes RFC 3339 values under t / created_at / updated_at as timestamps in msgpack', () => {
    const frame = encodeServerFrame(items, 'msgpack');
    expect(Buffer.isBuffer(frame)).toBe(true);
    expect(readBack(frame)).toEqual([
      items[0],
      { ...items[1], updated_at: '2025-03-04T15:03:00.500000000Z' },
      items[2], // not a timestamp, and sm is not a timestamp key: both stay strings
    ]);
    // three extension values (fixext 8, type -1) and the inputs left untouched
    expect((frame as Buffer).toString('hex').split('d7ff').length - 1).toBe(3);
    expect(items[0]?.t).toBe('2025-03-04T15:02:11.123456789Z');
  });

  it('writes an empty batch', () => {
    expect(encodeServerFrame([], 'json')).toBe('[]');
    expect(readBack(encodeServerFrame([], 'msgpack'))).toEqual([]);
  });
});

describe('decodeClientAction', () => {
  it.each([
    ['empty', '', false, 'json', /^empty-frame/],
    ['garbage text', 'hello', false, 'json', /^corrupt-json/],
    ['an array', '[{"action":"auth"}]', false, 'json', /^not-object/],
    ['null', 'null', false, 'json', /^not-object/],
    ['no action', '{"key":"k"}', false, 'json', /^missing-action/],
    ['action not a string', '{"action":1}', false, 'json', /^missing-action/],
    ['garbage binary', Buffer.from([0xc1]), true, 'msgpack', /^corrupt-msgpack/],
    ['truncated binary', Buffer.from([0x81, 0xa6]), true, 'msgpack', /^corrupt-msgpack/],
  ] as const)('refuses %s', (_name, data, isBinary, codec, reason) => {
    const result = decodeClientAction(data, isBinary, codec);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('reads a JSON text action on a msgpack connection', () => {
    expect(
      decodeClientAction('{"action":"auth","key":"k","secret":"s"}', false, 'msgpack'),
    ).toEqual({
      ok: true,
      action: { action: 'auth', key: 'k', secret: 's' },
    });
  });
});

describe('msgpack timestamps that cannot be a time', () => {
  it('lose only their item, never the batch, and never throw', async () => {
    const { decodeToArray, framePackr } =
      await import('../../../../electron/stream/protocol/index.ts');
    const { unpackTimestamp } = await import('../../../../electron/stream/protocol/msgpack.ts');
    // nanoseconds >= 1e9 (timestamp 64 allows up to 2^30 - 1), and seconds past year 9999 (timestamp 96)
    const badNs = new Uint8Array(8);
    new DataView(badNs.buffer).setUint32(0, (2 ** 30 - 1) * 4);
    const farFuture = new Uint8Array(12);
    new DataView(farFuture.buffer).setBigInt64(4, 10n ** 15n);
    expect(unpackTimestamp(badNs)).toBeUndefined();
    expect(unpackTimestamp(farFuture)).toBeUndefined();
    expect(unpackTimestamp(new Uint8Array(3))).toBeUndefined();

    const good = {
      T: 't',
      S: 'AAPL',
      i: 1,
      x: 'V',
      p: 1.5,
      s: 10,
      t: '2025-03-04T15:02:11.123456789Z',
    };
    const goodFrame = framePackr.pack([good]);
    // Splice a raw ext -1 with each bad payload in place of a timestamp, inside a 3-item batch.
    for (const payload of [badNs, farFuture]) {
      const head = payload.byteLength === 8 ? [0xd7, 0xff] : [0xc7, 12, 0xff];
      // An item whose last value is the fixstr 'X' (0xa1 0x58): swap it for the raw extension.
      const item = framePackr.pack({ T: 't', S: 'AAPL', i: 2, x: 'V', p: 1.5, s: 10, t: 'X' });
      const withExt = Buffer.concat([
        item.subarray(0, item.length - 2),
        Buffer.from(head),
        Buffer.from(payload),
      ]);
      const frame = Buffer.concat([
        Buffer.from([0x93]),
        goodFrame.subarray(1),
        withExt,
        goodFrame.subarray(1),
      ]);
      const { messages, invalid } = decodeToArray(frame, true, 'msgpack');
      expect(messages).toHaveLength(2);
      expect(invalid.map((i) => i.reason)).toEqual(['wrong-type']);
    }
  });
});

describe('encodeServerFrame writes wide integers as msgpack integers', () => {
  it('a trade id past 2^32 goes out as int64 (0xd3), not float64 (0xcb), and decodes exactly', async () => {
    const { encodeServerFrame, decodeToArray } =
      await import('../../../../electron/stream/protocol/index.ts');
    const frame = encodeServerFrame(
      [
        {
          T: 't',
          S: 'AAPL',
          i: 52983525001001,
          x: 'V',
          p: 1.5,
          s: 10,
          t: '2025-03-04T15:02:11.123456789Z',
        },
      ],
      'msgpack',
    ) as Buffer;
    const key = Buffer.from([0xa1, 0x69]); // fixstr "i"
    expect(frame.includes(Buffer.concat([key, Buffer.from([0xcb])]))).toBe(false);
    expect(
      frame.includes(
        Buffer.concat([key, Buffer.from([0xd3, 0, 0, 0x30, 0x30, 0x30, 0x2f, 0xc7, 0x29])]),
      ),
    ).toBe(true);
    const { messages } = decodeToArray(frame, true, 'msgpack');
    expect(messages[0]).toMatchObject({ kind: 'trade', id: 52983525001001 });
  });
});
