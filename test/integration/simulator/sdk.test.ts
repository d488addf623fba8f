/**
 * The official SDK (@alpacahq/alpaca-trade-api v4) accepts the simulator. Its market-data streams
 * are msgpack-only by construction (MarketDataStream passes `codec: 'msgpack'` to its base and
 * keeps it in a protected field); the JSON run uses a subclass that overrides that field, which
 * makes the SDK open the socket without the msgpack Content-Type and read frames as JSON text.
 */
import { streaming } from '@alpacahq/alpaca-trade-api';
import { afterEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../../../electron/simulator/index.ts';
import { startSimulator } from '../../../electron/simulator/index.ts';
import { until } from './helpers.ts';

class JsonStockDataStream extends streaming.StockDataStream {
  protected override readonly codec = 'json' as const;
}

let simulator: Simulator | undefined;
let stream: streaming.StockDataStream | undefined;

afterEach(async () => {
  stream?.disconnect();
  stream = undefined;
  await simulator?.close();
  simulator = undefined;
});

describe('the official SDK against the simulator', () => {
  it.each(['msgpack', 'json'] as const)(
    'StockDataStream receives quotes and trades (%s)',
    async (codec) => {
      const s = await startSimulator({ rate: 2000, key: 'PKTEST', secret: 'SECRET' });
      simulator = s;
      const options = {
        credentials: { keyId: 'PKTEST', secret: 'SECRET' },
        url: s.urlFor('iex'),
        reconnect: false,
      };
      const sdk =
        codec === 'json'
          ? new JsonStockDataStream(options)
          : new streaming.StockDataStream(options);
      stream = sdk;
      const quotes: streaming.StreamQuote[] = [];
      const trades: streaming.StreamTrade[] = [];
      const errors: string[] = [];
      sdk.onQuote((q) => quotes.push(q));
      sdk.onTrade((t) => trades.push(t));
      sdk.onError((e) => errors.push(String(e)));

      sdk.connect();
      expect(await sdk.waitForAuthentication(5000)).toBe(true);
      sdk.subscribeForQuotes(['AAPL', 'MSFT']);
      sdk.subscribeForTrades(['AAPL', 'MSFT']);
      const symbols = (list: readonly { symbol: string }[]): Set<string> =>
        new Set(list.map((m) => m.symbol));
      await until(
        () => symbols(quotes).size === 2 && symbols(trades).size === 2,
        'quotes and trades for both symbols',
      );

      expect(errors).toEqual([]);
      expect(s.connections()[0]?.codec).toBe(codec);
      expect(symbols(quotes)).toEqual(new Set(['AAPL', 'MSFT']));
      for (const q of quotes) {
        expect(q.bidPrice).toBeLessThan(q.askPrice ?? 0);
        expect(q.timestampRaw).toMatch(/\.\d{9}Z$/);
      }
      expect(trades.every((t) => (t.price ?? 0) > 0)).toBe(true);
      // the SDK took its subscription state from the simulator's echo
      expect(sdk.getSubscriptions()).toMatchObject({
        quotes: ['AAPL', 'MSFT'],
        trades: ['AAPL', 'MSFT'],
      });

      sdk.disconnect();
      stream = undefined;
      await until(() => s.connections().length === 0, 'the SDK socket closed');
    },
  );

  it('surfaces the simulator refusing its keys as an auth failure', async () => {
    const s = await startSimulator({ key: 'PKTEST', secret: 'SECRET' });
    simulator = s;
    const sdk = new streaming.StockDataStream({
      credentials: { keyId: 'PKTEST', secret: 'WRONG' },
      url: s.urlFor('iex'),
      reconnect: false,
    });
    stream = sdk;
    sdk.connect();
    const result = await sdk.waitForAuthenticationResult(5000);
    expect(result).toMatchObject({ authenticated: false });
    expect(s.stats().errorsSent['402']).toBe(1);
  });
});
