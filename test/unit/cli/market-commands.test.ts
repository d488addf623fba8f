/**
 * The market-context commands' pure parts: argument checks (each a UsageError, so exit 2), the
 * output lines, where `stream` sends REST, and the REST client's `total` that `bars --limit` rides
 * on (against a scripted server on loopback: it must stop asking for pages once it has enough).
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { MarketView } from '../../../shared/api.ts';
import { nyLocalToEpoch } from '../../../shared/market-session.ts';
import { UsageError } from '../../../electron/cli/args.ts';
import { barRecord, parseBarsArgs } from '../../../electron/cli/bars-command.ts';
import { parseClockArgs } from '../../../electron/cli/clock-command.ts';
import { parseInstant, restBaseUrl } from '../../../electron/cli/rest-target.ts';
import { parseSnapshotArgs, snapshotRecord } from '../../../electron/cli/snapshot-command.ts';
import {
  ALPACA_REST,
  feedOfUrl,
  marketRecord,
  parseStreamArgs,
  restBaseForStream,
} from '../../../electron/cli/stream-command.ts';
import { AlpacaRest } from '../../../electron/rest/alpaca-rest.ts';
import type { RestBar, SymbolSnapshot } from '../../../electron/rest/types.ts';

const NO_ENV: NodeJS.ProcessEnv = {};

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    // node:util's own errors for unknown flags are usage errors too (the CLI maps them).
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) return String(err);
    throw err;
  }
  throw new Error('expected a usage error');
}

describe('argument checks', () => {
  it.each([
    [() => parseSnapshotArgs([], NO_ENV), /--symbols is required/],
    [() => parseSnapshotArgs(['--symbols', ' , '], NO_ENV), /at least one symbol/],
    [() => parseSnapshotArgs(['--symbols', '*'], NO_ENV), /\* is stream-only/],
    [() => parseSnapshotArgs(['--symbols', 'A', '--feed', 'crypto'], NO_ENV), /--feed must be/],
    [() => parseSnapshotArgs(['--symbols', 'A', '--key', 'k'], NO_ENV), /both a key and a secret/],
    [() => parseClockArgs(['--url', 'ftp://h'], NO_ENV), /--url must be an http/],
    [() => parseClockArgs(['--url', 'http://h/?x=1'], NO_ENV), /without a query/],
    [() => parseClockArgs(['--log-level', 'loud'], NO_ENV), /--log-level must be one of/],
    [() => parseClockArgs(['extra'], NO_ENV), /Unexpected argument/],
    [() => parseBarsArgs(['--timeframe', '1Min'], NO_ENV), /--symbols is required/],
    [() => parseBarsArgs(['--symbols', 'A', '--timeframe', '2Min'], NO_ENV), /--timeframe must/],
    [() => parseBarsArgs(['--symbols', 'A', '--start', '2025-02-30'], NO_ENV), /--start must/],
    [() => parseBarsArgs(['--symbols', 'A', '--end', '2025-03-07T10:00'], NO_ENV), /--end must/],
    [() => parseBarsArgs(['--symbols', 'A', '--start', 'today'], NO_ENV), /--start must/],
    [
      () =>
        parseBarsArgs(['--symbols', 'A', '--start', '2025-03-07', '--end', '2025-03-06'], NO_ENV),
      /--end is before --start/,
    ],
    [() => parseBarsArgs(['--symbols', 'A', '--limit', '0'], NO_ENV), /--limit must be a whole/],
    [() => parseBarsArgs(['--symbols', 'A', '--limit', '1.5'], NO_ENV), /--limit must be a whole/],
    [() => parseBarsArgs(['--symbols', 'A', '--page-size', '10001'], NO_ENV), /at most 10000/],
    [() => parseStreamArgs(['--stale-after', 'soon'], NO_ENV), /--stale-after must be/],
  ])('%#: %s', (fn, message) => {
    expect(usage(fn)).toMatch(message);
  });

  it('reads keys from the environment as stream does, an empty variable as unset', () => {
    const env = { APCA_API_KEY_ID: 'k', APCA_API_SECRET_KEY: 's' };
    expect(parseClockArgs([], env)).toMatchObject({ key: 'k', secret: 's', url: undefined });
    expect(parseClockArgs(['--key', 'a', '--secret', 'b'], env)).toMatchObject({
      key: 'a',
      secret: 'b',
    });
    expect(parseClockArgs([], { APCA_API_KEY_ID: '', APCA_API_SECRET_KEY: '' })).toMatchObject({
      key: undefined,
      secret: undefined,
    });
  });

  it('bars: symbols upper-cased and de-duplicated; 1Min by default; dates are New York days', () => {
    const plan = parseBarsArgs(
      ['--symbols', 'aapl,btc/usd,AAPL', '--start', '2025-03-07', '--end', '2025-03-07'],
      NO_ENV,
    );
    expect(plan.symbols).toEqual(['AAPL', 'BTC/USD']);
    expect(plan.timeframe).toBe('1Min');
    expect(plan.start).toBe(Date.parse('2025-03-07T05:00:00Z'));
    // --end of a date includes that whole day.
    expect(plan.end).toBe(Date.parse('2025-03-08T04:59:59.999Z'));
  });
});

describe('parseInstant and restBaseUrl', () => {
  it('takes a date (New York) or a time with a zone, nothing looser', () => {
    // Summer: New York is UTC-4.
    expect(parseInstant('--start', '2025-07-01')).toBe(nyLocalToEpoch('2025-07-01', '00:00'));
    expect(parseInstant('--start', '2025-07-01')).toBe(Date.parse('2025-07-01T04:00:00Z'));
    expect(parseInstant('--start', '2025-07-01T13:30:00Z')).toBe(
      Date.parse('2025-07-01T13:30:00Z'),
    );
    expect(parseInstant('--start', '2025-07-01T09:30-04:00')).toBe(
      Date.parse('2025-07-01T13:30:00Z'),
    );
    expect(parseInstant('--start', '2025-07-01T13:30:00.123456789Z')).toBe(
      Date.parse('2025-07-01T13:30:00.123Z'),
    );
    expect(parseInstant('--start', undefined)).toBeUndefined();
    for (const bad of ['2025-7-1', '2025-07-01 13:30Z', '2025-07-01T25:00Z', '1751376600000', ''])
      expect(() => parseInstant('--start', bad)).toThrow(UsageError);
  });

  it('a REST base: http(s) as given (trailing slash off), ws(s) as its host over http(s)', () => {
    expect(restBaseUrl('--url', 'http://127.0.0.1:8080/')).toBe('http://127.0.0.1:8080');
    expect(restBaseUrl('--url', 'https://relay.example/alpaca/')).toBe(
      'https://relay.example/alpaca',
    );
    expect(restBaseUrl('--url', 'ws://127.0.0.1:8080/v2/iex')).toBe('http://127.0.0.1:8080');
    expect(restBaseUrl('--url', 'wss://relay.example/v2/sip')).toBe('https://relay.example');
  });

  it('stream: Alpaca stream host -> Alpaca REST hosts; any other -> the same host', () => {
    expect(restBaseForStream('wss://stream.data.alpaca.markets/v2/iex')).toBe(ALPACA_REST);
    expect(restBaseForStream('ws://127.0.0.1:9/v2/iex')).toBe('http://127.0.0.1:9');
    expect(restBaseForStream('wss://relay.example:444/v1beta3/crypto/us')).toBe(
      'https://relay.example:444',
    );
    expect(feedOfUrl('ws://h/v2/sip', 'iex')).toBe('sip');
    expect(feedOfUrl('ws://h/v1beta3/crypto/us/', 'iex')).toBe('crypto');
    expect(feedOfUrl('ws://h/other', 'iex')).toBe('iex');
  });
});

describe('output lines', () => {
  const bar = (time: number, close: number): RestBar => ({
    time,
    open: close - 1,
    high: close + 1,
    low: close - 2,
    close,
    volume: 1000,
    tradeCount: undefined,
    vwap: undefined,
  });

  it('snapshot: change against the previous close, in percent, without float noise', () => {
    const snap: SymbolSnapshot = {
      symbol: 'AAPL',
      latestTrade: {
        time: 1_700_000_000_000,
        price: 189.12,
        size: 5,
        exchange: 'V',
        conditions: [],
      },
      latestQuote: {
        time: 1_700_000_000_000,
        bidPrice: 189.1,
        bidSize: 1,
        askPrice: 0,
        askSize: 0,
        bidExchange: 'V',
        askExchange: undefined,
      },
      minuteBar: undefined,
      dailyBar: bar(1_699_990_000_000, 189),
      prevDailyBar: bar(1_699_900_000_000, 187.5),
    };
    expect(snapshotRecord(snap)).toEqual({
      type: 'snapshot',
      symbol: 'AAPL',
      last: 189.12,
      lastTime: new Date(1_700_000_000_000).toISOString(),
      bid: 189.1,
      // 0 is Alpaca's "no ask".
      ask: null,
      prevClose: 187.5,
      change: 1.62,
      changePercent: 0.864,
      open: 188,
      high: 190,
      low: 187,
      volume: 1000,
    });
  });

  it('snapshot: null where unknown, never a made-up change', () => {
    const record = snapshotRecord({
      symbol: 'NEW',
      latestTrade: undefined,
      latestQuote: undefined,
      minuteBar: undefined,
      dailyBar: undefined,
      prevDailyBar: bar(1, 10),
    });
    // Everything but the previous close: ten of the eleven values.
    expect(record).toMatchObject({ last: null, lastTime: null, prevClose: 10, change: null });
    expect(Object.values(record).filter((v) => v === null)).toHaveLength(10);
  });

  it('bar and market lines: ISO times, null where unknown', () => {
    expect(barRecord('MSFT', bar(Date.parse('2025-03-07T14:30:00Z'), 400))).toEqual({
      type: 'bar',
      symbol: 'MSFT',
      time: '2025-03-07T14:30:00.000Z',
      open: 399,
      high: 401,
      low: 398,
      close: 400,
      volume: 1000,
    });
    const view: MarketView = {
      session: 'closed',
      since: Date.parse('2025-03-07T01:00:00Z'),
      until: undefined,
      nextOpen: Date.parse('2025-03-10T13:30:00Z'),
      nextClose: undefined,
      feed: 'iex',
      crypto: false,
      quiet: true,
      detail: undefined,
      polled: 0,
      pollIntervalMs: 5000,
      directory: { status: 'unavailable', assets: 0, fetchedAt: undefined },
    };
    expect(marketRecord(view)).toEqual({
      type: 'market',
      session: 'closed',
      since: '2025-03-07T01:00:00.000Z',
      until: null,
      nextOpen: '2025-03-10T13:30:00.000Z',
      nextClose: null,
      feed: 'iex',
      quiet: true,
    });
  });
});

describe('AlpacaRest bars total (bars --limit)', () => {
  it('stops asking for pages once it has the total, and keeps the first ones in order', async () => {
    // A scripted server: 3 bars a page of AAA then BBB, 10 each, tokens to the end.
    const all = [
      ...Array.from({ length: 10 }, (_, i) => ['AAA', i] as const),
      ...Array.from({ length: 10 }, (_, i) => ['BBB', i] as const),
    ];
    const limits: string[] = [];
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      limits.push(url.searchParams.get('limit') ?? '');
      const from = Number(url.searchParams.get('page_token') ?? '0');
      const size = Number(url.searchParams.get('limit'));
      const page = all.slice(from, from + size);
      const bars: Record<string, unknown[]> = {};
      for (const [symbol, i] of page)
        (bars[symbol] ??= []).push({
          t: new Date(Date.UTC(2025, 2, 7, 15, i)).toISOString(),
          o: 1,
          h: 1,
          l: 1,
          c: i,
          v: 1,
        });
      const next = from + size < all.length ? String(from + size) : null;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ bars, next_page_token: next }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const rest = new AlpacaRest({ dataUrl: base, tradingUrl: base });
    try {
      const capped = await rest.bars(['AAA', 'BBB'], {
        timeframe: '1Min',
        start: 0,
        limit: 3,
        total: 11,
      });
      // 11 bars: 4 pages of 3, the last cut to 2; the fifth page is never asked for.
      expect(limits).toEqual(['3', '3', '3', '3']);
      expect(capped.get('AAA')?.map((b) => b.close)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(capped.get('BBB')?.map((b) => b.close)).toEqual([0]);

      limits.length = 0;
      const small = await rest.bars(['AAA', 'BBB'], { timeframe: '1Min', start: 0, total: 2 });
      // Without a page size, the total is it: one request.
      expect(limits).toEqual(['2']);
      expect(small.get('AAA')).toHaveLength(2);
      expect(small.has('BBB')).toBe(false);

      limits.length = 0;
      const whole = await rest.bars(['AAA', 'BBB'], { timeframe: '1Min', start: 0, limit: 7 });
      expect(limits).toHaveLength(3);
      expect([...whole.values()].flat()).toHaveLength(20);
      await expect(
        rest.bars(['AAA'], { timeframe: '1Min', start: 0, total: 0 }),
      ).rejects.toMatchObject({ code: 'bad-request' });
    } finally {
      rest.close();
      server.close();
    }
  });
});
