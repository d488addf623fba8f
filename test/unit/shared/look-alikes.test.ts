/**
 * Look-alike names and symbols (issue 15, finding 8): a watchlist name may not hide controls, bidi
 * overrides or invisible characters, names compare in NFC, and a symbol is checked as ASCII before
 * it is upper-cased, wherever a symbol is typed (the app, the stream client, the CLI).
 */
import { describe, expect, it } from 'vitest';
import {
  checkWatchlistName,
  normalizeSymbol,
  parseCommand,
  watchlistsFileSchema,
  type WatchlistsFile,
} from '../../../shared/api.ts';
import { addSymbols, createWatchlist, renameWatchlist } from '../../../electron/core/watchlists.ts';
import { normalizeSymbol as clientSymbol } from '../../../electron/stream/subscriptions.ts';
import { parseSymbols } from '../../../electron/cli/args.ts';

/** Characters that must never reach a name, one of each kind the rule names. */
const FORBIDDEN: ReadonlyArray<[string, RegExp]> = [
  ['\u0000', /control character \(U\+0000/],
  ['\u0007', /control character \(U\+0007/],
  ['\n', /control character \(U\+000A/],
  ['\u007f', /control character \(U\+007F/],
  ['\u0085', /control character \(U\+0085/],
  ['\u009b', /control character \(U\+009B/],
  ['\u202a', /bidirectional-text control \(U\+202A/],
  ['\u202e', /bidirectional-text control \(U\+202E/],
  ['\u2066', /bidirectional-text control \(U\+2066/],
  ['\u2069', /bidirectional-text control \(U\+2069/],
  ['\u200b', /invisible character \(U\+200B/],
  ['\u200d', /invisible character \(U\+200D/],
  ['\u200f', /invisible character \(U\+200F/],
  ['\u2060', /invisible character \(U\+2060/],
  ['\ufeff', /invisible character \(U\+FEFF/],
  ['\ud800', /lone surrogate/],
];

const ids = (): (() => string) => {
  let n = 0;
  return () => `id-${++n}`;
};

const one = (name: string): WatchlistsFile => ({
  version: 1,
  watchlists: [{ id: 'a', name, symbols: [] }],
});

describe('symbols are checked as ASCII before upper-casing', () => {
  it.each(['ıbm', 'straße', 'ﬀ', 'ＩＢＭ', 'АAPL' /* Cyrillic А */, 'aapl\u200b'])(
    '%j is refused everywhere a symbol is typed',
    (typed) => {
      const shared = normalizeSymbol(typed);
      expect(shared.ok).toBe(false);
      if (!shared.ok) expect(shared.reason).toMatch(/only ASCII letters A-Z/);
      expect(clientSymbol(typed)).toBeUndefined();
      expect(() => parseSymbols('--quotes', typed)).toThrow(/not a symbol/);
      const added = addSymbols(one('M'), 'a', [typed]);
      expect(added.ok && added.value.result.rejected).toEqual([
        { input: typed, reason: expect.stringMatching(/only ASCII letters A-Z/) as string },
      ]);
    },
  );

  it('ASCII in either case still normalizes as before', () => {
    expect(normalizeSymbol(' brk.b ')).toEqual({ ok: true, symbol: 'BRK.B' });
    expect(normalizeSymbol('btc/usd')).toEqual({ ok: true, symbol: 'BTC/USD' });
    expect(clientSymbol(' aapl ')).toBe('AAPL');
    expect(parseSymbols('--quotes', 'aapl, AAPL ,msft')).toEqual(['AAPL', 'MSFT']);
  });

  it('a stored watchlist holding a non-ASCII symbol is not loaded as another ticker', () => {
    const parsed = watchlistsFileSchema.safeParse({
      version: 1,
      watchlists: [{ id: 'a', name: 'M', symbols: ['ıbm'] }],
    });
    expect(parsed.success && parsed.data.watchlists[0]?.symbols).not.toEqual(['IBM']);
  });
});

describe('watchlist names', () => {
  it.each(FORBIDDEN)('refuses %j with a reason that names it', (ch, reason) => {
    for (const name of [`Watch${ch}list`, `${ch}Watchlist`, `Watchlist${ch}`]) {
      const checked = checkWatchlistName(name);
      expect(checked.ok).toBe(false);
      if (!checked.ok) expect(checked.reason).toMatch(reason);
      const created = createWatchlist(one('Other'), name, ids());
      expect(created.ok).toBe(false);
      if (!created.ok) expect(created.error).toMatchObject({ code: 'bad-request' });
      const renamed = renameWatchlist(one('Other'), 'a', name);
      expect(renamed.ok).toBe(false);
      const command = parseCommand('watchlists:create', { name });
      expect(command.ok).toBe(false);
      if (!command.ok) expect(command.error.message).toMatch(reason);
    }
  });

  it('keeps ordinary Unicode: accents, CJK, emoji, other spaces', () => {
    for (const name of ['Café', '日本株', 'Crypto 🚀', 'A\u00a0B', 'Ünïcödé']) {
      expect(checkWatchlistName(name)).toEqual({ ok: true, name });
    }
  });

  it('normalizes to NFC, so a decomposed twin is a duplicate', () => {
    const decomposed = 'Cafe\u0301'; // e + combining acute: looks exactly like "Café"
    expect(checkWatchlistName(` ${decomposed} `)).toEqual({ ok: true, name: 'Café' });
    const created = createWatchlist(one('Café'), decomposed, ids());
    expect(created.ok).toBe(false);
    if (!created.ok) expect(created.error.code).toBe('conflict');
    const other = createWatchlist(one('Other'), decomposed, ids());
    expect(other.ok && other.value.watchlist.name).toBe('Café');
    const renamed = renameWatchlist(
      {
        version: 1,
        watchlists: [
          { id: 'a', name: 'Café', symbols: [] },
          { id: 'b', name: 'B', symbols: [] },
        ],
      },
      'b',
      'CAFE\u0301',
    );
    expect(renamed.ok).toBe(false);
  });
});

describe('a watchlists.json already holding such names still loads, repaired', () => {
  function load(names: string[]): string[] {
    const parsed = watchlistsFileSchema.safeParse({
      version: 1,
      watchlists: names.map((name, i) => ({ id: `l${i}`, name, symbols: ['AAPL'] })),
    });
    if (!parsed.success) throw new Error(parsed.error.message);
    return parsed.data.watchlists.map((w) => w.name);
  }

  it('removes the forbidden characters and tells look-alikes apart', () => {
    expect(load(['Watchlist', 'Watch\u200blist', '\u202eWatchlist', 'Tech\u0000'])).toEqual([
      'Watchlist',
      'Watchlist (2)',
      'Watchlist (3)',
      'Tech',
    ]);
  });

  it('names left empty get a name; NFC twins get a suffix; nothing is dropped', () => {
    expect(load(['\u200b\u200c', 'Café', 'Cafe\u0301', '\ud800x'])).toEqual([
      'Watchlist',
      'Café',
      'Café (2)',
      'x',
    ]);
  });

  it('every repaired name passes the command check, so saving it again works', () => {
    const names = load([
      'A\u2066B\u2069',
      `${'x'.repeat(59)}\u200b😀`,
      ' \u00adpad ',
      'long '.repeat(100),
    ]);
    expect(names[1]).toBe('x'.repeat(59)); // the emoji would be cut in half: left out whole
    expect(names[3]).toBe('long '.repeat(12).trim());
    for (const name of names) expect(checkWatchlistName(name)).toEqual({ ok: true, name });
  });
});
