/**
 * Trading halts through the real core on the embedded simulator: the stream subscribes statuses
 * and LULD bands, a halt commanded on the simulator reaches the view as a 'market:trading-status'
 * event (reason, since, band) and fires a "halted" rule once; the resume clears the halt (the band
 * stays), fires the "resumed" rule and re-arms the "halted" one.
 *
 * The simulator's rate is set to 0 once subscribed: its walk halts symbols at random now and then,
 * and with no steps only the commanded halt can happen (control messages are sent at any rate).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TradingStatusView } from '../../../shared/api.ts';
import { waitFor } from '../../support/wait.ts';
import { runCleanups, setup, value } from './harness.ts';

afterEach(runCleanups);

describe('trading halts in the core (embedded simulator)', () => {
  it('a commanded halt reaches the view and fires a halted rule; the resume clears it', async () => {
    const { view, sink } = await setup({
      watchlists: [{ id: 'default', name: 'Main', symbols: ['AAPL', 'MSFT'] }],
    });
    await waitFor(
      () => sink.last('subscriptions:update')?.confirmed.lulds?.includes('AAPL') === true,
      {
        timeoutMs: 10_000,
        what: 'AAPL confirmed on statuses and lulds',
      },
    );
    const subs = sink.last('subscriptions:update')!;
    expect(subs.confirmed.statuses).toEqual(expect.arrayContaining(['AAPL', 'MSFT']));
    await value(view, 'simulator:control', { action: 'rate', perSecond: 0 });

    const halted = await value(view, 'alerts:create', {
      symbol: 'AAPL',
      condition: 'halted',
      value: 0,
    });
    const resumed = await value(view, 'alerts:create', {
      symbol: 'AAPL',
      condition: 'resumed',
      value: 0,
      notify: false,
    });
    expect(halted.name).toBe('alert: AAPL halted');
    const handlers = await value(view, 'handlers:list', {});
    expect(handlers.find((h) => h.name === 'trading status')).toMatchObject({
      kind: 'status',
      builtin: true,
    });
    expect(handlers.find((h) => h.name === halted.name)).toMatchObject({
      kind: 'status',
      symbol: 'AAPL',
    });
    expect(await value(view, 'market:trading-status', {})).toEqual([]);

    const before = Date.now();
    const applied = await value(view, 'simulator:control', {
      action: 'halt',
      symbol: 'aapl',
      halted: true,
    });
    expect(applied.applied).toBe('AAPL halted on 1 connection');

    const seen = (): TradingStatusView | undefined =>
      sink
        .of('market:trading-status')
        .flatMap((u) => u.statuses)
        .findLast((s) => s.symbol === 'AAPL');
    await waitFor(() => seen()?.halted === true, { what: 'the halt event' });
    const status = seen()!;
    expect(status).toMatchObject({
      symbol: 'AAPL',
      halted: true,
      statusCode: 'H',
      statusText: 'Trading halt',
      reasonCode: 'LUDP',
      reasonText: 'Volatility trading pause',
    });
    expect(status.since).toBeGreaterThanOrEqual(before - 1_000);
    expect(status.luld).toBeDefined();
    expect(status.luld!.limitDown).toBeGreaterThan(0);
    expect(status.luld!.limitUp).toBeGreaterThan(status.luld!.limitDown);
    expect(status.luld!.indicator).toBe('A');
    expect(await value(view, 'market:trading-status', {})).toEqual([status]);

    await waitFor(() => sink.of('alerts:fired').some((f) => f.ruleId === halted.id), {
      what: 'the halted rule to fire',
    });
    const firing = sink.of('alerts:fired').filter((f) => f.ruleId === halted.id);
    expect(firing).toHaveLength(1);
    expect(firing[0]).toMatchObject({
      symbol: 'AAPL',
      condition: 'halted',
      message: 'AAPL halted: Trading halt: Volatility trading pause',
    });
    await waitFor(
      () => sink.last('alerts:update')?.find((r) => r.id === halted.id)?.state === 'fired',
      { what: 'the halted rule shown fired' },
    );

    // Halting it again while halted: the same halt, no second firing.
    await value(view, 'simulator:control', { action: 'halt', symbol: 'AAPL', halted: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sink.of('alerts:fired').filter((f) => f.ruleId === halted.id)).toHaveLength(1);

    await value(view, 'simulator:control', { action: 'halt', symbol: 'AAPL', halted: false });
    await waitFor(() => seen()?.halted === false, { what: 'the resume event' });
    expect(seen()).toMatchObject({
      halted: false,
      statusCode: 'T',
      statusText: 'Trading resumption',
      luld: { indicator: 'B' },
    });
    await waitFor(() => sink.of('alerts:fired').some((f) => f.ruleId === resumed.id), {
      what: 'the resumed rule to fire',
    });
    expect(sink.of('alerts:fired').find((f) => f.ruleId === resumed.id)?.message).toMatch(
      /^AAPL resumed trading/,
    );
    await waitFor(
      () => sink.last('alerts:update')?.find((r) => r.id === halted.id)?.state === 'armed',
      { what: 'the halted rule re-armed by the resume' },
    );
    const after = await value(view, 'market:trading-status', {});
    expect(after.map((s) => [s.symbol, s.halted])).toEqual([['AAPL', false]]);

    // Off the watchlist: forgotten, and the view is told.
    await value(view, 'watchlists:remove-symbol', { id: 'default', symbol: 'AAPL' });
    await waitFor(() => sink.of('market:trading-status').some((u) => u.cleared.includes('AAPL')), {
      what: 'AAPL cleared',
    });
    expect(await value(view, 'market:trading-status', {})).toEqual([]);
  }, 30_000);

  it('halt control is refused for a symbol that is not one', async () => {
    const { view } = await setup();
    const result = await view.invoke('simulator:control', {
      action: 'halt',
      symbol: 'not a symbol',
      halted: true,
    });
    expect(result).toMatchObject({ ok: false, error: { code: 'bad-request' } });
  });

  it('LULD bands moving with the price reach a view at most four times a second', async () => {
    const { view, sink } = await setup({
      watchlists: [
        {
          id: 'default',
          name: 'Main',
          symbols: ['AAPL', 'MSFT', 'AMZN', 'GOOGL', 'META', 'NVDA', 'TSLA', 'AMD', 'INTC', 'NFLX'],
        },
      ],
    });
    await waitFor(
      () => sink.last('subscriptions:update')?.confirmed.lulds?.includes('AAPL') === true,
      { timeoutMs: 10_000, what: 'AAPL confirmed on lulds' },
    );
    await value(view, 'simulator:control', { action: 'rate', perSecond: 20_000 });
    const start = sink.of('market:trading-status').length;
    const bands = (): number =>
      sink
        .of('market:trading-status')
        .slice(start)
        .reduce((n, u) => n + u.statuses.length, 0);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const events = sink.of('market:trading-status').length - start;
    // The bands did move (so the events carry something) ...
    expect(bands()).toBeGreaterThan(0);
    // ... but at most one event per 250 ms (2 s: 8, plus one at each edge).
    expect(events).toBeLessThanOrEqual(10);
  });
});
