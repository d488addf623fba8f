/**
 * Cancellation, sharing of identical requests in flight, and close(), seen from both ends: the
 * caller's promise and the server's socket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AlpacaRest } from '../../../electron/rest/alpaca-rest.ts';
import { RestError } from '../../../electron/rest/errors.ts';
import {
  pause,
  sendJson,
  startHttpServer,
  type ScriptedHttpServer,
} from '../../support/scripted-http.ts';
import { VirtualClock } from '../../support/virtual-clock.ts';
import { waitFor } from '../../support/wait.ts';
import { CLOCK_BODY, KEY_ID, SECRET, clientFor, type TestClient } from './fixtures.ts';

let server: ScriptedHttpServer | undefined;
let client: TestClient | undefined;

afterEach(async () => {
  client?.rest.close();
  client = undefined;
  await server?.close();
  server = undefined;
});

/** A server that answers each request only when the test says so. */
async function heldServer(): Promise<{ server: ScriptedHttpServer; release: () => void }> {
  const waiting: (() => void)[] = [];
  server = await startHttpServer(
    (_hit, res) =>
      new Promise<void>((resolve) => {
        waiting.push(() => {
          if (!res.destroyed) sendJson(res, 200, CLOCK_BODY);
          resolve();
        });
      }),
  );
  return { server, release: () => waiting.splice(0).forEach((answer) => answer()) };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (err) {
    return err instanceof RestError ? err.code : `not a RestError: ${String(err)}`;
  }
}

describe('cancellation', () => {
  it('a caller’s abort mid-request rejects cancelled at once and closes the connection', async () => {
    const { server } = await heldServer();
    client = clientFor(server);
    const controller = new AbortController();
    const call = client.rest.clock({ signal: controller.signal });
    await waitFor(() => server.hits.length === 1, { what: 'the request' });
    const started = Date.now();
    controller.abort();
    expect(await codeOf(call)).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(1_000);
    await waitFor(() => server.aborted() === 1, { what: 'the server to see the abort' });
    const m = client.rest.metrics();
    expect(m.errors).toEqual({ cancelled: 1 });
    expect(m.inFlight).toBe(0);
    expect(m.retries).toBe(0);
  });

  it('an abort during the rate-limit wait cancels without sending', async () => {
    server = await startHttpServer((_hit, res) => sendJson(res, 200, CLOCK_BODY));
    const clock = new VirtualClock(Date.UTC(2024, 4, 1, 14), { auto: false });
    client = clientFor(server, { requestsPerMinute: 1 }, clock);
    await client.rest.clock();
    const controller = new AbortController();
    const waiting = client.rest.clock({ signal: controller.signal });
    await waitFor(() => clock.pending() === 1, { what: 'the limiter wait' });
    controller.abort();
    expect(await codeOf(waiting)).toBe('cancelled');
    expect(clock.pending()).toBe(0);
    expect(server.hits).toHaveLength(1);
  });

  it('an abort during a backoff sleep cancels without another attempt', async () => {
    server = await startHttpServer((_hit, res) => sendJson(res, 500, { message: 'internal' }));
    const clock = new VirtualClock(Date.UTC(2024, 4, 1, 14), { auto: false });
    client = clientFor(server, {}, clock);
    const controller = new AbortController();
    const call = client.rest.clock({ signal: controller.signal });
    await waitFor(() => clock.pending() === 1, { what: 'the backoff sleep' });
    controller.abort();
    expect(await codeOf(call)).toBe('cancelled');
    expect(server.hits).toHaveLength(1);
  });

  it('an already aborted signal sends nothing', async () => {
    server = await startHttpServer((_hit, res) => sendJson(res, 200, CLOCK_BODY));
    client = clientFor(server);
    expect(await codeOf(client.rest.clock({ signal: AbortSignal.abort() }))).toBe('cancelled');
    expect(server.hits).toHaveLength(0);
  });
});

describe('sharing identical requests in flight', () => {
  it('two identical requests share one fetch and both get the result', async () => {
    const { server, release } = await heldServer();
    client = clientFor(server);
    const a = client.rest.clock();
    const b = client.rest.clock();
    await waitFor(() => server.hits.length === 1, { what: 'the request' });
    expect(client.rest.metrics().inFlight).toBe(1);
    release();
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra).toEqual(rb);
    // Each caller gets its own objects: one cannot change what the other sees.
    expect(ra).not.toBe(rb);
    expect(server.hits).toHaveLength(1);
    expect(client.rest.metrics().requests).toBe(1);
  });

  it('a caller that cancels does not cancel the other caller’s request', async () => {
    const { server, release } = await heldServer();
    client = clientFor(server);
    const controller = new AbortController();
    const leaving = client.rest.clock({ signal: controller.signal });
    const staying = client.rest.clock();
    await waitFor(() => server.hits.length === 1, { what: 'the request' });
    controller.abort();
    expect(await codeOf(leaving)).toBe('cancelled');
    await pause(20);
    expect(server.aborted()).toBe(0);
    release();
    await expect(staying).resolves.toMatchObject({ isOpen: true });
    expect(server.hits).toHaveLength(1);
    expect(server.aborted()).toBe(0);
  });

  it('when every caller cancels, the fetch is cancelled; a new call starts afresh', async () => {
    const { server, release } = await heldServer();
    client = clientFor(server);
    const c1 = new AbortController();
    const c2 = new AbortController();
    const one = client.rest.clock({ signal: c1.signal });
    const two = client.rest.clock({ signal: c2.signal });
    await waitFor(() => server.hits.length === 1, { what: 'the request' });
    c1.abort();
    c2.abort();
    expect([await codeOf(one), await codeOf(two)]).toEqual(['cancelled', 'cancelled']);
    await waitFor(() => server.aborted() === 1, { what: 'the server to see the abort' });
    const again = client.rest.clock();
    await waitFor(() => server.hits.length === 2, { what: 'a new request' });
    release();
    await expect(again).resolves.toMatchObject({ isOpen: true });
  });

  it('different URLs are not shared', async () => {
    const { server, release } = await heldServer();
    client = clientFor(server);
    const a = client.rest.calendar({ start: '2024-05-01', end: '2024-05-02' }).catch(() => 'x');
    const b = client.rest.calendar({ start: '2024-05-01', end: '2024-05-03' }).catch(() => 'x');
    await waitFor(() => server.hits.length === 2, { what: 'two requests' });
    release();
    await Promise.all([a, b]);
  });
});

describe('close()', () => {
  it('rejects every pending call cancelled, is idempotent, and refuses later calls', async () => {
    const { server } = await heldServer();
    client = clientFor(server);
    const a = client.rest.clock();
    const b = client.rest.stockSnapshots(['AAPL', 'MSFT']);
    await waitFor(() => server.hits.length === 2, { what: 'two requests' });
    client.rest.close();
    client.rest.close();
    expect([await codeOf(a), await codeOf(b)]).toEqual(['cancelled', 'cancelled']);
    expect(await codeOf(client.rest.clock())).toBe('cancelled');
    expect(await codeOf(client.rest.stockSnapshots(['AAPL']))).toBe('cancelled');
    await waitFor(() => server.aborted() === 2, { what: 'the server to see both aborts' });
    expect(server.hits).toHaveLength(2);
    expect(client.rest.metrics().inFlight).toBe(0);
  });

  it('leaves no timer behind, even mid-pause on the real clock', async () => {
    server = await startHttpServer((_hit, res) =>
      sendJson(res, 429, { message: 'too many' }, { 'Retry-After': 30 }),
    );
    const timers = (): number =>
      process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    // The real clock: its 30 s pause is a real timer, which close() must clear.
    const rest = new AlpacaRest({
      dataUrl: server.url,
      tradingUrl: server.url,
      keyId: KEY_ID,
      secret: SECRET,
    });
    const call = rest.clock();
    await waitFor(() => server!.hits.length === 1, { what: 'the 429' });
    await waitFor(() => timers() > before, { what: 'the pause timer' });
    rest.close();
    expect(await codeOf(call)).toBe('cancelled');
    await pause(10);
    expect(timers()).toBe(before);
  });
});
