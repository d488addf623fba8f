/**
 * "A source switch never holds two sockets at once", checked from the SERVER's side (the
 * scripted server counts connections open at once), with a peer that answers the close handshake
 * like a remote one (after a delay) instead of instantly on loopback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionView } from '../../../shared/api.ts';
import type { Feed } from '../../../shared/market.ts';
import { alpacaSession, startScriptedServer } from '../../support/scripted-server.ts';
import { waitFor } from '../../support/wait.ts';
import { call, cleanups, runCleanups, setup, slowCloseReply, value } from './harness.ts';

afterEach(runCleanups);

const FEEDS: Feed[] = ['iex', 'sip', 'delayed_sip'];

async function keyedCore(closeDelayMs: number) {
  const sets: Map<string, Set<string>>[] = [];
  const server = await startScriptedServer((ws) => {
    if (closeDelayMs > 0) slowCloseReply(ws, closeDelayMs);
    sets.push(alpacaSession(ws));
  });
  cleanups.push(() => server.close());
  const s = await setup({
    settings: { source: { kind: 'alpaca', feed: 'iex', codec: 'json' } },
    core: {
      alpacaUrl: () => server.url,
      env: { keyId: 'PKREVIEW00000000000001', secret: 'review-secret-0000000001' },
    },
  });
  await waitFor(() => s.sink.last('connection:state')?.state === 'live', { what: 'live' });
  return { ...s, server, sets };
}

describe('source switching: at most one connection at the server', () => {
  it('10 queued switches against a peer with a 300 ms close reply', async () => {
    const { view, server, sink, sets } = await keyedCore(300);
    expect(server.maxConcurrent()).toBe(1);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call(view, 'source:set', {
          source: { kind: 'alpaca', feed: FEEDS[(i + 1) % FEEDS.length]!, codec: 'json' },
        }),
      ),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    await waitFor(() => sink.last('connection:state')?.state === 'live', {
      timeoutMs: 10_000,
      what: 'final client live',
    });
    await waitFor(() => server.open() === 1, { timeoutMs: 5_000, what: 'one open at the end' });
    const final = sets.at(-1)!;
    expect([...final.get('quotes')!].sort()).toEqual(['AAPL', 'MSFT']);
    // The design promise: never two sockets at once.
    expect(server.maxConcurrent()).toBe(1);
  });

  it('connection:connect right after a source switch waits for the old socket to close', async () => {
    const { view, server, sink } = await keyedCore(300);
    const [switched, connected] = await Promise.all([
      call(view, 'source:set', { source: { kind: 'alpaca', feed: 'sip', codec: 'json' } }),
      call(view, 'connection:connect', {}),
    ]);
    expect(switched.ok && connected.ok).toBe(true);
    await waitFor(() => sink.last('connection:state')?.state === 'live', { what: 'live again' });
    expect(server.maxConcurrent()).toBe(1);
  });

  it('disconnect + connect while the old socket closes still waits for it', async () => {
    const { view, server, sink } = await keyedCore(300);
    const r = await Promise.all([
      call(view, 'source:set', { source: { kind: 'alpaca', feed: 'sip', codec: 'json' } }),
      call(view, 'connection:disconnect', {}),
      call(view, 'connection:connect', {}),
    ]);
    expect(r.every((x) => x.ok)).toBe(true);
    await waitFor(() => sink.last('connection:state')?.state === 'live', { what: 'live again' });
    expect(server.maxConcurrent()).toBe(1);
  });

  it('10 queued switches against an instant (loopback) peer', async () => {
    const { view, server, sink } = await keyedCore(0);
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          value(view, 'source:set', {
            source: { kind: 'alpaca', feed: FEEDS[(i + 1 + round) % FEEDS.length]!, codec: 'json' },
          }),
        ),
      );
    }
    await waitFor(() => sink.last('connection:state')?.state === 'live', { what: 'live' });
    expect(server.maxConcurrent()).toBe(1);
  });
});

describe('what the user sees when Alpaca enforces one connection (406 at auth)', () => {
  it('two quick switches against a server that enforces one connection: never a 406', async () => {
    let open = 0;
    const server = await startScriptedServer((ws) => {
      open++;
      ws.on('close', () => open--);
      slowCloseReply(ws, 300);
      const othersAtAuth = (): number => open - 1;
      ws.on('message', (data: Buffer) => {
        const msg = JSON.parse(data.toString('utf8')) as { action?: string };
        if (msg.action === 'auth' && othersAtAuth() > 0) {
          ws.send(JSON.stringify([{ T: 'error', code: 406, msg: 'connection limit exceeded' }]));
        }
      });
      alpacaSession(ws);
    });
    cleanups.push(() => server.close());
    const { view, sink } = await setup({
      settings: { source: { kind: 'alpaca', feed: 'iex', codec: 'json' } },
      core: {
        alpacaUrl: () => server.url,
        env: { keyId: 'PKREVIEW00000000000001', secret: 'review-secret-0000000001' },
      },
    });
    await waitFor(() => sink.last('connection:state')?.state === 'live', { what: 'live' });
    const n = sink.events.length;
    await Promise.all([
      value(view, 'source:set', { source: { kind: 'alpaca', feed: 'sip', codec: 'json' } }),
      value(view, 'source:set', { source: { kind: 'alpaca', feed: 'delayed_sip', codec: 'json' } }),
    ]);
    // The last client goes live; every state any client passed through on the way is recorded.
    await waitFor(
      () => {
        const c = sink.last('connection:state');
        return c?.state === 'live' && c.source.kind === 'alpaca' && c.source.feed === 'delayed_sip';
      },
      { what: 'the last source live' },
    );
    const states = sink.events
      .slice(n)
      .filter((e) => e.event === 'connection:state')
      .map((e) => e.payload as ConnectionView)
      .map((c) => `${c.state}${c.lastError ? `(${c.lastError.code})` : ''}`);
    expect(states.some((s) => s.includes('(406)'))).toBe(false);
  });
});

describe('quitting right after a switch', () => {
  it('core.close() resolves only after the previous client socket has closed at the server', async () => {
    const { view, server, core } = await keyedCore(300);
    const switching = call(view, 'source:set', {
      source: { kind: 'alpaca', feed: 'sip', codec: 'json' },
    });
    await switching;
    await core.close();
    const openAtClose = server.open();
    expect(openAtClose).toBe(0);
  });
});
