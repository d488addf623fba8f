/**
 * The alert engine on a real HandlerRegistry with a fake clock: each condition, hysteresis (once
 * per crossing, the band, the quiet time), pause, edit, re-arm, '*' rules and the bounded log.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AlertEngine } from '../../../electron/alerts/engine.ts';
import { band, holds, rearms, ruleName } from '../../../electron/alerts/rules.ts';
import { createRule, deleteRule, updateRule } from '../../../electron/alerts/store.ts';
import { HandlerRegistry } from '../../../electron/stream/handlers.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';
import {
  ALERT_LOG_CAPACITY,
  alertsFileSchema,
  COMMANDS,
  DEFAULT_ALERTS,
  parseCommand,
  type AlertFired,
  type AlertRule,
  type MarketSessionName,
} from '../../../shared/api.ts';
import type { Quote, Trade } from '../../../shared/market.ts';

const T0 = Date.parse('2026-01-05T15:00:00Z');

function trade(symbol: string, price: number): Trade {
  return {
    kind: 'trade',
    symbol,
    id: 1,
    exchange: 'V',
    price,
    size: 100,
    conditions: undefined,
    time: '2026-01-05T15:00:00Z',
    timeMs: T0,
    tape: undefined,
    takerSide: undefined,
  };
}

function quote(symbol: string, bid: number, ask: number): Quote {
  return {
    kind: 'quote',
    symbol,
    bidExchange: undefined,
    bidPrice: bid,
    bidSize: 1,
    askExchange: undefined,
    askPrice: ask,
    askSize: 1,
    conditions: undefined,
    time: '2026-01-05T15:00:00Z',
    timeMs: T0,
    tape: undefined,
  };
}

function rule(partial: Partial<AlertRule> & Pick<AlertRule, 'condition' | 'value'>): AlertRule {
  return {
    id: partial.id ?? `r-${partial.condition}-${partial.value}`,
    symbol: partial.symbol ?? 'AAPL',
    paused: false,
    notify: true,
    createdAt: 0,
    ...partial,
  };
}

function rig(options: { quietMs?: number } = {}) {
  let now = T0;
  const figures = new Map<string, number>();
  let session: MarketSessionName = 'regular';
  let live = true;
  const fired: AlertFired[] = [];
  let changes = 0;
  const ring = new LogRing();
  const registry = new HandlerRegistry({ now: () => now });
  const engine = new AlertEngine({
    logger: ringLogger(ring),
    now: () => now,
    figure: (symbol, column) => figures.get(`${symbol}:${column}`) ?? Number.NaN,
    session: () => session,
    live: () => live,
    quietMs: options.quietMs ?? 0,
    checkIntervalMs: 1_000,
    onFired: (f) => fired.push(f),
    onChange: () => changes++,
  });
  engine.retain(new Set(['AAPL', 'MSFT', 'NVDA']));
  const detach = engine.attach(registry);
  return {
    engine,
    registry,
    fired,
    ring,
    detach,
    get changes() {
      return changes;
    },
    /** The clock and the timers together, a second at a time (as they move in the app). */
    advance(ms: number) {
      for (let left = ms; left > 0; left -= 1_000) {
        const step = Math.min(1_000, left);
        now += step;
        vi.advanceTimersByTime(step);
      }
    },
    setNow(ms: number) {
      now = ms;
    },
    figure(symbol: string, column: 'refPrice' | 'volume', value: number) {
      figures.set(`${symbol}:${column}`, value);
    },
    setSession(s: MarketSessionName) {
      session = s;
    },
    setLive(l: boolean) {
      live = l;
    },
    trade: (symbol: string, price: number) => registry.dispatch(trade(symbol, price)),
    quote: (symbol: string, bid: number, ask: number) => registry.dispatch(quote(symbol, bid, ask)),
  };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('rules', () => {
  it('holds, bands and re-arms per condition', () => {
    expect(holds('price-above', 230, 230)).toBe(true);
    expect(holds('price-above', 230, 229.99)).toBe(false);
    expect(holds('price-below', 230, 230.01)).toBe(false);
    expect(holds('spread-above', 2, 2)).toBe(false);
    expect(holds('price-above', 230, Number.NaN)).toBe(false);
    expect(band('price-above', 230)).toBeCloseTo(0.23);
    expect(band('price-above', 2)).toBe(0.01);
    expect(rearms('price-above', 230, 229.8)).toBe(false);
    expect(rearms('price-above', 230, 229.76)).toBe(true);
    expect(rearms('price-below', 230, 230.24)).toBe(true);
    expect(rearms('change-below', -3, -2.8)).toBe(false);
    expect(rearms('change-below', -3, -2.6)).toBe(true);
    expect(rearms('volume-above', 1_000, 999)).toBe(true);
    expect(rearms('no-trade', 60, 0)).toBe(false);
  });

  it('names a rule the way the inspector shows it; the default keeps its old name', () => {
    expect(ruleName(rule({ condition: 'price-above', value: 230 }))).toBe(
      'alert: AAPL price above 230',
    );
    expect(ruleName(rule({ condition: 'change-below', value: -3, symbol: '*' }))).toBe(
      'alert: any symbol change below -3 %',
    );
    expect(ruleName(DEFAULT_ALERTS.rules[0]!)).toBe('wide spread alert');
  });

  it('the contract refuses bad rules with a reason', () => {
    const bad = parseCommand('alerts:create', {
      symbol: 'AAPL',
      condition: 'price-above',
      value: -1,
    });
    expect(bad.ok ? 'ok' : bad.error.message).toMatch(/value: a price level must be above 0/);
    const unknown = parseCommand('alerts:create', { symbol: 'AAPL', condition: 'moon', value: 1 });
    expect(unknown.ok).toBe(false);
    const extra = parseCommand('alerts:create', {
      symbol: 'AAPL',
      condition: 'price-above',
      value: 1,
      when: 'now',
    });
    expect(extra.ok ? 'ok' : extra.error.code).toBe('bad-request');
    const seconds = parseCommand('alerts:create', {
      symbol: 'aapl',
      condition: 'no-trade',
      value: 1.5,
    });
    expect(seconds.ok ? 'ok' : seconds.error.message).toMatch(/whole seconds/);
    const good = COMMANDS['alerts:create'].parse({
      symbol: 'aapl',
      condition: 'no-trade',
      value: 30,
    });
    expect(good.symbol).toBe('AAPL');
  });
});

describe('AlertEngine', () => {
  it('price above: fires once per crossing, re-arms past the band, fires on the next crossing', () => {
    const r = rig();
    r.engine.setRules([rule({ condition: 'price-above', value: 230 })]);
    r.trade('AAPL', 229.5);
    r.trade('MSFT', 400); // another symbol: not this rule's route
    expect(r.fired).toHaveLength(0);
    r.trade('AAPL', 230.1);
    r.trade('AAPL', 231);
    r.trade('AAPL', 229.9); // back under, but inside the band: still fired
    r.trade('AAPL', 230.5);
    expect(r.fired.map((f) => f.value)).toEqual([230.1]);
    expect(r.engine.views(new Set(['AAPL']))[0]).toMatchObject({
      state: 'fired',
      fired: 1,
      firedSymbols: ['AAPL'],
      name: 'alert: AAPL price above 230',
    });
    r.trade('AAPL', 229.7); // past the band (0.23): re-armed
    expect(r.engine.views(new Set(['AAPL']))[0]?.state).toBe('armed');
    r.trade('AAPL', 230);
    expect(r.fired.map((f) => f.value)).toEqual([230.1, 230]);
    expect(r.fired[0]).toMatchObject({
      symbol: 'AAPL',
      condition: 'price-above',
      level: 230,
      at: T0,
      notify: true,
      message: 'AAPL traded at 230.10, at or above 230',
    });
    // Logged as a warning, like the wide-spread alert always was.
    expect(r.ring.records().filter((x) => x.level === 40)).toHaveLength(2);
  });

  it('price below, and the quiet time holds a re-arm back', () => {
    const r = rig({ quietMs: 60_000 });
    r.engine.setRules([rule({ condition: 'price-below', value: 100 })]);
    r.trade('AAPL', 99);
    r.trade('AAPL', 105); // past the band, but within the quiet time
    r.trade('AAPL', 99);
    expect(r.fired).toHaveLength(1);
    r.advance(60_000);
    r.trade('AAPL', 99.5); // still below: no re-arm, no fire
    r.trade('AAPL', 105); // now it re-arms
    r.trade('AAPL', 98);
    expect(r.fired.map((f) => f.value)).toEqual([99, 98]);
  });

  it('change % against the book reference (previous close); nothing without one', () => {
    const r = rig();
    r.engine.setRules([
      rule({ id: 'up', condition: 'change-above', value: 3 }),
      rule({ id: 'down', condition: 'change-below', value: -3 }),
    ]);
    r.trade('AAPL', 200); // no reference yet
    expect(r.fired).toHaveLength(0);
    r.figure('AAPL', 'refPrice', 100);
    r.trade('AAPL', 102);
    r.trade('AAPL', 103.5);
    r.trade('AAPL', 96);
    expect(r.fired.map((f) => [f.ruleId, Math.round(f.value * 1e6) / 1e6])).toEqual([
      ['up', 3.5],
      ['down', -4],
    ]);
    expect(r.fired[1]?.message).toBe('AAPL is -4 % against the previous close (bound -3 %)');
  });

  it('spread wider than a % of mid on every symbol, each symbol on its own', () => {
    const r = rig();
    r.engine.setRules([rule({ id: 'sp', symbol: '*', condition: 'spread-above', value: 1 })]);
    r.quote('AAPL', 100, 100.5); // 0.5 %
    r.quote('AAPL', 100, 102); // ~2 %: fires
    r.quote('MSFT', 10, 11); // fires for MSFT
    r.quote('AAPL', 100, 103); // still wide: quiet
    r.quote('AAPL', 0, 103); // one-sided: no value, nothing
    expect(r.fired.map((f) => f.symbol)).toEqual(['AAPL', 'MSFT']);
    r.quote('AAPL', 100, 100.5); // 0.5 % < 0.75: re-armed
    r.quote('AAPL', 100, 102);
    expect(r.fired.map((f) => f.symbol)).toEqual(['AAPL', 'MSFT', 'AAPL']);
    // retain() forgets symbols no longer streamed.
    r.engine.retain(new Set(['AAPL']));
    expect(r.engine.views(new Set())[0]?.firedSymbols).toEqual(['AAPL']);
  });

  it('volume over a level, re-armed by a new day', () => {
    const r = rig();
    r.engine.setRules([rule({ condition: 'volume-above', value: 1_000_000 })]);
    r.figure('AAPL', 'volume', 999_000);
    r.trade('AAPL', 1);
    r.figure('AAPL', 'volume', 1_000_100);
    r.trade('AAPL', 1);
    r.trade('AAPL', 1);
    r.figure('AAPL', 'volume', 500); // the next day
    r.trade('AAPL', 1);
    r.figure('AAPL', 'volume', 2_000_000);
    r.trade('AAPL', 1);
    expect(r.fired.map((f) => f.value)).toEqual([1_000_100, 2_000_000]);
  });

  it('no trade for N s: only in the regular session with a live stream; a trade re-arms', () => {
    const r = rig();
    r.engine.setRules([rule({ condition: 'no-trade', value: 30 })]);
    r.setSession('closed');
    r.advance(120_000);
    expect(r.fired).toHaveLength(0);
    r.setSession('regular');
    r.advance(1_000); // the session is seen to start now
    r.advance(20_000);
    r.trade('AAPL', 10);
    r.advance(29_000);
    expect(r.fired).toHaveLength(0);
    r.advance(1_000);
    expect(r.fired).toHaveLength(1);
    expect(r.fired[0]?.value).toBe(30);
    r.advance(60_000); // fired: not again while silent
    expect(r.fired).toHaveLength(1);
    r.trade('AAPL', 10); // re-armed
    r.setLive(false);
    r.advance(60_000);
    expect(r.fired).toHaveLength(1);
    r.setLive(true);
    r.advance(31_000);
    expect(r.fired).toHaveLength(2);
    // The timer stops with the last no-trade rule.
    expect(r.engine.timerRunning).toBe(true);
    r.engine.setRules([]);
    expect(r.engine.timerRunning).toBe(false);
  });

  it('each active rule is a named handler; paused has none; detach removes them all', () => {
    const r = rig();
    const price = rule({ id: 'p', condition: 'price-above', value: 230 });
    r.engine.setRules([
      price,
      rule({ id: 's', condition: 'spread-above', value: 2, paused: true }),
    ]);
    const names = () => r.registry.list().map((h) => `${h.kind} ${h.symbol} ${h.name}`);
    expect(names()).toEqual(['trade AAPL alert: AAPL price above 230']);
    r.trade('AAPL', 231);
    expect(r.registry.list()[0]?.calls).toBe(1);
    const handlerId = r.registry.list()[0]!.id;
    expect(r.engine.ruleOfHandler(handlerId)).toBe('p');

    // Paused: no handler, nothing fires, the state says so.
    r.engine.setRules([{ ...price, paused: true }]);
    expect(names()).toEqual([]);
    expect(r.engine.views(new Set(['AAPL']))[0]?.state).toBe('paused');
    // Resumed: the fired state was kept (same definition), so no second firing yet.
    r.engine.setRules([price]);
    r.trade('AAPL', 232);
    expect(r.fired).toHaveLength(1);
    // Re-armed by hand: fires at once while the condition holds.
    r.engine.rearm('p');
    r.trade('AAPL', 232);
    expect(r.fired).toHaveLength(2);
    // Edited (another level): a new, armed rule.
    r.engine.setRules([{ ...price, value: 240 }]);
    expect(names()).toEqual(['trade AAPL alert: AAPL price above 240']);
    r.trade('AAPL', 235);
    expect(r.fired).toHaveLength(2);

    r.detach();
    expect(r.registry.size).toBe(0);
    // A new client's registry gets the rules again; the state lives in the engine.
    const next = new HandlerRegistry();
    r.engine.attach(next);
    expect(next.list().map((h) => h.name)).toEqual(['alert: AAPL price above 240']);
  });

  it('keeps the last 500 firings, newest first', () => {
    const r = rig();
    r.engine.setRules([rule({ symbol: '*', condition: 'price-above', value: 10 })]);
    for (let i = 0; i < ALERT_LOG_CAPACITY + 20; i++) {
      r.trade('AAPL', 11);
      r.trade('AAPL', 9);
    }
    const log = r.engine.log();
    expect(log).toHaveLength(ALERT_LOG_CAPACITY);
    expect(log[0]!.seq).toBe(ALERT_LOG_CAPACITY + 20);
    expect(log.at(-1)!.seq).toBe(21);
    expect(r.engine.log(3).map((f) => f.seq)).toEqual([520, 519, 518]);
  });

  it('a throwing listener is logged; the rule and the registry keep going', () => {
    const ring = new LogRing();
    const registry = new HandlerRegistry();
    const engine = new AlertEngine({
      logger: ringLogger(ring),
      figure: () => Number.NaN,
      session: () => 'regular',
      live: () => true,
      quietMs: 0,
      onFired: () => {
        throw new Error('sink down');
      },
      onChange: () => undefined,
    });
    engine.attach(registry);
    engine.setRules([rule({ condition: 'price-above', value: 1 })]);
    registry.dispatch(trade('AAPL', 2));
    expect(engine.log()).toHaveLength(1);
    expect(registry.list()[0]?.errors).toBe(0);
    expect(ring.records().some((x) => x.msg === 'delivering a fired alert failed')).toBe(true);
    engine.close();
    expect(registry.size).toBe(0);
  });
});

describe('alerts.json edits', () => {
  const file = structuredClone(DEFAULT_ALERTS);

  it('create, update, delete; duplicates and unknown ids refused', () => {
    const created = createRule(
      file,
      { symbol: 'AAPL', condition: 'price-above', value: 230.5 },
      'a1',
      5,
    );
    if (!created.ok) throw new Error(created.error.message);
    expect(created.value.rule).toEqual({
      id: 'a1',
      symbol: 'AAPL',
      condition: 'price-above',
      value: 230.5,
      paused: false,
      notify: true,
      createdAt: 5,
    });
    const twin = createRule(
      created.value.file,
      { symbol: 'AAPL', condition: 'price-above', value: 230.5 },
      'a2',
      6,
    );
    expect(twin.ok ? 'ok' : twin.error.code).toBe('conflict');
    const paused = updateRule(created.value.file, { id: 'a1', paused: true });
    expect(paused.ok && paused.value.rule.paused).toBe(true);
    const badValue = updateRule(created.value.file, { id: 'a1', condition: 'no-trade' });
    expect(badValue.ok ? 'ok' : badValue.error.message).toMatch(/whole seconds/);
    expect(updateRule(file, { id: 'nope' }).ok).toBe(false);
    const deleted = deleteRule(created.value.file, 'a1');
    expect(deleted.ok && deleted.value.rules.map((r) => r.id)).toEqual(['wide-spread']);
    expect(deleteRule(file, 'a1').ok).toBe(false);
  });

  it('a hand-edited file with two rules of one id keeps both', () => {
    const parsed = alertsFileSchema.parse({
      version: 1,
      rules: [DEFAULT_ALERTS.rules[0], { ...DEFAULT_ALERTS.rules[0], value: 5 }],
    });
    expect(parsed.rules.map((r) => r.id)).toEqual(['wide-spread', 'wide-spread-2']);
  });
});
