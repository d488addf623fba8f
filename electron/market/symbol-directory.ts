/**
 * The symbol directory: Alpaca's active asset list (about 12,000 US equities, plus any crypto
 * pairs the market-context service adds), cached on disk for a day, so that a row can show its
 * company name, the add box can search by ticker or name as the user types, and a mistyped ticker
 * is refused with a reason before anything is subscribed. Without a list (no keys, no network, no
 * cache) it is `unavailable` and accepts every symbol, as the app did before it existed.
 *
 * Search answers from an index built once per list: the tickers sorted (a binary search finds a
 * prefix's range) and every normalized name word sorted beside the asset it came from (the same
 * for a word prefix). A keystroke therefore costs a few binary searches and a walk over the
 * matches, never a scan of the 12,000 names.
 *
 * Memory, measured with `node --expose-gc` for 12,000 synthetic assets of four-word names: the
 * Asset objects themselves about 2.1 MB, the index on top of them about 1.2 MB (tickers, the
 * symbol map, 48,000 word entries in Int32Arrays, words interned). Building it takes about 100 ms
 * once warm; a search about 0.1 ms, 0.7 ms for a word every name has ("inc").
 *
 * No electron import, no REST client import: the list comes from a plain function.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { keepAsBackup, writeFileAtomic } from '../core/json-store.ts';
import type { Asset } from '../rest/types.ts';
import { silentLogger, type Logger } from '../stream/log.ts';
import { errorMessage } from '../../shared/errors.ts';

/** Fetches the active asset list. The service passes the REST client's method. */
export type FetchAssets = (signal?: AbortSignal) => Promise<readonly Asset[]>;

export type DirectoryStatus = 'unavailable' | 'loading' | 'ready';

export const ASSET_CACHE_FILE = 'assets.json';
export const DEFAULT_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** Suggestions offered for an unknown symbol, at most. */
const MAX_SUGGESTIONS = 3;
/** A longer query is cut: nobody types a 100-character company name, and the work stays bounded. */
const MAX_QUERY_LENGTH = 100;
export const MAX_SEARCH_LIMIT = 100;

export interface DirectoryLoadOptions {
  /** The folder holding `assets.json` (the app's user-data folder). */
  readonly dir: string;
  readonly fetchAssets: FetchAssets;
  /** Wall clock, injectable for tests. */
  readonly now?: () => number;
  /** A cache or list younger than this is used without fetching. Default one day. */
  readonly maxAgeMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Where the list in use came from after a load:
 * - `memory`: the list already held was young enough; nothing read or fetched;
 * - `cache`: read from `assets.json`, young enough; nothing fetched;
 * - `fetched`: fetched now (and written to the cache unless `problem` says otherwise);
 * - `stale`: the fetch failed and an older list (cache or memory) stays in use;
 * - `none`: the fetch failed and there is no list: the directory is `unavailable`.
 */
export type DirectorySource = 'memory' | 'cache' | 'fetched' | 'stale' | 'none';

export interface DirectoryLoadOutcome {
  readonly source: DirectorySource;
  readonly status: DirectoryStatus;
  /** Assets held after the load. */
  readonly count: number;
  /** When the list in use was fetched (epoch ms); undefined when there is none. */
  readonly fetchedAt: number | undefined;
  /** What went wrong, as a sentence (a failed fetch, a damaged cache, a failed write); else undefined. */
  readonly problem: string | undefined;
}

export interface SymbolIssue {
  readonly symbol: string;
  readonly reason: string;
}

export interface UnknownSymbol extends SymbolIssue {
  /** Listed tickers close to it (one edit away, or starting with it), best first; may be empty. */
  readonly suggestions: readonly string[];
}

export interface Validation {
  /** Symbols to accept, normalized (trimmed, upper case), in input order, without duplicates. */
  readonly known: string[];
  readonly unknown: UnknownSymbol[];
  /** Known symbols worth a warning: listed but not tradable, or not `active`. Also in `known`. */
  readonly flagged: SymbolIssue[];
  /** False when the directory was not ready: everything was accepted unchecked. */
  readonly checked: boolean;
}

/** The cache file: one compact row per asset, so 12,000 assets are about 0.8 MB, not several. */
const cacheRowSchema = z.tuple([
  z.string(),
  z.string(),
  z.string(),
  z.string(),
  z.string(),
  z.boolean(),
]);
const cacheFileSchema = z.object({
  version: z.literal(1),
  fetchedAt: z.number().finite(),
  assets: z.array(cacheRowSchema),
});

export class SymbolDirectory {
  readonly #log: Logger;
  #index: DirectoryIndex | undefined;
  /** Assets the service added beside the fetched list (crypto pairs); kept across refreshes. */
  readonly #extras = new Map<string, Asset>();
  #fetched: readonly Asset[] = [];
  #fetchedAt: number | undefined;
  #loading: Promise<DirectoryLoadOutcome> | undefined;

  constructor(options: { readonly logger?: Logger } = {}) {
    this.#log = (options.logger ?? silentLogger()).child({ module: 'symbol-directory' });
  }

  get status(): DirectoryStatus {
    if (this.#index) return 'ready';
    return this.#loading ? 'loading' : 'unavailable';
  }

  /** When the list in use was fetched from Alpaca (epoch ms); undefined without a list. */
  get fetchedAt(): number | undefined {
    return this.#fetchedAt;
  }

  /** Assets held (fetched and added). */
  get size(): number {
    return this.#index?.assets.length ?? 0;
  }

  /**
   * Makes the list current: the one held or the cache when younger than `maxAgeMs`, else a fetch
   * (then the cache is rewritten). Never rejects; a failure keeps whatever list was there and says
   * so in `problem`. Concurrent calls share one load.
   */
  load(options: DirectoryLoadOptions): Promise<DirectoryLoadOutcome> {
    if (this.#loading) return this.#loading;
    const loading = this.#load(options).finally(() => {
      this.#loading = undefined;
    });
    this.#loading = loading;
    return loading;
  }

  /** Installs a list directly (no disk): for the service when it holds one, and for tests. */
  setAssets(assets: readonly Asset[], fetchedAt: number): void {
    this.#fetched = assets;
    this.#fetchedAt = fetchedAt;
    this.#rebuild();
  }

  /**
   * Adds assets beside the fetched list (the service's crypto pairs). They replace a listed asset
   * of the same symbol, survive later refreshes and are not written to the cache.
   */
  addAssets(assets: readonly Asset[]): void {
    for (const asset of assets) this.#extras.set(normalizeSymbol(asset.symbol), asset);
    // Added before any list arrived: keep them for then, but do not pretend to be ready.
    if (this.#index) this.#rebuild();
  }

  lookup(symbol: string): Asset | undefined {
    const index = this.#index;
    if (!index) return undefined;
    const at = index.bySymbol.get(normalizeSymbol(symbol));
    return at === undefined ? undefined : index.assets[at];
  }

  /**
   * Assets matching what the user typed: the exact ticker first, then tickers starting with it
   * (shorter first), then assets whose name has, for every query word, a word starting with it
   * (case and accents ignored). Empty when the directory is not ready or the query is blank.
   */
  search(query: string, limit = 10): Asset[] {
    const index = this.#index;
    const max = Math.min(Math.max(0, Math.floor(limit)), MAX_SEARCH_LIMIT);
    if (!index || max === 0) return [];
    const text = query.trim().slice(0, MAX_QUERY_LENGTH);
    if (text === '') return [];
    const out: number[] = [];
    const taken = new Set<number>();
    if (!/\s/.test(text)) {
      for (const at of index.tickerMatches(normalizeSymbol(text), max)) {
        out.push(at);
        taken.add(at);
      }
    }
    if (out.length < max) {
      const words = nameWords(text);
      if (words.length > 0) {
        for (const at of index.nameMatches(words, max, taken)) out.push(at);
      }
    }
    return out.slice(0, max).map((at) => index.assets[at]!);
  }

  /**
   * Sorts symbols about to be added into known and unknown. When the directory is not ready every
   * symbol is known (accepted unchecked, as before the directory existed). A blank symbol is always
   * unknown.
   */
  validate(symbols: readonly string[]): Validation {
    const index = this.#index;
    const known: string[] = [];
    const unknown: UnknownSymbol[] = [];
    const flagged: SymbolIssue[] = [];
    const seen = new Set<string>();
    for (const raw of symbols) {
      const symbol = normalizeSymbol(raw);
      if (seen.has(symbol)) continue;
      seen.add(symbol);
      if (symbol === '') {
        unknown.push({ symbol, reason: 'an empty symbol', suggestions: [] });
        continue;
      }
      if (!index) {
        known.push(symbol);
        continue;
      }
      const at = index.bySymbol.get(symbol);
      if (at === undefined) {
        const suggestions = index.suggest(symbol);
        const hint = suggestions.length > 0 ? `; did you mean ${orList(suggestions)}?` : '';
        unknown.push({
          symbol,
          reason: `${symbol} is not an active ${symbol.includes('/') ? 'crypto pair' : 'US-listed symbol'} on Alpaca${hint}`,
          suggestions,
        });
        continue;
      }
      known.push(symbol);
      const asset = index.assets[at]!;
      if (!asset.tradable) {
        flagged.push({ symbol, reason: `${symbol} is listed on Alpaca but not tradable` });
      } else if (asset.status !== 'active') {
        flagged.push({ symbol, reason: `${symbol} is listed on Alpaca as ${asset.status}` });
      }
    }
    return { known, unknown, flagged, checked: index !== undefined };
  }

  async #load(options: DirectoryLoadOptions): Promise<DirectoryLoadOutcome> {
    const now = options.now ?? Date.now;
    const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    const path = join(options.dir, ASSET_CACHE_FILE);
    const young = (fetchedAt: number): boolean => {
      const age = now() - fetchedAt;
      // A fetch time in the future means the clock moved back: trust it for nothing.
      return age >= 0 && age < maxAgeMs;
    };

    if (this.#index && this.#fetchedAt !== undefined && young(this.#fetchedAt)) {
      return this.#outcome('memory', undefined);
    }

    const problems: string[] = [];
    const cached = await this.#readCache(path, now, problems);
    if (cached) {
      const newer = this.#fetchedAt === undefined || cached.fetchedAt > this.#fetchedAt;
      if (newer) {
        // Stale or not, it is better than nothing while the fetch runs (validate uses it at once).
        this.setAssets(cached.assets, cached.fetchedAt);
      }
      if (young(cached.fetchedAt)) return this.#outcome('cache', joinProblems(problems));
    }

    let assets: readonly Asset[];
    try {
      options.signal?.throwIfAborted();
      assets = await options.fetchAssets(options.signal);
      if (!Array.isArray(assets)) throw new Error('the asset list is not a list');
      // Alpaca never lists no assets; an empty answer would refuse every symbol, so it is a failure.
      if (assets.length === 0) throw new Error('the asset list came back empty');
    } catch (err) {
      const why = options.signal?.aborted ? 'the fetch was cancelled' : errorMessage(err);
      if (this.#index) {
        const age =
          this.#fetchedAt === undefined ? '' : ` from ${new Date(this.#fetchedAt).toISOString()}`;
        problems.push(
          `The asset list could not be refreshed (${why}); the older list${age} stays in use.`,
        );
        this.#log.warn(
          { err, fetchedAt: this.#fetchedAt },
          'asset list fetch failed; keeping the older list',
        );
        return this.#outcome('stale', joinProblems(problems));
      }
      problems.push(
        `The asset list could not be fetched (${why}); symbols are accepted unchecked.`,
      );
      this.#log.warn({ err }, 'asset list fetch failed; no list, directory unavailable');
      return this.#outcome('none', joinProblems(problems));
    }

    const fetchedAt = now();
    this.setAssets(assets, fetchedAt);
    this.#log.info({ count: assets.length }, 'asset list fetched');
    try {
      await writeFileAtomic(path, cacheText(assets, fetchedAt), { label: 'asset cache' });
    } catch (err) {
      // The list is in memory and works; only the next start loses the cache.
      problems.push(`The asset list could not be cached: ${errorMessage(err)}`);
      this.#log.warn({ err, path }, 'could not write the asset cache');
    }
    return this.#outcome('fetched', joinProblems(problems));
  }

  /** The cache's content, or undefined when missing or unusable (then moved aside and logged). */
  async #readCache(
    path: string,
    now: () => number,
    problems: string[],
  ): Promise<{ assets: Asset[]; fetchedAt: number } | undefined> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (errCode(err) === 'ENOENT') return undefined;
      return this.#damaged(path, now, `it could not be read: ${errorMessage(err)}`, problems);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return this.#damaged(path, now, 'it is not valid JSON (truncated?)', problems);
    }
    const parsed = cacheFileSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'top level';
      return this.#damaged(
        path,
        now,
        `it does not match the expected format (${where}: ${issue?.message ?? 'invalid'})`,
        problems,
      );
    }
    const assets = parsed.data.assets.map(
      ([symbol, name, exchange, assetClass, status, tradable]): Asset => ({
        symbol,
        name,
        exchange,
        assetClass,
        status,
        tradable,
      }),
    );
    if (assets.length === 0) return this.#damaged(path, now, 'it lists no assets', problems);
    return { assets, fetchedAt: parsed.data.fetchedAt };
  }

  async #damaged(
    path: string,
    now: () => number,
    reason: string,
    problems: string[],
  ): Promise<undefined> {
    try {
      const backupPath = await keepAsBackup(path, now);
      this.#log.warn({ path, backupPath, reason }, 'asset cache unusable; moved aside');
      problems.push(`The asset cache was unusable (${reason}); it was moved to ${backupPath}.`);
    } catch (err) {
      // Left in place: the next successful fetch replaces it atomically.
      this.#log.warn({ err, path, reason }, 'asset cache unusable and could not be moved aside');
      problems.push(`The asset cache was unusable (${reason}) and will be replaced.`);
    }
    return undefined;
  }

  #outcome(source: DirectorySource, problem: string | undefined): DirectoryLoadOutcome {
    return {
      source,
      status: this.#index ? 'ready' : 'unavailable',
      count: this.size,
      fetchedAt: this.#fetchedAt,
      problem,
    };
  }

  #rebuild(): void {
    let assets = this.#fetched;
    if (this.#extras.size > 0) {
      const merged = new Map<string, Asset>();
      for (const asset of assets) merged.set(normalizeSymbol(asset.symbol), asset);
      for (const [symbol, asset] of this.#extras) merged.set(symbol, asset);
      assets = [...merged.values()];
    }
    this.#index = new DirectoryIndex(assets);
  }
}

/**
 * The search structures over one list. Built once, read-only afterwards. Asset positions (`at`)
 * are indexes into `assets`, which is sorted by ticker.
 */
class DirectoryIndex {
  readonly assets: readonly Asset[];
  /** Upper-case tickers, sorted; `tickers[at]` is `assets[at]`'s. */
  readonly tickers: readonly string[];
  readonly bySymbol = new Map<string, number>();
  /** The distinct normalized name words, sorted. */
  readonly words: readonly string[];
  /**
   * The assets having each word: those of `words[u]` are
   * `wordAsset[wordStart[u] .. wordStart[u + 1])`, in asset order; so the assets of a word
   * prefix are one contiguous run.
   */
  readonly wordStart: Int32Array;
  readonly wordAsset: Int32Array;
  /**
   * Each asset's normalized name words in name order, all in one flat array: asset `at`'s are
   * `nameFlat[nameStart[at] .. nameStart[at + 1])`, the same interned strings as `words` ("inc"
   * is one string for thousands of names). One flat array costs less than 12,000 small ones.
   */
  readonly nameFlat: readonly string[];
  readonly nameStart: Int32Array;
  /** Stamps for de-duplicating candidates without allocating a Set per keystroke. */
  readonly #seen: Uint32Array;
  #stamp = 0;

  constructor(input: readonly Asset[]) {
    // Sorting plain strings with the default comparison (code units, the order `lowerBound`
    // uses) is several times faster than sorting objects with a comparator: this runs on the
    // main process, once a day, and should not stall it.
    const first = new Map<string, Asset>();
    for (const asset of input) {
      const ticker = normalizeSymbol(asset.symbol);
      // A list with a ticker twice keeps the first: the lookup must give one answer.
      if (ticker !== '' && !first.has(ticker)) first.set(ticker, asset);
    }
    const tickers = [...first.keys()].sort();
    const assets = tickers.map((t) => first.get(t)!);
    tickers.forEach((t, at) => this.bySymbol.set(t, at));
    this.assets = assets;
    this.tickers = tickers;

    const ids = new Map<string, number>();
    const distinct: string[] = [];
    const nameFlat: string[] = [];
    const flatId: number[] = [];
    const nameStart = new Int32Array(assets.length + 1);
    for (let at = 0; at < assets.length; at++) {
      nameStart[at] = nameFlat.length;
      for (const word of nameWords(assets[at]!.name)) {
        let id = ids.get(word);
        if (id === undefined) {
          id = distinct.length;
          ids.set(word, id);
          distinct.push(word);
        }
        nameFlat.push(distinct[id]!);
        flatId.push(id);
      }
    }
    nameStart[assets.length] = nameFlat.length;
    const words = [...distinct].sort();
    const position = new Int32Array(distinct.length);
    words.forEach((w, u) => (position[ids.get(w)!] = u));
    // A counting sort of (word, asset) by word position; walking names in asset order keeps each
    // word's assets in asset order.
    const wordStart = new Int32Array(words.length + 1);
    for (const id of flatId) wordStart[position[id]! + 1]!++;
    for (let u = 0; u < words.length; u++) wordStart[u + 1]! += wordStart[u]!;
    const fill = wordStart.slice(0, words.length);
    const wordAsset = new Int32Array(flatId.length);
    for (let at = 0; at < assets.length; at++) {
      for (let f = nameStart[at]!; f < nameStart[at + 1]!; f++) {
        wordAsset[fill[position[flatId[f]!]!]!++] = at;
      }
    }
    this.words = words;
    this.wordStart = wordStart;
    this.wordAsset = wordAsset;
    this.nameFlat = nameFlat;
    this.nameStart = nameStart;
    this.#seen = new Uint32Array(assets.length);
  }

  /** The exact ticker, then tickers starting with `prefix`, shorter first, then alphabetical. */
  tickerMatches(prefix: string, limit: number): number[] {
    const [lo, hi] = prefixRange(this.tickers, prefix);
    const out: number[] = [];
    // The sorted range holds the exact ticker first (a prefix sorts before its extensions); the
    // rest is ranked by length. Walking lengths upwards keeps this cheap for a one-letter prefix.
    const byLength: number[][] = [];
    for (let at = lo; at < hi; at++) {
      const extra = this.tickers[at]!.length - prefix.length;
      (byLength[extra] ??= []).push(at);
    }
    for (const group of byLength) {
      if (!group) continue;
      for (const at of group) {
        out.push(at);
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  /**
   * Assets whose name has, for every query word, a word starting with it. Candidates come from the
   * query word with the fewest index entries; the others are checked against each candidate's own
   * words. Ranked: names that start with the query's words in order, then names whose first word
   * the first query word starts, then the rest; within a rank, more query words that are whole
   * name words first ("alphabet class a": Class A before Class C), then shorter names, then ticker.
   */
  nameMatches(query: readonly string[], limit: number, exclude: ReadonlySet<number>): number[] {
    let lo = 0;
    let hi = 0;
    let bestWord = -1;
    for (let i = 0; i < query.length; i++) {
      const [u, v] = prefixRange(this.words, query[i]!);
      const l = this.wordStart[u]!;
      const h = this.wordStart[v]!;
      if (bestWord < 0 || h - l < hi - lo) {
        lo = l;
        hi = h;
        bestWord = i;
      }
    }
    if (lo === hi) return [];
    const stamp = this.#nextStamp();
    // Each candidate's rank folded into one number (lower is better), the asset in the low bits
    // as the last tie-break: a query matching every name ("inc") walks 12,000 candidates, and
    // this keeps that walk free of allocations.
    const top: number[] = [];
    for (let k = lo; k < hi; k++) {
      const at = this.wordAsset[k]!;
      if (this.#seen[at] === stamp) continue;
      this.#seen[at] = stamp;
      if (exclude.has(at)) continue;
      const from = this.nameStart[at]!;
      const to = this.nameStart[at + 1]!;
      let all = true;
      let whole = 0;
      let inOrder = true;
      for (let i = 0; i < query.length && all; i++) {
        const q = query[i]!;
        let found = false;
        for (let w = from; w < to; w++) {
          const word = this.nameFlat[w]!;
          if (word.startsWith(q)) {
            found = true;
            if (word.length === q.length) {
              whole++;
              break;
            }
          }
        }
        all = found;
        if (inOrder && (from + i >= to || !this.nameFlat[from + i]!.startsWith(q))) inOrder = false;
      }
      if (!all) continue;
      const firstWord = from < to && this.nameFlat[from]!.startsWith(query[0]!);
      const rank = inOrder ? 0 : firstWord ? 1 : 2;
      const nameLength = Math.min(1023, this.assets[at]!.name.length);
      const missingWhole = Math.min(31, query.length - whole);
      const key = ((rank * 32 + missingWhole) * 1024 + nameLength) * 2 ** 21 + at;
      insertTop(top, key, limit);
    }
    // 2 ** 21 assets is far beyond any asset list; the remainder is the asset.
    return top.map((key) => key % 2 ** 21);
  }

  #nextStamp(): number {
    this.#stamp = (this.#stamp + 1) >>> 0;
    if (this.#stamp === 0) {
      this.#seen.fill(0);
      this.#stamp = 1;
    }
    return this.#stamp;
  }

  /**
   * Listed tickers one edit away from `symbol` (a letter dropped, added, changed, or two swapped:
   * APPL → AAPL), then tickers starting with it (GOO → GOOG), at most MAX_SUGGESTIONS. A few
   * hundred map lookups; skipped for long inputs, which are not tickers anyway.
   */
  suggest(symbol: string): string[] {
    const out: string[] = [];
    const add = (candidate: string): boolean => {
      if (candidate !== symbol && this.bySymbol.has(candidate) && !out.includes(candidate))
        out.push(candidate);
      return out.length >= MAX_SUGGESTIONS;
    };
    if (symbol.length <= 12) {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./';
      for (let i = 0; i + 1 < symbol.length; i++) {
        if (add(symbol.slice(0, i) + symbol[i + 1]! + symbol[i]! + symbol.slice(i + 2))) return out;
      }
      for (let i = 0; i < symbol.length; i++) {
        if (add(symbol.slice(0, i) + symbol.slice(i + 1))) return out;
      }
      for (let i = 0; i < symbol.length; i++) {
        for (const c of alphabet) if (add(symbol.slice(0, i) + c + symbol.slice(i + 1))) return out;
      }
      for (let i = 0; i <= symbol.length; i++) {
        for (const c of alphabet) if (add(symbol.slice(0, i) + c + symbol.slice(i))) return out;
      }
    }
    for (const at of this.tickerMatches(symbol, MAX_SUGGESTIONS)) {
      if (add(this.tickers[at]!)) return out;
    }
    return out;
  }
}

/** Keeps `top` as the `limit` lowest keys, ascending; `limit` is small, so insertion beats a sort. */
function insertTop(top: number[], key: number, limit: number): void {
  if (top.length >= limit && key >= top[top.length - 1]!) return;
  let i = top.length;
  while (i > 0 && key < top[i - 1]!) i--;
  top.splice(i, 0, key);
  if (top.length > limit) top.pop();
}

/** `[lo, hi)`: the entries of a sorted array that start with `prefix`. */
function prefixRange(sorted: readonly string[], prefix: string): [number, number] {
  return [lowerBound(sorted, prefix), lowerBound(sorted, `${prefix}\uffff`)];
}

function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Tickers as Alpaca spells them: upper case, no surrounding space. */
export function normalizeSymbol(symbol: string): string {
  return symbol.trim().toUpperCase();
}

/**
 * A name's searchable words: accents stripped (Nestlé → nestle), lower case, apostrophes and dots
 * dropped inside words (McDonald's → mcdonalds, Amazon.com → amazoncom, U.S. → us), split on
 * anything else that is not a letter or digit.
 */
export function nameWords(name: string): string[] {
  // Most names are plain ASCII; decomposing them would find nothing to strip.
  const folded = /^[\x20-\x7e]*$/.test(name) ? name : name.normalize('NFKD').replace(/\p{M}/gu, '');
  return folded
    .toLowerCase()
    .replace(/['’`.]/g, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== '');
}

function cacheText(assets: readonly Asset[], fetchedAt: number): string {
  // One asset a line: compact, yet a person can read and diff it.
  const rows = assets.map((a) =>
    JSON.stringify([a.symbol, a.name, a.exchange, a.assetClass, a.status, a.tradable]),
  );
  return `{"version":1,"fetchedAt":${fetchedAt},"assets":[\n${rows.join(',\n')}\n]}\n`;
}

function orList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]!}`;
}

function joinProblems(problems: readonly string[]): string | undefined {
  return problems.length > 0 ? problems.join(' ') : undefined;
}

function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}
