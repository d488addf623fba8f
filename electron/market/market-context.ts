/**
 * The market context: what REST tells about where things stand, beside what the stream says
 * changes. For the current source it owns the market clock (the session, from `/v2/clock` and
 * `/v2/calendar`), the snapshots that seed the book (at start, for every symbol added, after every
 * reconnect), snapshot polling of the symbols the stream does not carry (over the plan's symbol
 * limit, or while the stream is down), and it tells the stream client when silence is expected
 * (market closed) so that the night brings no stale alarm and no forced reconnects.
 *
 * Without REST access (no keys, an unreachable host, a server without the routes) the session is
 * `unknown` and everything behaves as it did before market context: the stream alone.
 *
 * Requests are few by design: one snapshot request covers up to 200 symbols (the REST client
 * chunks longer lists), the clock and calendar are read once and again at each session boundary,
 * and polling stays within half the REST budget however many symbols are polled.
 *
 * No electron import.
 */
import { errorMessage } from '../../shared/errors.ts';
import type { MarketView, SeriesUpdate } from '../../shared/api.ts';
import {
  addDays,
  nyDate,
  sessionAt,
  tradingDayFromCalendar,
  type SessionState,
  type TradingDay,
} from '../../shared/market-session.ts';
import type { AlpacaRest } from '../rest/alpaca-rest.ts';
import { isRestError } from '../rest/errors.ts';
import type { SymbolSnapshot } from '../rest/types.ts';
import type { QuoteBook } from '../stream/book.ts';
import type { StreamClient } from '../stream/client.ts';
import type { Logger } from '../stream/log.ts';
import { IntradayHistory, MINUTE_MS } from './history.ts';
import type { SymbolDirectory } from './symbol-directory.ts';

/** The REST calls the market context makes (AlpacaRest has them; tests may pass their own). */
export type MarketRest = Pick<
  AlpacaRest,
  | 'stockSnapshots'
  | 'cryptoSnapshots'
  | 'clock'
  | 'calendar'
  | 'bars'
  | 'assets'
  | 'metrics'
  | 'close'
>;

export interface MarketContextOptions {
  /** Undefined: no REST access (the session stays `unknown`). */
  readonly rest: MarketRest | undefined;
  /** Why there is no REST access, for the market view. */
  readonly unavailableReason?: string;
  readonly book: QuoteBook;
  readonly client: StreamClient;
  /** The stream's feed (`iex`, `sip`, `crypto`, ...); snapshots ask for the same one. */
  readonly feed: string;
  readonly logger: Logger;
  /** Epoch ms; default Date.now. */
  readonly now?: () => number;
  /** Snapshot polling period of the symbols the stream does not carry. Default 5 s. */
  readonly pollIntervalMs?: number;
  /** REST requests per minute the poller may use at most (half the plan's budget). Default 100. */
  readonly pollBudgetPerMinute?: number;
  /** Symbols one snapshot request covers (the REST client's chunk). Default 200. */
  readonly symbolsPerRequest?: number;
  /**
   * The symbol directory of this source's market (names, validation, search), loaded from its
   * cache folder or fetched once REST is there.
   */
  readonly directory?: { readonly directory: SymbolDirectory; readonly cacheDir: string };
  /** Called whenever the market view changed. */
  readonly onChange: () => void;
  /** Called when sparkline series changed (coalesce: per minute bar). */
  readonly onSeries?: () => void;
}

/** A trading day's worth of calendar around now: enough to know the next open after a long weekend. */
const CALENDAR_BEHIND_DAYS = 7;
const CALENDAR_AHEAD_DAYS = 14;
/** After a failed clock or calendar read, try again after this long. */
const RETRY_SESSION_MS = 60_000;
/** Longest single timer (setTimeout's limit is 2^31-1 ms; a session lasts at most a few days). */
const MAX_TIMER_MS = 6 * 3_600_000;

export class MarketContext {
  readonly #o: MarketContextOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #abort = new AbortController();
  readonly #crypto: boolean;

  #days: TradingDay[] = [];
  #range: { from: string; to: string } | undefined;
  #state: SessionState | undefined;
  #detail: string | undefined;
  #sessionTimer: NodeJS.Timeout | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  /** Every symbol the book should show (all watchlist symbols the source can serve). */
  #wanted: ReadonlySet<string> = new Set();
  /** Wanted symbols the stream does not carry now: polled. */
  #polled = new Set<string>();
  #polling = false;
  #closed = false;
  /** The session's 1-minute closes per wanted symbol (sparklines). */
  readonly #history = new IntradayHistory();
  /** When the stream last went down (epoch ms), for gap repair after it comes back. */
  #downSince: number | undefined;
  #liveSince: number | undefined;
  #repairing = false;
  /** Why a repair was asked for while one ran (a symbol added, say): it runs again after. */
  #repairAgain: string | undefined;
  #directoryLoad: Promise<void> | undefined;
  /** Settles when the start's snapshots are in (or failed): history waits for it. */
  #seeded: Promise<void> = Promise.resolve();
  readonly #offClient: (() => void)[] = [];

  constructor(options: MarketContextOptions) {
    this.#o = options;
    this.#log = options.logger.child({ module: 'market' });
    this.#now = options.now ?? Date.now;
    this.#crypto = options.feed === 'crypto';
    this.#detail = options.rest ? undefined : options.unavailableReason;
    let wasLive = false;
    this.#offClient.push(
      options.client.on('state', (change) => {
        const now = this.#now();
        if (change.state === 'live') {
          // After a reconnect, the minutes missed: every row gets a snapshot again, and the
          // sparklines the minutes the stream was down.
          if (wasLive) {
            void this.#snapshot([...this.#wanted], 'reconnect');
            if (this.#liveSince !== undefined && this.#downSince !== undefined)
              this.#history.markCovered(this.#wanted, this.#liveSince, this.#downSince);
            void this.#repairHistory('reconnect');
          }
          wasLive = true;
          this.#liveSince = now;
          this.#downSince = undefined;
        } else if (change.previous === 'live') {
          this.#downSince = now;
        }
        this.#updatePolled();
      }),
      options.client.on('subscription', () => this.#updatePolled()),
      options.client.handlers.on(
        'bar',
        '*',
        (bar) => {
          if (bar.kind !== 'bar' && bar.kind !== 'updatedBar') return;
          if (this.#history.applyMinuteBar(bar.symbol, { time: bar.timeMs, close: bar.close }))
            this.#o.onSeries?.();
        },
        { name: 'market: sparklines', builtin: true },
      ),
    );
  }

  /** Starts the clock and seeds the book. Never rejects: failures leave the session unknown. */
  start(symbols: ReadonlySet<string>): void {
    this.#wanted = new Set(symbols);
    if (!this.#o.rest) {
      this.#applyQuiet();
      this.#o.onChange();
      return;
    }
    // The rows' first values come before the sparklines' history: minute bars for every symbol
    // are many pages, and fetched beside the snapshots they delayed the first prices by half.
    this.#seeded = this.#snapshot([...symbols], 'start');
    void this.#refreshSession();
    this.#updatePolled();
    this.#directoryLoad = this.#loadDirectory();
  }

  /**
   * Settles once nothing started by this context still writes: the directory's cache file may be
   * half-way through its atomic write when the context closes (the core awaits this on close, so
   * that quitting leaves no temp file and a test's folder can be removed).
   */
  async settled(): Promise<void> {
    await this.#directoryLoad;
  }

  /** The asset list: from the day's cache, else fetched (at most once a day). */
  async #loadDirectory(): Promise<void> {
    const rest = this.#o.rest;
    const dir = this.#o.directory;
    if (!rest || !dir || this.#crypto) return;
    // load() never rejects: a failure is its outcome's `problem`.
    const outcome = await dir.directory.load({
      dir: dir.cacheDir,
      fetchAssets: (signal) => rest.assets(signal ? { signal } : {}),
      signal: this.#abort.signal,
    });
    if (this.#closed) return;
    if (outcome.problem) this.#log.warn({ source: outcome.source }, outcome.problem);
    else
      this.#log.info({ source: outcome.source, assets: outcome.count }, 'symbol directory ready');
    this.#o.onChange();
  }

  /** The watchlists changed: new symbols get a snapshot at once, removed ones stop polling. */
  setSymbols(symbols: ReadonlySet<string>): void {
    const added = [...symbols].filter((s) => !this.#wanted.has(s));
    this.#wanted = new Set(symbols);
    if (this.#history.retain(symbols).length > 0) this.#o.onSeries?.();
    if (added.length > 0) {
      void this.#snapshot(added, 'added');
      void this.#repairHistory('added');
    }
    this.#updatePolled();
  }

  /**
   * Reads the clock and calendar again now and re-seeds every row (the simulator's session was
   * switched; a user asked). Cheap: three requests plus one per 200 symbols.
   */
  refresh(): void {
    if (this.#closed || !this.#o.rest) return;
    this.#range = undefined;
    void this.#refreshSession();
    void this.#snapshot([...this.#wanted], 'refresh');
  }

  /** Every series whole (a view's first copy). */
  series(): SeriesUpdate {
    return this.#seriesSince(-1);
  }

  /** What changed in the series since `version` (the core keeps one cursor for all views). */
  seriesSince(version: number): SeriesUpdate {
    return this.#seriesSince(version);
  }

  /** Bytes the sparkline history holds (the bench reports it against its 20 MB bound). */
  historyBytes(): number {
    return this.#history.bytes();
  }

  #seriesSince(version: number): SeriesUpdate {
    const c = this.#history.changesSince(version);
    // Float32 holds about 7 significant digits: say no more than that (228.85, not
    // 228.85000610351562), which also keeps the browser bridge's JSON short.
    const changes = c.changes.map((d) => ({
      symbol: d.symbol,
      from: d.from,
      closes: d.closes.map((v) => (v === null ? null : Number(v.toPrecision(7)))),
    }));
    return { version: c.version, start: c.start, reset: c.reset || version < 0, changes };
  }

  view(): MarketView {
    const st = this.#state;
    const session = this.#crypto ? 'regular' : (st?.session ?? 'unknown');
    return {
      session,
      since: this.#crypto ? undefined : st?.since,
      until: this.#crypto ? undefined : st?.until,
      nextOpen: st?.nextOpen,
      nextClose: st?.nextClose,
      feed: this.#o.feed,
      crypto: this.#crypto,
      quiet: this.#o.client.quiet,
      detail: this.#detail,
      polled: this.#polled.size,
      pollIntervalMs: this.#pollPeriod(),
      directory: this.#o.directory
        ? {
            status: this.#o.directory.directory.status,
            assets: this.#o.directory.directory.size,
            fetchedAt: this.#o.directory.directory.fetchedAt,
          }
        : { status: 'unavailable', assets: 0, fetchedAt: undefined },
    };
  }

  /**
   * What health says beside its verdict while the market sleeps: that it is closed (or in a
   * thin extended session) and when the regular session opens, in New York time.
   */
  note(): string | undefined {
    const view = this.view();
    if (view.crypto || !view.quiet) return undefined;
    const opens = view.nextOpen === undefined ? '' : `; it opens ${nyClock(view.nextOpen)}`;
    switch (view.session) {
      case 'closed':
        return `The market is closed${opens}.`;
      case 'pre':
        return `Pre-market: ${view.feed.toUpperCase()} carries little before the open${opens}.`;
      case 'post':
        return `After hours: ${view.feed.toUpperCase()} carries little until the next session${opens}.`;
      default:
        return undefined;
    }
  }

  get rest(): MarketRest | undefined {
    return this.#o.rest;
  }

  /** The symbols kept fresh by polling now. */
  get polled(): ReadonlySet<string> {
    return this.#polled;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    if (this.#sessionTimer) clearTimeout(this.#sessionTimer);
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    this.#sessionTimer = undefined;
    this.#pollTimer = undefined;
    for (const off of this.#offClient.splice(0)) off();
    this.#history.retain([]);
  }

  // ---------------------------------------------------------------- the session

  async #refreshSession(): Promise<void> {
    const rest = this.#o.rest;
    if (!rest || this.#closed || this.#crypto) {
      if (this.#crypto) this.#o.onChange();
      return;
    }
    const now = this.#now();
    const today = nyDate(now);
    const from = addDays(today, -CALENDAR_BEHIND_DAYS);
    const to = addDays(today, CALENDAR_AHEAD_DAYS);
    try {
      // The calendar is cached per day: read again only when today leaves the range read.
      if (!this.#range || today < this.#range.from || addDays(today, 3) > this.#range.to) {
        const days = await rest.calendar({ start: from, end: to, signal: this.#abort.signal });
        this.#days = days.map(tradingDayFromCalendar).sort((a, b) => a.preOpen - b.preOpen);
        this.#range = { from, to };
      }
      if (this.#closed) return;
      this.#detail = undefined;
    } catch (err) {
      if (this.#closed) return;
      this.#detail = `The market clock is unavailable: ${errorMessage(err)}`;
      this.#log.warn({ err }, 'reading the market calendar failed; the session is unknown');
      this.#setState(undefined);
      this.#schedule(RETRY_SESSION_MS);
      return;
    }
    this.#tick();
  }

  /** Computes the session from the calendar and schedules the next boundary. */
  #tick(): void {
    if (this.#closed) return;
    const now = this.#now();
    const state = sessionAt(now, this.#days, this.#range);
    const previous = this.#state?.session;
    this.#setState(state);
    this.#rollHistory(now);
    if (previous !== undefined && previous !== state.session) {
      // A boundary: the daily bars and previous close roll; every row gets a fresh snapshot.
      void this.#snapshot([...this.#wanted], `session ${state.session}`);
    }
    if (state.session === 'unknown') {
      // Past the calendar read: read it again.
      this.#range = undefined;
      this.#schedule(RETRY_SESSION_MS, () => void this.#refreshSession());
      return;
    }
    const until = state.until ?? now + MAX_TIMER_MS;
    this.#schedule(Math.max(0, until - now) + 1, () => {
      const today = nyDate(this.#now());
      if (this.#range && addDays(today, 3) > this.#range.to) void this.#refreshSession();
      else this.#tick();
    });
  }

  /**
   * The sparklines show the session of today's trading day once it has begun (04:00 New York),
   * else the last one: the evening and the weekend keep the last session on screen.
   */
  #rollHistory(now: number): void {
    let shown: TradingDay | undefined;
    for (const day of this.#days) if (day.preOpen <= now) shown = day;
    if (!shown) return;
    if (this.#history.sessionStart === shown.preOpen) return;
    this.#history.roll(shown.preOpen);
    this.#o.onSeries?.();
    void this.#repairHistory('session');
  }

  /** Fetches the minutes the series lack (the whole session for a new symbol), request by request. */
  async #repairHistory(why: string): Promise<void> {
    const rest = this.#o.rest;
    if (!rest || this.#closed || this.#crypto) return;
    if (this.#repairing) {
      // Its plan was made before this reason: a symbol added now is not in it.
      this.#repairAgain = why;
      return;
    }
    if (this.#history.sessionStart === undefined || this.#wanted.size === 0) return;
    this.#repairing = true;
    try {
      await this.#seeded;
      // Closed while the start's snapshots were out: a plan now would make series again.
      if (this.#closed) return;
      const plan = this.#history.planRepair(this.#wanted, this.#now());
      for (const request of plan) {
        if (this.#closed) return;
        // Page by page: a whole session of a thousand symbols' minute bars, held at once, was
        // about 200 MB that outlived the young generation and waited for a full collection.
        // At most a bar a minute a symbol, both ends counted: the default cap (a million, there
        // to bound what a call holds) would refuse a whole session of 1,042 symbols or more, every
        // time, although pages handed over one by one hold nothing.
        const minutes = Math.ceil((request.end - request.start) / MINUTE_MS) + 1;
        await rest.bars(request.symbols, {
          timeframe: '1Min',
          start: request.start,
          end: request.end,
          feed: this.#o.feed,
          signal: this.#abort.signal,
          maxBars: Math.max(1, request.symbols.length * minutes),
          onPage: (page) => {
            if (this.#closed) return;
            this.#history.writeRepair(request, page);
            this.#o.onSeries?.();
          },
        });
        if (this.#closed) return;
        this.#history.settleRepair(request);
        this.#o.onSeries?.();
      }
      if (plan.length > 0) this.#log.debug({ why, requests: plan.length }, 'sparklines filled');
    } catch (err) {
      if (!this.#closed && !isRestError(err, 'cancelled'))
        this.#log.warn({ err, why }, 'fetching minute bars for the sparklines failed');
    } finally {
      this.#repairing = false;
      const again = this.#repairAgain;
      this.#repairAgain = undefined;
      if (again !== undefined && !this.#closed) void this.#repairHistory(again);
    }
  }

  #schedule(ms: number, fn: () => void = () => void this.#refreshSession()): void {
    if (this.#sessionTimer) clearTimeout(this.#sessionTimer);
    this.#sessionTimer = setTimeout(fn, Math.min(ms, MAX_TIMER_MS));
    this.#sessionTimer.unref?.();
  }

  #setState(state: SessionState | undefined): void {
    const before = this.#state;
    this.#state = state;
    if (before?.session !== state?.session) {
      this.#log.info(
        { session: state?.session ?? 'unknown', until: state?.until },
        `market session: ${state?.session ?? 'unknown'}`,
      );
    }
    this.#applyQuiet();
    this.#o.onChange();
  }

  /**
   * Silence is expected while the market is closed, and on IEX outside regular hours (it trades
   * very little then): the stream client's watchdog then raises no stale alarm and forces no
   * reconnect. Crypto never sleeps.
   */
  #applyQuiet(): void {
    const session = this.#state?.session ?? 'unknown';
    const quiet =
      !this.#crypto &&
      (session === 'closed' ||
        ((session === 'pre' || session === 'post') && this.#o.feed !== 'sip'));
    this.#o.client.setQuiet(quiet);
  }

  // ---------------------------------------------------------------- snapshots

  /**
   * Snapshots of `symbols` into the book; failures are logged and change nothing. The promise
   * settles (never rejects) once they are applied or have failed.
   */
  #snapshot(symbols: readonly string[], why: string): Promise<void> {
    const rest = this.#o.rest;
    if (!rest || this.#closed || symbols.length === 0) return Promise.resolve();
    return this.#fetchSnapshots(rest, symbols).then(
      (snaps) => {
        if (this.#closed) return;
        const at = this.#now();
        let applied = 0;
        for (const snap of snaps.values()) {
          if (!this.#wanted.has(snap.symbol)) continue;
          if (this.#o.book.applySnapshot(snap, this.#polled.has(snap.symbol) ? at : Number.NaN))
            applied++;
        }
        this.#log.debug({ why, asked: symbols.length, applied }, 'snapshots applied');
      },
      (err: unknown) => {
        if (this.#closed || isRestError(err, 'cancelled')) return;
        this.#log.warn({ err, why, symbols: symbols.length }, 'snapshots failed');
      },
    );
  }

  #fetchSnapshots(
    rest: MarketRest,
    symbols: readonly string[],
  ): Promise<Map<string, SymbolSnapshot>> {
    const signal = this.#abort.signal;
    return this.#crypto
      ? rest.cryptoSnapshots(symbols, { signal })
      : rest.stockSnapshots(symbols, { feed: this.#o.feed, signal });
  }

  // ---------------------------------------------------------------- polling

  /**
   * The polled set: wanted symbols the stream does not carry. While the client is live, those the
   * server refused on quotes (over the plan's limit) or has not confirmed; while it is not live,
   * every wanted symbol (the rows stay fresh through a long outage, a few seconds old).
   */
  #updatePolled(): void {
    if (this.#closed || !this.#o.rest) return;
    const client = this.#o.client;
    const next = new Set<string>();
    if (client.state !== 'live') {
      for (const s of this.#wanted) next.add(s);
    } else {
      const confirmed = new Set(client.subscriptions.confirmed().quotes ?? []);
      for (const s of this.#wanted) if (!confirmed.has(s)) next.add(s);
    }
    // Only the client's own non-live states count: a source that never connects polls nothing.
    if (client.state === 'idle' || client.state === 'stopped' || client.state === 'failed') {
      next.clear();
    }
    for (const s of this.#polled) if (!next.has(s)) this.#o.book.markStreamed(s);
    const changed = next.size !== this.#polled.size || [...next].some((s) => !this.#polled.has(s));
    this.#polled = next;
    if (changed) {
      this.#o.onChange();
      this.#schedulePoll(next.size > 0 ? this.#pollPeriod() : undefined);
    }
  }

  /** The poll period: the configured one, stretched so polling stays within its REST budget. */
  #pollPeriod(): number {
    const base = this.#o.pollIntervalMs ?? 5_000;
    const perRequest = this.#o.symbolsPerRequest ?? 200;
    const budget = this.#o.pollBudgetPerMinute ?? 100;
    const requests = Math.ceil(this.#polled.size / perRequest);
    return Math.max(base, Math.ceil((requests * 60_000) / budget));
  }

  #schedulePoll(ms: number | undefined): void {
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    if (ms === undefined || this.#closed) return;
    this.#pollTimer = setTimeout(() => void this.#poll(), ms);
    this.#pollTimer.unref?.();
  }

  async #poll(): Promise<void> {
    const rest = this.#o.rest;
    if (!rest || this.#closed || this.#polling) return;
    // The session closed: nothing moves, one snapshot per boundary is enough.
    const sleeping = this.#state?.session === 'closed' && !this.#crypto;
    const symbols = sleeping ? [] : [...this.#polled];
    this.#polling = true;
    try {
      if (symbols.length > 0) {
        const snaps = await this.#fetchSnapshots(rest, symbols);
        if (this.#closed) return;
        const at = this.#now();
        for (const snap of snaps.values()) {
          if (this.#polled.has(snap.symbol)) this.#o.book.applySnapshot(snap, at);
        }
      }
    } catch (err) {
      if (!this.#closed && !isRestError(err, 'cancelled'))
        this.#log.warn({ err, symbols: symbols.length }, 'polling snapshots failed');
    } finally {
      this.#polling = false;
      if (this.#polled.size > 0) this.#schedulePoll(this.#pollPeriod());
    }
  }
}

const NY_CLOCK = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  weekday: 'short',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** `Mon 09:30 New York time`. */
export function nyClock(epochMs: number): string {
  return `${NY_CLOCK.format(epochMs).replace(',', '')} New York time`;
}
