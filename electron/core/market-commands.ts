/**
 * The commands that read the market (session, sparkline history, the symbol directory, chart
 * bars, trading halts and LULD bands) and the Times & Sales tape of the views' detail panes. They answer from the installed
 * source's MarketContext and directory; with no source yet, or one without REST, they answer the
 * empty view or `unavailable` rather than failing. The chart bars cache is kept per REST client,
 * since a new source is another market.
 */
import { fail, ok, type MarketView, type SeriesUpdate, type SymbolInfo } from '../../shared/api.ts';
import { ChartBars } from '../market/chart-bars.ts';
import type { MarketRest } from '../market/market-context.ts';
import { snapshotSeed, type Tape } from '../market/tape.ts';
import type { TradingStatusBoard } from '../market/trading-status.ts';
import type { Asset } from '../rest/types.ts';
import type { Logger } from '../stream/log.ts';
import { errorMessage } from '../../shared/errors.ts';
import type { CommandGroup } from './commands.ts';
import type { StreamSource } from './stream-source.ts';

/** The market view before any source is installed. */
export const NO_MARKET: MarketView = {
  session: 'unknown',
  since: undefined,
  until: undefined,
  nextOpen: undefined,
  nextClose: undefined,
  feed: 'iex',
  crypto: false,
  quiet: false,
  detail: 'not started',
  polled: 0,
  pollIntervalMs: 0,
  directory: { status: 'unavailable', assets: 0, fetchedAt: undefined },
};

const NO_SERIES: SeriesUpdate = { version: 0, start: undefined, reset: true, changes: [] };

/** The detail chart's default span per timeframe (a session of minutes ... a year of days). */
const DEFAULT_CHART_SPAN_MS = {
  '1Min': 86_400_000,
  '5Min': 7 * 86_400_000,
  '15Min': 14 * 86_400_000,
  '1Hour': 31 * 86_400_000,
  '1Day': 366 * 86_400_000,
} as const;
/** Bars one chart request returns at most. */
const MAX_CHART_BARS = 20_000;

export type MarketCommandName =
  | 'market:status'
  | 'market:series'
  | 'symbols:search'
  | 'symbols:info'
  | 'market:bars'
  | 'market:trading-status'
  | 'tape:watch';

export interface MarketCommandsOptions {
  readonly source: Pick<StreamSource, 'market' | 'directory'>;
  readonly tape: Tape;
  /** Halts and LULD bands of the streamed symbols. */
  readonly statuses: Pick<TradingStatusBoard, 'list'>;
  /** True once the core is closing: a late snapshot is then dropped. */
  readonly closed: () => boolean;
  /** Takes credentials out of error texts a view receives. */
  readonly scrub: (text: string) => string;
  readonly log: Logger;
}

export class MarketCommands {
  readonly #o: MarketCommandsOptions;
  readonly #chartCaches = new WeakMap<MarketRest, ChartBars>();

  constructor(options: MarketCommandsOptions) {
    this.#o = options;
  }

  /** The installed source's market view, or NO_MARKET. */
  view(): MarketView {
    return this.#o.source.market?.view() ?? NO_MARKET;
  }

  /**
   * Why a symbol cannot be added (with the closest tickers), or undefined when it can: known to
   * the directory, a crypto pair, or the directory is not ready (symbols are then taken unchecked).
   */
  unknownSymbol(symbol: string): string | undefined {
    const directory = this.#o.source.directory;
    if (!directory || directory.status !== 'ready' || symbol.includes('/')) return undefined;
    if (directory.lookup(symbol)) return undefined;
    const issue = directory.validate([symbol]).unknown[0];
    if (!issue) return undefined;
    const hint =
      issue.suggestions.length > 0
        ? ` (did you mean ${issue.suggestions.slice(0, 3).join(', ')}?)`
        : '';
    return `${issue.reason}${hint}`;
  }

  table(): CommandGroup<MarketCommandName, { readonly id: string }> {
    const source = this.#o.source;
    return {
      'market:status': () => ok(this.view()),
      'market:series': () => ok(source.market?.series() ?? NO_SERIES),
      'symbols:search': ({ query, limit }) =>
        ok((source.directory?.search(query, limit ?? 10) ?? []).map(symbolInfo)),
      'symbols:info': ({ symbols }) => {
        const directory = source.directory;
        const out: SymbolInfo[] = [];
        for (const symbol of symbols) {
          const asset = directory?.lookup(symbol);
          if (asset) out.push(symbolInfo(asset));
        }
        return ok(out);
      },
      'market:bars': async ({ symbol, timeframe, start, end }) => {
        const rest = source.market?.rest;
        if (!rest)
          return fail('unavailable', 'Market data over REST needs API keys (or the simulator).');
        // Whole minutes, so that a view flipping between ranges asks for the same ranges again
        // and the cache answers (a range still growing is fetched again after 30 s).
        const until = Math.ceil((end ?? Date.now()) / 60_000) * 60_000;
        const from =
          Math.floor((start ?? until - DEFAULT_CHART_SPAN_MS[timeframe]) / 60_000) * 60_000;
        if (from >= until) return fail('bad-request', 'market:bars: start must be before end');
        try {
          const bars = await this.#chartBars(rest).get({
            symbol,
            timeframe,
            start: from,
            end: until,
          });
          return ok(
            bars.map((b) => ({
              time: b.time,
              open: b.open,
              high: b.high,
              low: b.low,
              close: b.close,
              volume: b.volume,
            })),
          );
        } catch (err) {
          return fail(
            'unavailable',
            `Bars for ${symbol} could not be read: ${this.#o.scrub(errorMessage(err))}`,
          );
        }
      },
      'market:trading-status': () => ok(this.#o.statuses.list()),
      'tape:watch': ({ symbol }, view) => {
        const { update, fresh } = this.#o.tape.watch(view.id, symbol);
        if (fresh && symbol !== null) void this.#seedTape(symbol);
        return ok(update);
      },
    };
  }

  /** The chart bars cache of one REST client (a new source has its own: another market). */
  #chartBars(rest: MarketRest): ChartBars {
    let cache = this.#chartCaches.get(rest);
    if (!cache) {
      cache = new ChartBars({
        fetchBars: (symbols, o) =>
          rest.bars(symbols, {
            timeframe: o.timeframe,
            start: o.start,
            end: o.end,
            crypto: symbols.some((s) => s.includes('/')),
            maxBars: MAX_CHART_BARS,
            ...(o.signal ? { signal: o.signal } : {}),
          }),
      });
      this.#chartCaches.set(rest, cache);
    }
    return cache;
  }

  /** A newly watched symbol's last trade, quote and day from a snapshot (the stream is newer). */
  async #seedTape(symbol: string): Promise<void> {
    const market = this.#o.source.market;
    if (!market?.rest) return;
    try {
      const seed = await snapshotSeed(market.rest, symbol, market.view().feed);
      if (seed && !this.#o.closed()) this.#o.tape.seed(symbol, seed);
    } catch (err) {
      this.#o.log.debug({ err, symbol }, 'no snapshot for the tape');
    }
  }
}

function symbolInfo(asset: Asset): SymbolInfo {
  return {
    symbol: asset.symbol,
    name: asset.name,
    exchange: asset.exchange,
    tradable: asset.tradable,
  };
}
