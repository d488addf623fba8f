/**
 * StreamClient against small scripted servers (real ws servers on loopback): the fault scenarios
 * where the exact server behaviour matters.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { StreamClient, type StreamClientOptions } from '../../electron/stream/client.ts';
import { LogRing, ringLogger } from '../../electron/stream/log.ts';
import type { Quote } from '../../shared/market.ts';
import { scaledScheduler, trackingScheduler } from '../support/scheduler.ts';
import {
  alpacaSession,
  frameText,
  startScriptedServer,
  type ScriptedServer,
} from '../support/scripted-server.ts';
import { recordStates, waitFor, waitForState } from '../support/wait.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function server(...args: Parameters<typeof startScriptedServer>): Promise<ScriptedServer> {
  const s = await startScriptedServer(...args);
  cleanups.push(() => s.close());
  return s;
}

function client(url: string, options: Partial<StreamClientOptions> = {}): StreamClient {
  const c = new StreamClient({
    url,
    key: 'k',
    secret: 's',
    backoff: { baseMs: 20, capMs: 200 },
    random: () => 0.5,
    staleAfterMs: 0,
    ...options,
  });
  cleanups.push(() => c.dispose());
  return c;
}

const quote = (symbol: string, bp = 10): Record<string, unknown> => ({
  T: 'q',
  S: symbol,
  bx: 'V',
  bp,
  bs: 1,
  ax: 'Q',
  ap: bp + 0.01,
  as: 2,
  c: ['R'],
  z: 'C',
  t: '2025-03-04T15:02:11.123456789Z',
});

/** Sends a quote batch once the client has subscribed to anything. */
function sendQuotesOnSubscribe(ws: WebSocket, frames: Array<string | Buffer>): void {
  ws.on('message', (data) => {
    if ((JSON.parse(frameText(data)) as { action?: string }).action !== 'subscribe') return;
    setImmediate(() => {
      for (const frame of frames) ws.send(frame);
    });
  });
}

describe('StreamClient against scripted servers', () => {
  it('goes live, receives quotes, and keeps one socket', async () => {
    const s = await server((ws) => {
      alpacaSession(ws);
      sendQuotesOnSubscribe(ws, [
        JSON.stringify([quote('AAPL', 1), quote('MSFT', 2), quote('AAPL', 3)]),
      ]);
    });
    const c = client(s.url);
    const states = recordStates(c);
    const got: Quote[] = [];
    c.handlers.on('quote', 'AAPL', (q) => got.push(q));
    c.subscribe('quotes', ['AAPL', 'MSFT']);
    c.connect();
    c.connect(); // idempotent
    await waitForState(c, 'live');
    await waitFor(() => got.length === 2, { what: 'two AAPL quotes' });
    expect(got.map((q) => q.bidPrice)).toEqual([1, 3]);
    expect(got[0]?.time).toBe('2025-03-04T15:02:11.123456789Z');
    expect(states).toEqual(['connecting', 'authenticating', 'subscribing', 'live']);
    expect(s.accepted()).toBe(1);
    expect(c.metrics.snapshot().messages.byKind.quote).toBe(3);
    expect(c.health().status).toBe('healthy');
  });

  it('sends 50 concurrent subscribes as at most a couple of upstream messages', async () => {
    const s = await server((ws) => alpacaSession(ws));
    const c = client(s.url);
    c.connect();
    await waitForState(c, 'live');
    const symbols = Array.from({ length: 50 }, (_, i) => `S${i}`);
    await Promise.all(
      symbols.map(async (sym) => {
        await Promise.resolve(); // fifty independent async consumers, as a UI would have
        c.subscribe('quotes', [sym]);
      }),
    );
    await waitFor(() => c.subscriptions.confirmed().quotes.length === 50, { what: '50 confirmed' });
    const subscribes = s.received.filter((r) => r.action['action'] === 'subscribe');
    expect(subscribes.length).toBeGreaterThanOrEqual(1);
    expect(subscribes.length).toBeLessThanOrEqual(2);
  });

  it('survives the corrupted-message list, delivering the good items of a bad batch', async () => {
    const corrupt = [
      '',
      'not json',
      '{"partial": ',
      '[]',
      'null',
      '{"T":"q","S":"LONE"}',
      '42',
      JSON.stringify([
        quote('AAPL', 1),
        { T: 'q', S: 'AAPL', bp: 'ten' },
        7,
        { T: '?' },
        quote('AAPL', 2),
      ]),
      Buffer.from([0xde, 0xad, 0xbe, 0xef]),
    ];
    const s = await server((ws) => {
      alpacaSession(ws);
      sendQuotesOnSubscribe(ws, corrupt);
    });
    const c = client(s.url);
    const got: number[] = [];
    c.handlers.on('quote', '*', (q) => got.push(q.bidPrice));
    c.subscribe('quotes', ['AAPL']);
    c.connect();
    await waitFor(() => got.length === 2, { what: 'the two good quotes' });
    await waitFor(() => c.metrics.snapshot().invalid.total >= 8, {
      what: 'invalid input counted',
    });
    expect(got).toEqual([1, 2]);
    expect(c.state).toBe('live');
    const invalid = c.metrics.snapshot().invalid.byReason;
    expect(invalid['empty-frame']).toBeGreaterThanOrEqual(1);
    expect(invalid['corrupt-json']).toBeGreaterThanOrEqual(2);
    expect(invalid['wrong-type']).toBeGreaterThanOrEqual(1);
    expect(invalid['unknown-type']).toBeGreaterThanOrEqual(1);
    expect(s.accepted()).toBe(1);
  });

  it('fails after one attempt when auth is refused, and never retries', async () => {
    const s = await server((ws) => alpacaSession(ws, { refuseAuth: true }));
    const c = client(s.url);
    const failed = waitForState(c, 'failed');
    c.connect();
    const change = await failed;
    expect(change?.error?.code).toBe(402);
    expect(c.reason).toContain('auth failed');
    // long enough for several backoff rounds at these settings
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(s.accepted()).toBe(1);
    expect(c.state).toBe('failed');
  });

  it('fails at once on a 401 handshake (header auth)', async () => {
    const s = await server(() => undefined, {
      verifyClient: (_info, cb) => cb(false, 401, 'Unauthorized'),
    });
    const c = client(s.url, { authMode: 'headers' });
    c.connect();
    const change = await waitForState(c, 'failed');
    expect(change?.error?.code).toBe(401);
    expect(c.hasSocket).toBe(false);
  });

  it('retries 406 slowly, with floors that grow', async () => {
    const s = await server((ws) => {
      ws.send(JSON.stringify([{ T: 'success', msg: 'connected' }]));
      ws.on('message', () => {
        ws.send(JSON.stringify([{ T: 'error', code: 406, msg: 'connection limit exceeded' }]));
        ws.close();
      });
    });
    // 1000x faster clock: 5 s floors take 5 ms.
    const c = client(s.url, {
      scheduler: scaledScheduler(1000),
      pingIntervalMs: 0,
      stepTimeoutMs: 5_000_000, // 5 s of real time: here only the 406s may cause a backoff
      random: () => 0,
    });
    const delays: number[] = [];
    c.on('state', (change) => {
      if (change.state === 'backoff' && change.retryInMs !== undefined)
        delays.push(change.retryInMs);
    });
    c.connect();
    await waitFor(() => delays.length >= 4, { what: 'four 406 retries' });
    c.disconnect();
    expect(delays.slice(0, 4)).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect(c.lastError?.code).toBe(406);
    expect(s.maxConcurrent()).toBe(1);
  });

  it('reconnects when the server drops during auth, and then goes live', async () => {
    const s = await server((ws, index) => {
      if (index === 0) {
        ws.send(JSON.stringify([{ T: 'success', msg: 'connected' }]));
        ws.on('message', () => ws.terminate());
        return;
      }
      alpacaSession(ws);
    });
    const c = client(s.url);
    const states = recordStates(c);
    c.subscribe('trades', ['AAPL']);
    c.connect();
    await waitForState(c, 'live');
    expect(states).toEqual([
      'connecting',
      'authenticating',
      'backoff',
      'connecting',
      'authenticating',
      'subscribing',
      'live',
    ]);
    expect(c.subscriptions.confirmed().trades).toEqual(['AAPL']);
    expect(s.maxConcurrent()).toBe(1);
  });

  it('resubscribes the whole desired set after a drop', async () => {
    const sets: Array<Map<string, Set<string>>> = [];
    const s = await server((ws) => sets.push(alpacaSession(ws)));
    const c = client(s.url);
    c.subscribe('quotes', ['AAPL', 'MSFT']);
    c.subscribe('trades', ['TSLA']);
    c.connect();
    await waitForState(c, 'live');
    s.sockets[0]?.terminate();
    await waitForState(c, 'backoff');
    await waitForState(c, 'live');
    expect(s.accepted()).toBe(2);
    expect([...(sets[1]?.get('quotes') ?? [])].sort()).toEqual(['AAPL', 'MSFT']);
    expect([...(sets[1]?.get('trades') ?? [])]).toEqual(['TSLA']);
  });

  it('opens no socket after a disconnect during backoff', async () => {
    const s = await server((ws) => ws.terminate());
    const c = client(s.url, { backoff: { baseMs: 100, capMs: 100 }, random: () => 1 });
    c.connect();
    await waitForState(c, 'backoff');
    c.disconnect();
    expect(c.state).toBe('stopped');
    const acceptedAtStop = s.accepted();
    await new Promise((resolve) => setTimeout(resolve, 250)); // past the 100 ms retry that was due
    expect(s.accepted()).toBe(acceptedAtStop);
    expect(c.hasSocket).toBe(false);
  });

  it('detects a silent server by a missing pong and reconnects', async () => {
    let connections = 0;
    const s = await server(
      (ws) => {
        connections++;
        alpacaSession(ws);
      },
      { autoPong: false },
    );
    const c = client(s.url, { pingIntervalMs: 50, pongTimeoutMs: 50 });
    c.connect();
    await waitForState(c, 'live');
    const backoff = await waitForState(c, 'backoff', 2_000);
    expect(backoff?.reason).toContain('no pong');
    await waitForState(c, 'live');
    expect(connections).toBeGreaterThanOrEqual(2);
    expect(s.maxConcurrent()).toBe(1);
  });

  it('a late pong behind streaming data is not a dead link; silence after it is', async () => {
    let connections = 0;
    let streaming = true;
    const timers: NodeJS.Timeout[] = [];
    const s = await server(
      (ws) => {
        connections++;
        alpacaSession(ws);
        // Data keeps flowing but no pong ever comes: a reader that is behind sees exactly this.
        const t = setInterval(() => {
          if (streaming && ws.readyState === ws.OPEN)
            ws.send(
              JSON.stringify([
                { T: 'q', S: 'AAPL', bp: 1, ap: 2, bs: 1, as: 1, t: new Date().toISOString() },
              ]),
            );
        }, 10);
        timers.push(t);
        ws.on('close', () => clearInterval(t));
      },
      { autoPong: false },
    );
    try {
      const c = client(s.url, { pingIntervalMs: 50, pongTimeoutMs: 50 });
      c.subscribe('quotes', ['AAPL']);
      c.connect();
      await waitForState(c, 'live');
      // Many pong timeouts long: the link stays up while data arrives.
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(c.state).toBe('live');
      expect(connections).toBe(1);
      streaming = false;
      const backoff = await waitForState(c, 'backoff', 2_000);
      expect(backoff?.reason).toContain('no pong');
    } finally {
      for (const t of timers) clearInterval(t);
    }
  });

  it('marks data stale and forces exactly one reconnect per silent episode', async () => {
    const s = await server((ws) => alpacaSession(ws));
    const c = client(s.url, { staleAfterMs: 80 });
    const stale: boolean[] = [];
    c.on('stale', (v) => stale.push(v));
    c.subscribe('quotes', ['AAPL']);
    c.connect();
    await waitFor(() => s.accepted() === 2, { what: 'the forced reconnect' });
    await waitForState(c, 'live');
    await new Promise((resolve) => setTimeout(resolve, 400)); // several stale periods, still silent
    expect(s.accepted()).toBe(2);
    expect(stale[0]).toBe(true);
    expect(c.health().status).not.toBe('healthy');
  });

  it('a lost echo while live ends the session; the next one gets the whole set', async () => {
    const s = await server((ws) => alpacaSession(ws, { dropEcho: (n) => n === 1 }));
    const c = client(s.url, { stepTimeoutMs: 500 });
    c.subscribe('quotes', ['AAPL']);
    c.connect();
    await waitForState(c, 'live');
    c.subscribe('quotes', ['MSFT']); // its echo is lost
    const backoff = await waitForState(c, 'backoff', 3_000);
    expect(backoff?.reason).toContain('subscription echo');
    await waitForState(c, 'live');
    expect(c.subscriptions.confirmed().quotes).toEqual(['AAPL', 'MSFT']);
    expect(c.subscriptions.refused()).toEqual([]);
    expect(s.accepted()).toBe(2);
  });

  it('a late echo (server lag past the deadline) refuses nothing', async () => {
    // The server answers its very first subscription action 300 ms late (the deadline is 200 ms),
    // and like a real server it handles actions in order: later ones wait behind the slow one.
    let n = 0;
    const s = await server((ws) => {
      let chain = Promise.resolve();
      const quotes = new Set<string>();
      ws.send(JSON.stringify([{ T: 'success', msg: 'connected' }]));
      ws.on('message', (data) => {
        const msg = JSON.parse(frameText(data)) as { action?: string; quotes?: string[] };
        if (msg.action === 'auth') {
          ws.send(JSON.stringify([{ T: 'success', msg: 'authenticated' }]));
          return;
        }
        const delay = n++ === 0 ? 300 : 0;
        chain = chain.then(async () => {
          await new Promise((resolve) => setTimeout(resolve, delay));
          for (const q of msg.quotes ?? []) {
            if (msg.action === 'subscribe') quotes.add(q);
            else quotes.delete(q);
          }
          if (ws.readyState !== ws.OPEN) return;
          ws.send(
            JSON.stringify([
              { T: 'subscription', quotes: [...quotes].sort(), trades: [], bars: [] },
            ]),
          );
        });
      });
    });
    const c = client(s.url, { stepTimeoutMs: 200 });
    const everRefused: string[] = [];
    c.on('subscription', (e) => everRefused.push(...e.refused.map((r) => `${r.symbol}=${r.code}`)));
    c.connect();
    await waitForState(c, 'live');
    c.subscribe('quotes', ['A']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    c.subscribe('quotes', ['B']);
    await waitFor(
      () =>
        c.state === 'live' &&
        c.subscriptions.isSettled() &&
        c.subscriptions.confirmed().quotes.length === 2,
      {
        timeoutMs: 4_000,
        what: 'A and B confirmed',
      },
    );
    expect(c.subscriptions.refused()).toEqual([]);
    expect(everRefused).toEqual([]); // not even for a moment
  });

  it('after a lost echo the server ends with the desired set, even if the symbol was let go meanwhile', async () => {
    const sets: Array<Map<string, Set<string>>> = [];
    const s = await server((ws) => sets.push(alpacaSession(ws, { dropEcho: (n) => n === 1 })));
    const c = client(s.url, { stepTimeoutMs: 500 });
    c.subscribe('quotes', ['KEEP']);
    c.connect();
    await waitForState(c, 'live');
    const release = c.subscribe('quotes', ['AAPL']); // applied by the server, echo lost
    await waitFor(() => s.received.length >= 3, { what: 'the AAPL subscribe' });
    release(); // let go before the echo deadline
    await waitFor(
      () =>
        c.state === 'live' &&
        c.subscriptions.isSettled() &&
        [...(sets.at(-1)?.get('quotes') ?? [])].join() === 'KEEP',
      { timeoutMs: 3_000, what: 'the server back to KEEP only' },
    );
    expect(c.subscriptions.confirmed().quotes).toEqual(['KEEP']);
  });

  it('does not go stale on sparse channels (bars only)', async () => {
    const s = await server((ws) => alpacaSession(ws));
    const c = client(s.url, { staleAfterMs: 60 });
    const stale: boolean[] = [];
    c.on('stale', (v) => stale.push(v));
    c.subscribe('bars', ['AAPL']);
    c.connect();
    await waitForState(c, 'live');
    await new Promise((resolve) => setTimeout(resolve, 300)); // five stale periods without a bar
    expect(stale).toEqual([]);
    expect(s.accepted()).toBe(1);
    expect(c.health().status).toBe('healthy');
  });

  it('400 to a subscribe: the planner isolates the bad symbol, refuses it and stays live', async () => {
    const s = await server((ws) => alpacaSession(ws, { rejectSymbol: 'BAD' }));
    const c = client(s.url);
    const states = recordStates(c);
    c.subscribe('quotes', ['AAPL', 'BAD', 'MSFT', 'TSLA']);
    c.connect();
    await waitForState(c, 'live');
    await waitFor(() => c.subscriptions.isSettled() && c.subscriptions.refused().length === 1, {
      what: 'BAD refused',
    });
    expect(c.subscriptions.refused()).toMatchObject([
      { channel: 'quotes', symbol: 'BAD', code: 400 },
    ]);
    expect(c.subscriptions.confirmed().quotes).toEqual(['AAPL', 'MSFT', 'TSLA']);
    expect(states).not.toContain('backoff');
    expect(s.accepted()).toBe(1);
    const sent = s.received
      .filter((r) => r.action['action'] === 'subscribe')
      .map((r) => JSON.stringify(r.action));
    expect(new Set(sent).size).toBe(sent.length); // never the same message twice
  });

  it('clears stale when the silent frequent channel is unsubscribed', async () => {
    const s = await server((ws) => alpacaSession(ws));
    const c = client(s.url, { staleAfterMs: 60, staleReconnect: false });
    const stale: boolean[] = [];
    c.on('stale', (v) => stale.push(v));
    c.subscribe('quotes', ['ZZZZ']); // never quoted
    c.subscribe('bars', ['AAPL']);
    c.connect();
    await waitFor(() => stale.length === 1, { what: 'stale' });
    c.unsubscribe('quotes', ['ZZZZ']);
    await waitFor(() => stale.length === 2, { what: 'stale cleared' });
    expect(stale).toEqual([true, false]);
    expect(c.health().status).toBe('healthy');
  });

  it('says why a connection failed on the state line (ECONNREFUSED), not just 1006', async () => {
    const s = await server(() => undefined);
    const url = s.url;
    await s.close(); // nothing listens there now
    const c = client(url);
    c.connect();
    const backoff = await waitForState(c, 'backoff');
    expect(backoff?.reason).toMatch(/ECONNREFUSED/);
  });

  it('reconnects when the subscription echo never comes', async () => {
    const s = await server((ws, index) => alpacaSession(ws, { echo: index > 0 }));
    const c = client(s.url, { stepTimeoutMs: 150 });
    c.subscribe('quotes', ['AAPL']);
    c.connect();
    const backoff = await waitForState(c, 'backoff', 2_000);
    expect(backoff?.reason).toContain('subscription echo');
    await waitForState(c, 'live');
    expect(c.subscriptions.confirmed().quotes).toEqual(['AAPL']);
  });

  it('never has two sockets whatever connect/disconnect interleaving', async () => {
    const s = await server((ws) => alpacaSession(ws));
    const c = client(s.url);
    let seed = 7;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 60; i++) {
      if (rand() < 0.5) c.connect();
      else c.disconnect();
      if (rand() < 0.5) await new Promise((resolve) => setTimeout(resolve, rand() * 10));
    }
    c.disconnect();
    await waitFor(() => s.open() === 0, { what: 'all server sockets closed' });
    expect(s.maxConcurrent()).toBe(1);
    expect(c.state).toBe('stopped');
    expect(c.hasSocket).toBe(false);
    const opened = s.accepted();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(s.accepted()).toBe(opened);
  });

  it('isolates a throwing handler and logs its stack', async () => {
    const s = await server((ws) => {
      alpacaSession(ws);
      sendQuotesOnSubscribe(ws, [JSON.stringify([quote('AAPL', 1), quote('AAPL', 2)])]);
    });
    const ring = new LogRing();
    const c = client(s.url, { logger: ringLogger(ring) });
    const got: number[] = [];
    c.handlers.on(
      'quote',
      '*',
      () => {
        throw new Error('boom in a handler');
      },
      { name: 'bad' },
    );
    c.handlers.on('quote', '*', (q) => got.push(q.bidPrice), { name: 'good' });
    c.subscribe('quotes', ['AAPL']);
    c.connect();
    await waitFor(() => got.length === 2, { what: 'both quotes at the good handler' });
    const bad = c.handlers.list().find((h) => h.name === 'bad');
    expect(bad?.errors).toBe(2);
    expect(bad?.lastError?.stack).toContain('boom in a handler');
    const record = ring.records().find((r) => JSON.stringify(r).includes('boom in a handler'));
    const err = record?.['err'] as { stack?: string; message?: string } | undefined;
    expect(err?.message).toBe('boom in a handler');
    expect(err?.stack).toMatch(/Error: boom in a handler\n\s+at /);
  });

  it('leaves no timer behind after disconnect or dispose, even with an open still pending', async () => {
    const s = await server((ws) => alpacaSession(ws));
    const scheduler = trackingScheduler();
    const c = client(s.url, { scheduler, pingIntervalMs: 1_000, staleAfterMs: 5_000 });
    c.subscribe('quotes', ['AAPL']);
    c.connect();
    await waitForState(c, 'live');
    expect(scheduler.pending()).toBeGreaterThan(0); // heartbeat and watchdog are running
    c.disconnect();
    expect(scheduler.pending()).toBe(0);
    c.connect();
    await waitForState(c, 'live');
    c.disconnect();
    c.connect(); // the old socket is still closing: this open waits for it
    expect(c.state).toBe('connecting');
    c.dispose();
    expect(scheduler.pending()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(c.hasSocket).toBe(false);
    expect(scheduler.pending()).toBe(0);
    await waitFor(() => s.open() === 0, { what: 'no socket at the server' });
  });

  it('negotiates permessage-deflate only when asked to', async () => {
    const extensions: string[] = [];
    const s = await server(
      (ws) => {
        extensions.push(ws.extensions);
        alpacaSession(ws);
      },
      { perMessageDeflate: true },
    );
    const plain = client(s.url);
    plain.connect();
    await waitForState(plain, 'live');
    plain.disconnect();
    const deflate = client(s.url, { perMessageDeflate: true });
    deflate.connect();
    await waitForState(deflate, 'live');
    expect(extensions).toEqual(['', 'permessage-deflate']);
  });

  it('dispose releases the socket, the retry timer and every handler', async () => {
    const s = await server((ws) => alpacaSession(ws));
    const c = client(s.url);
    c.handlers.on('quote', '*', () => undefined);
    c.connect();
    await waitForState(c, 'live');
    c.dispose();
    c.dispose();
    expect(c.state).toBe('stopped');
    expect(c.hasSocket).toBe(false);
    expect(c.handlers.size).toBe(0);
    expect(() => c.connect()).toThrow(/disposed/);
    await waitFor(() => s.open() === 0, { what: 'server sees the close' });
  });
});
