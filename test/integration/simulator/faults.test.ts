import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { TestClient } from './helpers.ts';
import { shut, simulatorFixture, until } from './helpers.ts';

const { sim, client } = simulatorFixture();

const authed = (c: TestClient): boolean => c.items.some((i) => i.msg === 'authenticated');
const codes = (c: TestClient): unknown[] => c.ofType('error').map((e) => e.code);

/** Resolves true if a pong answers a ping within `ms`, false otherwise. */
function pinged(ws: WebSocket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.off('pong', onPong);
      resolve(false);
    }, ms);
    const onPong = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    ws.once('pong', onPong);
    ws.ping();
  });
}

describe('simulator faults', () => {
  it('406: refuses a second authenticated connection on the same path, and closes it', async () => {
    const s = await sim({ faults: { connectionLimit: 1 } });
    const first = await client(s.urlFor('iex'));
    await until(() => authed(first), 'first auth');
    const second = await client(s.urlFor('iex'));
    expect(await second.closed).toBe(1008);
    expect(second.ofType('error')).toEqual([
      { T: 'error', code: 406, msg: 'connection limit exceeded' },
    ]);
    // another endpoint has its own slot
    const other = await client(s.urlFor('test'));
    await until(() => authed(other), 'test feed auth');
    // once the first has gone, the slot is free again
    await shut(first);
    await until(() => s.connections().every((c) => c.path !== '/v2/iex'), 'first gone');
    const third = await client(s.urlFor('iex'));
    await until(() => authed(third), 'third auth');
    expect(s.stats().authFailed).toBe(1);
  });

  it('406 while a dropped session lingers, then the slot frees', async () => {
    const s = await sim({ faults: { connectionLimit: 1, connectionLingerMs: 300 } });
    const first = await client(s.urlFor('iex'));
    await until(() => authed(first), 'first auth');
    expect(s.dropAll()).toBe(1);
    expect(await first.closed).toBe(1006);
    const droppedAt = Date.now();
    const early = await client(s.urlFor('iex'));
    await early.closed;
    expect(codes(early)).toEqual([406]);
    let attempts = 1;
    for (;;) {
      const retry = await client(s.urlFor('iex'));
      await until(() => authed(retry) || retry.ws.readyState === WebSocket.CLOSED, 'an answer');
      if (authed(retry)) break;
      attempts += 1;
    }
    expect(Date.now() - droppedAt).toBeGreaterThanOrEqual(250);
    expect(attempts).toBeGreaterThan(1);
  });

  it('405: a subscribe past the symbol limit is refused whole, without an echo', async () => {
    const s = await sim({ faults: { symbolLimit: 3 } });
    const c = await client(s.urlFor('iex'));
    c.send({ action: 'subscribe', quotes: ['AAPL', 'MSFT'] });
    await until(() => c.ofType('subscription').length === 1, 'echo');
    c.send({ action: 'subscribe', trades: ['AAPL', 'MSFT'] });
    await until(() => c.ofType('error').length === 1, '405');
    expect(c.ofType('error')[0]).toEqual({ T: 'error', code: 405, msg: 'symbol limit exceeded' });
    expect(c.ofType('subscription')).toHaveLength(1);
    expect(s.connections()[0]?.subscriptions).toMatchObject({
      quotes: ['AAPL', 'MSFT'],
      trades: [],
    });
    // within the limit it goes through; re-adding a held pair costs nothing
    c.send({ action: 'subscribe', trades: ['AAPL'], quotes: ['AAPL'] });
    await until(() => c.ofType('subscription').length === 2, 'second echo');
    expect(c.ofType('subscription')[1]).toMatchObject({ trades: ['AAPL'] });
  });

  it('drop after N: exactly N data messages, then the socket is terminated', async () => {
    const s = await sim({ rate: 5000, faults: { dropAfterMessages: 50 } });
    const c = await client(s.urlFor('iex'));
    c.send({ action: 'subscribe', quotes: ['AAPL', 'MSFT'] });
    expect(await c.closed).toBe(1006); // no close frame
    expect(c.data()).toHaveLength(50);
    expect(s.stats().terminated).toBe(1);
    // cleared, connections live on
    s.setFaults({ dropAfterMessages: undefined });
    const again = await client(s.urlFor('iex'));
    again.send({ action: 'subscribe', quotes: ['AAPL'] });
    await until(() => again.data().length > 100, 'more than 50');
  });

  it('dropAll terminates every connection', async () => {
    const s = await sim();
    const a = await client(s.urlFor('iex'));
    const b = await client(s.urlFor('sip'), { codec: 'msgpack' });
    await until(() => authed(a) && authed(b), 'both auth');
    expect(s.dropAll()).toBe(2);
    expect(await Promise.all([a.closed, b.closed])).toEqual([1006, 1006]);
    await until(() => s.connections().length === 0, 'sessions gone');
  });

  it('stall: no data and no pongs until it ends; actions are seen but not answered', async () => {
    const s = await sim({ rate: 2000 });
    const c = await client(s.urlFor('iex'));
    c.send({ action: 'subscribe', quotes: ['AAPL'] });
    await until(() => c.data().length > 20, 'data');
    expect(await pinged(c.ws, 2000)).toBe(true);

    s.stall(true);
    const seen: unknown[] = [];
    s.onAction((e) => seen.push(e.action.action));
    const sentAtStall = s.stats().messagesSent;
    expect(await pinged(c.ws, 300)).toBe(false);
    c.send({ action: 'subscribe', trades: ['AAPL'] });
    await until(() => seen.length === 1, 'action observed');
    expect(await pinged(c.ws, 200)).toBe(false);
    expect(s.stats().messagesSent).toBe(sentAtStall);
    expect(c.ofType('subscription')).toHaveLength(1);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);

    s.stall(false);
    expect(await pinged(c.ws, 2000)).toBe(true);
    await until(() => s.stats().messagesSent > sentAtStall + 20, 'data again');
  });

  it('garbage: every kind of corrupt frame appears among good data (JSON)', async () => {
    const s = await sim({ rate: 3000, batchSize: 5, faults: { garbageEvery: 2 } });
    const c = await client(s.urlFor('iex'));
    c.send({ action: 'subscribe', quotes: ['AAPL'], trades: ['AAPL'] });
    const kinds = (): Set<unknown> => new Set(c.corrupt);
    await until(() => kinds().size >= 5 && c.badItems.length >= 2, 'all kinds', 5000);
    expect(kinds()).toEqual(new Set(['', 'not json', '{"partial": ', 'null', '[]']));
    expect(c.data().length).toBeGreaterThan(20);
    expect(s.stats().garbageFramesSent).toBeGreaterThanOrEqual(7);
  });

  it('garbage in msgpack: corrupt binary frames and bad items', async () => {
    const s = await sim({ rate: 3000, batchSize: 5, faults: { garbageEvery: 2 } });
    const c = await client(s.urlFor('iex'), { codec: 'msgpack' });
    c.send({ action: 'subscribe', quotes: ['AAPL'] });
    await until(() => c.corrupt.length >= 5 && c.badItems.length >= 2, 'garbage', 5000);
    expect(c.corrupt.every((f) => Buffer.isBuffer(f))).toBe(true);
    expect(c.corrupt.some((f) => (f as Buffer).length === 0)).toBe(true);
    expect(c.data().length).toBeGreaterThan(20);
  });

  it('407: a client that stops reading is told it is slow and dropped', async () => {
    const s = await sim({ rate: 50_000, faults: { slowClientBytes: 256 * 1024 } });
    const c = await client(s.urlFor('sip'));
    c.send({ action: 'subscribe', quotes: ['*'], trades: ['*'] });
    await until(() => c.data().length > 0, 'data');
    c.ws.pause();
    await until(() => (s.stats().errorsSent['407'] ?? 0) === 1, '407 sent', 15_000);
    c.ws.resume();
    await c.closed;
    expect(c.ofType('error').map((e) => e.code)).toEqual([407]);
  });

  it('sendError delivers an error on demand without closing', async () => {
    const s = await sim({ rate: 1000 });
    const c = await client(s.urlFor('iex'));
    await until(() => authed(c), 'auth');
    expect(s.sendError(500)).toBe(1);
    await until(() => c.ofType('error').length === 1, 'error');
    expect(c.ofType('error')[0]).toEqual({ T: 'error', code: 500, msg: 'internal error' });
    expect(s.sendError(499, 'custom', 9999)).toBe(0);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('refuseAuth can be switched on and off at run time', async () => {
    const s = await sim();
    s.setFaults({ refuseAuth: true });
    const refused = await client(s.urlFor('iex'));
    await refused.closed;
    expect(codes(refused)).toEqual([402]);
    s.setFaults({ refuseAuth: false });
    const ok = await client(s.urlFor('iex'));
    await until(() => authed(ok), 'auth');
    expect(s.faults().refuseAuth).toBe(false);
    expect(() => s.setFaults({ garbageEvery: 0 })).toThrow(RangeError);
  });
});
