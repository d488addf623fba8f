/**
 * `market-monitor relay` as a user runs it: a real child process on loopback, its listening and
 * status lines, a client served through it, and a clean exit on SIGTERM.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, shut, until, type TestClient } from '../simulator/helpers.ts';

const BIN = fileURLToPath(new URL('../../../bin/market-monitor.js', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];
const clients: TestClient[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map(shut));
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function run(args: string[]): {
  lines: Record<string, unknown>[];
  stderr: () => string;
  exit: Promise<number | null>;
  child: ChildProcessWithoutNullStreams;
} {
  const child = spawn(process.execPath, [BIN, 'relay', ...args], {
    env: { ...process.env, APCA_API_KEY_ID: '', APCA_API_SECRET_KEY: '' },
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>); // every stdout line must be JSON
  });
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return { lines, stderr: () => stderr, exit, child };
}

describe('market-monitor relay', () => {
  it('prints its listening line, serves a client, reports status and exits 0 on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'relay-keys-'));
    dirs.push(dir);
    const file = join(dir, 'keys.json');
    await writeFile(file, JSON.stringify([{ key: 'bot', secret: 'bot-secret', maxSymbols: 5 }]));
    const r = run([
      '--port',
      '0',
      '--client-key',
      'K',
      '--client-secret',
      'S',
      '--client-keys',
      file,
      '--status-interval',
      '0.2',
    ]);
    await until(() => r.lines.length > 0, 'the listening line', 15_000);
    const listening = r.lines[0] ?? {};
    expect(listening).toMatchObject({ type: 'listening', upstream: 'simulator', feed: 'iex' });
    expect(String(listening.url)).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(listening.streamUrl).toBe(`${String(listening.url)}/v2/iex`);

    const c = await connect(String(listening.streamUrl), { auth: false });
    clients.push(c);
    c.send({ action: 'auth', key: 'bot', secret: 'bot-secret' });
    c.send({ action: 'subscribe', quotes: ['AAPL'] });
    await until(() => c.ofType('q').length > 0, 'quotes through the relay', 10_000);
    await until(
      () => r.lines.some((l) => l.type === 'status' && l.authenticated === 1),
      'a status line with the client',
    );
    const status = r.lines.find((l) => l.type === 'status' && l.authenticated === 1) ?? {};
    expect(status).toMatchObject({ clients: 1, upstream: { state: 'live' } });
    // the relay's upstream credentials are its own, never shown
    expect(JSON.stringify(r.lines)).not.toMatch(/SIM[0-9a-f]{24}/);
    // REST passes through on the same port with a relay key (to the embedded simulator's REST).
    const http = String(listening.url).replace(/^ws/, 'http');
    const clock = await fetch(`${http}/v2/clock`, {
      headers: { 'APCA-API-KEY-ID': 'bot', 'APCA-API-SECRET-KEY': 'bot-secret' },
    });
    expect(clock.status).toBe(200);
    expect(((await clock.json()) as { is_open: unknown }).is_open).toBeTypeOf('boolean');
    const refused = await fetch(`${http}/v2/clock`, {
      headers: { 'APCA-API-KEY-ID': 'bot', 'APCA-API-SECRET-KEY': 'wrong' },
    });
    expect(refused.status).toBe(401);
    await refused.arrayBuffer();

    r.child.kill('SIGTERM');
    expect(await r.exit).toBe(0);
    expect(await c.closed).toBe(1001);
    expect(r.lines.at(-1)).toMatchObject({ type: 'closed', signal: 'SIGTERM', clients: 0 });
  });

  it('refuses bad command lines with a usage error and exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--host', '0.0.0.0'],
        /--host 0\.0\.0\.0 is reachable from other machines: give client keys/,
      ],
      [['--upstream', 'alpaca'], /--upstream alpaca needs APCA_API_KEY_ID/],
      [['--client-key', 'K'], /give both --client-key and --client-secret/],
      [['--client-keys', '/nonexistent/keys.json'], /cannot read \/nonexistent\/keys\.json/],
      [['--publish', 'http://127.0.0.1:4222'], /--publish: .*use nats:\/\/HOST:PORT/],
    ];
    // At once: each is a Node start, which is most of the time here.
    const runs = cases.map(([args]) => run(args));
    const codes = await Promise.all(runs.map((r) => r.exit));
    expect(codes).toEqual(cases.map(() => 2));
    for (const [i, [, message]] of cases.entries()) {
      expect(runs[i]?.stderr()).toMatch(message);
      expect(runs[i]?.lines).toEqual([]);
    }
  });
});
