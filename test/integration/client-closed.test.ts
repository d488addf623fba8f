/**
 * StreamClient.closed(): the moment a successor may connect. Alpaca counts connections per
 * account, so the desktop core opens a replacement client's socket only after this resolves.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../electron/simulator/index.ts';
import { StreamClient } from '../../electron/stream/client.ts';
import { waitFor, waitForState } from '../support/wait.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('StreamClient.closed()', () => {
  it('resolves at once for a client that never connected', async () => {
    const c = new StreamClient({ url: 'ws://127.0.0.1:9/v2/iex' });
    cleanups.push(() => c.dispose());
    await expect(c.closed()).resolves.toBeUndefined();
  });

  it('resolves only after the server has seen the socket close, after dispose', async () => {
    const sim = await startSimulator({ rate: 200 });
    cleanups.push(() => sim.close());
    const c = new StreamClient({ url: sim.urlFor('iex'), key: 'k', secret: 's' });
    c.subscribe('quotes', ['AAPL']);
    c.connect();
    await waitForState(c, 'live');
    await waitFor(() => sim.connections().length === 1, { what: 'one server connection' });

    let resolved = false;
    const closed = c.closed().then(() => {
      resolved = true;
    });
    // Still open: nothing to wait for has happened yet.
    await new Promise((r) => setImmediate(r));
    expect(resolved).toBe(false);

    c.dispose();
    await closed;
    expect(c.hasSocket).toBe(false);
    // The client's side is closed; the server notices within its own event loop turn.
    await waitFor(() => sim.connections().length === 0, { what: 'server connection gone' });
  });

  it('a second client connected after closed() never overlaps the first at the server', async () => {
    const sim = await startSimulator({ rate: 200 });
    cleanups.push(() => sim.close());
    let maxOpen = 0;
    const timer = setInterval(() => {
      maxOpen = Math.max(maxOpen, sim.connections().length);
    }, 1);
    cleanups.push(() => clearInterval(timer));
    const first = new StreamClient({ url: sim.urlFor('iex'), key: 'k', secret: 's' });
    first.connect();
    await waitForState(first, 'live');
    first.dispose();
    await first.closed();
    await waitFor(() => sim.connections().length === 0, { what: 'first connection closed' });
    const second = new StreamClient({ url: sim.urlFor('iex'), key: 'k', secret: 's' });
    cleanups.push(() => second.dispose());
    second.connect();
    await waitForState(second, 'live');
    expect(maxOpen).toBe(1);
  });
});
