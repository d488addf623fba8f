/**
 * Market context through the real core: the embedded simulator's REST API seeds the book, gives
 * the session, the directory and the sparklines; a closed market is quiet, not stale.
 */
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../../electron/simulator/index.ts';
import { nyDate, nyLocalToEpoch } from '../../../shared/market-session.ts';
import type { ReadFrame } from '../../support/frame-reader.ts';
import { startHttpServer } from '../../support/scripted-http.ts';
import { waitFor } from '../../support/wait.ts';

/** waitFor for a condition that must ask the core (a command) each time. */
async function waitUntil(
  condition: () => Promise<boolean>,
  { timeoutMs = 5_000, what = 'condition' } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
import { call, cleanups, nextFrame, runCleanups, setup, value } from './harness.ts';

afterEach(runCleanups);

/**
 * Minutes since midnight in New York, where the simulator's forced regular session opens; below
 * MIN_MORNING_MINUTES its morning is too short for the repair test to tell apart from the stream.
 */
function minutesIntoNewYorkDay(now = Date.now()): number {
  return Math.floor((now - nyLocalToEpoch(nyDate(now), '00:00')) / 60_000);
}
const MIN_MORNING_MINUTES = 5;

/** Pulls frames until every symbol has a last price and a previous close; returns the rows. */
async function rowsWithContext(
  view: Awaited<ReturnType<typeof setup>>['view'],
  symbols: readonly string[],
  ms = 10_000,
): Promise<Map<string, Record<string, number>>> {
  const rows = new Map<string, Record<string, number>>();
  const done = (): boolean =>
    symbols.every((s) => {
      const r = rows.get(s);
      return r !== undefined && Number.isFinite(r.lastPrice) && Number.isFinite(r.prevClose);
    });
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) {
      throw new Error(`rows without context: ${JSON.stringify(Object.fromEntries(rows))}`);
    }
    const frame: ReadFrame = await nextFrame(view, ms);
    if (frame.full) rows.clear();
    frame.symbols.forEach((symbol, i) => {
      const row: Record<string, number> = {};
      for (const [key, col] of Object.entries(frame)) {
        if (col instanceof Float64Array) row[key] = col[i]!;
      }
      rows.set(symbol, row);
    });
  }
  return rows;
}

describe('market context in the core (embedded simulator)', () => {
  it('closed market: every row has a last price and a change against the previous close, the session says closed, nothing goes stale', async () => {
    const { view, sink } = await setup({
      core: {
        simulator: { rate: 400, symbols: 40, session: 'closed' },
        client: { backoff: { baseMs: 20, capMs: 100 }, random: () => 0.5, staleAfterMs: 300 },
      },
      watchlists: [{ id: 'default', name: 'Main', symbols: ['AAPL', 'MSFT', 'NVDA'] }],
    });
    const rows = await rowsWithContext(view, ['AAPL', 'MSFT', 'NVDA']);
    for (const [symbol, r] of rows) {
      expect(r.refPrice, symbol).toBe(r.prevClose);
      expect(r.dayHigh! >= r.dayLow!, symbol).toBe(true);
      expect(r.volume! > 0, symbol).toBe(true);
    }
    // Real price levels for well-known tickers.
    expect(rows.get('AAPL')!.lastPrice).toBeGreaterThan(100);

    await waitFor(() => sink.last('market:update')?.session === 'closed', {
      what: 'market closed',
    });
    const market = sink.last('market:update')!;
    expect(market.quiet).toBe(true);
    expect(market.nextOpen).toBeGreaterThan(Date.now());
    await waitUntil(
      async () => (await value(view, 'diagnostics:snapshot', {})).connection.state === 'live',
      { what: 'live' },
    );
    const before = sink.of('connection:state').length;
    // Ten stale periods of silence: quiet, never stale, never a forced reconnect.
    await new Promise((r) => setTimeout(r, 3_000));
    const after = sink.of('connection:state').slice(before);
    expect(after.some((c) => c.stale)).toBe(false);
    expect(after.every((c) => c.state === 'live')).toBe(true);
    expect((await value(view, 'diagnostics:snapshot', {})).connection.state).toBe('live');
    const snap = await value(view, 'diagnostics:snapshot', {});
    expect(snap.health.note).toMatch(/market is closed; it opens/);
    expect(snap.health.status).toBe('healthy');
    expect(snap.rest?.requests).toBeGreaterThan(0);
  });

  it('regular session: live and not quiet; the directory names symbols and refuses unknown ones', async () => {
    const { view, sink } = await setup({
      core: { simulator: { rate: 400, symbols: 40, session: 'regular' } },
      watchlists: [{ id: 'default', name: 'Main', symbols: ['AAPL', 'MSFT'] }],
    });
    await waitFor(() => sink.last('market:update')?.session === 'regular', { what: 'regular' });
    expect(sink.last('market:update')?.quiet).toBe(false);
    await waitFor(() => sink.last('market:update')?.directory.status === 'ready', {
      what: 'directory',
    });
    const found = await value(view, 'symbols:search', { query: 'appl' });
    expect(found[0]).toMatchObject({ symbol: 'AAPL', name: 'Apple Inc.' });
    const info = await value(view, 'symbols:info', { symbols: ['MSFT', 'AAPL'] });
    expect(info.map((i) => i.name)).toEqual(['Microsoft Corporation', 'Apple Inc.']);

    const added = await value(view, 'watchlists:add-symbols', {
      id: 'default',
      symbols: ['NVDA', 'APPL', 'QQQQQ'],
    });
    expect(added.added).toEqual(['NVDA']);
    expect(added.rejected.map((r) => r.input)).toEqual(['APPL', 'QQQQQ']);
    expect(added.rejected[0]!.reason).toMatch(/AAPL/);
    // Nothing was subscribed for the refused ones.
    const snap = await value(view, 'diagnostics:snapshot', {});
    expect(snap.subscriptions.desired.quotes).not.toContain('APPL');
  });

  it('sparklines: the session of minute closes, whole on request, for every symbol', async () => {
    const { view } = await setup({
      core: { simulator: { rate: 400, symbols: 40, session: 'regular' } },
      watchlists: [{ id: 'default', name: 'Main', symbols: ['AAPL', 'MSFT'] }],
    });
    let series = await value(view, 'market:series', {});
    await waitUntil(
      async () => {
        series = await value(view, 'market:series', {});
        return series.changes.filter((c) => c.closes.some((v) => v !== null)).length === 2;
      },
      { what: 'series for both symbols', timeoutMs: 10_000 },
    );
    expect(series.reset).toBe(true);
    expect(series.start).toBeDefined();
    for (const c of series.changes) {
      expect(c.closes.length).toBeGreaterThan(0);
      // Float32 closes travel rounded to what they hold: 228.85, not 228.85000610351562.
      for (const v of c.closes)
        if (v !== null) expect(String(v).length, String(v)).toBeLessThan(10);
    }
  });

  it('the detail chart: bars of one symbol in each timeframe', async () => {
    const { view } = await setup({
      core: { simulator: { rate: 100, symbols: 20, session: 'regular' } },
    });
    for (const timeframe of ['1Min', '5Min', '1Hour', '1Day'] as const) {
      const bars = await value(view, 'market:bars', { symbol: 'AAPL', timeframe });
      expect(bars.length, timeframe).toBeGreaterThan(0);
      for (const b of bars) expect(b.high >= b.low).toBe(true);
    }
    const bad = await call(view, 'market:bars', { symbol: 'AAPL', timeframe: '2Min' as never });
    expect(bad.ok ? 'ok' : bad.error.code).toBe('bad-request');
  });

  it('over the plan limit: the symbols the stream refuses are polled, marked with their age', async () => {
    const symbols = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META'];
    const { view, core } = await setup({
      core: {
        simulator: { rate: 400, symbols: 40, session: 'regular' },
        market: { pollIntervalMs: 200 },
      },
      watchlists: [{ id: 'default', name: 'Main', symbols }],
    });
    await waitUntil(
      async () => (await value(view, 'diagnostics:snapshot', {})).connection.state === 'live',
      {
        what: 'live',
      },
    );
    await value(view, 'simulator:control', { action: 'symbol-limit', limit: 2 });
    await value(view, 'simulator:control', { action: 'drop' });
    await waitUntil(async () => (await value(view, 'market:status', {})).polled >= 4, {
      what: 'polled symbols',
      timeoutMs: 10_000,
    });
    // Polled rows carry polledAt and keep getting fresher.
    let first = Infinity;
    await waitUntil(
      async () => {
        const rows = await rowsWithContext(view, symbols);
        const polled = [...rows.values()].filter((r) => Number.isFinite(r.polledAt));
        if (polled.length < 4) return false;
        first = Math.min(...polled.map((r) => r.polledAt!));
        return true;
      },
      { what: 'polled rows', timeoutMs: 10_000 },
    );
    await waitUntil(
      async () => {
        const again = await rowsWithContext(view, symbols);
        const ages = [...again.values()].filter((r) => Number.isFinite(r.polledAt));
        return ages.length >= 4 && Math.min(...ages.map((r) => r.polledAt!)) > first;
      },
      { what: 'fresher polls', timeoutMs: 10_000 },
    );
    expect(core.resources().socket).toBe(true);
  });
});

describe('sparkline repairs', () => {
  // The forced regular session opens at New York midnight, so its morning is as long as New York's
  // day is old: in its first minutes there is too little of it to tell from what the stream brings.
  it.skipIf(minutesIntoNewYorkDay() < MIN_MORNING_MINUTES)(
    'a symbol added while a repair is out gets its session once that repair ends',
    async () => {
      const sim = await startSimulator({
        rate: 200,
        symbols: 40,
        session: 'regular',
        key: 'SIMKEY-repair',
        secret: 'sim-secret-repair',
      });
      cleanups.push(() => sim.close());
      const simHttp = new URL(sim.url.replace(/^ws/, 'http'));
      // Alpaca's REST, through a loopback proxy that holds minute-bar requests while told to.
      const barsAsked: string[][] = [];
      let held: (() => void)[] | undefined = [];
      const proxy = await startHttpServer((hit, res, req) => {
        const forward = (): void => {
          const out = httpRequest(
            { host: simHttp.hostname, port: simHttp.port, path: hit.url, headers: req.headers },
            (answer) => {
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              answer.pipe(res);
            },
          );
          out.on('error', () => res.destroy());
          out.end();
        };
        if (hit.path === '/v2/stocks/bars' && hit.query.get('timeframe') === '1Min') {
          barsAsked.push((hit.query.get('symbols') ?? '').split(','));
          if (held !== undefined) {
            held.push(forward);
            return;
          }
        }
        forward();
      });
      cleanups.push(() => proxy.close());
      const proxyUrl = proxy.url;

      const { view } = await setup({
        settings: { source: { kind: 'alpaca', feed: 'iex', codec: 'msgpack' }, autoConnect: true },
        watchlists: [{ id: 'default', name: 'Main', symbols: ['AAPL'] }],
        core: {
          alpacaUrl: () => sim.urlFor('iex'),
          env: { keyId: 'SIMKEY-repair', secret: 'sim-secret-repair' },
          rest: { dataUrl: proxyUrl, tradingUrl: proxyUrl },
        },
      });
      await waitFor(() => held !== undefined && held.length > 0, {
        what: "the first repair's bars request",
        timeoutMs: 10_000,
      });
      expect(barsAsked[0]).toEqual(['AAPL']);
      await value(view, 'watchlists:add-symbols', { id: 'default', symbols: ['MSFT'] });
      const waiting = held ?? [];
      held = undefined;
      for (const go of waiting) go();
      await waitFor(() => barsAsked.some((symbols) => symbols.includes('MSFT')), {
        what: 'a repair that asks for MSFT',
        timeoutMs: 10_000,
      });
      await waitUntil(
        async () => {
          const series = await value(view, 'market:series', {});
          const msft = series.changes.find((c) => c.symbol === 'MSFT');
          // Its morning: more minutes than the stream has brought since the test began (two at
          // most), up to 30, fewer in the first half hour of New York's day.
          const morning = Math.min(30, minutesIntoNewYorkDay() - 2);
          return (msft?.closes.filter((v) => v !== null).length ?? 0) > morning;
        },
        { what: "MSFT's session in its sparkline", timeoutMs: 10_000 },
      );
    },
  );
});
