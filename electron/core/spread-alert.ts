/**
 * The app now runs the wide-spread alert as the default alert rule (electron/alerts/: a '*' rule
 * "spread above 2 % of mid", same name, same 60 s quiet time, with hysteresis); this module keeps
 * `spreadPct`, which the rules use, and the standalone handler the ingest benchmark registers.
 *
 * The "wide spread" alert: a user handler (not built in) on every quote that logs a warning when a
 * symbol's bid/ask spread is wider than a share of its mid price. A wide spread is what a user
 * watching a list wants to hear about (thin book, halted or illiquid name, a bad print), and it
 * gives the handler inspector a real handler the user may remove.
 *
 * It runs per quote at feed rate: a few arithmetic operations and one Map get; it allocates only
 * when it logs, and it logs a symbol at most once per `intervalMs` (with how many it skipped), so
 * a symbol that stays wide does not flood the log panel.
 *
 * Its per-symbol state is bounded: `retain(symbols)` (called by the core whenever the subscribed
 * set changes) forgets every other symbol, and a hard cap backs that up against a server that
 * quotes symbols nobody subscribed: past it, entries whose quiet time is over go first, then the
 * oldest.
 */
import type { Quote } from '../../shared/market.ts';
import type { Logger } from '../stream/log.ts';

export interface SpreadAlertOptions {
  /** Spread as a percentage of the mid price above which the alert fires. Default 2. */
  readonly thresholdPct?: number;
  /** At most one warning per symbol per this many ms. Default 60 000. */
  readonly intervalMs?: number;
  readonly logger: Logger;
  /** Monotonic ms. */
  readonly now?: () => number;
  /** Most symbols whose state is kept, whatever `retain` was told. Default 20 000. */
  readonly maxSymbols?: number;
}

/** The handler, plus what bounds its memory. */
export interface SpreadAlert {
  (quote: Quote): void;
  /** Forgets every symbol not in `symbols` (the subscribed set). */
  retain(symbols: Iterable<string>): void;
  /** Symbols with state now (for tests and diagnostics). */
  readonly size: number;
}

/** As many symbols as the watchlists may stream at once (electron/core/watchlists.ts). */
const DEFAULT_MAX_SYMBOLS = 20_000;

export const SPREAD_ALERT_NAME = 'wide spread alert';

interface SymbolState {
  lastLoggedAt: number;
  skipped: number;
}

/** The spread as a percentage of the mid price, or NaN when the quote has no two-sided market. */
export function spreadPct(bid: number, ask: number): number {
  if (!(bid > 0) || !(ask > 0) || ask < bid) return Number.NaN;
  return ((ask - bid) / ((ask + bid) / 2)) * 100;
}

/**
 * Returns the handler function; register it with `handlers.on('quote', '*', fn, { name })`, and
 * call its `retain` with the subscribed symbols whenever they change.
 */
export function createSpreadAlert(options: SpreadAlertOptions): SpreadAlert {
  const threshold = options.thresholdPct ?? 2;
  const interval = options.intervalMs ?? 60_000;
  const now = options.now ?? (() => performance.now());
  const log = options.logger;
  const maxSymbols = Math.max(1, options.maxSymbols ?? DEFAULT_MAX_SYMBOLS);
  // In order of last warning (a warning moves its symbol to the end), so the entries whose quiet
  // time ends first are at the front: making room never scans the whole map.
  const symbols = new Map<string, SymbolState>();

  /** Room for one more entry: entries whose quiet time is over go first, then the oldest. */
  function makeRoom(t: number): void {
    for (const [symbol, state] of symbols) {
      if (symbols.size < maxSymbols && t - state.lastLoggedAt < interval) break;
      symbols.delete(symbol);
    }
  }

  const alert = function wideSpreadAlert(quote: Quote): void {
    const pct = spreadPct(quote.bidPrice, quote.askPrice);
    if (!(pct > threshold)) return;
    const t = now();
    const state = symbols.get(quote.symbol);
    if (state !== undefined && t - state.lastLoggedAt < interval) {
      state.skipped++;
      return;
    }
    const skipped = state?.skipped ?? 0;
    if (state === undefined) {
      if (symbols.size >= maxSymbols) makeRoom(t);
    } else {
      symbols.delete(quote.symbol);
    }
    symbols.set(quote.symbol, { lastLoggedAt: t, skipped: 0 });
    log.warn(
      {
        symbol: quote.symbol,
        bid: quote.bidPrice,
        ask: quote.askPrice,
        spreadPct: Math.round(pct * 100) / 100,
        thresholdPct: threshold,
        ...(skipped > 0 ? { skipped } : {}),
      },
      `wide spread on ${quote.symbol}: ${pct.toFixed(2)} % of the mid price`,
    );
  };
  return Object.defineProperties(alert, {
    retain: {
      value: (keep: Iterable<string>): void => {
        const wanted = keep instanceof Set ? (keep as ReadonlySet<string>) : new Set(keep);
        for (const symbol of symbols.keys()) if (!wanted.has(symbol)) symbols.delete(symbol);
      },
    },
    size: { get: () => symbols.size },
  }) as SpreadAlert;
}
