/**
 * Alpaca's REST wire shapes as zod schemas, and their mapping onto the domain types of types.ts.
 * Lenient where Alpaca may grow (unknown keys are dropped, optional parts may be absent or null),
 * strict on every field we read: numbers finite, sizes and prices not negative, times RFC 3339.
 * An envelope of the wrong shape throws a WireShapeError naming the first issue's path; inside a
 * map or list that the app can use in part (snapshots, bars, the asset directory), a bad item is
 * skipped and counted instead, so one odd symbol does not cost the other 199. The clock, the
 * calendar and a single asset are all-or-nothing: a calendar with a day missing would read as a
 * holiday.
 */
import { z } from 'zod';
import { isBarProblem, readBar } from './bar-reader.ts';
import { parseTime } from './rfc3339.ts';
import type {
  Asset,
  CalendarDay,
  MarketClock,
  RestBar,
  RestQuote,
  RestTrade,
  SymbolSnapshot,
} from './types.ts';

/** A body that does not have the shape we need; `issuePath` locates the first problem. */
export class WireShapeError extends Error {
  override readonly name = 'WireShapeError';
  readonly issuePath: string;
  /** The offending value (or what stood at the nearest path above it), for an excerpt. */
  readonly value: unknown;
  constructor(issuePath: string, message: string, value: unknown) {
    super(`unexpected shape at ${issuePath || '(root)'}: ${message}`);
    this.issuePath = issuePath;
    this.value = value;
  }
}

/** A result of which some items were skipped as malformed. */
export interface Parsed<T> {
  readonly value: T;
  readonly skipped: number;
  /** Path and reason of the first skipped item, for the log. */
  readonly firstSkip: string | undefined;
}

const time = z.string().transform((text, ctx) => {
  const ms = parseTime(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `not an RFC 3339 time: ${text.slice(0, 40)}` });
    return z.NEVER;
  }
  return ms;
});

/** zod 4's number() already refuses NaN and the infinities; JSON cannot carry them anyway. */
const amount = z.number().nonnegative();
const exchange = z.string().nullish();
const conditions = z.array(z.string()).nullish();

export const wireBar = z.object({
  t: time,
  o: amount,
  h: amount,
  l: amount,
  c: amount,
  v: amount,
  n: amount.nullish(),
  vw: amount.nullish(),
});

export const wireTrade = z.object({ t: time, p: amount, s: amount, x: exchange, c: conditions });

export const wireQuote = z.object({
  t: time,
  bp: amount,
  bs: amount,
  ap: amount,
  as: amount,
  bx: exchange,
  ax: exchange,
});

export const wireSnapshot = z.object({
  latestTrade: wireTrade.nullish(),
  latestQuote: wireQuote.nullish(),
  minuteBar: wireBar.nullish(),
  dailyBar: wireBar.nullish(),
  prevDailyBar: wireBar.nullish(),
});

const symbolMap = z.record(z.string(), z.unknown());

export const wireCryptoSnapshots = z.object({ snapshots: symbolMap });

export const wireBarsPage = z.object({
  bars: z.record(z.string(), z.array(z.unknown()).nullable()).nullish(),
  next_page_token: z.string().nullish(),
});

export const wireClock = z.object({
  timestamp: time,
  is_open: z.boolean(),
  next_open: time,
  next_close: time,
});

/**
 * `HH:MM` or `HHMM` (the session times come without the colon), as `HH:MM`. `24:00` is the end of
 * the day, as shared/market-session.ts reads it: a calendar whose day trades to midnight (the
 * simulator's forced sessions) says so.
 */
const clockTime = z.string().transform((text, ctx) => {
  const m = /^([01]\d|2[0-3]):?([0-5]\d)$|^(24):?(00)$/.exec(text);
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `not a time of day: ${text.slice(0, 20)}` });
    return z.NEVER;
  }
  return `${m[1] ?? m[3]}:${m[2] ?? m[4]}`;
});

export const wireCalendarDay = z.object({
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'not a YYYY-MM-DD date'),
  open: clockTime,
  close: clockTime,
  // Older answers lack the session bounds; Alpaca's extended hours are fixed at 04:00 to 20:00.
  session_open: clockTime.nullish(),
  session_close: clockTime.nullish(),
});

export const wireAsset = z.object({
  symbol: z.string().min(1),
  name: z.string().nullish(),
  exchange: z.string(),
  class: z.string(),
  status: z.string(),
  tradable: z.boolean(),
});

type WireBar = z.infer<typeof wireBar>;

export function toBar(w: WireBar): RestBar {
  return {
    time: w.t,
    open: w.o,
    high: w.h,
    low: w.l,
    close: w.c,
    volume: w.v,
    tradeCount: w.n ?? undefined,
    vwap: w.vw ?? undefined,
  };
}

export function toTrade(w: z.infer<typeof wireTrade>): RestTrade {
  return {
    time: w.t,
    price: w.p,
    size: w.s,
    exchange: w.x ?? undefined,
    conditions: w.c ?? [],
  };
}

export function toQuote(w: z.infer<typeof wireQuote>): RestQuote {
  return {
    time: w.t,
    bidPrice: w.bp,
    bidSize: w.bs,
    askPrice: w.ap,
    askSize: w.as,
    bidExchange: w.bx ?? undefined,
    askExchange: w.ax ?? undefined,
  };
}

export function toSnapshot(symbol: string, w: z.infer<typeof wireSnapshot>): SymbolSnapshot {
  return {
    symbol,
    latestTrade: w.latestTrade ? toTrade(w.latestTrade) : undefined,
    latestQuote: w.latestQuote ? toQuote(w.latestQuote) : undefined,
    minuteBar: w.minuteBar ? toBar(w.minuteBar) : undefined,
    dailyBar: w.dailyBar ? toBar(w.dailyBar) : undefined,
    prevDailyBar: w.prevDailyBar ? toBar(w.prevDailyBar) : undefined,
  };
}

/**
 * Snapshots keyed by symbol: `wrapped` for crypto's `{"snapshots": {...}}`, bare for stocks'.
 * A symbol whose snapshot is malformed is skipped (absent, as if it had no data) and counted.
 */
export function parseSnapshots(
  body: unknown,
  wrapped: boolean,
): Parsed<Map<string, SymbolSnapshot>> {
  const entries = wrapped ? strict(wireCryptoSnapshots, body).snapshots : strict(symbolMap, body);
  const out = new Map<string, SymbolSnapshot>();
  const skips = new Skips();
  const prefix = wrapped ? 'snapshots.' : '';
  for (const [symbol, value] of Object.entries(entries)) {
    const parsed = wireSnapshot.safeParse(value);
    if (parsed.success) out.set(symbol, toSnapshot(symbol, parsed.data));
    else skips.add(`${prefix}${symbol}`, parsed.error);
  }
  return skips.result(out);
}

export interface BarsPage {
  readonly bars: Map<string, RestBar[]>;
  readonly nextPageToken: string | undefined;
}

/**
 * One page of bars. A malformed bar is skipped and counted; the page's envelope is strict. The
 * bars themselves are read by `readBar` (bar-reader.ts), which takes what `wireBar` takes at a
 * ninth of the garbage.
 */
export function parseBarsPage(body: unknown): Parsed<BarsPage> {
  const page = strict(wireBarsPage, body);
  const bars = new Map<string, RestBar[]>();
  const skips = new Skips();
  for (const [symbol, list] of Object.entries(page.bars ?? {})) {
    const out: RestBar[] = [];
    if (list !== null && list !== undefined) {
      for (let i = 0; i < list.length; i++) {
        const read = readBar(list[i]);
        if (!isBarProblem(read)) out.push(read);
        else
          skips.note(`bars.${symbol}[${i}]${read.key === '' ? '' : `.${read.key}`}`, read.message);
      }
    }
    bars.set(symbol, out);
  }
  const token = page.next_page_token;
  return skips.result({ bars, nextPageToken: token === null || token === '' ? undefined : token });
}

export function parseClock(body: unknown): MarketClock {
  const w = strict(wireClock, body);
  return { time: w.timestamp, isOpen: w.is_open, nextOpen: w.next_open, nextClose: w.next_close };
}

export function parseCalendar(body: unknown): CalendarDay[] {
  return strict(z.array(wireCalendarDay), body).map((w) => ({
    date: w.date,
    open: w.open,
    close: w.close,
    sessionOpen: w.session_open ?? '04:00',
    sessionClose: w.session_close ?? '20:00',
  }));
}

export function toAsset(w: z.infer<typeof wireAsset>): Asset {
  return {
    symbol: w.symbol,
    name: w.name ?? '',
    exchange: w.exchange,
    assetClass: w.class,
    status: w.status,
    tradable: w.tradable,
  };
}

export function parseAsset(body: unknown): Asset {
  return toAsset(strict(wireAsset, body));
}

/** The asset directory: a malformed entry is skipped and counted. */
export function parseAssets(body: unknown): Parsed<Asset[]> {
  const list = strict(z.array(z.unknown()), body);
  const out: Asset[] = [];
  const skips = new Skips();
  list.forEach((value, i) => {
    const parsed = wireAsset.safeParse(value);
    if (parsed.success) out.push(toAsset(parsed.data));
    else skips.add(`[${i}]`, parsed.error);
  });
  return skips.result(out);
}

/** `a.b[0].c` for zod's `['a', 'b', 0, 'c']`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

function strict<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path ?? [];
  throw new WireShapeError(formatIssuePath(path), issue?.message ?? 'invalid', valueAt(body, path));
}

/** The value at `path` in `body`, or at the deepest part of it that exists. */
function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let value = body;
  for (const part of path) {
    if (value === null || typeof value !== 'object') break;
    const next = (value as Record<PropertyKey, unknown>)[part];
    if (next === undefined) break;
    value = next;
  }
  return value;
}

class Skips {
  count = 0;
  first: string | undefined;

  add(where: string, error: z.ZodError): void {
    this.count++;
    if (this.first !== undefined) return;
    const issue = error.issues[0];
    const inner = formatIssuePath(issue?.path ?? []);
    const at =
      inner === '' ? where : inner.startsWith('[') ? `${where}${inner}` : `${where}.${inner}`;
    this.first = `${at}: ${issue?.message ?? 'invalid'}`;
  }

  /** A skip already located and worded (`where` is its full path). */
  note(where: string, message: string): void {
    this.count++;
    if (this.first === undefined) this.first = `${where}: ${message}`;
  }

  result<T>(value: T): Parsed<T> {
    return { value, skipped: this.count, firstSkip: this.first };
  }
}
