/**
 * The simulator's REST API over real HTTP on loopback (plain fetch): Alpaca's shapes for every
 * endpoint in each market session, pagination, consistency with the stream, auth, rate limits and
 * REST faults, and a seeded, repeatable history. The market clock is faked where a test needs a
 * particular New York time; the stream-consistency test runs on the real clock.
 */
import { describe, expect, it } from 'vitest';
import type { Simulator, SimulatorOptions } from '../../../electron/simulator/index.ts';
import type { SessionMode } from '../../../electron/simulator/market-hours.ts';
import type { MarketSession } from '../../../shared/market-session.ts';
import {
  addDays,
  nyDate,
  sessionAt,
  tradingDayFromCalendar,
} from '../../../shared/market-session.ts';
import { simulatorFixture, until } from './helpers.ts';

type Json = Record<string, unknown>;

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: unknown;
}

const fixture = simulatorFixture();

async function api(sim: Simulator, path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`${sim.restUrl}${path}`, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, text, body };
}

async function ok(sim: Simulator, path: string): Promise<unknown> {
  const a = await api(sim, path);
  expect(a.status, `${path}: ${a.text}`).toBe(200);
  return a.body;
}

/** A simulator whose market clock reads `clock.at`. */
async function simAt(
  iso: string,
  options: SimulatorOptions = {},
): Promise<{ sim: Simulator; clock: { at: number } }> {
  const clock = { at: Date.parse(iso) };
  const sim = await fixture.sim({ rate: 0, ...options, now: () => clock.at });
  return { sim, clock };
}

const BAR_KEYS = ['c', 'h', 'l', 'n', 'o', 't', 'v', 'vw'];

function expectBar(bar: unknown): Json {
  expect(Object.keys(bar as Json).sort()).toEqual(BAR_KEYS);
  const b = bar as { t: string; o: number; h: number; l: number; c: number; v: number; n: number };
  expect(b.t).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  expect(b.h).toBeGreaterThanOrEqual(Math.max(b.o, b.c));
  expect(b.l).toBeLessThanOrEqual(Math.min(b.o, b.c));
  expect(b.v).toBeGreaterThan(0);
  expect(b.n).toBeGreaterThanOrEqual(1);
  return bar as Json;
}

function expectStockSnapshot(snap: unknown): Record<string, Json> {
  // the single-symbol answer adds `symbol` beside the same keys
  const { symbol: _symbol, ...s } = snap as Record<string, Json>;
  expect(Object.keys(s).sort()).toEqual(
    ['dailyBar', 'latestQuote', 'latestTrade', 'minuteBar', 'prevDailyBar'].sort(),
  );
  expect(Object.keys(s.latestTrade ?? {}).sort()).toEqual(['c', 'i', 'p', 's', 't', 'x', 'z']);
  expect(Object.keys(s.latestQuote ?? {}).sort()).toEqual(
    ['ap', 'as', 'ax', 'bp', 'bs', 'bx', 'c', 't', 'z'].sort(),
  );
  for (const key of ['minuteBar', 'dailyBar', 'prevDailyBar']) expectBar(s[key]);
  const quote = s.latestQuote as Record<string, number>;
  expect(quote.bp).toBeLessThan(quote.ap ?? 0);
  // today's session starts where the previous one closed
  expect(s.dailyBar?.o).toBe(s.prevDailyBar?.c);
  expect(s.dailyBar?.c).toBe(s.latestTrade?.p);
  return s;
}

/** The session a client computes from the served /v2/calendar, as the core will. */
async function clientSession(sim: Simulator, at: number): Promise<ReturnType<typeof sessionAt>> {
  const today = nyDate(at);
  const from = addDays(today, -10);
  const to = addDays(today, 40);
  const calendar = (await ok(sim, `/v2/calendar?start=${from}&end=${to}`)) as Json[];
  const days = calendar.map((d) =>
    tradingDayFromCalendar({
      date: String(d.date),
      open: String(d.open),
      close: String(d.close),
      sessionOpen: String(d.session_open),
      sessionClose: String(d.session_close),
    }),
  );
  return sessionAt(at, days, { from, to });
}

// Wednesday 2026-06-10 (EDT: New York = UTC-4) and the Saturday after.
const WED_11 = '2026-06-10T15:00:00Z';
const SAT_11 = '2026-06-13T15:00:00Z';

describe('simulator REST: clock, calendar and snapshots in each session', () => {
  const cases: [SessionMode, string, MarketSession][] = [
    ['auto', WED_11, 'regular'],
    ['auto', '2026-06-10T09:00:00Z', 'pre'], // 05:00
    ['auto', '2026-06-10T21:30:00Z', 'post'], // 17:30
    ['auto', SAT_11, 'closed'],
    ['auto', '2026-12-25T15:00:00Z', 'closed'], // Christmas
    ['regular', WED_11, 'regular'],
    ['regular', SAT_11, 'regular'],
    ['pre', WED_11, 'pre'],
    ['pre', SAT_11, 'pre'],
    ['post', WED_11, 'post'],
    ['post', SAT_11, 'post'],
    ['closed', WED_11, 'closed'],
    ['closed', SAT_11, 'closed'],
  ];

  it.each(cases)(
    'session %s at %s is %s to the simulator and to a client',
    async (mode, iso, expected) => {
      const { sim } = await simAt(iso, { session: mode });
      const at = Date.parse(iso);
      expect(sim.session().requested).toBe(mode);
      expect(sim.session().session).toBe(expected);

      const clock = (await ok(sim, '/v2/clock')) as Json;
      expect(Object.keys(clock).sort()).toEqual([
        'is_open',
        'next_close',
        'next_open',
        'timestamp',
      ]);
      expect(clock.is_open).toBe(expected === 'regular');
      expect(Date.parse(String(clock.timestamp))).toBe(at);
      expect(String(clock.timestamp)).toMatch(/^2026-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-0[45]:00$/);
      expect(String(clock.next_open)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00-0[45]:00$/);

      // the client's own computation from /v2/calendar agrees with the simulator and its clock
      const client = await clientSession(sim, at);
      expect(client.session).toBe(expected);
      expect(Date.parse(String(clock.next_open))).toBe(client.nextOpen);
      expect(Date.parse(String(clock.next_close))).toBe(client.nextClose);
      expect(Date.parse(String(clock.next_open))).toBeGreaterThan(at);

      const snaps = (await ok(sim, '/v2/stocks/snapshots?symbols=AAPL,NOPE,SPY&feed=iex')) as Json;
      expect(Object.keys(snaps).sort()).toEqual(['AAPL', 'SPY']);
      const aapl = expectStockSnapshot(snaps.AAPL);
      expect(Date.parse(String(aapl.latestTrade?.t))).toBeLessThanOrEqual(at);
      const single = (await ok(sim, '/v2/stocks/AAPL/snapshot')) as Json;
      expect(single.symbol).toBe('AAPL');
      expect(single.dailyBar).toEqual(aapl.dailyBar);
    },
  );

  it('a closed market serves the last session: Tuesday when Wednesday is forced closed', async () => {
    const { sim } = await simAt(WED_11, { session: 'closed' });
    const clock = (await ok(sim, '/v2/clock')) as Json;
    expect(clock.next_open).toBe('2026-06-11T09:30:00-04:00');
    const snap = expectStockSnapshot(await ok(sim, '/v2/stocks/MSFT/snapshot'));
    expect(snap.dailyBar?.t).toBe('2026-06-09T04:00:00Z');
    expect(snap.prevDailyBar?.t).toBe('2026-06-08T04:00:00Z');
    // the last print is the end of Tuesday's after-hours
    expect(Date.parse(String(snap.latestTrade?.t))).toBeLessThan(
      Date.parse('2026-06-10T00:00:00Z'),
    );
    // on the weekend (auto), Friday's bar with Thursday's before it
    const { sim: weekend } = await simAt(SAT_11, { session: 'auto' });
    const sat = expectStockSnapshot(await ok(weekend, '/v2/stocks/MSFT/snapshot'));
    expect(sat.dailyBar?.t).toBe('2026-06-12T04:00:00Z');
    expect(sat.prevDailyBar?.t).toBe('2026-06-11T04:00:00Z');
  });

  it('crypto snapshots are wrapped, keyed by pair, with taker sides and UTC days', async () => {
    const { sim } = await simAt(SAT_11, { session: 'closed' });
    const body = (await ok(
      sim,
      '/v1beta3/crypto/us/snapshots?symbols=BTC/USD,ETH%2FUSD,NOPE/USD',
    )) as Json;
    const snaps = body.snapshots as Record<string, Record<string, Json>>;
    expect(Object.keys(snaps).sort()).toEqual(['BTC/USD', 'ETH/USD']);
    const btc = snaps['BTC/USD'] ?? {};
    expect(Object.keys(btc.latestTrade ?? {}).sort()).toEqual(['i', 'p', 's', 't', 'tks']);
    expect(Object.keys(btc.latestQuote ?? {}).sort()).toEqual(['ap', 'as', 'bp', 'bs', 't']);
    expect(expectBar(btc.dailyBar).t).toBe('2026-06-13T00:00:00Z');
    expect(btc.prevDailyBar?.t).toBe('2026-06-12T00:00:00Z');
    expect(btc.dailyBar?.o).toBe(btc.prevDailyBar?.c);
    const price = btc.latestTrade?.p as number;
    expect(price).toBeGreaterThan(64_000 * 0.8);
    expect(price).toBeLessThan(64_000 * 1.2);
  });

  it('calendar: Alpaca fields, holidays absent, early closes, settlement dates', async () => {
    const { sim } = await simAt(WED_11, { session: 'auto' });
    const days = (await ok(sim, '/v2/calendar?start=2026-11-20&end=2026-12-31')) as Json[];
    expect(Object.keys(days[0] ?? {}).sort()).toEqual(
      ['close', 'date', 'open', 'session_close', 'session_open', 'settlement_date'].sort(),
    );
    const dates = days.map((d) => d.date);
    expect(dates).not.toContain('2026-11-26');
    expect(dates).not.toContain('2026-12-25');
    expect(days.find((d) => d.date === '2026-11-27')).toEqual({
      date: '2026-11-27',
      open: '09:30',
      close: '13:00',
      session_open: '0400',
      session_close: '1700',
      settlement_date: '2026-11-30',
    });
    expect(days.find((d) => d.date === '2026-12-24')?.settlement_date).toBe('2026-12-28');
    // the SDK sends full timestamps; their written date counts
    const sdkStyle = (await ok(
      sim,
      '/v2/calendar?start=2026-04-01T00:00:00.000Z&end=2026-04-07T00:00:00.000Z',
    )) as Json[];
    expect(sdkStyle.map((d) => d.date)).toEqual([
      '2026-04-01',
      '2026-04-02',
      '2026-04-06',
      '2026-04-07',
    ]);
    expect((await api(sim, '/v2/calendar?start=2026-13-01')).status).toBe(400);
  });

  it('assets: real names for well-known tickers, generated ones otherwise, 404 when unknown', async () => {
    const { sim } = await simAt(WED_11, { symbols: 60 });
    const aapl = (await ok(sim, '/v2/assets/AAPL')) as Json;
    expect(aapl).toMatchObject({
      class: 'us_equity',
      exchange: 'NASDAQ',
      symbol: 'AAPL',
      name: 'Apple Inc.',
      status: 'active',
      tradable: true,
    });
    expect(String(aapl.id)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(((await ok(sim, '/v2/assets/MSFT')) as Json).name).toBe('Microsoft Corporation');
    expect(((await ok(sim, '/v2/assets/SPY')) as Json).exchange).toBe('ARCA');
    expect(await ok(sim, `/v2/assets/${String(aapl.id)}`)).toEqual(aapl);
    const generated = (await ok(sim, '/v2/assets/XAAA')) as Json;
    expect(String(generated.name)).toMatch(
      /^[A-Z][\w ]+ (Inc\.|Corp\.|Holdings, Inc\.|Group Ltd\.|Co\.)$/,
    );
    const missing = await api(sim, '/v2/assets/NOPE');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ code: 40410000, message: 'asset not found' });
    // XAAA..XAAJ exist in a 60-symbol universe, XAAK does not
    expect((await api(sim, '/v2/assets/XAAK')).status).toBe(404);
    const list = (await ok(sim, '/v2/assets?status=active&asset_class=us_equity')) as Json[];
    expect(list).toHaveLength(60);
    expect(new Set(list.map((a) => a.symbol)).size).toBe(60);
    const crypto = (await ok(sim, '/v2/assets?asset_class=crypto')) as Json[];
    expect(crypto.map((a) => a.symbol)).toContain('BTC/USD');
    expect(((await ok(sim, '/v2/assets/BTC%2FUSD')) as Json).name).toBe('Bitcoin / US Dollar');
    expect(await ok(sim, '/v2/assets?status=inactive')).toEqual([]);
    expect((await api(sim, '/v2/assets?asset_class=bonds')).status).toBe(400);
  });
});

describe('simulator REST: bars', () => {
  it('1Day: weekdays only, no Good Friday, New York midnights, realistic levels', async () => {
    const { sim } = await simAt(WED_11);
    const body = (await ok(
      sim,
      '/v2/stocks/bars?symbols=AAPL,SPY,NOPE&timeframe=1Day&start=2026-03-30&end=2026-04-10T23:59:59Z',
    )) as { bars: Record<string, Json[]>; next_page_token: unknown };
    expect(body.next_page_token).toBeNull();
    expect(Object.keys(body.bars)).toEqual(['AAPL', 'SPY']);
    const aapl = body.bars.AAPL ?? [];
    aapl.forEach(expectBar);
    expect(aapl.map((b) => b.t)).toEqual([
      '2026-03-30T04:00:00Z',
      '2026-03-31T04:00:00Z',
      '2026-04-01T04:00:00Z',
      '2026-04-02T04:00:00Z',
      '2026-04-06T04:00:00Z',
      '2026-04-07T04:00:00Z',
      '2026-04-08T04:00:00Z',
      '2026-04-09T04:00:00Z',
      '2026-04-10T04:00:00Z',
    ]);
    for (const [symbol, level] of [
      ['AAPL', 230],
      ['SPY', 600],
    ] as const) {
      for (const bar of body.bars[symbol] ?? []) {
        expect(bar.c as number).toBeGreaterThan(level * 0.85);
        expect(bar.c as number).toBeLessThan(level * 1.15);
      }
    }
    // each day opens at the previous day's close
    for (let i = 1; i < aapl.length; i++) expect(aapl[i]?.o).toBe(aapl[i - 1]?.c);
  });

  it('1Min: extended hours included, nothing on a weekend, nothing after now', async () => {
    const { sim } = await simAt(WED_11);
    type Bars = { bars: Record<string, Json[]>; next_page_token: unknown };
    const pre = (await ok(
      sim,
      '/v2/stocks/bars?symbols=AAPL&timeframe=1Min&start=2026-06-09T08:00:00Z&end=2026-06-09T13:29:59Z',
    )) as Bars;
    const preBars = pre.bars.AAPL ?? [];
    // pre-market prints, thinly (IEX-like gaps)
    expect(preBars.length).toBeGreaterThan(30);
    expect(preBars.length).toBeLessThan(330);
    expect(preBars[0]?.t).toBe('2026-06-09T08:00:00Z');
    const weekend = (await ok(
      sim,
      '/v2/stocks/bars?symbols=AAPL&timeframe=1Min&start=2026-06-06T00:00:00Z&end=2026-06-08T03:59:00Z',
    )) as Bars;
    expect(weekend).toEqual({ bars: {}, next_page_token: null });
    const today = (await ok(
      sim,
      '/v2/stocks/bars?symbols=AAPL&timeframe=1Min&start=2026-06-10T00:00:00Z&limit=10000',
    )) as Bars;
    const last = today.bars.AAPL?.at(-1);
    expect(last?.t).toBe('2026-06-10T15:00:00Z'); // the current minute, not beyond
    // the early close: regular to 18:00Z, after-hours to 22:00Z, none later
    const { sim: december } = await simAt('2026-12-01T15:00:00Z');
    const early = (await ok(
      december,
      '/v2/stocks/bars?symbols=SPY&timeframe=1Min&start=2026-11-27T00:00:00Z&end=2026-11-28T00:00:00Z&limit=10000',
    )) as Bars;
    const times = (early.bars.SPY ?? []).map((b) => String(b.t));
    expect(times.some((t) => t >= '2026-11-27T18:00:00Z')).toBe(true);
    expect(times.every((t) => t >= '2026-11-27T09:00:00Z' && t < '2026-11-27T22:00:00Z')).toBe(
      true,
    );
    expect(
      times.filter((t) => t >= '2026-11-27T14:30:00Z' && t < '2026-11-27T18:00:00Z'),
    ).toHaveLength(210);
  });

  it('paginates across symbols: every bar once, in symbol then time order, to the end', async () => {
    const { sim } = await simAt(WED_11);
    const query =
      '/v2/stocks/bars?symbols=NVDA,AAPL,MSFT&timeframe=15Min&start=2026-06-08T00:00:00Z&end=2026-06-10T00:00:00Z';
    type Page = { bars: Record<string, Json[]>; next_page_token: string | null };
    const whole = (await ok(sim, `${query}&limit=10000`)) as Page;
    expect(whole.next_page_token).toBeNull();
    expect(Object.keys(whole.bars)).toEqual(['AAPL', 'MSFT', 'NVDA']);
    const expected = Object.entries(whole.bars).flatMap(([s, bars]) =>
      bars.map((b) => ({ s, ...b })),
    );
    // two days of pre, regular and after-hours in 15-minute buckets, three symbols
    expect(expected.length).toBeGreaterThan(3 * 2 * 50);

    const seen: Json[] = [];
    let token: string | null = null;
    let pages = 0;
    let mixed = false;
    do {
      const page = (await ok(
        sim,
        `${query}&limit=37${token === null ? '' : `&page_token=${token}`}`,
      )) as Page;
      pages += 1;
      const rows = Object.entries(page.bars).flatMap(([s, bars]) => bars.map((b) => ({ s, ...b })));
      expect(rows.length).toBeLessThanOrEqual(37);
      if (Object.keys(page.bars).length > 1) mixed = true;
      seen.push(...rows);
      token = page.next_page_token;
      expect(pages).toBeLessThan(100);
    } while (token !== null);
    expect(pages).toBe(Math.ceil(expected.length / 37));
    expect(mixed).toBe(true);
    expect(seen).toEqual(expected);
    const keys = seen.map((r) => `${String(r.s)}@${String(r.t)}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual(keys);
  });

  it('refuses bad parameters with 400 and Alpaca-style bodies', async () => {
    const { sim } = await simAt(WED_11);
    const bad = [
      '/v2/stocks/bars?symbols=AAPL&timeframe=2Week',
      '/v2/stocks/bars?symbols=AAPL&timeframe=90Min',
      '/v2/stocks/bars?symbols=AAPL',
      '/v2/stocks/bars?timeframe=1Min',
      '/v2/stocks/bars?symbols=AAPL&timeframe=1Min&limit=0',
      '/v2/stocks/bars?symbols=AAPL&timeframe=1Min&limit=10001',
      '/v2/stocks/bars?symbols=AAPL&timeframe=1Min&start=yesterday',
      '/v2/stocks/bars?symbols=AAPL&timeframe=1Min&page_token=garbage',
      '/v2/stocks/bars?symbols=AAPL&timeframe=1Min&sort=desc',
      '/v2/stocks/bars?symbols=AAPL&timeframe=1Min&feed=nasdaq',
      '/v2/stocks/snapshots',
    ];
    for (const path of bad) {
      const a = await api(sim, path);
      expect(a.status, path).toBe(400);
      expect(Object.keys(a.body as Json).sort(), path).toEqual(['code', 'message']);
    }
    // a token from another query is refused too
    const first = (await ok(sim, '/v2/stocks/bars?symbols=AAPL&timeframe=1Min&limit=2')) as Json;
    const stolen = String(first.next_page_token);
    expect(
      (await api(sim, `/v2/stocks/bars?symbols=MSFT&timeframe=1Min&page_token=${stolen}`)).status,
    ).toBe(400);
    expect((await api(sim, '/v2/stocks/NOPE/snapshot')).status).toBe(404);
  });

  it('crypto bars trade through the weekend', async () => {
    const { sim } = await simAt(SAT_11);
    const body = (await ok(
      sim,
      '/v1beta3/crypto/us/bars?symbols=ETH/USD&timeframe=1Hour&start=2026-06-13T00:00:00Z&end=2026-06-13T10:00:00Z',
    )) as { bars: Record<string, Json[]> };
    const bars = body.bars['ETH/USD'] ?? [];
    bars.forEach(expectBar);
    expect(bars.map((b) => b.t)).toHaveLength(11);
    expect(bars[0]?.t).toBe('2026-06-13T00:00:00Z');
  });

  it('history is the seed: the same seed gives the same bars, another seed other bars', async () => {
    const paths = [
      '/v2/stocks/bars?symbols=AAPL,XAAC&timeframe=1Day&start=2026-01-01&end=2026-06-01',
      '/v2/stocks/bars?symbols=AAPL&timeframe=1Min&start=2026-06-09T00:00:00Z&end=2026-06-10T00:00:00Z&limit=10000',
      '/v2/stocks/snapshots?symbols=AAPL,XAAC',
    ];
    const a = await simAt(WED_11, { seed: 7 });
    const b = await simAt(WED_11, { seed: 7 });
    const c = await simAt(WED_11, { seed: 8 });
    for (const path of paths) {
      const ta = (await api(a.sim, path)).text;
      expect((await api(b.sim, path)).text, path).toBe(ta);
      expect((await api(c.sim, path)).text, path).not.toBe(ta);
    }
    // a past day's minute bars add up to its daily bar
    type Bars = { bars: Record<string, Json[]> };
    const minutes = ((await ok(a.sim, paths[1] ?? '')) as Bars).bars.AAPL ?? [];
    const daily = (
      (await ok(
        a.sim,
        '/v2/stocks/bars?symbols=AAPL&timeframe=1Day&start=2026-06-09&end=2026-06-09T23:00:00Z',
      )) as Bars
    ).bars.AAPL?.[0];
    const nums = (key: string): number[] => minutes.map((m) => m[key] as number);
    expect(daily?.o).toBe(minutes[0]?.o);
    expect(daily?.c).toBe(minutes.at(-1)?.c);
    expect(daily?.h).toBe(Math.max(...nums('h')));
    expect(daily?.l).toBe(Math.min(...nums('l')));
    expect(daily?.v).toBe(nums('v').reduce((x, y) => x + y, 0));
  });
});

describe('simulator REST: consistent with the stream', () => {
  it("a snapshot's latest trade is the stream's last trade, and today's bars end there", async () => {
    const sim = await fixture.sim({ rate: 400, seed: 5 });
    const c = await fixture.client(sim.urlFor('iex'));
    c.send({ action: 'subscribe', trades: ['AAPL'], quotes: ['AAPL'] });
    await until(() => c.ofType('t').length >= 5, 'AAPL trades');
    sim.setRate(0);
    // frames already on the way land; then nothing more is made
    await new Promise((resolve) => setTimeout(resolve, 150));
    const trades = c.ofType('t');
    const last = trades.at(-1) ?? {};
    const snap = expectStockSnapshot(await ok(sim, '/v2/stocks/AAPL/snapshot?feed=iex'));
    const { T: _t, S: _s, ...wire } = last;
    expect(snap.latestTrade).toEqual(wire);
    const lastQuote = c.ofType('q').at(-1) ?? {};
    expect(snap.latestQuote?.t).toBe(lastQuote.t);
    expect(snap.latestQuote?.bp).toBe(lastQuote.bp);
    // the walk opened at the previous close
    const first = trades[0]?.p as number;
    const prevClose = snap.prevDailyBar?.c as number;
    expect(Math.abs(first - prevClose) / prevClose).toBeLessThan(0.01);
    // today's minute bars end at the stream's last trade
    const start = new Date(Date.parse(String(last.t)) - 10 * 60_000).toISOString();
    const bars = (await ok(
      sim,
      `/v2/stocks/bars?symbols=AAPL&timeframe=1Min&start=${start}&feed=iex`,
    )) as { bars: Record<string, Json[]> };
    const lastBar = bars.bars.AAPL?.at(-1);
    expect(lastBar?.c).toBe(last.p);
    expect(Date.parse(String(lastBar?.t))).toBe(
      Math.floor(Date.parse(String(last.t)) / 60_000) * 60_000,
    );
  });

  it('closed: a subscribed stock feed is silent for a second while REST answers; crypto still streams', async () => {
    const sim = await fixture.sim({ rate: 2000, barIntervalMs: 100, session: 'closed' });
    expect(sim.session().session).toBe('closed');
    const stock = await fixture.client(sim.urlFor('iex'));
    const crypto = await fixture.client(sim.urlFor('crypto'));
    stock.send({
      action: 'subscribe',
      trades: ['*'],
      quotes: ['*'],
      bars: ['*'],
      dailyBars: ['*'],
    });
    crypto.send({ action: 'subscribe', trades: ['BTC/USD'], quotes: ['BTC/USD'] });
    await until(() => stock.ofType('subscription').length === 1, 'the subscription echo');
    const started = Date.now();
    while (Date.now() - started < 1000) {
      const clock = (await ok(sim, '/v2/clock')) as Json;
      expect(clock.is_open).toBe(false);
      expectStockSnapshot(((await ok(sim, '/v2/stocks/snapshots?symbols=AAPL')) as Json).AAPL);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(stock.data()).toEqual([]);
    expect(crypto.data().length).toBeGreaterThan(0);
    // pings still work while closed
    const pong = new Promise((resolve) => stock.ws.once('pong', resolve));
    stock.ws.ping();
    await pong;
    // and the market opening brings data
    sim.setSession('regular');
    expect(((await ok(sim, '/v2/clock')) as Json).is_open).toBe(true);
    await until(() => stock.data().length > 0, 'data after the open');
  });

  it('pre and post stream at a tenth of the rate', async () => {
    // On a market clock held at a weekday morning: on the wall clock, the forced pre-market's
    // one-minute regular session (23:59 in New York) would open the market for a minute a day.
    const sim = await fixture.sim({ rate: 1000, session: 'pre', now: () => Date.parse(WED_11) });
    const c = await fixture.client(sim.urlFor('iex'));
    c.send({ action: 'subscribe', quotes: ['AAPL', 'MSFT'] });
    await until(() => c.data().length > 0, 'pre-market data');
    const before = c.data().length;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const perSecond = c.data().length - before;
    // about 100 a second; a bounded budget cannot send the full rate
    expect(perSecond).toBeGreaterThan(20);
    expect(perSecond).toBeLessThan(300);
    expect(sim.session().clock.isOpen).toBe(false);
  });
});

describe('simulator REST: auth, limits and faults', () => {
  it('checks keys like the stream: 401 without the right ones, any key in demo mode', async () => {
    const sim = await fixture.sim({ rate: 0, key: 'PKTEST', secret: 'SECRET' });
    const none = await api(sim, '/v2/clock');
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ code: 40110000, message: 'request is not authorized' });
    const wrong = await api(sim, '/v2/clock', {
      headers: { 'APCA-API-KEY-ID': 'PKTEST', 'APCA-API-SECRET-KEY': 'nope' },
    });
    expect(wrong.status).toBe(401);
    const right = await api(sim, '/v2/clock', {
      headers: { 'APCA-API-KEY-ID': 'PKTEST', 'APCA-API-SECRET-KEY': 'SECRET' },
    });
    expect(right.status).toBe(200);
    // crypto market data is served without keys, as on Alpaca; wrong keys are still refused
    expect((await api(sim, '/v1beta3/crypto/us/snapshots?symbols=BTC/USD')).status).toBe(200);
    const cryptoWrong = await api(sim, '/v1beta3/crypto/us/snapshots?symbols=BTC/USD', {
      headers: { 'APCA-API-KEY-ID': 'PKTEST', 'APCA-API-SECRET-KEY': 'nope' },
    });
    expect(cryptoWrong.status).toBe(401);
    expect((await api(sim, '/v2/stocks/snapshots?symbols=AAPL')).status).toBe(401);
    const demo = await fixture.sim({ rate: 0 });
    expect((await api(demo, '/v2/clock')).status).toBe(200);
    expect(
      (
        await api(demo, '/v2/clock', {
          headers: { 'APCA-API-KEY-ID': 'x', 'APCA-API-SECRET-KEY': 'y' },
        })
      ).status,
    ).toBe(200);
  });

  it('404 for unknown paths, 405 for other methods, 426 on a stream path; rate headers on every answer', async () => {
    const sim = await fixture.sim({ rate: 0 });
    const unknown = await api(sim, '/v2/nothing');
    expect(unknown.status).toBe(404);
    const post = await api(sim, '/v2/clock', { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    const stream = await fetch(`${sim.restUrl}/v2/iex`);
    expect(stream.status).toBe(426);
    await stream.text();
    for (const a of [unknown, post, await api(sim, '/v2/clock')]) {
      expect(a.headers.get('x-ratelimit-limit')).toBe('10000');
      expect(Number(a.headers.get('x-ratelimit-remaining'))).toBeGreaterThan(9000);
      expect(Number(a.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000 - 1);
    }
  });

  it('429 with Retry-After past the per-minute limit, and the window resets', async () => {
    const { sim, clock } = await simAt('2026-06-10T15:00:10Z', {
      restFaults: { rateLimitPerMinute: 3 },
    });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const a = await api(sim, '/v2/clock');
      expect(a.status).toBe(200);
      remaining.push(String(a.headers.get('x-ratelimit-remaining')));
      expect(a.headers.get('x-ratelimit-limit')).toBe('3');
      expect(a.headers.get('x-ratelimit-reset')).toBe(
        String(Date.parse('2026-06-10T15:01:00Z') / 1000),
      );
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const over = await api(sim, '/v2/stocks/snapshots?symbols=AAPL');
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('50');
    expect(over.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(over.body).toMatchObject({ code: 42910000 });
    clock.at += 60_000;
    expect((await api(sim, '/v2/clock')).status).toBe(200);
    sim.setRestFaults({ rateLimitPerMinute: 1000 });
    expect((await api(sim, '/v2/clock')).headers.get('x-ratelimit-limit')).toBe('1000');
  });

  it('500, slow and malformed answers switch on and off at run time', async () => {
    const sim = await fixture.sim({ rate: 0, seed: 3 });
    sim.setRestFaults({ error500: true });
    const failed = await api(sim, '/v2/clock');
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ code: 50010000, message: 'internal server error' });
    sim.setRestFaults({ error500: 0.5 });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await api(sim, '/v2/clock')).status);
    expect(statuses.filter((s) => s === 500).length).toBeGreaterThan(5);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(5);
    sim.setRestFaults({ error500: false, slowMs: 300 });
    const t0 = performance.now();
    expect((await api(sim, '/v2/clock')).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    sim.setRestFaults({ slowMs: 0, malformed: true });
    const broken = await api(sim, '/v2/stocks/snapshots?symbols=AAPL');
    expect(broken.status).toBe(200);
    expect(broken.body).toBeUndefined();
    expect(broken.text.length).toBeGreaterThan(10);
    sim.setRestFaults({ malformed: false });
    expect((await api(sim, '/v2/stocks/snapshots?symbols=AAPL')).body).toHaveProperty('AAPL');
    expect(() => sim.setRestFaults({ error500: 2 })).toThrow(RangeError);
    expect(() => sim.setRestFaults({ rateLimitPerMinute: 0 })).toThrow(RangeError);
    expect(() => sim.setSession('lunch' as SessionMode)).toThrow(RangeError);
    expect(sim.restFaults()).toEqual({
      rateLimitPerMinute: undefined,
      error500: false,
      slowMs: 0,
      malformed: false,
    });
  });

  it('a slow answer still pending when the simulator closes does not hold it open', async () => {
    const sim = await fixture.sim({ rate: 0, restFaults: { slowMs: 5000 } });
    const pending = fetch(`${sim.restUrl}/v2/clock`).then(
      (r) => r.status,
      () => 'dropped',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const t0 = performance.now();
    await sim.close();
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(await pending).toBe('dropped');
  });
});
