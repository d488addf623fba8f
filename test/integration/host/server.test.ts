/**
 * The browser-mode host over real sockets on loopback: static files from a real temp folder, the
 * bridge's gatekeeping (Host, Origin, token), the protocol, and what happens to view sessions.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type RawData } from 'ws';
import { decodeFrame, emptyFrame } from '../../../shared/frame-codec.ts';
import { buildFrame, FRAME_COLUMNS, SymbolIds, SymbolTable } from '../../../shared/frame.ts';
import { FRAME_HEADER_BYTES, startHost, type Host } from '../../../electron/host/server.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';
import { readFrame } from '../../support/frame-reader.ts';
import { waitFor } from '../../support/wait.ts';
import { FakeCore, makeFrame } from './fake-core.ts';

const SECRET = 'TOP-SECRET-OUTSIDE-THE-ROOT';
const INDEX =
  '<!doctype html><title>Market Monitor</title><script type="module" src="./assets/app.js"></script>';

let base: string;
let staticDir: string;
let emptyDir: string;
const hosts: Host[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'mm-host-'));
  staticDir = join(base, 'renderer');
  emptyDir = join(base, 'not-built');
  const outside = join(base, 'outside');
  await mkdir(join(staticDir, 'assets'), { recursive: true });
  await mkdir(emptyDir);
  await mkdir(outside);
  await writeFile(join(staticDir, 'index.html'), INDEX);
  await writeFile(join(staticDir, 'assets', 'app.js'), 'console.log("app");\n');
  await writeFile(join(staticDir, 'assets', 'app.css'), 'body { color: red; }\n');
  await writeFile(join(staticDir, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(join(staticDir, 'data.bin'), Buffer.from([1, 2, 3]));
  await writeFile(join(staticDir, '.env'), SECRET);
  await writeFile(join(outside, 'secret.txt'), SECRET);
  await writeFile(join(base, 'secret.txt'), SECRET);
  // Links: one leading out of the root (refused), one staying inside it (served).
  await symlink(outside, join(staticDir, 'out'));
  await symlink(join(outside, 'secret.txt'), join(staticDir, 'escape.txt'));
  await symlink(join(staticDir, 'logo.svg'), join(staticDir, 'alias.svg'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

async function host(
  options: { dir?: string; core?: FakeCore; ring?: LogRing; maxBufferedBytes?: number } = {},
): Promise<{ host: Host; core: FakeCore }> {
  const core = options.core ?? new FakeCore();
  const h = await startHost({
    core,
    staticDir: options.dir ?? staticDir,
    ...(options.ring ? { logger: ringLogger(options.ring) } : {}),
    ...(options.maxBufferedBytes ? { maxBufferedBytes: options.maxBufferedBytes } : {}),
  });
  hosts.push(h);
  return { host: h, core };
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function get(
  port: number,
  path: string,
  { method = 'GET', headers = {} }: { method?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends raw bytes and returns the status line of the answer (for requests http.request will not make). */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

type Opened = { ws: WebSocket; status?: undefined } | { ws?: undefined; status: number };

/** Opens a bridge socket with `ws` (which lets a test choose Origin and Host), or says how it was refused. */
function open(
  h: Host,
  {
    token = h.token,
    origin = h.origin,
    path,
    headers = {},
  }: {
    token?: string | null;
    origin?: string | null;
    path?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Opened> {
  const query = token === null ? '' : `?token=${encodeURIComponent(token)}`;
  const url = `ws://127.0.0.1:${h.port}${path ?? '/bridge'}${query}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      ...(origin === null ? {} : { origin }),
      headers,
    });
    sockets.push(ws);
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

/** Collects a socket's text messages (parsed) and binary messages. */
function record(ws: WebSocket): {
  texts: Array<Record<string, unknown>>;
  binaries: Buffer[];
  closed: Promise<number>;
} {
  const texts: Array<Record<string, unknown>> = [];
  const binaries: Buffer[] = [];
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
    if (isBinary) binaries.push(buf);
    else texts.push(JSON.parse(buf.toString('utf8')) as Record<string, unknown>);
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return { texts, binaries, closed };
}

function resultFor(
  texts: Array<Record<string, unknown>>,
  id: number,
): Record<string, unknown> | undefined {
  return texts.find((m) => m['type'] === 'result' && m['id'] === id);
}

describe('listening', () => {
  it('binds 127.0.0.1 only and prints a URL with the token in the fragment', async () => {
    const { host: h } = await host();
    expect(h.address()).toMatchObject({ address: '127.0.0.1', family: 'IPv4', port: h.port });
    expect(h.origin).toBe(`http://127.0.0.1:${h.port}`);
    expect(h.url).toBe(`http://127.0.0.1:${h.port}/#token=${h.token}`);
    expect(h.token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
    // A non-loopback address of this machine, where there is one, reaches nothing.
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i !== undefined && !i.internal && i.family === 'IPv4');
    if (external) {
      const refused = await new Promise<string>((resolve) => {
        const s = connect(h.port, external.address);
        s.on('connect', () => {
          s.destroy();
          resolve('connected');
        });
        s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      });
      expect(refused).toBe('ECONNREFUSED');
    }
  });

  it('makes a fresh token each run and refuses a weak one given', async () => {
    const a = await host();
    const b = await host();
    expect(a.host.token).not.toBe(b.host.token);
    await expect(startHost({ core: new FakeCore(), staticDir, token: 'short' })).rejects.toThrow(
      RangeError,
    );
    await expect(
      startHost({ core: new FakeCore(), staticDir, token: 'a b c d e f g h i j k' }),
    ).rejects.toThrow(RangeError);
    await expect(startHost({ core: new FakeCore(), staticDir, port: 70_000 })).rejects.toThrow(
      RangeError,
    );
  });
});

describe('static files', () => {
  it('serves index.html at / with its type, the CSP and the other security headers', async () => {
    const { host: h } = await host();
    const reply = await get(h.port, '/');
    expect(reply.status).toBe(200);
    expect(reply.body).toBe(INDEX);
    expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(reply.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${h.port} ws://localhost:${h.port}`);
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).toContain("form-action 'none'");
    expect(csp).not.toContain('unsafe');
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
    expect(reply.headers['referrer-policy']).toBe('no-referrer');
    expect(reply.headers['cross-origin-opener-policy']).toBe('same-origin');
    // The two that make the page cross-origin isolated (shared memory with its bridge worker).
    expect(reply.headers['cross-origin-embedder-policy']).toBe('require-corp');
  });

  it('serves assets with their content types; HEAD has headers and no body', async () => {
    const { host: h } = await host();
    const cases: Array<[string, string]> = [
      ['/assets/app.js', 'text/javascript; charset=utf-8'],
      ['/assets/app.css', 'text/css; charset=utf-8'],
      ['/logo.svg', 'image/svg+xml'],
      ['/alias.svg', 'image/svg+xml'], // a link that stays inside the root
      ['/data.bin', 'application/octet-stream'],
      ['/index.html?v=2', 'text/html; charset=utf-8'],
    ];
    for (const [path, type] of cases) {
      const reply = await get(h.port, path);
      expect(reply.status, path).toBe(200);
      expect(reply.headers['content-type'], path).toBe(type);
    }
    const head = await get(h.port, '/assets/app.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String('console.log("app");\n'.length));
    expect(head.body).toBe('');
  });

  it('answers 404 to every traversal attempt and never sends a file outside the root', async () => {
    const { host: h } = await host();
    const attempts = [
      '/../secret.txt',
      '/../outside/secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/%2e%2e%2fsecret.txt',
      '/.%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/%252e%252e/secret.txt',
      '/..\\secret.txt',
      '/%5c..%5csecret.txt',
      '/assets%5c..%5c..%5csecret.txt',
      '/index.html%00.js',
      '/%00',
      '//secret.txt',
      `/${encodeURIComponent(join(base, 'secret.txt'))}`,
      `/${join(base, 'secret.txt')}`,
      '/C:%5cWindows%5cwin.ini',
      '/index.html::$DATA',
      '/out/secret.txt',
      '/escape.txt',
      '/.env',
      '/assets',
      '/%e0%a4%a',
      '/nope.js',
    ];
    for (const path of attempts) {
      const reply = await get(h.port, path);
      expect(reply.status, path).toBe(404);
      expect(reply.body, path).not.toContain(SECRET);
    }
    // The absolute form of a request line names no file either.
    expect(
      await raw(
        h.port,
        `GET http://127.0.0.1:${h.port}/../secret.txt HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\nConnection: close\r\n\r\n`,
      ),
    ).toBe('HTTP/1.1 404 Not Found');
  });

  it('refuses a foreign Host header (DNS rebinding) and methods other than GET and HEAD', async () => {
    const { host: h } = await host();
    expect((await get(h.port, '/', { headers: { host: `evil.example:${h.port}` } })).status).toBe(
      421,
    );
    expect((await get(h.port, '/', { headers: { host: '127.0.0.1' } })).status).toBe(421);
    expect((await get(h.port, '/', { headers: { host: `127.0.0.1:${h.port + 1}` } })).status).toBe(
      421,
    );
    expect((await get(h.port, '/', { headers: { host: `localhost:${h.port}` } })).status).toBe(200);
    expect(await raw(h.port, 'GET / HTTP/1.0\r\n\r\n')).toBe('HTTP/1.1 421 Misdirected Request');
    const post = await get(h.port, '/', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
    expect((await get(h.port, '/bridge')).status).toBe(426);
  });

  it('says the renderer is not built when there is no index.html, and the bridge still works', async () => {
    const { host: h } = await host({ dir: emptyDir });
    const reply = await get(h.port, '/');
    expect(reply.status).toBe(503);
    expect(reply.body).toContain('renderer not built: run npm run build');
    const missingDir = await host({ dir: join(base, 'does-not-exist') });
    expect((await get(missingDir.host.port, '/')).status).toBe(503);
    const opened = await open(h);
    expect(opened.ws).toBeDefined();
  });
});

describe('bridge gatekeeping', () => {
  it('refuses a missing or wrong token with 401 and opens no view', async () => {
    const ring = new LogRing();
    const { host: h, core } = await host({ ring });
    expect((await open(h, { token: null })).status).toBe(401);
    expect((await open(h, { token: '' })).status).toBe(401);
    expect((await open(h, { token: 'x'.repeat(h.token.length) })).status).toBe(401);
    expect((await open(h, { token: h.token.slice(0, -1) })).status).toBe(401);
    expect((await open(h, { token: `${h.token}A` })).status).toBe(401);
    expect(core.opened).toBe(0);
    // The first of each kind in full, the rest counted (see log-safety.test.ts).
    const refusals = ring
      .records()
      .filter((r) => String(r.msg).startsWith('bridge connection refused'));
    expect(refusals.map((r) => [r.msg, r['status']])).toEqual([
      ['bridge connection refused: no token', 401],
      ['bridge connection refused: wrong token', 401],
    ]);
    await h.close();
    expect(ring.records().filter((r) => r['kind'] !== undefined)).toEqual([
      expect.objectContaining({ kind: 'bridge connection refused: wrong token', count: 3 }),
    ]);
    expect(JSON.stringify(ring.records())).not.toContain(h.token);
  });

  it('refuses a foreign or missing Origin with 403, even with the right token', async () => {
    const { host: h, core } = await host();
    expect((await open(h, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await open(h, { origin: `http://evil.example:${h.port}` })).status).toBe(403);
    expect((await open(h, { origin: `https://127.0.0.1:${h.port}` })).status).toBe(403);
    expect((await open(h, { origin: `http://127.0.0.1:${h.port + 1}` })).status).toBe(403);
    expect((await open(h, { origin: 'null' })).status).toBe(403);
    expect((await open(h, { origin: null })).status).toBe(403);
    expect(core.opened).toBe(0);
    expect((await open(h, { origin: `http://localhost:${h.port}` })).ws).toBeDefined();
    expect(core.opened).toBe(1);
  });

  it('refuses other paths and a foreign Host on the upgrade', async () => {
    const { host: h, core } = await host();
    expect((await open(h, { path: '/bridge/' })).status).toBe(404);
    expect((await open(h, { path: '/' })).status).toBe(404);
    expect((await open(h, { path: '//evil.example/bridge' })).status).toBe(404);
    expect((await open(h, { path: '/Bridge' })).status).toBe(404);
    expect((await open(h, { headers: { host: `evil.example:${h.port}` } })).status).toBe(421);
    expect(core.opened).toBe(0);
  });
});

describe('bridge protocol', () => {
  it('answers invokes, pushes events and sends frames as binary messages', async () => {
    const { host: h, core } = await host();
    const { ws } = await open(h);
    const log = record(ws!);
    await waitFor(() => core.opened === 1, { what: 'a view' });
    const session = core.sessions[0]!;

    ws!.send(JSON.stringify({ type: 'invoke', id: 1, command: 'watchlists:list', payload: {} }));
    ws!.send(
      JSON.stringify({
        type: 'invoke',
        id: 2,
        command: 'watchlists:create',
        payload: { name: 42 },
      }),
    );
    ws!.send(JSON.stringify({ type: 'invoke', id: 3, command: 'no:such' }));
    await waitFor(() => log.texts.length >= 3, { what: 'three results' });
    expect(resultFor(log.texts, 1)).toMatchObject({
      result: { ok: true, value: [{ id: 'default' }] },
    });
    expect(resultFor(log.texts, 2)).toMatchObject({
      result: { ok: false, error: { code: 'bad-request' } },
    });
    expect(resultFor(log.texts, 3)).toMatchObject({
      result: { ok: false, error: { code: 'unknown-command' } },
    });

    session.sink.emit('notices:update', [{ id: 'n1', level: 'info', message: 'hello', at: 5 }]);
    await waitFor(() => log.texts.some((m) => m['type'] === 'event'), { what: 'an event' });
    expect(log.texts.find((m) => m['type'] === 'event')).toEqual({
      type: 'event',
      event: 'notices:update',
      payload: [{ id: 'n1', level: 'info', message: 'hello', at: 5 }],
    });

    ws!.send(JSON.stringify({ type: 'frame', id: 0xffff_fffe }));
    await waitFor(() => session.waiting, { what: 'a pending frame request' });
    const frame = makeFrame(1, ['AAPL', 'MSFT', 'BTC/USD']);
    session.push(frame);
    await waitFor(() => log.binaries.length === 1, { what: 'a frame' });
    const message = log.binaries[0]!;
    expect(message.readUInt32LE(0)).toBe(0xffff_fffe);
    expect(message.readUInt32LE(4)).toBe(0);
    const decoded = readFrame(decodeFrame(message.subarray(FRAME_HEADER_BYTES)));
    expect(decoded.symbols).toEqual(['AAPL', 'MSFT', 'BTC/USD']);
    expect(decoded.seq).toBe(1);
    expect(decoded.full).toBe(true);
    expect([...decoded.askPrice]).toEqual([...readFrame(frame).askPrice]);
    expect(Number.isNaN(decoded.quoteTime[0])).toBe(true);
  });

  it('answers a superseded frame request with a failed result, and the newer one with the frame', async () => {
    const { host: h, core } = await host();
    const { ws } = await open(h);
    const log = record(ws!);
    await waitFor(() => core.opened === 1);
    ws!.send(JSON.stringify({ type: 'frame', id: 10 }));
    await waitFor(() => core.sessions[0]!.waiting);
    ws!.send(JSON.stringify({ type: 'frame', id: 11 }));
    await waitFor(() => resultFor(log.texts, 10) !== undefined, { what: 'the superseded answer' });
    expect(resultFor(log.texts, 10)).toMatchObject({
      result: { ok: false, error: { code: 'conflict' } },
    });
    core.sessions[0]!.push(makeFrame(2, ['SPY']));
    await waitFor(() => log.binaries.length === 1);
    expect(log.binaries[0]!.readUInt32LE(0)).toBe(11);
  });

  it('blanks a symbol that cannot be encoded (its rows are ignored) and sends the rest', async () => {
    const ring = new LogRing();
    const { host: h, core } = await host({ ring });
    const { ws } = await open(h);
    const log = record(ws!);
    await waitFor(() => core.opened === 1);
    const session = core.sessions[0]!;
    // Ids of this view alone, as a cursor numbers them: 0..5 here, 6 in the next frame.
    const ids = new SymbolIds();
    const symbols = ['AAPL', 'BAD\ud800', 'MSFT', 'x'.repeat(70_000), '', 'É'];
    const frame = buildFrame(
      { seq: 1, builtAt: 1_700_000_000_001, conflated: 3, full: true },
      symbols.map((symbol, i) => ({ symbol, values: { bidPrice: i } })),
      ids,
    );
    ws!.send(JSON.stringify({ type: 'frame', id: 1 }));
    await waitFor(() => session.waiting, { what: 'a pending frame request' });
    session.push(frame);
    await waitFor(() => log.binaries.length === 1, { what: 'the repaired frame' });
    const decoded = decodeFrame(log.binaries[0]!.subarray(FRAME_HEADER_BYTES));
    expect(decoded).toMatchObject({ seq: 1, full: true, conflated: 3, builtAt: frame.builtAt });
    // Every row goes; the page resolves the blanked ids to nothing and skips those rows.
    const table = new SymbolTable();
    table.learn(decoded);
    expect(table.symbolsOf(decoded)).toEqual([
      'AAPL',
      undefined,
      'MSFT',
      undefined,
      undefined,
      'É',
    ]);
    expect([...decoded.values]).toEqual([...frame.values]);
    expect(resultFor(log.texts, 1)).toBeUndefined();
    const warned = ring.records().filter((r) => /cannot be encoded/.test(r.msg ?? ''));
    expect(warned).toHaveLength(1);
    // '' needs no blanking: on the wire it already means "not carried".
    expect(warned[0]).toMatchObject({
      level: 40,
      symbols: 2,
      symbol: JSON.stringify('BAD\ud800'),
    });

    // The next one is logged at debug only; a frame whose only symbol is bad still goes.
    ws!.send(JSON.stringify({ type: 'frame', id: 2 }));
    await waitFor(() => session.waiting);
    session.push({
      ...emptyFrame(2, 1_700_000_000_002),
      rows: Int32Array.of(ids.idOf('\udfff')),
      symbolBase: 6,
      newSymbols: ['\udfff'],
      values: new Float64Array(FRAME_COLUMNS.length),
    });
    await waitFor(() => log.binaries.length === 2, { what: 'the second frame' });
    const blank = decodeFrame(log.binaries[1]!.subarray(FRAME_HEADER_BYTES));
    expect(blank).toMatchObject({ seq: 2, newSymbols: [''] });
    table.learn(blank);
    expect(table.symbolsOf(blank)).toEqual([undefined]);
    const later = ring.records().filter((r) => /cannot be encoded/.test(r.msg ?? ''));
    expect(later.map((r) => r.level)).toEqual([40, 20]);
    expect(later[1]).toMatchObject({ total: 3 });

    // A frame no row explains (a bad header) cannot be sent: answered, and the socket stays open.
    ws!.send(JSON.stringify({ type: 'frame', id: 3 }));
    await waitFor(() => session.waiting);
    session.push({ ...makeFrame(3, ['SPY']), seq: -1 });
    await waitFor(() => resultFor(log.texts, 3) !== undefined, { what: 'the failure answer' });
    expect(resultFor(log.texts, 3)).toMatchObject({
      result: { ok: false, error: { code: 'internal' } },
    });
    ws!.send(JSON.stringify({ type: 'frame', id: 4 }));
    await waitFor(() => session.waiting);
    session.push(makeFrame(4, ['SPY']));
    await waitFor(() => log.binaries.length === 3, { what: 'a frame after the failure' });
    expect(log.binaries[2]!.readUInt32LE(0)).toBe(4);
  });

  it('survives malformed messages: bad fields get bad-request, garbage closes only that socket', async () => {
    const ring = new LogRing();
    const { host: h, core } = await host({ ring });
    const good = await open(h);
    const goodLog = record(good.ws!);

    // Answerable: the socket stays open.
    const a = await open(h);
    const aLog = record(a.ws!);
    a.ws!.send(JSON.stringify({ type: 'subscribe', id: 1 }));
    a.ws!.send(JSON.stringify({ type: 'invoke', id: 2, command: { evil: true } }));
    a.ws!.send(JSON.stringify({ type: 'invoke', id: 3, command: 'x'.repeat(10_000) }));
    await waitFor(() => aLog.texts.length === 3, { what: 'three answers' });
    for (const id of [1, 2, 3]) {
      expect(resultFor(aLog.texts, id)).toMatchObject({
        result: { ok: false, error: { code: 'bad-request' } },
      });
    }
    expect(a.ws!.readyState).toBe(WebSocket.OPEN);

    // Unanswerable: the socket is closed with a protocol code, its view with it.
    const garbage: Array<[string | Buffer, number]> = [
      ['not json', 1008],
      ['[1,2,3]', 1008],
      ['null', 1008],
      [JSON.stringify({ type: 'invoke', command: 'watchlists:list' }), 1008],
      [JSON.stringify({ type: 'invoke', id: -1, command: 'watchlists:list' }), 1008],
      [JSON.stringify({ type: 'invoke', id: 1.5, command: 'watchlists:list' }), 1008],
      [JSON.stringify({ type: 'invoke', id: 2 ** 32, command: 'watchlists:list' }), 1008],
      [JSON.stringify({ type: 'invoke', id: '1', command: 'watchlists:list' }), 1008],
      [Buffer.from([0xde, 0xad, 0xbe, 0xef]), 1003],
    ];
    for (const [message, code] of garbage) {
      const bad = await open(h);
      const badLog = record(bad.ws!);
      bad.ws!.send(message);
      expect(await badLog.closed, String(message)).toBe(code);
    }
    // Too large for maxPayload: ws closes with 1009.
    const big = await open(h);
    const bigLog = record(big.ws!);
    big.ws!.send('x'.repeat(1024 * 1024 + 1));
    expect(await bigLog.closed).toBe(1009);

    await waitFor(() => core.open.length === 2, { what: 'only the two good views left' });
    good.ws!.send(
      JSON.stringify({ type: 'invoke', id: 7, command: 'watchlists:list', payload: {} }),
    );
    await waitFor(() => resultFor(goodLog.texts, 7) !== undefined);
    expect(resultFor(goodLog.texts, 7)).toMatchObject({ result: { ok: true } });
    expect(ring.records().some((r) => r.msg === 'bridge message refused: not JSON')).toBe(true);
    expect(ring.records()).toContainEqual(
      expect.objectContaining({ msg: 'bridge message refused: binary', length: 4 }),
    );
    // The length of a refused message is logged, never its text.
    expect(ring.records().some((r) => 'excerpt' in r)).toBe(false);
    expect(ring.records().some((r) => Object.values(r).some((v) => /"type"/.test(String(v))))).toBe(
      false,
    );
  });

  it('opens one view per socket and closes it when the socket closes', async () => {
    const { host: h, core } = await host();
    const a = await open(h);
    const b = await open(h);
    await waitFor(() => core.opened === 2 && h.connections === 2);
    a.ws!.close();
    await waitFor(() => core.sessions[0]!.closed, { what: 'the first view closed' });
    expect(core.sessions[1]!.closed).toBe(false);
    b.ws!.terminate();
    await waitFor(() => core.sessions[1]!.closed && h.connections === 0, {
      what: 'both views closed',
    });
  });

  it('closes the socket when the core cannot open a view', async () => {
    const ring = new LogRing();
    const core = new FakeCore();
    core.failNextOpen = true;
    const { host: h } = await host({ core, ring });
    const { ws } = await open(h);
    const log = record(ws!);
    expect(await log.closed).toBe(1011);
    expect(
      ring.records().some((r) => r.msg === 'opening a view failed' && r['err'] !== undefined),
    ).toBe(true);
    expect((await open(h)).ws).toBeDefined();
  });

  it('closes a socket whose reader stopped reading once its backlog passes maxBufferedBytes', async () => {
    const ring = new LogRing();
    const { host: h, core } = await host({ ring, maxBufferedBytes: 256 * 1024 });
    const { ws } = await open(h);
    await waitFor(() => core.opened === 1);
    // Stop reading: the kernel buffers fill, then ws's own buffer grows.
    (ws as unknown as { _socket: Socket })._socket.pause();
    const session = core.sessions[0]!;
    const payload = [{ id: 'n', level: 'info' as const, message: 'x'.repeat(64 * 1024), at: 1 }];
    for (let i = 0; i < 2000 && !session.closed; i++) {
      session.sink.emit('notices:update', payload);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => session.closed, { what: 'the view closed' });
    expect(ring.records().some((r) => r.msg === 'bridge client stopped reading; closing')).toBe(
      true,
    );
  });

  it('close() ends every socket and view and is idempotent', async () => {
    const { host: h, core } = await host();
    const a = await open(h);
    const aLog = record(a.ws!);
    await waitFor(() => core.opened === 1);
    await Promise.all([h.close(), h.close()]);
    expect(await aLog.closed).toBe(1001);
    expect(core.sessions[0]!.closed).toBe(true);
    await expect(get(h.port, '/')).rejects.toThrow(/ECONNREFUSED/);
  });
});
