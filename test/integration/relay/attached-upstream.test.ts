/**
 * AttachedUpstream against real StreamClients on the simulator: the relay's pairs ride on the
 * app's client (one reference each, beside the app's own), move with its data handler to a
 * replacing client, and are given back on disconnect without touching the app's connection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DataMessage } from '../../../shared/market.ts';
import { AttachedUpstream, type ClientProvider } from '../../../electron/relay/index.ts';
import { startSimulator, type Simulator } from '../../../electron/simulator/index.ts';
import { StreamClient } from '../../../electron/stream/client.ts';
import { until } from '../simulator/helpers.ts';

const KEY = 'K-attached';
const SECRET = 'S-attached';
const sims: Simulator[] = [];
const clients: StreamClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) {
    c.disconnect('test over');
    await c.closed();
    c.dispose();
  }
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

function appClient(sim: Simulator): StreamClient {
  const client = new StreamClient({ url: sim.urlFor('iex'), key: KEY, secret: SECRET });
  clients.push(client);
  return client;
}

/** What the app's StreamSource does: one current client, listeners told of a replacement. */
class Provider implements ClientProvider {
  client: StreamClient | undefined;
  readonly listeners = new Set<(c: StreamClient) => void>();
  current(): StreamClient | undefined {
    return this.client;
  }
  onReplaced(listener: (c: StreamClient) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
  replace(next: StreamClient): void {
    this.client = next;
    for (const l of this.listeners) l(next);
  }
}

describe('AttachedUpstream', () => {
  it('holds one reference per pair on the app client and gives them back', async () => {
    const sim = await startSimulator({ rate: 500, key: KEY, secret: SECRET });
    sims.push(sim);
    const provider = new Provider();
    provider.client = appClient(sim);
    const app = provider.client;
    app.subscribe('quotes', ['AAPL']);
    app.connect();
    const up = new AttachedUpstream(provider);
    const seen = new Set<string>();
    up.handlers.on('*', '*', (m: DataMessage) => void (m.kind === 'quote' && seen.add(m.symbol)), {
      name: 'relay-test',
    });
    expect(app.handlers.list().some((h) => h.name === 'relay-test')).toBe(true);

    // Twice from two relay clients: still one reference on the app's client.
    up.subscribe('quotes', ['AAPL', 'NVDA']);
    up.subscribe('quotes', ['NVDA']);
    expect(app.subscriptions.refcount('quotes', 'NVDA')).toBe(1);
    expect(app.subscriptions.refcount('quotes', 'AAPL')).toBe(2);
    expect(up.pairs).toBe(2);
    expect(up.subscriptions.footprint().desired).toBe(2);
    await until(() => seen.has('AAPL') && seen.has('NVDA'), 'quotes through the adapter');
    expect(up.state).toBe('live');

    up.unsubscribe('quotes', ['NVDA']);
    expect(app.subscriptions.refcount('quotes', 'NVDA')).toBe(1);
    up.unsubscribe('quotes', ['NVDA']);
    expect(app.subscriptions.refcount('quotes', 'NVDA')).toBe(0);

    // Closing the relay: its pairs go, the app's own stay, the app's socket stays.
    up.disconnect();
    up.dispose();
    expect(app.subscriptions.refcount('quotes', 'AAPL')).toBe(1);
    expect(app.state).toBe('live');
    expect(up.pairs).toBe(0);
    // Nothing of the relay is left on the app's registry.
    expect(app.handlers.list().some((h) => h.name === 'relay-test')).toBe(false);
  });

  it('moves its pairs and handler to a client that replaces the app one', async () => {
    const sim = await startSimulator({ rate: 500, key: KEY, secret: SECRET });
    sims.push(sim);
    const provider = new Provider();
    provider.client = appClient(sim);
    provider.client.connect();
    const up = new AttachedUpstream(provider);
    const changes: string[] = [];
    up.subscriptions.onChange((c) => changes.push(c));
    const got: string[] = [];
    up.handlers.on('*', '*', (m) => void (m.kind === 'quote' && got.push(m.symbol)), {
      name: 'relay-test',
      builtin: true,
    });
    up.subscribe('quotes', ['MSFT']);
    await until(() => got.length > 0, 'quotes on the first client');

    const old = provider.client;
    old.disconnect('replaced');
    await old.closed();
    const next = appClient(sim);
    provider.replace(next);
    next.connect();
    expect(next.subscriptions.refcount('quotes', 'MSFT')).toBe(1);
    expect(next.handlers.list().some((h) => h.name === 'relay-test')).toBe(true);
    expect(changes).toContain('confirmed');
    const before = got.length;
    await until(() => got.length > before + 3, 'quotes on the new client');
    expect(up.subscriptions.confirmed().quotes).toContain('MSFT');
    up.dispose();
  });
});
