import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TapeUpdate } from '../../../shared/api.ts';
import type { Bar, Quote, Trade } from '../../../shared/market.ts';
import { Tape } from '../../../electron/market/tape.ts';
import { HandlerRegistry } from '../../../electron/stream/handlers.ts';

const T0 = Date.UTC(2026, 11, 7, 15, 0, 0);
let tradeId = 0;

function trade(symbol: string, price: number, size = 100, at = T0): Trade {
  return {
    kind: 'trade',
    symbol,
    id: ++tradeId,
    exchange: 'V',
    price,
    size,
    conditions: ['@'],
    time: new Date(at).toISOString(),
    timeMs: at,
    tape: 'C',
    takerSide: undefined,
  };
}

function quote(symbol: string, bid: number, ask: number): Quote {
  return {
    kind: 'quote',
    symbol,
    bidExchange: 'Q',
    bidPrice: bid,
    bidSize: 3,
    askExchange: 'V',
    askPrice: ask,
    askSize: 4,
    conditions: undefined,
    time: new Date(T0).toISOString(),
    timeMs: T0,
    tape: 'C',
  };
}

function dailyBar(symbol: string): Bar {
  return {
    kind: 'dailyBar',
    symbol,
    open: 10,
    high: 12,
    low: 9,
    close: 11,
    volume: 5_000,
    tradeCount: 40,
    vwap: 10.5,
    time: new Date(T0).toISOString(),
    timeMs: T0,
  };
}

describe('Tape', () => {
  let sent: Array<{ view: string; update: TapeUpdate }>;
  let registry: HandlerRegistry;
  let tape: Tape;

  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    registry = new HandlerRegistry();
    tape = new Tape({
      capacity: 5,
      flushMs: 100,
      send: (view, update) => sent.push({ view, update }),
    });
    tape.attach(registry);
  });

  afterEach(() => {
    tape.close();
    vi.useRealTimers();
  });

  it('keeps only the symbols a view watches, with one named handler each', () => {
    tape.watch('v1', 'AAPL');
    registry.dispatch(trade('AAPL', 10));
    registry.dispatch(trade('MSFT', 20));
    expect(tape.size('AAPL')).toBe(1);
    expect(tape.size('MSFT')).toBe(0);
    expect(registry.list().map((h) => h.name)).toEqual(['tape: AAPL']);

    // Another view on the same symbol shares the handler; moving one away keeps it for the other.
    tape.watch('v2', 'AAPL');
    tape.watch('v1', 'MSFT');
    expect(
      registry
        .list()
        .map((h) => h.name)
        .sort(),
    ).toEqual(['tape: AAPL', 'tape: MSFT']);
    tape.release('v2');
    expect(registry.list().map((h) => h.name)).toEqual(['tape: MSFT']);
    expect(tape.size('AAPL')).toBe(0);
    tape.watch('v1', null);
    expect(registry.list()).toEqual([]);
    expect([...tape.symbols]).toEqual([]);
  });

  it('bounds the ring to its capacity, newest kept, and answers it oldest first', () => {
    tape.watch('v1', 'AAPL');
    for (let i = 1; i <= 12; i++) registry.dispatch(trade('AAPL', i));
    expect(tape.size('AAPL')).toBe(5);
    const again = tape.watch('v2', 'AAPL');
    expect(again.fresh).toBe(false);
    expect(again.update?.reset).toBe(true);
    expect(again.update?.trades.map((t) => t.price)).toEqual([8, 9, 10, 11, 12]);
  });

  it('batches trades: nothing before flushMs, then one event per watching view', () => {
    tape.watch('v1', 'AAPL');
    tape.watch('v2', 'AAPL');
    tape.watch('v3', 'MSFT');
    registry.dispatch(trade('AAPL', 1));
    registry.dispatch(trade('AAPL', 2));
    registry.dispatch(trade('AAPL', 3));
    vi.advanceTimersByTime(99);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent.map((s) => s.view).sort()).toEqual(['v1', 'v2']);
    expect(sent[0]?.update).toMatchObject({ symbol: 'AAPL', reset: false });
    expect(sent[0]?.update.trades.map((t) => t.price)).toEqual([1, 2, 3]);
    expect(sent[0]?.update.trades[0]).toEqual({
      time: T0,
      price: 1,
      size: 100,
      exchange: 'V',
      conditions: ['@'],
    });

    // The next batch carries only what came since; a quiet tape sends nothing and holds no timer.
    sent = [];
    registry.dispatch(trade('AAPL', 4));
    vi.advanceTimersByTime(100);
    expect(sent.map((s) => s.update.trades.map((t) => t.price))).toEqual([[4], [4]]);
    sent = [];
    vi.advanceTimersByTime(1_000);
    expect(sent).toEqual([]);
    expect(tape.timerActive).toBe(false);
  });

  it('sends at most a ring of trades when more came in one batch', () => {
    tape.watch('v1', 'AAPL');
    for (let i = 1; i <= 9; i++) registry.dispatch(trade('AAPL', i));
    vi.advanceTimersByTime(100);
    expect(sent[0]?.update.trades.map((t) => t.price)).toEqual([5, 6, 7, 8, 9]);
  });

  it('keeps the quote with its exchanges and the day with its VWAP, widened by trades', () => {
    tape.watch('v1', 'AAPL');
    registry.dispatch(quote('AAPL', 10.9, 11.1));
    registry.dispatch(dailyBar('AAPL'));
    registry.dispatch(trade('AAPL', 12.5, 50));
    vi.advanceTimersByTime(100);
    const update = sent[0]?.update;
    expect(update?.quote).toMatchObject({ bidExchange: 'Q', askExchange: 'V', bidPrice: 10.9 });
    expect(update?.day).toEqual({
      open: 10,
      high: 12.5,
      low: 9,
      volume: 5_050,
      vwap: 10.5,
      prevClose: null,
    });
  });

  it('seeds from a snapshot only what the stream has not brought', () => {
    tape.watch('v1', 'AAPL');
    registry.dispatch(quote('AAPL', 10.9, 11.1));
    tape.seed('AAPL', {
      trade: { time: T0 - 1, price: 9.99, size: 1, exchange: 'Q', conditions: [] },
      quote: {
        bidPrice: 1,
        bidSize: 1,
        bidExchange: 'X',
        askPrice: 2,
        askSize: 1,
        askExchange: 'X',
        time: T0 - 1,
      },
      day: { open: 9.5, prevClose: 9.4 },
    });
    tape.seed('MSFT', { day: { open: 1 } });
    vi.advanceTimersByTime(100);
    expect(sent).toHaveLength(1);
    const update = sent[0]?.update;
    expect(update?.trades.map((t) => t.price)).toEqual([9.99]);
    expect(update?.quote?.bidPrice).toBe(10.9);
    expect(update?.day).toMatchObject({ open: 9.5, prevClose: 9.4, vwap: null });
  });

  it('survives a new registry (a source switch): handlers move, rings empty, views reset', () => {
    tape.watch('v1', 'AAPL');
    registry.dispatch(trade('AAPL', 1));
    tape.flush();
    sent = [];
    const next = new HandlerRegistry();
    tape.attach(next);
    expect(registry.list()).toEqual([]);
    expect(next.list().map((h) => h.name)).toEqual(['tape: AAPL']);
    vi.advanceTimersByTime(100);
    expect(sent.map((s) => [s.view, s.update.reset, s.update.trades.length])).toEqual([
      ['v1', true, 0],
    ]);
    next.dispatch(trade('AAPL', 2));
    registry.dispatch(trade('AAPL', 99));
    expect(tape.size('AAPL')).toBe(1);
  });

  it('a throwing sender is logged and the other views still get the batch', () => {
    const errors: unknown[] = [];
    const logger = { error: (o: unknown) => errors.push(o) } as unknown as ConstructorParameters<
      typeof Tape
    >[0]['logger'];
    const got: string[] = [];
    const t = new Tape({
      flushMs: 10,
      ...(logger ? { logger } : {}),
      send: (view) => {
        if (view === 'bad') throw new Error('gone');
        got.push(view);
      },
    });
    const r = new HandlerRegistry();
    t.attach(r);
    t.watch('bad', 'AAPL');
    t.watch('good', 'AAPL');
    r.dispatch(trade('AAPL', 1));
    vi.advanceTimersByTime(10);
    expect(got).toEqual(['good']);
    expect(errors).toHaveLength(1);
    t.close();
    expect(r.list()).toEqual([]);
    expect(t.timerActive).toBe(false);
  });

  it('refuses a bad capacity', () => {
    expect(() => new Tape({ capacity: 0, send: () => undefined })).toThrow(RangeError);
  });
});
