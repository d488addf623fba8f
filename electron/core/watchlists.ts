/**
 * The watchlist model: pure functions from a WatchlistsFile (and what the user asked) to a new
 * WatchlistsFile, or a Result error saying why not. No I/O, no clock, no mutation: the caller
 * owns persistence (json-store.ts) and the subscription set (allSymbols), and may keep the old
 * value for as long as it likes.
 *
 * Functions that change nothing return the file they were given (same object), so a caller can
 * skip a save with an identity check; everything else is a new file sharing the untouched lists.
 */
import {
  checkWatchlistName,
  fail,
  MAX_SYMBOLS_PER_WATCHLIST,
  MAX_WATCHLISTS,
  normalizeSymbol,
  ok,
  watchlistNameKey,
  type AddSymbolsResult,
  type Result,
  type Watchlist,
  type WatchlistsFile,
} from '../../shared/api.ts';

/**
 * Most distinct symbols across all watchlists together. The lists may hold 50 x 10 000 symbols,
 * but the quote book keeps at most 20 000 rows (electron/stream/book.ts, maxSymbols): beyond that a
 * watched symbol would be subscribed yet never shown. Enforced when symbols are added; a file that
 * already exceeds it (written by hand, or by an older build) loads, and `subscribableSymbols` says
 * which symbols fit.
 */
export const MAX_TOTAL_SYMBOLS = 20_000;

export interface WatchlistChange {
  readonly file: WatchlistsFile;
  readonly watchlist: Watchlist;
}

/** Tries this many ids before concluding the id source is broken. */
const ID_ATTEMPTS = 5;

export function createWatchlist(
  file: WatchlistsFile,
  name: string,
  newId: () => string,
): Result<WatchlistChange> {
  const checked = checkName(name);
  if (!checked.ok) return checked;
  const trimmed = checked.value;
  if (file.watchlists.length >= MAX_WATCHLISTS)
    return fail('limit', `You can have at most ${MAX_WATCHLISTS} watchlists; delete one first.`);
  const clash = findByName(file, trimmed);
  if (clash) return fail('conflict', `A watchlist named "${clash.name}" already exists.`);
  let id: string | undefined;
  for (let attempt = 0; attempt < ID_ATTEMPTS && id === undefined; attempt++) {
    const candidate = newId();
    if (candidate !== '' && !file.watchlists.some((w) => w.id === candidate)) id = candidate;
  }
  if (id === undefined) return fail('internal', 'Could not create a unique watchlist id.');
  const watchlist: Watchlist = { id, name: trimmed, symbols: [] };
  return ok({ file: { ...file, watchlists: [...file.watchlists, watchlist] }, watchlist });
}

/** Renaming a list to its own name in another case is allowed; to another list's name is not. */
export function renameWatchlist(
  file: WatchlistsFile,
  id: string,
  name: string,
): Result<WatchlistChange> {
  const found = find(file, id);
  if (!found.ok) return found;
  const checked = checkName(name);
  if (!checked.ok) return checked;
  const trimmed = checked.value;
  const clash = findByName(file, trimmed);
  if (clash && clash.id !== id)
    return fail('conflict', `A watchlist named "${clash.name}" already exists.`);
  const current = found.value.watchlist;
  if (current.name === trimmed) return ok({ file, watchlist: current });
  return ok(replace(file, found.value.index, { ...current, name: trimmed }));
}

export function deleteWatchlist(
  file: WatchlistsFile,
  id: string,
): Result<{ readonly file: WatchlistsFile }> {
  const found = find(file, id);
  if (!found.ok) return found;
  if (file.watchlists.length <= 1)
    return fail(
      'conflict',
      `"${found.value.watchlist.name}" is your only watchlist and cannot be deleted; create another one first.`,
    );
  return ok({ file: { ...file, watchlists: file.watchlists.filter((w) => w.id !== id) } });
}

/**
 * Adds what the user typed, in order. Each input is normalized (trimmed, upper-cased); inputs that
 * are not symbols, are already in the list, repeat an earlier input, do not fit under the per-list
 * limit, or would take the union of all lists past MAX_TOTAL_SYMBOLS come back in `rejected` with a
 * reason, and the rest are still added. A symbol already in another list does not grow the union,
 * so it can still be added when the union is at the limit.
 */
export function addSymbols(
  file: WatchlistsFile,
  id: string,
  inputs: readonly string[],
  /** Why a well-formed symbol is refused (the symbol directory does not know it); else undefined. */
  check: (symbol: string) => string | undefined = () => undefined,
): Result<{ readonly file: WatchlistsFile; readonly result: AddSymbolsResult }> {
  const found = find(file, id);
  if (!found.ok) return found;
  const { watchlist, index } = found.value;
  const present = new Set(watchlist.symbols);
  const union = allSymbols(file);
  const added: string[] = [];
  const addedNow = new Set<string>();
  const rejected: { input: string; reason: string }[] = [];
  for (const input of inputs) {
    const normalized = normalizeSymbol(input);
    const unknown = normalized.ok ? check(normalized.symbol) : undefined;
    if (!normalized.ok) {
      rejected.push({ input, reason: `not a symbol: ${normalized.reason}` });
    } else if (unknown !== undefined) {
      rejected.push({ input, reason: unknown });
    } else if (present.has(normalized.symbol)) {
      rejected.push({
        input,
        reason: addedNow.has(normalized.symbol)
          ? `${normalized.symbol} is listed more than once`
          : `${normalized.symbol} is already in the list`,
      });
    } else if (present.size >= MAX_SYMBOLS_PER_WATCHLIST) {
      rejected.push({
        input,
        reason: `the list is full (at most ${MAX_SYMBOLS_PER_WATCHLIST} symbols)`,
      });
    } else if (union.size >= MAX_TOTAL_SYMBOLS && !union.has(normalized.symbol)) {
      rejected.push({
        input,
        reason: `the limit of ${MAX_TOTAL_SYMBOLS} symbols across all watchlists is reached`,
      });
    } else {
      union.add(normalized.symbol);
      present.add(normalized.symbol);
      addedNow.add(normalized.symbol);
      added.push(normalized.symbol);
    }
  }
  if (added.length === 0) return ok({ file, result: { watchlist, added, rejected } });
  const change = replace(file, index, { ...watchlist, symbols: [...watchlist.symbols, ...added] });
  return ok({ file: change.file, result: { watchlist: change.watchlist, added, rejected } });
}

export function removeSymbol(
  file: WatchlistsFile,
  id: string,
  symbol: string,
): Result<WatchlistChange> {
  const located = locateSymbol(file, id, symbol);
  if (!located.ok) return located;
  const { watchlist, index, position } = located.value;
  return ok(
    replace(file, index, {
      ...watchlist,
      symbols: watchlist.symbols.filter((_, i) => i !== position),
    }),
  );
}

/** Moves `symbol` so that it ends up at `toIndex`; an index past the end means the last place. */
export function moveSymbol(
  file: WatchlistsFile,
  id: string,
  symbol: string,
  toIndex: number,
): Result<WatchlistChange> {
  if (!Number.isInteger(toIndex) || toIndex < 0)
    return fail('bad-request', `toIndex must be a whole number of 0 or more, not ${toIndex}.`);
  const located = locateSymbol(file, id, symbol);
  if (!located.ok) return located;
  const { watchlist, index, position } = located.value;
  const target = Math.min(toIndex, watchlist.symbols.length - 1);
  if (target === position) return ok({ file, watchlist });
  const symbols = watchlist.symbols.filter((_, i) => i !== position);
  symbols.splice(target, 0, watchlist.symbols[position] as string);
  return ok(replace(file, index, { ...watchlist, symbols }));
}

/**
 * Every symbol of every list: what the stream should be subscribed to. In priority order: the
 * `active` list's symbols first (when a list has that id), then the other lists' in list order;
 * over the plan's symbol limit the first ones are streamed and the rest polled.
 */
export function allSymbols(file: WatchlistsFile, active?: string): Set<string> {
  const all = new Set<string>();
  const first = file.watchlists.find((w) => w.id === active);
  for (const symbol of first?.symbols ?? []) all.add(symbol);
  for (const watchlist of file.watchlists)
    if (watchlist !== first) for (const symbol of watchlist.symbols) all.add(symbol);
  return all;
}

/**
 * What to subscribe when the lists may hold more than `limit` distinct symbols (a file written
 * before the limit existed, or by hand): the first `limit` distinct symbols that `accept` takes
 * (e.g. only crypto pairs, or only stocks, for the current source), in priority order (the
 * `active` list first, then list by list: allSymbols); and `beyond`, how many more distinct
 * accepted symbols did not fit (0 when all fit). Within the limit `symbols` is
 * allSymbols(file, active) filtered by `accept`, in that order.
 */
export function subscribableSymbols(
  file: WatchlistsFile,
  accept: (symbol: string) => boolean = () => true,
  limit: number = MAX_TOTAL_SYMBOLS,
  active?: string,
): { readonly symbols: Set<string>; readonly beyond: number } {
  const symbols = new Set<string>();
  let beyond = 0;
  // allSymbols is in priority order and has each symbol once, so `beyond` counts distinct symbols.
  for (const symbol of allSymbols(file, active)) {
    if (!accept(symbol)) continue;
    if (symbols.size < limit) symbols.add(symbol);
    else beyond++;
  }
  return { symbols, beyond };
}

// ------------------------------------------------------------------------------ helpers

/** The name trimmed and in NFC (shared/api.ts checkWatchlistName), or why it is refused. */
function checkName(name: string): Result<string> {
  const checked = checkWatchlistName(name);
  return checked.ok ? ok(checked.name) : fail('bad-request', checked.reason);
}

/** A list whose name is the same once both are in NFC, ignoring case. */
function findByName(file: WatchlistsFile, name: string): Watchlist | undefined {
  const key = watchlistNameKey(name);
  return file.watchlists.find((w) => watchlistNameKey(w.name) === key);
}

function find(
  file: WatchlistsFile,
  id: string,
): Result<{ readonly watchlist: Watchlist; readonly index: number }> {
  const index = file.watchlists.findIndex((w) => w.id === id);
  const watchlist = file.watchlists[index];
  if (!watchlist) return fail('not-found', `There is no watchlist with id ${JSON.stringify(id)}.`);
  return ok({ watchlist, index });
}

function locateSymbol(
  file: WatchlistsFile,
  id: string,
  symbol: string,
): Result<{ readonly watchlist: Watchlist; readonly index: number; readonly position: number }> {
  const found = find(file, id);
  if (!found.ok) return found;
  const { watchlist, index } = found.value;
  const normalized = normalizeSymbol(symbol);
  if (!normalized.ok)
    return fail('bad-request', `Not a symbol (${normalized.reason}): ${JSON.stringify(symbol)}.`);
  const position = watchlist.symbols.indexOf(normalized.symbol);
  if (position < 0)
    return fail('not-found', `${normalized.symbol} is not in the watchlist "${watchlist.name}".`);
  return ok({ watchlist, index, position });
}

function replace(file: WatchlistsFile, index: number, watchlist: Watchlist): WatchlistChange {
  const watchlists = file.watchlists.slice();
  watchlists[index] = watchlist;
  return { file: { ...file, watchlists }, watchlist };
}
