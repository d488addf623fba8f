import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  ChartBars,
  type BarsRequestOptions,
  type FetchBars,
} from '../../../electron/market/chart-bars.ts';
import type { RestBar } from '../../../electron/rest/types.ts';
import { waitFor } from '../../support/wait.ts';

const MIN = 60_000;
const T = Date.parse('2025-03-10T13:30:00Z');

function bar(time: number, close: number): RestBar {
  return {
    time,
    open: close,
    high: close + 1,
    low: close - 1,
    close,
    volume: 10,
    tradeCount: 1,
    vwap: close,
  };
}

interface Call {
  readonly symbols: readonly string[];
  readonly options: BarsRequestOptions;
  resolve(bars: Map<string, RestBar[]>): void;
  reject(err: Error): void;
}

/** A fetchBars whose answers the test gives by hand, recording every call. */
function manualFetch() {
  const calls: Call[] = [];
  const fetchBars: FetchBars = (symbols, options) =>
    new Promise((resolve, reject) => calls.push({ symbols, options, resolve, reject }));
  return { calls, fetchBars };
}

/** A fetchBars answering at once from generated data: one bar a step over the range. */
function dataFetch(stepMs = MIN) {
  let count = 0;
  const fetchBars: FetchBars = (symbols, { start, end }) => {
    count++;
    const out = new Map<string, RestBar[]>();
    for (const symbol of symbols) {
      const list: RestBar[] = [];
      // Deliberately out of order and one bar past the end: the cache sorts and trims.
      for (let t = end; t >= start; t -= stepMs) list.push(bar(t, t / 1e9));
      out.set(symbol, list);
    }
    return Promise.resolve(out);
  };
  return { fetchBars, count: () => count };
}

describe('ChartBars', () => {
  it('fetches a range once, sorted and trimmed to it, then answers from the cache', async () => {
    const data = dataFetch();
    const cache = new ChartBars({ fetchBars: data.fetchBars, now: () => T + 3_600_000 });
    const query = { symbol: 'aapl', timeframe: '1Min' as const, start: T, end: T + 5 * MIN };
    const bars = await cache.get(query);
    expect(bars.map((b) => b.time)).toEqual([0, 1, 2, 3, 4].map((i) => T + i * MIN));
    expect(Object.isFrozen(bars)).toBe(true);
    expect(await cache.get({ ...query, symbol: 'AAPL' })).toBe(bars);
    expect(data.count()).toBe(1);
    expect(cache.requests).toBe(1);
    await cache.get({ ...query, timeframe: '5Min' });
    await cache.get({ ...query, end: T + 6 * MIN });
    expect(data.count()).toBe(3);
    expect(cache.size).toBe(3);
  });

  it('asks fetchBars for the one symbol, the timeframe and the range', async () => {
    const manual = manualFetch();
    const cache = new ChartBars({ fetchBars: manual.fetchBars });
    const pending = cache.get({
      symbol: 'MSFT',
      timeframe: '1Hour',
      start: T,
      end: T + 8 * 3_600_000,
    });
    expect(manual.calls).toHaveLength(1);
    const call = manual.calls[0]!;
    expect(call.symbols).toEqual(['MSFT']);
    expect(call.options).toMatchObject({ timeframe: '1Hour', start: T, end: T + 8 * 3_600_000 });
    expect(call.options.signal).toBeInstanceOf(AbortSignal);
    call.resolve(new Map());
    expect(await pending).toEqual([]);
  });

  it('evicts the least recently used range beyond its capacity', async () => {
    const data = dataFetch();
    const cache = new ChartBars({
      fetchBars: data.fetchBars,
      capacity: 2,
      now: () => T + 86_400_000,
    });
    const q = (symbol: string) => ({
      symbol,
      timeframe: '1Day' as const,
      start: T - 30 * 86_400_000,
      end: T,
    });
    await cache.get(q('A'));
    await cache.get(q('B'));
    await cache.get(q('A')); // A is now the most recent
    await cache.get(q('C')); // evicts B
    expect(data.count()).toBe(3);
    expect(cache.size).toBe(2);
    await cache.get(q('A'));
    expect(data.count()).toBe(3);
    await cache.get(q('B'));
    expect(data.count()).toBe(4);
  });

  it('shares one request between callers asking for the same range meanwhile', async () => {
    const manual = manualFetch();
    const cache = new ChartBars({ fetchBars: manual.fetchBars });
    const query = { symbol: 'NVDA', timeframe: '5Min' as const, start: T, end: T + 30 * MIN };
    const a = cache.get(query);
    const b = cache.get(query);
    expect(manual.calls).toHaveLength(1);
    manual.calls[0]!.resolve(new Map([['NVDA', [bar(T, 1)]]]));
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra).toBe(rb);
    expect(ra).toHaveLength(1);
  });

  it('caches nothing when the fetch fails, and every waiter gets the error', async () => {
    const manual = manualFetch();
    const cache = new ChartBars({ fetchBars: manual.fetchBars });
    const query = { symbol: 'NVDA', timeframe: '1Min' as const, start: T, end: T + MIN };
    const a = cache.get(query);
    const b = cache.get(query);
    manual.calls[0]!.reject(new Error('rate-limited'));
    await expect(a).rejects.toThrow('rate-limited');
    await expect(b).rejects.toThrow('rate-limited');
    expect(cache.size).toBe(0);
    const c = cache.get(query);
    expect(manual.calls).toHaveLength(2);
    manual.calls[1]!.resolve(new Map([['NVDA', [bar(T, 2)]]]));
    expect(await c).toHaveLength(1);
  });

  it('turns a fetch function that throws synchronously into a rejection', async () => {
    const cache = new ChartBars({
      fetchBars: () => {
        throw new Error('no keys');
      },
    });
    await expect(
      cache.get({ symbol: 'A', timeframe: '1Min', start: T, end: T + MIN }),
    ).rejects.toThrow('no keys');
  });

  it('lets one caller leave without cancelling the request the others wait for', async () => {
    const manual = manualFetch();
    const cache = new ChartBars({ fetchBars: manual.fetchBars });
    const query = { symbol: 'TSLA', timeframe: '1Min' as const, start: T, end: T + MIN };
    const leaving = new AbortController();
    const a = cache.get({ ...query, signal: leaving.signal });
    const b = cache.get(query);
    leaving.abort(new Error('view closed'));
    await expect(a).rejects.toThrow('view closed');
    expect(manual.calls[0]!.options.signal?.aborted).toBe(false);
    manual.calls[0]!.resolve(new Map([['TSLA', [bar(T, 3)]]]));
    expect(await b).toHaveLength(1);
  });

  it('cancels the request when every caller has left, and starts afresh for the next', async () => {
    const manual = manualFetch();
    const cache = new ChartBars({ fetchBars: manual.fetchBars });
    const query = { symbol: 'TSLA', timeframe: '1Min' as const, start: T, end: T + MIN };
    const one = new AbortController();
    const two = new AbortController();
    const a = cache.get({ ...query, signal: one.signal });
    const b = cache.get({ ...query, signal: two.signal });
    one.abort();
    expect(manual.calls[0]!.options.signal?.aborted).toBe(false);
    two.abort();
    expect(manual.calls[0]!.options.signal?.aborted).toBe(true);
    await expect(a).rejects.toMatchObject({ name: 'AbortError' });
    await expect(b).rejects.toMatchObject({ name: 'AbortError' });
    const c = cache.get(query);
    expect(manual.calls).toHaveLength(2);
    // The cancelled request settling late must not disturb the new one.
    manual.calls[0]!.reject(new Error('aborted'));
    manual.calls[1]!.resolve(new Map([['TSLA', [bar(T, 4)]]]));
    expect(await c).toHaveLength(1);
    expect(cache.size).toBe(1);
  });

  it('rejects at once for a signal already aborted, without a request', async () => {
    const manual = manualFetch();
    const cache = new ChartBars({ fetchBars: manual.fetchBars });
    await expect(
      cache.get({
        symbol: 'A',
        timeframe: '1Min',
        start: T,
        end: T + MIN,
        signal: AbortSignal.abort(),
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(manual.calls).toHaveLength(0);
  });

  it('reuses a range still growing for liveTtlMs only; a past range for good', async () => {
    let now = T + 10 * MIN;
    const data = dataFetch();
    const cache = new ChartBars({ fetchBars: data.fetchBars, liveTtlMs: 30_000, now: () => now });
    const today = { symbol: 'AAPL', timeframe: '1Min' as const, start: T, end: T + 390 * MIN };
    const past = {
      symbol: 'AAPL',
      timeframe: '1Min' as const,
      start: T - 86_400_000,
      end: T - 86_400_000 + 390 * MIN,
    };
    await cache.get(today);
    await cache.get(past);
    now += 29_000;
    await cache.get(today);
    expect(data.count()).toBe(2);
    now += 2_000;
    await cache.get(today);
    await cache.get(past);
    expect(data.count()).toBe(3);
    now += 86_400_000;
    await cache.get(past);
    expect(data.count()).toBe(3);
  });

  it('forgets a symbol on invalidate', async () => {
    const data = dataFetch();
    const cache = new ChartBars({ fetchBars: data.fetchBars, now: () => T + 86_400_000 });
    const q = (symbol: string) => ({
      symbol,
      timeframe: '1Day' as const,
      start: T - 86_400_000,
      end: T,
    });
    await cache.get(q('A'));
    await cache.get(q('AB'));
    cache.invalidate('a');
    expect(cache.size).toBe(1);
    await cache.get(q('AB'));
    expect(data.count()).toBe(2);
    cache.invalidate();
    expect(cache.size).toBe(0);
  });

  it('refuses a bad query with a clear error and no request', async () => {
    const manual = manualFetch();
    const cache = new ChartBars({ fetchBars: manual.fetchBars });
    const ok = { symbol: 'A', timeframe: '1Min' as const, start: T, end: T + MIN };
    await expect(cache.get({ ...ok, symbol: '  ' })).rejects.toThrow(RangeError);
    await expect(cache.get({ ...ok, end: T })).rejects.toThrow('start before the end');
    await expect(cache.get({ ...ok, start: Number.NaN })).rejects.toThrow('epoch ms');
    await expect(cache.get({ ...ok, timeframe: '2Min' as never })).rejects.toThrow(
      'unknown timeframe 2Min',
    );
    expect(manual.calls).toHaveLength(0);
    expect(() => new ChartBars({ fetchBars: manual.fetchBars, capacity: 0 })).toThrow(RangeError);
  });

  it('cancels the HTTP request on a real loopback server when its only caller leaves', async () => {
    const requests: IncomingMessage[] = [];
    let closed = 0;
    const server: Server = createServer((req) => {
      // Never answers: the test cancels.
      requests.push(req);
      req.socket.on('close', () => closed++);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const fetchBars: FetchBars = async (symbols, { timeframe, start, end, signal }) => {
        const url =
          `http://127.0.0.1:${port}/v2/stocks/bars?symbols=${symbols.join(',')}` +
          `&timeframe=${timeframe}&start=${new Date(start).toISOString()}&end=${new Date(end).toISOString()}`;
        const res = await fetch(url, signal ? { signal } : {});
        const body = (await res.json()) as { bars: Record<string, RestBar[]> };
        return new Map(Object.entries(body.bars));
      };
      const cache = new ChartBars({ fetchBars });
      const leaving = new AbortController();
      const pending = cache.get({
        symbol: 'AAPL',
        timeframe: '1Min',
        start: T,
        end: T + MIN,
        signal: leaving.signal,
      });
      await waitFor(() => requests.length === 1, { what: 'the request' });
      expect(requests[0]!.url).toContain('symbols=AAPL&timeframe=1Min');
      leaving.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
      await waitFor(() => closed === 1, { what: 'the server to see the request dropped' });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
