import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FRAME_HEADER_BYTES,
  FRAME_VERSION,
  FrameDecodeError,
  MAX_SYMBOL_BYTES,
  decodeFrame,
  emptyFrame,
  encodeFrame,
  symbolProblem,
} from '../../../shared/frame-codec.ts';
import { FRAME_COLUMNS, type FrameColumn, type QuoteFrame } from '../../../shared/frame.ts';

function makeFrame(
  symbols: readonly string[],
  value: (column: number, row: number) => number,
  header: Partial<Pick<QuoteFrame, 'seq' | 'builtAt' | 'conflated' | 'full'>> = {},
): QuoteFrame {
  const cols = {} as Record<FrameColumn, Float64Array>;
  FRAME_COLUMNS.forEach((name, k) => {
    cols[name] = Float64Array.from(symbols, (_, i) => value(k, i));
  });
  return {
    seq: 7,
    builtAt: 1_741_100_531_123.5,
    conflated: 3,
    full: false,
    ...header,
    symbols,
    ...cols,
  };
}

/** Plain data for toEqual: typed arrays as arrays, so NaN and -0 compare by Object.is. */
function plain(frame: QuoteFrame): Record<string, unknown> {
  const out: Record<string, unknown> = {
    seq: frame.seq,
    builtAt: frame.builtAt,
    conflated: frame.conflated,
    full: frame.full,
    symbols: [...frame.symbols],
  };
  for (const c of FRAME_COLUMNS) out[c] = Array.from(frame[c]);
  return out;
}

function bytesOf(col: Float64Array): Buffer {
  return Buffer.from(col.buffer, col.byteOffset, col.byteLength);
}

function expectSameFrame(actual: QuoteFrame, expected: QuoteFrame): void {
  expect(plain(actual)).toEqual(plain(expected));
  for (const c of FRAME_COLUMNS) {
    expect(actual[c]).toBeInstanceOf(Float64Array);
    // Bit for bit (-0, NaN payloads): the codec copies bytes, it never converts numbers.
    expect(bytesOf(actual[c])).toEqual(bytesOf(expected[c]));
  }
}

function expectDecodeError(bytes: ArrayBuffer | ArrayBufferView, message?: RegExp): void {
  let thrown: unknown;
  try {
    decodeFrame(bytes);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(FrameDecodeError);
  expect((thrown as Error).name).toBe('FrameDecodeError');
  if (message) expect((thrown as Error).message).toMatch(message);
}

const small = makeFrame(
  ['AAPL', 'BTC/USD', 'ÄÖ€x'],
  (k, i) => (k === 4 && i === 1 ? NaN : k * 100 + i + 0.25),
  { full: true },
);

describe('frame codec round trip', () => {
  it('keeps every header field, symbol and column value, NaN included', () => {
    const bytes = encodeFrame(small);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes.byteLength % 8).toBe(0);
    const back = decodeFrame(bytes);
    expectSameFrame(back, small);
    expect(back.symbols).toEqual(['AAPL', 'BTC/USD', 'ÄÖ€x']);
    expect(back.quoteTime[1]).toBeNaN();
    expect(back.full).toBe(true);
  });

  it('keeps -0, infinities and extreme doubles', () => {
    const specials = [-0, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, NaN];
    const f = makeFrame(['A', 'B', 'C', 'D', 'E', 'F'], (_, i) => specials[i]!);
    expectSameFrame(decodeFrame(encodeFrame(f)), f);
  });

  it('round-trips an empty frame', () => {
    const f = emptyFrame(12, 1000);
    expect(f).toMatchObject({ seq: 12, builtAt: 1000, conflated: 0, full: false, symbols: [] });
    const bytes = encodeFrame(f);
    expect(bytes.byteLength).toBe(FRAME_HEADER_BYTES);
    expectSameFrame(decodeFrame(bytes), f);
    expectSameFrame(decodeFrame(encodeFrame({ ...f, full: true })), { ...f, full: true });
  });

  it('round-trips 5,000 rows', () => {
    const symbols = Array.from({ length: 5_000 }, (_, i) => `S${i}`);
    const f = makeFrame(symbols, (k, i) => (i % 17 === k ? NaN : i * 11 + k / 7), { seq: 999 });
    const bytes = encodeFrame(f);
    const back = decodeFrame(bytes);
    expectSameFrame(back, f);
    expect(back.symbols[4_999]).toBe('S4999');
  });

  it('decodes from an ArrayBuffer, a Buffer and a misaligned view (copying the columns)', () => {
    const bytes = encodeFrame(small);
    // Whole ArrayBuffer: columns are views of the input, no copy.
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const fromAb = decodeFrame(ab);
    expectSameFrame(fromAb, small);
    expect(fromAb.bidPrice.buffer).toBe(ab);

    expectSameFrame(decodeFrame(Buffer.from(bytes)), small);

    const shifted = new Uint8Array(bytes.byteLength + 3);
    shifted.set(bytes, 3);
    const view = new DataView(shifted.buffer, 3, bytes.byteLength);
    const back = decodeFrame(view);
    expectSameFrame(back, small);
    expect(back.bidPrice.buffer).not.toBe(shifted.buffer);
  });

  it('encodes column views that live inside a larger buffer', () => {
    const big = new Float64Array(100).map((_, i) => i);
    const f = makeFrame(['X', 'Y'], () => 0);
    const cols = Object.fromEntries(
      FRAME_COLUMNS.map((c, k) => [c, big.subarray(k * 5, k * 5 + 2)]),
    ) as Record<FrameColumn, Float64Array>;
    const g = { ...f, ...cols };
    expectSameFrame(decodeFrame(encodeFrame(g)), g);
  });

  it('round-trips arbitrary frames (property)', () => {
    const double = fc.double();
    const symbol = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });
    const frame = fc
      .record({
        seq: fc.nat(),
        builtAt: fc.double({ noNaN: true, noDefaultInfinity: true }),
        conflated: fc.nat(),
        full: fc.boolean(),
        symbols: fc.array(symbol, { maxLength: 40 }),
      })
      .chain((h) =>
        fc
          .array(fc.array(double, { minLength: h.symbols.length, maxLength: h.symbols.length }), {
            minLength: FRAME_COLUMNS.length,
            maxLength: FRAME_COLUMNS.length,
          })
          .map((cols) => makeFrame(h.symbols, (k, i) => cols[k]![i]!, h)),
      );
    fc.assert(
      fc.property(frame, (f) => {
        expectSameFrame(decodeFrame(encodeFrame(f)), f);
      }),
      { numRuns: 300 },
    );
  });
});

describe('frame codec encode refuses what decode would', () => {
  it('throws RangeError for mismatched columns, bad symbols and bad header numbers', () => {
    const f = makeFrame(['A', 'B'], () => 1);
    expect(() => encodeFrame({ ...f, volume: new Float64Array(1) })).toThrow(/column volume/);
    expect(() => encodeFrame({ ...f, symbols: ['A', ''] })).toThrow(/empty/);
    expect(() => encodeFrame({ ...f, symbols: ['A', 'x'.repeat(70_000)] })).toThrow(RangeError);
    expect(() => encodeFrame({ ...f, symbols: ['A', 'bad\ud800'] })).toThrow(/surrogate/);
    expect(() => encodeFrame({ ...f, seq: -1 })).toThrow(RangeError);
    expect(() => encodeFrame({ ...f, seq: 1.5 })).toThrow(RangeError);
    expect(() => encodeFrame({ ...f, conflated: NaN })).toThrow(RangeError);
    expect(() => encodeFrame({ ...f, builtAt: Infinity })).toThrow(RangeError);
  });

  it('symbolProblem names exactly the symbols encodeFrame refuses', () => {
    const bad = ['', 'bad\ud800', '\udc00X', 'x'.repeat(MAX_SYMBOL_BYTES + 1), 'é'.repeat(40_000)];
    const good = ['A', 'BRK.B', 'BTC/USD', 'é', '\ud83d\ude00', 'x'.repeat(MAX_SYMBOL_BYTES)];
    for (const s of bad) {
      expect(symbolProblem(s)).toBeTypeOf('string');
      expect(() => encodeFrame(makeFrame([s], () => 1))).toThrow(RangeError);
    }
    for (const s of good) {
      expect(symbolProblem(s)).toBeUndefined();
      expect(decodeFrame(encodeFrame(makeFrame([s], () => 1))).symbols).toEqual([s]);
    }
    // Any UTF-16 code units, with surrogates favoured so that lone and misordered ones come up.
    const unit = fc.oneof(
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0xd800, max: 0xdfff }),
    );
    const text = fc.array(unit, { maxLength: 8 }).map((u) => String.fromCharCode(...u));
    fc.assert(
      fc.property(text, (s) => {
        let threw = false;
        try {
          encodeFrame(makeFrame([s], () => 1));
        } catch {
          threw = true;
        }
        expect(symbolProblem(s) !== undefined).toBe(threw);
      }),
    );
  });
});

describe('frame codec decode rejects corrupt input', () => {
  const bytes = encodeFrame(small);

  /** A copy of the encoded small frame with `patch` applied. */
  function patched(patch: (dv: DataView, u8: Uint8Array) => void): Uint8Array {
    const copy = bytes.slice();
    patch(new DataView(copy.buffer), copy);
    return copy;
  }

  it('rejects empty input and input that is not bytes', () => {
    expectDecodeError(new Uint8Array(0), /empty/);
    expectDecodeError(new ArrayBuffer(0), /empty/);
    expectDecodeError('MMQF' as unknown as ArrayBuffer, /expected an ArrayBuffer/);
    expectDecodeError(null as unknown as ArrayBuffer, /expected an ArrayBuffer/);
  });

  it('rejects the frame truncated at every offset', () => {
    for (let n = 0; n < bytes.byteLength; n++) expectDecodeError(bytes.subarray(0, n));
    expectDecodeError(bytes.subarray(0, FRAME_HEADER_BYTES + 1), /truncated/);
  });

  it('rejects trailing bytes', () => {
    const longer = new Uint8Array(bytes.byteLength + 8);
    longer.set(bytes);
    expectDecodeError(longer, /trailing/);
  });

  it('rejects a wrong magic, a wrong version and unknown flags', () => {
    expectDecodeError(
      patched((_, u8) => (u8[0] = 0x7b)),
      /bad magic/,
    );
    expectDecodeError(
      patched((dv) => dv.setUint16(4, FRAME_VERSION + 1, true)),
      new RegExp(`unsupported version ${FRAME_VERSION + 1}`),
    );
    expectDecodeError(
      patched((dv) => dv.setUint16(4, 0, true)),
      /unsupported version 0/,
    );
    expectDecodeError(
      patched((dv) => dv.setUint16(6, 0x8001, true)),
      /unknown flags/,
    );
  });

  it('rejects a symbol count or table length that lies', () => {
    expectDecodeError(patched((dv) => dv.setUint32(8, 4, true)));
    expectDecodeError(patched((dv) => dv.setUint32(8, 2, true)));
    expectDecodeError(
      patched((dv) => dv.setUint32(8, 0xffffffff, true)),
      /cannot hold/,
    );
    expectDecodeError(patched((dv) => dv.setUint32(12, dv.getUint32(12, true) + 8, true)));
    expectDecodeError(
      patched((dv) => dv.setUint32(12, 0xffffffff, true)),
      /truncated/,
    );
    // A symbol length prefix that runs past the table, or leaves bytes over.
    expectDecodeError(
      patched((dv) => dv.setUint16(FRAME_HEADER_BYTES, 200, true)),
      /runs past/,
    );
    expectDecodeError(
      patched((dv) => dv.setUint16(FRAME_HEADER_BYTES, 3, true)),
      /symbol/,
    );
    expectDecodeError(
      patched((dv) => dv.setUint16(FRAME_HEADER_BYTES, 0, true)),
      /length 0/,
    );
  });

  it('rejects a count and table length that lie together (the columns no longer fit)', () => {
    // One symbol fewer but the same total length: the byte count no longer adds up.
    const two = encodeFrame(makeFrame(['AAPL', 'BTC/USD'], () => 1));
    const copy = two.slice();
    new DataView(copy.buffer).setUint32(8, 1, true);
    expectDecodeError(copy);
  });

  it('rejects invalid UTF-8, non-zero padding and bad header numbers', () => {
    // 'ÄÖ€x' starts at 40 + (2+4) + (2+7) + 2 = 57: make its first byte a lone continuation byte.
    expect(bytes[57]).toBe(0xc3);
    expectDecodeError(
      patched((_, u8) => (u8[57] = 0x80)),
      /not valid UTF-8/,
    );
    const tableEnd = FRAME_HEADER_BYTES + new DataView(bytes.buffer).getUint32(12, true);
    expect(tableEnd % 8).not.toBe(0);
    expectDecodeError(
      patched((_, u8) => (u8[tableEnd] = 1)),
      /padding/,
    );
    expectDecodeError(
      patched((dv) => dv.setFloat64(16, -1, true)),
      /seq/,
    );
    expectDecodeError(
      patched((dv) => dv.setFloat64(16, 0.5, true)),
      /seq/,
    );
    expectDecodeError(
      patched((dv) => dv.setFloat64(24, NaN, true)),
      /builtAt/,
    );
    expectDecodeError(
      patched((dv) => dv.setFloat64(32, Infinity, true)),
      /conflated/,
    );
  });

  it('a flipped bit in the header or symbol table gives FrameDecodeError or a well-formed frame', () => {
    // Every flip of a structural byte either throws FrameDecodeError or yields a well-formed frame.
    const tableEnd = FRAME_HEADER_BYTES + new DataView(bytes.buffer).getUint32(12, true);
    for (let at = 0; at < tableEnd; at++) {
      for (const bit of [0x01, 0x10, 0x80]) {
        const copy = patched((_, u8) => (u8[at]! ^= bit));
        let frame: QuoteFrame;
        try {
          frame = decodeFrame(copy);
        } catch (err) {
          expect(err).toBeInstanceOf(FrameDecodeError);
          continue;
        }
        expect(frame.symbols).toHaveLength(frame.bidPrice.length);
        for (const c of FRAME_COLUMNS) expect(frame[c]).toHaveLength(frame.symbols.length);
        expect(Number.isSafeInteger(frame.seq)).toBe(true);
      }
    }
  });
});
