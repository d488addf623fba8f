/**
 * Two relays across a real nats-server on loopback: the holder (the simulator as its upstream,
 * publishing) and a relay fed by NATS serving the official SDK and our StreamClient. Each client
 * gets what it asked for and nothing else through one simulator connection; a refusal reaches
 * exactly its client; garbage on the interest subject harms nothing; a NATS restart is a gap the
 * clients ride out connected; a relay that vanishes loses its interest when its lease runs out.
 */
import { streaming } from '@alpacahq/alpaca-trade-api';
import { connect as natsConnect } from '@nats-io/transport-node';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { packMessages, startRelay, type Relay } from '../../../electron/relay/index.ts';
import type { Feed } from '../../../shared/market.ts';
import { startSimulator, type Simulator } from '../../../electron/simulator/index.ts';
import { StreamClient } from '../../../electron/stream/client.ts';
import { connect, shut, until, type TestClient } from '../simulator/helpers.ts';
import { NatsServer, natsMissing } from '../../../bench/lib/nats-server.ts';

const SIM_KEY = 'SIMKEY';
const SIM_SECRET = 'SIMSECRET';
const KEYS = [{ key: 'demo', secret: 'demo', maxSymbols: 100 }];
const BIN = fileURLToPath(new URL('../../../bin/market-monitor.js', import.meta.url));

const nats = new NatsServer();
const sims: Simulator[] = [];
const relays: Relay[] = [];
const clients: TestClient[] = [];
const children: ChildProcessWithoutNullStreams[] = [];
const cleanups: (() => void | Promise<void>)[] = [];
let prefixes = 0;

beforeAll(async () => {
  if (natsMissing === undefined) await nats.start();
});

afterAll(async () => {
  await nats.kill();
});

afterEach(async () => {
  for (const fn of cleanups.splice(0)) await fn();
  await Promise.all(clients.splice(0).map(shut));
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(relays.splice(0).map((r) => r.close()));
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

interface Pair {
  sim: Simulator;
  holder: Relay;
  downstream: Relay;
  prefix: string;
}

/** Simulator -> holder relay (publishing) -> NATS -> downstream relay, each test on its own prefix. */
async function pair(
  options: { leaseMs?: number; symbolLimit?: number; feed?: Feed } = {},
): Promise<Pair> {
  const feed = options.feed ?? 'iex';
  const prefix = `t${++prefixes}`;
  const sim = await startSimulator({ rate: 1000, key: SIM_KEY, secret: SIM_SECRET });
  sims.push(sim);
  if (options.symbolLimit !== undefined) sim.setFaults({ symbolLimit: options.symbolLimit });
  const holder = await holderRelay(sim, prefix, feed);
  const downstream = await startRelay({
    upstream: {
      nats: nats.url,
      prefix,
      leaseMs: options.leaseMs ?? 30_000,
      reconnectWaitMs: 100,
    },
    feed,
    keys: KEYS,
  });
  relays.push(downstream);
  await until(() => downstream.upstream.state === 'live', 'the downstream relay on NATS');
  await until(
    () => downstream.stats().upstream.nats?.holderSeen === true,
    'the holder answering the downstream relay',
  );
  return { sim, holder, downstream, prefix };
}

async function holderRelay(sim: Simulator, prefix: string, feed: Feed = 'iex'): Promise<Relay> {
  const holder = await startRelay({
    upstream: {
      url: sim.urlFor(feed),
      key: SIM_KEY,
      secret: SIM_SECRET,
      client: { backoff: { baseMs: 20, capMs: 100 } },
    },
    publish: { nats: nats.url, prefix, reconnectWaitMs: 100 },
    feed,
    keys: KEYS,
  });
  relays.push(holder);
  await until(() => holder.upstream.state === 'live', 'the holder upstream live');
  await until(() => holder.stats().publish?.connection === 'connected', 'the holder on NATS');
  return holder;
}

async function client(relay: Relay, codec: 'json' | 'msgpack' = 'json'): Promise<TestClient> {
  const c = await connect(relay.urlFor(), { codec });
  clients.push(c);
  await until(() => c.items.some((i) => i.T === 'success' && i.msg === 'authenticated'), 'auth');
  return c;
}

/** What the simulator's one connection holds on a channel. */
function upstreamHolds(sim: Simulator, channel: 'quotes' | 'trades'): string[] {
  return [...(sim.connections()[0]?.subscriptions[channel] ?? [])].sort();
}

const errorsOf = (c: TestClient): number[] => c.ofType('error').map((e) => Number(e.code));

describe.skipIf(natsMissing !== undefined)(
  `relay over NATS${natsMissing !== undefined ? ` (skipped: ${natsMissing})` : ''}`,
  () => {
    it('serves the SDK and our StreamClient through NATS from ONE simulator connection, each its own pairs', async () => {
      const { sim, holder, downstream } = await pair();
      const sdk = new streaming.StockDataStream({
        credentials: { keyId: 'demo', secret: 'demo' },
        url: downstream.urlFor(),
        reconnect: false,
      });
      cleanups.push(() => sdk.disconnect());
      const sdkQuotes = new Set<string>();
      const sdkTrades = new Set<string>();
      const sdkErrors: string[] = [];
      sdk.onQuote((q) => sdkQuotes.add(q.symbol));
      sdk.onTrade((t) => sdkTrades.add(t.symbol));
      sdk.onError((e) => sdkErrors.push(String(e)));
      sdk.connect();
      expect(await sdk.waitForAuthentication(5000)).toBe(true);
      sdk.subscribeForQuotes(['AAPL', 'TSLA']);

      const ours = new StreamClient({
        url: downstream.urlFor(),
        key: 'demo',
        secret: 'demo',
        codec: 'json',
      });
      cleanups.push(() => ours.dispose());
      const ourTrades = new Set<string>();
      const ourQuotes = new Set<string>();
      const ourErrors: number[] = [];
      ours.handlers.on('trade', '*', (t) => ourTrades.add(t.symbol));
      ours.handlers.on('quote', '*', (q) => ourQuotes.add(q.symbol));
      ours.on('server-error', (e) => ourErrors.push(e.code));
      ours.subscribe('trades', ['NVDA']);
      ours.connect();

      // a client of the holder itself shares the same upstream connection
      const local = await client(holder, 'msgpack');
      local.send({ action: 'subscribe', quotes: ['MSFT'] });

      await until(
        () => sdkQuotes.size === 2 && ourTrades.size === 1 && local.ofType('q').length > 0,
        'data for every client',
        10_000,
      );
      // a while more: anything not asked for would show up by now
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(sdkQuotes).toEqual(new Set(['AAPL', 'TSLA']));
      expect(sdkTrades).toEqual(new Set());
      expect(ourTrades).toEqual(new Set(['NVDA']));
      expect(ourQuotes).toEqual(new Set());
      expect(new Set(local.ofType('q').map((q) => q.S))).toEqual(new Set(['MSFT']));
      expect(sdk.getSubscriptions()).toMatchObject({ quotes: ['AAPL', 'TSLA'], trades: [] });
      expect(ours.subscriptions.confirmed().trades).toEqual(['NVDA']);
      expect(sdkErrors).toEqual([]);
      expect(ourErrors).toEqual([]);

      expect(sim.stats().connectionsAccepted).toBe(1);
      expect(upstreamHolds(sim, 'quotes')).toEqual(['AAPL', 'MSFT', 'TSLA']);
      expect(upstreamHolds(sim, 'trades')).toEqual(['NVDA']);
      const published = holder.stats().publish;
      expect(published?.leases).toBe(1);
      expect(published?.leasedPairs).toBe(3);
      expect(published?.messages).toBeGreaterThan(0);
      const health = downstream.stats().upstream.nats;
      expect(health?.connection).toBe('connected');
      expect(health?.holderSeen).toBe(true);
      expect(health?.lastMessageAt).toBeGreaterThan(Date.now() - 5000);

      // letting go travels too: the downstream's unsubscribe leaves the simulator's set
      ours.unsubscribe('trades', ['NVDA']);
      await until(() => upstreamHolds(sim, 'trades').length === 0, 'NVDA unsubscribed upstream');
    });

    it("carries crypto pairs (BTC/USD) through NATS: the same trades as the holder's own clients get", async () => {
      const { sim, holder, downstream } = await pair({ feed: 'crypto' });
      const viaNats = new StreamClient({
        url: downstream.urlFor(),
        key: 'demo',
        secret: 'demo',
        codec: 'msgpack',
      });
      const direct = new StreamClient({
        url: holder.urlFor(),
        key: 'demo',
        secret: 'demo',
        codec: 'msgpack',
      });
      cleanups.push(
        () => viaNats.dispose(),
        () => direct.dispose(),
      );
      const got: { nats: string[]; direct: string[] } = { nats: [], direct: [] };
      viaNats.handlers.on('trade', '*', (t) => got.nats.push(`${t.symbol} ${t.id} ${t.price}`));
      direct.handlers.on('trade', '*', (t) => got.direct.push(`${t.symbol} ${t.id} ${t.price}`));
      for (const c of [viaNats, direct]) {
        c.subscribe('trades', ['BTC/USD', 'ETH/USD']);
        c.connect();
      }
      await until(() => got.nats.length > 20, 'crypto trades through NATS', 10_000);
      expect(new Set(got.nats.map((t) => t.split(' ')[0]))).toEqual(
        new Set(['BTC/USD', 'ETH/USD']),
      );
      // the same trades, ids and prices as a client of the holder itself gets
      const fromHolder = new Set(got.direct);
      const seenBoth = got.nats.filter((t) => fromHolder.has(t));
      expect(seenBoth.length).toBeGreaterThan(got.nats.length / 2);
      expect(sim.stats().connectionsAccepted).toBe(1);
    });

    it('serves `*` from the channel wildcard: every symbol, nothing twice beside a single-symbol client', async () => {
      const { sim, downstream } = await pair();
      const star = await client(downstream, 'msgpack');
      const one = await client(downstream);
      one.send({ action: 'subscribe', trades: ['AAPL'] });
      star.send({ action: 'subscribe', trades: ['*'] });
      await until(
        () => new Set(star.ofType('t').map((t) => t.S)).size >= 3 && one.ofType('t').length >= 10,
        'trades for both',
        10_000,
      );
      expect(upstreamHolds(sim, 'trades')).toContain('*');
      expect(new Set(one.ofType('t').map((t) => t.S))).toEqual(new Set(['AAPL']));
      for (const c of [star, one]) {
        const ids = c.ofType('t').map((t) => `${String(t.S)} ${String(t.i)}`);
        expect(new Set(ids).size).toBe(ids.length);
      }
      // the AAPL trades the star client got after the single one's echo are the same ones
      const starAapl = new Set(
        star
          .ofType('t')
          .filter((t) => t.S === 'AAPL')
          .map((t) => t.i),
      );
      const last = one.ofType('t').at(-1)?.i;
      expect(starAapl.has(last)).toBe(true);
    });

    it('logs in to a NATS server that wants a user and password, and never shows the password', async () => {
      const secured = new NatsServer(['--user', 'relay', '--pass', 's3cret']);
      await secured.start();
      cleanups.push(() => secured.kill());
      const url = `nats://relay:s3cret@127.0.0.1:${secured.port}`;
      const sim = await startSimulator({ rate: 1000, key: SIM_KEY, secret: SIM_SECRET });
      sims.push(sim);
      const holder = await startRelay({
        upstream: { url: sim.urlFor('iex'), key: SIM_KEY, secret: SIM_SECRET },
        publish: { nats: url, prefix: 'auth' },
        keys: KEYS,
      });
      relays.push(holder);
      const downstream = await startRelay({ upstream: { nats: url, prefix: 'auth' }, keys: KEYS });
      relays.push(downstream);
      const c = await client(downstream);
      c.send({ action: 'subscribe', quotes: ['AAPL'] });
      await until(() => c.ofType('q').length > 0, 'data through the secured NATS', 10_000);
      const stats = JSON.stringify([holder.stats(), downstream.stats()]);
      expect(stats).toContain(`nats://127.0.0.1:${secured.port}`);
      expect(stats).not.toContain('s3cret');
    });

    it("answers a subscribe by the holder's word on the announcement that carried it, not an older one", async () => {
      // A hand-driven holder: a plain NATS connection on the interest and state subjects.
      const prefix = `t${++prefixes}`;
      const nc = await natsConnect({ servers: nats.url });
      cleanups.push(() => nc.close());
      const announcements: { relay: string; seq: number; pairs: Record<string, string[]> }[] = [];
      nc.subscribe(`${prefix}.iex.interest`, {
        callback: (_err, msg) => {
          announcements.push(msg.json());
        },
      });
      await nc.flush();
      const downstream = await startRelay({
        upstream: { nats: nats.url, prefix, reconnectWaitMs: 100 },
        keys: KEYS,
        settleTimeoutMs: 60_000,
      });
      relays.push(downstream);
      const c = await client(downstream);
      c.send({ action: 'subscribe', quotes: ['AAPL'] });
      await until(
        () => announcements.some((a) => a.pairs.quotes?.includes('AAPL')),
        'AAPL announced',
      );
      const carrying = announcements.find((a) => a.pairs.quotes?.includes('AAPL'));
      const relay = carrying?.relay ?? '';
      const seq = carrying?.seq ?? 0;
      const state = (s: number, confirmed: string[], refused: [string, string, number][]): void =>
        nc.publish(
          `${prefix}.iex.state.${relay}`,
          JSON.stringify({
            v: 1,
            holder: 'fake',
            seq: s,
            confirmed: { quotes: confirmed },
            refused,
          }),
        );
      // an answer to the announcement before: it knew nothing of AAPL, so its refusal is stale
      state(seq - 1, [], [['quotes', 'AAPL', 405]]);
      await nc.flush();
      await until(() => downstream.stats().upstream.nats?.holderSeen === true, 'the answer read');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(errorsOf(c)).toEqual([]);
      expect(c.ofType('subscription')).toHaveLength(0);
      // the answer to the announcement that carried it settles the subscribe
      state(seq, ['AAPL'], []);
      await until(() => c.ofType('subscription').length === 1, 'the echo');
      expect(c.ofType('subscription')[0]?.quotes).toEqual(['AAPL']);
      expect(errorsOf(c)).toEqual([]);
      // and a data message on the pair's subject reaches the client, rebuilt from msgpack
      nc.publish(
        `${prefix}.iex.q.AAPL`,
        packMessages([
          {
            kind: 'quote',
            symbol: 'AAPL',
            bidExchange: 'V',
            bidPrice: 1.25,
            bidSize: 3,
            askExchange: undefined,
            askPrice: 1.5,
            askSize: 4,
            conditions: undefined,
            time: '2026-12-07T11:00:00.123456789Z',
            timeMs: 1_796_641_200_123,
            tape: 'C',
          },
        ]),
      );
      await until(() => c.ofType('q').length === 1, 'the quote');
      expect(c.ofType('q')[0]).toEqual({
        T: 'q',
        S: 'AAPL',
        bx: 'V',
        bp: 1.25,
        bs: 3,
        ap: 1.5,
        as: 4,
        t: '2026-12-07T11:00:00.123456789Z',
        z: 'C',
      });
    });

    it('a holder whose NATS server is not up yet serves its own clients and connects once it is', async () => {
      const later = new NatsServer();
      await later.start();
      await later.kill();
      const sim = await startSimulator({ rate: 1000, key: SIM_KEY, secret: SIM_SECRET });
      sims.push(sim);
      const holder = await startRelay({
        upstream: { url: sim.urlFor('iex'), key: SIM_KEY, secret: SIM_SECRET },
        publish: { nats: later.url, prefix: 'late', reconnectWaitMs: 100 },
        keys: KEYS,
      });
      relays.push(holder);
      const local = await client(holder);
      local.send({ action: 'subscribe', quotes: ['AAPL'] });
      await until(() => local.ofType('q').length > 0, 'local data without NATS');
      expect(holder.stats().publish?.connection).toBe('connecting');
      await until(() => (holder.stats().publish?.dropped ?? 0) > 0, 'messages not published');
      expect(holder.stats().publish?.published).toBe(0);
      await later.start();
      cleanups.push(() => later.kill());
      await until(() => holder.stats().publish?.connection === 'connected', 'NATS found', 10_000);
      await until(() => (holder.stats().publish?.published ?? 0) > 0, 'publishing');
      expect(local.ws.readyState).toBe(WebSocket.OPEN);
    });

    it('client churn on the NATS-fed relay leaves no pair, subject or lease pair behind', async () => {
      const { sim, holder, downstream } = await pair();
      for (let round = 0; round < 5; round++) {
        const batch = await Promise.all(
          Array.from({ length: 10 }, (_, i) => client(downstream, i % 2 ? 'json' : 'msgpack')),
        );
        batch.forEach((c, i) =>
          c.send({
            action: 'subscribe',
            quotes: [['AAPL', 'MSFT', 'NVDA'][i % 3] ?? 'AAPL'],
            trades: ['*'],
          }),
        );
        await until(() => batch.every((c) => c.ofType('subscription').length === 1), 'echoes');
        await Promise.all(batch.map(shut));
        for (const c of batch) clients.splice(clients.indexOf(c), 1);
      }
      await until(() => downstream.footprint().clients === 0, 'no clients');
      expect(downstream.footprint()).toEqual({
        clients: 0,
        routes: 0,
        starRoutes: 0,
        waiting: 0,
        upstreamPairs: 0,
      });
      expect(downstream.stats().upstream.nats?.subjects).toBe(0);
      await until(() => holder.stats().publish?.leasedPairs === 0, 'the lease emptied');
      await until(
        () =>
          upstreamHolds(sim, 'quotes').length === 0 && upstreamHolds(sim, 'trades').length === 0,
        'the upstream unsubscribed',
      );
      expect(holder.stats().publish?.leases).toBe(1);
      expect(sim.stats().connectionsAccepted).toBe(1);
    });

    it('passes a refusal through NATS to exactly the client that asked', async () => {
      const { sim, holder, downstream } = await pair({ symbolLimit: 2 });
      const a = await client(downstream);
      const b = await client(downstream, 'msgpack');
      a.send({ action: 'subscribe', quotes: ['AAPL'] });
      await until(() => a.ofType('subscription').length === 1, "a's echo");
      expect(a.ofType('subscription')[0]?.quotes).toEqual(['AAPL']);
      // two more pairs where the account's plan has room for one
      b.send({ action: 'subscribe', quotes: ['MSFT', 'NVDA'] });
      await until(() => errorsOf(b).length > 0, "b's refusal", 8000);
      expect(errorsOf(b)).toEqual([405]);
      // as Alpaca: a refused subscribe applies nothing, and gets no echo
      expect(b.ofType('subscription')).toHaveLength(0);
      expect(errorsOf(a)).toEqual([]);
      expect(a.ofType('subscription')).toHaveLength(1);
      expect(a.ws.readyState).toBe(WebSocket.OPEN);
      expect(b.ws.readyState).toBe(WebSocket.OPEN);
      // b's pairs go back: the upstream ends with what a holds
      await until(() => upstreamHolds(sim, 'quotes').join() === 'AAPL', 'only AAPL upstream', 8000);
      await until(
        () => holder.upstream.subscriptions.refused().length === 0,
        'the refusal released',
      );
      const before = a.ofType('q').length;
      await until(() => a.ofType('q').length > before + 3, 'a still receiving');
      expect(downstream.stats().counters.errorsSent).toEqual({ 405: 1 });
    });

    it('ignores garbage on the interest subject and keeps serving', async () => {
      const { holder, downstream, prefix } = await pair();
      const nc = await natsConnect({ servers: nats.url });
      cleanups.push(() => nc.close());
      const garbage = [
        new Uint8Array([0xff, 0x00, 0x13]),
        new TextEncoder().encode(
          '{"v":1,"relay":"x","seq":1,"leaseMs":1000,"pairs":{"quotes":"AAPL"}}',
        ),
        new TextEncoder().encode('{"v":1,"relay":"../..","bye":true}'),
        new TextEncoder().encode('null'),
        new TextEncoder().encode(
          JSON.stringify({
            v: 1,
            relay: 'big',
            seq: 1,
            leaseMs: 1000,
            pairs: { quotes: Array.from({ length: 30_000 }, (_, i) => `S${i}`) },
          }),
        ),
        new Uint8Array(0),
      ];
      for (const payload of garbage) nc.publish(`${prefix}.iex.interest`, payload);
      // and a bad data payload where the downstream relay listens
      const c = await client(downstream);
      c.send({ action: 'subscribe', quotes: ['AAPL'] });
      await until(() => c.ofType('q').length > 0, 'data through NATS');
      nc.publish(`${prefix}.iex.q.AAPL`, new TextEncoder().encode('not msgpack'));
      await nc.flush();
      await until(
        () => (holder.stats().publish?.badInterest ?? 0) === garbage.length,
        'garbage counted',
      );
      await until(
        () => (downstream.stats().upstream.nats?.badMessages ?? 0) === 1,
        'bad data counted',
      );
      const before = c.ofType('q').length;
      await until(() => c.ofType('q').length > before + 3, 'data still flowing');
      expect(holder.stats().publish?.leases).toBe(1);
      expect(holder.upstream.state).toBe('live');
      expect(c.ws.readyState).toBe(WebSocket.OPEN);
    });

    it('answers a flood of hellos with a few announcements, not one each', async () => {
      const { holder, downstream, prefix } = await pair();
      const c = await client(downstream);
      c.send({ action: 'subscribe', quotes: ['AAPL'] });
      await until(() => c.ofType('q').length > 0, 'data through NATS');
      const nc = await natsConnect({ servers: nats.url });
      cleanups.push(() => nc.close());
      const before = holder.stats().publish?.announcements ?? 0;
      // Anyone on NATS may say hello; each one asked every downstream relay for its whole set.
      const hello = new TextEncoder().encode(JSON.stringify({ v: 1, holder: 'intruder' }));
      for (let i = 0; i < 500; i++) nc.publish(`${prefix}.iex.hello`, hello);
      await nc.flush();
      await new Promise((resolve) => setTimeout(resolve, 600));
      const answered = (holder.stats().publish?.announcements ?? 0) - before;
      expect(answered).toBeGreaterThanOrEqual(1);
      expect(answered).toBeLessThan(10);
      expect(c.ws.readyState).toBe(WebSocket.OPEN);
    });

    it('holds no more leased pairs in all than its limit, whoever announces them', async () => {
      const prefix = `t${++prefixes}`;
      const sim = await startSimulator({ rate: 0, key: SIM_KEY, secret: SIM_SECRET });
      sims.push(sim);
      const holder = await startRelay({
        upstream: { url: sim.urlFor('iex'), key: SIM_KEY, secret: SIM_SECRET },
        publish: { nats: nats.url, prefix, reconnectWaitMs: 100, maxLeasedPairs: 5 },
        keys: KEYS,
      });
      relays.push(holder);
      await until(() => holder.stats().publish?.connection === 'connected', 'the holder on NATS');
      const nc = await natsConnect({ servers: nats.url });
      cleanups.push(() => nc.close());
      const announce = (relay: string, seq: number, symbols: string[]): void =>
        nc.publish(
          `${prefix}.iex.interest`,
          new TextEncoder().encode(
            JSON.stringify({ v: 1, relay, seq, leaseMs: 30_000, pairs: { quotes: symbols } }),
          ),
        );
      announce('r1', 1, ['AAPL', 'MSFT', 'TSLA']);
      announce('r2', 1, ['NVDA', 'AMD', 'INTC']);
      // r1 may still grow within the limit; r2 was never taken.
      announce('r1', 2, ['AAPL', 'MSFT', 'TSLA', 'IBM', 'ORCL']);
      announce('r1', 3, ['AAPL', 'MSFT', 'TSLA', 'IBM', 'ORCL', 'SPY']);
      await nc.flush();
      await until(() => (holder.stats().publish?.badInterest ?? 0) === 2, 'two refused');
      expect(holder.stats().publish).toMatchObject({ leases: 1, leasedPairs: 5 });
      await until(() => holder.upstream.subscriptions.confirmed().quotes?.length === 5, 'held');
      expect([...(holder.upstream.subscriptions.confirmed().quotes ?? [])].sort()).toEqual([
        'AAPL',
        'IBM',
        'MSFT',
        'ORCL',
        'TSLA',
      ]);
    });

    it('rides out a NATS server restart: both relays resume, interest re-announced, clients stay', async () => {
      const { holder, downstream } = await pair();
      const sdk = new streaming.StockDataStream({
        credentials: { keyId: 'demo', secret: 'demo' },
        url: downstream.urlFor(),
        reconnect: false,
      });
      cleanups.push(() => sdk.disconnect());
      let disconnects = 0;
      let quotes = 0;
      sdk.onDisconnect(() => (disconnects += 1));
      sdk.onQuote(() => (quotes += 1));
      sdk.connect();
      expect(await sdk.waitForAuthentication(5000)).toBe(true);
      sdk.subscribeForQuotes(['AAPL']);
      const raw = await client(downstream, 'msgpack');
      raw.send({ action: 'subscribe', trades: ['TSLA'] });
      await until(() => quotes > 5 && raw.ofType('t').length > 0, 'data before the restart');

      await nats.kill();
      await until(() => downstream.upstream.state !== 'live', 'the downstream relay noticed');
      await until(() => holder.stats().publish?.connection !== 'connected', 'the holder noticed');
      const announcements = holder.stats().publish?.announcements ?? 0;
      await new Promise((resolve) => setTimeout(resolve, 200));
      await nats.start();

      await until(() => downstream.upstream.state === 'live', 'the downstream relay back', 10_000);
      await until(
        () => holder.stats().publish?.connection === 'connected',
        'the holder back',
        10_000,
      );
      // well before a renewal (lease 30 s: every 10 s), so the reconnect itself announced again
      await until(
        () => (holder.stats().publish?.announcements ?? 0) > announcements,
        'interest announced again',
        3000,
      );
      const q = quotes;
      const t = raw.ofType('t').length;
      await until(
        () => quotes > q + 5 && raw.ofType('t').length > t,
        'data after the restart',
        10_000,
      );
      expect(disconnects).toBe(0);
      expect(raw.ws.readyState).toBe(WebSocket.OPEN);
      expect(errorsOf(raw)).toEqual([]);
      expect(holder.stats().publish?.leases).toBe(1);
      expect(holder.stats().publish?.expired).toBe(0);
      expect(downstream.stats().upstream.nats?.reconnects).toBeGreaterThanOrEqual(1);
    });

    it('asks for interest again when the holder restarts, without waiting for a renewal', async () => {
      const { sim, holder, downstream, prefix } = await pair();
      const c = await client(downstream);
      c.send({ action: 'subscribe', quotes: ['AMZN'] });
      await until(() => c.ofType('q').length > 0, 'data through the first holder');
      await holder.close();
      relays.splice(relays.indexOf(holder), 1);
      const next = await holderRelay(sim, prefix);
      const before = c.ofType('q').length;
      // lease 30 s, renewal every 10 s: only the new holder's hello explains data within 5 s
      await until(() => c.ofType('q').length > before + 3, 'data through the new holder', 5000);
      expect(next.stats().publish?.leases).toBe(1);
      expect(c.ws.readyState).toBe(WebSocket.OPEN);
    });

    it('drops the interest of a relay that vanishes once its lease runs out', async () => {
      const { sim, holder, prefix } = await pair();
      const local = await client(holder);
      local.send({ action: 'subscribe', quotes: ['AAPL'] });
      await until(() => local.ofType('subscription').length === 1, 'the local echo');

      // a downstream relay in its own process, killed without a goodbye
      const child = spawn(
        process.execPath,
        [
          BIN,
          'relay',
          '--upstream',
          nats.url,
          '--nats-prefix',
          prefix,
          '--nats-lease',
          '1',
          '--port',
          '0',
          '--status-interval',
          '0.2',
        ],
        { env: { ...process.env, APCA_API_KEY_ID: '', APCA_API_SECRET_KEY: '' } },
      );
      children.push(child);
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const lines: Record<string, unknown>[] = [];
      createInterface({ input: child.stdout }).on('line', (line) =>
        lines.push(JSON.parse(line) as Record<string, unknown>),
      );
      await until(() => lines.length > 0, `the child's listening line (${stderr})`, 15_000);
      expect(lines[0]).toMatchObject({ type: 'listening', upstream: 'nats' });
      const remote = await connect(String(lines[0]?.streamUrl));
      clients.push(remote);
      remote.send({ action: 'subscribe', quotes: ['NFLX'], trades: ['NFLX'] });
      await until(() => remote.ofType('q').length > 0, 'data for the child relay', 10_000);
      expect(upstreamHolds(sim, 'quotes')).toEqual(['AAPL', 'NFLX']);
      // its status lines carry the NATS side of its upstream
      await until(
        () => lines.some((l) => l.type === 'status' && l.authenticated === 1),
        'a status line with the client',
      );
      const status = lines.findLast((l) => l.type === 'status') ?? {};
      expect(status).toMatchObject({
        upstream: {
          state: 'live',
          url: nats.url,
          nats: { connection: 'connected', holderSeen: true, server: nats.url },
        },
      });
      // the relay of pair() and the child
      expect(holder.stats().publish?.leases).toBe(2);

      const killedAt = Date.now();
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
      await until(
        () => upstreamHolds(sim, 'quotes').join() === 'AAPL',
        'NFLX quotes unsubscribed upstream',
        5000,
      );
      await until(
        () => upstreamHolds(sim, 'trades').length === 0,
        'NFLX trades unsubscribed upstream',
      );
      // by the lease running out (1 s after the last renewal, which is at most 1/3 s before the
      // kill), not by a goodbye: a vanished relay sends nothing to say it went
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(600);
      expect(holder.stats().publish).toMatchObject({ leases: 1, leasedPairs: 0, expired: 1 });
      expect(holder.footprint().upstreamPairs).toBe(1);
      const before = local.ofType('q').length;
      await until(() => local.ofType('q').length > before + 3, 'the local client still served');
    });
  },
);
