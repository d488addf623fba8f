/**
 * More symbols than may be streamed: addSymbols refuses beyond MAX_TOTAL_SYMBOLS, but a
 * watchlists.json edited by hand can hold more. The first MAX_TOTAL_SYMBOLS in list order are
 * subscribed, the rest are named in a notice: never dropped silently.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_TOTAL_SYMBOLS } from '../../../electron/core/watchlists.ts';
import { runCleanups, setup, value } from './harness.ts';

afterEach(runCleanups);

const sym = (i: number): string => `Z${i.toString(36).toUpperCase().padStart(4, '0')}`;

describe('the limit on symbols across all watchlists', () => {
  it('subscribes the first ones in list order and tells the user how many are left out', async () => {
    const all = Array.from({ length: MAX_TOTAL_SYMBOLS + 100 }, (_, i) => sym(i));
    const { view } = await setup({
      settings: { autoConnect: false },
      watchlists: [
        { id: 'a', name: 'A', symbols: all.slice(0, 10_000) },
        { id: 'b', name: 'B', symbols: all.slice(10_000, 20_000) },
        { id: 'c', name: 'C', symbols: all.slice(20_000) },
      ],
    });
    const snap = await value(view, 'diagnostics:snapshot', {});
    const notice = snap.notices.find((n) => n.id === 'symbol-limit');
    expect(notice?.message).toMatch(/100 more symbols than the limit of 20000/);
    const desired = new Set(snap.subscriptions.desired.quotes);
    expect(desired.size).toBe(MAX_TOTAL_SYMBOLS);
    expect(all.slice(0, MAX_TOTAL_SYMBOLS).every((s) => desired.has(s))).toBe(true);
    expect(all.slice(MAX_TOTAL_SYMBOLS).some((s) => desired.has(s))).toBe(false);

    // Removing one list brings everything under the limit: the notice goes away.
    await value(view, 'watchlists:delete', { id: 'c' });
    const after = await value(view, 'diagnostics:snapshot', {});
    expect(after.notices.some((n) => n.id === 'symbol-limit')).toBe(false);
  });

  it('adding beyond the limit is refused per symbol, with the reason', async () => {
    const all = Array.from({ length: MAX_TOTAL_SYMBOLS }, (_, i) => sym(i));
    const { view } = await setup({
      settings: { autoConnect: false },
      watchlists: [
        { id: 'a', name: 'A', symbols: all.slice(0, 10_000) },
        { id: 'b', name: 'B', symbols: all.slice(10_000) },
        { id: 'c', name: 'C', symbols: [] },
      ],
    });
    const r = await value(view, 'watchlists:add-symbols', { id: 'c', symbols: ['AAPL', 'Z0000'] });
    // Z0000 is already watched elsewhere, so it does not grow the union.
    expect(r.added).toEqual(['Z0000']);
    expect(r.rejected).toEqual([
      {
        input: 'AAPL',
        reason: expect.stringMatching(/limit of 20000 symbols across all watchlists/) as string,
      },
    ]);
  });
});
