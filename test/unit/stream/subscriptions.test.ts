import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHANNELS,
  type Channel,
  type ChannelSets,
  type SubscriptionMessage,
} from '../../../shared/market.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';
import {
  SubscriptionManager,
  SymbolError,
  normalizeSymbol,
  type PlannedAction,
} from '../../../electron/stream/subscriptions.ts';

/** A server that applies actions to its own set and answers with the whole-set echo, as Alpaca does. */
class FakeServer {
  readonly sets = new Map<Channel, Set<string>>(CHANNELS.map((c) => [c, new Set<string>()]));

  apply(action: PlannedAction): SubscriptionMessage {
    for (const channel of CHANNELS) {
      const set = this.sets.get(channel);
      for (const s of action.channels[channel] ?? []) {
        if (action.action === 'subscribe') set?.add(s);
        else set?.delete(s);
      }
    }
    return this.echo();
  }

  echo(): SubscriptionMessage {
    const channels = {} as Record<Channel, string[]>;
    for (const c of CHANNELS) channels[c] = [...(this.sets.get(c) ?? [])].sort();
    return {
      kind: 'subscription',
      channels,
      corrections: channels.trades,
      cancelErrors: channels.trades,
    };
  }

  state(): ChannelSets {
    return this.echo().channels;
  }

  drop(): void {
    for (const set of this.sets.values()) set.clear();
  }
}

function echoOf(partial: Partial<Record<Channel, string[]>>): SubscriptionMessage {
  const channels = {} as Record<Channel, string[]>;
  for (const c of CHANNELS) channels[c] = partial[c] ?? [];
  return {
    kind: 'subscription',
    channels,
    corrections: channels.trades,
    cancelErrors: channels.trades,
  };
}

function sets(partial: Partial<Record<Channel, string[]>>): ChannelSets {
  return echoOf(partial).channels;
}

/** Sends and echoes every planned action until the manager has nothing more to say. */
function settle(mgr: SubscriptionManager, server: FakeServer, limit = 10_000): PlannedAction[] {
  const sent: PlannedAction[] = [];
  for (let i = 0; i < limit; i++) {
    const plan = mgr.next();
    if (!plan) return sent;
    sent.push(plan);
    mgr.onEcho(server.apply(plan));
  }
  throw new Error('the planner did not settle');
}

function wire(plan: PlannedAction): string {
  return JSON.stringify({ action: plan.action, ...plan.channels });
}

describe('normalizeSymbol', () => {
  it('trims, upper-cases and validates', () => {
    expect(normalizeSymbol(' aapl ')).toBe('AAPL');
    expect(normalizeSymbol('btc/usd')).toBe('BTC/USD');
    expect(normalizeSymbol('brk.b')).toBe('BRK.B');
    expect(normalizeSymbol('BF-B')).toBe('BF-B');
    expect(normalizeSymbol('*')).toBe('*');
    for (const bad of ['', '   ', 'A B', 'AA*', '$SPX', '.A', 'A"B', 'É', 5, null]) {
      expect(normalizeSymbol(bad)).toBeUndefined();
    }
  });
});

describe('SubscriptionManager desired set', () => {
  it('counts references: two consumers make one subscription, removing one keeps it', () => {
    const mgr = new SubscriptionManager();
    mgr.add('quotes', ['AAPL']);
    mgr.add('quotes', ['aapl', 'MSFT']);
    expect(mgr.refcount('quotes', 'AAPL')).toBe(2);
    expect(mgr.refcount('quotes', ' aapl')).toBe(2);
    expect(mgr.desired()).toEqual(sets({ quotes: ['AAPL', 'MSFT'] }));
    mgr.remove('quotes', ['AAPL']);
    expect(mgr.desired().quotes).toEqual(['AAPL', 'MSFT']);
    mgr.remove('quotes', ['AAPL']);
    expect(mgr.desired().quotes).toEqual(['MSFT']);
    mgr.remove('quotes', ['AAPL']); // nothing left to remove: ignored
    expect(mgr.refcount('quotes', 'AAPL')).toBe(0);
    expect(mgr.refcount('quotes', 'not valid')).toBe(0);
  });

  it('counts a symbol named twice in one call once', () => {
    const mgr = new SubscriptionManager();
    mgr.add('trades', ['A', 'a', ' A ']);
    expect(mgr.refcount('trades', 'A')).toBe(1);
  });

  it('keeps channels apart', () => {
    const mgr = new SubscriptionManager();
    mgr.add('quotes', ['A']);
    mgr.add('trades', ['A']);
    mgr.remove('quotes', ['A']);
    expect(mgr.desired()).toEqual(sets({ trades: ['A'] }));
  });

  it('rejects invalid symbols all-or-nothing, listing every bad one', () => {
    const mgr = new SubscriptionManager();
    mgr.add('quotes', ['KEEP']);
    let error: unknown;
    try {
      mgr.add('quotes', ['MSFT', '', 'A B', 'GOOD']);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SymbolError);
    expect((error as SymbolError).symbols).toEqual(['', 'A B']);
    expect((error as SymbolError).message).toContain('"A B"');
    expect(() => mgr.remove('quotes', ['KEEP', '!'])).toThrow(SymbolError);
    expect(mgr.desired().quotes).toEqual(['KEEP']);
    expect(() => mgr.add('quotes', [7 as unknown as string])).toThrow(/<number>/);
  });

  it('rejects an unknown channel', () => {
    const mgr = new SubscriptionManager();
    expect(() => mgr.add('quote' as Channel, ['A'])).toThrow(/unknown channel/);
  });

  it('returns sorted plain arrays for every channel', () => {
    const mgr = new SubscriptionManager();
    mgr.add('bars', ['Z', 'B', 'M']);
    const desired = mgr.desired();
    expect(Object.keys(desired).sort()).toEqual([...CHANNELS].sort());
    expect(desired.bars).toEqual(['B', 'M', 'Z']);
    expect(JSON.parse(JSON.stringify(desired))).toEqual(desired);
  });

  it('tells listeners when a symbol enters or leaves the desired set, not on refcount bumps', () => {
    const ring = new LogRing();
    const mgr = new SubscriptionManager({ logger: ringLogger(ring) });
    const changes: string[] = [];
    mgr.onChange(() => {
      throw new Error('listener bug');
    });
    const off = mgr.onChange((c) => changes.push(c));
    mgr.add('quotes', ['A']);
    mgr.add('quotes', ['A']);
    mgr.remove('quotes', ['A']);
    expect(changes).toEqual(['desired']);
    mgr.remove('quotes', ['A']);
    expect(changes).toEqual(['desired', 'desired']);
    off();
    mgr.add('quotes', ['B']);
    expect(changes).toHaveLength(2);
    expect(ring.records().filter((r) => r.msg === 'a subscription listener threw')).toHaveLength(3);
  });
});

describe('SubscriptionManager planning', () => {
  it('folds every pending change into one subscribe across channels', () => {
    const mgr = new SubscriptionManager();
    mgr.add('quotes', ['MSFT', 'AAPL']);
    mgr.add('trades', ['AAPL']);
    mgr.add('bars', ['*']);
    const plan = mgr.next();
    expect(plan).toEqual({
      action: 'subscribe',
      channels: { trades: ['AAPL'], quotes: ['AAPL', 'MSFT'], bars: ['*'] },
      bytes: wire(plan as PlannedAction).length,
    });
    expect(wire(plan as PlannedAction)).toBe(
      '{"action":"subscribe","trades":["AAPL"],"quotes":["AAPL","MSFT"],"bars":["*"]}',
    );
  });

  it('keeps one action in flight at a time', () => {
    const mgr = new SubscriptionManager();
    const server = new FakeServer();
    mgr.add('quotes', ['A']);
    const first = mgr.next();
    expect(first).toBeDefined();
    expect(mgr.inFlight()).toBe(first);
    mgr.add('quotes', ['B']);
    expect(mgr.next()).toBeUndefined();
    expect(mgr.isSettled()).toBe(false);
    mgr.onEcho(server.apply(first as PlannedAction));
    expect(mgr.inFlight()).toBeUndefined();
    expect(mgr.confirmed()).toEqual(sets({ quotes: ['A'] }));
    expect(mgr.next()?.channels).toEqual({ quotes: ['B'] });
  });

  it('sends nothing when the server already has what is wanted', () => {
    const mgr = new SubscriptionManager();
    expect(mgr.next()).toBeUndefined();
    expect(mgr.isSettled()).toBe(true);
    mgr.add('quotes', ['A']);
    mgr.onEcho(echoOf({ quotes: ['A'] }));
    expect(mgr.next()).toBeUndefined();
    expect(mgr.isSettled()).toBe(true);
  });

  it('sends unsubscribes before subscribes', () => {
    const mgr = new SubscriptionManager();
    const server = new FakeServer();
    mgr.add('quotes', ['A', 'B']);
    mgr.add('trades', ['X']);
    settle(mgr, server);
    mgr.remove('quotes', ['A']);
    mgr.remove('trades', ['X']);
    mgr.add('quotes', ['C']);
    const sent = settle(mgr, server);
    expect(sent.map((p) => [p.action, p.channels])).toEqual([
      ['unsubscribe', { trades: ['X'], quotes: ['A'] }],
      ['subscribe', { quotes: ['C'] }],
    ]);
    expect(server.state()).toEqual(sets({ quotes: ['B', 'C'] }));
    expect(mgr.isSettled()).toBe(true);
  });

  it('subscribes then unsubscribes a symbol removed while its subscribe was in flight', () => {
    const mgr = new SubscriptionManager();
    const server = new FakeServer();
    mgr.add('quotes', ['A']);
    const plan = mgr.next() as PlannedAction;
    mgr.remove('quotes', ['A']);
    mgr.onEcho(server.apply(plan));
    expect(mgr.refused()).toEqual([]);
    expect(settle(mgr, server).map((p) => p.action)).toEqual(['unsubscribe']);
    expect(server.state()).toEqual(sets({}));
  });

  it('chunks a large delta under maxActionBytes, exactly as JSON.stringify measures', () => {
    const max = 300;
    const mgr = new SubscriptionManager({ maxActionBytes: max });
    const server = new FakeServer();
    const symbols = Array.from({ length: 500 }, (_, i) => `S${i}`);
    mgr.add('quotes', symbols);
    mgr.add('trades', symbols.slice(0, 100));
    mgr.add('news', ['*']);
    const sent = settle(mgr, server);
    let total = 0;
    for (const plan of sent) {
      expect(plan.action).toBe('subscribe');
      expect(plan.bytes).toBe(Buffer.byteLength(wire(plan)));
      expect(plan.bytes).toBeLessThanOrEqual(max);
      total += plan.bytes;
    }
    // Greedy packing: every chunk but the last is nearly full.
    for (const plan of sent.slice(0, -1)) expect(plan.bytes).toBeGreaterThan(max - 20);
    expect(sent.length).toBeLessThanOrEqual(Math.ceil(total / (max - 20)));
    expect(server.state()).toEqual(mgr.desired());
  });

  it('sends a symbol bigger than the limit alone', () => {
    // {"action":"subscribe","quotes":["A","B"]} is 41 bytes.
    const mgr = new SubscriptionManager({ maxActionBytes: 45 });
    const server = new FakeServer();
    const long = 'L'.repeat(60);
    mgr.add('quotes', ['A', long, 'B']);
    const sent = settle(mgr, server);
    expect(sent.map((p) => p.channels.quotes)).toEqual([['A', 'B'], [long]]);
    expect(sent[1]?.bytes).toBeGreaterThan(45);
    expect(sent[0]?.bytes).toBe(wire(sent[0] as PlannedAction).length);
  });

  it('defaults to a 16 KB limit', () => {
    const mgr = new SubscriptionManager();
    mgr.add(
      'quotes',
      Array.from({ length: 5000 }, (_, i) => `SYM${i}`),
    );
    const plan = mgr.next() as PlannedAction;
    expect(plan.bytes).toBeLessThanOrEqual(16_384);
    expect(plan.bytes).toBeGreaterThan(16_300);
  });

  it('sends the whole desired set again after reset()', () => {
    const mgr = new SubscriptionManager();
    const server = new FakeServer();
    mgr.add('quotes', ['A', 'B']);
    mgr.add('bars', ['C']);
    settle(mgr, server);
    mgr.add('quotes', ['D']);
    expect(mgr.next()).toBeDefined();
    server.drop();
    mgr.reset();
    expect(mgr.inFlight()).toBeUndefined();
    expect(mgr.confirmed()).toEqual(sets({}));
    expect(mgr.next()?.channels).toEqual({ quotes: ['A', 'B', 'D'], bars: ['C'] });
  });

  it('abandonInFlight() forgets the action but keeps the confirmed set', () => {
    const mgr = new SubscriptionManager();
    const server = new FakeServer();
    mgr.add('quotes', ['A']);
    settle(mgr, server);
    mgr.add('quotes', ['B']);
    const lost = mgr.next();
    expect(mgr.abandonInFlight()).toBe(lost);
    expect(mgr.abandonInFlight()).toBeUndefined();
    expect(mgr.confirmed()).toEqual(sets({ quotes: ['A'] }));
    expect(mgr.next()).toEqual(lost);
  });

  it('tells listeners about echoes, resets and abandoned actions too', () => {
    const mgr = new SubscriptionManager();
    const changes: string[] = [];
    mgr.onChange((c) => changes.push(c));
    mgr.add('quotes', ['A']);
    mgr.next();
    mgr.abandonInFlight();
    mgr.next();
    mgr.onEcho(echoOf({ quotes: ['A'] }));
    mgr.reset();
    expect(changes).toEqual(['desired', 'in-flight', 'confirmed', 'confirmed']);
  });
});

describe('SubscriptionManager refusals', () => {
  const at = 1_700_000_000_000;

  it('405 refuses the unconfirmed symbols of the subscribe in flight, and does not retry them', () => {
    const mgr = new SubscriptionManager({ now: () => at });
    const server = new FakeServer();
    mgr.add('quotes', ['A']);
    settle(mgr, server);
    mgr.add('quotes', ['B', 'C']);
    mgr.add('trades', ['B']);
    mgr.next();
    expect(mgr.onError(405)).toBe(true);
    expect(mgr.inFlight()).toBeUndefined();
    expect(mgr.refused()).toEqual([
      { channel: 'trades', symbol: 'B', code: 405, at },
      { channel: 'quotes', symbol: 'B', code: 405, at },
      { channel: 'quotes', symbol: 'C', code: 405, at },
    ]);
    expect(mgr.next()).toBeUndefined();
    expect(mgr.isSettled()).toBe(true);
    // Not even after a reconnect.
    server.drop();
    mgr.reset();
    expect(mgr.next()?.channels).toEqual({ quotes: ['A'] });
  });

  it('forgets a refusal when the symbol leaves the desired set, and retries it when wanted again', () => {
    const mgr = new SubscriptionManager({ now: () => at });
    mgr.add('quotes', ['B']);
    mgr.add('quotes', ['B']);
    mgr.next();
    mgr.onError(405);
    mgr.remove('quotes', ['B']);
    expect(mgr.refused()).toHaveLength(1);
    mgr.remove('quotes', ['B']);
    expect(mgr.refused()).toEqual([]);
    mgr.add('quotes', ['B']);
    expect(mgr.next()?.channels).toEqual({ quotes: ['B'] });
  });

  it('clearRefused() makes refused symbols plannable again', () => {
    const mgr = new SubscriptionManager();
    mgr.add('quotes', ['A', 'B']);
    mgr.next();
    mgr.onError(405);
    expect(mgr.clearRefused()).toBe(2);
    expect(mgr.clearRefused()).toBe(0);
    expect(mgr.next()?.channels).toEqual({ quotes: ['A', 'B'] });
  });

  it('reconciles a 405 that follows a partial echo', () => {
    const mgr = new SubscriptionManager({ now: () => at });
    mgr.add('quotes', ['A', 'B', 'C']);
    mgr.next();
    mgr.onEcho(echoOf({ quotes: ['A'] }));
    expect(mgr.onError(405)).toBe(true);
    expect(mgr.refused()).toEqual([
      { channel: 'quotes', symbol: 'B', code: 405, at },
      { channel: 'quotes', symbol: 'C', code: 405, at },
    ]);
    expect(mgr.confirmed().quotes).toEqual(['A']);
    expect(mgr.isSettled()).toBe(true);
  });

  it('un-refuses a symbol that a later echo confirms', () => {
    const mgr = new SubscriptionManager();
    mgr.add('quotes', ['A', 'B']);
    mgr.next();
    mgr.onError(405);
    mgr.onEcho(echoOf({ quotes: ['B'] }));
    expect(mgr.refused().map((r) => r.symbol)).toEqual(['A']);
  });

  it('410 refuses the in-flight action’s channels for its symbols', () => {
    const mgr = new SubscriptionManager({ now: () => at });
    const server = new FakeServer();
    mgr.add('quotes', ['A']);
    settle(mgr, server);
    mgr.add('orderbooks', ['BTC/USD']);
    mgr.add('lulds', ['A']);
    expect(mgr.next()?.channels).toEqual({ lulds: ['A'], orderbooks: ['BTC/USD'] });
    mgr.onError(410);
    expect(mgr.refused()).toEqual([
      { channel: 'lulds', symbol: 'A', code: 410, at },
      { channel: 'orderbooks', symbol: 'BTC/USD', code: 410, at },
    ]);
    expect(mgr.next()).toBeUndefined();
  });

  it('ignores other error codes', () => {
    const mgr = new SubscriptionManager();
    mgr.add('quotes', ['A']);
    const plan = mgr.next();
    expect(mgr.onError(400)).toBe(false);
    expect(mgr.onError(407)).toBe(false);
    expect(mgr.inFlight()).toBe(plan);
    expect(mgr.refused()).toEqual([]);
  });

  it('refuses (code 0) a symbol the echo of its subscribe leaves out, instead of asking forever', () => {
    const ring = new LogRing();
    const mgr = new SubscriptionManager({ now: () => at, logger: ringLogger(ring) });
    mgr.add('quotes', ['A', 'NOPE']);
    mgr.next();
    mgr.onEcho(echoOf({ quotes: ['A'] }));
    expect(mgr.refused()).toEqual([{ channel: 'quotes', symbol: 'NOPE', code: 0, at }]);
    expect(mgr.next()).toBeUndefined();
    expect(ring.records().some((r) => r.symbol === 'NOPE' && r.level === 40)).toBe(true);
  });

  it('does not repeat an unsubscribe the server ignored until the next connection', () => {
    const mgr = new SubscriptionManager();
    const server = new FakeServer();
    mgr.add('quotes', ['A', 'B']);
    settle(mgr, server);
    mgr.remove('quotes', ['A']);
    expect(mgr.next()?.action).toBe('unsubscribe');
    mgr.onEcho(server.echo()); // the server did not drop A
    expect(mgr.next()).toBeUndefined();
    expect(mgr.footprint().ignored).toBe(1);
    server.drop();
    mgr.reset();
    expect(mgr.footprint().ignored).toBe(0);
    expect(mgr.next()?.channels).toEqual({ quotes: ['B'] });
  });
});

describe('SubscriptionManager memory', () => {
  it('leaves no entries behind after 100k subscribe/unsubscribe cycles', () => {
    const mgr = new SubscriptionManager();
    const server = new FakeServer();
    mgr.add('quotes', ['KEEP']);
    for (let i = 0; i < 100_000; i++) {
      const channel = CHANNELS[i % CHANNELS.length] ?? 'quotes';
      const symbol = `S${i}`;
      mgr.add(channel, [symbol]);
      if (i % 100 === 0) {
        expect(settle(mgr, server)).toHaveLength(1);
      } else if (i % 100 === 50) {
        expect(mgr.next()?.action).toBe('subscribe');
        mgr.onError(405);
        expect(mgr.footprint().refused).toBe(1);
      }
      mgr.remove(channel, [symbol]);
      if (i % 100 === 0) expect(settle(mgr, server)).toHaveLength(1);
    }
    settle(mgr, server);
    expect(mgr.footprint()).toEqual({ desired: 1, confirmed: 1, refused: 0, ignored: 0 });
    expect(server.state()).toEqual(sets({ quotes: ['KEEP'] }));
  });
});

describe('SubscriptionManager property', () => {
  type Op =
    | { op: 'add'; channel: Channel; symbols: string[] }
    | { op: 'remove'; channel: Channel; symbols: string[] }
    | { op: 'flush' }
    | { op: 'deliver' }
    | { op: 'drop' };

  const channel = fc.constantFrom<Channel>('quotes', 'trades', 'bars', 'news');
  const symbols = fc.uniqueArray(fc.constantFrom('AAPL', 'MSFT', 'btc/usd', 'IBM', '*', 'BRK.B'), {
    minLength: 1,
    maxLength: 4,
  });
  const op: fc.Arbitrary<Op> = fc.oneof(
    { arbitrary: fc.record({ op: fc.constant('add' as const), channel, symbols }), weight: 4 },
    { arbitrary: fc.record({ op: fc.constant('remove' as const), channel, symbols }), weight: 3 },
    { arbitrary: fc.constant({ op: 'flush' as const }), weight: 3 },
    { arbitrary: fc.constant({ op: 'deliver' as const }), weight: 3 },
    { arbitrary: fc.constant({ op: 'drop' as const }), weight: 1 },
  );

  it('after random adds, removes, drops and deliveries, the server ends with the desired set', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 80 }),
        fc.integer({ min: 40, max: 120 }),
        (ops, maxActionBytes) => {
          const mgr = new SubscriptionManager({ maxActionBytes });
          const server = new FakeServer();
          // Actions sent on the current connection that the server has not processed yet.
          let wire: PlannedAction[] = [];
          const model = new Map<string, number>();
          for (const o of ops) {
            switch (o.op) {
              case 'add':
              case 'remove':
                for (const s of o.symbols) {
                  const key = `${o.channel} ${s.toUpperCase()}`;
                  const n = model.get(key) ?? 0;
                  if (o.op === 'add') model.set(key, n + 1);
                  else if (n > 1) model.set(key, n - 1);
                  else model.delete(key);
                }
                mgr[o.op](o.channel, o.symbols);
                break;
              case 'flush': {
                const plan = mgr.next();
                if (plan) wire.push(plan);
                break;
              }
              case 'deliver': {
                const plan = wire.shift();
                if (plan) mgr.onEcho(server.apply(plan));
                break;
              }
              case 'drop':
                wire = [];
                server.drop();
                mgr.reset();
                break;
            }
            expect(wire.length).toBeLessThanOrEqual(1);
          }
          for (const plan of wire) mgr.onEcho(server.apply(plan));
          settle(mgr, server, 1000);

          const expected = {} as Record<Channel, string[]>;
          for (const c of CHANNELS) expected[c] = [];
          for (const key of model.keys()) {
            const [c, s] = key.split(' ') as [Channel, string];
            expected[c].push(s);
          }
          for (const c of CHANNELS) expected[c].sort();
          expect(mgr.desired()).toEqual(expected);
          expect(server.state()).toEqual(expected);
          expect(mgr.confirmed()).toEqual(expected);
          expect(mgr.refused()).toEqual([]);
          expect(mgr.isSettled()).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});
