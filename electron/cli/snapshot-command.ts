/**
 * `market-monitor snapshot`: where each symbol stands now, from Alpaca's snapshot endpoints (or
 * the simulator's): one NDJSON line per symbol with the last trade, the quote, the day's bar and
 * the change against the previous session's close. Works at any hour, unlike the stream, which is
 * silent while the market is closed. Crypto pairs (with a `/`) go to the crypto endpoint.
 */
import { parseArgs } from 'node:util';
import type { SymbolSnapshot } from '../rest/types.ts';
import { UsageError, parseChoice, parseSymbols } from './args.ts';
import {
  REST_FEEDS,
  REST_TARGET_OPTIONS,
  isoOrNull,
  parseRestTarget,
  runRestCommand,
  type RestIo,
  type RestTarget,
} from './rest-target.ts';

export const SNAPSHOT_USAGE = `usage: market-monitor snapshot --symbols A,B [--feed iex|sip|delayed_sip|otc|boats|overnight]
       [--url BASE] [--key K --secret S] [--log-level LEVEL]
One line per symbol: {"type":"snapshot","symbol","last","lastTime","bid","ask","prevClose","change",
"changePercent","open","high","low","volume"} (null where unknown; changePercent 1.33 is +1.33 %),
or {"type":"error","code":"no-data","symbol"} for a symbol the server has nothing for. Pairs with
a / (BTC/USD) are crypto. --url is the REST base (the simulator's http://127.0.0.1:PORT); keys
also come from APCA_API_KEY_ID / APCA_API_SECRET_KEY; with neither, an in-process simulator.`;

export interface SnapshotPlan {
  readonly target: RestTarget;
  readonly symbols: readonly string[];
  readonly feed: (typeof REST_FEEDS)[number] | undefined;
}

export function parseSnapshotArgs(argv: readonly string[], env: NodeJS.ProcessEnv): SnapshotPlan {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: { ...REST_TARGET_OPTIONS, symbols: { type: 'string' }, feed: { type: 'string' } },
  });
  if (values.symbols === undefined) throw new UsageError('--symbols is required (e.g. AAPL,MSFT)');
  return {
    target: parseRestTarget(values, env),
    symbols: parseRestSymbols('--symbols', values.symbols),
    feed: parseChoice('--feed', values.feed, REST_FEEDS),
  };
}

/** As parseSymbols, without the stream's `*` (REST answers named symbols only). */
export function parseRestSymbols(flag: string, value: string): string[] {
  const symbols = parseSymbols(flag, value);
  if (symbols.includes('*')) throw new UsageError(`${flag}: name the symbols; * is stream-only`);
  return symbols;
}

export async function runSnapshot(argv: readonly string[], io: RestIo): Promise<number> {
  const plan = parseSnapshotArgs(argv, io.env);
  return runRestCommand(plan.target, io, async ({ rest, out }) => {
    const stocks = plan.symbols.filter((s) => !s.includes('/'));
    const crypto = plan.symbols.filter((s) => s.includes('/'));
    const [stockSnaps, cryptoSnaps] = await Promise.all([
      stocks.length > 0
        ? rest.stockSnapshots(stocks, plan.feed === undefined ? {} : { feed: plan.feed })
        : new Map<string, SymbolSnapshot>(),
      crypto.length > 0 ? rest.cryptoSnapshots(crypto) : new Map<string, SymbolSnapshot>(),
    ]);
    // In the order asked for, so a reader can zip the lines with its own list.
    for (const symbol of plan.symbols) {
      const snap = (symbol.includes('/') ? cryptoSnaps : stockSnaps).get(symbol);
      out.write(
        snap === undefined
          ? {
              type: 'error',
              code: 'no-data',
              symbol,
              message: `the server has no snapshot for ${symbol} (unknown symbol, or nothing traded)`,
            }
          : snapshotRecord(snap),
      );
    }
    // A no-data line answers the question asked; only a failed request is a failure.
    return 0;
  });
}

/** One snapshot as its output line. */
export function snapshotRecord(snap: SymbolSnapshot): Record<string, unknown> {
  const trade = snap.latestTrade;
  const quote = snap.latestQuote;
  const day = snap.dailyBar;
  const last = trade?.price;
  const prevClose = snap.prevDailyBar?.close;
  const change = last !== undefined && prevClose !== undefined ? tidy(last - prevClose) : undefined;
  const changePercent =
    change !== undefined && prevClose !== undefined && prevClose !== 0
      ? tidy((change / prevClose) * 100)
      : undefined;
  return {
    type: 'snapshot',
    symbol: snap.symbol,
    last: last ?? null,
    lastTime: isoOrNull(trade?.time),
    // A price of 0 is Alpaca's "no bid" / "no ask": unknown, not free.
    bid: quote !== undefined && quote.bidPrice > 0 ? quote.bidPrice : null,
    ask: quote !== undefined && quote.askPrice > 0 ? quote.askPrice : null,
    prevClose: prevClose ?? null,
    change: change ?? null,
    changePercent: changePercent ?? null,
    open: day?.open ?? null,
    high: day?.high ?? null,
    low: day?.low ?? null,
    volume: day?.volume ?? null,
  };
}

/** Drops binary floating-point noise (189.12 - 187.5 is 1.6200000000000045) and keeps 12 digits. */
function tidy(value: number): number {
  return Number(value.toPrecision(12));
}
