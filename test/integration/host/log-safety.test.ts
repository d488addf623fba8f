/**
 * What the browser-mode host writes to the log, where every record also reaches the log ring, the
 * diagnostics export and (as 'log:entry') every open view: no message content (a refused message
 * may carry API keys), one record per failing socket (not a record per failed send, which fed a
 * log -> event -> failed send loop across dead sockets), and refusals before authentication
 * summed up instead of one record each (any web page can make the browser send them).
 */
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createCoreLogger } from '../../../electron/core/logging.ts';
import { MemorySecretStore } from '../../../electron/core/memory-secrets.ts';
import { MonitorCore } from '../../../electron/core/monitor-core.ts';
import { excerpt, startHost, type Host, type HostOptions } from '../../../electron/host/server.ts';
import { LogRing, ringLogger, type LogRecord, type Logger } from '../../../electron/stream/log.ts';
import type { DiagnosticsBundle, Result } from '../../../shared/api.ts';
import { waitFor } from '../../support/wait.ts';
import { FakeCore } from './fake-core.ts';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mm-host-log-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The real core and the host, logging at `level` into one ring, as `market-monitor web` does. */
async function realCoreAndHost(
  level: 'debug' | 'info' | 'warn',
): Promise<{ core: MonitorCore; host: Host; ring: LogRing; logger: Logger }> {
  const dir = await tempDir();
  const { logger, ring } = createCoreLogger({ level, capacity: 2_000 });
  const core = await MonitorCore.create({
    userDataDir: dir,
    secrets: new MemorySecretStore(),
    app: { name: 'test', version: '0', platform: process.platform, runtime: process.version },
    logger,
    logRing: ring,
    simulator: { rate: 50, seed: 5 },
  });
  cleanups.push(() => core.close());
  const host = await startHost({ core, staticDir: join(dir, 'no-renderer'), logger });
  cleanups.push(() => host.close());
  return { core, host, ring, logger };
}

/** The host over a FakeCore, logging at debug into a ring. */
async function fakeHost(
  options: Partial<HostOptions> = {},
): Promise<{ host: Host; core: FakeCore; ring: LogRing }> {
  const ring = new LogRing(5_000);
  const core = new FakeCore();
  const host = await startHost({
    core,
    staticDir: join(tmpdir(), 'mm-host-log-no-renderer'),
    logger: ringLogger(ring, 'debug'),
    ...options,
  });
  cleanups.push(() => host.close());
  return { host, core, ring };
}

function openBridge(host: Host, origin = host.origin): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/bridge?token=${host.token}`, {
      origin,
      perMessageDeflate: false,
    });
    cleanups.push(() => {
      ws.terminate();
      return Promise.resolve();
    });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

async function bridge(host: Host): Promise<WebSocket> {
  const ws = await openBridge(host);
  if (typeof ws === 'number') throw new Error(`the bridge refused the socket: ${ws}`);
  return ws;
}

/** Sends one text message; resolves with the result for `id`, or with the close code. */
function request(ws: WebSocket, text: string, id: number): Promise<unknown> {
  return new Promise((resolve) => {
    const onMessage = (data: Buffer, binary: boolean): void => {
      if (binary) return;
      const m = JSON.parse(data.toString()) as { type?: string; id?: number; result?: unknown };
      if (m.type === 'result' && m.id === id) done(m.result);
    };
    const onClose = (code: number): void => done({ closed: code });
    const done = (value: unknown): void => {
      ws.off('message', onMessage);
      ws.off('close', onClose);
      resolve(value);
    };
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.send(text);
  });
}

function get(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path: '/', headers: { host }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Sends raw bytes and resolves with the answer's status line. */
function raw(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

const withMsg = (ring: LogRing, pattern: RegExp): LogRecord[] =>
  ring.records().filter((r) => pattern.test(r.msg ?? ''));

describe('refused bridge messages', () => {
  const KEY_ID = 'PKLOGSAFETY0123456789';
  const SECRET = 'log-safety-secret-value-0123456789abcdef';

  it('never put the message, or a part of a key in it, into the log or the export', async () => {
    const { host, ring } = await realCoreAndHost('debug');
    const ws = await bridge(host);
    // The core knows the keys (its Redactor censors them whole) before the refused message.
    const set = (await request(
      ws,
      JSON.stringify({
        type: 'invoke',
        id: 1,
        command: 'credentials:set',
        payload: { keyId: KEY_ID, secret: SECRET, memoryOnly: true },
      }),
      1,
    )) as Result<unknown>;
    expect(set.ok).toBe(true);

    const credentials = `"payload":{"keyId":"${KEY_ID}","secret":"${SECRET}"}`;
    const refused: Array<[string, RegExp]> = [
      // No id: the first 80 characters of this used to be logged, a cut-off key among them.
      [`{"type":"invoke","command":"credentials:set",${credentials}}`, /no usable id/],
      [`{"type":"invoke","id":-1,"command":"credentials:set",${credentials}}`, /no usable id/],
      [`{"type":"${KEY_ID}",${credentials}}`, /no usable id/],
      [`["${KEY_ID}","${SECRET}"]`, /no usable id/],
      [`{"type":"invoke","command":"credentials:set",${credentials}`, /not JSON/], // cut short
    ];
    for (const [text] of refused) {
      const bad = await bridge(host);
      expect(await request(bad, text, -1)).toEqual({ closed: 1008 });
    }

    const exported = (await request(
      ws,
      JSON.stringify({ type: 'invoke', id: 2, command: 'diagnostics:export', payload: {} }),
      2,
    )) as Result<DiagnosticsBundle>;
    expect(exported.ok).toBe(true);
    const bundle = JSON.stringify(exported.ok ? exported.value : null);
    const log = JSON.stringify(ring.records());
    for (const part of [KEY_ID.slice(0, 8), SECRET.slice(0, 8)]) {
      expect(bundle.includes(part), `${part} in the export`).toBe(false);
      expect(log.includes(part), `${part} in the log`).toBe(false);
    }
    // What is logged instead: the length, and the type and command when they are the protocol's.
    const lines = withMsg(ring, /^bridge message refused/);
    expect(lines).toHaveLength(refused.length);
    lines.forEach((line, i) => expect(line.msg).toMatch(refused[i]![1]));
    expect(lines[0]).toMatchObject({
      length: refused[0]![0].length,
      type: 'invoke',
      command: 'credentials:set',
      id: 'missing',
    });
    expect(lines[0]).not.toHaveProperty('excerpt');
    expect(lines[1]).toMatchObject({ type: 'invoke', command: 'credentials:set', id: -1 });
    expect(lines[2]).toMatchObject({ type: 'a string', id: 'missing' });
    expect(lines[3]).toMatchObject({ shape: 'an array' });
    expect(lines[4]).toEqual(expect.objectContaining({ length: refused[4]![0].length }));
    expect(Object.keys(lines[4]!)).not.toContain('type');
  });

  it('names neither an unknown command nor an unknown type', async () => {
    const { host, ring } = await fakeHost();
    const bad = await bridge(host);
    const text = JSON.stringify({ type: `x-${KEY_ID}`, command: `y-${SECRET}`, id: 'one' });
    expect(await request(bad, text, -1)).toEqual({ closed: 1008 });
    await waitFor(() => withMsg(ring, /no usable id/).length === 1);
    expect(withMsg(ring, /no usable id/)[0]).toMatchObject({
      length: text.length,
      type: 'a string',
      command: 'a string',
      id: 'a string',
    });
    expect(JSON.stringify(ring.records())).not.toContain(KEY_ID.slice(0, 8));
  });
});

describe('sockets that fail', () => {
  it('a vanished tab is logged once, not once per failed send fed back to the other tabs', async () => {
    // The real core turns every record into a 'log:entry' for every view: the loop's other half.
    const { core, host, ring, logger } = await realCoreAndHost('debug');
    const N = 8;
    const tabs: WebSocket[] = [];
    for (let i = 0; i < N; i++) tabs.push(await bridge(host));
    await waitFor(() => core.viewCount === N, { what: 'the views at the core' });
    // Tabs that stopped reading (hung, crashed): what the host sends piles up unread.
    for (const ws of tabs) (ws as unknown as { _socket: Socket })._socket.pause();

    // In one go, so that nothing is read in between: data the tabs leave unread, then every tab
    // vanishes without a close frame (unread data makes that a reset, as when a browser dies),
    // then the records keep coming, and each is sent to every tab the host still thinks open.
    const field = 'f'.repeat(480);
    const big = Object.fromEntries(Array.from({ length: 18 }, (_, i) => [`f${i}`, field]));
    for (let i = 0; i < 100; i++) logger.debug(big, 'm'.repeat(1_900));
    for (const ws of tabs) ws.terminate();
    for (let i = 0; i < 50; i++) logger.debug({ i }, 'chatter');

    await waitFor(() => core.viewCount === 0 && host.connections === 0, {
      timeoutMs: 15_000,
      what: 'every view released',
    });
    const failures = withMsg(ring, /^bridge (send failed|socket error)$/);
    expect(failures.length, 'the scenario made sends fail').toBeGreaterThan(0);
    const perConnection = new Map<unknown, number>();
    for (const r of failures) {
      perConnection.set(r['connection'], (perConnection.get(r['connection']) ?? 0) + 1);
    }
    expect(Math.max(...perConnection.values()), 'records for one connection').toBe(1);
    expect(failures.length).toBeLessThanOrEqual(N);
    // The upgrade's error listener is gone once ws has the socket: no second record per error.
    expect(withMsg(ring, /socket error during upgrade/)).toEqual([]);
    // A host that still works: a new tab gets answers.
    const fresh = await bridge(host);
    const listed = (await request(
      fresh,
      JSON.stringify({ type: 'invoke', id: 1, command: 'watchlists:list', payload: {} }),
      1,
    )) as Result<unknown>;
    expect(listed.ok).toBe(true);
  });
});

describe('refusals before authentication', () => {
  it('log the first of each kind and then a count, so they cannot flush the real records', async () => {
    let now = 1_000_000;
    const { host, ring } = await fakeHost({ now: () => now, refusalLogIntervalMs: 10_000 });
    const before = ring.records().length;
    expect(ring.records().some((r) => r.msg === 'browser-mode host listening')).toBe(true);

    const batch = 25;
    for (let i = 0; i < 400; i += batch) {
      const codes = await Promise.all(
        Array.from({ length: batch }, (_, j) =>
          get(host.port, `rebind-${i + j}.attacker.example:${host.port}`),
        ),
      );
      expect(codes.every((c) => c === 421)).toBe(true);
    }
    for (let i = 0; i < 30; i++) {
      expect(await openBridge(host, `http://page-${i}.attacker.example`)).toBe(403);
    }
    const foreignHost = withMsg(ring, /foreign Host header/);
    expect(foreignHost).toHaveLength(1);
    expect(foreignHost[0]).toMatchObject({
      level: 40,
      msg: 'request refused: foreign Host header',
      host: `rebind-0.attacker.example:${host.port}`,
    });
    const foreignOrigin = withMsg(ring, /foreign or missing Origin/);
    expect(foreignOrigin).toHaveLength(1);
    expect(foreignOrigin[0]).toMatchObject({
      status: 403,
      origin: 'http://page-0.attacker.example',
    });
    expect(ring.records().length).toBeLessThan(before + 10);

    // The interval passes: the next refusal of a kind brings its count, in one line.
    now += 10_000;
    expect(await get(host.port, `late.attacker.example:${host.port}`)).toBe(421);
    const summaries = withMsg(ring, /more refusals of kind/);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({
      level: 40,
      kind: 'request refused: foreign Host header',
      count: 400,
      seconds: 10,
    });
    expect(JSON.stringify(summaries[0])).not.toContain('attacker');
    // After a quiet interval the next one is logged in full again.
    now += 10_000;
    expect(await get(host.port, `again.attacker.example:${host.port}`)).toBe(421);
    expect(withMsg(ring, /foreign Host header$/).map((r) => r['host'])).toEqual([
      `rebind-0.attacker.example:${host.port}`,
      `again.attacker.example:${host.port}`,
    ]);
    expect(ring.records().some((r) => r.msg === 'browser-mode host listening')).toBe(true);
    // Closing the host writes the counts not yet written.
    await host.close();
    expect(withMsg(ring, /more refusals of kind/).map((r) => [r['kind'], r['count']])).toEqual([
      ['request refused: foreign Host header', 400],
      ['bridge connection refused: foreign or missing Origin', 29],
    ]);
  });

  it('the count comes by itself at the end of the interval when no refusal follows', async () => {
    const { host, ring } = await fakeHost({ refusalLogIntervalMs: 50 });
    for (let i = 0; i < 5; i++) {
      expect(await openBridge(host, `http://page-${i}.attacker.example`)).toBe(403);
    }
    // Each refusal is either a full line or counted in a summary that a timer writes.
    const accounted = (): number =>
      withMsg(ring, /foreign or missing Origin$/).length +
      withMsg(ring, /more refusals of kind/).reduce((sum, r) => sum + Number(r['count']), 0);
    await waitFor(() => accounted() === 5, { what: 'every refusal accounted for' });
    expect(withMsg(ring, /more refusals of kind/).length).toBeGreaterThan(0);
  });

  it('each kind is logged once: unknown path, no token, wrong token, foreign Host on upgrade', async () => {
    const { host, ring, core } = await fakeHost({ now: () => 0 });
    const open = (path: string, headers: Record<string, string> = {}): Promise<number> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${host.port}${path}`, {
          origin: host.origin,
          headers,
        });
        ws.once('open', () => reject(new Error('opened')));
        ws.once('unexpected-response', (_req, res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.once('error', reject);
      });
    for (let i = 0; i < 5; i++) {
      expect(await open(`/nope-${i}`)).toBe(404);
      expect(await open('/bridge')).toBe(401);
      expect(await open(`/bridge?token=${'x'.repeat(40)}`)).toBe(401);
      expect(await open('/bridge', { host: `evil-${i}.example:${host.port}` })).toBe(421);
    }
    expect(core.opened).toBe(0);
    const refusals = withMsg(ring, /^bridge connection refused/);
    expect(refusals.map((r) => [r.msg, r['status']])).toEqual([
      ['bridge connection refused: unknown path', 404],
      ['bridge connection refused: no token', 401],
      ['bridge connection refused: wrong token', 401],
      ['bridge connection refused: foreign Host header', 421],
    ]);
    expect(refusals[0]).toMatchObject({ path: '/nope-0' });
    expect(JSON.stringify(ring.records())).not.toContain(host.token);
  });

  it('keep only a short, printable excerpt of what the sender chose', async () => {
    expect(excerpt(undefined)).toBeNull();
    expect(excerpt('evil.example:1234')).toBe('evil.example:1234');
    expect(excerpt('a\u0000b\u00e9c\ud83d\ude00d\u202e')).toBe('a?b?c??d?');
    const long = excerpt('h'.repeat(5_000));
    expect(long).toBe(`${'h'.repeat(64)}... (5000 chars)`);

    const { host, ring } = await fakeHost();
    const name = Buffer.concat([
      Buffer.from('GET / HTTP/1.1\r\nHost: '),
      Buffer.from([0xc3, 0xa9, 0xe2, 0x80, 0xae]), // é and a right-to-left override, in UTF-8
      Buffer.from(`${'x'.repeat(300)}\r\nConnection: close\r\n\r\n`),
    ]);
    expect(await raw(host.port, name)).toBe('HTTP/1.1 421 Misdirected Request');
    const [line] = withMsg(ring, /foreign Host header/);
    expect(String(line?.['host'])).toMatch(/^[\x20-\x7e]+$/);
    expect(String(line?.['host']).length).toBeLessThan(100);
  });

  it('malformed HTTP is logged once with its error code, not its bytes', async () => {
    const { host, ring } = await fakeHost({ now: () => 0 });
    for (let i = 0; i < 5; i++) {
      expect(await raw(host.port, Buffer.from(`BOGUS-${i} \u0001\r\n\r\n`))).toBe(
        'HTTP/1.1 400 Bad Request',
      );
    }
    const lines = withMsg(ring, /malformed HTTP request/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 20 });
    expect(String(lines[0]!['code'])).toMatch(/^HPE_/);
    expect(JSON.stringify(lines[0])).not.toContain('BOGUS');
  });
});
