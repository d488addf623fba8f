/**
 * watchlists.json as a person or a merge tool may leave it: the schema repairs what would break the
 * model's rules, and keeps every piece of information.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_WATCHLISTS, watchlistsFileSchema } from '../../../shared/api.ts';

function parse(watchlists: unknown[]) {
  const r = watchlistsFileSchema.safeParse({ version: 1, watchlists });
  if (!r.success) throw new Error(r.error.message);
  return r.data.watchlists;
}

describe('watchlists file schema', () => {
  it('collapses symbols that are equal once normalized, keeping the first place', () => {
    const [list] = parse([
      { id: 'a', name: 'Main', symbols: ['msft', 'aapl', ' AAPL ', 'MSFT', 'NVDA'] },
    ]);
    expect(list!.symbols).toEqual(['MSFT', 'AAPL', 'NVDA']);
  });

  it('gives a repeated id and a repeated name (any case) a suffix instead of dropping a list', () => {
    const lists = parse([
      { id: 'x', name: 'Tech', symbols: ['AAPL'] },
      { id: 'x', name: 'tech', symbols: ['MSFT'] },
      { id: 'x', name: 'Other', symbols: [] },
    ]);
    expect(lists.map((l) => l.id)).toEqual(['x', 'x-2', 'x-3']);
    expect(lists.map((l) => l.name)).toEqual(['Tech', 'tech (2)', 'Other']);
    expect(lists.map((l) => l.symbols)).toEqual([['AAPL'], ['MSFT'], []]);
    // What the repair produced is itself valid: saving it again goes through the same schema.
    expect(watchlistsFileSchema.safeParse({ version: 1, watchlists: lists }).success).toBe(true);
  });

  it('a file with no list at all gets the default list', () => {
    expect(parse([])).toEqual(DEFAULT_WATCHLISTS.watchlists);
  });

  it('still refuses what cannot be repaired: a bad symbol, a missing field', () => {
    expect(
      watchlistsFileSchema.safeParse({
        version: 1,
        watchlists: [{ id: 'a', name: 'M', symbols: ['A$B'] }],
      }).success,
    ).toBe(false);
    expect(
      watchlistsFileSchema.safeParse({ version: 1, watchlists: [{ id: 'a', symbols: [] }] })
        .success,
    ).toBe(false);
  });
});
