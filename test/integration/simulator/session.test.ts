import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { timeToEpochMs } from '../../../shared/market.ts';
import type { Item, TestClient } from './helpers.ts';
import { simulatorFixture, until } from './helpers.ts';

const NANO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;

const { sim, client } = simulatorFixture();

function errors(c: TestClient): Item[] {
  return c.ofType('error');
}

describe('simulator: handshake and auth', () => {
  it('says connected, then authenticated after an auth message (demo mode: any key)', async () => {
    const s = await sim();
    const c = await client(s.urlFor('iex'));
    await until(() => c.items.length >= 2, 'connected + authenticated');
    expect(c.items.slice(0, 2)).toEqual([
      { T: 'success', msg: 'connected' },
      { T: 'success', msg: 'authenticated' },
    ]);
    expect(s.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(s.urlFor('crypto')).toBe(`${s.url}/v1beta3/crypto/us`);
    expect(s.connections()[0]).toMatchObject({
      path: '/v2/iex',
      codec: 'json',
      authenticated: true,
    });
    expect(s.stats()).toMatchObject({ connectionsAccepted: 1, authOk: 1, authFailed: 0 });
  });

  it('authenticates by handshake headers, right after connected', async () => {
    const s = await sim({ key: 'K1', secret: 'S1' });
    const c = await client(s.urlFor('sip'), {
      auth: false,
      headers: { 'APCA-API-KEY-ID': 'K1', 'APCA-API-SECRET-KEY': 'S1' },
    });
    await until(() => c.items.length >= 2, 'authenticated');
    expect(c.items.map((i) => i.msg)).toEqual(['connected', 'authenticated']);
    expect(s.stats().actions.auth).toBeUndefined(); // no auth message was needed
  });

  it('refuses wrong keys with 402 and closes; the right keys pass', async () => {
    const s = await sim({ key: 'K1', secret: 'S1' });
    const bad = await client(s.urlFor('iex'), { auth: false });
    bad.send({ action: 'auth', key: 'K1', secret: 'wrong' });
    expect(await bad.closed).toBe(1008);
    expect(errors(bad)).toEqual([{ T: 'error', code: 402, msg: 'auth failed' }]);

    const badHeaders = await client(s.urlFor('iex'), {
      auth: false,
      headers: { 'APCA-API-KEY-ID': 'nope', 'APCA-API-SECRET-KEY': 'S1' },
    });
    await badHeaders.closed;
    expect(errors(badHeaders).map((e) => e.code)).toEqual([402]);

    const good = await client(s.urlFor('iex'), { auth: false });
    good.send({ action: 'auth', key: 'K1', secret: 'S1' });
    await until(() => good.items.some((i) => i.msg === 'authenticated'), 'authenticated');
    expect(s.stats()).toMatchObject({ authOk: 1, authFailed: 2 });
  });

  it('answers 401 before auth, 403 to a second auth, 400 to junk and unknown actions', async () => {
    const s = await sim();
    const c = await client(s.urlFor('iex'), { auth: false });
    c.send({ action: 'subscribe', quotes: ['AAPL'] });
    await until(() => errors(c).length === 1, '401');
    expect(errors(c)[0]).toEqual({ T: 'error', code: 401, msg: 'not authenticated' });

    c.send({ action: 'auth', key: 'a', secret: 'b' });
    c.send({ action: 'auth', key: 'a', secret: 'b' });
    await until(() => errors(c).length === 2, '403');
    expect(errors(c)[1]).toMatchObject({ code: 403, msg: 'already authenticated' });

    c.ws.send('{"action": "subscribe", ');
    c.ws.send('[{"action":"subscribe"}]');
    c.send({ action: 'dance' });
    c.send({ action: 'subscribe', quotes: 'AAPL' });
    await until(() => errors(c).length === 6, 'four 400s');
    expect(
      errors(c)
        .slice(2)
        .map((e) => [e.code, e.msg]),
    ).toEqual(Array.from({ length: 4 }, () => [400, 'invalid syntax']));
    expect(c.ws.readyState).toBe(WebSocket.OPEN); // none of these ends the session
    expect(s.stats().actions).toMatchObject({ invalid: 2, dance: 1, subscribe: 2, auth: 2 });
  });

  it('times out an unauthenticated connection with 404', async () => {
    const s = await sim({ authTimeoutMs: 100 });
    const c = await client(s.urlFor('iex'), { auth: false });
    expect(await c.closed).toBe(1008);
    expect(errors(c)).toEqual([{ T: 'error', code: 404, msg: 'auth timeout' }]);
  });

  it('refuses unknown paths with HTTP 404 at the upgrade, and serves every feed path', async () => {
    const s = await sim();
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${s.url}/v2/nope`);
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => reject(new Error('opened')));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(404);
    expect(s.stats().connectionsRejected).toBe(1);
    for (const feed of ['iex', 'sip', 'delayed_sip', 'test', 'crypto'] as const) {
      const c = await client(s.urlFor(feed));
      await until(() => c.items.some((i) => i.msg === 'authenticated'), `auth on ${feed}`);
    }
  });

  it('answers 409 on a feed the plan lacks, and closes', async () => {
    const s = await sim({ faults: { insufficientSubscription: ['sip'] } });
    const sip = await client(s.urlFor('sip'));
    await sip.closed;
    expect(errors(sip)).toEqual([{ T: 'error', code: 409, msg: 'insufficient subscription' }]);
    const iex = await client(s.urlFor('iex'));
    await until(() => iex.items.some((i) => i.msg === 'authenticated'), 'iex auth');
  });
});

describe('simulator: subscriptions', () => {
  it('echoes the whole set after every change, corrections and cancelErrors following trades', async () => {
    const s = await sim();
    const c = await client(s.urlFor('iex'));
    c.send({ action: 'subscribe', trades: ['AAPL'], quotes: ['AAPL', 'MSFT'], bars: ['*'] });
    await until(() => c.ofType('subscription').length === 1, 'first echo');
    expect(c.ofType('subscription')[0]).toEqual({
      T: 'subscription',
      trades: ['AAPL'],
      quotes: ['AAPL', 'MSFT'],
      bars: ['*'],
      updatedBars: [],
      dailyBars: [],
      statuses: [],
      lulds: [],
      imbalances: [],
      corrections: ['AAPL'],
      cancelErrors: ['AAPL'],
    });
    c.send({ action: 'subscribe', trades: ['MSFT', 'AAPL'] });
    c.send({ action: 'unsubscribe', trades: ['AAPL'], quotes: ['MSFT'], bars: ['*'] });
    await until(() => c.ofType('subscription').length === 3, 'two more echoes');
    const [, second, third] = c.ofType('subscription');
    expect(second).toMatchObject({ trades: ['AAPL', 'MSFT'], corrections: ['AAPL', 'MSFT'] });
    expect(third).toMatchObject({
      trades: ['MSFT'],
      quotes: ['AAPL'],
      bars: [],
      corrections: ['MSFT'],
      cancelErrors: ['MSFT'],
    });
    const { T: _t, ...held } = third ?? {};
    expect(s.connections()[0]?.subscriptions).toEqual(held);
  });

  it('sends only the subscribed symbols and channels', async () => {
    const s = await sim({ rate: 3000, symbols: 30 });
    const c = await client(s.urlFor('sip'));
    c.send({ action: 'subscribe', quotes: ['AAPL', 'ZZZZ'], trades: ['MSFT'] });
    await until(() => c.data().length >= 300, '300 data messages');
    const data = c.data();
    const wrong = data.filter(
      (i) =>
        !(i.T === 'q' && i.S === 'AAPL') &&
        !(['t', 'c', 'x'].includes(i.T as string) && i.S === 'MSFT'),
    );
    expect(wrong).toEqual([]);
    expect(data.some((i) => i.T === 'q')).toBe(true);
    expect(data.some((i) => i.T === 't')).toBe(true);
    // an unknown symbol is accepted, as Alpaca does, and simply has no data
    expect(c.ofType('subscription')[0]?.quotes).toEqual(['AAPL', 'ZZZZ']);

    c.send({ action: 'unsubscribe', quotes: ['AAPL'], trades: ['MSFT'] });
    await until(() => c.ofType('subscription').length === 2, 'echo');
    const before = s.connections()[0]?.messagesSent ?? 0;
    // a second connection shows the send loop running on while the first gets nothing
    const witness = await client(s.urlFor('sip'));
    witness.send({ action: 'subscribe', quotes: ['MSFT'] });
    await until(() => witness.data().length >= 300, 'witness data');
    expect(s.connections()[0]?.messagesSent).toBe(before);
  });

  it('star subscribes every symbol of the universe and no other', async () => {
    const s = await sim({ rate: 3000, symbolList: ['AAA', 'BBB', 'CCC'] });
    const c = await client(s.urlFor('iex'));
    c.send({ action: 'subscribe', quotes: ['*'] });
    await until(() => new Set(c.ofType('q').map((q) => q.S)).size === 3, 'all three symbols');
    expect(new Set(c.data().map((q) => q.S))).toEqual(new Set(['AAA', 'BBB', 'CCC']));
  });

  it('sends realistic quotes and trades with nanosecond wall-clock timestamps', async () => {
    const s = await sim({ rate: 4000 });
    const c = await client(s.urlFor('iex'));
    const started = Date.now();
    c.send({ action: 'subscribe', quotes: ['AAPL', 'NVDA'], trades: ['AAPL', 'NVDA'] });
    await until(() => c.ofType('t').length >= 50, '50 trades');
    let last = 0;
    for (const item of c.data()) {
      expect(item.t).toMatch(NANO_TIME);
      const ms = timeToEpochMs(item.t as string);
      expect(ms).toBeGreaterThanOrEqual(last); // the session's clock never goes back
      expect(Math.abs(ms - started)).toBeLessThan(10_000);
      last = ms;
      if (item.T === 'q') {
        expect(item.bp as number).toBeLessThan(item.ap as number);
        expect(item.bx).toBe('V'); // the IEX feed only names IEX
      }
    }
    const ids = c.ofType('t').map((t) => t.i as number);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it('closes bars at the end of each period, agreeing with the trades sent', async () => {
    const interval = 300;
    const s = await sim({ rate: 4000, barIntervalMs: interval });
    const c = await client(s.urlFor('iex'));
    c.send({ action: 'subscribe', trades: ['AAPL'], bars: ['AAPL'] });
    // the first bar may cover a period that began before the subscription: check the second
    await until(() => c.ofType('b').length >= 2, 'two bars', 5000);
    const bar = c.ofType('b')[1] ?? {};
    expect(bar.t).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{9})?Z$/);
    const start = timeToEpochMs(bar.t as string);
    expect(start % interval).toBe(0);
    // trades of the period, with cancels removed and corrections applied
    const live = new Map<number, number>();
    const inPeriod = new Set<number>();
    for (const item of c.items) {
      if (item.T === 't') {
        const ms = timeToEpochMs(item.t as string);
        if (ms >= start && ms < start + interval) {
          live.set(item.i as number, item.s as number);
          inPeriod.add(item.i as number);
        }
      } else if (item.T === 'x' && inPeriod.has(item.i as number)) {
        live.delete(item.i as number);
      } else if (item.T === 'c' && inPeriod.has(item.oi as number)) {
        live.delete(item.oi as number);
        live.set(item.ci as number, item.cs as number);
      }
    }
    expect(live.size).toBeGreaterThan(10);
    expect(bar.n).toBe(live.size);
    expect(bar.v).toBe([...live.values()].reduce((a, b) => a + b, 0));
    expect(bar.l as number).toBeLessThanOrEqual(bar.o as number);
    expect(bar.h as number).toBeGreaterThanOrEqual(bar.c as number);
  });

  it('refuses a channel the feed does not have with 410, applying nothing', async () => {
    const s = await sim();
    const c = await client(s.urlFor('iex'));
    c.send({ action: 'subscribe', quotes: ['AAPL'], orderbooks: ['AAPL'] });
    await until(() => errors(c).length === 1, '410');
    expect(errors(c)[0]).toMatchObject({ code: 410 });
    expect(c.ofType('subscription')).toEqual([]);
    expect(s.connections()[0]?.subscriptions.quotes).toEqual([]);
  });

  it('the test feed trades FAKEPACA', async () => {
    const s = await sim({ rate: 2000 });
    const c = await client(s.urlFor('test'));
    c.send({ action: 'subscribe', quotes: ['*'], trades: ['FAKEPACA'] });
    await until(() => c.data().length >= 50, 'data');
    expect(new Set(c.data().map((i) => i.S))).toEqual(new Set(['FAKEPACA']));
  });

  it('the crypto feed echoes its own channels and sends a book snapshot, then deltas', async () => {
    const s = await sim({ rate: 2000 });
    const c = await client(s.urlFor('crypto'));
    c.send({ action: 'subscribe', quotes: ['BTC/USD'], orderbooks: ['BTC/USD'] });
    await until(() => c.ofType('o').length >= 5 && c.ofType('q').length >= 5, 'books and quotes');
    expect(c.ofType('subscription')[0]).toEqual({
      T: 'subscription',
      trades: [],
      quotes: ['BTC/USD'],
      orderbooks: ['BTC/USD'],
      bars: [],
      updatedBars: [],
      dailyBars: [],
    });
    const [snapshot, ...deltas] = c.ofType('o');
    expect(snapshot?.r).toBe(true);
    expect((snapshot?.b as unknown[]).length).toBeGreaterThanOrEqual(10);
    expect(deltas.every((d) => d.r === undefined)).toBe(true);
    const q = c.ofType('q')[0] ?? {};
    expect(q.bx).toBeUndefined();
    expect(typeof q.bs).toBe('number');
    c.send({ action: 'subscribe', lulds: ['BTC/USD'] });
    await until(() => errors(c).length === 1, '410');
    expect(errors(c)[0]?.code).toBe(410);
  });

  it('stamps the delayed SIP feed fifteen minutes behind', async () => {
    const s = await sim({ rate: 2000 });
    const c = await client(s.urlFor('delayed_sip'));
    c.send({ action: 'subscribe', quotes: ['AAPL'] });
    await until(() => c.ofType('q').length >= 1, 'a quote');
    const lag = Date.now() - timeToEpochMs(c.ofType('q')[0]?.t as string);
    expect(lag).toBeGreaterThan(14 * 60_000);
    expect(lag).toBeLessThan(16 * 60_000);
  });
});
