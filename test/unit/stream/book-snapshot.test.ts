import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RestBar, SymbolSnapshot } from '../../../electron/rest/types.ts';
import { QuoteBook } from '../../../electron/stream/book.ts';
import { readFrame } from '../../support/frame-reader.ts';
import type { Bar, Quote, Trade } from '../../../shared/market.ts';

const DAY = 86_400_000;
/** 2026-12-04 (a Friday) 05:00Z: a daily bar's start, New York midnight. */
const D1 = Date.UTC(2026, 11, 4, 5);
const D2 = D1 + 3 * DAY; // the Monday after

function restBar(time: number, open: number, close: number, volume: number): RestBar {
  return {
    time,
    open,
    high: Math.max(open, close) + 1,
    low: Math.min(open, close) - 1,
    close,
    volume,
    tradeCount: undefined,
    vwap: undefined,
  };
}

function snapshot(
  symbol: string,
  parts: Partial<Omit<SymbolSnapshot, 'symbol'>> = {},
): SymbolSnapshot {
  return {
    symbol,
    latestTrade: undefined,
    latestQuote: undefined,
    minuteBar: undefined,
    dailyBar: undefined,
    prevDailyBar: undefined,
    ...parts,
  };
}

function trade(symbol: string, price: number, timeMs: number, size = 10): Trade {
  return {
    kind: 'trade',
    symbol,
    id: 1,
    exchange: 'V',
    price,
    size,
    conditions: undefined,
    time: new Date(timeMs).toISOString(),
    timeMs,
    tape: 'C',
    takerSide: undefined,
  };
}

function quote(symbol: string, bidPrice: number, timeMs: number): Quote {
  return {
    kind: 'quote',
    symbol,
    bidExchange: 'V',
    bidPrice,
    bidSize: 1,
    askExchange: 'V',
    askPrice: bidPrice + 0.1,
    askSize: 1,
    conditions: undefined,
    time: new Date(timeMs).toISOString(),
    timeMs,
    tape: 'C',
  };
}

function dailyBar(symbol: string, timeMs: number, open: number, high: number, low: number): Bar {
  return {
    kind: 'dailyBar',
    symbol,
    open,
    high,
    low,
    close: open,
    volume: 1_000,
    tradeCount: 1,
    vwap: open,
    time: new Date(timeMs).toISOString(),
    timeMs,
  };
}

/** Row `symbol` of a full frame, as a plain object. */
function row(book: QuoteBook, symbol: string): Record<string, number> {
  const frame = readFrame(book.cursor().take());
  const i = frame.symbols.indexOf(symbol);
  if (i < 0) throw new Error(`no row for ${symbol}`);
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(frame)) {
    if (value instanceof Float64Array) out[key] = value[i]!;
  }
  return out;
}

describe('QuoteBook.applySnapshot', () => {
  it('fills a row from a snapshot: last, quote, the day and the previous close', () => {
    const book = new QuoteBook({ now: () => 1 });
    book.applySnapshot(
      snapshot('AAPL', {
        latestTrade: {
          time: D1 + 20 * 3_600_000,
          price: 231.5,
          size: 5,
          exchange: 'V',
          conditions: [],
        },
        latestQuote: {
          time: D1 + 20 * 3_600_000,
          bidPrice: 231.4,
          bidSize: 2,
          askPrice: 231.6,
          askSize: 3,
          bidExchange: 'V',
          askExchange: 'V',
        },
        dailyBar: restBar(D1, 228, 231.5, 5e6),
        prevDailyBar: restBar(D1 - DAY, 225, 228.4, 4e6),
      }),
    );
    const r = row(book, 'AAPL');
    expect(r).toMatchObject({
      lastPrice: 231.5,
      bidPrice: 231.4,
      askPrice: 231.6,
      volume: 5e6,
      dayOpen: 228,
      dayHigh: 232.5,
      dayLow: 227,
      prevClose: 228.4,
      refPrice: 228.4,
    });
    expect(r.polledAt).toBeNaN();
  });

  it('never overwrites newer streamed values, field group by field group', () => {
    const book = new QuoteBook({ now: () => 1 });
    const later = D1 + 15 * 3_600_000;
    book.applyTrade(trade('MSFT', 420, later));
    book.applyQuote(quote('MSFT', 419.9, later));
    book.applySnapshot(
      snapshot('MSFT', {
        latestTrade: { time: later - 1_000, price: 400, size: 1, exchange: 'V', conditions: [] },
        latestQuote: {
          time: later + 1_000,
          bidPrice: 421,
          bidSize: 1,
          askPrice: 421.1,
          askSize: 1,
          bidExchange: 'V',
          askExchange: 'V',
        },
        prevDailyBar: restBar(D1 - DAY, 410, 415, 1),
        dailyBar: restBar(D1, 416, 419, 1),
      }),
    );
    const r = row(book, 'MSFT');
    expect(r.lastPrice).toBe(420); // the stream's trade is newer
    expect(r.bidPrice).toBe(421); // the snapshot's quote is newer
    expect(r.prevClose).toBe(415);
    expect(r.refPrice).toBe(415);
  });

  it('keeps the larger volume and the wider range of the same day', () => {
    const book = new QuoteBook({ now: () => 1 });
    book.applyBar(dailyBar('NVDA', D1, 180, 190, 175));
    book.applySnapshot(
      snapshot('NVDA', { dailyBar: { ...restBar(D1, 180, 181, 500), high: 185, low: 170 } }),
    );
    const r = row(book, 'NVDA');
    expect(r.volume).toBe(1_000);
    expect(r.dayHigh).toBe(190);
    expect(r.dayLow).toBe(170);
  });

  it('rolls the previous close forward when the stream starts a new day', () => {
    const book = new QuoteBook({ now: () => 1 });
    book.applySnapshot(
      snapshot('SPY', {
        dailyBar: restBar(D1, 600, 605, 1e6),
        prevDailyBar: restBar(D1 - DAY, 598, 599, 1e6),
      }),
    );
    book.applyTrade(trade('SPY', 606.25, D1 + 20 * 3_600_000));
    expect(row(book, 'SPY').prevClose).toBe(599);
    book.applyBar(dailyBar('SPY', D2, 607, 608, 606));
    const r = row(book, 'SPY');
    expect(r.prevClose).toBe(606.25);
    expect(r.refPrice).toBe(606.25);
    expect(r.dayOpen).toBe(607);
    // A snapshot from before the roll does not take the previous close back.
    book.applySnapshot(snapshot('SPY', { prevDailyBar: restBar(D1 - DAY, 598, 599, 1e6) }));
    expect(row(book, 'SPY').prevClose).toBe(606.25);
    // The exact close of the day that ended, from a snapshot after the roll, wins.
    book.applySnapshot(snapshot('SPY', { prevDailyBar: restBar(D1, 600, 606.3, 1e6) }));
    expect(row(book, 'SPY').prevClose).toBe(606.3);
  });

  it('widens the day range with trades after the daily bar', () => {
    const book = new QuoteBook({ now: () => 1 });
    book.applyBar(dailyBar('AMD', D1, 100, 101, 99));
    book.applyTrade(trade('AMD', 102, D1 + 15 * 3_600_000));
    book.applyTrade(trade('AMD', 98.5, D1 + 15 * 3_600_000 + 1));
    const r = row(book, 'AMD');
    expect([r.dayHigh, r.dayLow]).toEqual([102, 98.5]);
  });

  it('marks a polled row with its snapshot time, and clears the mark when it is streamed', () => {
    const book = new QuoteBook({ now: () => 1 });
    const cursor = book.cursor();
    cursor.take();
    book.applySnapshot(snapshot('TSLA', { dailyBar: restBar(D1, 300, 301, 1) }), 12_345);
    expect(row(book, 'TSLA').polledAt).toBe(12_345);
    cursor.take();
    book.markStreamed('TSLA');
    expect(cursor.dirty).toBe(true);
    expect(row(book, 'TSLA').polledAt).toBeNaN();
  });

  it('only fills wanted symbols', () => {
    const book = new QuoteBook({ now: () => 1 });
    book.retain(new Set(['AAPL']));
    expect(book.applySnapshot(snapshot('ZZZZ'))).toBe(false);
    expect(book.size).toBe(0);
  });

  it('property: a merge never replaces a newer value with an older one', () => {
    const event = fc.oneof(
      fc.record({
        kind: fc.constant('trade' as const),
        t: fc.integer({ min: 0, max: 1_000 }),
        price: fc.integer({ min: 1, max: 1_000 }),
      }),
      fc.record({
        kind: fc.constant('snap' as const),
        t: fc.integer({ min: 0, max: 1_000 }),
        price: fc.integer({ min: 1, max: 1_000 }),
        dayT: fc.integer({ min: 0, max: 3 }),
        volume: fc.integer({ min: 0, max: 10_000 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        const book = new QuoteBook({ now: () => 1 });
        let newestTradeT = -Infinity;
        let newestTradePrice = NaN;
        const volumeByDay = new Map<number, number>();
        let newestDay = -Infinity;
        for (const e of events) {
          const time = D1 + e.t * 1_000;
          if (e.kind === 'trade') {
            book.applyTrade(trade('X', e.price, time, 0));
            // The stream is latest-by-arrival.
            newestTradeT = time;
            newestTradePrice = e.price;
          } else {
            const dayStart = D1 + e.dayT * DAY;
            book.applySnapshot(
              snapshot('X', {
                latestTrade: { time, price: e.price, size: 1, exchange: 'V', conditions: [] },
                dailyBar: restBar(dayStart, e.price, e.price, e.volume),
              }),
            );
            if (time > newestTradeT || Number.isNaN(newestTradePrice)) {
              newestTradeT = time;
              newestTradePrice = e.price;
            }
            if (dayStart >= newestDay) {
              newestDay = dayStart;
              volumeByDay.set(dayStart, Math.max(volumeByDay.get(dayStart) ?? 0, e.volume));
            }
          }
        }
        if (book.size === 0) return;
        const r = row(book, 'X');
        if (!Number.isNaN(newestTradePrice)) expect(r.lastPrice).toBe(newestTradePrice);
        if (newestDay > -Infinity) expect(r.volume).toBe(volumeByDay.get(newestDay));
      }),
      { numRuns: 300 },
    );
  });
});
