/**
 * The trading status board on a real HandlerRegistry: halts seeded by status messages and cleared
 * on resume, the code tables, LULD bands (kept across a resume, malformed ones refused), late
 * messages, the streamed symbols, a new client's reset, and the updates the views are sent.
 */
import { describe, expect, it } from 'vitest';
import {
  TradingStatusBoard,
  describeStatus,
  reasonText,
  statusEffect,
  statusText,
} from '../../../electron/market/trading-status.ts';
import { HandlerRegistry } from '../../../electron/stream/handlers.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';
import type { Luld, TradingStatus } from '../../../shared/market.ts';

const T0 = Date.parse('2026-01-05T15:00:00Z');

function status(
  symbol: string,
  statusCode: string,
  reasonCode: string,
  atMs = T0,
  messages: { sm?: string; rm?: string } = {},
): TradingStatus {
  return {
    kind: 'status',
    symbol,
    statusCode,
    statusMessage: messages.sm ?? '',
    reasonCode,
    reasonMessage: messages.rm ?? '',
    time: new Date(atMs).toISOString(),
    timeMs: atMs,
    tape: 'C',
  };
}

function band(symbol: string, up: number, down: number, atMs = T0, indicator = 'A'): Luld {
  return {
    kind: 'luld',
    symbol,
    limitUp: up,
    limitDown: down,
    indicator,
    time: new Date(atMs).toISOString(),
    timeMs: atMs,
    tape: 'C',
  };
}

function rig(symbols: readonly string[] = ['AAPL', 'MSFT']) {
  const ring = new LogRing();
  let changes = 0;
  const board = new TradingStatusBoard({
    logger: ringLogger(ring),
    onChange: () => changes++,
  });
  board.retain(new Set(symbols));
  const registry = new HandlerRegistry();
  const detach = board.attach(registry);
  return {
    board,
    registry,
    ring,
    detach,
    get changes() {
      return changes;
    },
    send: (msg: TradingStatus | Luld) => registry.dispatch(msg),
  };
}

describe('status codes', () => {
  it('reads CTA and UTP halts and resumes, and leaves information alone', () => {
    expect(statusEffect('H')).toBe('halt');
    expect(statusEffect('P')).toBe('halt');
    expect(statusEffect('Q')).toBe('halt');
    expect(statusEffect('2')).toBe('halt');
    expect(statusEffect('T')).toBe('resume');
    expect(statusEffect('3')).toBe('resume');
    expect(statusEffect('E')).toBe('none');
    expect(statusEffect('zz')).toBe('none');
    expect(statusText('H')).toBe('Trading halt');
    expect(reasonText('LUDP')).toBe('Volatility trading pause');
    expect(reasonText('T1')).toBe('Halt: news pending');
    expect(reasonText('M')).toBe('Limit up-limit down trading pause');
    // Unknown codes keep the feed's words, else name the code; no reason at all is empty.
    expect(statusText('Z9', 'Something new')).toBe('Something new');
    expect(statusText('Z9')).toBe('status Z9');
    expect(reasonText('Q7', 'Odd reason')).toBe('Odd reason');
    expect(reasonText('', '')).toBe('');
    expect(describeStatus(status('AAPL', 'H', 'T1'))).toEqual({
      effect: 'halt',
      text: 'Trading halt: Halt: news pending',
    });
  });
});

describe('TradingStatusBoard', () => {
  it('a halt is held with its reason and time until the resume clears it', () => {
    const r = rig();
    expect(r.registry.list().map((h) => [h.name, h.kind, h.builtin])).toEqual([
      ['trading status', 'status', true],
      ['LULD bands', 'luld', true],
    ]);
    r.send(status('AAPL', 'H', 'LUDP', T0));
    expect(r.board.get('AAPL')).toEqual({
      symbol: 'AAPL',
      halted: true,
      statusCode: 'H',
      statusText: 'Trading halt',
      reasonCode: 'LUDP',
      reasonText: 'Volatility trading pause',
      since: T0,
      luld: undefined,
    });
    expect(r.board.takeUpdate()).toEqual({
      reset: false,
      statuses: [r.board.get('AAPL')],
      cleared: [],
    });
    expect(r.board.takeUpdate()).toBeUndefined();

    // A quotation resumption is still a halt: the mark keeps the halt's start.
    r.send(status('AAPL', 'Q', 'T3', T0 + 60_000));
    expect(r.board.get('AAPL')).toMatchObject({ halted: true, statusCode: 'Q', since: T0 });
    // Information (a short-sale restriction) changes nothing.
    const before = r.board.get('AAPL');
    r.send(status('AAPL', 'E', '', T0 + 61_000));
    expect(r.board.get('AAPL')).toBe(before);

    r.send(status('AAPL', 'T', 'LUDP', T0 + 300_000));
    expect(r.board.get('AAPL')).toBeUndefined();
    expect(r.board.list()).toEqual([]);
    expect(r.board.takeUpdate()).toEqual({ reset: false, statuses: [], cleared: ['AAPL'] });
  });

  it('a resume with no halt held, and information alone, hold nothing', () => {
    const r = rig();
    r.send(status('AAPL', 'T', ''));
    r.send(status('MSFT', '7', ''));
    expect(r.board.size).toBe(0);
    expect(r.board.takeUpdate()).toBeUndefined();
  });

  it('keeps the LULD band across a resume, newest band only', () => {
    const r = rig();
    r.send(band('AAPL', 105.5, 95.25, T0));
    expect(r.board.get('AAPL')).toMatchObject({
      halted: false,
      luld: {
        limitUp: 105.5,
        limitDown: 95.25,
        indicator: 'A',
        indicatorText: 'price band',
        at: T0,
      },
    });
    r.send(status('AAPL', 'H', 'LUDP', T0 + 1_000));
    expect(r.board.get('AAPL')).toMatchObject({ halted: true, luld: { limitUp: 105.5 } });
    r.send(status('AAPL', 'T', 'LUDP', T0 + 2_000));
    expect(r.board.get('AAPL')).toMatchObject({
      halted: false,
      statusCode: 'T',
      statusText: 'Trading resumption',
      since: T0 + 2_000,
      luld: { limitUp: 105.5 },
    });
    // A band older than the one held is late.
    r.send(band('AAPL', 99, 90, T0 - 1_000));
    expect(r.board.get('AAPL')?.luld?.limitUp).toBe(105.5);
    r.send(band('AAPL', 107, 97, T0 + 3_000, 'B'));
    expect(r.board.get('AAPL')?.luld).toMatchObject({
      limitUp: 107,
      indicatorText: 'republished price band',
    });
  });

  it('refuses a malformed band with a log line and keeps the old one', () => {
    const r = rig();
    r.send(band('AAPL', 105, 95));
    r.send(band('AAPL', 90, 95, T0 + 1_000));
    r.send(band('AAPL', 105, 0, T0 + 2_000));
    expect(r.board.get('AAPL')?.luld).toMatchObject({ limitUp: 105, limitDown: 95 });
    expect(r.ring.records().filter((e) => e.msg?.startsWith('LULD band ignored')).length).toBe(2);
  });

  it('ignores a status older than the one held', () => {
    const r = rig();
    r.send(status('AAPL', 'H', 'T1', T0 + 10_000));
    r.send(status('AAPL', 'T', '', T0));
    expect(r.board.get('AAPL')?.halted).toBe(true);
  });

  it('holds only streamed symbols and forgets the ones no longer streamed', () => {
    const r = rig(['AAPL', 'MSFT']);
    r.send(status('NVDA', 'H', 'T1'));
    expect(r.board.get('NVDA')).toBeUndefined();
    r.send(status('AAPL', 'H', 'T1'));
    r.send(status('MSFT', 'H', 'T12', T0 + 5));
    r.board.takeUpdate();
    r.board.retain(new Set(['MSFT']));
    expect(r.board.list().map((s) => s.symbol)).toEqual(['MSFT']);
    expect(r.board.takeUpdate()).toEqual({ reset: false, statuses: [], cleared: ['AAPL'] });
  });

  it('lists halted symbols first, then by symbol', () => {
    const r = rig(['AAPL', 'MSFT', 'NVDA']);
    r.send(band('AAPL', 2, 1));
    r.send(status('NVDA', 'H', 'T1'));
    r.send(band('MSFT', 2, 1));
    expect(r.board.list().map((s) => s.symbol)).toEqual(['NVDA', 'AAPL', 'MSFT']);
  });

  it('a new client starts from nothing and the views are told to reset', () => {
    const r = rig();
    r.send(status('AAPL', 'H', 'T1'));
    r.board.takeUpdate();
    const second = new HandlerRegistry();
    r.board.attach(second);
    // The first registry's handlers are gone; the second's take messages.
    expect(r.registry.list()).toEqual([]);
    expect(r.board.takeUpdate()).toEqual({ reset: true, statuses: [], cleared: [] });
    second.dispatch(status('MSFT', 'H', 'T1'));
    expect(r.board.list().map((s) => s.symbol)).toEqual(['MSFT']);
    r.send(status('AAPL', 'H', 'T1'));
    expect(r.board.get('AAPL')).toBeUndefined();
    expect(() => r.board.attach(second)).toThrow(/already attached/);
    // The old disposer no longer touches the new registry.
    r.detach();
    expect(second.list().length).toBe(2);
  });

  it('haltOf: halted, and when it resumed (kept after the entry goes) for the no-trade alerts', () => {
    const r = rig();
    expect(r.board.haltOf('AAPL')).toBeUndefined();
    r.send(status('AAPL', 'H', 'T1', T0));
    expect(r.board.haltOf('AAPL')).toEqual({ halted: true, resumedAt: Number.NEGATIVE_INFINITY });
    r.send(status('AAPL', 'T', '', T0 + 60_000));
    expect(r.board.get('AAPL')).toBeUndefined();
    expect(r.board.haltOf('AAPL')).toEqual({ halted: false, resumedAt: T0 + 60_000 });
    r.board.retain(new Set(['MSFT']));
    expect(r.board.haltOf('AAPL')).toBeUndefined();
  });

  it('close detaches and forgets', () => {
    const r = rig();
    r.send(status('AAPL', 'H', 'T1'));
    r.board.close();
    expect(r.registry.list()).toEqual([]);
    expect(r.board.size).toBe(0);
  });
});
