/**
 * The commands that edit the watchlists: create, rename, delete, add and remove symbols, reorder.
 * Each edit is computed on the current file by the pure functions of watchlists.ts, saved
 * (atomically, by the JSON store) and only then made current: a failed save answers `storage`
 * and changes nothing. Symbols the directory does not know are refused with the reason before
 * anything is saved or sent. The core runs these one at a time (its command queue), so two edits
 * never start from the same file.
 */
import { fail, ok, type Result, type WatchlistsFile } from '../../shared/api.ts';
import { errorMessage } from '../../shared/errors.ts';
import type { CommandGroup } from './commands.ts';
import {
  addSymbols,
  createWatchlist,
  deleteWatchlist,
  moveSymbol,
  removeSymbol,
  renameWatchlist,
} from './watchlists.ts';

export type WatchlistCommandName =
  | 'watchlists:list'
  | 'watchlists:create'
  | 'watchlists:rename'
  | 'watchlists:delete'
  | 'watchlists:add-symbols'
  | 'watchlists:remove-symbol'
  | 'watchlists:move-symbol';

export interface WatchlistCommandsOptions {
  /** The watchlists now. */
  readonly current: () => WatchlistsFile;
  /** Writes a file (atomically); throws when it cannot. */
  readonly save: (file: WatchlistsFile) => Promise<void>;
  /** A saved file becomes the current one (subscriptions follow, views hear of it). */
  readonly commit: (file: WatchlistsFile) => void;
  /** Why a symbol cannot be added, or undefined when it can (market-commands.ts). */
  readonly unknownSymbol: (symbol: string) => string | undefined;
  /** A new list's id. */
  readonly newId: () => string;
}

export function watchlistCommands(
  o: WatchlistCommandsOptions,
): CommandGroup<WatchlistCommandName, unknown> {
  /** Computes an edit on the current file, saves it if it changed, and answers `output`. */
  const edit = async <V extends { readonly file: WatchlistsFile }, T>(
    compute: (file: WatchlistsFile) => Result<V>,
    output: (value: V) => T,
  ): Promise<Result<T>> => {
    const current = o.current();
    const result = compute(current);
    if (!result.ok) return result;
    const file = result.value.file;
    if (file !== current) {
      try {
        await o.save(file);
      } catch (err) {
        return fail('storage', errorMessage(err));
      }
      o.commit(file);
    }
    return ok(output(result.value));
  };
  return {
    'watchlists:list': () => ok(o.current().watchlists),
    'watchlists:create': ({ name }) =>
      edit(
        (file) => createWatchlist(file, name, o.newId),
        (v) => v.watchlist,
      ),
    'watchlists:rename': ({ id, name }) =>
      edit(
        (file) => renameWatchlist(file, id, name),
        (v) => v.watchlist,
      ),
    'watchlists:delete': ({ id }) =>
      edit(
        (file) => deleteWatchlist(file, id),
        (v) => v.file.watchlists,
      ),
    'watchlists:add-symbols': ({ id, symbols }) =>
      edit(
        (file) => addSymbols(file, id, symbols, o.unknownSymbol),
        (v) => v.result,
      ),
    'watchlists:remove-symbol': ({ id, symbol }) =>
      edit(
        (file) => removeSymbol(file, id, symbol),
        (v) => v.watchlist,
      ),
    'watchlists:move-symbol': ({ id, symbol, toIndex }) =>
      edit(
        (file) => moveSymbol(file, id, symbol, toIndex),
        (v) => v.watchlist,
      ),
  };
}
