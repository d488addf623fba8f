import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_WATCHLISTS,
  MAX_SYMBOLS_PER_WATCHLIST,
  MAX_WATCHLIST_NAME,
  MAX_WATCHLISTS,
  watchlistsFileSchema,
  type Result,
  type WatchlistsFile,
} from '../../../shared/api.ts';
import {
  addSymbols,
  allSymbols,
  createWatchlist,
  deleteWatchlist,
  MAX_TOTAL_SYMBOLS,
  moveSymbol,
  removeSymbol,
  renameWatchlist,
  subscribableSymbols,
} from '../../../electron/core/watchlists.ts';

function ids(): () => string {
  let n = 0;
  return () => `id-${++n}`;
}

function file(...lists: Array<{ id: string; name: string; symbols?: string[] }>): WatchlistsFile {
  return {
    version: 1,
    watchlists: lists.map((l) => ({ id: l.id, name: l.name, symbols: l.symbols ?? [] })),
  };
}

/** Deep-frozen copy: any mutation by the code under test throws. */
function frozen(f: WatchlistsFile): WatchlistsFile {
  for (const w of f.watchlists) {
    Object.freeze(w.symbols);
    Object.freeze(w);
  }
  Object.freeze(f.watchlists);
  return Object.freeze(f);
}

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

function error<T>(r: Result<T>): { code: string; message: string } {
  if (r.ok) throw new Error('expected an error');
  return r.error;
}

describe('createWatchlist', () => {
  it('appends an empty list with a fresh id and a trimmed name, without mutating', () => {
    const before = frozen(structuredClone(DEFAULT_WATCHLISTS));
    const { file: after, watchlist } = value(createWatchlist(before, '  Tech  ', ids()));
    expect(watchlist).toEqual({ id: 'id-1', name: 'Tech', symbols: [] });
    expect(after.watchlists.map((w) => w.id)).toEqual(['default', 'id-1']);
    expect(after.watchlists[0]).toBe(before.watchlists[0]);
    expect(before.watchlists).toHaveLength(1);
    expect(watchlistsFileSchema.safeParse(after).success).toBe(true);
  });

  it('refuses a duplicate name in any case: conflict', () => {
    const f = frozen(file({ id: 'a', name: 'Tech' }));
    const e = error(createWatchlist(f, 'TECH', ids()));
    expect(e.code).toBe('conflict');
    expect(e.message).toBe('A watchlist named "Tech" already exists.');
  });

  it('refuses an empty or overlong name: bad-request', () => {
    const f = frozen(file({ id: 'a', name: 'A' }));
    expect(error(createWatchlist(f, '   ', ids())).code).toBe('bad-request');
    expect(error(createWatchlist(f, 'x'.repeat(MAX_WATCHLIST_NAME + 1), ids())).code).toBe(
      'bad-request',
    );
    expect(
      value(createWatchlist(f, 'x'.repeat(MAX_WATCHLIST_NAME), ids())).watchlist.name,
    ).toHaveLength(MAX_WATCHLIST_NAME);
  });

  it(`refuses the ${MAX_WATCHLISTS + 1}th list: limit`, () => {
    let f: WatchlistsFile = file({ id: 'a', name: 'List 0' });
    const next = ids();
    for (let i = 1; i < MAX_WATCHLISTS; i++) f = value(createWatchlist(f, `List ${i}`, next)).file;
    expect(f.watchlists).toHaveLength(MAX_WATCHLISTS);
    const e = error(createWatchlist(frozen(f), 'One more', next));
    expect(e.code).toBe('limit');
    expect(e.message).toContain(String(MAX_WATCHLISTS));
  });

  it('skips an id that is taken, and gives up on an id source that only repeats', () => {
    const f = frozen(file({ id: 'id-1', name: 'A' }));
    expect(value(createWatchlist(f, 'B', ids())).watchlist.id).toBe('id-2');
    expect(error(createWatchlist(f, 'B', () => 'id-1')).code).toBe('internal');
  });
});

describe('renameWatchlist', () => {
  const f = frozen(file({ id: 'a', name: 'Tech' }, { id: 'b', name: 'Energy' }));

  it('renames, trimming, without touching the other lists', () => {
    const r = value(renameWatchlist(f, 'a', ' Chips '));
    expect(r.watchlist).toEqual({ id: 'a', name: 'Chips', symbols: [] });
    expect(r.file.watchlists[1]).toBe(f.watchlists[1]);
    expect(f.watchlists[0]?.name).toBe('Tech');
  });

  it("allows a list's own name in another case; refuses another list's name", () => {
    expect(value(renameWatchlist(f, 'a', 'TECH')).watchlist.name).toBe('TECH');
    expect(error(renameWatchlist(f, 'a', 'energy'))).toEqual({
      code: 'conflict',
      message: 'A watchlist named "Energy" already exists.',
    });
  });

  it('unknown id: not-found; bad name: bad-request', () => {
    expect(error(renameWatchlist(f, 'zzz', 'X')).code).toBe('not-found');
    expect(error(renameWatchlist(f, 'a', '')).code).toBe('bad-request');
  });

  it('the same name returns the same file', () => {
    expect(value(renameWatchlist(f, 'a', 'Tech')).file).toBe(f);
  });
});

describe('deleteWatchlist', () => {
  it('removes the list', () => {
    const f = frozen(file({ id: 'a', name: 'A' }, { id: 'b', name: 'B' }));
    expect(value(deleteWatchlist(f, 'a')).file.watchlists.map((w) => w.id)).toEqual(['b']);
    expect(f.watchlists).toHaveLength(2);
  });

  it('unknown id: not-found', () => {
    expect(error(deleteWatchlist(frozen(file({ id: 'a', name: 'A' })), 'x')).code).toBe(
      'not-found',
    );
  });

  it('refuses to delete the last list with a clear message: conflict', () => {
    const e = error(deleteWatchlist(frozen(file({ id: 'a', name: 'Main' })), 'a'));
    expect(e.code).toBe('conflict');
    expect(e.message).toBe(
      '"Main" is your only watchlist and cannot be deleted; create another one first.',
    );
  });
});

describe('addSymbols', () => {
  const f = frozen(file({ id: 'a', name: 'A', symbols: ['AAPL'] }, { id: 'b', name: 'B' }));

  it('normalizes and appends in order; reports bad input, duplicates and repeats', () => {
    const { file: after, result } = value(
      addSymbols(f, 'a', [
        ' msft ',
        'btc/usd',
        'aapl',
        'MSFT',
        '',
        'BAD SYMBOL',
        'x'.repeat(22),
        'brk.b',
      ]),
    );
    expect(result.added).toEqual(['MSFT', 'BTC/USD', 'BRK.B']);
    expect(result.watchlist.symbols).toEqual(['AAPL', 'MSFT', 'BTC/USD', 'BRK.B']);
    expect(after.watchlists[0]).toBe(result.watchlist);
    expect(after.watchlists[1]).toBe(f.watchlists[1]);
    expect(result.rejected).toEqual([
      { input: 'aapl', reason: 'AAPL is already in the list' },
      { input: 'MSFT', reason: 'MSFT is listed more than once' },
      { input: '', reason: 'not a symbol: empty' },
      {
        input: 'BAD SYMBOL',
        reason: 'not a symbol: only letters, digits, ".", "-" and "/" are allowed',
      },
      { input: 'x'.repeat(22), reason: 'not a symbol: longer than 21 characters' },
    ]);
    expect(f.watchlists[0]?.symbols).toEqual(['AAPL']);
    expect(watchlistsFileSchema.safeParse(after).success).toBe(true);
  });

  it('nothing added: the same file back, with the reasons', () => {
    const r = value(addSymbols(f, 'a', ['AAPL', '!']));
    expect(r.file).toBe(f);
    expect(r.result.added).toEqual([]);
    expect(r.result.rejected).toHaveLength(2);
    expect(value(addSymbols(f, 'a', [])).file).toBe(f);
  });

  it('unknown id: not-found', () => {
    expect(error(addSymbols(f, 'x', ['AAPL'])).code).toBe('not-found');
  });

  it(`stops at ${MAX_SYMBOLS_PER_WATCHLIST} symbols, rejecting the rest with a reason`, () => {
    const almost = Array.from({ length: MAX_SYMBOLS_PER_WATCHLIST - 1 }, (_, i) => `S${i}`);
    const g = frozen(file({ id: 'a', name: 'A', symbols: almost }));
    const { result } = value(addSymbols(g, 'a', ['ONE', 'TWO', 'THREE', 'S0']));
    expect(result.added).toEqual(['ONE']);
    expect(result.watchlist.symbols).toHaveLength(MAX_SYMBOLS_PER_WATCHLIST);
    expect(result.rejected).toEqual([
      { input: 'TWO', reason: `the list is full (at most ${MAX_SYMBOLS_PER_WATCHLIST} symbols)` },
      { input: 'THREE', reason: `the list is full (at most ${MAX_SYMBOLS_PER_WATCHLIST} symbols)` },
      { input: 'S0', reason: 'S0 is already in the list' },
    ]);
  });

  it(`stops the union of all lists at ${MAX_TOTAL_SYMBOLS} symbols; a symbol of another list still fits`, () => {
    expect(MAX_TOTAL_SYMBOLS).toBe(20_000);
    const syms = (from: number, n: number): string[] =>
      Array.from({ length: n }, (_, i) => `S${from + i}`);
    const g = frozen(
      file(
        { id: 'a', name: 'A', symbols: syms(0, 10_000) },
        { id: 'b', name: 'B', symbols: syms(10_000, 9_998) },
        { id: 'c', name: 'C', symbols: ['S0'] },
      ),
    );
    const reason = `the limit of ${MAX_TOTAL_SYMBOLS} symbols across all watchlists is reached`;
    const { file: after, result } = value(
      addSymbols(g, 'c', ['one', 'S5', 'TWO', 'THREE', 's19997', 'S0']),
    );
    expect(result.added).toEqual(['ONE', 'S5', 'TWO', 'S19997']);
    expect(result.rejected).toEqual([
      { input: 'THREE', reason },
      { input: 'S0', reason: 'S0 is already in the list' },
    ]);
    expect(allSymbols(after).size).toBe(MAX_TOTAL_SYMBOLS);
    // At the limit: only symbols some list already holds can be added anywhere.
    const more = value(addSymbols(after, 'b', ['ONE', 'FOUR']));
    expect(more.result.added).toEqual(['ONE']);
    expect(more.result.rejected).toEqual([{ input: 'FOUR', reason }]);
    // Removing one frees a place.
    const freed = value(removeSymbol(after, 'b', 'S10000')).file;
    expect(value(addSymbols(freed, 'c', ['FOUR', 'FIVE'])).result).toMatchObject({
      added: ['FOUR'],
      rejected: [{ input: 'FIVE', reason }],
    });
  });

  it('a file already past the union limit (loaded) accepts no new symbol, only shared ones', () => {
    const big = frozen(
      file(
        { id: 'a', name: 'A', symbols: Array.from({ length: 10_000 }, (_, i) => `A${i}`) },
        { id: 'b', name: 'B', symbols: Array.from({ length: 10_000 }, (_, i) => `B${i}`) },
        { id: 'c', name: 'C', symbols: ['C0', 'C1'] },
      ),
    );
    const r = value(addSymbols(big, 'c', ['A0', 'NEW']));
    expect(r.result.added).toEqual(['A0']);
    expect(r.result.rejected.map((x) => x.input)).toEqual(['NEW']);
  });

  it('property: every input is either added or rejected; the list stays unique and valid', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.constantFrom('AAPL', 'msft', ' spy', 'SPY ', 'BTC/USD', 'bad one', '', 'Q.Q', 'a-b'),
          {
            maxLength: 20,
          },
        ),
        fc
          .array(fc.constantFrom('AAPL', 'SPY', 'NVDA'), { maxLength: 3 })
          .map((s) => [...new Set(s)]),
        (inputs, existing) => {
          const g = frozen(file({ id: 'a', name: 'A', symbols: existing }));
          const { file: after, result } = value(addSymbols(g, 'a', inputs));
          expect(result.added.length + result.rejected.length).toBe(inputs.length);
          const symbols = after.watchlists[0]?.symbols ?? [];
          expect(new Set(symbols).size).toBe(symbols.length);
          expect(symbols).toEqual([...existing, ...result.added]);
          expect(watchlistsFileSchema.safeParse(after).success).toBe(true);
        },
      ),
    );
  });
});

describe('removeSymbol', () => {
  const f = frozen(file({ id: 'a', name: 'A', symbols: ['AAPL', 'MSFT', 'SPY'] }));

  it('removes the symbol (input normalized)', () => {
    const r = value(removeSymbol(f, 'a', ' msft'));
    expect(r.watchlist.symbols).toEqual(['AAPL', 'SPY']);
    expect(r.file.watchlists[0]).toBe(r.watchlist);
    expect(f.watchlists[0]?.symbols).toEqual(['AAPL', 'MSFT', 'SPY']);
  });

  it('not in the list or unknown list: not-found; not a symbol: bad-request', () => {
    expect(error(removeSymbol(f, 'a', 'NVDA'))).toEqual({
      code: 'not-found',
      message: 'NVDA is not in the watchlist "A".',
    });
    expect(error(removeSymbol(f, 'x', 'AAPL')).code).toBe('not-found');
    expect(error(removeSymbol(f, 'a', '#')).code).toBe('bad-request');
  });
});

describe('moveSymbol', () => {
  const f = frozen(file({ id: 'a', name: 'A', symbols: ['A', 'B', 'C', 'D'] }));
  const moved = (symbol: string, to: number) =>
    value(moveSymbol(f, 'a', symbol, to)).watchlist.symbols;

  it('puts the symbol at the index asked for', () => {
    expect(moved('A', 2)).toEqual(['B', 'C', 'A', 'D']);
    expect(moved('D', 0)).toEqual(['D', 'A', 'B', 'C']);
    expect(moved('B', 3)).toEqual(['A', 'C', 'D', 'B']);
    expect(f.watchlists[0]?.symbols).toEqual(['A', 'B', 'C', 'D']);
  });

  it('clamps an index past the end to the last place', () => {
    expect(moved('A', 4)).toEqual(['B', 'C', 'D', 'A']);
    expect(moved('B', 1_000_000)).toEqual(['A', 'C', 'D', 'B']);
  });

  it('a move to where it is returns the same file', () => {
    expect(value(moveSymbol(f, 'a', 'C', 2)).file).toBe(f);
    expect(value(moveSymbol(f, 'a', 'D', 99)).file).toBe(f);
  });

  it('not in the list: not-found; a negative or fractional index: bad-request', () => {
    expect(error(moveSymbol(f, 'a', 'Z', 0)).code).toBe('not-found');
    expect(error(moveSymbol(f, 'x', 'A', 0)).code).toBe('not-found');
    expect(error(moveSymbol(f, 'a', 'A', -1)).code).toBe('bad-request');
    expect(error(moveSymbol(f, 'a', 'A', 1.5)).code).toBe('bad-request');
  });
});

describe('allSymbols', () => {
  it('is the union of every list', () => {
    const f = frozen(
      file(
        { id: 'a', name: 'A', symbols: ['AAPL', 'MSFT'] },
        { id: 'b', name: 'B', symbols: ['MSFT', 'SPY'] },
        { id: 'c', name: 'C' },
      ),
    );
    expect(allSymbols(f)).toEqual(new Set(['AAPL', 'MSFT', 'SPY']));
    expect(allSymbols(file())).toEqual(new Set());
  });

  it('lists the active list first, then the others in list order; an unknown id is no active list', () => {
    const f = frozen(
      file(
        { id: 'a', name: 'A', symbols: ['AAPL', 'MSFT'] },
        { id: 'b', name: 'B', symbols: ['SPY', 'MSFT'] },
        { id: 'c', name: 'C', symbols: ['KO', 'AAPL'] },
      ),
    );
    expect([...allSymbols(f)]).toEqual(['AAPL', 'MSFT', 'SPY', 'KO']);
    expect([...allSymbols(f, 'b')]).toEqual(['SPY', 'MSFT', 'AAPL', 'KO']);
    expect([...allSymbols(f, 'c')]).toEqual(['KO', 'AAPL', 'MSFT', 'SPY']);
    expect([...allSymbols(f, 'gone')]).toEqual(['AAPL', 'MSFT', 'SPY', 'KO']);
  });
});

describe('subscribableSymbols', () => {
  it('within the limit: every symbol, none beyond', () => {
    const f = frozen(
      file(
        { id: 'a', name: 'A', symbols: ['AAPL', 'MSFT'] },
        { id: 'b', name: 'B', symbols: ['MSFT', 'SPY'] },
      ),
    );
    expect(subscribableSymbols(f)).toEqual({ symbols: allSymbols(f), beyond: 0 });
  });

  it('past the limit: the first distinct symbols in list order, and the count of the rest', () => {
    const f = frozen(
      file(
        { id: 'a', name: 'A', symbols: ['A', 'B', 'C'] },
        { id: 'b', name: 'B', symbols: ['B', 'D', 'E', 'D2'] },
        { id: 'c', name: 'C', symbols: ['E', 'A', 'F'] },
      ),
    );
    const r = subscribableSymbols(f, undefined, 4);
    expect([...r.symbols]).toEqual(['A', 'B', 'C', 'D']);
    expect(r.beyond).toBe(3); // E, D2, F: E counted once
    expect(subscribableSymbols(f, undefined, 100).beyond).toBe(0);
    // The active list's symbols are the ones that fit first.
    const active = subscribableSymbols(f, undefined, 4, 'c');
    expect([...active.symbols]).toEqual(['E', 'A', 'F', 'B']);
    expect(active.beyond).toBe(3); // C, D, D2
  });

  it('counts and limits only the symbols `accept` takes', () => {
    const f = frozen(
      file(
        { id: 'a', name: 'A', symbols: ['AAPL', 'BTC/USD', 'MSFT'] },
        { id: 'b', name: 'B', symbols: ['ETH/USD', 'SPY', 'SOL/USD', 'BTC/USD'] },
      ),
    );
    const crypto = (s: string): boolean => s.includes('/');
    expect(subscribableSymbols(f, crypto, 2)).toEqual({
      symbols: new Set(['BTC/USD', 'ETH/USD']),
      beyond: 1,
    });
    expect(subscribableSymbols(f, (s) => !crypto(s), 3)).toEqual({
      symbols: new Set(['AAPL', 'MSFT', 'SPY']),
      beyond: 0,
    });
  });

  it(`defaults to ${MAX_TOTAL_SYMBOLS}`, () => {
    const f = frozen(
      file(
        { id: 'a', name: 'A', symbols: Array.from({ length: 10_000 }, (_, i) => `A${i}`) },
        { id: 'b', name: 'B', symbols: Array.from({ length: 10_000 }, (_, i) => `B${i}`) },
        { id: 'c', name: 'C', symbols: ['C0', 'A1', 'C1'] },
      ),
    );
    const r = subscribableSymbols(f);
    expect(r.symbols.size).toBe(MAX_TOTAL_SYMBOLS);
    expect(r.symbols.has('B9999')).toBe(true);
    expect(r.symbols.has('C0')).toBe(false);
    expect(r.beyond).toBe(2);
  });
});
