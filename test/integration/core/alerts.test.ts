/**
 * Alerts through the real core on the embedded simulator: a rule created by command fires when
 * the simulator's price crosses it (event, log, notifier), shows in the handler inspector, persists
 * in alerts.json across a restart and a source switch, and is paused (not lost) when its handler
 * is removed in the inspector.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertFired, AlertsFile } from '../../../shared/api.ts';
import { waitFor } from '../../support/wait.ts';
import { call, nextFrame, runCleanups, setup, value } from './harness.ts';

afterEach(runCleanups);

/** The last trade price of `symbol` from the view's frames. */
async function lastPrice(
  view: Awaited<ReturnType<typeof setup>>['view'],
  symbol: string,
): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const frame = await nextFrame(view, 10_000);
    const i = frame.symbols.indexOf(symbol);
    const price = i >= 0 ? frame.lastPrice[i]! : Number.NaN;
    if (Number.isFinite(price)) return price;
  }
  throw new Error(`no trade of ${symbol}`);
}

describe('alerts in the core (embedded simulator)', () => {
  it('a rule created by command fires when the price crosses it, once, with a log entry and a notification', async () => {
    const notified: AlertFired[] = [];
    const { view, sink, dir } = await setup({
      core: { notifier: { notify: (f) => notified.push(f) } },
    });
    const price = await lastPrice(view, 'AAPL');
    // A cent either side of the last trade: whichever way the walk goes, one level is crossed.
    const up = await value(view, 'alerts:create', {
      symbol: 'aapl',
      condition: 'price-above',
      value: Math.round((price + 0.01) * 100) / 100,
    });
    const down = await value(view, 'alerts:create', {
      symbol: 'AAPL',
      condition: 'price-below',
      value: Math.round((price - 0.01) * 100) / 100,
      notify: false,
    });
    expect(up).toMatchObject({ symbol: 'AAPL', state: 'armed', paused: false, streamed: true });
    expect(up.name).toBe(`alert: AAPL price above ${(price + 0.01).toFixed(2)}`);

    // Both show in the inspector, beside the wide-spread alert.
    const handlers = await value(view, 'handlers:list', {});
    expect(handlers.filter((h) => !h.builtin).map((h) => h.name)).toEqual([
      'wide spread alert',
      up.name,
      down.name,
    ]);
    expect(handlers.find((h) => h.name === up.name)).toMatchObject({
      kind: 'trade',
      symbol: 'AAPL',
    });

    await waitFor(() => sink.of('alerts:fired').some((f) => f.symbol === 'AAPL'), {
      timeoutMs: 15_000,
      what: 'an AAPL alert to fire',
    });
    const fired = sink.of('alerts:fired').find((f) => f.symbol === 'AAPL')!;
    const rule = fired.ruleId === up.id ? up : down;
    if (rule === up) expect(fired.value).toBeGreaterThanOrEqual(up.value);
    else expect(fired.value).toBeLessThanOrEqual(down.value);
    expect(fired.message).toContain('AAPL traded at');
    // The notifier hears only rules that ask for notifications.
    expect(notified.map((f) => f.seq)).toEqual(rule === up ? [fired.seq] : []);

    const log = await value(view, 'alerts:log', {});
    expect(log.find((f) => f.seq === fired.seq)).toEqual(fired);
    await waitFor(
      () => sink.last('alerts:update')?.find((r) => r.id === rule.id)?.state === 'fired',
      { what: 'the rule shown fired' },
    );
    const list = await value(view, 'alerts:list', {});
    expect(list.find((r) => r.id === rule.id)).toMatchObject({ fired: 1, firedSymbols: ['AAPL'] });
    // The handler counted its calls.
    const counted = (await value(view, 'handlers:list', {})).find((h) => h.name === rule.name);
    expect(counted?.calls).toBeGreaterThan(0);

    // Re-armed by command while the price is still past the level: it may fire again (not
    // asserted: the walk may have moved back), and the state is armed or fired anew.
    const rearmed = await value(view, 'alerts:update', { id: rule.id, rearm: true });
    expect(['armed', 'fired']).toContain(rearmed.state);

    const onDisk = JSON.parse(await readFile(join(dir, 'alerts.json'), 'utf8')) as AlertsFile;
    expect(onDisk.rules.map((r) => r.id)).toEqual(['wide-spread', up.id, down.id]);
  });

  it('rules persist across a restart and a source switch; removing the handler pauses the rule', async () => {
    const first = await setup();
    const created = await value(first.view, 'alerts:create', {
      symbol: 'MSFT',
      condition: 'change-below',
      value: -50,
    });
    const paused = await value(first.view, 'alerts:create', {
      symbol: 'NVDA',
      condition: 'volume-above',
      value: 1e9,
      paused: true,
    });
    expect(paused.state).toBe('paused');
    expect(paused.streamed).toBe(false);
    await first.core.close();

    const { view, sink } = await setup({ dir: first.dir, writeFiles: false });
    const rules = await value(view, 'alerts:list', {});
    expect(rules.map((r) => [r.id, r.state])).toEqual([
      ['wide-spread', 'armed'],
      [created.id, 'armed'],
      [paused.id, 'paused'],
    ]);
    const names = async () =>
      (await value(view, 'handlers:list', {})).filter((h) => !h.builtin).map((h) => h.name);
    expect(await names()).toEqual(['wide spread alert', 'alert: MSFT change below -50 %']);

    // A new client (another codec) gets the rules registered again.
    await value(view, 'source:set', { source: { kind: 'simulator', codec: 'json' } });
    expect(await names()).toEqual(['wide spread alert', 'alert: MSFT change below -50 %']);

    // Removing the handler in the inspector pauses the rule; it stays paused on the next client.
    const handler = (await value(view, 'handlers:list', {})).find((h) =>
      h.name.startsWith('alert: MSFT'),
    )!;
    const after = await value(view, 'handlers:remove', { id: handler.id });
    expect(after.some((h) => h.id === handler.id)).toBe(false);
    await waitFor(
      () => sink.last('alerts:update')?.find((r) => r.id === created.id)?.state === 'paused',
      { what: 'the paused rule pushed to views' },
    );
    await value(view, 'source:set', { source: { kind: 'simulator', codec: 'msgpack' } });
    expect(await names()).toEqual(['wide spread alert']);
    const file = JSON.parse(await readFile(join(first.dir, 'alerts.json'), 'utf8')) as AlertsFile;
    expect(file.rules.find((r) => r.id === created.id)?.paused).toBe(true);

    // Resumed from the Alerts panel's command: back in the inspector.
    const resumed = await value(view, 'alerts:update', { id: created.id, paused: false });
    expect(resumed.state).toBe('armed');
    expect(await names()).toEqual(['wide spread alert', 'alert: MSFT change below -50 %']);

    // Deleted: gone from the file, the list and the inspector.
    const left = await value(view, 'alerts:delete', { id: created.id });
    expect(left.map((r) => r.id)).toEqual(['wide-spread', paused.id]);
    expect(await names()).toEqual(['wide spread alert']);
  });

  it('no trade for N s fires during the regular session when the feed goes quiet', async () => {
    const { view, sink } = await setup({ core: { alertCheckIntervalMs: 50 } });
    await value(view, 'simulator:control', { action: 'session', session: 'regular' });
    await waitFor(() => sink.last('market:update')?.session === 'regular', {
      what: 'the regular session',
    });
    await lastPrice(view, 'AAPL');
    const rule = await value(view, 'alerts:create', {
      symbol: 'AAPL',
      condition: 'no-trade',
      value: 1,
    });
    // Trades flow: no firing while they do (the simulator trades AAPL several times a second).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sink.of('alerts:fired').filter((f) => f.ruleId === rule.id)).toEqual([]);
    // The feed goes quiet (the connection stays live).
    await value(view, 'simulator:control', { action: 'rate', perSecond: 0 });
    await waitFor(() => sink.of('alerts:fired').some((f) => f.ruleId === rule.id), {
      timeoutMs: 10_000,
      what: 'the no-trade alert',
    });
    const fired = sink.of('alerts:fired').find((f) => f.ruleId === rule.id)!;
    expect(fired.value).toBeGreaterThanOrEqual(1);
    expect(fired.message).toMatch(/^AAPL: no trade for \d+ s during the regular session$/);
    // Once: the silence goes on, the rule stays fired until the next trade.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sink.of('alerts:fired').filter((f) => f.ruleId === rule.id)).toHaveLength(1);
    expect((await value(view, 'alerts:list', {})).find((r) => r.id === rule.id)?.state).toBe(
      'fired',
    );
  });

  it('bad input gets a clear error and changes nothing', async () => {
    const { view } = await setup({ settings: { autoConnect: false } });
    const negative = await call(view, 'alerts:create', {
      symbol: 'AAPL',
      condition: 'price-above',
      value: -5,
    });
    expect(negative.ok ? 'ok' : negative.error).toEqual({
      code: 'bad-request',
      message: 'alerts:create: value: a price level must be above 0 (at most 1,000,000)',
    });
    const symbol = await call(view, 'alerts:create', {
      symbol: 'ÅAPL',
      condition: 'price-above',
      value: 5,
    });
    expect(symbol.ok ? 'ok' : symbol.error.code).toBe('bad-request');
    const missing = await call(view, 'alerts:update', { id: 'nope', paused: true });
    expect(missing.ok ? 'ok' : missing.error.code).toBe('not-found');
    const wrongSeconds = await call(view, 'alerts:update', {
      id: 'wide-spread',
      condition: 'no-trade',
      value: 0.5,
    });
    expect(wrongSeconds.ok ? 'ok' : wrongSeconds.error.code).toBe('bad-request');
    const deleted = await call(view, 'alerts:delete', { id: 'nope' });
    expect(deleted.ok ? 'ok' : deleted.error.code).toBe('not-found');
    expect((await value(view, 'alerts:list', {})).map((r) => r.id)).toEqual(['wide-spread']);
  });
});
