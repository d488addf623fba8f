/**
 * The client side of the market-context section (bench/market.ts), one task per forked process so
 * that each starts cold and measures only itself:
 *
 * - `cold-start`: a real MonitorCore on a fresh user-data folder, its Alpaca source pointed at the
 *   simulator process (stream and both REST hosts), the simulator's keys from the environment
 *   option, one watchlist of N symbols and one view pulling frames. Timed from MonitorCore.create
 *   until every watchlist row in the view's frames has a finite lastPrice and a finite refPrice
 *   equal to prevClose. Every REST request is counted by path in a fetch wrapper handed to the
 *   REST client; that count must equal the client's own `rest.requests` metric, or the harness
 *   throws rather than report a figure it cannot trust.
 * - `polled`: the same core against a simulator whose stream takes only a few symbols: after a
 *   warm-up, every `sampleMs` the age (now - polledAt) of every polled row as the view's frames
 *   have it; the oldest of each sample is the figure.
 * - `history`: IntradayHistory with a full session for N symbols; bytes() and the heap delta
 *   (heapUsed + external, after gc) against an empty baseline.
 * - `search`: SymbolDirectory over generated assets (bench/market-assets.ts); each query timed.
 *
 * Protocol (child_process IPC): the parent sends `{ type: 'start', task }`; the worker answers
 * `{ type: 'done', result }` or `{ type: 'failed', error }` and exits.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MemorySecretStore } from '../electron/core/memory-secrets.ts';
import { MonitorCore } from '../electron/core/monitor-core.ts';
import type { ViewSession, ViewSink } from '../electron/core/types.ts';
import { IntradayHistory, MINUTE_MS, SESSION_SLOTS } from '../electron/market/history.ts';
import { SymbolDirectory } from '../electron/market/symbol-directory.ts';
import type { RestBar } from '../electron/rest/types.ts';
import { DEFAULT_SETTINGS, type MarketView, type Snapshot } from '../shared/api.ts';
import { frameColumn, SymbolTable, type QuoteFrame } from '../shared/frame.ts';
import { sortedPercentile } from './lib/stats.ts';
import { generateAssets, generateQueries, type QueryKind } from './market-assets.ts';

/** Set by bench/market.ts in the worker's environment. */
export const MARKET_WORKER_ENV = 'MM_BENCH_MARKET_WORKER';

export interface SourceConfig {
  /** The simulator's ws://127.0.0.1:port; the worker appends the feed path. */
  readonly url: string;
  /** Its http://127.0.0.1:port, both REST hosts. */
  readonly restUrl: string;
  readonly keyId: string;
  readonly secret: string;
  readonly symbols: readonly string[];
}

export interface ColdStartTask extends SourceConfig {
  readonly kind: 'cold-start';
  /** Give up (throw) when the rows are not complete after this long. */
  readonly timeoutMs: number;
  /** After completion, keep running this long to count the requests that follow (history). */
  readonly settleMs: number;
}

export interface PolledTask extends SourceConfig {
  readonly kind: 'polled';
  /** Warm-up ends this long after every polled row has a poll mark (or at warmupMaxMs). */
  readonly warmupMs: number;
  readonly warmupMaxMs: number;
  readonly windowMs: number;
  readonly sampleMs: number;
}

export interface HistoryTask {
  readonly kind: 'history';
  readonly symbols: number;
}

export interface SearchTask {
  readonly kind: 'search';
  readonly assets: number;
  readonly queries: number;
  /** Timed passes over the queries (after one untimed). */
  readonly passes: number;
  readonly seed: number;
}

export type MarketTask = ColdStartTask | PolledTask | HistoryTask | SearchTask;

/** REST requests by endpoint, as the fetch wrapper saw them (each attempt counts). */
export interface RequestCounts {
  snapshots: number;
  bars: number;
  clock: number;
  calendar: number;
  assets: number;
  other: number;
  total: number;
}

export interface ColdStartResult {
  readonly symbols: number;
  /** ms from MonitorCore.create until every row is complete. */
  readonly completeMs: number;
  readonly createMs: number;
  /** ms from create to the first frame holding any price. */
  readonly firstPriceMs: number;
  /** ms from create to the first REST request, and to the last snapshot answer's headers. */
  readonly firstRequestMs: number;
  readonly lastSnapshotAnswerMs: number;
  /** Every request sent until completion, ms from create (NaN: not answered by then). */
  readonly timeline: readonly {
    readonly endpoint: string;
    readonly sentMs: number;
    readonly answeredMs: number;
  }[];
  readonly requestsAtComplete: RequestCounts;
  /** The same after settleMs more: what the start costs in all (sparkline history included). */
  readonly requestsAfterSettle: RequestCounts;
  /** The REST client's own count at completion (must equal requestsAtComplete.total). */
  readonly metricRequests: number;
  readonly rateLimited: number;
  /** Frames pulled until completion, and the rows they carried. */
  readonly frames: number;
  readonly frameRows: number;
  /** Symbols in frames that are not in the watchlist (must be 0). */
  readonly strangers: number;
  /** Rows checked against a direct snapshot request to the simulator, and mismatches. */
  readonly checked: number;
  readonly mismatched: number;
  readonly session: string;
}

export interface PolledResult {
  readonly symbols: number;
  /** Per sample: the oldest polled row's age (ms), and how many rows were polled. */
  readonly oldestAgeMs: readonly number[];
  readonly polledRows: readonly number[];
  /** Every polled row's age at every sample, summarised (ms). */
  readonly rowAgeP50Ms: number;
  readonly rowAgeP99Ms: number;
  /** Symbols the server confirmed per channel at the end (the market context streams on quotes). */
  readonly confirmed: Readonly<Record<string, number>>;
  /** market:status at the end: polled count and the poll period the context chose. */
  readonly marketPolled: number;
  readonly pollIntervalMs: number;
  readonly session: string;
  readonly warmupMs: number;
  readonly windowMs: number;
  /** Requests during the window, by endpoint, and 429s seen over the run. */
  readonly windowRequests: RequestCounts;
  readonly rateLimited: number;
  readonly restErrors: Readonly<Record<string, number>>;
}

export interface HistoryResult {
  readonly symbols: number;
  readonly slots: number;
  readonly bytes: number;
  readonly heapUsedDelta: number;
  readonly externalDelta: number;
  readonly arrayBuffersDelta: number;
  readonly fillMs: number;
  /** Minutes that hold a close, summed over symbols (must be symbols * slots). */
  readonly filledSlots: number;
}

export interface SearchResult {
  readonly assets: number;
  readonly buildMs: number;
  readonly passes: number;
  /** Per kind: queries, p50, p99, max (ms), and queries that found nothing. */
  readonly kinds: readonly {
    readonly kind: QueryKind | 'all';
    readonly count: number;
    readonly p50: number;
    readonly p99: number;
    readonly max: number;
    readonly empty: number;
  }[];
  /** Ticker queries whose own asset was not first (must be 0 for exact tickers). */
  readonly exactMisses: number;
}

type WorkerMessage =
  | { readonly type: 'done'; readonly result: unknown }
  | { readonly type: 'failed'; readonly error: string }
  | { readonly type: 'progress'; readonly line: string };

const APP = {
  name: 'market-monitor-bench',
  version: '0',
  platform: process.platform,
  runtime: 'node',
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function send(message: WorkerMessage): void {
  process.send?.(message);
}

function emptyCounts(): RequestCounts {
  return { snapshots: 0, bars: 0, clock: 0, calendar: 0, assets: 0, other: 0, total: 0 };
}

/** Which count a request path goes to. */
export function endpointOf(path: string): Exclude<keyof RequestCounts, 'total'> {
  if (/\/v\d+[a-z0-9]*\/(stocks|crypto\/[a-z]+)\/snapshots$/.test(path)) return 'snapshots';
  if (/\/v\d+[a-z0-9]*\/(stocks|crypto\/[a-z]+)\/bars$/.test(path)) return 'bars';
  if (path.endsWith('/v2/clock')) return 'clock';
  if (path.endsWith('/v2/calendar')) return 'calendar';
  if (/\/v2\/assets(\/|$)/.test(path)) return 'assets';
  return 'other';
}

/** One request as the fetch wrapper saw it: performance.now() at sending and at the answer's headers. */
export interface TimedRequest {
  readonly endpoint: Exclude<keyof RequestCounts, 'total'>;
  readonly sent: number;
  answered: number;
}

/**
 * A fetch that counts what goes through it, by endpoint, before handing it to the real one, and
 * notes when each went out and when its answer's headers came back (the body is read after).
 */
function countingFetch(counts: RequestCounts, timeline: TimedRequest[]): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const endpoint = endpointOf(new URL(url).pathname);
    counts[endpoint]++;
    counts.total++;
    const entry: TimedRequest = { endpoint, sent: performance.now(), answered: Number.NaN };
    timeline.push(entry);
    const response = await fetch(input, init);
    entry.answered = performance.now();
    return response;
  };
}

/** Per symbol, the latest values a view holds after applying its frames. */
interface ViewRow {
  lastPrice: number;
  refPrice: number;
  prevClose: number;
  polledAt: number;
}

/** A window's copy of the book: applies frames (a full frame replaces everything). */
class ViewRows {
  readonly rows = new Map<string, ViewRow>();
  readonly #symbols = new SymbolTable();
  frames = 0;
  frameRows = 0;

  /** Returns the symbols of the frame's rows (those whose id the view knows: all, unless a bug). */
  apply(frame: QuoteFrame): string[] {
    if (frame.full) this.rows.clear();
    this.frames++;
    this.frameRows += frame.rows.length;
    this.#symbols.learn(frame);
    const lastPrice = frameColumn(frame, 'lastPrice');
    const refPrice = frameColumn(frame, 'refPrice');
    const prevClose = frameColumn(frame, 'prevClose');
    const polledAt = frameColumn(frame, 'polledAt');
    const symbols: string[] = [];
    this.#symbols.symbolsOf(frame).forEach((symbol, i) => {
      if (symbol === undefined) return;
      symbols.push(symbol);
      this.rows.set(symbol, {
        lastPrice: lastPrice[i]!,
        refPrice: refPrice[i]!,
        prevClose: prevClose[i]!,
        polledAt: polledAt[i]!,
      });
    });
    return symbols;
  }
}

/** A row with a price and a change against the previous close. */
function complete(row: ViewRow | undefined): boolean {
  return (
    row !== undefined &&
    Number.isFinite(row.lastPrice) &&
    Number.isFinite(row.prevClose) &&
    row.refPrice === row.prevClose
  );
}

interface Started {
  readonly core: MonitorCore;
  readonly view: ViewSession;
  readonly counts: RequestCounts;
  readonly timeline: TimedRequest[];
  readonly dir: string;
  readonly t0: number;
  readonly createMs: number;
}

/** A MonitorCore on a fresh folder, its Alpaca source on the simulator process, one view open. */
async function startCore(config: SourceConfig): Promise<Started> {
  const dir = await mkdtemp(join(tmpdir(), 'mm-bench-market-'));
  await writeFile(
    join(dir, 'settings.json'),
    JSON.stringify({
      ...DEFAULT_SETTINGS,
      source: { kind: 'alpaca', feed: 'iex', codec: 'msgpack' },
      autoConnect: true,
    }),
  );
  await writeFile(
    join(dir, 'watchlists.json'),
    JSON.stringify({
      version: 1,
      watchlists: [{ id: 'bench', name: 'Bench', symbols: config.symbols }],
    }),
  );
  const counts = emptyCounts();
  const timeline: TimedRequest[] = [];
  const sink: ViewSink = { emit: () => undefined };
  const t0 = performance.now();
  const core = await MonitorCore.create({
    userDataDir: dir,
    secrets: new MemorySecretStore(),
    app: APP,
    alpacaUrl: () => `${config.url}/v2/iex`,
    rest: {
      dataUrl: config.restUrl,
      tradingUrl: config.restUrl,
      fetch: countingFetch(counts, timeline),
    },
    env: { keyId: config.keyId, secret: config.secret },
  });
  const createMs = performance.now() - t0;
  const view = core.openView(sink);
  return { core, view, counts, timeline, dir, t0, createMs };
}

async function marketStatus(view: ViewSession): Promise<MarketView> {
  const result = await view.invoke('market:status', {});
  if (!result.ok) throw new Error(`market:status failed: ${result.error.message}`);
  return result.value as MarketView;
}

async function snapshotOf(view: ViewSession): Promise<Snapshot> {
  const result = await view.invoke('diagnostics:snapshot', {});
  if (!result.ok) throw new Error(`diagnostics:snapshot failed: ${result.error.message}`);
  return result.value as Snapshot;
}

/**
 * The REST client's request count and ours, read with nothing sent in between (a request started
 * while the command ran makes us read again).
 */
async function metricAndCounts(
  view: ViewSession,
  counts: RequestCounts,
): Promise<{ snap: Snapshot; counts: RequestCounts }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const before = counts.total;
    const snap = await snapshotOf(view);
    if (counts.total === before) return { snap, counts: { ...counts } };
  }
  throw new Error('REST requests kept starting while the metrics were read');
}

async function coldStart(task: ColdStartTask): Promise<ColdStartResult> {
  const wanted = new Set(task.symbols);
  let started: Started | undefined;
  try {
    started = await startCore(task);
    const { view, counts, t0 } = started;
    const rows = new ViewRows();
    const done = new Set<string>();
    let strangers = 0;
    let firstPriceMs = Number.NaN;
    const deadline = t0 + task.timeoutMs;
    while (done.size < wanted.size) {
      const left = deadline - performance.now();
      if (left <= 0) {
        const missing = [...wanted].filter((s) => !done.has(s));
        throw new Error(
          `${missing.length} of ${wanted.size} rows incomplete after ${task.timeoutMs} ms, e.g. ` +
            JSON.stringify(missing.slice(0, 3).map((s) => [s, rows.rows.get(s) ?? null])),
        );
      }
      let timer: NodeJS.Timeout | undefined;
      const frame = await Promise.race([
        view.nextFrame(),
        new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), left))),
      ]);
      clearTimeout(timer);
      if (frame === undefined) continue;
      if (frame.full) done.clear();
      for (const symbol of rows.apply(frame)) {
        if (!wanted.has(symbol)) {
          strangers++;
          continue;
        }
        const row = rows.rows.get(symbol);
        if (Number.isNaN(firstPriceMs) && Number.isFinite(row?.lastPrice))
          firstPriceMs = performance.now() - t0;
        if (complete(row)) done.add(symbol);
        else done.delete(symbol);
      }
    }
    const completeMs = performance.now() - t0;
    // Relative to create; only what was sent before completion.
    const timeline = started.timeline.map((r) => ({
      endpoint: r.endpoint,
      sentMs: r.sent - t0,
      answeredMs: r.answered - t0,
    }));
    const snapshotAnswers = timeline.filter((r) => r.endpoint === 'snapshots');
    const lastSnapshotAnswerMs = Math.max(...snapshotAnswers.map((r) => r.answeredMs));
    const atComplete = await metricAndCounts(view, counts);
    if (atComplete.snap.rest === null) throw new Error('the core reports no REST metrics');
    if (atComplete.snap.rest.requests !== atComplete.counts.total) {
      throw new Error(
        `request count mismatch: the fetch wrapper saw ${atComplete.counts.total}, ` +
          `the REST client reports ${atComplete.snap.rest.requests}`,
      );
    }

    // The rows against the simulator's own answer, asked directly (not through the core).
    const sample = task.symbols.slice(0, 200);
    const res = await fetch(
      `${task.restUrl}/v2/stocks/snapshots?symbols=${sample.join(',')}&feed=iex`,
      { headers: { 'APCA-API-KEY-ID': task.keyId, 'APCA-API-SECRET-KEY': task.secret } },
    );
    if (!res.ok) throw new Error(`the check snapshot failed: HTTP ${res.status}`);
    const direct = (await res.json()) as Record<
      string,
      { latestTrade?: { p: number }; prevDailyBar?: { c: number } }
    >;
    let mismatched = 0;
    for (const symbol of sample) {
      const row = rows.rows.get(symbol);
      const snap = direct[symbol];
      if (
        !row ||
        !snap ||
        row.lastPrice !== snap.latestTrade?.p ||
        row.prevClose !== snap.prevDailyBar?.c
      )
        mismatched++;
    }

    await sleep(task.settleMs);
    const settled = await metricAndCounts(view, counts);
    const market = await marketStatus(view);
    return {
      symbols: wanted.size,
      completeMs,
      createMs: started.createMs,
      firstPriceMs,
      firstRequestMs: timeline[0]?.sentMs ?? Number.NaN,
      lastSnapshotAnswerMs,
      timeline,
      requestsAtComplete: atComplete.counts,
      requestsAfterSettle: settled.counts,
      metricRequests: atComplete.snap.rest.requests,
      rateLimited: settled.snap.rest?.rateLimited ?? 0,
      frames: rows.frames,
      frameRows: rows.frameRows,
      strangers,
      checked: sample.length,
      mismatched,
      session: market.session,
    };
  } finally {
    await stopCore(started);
  }
}

async function stopCore(started: Started | undefined): Promise<void> {
  if (!started) return;
  started.view.close();
  await started.core.close().catch(() => undefined);
  await rm(started.dir, { recursive: true, force: true }).catch(() => undefined);
}

async function polled(task: PolledTask): Promise<PolledResult> {
  let started: Started | undefined;
  let stopped = false;
  try {
    started = await startCore(task);
    const { view, counts, t0 } = started;
    const rows = new ViewRows();
    // The window: pull frames as they come (a painted window pulls every ~16 ms).
    const pump = (async () => {
      while (!stopped) {
        let frame: QuoteFrame;
        try {
          frame = await view.nextFrame();
        } catch {
          if (stopped) return;
          throw new Error('nextFrame failed');
        }
        rows.apply(frame);
        await sleep(16);
      }
    })();
    let pumpError: unknown;
    pump.catch((err: unknown) => (pumpError = err));

    const status = () => marketStatus(view);
    const polledRows = (): ViewRow[] =>
      task.symbols
        .map((s) => rows.rows.get(s))
        .filter((r): r is ViewRow => r !== undefined && Number.isFinite(r.polledAt));

    // Warm-up: until the context polls and exactly the polled rows show a poll mark, then
    // warmupMs more (the first polls share the budget with the sparkline history's requests).
    let readyAt: number | undefined;
    for (;;) {
      const now = performance.now();
      if (now - t0 > task.warmupMaxMs) {
        const m = await status();
        throw new Error(
          `polling not under way after ${task.warmupMaxMs} ms: session ${m.session}, ` +
            `${m.polled} polled, ${polledRows().length} rows marked in frames`,
        );
      }
      if (readyAt === undefined) {
        const m = await status();
        // Settled: the rows marked in the frames are exactly the polled set (the stream's first
        // symbols, confirmed after the planner's 405 round trips, have dropped their marks).
        if (m.polled > 0 && polledRows().length === m.polled) {
          readyAt = now;
          send({
            type: 'progress',
            line: `${m.polled} symbols polled after ${Math.round(now - t0)} ms; warming up`,
          });
        }
      } else if (now - readyAt >= task.warmupMs) break;
      await sleep(100);
    }
    const warmupMs = performance.now() - t0;

    const before = { ...counts };
    const oldest: number[] = [];
    const polledCounts: number[] = [];
    const ages: number[] = [];
    const windowStart = performance.now();
    for (let k = 0; ; k++) {
      const due = windowStart + k * task.sampleMs;
      if (due > windowStart + task.windowMs) break;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (pumpError !== undefined)
        throw pumpError instanceof Error ? pumpError : new Error('the frame pump failed');
      const now = Date.now();
      let max = Number.NEGATIVE_INFINITY;
      let n = 0;
      for (const row of polledRows()) {
        const age = now - row.polledAt;
        ages.push(age);
        if (age > max) max = age;
        n++;
      }
      // A sample with no polled row would hide a stall: the harness refuses to report it.
      if (n === 0) throw new Error(`no polled row in the view at sample ${k}`);
      oldest.push(max);
      polledCounts.push(n);
    }
    const windowMs = performance.now() - windowStart;
    const windowRequests = emptyCounts();
    for (const key of Object.keys(windowRequests) as (keyof RequestCounts)[])
      windowRequests[key] = counts[key] - before[key];
    const snap = await snapshotOf(view);
    const m = await status();
    const sortedAges = Float64Array.from(ages).sort();
    return {
      symbols: task.symbols.length,
      oldestAgeMs: oldest,
      polledRows: polledCounts,
      rowAgeP50Ms: sortedPercentile(sortedAges, 50),
      rowAgeP99Ms: sortedPercentile(sortedAges, 99),
      confirmed: Object.fromEntries(
        Object.entries(snap.subscriptions.confirmed).map(([channel, list]) => [
          channel,
          list?.length ?? 0,
        ]),
      ),
      marketPolled: m.polled,
      pollIntervalMs: m.pollIntervalMs,
      session: m.session,
      warmupMs,
      windowMs,
      windowRequests,
      rateLimited: snap.rest?.rateLimited ?? 0,
      restErrors: snap.rest?.errors ?? {},
    };
  } finally {
    stopped = true;
    await stopCore(started);
  }
}

/** A plausible minute walk for one symbol: closes around `price`, one bar a minute. */
function sessionBars(start: number, slots: number, price: number, seed: number): RestBar[] {
  const bars: RestBar[] = [];
  let p = price;
  let x = seed >>> 0 || 1;
  for (let i = 0; i < slots; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    p *= 1 + ((x >>> 0) / 2 ** 32 - 0.5) * 0.002;
    const close = Math.round(p * 100) / 100;
    bars.push({
      time: start + i * MINUTE_MS,
      open: close,
      high: close,
      low: close,
      close,
      volume: 100,
      tradeCount: 1,
      vwap: close,
    });
  }
  return bars;
}

function history(task: HistoryTask): HistoryResult {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') throw new Error('the history task needs --expose-gc');
  // The symbols exist before the history does (the watchlist holds them): not counted.
  const symbols = Array.from(
    { length: task.symbols },
    (_, i) => `S${i.toString(36).toUpperCase().padStart(4, '0')}`,
  );
  const sessionStart = Date.UTC(2026, 0, 5, 9, 0); // 04:00 New York (EST)
  const settle = (): NodeJS.MemoryUsage => {
    gc();
    gc();
    return process.memoryUsage();
  };
  const base = settle();
  const t = performance.now();
  const h = new IntradayHistory();
  h.roll(sessionStart);
  // The morning from REST (one seed per symbol, as a repair fills it), the last hour from the
  // stream's minute bars, which also runs the change journal round its ring.
  const fromRest = SESSION_SLOTS - 60;
  symbols.forEach((symbol, i) => {
    h.seed(
      symbol,
      sessionBars(sessionStart, fromRest, 20 + (i % 500), i + 1),
      sessionStart,
      sessionStart + fromRest * MINUTE_MS,
    );
  });
  for (let slot = fromRest; slot < SESSION_SLOTS; slot++) {
    for (let i = 0; i < symbols.length; i++) {
      h.applyMinuteBar(symbols[i]!, {
        time: sessionStart + slot * MINUTE_MS,
        close: 20 + (i % 500) + slot / 1000,
      });
    }
  }
  const fillMs = performance.now() - t;
  const after = settle();
  let filledSlots = 0;
  for (const symbol of symbols) {
    const s = h.series(symbol);
    if (s) for (const v of s.closes) if (!Number.isNaN(v)) filledSlots++;
  }
  const result: HistoryResult = {
    symbols: task.symbols,
    slots: h.slots,
    bytes: h.bytes(),
    heapUsedDelta: after.heapUsed - base.heapUsed,
    externalDelta: after.external - base.external,
    arrayBuffersDelta: after.arrayBuffers - base.arrayBuffers,
    fillMs,
    filledSlots,
  };
  // Keep `h` alive until after the measurement.
  if (h.size !== task.symbols)
    throw new Error(`history holds ${h.size} series, not ${task.symbols}`);
  return result;
}

function search(task: SearchTask): SearchResult {
  const assets = generateAssets(task.assets, task.seed);
  const queries = generateQueries(assets, task.queries, task.seed + 1);
  const directory = new SymbolDirectory();
  const b0 = performance.now();
  directory.setAssets(assets, Date.now());
  const buildMs = performance.now() - b0;
  // One untimed pass: a p99 over thousands of keystrokes is about the warm path.
  for (const q of queries) directory.search(q.text);
  const n = queries.length;
  const times = new Float64Array(n * task.passes);
  const empty = new Uint8Array(n);
  let exactMisses = 0;
  for (let pass = 0; pass < task.passes; pass++) {
    for (let i = 0; i < n; i++) {
      const q = queries[i]!;
      const t = performance.now();
      const found = directory.search(q.text);
      times[pass * n + i] = performance.now() - t;
      if (pass > 0) continue;
      if (found.length === 0) empty[i] = 1;
      if (q.kind === 'ticker' && q.exact !== undefined && found[0]?.symbol !== q.exact)
        exactMisses++;
    }
  }
  const kinds: SearchResult['kinds'][number][] = [];
  const summarise = (kind: QueryKind | 'all'): void => {
    const picked: number[] = [];
    let none = 0;
    queries.forEach((q, i) => {
      if (kind !== 'all' && q.kind !== kind) return;
      for (let pass = 0; pass < task.passes; pass++) picked.push(times[pass * n + i]!);
      none += empty[i]!;
    });
    if (picked.length === 0) return;
    const sorted = Float64Array.from(picked).sort();
    kinds.push({
      kind,
      count: picked.length / task.passes,
      p50: sortedPercentile(sorted, 50),
      p99: sortedPercentile(sorted, 99),
      max: sorted[sorted.length - 1]!,
      empty: none,
    });
  };
  summarise('all');
  for (const kind of ['ticker', 'name', 'name+', 'common'] as const) summarise(kind);
  return { assets: assets.length, buildMs, passes: task.passes, kinds, exactMisses };
}

function runTask(task: MarketTask): Promise<unknown> {
  switch (task.kind) {
    case 'cold-start':
      return coldStart(task);
    case 'polled':
      return polled(task);
    case 'history':
      // Through a promise, so that a throw is a rejection like the other tasks'.
      return Promise.resolve().then(() => history(task));
    case 'search':
      return Promise.resolve().then(() => search(task));
  }
}

// Run only as the forked worker; importing this module for its types does nothing.
if (process.env[MARKET_WORKER_ENV] === '1' && process.send !== undefined) {
  process.once('disconnect', () => process.exit(1));
  process.once('message', (message: { type: string; task: MarketTask }) => {
    if (message.type !== 'start') return;
    runTask(message.task)
      .then((result) => send({ type: 'done', result }))
      .catch((err: unknown) =>
        send({
          type: 'failed',
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        }),
      )
      .finally(() => process.disconnect?.());
  });
}
