import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Codec, MarketMessage } from '../../../../shared/market.ts';
import {
  INVALID_REASONS,
  WireTimestamp,
  decodeClientAction,
  decodeFrame,
  encodeServerFrame,
  framePackr,
} from '../../../../electron/stream/protocol/index.ts';
import type { FrameData, InvalidItem } from '../../../../electron/stream/protocol/index.ts';

interface Outcome {
  readonly returned: number;
  readonly messages: MarketMessage[];
  readonly invalid: InvalidItem[];
}

/** Decodes and checks what must hold for every input: no throw, honest count, bounded reports. */
function run(data: FrameData, isBinary: boolean, codec: Codec): Outcome {
  const messages: MarketMessage[] = [];
  const invalid: InvalidItem[] = [];
  const returned = decodeFrame(data, isBinary, codec, {
    message: (m) => messages.push(m),
    invalid: (i) => invalid.push(i),
  });
  expect(returned).toBe(messages.length);
  for (const item of invalid) {
    expect(INVALID_REASONS).toContain(item.reason);
    expect(item.excerpt.length).toBeLessThanOrEqual(120);
  }
  for (const m of messages) checkRequired(m);
  return { returned, messages, invalid };
}

const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const isTime = (v: unknown) => typeof v === 'string' && /^\d/.test(v) && v.length >= 20;

/** Whatever got through validation has what a consumer relies on. */
function checkRequired(m: MarketMessage): void {
  switch (m.kind) {
    case 'quote':
      expect([m.bidPrice, m.bidSize, m.askPrice, m.askSize].every(isNum)).toBe(true);
      break;
    case 'trade':
    case 'cancelError':
      expect(isNum(m.price) && isNum(m.size)).toBe(true);
      // An exact id stays a safe integer number; anything else is text.
      expect(typeof m.id === 'string' || Number.isSafeInteger(m.id)).toBe(true);
      break;
    case 'bar':
    case 'dailyBar':
    case 'updatedBar':
      expect([m.open, m.high, m.low, m.close, m.volume].every(isNum)).toBe(true);
      break;
    case 'error':
      expect(isNum(m.code)).toBe(true);
      break;
    default:
      break;
  }
  if ('symbol' in m && m.kind !== 'news') expect(m.symbol.length).toBeGreaterThan(0);
  if ('time' in m) expect(isTime(m.time)).toBe(true);
}

/** Items close to the real thing, so that the normalizers' paths are exercised, not just T checks. */
const junk = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 30 }),
  fc.boolean(),
  fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.integer()), { maxLength: 3 }),
  fc.constant({}),
);
const num = fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), junk);
const time = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constant('2025-03-04T15:02:11.123456789Z'),
  junk,
);
const level = fc.oneof(fc.record({ p: num, s: num }), junk);
const nearlyValid = fc.record(
  {
    T: fc.oneof(
      fc.constantFrom('q', 't', 'b', 'd', 'u', 's', 'l', 'c', 'x', 'i', 'o', 'n'),
      fc.constantFrom('success', 'error', 'subscription', 'Q', ''),
      junk,
    ),
    S: fc.oneof(fc.constantFrom('AAPL', 'BTC/USD'), junk),
    i: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer(), junk),
    id: fc.oneof(fc.maxSafeNat(), junk),
    bp: num,
    bs: num,
    ap: num,
    as: num,
    p: num,
    s: num,
    o: num,
    h: num,
    l: num,
    c: fc.oneof(num, fc.array(fc.string({ maxLength: 2 }), { maxLength: 3 })),
    v: num,
    u: num,
    d: num,
    op: num,
    os: num,
    cp: num,
    cs: num,
    code: num,
    t: time,
    created_at: time,
    b: fc.oneof(fc.array(level, { maxLength: 3 }), junk),
    a: fc.oneof(fc.array(level, { maxLength: 3 }), junk),
    trades: fc.oneof(fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }), junk),
    symbols: fc.oneof(
      fc.array(fc.oneof(fc.string({ maxLength: 5 }), junk), { maxLength: 3 }),
      junk,
    ),
  },
  { requiredKeys: ['T'] },
);

/** JSON has no undefined, NaN or bigint: what encodeServerFrame cannot write, drop or stringify. */
function jsonSafe(item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) {
    if (v !== undefined) out[k] = typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
  }
  return out;
}

const RUNS = { numRuns: 300 };

describe('decodeFrame never throws and accounts for every item', () => {
  it('arbitrary text, both codecs', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.boolean(), (text, msgpack) => {
        run(text, false, msgpack ? 'msgpack' : 'json');
      }),
      RUNS,
    );
  });

  it('arbitrary bytes, as msgpack and as binary JSON', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const buffer = Buffer.from(bytes);
        run(buffer, true, 'msgpack');
        run(buffer, true, 'json');
        run([buffer.subarray(0, 3), buffer.subarray(3)], true, 'msgpack');
      }),
      RUNS,
    );
  });

  it('arbitrary JSON values: an array of N gives N outcomes, anything else one report', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.array(fc.jsonValue())), (value) => {
        const out = run(JSON.stringify(value), false, 'json');
        if (Array.isArray(value)) {
          expect(out.messages.length + out.invalid.length).toBe(value.length);
        } else if (typeof value === 'object' && value !== null) {
          expect(out.invalid[0]?.reason).toBe('not-array');
          expect(out.messages.length + out.invalid.length).toBe(2);
        } else {
          expect(out.invalid.map((i) => i.reason)).toEqual(['not-array']);
        }
      }),
      RUNS,
    );
  });

  it('arbitrary values packed as msgpack', () => {
    fc.assert(
      fc.property(fc.array(fc.anything({ maxDepth: 3 })), (items) => {
        const out = run(framePackr.pack(items), true, 'msgpack');
        expect(out.messages.length + out.invalid.length).toBe(items.length);
      }),
      RUNS,
    );
  });

  it('nearly valid items in both codecs, then a good frame still decodes', () => {
    const good = { T: 'q', S: 'A', bp: 1, bs: 1, ap: 1, as: 1, t: '2025-03-04T15:02:11Z' };
    fc.assert(
      fc.property(fc.array(nearlyValid, { maxLength: 8 }), (items) => {
        const packed = run(encodeServerFrame(items, 'msgpack'), true, 'msgpack');
        expect(packed.messages.length + packed.invalid.length).toBe(items.length);
        const text = run(encodeServerFrame(items.map(jsonSafe), 'json'), false, 'json');
        expect(text.messages.length + text.invalid.length).toBe(items.length);
        expect(run(encodeServerFrame([good], 'msgpack'), true, 'msgpack').messages).toHaveLength(1);
      }),
      RUNS,
    );
  });

  it('ids stay exact and as sent, whatever their size', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.boolean(), (id, msgpack) => {
        const codec: Codec = msgpack ? 'msgpack' : 'json';
        const wire = { T: 't', S: 'X', i: id, p: 1, s: 1, t: new WireTimestamp(1, 5) };
        const frame = msgpack
          ? framePackr.pack([wire])
          : encodeServerFrame([{ ...wire, t: '1970-01-01T00:00:01.000000005Z' }], 'json');
        const out = run(frame, msgpack, codec);
        const exact = id <= BigInt(Number.MAX_SAFE_INTEGER);
        expect(out.messages).toMatchObject([{ id: exact ? Number(id) : id.toString() }]);
      }),
      RUNS,
    );
  });

  it('decodeClientAction never throws either', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 100 }),
          fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b)),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        fc.boolean(),
        (data, isBinary) => {
          const result = decodeClientAction(data, isBinary, 'msgpack');
          expect(typeof result.ok).toBe('boolean');
        },
      ),
      RUNS,
    );
  });
});
