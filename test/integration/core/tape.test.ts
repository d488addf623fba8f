/**
 * Times & Sales through the real core on the embedded simulator: `tape:watch` gives a view the
 * trades of the symbol it watches and of no other, batched; watching moves and ends with the
 * view; a closed market's pane is seeded from a snapshot.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../support/wait.ts';
import { call, Recorder, runCleanups, setup, value } from './harness.ts';

afterEach(runCleanups);

const REGULAR = { rate: 400, symbols: 40, barIntervalMs: 300, session: 'regular' as const };

describe('the tape in the core (embedded simulator)', () => {
  it('tape:watch brings the watched symbol trades only, in batches, until the view moves on', async () => {
    const { core, view, sink } = await setup({
      watchlists: [{ id: 'default', name: 'Main', symbols: ['AAPL', 'MSFT', 'NVDA'] }],
      core: { simulator: REGULAR },
    });
    const first = await value(view, 'tape:watch', { symbol: 'aapl' });
    expect(first).toMatchObject({ symbol: 'AAPL', reset: true });

    await waitFor(() => sink.of('tape:trades').some((u) => u.trades.length > 0), {
      timeoutMs: 10_000,
      what: 'AAPL trades',
    });
    const batches = sink.of('tape:trades');
    expect(new Set(batches.map((b) => b.symbol))).toEqual(new Set(['AAPL']));
    const trades = batches.flatMap((b) => b.trades);
    for (const t of trades) {
      expect(t.price).toBeGreaterThan(0);
      expect(t.size).toBeGreaterThan(0);
      expect(Number.isFinite(t.time)).toBe(true);
    }
    // Batched: at 400 messages a second over three symbols, far fewer events than trades.
    await waitFor(() => sink.of('tape:trades').flatMap((b) => b.trades).length >= 20, {
      timeoutMs: 10_000,
      what: '20 AAPL trades',
    });
    const all = sink.of('tape:trades');
    expect(all.length).toBeLessThan(all.flatMap((b) => b.trades).length);
    // A quote with its exchanges arrived for the pane.
    expect(all.some((b) => b.quote !== undefined && b.quote.bidPrice > 0)).toBe(true);
    // The handler shows in the inspector.
    const handlers = await value(view, 'handlers:list', {});
    expect(handlers.map((h) => h.name)).toContain('tape: AAPL');

    // Moving to MSFT: the answer is MSFT's, and AAPL's handler is gone.
    const moved = await value(view, 'tape:watch', { symbol: 'MSFT' });
    expect(moved?.symbol).toBe('MSFT');
    const mark = sink.events.length;
    await waitFor(
      () =>
        sink.events
          .slice(mark)
          .some(
            (e) =>
              e.event === 'tape:trades' && (e.payload as { trades: unknown[] }).trades.length > 0,
          ),
      { timeoutMs: 10_000, what: 'MSFT trades' },
    );
    const later = sink.events
      .slice(mark)
      .filter((e) => e.event === 'tape:trades')
      .map((e) => (e.payload as { symbol: string }).symbol);
    expect(new Set(later)).toEqual(new Set(['MSFT']));
    const names = (await value(view, 'handlers:list', {})).map((h) => h.name);
    expect(names).toContain('tape: MSFT');
    expect(names).not.toContain('tape: AAPL');

    // A second view watching AAPL gets AAPL; the first view still gets only MSFT.
    const other = new Recorder();
    const second = core.openView(other);
    await value(second, 'tape:watch', { symbol: 'AAPL' });
    await waitFor(() => other.of('tape:trades').some((u) => u.trades.length > 0), {
      timeoutMs: 10_000,
      what: 'AAPL trades for the second view',
    });
    expect(new Set(other.of('tape:trades').map((u) => u.symbol))).toEqual(new Set(['AAPL']));
    expect(
      new Set(
        sink.events
          .slice(mark)
          .filter((e) => e.event === 'tape:trades')
          .map((e) => (e.payload as { symbol: string }).symbol),
      ),
    ).toEqual(new Set(['MSFT']));

    // Closing the view releases its symbol; null ends the first view's watch.
    second.close();
    await value(view, 'tape:watch', { symbol: null });
    const left = (await value(view, 'handlers:list', {})).map((h) => h.name);
    expect(left.filter((n) => n.startsWith('tape:'))).toEqual([]);
  });

  it('a bad symbol is refused with the reason', async () => {
    const { view } = await setup({ core: { simulator: REGULAR } });
    const r = await view.invoke('tape:watch', { symbol: 'B@D' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('bad-request');
      expect(r.error.message).toMatch(/not a symbol/);
    }
  });

  it('a closed market: the pane is seeded from a snapshot (quote with exchanges, day, previous close)', async () => {
    const { view, sink } = await setup({
      core: { simulator: { rate: 400, symbols: 40, session: 'closed' } },
    });
    await value(view, 'tape:watch', { symbol: 'AAPL' });
    await waitFor(() => sink.of('tape:trades').some((u) => u.day?.prevClose != null), {
      timeoutMs: 10_000,
      what: 'a seeded day',
    });
    const seeded = sink.of('tape:trades').find((u) => u.day?.prevClose != null);
    expect(seeded?.symbol).toBe('AAPL');
    expect(seeded?.day?.prevClose).toBeGreaterThan(0);
    expect(seeded?.day?.open).toBeGreaterThan(0);
    expect(seeded?.quote?.bidPrice).toBeGreaterThan(0);
    expect(seeded?.trades.length).toBe(1);
  });

  it('market:bars: flipping back to a range is answered from the cache; a reversed range is refused', async () => {
    const { view } = await setup({ core: { simulator: REGULAR } });
    const requests = async (): Promise<number> =>
      (await value(view, 'diagnostics:snapshot', {})).rest?.requests ?? -1;
    const end = Date.now() - 5 * 60_000;
    const start = end - 3 * 86_400_000;
    const first = await value(view, 'market:bars', {
      symbol: 'AAPL',
      timeframe: '5Min',
      start,
      end,
    });
    expect(first.length).toBeGreaterThan(0);
    const before = await requests();
    await value(view, 'market:bars', { symbol: 'AAPL', timeframe: '1Hour', start, end });
    const again = await value(view, 'market:bars', {
      symbol: 'AAPL',
      timeframe: '5Min',
      start,
      end,
    });
    expect(again).toEqual(first);
    // One request for the new timeframe, none for the one asked before.
    expect((await requests()) - before).toBe(1);
    const reversed = await call(view, 'market:bars', {
      symbol: 'AAPL',
      timeframe: '1Min',
      start: end,
      end: start,
    });
    expect(reversed.ok ? 'ok' : reversed.error.code).toBe('bad-request');
  });
});
