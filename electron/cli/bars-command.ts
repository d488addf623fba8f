/**
 * `market-monitor bars`: historical bars as NDJSON, every page of the answer followed, every bar
 * printed once, by symbol then time (the order Alpaca pages them in). Without `--start` it reads
 * from the start of the last trading session's New York day, so at night and on weekends it shows
 * the last session instead of nothing. `--limit` caps the bars printed and stops paging there.
 */
import { parseArgs } from 'node:util';
import { addDays, nyDate, nyLocalToEpoch } from '../../shared/market-session.ts';
import type { AlpacaRest } from '../rest/alpaca-rest.ts';
import { isRestError } from '../rest/errors.ts';
import { TIMEFRAMES, type RestBar, type Timeframe } from '../rest/types.ts';
import type { Logger } from '../stream/log.ts';
import { UsageError, parseChoice, parsePositive } from './args.ts';
import { tradingDays } from './clock-command.ts';
import {
  REST_FEEDS,
  REST_TARGET_OPTIONS,
  isoOrNull,
  parseInstant,
  parseRestTarget,
  runRestCommand,
  type RestIo,
  type RestTarget,
} from './rest-target.ts';
import { parseRestSymbols } from './snapshot-command.ts';

export const BARS_USAGE = `usage: market-monitor bars --symbols A,B [--timeframe 1Min|5Min|15Min|1Hour|1Day]
       [--start ISO] [--end ISO] [--limit N] [--page-size N]
       [--feed iex|sip|delayed_sip|otc|boats|overnight] [--url BASE] [--key K --secret S]
       [--log-level LEVEL]
One line per bar: {"type":"bar","symbol","time","open","high","low","close","volume"}, by symbol
then time. --start/--end: 2025-03-07 (a New York day) or 2025-03-07T14:30:00Z; --start defaults
to the start of the last session's day. --timeframe defaults to 1Min. --limit caps the bars
printed (paging stops there); --page-size sets bars per request (1-10000). Pairs with a / are
crypto. --url is the REST base; keys also come from APCA_API_KEY_ID / APCA_API_SECRET_KEY; with
neither, an in-process simulator.`;

/** The most bars one request may ask for (Alpaca's `limit` bound). */
const MAX_PAGE = 10_000;
/** Output is flushed every this many lines, so a long answer is written as it goes, not at once. */
const FLUSH_EVERY = 2_000;

export interface BarsPlan {
  readonly target: RestTarget;
  readonly symbols: readonly string[];
  readonly timeframe: Timeframe;
  readonly start: number | undefined;
  readonly end: number | undefined;
  readonly limit: number | undefined;
  readonly pageSize: number | undefined;
  readonly feed: (typeof REST_FEEDS)[number] | undefined;
}

export function parseBarsArgs(argv: readonly string[], env: NodeJS.ProcessEnv): BarsPlan {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      ...REST_TARGET_OPTIONS,
      symbols: { type: 'string' },
      timeframe: { type: 'string' },
      start: { type: 'string' },
      end: { type: 'string' },
      limit: { type: 'string' },
      'page-size': { type: 'string' },
      feed: { type: 'string' },
    },
  });
  if (values.symbols === undefined) throw new UsageError('--symbols is required (e.g. AAPL,MSFT)');
  const symbols = parseRestSymbols('--symbols', values.symbols);
  const start = parseInstant('--start', values.start);
  const end = parseInstant('--end', values.end, { endOfDay: true });
  if (start !== undefined && end !== undefined && end < start)
    throw new UsageError('--end is before --start');
  const pageSize = parsePositive('--page-size', values['page-size'], { integer: true });
  if (pageSize !== undefined && pageSize > MAX_PAGE)
    throw new UsageError(`--page-size must be at most ${MAX_PAGE}; got ${pageSize}`);
  return {
    target: parseRestTarget(values, env),
    symbols,
    timeframe: parseChoice('--timeframe', values.timeframe, TIMEFRAMES) ?? '1Min',
    start,
    end,
    limit: parsePositive('--limit', values.limit, { integer: true }),
    pageSize,
    feed: parseChoice('--feed', values.feed, REST_FEEDS),
  };
}

export async function runBars(argv: readonly string[], io: RestIo): Promise<number> {
  const plan = parseBarsArgs(argv, io.env);
  return runRestCommand(plan.target, io, async ({ rest, out, logger }) => {
    const start = plan.start ?? (await lastSessionDayStart(rest, Date.now(), logger));
    if (plan.end !== undefined && plan.end < start) {
      // Only possible with the default start: say so rather than print nothing.
      throw new UsageError(
        `--end ${isoOrNull(plan.end)} is before the default start ${isoOrNull(start)}; give --start`,
      );
    }
    // Alpaca sorts by symbol within a request; sorting the lists makes the order (and so what a
    // --limit keeps) the same however the symbols were typed and split between endpoints.
    const stocks = plan.symbols.filter((s) => !s.includes('/')).sort(byCode);
    const crypto = plan.symbols.filter((s) => s.includes('/')).sort(byCode);
    const common = {
      timeframe: plan.timeframe,
      start,
      ...(plan.end !== undefined ? { end: plan.end } : {}),
      ...(plan.limit !== undefined ? { total: plan.limit } : {}),
      // The page size is --page-size, else --limit when it fits in one request.
      ...(plan.pageSize !== undefined
        ? { limit: plan.pageSize }
        : plan.limit !== undefined
          ? { limit: Math.min(plan.limit, MAX_PAGE) }
          : {}),
    };
    const [stockBars, cryptoBars] = await Promise.all([
      stocks.length > 0
        ? rest.bars(stocks, { ...common, ...(plan.feed !== undefined ? { feed: plan.feed } : {}) })
        : new Map<string, RestBar[]>(),
      crypto.length > 0
        ? rest.bars(crypto, { ...common, crypto: true })
        : new Map<string, RestBar[]>(),
    ]);

    let printed = 0;
    let repeated = 0;
    const empty: string[] = [];
    for (const symbol of [...stocks, ...crypto].sort(byCode)) {
      const bars = (symbol.includes('/') ? cryptoBars : stockBars).get(symbol) ?? [];
      if (bars.length === 0) empty.push(symbol);
      // Pages come in time order; a sort and a check of neighbours make "each bar once" hold even
      // for a server that repeats a bar across a page boundary.
      const sorted = [...bars].sort((a, b) => a.time - b.time);
      let previous = Number.NaN;
      for (const bar of sorted) {
        if (plan.limit !== undefined && printed >= plan.limit) break;
        if (bar.time === previous) {
          repeated++;
          continue;
        }
        previous = bar.time;
        out.write(barRecord(symbol, bar));
        printed++;
        if (printed % FLUSH_EVERY === 0) await out.flush();
      }
    }
    if (repeated > 0)
      logger.warn({ repeated }, 'bars: the server repeated bars; each printed once');
    // Under the limit, a symbol without bars was not cut off: it has none in the range.
    if (plan.limit === undefined || printed < plan.limit) {
      for (const symbol of empty) {
        out.write({
          type: 'error',
          code: 'no-data',
          symbol,
          message: `no ${plan.timeframe} bars for ${symbol} from ${isoOrNull(start)}${
            plan.end !== undefined ? ` to ${isoOrNull(plan.end)}` : ''
          } (unknown symbol, or nothing traded)`,
        });
      }
    }
    return 0;
  });
}

export function barRecord(symbol: string, bar: RestBar): Record<string, unknown> {
  return {
    type: 'bar',
    symbol,
    time: isoOrNull(bar.time),
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
    volume: bar.volume,
  };
}

/**
 * The default start: New York midnight of the last trading day whose session has begun (today
 * from 04:00 on a trading day, else the last one before it), so pre-market and the day's crypto
 * are in. A server without a calendar (404) gets today's New York midnight.
 */
export async function lastSessionDayStart(
  rest: Pick<AlpacaRest, 'calendar'>,
  now: number,
  logger: Logger,
): Promise<number> {
  const today = nyDate(now);
  try {
    // Ten days back covers the longest run of closed days (a holiday next to a weekend, and more).
    const days = await tradingDays(rest, addDays(today, -10), today);
    for (let i = days.length - 1; i >= 0; i--) {
      const day = days[i];
      if (day !== undefined && day.preOpen <= now) return nyLocalToEpoch(day.date, '00:00');
    }
  } catch (err) {
    if (!isRestError(err, 'not-found')) throw err;
    logger.warn('bars: the server has no calendar; starting at New York midnight today');
  }
  return nyLocalToEpoch(today, '00:00');
}

function byCode(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
