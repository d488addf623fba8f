import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ActionEvent } from '../../../electron/simulator/index.ts';
import { startSimulator } from '../../../electron/simulator/index.ts';
import { frameUnpackr } from '../../../electron/stream/protocol/index.ts';
import type { Item } from './helpers.ts';
import { connect, simulatorFixture, until, withoutTime } from './helpers.ts';

const NANO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;

const { sim, client } = simulatorFixture();

describe('simulator: msgpack', () => {
  it('speaks msgpack both ways when the handshake asks, timestamps as the extension', async () => {
    const s = await sim({ rate: 2000 });
    const raw: Buffer[] = [];
    const c = await client(s.urlFor('iex'), { codec: 'msgpack' }); // auth goes as msgpack too
    c.ws.on('message', (data: Buffer, isBinary) => {
      expect(isBinary).toBe(true);
      raw.push(data);
    });
    c.send({ action: 'subscribe', quotes: ['AAPL'], trades: ['AAPL'] });
    await until(() => c.ofType('q').length >= 10 && c.ofType('t').length >= 3, 'data');
    expect(c.items[1]).toEqual({ T: 'success', msg: 'authenticated' });
    expect(c.ofType('subscription')[0]).toMatchObject({ quotes: ['AAPL'], corrections: ['AAPL'] });
    for (const item of c.data()) expect(item.t).toMatch(NANO_TIME);
    expect(s.connections()[0]?.codec).toBe('msgpack');
    // the wire carries fixext 8 of type -1 (0xd7 0xff), not a timestamp string
    const frame = raw.find((f) => (frameUnpackr.unpack(f) as Item[]).some((i) => i.T === 'q'));
    expect(frame?.includes(Buffer.from([0xd7, 0xff]))).toBe(true);
    const datePrefix = new Date().toISOString().slice(0, 11); // e.g. 2025-03-04T
    expect(frame?.includes(Buffer.from(datePrefix))).toBe(false);
  });

  it('accepts JSON text actions on a msgpack connection, and answers junk with 400', async () => {
    const s = await sim();
    const c = await client(s.urlFor('iex'), { codec: 'msgpack', auth: false });
    c.ws.send(JSON.stringify({ action: 'auth', key: 'a', secret: 'b' }));
    c.ws.send(Buffer.from([0xc1]), { binary: true });
    await until(() => c.ofType('error').length === 1, '400');
    expect(c.items.map((i) => i.msg)).toEqual(['connected', 'authenticated', 'invalid syntax']);
  });
});

describe('simulator: reproducibility', () => {
  async function firstData(seed: number, count: number): Promise<Item[]> {
    const s = await sim({ seed, rate: 5000 });
    const c = await client(s.urlFor('sip'));
    c.send({ action: 'subscribe', quotes: ['AAPL', 'MSFT', 'NVDA'], trades: ['*'], lulds: ['*'] });
    await until(() => c.data().length >= count, `${count} messages`);
    return c.data().slice(0, count).map(withoutTime);
  }

  it('the same seed gives the same messages (timestamps aside); another seed does not', async () => {
    const a = await firstData(42, 400);
    const b = await firstData(42, 400);
    const other = await firstData(43, 400);
    expect(b).toEqual(a);
    expect(other).not.toEqual(a);
  });
});

describe('simulator: observability', () => {
  it('reports every client action, and counts them', async () => {
    const s = await sim();
    const events: ActionEvent[] = [];
    const off = s.onAction((e) => events.push(e));
    const c = await client(s.urlFor('iex'));
    c.send({ action: 'subscribe', quotes: ['AAPL'] });
    c.send({ action: 'subscribe', trades: ['AAPL'] });
    c.send({ action: 'unsubscribe', quotes: ['AAPL'] });
    await until(() => events.length === 4, 'four actions');
    expect(events.map((e) => e.action.action)).toEqual([
      'auth',
      'subscribe',
      'subscribe',
      'unsubscribe',
    ]);
    expect(events[0]).toMatchObject({ path: '/v2/iex', feed: 'iex', authenticated: false });
    expect(events[1]).toMatchObject({ authenticated: true, action: { quotes: ['AAPL'] } });
    expect(new Set(events.map((e) => e.connectionId))).toEqual(new Set([s.connections()[0]?.id]));
    off();
    c.send({ action: 'subscribe', bars: ['AAPL'] });
    await until(() => (s.stats().actions.subscribe ?? 0) === 3, 'counted');
    expect(events).toHaveLength(4);
    expect(s.stats()).toMatchObject({
      actions: { auth: 1, subscribe: 3, unsubscribe: 1 },
      connectionsOpen: 1,
      controlMessagesSent: 6,
    });
  });

  it('setRate changes the data rate of running connections', async () => {
    const s = await sim({ rate: 100 });
    const c = await client(s.urlFor('iex'));
    c.send({ action: 'subscribe', quotes: ['AAPL'] });
    await until(() => c.data().length >= 5, 'slow data');
    const t0 = Date.now();
    s.setRate(20_000);
    const n0 = c.data().length;
    await until(() => c.data().length >= n0 + 2000, 'fast data');
    // 2000 messages at 100/s would take 20 s
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('validates its options', async () => {
    await expect(startSimulator({ rate: -1 })).rejects.toThrow(RangeError);
    await expect(startSimulator({ batchSize: 0 })).rejects.toThrow(RangeError);
    await expect(startSimulator({ key: 'only-key' })).rejects.toThrow(RangeError);
    await expect(startSimulator({ symbolList: [] })).rejects.toThrow(RangeError);
    await expect(startSimulator({ faults: { dropAfterMessages: 0 } })).rejects.toThrow(RangeError);
  });
});

describe('simulator: close', () => {
  const count = (kind: string): number =>
    process.getActiveResourcesInfo().filter((r) => r === kind).length;

  it('terminates every socket, clears its timers, stops listening; idempotent', async () => {
    const baseline = {
      servers: count('TCPServerWrap'),
      sockets: count('TCPSocketWrap'),
      timers: count('Timeout'),
    };
    const s = await startSimulator({ rate: 2000, authTimeoutMs: 60_000 });
    const authed = await connect(s.urlFor('iex'));
    const waiting = await connect(s.urlFor('sip'), { codec: 'msgpack', auth: false }); // auth timer
    authed.send({ action: 'subscribe', quotes: ['*'] });
    await until(() => authed.data().length > 10, 'data');
    expect(count('TCPServerWrap')).toBe(baseline.servers + 1);
    const timersOpen = count('Timeout'); // the send loop and the auth timer among them

    const closing = s.close();
    expect(s.close()).toBe(closing);
    await closing;
    expect(count('TCPServerWrap')).toBe(baseline.servers);
    // other timers of the test runner come and go: compare both ways
    expect(count('Timeout')).toBeLessThanOrEqual(Math.min(baseline.timers, timersOpen - 2));
    expect(await authed.closed).toBe(1006);
    expect(await waiting.closed).toBe(1006);
    await until(() => count('TCPSocketWrap') === baseline.sockets, 'client sockets released');
    await s.close();

    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(s.urlFor('iex'));
      ws.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? ''));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});
