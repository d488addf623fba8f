/**
 * Memory: 100k cycles of handler add/remove and subscribe/unsubscribe on a live client leave the
 * heap bounded and the internal maps empty. Heap is measured after forced GCs (exposed through
 * V8's flag at run time, so the suite needs no special launch options).
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamClient } from '../../electron/stream/client.ts';
import {
  alpacaSession,
  startScriptedServer,
  type ScriptedServer,
} from '../support/scripted-server.ts';
import { waitFor, waitForState } from '../support/wait.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function settledHeap(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

let server: ScriptedServer;
let client: StreamClient;

beforeAll(async () => {
  server = await startScriptedServer((ws) => alpacaSession(ws));
  client = new StreamClient({ url: server.url, key: 'k', secret: 's', staleAfterMs: 0 });
  client.connect();
  await waitForState(client, 'live');
});

afterAll(async () => {
  client.dispose();
  await server.close();
});

describe('memory stays bounded', () => {
  it('100k handler add/remove cycles', () => {
    const warm = (): void => {
      for (let i = 0; i < 10_000; i++)
        client.handlers.on('quote', `S${i % 5000}`, () => undefined)();
    };
    warm();
    const before = settledHeap();
    for (let i = 0; i < 100_000; i++) {
      const dispose = client.handlers.on(i % 2 ? 'quote' : 'trade', `SYM${i}`, () => undefined, {
        name: `h${i}`,
      });
      dispose();
    }
    const after = settledHeap();
    expect(client.handlers.size).toBe(0);
    expect(client.handlers.footprint()).toEqual({ handlers: 0, sourceKeys: 0, routeKeys: 0 });
    expect(after - before).toBeLessThan(2 * 1024 * 1024);
  });

  it('100k subscribe/unsubscribe cycles, in one tick and across ticks, while live', async () => {
    const before = settledHeap();
    for (let i = 0; i < 100_000; i++) {
      const release = client.subscribe(i % 2 ? 'quotes' : 'trades', [`SYM${i}`]);
      release();
    }
    // and some that reach the server, one batch per tick
    for (let round = 0; round < 20; round++) {
      const releases = Array.from({ length: 50 }, (_, j) =>
        client.subscribe('quotes', [`R${round}X${j}`]),
      );
      await new Promise((resolve) => setImmediate(resolve));
      for (const release of releases) release();
    }
    await waitFor(
      () =>
        client.subscriptions.isSettled() && client.subscriptions.confirmed().quotes.length === 0,
      {
        what: 'the server set to empty',
      },
    );
    const after = settledHeap();
    const footprint = client.subscriptions.footprint();
    expect(footprint.desired).toBe(0);
    expect(footprint.confirmed).toBe(0);
    expect(after - before).toBeLessThan(2 * 1024 * 1024);
    expect(client.state).toBe('live');
  });
});
