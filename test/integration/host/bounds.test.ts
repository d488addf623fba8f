/**
 * The bridge's bounds across sockets (issue 15, finding 3): unanswered invokes per socket, unsent
 * bytes over all sockets, the number of sockets; and the property behind them: `market-monitor
 * web`, a real child process, attacked by sockets that pipeline diagnostics:export without reading,
 * keeps its RSS (read from /proc from outside) within a stated ratio of its idle figure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, type RawData } from 'ws';
import { startHost, type Host } from '../../../electron/host/server.ts';
import { RssSampler, idleRssMiB } from '../../../bench/lib/rss.ts';
import { FakeCore } from './fake-core.ts';

const BIN = fileURLToPath(new URL('../../../bin/market-monitor.js', import.meta.url));
const LOAD = fileURLToPath(new URL('../../../bench/hostile-load.ts', import.meta.url));

const hosts: Host[] = [];
const sockets: WebSocket[] = [];
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(hosts.splice(0).map((h) => h.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function host(options: Parameters<typeof startHost>[0]): Promise<Host> {
  const h = await startHost(options);
  hosts.push(h);
  return h;
}

function open(h: Host): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${h.port}/bridge?token=${h.token}`, {
    origin: h.origin,
  });
  sockets.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function texts(ws: WebSocket): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) return;
    const text = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
    out.push(JSON.parse(text.toString('utf8')) as Record<string, unknown>);
  });
  return out;
}

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('bridge bounds', () => {
  it('answers an invoke past maxPendingInvokes at once with a limit error, and keeps the socket', async () => {
    const core = new FakeCore();
    const h = await host({ core, staticDir: tmpdir(), maxPendingInvokes: 3 });
    const ws = await open(h);
    const got = texts(ws);
    await until(() => core.sessions.length === 1, 'the view');
    const session = core.sessions[0]!;
    session.held.add('watchlists:list');
    for (let id = 0; id < 5; id++) {
      ws.send(JSON.stringify({ type: 'invoke', id, command: 'watchlists:list', payload: {} }));
    }
    await until(() => got.length === 2, 'two refusals');
    expect(got.map((m) => m['id'])).toEqual([3, 4]);
    expect(got[0]?.['result']).toMatchObject({ ok: false, error: { code: 'limit' } });
    // Only the three admitted ones ran.
    expect(session.invoked).toHaveLength(3);
    session.release();
    await until(() => got.length === 5, 'the held answers');
    // Room again.
    session.held.clear();
    ws.send(JSON.stringify({ type: 'invoke', id: 9, command: 'watchlists:list', payload: {} }));
    await until(() => got.some((m) => m['id'] === 9), 'a later answer');
    expect(got.find((m) => m['id'] === 9)?.['result']).toMatchObject({ ok: true });
    expect(ws.readyState).toBe(ws.OPEN);
  });

  it('answers one diagnostics export a second per connection; the rest get a limit error', async () => {
    const core = new FakeCore();
    const h = await host({ core, staticDir: tmpdir() });
    const ws = await open(h);
    const got = texts(ws);
    await until(() => core.sessions.length === 1, 'the view');
    for (let id = 0; id < 5; id++) {
      ws.send(JSON.stringify({ type: 'invoke', id, command: 'diagnostics:export', payload: {} }));
    }
    await until(() => got.length === 5, 'five answers');
    const byId = new Map(got.map((m) => [m['id'], m['result'] as { ok: boolean }]));
    expect(byId.get(0)?.ok).toBe(true);
    for (const id of [1, 2, 3, 4]) {
      expect(byId.get(id)).toMatchObject({ ok: false, error: { code: 'limit' } });
    }
    // Only the first reached the core; other commands are not held back meanwhile.
    expect(
      core.sessions[0]!.invoked.filter((c) => c.command === 'diagnostics:export'),
    ).toHaveLength(1);
    ws.send(JSON.stringify({ type: 'invoke', id: 7, command: 'watchlists:list', payload: {} }));
    await until(() => got.some((m) => m['id'] === 7), 'another command');
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    ws.send(JSON.stringify({ type: 'invoke', id: 8, command: 'diagnostics:export', payload: {} }));
    await until(() => got.some((m) => m['id'] === 8), 'a later export');
    expect(got.find((m) => m['id'] === 8)?.['result']).toMatchObject({ ok: true });
  });

  it('closes the socket past maxSockets with 1013 and a reason, and opens no view for it', async () => {
    const core = new FakeCore();
    const h = await host({ core, staticDir: tmpdir(), maxSockets: 2 });
    await open(h);
    await open(h);
    const third = await open(h);
    const [code, reason] = await new Promise<[number, string]>((resolve) =>
      third.once('close', (c, r) => resolve([c, String(r)])),
    );
    expect(code).toBe(1013);
    expect(reason).toMatch(/too many bridge connections \(at most 2\)/);
    expect(core.opened).toBe(2);
    expect(h.connections).toBe(2);
  });

  it('past maxTotalBufferedBytes closes the socket furthest behind; a reading one goes on', async () => {
    const core = new FakeCore();
    const h = await host({
      core,
      staticDir: tmpdir(),
      maxBufferedBytes: 512 * 1024 * 1024,
      maxTotalBufferedBytes: 4 * 1024 * 1024,
    });
    const reader = await open(h);
    const readerGot = texts(reader);
    const stalled = await open(h);
    stalled.pause();
    await until(() => core.sessions.length === 2, 'two views');
    const [readerView, stalledView] = core.sessions;
    const stalledClosed = new Promise<void>((resolve) => stalled.once('close', () => resolve()));
    // 64 KiB events, pushed to both views until the stalled one is cut (or 64 MiB were sent).
    const payload = 'x'.repeat(64 * 1024);
    // Stop as soon as the server has let go of the stalled view: the client learns of the close
    // later, and pushing on meanwhile would put the reader behind too on a busy machine.
    for (let i = 0; i < 1024 && stalled.readyState === stalled.OPEN && !stalledView!.closed; i++) {
      stalledView!.sink.emit('log:entry', { payload } as never);
      readerView!.sink.emit('log:entry', { payload } as never);
      if (i % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    stalled.resume();
    await stalledClosed;
    await until(() => readerGot.length > 0, 'events on the reading socket');
    expect(reader.readyState).toBe(reader.OPEN);
  });
});

describe('market-monitor web under a pipelining bridge attack', () => {
  it('8 sockets pipelining diagnostics:export without reading: peak RSS stays within 2x idle', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'mm-bridge-rss-'));
    dirs.push(dataDir);
    const web = spawn(process.execPath, [BIN, 'web', '--data-dir', dataDir, '--port', '0'], {
      env: { ...process.env, APCA_API_KEY_ID: '', APCA_API_SECRET_KEY: '' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    children.push(web);
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: web.stdout }).once('line', resolve);
      web.once('exit', (code) => reject(new Error(`web exited ${String(code)}`)));
    });
    const url = line.slice(line.indexOf('http://'));
    // Warm-up: the core's simulator and client settle before the idle figure is taken.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const idle = await idleRssMiB(web.pid!, 10, 50);
    const load = spawn(
      process.execPath,
      [LOAD, 'bridge', JSON.stringify({ url, sockets: 8, durationMs: 6000 })],
      { stdio: ['pipe', 'ignore', 'inherit'] },
    );
    children.push(load);
    const sampler = new RssSampler(web.pid!, 50);
    const limit = 2 * idle;
    // Stop early once past the bound: the unbounded host would otherwise take gigabytes.
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (sampler.peak > limit || load.exitCode !== null) {
          clearInterval(check);
          resolve();
        }
      }, 50);
      load.once('exit', () => resolve());
    });
    const peak = sampler.stop();
    expect(peak / idle, `idle ${idle.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB`).toBeLessThan(2);
  }, 20_000);
});
