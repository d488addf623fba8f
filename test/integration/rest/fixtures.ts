/**
 * What the REST integration tests share: Alpaca-shaped bodies, and a client pointed at a scripted
 * server with a virtual clock, a fixed jitter draw and test credentials.
 */
import { AlpacaRest, type AlpacaRestOptions } from '../../../electron/rest/alpaca-rest.ts';
import { VirtualClock } from '../../support/virtual-clock.ts';
import type { ScriptedHttpServer } from '../../support/scripted-http.ts';

export const KEY_ID = 'PKTESTKEYID0000001';
export const SECRET = 'sEcReT-0123456789abcdef';

export const CLOCK_BODY = {
  timestamp: '2024-05-01T10:43:12.123456789-04:00',
  is_open: true,
  next_open: '2024-05-02T09:30:00-04:00',
  next_close: '2024-05-01T16:00:00-04:00',
};

export function bar(t: string, close = 100): Record<string, unknown> {
  return { t, o: close - 1, h: close + 1, l: close - 2, c: close, v: 1000, n: 10, vw: close };
}

export function snapshotOf(symbol: string, price = 100): Record<string, unknown> {
  return {
    latestTrade: { t: '2024-05-01T14:00:00.5Z', x: 'V', p: price, s: 100, c: ['@'], i: 1, z: 'C' },
    latestQuote: {
      t: '2024-05-01T14:00:00.6Z',
      bx: 'V',
      bp: price - 0.01,
      bs: 1,
      ax: 'V',
      ap: price + 0.01,
      as: 2,
      c: ['R'],
      z: 'C',
    },
    dailyBar: bar('2024-05-01T04:00:00Z', price),
    prevDailyBar: bar('2024-04-30T04:00:00Z', price - 1),
    symbolEcho: symbol,
  };
}

export function assetOf(symbol: string): Record<string, unknown> {
  return {
    id: `id-${symbol}`,
    class: 'us_equity',
    exchange: 'NASDAQ',
    symbol,
    name: `${symbol} Inc.`,
    status: 'active',
    tradable: true,
    marginable: true,
    shortable: true,
    fractionable: true,
    attributes: [],
  };
}

export interface TestClient {
  readonly rest: AlpacaRest;
  readonly clock: VirtualClock;
}

export function clientFor(
  server: ScriptedHttpServer,
  options: AlpacaRestOptions = {},
  clock = new VirtualClock(),
): TestClient {
  const rest = new AlpacaRest({
    dataUrl: server.url,
    tradingUrl: server.url,
    keyId: KEY_ID,
    secret: SECRET,
    clock,
    random: () => 0.5,
    timeoutMs: 2_000,
    ...options,
  });
  return { rest, clock };
}
