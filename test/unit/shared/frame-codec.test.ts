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
import { FRAME_COLUMNS, SymbolTable, frameColumn, type QuoteFrame } from '../../../shared/frame.ts';

/**
 * A frame whose rows are ids `rows`, naming `newSymbols` from `symbolBase` (default: rows are
 * 0..n-1 and every one is named, as in a full frame); value(k, i) fills column k of row i.
 */
function makeFrame(
  newSymbols: readonly string[],
  value: (column: number, row: number) => number,
  header: Partial<Pick<QuoteFrame, 'seq' | 'builtAt' | 'conflated' | 'full' | 'symbolBase'>> & {
    rows?: readonly number[];
  } = {},
): QuoteFrame {
  const { rows: ids, ...rest } = header;
  const rows = Int32Array.from(ids ?? newSymbols.map((_, i) => i));
  const n = rows.length;
  const values = new Float64Array(n * FRAME_COLUMNS.length);
  for (let k = 0; k < FRAME_COLUMNS.length; k++) {
    for (let i = 0; i < n; i++) values[k * n + i] = value(k, i);
  }
  return {
    seq: 7,
    builtAt: 1_741_100_531_123.5,
    conflated: 3,
    full: false,
    symbolBase: 0,
    ...rest,
    rows,
    newSymbols,
    values,
  };
}

/** Plain data for toEqual: typed arrays as arrays, so NaN and -0 compare by Object.is. */
function plain(frame: QuoteFrame): Record<string, unknown> {
  return {
    seq: frame.seq,
    builtAt: frame.builtAt,
    conflated: frame.conflated,
    full: frame.full,
    symbolBase: frame.symbolBase,
    newSymbols: [...frame.newSymbols],
    rows: Array.from(frame.rows),
    values: Array.from(frame.values),
  };
}

function bytesOf(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

function expectSameFrame(actual: QuoteFrame, expected: QuoteFrame): void {
  expect(plain(actual)).toEqual(plain(expected));
  expect(actual.rows).toBeInstanceOf(Int32Array);
  expect(actual.values).toBeInstanceOf(Float64Array);
  // Bit for bit (-0, NaN payloads): the codec copies bytes, it never converts numbers.
  expect(bytesOf(actual.values)).toEqual(bytesOf(expected.values));
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
  it('keeps every header field, id, new symbol and value, NaN included', () => {
    const bytes = encodeFrame(small);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes.byteLength % 8).toBe(0);
    expect(new DataView(bytes.buffer).getUint16(4, true)).toBe(3);
    const back = decodeFrame(bytes);
    expectSameFrame(back, small);
    expect(back.newSymbols).toEqual(['AAPL', 'BTC/USD', 'ÄÖ€x']);
    expect(frameColumn(back, 'quoteTime')[1]).toBeNaN();
    expect(back.full).toBe(true);
  });

  it('carries ids with only the new symbols, and a blank ("not carried") symbol', () => {
    // Rows of ids 4, 0 and 5; ids 5 and 6 are new, 6 could not be carried by the sender.
    const f = makeFrame(['NEW', ''], (k, i) => k + i / 10, { symbolBase: 5, rows: [4, 0, 5] });
    const back = decodeFrame(encodeFrame(f));
    expectSameFrame(back, f);
    expect(back.newSymbols).toEqual(['NEW', '']);
    const table = new SymbolTable();
    table.learn(makeFrame(['A', 'B', 'C', 'D', 'E'], () => 0, { full: true }));
    table.learn(back);
    expect(table.symbolsOf(back)).toEqual(['E', 'A', 'NEW']);
    expect(table.symbolOf(6)).toBeUndefined();
  });

  it('a SymbolTable refuses a symbolBase past its end (a lost frame) without filling the gap', () => {
    const table = new SymbolTable();
    expect(table.learn(makeFrame(['A'], () => 0, { full: true }))).toBe(true);
    const far = makeFrame(['Z'], () => 0, { symbolBase: 0x7ffffff0, rows: [0x7ffffff0] });
    expect(table.learn(decodeFrame(encodeFrame(far)))).toBe(false);
    expect(table.size).toBe(1);
    expect(table.symbolsOf(far)).toEqual([undefined]);
    // A base inside the table re-names ids (allowed) and appends past its end.
    expect(table.learn(makeFrame(['A', 'B'], () => 0, { symbolBase: 0, rows: [1] }))).toBe(true);
    expect(table.size).toBe(2);
  });

  it('keeps -0, infinities and extreme doubles', () => {
    const specials = [-0, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, NaN];
    const f = makeFrame(['A', 'B', 'C', 'D', 'E', 'F'], (_, i) => specials[i]!);
    expectSameFrame(decodeFrame(encodeFrame(f)), f);
  });

  it('round-trips an empty frame', () => {
    const f = emptyFrame(12, 1000);
    expect(f).toMatchObject({ seq: 12, builtAt: 1000, conflated: 0, full: false, newSymbols: [] });
    const bytes = encodeFrame(f);
    expect(bytes.byteLength).toBe(FRAME_HEADER_BYTES);
    expectSameFrame(decodeFrame(bytes), f);
    expectSameFrame(decodeFrame(encodeFrame({ ...f, full: true })), { ...f, full: true });
  });

  it('round-trips 5,001 rows (an odd count pads the ids)', () => {
    const symbols = Array.from({ length: 5_001 }, (_, i) => `S${i}`);
    const f = makeFrame(symbols, (k, i) => (i % 17 === k ? NaN : i * 11 + k / 7), { seq: 999 });
    const bytes = encodeFrame(f);
    const back = decodeFrame(bytes);
    expectSameFrame(back, f);
    expect(back.newSymbols[5_000]).toBe('S5000');
  });

  it('decodes from an ArrayBuffer, a Buffer and a misaligned view (copying the numbers)', () => {
    const bytes = encodeFrame(small);
    // Whole ArrayBuffer: ids and values are views of the input, no copy.
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const fromAb = decodeFrame(ab);
    expectSameFrame(fromAb, small);
    expect(fromAb.values.buffer).toBe(ab);
    expect(fromAb.rows.buffer).toBe(ab);

    expectSameFrame(decodeFrame(Buffer.from(bytes)), small);

    const shifted = new Uint8Array(bytes.byteLength + 3);
    shifted.set(bytes, 3);
    const view = new DataView(shifted.buffer, 3, bytes.byteLength);
    const back = decodeFrame(view);
    expectSameFrame(back, small);
    expect(back.values.buffer).not.toBe(shifted.buffer);
  });

  it('encodes ids and values that are views inside a larger buffer (as the book builds them)', () => {
    const f = makeFrame(['X', 'Y', 'Z'], (k, i) => k * 10 + i);
    const buffer = new ArrayBuffer(16 + f.values.byteLength + 8);
    const rows = new Int32Array(buffer, 0, 3);
    rows.set(f.rows);
    const values = new Float64Array(buffer, 16, f.values.length);
    values.set(f.values);
    const g = { ...f, rows, values };
    expectSameFrame(decodeFrame(encodeFrame(g)), f);
  });

  it('round-trips arbitrary frames (property)', () => {
    const double = fc.double();
    const symbol = fc.string({ unit: 'grapheme', maxLength: 12 });
    const frame = fc
      .record({
        seq: fc.nat(),
        builtAt: fc.double({ noNaN: true, noDefaultInfinity: true }),
        conflated: fc.nat(),
        full: fc.boolean(),
        symbolBase: fc.nat({ max: 1_000_000 }),
        newSymbols: fc.array(symbol, { maxLength: 10 }),
        rows: fc.array(fc.nat({ max: 0x7fffffff }), { maxLength: 40 }),
      })
      .chain((h) =>
        fc
          .array(double, {
            minLength: h.rows.length * FRAME_COLUMNS.length,
            maxLength: h.rows.length * FRAME_COLUMNS.length,
          })
          .map((v) => makeFrame(h.newSymbols, (k, i) => v[k * h.rows.length + i]!, h)),
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
  it('throws RangeError for a bad values length, bad ids, bad symbols and bad header numbers', () => {
    const f = makeFrame(['A', 'B'], () => 1);
    expect(() => encodeFrame({ ...f, values: new Float64Array(1) })).toThrow(/values/);
    expect(() => encodeFrame({ ...f, rows: Int32Array.from([0, -1]) })).toThrow(/negative/);
    expect(() => encodeFrame({ ...f, symbolBase: -1 })).toThrow(/symbolBase/);
    expect(() => encodeFrame({ ...f, symbolBase: 0x7fffffff })).toThrow(/past/);
    expect(() => encodeFrame({ ...f, newSymbols: ['A', 'x'.repeat(70_000)] })).toThrow(RangeError);
    expect(() => encodeFrame({ ...f, newSymbols: ['A', 'bad\ud800'] })).toThrow(/surrogate/);
    expect(() => encodeFrame({ ...f, seq: -1 })).toThrow(RangeError);
    expect(() => encodeFrame({ ...f, seq: 1.5 })).toThrow(RangeError);
    expect(() => encodeFrame({ ...f, conflated: NaN })).toThrow(RangeError);
    expect(() => encodeFrame({ ...f, builtAt: Infinity })).toThrow(RangeError);
  });

  it('symbolProblem names exactly the symbols encodeFrame refuses', () => {
    const bad = ['bad\ud800', '\udc00X', 'x'.repeat(MAX_SYMBOL_BYTES + 1), 'é'.repeat(40_000)];
    const good = ['', 'A', 'BRK.B', 'BTC/USD', 'é', '\ud83d\ude00', 'x'.repeat(MAX_SYMBOL_BYTES)];
    for (const s of bad) {
      expect(symbolProblem(s)).toBeTypeOf('string');
      expect(() => encodeFrame(makeFrame([s], () => 1))).toThrow(RangeError);
    }
    for (const s of good) {
      expect(symbolProblem(s)).toBeUndefined();
      expect(decodeFrame(encodeFrame(makeFrame([s], () => 1))).newSymbols).toEqual([s]);
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

  it('names a peer of the previous version (2) as another build, even from its shorter header', () => {
    // A version 2 frame of one row: 40-byte header, symbol "A", padding, 16 columns.
    const v2 = new Uint8Array(48 + 16 * 8);
    const dv = new DataView(v2.buffer);
    dv.setUint32(0, 0x46514d4d, true);
    dv.setUint16(4, 2, true);
    dv.setUint32(8, 1, true);
    dv.setUint32(12, 3, true);
    expectDecodeError(v2, /unsupported version 2 \(this build reads version 3\).*different build/);
    expectDecodeError(v2.subarray(0, 40), /unsupported version 2/);
  });

  it('rejects a row count, symbol count or table length that lies', () => {
    expectDecodeError(patched((dv) => dv.setUint32(8, 4, true)));
    expectDecodeError(patched((dv) => dv.setUint32(8, 2, true)));
    expectDecodeError(
      patched((dv) => dv.setUint32(8, 0xffffffff, true)),
      /truncated/,
    );
    expectDecodeError(patched((dv) => dv.setUint32(44, 4, true)));
    expectDecodeError(
      patched((dv) => dv.setUint32(44, 2, true)),
      /left over/,
    );
    expectDecodeError(
      patched((dv) => dv.setUint32(44, 0xffffffff, true)),
      /past|cannot hold/,
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
  });

  it('rejects ids past 2^31 - 1 and a symbolBase that would overflow them', () => {
    const idsAt =
      Math.ceil((FRAME_HEADER_BYTES + new DataView(bytes.buffer).getUint32(12, true)) / 8) * 8;
    expectDecodeError(
      patched((dv) => dv.setUint32(idsAt + 4, 0x80000000, true)),
      /symbol id past/,
    );
    expectDecodeError(
      patched((dv) => dv.setUint32(40, 0x7ffffffe, true)),
      /past/,
    );
    // Padding after an odd number of ids must be zero too.
    expectDecodeError(
      patched((dv) => dv.setUint32(idsAt + 12, 1, true)),
      /padding/,
    );
  });

  it('rejects a count and table length that lie together (the values no longer fit)', () => {
    const two = encodeFrame(makeFrame(['AAPL', 'BTC/USD'], () => 1));
    const copy = two.slice();
    new DataView(copy.buffer).setUint32(8, 1, true);
    expectDecodeError(copy);
  });

  it('rejects invalid UTF-8, non-zero padding and bad header numbers', () => {
    // 'ÄÖ€x' starts at 48 + (2+4) + (2+7) + 2 = 65: make its first byte a lone continuation byte.
    expect(bytes[65]).toBe(0xc3);
    expectDecodeError(
      patched((_, u8) => (u8[65] = 0x80)),
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

  it('a flipped bit in the header, symbol table or ids gives FrameDecodeError or a well-formed frame', () => {
    const tableEnd = FRAME_HEADER_BYTES + new DataView(bytes.buffer).getUint32(12, true);
    const valuesAt = Math.ceil(tableEnd / 8) * 8 + 16; // three ids and their padding
    for (let at = 0; at < valuesAt; at++) {
      for (const bit of [0x01, 0x10, 0x80]) {
        const copy = patched((_, u8) => (u8[at]! ^= bit));
        let frame: QuoteFrame;
        try {
          frame = decodeFrame(copy);
        } catch (err) {
          expect(err).toBeInstanceOf(FrameDecodeError);
          continue;
        }
        expect(frame.values).toHaveLength(frame.rows.length * FRAME_COLUMNS.length);
        for (const id of frame.rows) expect(id).toBeGreaterThanOrEqual(0);
        expect(Number.isSafeInteger(frame.seq)).toBe(true);
        expect(Number.isSafeInteger(frame.symbolBase)).toBe(true);
      }
    }
  });
});
