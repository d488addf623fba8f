/**
 * AlpacaRest's endpoints against a real HTTP server: the requests they send (paths, queries,
 * chunks, page tokens), the domain values they return, and the rate limit seen from the wire.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RestError } from '../../../electron/rest/errors.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';
import {
  sendJson,
  startHttpServer,
  type Hit,
  type HttpScript,
  type ScriptedHttpServer,
} from '../../support/scripted-http.ts';
import { VirtualClock } from '../../support/virtual-clock.ts';
import { CLOCK_BODY, assetOf, bar, clientFor, snapshotOf, type TestClient } from './fixtures.ts';

let server: ScriptedHttpServer | undefined;
let client: TestClient | undefined;

afterEach(async () => {
  client?.rest.close();
  client = undefined;
  await server?.close();
  server = undefined;
});

async function setup(
  script: HttpScript,
  options: Parameters<typeof clientFor>[1] = {},
  clock?: VirtualClock,
): Promise<TestClient & { server: ScriptedHttpServer }> {
  server = await startHttpServer(script);
  client = clientFor(server, options, clock);
  return { ...client, server };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (err) {
    return err instanceof RestError ? err.code : `not a RestError: ${String(err)}`;
  }
}

/** The `symbols` a request asked for, as the server decodes them. */
function symbolsOf(hit: Hit): string[] {
  return (hit.query.get('symbols') ?? '').split(',').filter((s) => s !== '');
}

/** The query part of the raw URL as sent. */
function queryLength(hit: Hit): number {
  const at = hit.url.indexOf('?');
  return at < 0 ? 0 : hit.url.length - at - 1;
}

describe('snapshots', () => {
  it('stocks: a bare map; absent symbols absent; feed passed on', async () => {
    const { rest, server } = await setup((hit, res) => {
      const body: Record<string, unknown> = {};
      for (const s of symbolsOf(hit)) if (s !== 'NODATA') body[s] = snapshotOf(s, 187.5);
      sendJson(res, 200, body);
    });
    const result = await rest.stockSnapshots(['AAPL', 'NODATA', 'MSFT', 'AAPL'], { feed: 'iex' });
    expect([...result.keys()]).toEqual(['AAPL', 'MSFT']);
    expect(result.get('AAPL')).toMatchObject({
      symbol: 'AAPL',
      latestTrade: {
        price: 187.5,
        size: 100,
        exchange: 'V',
        time: Date.UTC(2024, 4, 1, 14, 0, 0, 500),
      },
      latestQuote: { bidPrice: 187.49, askPrice: 187.51, bidSize: 1, askSize: 2 },
      dailyBar: { close: 187.5, time: Date.UTC(2024, 4, 1, 4) },
      prevDailyBar: { close: 186.5 },
      minuteBar: undefined,
    });
    expect(server.hits).toHaveLength(1);
    expect(server.hits[0]?.path).toBe('/v2/stocks/snapshots');
    // Repeats dropped, order kept; commas bare.
    expect(server.hits[0]?.url).toBe('/v2/stocks/snapshots?symbols=AAPL,NODATA,MSFT&feed=iex');
  });

  it('crypto: wrapped in "snapshots", the slash encoded', async () => {
    const { rest, server } = await setup((hit, res) => {
      const snapshots: Record<string, unknown> = {};
      for (const s of symbolsOf(hit)) snapshots[s] = snapshotOf(s, 60_000);
      sendJson(res, 200, { snapshots });
    });
    const result = await rest.cryptoSnapshots(['BTC/USD', 'ETH/USD']);
    expect([...result.keys()]).toEqual(['BTC/USD', 'ETH/USD']);
    expect(result.get('BTC/USD')?.latestTrade?.price).toBe(60_000);
    expect(server.hits[0]?.url).toBe('/v1beta3/crypto/us/snapshots?symbols=BTC%2FUSD,ETH%2FUSD');
  });

  it('skips a malformed symbol, counts it and says so in the log', async () => {
    const ring = new LogRing();
    const { rest } = await setup(
      (_hit, res) =>
        sendJson(res, 200, {
          AAPL: snapshotOf('AAPL'),
          BAD: { latestTrade: { t: '2024-05-01T14:00:00Z', p: 'NaN', s: 1 } },
        }),
      { logger: ringLogger(ring, 'debug') },
    );
    const result = await rest.stockSnapshots(['AAPL', 'BAD']);
    expect([...result.keys()]).toEqual(['AAPL']);
    expect(rest.metrics().skipped).toBe(1);
    const warn = ring.records().find((r) => r.msg === 'REST: skipped malformed items');
    expect(warn).toMatchObject({ module: 'rest', skipped: 1 });
    expect(String(warn?.first)).toMatch(/^BAD\.latestTrade\.p:/);
  });

  it('an empty list asks nothing; a bad symbol is refused before anything is sent', async () => {
    const { rest, server } = await setup((_hit, res) => sendJson(res, 200, {}));
    expect((await rest.stockSnapshots([])).size).toBe(0);
    expect(await codeOf(rest.stockSnapshots(['AAPL', 'A,B']))).toBe('bad-request');
    expect(await codeOf(rest.stockSnapshots(['AAPL', ' ']))).toBe('bad-request');
    expect(await codeOf(rest.cryptoSnapshots([7 as unknown as string]))).toBe('bad-request');
    expect(server.hits).toHaveLength(0);
  });

  it('10,000 symbols: 50 requests of at most 200, every symbol once, all results merged', async () => {
    const symbols = Array.from({ length: 10_000 }, (_, i) => `S${String(i).padStart(4, '0')}`);
    let inFlight = 0;
    let mostInFlight = 0;
    const { rest, server } = await setup(async (hit, res) => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      const body: Record<string, unknown> = {};
      for (const s of symbolsOf(hit)) body[s] = snapshotOf(s);
      inFlight--;
      sendJson(res, 200, body);
    });
    const result = await rest.stockSnapshots(symbols);
    expect(result.size).toBe(10_000);
    expect(server.hits).toHaveLength(50);
    expect(server.hits.every((h) => symbolsOf(h).length <= 200)).toBe(true);
    expect(server.hits.flatMap(symbolsOf).sort()).toEqual(symbols);
    expect(mostInFlight).toBe(2);
    expect(rest.metrics().requests).toBe(50);
  });

  it('10,000 symbols with no count limit: chunked by URL length instead', async () => {
    const symbols = Array.from({ length: 10_000 }, (_, i) => `SYM${String(i).padStart(5, '0')}`);
    const { rest, server } = await setup(
      (hit, res) => {
        const body: Record<string, unknown> = {};
        for (const s of symbolsOf(hit)) body[s] = snapshotOf(s);
        sendJson(res, 200, body);
      },
      { maxSymbolsPerRequest: 10_000 },
    );
    const result = await rest.stockSnapshots(symbols, { feed: 'sip' });
    expect(result.size).toBe(10_000);
    expect(server.hits.length).toBeGreaterThan(10);
    expect(Math.max(...server.hits.map(queryLength))).toBeLessThanOrEqual(7_000);
    // Not needlessly small either: all but the last chunk are within a symbol of the bound.
    expect(Math.min(...server.hits.slice(0, -1).map(queryLength))).toBeGreaterThan(7_000 - 10);
    expect(server.hits.flatMap(symbolsOf).sort()).toEqual(symbols);
  });

  it('one failing chunk fails the whole call: no partial map', async () => {
    const { rest, server } = await setup(
      (hit, res) => {
        const list = symbolsOf(hit);
        if (list.includes('C')) return sendJson(res, 404, { message: 'no such thing' });
        const body: Record<string, unknown> = {};
        for (const s of list) body[s] = snapshotOf(s);
        sendJson(res, 200, body);
      },
      { maxSymbolsPerRequest: 1 },
    );
    expect(await codeOf(rest.stockSnapshots(['A', 'B', 'C', 'D', 'E', 'F']))).toBe('not-found');
    // The chunks after the failure were not sent.
    expect(server.hits.length).toBeLessThan(6);
  });
});

describe('bars', () => {
  const start = Date.UTC(2024, 4, 1, 13, 30);

  it('follows next_page_token across 3 pages and merges each symbol’s bars in order', async () => {
    const pages: Record<string, unknown>[] = [
      {
        bars: {
          AAPL: [bar('2024-05-01T13:30:00Z', 170), bar('2024-05-01T13:31:00Z', 171)],
        },
        next_page_token: 'QUFQTHwy',
      },
      {
        bars: {
          AAPL: [bar('2024-05-01T13:32:00Z', 172)],
          MSFT: [bar('2024-05-01T13:30:00Z', 400)],
        },
        next_page_token: 'TVNGVHwz',
      },
      { bars: { MSFT: [bar('2024-05-01T13:31:00Z', 401)] }, next_page_token: null },
    ];
    const { rest, server } = await setup((hit, res) => sendJson(res, 200, pages[hit.index]));
    const result = await rest.bars(['AAPL', 'MSFT'], {
      timeframe: '1Min',
      start,
      end: new Date(start + 3 * 60_000),
      limit: 3,
      feed: 'iex',
    });
    expect(result.get('AAPL')?.map((b) => b.close)).toEqual([170, 171, 172]);
    expect(result.get('MSFT')?.map((b) => [b.time, b.close])).toEqual([
      [start, 400],
      [start + 60_000, 401],
    ]);
    expect(server.hits.map((h) => h.query.get('page_token'))).toEqual([
      null,
      'QUFQTHwy',
      'TVNGVHwz',
    ]);
    const q = server.hits[2]!.query;
    expect(server.hits[2]?.path).toBe('/v2/stocks/bars');
    expect(Object.fromEntries(q)).toEqual({
      symbols: 'AAPL,MSFT',
      timeframe: '1Min',
      start: '2024-05-01T13:30:00.000Z',
      end: '2024-05-01T13:33:00.000Z',
      limit: '3',
      feed: 'iex',
      page_token: 'TVNGVHwz',
    });
  });

  it('onPage: each page handed over as it comes, nothing gathered, total still cuts', async () => {
    const pages: Record<string, unknown>[] = [
      { bars: { AAPL: [bar('2024-05-01T13:30:00Z', 170)] }, next_page_token: 'cDI=' },
      {
        bars: {
          AAPL: [bar('2024-05-01T13:31:00Z', 171)],
          MSFT: [bar('2024-05-01T13:30:00Z', 400)],
        },
        next_page_token: 'cDM=',
      },
      { bars: { MSFT: [bar('2024-05-01T13:31:00Z', 401)] }, next_page_token: null },
    ];
    const { rest, server } = await setup((hit, res) => sendJson(res, 200, pages[hit.index]));
    const seen: [number, string, number[]][] = [];
    const result = await rest.bars(['AAPL', 'MSFT'], {
      timeframe: '1Min',
      start,
      onPage: (page) => {
        // Handed over while the next page is still to be asked for.
        for (const [symbol, list] of page)
          seen.push([server.hits.length, symbol, list.map((b) => b.close)]);
      },
    });
    expect(result.size).toBe(0);
    expect(seen).toEqual([
      [1, 'AAPL', [170]],
      [2, 'AAPL', [171]],
      [2, 'MSFT', [400]],
      [3, 'MSFT', [401]],
    ]);

    const cut: number[] = [];
    pages[3] = {
      bars: { AAPL: [bar('2024-05-01T13:30:00Z', 50), bar('2024-05-01T13:31:00Z', 51)] },
      next_page_token: 'cDI=',
    };
    const before = server.hits.length;
    const second = await rest.bars(['AAPL'], {
      timeframe: '1Min',
      start,
      total: 1,
      onPage: (page) => cut.push(...(page.get('AAPL') ?? []).map((b) => b.close)),
    });
    expect(second.size).toBe(0);
    expect(cut).toEqual([50]);
    expect(server.hits.length - before).toBe(1);
  });

  it('stops when a page token repeats, keeping what came', async () => {
    const ring = new LogRing();
    const { rest, server } = await setup(
      (hit, res) =>
        sendJson(res, 200, {
          bars: { AAPL: [bar(`2024-05-01T13:3${hit.index}:00Z`, 170 + hit.index)] },
          next_page_token: 'c2FtZQ==',
        }),
      { logger: ringLogger(ring, 'debug') },
    );
    const result = await rest.bars(['AAPL'], { timeframe: '1Min', start });
    expect(server.hits).toHaveLength(2);
    expect(result.get('AAPL')?.map((b) => b.close)).toEqual([170, 171]);
    expect(
      ring.records().find((r) => r.msg === 'REST bars: stopped following pages early'),
    ).toMatchObject({
      stop: 'repeated-token',
      pages: 2,
    });
  });

  it('crypto bars: their own path, no feed', async () => {
    const { rest, server } = await setup((_hit, res) =>
      sendJson(res, 200, {
        bars: { 'BTC/USD': [bar('2024-05-01T00:00:00Z', 60_000)] },
        next_page_token: null,
      }),
    );
    const result = await rest.bars(['BTC/USD'], {
      timeframe: '1Day',
      start,
      crypto: true,
      feed: 'iex',
    });
    expect(result.get('BTC/USD')?.[0]?.close).toBe(60_000);
    expect(server.hits[0]?.path).toBe('/v1beta3/crypto/us/bars');
    expect(server.hits[0]?.query.get('feed')).toBeNull();
    expect(server.hits[0]?.query.get('limit')).toBe('10000');
  });

  it('chunks symbols, paging each chunk, and merges the chunks', async () => {
    const { rest, server } = await setup(
      (hit, res) => {
        const list = symbolsOf(hit);
        const page = hit.query.get('page_token') === null ? 1 : 2;
        const bars: Record<string, unknown> = {};
        for (const s of list) bars[s] = [bar(`2024-05-01T13:3${page}:00Z`, 100 + page)];
        sendJson(res, 200, { bars, next_page_token: page === 1 ? `next-${list[0]}` : null });
      },
      { maxSymbolsPerRequest: 2 },
    );
    const result = await rest.bars(['A', 'B', 'C', 'D', 'E'], { timeframe: '5Min', start });
    expect(server.hits).toHaveLength(6);
    expect(
      server.hits.map((h) => `${h.query.get('symbols')}:${h.query.get('page_token')}`).sort(),
    ).toEqual(['A,B:next-A', 'A,B:null', 'C,D:next-C', 'C,D:null', 'E:next-E', 'E:null']);
    expect([...result.keys()].sort()).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(result.get('E')?.map((b) => b.close)).toEqual([101, 102]);
  });

  it('a page whose bars were all malformed is skipped over, not taken for the end', async () => {
    const { rest, server } = await setup((hit, res) => {
      if (hit.index === 0)
        return sendJson(res, 200, {
          bars: { AAPL: [{ t: 'x' }, { ...bar('2024-05-01T13:30:00Z'), v: -1 }] },
          next_page_token: 'p2',
        });
      sendJson(res, 200, {
        bars: { AAPL: [bar('2024-05-01T13:32:00Z', 123)] },
        next_page_token: null,
      });
    });
    const result = await rest.bars(['AAPL'], { timeframe: '1Min', start });
    expect(result.get('AAPL')?.map((b) => b.close)).toEqual([123]);
    expect(server.hits).toHaveLength(2);
    expect(rest.metrics().skipped).toBe(2);
  });

  it('a failure on a later page rejects the whole call', async () => {
    const { rest, server } = await setup((hit, res) => {
      if (hit.index === 0)
        return sendJson(res, 200, {
          bars: { AAPL: [bar('2024-05-01T13:30:00Z')] },
          next_page_token: 'p2',
        });
      sendJson(res, 200, { bars: { AAPL: 'oops' }, next_page_token: null });
    });
    expect(await codeOf(rest.bars(['AAPL'], { timeframe: '1Min', start }))).toBe('malformed');
    expect(server.hits).toHaveLength(2);
  });

  it('maxBars: past the cap the call rejects rather than returning a cut history', async () => {
    const { rest, server } = await setup((hit, res) =>
      sendJson(res, 200, {
        bars: { AAPL: [bar('2024-05-01T13:30:00Z'), bar('2024-05-01T13:31:00Z')] },
        next_page_token: `p${hit.index + 1}`,
      }),
    );
    let error: unknown;
    await rest.bars(['AAPL'], { timeframe: '1Min', start, maxBars: 5 }).catch((e: unknown) => {
      error = e;
    });
    expect(error).toBeInstanceOf(RestError);
    expect((error as RestError).code).toBe('bad-request');
    expect((error as RestError).message).toMatch(/more than maxBars \(5\)/);
    expect(server.hits).toHaveLength(3);
  });

  it('refuses bad options before sending anything', async () => {
    const { rest, server } = await setup((_hit, res) => sendJson(res, 200, { bars: {} }));
    const bad = [
      rest.bars(['AAPL'], { timeframe: '7Min' as '1Min', start }),
      rest.bars(['AAPL'], { timeframe: '1Min', start: Number.NaN }),
      rest.bars(['AAPL'], { timeframe: '1Min', start: new Date('garbage') }),
      rest.bars(['AAPL'], { timeframe: '1Min', start, limit: 0 }),
      rest.bars(['AAPL'], { timeframe: '1Min', start, limit: 10_001 }),
      rest.bars(['AAPL'], { timeframe: '1Min', start, maxBars: -1 }),
    ];
    expect(await Promise.all(bad.map(codeOf))).toEqual(Array(6).fill('bad-request'));
    expect(server.hits).toHaveLength(0);
  });
});

describe('trading host', () => {
  it('clock, calendar, asset and assets go to the trading URL with their queries', async () => {
    const trading = await startHttpServer((hit, res) => {
      if (hit.path === '/v2/clock') return sendJson(res, 200, CLOCK_BODY);
      if (hit.path === '/v2/calendar')
        return sendJson(res, 200, [
          {
            date: '2024-07-03',
            open: '09:30',
            close: '13:00',
            session_open: '0400',
            session_close: '2000',
          },
          {
            date: '2024-07-05',
            open: '09:30',
            close: '16:00',
            session_open: '0400',
            session_close: '2000',
          },
        ]);
      if (hit.path === '/v2/assets')
        return sendJson(res, 200, [assetOf('AAPL'), { symbol: 7 }, assetOf('MSFT')]);
      const symbol = decodeURIComponent(hit.path.slice('/v2/assets/'.length));
      sendJson(res, 200, {
        ...assetOf(symbol),
        class: symbol.includes('/') ? 'crypto' : 'us_equity',
      });
    });
    try {
      // The data server answers nothing right: nothing here may go to it.
      const { rest, server: data } = await setup((_hit, res) => sendJson(res, 500, {}), {
        tradingUrl: `${trading.url}/`,
      });
      expect(await rest.clock()).toEqual({
        time: Date.UTC(2024, 4, 1, 14, 43, 12, 123),
        isOpen: true,
        nextOpen: Date.UTC(2024, 4, 2, 13, 30),
        nextClose: Date.UTC(2024, 4, 1, 20),
      });
      const days = await rest.calendar({ start: '2024-07-03', end: '2024-07-05' });
      expect(days.map((d) => [d.date, d.close, d.sessionOpen, d.sessionClose])).toEqual([
        ['2024-07-03', '13:00', '04:00', '20:00'],
        ['2024-07-05', '16:00', '04:00', '20:00'],
      ]);
      expect((await rest.asset('BTC/USD')).assetClass).toBe('crypto');
      const all = await rest.assets();
      expect(all.map((a) => a.symbol)).toEqual(['AAPL', 'MSFT']);
      expect(rest.metrics().skipped).toBe(1);
      expect(trading.hits.map((h) => h.url)).toEqual([
        '/v2/clock',
        '/v2/calendar?start=2024-07-03&end=2024-07-05',
        '/v2/assets/BTC%2FUSD',
        '/v2/assets?status=active&asset_class=us_equity',
      ]);
      expect(data.hits).toHaveLength(0);
      expect(await codeOf(rest.calendar({ start: '2024-7-3', end: '2024-07-05' }))).toBe(
        'bad-request',
      );
      expect(await codeOf(rest.asset(''))).toBe('bad-request');
      expect(trading.hits).toHaveLength(4);
    } finally {
      await trading.close();
    }
  });
});

describe('the rate limit, from the wire', () => {
  /** Most starts in any half-open window [t, t + 60 s). */
  function busiestMinute(starts: readonly number[]): number {
    const sorted = [...starts].sort((a, b) => a - b);
    let most = 0;
    let lo = 0;
    for (let hi = 0; hi < sorted.length; hi++) {
      while (sorted[hi]! - sorted[lo]! >= 60_000) lo++;
      most = Math.max(most, hi - lo + 1);
    }
    return most;
  }

  it('no 60 s window holds more than requestsPerMinute request starts', async () => {
    const clock = new VirtualClock();
    const starts: number[] = [];
    server = await startHttpServer((hit, res) =>
      sendJson(res, 200, assetOf(decodeURIComponent(hit.path.split('/').pop() ?? ''))),
    );
    const wireFetch: typeof fetch = (input, init) => {
      starts.push(clock.now());
      return fetch(input, init);
    };
    client = clientFor(server, { requestsPerMinute: 5, fetch: wireFetch }, clock);
    const t0 = clock.now();
    const symbols = Array.from({ length: 23 }, (_, i) => `SYM${i}`);
    const assets = await Promise.all(symbols.map((s) => client!.rest.asset(s)));
    expect(assets.map((a) => a.symbol)).toEqual(symbols);
    expect(starts).toHaveLength(23);
    expect(busiestMinute(starts)).toBe(5);
    // 23 requests at 5 a minute: the last starts in the fifth minute, not sooner.
    expect(Math.max(...starts) - t0).toBeGreaterThanOrEqual(4 * 60_000);
    expect(Math.max(...starts) - t0).toBeLessThan(5 * 60_000);
  });

  it('the data and trading hosts have a bucket each', async () => {
    const clock = new VirtualClock();
    const starts: { host: string; at: number }[] = [];
    server = await startHttpServer((hit, res) => {
      if (hit.path === '/v2/clock') sendJson(res, 200, CLOCK_BODY);
      else sendJson(res, 200, {});
    });
    const trading = await startHttpServer((_hit, res) => sendJson(res, 200, CLOCK_BODY));
    try {
      const wireFetch: typeof fetch = (input, init) => {
        const url =
          typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        starts.push({ host: new URL(url).host, at: clock.now() });
        return fetch(input, init);
      };
      client = clientFor(
        server,
        { requestsPerMinute: 1, fetch: wireFetch, tradingUrl: trading.url },
        clock,
      );
      const t0 = clock.now();
      await Promise.all([client.rest.stockSnapshots(['A']), client.rest.clock()]);
      expect(starts.map((s) => s.at - t0)).toEqual([0, 0]);
      await client.rest.clock();
      expect(starts[2]?.at).toBe(t0 + 60_000);
      expect(starts[2]?.host).toBe(trading.host);
    } finally {
      await trading.close();
    }
  });
});
