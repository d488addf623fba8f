/**
 * The relay's REST pass-through on loopback: AlpacaRest with a relay key reads the simulator's
 * snapshots, clock and calendar through it; its refusals (bad key, path, method) and an
 * upstream's 429 / 500 / oversized / slow answers, scripted by a real HTTP server, reach the
 * client as they should, the user's keys never leaving the relay.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startRelay, type Relay, type RelayOptions } from '../../../electron/relay/index.ts';
import { AlpacaRest } from '../../../electron/rest/alpaca-rest.ts';
import { startSimulator, type Simulator } from '../../../electron/simulator/index.ts';
import { sendJson, startHttpServer, type ScriptedHttpServer } from '../../support/scripted-http.ts';

const SIM_KEY = 'SIMKEY';
const SIM_SECRET = 'SIMSECRET';
const RELAY_KEY = { key: 'app', secret: 'app-secret', maxSymbols: 100 };

const sims: Simulator[] = [];
const relays: Relay[] = [];
const servers: ScriptedHttpServer[] = [];

afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.close()));
  await Promise.all(sims.splice(0).map((s) => s.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function simulatorRelay(): Promise<{ relay: Relay; http: string }> {
  const sim = await startSimulator({ rate: 100, key: SIM_KEY, secret: SIM_SECRET });
  sims.push(sim);
  const simHttp = sim.url.replace(/^ws/, 'http');
  const relay = await startRelay({
    upstream: { url: sim.urlFor('iex'), key: SIM_KEY, secret: SIM_SECRET },
    keys: [RELAY_KEY],
    rest: {
      upstream: { dataUrl: simHttp, tradingUrl: simHttp, keyId: SIM_KEY, secret: SIM_SECRET },
    },
  });
  relays.push(relay);
  return { relay, http: relay.url.replace(/^ws/, 'http') };
}

/** A relay whose REST upstream is a scripted server (its stream upstream: a simulator). */
async function scriptedRelay(
  script: Parameters<typeof startHttpServer>[0],
  rest: Partial<NonNullable<RelayOptions['rest']>> = {},
): Promise<{ relay: Relay; http: string; server: ScriptedHttpServer }> {
  const server = await startHttpServer(script);
  servers.push(server);
  const sim = await startSimulator({ rate: 0, key: SIM_KEY, secret: SIM_SECRET });
  sims.push(sim);
  const relay = await startRelay({
    upstream: { url: sim.urlFor('iex'), key: SIM_KEY, secret: SIM_SECRET },
    keys: [RELAY_KEY],
    rest: {
      upstream: {
        dataUrl: server.url,
        tradingUrl: server.url,
        keyId: 'USER-ALPACA-KEY',
        secret: 'USER-ALPACA-SECRET',
      },
      ...rest,
    },
  });
  relays.push(relay);
  return { relay, http: relay.url.replace(/^ws/, 'http'), server };
}

function get(
  url: string,
  init: { key?: string; secret?: string; method?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (init.key !== undefined) headers['APCA-API-KEY-ID'] = init.key;
  if (init.secret !== undefined) headers['APCA-API-SECRET-KEY'] = init.secret;
  return fetch(url, { method: init.method ?? 'GET', headers });
}

const relayAuth = { key: RELAY_KEY.key, secret: RELAY_KEY.secret };

/** A GET with its request target sent byte for byte (fetch would normalize it first). */
function rawGet(http: string, target: string): Promise<number> {
  const { port } = new URL(http);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: target,
        headers: { 'APCA-API-KEY-ID': RELAY_KEY.key, 'APCA-API-SECRET-KEY': RELAY_KEY.secret },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('relay REST pass-through', () => {
  it('serves AlpacaRest snapshots, clock and calendar from the simulator with a relay key', async () => {
    const { http } = await simulatorRelay();
    const rest = new AlpacaRest({
      dataUrl: http,
      tradingUrl: http,
      keyId: RELAY_KEY.key,
      secret: RELAY_KEY.secret,
      maxAttempts: 1,
    });
    try {
      const snaps = await rest.stockSnapshots(['AAPL', 'MSFT'], { feed: 'iex' });
      expect([...snaps.keys()].sort()).toEqual(['AAPL', 'MSFT']);
      expect(snaps.get('AAPL')?.latestQuote?.bidPrice).toBeGreaterThan(0);
      const clock = await rest.clock();
      expect(typeof clock.isOpen).toBe('boolean');
      const days = await rest.calendar({ start: '2026-12-01', end: '2026-12-10' });
      expect(days.length).toBeGreaterThan(3);
      // The rate-limit headers came through: AlpacaRest recorded them for the relay's host.
      const limits = Object.values(rest.metrics().rateLimit);
      expect(limits[0]?.limit).toBeGreaterThan(0);
    } finally {
      rest.close();
    }
  });

  it('refuses a bad relay key (401), a path off the list (404) and a POST (405)', async () => {
    const { relay, http } = await simulatorRelay();
    const bad = await get(`${http}/v2/clock`, { key: 'app', secret: 'wrong' });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { message: string }).message).toMatch(/relay key/);
    expect((await get(`${http}/v2/clock`)).status).toBe(401);
    // The user's upstream keys are not relay keys.
    expect((await get(`${http}/v2/clock`, { key: SIM_KEY, secret: SIM_SECRET })).status).toBe(401);

    for (const path of [
      '/v2/orders',
      '/v2/account',
      '/v2/stocks',
      '/',
      '/v2/stocks/../orders',
      '/v2/stocks/%2e%2e/%2e%2e/v2/account',
    ]) {
      const res = await get(`${http}${path}`, relayAuth);
      expect(res.status, path).toBe(404);
      await res.arrayBuffer();
    }
    const post = await get(`${http}/v2/stocks/snapshots?symbols=AAPL`, {
      ...relayAuth,
      method: 'POST',
    });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    // The feed path still says that it wants a WebSocket.
    expect((await get(`${http}/v2/iex`)).status).toBe(426);
    const counted = relay.rest?.counters();
    expect(counted?.refused).toMatchObject({ '401': 3, '404': 6, '405': 1 });
    expect(counted?.forwarded).toBe(0);
  });

  it('refuses encoded separators that climb out of the allowed paths, keeps BTC%2FUSD', async () => {
    const { http, server } = await scriptedRelay((_hit, res) => sendJson(res, 200, {}));
    for (const target of [
      '/v2/assets/..%2forders',
      '/v2/assets/%2e%2e%2Fv2%2Forders',
      '/v2/assets/x%2F..%2F..%2Faccount',
      '/v2/assets/..%5caccount',
      '/v2/stocks/AAPL%2F..%2F..%2F..%2Fv2%2Faccount',
      '/v2/assets/AAPL/activities',
      '/v2/assets/%zz',
    ]) {
      const status = await rawGet(http, target);
      expect(status, target).toBeGreaterThanOrEqual(400);
      expect(status, target).toBeLessThan(500);
    }
    expect(server.hits.map((h) => h.url)).toEqual([]);
    // A crypto pair is one segment with an encoded slash: it still passes.
    expect(await rawGet(http, '/v2/assets/BTC%2FUSD')).toBe(200);
    expect(server.hits.map((h) => h.url)).toEqual(['/v2/assets/BTC%2FUSD']);
  });

  it('passes on an upstream 429 and 500 with their headers, and the user keys go upstream only', async () => {
    let n = 0;
    const { http, server } = await scriptedRelay((_hit, res) => {
      n += 1;
      if (n === 1)
        sendJson(
          res,
          429,
          { code: 42910000, message: 'rate limit exceeded' },
          {
            'X-RateLimit-Limit': 200,
            'X-RateLimit-Remaining': 0,
            'X-RateLimit-Reset': 1_800_000_000,
            'Retry-After': 7,
          },
        );
      else sendJson(res, 500, { code: 50010000, message: 'internal server error' });
    });
    const limited = await get(`${http}/v2/stocks/snapshots?symbols=AAPL&feed=iex`, relayAuth);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(limited.headers.get('x-ratelimit-reset')).toBe('1800000000');
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(await limited.json()).toEqual({ code: 42910000, message: 'rate limit exceeded' });
    const broken = await get(`${http}/v2/clock`, relayAuth);
    expect(broken.status).toBe(500);
    await broken.arrayBuffer();

    expect(server.hits.map((h) => h.url)).toEqual([
      '/v2/stocks/snapshots?symbols=AAPL&feed=iex',
      '/v2/clock',
    ]);
    for (const hit of server.hits) {
      expect(hit.headers['apca-api-key-id']).toBe('USER-ALPACA-KEY');
      expect(hit.headers['apca-api-secret-key']).toBe('USER-ALPACA-SECRET');
    }
  });

  it('answers 502 with a message for an oversized or a slow upstream body', async () => {
    const { http, relay } = await scriptedRelay(
      (hit, res) => {
        if (hit.path === '/v2/assets') {
          // Declared: refused before a byte of the body is read.
          sendJson(res, 200, 'x'.repeat(10_000));
        } else if (hit.path === '/v2/calendar') {
          // Chunked, no length: the bound applies as it streams in.
          res.writeHead(200, { 'Content-Type': 'application/json' });
          for (let i = 0; i < 20; i++) res.write('x'.repeat(1000));
          res.end();
        } else {
          // Headers at once, then the body never ends.
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.write('{"partial":');
        }
      },
      { maxBodyBytes: 4096, timeoutMs: 300 },
    );
    const big = await get(`${http}/v2/assets`, relayAuth);
    expect(big.status).toBe(502);
    expect(((await big.json()) as { message: string }).message).toMatch(
      /over the relay's limit of 4096/,
    );
    const streamed = await get(`${http}/v2/calendar`, relayAuth);
    expect(streamed.status).toBe(502);
    expect(((await streamed.json()) as { message: string }).message).toMatch(/limit of 4096/);
    const slow = await get(`${http}/v2/clock`, relayAuth);
    expect(slow.status).toBe(502);
    expect(((await slow.json()) as { message: string }).message).toMatch(/within 300 ms/);
    expect(relay.rest?.inFlight).toBe(0);
  });

  it('without a REST upstream, REST paths are 404 and the stream still works', async () => {
    const sim = await startSimulator({ rate: 0, key: SIM_KEY, secret: SIM_SECRET });
    sims.push(sim);
    const relay = await startRelay({
      upstream: { url: sim.urlFor('iex'), key: SIM_KEY, secret: SIM_SECRET },
      keys: [RELAY_KEY],
    });
    relays.push(relay);
    expect(relay.rest).toBeUndefined();
    const res = await get(`${relay.url.replace(/^ws/, 'http')}/v2/clock`, relayAuth);
    expect(res.status).toBe(404);
    await res.arrayBuffer();
  });
});
