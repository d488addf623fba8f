import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Bar, DataKind, DataMessage, Quote, Trade } from '../../../shared/market.ts';
import { DATA_KINDS, timeToEpochMs } from '../../../shared/market.ts';
import {
  HandlerError,
  HandlerRegistry,
  type HandlerKind,
} from '../../../electron/stream/handlers.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';

function quote(symbol: string): Quote {
  return {
    kind: 'quote',
    symbol,
    bidExchange: 'V',
    bidPrice: 1,
    bidSize: 1,
    askExchange: 'Q',
    askPrice: 2,
    askSize: 1,
    conditions: undefined,
    time: '2025-03-04T15:02:11.123456789Z',
    timeMs: timeToEpochMs('2025-03-04T15:02:11.123456789Z'),
    tape: 'C',
  };
}

function trade(symbol: string): Trade {
  return {
    kind: 'trade',
    symbol,
    id: 1,
    exchange: 'V',
    price: 1,
    size: 1,
    conditions: undefined,
    time: '2025-03-04T15:02:11Z',
    timeMs: timeToEpochMs('2025-03-04T15:02:11Z'),
    tape: 'C',
    takerSide: undefined,
  };
}

function bar(kind: Bar['kind'], symbol: string): Bar {
  return {
    kind,
    symbol,
    open: 1,
    high: 1,
    low: 1,
    close: 1,
    volume: 1,
    tradeCount: 1,
    vwap: 1,
    time: '2025-03-04T15:02:00Z',
    timeMs: timeToEpochMs('2025-03-04T15:02:00Z'),
  };
}

/** A message of any kind; only kind and symbol matter to routing. */
function message(kind: DataKind, symbol: string): DataMessage {
  return { ...quote(symbol), kind } as unknown as DataMessage;
}

/** Fake clocks: `wall` in epoch ms, `mono` in monotonic ms; handlers advance `mono` to spend time. */
function fakeClocks() {
  const t = { wall: 1_700_000_000_000, mono: 1_000 };
  return { t, now: () => t.wall, clock: () => t.mono };
}

function expectHandlerError(fn: () => unknown, code: HandlerError['code']): HandlerError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HandlerError);
    expect((err as HandlerError).code).toBe(code);
    return err as HandlerError;
  }
  throw new Error('expected a HandlerError');
}

describe('HandlerRegistry routing', () => {
  it('calls exact, kind-wildcard, symbol-wildcard and catch-all handlers, in registration order', () => {
    const reg = new HandlerRegistry();
    const calls: string[] = [];
    reg.on('*', '*', () => calls.push('any-any'));
    reg.on('quote', 'AAPL', () => calls.push('quote-AAPL'));
    reg.on('*', 'AAPL', () => calls.push('any-AAPL'));
    reg.on('quote', '*', () => calls.push('quote-any'));
    reg.on('quote', 'MSFT', () => calls.push('quote-MSFT'));
    reg.on('trade', 'AAPL', () => calls.push('trade-AAPL'));

    reg.dispatch(quote('AAPL'));
    expect(calls).toEqual(['any-any', 'quote-AAPL', 'any-AAPL', 'quote-any']);

    calls.length = 0;
    reg.dispatch(quote('TSLA'));
    expect(calls).toEqual(['any-any', 'quote-any']);

    calls.length = 0;
    reg.dispatch(trade('AAPL'));
    expect(calls).toEqual(['any-any', 'any-AAPL', 'trade-AAPL']);

    calls.length = 0;
    reg.dispatch(trade('IBM'));
    expect(calls).toEqual(['any-any']);
  });

  it('routes the three bar kinds separately and passes the message through', () => {
    const reg = new HandlerRegistry();
    const seen: Bar[] = [];
    reg.on('dailyBar', '*', (msg) => seen.push(msg));
    const daily = bar('dailyBar', 'AAPL');
    reg.dispatch(bar('bar', 'AAPL'));
    reg.dispatch(daily);
    reg.dispatch(bar('updatedBar', 'AAPL'));
    expect(seen).toEqual([daily]);
    expect(seen[0]).toBe(daily);
  });

  it('normalizes symbols (trim, upper case), including crypto pairs', () => {
    const reg = new HandlerRegistry();
    const calls: string[] = [];
    reg.on('quote', ' aapl ', (m) => calls.push(m.symbol));
    reg.on('quote', 'btc/usd', (m) => calls.push(m.symbol));
    reg.dispatch(quote('AAPL'));
    reg.dispatch(quote('BTC/USD'));
    expect(calls).toEqual(['AAPL', 'BTC/USD']);
    expect(reg.list().map((h) => h.symbol)).toEqual(['AAPL', 'BTC/USD']);
  });

  it('matches a brute-force router over random registrations, removals and messages', () => {
    const kinds: HandlerKind[] = ['*', 'quote', 'trade', 'bar', 'news'];
    const symbols = ['*', 'A', 'B', 'C'];
    const op = fc.oneof(
      fc.record({
        op: fc.constant('add' as const),
        kind: fc.constantFrom(...kinds),
        symbol: fc.constantFrom(...symbols),
      }),
      fc.record({ op: fc.constant('remove' as const), index: fc.nat(40) }),
      fc.record({
        op: fc.constant('send' as const),
        kind: fc.constantFrom<DataKind>('quote', 'trade', 'bar', 'news', 'luld'),
        symbol: fc.constantFrom('A', 'B', 'C', 'D'),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const reg = new HandlerRegistry();
        const live: Array<{ id: string; kind: HandlerKind; symbol: string; n: number }> = [];
        let calls: number[] = [];
        let n = 0;
        for (const o of ops) {
          if (o.op === 'add') {
            const tag = n++;
            const d = reg.on(o.kind, o.symbol, () => calls.push(tag));
            live.push({ id: d.id, kind: o.kind, symbol: o.symbol, n: tag });
          } else if (o.op === 'remove') {
            const victim = live.splice(o.index % Math.max(1, live.length), 1)[0];
            if (victim) expect(reg.remove(victim.id)).toBe(true);
          } else {
            calls = [];
            reg.dispatch(message(o.kind, o.symbol));
            const expected = live
              .filter(
                (h) =>
                  (h.kind === '*' || h.kind === o.kind) &&
                  (h.symbol === '*' || h.symbol === o.symbol),
              )
              .map((h) => h.n);
            expect(calls).toEqual(expected);
          }
        }
        reg.clear();
        expect(reg.footprint()).toEqual({ handlers: 0, sourceKeys: 0, routeKeys: 0 });
      }),
      { numRuns: 300 },
    );
  });
});

describe('HandlerRegistry registration', () => {
  it('rejects a bad kind, symbol, function or name', () => {
    const reg = new HandlerRegistry();
    const noop = (): void => {};
    expectHandlerError(() => reg.on('quotes' as DataKind, 'AAPL', noop), 'invalid');
    expectHandlerError(() => reg.on('quote', '', noop), 'invalid');
    expectHandlerError(() => reg.on('quote', 'AA PL', noop), 'invalid');
    expectHandlerError(() => reg.on('quote', 'AAPL', 'nope' as unknown as () => void), 'invalid');
    expectHandlerError(
      () => reg.on('quote', 'AAPL', noop, { name: 5 as unknown as string }),
      'invalid',
    );
    expect(reg.size).toBe(0);
  });

  it('detects the same function registered twice on the same route', () => {
    const reg = new HandlerRegistry();
    const fn = (): void => {};
    reg.on('quote', 'AAPL', fn);
    const err = expectHandlerError(() => reg.on('quote', 'aapl', fn), 'duplicate');
    expect(err.message).toContain('quote AAPL');
    // The same function elsewhere, or another function on the same route, is fine.
    reg.on('quote', 'MSFT', fn);
    reg.on('*', 'AAPL', fn);
    reg.on('quote', 'AAPL', () => {});
    expect(reg.size).toBe(4);
  });

  it('refuses past maxHandlers with a clear error, and accepts again after a removal', () => {
    const reg = new HandlerRegistry({ maxHandlers: 3 });
    const d1 = reg.on('quote', 'A', () => {});
    reg.on('quote', 'B', () => {});
    reg.on('quote', 'C', () => {}, { builtin: true });
    const err = expectHandlerError(() => reg.on('quote', 'D', () => {}), 'limit');
    expect(err.message).toMatch(/3 handlers/);
    expect(err.message).toMatch(/maxHandlers/);
    d1();
    reg.on('quote', 'D', () => {});
    expect(reg.size).toBe(3);
  });

  it('defaults to a limit of 256', () => {
    const reg = new HandlerRegistry();
    for (let i = 0; i < 256; i++) reg.on('quote', `S${i}`, () => {});
    expectHandlerError(() => reg.on('quote', 'X', () => {}), 'limit');
  });

  it('returns a disposer carrying the id; disposing twice is harmless', () => {
    const reg = new HandlerRegistry();
    let calls = 0;
    const d = reg.on('quote', 'AAPL', () => calls++);
    expect(typeof d.id).toBe('string');
    expect(reg.list()[0]?.id).toBe(d.id);
    d();
    d();
    expect(reg.remove(d.id)).toBe(false);
    reg.dispatch(quote('AAPL'));
    expect(calls).toBe(0);
    expect(reg.size).toBe(0);
  });

  it('names a handler by option, by function name, or anonymous', () => {
    const reg = new HandlerRegistry();
    function priceAlert(): void {}
    reg.on('quote', 'A', () => {}, { name: 'book' });
    reg.on('quote', 'B', priceAlert);
    reg.on('quote', 'C', (() => () => {})());
    expect(reg.list().map((h) => h.name)).toEqual(['book', 'priceAlert', 'anonymous']);
  });

  it('clears user handlers only, unless asked to include the built-in ones', () => {
    const reg = new HandlerRegistry();
    const calls: string[] = [];
    reg.on('quote', '*', () => calls.push('book'), { builtin: true });
    reg.on('quote', 'AAPL', () => calls.push('alert'));
    reg.on('*', '*', () => calls.push('tape'));
    expect(reg.clear()).toBe(2);
    reg.dispatch(quote('AAPL'));
    expect(calls).toEqual(['book']);
    expect(reg.list().map((h) => h.builtin)).toEqual([true]);
    expect(reg.clear({ includeBuiltin: true })).toBe(1);
    expect(reg.clear()).toBe(0);
    calls.length = 0;
    reg.dispatch(quote('AAPL'));
    expect(calls).toEqual([]);
    expect(reg.footprint()).toEqual({ handlers: 0, sourceKeys: 0, routeKeys: 0 });
  });

  it('tells listeners about every add, remove and clear', () => {
    const ring = new LogRing();
    const reg = new HandlerRegistry({ logger: ringLogger(ring) });
    let changes = 0;
    reg.onChange(() => {
      throw new Error('listener bug');
    });
    const off = reg.onChange(() => changes++);
    const d = reg.on('quote', 'A', () => {});
    reg.on('quote', 'B', () => {});
    d();
    d(); // already gone: no change
    reg.clear();
    reg.clear(); // nothing to clear: no change
    expect(changes).toBe(4);
    off();
    reg.on('quote', 'C', () => {});
    expect(changes).toBe(4);
    expect(
      ring.records().filter((r) => r.msg === 'a handler-registry listener threw'),
    ).toHaveLength(5);
  });
});

describe('HandlerRegistry stats', () => {
  it('records calls, time spent and when, from the injected clocks', () => {
    const { t, now, clock } = fakeClocks();
    const reg = new HandlerRegistry({ now, clock, timeEvery: 1 });
    const costs = [5, 1, 3];
    let i = 0;
    reg.on('quote', 'AAPL', () => {
      const cost = costs[i++] ?? 0;
      t.mono += cost;
      t.wall += cost;
    });
    const registeredAt = t.wall;
    expect(reg.list()[0]).toMatchObject({
      calls: 0,
      lastCalledAt: undefined,
      meanMs: 0,
      registeredAt,
    });

    t.wall += 10_000;
    t.mono += 10_000;
    const calledAtWall = t.wall;
    for (let k = 0; k < 3; k++) reg.dispatch(quote('AAPL'));
    // The last call began 6 ms after the first; list() maps its monotonic time back to wall time.
    t.wall += 100;
    t.mono += 100;
    const [stats] = reg.list();
    expect(stats).toMatchObject({
      kind: 'quote',
      symbol: 'AAPL',
      builtin: false,
      calls: 3,
      errors: 0,
      totalMs: 9,
      maxMs: 5,
      meanMs: 3,
      registeredAt,
      lastCalledAt: calledAtWall + 6,
      lastError: undefined,
    });
  });

  it('times one dispatch in timeEvery: calls exact, mean and max from the timed ones, no clock read otherwise', () => {
    const { t, now, clock } = fakeClocks();
    let reads = 0;
    const reg = new HandlerRegistry({
      now,
      clock: () => {
        reads++;
        return clock();
      },
      timeEvery: 4,
    });
    let call = 0;
    // Call k costs k ms; with timeEvery 4 the timed calls are the 1st, 5th and 9th.
    reg.on('quote', 'AAPL', () => {
      call++;
      t.mono += call;
    });
    reads = 0;
    for (let k = 0; k < 10; k++) reg.dispatch(quote('AAPL'), t.mono);
    // Two clock reads (start and end) per timed dispatch of one handler, none for the other seven.
    expect(reads).toBe(6);
    const [stats] = reg.list();
    expect(stats).toMatchObject({ calls: 10, maxMs: 9, meanMs: (1 + 5 + 9) / 3 });
    expect(stats?.totalMs).toBeCloseTo(((1 + 5 + 9) / 3) * 10);
  });

  it('times every handler whatever the pattern of kinds: the countdown is per handler', () => {
    const { t, now, clock } = fakeClocks();
    const reg = new HandlerRegistry({ now, clock, timeEvery: 2 });
    reg.on('quote', '*', () => {
      t.mono += 1;
    });
    reg.on('trade', '*', () => {
      t.mono += 5;
    });
    // Quote, trade, quote, trade...: a period that divides timeEvery.
    for (let k = 0; k < 100; k++) reg.dispatch(k % 2 === 0 ? quote('AAPL') : trade('AAPL'), t.mono);
    const [q, tr] = reg.list();
    expect(q).toMatchObject({ calls: 50, meanMs: 1, maxMs: 1, totalMs: 50 });
    expect(tr).toMatchObject({ calls: 50, meanMs: 5, maxMs: 5, totalMs: 250 });
  });

  it('times the first call of a handler added after others have run', () => {
    const { t, now, clock } = fakeClocks();
    const reg = new HandlerRegistry({ now, clock, timeEvery: 8 });
    reg.on('quote', '*', () => undefined);
    for (let k = 0; k < 5; k++) reg.dispatch(quote('AAPL'));
    reg.on('quote', '*', () => {
      t.mono += 3;
    });
    reg.dispatch(quote('AAPL'));
    expect(reg.list()[1]).toMatchObject({ calls: 1, meanMs: 3, maxMs: 3 });
  });

  it('records the arrival time passed to an untimed dispatch as the last call', () => {
    const { t, now, clock } = fakeClocks();
    const reg = new HandlerRegistry({ now, clock, timeEvery: 100 });
    reg.on('quote', 'AAPL', () => undefined);
    reg.dispatch(quote('AAPL')); // the first dispatch is timed
    t.mono += 5_000;
    t.wall += 5_000;
    reg.dispatch(quote('AAPL'), t.mono - 20);
    expect(reg.list()[0]?.lastCalledAt).toBe(t.wall - 20);
    // Without an arrival time an untimed dispatch keeps the latest timed dispatch's time.
    t.mono += 1_000;
    t.wall += 1_000;
    reg.dispatch(quote('AAPL'));
    expect(reg.list()[0]?.lastCalledAt).toBe(t.wall - 1_000 - 5_000);
  });

  it('returns snapshot copies', () => {
    const reg = new HandlerRegistry();
    reg.on('quote', 'AAPL', () => {
      throw new Error('x');
    });
    reg.dispatch(quote('AAPL'));
    const first = reg.list();
    (first[0] as { calls: number }).calls = 999;
    (first[0]?.lastError as { message: string }).message = 'changed';
    expect(reg.list()[0]?.calls).toBe(1);
    expect(reg.list()[0]?.lastError?.message).toBe('x');
  });
});

describe('HandlerRegistry errors', () => {
  it('isolates a throwing handler: the others run, dispatch does not throw, the error is kept with its stack', () => {
    const { t, now, clock } = fakeClocks();
    const ring = new LogRing();
    const reg = new HandlerRegistry({ now, clock, logger: ringLogger(ring) });
    const calls: string[] = [];
    reg.on('quote', '*', () => calls.push('before'));
    reg.on(
      'quote',
      'AAPL',
      function explode() {
        throw new TypeError('boom');
      },
      { name: 'exploder' },
    );
    reg.on('quote', '*', () => calls.push('after'));

    expect(() => reg.dispatch(quote('AAPL'))).not.toThrow();
    expect(calls).toEqual(['before', 'after']);

    const stats = reg.list().find((h) => h.name === 'exploder');
    expect(stats?.errors).toBe(1);
    expect(stats?.calls).toBe(1);
    expect(stats?.lastError?.message).toBe('boom');
    expect(stats?.lastError?.stack).toMatch(/TypeError: boom/);
    expect(stats?.lastError?.stack).toMatch(/explode/);
    expect(stats?.lastError?.at).toBe(t.wall);

    const records = ring.records().filter((r) => r.msg === 'handler threw');
    expect(records).toHaveLength(1);
    const rec = records[0] as unknown as {
      err: { type: string; message: string; stack: string };
      handler: { name: string };
    };
    expect(rec.err.type).toBe('TypeError');
    expect(rec.err.stack).toMatch(/explode/);
    expect(rec.handler.name).toBe('exploder');
  });

  it('rate-limits the error log to once a second per handler, with the count it skipped', () => {
    const { t, now, clock } = fakeClocks();
    const ring = new LogRing();
    const reg = new HandlerRegistry({ now, clock, logger: ringLogger(ring) });
    reg.on('trade', '*', () => {
      throw new Error('always');
    });
    const logged = () => ring.records().filter((r) => r.level === 50);
    for (let i = 0; i < 10_000; i++) reg.dispatch(trade('A'));
    expect(logged()).toHaveLength(1);
    t.mono += 999;
    reg.dispatch(trade('A'));
    expect(logged()).toHaveLength(1);
    t.mono += 1;
    reg.dispatch(trade('A'));
    expect(logged()).toHaveLength(2);
    expect(logged()[1]).toMatchObject({ suppressed: 10_000, errors: 10_002 });
    expect(reg.list()[0]?.errors).toBe(10_002);
  });

  it('keeps a non-Error throw as a message without a stack', () => {
    const reg = new HandlerRegistry();
    reg.on('quote', '*', () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw 'plain string';
    });
    reg.on('trade', '*', () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw {
        toString() {
          throw new Error('no');
        },
      };
    });
    reg.dispatch(quote('A'));
    reg.dispatch(trade('A'));
    expect(reg.list().map((h) => h.lastError?.message)).toEqual([
      'plain string',
      'a non-Error value was thrown',
    ]);
    expect(reg.list()[0]?.lastError?.stack).toBeUndefined();
  });

  it('counts handler errors of the last 60 s', () => {
    const { t, now, clock } = fakeClocks();
    const reg = new HandlerRegistry({ now, clock });
    let fail = true;
    reg.on('quote', '*', () => {
      if (fail) throw new Error('x');
    });
    reg.dispatch(quote('A'));
    reg.dispatch(quote('A'));
    t.mono += 30_000;
    reg.dispatch(quote('A'));
    expect(reg.recentErrors()).toBe(3);
    t.mono += 30_500;
    expect(reg.recentErrors()).toBe(1);
    fail = false;
    t.mono += 30_000;
    reg.dispatch(quote('A'));
    expect(reg.recentErrors()).toBe(0);
    // Far past the ring's span: stale slots must not come back.
    t.mono += 64_000 * 3 + 30_000;
    expect(reg.recentErrors()).toBe(0);
  });
});

describe('HandlerRegistry changes during dispatch', () => {
  it('does not call a handler removed by an earlier one in the same dispatch', () => {
    const reg = new HandlerRegistry();
    const calls: string[] = [];
    let victim = '';
    reg.on('quote', '*', () => {
      calls.push('remover');
      reg.remove(victim);
    });
    victim = reg.on('quote', 'AAPL', () => calls.push('victim')).id;
    reg.on('*', '*', () => calls.push('last'));
    reg.dispatch(quote('AAPL'));
    expect(calls).toEqual(['remover', 'last']);
  });

  it('lets a handler remove itself and others still run', () => {
    const reg = new HandlerRegistry();
    const calls: string[] = [];
    const once = reg.on('quote', '*', () => {
      calls.push('once');
      once();
    });
    reg.on('quote', '*', () => calls.push('always'));
    reg.dispatch(quote('A'));
    reg.dispatch(quote('A'));
    expect(calls).toEqual(['once', 'always', 'always']);
  });

  it('calls a handler added during a dispatch from the next message on', () => {
    const reg = new HandlerRegistry();
    const calls: string[] = [];
    let added = false;
    reg.on('quote', 'AAPL', () => {
      calls.push('adder');
      if (!added) {
        added = true;
        reg.on('*', '*', () => calls.push('new'));
        reg.on('quote', 'AAPL', () => calls.push('new-exact'));
      }
    });
    reg.dispatch(quote('AAPL'));
    expect(calls).toEqual(['adder']);
    reg.dispatch(quote('AAPL'));
    expect(calls).toEqual(['adder', 'adder', 'new', 'new-exact']);
  });

  it('survives clear() from inside a handler', () => {
    const reg = new HandlerRegistry();
    const calls: string[] = [];
    reg.on('quote', '*', () => {
      calls.push('clearer');
      reg.clear();
    });
    reg.on('quote', '*', () => calls.push('never'));
    reg.dispatch(quote('A'));
    reg.dispatch(quote('A'));
    expect(calls).toEqual(['clearer']);
  });
});

describe('HandlerRegistry memory', () => {
  it('leaves no map entries behind after 100k add/remove cycles', () => {
    const reg = new HandlerRegistry();
    const keep = reg.on('quote', '*', () => {}, { builtin: true });
    const kinds: HandlerKind[] = ['*', ...DATA_KINDS];
    for (let i = 0; i < 100_000; i++) {
      const kind = kinds[i % kinds.length] ?? '*';
      const symbol = i % 7 === 0 ? '*' : `S${i}`;
      const d = reg.on(kind, symbol, () => {});
      if (i % 1000 === 0) reg.dispatch(quote(`S${i}`));
      d();
    }
    expect(reg.footprint()).toEqual({ handlers: 1, sourceKeys: 1, routeKeys: 0 });
    expect(reg.list().map((h) => h.id)).toEqual([keep.id]);
  });
});
