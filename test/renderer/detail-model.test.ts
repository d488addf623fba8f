/**
 * The detail pane's models without a DOM: the chart's ranges, time axis and live folding
 * (renderer/model/chart.ts) and the renderer's tape (renderer/model/trade-tape.ts).
 */
import { describe, expect, it } from 'vitest';
import type { ChartBar, TapeUpdate } from '../../shared/api.ts';
import {
  CHART_RANGES,
  bucketStart,
  chartTime,
  foldTrade,
  lastSessions,
  risingTimes,
} from '../../renderer/model/chart.ts';
import { TradeTape } from '../../renderer/model/trade-tape.ts';

/** 2026-12-04 (a Friday) 10:00 New York = 15:00 UTC (EST, UTC-5). */
const FRI_10 = Date.UTC(2026, 11, 4, 15, 0, 0);
/** 2026-07-01 10:00 New York = 14:00 UTC (EDT, UTC-4). */
const SUMMER_10 = Date.UTC(2026, 6, 1, 14, 0, 0);

function bar(time: number, close = 10, volume = 100): ChartBar {
  return { time, open: close, high: close, low: close, close, volume };
}

describe('chart model', () => {
  it('has the four ranges with their timeframes', () => {
    expect(CHART_RANGES.map((r) => [r.id, r.timeframe])).toEqual([
      ['1D', '1Min'],
      ['5D', '5Min'],
      ['1M', '1Hour'],
      ['1Y', '1Day'],
    ]);
  });

  it('writes New York wall-clock time on the axis, in winter and in summer', () => {
    expect(chartTime(FRI_10)).toBe(Date.UTC(2026, 11, 4, 10, 0, 0) / 1000);
    expect(chartTime(SUMMER_10)).toBe(Date.UTC(2026, 6, 1, 10, 0, 0) / 1000);
  });

  it('keeps the newest trading days only (a weekend between them is no day)', () => {
    const thu = FRI_10 - 86_400_000;
    const mon = FRI_10 + 3 * 86_400_000;
    const bars = [bar(thu), bar(thu + 60_000), bar(FRI_10), bar(FRI_10 + 60_000), bar(mon)];
    expect(lastSessions(bars, 1).map((b) => b.time)).toEqual([mon]);
    expect(lastSessions(bars, 2).map((b) => b.time)).toEqual([FRI_10, FRI_10 + 60_000, mon]);
    expect(lastSessions(bars, 5)).toHaveLength(5);
    expect(lastSessions(bars, undefined)).toHaveLength(5);
    expect(lastSessions([], 1)).toEqual([]);
  });

  it('drops a bar whose New York time repeats (the hour daylight saving ends)', () => {
    // 2026-11-01: 01:30 EDT (05:30 UTC) and 01:30 EST (06:30 UTC) are one wall-clock time.
    const first = Date.UTC(2026, 10, 1, 5, 30, 0);
    const repeat = Date.UTC(2026, 10, 1, 6, 30, 0);
    const later = Date.UTC(2026, 10, 1, 7, 30, 0);
    expect(chartTime(first)).toBe(chartTime(repeat));
    expect(risingTimes([bar(first), bar(repeat), bar(later)]).map((b) => b.time)).toEqual([
      first,
      later,
    ]);
  });

  it('finds the bar a trade belongs to', () => {
    expect(bucketStart(FRI_10 + 61_234, '1Min')).toBe(FRI_10 + 60_000);
    expect(bucketStart(FRI_10 + 7 * 60_000, '5Min')).toBe(FRI_10 + 5 * 60_000);
    expect(bucketStart(FRI_10 + 59 * 60_000, '1Hour')).toBe(FRI_10);
    // A day starts at New York midnight (05:00 UTC in winter).
    expect(bucketStart(FRI_10 + 1234, '1Day')).toBe(Date.UTC(2026, 11, 4, 5, 0, 0));
  });

  it('folds trades into the last bar, opens the next one, and skips older trades', () => {
    const last = bar(FRI_10, 10, 100);
    const widened = foldTrade(last, { time: FRI_10 + 30_000, price: 10.5, size: 7 }, '1Min');
    expect(widened).toEqual({
      time: FRI_10,
      open: 10,
      high: 10.5,
      low: 10,
      close: 10.5,
      volume: 107,
    });
    const lower = foldTrade(widened, { time: FRI_10 + 40_000, price: 9.5, size: 1 }, '1Min');
    expect(lower).toMatchObject({ high: 10.5, low: 9.5, close: 9.5, volume: 108 });
    const next = foldTrade(lower, { time: FRI_10 + 61_000, price: 9.8, size: 5 }, '1Min');
    expect(next).toEqual({
      time: FRI_10 + 60_000,
      open: 9.8,
      high: 9.8,
      low: 9.8,
      close: 9.8,
      volume: 5,
    });
    expect(foldTrade(last, { time: FRI_10 - 1, price: 9, size: 1 }, '1Min')).toBeUndefined();
    expect(foldTrade(last, { time: FRI_10 + 1, price: 0, size: 1 }, '1Min')).toBeUndefined();
    // The whole New York day is one daily bar.
    const day = bar(Date.UTC(2026, 11, 4, 5, 0, 0), 10, 1000);
    expect(
      foldTrade(day, { time: FRI_10 + 5 * 3_600_000, price: 11, size: 1 }, '1Day'),
    ).toMatchObject({ time: day.time, high: 11, volume: 1001 });
    // Without a bar yet, the trade opens one.
    expect(foldTrade(undefined, { time: FRI_10 + 5, price: 3, size: 2 }, '5Min')).toMatchObject({
      time: FRI_10,
      open: 3,
      volume: 2,
    });
  });
});

describe('TradeTape', () => {
  const u = (symbol: string, prices: number[], reset = false): TapeUpdate => ({
    symbol,
    trades: prices.map((price, i) => ({ time: i, price, size: 1, exchange: 'V', conditions: [] })),
    reset,
    quote: undefined,
    day: undefined,
  });

  it('keeps rows newest first with moves; a same-price trade keeps the previous move', () => {
    const tape = new TradeTape(10);
    tape.reset('AAPL');
    expect(tape.apply(u('AAPL', [10, 11, 11, 10.5, 10.5]))).toBe(true);
    expect(tape.rows.map((r) => [r.price, r.move])).toEqual([
      [10.5, -1],
      [10.5, -1],
      [11, 1],
      [11, 1],
      [10, 0],
    ]);
    // The next batch compares with the newest row held.
    tape.apply(u('AAPL', [10.6]));
    expect(tape.rows[0]?.move).toBe(1);
  });

  it('ignores another symbol, is bounded, and hands the chart what it has not seen', () => {
    const tape = new TradeTape(3);
    tape.reset('AAPL');
    expect(tape.apply(u('MSFT', [1]))).toBe(false);
    tape.apply(u('AAPL', [1, 2]));
    const seen = tape.seq;
    tape.apply(u('AAPL', [3, 4, 5]));
    expect(tape.rows.map((r) => r.price)).toEqual([5, 4, 3]);
    expect(tape.since(seen).map((r) => r.price)).toEqual([3, 4, 5]);
    expect(tape.since(tape.seq)).toEqual([]);
    tape.apply(u('AAPL', [6, 7, 8, 9]));
    expect(tape.rows.map((r) => r.price)).toEqual([9, 8, 7]);
  });

  it('a reset update replaces the rows and raises the epoch', () => {
    const tape = new TradeTape();
    tape.reset('AAPL');
    tape.apply(u('AAPL', [1, 2]));
    const epoch = tape.epoch;
    tape.apply(u('AAPL', [7], true));
    expect(tape.rows.map((r) => r.price)).toEqual([7]);
    expect(tape.epoch).toBe(epoch + 1);
  });
});
