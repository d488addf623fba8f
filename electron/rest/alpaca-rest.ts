/**
 * AlpacaRest: the Alpaca REST endpoints Market Monitor reads for market context (snapshots, bars,
 * the market clock and calendar, the asset directory), on top of RestHttp. It checks a call's input
 * before sending anything, splits long symbol lists, follows bar pages to the end, and maps the
 * wire JSON to the domain types of types.ts. A call that takes several requests returns all of
 * their results or rejects with one RestError: never a part that looks whole.
 */
import { silentLogger, type Logger } from '../stream/log.ts';
import { RestError, excerptOf } from './errors.ts';
import { RestHttp, type RestClock, type RestMetrics } from './http.ts';
import {
  MAX_QUERY_CHARS,
  chunkSymbols,
  encodeSymbol,
  followPages,
  mapConcurrent,
} from './paging.ts';
import {
  WireShapeError,
  parseAsset,
  parseAssets,
  parseBarsPage,
  parseCalendar,
  parseClock,
  parseSnapshots,
  type Parsed,
} from './schemas.ts';
import {
  TIMEFRAMES,
  type Asset,
  type CalendarDay,
  type MarketClock,
  type RestBar,
  type SymbolSnapshot,
  type Timeframe,
} from './types.ts';

export interface AlpacaRestOptions {
  /** Default 'https://data.alpaca.markets'. */
  readonly dataUrl?: string;
  /** Default 'https://paper-api.alpaca.markets' (live: 'https://api.alpaca.markets'). */
  readonly tradingUrl?: string;
  /** Sent as APCA-API-KEY-ID / APCA-API-SECRET-KEY; never logged, never in an error message. */
  readonly keyId?: string;
  readonly secret?: string;
  /** Per host, default 200. */
  readonly requestsPerMinute?: number;
  /** Per attempt, default 10,000. */
  readonly timeoutMs?: number;
  /** Default 3. */
  readonly maxAttempts?: number;
  readonly clock?: RestClock;
  readonly random?: () => number;
  readonly fetch?: typeof fetch;
  /** A child with module 'rest' is made of it. */
  readonly logger?: Logger;
  /** Default 200 (a snapshot of 200 symbols is one request); the URL length bounds it too. */
  readonly maxSymbolsPerRequest?: number;
  /** Addition: the longest query string sent (default 7,000 characters). */
  readonly maxQueryChars?: number;
  /** Addition: the largest body read (default 64 MiB). */
  readonly maxBodyBytes?: number;
}

export interface AlpacaRestMetrics extends RestMetrics {
  /** Addition: malformed items skipped inside otherwise good answers (snapshots, bars, assets). */
  readonly skipped: number;
}

export interface SnapshotOptions {
  readonly feed?: string;
  readonly signal?: AbortSignal;
}

export interface BarsOptions {
  readonly timeframe: Timeframe;
  readonly start: Date | number;
  readonly end?: Date | number;
  /** Bars per page, across all symbols of the request; 1 to 10,000, default 10,000. */
  readonly limit?: number;
  readonly feed?: string;
  readonly crypto?: boolean;
  readonly signal?: AbortSignal;
  /** Safety cap on bars in one call (default 1,000,000): past it the call rejects 'bad-request'. */
  readonly maxBars?: number;
  /**
   * Stop after this many bars in all (the CLI's `--limit`): pages are followed only until it is
   * reached, chunks of symbols run one after another, and the result holds the first `total` bars
   * in request order (chunk by chunk, each as the server sorts it: symbol, then time). The page
   * size defaults to it when smaller than 10,000.
   */
  readonly total?: number;
  /**
   * Hands each page's bars (after `total` has cut them) to this instead of gathering them, and the
   * call resolves with an empty map: for a caller that folds bars as they come (the sparklines'
   * history), so that a session of a thousand symbols is never held at once. Pages of two chunks
   * of symbols may interleave; a symbol's own pages come in order.
   */
  readonly onPage?: (bars: ReadonlyMap<string, readonly RestBar[]>) => void;
}

export const DEFAULT_DATA_URL = 'https://data.alpaca.markets';
export const DEFAULT_TRADING_URL = 'https://paper-api.alpaca.markets';
export const DEFAULT_MAX_SYMBOLS = 200;
export const DEFAULT_BARS_LIMIT = 10_000;
export const DEFAULT_MAX_BARS = 1_000_000;

/** Symbol lists run as this many requests at once (each still through the host's limiter). */
const CHUNK_CONCURRENCY = 2;

/** Room kept in a bars query for the page token, whose length we learn only later. */
const PAGE_TOKEN_ROOM = 512;

type Params = Record<string, string | readonly string[] | undefined>;

export class AlpacaRest {
  readonly #http: RestHttp;
  readonly #dataUrl: string;
  readonly #tradingUrl: string;
  readonly #maxSymbols: number;
  readonly #maxQueryChars: number;
  readonly #log: Logger;
  #skipped = 0;

  constructor(options: AlpacaRestOptions = {}) {
    this.#http = new RestHttp({
      keyId: options.keyId,
      secret: options.secret,
      requestsPerMinute: options.requestsPerMinute,
      timeoutMs: options.timeoutMs,
      maxAttempts: options.maxAttempts,
      maxBodyBytes: options.maxBodyBytes,
      clock: options.clock,
      random: options.random,
      fetch: options.fetch,
      logger: options.logger,
    });
    this.#dataUrl = baseUrl('dataUrl', options.dataUrl ?? DEFAULT_DATA_URL);
    this.#tradingUrl = baseUrl('tradingUrl', options.tradingUrl ?? DEFAULT_TRADING_URL);
    this.#maxSymbols = positiveInteger(
      'maxSymbolsPerRequest',
      options.maxSymbolsPerRequest ?? DEFAULT_MAX_SYMBOLS,
    );
    this.#maxQueryChars = positiveInteger(
      'maxQueryChars',
      options.maxQueryChars ?? MAX_QUERY_CHARS,
    );
    this.#log = options.logger ? options.logger.child({ module: 'rest' }) : silentLogger();
  }

  /** GET /v2/stocks/snapshots (a bare map by symbol). Symbols without data are absent. */
  stockSnapshots(
    symbols: readonly string[],
    options: SnapshotOptions = {},
  ): Promise<Map<string, SymbolSnapshot>> {
    return this.#snapshots(
      '/v2/stocks/snapshots',
      symbols,
      { feed: options.feed },
      false,
      options.signal,
    );
  }

  /** GET /v1beta3/crypto/us/snapshots (`{"snapshots": {...}}`). Symbols without data are absent. */
  cryptoSnapshots(
    symbols: readonly string[],
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<Map<string, SymbolSnapshot>> {
    return this.#snapshots('/v1beta3/crypto/us/snapshots', symbols, {}, true, options.signal);
  }

  /**
   * Bars of each symbol from `start` (to `end`), every page followed. Symbols without bars are
   * absent. Chunks of symbols run two at a time, the pages of a chunk one after another.
   */
  async bars(symbols: readonly string[], options: BarsOptions): Promise<Map<string, RestBar[]>> {
    const path = options.crypto === true ? '/v1beta3/crypto/us/bars' : '/v2/stocks/bars';
    const list = this.#symbolList(symbols, path);
    if (!(TIMEFRAMES as readonly string[]).includes(options.timeframe))
      throw badRequest(path, `timeframe must be one of ${TIMEFRAMES.join(', ')}`);
    const cap = options.total;
    if (cap !== undefined && (!Number.isInteger(cap) || cap < 1))
      throw badRequest(path, 'total must be a positive integer');
    const limit = options.limit ?? Math.min(DEFAULT_BARS_LIMIT, cap ?? DEFAULT_BARS_LIMIT);
    if (!Number.isInteger(limit) || limit < 1 || limit > DEFAULT_BARS_LIMIT)
      throw badRequest(path, `limit must be an integer from 1 to ${DEFAULT_BARS_LIMIT}`);
    const maxBars = options.maxBars ?? DEFAULT_MAX_BARS;
    if (!Number.isInteger(maxBars) || maxBars < 1)
      throw badRequest(path, 'maxBars must be a positive integer');
    const start = rfc3339(options.start, 'start', path);
    const end = options.end === undefined ? undefined : rfc3339(options.end, 'end', path);
    if (list.length === 0) return new Map();
    const params: Params = {
      timeframe: options.timeframe,
      start,
      end,
      limit: String(limit),
      // Crypto bars have no feed: the location is in the path.
      feed: options.crypto === true ? undefined : options.feed,
    };
    const chunks = this.#chunk(list, path, params, PAGE_TOKEN_ROOM);
    const onPage = options.onPage;
    let total = 0;
    const parts = await mapConcurrent(
      chunks,
      // With a total, "the first N" is only defined if chunks go in order.
      cap === undefined ? CHUNK_CONCURRENCY : 1,
      async (chunk, signal) => {
        const out = new Map<string, RestBar[]>();
        if (cap !== undefined && total >= cap) return out;
        const { pages, stop } = await followPages(
          async (token) => {
            const url = this.#url(this.#dataUrl, path, {
              symbols: chunk,
              ...params,
              page_token: token,
            });
            const body = await this.#http.getJson(url, { signal });
            const parsed = this.#parse(url, () => parseBarsPage(body));
            this.#countSkips(url, parsed);
            // Skipped bars count toward the page's size: a page of bad bars is not the end.
            let size = parsed.skipped;
            for (const list of parsed.value.bars.values()) size += list.length;
            return { ...parsed.value, size };
          },
          (page) => {
            const taken = onPage === undefined ? out : new Map<string, RestBar[]>();
            for (const [symbol, all] of page.bars) {
              const list = cap === undefined ? all : all.slice(0, Math.max(0, cap - total));
              if (list.length === 0) continue;
              total += list.length;
              const have = taken.get(symbol);
              if (have) for (const bar of list) have.push(bar);
              else taken.set(symbol, list);
            }
            if (onPage !== undefined && taken.size > 0) onPage(taken);
            if (total > maxBars)
              throw badRequest(
                path,
                `more than maxBars (${maxBars}) bars in this call; narrow the range or raise maxBars`,
              );
            return cap !== undefined && total >= cap ? 'stop' : undefined;
          },
        );
        if (stop !== 'end' && stop !== 'enough')
          this.#log.warn({ path, pages, stop }, 'REST bars: stopped following pages early');
        return out;
      },
      options.signal,
    );
    return mergeMaps(parts);
  }

  /** Trading host GET /v2/clock. */
  async clock(options: { readonly signal?: AbortSignal } = {}): Promise<MarketClock> {
    const url = this.#url(this.#tradingUrl, '/v2/clock', {});
    const body = await this.#http.getJson(url, { signal: options.signal });
    return this.#parse(url, () => parseClock(body));
  }

  /** Trading host GET /v2/calendar: the trading days from `start` to `end` (YYYY-MM-DD, New York). */
  async calendar(options: {
    readonly start: string;
    readonly end: string;
    readonly signal?: AbortSignal;
  }): Promise<CalendarDay[]> {
    const path = '/v2/calendar';
    for (const [name, value] of [
      ['start', options.start],
      ['end', options.end],
    ] as const)
      if (!isDate(value)) throw badRequest(path, `${name} must be a YYYY-MM-DD date`);
    const url = this.#url(this.#tradingUrl, path, { start: options.start, end: options.end });
    const body = await this.#http.getJson(url, { signal: options.signal });
    return this.#parse(url, () => parseCalendar(body));
  }

  /** Trading host GET /v2/assets/{symbol}; an unknown symbol rejects 'not-found'. */
  async asset(symbol: string, options: { readonly signal?: AbortSignal } = {}): Promise<Asset> {
    if (typeof symbol !== 'string' || symbol.trim() === '')
      throw badRequest('/v2/assets', 'the symbol is empty');
    // Crypto symbols carry a slash (BTC/USD): encoded, it stays one path segment.
    const url = this.#url(this.#tradingUrl, `/v2/assets/${encodeURIComponent(symbol)}`, {});
    const body = await this.#http.getJson(url, { signal: options.signal });
    return this.#parse(url, () => parseAsset(body));
  }

  /** Trading host GET /v2/assets?status=active&asset_class=us_equity (about 12,000, a few MB). */
  async assets(options: { readonly signal?: AbortSignal } = {}): Promise<Asset[]> {
    const url = this.#url(this.#tradingUrl, '/v2/assets', {
      status: 'active',
      asset_class: 'us_equity',
    });
    const body = await this.#http.getJson(url, { signal: options.signal });
    return this.#parseSome(url, () => parseAssets(body));
  }

  metrics(): AlpacaRestMetrics {
    return { ...this.#http.metrics(), skipped: this.#skipped };
  }

  /** Cancels everything in flight ('cancelled'); idempotent; later calls reject 'cancelled'. */
  close(): void {
    this.#http.close();
  }

  async #snapshots(
    path: string,
    symbols: readonly string[],
    params: Params,
    wrapped: boolean,
    signal: AbortSignal | undefined,
  ): Promise<Map<string, SymbolSnapshot>> {
    const list = this.#symbolList(symbols, path);
    if (list.length === 0) return new Map();
    const chunks = this.#chunk(list, path, params, 0);
    const parts = await mapConcurrent(
      chunks,
      CHUNK_CONCURRENCY,
      async (chunk, chunkSignal) => {
        const url = this.#url(this.#dataUrl, path, { symbols: chunk, ...params });
        const body = await this.#http.getJson(url, { signal: chunkSignal });
        return this.#parseSome(url, () => parseSnapshots(body, wrapped));
      },
      signal,
    );
    return mergeMaps(parts);
  }

  /** Checks a symbol list and drops repeats (order kept); a closed client refuses first. */
  #symbolList(symbols: readonly string[], path: string): string[] {
    if (this.#http.closed) throw new RestError('cancelled', 'client closed', { path });
    if (!Array.isArray(symbols)) throw badRequest(path, 'symbols must be an array of strings');
    const seen = new Set<string>();
    for (const symbol of symbols as readonly unknown[]) {
      if (typeof symbol !== 'string' || symbol.trim() === '' || symbol.includes(','))
        throw badRequest(
          path,
          `bad symbol ${excerptOf(JSON.stringify(symbol) ?? String(symbol)).slice(0, 40)}`,
        );
      seen.add(symbol);
    }
    return [...seen];
  }

  /** Splits `symbols` so each request's whole query stays under the bound. */
  #chunk(symbols: readonly string[], path: string, params: Params, reserve: number): string[][] {
    const fixed = queryOf(params).length + 'symbols='.length + 1 + reserve;
    const room = this.#maxQueryChars - fixed;
    if (room < 1) throw badRequest(path, 'the query is too long even without symbols');
    return chunkSymbols(symbols, this.#maxSymbols, room);
  }

  #url(base: string, path: string, params: Params): string {
    const query = queryOf(params);
    return `${base}${path}${query === '' ? '' : `?${query}`}`;
  }

  /** Runs a mapping; a body of the wrong shape becomes 'malformed' naming the first issue's path. */
  #parse<T>(url: string, map: () => T): T {
    try {
      return map();
    } catch (err) {
      if (!(err instanceof WireShapeError)) throw err;
      const shown = JSON.stringify(err.value) ?? String(err.value);
      throw new RestError('malformed', err.message, {
        path: this.#http.describePath(url),
        excerpt: excerptOf(shown),
      });
    }
  }

  /** As #parse, for answers usable in part: skipped items are counted and logged. */
  #parseSome<T>(url: string, map: () => Parsed<T>): T {
    const result = this.#parse(url, map);
    this.#countSkips(url, result);
    return result.value;
  }

  #countSkips(url: string, result: Parsed<unknown>): void {
    if (result.skipped === 0) return;
    this.#skipped += result.skipped;
    this.#log.warn(
      { path: this.#http.describePath(url), skipped: result.skipped, first: result.firstSkip },
      'REST: skipped malformed items',
    );
  }
}

/** `a=1&symbols=A,B`: values encoded, list items joined by a bare comma (shorter, and readable). */
function queryOf(params: Params): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    const text =
      typeof value === 'string' ? encodeURIComponent(value) : value.map(encodeSymbol).join(',');
    parts.push(`${encodeURIComponent(name)}=${text}`);
  }
  return parts.join('&');
}

function mergeMaps<V>(parts: readonly Map<string, V>[]): Map<string, V> {
  const out = new Map<string, V>();
  for (const part of parts) for (const [key, value] of part) out.set(key, value);
  return out;
}

function rfc3339(value: Date | number, name: string, path: string): string {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15)
    throw badRequest(path, `${name} must be a valid Date or epoch ms`);
  return new Date(ms).toISOString();
}

function isDate(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    /^\d{4}-\d{2}-\d{2}$/.test(value) &&
    !Number.isNaN(Date.parse(`${value}T00:00:00Z`))
  );
}

function badRequest(path: string, message: string): RestError {
  return new RestError('bad-request', message, { path });
}

function baseUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${name} is not a URL: ${value}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TypeError(`${name} must be http(s): ${value}`);
  return value.replace(/\/+$/, '');
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, not ${value}`);
  return value;
}
