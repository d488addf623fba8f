/**
 * The CLI's market-context commands as a user runs them: `snapshot`, `clock`, `bars` and the
 * market line of `stream`, as real child processes against real simulators on loopback in a
 * closed and a regular session (and one started with keys, and a host whose REST routes are
 * missing). The tests run concurrently: each is mostly waiting on its child processes. Argument
 * checks are unit tests (test/unit/cli/market-commands.test.ts): here only that they exit 2.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, nyDate, nyLocalToEpoch, nyseCalendar } from '../../shared/market-session.ts';
import { startSimulator, type Simulator } from '../../electron/simulator/index.ts';

const BIN = fileURLToPath(new URL('../../bin/market-monitor.js', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];

type Line = Record<string, unknown>;

interface Result {
  readonly code: number | null;
  readonly lines: Line[];
  readonly stderr: string;
}

/** Runs the CLI to its end; every stdout line must be JSON. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, APCA_API_KEY_ID: '', APCA_API_SECRET_KEY: '', ...env },
  });
  children.push(child);
  const lines: Line[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(JSON.parse(line) as Line);
  });
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, lines, stderr };
}

let closed: Simulator;
let regular: Simulator;
let silent: Simulator;
let keyed: Simulator;
let failing: Simulator;
let noRest: Server;
let noRestPort: number;

beforeAll(async () => {
  [closed, regular, silent, keyed, failing] = await Promise.all([
    startSimulator({ session: 'closed', seed: 7 }),
    startSimulator({ session: 'regular', seed: 7 }),
    // In session but sending nothing: what a dead feed looks like (the stale control case).
    startSimulator({ session: 'regular', rate: 0 }),
    startSimulator({ session: 'regular', key: 'right-key', secret: 'right-secret' }),
    startSimulator({ session: 'regular', restFaults: { error500: true } }),
  ]);
  // A relay without the REST routes: its streams are the regular simulator's (upgrades are
  // piped through as bytes), every plain HTTP request is a 404.
  noRest = createServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"message":"not found"}');
  });
  noRest.on('upgrade', (req, socket, head) => {
    const upstream = connect(regular.port, '127.0.0.1', () => {
      let text = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1\r\n`;
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
        text += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      upstream.write(`${text}\r\n`);
      upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  noRest.listen(0, '127.0.0.1');
  await once(noRest, 'listening');
  noRestPort = (noRest.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  noRest.closeAllConnections();
  noRest.close();
  await Promise.all([closed, regular, silent, keyed, failing].map((s) => s.close()));
});

/** The simulator's own wire answer, to check the CLI against. */
async function getJson(sim: Simulator, path: string): Promise<unknown> {
  const res = await fetch(`${sim.restUrl}${path}`);
  expect(res.status).toBe(200);
  return res.json();
}

describe.concurrent('market-monitor snapshot, clock, bars; stream market line', () => {
  it('snapshot: one line per symbol, change against the previous close, no-data for unknown', async () => {
    const r = await cli([
      'snapshot',
      '--symbols',
      'AAPL,ZZZZ9,MSFT,BTC/USD',
      '--url',
      closed.restUrl,
    ]);
    expect(r.code).toBe(0);
    expect(r.lines.map((l) => [l['type'], l['symbol']])).toEqual([
      ['snapshot', 'AAPL'],
      ['error', 'ZZZZ9'],
      ['snapshot', 'MSFT'],
      ['snapshot', 'BTC/USD'],
    ]);
    expect(r.lines[1]).toMatchObject({ type: 'error', code: 'no-data', symbol: 'ZZZZ9' });
    // Closed: the stock walk does not move, so the server's answer now is the one the CLI had.
    const wire = (await getJson(closed, '/v2/stocks/snapshots?symbols=AAPL,MSFT')) as Record<
      string,
      {
        latestTrade: { p: number; t: string };
        latestQuote: { bp: number; ap: number };
        dailyBar: { o: number; h: number; l: number; v: number };
        prevDailyBar: { c: number };
      }
    >;
    for (const line of r.lines.filter(
      (l) => l['type'] === 'snapshot' && l['symbol'] !== 'BTC/USD',
    )) {
      const w = wire[String(line['symbol'])]!;
      expect(Object.keys(line).sort()).toEqual(
        [
          'type',
          'symbol',
          'last',
          'lastTime',
          'bid',
          'ask',
          'prevClose',
          'change',
          'changePercent',
          'open',
          'high',
          'low',
          'volume',
        ].sort(),
      );
      expect(line).toMatchObject({
        last: w.latestTrade.p,
        lastTime: new Date(w.latestTrade.t).toISOString(),
        bid: w.latestQuote.bp,
        ask: w.latestQuote.ap,
        prevClose: w.prevDailyBar.c,
        open: w.dailyBar.o,
        high: w.dailyBar.h,
        low: w.dailyBar.l,
        volume: w.dailyBar.v,
      });
      const change = w.latestTrade.p - w.prevDailyBar.c;
      expect(line['change']).toBeCloseTo(change, 9);
      // In percent: 1.33 is +1.33 %.
      expect(line['changePercent']).toBeCloseTo((change / w.prevDailyBar.c) * 100, 6);
    }
    const btc = r.lines[3]!;
    expect(typeof btc['last']).toBe('number');
    expect(typeof btc['prevClose']).toBe('number');
  });

  it('clock in a closed and a regular session, as /v2/clock and the calendar say', async () => {
    const [c, g] = await Promise.all([
      cli(['clock', '--url', closed.restUrl]),
      // A ws:// URL as `simulate` prints it names the same host's REST API.
      cli(['clock', '--url', regular.url]),
    ]);
    expect(c.code).toBe(0);
    expect(g.code).toBe(0);
    expect(c.lines).toHaveLength(1);
    const shape = ['isOpen', 'nextClose', 'nextOpen', 'session', 'time', 'type'];
    expect(Object.keys(c.lines[0]!).sort()).toEqual(shape);
    expect(c.lines[0]).toMatchObject({ type: 'clock', isOpen: false, session: 'closed' });
    expect(g.lines[0]).toMatchObject({ type: 'clock', isOpen: true, session: 'regular' });
    const info = closed.session();
    expect(c.lines[0]!['nextOpen']).toBe(new Date(info.clock.nextOpen).toISOString());
    const time = Date.parse(String(c.lines[0]!['time']));
    expect(Math.abs(time - Date.now())).toBeLessThan(60_000);
    expect(Date.parse(String(c.lines[0]!['nextOpen']))).toBeGreaterThan(time);
  });

  it('bars: every bar of every page once, by symbol then time; --limit caps them', async () => {
    const common = [
      'bars',
      '--symbols',
      'MSFT,ZZZZ9,AAPL',
      '--timeframe',
      '15Min',
      '--url',
      closed.restUrl,
    ];
    const [paged, limited] = await Promise.all([
      // 7 bars a request: the last session's day of two symbols is 19 pages.
      cli([...common, '--page-size', '7']),
      cli([...common, '--limit', '5']),
    ]);
    expect(paged.code, paged.stderr).toBe(0);
    expect(limited.code, limited.stderr).toBe(0);
    // The default start is the last session's New York day: closed today, so the last trading day
    // before today. The server's own answer in one page is what the pages must add up to.
    const today = nyDate(Date.now());
    const lastDay = nyseCalendar(addDays(today, -10), addDays(today, -1)).at(-1)!.date;
    const start = new Date(nyLocalToEpoch(lastDay, '00:00')).toISOString();
    const wire = (await getJson(
      closed,
      `/v2/stocks/bars?symbols=AAPL,MSFT,ZZZZ9&timeframe=15Min&start=${start}&limit=10000`,
    )) as {
      bars: Record<string, { t: string; o: number; h: number; l: number; c: number; v: number }[]>;
      next_page_token: string | null;
    };
    expect(wire.next_page_token).toBeNull();
    const expected = ['AAPL', 'MSFT'].flatMap((symbol) =>
      wire.bars[symbol]!.map((b) => ({
        type: 'bar',
        symbol,
        time: new Date(b.t).toISOString(),
        open: b.o,
        high: b.h,
        low: b.l,
        close: b.c,
        volume: b.v,
      })),
    );
    // Pre-market to after-hours at 15 minutes: 64 bars a symbol, all of that day.
    expect(expected).toHaveLength(128);
    expect(new Set(expected.map((b) => nyDate(Date.parse(b.time))))).toEqual(new Set([lastDay]));
    // Every bar once, by symbol then time; a symbol without bars says so after them.
    expect(paged.lines).toEqual([
      ...expected,
      expect.objectContaining({ type: 'error', code: 'no-data', symbol: 'ZZZZ9' }),
    ]);
    // The first five, and no no-data line: the limit, not the symbol, ended the output.
    expect(limited.lines).toEqual(expected.slice(0, 5));
  });

  it('failures exit 1 with an error line: wrong keys at once, 500s after the retries', async () => {
    const [wrong, broken] = await Promise.all([
      cli(['snapshot', '--symbols', 'AAPL', '--url', keyed.restUrl], {
        APCA_API_KEY_ID: 'wrong-key-id',
        APCA_API_SECRET_KEY: 'wrong-secret-xyz',
      }),
      cli(['clock', '--url', failing.restUrl]),
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.lines).toEqual([
      expect.objectContaining({ type: 'error', code: 'unauthorized', status: 401 }),
    ]);
    // Not retried: a 401 fails at once, and the keys are in no line and no log.
    expect(wrong.stderr).not.toMatch(/retrying/);
    expect(JSON.stringify(wrong.lines) + wrong.stderr).not.toMatch(/wrong-key-id|wrong-secret-xyz/);
    // A server error is retried (3 attempts in all), then reported.
    expect(broken.code).toBe(1);
    expect(broken.lines).toEqual([
      expect.objectContaining({ type: 'error', code: 'server', status: 500 }),
    ]);
    expect(broken.stderr.match(/retrying/g)).toHaveLength(2);
    expect(broken.stderr).toMatch(/giving up/);
  });

  it('a usage error exits 2 with one line on stderr and nothing on stdout', async () => {
    // The argument checks themselves are unit tests; this is the exit-code path.
    const r = await cli(['bars', '--symbols', 'AAPL', '--timeframe', '2Min']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'market-monitor: --timeframe must be one of 1Min, 5Min, 15Min, 1Hour, 1Day; got "2Min"\n',
    );
    expect(r.lines).toEqual([]);
  });

  it('stream: a closed market says so and never goes stale; a silent open one does', async () => {
    const args = ['--quotes', 'AAPL', '--stale-after', '0.3', '--duration', '2.5'];
    const [quiet, dead] = await Promise.all([
      cli(['stream', '--url', closed.urlFor('iex'), ...args]),
      cli(['stream', '--url', silent.urlFor('iex'), ...args]),
    ]);
    expect(quiet.code).toBe(0);
    const market = quiet.lines.filter((l) => l['type'] === 'market');
    expect(market).toHaveLength(1);
    expect(market[0]).toMatchObject({ session: 'closed', quiet: true, feed: 'iex' });
    expect(Date.parse(String(market[0]!['nextOpen']))).toBeGreaterThan(Date.now());
    expect(quiet.lines.filter((l) => l['type'] === 'stale')).toEqual([]);
    expect(quiet.lines.filter((l) => l['state'] === 'live')).toHaveLength(1);
    expect(quiet.lines.at(-1)).toMatchObject({
      type: 'summary',
      reason: 'duration',
      market: { session: 'closed' },
    });
    // The control: in session, the same silence is stale within the threshold.
    expect(dead.lines.find((l) => l['type'] === 'market')).toMatchObject({
      session: 'regular',
      quiet: false,
    });
    expect(dead.lines).toContainEqual({ type: 'stale', stale: true });
  });

  it('stream: a host without REST routes gives session unknown and streams as before', async () => {
    const r = await cli([
      'stream',
      '--url',
      `ws://127.0.0.1:${noRestPort}/v2/iex`,
      '--quotes',
      'AAPL',
      '--duration',
      '2',
    ]);
    expect(r.code).toBe(0);
    const market = r.lines.filter((l) => l['type'] === 'market');
    expect(market).toHaveLength(1);
    expect(market[0]).toMatchObject({ session: 'unknown', nextOpen: null, quiet: false });
    expect(String(market[0]!['detail'])).toMatch(/not-found 404/);
    // The stream itself is what it always was.
    expect(r.lines.filter((l) => l['state'] === 'live')).toHaveLength(1);
    expect(r.lines.some((l) => l['type'] === 'quote' && l['symbol'] === 'AAPL')).toBe(true);
  });
});
