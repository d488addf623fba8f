/**
 * RestHttp's error handling against a real HTTP server: what is retried and how long it waits,
 * what gives up at once, and how bad bodies are reported.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RestError } from '../../../electron/rest/errors.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';
import {
  pause,
  sendJson,
  sendText,
  startHttpServer,
  type HttpScript,
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

async function setup(
  script: HttpScript,
  options: Parameters<typeof clientFor>[1] = {},
  clock = new VirtualClock(),
): Promise<TestClient & { server: ScriptedHttpServer; times: number[] }> {
  // The virtual time at which each request reached the server.
  const times: number[] = [];
  server = await startHttpServer((hit, res, req) => {
    times.push(clock.now());
    return script(hit, res, req);
  });
  const c = clientFor(server, options, clock);
  client = c;
  return { ...c, server, times };
}

async function rejection(promise: Promise<unknown>): Promise<RestError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(RestError);
    return err as RestError;
  }
  throw new Error('expected a rejection');
}

describe('429 rate limited', () => {
  it('waits for Retry-After (seconds), then retries and succeeds', async () => {
    const { rest, server, times, clock } = await setup((hit, res) => {
      if (hit.index === 0)
        sendJson(res, 429, { message: 'too many requests' }, { 'Retry-After': 7 });
      else sendJson(res, 200, CLOCK_BODY);
    });
    const result = await rest.clock();
    expect(result.isOpen).toBe(true);
    expect(server.hits).toHaveLength(2);
    expect(times[1]! - times[0]!).toBe(7_000);
    expect(clock.sleeps).toEqual([7_000]);
    const m = rest.metrics();
    expect(m.rateLimited).toBe(1);
    expect(m.retries).toBe(1);
    expect(m.requests).toBe(2);
    expect(m.errors).toEqual({});
  });

  it('waits for X-RateLimit-Reset when there is no Retry-After, and reports the headers', async () => {
    let resetSeconds = 0;
    const { rest, server, times, clock } = await setup((hit, res) => {
      resetSeconds = Math.floor(clock.now() / 1000) + 30;
      const headers = {
        'X-RateLimit-Limit': 200,
        'X-RateLimit-Remaining': hit.index === 0 ? 0 : 199,
        'X-RateLimit-Reset': resetSeconds,
      };
      if (hit.index === 0) sendJson(res, 429, { message: 'too many requests' }, headers);
      else sendJson(res, 200, CLOCK_BODY, headers);
    });
    const first = clock.now();
    await rest.clock();
    expect(server.hits).toHaveLength(2);
    expect(times[1]).toBe(first + 30_000);
    expect(rest.metrics().rateLimit[server.host]).toEqual({
      limit: 200,
      remaining: 199,
      resetAt: resetSeconds * 1000,
    });
  });

  it('backs off when a 429 names no time, and gives up after maxAttempts as rate-limited', async () => {
    const { rest, server, clock } = await setup((_hit, res) =>
      sendJson(res, 429, { code: 42910000, message: 'rate limit exceeded' }),
    );
    const err = await rejection(rest.clock());
    expect(err.code).toBe('rate-limited');
    expect(err.status).toBe(429);
    expect(err.excerpt).toBe('rate limit exceeded');
    // 429s count toward the attempts, as the SDK's do: 3 in all, two pauses of full jitter at 0.5.
    expect(server.hits).toHaveLength(3);
    expect(clock.sleeps).toEqual([250, 500]);
    expect(rest.metrics().rateLimited).toBe(3);
    expect(rest.metrics().errors).toEqual({ 'rate-limited': 1 });
  });

  it('holds other requests to the host during the pause', async () => {
    // A clock that moves only by hand, so the pause can be watched from inside.
    const manual = new VirtualClock(Date.UTC(2024, 4, 1, 14), { auto: false });
    const { rest, server } = await setup(
      (hit, res) => {
        if (hit.index === 0) sendJson(res, 429, { message: 'slow down' }, { 'Retry-After': 20 });
        else sendJson(res, 200, hit.path === '/v2/clock' ? CLOCK_BODY : []);
      },
      {},
      manual,
    );
    const first = rest.clock();
    await waitFor(() => manual.pending() === 1, { what: 'the 429 pause' });
    // Another endpoint on the same host, asked for during the pause: it waits too.
    const second = rest.calendar({ start: '2024-05-01', end: '2024-05-01' });
    await waitFor(() => manual.pending() === 2, { what: 'the second request to wait' });
    manual.advance(19_999);
    await pause(30);
    expect(server.hits).toHaveLength(1);
    manual.advance(1);
    await expect(first).resolves.toMatchObject({ isOpen: true });
    await expect(second).resolves.toEqual([]);
    expect(server.hits).toHaveLength(3);
  });

  it('believes X-RateLimit-Remaining: 0 on a success until its reset', async () => {
    let resetSeconds = 0;
    const { rest, server, times, clock } = await setup((hit, res) => {
      if (hit.index === 0) resetSeconds = Math.floor(clock.now() / 1000) + 20;
      sendJson(res, 200, CLOCK_BODY, {
        'X-RateLimit-Limit': 200,
        'X-RateLimit-Remaining': hit.index === 0 ? 0 : 199,
        'X-RateLimit-Reset': resetSeconds,
      });
    });
    await rest.clock();
    await rest.clock();
    expect(server.hits).toHaveLength(2);
    expect(times[1]).toBeGreaterThanOrEqual(resetSeconds * 1000);
    expect(rest.metrics().rateLimited).toBe(0);
  });
});

describe('server errors, timeouts and the network', () => {
  it('retries 500 twice with jittered exponential backoff, then succeeds', async () => {
    const { rest, server, clock } = await setup((hit, res) => {
      if (hit.index < 2) sendJson(res, 500, { message: 'internal server error' });
      else sendJson(res, 200, CLOCK_BODY);
    });
    await expect(rest.clock()).resolves.toMatchObject({ isOpen: true });
    expect(server.hits).toHaveLength(3);
    // random() = 0.5 of the ceilings 500 ms and 1,000 ms.
    expect(clock.sleeps).toEqual([250, 500]);
    expect(rest.metrics().retries).toBe(2);
  });

  it('gives up on 500 after 3 attempts with the server message', async () => {
    const { rest, server } = await setup((_hit, res) =>
      sendJson(res, 503, { message: 'service unavailable' }),
    );
    const err = await rejection(rest.clock());
    expect(err.code).toBe('server');
    expect(err.status).toBe(503);
    expect(err.excerpt).toBe('service unavailable');
    expect(err.path).toBe('/v2/clock');
    expect(server.hits).toHaveLength(3);
    expect(rest.metrics().errors).toEqual({ server: 1 });
  });

  it('honours maxAttempts', async () => {
    const { rest, server } = await setup((_hit, res) => sendText(res, 502, 'bad gateway'), {
      maxAttempts: 5,
    });
    const err = await rejection(rest.clock());
    expect(err.code).toBe('server');
    expect(err.excerpt).toBe('bad gateway');
    expect(server.hits).toHaveLength(5);
  });

  it('times out an attempt that answers too slowly, and retries it', async () => {
    const { rest, server } = await setup(
      async (hit, res) => {
        if (hit.index === 0) await pause(1_000);
        if (!res.destroyed) sendJson(res, 200, CLOCK_BODY);
      },
      { timeoutMs: 150 },
    );
    await expect(rest.clock()).resolves.toMatchObject({ isOpen: true });
    expect(server.hits).toHaveLength(2);
    expect(rest.metrics().retries).toBe(1);
  });

  it('gives up with timeout when every attempt is too slow', async () => {
    const { rest, server } = await setup(
      async (_hit, res) => {
        // Headers at once, the body never: the timeout covers the whole body too.
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 100 });
        res.write('{"timestamp":');
        await pause(2_000);
      },
      { timeoutMs: 100 },
    );
    const started = Date.now();
    const err = await rejection(rest.clock());
    expect(err.code).toBe('timeout');
    expect(err.message).toMatch(/no complete answer within 100 ms/);
    expect(server.hits).toHaveLength(3);
    // Without the timeout each attempt would wait out the 2 s pause: 6 s in all.
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('retries a refused connection and gives up as network', async () => {
    const { rest } = await setup((_hit, res) => sendJson(res, 200, CLOCK_BODY));
    const url = server!.url;
    await server!.close();
    server = undefined;
    const err = await rejection(rest.clock());
    expect(err.code).toBe('network');
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(rest.metrics().requests).toBe(3);
    expect(url).toContain('127.0.0.1');
  });

  it('retries a body cut short; every attempt cut gives malformed with what arrived', async () => {
    const { rest, server } = await setup((_hit, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 500 });
      res.write('{"timestamp":"2024-05-01T10:43:12Z","is_o');
      setTimeout(() => res.destroy(), 10);
    });
    const err = await rejection(rest.clock());
    expect(err.code).toBe('malformed');
    expect(err.message).toMatch(/cut short/);
    expect(err.excerpt).toBe('{"timestamp":"2024-05-01T10:43:12Z","is_o');
    expect(server.hits).toHaveLength(3);
  });

  it('a body cut short once is fetched again', async () => {
    const { rest, server } = await setup((hit, res) => {
      if (hit.index > 0) return sendJson(res, 200, CLOCK_BODY);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 500 });
      res.write('{"timestamp"');
      setTimeout(() => res.destroy(), 10);
    });
    await expect(rest.clock()).resolves.toMatchObject({ isOpen: true });
    expect(server.hits).toHaveLength(2);
  });
});

describe('answers that are not retried', () => {
  it('malformed JSON: malformed at once, with an excerpt', async () => {
    const { rest, server } = await setup((_hit, res) =>
      sendText(res, 200, '{"timestamp": "2024-05-01T10:43:12Z", is_open: true}', {
        'Content-Type': 'application/json',
      }),
    );
    const err = await rejection(rest.clock());
    expect(err.code).toBe('malformed');
    expect(err.status).toBe(200);
    expect(err.excerpt).toBe('{"timestamp": "2024-05-01T10:43:12Z", is_open: true}');
    expect(server.hits).toHaveLength(1);
  });

  it('a body of the wrong shape: malformed naming the first issue’s path', async () => {
    const { rest, server } = await setup((_hit, res) =>
      sendJson(res, 200, { ...CLOCK_BODY, next_open: 'tomorrow' }),
    );
    const err = await rejection(rest.clock());
    expect(err.code).toBe('malformed');
    expect(err.message).toMatch(/unexpected shape at next_open: not an RFC 3339 time/);
    expect(err.excerpt).toBe('"tomorrow"');
    expect(server.hits).toHaveLength(1);
  });

  it('a body over the size cap: malformed', async () => {
    const { rest } = await setup(
      (_hit, res) => sendJson(res, 200, { ...CLOCK_BODY, pad: 'x'.repeat(5_000) }),
      {
        maxBodyBytes: 1_000,
      },
    );
    const err = await rejection(rest.clock());
    expect(err.code).toBe('malformed');
    expect(err.message).toMatch(/over 1000 bytes/);
  });

  it.each([
    [401, { code: 40110000, message: 'request is not authorized' }],
    [403, { message: 'forbidden' }],
  ])('%i: unauthorized at once, with the server message', async (status, body) => {
    const { rest, server } = await setup((_hit, res) => sendJson(res, status, body));
    const err = await rejection(rest.clock());
    expect(err.code).toBe('unauthorized');
    expect(err.status).toBe(status);
    expect(err.excerpt).toBe(body.message);
    expect(err.message).toContain(body.message);
    expect(server.hits).toHaveLength(1);
  });

  it('404: not-found', async () => {
    const { rest, server } = await setup((_hit, res) =>
      sendJson(res, 404, { code: 40410000, message: 'asset not found' }),
    );
    const err = await rejection(rest.asset('NOPE'));
    expect(err.code).toBe('not-found');
    expect(err.path).toBe('/v2/assets/NOPE');
    expect(server.hits).toHaveLength(1);
  });

  it('other 4xx: bad-request with the server message excerpt', async () => {
    const { rest, server } = await setup((_hit, res) =>
      sendJson(res, 422, { code: 42210000, message: `invalid start: ${'z'.repeat(400)}` }),
    );
    const err = await rejection(
      rest.bars(['AAPL'], { timeframe: '1Min', start: Date.UTC(2024, 4, 1) }),
    );
    expect(err.code).toBe('bad-request');
    expect(err.status).toBe(422);
    expect(err.excerpt?.startsWith('invalid start: zzz')).toBe(true);
    expect(err.excerpt?.length).toBeLessThanOrEqual(200);
    expect(server.hits).toHaveLength(1);
  });

  it('a redirect is not followed (it would carry the key headers elsewhere)', async () => {
    const { rest, server } = await setup((_hit, res) => {
      res.writeHead(302, { Location: 'http://127.0.0.1:1/elsewhere' });
      res.end();
    });
    const err = await rejection(rest.clock());
    expect(err.code).toBe('bad-request');
    expect(err.message).toMatch(/redirect/);
    expect(server.hits).toHaveLength(1);
  });
});

describe('credentials and logs', () => {
  it('sends the key headers, and never puts the keys in logs, errors or metrics', async () => {
    const ring = new LogRing();
    const errors: RestError[] = [];
    const { rest, server } = await setup(
      (hit, res) => {
        if (hit.index === 0) sendJson(res, 500, { message: `boom for ${KEY_ID}` });
        else if (hit.index === 1) sendJson(res, 200, CLOCK_BODY);
        else sendJson(res, 401, { message: `key ${KEY_ID} / ${SECRET} refused` });
      },
      { logger: ringLogger(ring, 'debug') },
    );
    await rest.clock();
    errors.push(await rejection(rest.clock()));
    expect(server.hits[0]?.headers['apca-api-key-id']).toBe(KEY_ID);
    expect(server.hits[0]?.headers['apca-api-secret-key']).toBe(SECRET);
    expect(errors[0]?.excerpt).toBe('key [redacted] / [redacted] refused');
    const everything = JSON.stringify({
      logs: ring.records(),
      errors: errors.map((e) => ({
        message: e.message,
        excerpt: e.excerpt,
        path: e.path,
        stack: e.stack,
      })),
      metrics: rest.metrics(),
    });
    expect(everything).not.toContain(KEY_ID);
    expect(everything).not.toContain(SECRET);
  });

  it('logs a debug line per request and a warning per retry, under module rest', async () => {
    const ring = new LogRing();
    const { rest } = await setup(
      (hit, res) => {
        if (hit.index === 0) sendJson(res, 500, { message: 'internal' });
        else sendJson(res, 200, CLOCK_BODY);
      },
      { logger: ringLogger(ring, 'debug') },
    );
    await rest.clock();
    const lines = ring.records().filter((r) => r.module === 'rest');
    const debug = lines.filter((r) => r.level === 20);
    const warn = lines.filter((r) => r.level === 40);
    expect(debug.map((r) => [r.path, r.status])).toEqual([
      ['/v2/clock', 500],
      ['/v2/clock', 200],
    ]);
    expect(debug.every((r) => typeof r.ms === 'number')).toBe(true);
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatchObject({
      path: '/v2/clock',
      attempt: 1,
      code: 'server',
      status: 500,
      delayMs: 250,
    });
    expect(rest.metrics().latency.count).toBe(2);
  });
});
