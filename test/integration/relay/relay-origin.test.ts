/**
 * A relay without client keys (demo mode, loopback only) is still reachable from every web page
 * the user opens: a browser lets any page open ws://127.0.0.1:PORT and sends an Origin header it
 * cannot leave out. Such a relay refuses upgrades that carry an Origin; SDKs and our StreamClient
 * send none and connect as before. A relay with keys is left to its keys. And a client that
 * sends its request headers slowly is cut after the auth timeout, not Node's minute.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startRelay, type Relay, type RelayOptions } from '../../../electron/relay/index.ts';
import { startSimulator, type Simulator } from '../../../electron/simulator/index.ts';

const SIM_KEY = 'SIMKEY';
const SIM_SECRET = 'SIMSECRET';

const sims: Simulator[] = [];
const relays: Relay[] = [];

afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.close()));
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function relayWith(options: Partial<RelayOptions>): Promise<Relay> {
  const sim = await startSimulator({ rate: 0, key: SIM_KEY, secret: SIM_SECRET });
  sims.push(sim);
  const relay = await startRelay({
    upstream: { url: sim.urlFor('iex'), key: SIM_KEY, secret: SIM_SECRET },
    ...options,
  });
  relays.push(relay);
  return relay;
}

/** The first frame's text, or the HTTP status the upgrade was refused with. */
function firstAnswer(url: string, origin: string | undefined): Promise<string | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    ws.on('message', (data: Buffer) => {
      resolve(data.toString('utf8'));
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('error', reject);
  });
}

describe('relay and browser origins', () => {
  it('a keyless relay refuses a web page (403) and takes a client without an Origin', async () => {
    const relay = await relayWith({});
    expect(await firstAnswer(relay.urlFor(), 'https://evil.example')).toBe(403);
    expect(await firstAnswer(relay.urlFor(), 'null')).toBe(403);
    expect(await firstAnswer(relay.urlFor(), undefined)).toMatch(/"connected"/);
    expect(relay.stats().counters.connectionsRejected).toBe(2);
  });

  it('a relay with client keys leaves an Origin to its keys', async () => {
    const relay = await relayWith({ keys: [{ key: 'k', secret: 's', maxSymbols: 10 }] });
    expect(await firstAnswer(relay.urlFor(), 'https://app.example')).toMatch(/"connected"/);
  });
});

describe('relay and slow senders', () => {
  it('cuts a connection whose request headers do not arrive within the auth timeout', async () => {
    const relay = await relayWith({ authTimeoutMs: 300 });
    const { port } = new URL(relay.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    const started = Date.now();
    // Half a request line and headers, then nothing: the slow-loris way to hold a slot.
    socket.write('GET /v2/iex HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    socket.resume();
    await once(socket, 'close');
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
