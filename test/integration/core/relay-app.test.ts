/**
 * Market Monitor and the relay, end to end on loopback: the core with a Relay source connects
 * through a real relay to the simulator (quotes, and REST snapshots through the relay's
 * pass-through, with the relay key only); and the relay the core serves itself, which an official
 * SDK client uses while the simulator still sees exactly one connection, the app's.
 */
import { streaming } from '@alpacahq/alpaca-trade-api';
import { afterEach, describe, expect, it } from 'vitest';
import { NO_RELAY_KEY_REASON } from '../../../electron/core/stream-source.ts';
import { startRelay, type Relay } from '../../../electron/relay/index.ts';
import { startSimulator, type Simulator } from '../../../electron/simulator/index.ts';
import { until } from '../simulator/helpers.ts';
import { MemorySecretStore } from '../../../electron/core/memory-secrets.ts';
import { call, nextFrame, runCleanups, setup, tempDir, value } from './harness.ts';

const SIM_KEY = 'SIMKEY-relay-app';
const SIM_SECRET = 'SIMSECRET-relay-app';
const RELAY_KEY = { keyId: 'desk-relay-key', secret: 'desk-relay-secret-0001' };

const sims: Simulator[] = [];
const relays: Relay[] = [];
const later: (() => void | Promise<void>)[] = [];

afterEach(async () => {
  for (const fn of later.splice(0)) await fn();
  await runCleanups();
  await Promise.all(relays.splice(0).map((r) => r.close()));
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function simulator(): Promise<Simulator> {
  const sim = await startSimulator({ rate: 400, symbols: 40, key: SIM_KEY, secret: SIM_SECRET });
  sims.push(sim);
  return sim;
}

describe('a Relay source', () => {
  it('streams through a real relay and reads REST snapshots through its pass-through', async () => {
    const sim = await simulator();
    const simHttp = sim.url.replace(/^ws/, 'http');
    const relay = await startRelay({
      upstream: { url: sim.urlFor('iex'), key: SIM_KEY, secret: SIM_SECRET },
      keys: [{ key: RELAY_KEY.keyId, secret: RELAY_KEY.secret, maxSymbols: 100 }],
      rest: {
        upstream: { dataUrl: simHttp, tradingUrl: simHttp, keyId: SIM_KEY, secret: SIM_SECRET },
      },
    });
    relays.push(relay);

    const { core, view, sink } = await setup({
      settings: {
        source: { kind: 'relay', url: relay.url, feed: 'iex', codec: 'msgpack' },
        autoConnect: true,
      },
    });
    // No relay key yet: the client waits, and says why.
    const idle = await value(view, 'diagnostics:snapshot', {});
    expect(idle.connection.state).toBe('idle');
    expect(idle.connection.reason).toBe(NO_RELAY_KEY_REASON);
    expect(idle.relay?.keys.stored).toBe(false);

    const set = await value(view, 'relay:keys-set', RELAY_KEY);
    expect(set.keys.stored).toBe(true);
    expect(set.keys.detail).toMatch(/relay keys/);
    await until(
      () => sink.last('connection:state')?.state === 'live',
      'live through the relay',
      10_000,
    );
    const connection = sink.last('connection:state');
    expect(connection?.url).toBe(`${relay.url}/v2/iex`);
    expect(connection?.source).toEqual({
      kind: 'relay',
      url: relay.url,
      feed: 'iex',
      codec: 'msgpack',
    });

    // Quotes through the relay.
    let quoted = false;
    for (let i = 0; i < 20 && !quoted; i++) {
      const frame = await nextFrame(view);
      quoted = frame.symbols.includes('AAPL');
    }
    expect(quoted).toBe(true);
    // REST through the pass-through: the session is known, snapshots went through.
    await until(
      () => (relay.rest?.counters().forwarded ?? 0) >= 2,
      'snapshots and the clock through the relay',
      10_000,
    );
    const market = await value(view, 'market:status', {});
    expect(market.session).not.toBe('unknown');
    expect(market.detail).toBeUndefined();
    // One upstream connection, the relay's; the app's client is a relay client.
    expect(sim.connections()).toHaveLength(1);
    expect(relay.clients()).toHaveLength(1);
    expect(relay.clients()[0]?.key).toBe(RELAY_KEY.keyId);

    // The bundle says it is a relay, and holds neither the key nor the secret.
    const bundle = await value(view, 'diagnostics:export', {});
    expect(bundle.connection.source.kind).toBe('relay');
    expect(bundle.relay?.keys.stored).toBe(true);
    const text = JSON.stringify(bundle);
    expect(text).not.toContain(RELAY_KEY.secret);
    expect(text).not.toContain(RELAY_KEY.keyId);
    expect(JSON.stringify(sink.events)).not.toContain(RELAY_KEY.secret);

    // Cleared: the client stops, blocked again.
    const cleared = await value(view, 'relay:keys-clear', {});
    expect(cleared.keys.stored).toBe(false);
    expect(core.resources().socket).toBe(false);
  });

  it('a relay without REST: the stream works and the market context goes without', async () => {
    const sim = await simulator();
    const relay = await startRelay({
      upstream: { url: sim.urlFor('iex'), key: SIM_KEY, secret: SIM_SECRET },
      keys: [{ key: RELAY_KEY.keyId, secret: RELAY_KEY.secret, maxSymbols: 100 }],
    });
    relays.push(relay);
    const { view, sink } = await setup({
      settings: { source: { kind: 'relay', url: relay.url, feed: 'iex', codec: 'json' } },
      core: { rest: { maxAttempts: 1 } },
    });
    await value(view, 'relay:keys-set', RELAY_KEY);
    await until(() => sink.last('connection:state')?.state === 'live', 'live', 10_000);
    await until(
      () => /market clock is unavailable/.test(sink.last('market:update')?.detail ?? ''),
      'the market view saying REST is not there',
      10_000,
    );
    expect(sink.last('market:update')?.session).toBe('unknown');
    expect(sink.last('connection:state')?.state).toBe('live');
  });

  it('refuses a relay URL that is not a ws:// base, with a message', async () => {
    const { view } = await setup();
    for (const url of [
      'http://127.0.0.1:1',
      'ws://127.0.0.1:1/not/a/feed',
      'ftp://x',
      'ws://u:p@h:1',
    ]) {
      const r = await call(view, 'source:set', {
        source: { kind: 'relay', url, feed: 'iex', codec: 'json' },
      });
      expect(r.ok, url).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('bad-request');
    }
  });
});

describe('the relay the app serves', () => {
  it('feeds an official SDK client from the app connection: still one upstream socket', async () => {
    const sim = await simulator();
    const simHttp = sim.url.replace(/^ws/, 'http');
    const { core, view, sink } = await setup({
      settings: { source: { kind: 'alpaca', feed: 'iex', codec: 'msgpack' }, autoConnect: true },
      core: {
        alpacaUrl: () => sim.urlFor('iex'),
        env: { keyId: SIM_KEY, secret: SIM_SECRET },
        rest: { dataUrl: simHttp, tradingUrl: simHttp },
      },
    });
    await until(() => sink.last('connection:state')?.state === 'live', 'app live', 10_000);

    const served = await value(view, 'relay:serve', { enabled: true, port: 0 });
    const key = served.generated;
    expect(key).toBeDefined();
    expect(served.relay.server).toMatchObject({ state: 'listening', hasKey: true, feed: 'iex' });
    const streamUrl = served.relay.server.streamUrl ?? '';
    expect(streamUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v2\/iex$/);
    // Shown once: status never carries the key again.
    const status = await value(view, 'relay:status', {});
    expect(JSON.stringify(status)).not.toContain(key?.secret ?? '-');

    const sdk = new streaming.StockDataStream({
      credentials: { keyId: key?.keyId ?? '', secret: key?.secret ?? '' },
      url: streamUrl,
      reconnect: false,
    });
    later.push(() => sdk.disconnect());
    const got = new Set<string>();
    sdk.onQuote((q) => got.add(q.symbol));
    sdk.connect();
    expect(await sdk.waitForAuthentication(5000)).toBe(true);
    // One the app streams, one only the SDK wants.
    sdk.subscribeForQuotes(['AAPL', 'NVDA']);
    await until(() => got.has('AAPL') && got.has('NVDA'), 'quotes for the SDK client', 10_000);

    expect(sim.connections()).toHaveLength(1);
    expect(sim.stats().connectionsAccepted).toBe(1);
    expect(sim.connections()[0]?.subscriptions.quotes).toContain('NVDA');
    // The app's own rows are untouched by the relay's extra symbol.
    const snap = await value(view, 'diagnostics:snapshot', {});
    expect(snap.relay?.server.clients).toHaveLength(1);
    expect(snap.relay?.server.clients[0]).toMatchObject({ authenticated: true, pairs: 2 });
    expect(snap.relay?.server.upstreamPairs).toBe(2);

    // A wrong key is refused by the served relay (Alpaca's 402).
    const wrong = new streaming.StockDataStream({
      credentials: { keyId: key?.keyId ?? '', secret: 'not-it' },
      url: streamUrl,
      reconnect: false,
    });
    later.push(() => wrong.disconnect());
    wrong.connect();
    expect(await wrong.waitForAuthentication(3000)).toBe(false);

    // REST through the served relay goes where the app's goes.
    const res = await fetch(`${streamUrl.replace(/^ws/, 'http').replace('/v2/iex', '')}/v2/clock`, {
      headers: { 'APCA-API-KEY-ID': key?.keyId ?? '', 'APCA-API-SECRET-KEY': key?.secret ?? '' },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { is_open: unknown }).is_open).toBeTypeOf('boolean');

    // Stopping the relay gives its pairs back and leaves the app connected.
    await value(view, 'relay:serve', { enabled: false });
    await until(
      () => !(sim.connections()[0]?.subscriptions.quotes ?? []).includes('NVDA'),
      'the relay-only symbol unsubscribed upstream',
      5_000,
    );
    expect(sim.connections()).toHaveLength(1);
    expect(sink.last('connection:state')?.state).toBe('live');
    expect(core.resources().socket).toBe(true);
  });

  it('keeps its clients across an app source change to the same feed', async () => {
    const sim = await simulator();
    const { view, sink } = await setup({
      settings: { source: { kind: 'alpaca', feed: 'iex', codec: 'msgpack' } },
      core: { alpacaUrl: () => sim.urlFor('iex'), env: { keyId: SIM_KEY, secret: SIM_SECRET } },
    });
    await until(() => sink.last('connection:state')?.state === 'live', 'app live', 10_000);
    const served = await value(view, 'relay:serve', { enabled: true, port: 0 });
    const key = served.generated;
    const sdk = new streaming.StockDataStream({
      credentials: { keyId: key?.keyId ?? '', secret: key?.secret ?? '' },
      url: served.relay.server.streamUrl ?? '',
      reconnect: false,
    });
    later.push(() => sdk.disconnect());
    const got: string[] = [];
    sdk.onQuote((q) => got.push(q.symbol));
    sdk.connect();
    expect(await sdk.waitForAuthentication(5000)).toBe(true);
    sdk.subscribeForQuotes(['NVDA']);
    await until(() => got.length > 0, 'quotes before the switch', 10_000);

    // JSON instead of msgpack: a new client, the same feed.
    await value(view, 'source:set', { source: { kind: 'alpaca', feed: 'iex', codec: 'json' } });
    await until(() => sink.last('connection:state')?.state === 'live', 'app live again', 10_000);
    const before = got.length;
    await until(() => got.length > before + 5, 'quotes after the switch', 10_000);
    const snap = await value(view, 'diagnostics:snapshot', {});
    expect(snap.relay?.server.clients).toHaveLength(1);
    expect(sim.connections()).toHaveLength(1);
  });

  it('stops, with why, when the app source is the relay it serves itself', async () => {
    const { view, sink } = await setup({ settings: { autoConnect: false } });
    const first = await value(view, 'relay:serve', { enabled: true, port: 0 });
    const port = Number(new URL(first.relay.server.url ?? 'ws://x:1').port);
    const fixed = await value(view, 'relay:serve', { enabled: true, port });
    expect(fixed.relay.server).toMatchObject({ state: 'listening', port });
    await value(view, 'source:set', {
      source: { kind: 'relay', url: `ws://127.0.0.1:${port}`, feed: 'iex', codec: 'json' },
    });
    await until(
      () => sink.last('relay:update')?.server.state === 'failed',
      'the served relay stopped',
    );
    const status = await value(view, 'relay:status', {});
    expect(status.server.error).toMatch(/this app's own relay/);
  });

  it('starts again with the app when the setting is on; a lost key keeps it off, with why', async () => {
    const dir = await tempDir();
    const slots = { client: new MemorySecretStore(), server: new MemorySecretStore() };
    const first = await setup({
      dir,
      settings: { autoConnect: false },
      core: { relaySecrets: slots },
    });
    // An old settings file: no relayServer, so off.
    expect((await value(first.view, 'relay:status', {})).server).toMatchObject({
      enabled: false,
      state: 'off',
      hasKey: false,
    });
    const served = await value(first.view, 'relay:serve', { enabled: true, port: 0 });
    const key = served.generated;
    await first.core.close();

    // The same key slots (a keyring): listening again at start, with the same key.
    const again = await setup({ dir, writeFiles: false, core: { relaySecrets: slots } });
    const status = await value(again.view, 'relay:status', {});
    expect(status.server).toMatchObject({ enabled: true, state: 'listening', hasKey: true });
    const sdk = new streaming.StockDataStream({
      credentials: { keyId: key?.keyId ?? '', secret: key?.secret ?? '' },
      url: status.server.streamUrl ?? '',
      reconnect: false,
    });
    later.push(() => sdk.disconnect());
    sdk.connect();
    expect(await sdk.waitForAuthentication(5000)).toBe(true);
    await again.core.close();

    // Keys kept in memory only are gone after a restart: not remade behind the user's back.
    const lost = await setup({ dir, writeFiles: false });
    const off = await value(lost.view, 'relay:status', {});
    expect(off.server).toMatchObject({ enabled: true, state: 'failed', hasKey: false });
    expect(off.server.error).toMatch(/make a new key/);
    const snap = await value(lost.view, 'diagnostics:snapshot', {});
    expect(snap.notices.some((n) => n.id === 'relay-server')).toBe(true);
    const renewed = await value(lost.view, 'relay:serve', { enabled: true, newKey: true });
    expect(renewed.generated?.keyId).not.toBe(key?.keyId);
    expect(renewed.relay.server.state).toBe('listening');
  });

  it('a taken port fails with a message; the setting stays, and a new port starts it', async () => {
    const { view } = await setup();
    const first = await value(view, 'relay:serve', { enabled: true, port: 0 });
    const port = Number(new URL(first.relay.server.url ?? 'ws://x:1').port);
    const other = await setup();
    const clash = await value(other.view, 'relay:serve', { enabled: true, port });
    expect(clash.relay.server.state).toBe('failed');
    expect(clash.relay.server.error).toMatch(new RegExp(`Port ${port} is taken`));
    const moved = await value(other.view, 'relay:serve', { enabled: true, port: 0 });
    expect(moved.relay.server.state).toBe('listening');
    // The key was made once; moving the port keeps it.
    expect(moved.generated).toBeUndefined();
  });
});
