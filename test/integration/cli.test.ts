/**
 * The `market-monitor` CLI as a user runs it: real child processes, real sockets on loopback.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BARS_USAGE } from '../../electron/cli/bars-command.ts';
import { CLOCK_USAGE } from '../../electron/cli/clock-command.ts';
import { SIMULATE_USAGE } from '../../electron/cli/simulate-command.ts';
import { SNAPSHOT_USAGE } from '../../electron/cli/snapshot-command.ts';
import { STREAM_USAGE } from '../../electron/cli/stream-command.ts';
import { WEB_USAGE } from '../../electron/cli/web-command.ts';

const BIN = fileURLToPath(new URL('../../bin/market-monitor.js', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

interface Run {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: Array<Record<string, unknown>>;
  readonly stderr: () => string;
  readonly exit: Promise<number | null>;
  /** Resolves with the first stdout record that matches. */
  readonly waitFor: (
    match: (record: Record<string, unknown>) => boolean,
  ) => Promise<Record<string, unknown>>;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, APCA_API_KEY_ID: '', APCA_API_SECRET_KEY: '', ...env },
  });
  children.push(child);
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{
    match: (r: Record<string, unknown>) => boolean;
    resolve: (r: Record<string, unknown>) => void;
  }> = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const record = JSON.parse(line) as Record<string, unknown>; // every stdout line must be JSON
    lines.push(record);
    for (const w of waiters.splice(0)) {
      if (w.match(record)) w.resolve(record);
      else waiters.push(w);
    }
  });
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    lines,
    stderr: () => stderr,
    exit,
    waitFor: (match) =>
      new Promise((resolve) => {
        const found = lines.find(match);
        if (found) resolve(found);
        else waiters.push({ match, resolve });
      }),
  };
}

/** Runs the CLI to its end and returns its exit code and output as text (for non-NDJSON output). */
async function runToEnd(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, APCA_API_KEY_ID: '', APCA_API_SECRET_KEY: '' },
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

async function simulator(...args: string[]): Promise<{ url: string; run: Run }> {
  const sim = run(['simulate', '--port', '0', ...args]);
  const listening = await sim.waitFor((r) => r['type'] === 'listening');
  return { url: String(listening['url']), run: sim };
}

describe('market-monitor CLI', () => {
  it('simulate + stream: NDJSON states, quotes, trades and a summary; exit 0 at --max-messages', async () => {
    const sim = await simulator('--rate', '2000', '--seed', '3');
    expect(sim.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const stream = run([
      'stream',
      '--url',
      `${sim.url}/v2/iex`,
      '--quotes',
      'AAPL,MSFT',
      '--trades',
      'AAPL',
      '--max-messages',
      '40',
    ]);
    expect(await stream.exit).toBe(0);
    const types = new Set(stream.lines.map((l) => l['type']));
    // The market line comes from the simulator's REST API: its default session is regular.
    expect(types).toEqual(new Set(['state', 'market', 'quote', 'trade', 'summary']));
    expect(stream.lines.filter((l) => l['type'] === 'market')).toEqual([
      expect.objectContaining({ session: 'regular', feed: 'iex', quiet: false }),
    ]);
    expect(stream.lines.filter((l) => l['type'] === 'state').map((l) => l['state'])).toEqual([
      'idle',
      'connecting',
      'authenticating',
      'subscribing',
      'live',
      'stopped',
    ]);
    const quote = stream.lines.find((l) => l['type'] === 'quote')!;
    expect(Object.keys(quote).sort()).toEqual([
      'askPrice',
      'askSize',
      'bidPrice',
      'bidSize',
      'symbol',
      'time',
      'type',
    ]);
    expect(['AAPL', 'MSFT']).toContain(quote['symbol']);
    expect(quote['time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const summary = stream.lines.at(-1)!;
    expect(summary).toMatchObject({
      type: 'summary',
      reason: 'max-messages',
      state: 'stopped',
      printed: { total: 40 },
    });
    sim.run.child.kill('SIGTERM');
    expect(await sim.run.exit).toBe(0);
  });

  it('streams msgpack from the embedded simulator when given no URL and no keys', async () => {
    const stream = run(['stream', '--codec', 'msgpack', '--quotes', 'SPY', '--max-messages', '5']);
    expect(await stream.exit).toBe(0);
    expect(
      stream.lines.filter((l) => l['type'] === 'quote').every((l) => l['symbol'] === 'SPY'),
    ).toBe(true);
    expect(stream.lines.at(-1)).toMatchObject({ type: 'summary', printed: { total: 5 } });
  });

  it('exits 1 with the reason when auth is refused, after one attempt', async () => {
    const sim = await simulator('--key', 'right', '--secret', 'right');
    const stream = run(['stream', '--url', `${sim.url}/v2/iex`, '--quotes', 'AAPL'], {
      APCA_API_KEY_ID: 'wrong',
      APCA_API_SECRET_KEY: 'wrong',
    });
    expect(await stream.exit).toBe(1);
    expect(stream.lines).toContainEqual(expect.objectContaining({ type: 'error', code: 402 }));
    expect(stream.lines).toContainEqual(
      expect.objectContaining({ type: 'state', state: 'failed', code: 402 }),
    );
    expect(stream.lines.filter((l) => l['state'] === 'connecting')).toHaveLength(1);
    expect(stream.lines.at(-1)).toMatchObject({
      type: 'summary',
      reason: 'failed',
      state: 'failed',
    });
    // the secret never reaches the output
    expect(JSON.stringify(stream.lines) + stream.stderr()).not.toContain('wrong');
  });

  it('stops on SIGINT with exit 0 and a summary', async () => {
    const stream = run(['stream', '--quotes', 'AAPL']);
    await stream.waitFor((r) => r['type'] === 'quote');
    stream.child.kill('SIGINT');
    expect(await stream.exit).toBe(0);
    expect(stream.lines.at(-1)).toMatchObject({ type: 'summary', reason: 'signal' });
  });

  it('stops after --duration', async () => {
    const stream = run(['stream', '--trades', 'AAPL', '--duration', '0.5']);
    expect(await stream.exit).toBe(0);
    expect(stream.lines.at(-1)).toMatchObject({ type: 'summary', reason: 'duration' });
  });

  it('reports drops and reconnects as state lines and keeps streaming', async () => {
    const sim = await simulator('--rate', '1000', '--drop-after', '30');
    const stream = run([
      'stream',
      '--url',
      `${sim.url}/v2/iex`,
      '--quotes',
      'AAPL',
      '--max-messages',
      '80',
    ]);
    expect(await stream.exit).toBe(0);
    const states = stream.lines.filter((l) => l['type'] === 'state').map((l) => l['state']);
    expect(states.filter((s) => s === 'backoff').length).toBeGreaterThanOrEqual(2);
    expect(states.filter((s) => s === 'live').length).toBeGreaterThanOrEqual(3);
    expect(stream.lines.at(-1)).toMatchObject({ type: 'summary', printed: { total: 80 } });
  });

  it.each([
    [['stream', '--codec', 'xml'], /--codec must be one of json, msgpack/],
    [['stream', '--url', 'http://example.invalid'], /--url must be a ws/],
    [['stream', '--url', 'ws://127.0.0.1:1/v2/iex', '--feed', 'iex'], /either --url or --feed/],
    [['stream', '--quotes', 'AAPL,bad symbol!'], /not a symbol/],
    [['stream', '--max-messages', '0'], /--max-messages must be a whole number > 0/],
    [['stream', '--duration', 'soon'], /--duration must be a number > 0/],
    [['stream', '--key', 'only-a-key'], /both a key and a secret/],
    [['stream', '--bogus'], /Unknown option '--bogus'/],
    [['simulate', '--port', '70000'], /--port must be at most 65535/],
    [['simulate', '--rate', 'fast'], /--rate must be a number/],
    [['teleport'], /unknown command "teleport"/],
    [[], /missing command/],
  ])('usage error %j: exit 2 with one line on stderr', async (args, message) => {
    const r = run(args);
    expect(await r.exit).toBe(2);
    expect(r.stderr()).toMatch(message);
    expect(r.stderr().trim().split('\n')).toHaveLength(1);
    expect(r.lines).toEqual([]);
  });

  // Each command's --help prints its own usage on stdout and exits 0 without doing anything else:
  // `simulate` and `web` would otherwise run until a signal, and this test would time out.
  it.each([
    [['simulate', '--help'], SIMULATE_USAGE],
    [['simulate', '-h'], SIMULATE_USAGE],
    [['stream', '--help'], STREAM_USAGE],
    [['web', '--help'], WEB_USAGE],
    // Help wins over the rest of the line, even a bad value.
    [['simulate', '--port', '70000', '--help'], SIMULATE_USAGE],
    [['help', 'stream'], STREAM_USAGE],
    [['snapshot', '--help'], SNAPSHOT_USAGE],
    [['clock', '-h'], CLOCK_USAGE],
    [['help', 'bars'], BARS_USAGE],
  ])('%j prints that usage on stdout and exits 0', async (args, usage) => {
    const r = await runToEnd(args);
    expect(r).toEqual({ code: 0, stdout: `${usage}\n`, stderr: '' });
  });

  it('--help after -- is an argument, not a request for help', async () => {
    const r = await runToEnd(['simulate', '--', '--help']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^market-monitor: .*'--help'/);
  });

  it('help for an unknown command is a usage error', async () => {
    const r = await runToEnd(['help', 'teleport']);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'market-monitor: no help for "teleport": the commands are stream, snapshot, clock, bars, simulate, relay and web\n',
    });
  });
});
