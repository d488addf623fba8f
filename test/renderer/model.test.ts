/**
 * The watchlist's rules, without a page: formatting, the quote board (folding, flash, stale),
 * sorting, and the renderer's latency histogram.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FLASH_MS,
  QuoteBoard,
  STALE_AFTER_MS,
  changeOf,
  flashOf,
  freshnessOf,
  moveOf,
  spreadOf,
} from '../../renderer/model/board.ts';
import { COLUMNS, nextSort, sortSymbols } from '../../renderer/model/columns.ts';
import {
  MISSING,
  formatAge,
  formatBytes,
  formatClock,
  formatCountdown,
  formatDuration,
  formatLatency,
  formatPercent,
  formatPrice,
  formatRate,
  formatSigned,
  formatSize,
} from '../../renderer/model/format.ts';
import { LatencyHistogram } from '../../renderer/model/latency.ts';
import { FRAME_COLUMNS, type QuoteFrame } from '../../shared/frame.ts';
import { T0, makeFrame } from './fake-api.ts';

describe('format', () => {
  it('prices: two decimals from 1 up, four significant digits below, dashes for nothing', () => {
    expect(formatPrice(187.5)).toBe('187.50');
    expect(formatPrice(1234.567)).toBe('1,234.57');
    expect(formatPrice(0.012345)).toBe('0.01235');
    expect(formatPrice(0)).toBe('0.00');
    expect(formatPrice(NaN)).toBe(MISSING);
    expect(formatPrice(undefined)).toBe(MISSING);
    expect(formatPrice(Infinity)).toBe(MISSING);
  });

  it('sizes: exact below 10,000, then K / M / B', () => {
    expect(formatSize(300)).toBe('300');
    expect(formatSize(9999)).toBe('9,999');
    expect(formatSize(12_345)).toBe('12.3K');
    expect(formatSize(4_560_000)).toBe('4.56M');
    expect(formatSize(123_456_789)).toBe('123M');
    expect(formatSize(2_100_000_000)).toBe('2.10B');
    expect(formatSize(0.0425)).toBe('0.0425');
    expect(formatSize(NaN)).toBe(MISSING);
  });

  it('rounding that reaches the next unit moves up to it; -0 has no sign; a date out of range is missing', () => {
    expect(formatSize(999_999)).toBe('1.00M');
    expect(formatSize(99_999)).toBe('100K');
    expect(formatSize(999_999_999)).toBe('1.00B');
    expect(formatSize(-12_345)).toBe('-12.3K');
    expect(formatBytes(1024 * 1024 - 1)).toBe('1.00 MiB');
    expect(formatBytes(1023)).toBe('1,023 B');
    expect(formatPrice(-0)).toBe('0.00');
    expect(formatSize(-0)).toBe('0');
    expect(formatClock(1e16)).toBe(MISSING);
  });

  it('signed values use a true minus and no sign for zero', () => {
    expect(formatSigned(1.234)).toBe('+1.23');
    expect(formatSigned(-0.4)).toBe('−0.40');
    expect(formatSigned(-0.001)).toBe('0.00');
    expect(formatPercent(2.5)).toBe('+2.50%');
    expect(formatPercent(NaN)).toBe(MISSING);
    expect(formatSigned(-1234.5)).toBe('−1,234.50');
    expect(formatSigned(0.005, 2)).toBe('+0.01');
    expect(formatSigned(-0.004)).toBe('0.00');
    expect(formatSigned(2e15)).toBe('+2,000,000,000,000,000.00');
  });

  it('signed values print what a fresh Intl formatter prints, for any value and digit count', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e15, max: 1e15, noNaN: true }),
        fc.integer({ min: 0, max: 6 }),
        (value, digits) => {
          const rounded = Number(value.toFixed(digits));
          const body = Math.abs(rounded).toLocaleString('en-US', {
            minimumFractionDigits: digits,
            maximumFractionDigits: digits,
          });
          const sign = rounded > 0 ? '+' : rounded < 0 ? '−' : '';
          expect(formatSigned(value, digits)).toBe(`${sign}${body}`);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('durations, latencies, ages and rates', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(4_290)).toBe('4.2 s');
    expect(formatDuration(59_999)).toBe('59 s');
    expect(formatDuration(187_000)).toBe('3m 07s');
    expect(formatDuration(7_500_000)).toBe('2h 05m');
    expect(formatDuration(-5)).toBe('0 ms');
    expect(formatLatency(0.42)).toBe('0.42 ms');
    expect(formatLatency(3.14)).toBe('3.1 ms');
    expect(formatLatency(48.4)).toBe('48 ms');
    expect(formatAge(T0 - 400, T0)).toBe('0.4 s');
    expect(formatAge(T0 - 190_000, T0)).toBe('3m 10s');
    expect(formatAge(NaN, T0)).toBe(MISSING);
    expect(formatRate(12.34)).toBe('12.3');
    expect(formatRate(1234.5)).toBe('1,235');
    expect(formatRate(45_600)).toBe('45.6K');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(24_000_000)).toBe('22.9 MiB');
  });

  it('the countdown rounds up, never shows 0.0 while waiting, and says now once due', () => {
    expect(formatCountdown(T0 + 2_400, T0)).toBe('2.4 s');
    expect(formatCountdown(T0 + 2_401, T0)).toBe('2.5 s');
    expect(formatCountdown(T0 + 1, T0)).toBe('0.1 s');
    expect(formatCountdown(T0, T0)).toBe('now');
    expect(formatCountdown(T0 - 500, T0)).toBe('now');
    expect(formatCountdown(undefined, T0)).toBe(MISSING);
  });

  it('the countdown never rises as time passes (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 120_000 }),
        fc.integer({ min: 0, max: 5_000 }),
        (left, step) => {
          const read = (s: string) => (s === 'now' ? 0 : Number.parseFloat(s));
          const before = read(formatCountdown(T0 + left, T0));
          const after = read(formatCountdown(T0 + left, T0 + step));
          return after <= before;
        },
      ),
    );
  });

  it('clock times are local HH:MM:SS', () => {
    const d = new Date(2026, 10, 26, 9, 5, 7, 42).getTime();
    expect(formatClock(d)).toBe('09:05:07');
    expect(formatClock(d, true)).toBe('09:05:07.042');
  });
});

describe('QuoteBoard', () => {
  it('folds frames into one record per symbol and versions each change', () => {
    const board = new QuoteBoard();
    board.apply(makeFrame(1, [{ symbol: 'AAPL', bid: 100, ask: 100.1, receivedAt: T0 }]), T0);
    const row = board.get('AAPL');
    expect(row?.version).toBe(1);
    board.apply(
      makeFrame(2, [{ symbol: 'AAPL', bid: 100, ask: 100.1, last: 100.05, lastSize: 50 }]),
      T0 + 10,
    );
    expect(row).toBe(board.get('AAPL')); // same record, mutated in place
    expect(row).toMatchObject({ bid: 100, ask: 100.1, last: 100.05, lastSize: 50, version: 2 });
    // A frame with nothing new leaves the version alone (no re-render).
    board.apply(
      makeFrame(3, [{ symbol: 'AAPL', bid: 100, ask: 100.1, last: 100.05, lastSize: 50 }]),
      T0 + 20,
    );
    expect(row?.version).toBe(2);
  });

  it("a frame row is main's whole row: NaN clears an old value (a new source, a re-added symbol)", () => {
    const board = new QuoteBoard();
    board.apply(makeFrame(1, [{ symbol: 'AAPL', bid: 100, last: 100, volume: 5000, ref: 90 }]), T0);
    board.apply(makeFrame(2, [{ symbol: 'AAPL', bid: 200 }], { full: true }), T0);
    expect(board.get('AAPL')).toMatchObject({ bid: 200, last: NaN, volume: NaN, ref: NaN });
  });

  it('a full frame drops symbols it does not carry', () => {
    const board = new QuoteBoard();
    board.apply(
      makeFrame(1, [
        { symbol: 'AAPL', bid: 1 },
        { symbol: 'MSFT', bid: 2 },
      ]),
      T0,
    );
    board.apply(makeFrame(2, [{ symbol: 'MSFT', bid: 3 }], { full: true }), T0);
    expect(board.has('AAPL')).toBe(false);
    expect(board.get('MSFT')?.bid).toBe(3);
  });

  it('counts conflation and sequence gaps', () => {
    const board = new QuoteBoard();
    board.apply(makeFrame(1, [], { conflated: 5 }), T0);
    board.apply(makeFrame(2, [], { conflated: 7 }), T0);
    board.apply(makeFrame(4, []), T0);
    expect(board.stats).toEqual({
      frames: 3,
      conflated: 12,
      lastSeq: 4,
      gaps: 1,
      unknownRows: 0,
      resyncs: 1,
    });
  });

  it('flash: up green, down red, for FLASH_MS after the change; the first value does not flash', () => {
    const board = new QuoteBoard();
    board.apply(makeFrame(1, [{ symbol: 'X', bid: 10, ask: 11 }]), T0);
    const row = board.get('X');
    if (row === undefined) throw new Error('no row');
    expect(flashOf(row.flash.bid, T0)).toBeUndefined();
    board.apply(makeFrame(2, [{ symbol: 'X', bid: 10.5, ask: 10.9 }]), T0 + 100);
    expect(flashOf(row.flash.bid, T0 + 100)).toBe('up');
    expect(flashOf(row.flash.ask, T0 + 100)).toBe('down');
    expect(flashOf(row.flash.bid, T0 + 100 + FLASH_MS - 1)).toBe('up');
    expect(flashOf(row.flash.bid, T0 + 100 + FLASH_MS)).toBeUndefined();
    // A size-only change does not light the price.
    const count = row.flash.bid.count;
    board.apply(makeFrame(3, [{ symbol: 'X', bid: 10.5, ask: 10.9, bidSize: 300 }]), T0 + 5000);
    expect(row.flash.bid.count).toBe(count);
    expect(flashOf(row.flash.bid, T0 + 5000)).toBeUndefined();
  });

  /** A frame as a cursor builds it: rows by id, naming `newSymbols` from `symbolBase`. */
  function idFrame(
    seq: number,
    head: { full?: boolean; symbolBase: number; newSymbols: string[] },
    rows: readonly (readonly [id: number, bid: number])[],
  ): QuoteFrame {
    const n = rows.length;
    const values = new Float64Array(n * FRAME_COLUMNS.length).fill(NaN);
    const bidAt = FRAME_COLUMNS.indexOf('bidPrice') * n;
    rows.forEach(([, bid], i) => (values[bidAt + i] = bid));
    return {
      seq,
      builtAt: T0,
      conflated: 0,
      full: head.full ?? false,
      rows: Int32Array.from(rows, ([id]) => id),
      symbolBase: head.symbolBase,
      newSymbols: head.newSymbols,
      values,
    };
  }

  it('resolves ids through its table: new symbols arriving mid-stream, known ones by id alone', () => {
    const board = new QuoteBoard();
    board.apply(
      idFrame(1, { full: true, symbolBase: 0, newSymbols: ['A', 'B'] }, [
        [0, 1],
        [1, 2],
      ]),
      T0,
    );
    board.apply(idFrame(2, { symbolBase: 2, newSymbols: [] }, [[1, 3]]), T0);
    expect(board.get('B')?.bid).toBe(3);
    // C is named once, in the frame that first carries it, beside a known id.
    board.apply(
      idFrame(3, { symbolBase: 2, newSymbols: ['C'] }, [
        [2, 4],
        [0, 5],
      ]),
      T0,
    );
    board.apply(idFrame(4, { symbolBase: 3, newSymbols: [] }, [[2, 6]]), T0);
    expect([...board.rows()].map((r) => [r.symbol, r.bid])).toEqual([
      ['A', 5],
      ['B', 3],
      ['C', 6],
    ]);
    expect(board.stats.unknownRows).toBe(0);
  });

  it('a full frame resets the table: ids are renumbered, dropped symbols go, rows are kept', () => {
    const board = new QuoteBoard();
    board.apply(
      idFrame(1, { full: true, symbolBase: 0, newSymbols: ['A', 'B', 'C'] }, [
        [0, 1],
        [1, 2],
        [2, 3],
      ]),
      T0,
    );
    const c = board.get('C');
    // B was dropped in main: C is now id 0 and A id 1.
    board.apply(
      idFrame(2, { full: true, symbolBase: 0, newSymbols: ['C', 'A'] }, [
        [0, 3],
        [1, 1],
      ]),
      T0,
    );
    expect(board.has('B')).toBe(false);
    expect(board.get('C')).toBe(c);
    board.apply(idFrame(3, { symbolBase: 2, newSymbols: [] }, [[0, 30]]), T0);
    expect(board.get('C')?.bid).toBe(30);
    expect(board.get('A')?.bid).toBe(1);
  });

  it('a view attaching later starts from its own full frame, whatever ids another view uses', () => {
    const early = new QuoteBoard();
    const late = new QuoteBoard();
    early.apply(idFrame(1, { full: true, symbolBase: 0, newSymbols: ['A'] }, [[0, 1]]), T0);
    early.apply(idFrame(2, { symbolBase: 1, newSymbols: ['B'] }, [[1, 2]]), T0);
    late.apply(
      idFrame(1, { full: true, symbolBase: 0, newSymbols: ['A', 'B'] }, [
        [0, 1],
        [1, 2],
      ]),
      T0,
    );
    for (const board of [early, late]) {
      expect([...board.rows()].map((r) => [r.symbol, r.bid])).toEqual([
        ['A', 1],
        ['B', 2],
      ]);
    }
  });

  it('skips and counts rows of an id it was never told (a lost frame) and of a blank symbol', () => {
    const board = new QuoteBoard();
    board.apply(idFrame(1, { full: true, symbolBase: 0, newSymbols: ['A'] }, [[0, 1]]), T0);
    // Frame 2 (naming id 1) was lost: frame 3's ids 2 and 3 cannot be placed after the gap.
    const fold = board.apply(
      idFrame(3, { symbolBase: 2, newSymbols: ['C', 'D'] }, [
        [1, 9],
        [2, 3],
        [0, 5],
      ]),
      T0,
    );
    expect(fold.changed).toBe(1);
    expect(board.stats).toMatchObject({ gaps: 1, unknownRows: 2 });
    // A blanked symbol ('', not carried by the transport): its rows are skipped too.
    board.apply(
      idFrame(4, { symbolBase: 1, newSymbols: ['B', ''] }, [
        [1, 7],
        [2, 8],
      ]),
      T0,
    );
    expect(board.stats.unknownRows).toBe(3);
    expect([...board.rows()].map((r) => [r.symbol, r.bid])).toEqual([
      ['A', 5],
      ['B', 7],
    ]);
    // A symbolBase far past the end (a corrupt frame) is ignored, not filled up to.
    const start = performance.now();
    board.apply(
      idFrame(5, { symbolBase: 2 ** 31 - 10, newSymbols: ['Z'] }, [[2 ** 31 - 10, 1]]),
      T0,
    );
    expect(performance.now() - start).toBeLessThan(100);
    expect(board.has('Z')).toBe(false);
    // The next full frame heals the table.
    board.apply(
      idFrame(6, { full: true, symbolBase: 0, newSymbols: ['A', 'B', 'C'] }, [[1, 2]]),
      T0,
    );
    expect(board.get('B')?.bid).toBe(2);
    expect(board.has('A')).toBe(false);
  });

  it('moveOf: no earlier value is not a move', () => {
    expect(moveOf(NaN, 5)).toBe(0);
    expect(moveOf(5, 5)).toBe(0);
    expect(moveOf(5, 6)).toBe(1);
    expect(moveOf(6, 5)).toBe(-1);
  });

  it('stale after STALE_AFTER_MS without an update; waiting before the first', () => {
    expect(freshnessOf(NaN, T0)).toBe('waiting');
    expect(freshnessOf(T0, T0 + STALE_AFTER_MS - 1)).toBe('fresh');
    expect(freshnessOf(T0, T0 + STALE_AFTER_MS)).toBe('stale');
    expect(freshnessOf(T0, T0 + 100, 50)).toBe('stale');
  });

  it('spread and change need both sides', () => {
    expect(spreadOf({ bid: 100, ask: 100.05 })).toBeCloseTo(0.05, 10);
    expect(spreadOf({ bid: NaN, ask: 100 })).toBeNaN();
    expect(spreadOf({ bid: 0, ask: 100 })).toBeNaN();
    expect(changeOf({ last: 110, ref: 100 })).toEqual({ abs: 10, pct: 10 });
    expect(changeOf({ last: 110, ref: NaN }).abs).toBeNaN();
    expect(changeOf({ last: 110, ref: 0 }).pct).toBeNaN();
  });
});

describe('sorting', () => {
  const board = new QuoteBoard();
  board.apply(
    makeFrame(1, [
      { symbol: 'B', bid: 20, last: 21, ref: 20, volume: 500, receivedAt: T0 - 5000 },
      { symbol: 'A', bid: 30, last: 27, ref: 30, volume: 100, receivedAt: T0 - 100 },
      { symbol: 'C', bid: 20, last: 22, ref: 20, volume: 900, receivedAt: T0 - 2000 },
      { symbol: 'D' },
    ]),
    T0,
  );
  const list = ['B', 'A', 'C', 'D', 'E'];
  const lookup = (s: string) => board.get(s);

  it('unsorted is the list order (the same array)', () => {
    expect(sortSymbols(list, undefined, lookup)).toBe(list);
  });

  it('by symbol, both ways', () => {
    expect(sortSymbols(list, { column: 'symbol', direction: 'asc' }, lookup)).toEqual([
      'A',
      'B',
      'C',
      'D',
      'E',
    ]);
    expect(sortSymbols(list, { column: 'symbol', direction: 'desc' }, lookup)).toEqual([
      'E',
      'D',
      'C',
      'B',
      'A',
    ]);
  });

  it('by a number: ties keep list order, rows without a value go last in both directions', () => {
    expect(sortSymbols(list, { column: 'bid', direction: 'asc' }, lookup)).toEqual([
      'B',
      'C',
      'A',
      'D',
      'E',
    ]);
    expect(sortSymbols(list, { column: 'bid', direction: 'desc' }, lookup)).toEqual([
      'A',
      'B',
      'C',
      'D',
      'E',
    ]);
  });

  it('by change %, volume and age', () => {
    expect(
      sortSymbols(list, { column: 'changePct', direction: 'desc' }, lookup).slice(0, 3),
    ).toEqual(['C', 'B', 'A']);
    expect(sortSymbols(list, { column: 'volume', direction: 'desc' }, lookup).slice(0, 3)).toEqual([
      'C',
      'B',
      'A',
    ]);
    // Youngest update first when ascending by age.
    expect(sortSymbols(list, { column: 'age', direction: 'asc' }, lookup).slice(0, 3)).toEqual([
      'A',
      'C',
      'B',
    ]);
  });

  it('every column sorts without throwing and keeps every symbol (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...COLUMNS.map((c) => c.id)),
        fc.constantFrom('asc' as const, 'desc' as const),
        (column, direction) => {
          const out = sortSymbols(list, { column, direction }, lookup);
          return out.length === list.length && new Set(out).size === list.length;
        },
      ),
    );
  });

  it('header clicks cycle ascending, descending, list order; another column starts ascending', () => {
    expect(nextSort(undefined, 'bid')).toEqual({ column: 'bid', direction: 'asc' });
    expect(nextSort({ column: 'bid', direction: 'asc' }, 'bid')).toEqual({
      column: 'bid',
      direction: 'desc',
    });
    expect(nextSort({ column: 'bid', direction: 'desc' }, 'bid')).toBeUndefined();
    expect(nextSort({ column: 'bid', direction: 'desc' }, 'ask')).toEqual({
      column: 'ask',
      direction: 'asc',
    });
  });
});

describe('LatencyHistogram', () => {
  it('percentiles within a bucket (12%) of the truth, exact extremes', () => {
    const h = new LatencyHistogram();
    for (let v = 1; v <= 1000; v++) h.record(v / 10); // 0.1 .. 100 ms
    const s = h.summary();
    expect(s.count).toBe(1000);
    expect(s.min).toBeCloseTo(0.1, 10);
    expect(s.max).toBe(100);
    expect(s.p50).toBeGreaterThanOrEqual(50);
    expect(s.p50).toBeLessThanOrEqual(50 * 1.12);
    expect(s.p99).toBeGreaterThanOrEqual(99);
    expect(s.p99).toBeLessThanOrEqual(100);
    expect(s.mean).toBeCloseTo(50.05, 5);
  });

  it('negatives count as 0 and are counted; huge values are overflows; NaN is ignored', () => {
    const h = new LatencyHistogram();
    h.record(-3);
    h.record(1e9);
    h.record(NaN);
    const s = h.summary();
    expect(s).toMatchObject({ count: 2, negatives: 1, overflows: 1, min: 0 });
  });

  it('bars cover every sample, and an empty histogram has none', () => {
    const h = new LatencyHistogram();
    expect(h.bars()).toEqual([]);
    expect(h.summary().p50).toBeNaN();
    for (let i = 0; i < 500; i++) h.record((i % 50) + 1);
    const bars = h.bars(10);
    expect(bars.length).toBeLessThanOrEqual(10);
    expect(bars.reduce((n, b) => n + b.count, 0)).toBe(500);
    h.reset();
    expect(h.count).toBe(0);
  });
});
