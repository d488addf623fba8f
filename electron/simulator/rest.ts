/**
 * The simulator's REST API: Alpaca's market-data endpoints (snapshots, bars) and the trading
 * reference endpoints the app reads (clock, calendar, assets), on the same HTTP server as the
 * WebSocket feeds, in Alpaca's wire shapes so the official SDK parses them. Snapshots and today's
 * bars come from the stream's own walks, history from the seed (history.ts), hours from
 * market-hours.ts. Auth, rate-limit headers and REST faults (429, 500, slow, malformed) behave as
 * on Alpaca, so a client's error handling can be tried offline.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../stream/log.ts';
import { addDays, nyDate, nyTime } from '../../shared/market-session.ts';
import type { Bar, History, LivePoint } from './history.ts';
import { aggregate, barJson, barsOf, parseTimeframe } from './history.ts';
import type { MarketHours, SimDay } from './market-hours.ts';
import {
  CALENDAR_FIRST,
  calendarLast,
  cryptoDays,
  cryptoSessionDay,
  utcDate,
} from './market-hours.ts';
import type { LatestItems, WireItem } from './market-walk.ts';
import { hashString, mulberry32 } from './market-walk.ts';
import { assetId, assetJson, listingOf } from './reference.ts';

/** REST fault switches; set at start (`restFaults`) or at run time (`setRestFaults`). */
export interface RestFaults {
  /**
   * Requests allowed per minute (a fixed window); more get 429 with `Retry-After`. Undefined: the
   * paid plan's 10,000, which the headers report.
   */
  readonly rateLimitPerMinute: number | undefined;
  /** Answer 500: `true` always, a number in [0, 1] as the chance per request. */
  readonly error500: boolean | number;
  /** Delay every answer this many milliseconds. */
  readonly slowMs: number;
  /** Answer 200 with a truncated JSON body. */
  readonly malformed: boolean;
}

export const DEFAULT_REST_FAULTS: RestFaults = {
  rateLimitPerMinute: undefined,
  error500: false,
  slowMs: 0,
  malformed: false,
};

/** The limit the headers report when none is set: Alpaca's paid market-data plan. */
const DEFAULT_RATE_LIMIT = 10_000;
const MAX_SLOW_MS = 120_000;

/** Checks a REST fault patch; throws RangeError naming the first bad field. */
export function checkRestFaults(faults: Partial<RestFaults>): void {
  const limit = faults.rateLimitPerMinute;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new RangeError('rateLimitPerMinute must be a whole number >= 1');
  }
  const e = faults.error500;
  if (e !== undefined && typeof e !== 'boolean' && !(Number.isFinite(e) && e >= 0 && e <= 1)) {
    throw new RangeError('error500 must be true, false or a probability in [0, 1]');
  }
  const slow = faults.slowMs;
  if (slow !== undefined && !(Number.isFinite(slow) && slow >= 0 && slow <= MAX_SLOW_MS)) {
    throw new RangeError(`slowMs must be a number from 0 to ${MAX_SLOW_MS}`);
  }
  if (faults.malformed !== undefined && typeof faults.malformed !== 'boolean') {
    throw new RangeError('malformed must be a boolean');
  }
}

export type AssetKind = 'stock' | 'crypto';

/** The server as the REST API sees it. */
export interface RestHost {
  readonly key: string | undefined;
  readonly secret: string | undefined;
  readonly seed: number;
  readonly logger: Logger;
  readonly hours: MarketHours;
  readonly history: History;
  /** The stock universe, in its order. */
  stocks(): readonly string[];
  cryptoPairs(): readonly string[];
  restFaults(): RestFaults;
  /** The stream's newest trade and quote of a symbol (on `feed`'s connections when given). */
  latest(symbol: string, kind: AssetKind, feed: string | undefined): LatestItems | undefined;
}

/** An answer that is not 200, as Alpaca writes it. */
class HttpError extends Error {
  readonly status: number;
  readonly code: number;

  constructor(status: number, code: number, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const badRequest = (message: string): HttpError => new HttpError(400, 40010001, message);
const notFound = (message: string): HttpError => new HttpError(404, 40410000, message);

const STOCK_FEEDS = new Set(['iex', 'sip', 'delayed_sip', 'otc', 'boats', 'overnight']);
const MAX_LIMIT = 10_000;
const DEFAULT_LIMIT = 1000;
const DAY_MS = 86_400_000;
/** Streaming the assets list in pieces keeps a large universe from making one huge string. */
const ASSET_CHUNK = 500;
/** T+1 settlement from this date, T+2 before (the SEC's 2024 change). */
const T_PLUS_ONE_FROM = '2024-05-28';

function symbolsParam(query: URLSearchParams): string[] {
  const raw = query.get('symbols');
  if (raw === null || raw.trim() === '') throw badRequest('symbols is required');
  return [
    ...new Set(
      raw
        .split(',')
        .map((s) => s.trim().toUpperCase())
        .filter((s) => s !== ''),
    ),
  ];
}

function feedParam(query: URLSearchParams): string | undefined {
  const feed = query.get('feed');
  if (feed === null || feed === '') return undefined;
  if (!STOCK_FEEDS.has(feed)) throw badRequest(`invalid feed ${JSON.stringify(feed)}`);
  return feed;
}

function timeParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? Date.parse(`${raw}T00:00:00Z`) : Date.parse(raw);
  if (!Number.isFinite(ms) || !/^\d{4}-\d{2}-\d{2}/.test(raw)) {
    throw badRequest(`invalid ${name}: ${JSON.stringify(raw)} is not an RFC 3339 time`);
  }
  return ms;
}

/** A calendar date parameter: YYYY-MM-DD, or an RFC 3339 time whose written date counts. */
function dateParam(query: URLSearchParams, name: string): string | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  const date = raw.slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !Number.isFinite(Date.parse(`${date}T00:00:00Z`))) {
    throw badRequest(`invalid ${name}: ${JSON.stringify(raw)} is not a date`);
  }
  return date;
}

/** An instant as Alpaca's trading API writes it: New York offset, e.g. `2026-03-09T09:30:00-04:00`. */
export function formatNy(ms: number, withMillis = false): string {
  const ny = nyTime(ms);
  const local = new Date(ms + ny.offsetMinutes * 60_000).toISOString();
  const body = withMillis ? local.slice(0, 23) : local.slice(0, 19);
  const off = Math.abs(ny.offsetMinutes);
  const sign = ny.offsetMinutes < 0 ? '-' : '+';
  return `${body}${sign}${String(Math.floor(off / 60)).padStart(2, '0')}:${String(off % 60).padStart(2, '0')}`;
}

interface PageToken {
  readonly s: string;
  readonly t: number;
}

function encodeToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeToken(text: string, symbols: readonly string[]): PageToken {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null) {
      const { s, t } = value as Record<string, unknown>;
      if (
        typeof s === 'string' &&
        symbols.includes(s) &&
        typeof t === 'number' &&
        Number.isFinite(t)
      ) {
        return { s, t };
      }
    }
  } catch {
    // falls through to the error below
  }
  throw badRequest('invalid page_token (it belongs to another query, or is not one)');
}

function tradeJson(item: WireItem): Record<string, unknown> {
  const { T: _type, S: _symbol, ...rest } = item;
  return rest;
}

const TAPE_OF_EXCHANGE: Readonly<Record<string, string>> = { NYSE: 'A', NASDAQ: 'C' };

export class RestApi {
  readonly #host: RestHost;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #faultRng: () => number;
  #windowStart = 0;
  #windowCount = 0;
  #idIndex: Map<string, string> | undefined;
  #requests = 0;

  constructor(host: RestHost) {
    this.#host = host;
    this.#faultRng = mulberry32(hashString('rest-faults', host.seed));
  }

  /** Requests answered (any status), for tests and stats. */
  get requests(): number {
    return this.#requests;
  }

  /** Drops delayed answers (slowMs) still waiting: the server is closing. */
  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.#requests += 1;
    const host = this.#host;
    const now = host.hours.now();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      this.#send(res, now, 400, { code: 40010001, message: 'bad request line' });
      return;
    }
    const route = this.#route(url.pathname);
    if (route === undefined) {
      this.#send(res, now, 404, { code: 40410000, message: 'endpoint not found' });
      return;
    }
    if (req.method !== 'GET') {
      this.#send(
        res,
        now,
        405,
        { code: 40510000, message: 'method not allowed' },
        { Allow: 'GET' },
      );
      return;
    }
    if (!this.#authorized(req, url.pathname)) {
      this.#send(res, now, 401, { code: 40110000, message: 'request is not authorized' });
      return;
    }
    const faults = host.restFaults();
    const limit = faults.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT;
    const windowStart = Math.floor(now / 60_000) * 60_000;
    if (windowStart !== this.#windowStart) {
      this.#windowStart = windowStart;
      this.#windowCount = 0;
    }
    if (this.#windowCount >= limit) {
      const retry = Math.max(1, Math.ceil((windowStart + 60_000 - now) / 1000));
      this.#send(
        res,
        now,
        429,
        { code: 42910000, message: 'rate limit exceeded' },
        { 'Retry-After': String(retry) },
      );
      return;
    }
    this.#windowCount += 1;

    const answer = (): void => {
      const at = host.hours.now();
      const p = faults.error500;
      if (p === true || (typeof p === 'number' && p > 0 && this.#faultRng() < p)) {
        this.#send(res, at, 500, { code: 50010000, message: 'internal server error' });
        return;
      }
      try {
        route(url.searchParams, res, at, faults.malformed);
      } catch (err) {
        if (err instanceof HttpError) {
          this.#send(res, at, err.status, { code: err.code, message: err.message });
        } else if (err instanceof RangeError) {
          this.#send(res, at, 400, { code: 40010001, message: err.message });
        } else {
          host.logger.error({ err, path: url.pathname }, 'REST handler failed');
          this.#send(res, at, 500, { code: 50010000, message: 'internal server error' });
        }
      }
    };
    if (faults.slowMs > 0) {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (!res.destroyed) answer();
      }, faults.slowMs);
      this.#timers.add(timer);
    } else {
      answer();
    }
  }

  #authorized(req: IncomingMessage, pathname: string): boolean {
    const { key, secret } = this.#host;
    if (key === undefined || secret === undefined) return true;
    const givenKey = req.headers['apca-api-key-id'];
    const givenSecret = req.headers['apca-api-secret-key'];
    // Alpaca serves crypto market data without keys (the SDK sends none); wrong keys still fail.
    if (
      pathname.startsWith('/v1beta3/crypto/') &&
      givenKey === undefined &&
      givenSecret === undefined
    ) {
      return true;
    }
    return givenKey === key && givenSecret === secret;
  }

  #rateHeaders(now: number): Record<string, string> {
    const limit = this.#host.restFaults().rateLimitPerMinute ?? DEFAULT_RATE_LIMIT;
    const windowStart = Math.floor(now / 60_000) * 60_000;
    const used = windowStart === this.#windowStart ? this.#windowCount : 0;
    return {
      'X-RateLimit-Limit': String(limit),
      'X-RateLimit-Remaining': String(Math.max(0, limit - used)),
      'X-RateLimit-Reset': String((windowStart + 60_000) / 1000),
    };
  }

  #send(
    res: ServerResponse,
    now: number,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
    malformed = false,
  ): void {
    if (res.headersSent || res.destroyed) return;
    let text = JSON.stringify(body);
    // A body cut in half: valid HTTP, broken JSON, as a proxy that drops the connection leaves it.
    if (malformed) text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=UTF-8',
      'Content-Length': String(Buffer.byteLength(text)),
      ...this.#rateHeaders(now),
      ...headers,
    });
    res.end(text);
  }

  #ok(res: ServerResponse, now: number, body: unknown, malformed: boolean): void {
    this.#send(res, now, 200, body, {}, malformed);
  }

  #route(
    pathname: string,
  ):
    | ((query: URLSearchParams, res: ServerResponse, now: number, malformed: boolean) => void)
    | undefined {
    let parts: string[];
    try {
      parts = pathname
        .split('/')
        .filter((p) => p !== '')
        .map((p) => decodeURIComponent(p));
    } catch {
      return undefined;
    }
    const path = parts.join('/');
    switch (path) {
      case 'v2/stocks/snapshots':
        return (q, res, now, bad) => this.#ok(res, now, this.#stockSnapshots(q, now), bad);
      case 'v1beta3/crypto/us/snapshots':
        return (q, res, now, bad) => this.#ok(res, now, this.#cryptoSnapshots(q, now), bad);
      case 'v2/stocks/bars':
        return (q, res, now, bad) => this.#ok(res, now, this.#bars(q, 'stock', now), bad);
      case 'v1beta3/crypto/us/bars':
        return (q, res, now, bad) => this.#ok(res, now, this.#bars(q, 'crypto', now), bad);
      case 'v2/clock':
        return (_q, res, now, bad) => this.#ok(res, now, this.#clock(now), bad);
      case 'v2/calendar':
        return (q, res, now, bad) => this.#ok(res, now, this.#calendar(q, now), bad);
      case 'v2/assets':
        return (q, res, now, bad) => this.#assets(q, res, now, bad);
      default:
        break;
    }
    if (
      parts.length === 4 &&
      parts[0] === 'v2' &&
      parts[1] === 'stocks' &&
      parts[3] === 'snapshot'
    ) {
      const symbol = (parts[2] ?? '').toUpperCase();
      return (q, res, now, bad) => this.#ok(res, now, this.#stockSnapshot(symbol, q, now), bad);
    }
    if (parts.length >= 3 && parts[0] === 'v2' && parts[1] === 'assets') {
      // A crypto pair may come unencoded: /v2/assets/BTC/USD
      const key = parts.slice(2).join('/');
      return (_q, res, now, bad) => this.#ok(res, now, this.#asset(key), bad);
    }
    return undefined;
  }

  // ------------------------------------------------------------------ snapshots

  #knownStocks(): ReadonlySet<string> {
    return new Set(this.#host.stocks());
  }

  #stockSnapshots(query: URLSearchParams, now: number): Record<string, unknown> {
    const symbols = symbolsParam(query);
    const feed = feedParam(query);
    const known = this.#knownStocks();
    const out: Record<string, unknown> = {};
    for (const symbol of symbols) {
      if (!known.has(symbol)) continue;
      const snap = this.#snapshot(symbol, 'stock', feed, now);
      if (snap !== undefined) out[symbol] = snap;
    }
    return out;
  }

  #stockSnapshot(symbol: string, query: URLSearchParams, now: number): Record<string, unknown> {
    const feed = feedParam(query);
    const snap = this.#knownStocks().has(symbol)
      ? this.#snapshot(symbol, 'stock', feed, now)
      : undefined;
    if (snap === undefined) throw notFound(`no snapshot found for ${symbol}`);
    return { symbol, ...snap };
  }

  #cryptoSnapshots(query: URLSearchParams, now: number): Record<string, unknown> {
    const symbols = symbolsParam(query);
    const known = new Set(this.#host.cryptoPairs());
    const snapshots: Record<string, unknown> = {};
    for (const symbol of symbols) {
      if (!known.has(symbol)) continue;
      const snap = this.#snapshot(symbol, 'crypto', undefined, now);
      if (snap !== undefined) snapshots[symbol] = snap;
    }
    return { snapshots };
  }

  /** The day a snapshot describes: in session now, or the last one. */
  #sessionDay(kind: AssetKind, now: number): SimDay | undefined {
    return kind === 'crypto' ? cryptoSessionDay(now) : this.#host.hours.stockSessionDay(now);
  }

  #dayOf(kind: AssetKind, date: string, now: number): SimDay | undefined {
    if (kind === 'crypto') return cryptoDays(date, date)[0];
    return this.#host.hours.stockDays(date, date, now)[0];
  }

  /** The live walk's last trade when it happened inside `day` and not after now. */
  #live(
    symbol: string,
    kind: AssetKind,
    feed: string | undefined,
    day: SimDay,
    now: number,
  ): { point: LivePoint; items: LatestItems } | undefined {
    const items = this.#host.latest(symbol, kind, feed);
    const trade = items?.trade;
    if (items === undefined || trade === undefined) return undefined;
    const time = Date.parse(String(trade.t));
    const price = trade.p;
    if (
      typeof price !== 'number' ||
      !(time >= day.preOpen && time < day.postClose && time <= now)
    ) {
      return undefined;
    }
    return { point: { price, time }, items };
  }

  #snapshot(
    symbol: string,
    kind: AssetKind,
    feed: string | undefined,
    now: number,
  ): Record<string, unknown> | undefined {
    const history = this.#host.history;
    const day = this.#sessionDay(kind, now);
    if (day === undefined) return undefined;
    const live = this.#live(symbol, kind, feed, day, now);
    const bars = history.minuteBars(symbol, day, now, live?.point);
    const decimals = history.decimals(symbol) + 2;
    const daily = aggregate(bars, day.barTime, decimals);
    const last: Bar | undefined = bars[bars.length - 1];
    const prevDay = this.#dayOf(kind, day.prevDate, now);
    const prevDaily =
      prevDay === undefined ? undefined : history.dayBar(symbol, prevDay, prevDay.postClose);
    const out: Record<string, unknown> = {};
    if (live !== undefined) {
      out.latestTrade = tradeJson(live.items.trade ?? {});
      if (live.items.quote !== undefined) out.latestQuote = tradeJson(live.items.quote);
    } else if (last !== undefined) {
      const t = Math.min(now, last.t + 59_000);
      Object.assign(out, this.#syntheticTop(symbol, kind, last.c, t));
    } else if (prevDaily !== undefined) {
      Object.assign(out, this.#syntheticTop(symbol, kind, prevDaily.c, prevDay?.close ?? now));
    }
    if (last !== undefined) out.minuteBar = barJson(last);
    if (daily !== undefined) out.dailyBar = barJson(daily);
    if (prevDaily !== undefined) out.prevDailyBar = barJson(prevDaily);
    return Object.keys(out).length === 0 ? undefined : out;
  }

  /** A last trade and quote at `price` when no live walk has one: the history's last print. */
  #syntheticTop(
    symbol: string,
    kind: AssetKind,
    price: number,
    time: number,
  ): { latestTrade: Record<string, unknown>; latestQuote: Record<string, unknown> } {
    const t = new Date(time).toISOString();
    const id = 10_000_000 + (hashString(`${symbol}${time}`, this.#host.seed) % 1_000_000_000);
    const decimals = this.#host.history.decimals(symbol);
    const tick = 10 ** -decimals;
    const bp = Math.round((price - tick) * 10 ** decimals) / 10 ** decimals;
    const ap = Math.round((price + tick) * 10 ** decimals) / 10 ** decimals;
    if (kind === 'crypto') {
      return {
        latestTrade: { t, p: price, s: 0.01, i: id, tks: 'B' },
        latestQuote: { t, bp, bs: 0.5, ap, as: 0.5 },
      };
    }
    const z = TAPE_OF_EXCHANGE[listingOf(symbol, this.#host.seed).exchange] ?? 'B';
    return {
      latestTrade: { t, x: 'V', p: price, s: 100, c: ['@'], i: id, z },
      latestQuote: { t, ax: 'V', ap, as: 2, bx: 'V', bp, bs: 2, c: ['R'], z },
    };
  }

  // ------------------------------------------------------------------ bars

  #bars(query: URLSearchParams, kind: AssetKind, now: number): Record<string, unknown> {
    const requested = symbolsParam(query);
    const timeframeText = query.get('timeframe');
    if (timeframeText === null || timeframeText === '') throw badRequest('timeframe is required');
    const timeframe = parseTimeframe(timeframeText);
    if (kind === 'stock') feedParam(query);
    const sort = query.get('sort') ?? 'asc';
    if (sort !== 'asc') {
      throw badRequest(`sort=${sort}: the simulator serves sort=asc only`);
    }
    const limitText = query.get('limit');
    const limit = limitText === null || limitText === '' ? DEFAULT_LIMIT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw badRequest(`invalid limit: it must be a whole number from 1 to ${MAX_LIMIT}`);
    }
    const dayStart =
      kind === 'crypto'
        ? Date.parse(`${utcDate(now)}T00:00:00Z`)
        : (this.#host.hours.stockSessionDay(now)?.barTime ?? now - DAY_MS);
    const start = timeParam(query, 'start') ?? dayStart;
    const end = timeParam(query, 'end') ?? now;
    if (end < start) throw badRequest('end is before start');

    const universe = new Set(kind === 'crypto' ? this.#host.cryptoPairs() : this.#host.stocks());
    const symbols = requested.filter((s) => universe.has(s)).sort();
    const tokenText = query.get('page_token');
    const token =
      tokenText === null || tokenText === '' ? undefined : decodeToken(tokenText, symbols);

    const feed = kind === 'stock' ? feedParam(query) : undefined;
    const bars: Record<string, Record<string, unknown>[]> = {};
    let next: PageToken | undefined;
    let count = 0;
    let daysFor: { from: number; days: SimDay[] } | undefined;
    const firstIndex = token === undefined ? 0 : symbols.indexOf(token.s);
    outer: for (let i = firstIndex; i < symbols.length; i++) {
      const symbol = symbols[i];
      if (symbol === undefined) continue;
      const from = token !== undefined && i === firstIndex ? Math.max(start, token.t) : start;
      if (daysFor?.from !== from) daysFor = { from, days: this.#daysBetween(kind, from, end, now) };
      const sessionDay = this.#sessionDay(kind, now);
      const live =
        sessionDay === undefined
          ? undefined
          : this.#live(symbol, kind, feed, sessionDay, now)?.point;
      const history = this.#host.history;
      for (const bar of barsOf(history, symbol, daysFor.days, timeframe, from, end, now, live)) {
        if (count === limit) {
          next = { s: symbol, t: bar.t };
          break outer;
        }
        (bars[symbol] ??= []).push(barJson(bar));
        count += 1;
      }
    }
    return { bars, next_page_token: next === undefined ? null : encodeToken(next) };
  }

  /** The trading days that may hold bars between two instants (a day either side for safety). */
  #daysBetween(kind: AssetKind, start: number, end: number, now: number): SimDay[] {
    const until = Math.min(end, now);
    if (until < start) return [];
    if (kind === 'crypto') return cryptoDays(utcDate(start - DAY_MS), utcDate(until));
    const first = addDays(nyDate(Math.max(start, Date.parse(`${CALENDAR_FIRST}T12:00:00Z`))), -1);
    return this.#host.hours.stockDays(first, nyDate(until), now);
  }

  // ------------------------------------------------------------------ trading reference

  #clock(now: number): Record<string, unknown> {
    const clock = this.#host.hours.clock(now);
    return {
      timestamp: formatNy(clock.timestamp, true),
      is_open: clock.isOpen,
      next_open: formatNy(clock.nextOpen),
      next_close: formatNy(clock.nextClose),
    };
  }

  #calendar(query: URLSearchParams, now: number): Record<string, unknown>[] {
    const today = nyDate(now);
    const from = dateParam(query, 'start') ?? CALENDAR_FIRST;
    const to = dateParam(query, 'end') ?? calendarLast(today);
    // a few days past the end, for the last days' settlement dates
    const days = this.#host.hours.calendar(from, addDays(to, 10), now);
    const hhmm = (time: string): string => time.replace(':', '');
    const out: Record<string, unknown>[] = [];
    for (let i = 0; i < days.length; i++) {
      const d = days[i];
      if (d === undefined || d.date > to) break;
      const lag = d.date >= T_PLUS_ONE_FROM ? 1 : 2;
      const settlement = days[i + lag]?.date ?? addDays(d.date, lag);
      out.push({
        date: d.date,
        open: d.open,
        close: d.close,
        session_open: hhmm(d.sessionOpen),
        session_close: hhmm(d.sessionClose),
        settlement_date: settlement,
      });
    }
    return out;
  }

  #asset(key: string): Record<string, unknown> {
    const upper = key.toUpperCase();
    const seed = this.#host.seed;
    if (this.#knownStocks().has(upper)) return assetJson(upper, seed);
    const pairs = this.#host.cryptoPairs();
    // Alpaca finds a pair by BTC/USD or BTCUSD
    const pair = pairs.find((p) => p === upper || p.replace('/', '') === upper);
    if (pair !== undefined) return assetJson(pair, seed);
    this.#idIndex ??= new Map(
      [...this.#host.stocks(), ...pairs].map((symbol) => [assetId(symbol), symbol]),
    );
    const byId = this.#idIndex.get(key.toLowerCase());
    if (byId !== undefined) return assetJson(byId, seed);
    throw notFound('asset not found');
  }

  #assets(query: URLSearchParams, res: ServerResponse, now: number, malformed: boolean): void {
    const status = query.get('status') ?? 'active';
    const assetClass = query.get('asset_class') ?? 'us_equity';
    const exchange = query.get('exchange');
    if (!['active', 'inactive', ''].includes(status)) throw badRequest(`invalid status ${status}`);
    if (!['us_equity', 'us_option', 'crypto'].includes(assetClass)) {
      throw badRequest(`invalid asset_class ${assetClass}`);
    }
    const seed = this.#host.seed;
    let symbols: readonly string[] =
      status === 'inactive' || assetClass === 'us_option'
        ? []
        : assetClass === 'crypto'
          ? this.#host.cryptoPairs()
          : this.#host.stocks();
    if (exchange !== null && exchange !== '') {
      symbols = symbols.filter((s) => listingOf(s, seed).exchange === exchange.toUpperCase());
    }
    if (malformed || symbols.length <= ASSET_CHUNK) {
      this.#ok(
        res,
        now,
        symbols.map((s) => assetJson(s, seed)),
        malformed,
      );
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'application/json; charset=UTF-8',
      ...this.#rateHeaders(now),
    });
    res.write('[');
    for (let i = 0; i < symbols.length; i += ASSET_CHUNK) {
      const chunk = symbols
        .slice(i, i + ASSET_CHUNK)
        .map((s) => JSON.stringify(assetJson(s, seed)));
      res.write((i === 0 ? '' : ',') + chunk.join(','));
    }
    res.end(']');
  }
}
