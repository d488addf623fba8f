/**
 * Section `market` (issue 11): the market context's four figures.
 *
 * 1. Cold start on a closed market: the simulator CLI in its own process (`--session closed`, N
 *    symbols, its own keys), a real MonitorCore in a fresh forked worker per round (its Alpaca
 *    source and both REST hosts pointed at the simulator, a fresh user-data folder: nothing
 *    cached). Timed from MonitorCore.create until every watchlist row in a view's frames has a last
 *    price and a refPrice equal to its prevClose; the REST requests it took, by endpoint.
 * 2. Polled freshness: the simulator in a regular session with a stream limit of about 30 symbols
 *    (`--symbol-limit`, counted in (channel, symbol) pairs) and a REST limit of 200 requests a
 *    minute (`--rest-rate-limit`); the core polls snapshots of the rest. After a warm-up, every
 *    250 ms the age (now - polledAt) of every polled row as the view has it; the oldest per sample.
 * 3. History memory: IntradayHistory with a full session (960 minutes) for 2,000 symbols, in a
 *    worker run with --expose-gc: bytes() and the heap + external delta after gc.
 * 4. Directory search: SymbolDirectory over 12,000 generated assets (bench/market-assets.ts), each
 *    query of a few thousand keystroke-like queries timed.
 *
 * The client side is bench/market-worker.ts; process handling is bench/lib/processes.ts.
 */
import { join } from 'node:path';
import { symbolUniverse } from '../electron/simulator/market-walk.ts';
import { STREAM_CHANNELS } from '../electron/core/stream-source.ts';
import { median, sortedPercentile } from './lib/stats.ts';
import { startSimulatorProcess, stopChild, runWorker } from './lib/processes.ts';
import { target, type Section, type Table, type Target } from './lib/report.ts';
import {
  MARKET_WORKER_ENV,
  type ColdStartResult,
  type HistoryResult,
  type MarketTask,
  type PolledResult,
  type SearchResult,
} from './market-worker.ts';

/** The simulator's keys for the bench (the core gets them as its environment credentials). */
const KEY_ID = 'PKBENCHMARKET0000001';
const SECRET = 'bench-market-secret-0000000000001';
const MB = 1024 * 1024;

interface Common {
  /** Repository root. */
  readonly root: string;
  readonly log?: (line: string) => void;
}

function worker<R>(
  common: Common,
  task: MarketTask,
  timeoutMs: number,
  execArgv: readonly string[] = [],
): Promise<R> {
  return runWorker<R>({
    module: join(common.root, 'bench', 'market-worker.ts'),
    env: { [MARKET_WORKER_ENV]: '1' },
    task,
    timeoutMs,
    execArgv,
    what: `the market worker (${task.kind})`,
    onMessage: (m) => {
      const line = (m as { line?: unknown }).line;
      if (typeof line === 'string') common.log?.(`market: ${line}`);
    },
    ...(common.log ? { log: common.log } : {}),
  });
}

export interface ColdStartOptions extends Common {
  readonly symbols: number;
  readonly rounds: number;
  /** How long each round keeps running after the rows are complete (to count what follows). */
  readonly settleMs: number;
  readonly timeoutMs?: number;
}

/** One simulator (closed session) for every round; a fresh worker process per round. */
export async function runColdStart(options: ColdStartOptions): Promise<ColdStartResult[]> {
  const sim = await startSimulatorProcess(options.root, [
    '--symbols',
    String(options.symbols),
    '--session',
    'closed',
    '--key',
    KEY_ID,
    '--secret',
    SECRET,
    '--log-level',
    'warn',
  ]);
  try {
    const results: ColdStartResult[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const timeoutMs = options.timeoutMs ?? 30_000;
      const r = await worker<ColdStartResult>(
        options,
        {
          kind: 'cold-start',
          url: sim.url,
          restUrl: sim.restUrl,
          keyId: KEY_ID,
          secret: SECRET,
          symbols: symbolUniverse(options.symbols),
          timeoutMs,
          settleMs: options.settleMs,
        },
        timeoutMs + options.settleMs + 30_000,
      );
      options.log?.(
        `market: cold start round ${round + 1}: ${Math.round(r.completeMs)} ms, ` +
          `${r.requestsAtComplete.snapshots} snapshot requests`,
      );
      results.push(r);
    }
    return results;
  } finally {
    await stopChild(sim.child, 'the simulator', options.log);
  }
}

export interface PolledOptions extends Common {
  readonly symbols: number;
  /** Symbols the stream may carry (the simulator's limit is this times the channels). */
  readonly streamSymbols: number;
  readonly restPerMinute: number;
  readonly warmupMs: number;
  readonly windowMs: number;
  readonly sampleMs: number;
  /** The simulator's stream rate (messages/s over the streamed symbols). */
  readonly rate: number;
}

export async function runPolled(options: PolledOptions): Promise<PolledResult> {
  const sim = await startSimulatorProcess(options.root, [
    '--symbols',
    String(options.symbols),
    '--session',
    'regular',
    '--rate',
    String(options.rate),
    '--symbol-limit',
    String(options.streamSymbols * STREAM_CHANNELS.length),
    '--rest-rate-limit',
    String(options.restPerMinute),
    '--key',
    KEY_ID,
    '--secret',
    SECRET,
    '--log-level',
    'warn',
  ]);
  try {
    const warmupMaxMs = 60_000;
    return await worker<PolledResult>(
      options,
      {
        kind: 'polled',
        url: sim.url,
        restUrl: sim.restUrl,
        keyId: KEY_ID,
        secret: SECRET,
        symbols: symbolUniverse(options.symbols),
        warmupMs: options.warmupMs,
        warmupMaxMs,
        windowMs: options.windowMs,
        sampleMs: options.sampleMs,
      },
      warmupMaxMs + options.warmupMs + options.windowMs + 30_000,
    );
  } finally {
    await stopChild(sim.child, 'the simulator', options.log);
  }
}

export function runHistory(options: Common & { readonly symbols: number }): Promise<HistoryResult> {
  return worker<HistoryResult>(options, { kind: 'history', symbols: options.symbols }, 60_000, [
    '--expose-gc',
  ]);
}

export function runSearch(
  options: Common & { readonly assets: number; readonly queries: number; readonly passes: number },
): Promise<SearchResult> {
  return worker<SearchResult>(
    options,
    {
      kind: 'search',
      assets: options.assets,
      queries: options.queries,
      passes: options.passes,
      seed: 11,
    },
    60_000,
  );
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export const run: Section = async (ctx) => {
  const common: Common = { root: ctx.root, log: ctx.log };
  const symbols = 1_000;

  const settleMs = ctx.quick ? 1_000 : 3_000;
  const cold = await runColdStart({ ...common, symbols, rounds: ctx.quick ? 3 : 5, settleMs });
  const polled = await runPolled({
    ...common,
    symbols,
    streamSymbols: 30,
    restPerMinute: 200,
    warmupMs: ctx.quick ? 5_000 : 10_000,
    windowMs: ctx.quick ? 20_000 : 30_000,
    sampleMs: 250,
    rate: 2_000,
  });
  const hist = await runHistory({ ...common, symbols: 2_000 });
  const found = await runSearch({
    ...common,
    assets: 12_000,
    queries: ctx.quick ? 3_000 : 5_000,
    passes: 3,
  });

  const completes = cold.map((r) => r.completeMs);
  const snapshotMax = Math.max(...cold.map((r) => r.requestsAtComplete.snapshots));
  const snapshotLimit = Math.ceil(symbols / 200);
  const oldest = Float64Array.from(polled.oldestAgeMs).sort();
  const oldestP99 = sortedPercentile(oldest, 99);
  const histMeasured = hist.heapUsedDelta + hist.externalDelta;
  const all = found.kinds.find((k) => k.kind === 'all');
  if (!all) throw new Error('the search task returned no summary');

  const tables: Table[] = [
    {
      title: `Market: cold start on a closed market, ${symbols.toLocaleString('en-US')} watchlist symbols`,
      columns: [
        'round',
        'complete ms',
        'first request ms',
        'snapshots answered ms',
        'snapshots',
        'calendar',
        'clock',
        'assets',
        'bars',
        'all',
        `all, ${settleMs / 1000} s later`,
      ],
      rows: [
        ...cold.map((r, i) => [
          i + 1,
          Math.round(r.completeMs),
          Math.round(r.firstRequestMs),
          Math.round(r.lastSnapshotAnswerMs),
          r.requestsAtComplete.snapshots,
          r.requestsAtComplete.calendar,
          r.requestsAtComplete.clock,
          r.requestsAtComplete.assets,
          r.requestsAtComplete.bars,
          r.requestsAtComplete.total,
          r.requestsAfterSettle.total,
        ]),
        [
          'median',
          Math.round(median(completes)),
          Math.round(median(cold.map((r) => r.firstRequestMs))),
          Math.round(median(cold.map((r) => r.lastSnapshotAnswerMs))),
          median(cold.map((r) => r.requestsAtComplete.snapshots)),
          null,
          null,
          null,
          null,
          null,
          null,
        ],
      ],
      note:
        `Times from MonitorCore.create; requests by endpoint, when the last row completed. The simulator process: --session closed ` +
        `(streams nothing), no server-side REST limit (the client's own 200/min applies). Each round: a fresh worker process and ` +
        `user-data folder (Alpaca source, iex, msgpack, keys from env), done when every row of the view's frames has a finite ` +
        `lastPrice and refPrice === prevClose. Round 1 also warms the simulator. "snapshots answered": the last snapshot answer's ` +
        `headers. Counted in a fetch wrapper, equal to the REST client's own count (checked). "later": the last session's minute ` +
        `bars for the sparklines. Rows equal to a direct snapshot: ${cold.reduce((n, r) => n + r.checked - r.mismatched, 0)} of ` +
        `${cold.reduce((n, r) => n + r.checked, 0)}.`,
    },
    {
      title: `Market: polled freshness, ${symbols.toLocaleString('en-US')} symbols, the stream limited to 30, REST 200/min`,
      columns: ['figure', 'value'],
      rows: [
        ['oldest polled row age p50 (s)', round1(sortedPercentile(oldest, 50) / 1000)],
        ['oldest polled row age p99 (s)', round1(oldestP99 / 1000)],
        ['oldest polled row age max (s)', round1((oldest[oldest.length - 1] ?? Number.NaN) / 1000)],
        ['any polled row age p50 (s)', round1(polled.rowAgeP50Ms / 1000)],
        ['any polled row age p99 (s)', round1(polled.rowAgeP99Ms / 1000)],
        ['samples', polled.oldestAgeMs.length],
        ['polled rows in a sample, fewest', Math.min(...polled.polledRows)],
        ['polled rows in a sample, most', Math.max(...polled.polledRows)],
        ...STREAM_CHANNELS.map((channel): [string, number] => [
          `symbols the stream confirmed on ${channel}`,
          polled.confirmed[channel] ?? 0,
        ]),
        ['symbols polled (market:status)', polled.marketPolled],
        ['poll period the context chose (s)', round1(polled.pollIntervalMs / 1000)],
        ['snapshot requests in the window', polled.windowRequests.snapshots],
        [
          'snapshot requests per minute',
          round1((polled.windowRequests.snapshots * 60_000) / polled.windowMs),
        ],
        [
          'other requests in the window',
          polled.windowRequests.total - polled.windowRequests.snapshots,
        ],
        ['429s over the run', polled.rateLimited],
        ['warm-up (s)', round1(polled.warmupMs / 1000)],
        ['window (s)', round1(polled.windowMs / 1000)],
      ],
      note:
        `Simulator process --session regular --symbol-limit ${30 * STREAM_CHANNELS.length} (30 symbols x ${STREAM_CHANNELS.length} channels) ` +
        `--rest-rate-limit 200; the core's default poll period. Sampled every 250 ms in the view's frames (pulled as a window pulls): ` +
        `age = now - polledAt of each polled row, polledAt being when main applied the poll's answer.`,
    },
    {
      title: `Market: sparkline history memory, ${hist.symbols.toLocaleString('en-US')} symbols x ${hist.slots} minutes`,
      columns: ['figure', 'MB'],
      rows: [
        ['bytes() (typed arrays: closes, bitsets, journal)', round3(hist.bytes / MB)],
        ['heapUsed delta after gc', round3(hist.heapUsedDelta / MB)],
        ['external delta after gc (typed array stores)', round3(hist.externalDelta / MB)],
        ['heapUsed + external delta', round3(histMeasured / MB)],
      ],
      note:
        `A worker with --expose-gc: gc() twice before and after filling IntradayHistory (${hist.slots - 60} minutes seeded as REST bars, ` +
        `the last 60 as live minute bars); ${hist.filledSlots.toLocaleString('en-US')} closes held; fill took ${Math.round(hist.fillMs)} ms. ` +
        `The symbol strings exist before the baseline (the watchlist holds them).`,
    },
    {
      title: `Market: directory search, ${found.assets.toLocaleString('en-US')} generated assets (ms per query)`,
      columns: ['queries', 'count', 'p50', 'p99', 'max', 'found nothing'],
      rows: found.kinds.map((k) => [
        k.kind,
        k.count,
        round3(k.p50),
        round3(k.p99),
        round3(k.max),
        k.empty,
      ]),
      note:
        `SymbolDirectory.search(query) (limit 10), one warm-up pass then ${found.passes} timed passes (every call timed), in its own process; index built in ${Math.round(found.buildMs)} ms. ` +
        `ticker: every prefix of a ticker as typed; name: prefixes of a name word; name+: a second word being typed; common: words in ` +
        `thousands of names (inc, etf, common stock, ...). Exact tickers not ranked first: ${found.exactMisses}.`,
    },
  ];

  const targets: Target[] = [
    target(
      'market cold start: rows complete (median)',
      Math.round(median(completes)),
      '<=',
      1_500,
      'ms',
    ),
    target(
      `market cold start: snapshot requests for ${symbols} symbols (max)`,
      snapshotMax,
      '<=',
      snapshotLimit,
      'requests',
    ),
    target('market polled: oldest polled row age p99', round1(oldestP99 / 1000), '<=', 10, 's'),
    target('market history: bytes() at 2,000 symbols', round3(hist.bytes / MB), '<=', 20, 'MB'),
    target(
      'market history: heap + external delta at 2,000 symbols',
      round3(histMeasured / MB),
      '<=',
      20,
      'MB',
    ),
    target('market search: p99', round3(all.p99), '<=', 5, 'ms'),
  ];

  return {
    name: 'market',
    tables,
    targets,
    details: { coldStart: cold, polled, history: hist, search: found },
  };
};
