/**
 * The "halted" and "resumed" alert conditions on a real HandlerRegistry: once per halt (however
 * many halt statuses come), re-armed by the opposite event with no quiet time, the halt's length on
 * resume, '*' rules, pause, and the rule schema (they take no value).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AlertEngine } from '../../../electron/alerts/engine.ts';
import {
  firedMessage,
  formatDuration,
  ruleKind,
  ruleName,
} from '../../../electron/alerts/rules.ts';
import { HandlerRegistry } from '../../../electron/stream/handlers.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';
import { parseCommand, type AlertFired, type AlertRule } from '../../../shared/api.ts';
import type { TradingStatus } from '../../../shared/market.ts';

const T0 = Date.parse('2026-01-05T15:00:00Z');

function status(
  symbol: string,
  statusCode: string,
  reasonCode: string,
  atMs: number,
): TradingStatus {
  return {
    kind: 'status',
    symbol,
    statusCode,
    statusMessage: '',
    reasonCode,
    reasonMessage: '',
    time: new Date(atMs).toISOString(),
    timeMs: atMs,
    tape: 'C',
  };
}

function rule(partial: Partial<AlertRule> & Pick<AlertRule, 'condition'>): AlertRule {
  return {
    id: partial.id ?? `r-${partial.condition}`,
    symbol: 'AAPL',
    value: 0,
    paused: false,
    notify: true,
    createdAt: 0,
    ...partial,
  };
}

function rig(rules: AlertRule[]) {
  const fired: AlertFired[] = [];
  const registry = new HandlerRegistry();
  const engine = new AlertEngine({
    logger: ringLogger(new LogRing()),
    now: () => T0,
    figure: () => Number.NaN,
    session: () => 'regular',
    live: () => true,
    // A long quiet time: halt rules must not wait for it.
    quietMs: 3_600_000,
    onFired: (f) => fired.push(f),
    onChange: () => undefined,
  });
  engine.retain(new Set(['AAPL', 'MSFT']));
  engine.setRules(rules);
  engine.attach(registry);
  return {
    engine,
    registry,
    fired,
    send: (symbol: string, code: string, reason: string, atMs: number) =>
      registry.dispatch(status(symbol, code, reason, atMs)),
  };
}

describe('halted and resumed rules', () => {
  it('halted fires once per halt and again on the next one', () => {
    const r = rig([rule({ condition: 'halted' })]);
    expect(r.registry.list().map((h) => [h.name, h.kind, h.symbol])).toEqual([
      ['alert: AAPL halted', 'status', 'AAPL'],
    ]);
    r.send('AAPL', 'H', 'LUDP', T0);
    // Still the same halt: a quotation resumption, a second halt status.
    r.send('AAPL', 'Q', 'T3', T0 + 60_000);
    r.send('AAPL', 'H', 'LUDP', T0 + 61_000);
    expect(r.fired).toHaveLength(1);
    expect(r.fired[0]).toMatchObject({
      symbol: 'AAPL',
      condition: 'halted',
      value: 0,
      message: 'AAPL halted: Trading halt: Volatility trading pause',
    });
    expect(r.engine.views(new Set(['AAPL']))[0]).toMatchObject({
      state: 'fired',
      firedSymbols: ['AAPL'],
    });
    // The resume re-arms at once (no quiet time); the next halt fires again.
    r.send('AAPL', 'T', 'LUDP', T0 + 300_000);
    expect(r.engine.views(new Set(['AAPL']))[0]?.state).toBe('armed');
    r.send('AAPL', 'H', 'T1', T0 + 400_000);
    expect(r.fired).toHaveLength(2);
    expect(r.fired[1]?.message).toBe('AAPL halted: Trading halt: Halt: news pending');
    // Information statuses and other symbols change nothing.
    r.send('AAPL', 'E', '', T0 + 500_000);
    r.send('MSFT', 'H', 'T1', T0 + 500_000);
    expect(r.fired).toHaveLength(2);
  });

  it('resumed fires on the resume with the halt length, once', () => {
    const r = rig([rule({ condition: 'resumed' })]);
    r.send('AAPL', 'H', 'LUDP', T0);
    r.send('AAPL', 'Q', 'T3', T0 + 240_000);
    expect(r.fired).toHaveLength(0);
    r.send('AAPL', 'T', 'LUDP', T0 + 312_000);
    r.send('AAPL', 'T', 'LUDP', T0 + 313_000);
    expect(r.fired).toHaveLength(1);
    expect(r.fired[0]).toMatchObject({
      condition: 'resumed',
      value: 312,
      message:
        'AAPL resumed trading after 5 min 12 s halted (Trading resumption: Volatility trading pause)',
    });
    // A resume whose halt was not seen (the app started during it) still tells, without a length.
    const late = rig([rule({ condition: 'resumed' })]);
    late.send('AAPL', '3', '', T0);
    expect(late.fired[0]).toMatchObject({ value: 0, message: 'AAPL resumed trading (Resume)' });
  });

  it("a '*' rule watches every streamed symbol; a paused one has no handler", () => {
    const r = rig([
      rule({ id: 'any', symbol: '*', condition: 'halted' }),
      rule({ id: 'off', condition: 'halted', paused: true }),
    ]);
    expect(r.registry.list().map((h) => h.name)).toEqual(['alert: any symbol halted']);
    r.send('AAPL', 'H', 'T1', T0);
    r.send('MSFT', '2', 'D', T0);
    expect(r.fired.map((f) => [f.ruleId, f.symbol])).toEqual([
      ['any', 'AAPL'],
      ['any', 'MSFT'],
    ]);
    expect(r.fired[1]?.message).toBe('MSFT halted: Trading halt: News released');
  });

  it('rules read them as events: kind, name, sentence, durations', () => {
    expect(ruleKind('halted')).toBe('status');
    expect(ruleKind('resumed')).toBe('status');
    expect(ruleKind('price-above')).toBe('trade');
    expect(ruleName({ id: 'x', symbol: 'AAPL', condition: 'resumed', value: 0 })).toBe(
      'alert: AAPL resumed',
    );
    expect(firedMessage({ condition: 'halted', value: 0 }, 'AAPL', 0)).toBe('AAPL halted');
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(300)).toBe('5 min');
    expect(formatDuration(3_780)).toBe('1 h 3 min');
  });

  it('the schema takes them with value 0 only', () => {
    const okHalt = parseCommand('alerts:create', { symbol: 'aapl', condition: 'halted', value: 0 });
    expect(okHalt.ok).toBe(true);
    const bad = parseCommand('alerts:create', { symbol: 'AAPL', condition: 'resumed', value: 5 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    if (!bad.ok) expect(bad.error.message).toContain('resumed takes no value');
  });
});

describe('no-trade rules and halts', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a halted symbol's silence is not counted; after the resume it counts from the resume", () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let now = T0;
    let halt: { halted: boolean; resumedAt: number } | undefined;
    const fired: AlertFired[] = [];
    const registry = new HandlerRegistry();
    const engine = new AlertEngine({
      logger: ringLogger(new LogRing()),
      now: () => now,
      figure: () => Number.NaN,
      session: () => 'regular',
      live: () => true,
      halt: () => halt,
      checkIntervalMs: 1_000,
      onFired: (f) => fired.push(f),
      onChange: () => undefined,
    });
    engine.retain(new Set(['AAPL']));
    engine.setRules([rule({ condition: 'no-trade', value: 10 })]);
    engine.attach(registry);
    const advance = (ms: number): void => {
      for (let left = ms; left > 0; left -= 1_000) {
        now += 1_000;
        vi.advanceTimersByTime(1_000);
      }
    };
    halt = { halted: true, resumedAt: Number.NEGATIVE_INFINITY };
    advance(60_000);
    expect(fired).toEqual([]);
    // Resumed 5 s ago: 5 more seconds of silence before it fires, not at once.
    halt = { halted: false, resumedAt: now - 5_000 };
    advance(4_000);
    expect(fired).toEqual([]);
    advance(2_000);
    expect(fired.map((f) => [f.condition, f.value])).toEqual([['no-trade', 10]]);
    engine.close();
  });
});
