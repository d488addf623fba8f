/**
 * The official SDK's REST clients (@alpacahq/alpaca-trade-api v4, generated from Alpaca's OpenAPI
 * specs) parse the simulator's answers: market data (snapshots, bars with pagination) and the
 * trading reference (clock, calendar, assets), each pointed at the simulator with `basePath`.
 */
import { marketData, trading } from '@alpacahq/alpaca-trade-api';
import { describe, expect, it } from 'vitest';
import { simulatorFixture } from './helpers.ts';

const fixture = simulatorFixture();
const NOW = Date.parse('2026-06-10T15:00:00Z');

async function clients(): Promise<{
  stocks: marketData.StockApi;
  crypto: marketData.CryptoApi;
  config: trading.Configuration;
}> {
  const sim = await fixture.sim({
    rate: 0,
    key: 'PKTEST',
    secret: 'SECRET',
    session: 'auto',
    now: () => NOW,
  });
  const common = { basePath: sim.restUrl, keyId: 'PKTEST', secret: 'SECRET' };
  const data = new marketData.Configuration(common);
  return {
    stocks: new marketData.StockApi(data),
    crypto: new marketData.CryptoApi(data),
    config: new trading.Configuration(common),
  };
}

describe('the official SDK REST clients against the simulator', () => {
  it('stock and crypto snapshots', async () => {
    const { stocks, crypto } = await clients();
    const snaps = await stocks.stockSnapshots({ symbols: 'AAPL,MSFT,NOPE', feed: 'iex' });
    expect(Object.keys(snaps).sort()).toEqual(['AAPL', 'MSFT']);
    const aapl = snaps.AAPL;
    expect(aapl?.latestTrade?.t).toBeInstanceOf(Date);
    expect(aapl?.latestTrade?.p).toBeGreaterThan(150);
    expect(aapl?.latestQuote?.bp).toBeLessThan(Number(aapl?.latestQuote?.ap));
    expect(aapl?.dailyBar?.t.toISOString()).toBe('2026-06-10T04:00:00.000Z');
    expect(aapl?.prevDailyBar?.c).toBe(aapl?.dailyBar?.o);
    const single = await stocks.stockSnapshotSingle({ symbol: 'MSFT' });
    expect(single.symbol).toBe('MSFT');
    expect(single.dailyBar?.c).toBe(snaps.MSFT?.dailyBar?.c);
    // the SDK sends no keys for crypto data, which Alpaca serves without them
    const c = await crypto.cryptoSnapshots({ loc: 'us', symbols: 'BTC/USD' });
    expect(c.snapshots['BTC/USD']?.latestTrade?.tks).toBe('B');
  });

  it('bars, followed page by page to the end', async () => {
    const { stocks } = await clients();
    const request = {
      symbols: 'AAPL,SPY',
      timeframe: '1Hour',
      start: new Date('2026-06-01T00:00:00Z'),
      end: new Date('2026-06-06T00:00:00Z'),
      limit: 25,
    };
    const rows: string[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < 50; page++) {
      const resp = await stocks.stockBars({ ...request, ...(pageToken ? { pageToken } : {}) });
      // the SDK hands the bars map over as parsed JSON (times stay text)
      for (const [symbol, bars] of Object.entries(resp.bars)) {
        for (const bar of bars) rows.push(`${symbol}@${String(bar.t)}@${bar.c}`);
      }
      if (resp.nextPageToken === null || resp.nextPageToken === undefined) break;
      pageToken = resp.nextPageToken;
    }
    const whole = await stocks.stockBars({ ...request, limit: 10_000 });
    expect(whole.nextPageToken).toBeNull();
    const expected = Object.entries(whole.bars).flatMap(([symbol, bars]) =>
      bars.map((bar) => `${symbol}@${String(bar.t)}@${bar.c}`),
    );
    // five weekdays, 04:00-20:00 in hourly buckets, two symbols
    expect(expected.length).toBe(2 * 5 * 16);
    expect(rows).toEqual(expected);
  });

  it('clock, calendar and assets', async () => {
    const { config } = await clients();
    const clock = await new trading.ClockApi(config).legacyClock();
    expect(clock.isOpen).toBe(true);
    expect(clock.timestamp.getTime()).toBe(NOW);
    expect(clock.nextClose.toISOString()).toBe('2026-06-10T20:00:00.000Z');
    const days = await new trading.CalendarApi(config).legacyCalendar({
      start: new Date('2026-07-01'),
      end: new Date('2026-07-07'),
    });
    expect(days.map((d) => d.date.toISOString().slice(0, 10))).toEqual([
      '2026-07-01',
      '2026-07-02',
      '2026-07-06',
      '2026-07-07',
    ]);
    expect(days[0]?.sessionOpen).toBe('0400');
    const assets = new trading.AssetsApi(config);
    const aapl = await assets.getV2AssetsSymbolOrAssetId({ symbolOrAssetId: 'AAPL' });
    expect(aapl.name).toBe('Apple Inc.');
    expect(aapl.exchange).toBe('NASDAQ');
    expect(aapl._class).toBe('us_equity');
    const all = await assets.getV2Assets({ status: 'active', assetClass: 'us_equity' });
    expect(all).toHaveLength(100);
    await expect(assets.getV2AssetsSymbolOrAssetId({ symbolOrAssetId: 'NOPE' })).rejects.toThrow();
  });
});
