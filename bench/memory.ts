/**
 * Section 5, memory: a soak of the real main-process core under a full feed with forced
 * reconnects, sampling heap and RSS to see whether anything grows, and checking that no
 * subscription is lost across the reconnects.
 *
 * Load: the project's simulator as a separate process (`market-monitor simulate --symbols N
 * --rate R --drop-after D`), which terminates each connection after D data messages: at R = 20k
 * messages/s, D = 200k is a server-side connection loss about every 10 s that the client must
 * notice and recover from by itself (backoff, reconnect, re-authenticate, re-subscribe).
 * Client: bench/memory-worker.ts in a forked child with --expose-gc (MonitorCore, one watchlist of
 * the N symbols, one view pulling frames like a window). It samples gc() + process.memoryUsage()
 * every 5 s (2 s in quick mode) and checks each live session's confirmed subscriptions.
 *
 * Figures: least-squares slopes of heapUsed and RSS (MB per 10 minutes) over the samples after the
 * warm-up (the first 20% of the run, at least 30 s when the run is long enough), first / last / max
 * values, reconnects, messages, lost subscriptions. Full soak 600 s, quick 60 s;
 * BENCH_SOAK_SECONDS overrides the duration (e.g. to run the section alone while developing);
 * BENCH_SOAK_HEAPSNAPSHOTS=DIR writes heap snapshots after the warm-up and at the end, to diff.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { symbolUniverse } from '../electron/simulator/market-walk.ts';
import type { Codec } from '../shared/market.ts';
import type {
  MemorySample,
  SubscriptionCheck,
  WorkerConfig,
  WorkerMessage,
  WorkerSummary,
} from './memory-worker.ts';
import { slope } from './lib/stats.ts';
import { target, type Section, type Table } from './lib/report.ts';

export interface SoakOptions {
  /** Repository root. */
  readonly root: string;
  readonly durationS: number;
  readonly sampleS: number;
  readonly symbols: number;
  /** Messages per second the simulator sends to the connection. */
  readonly rate: number;
  /** The simulator drops each connection after this many data messages. */
  readonly dropAfter: number;
  readonly codec?: Codec;
  /** How long after going live the subscriptions must be complete. Default 3 s. */
  readonly checkAfterS?: number;
  /** Samples before this many seconds are warm-up (not in the slopes). */
  readonly warmupS: number;
  /** Leak hunting: heap snapshots at these times (s) into this folder (see memory-worker.ts). */
  readonly heapSnapshots?: { readonly dir: string; readonly atS: readonly number[] };
  readonly log?: (line: string) => void;
}

export interface SoakResult {
  readonly options: Omit<SoakOptions, 'log' | 'root' | 'heapSnapshots'>;
  readonly summary: WorkerSummary;
  /** Subscription checks with anything missing (lost subscriptions). */
  readonly lost: readonly SubscriptionCheck[];
  readonly warmupS: number;
  /** MB per 10 minutes after the warm-up; NaN with fewer than two samples. */
  readonly slopes: {
    readonly heapUsed: number;
    readonly oldSpaceUsed: number;
    readonly codeSpaceUsed: number;
    readonly heapTotal: number;
    readonly newSpaceCommitted: number;
    readonly rss: number;
    /**
     * RSS after V8 last resized its young generation (which it grows in doublings, up to a
     * ceiling, under a high allocation rate): a diagnostic beside the target, NaN when that
     * happened too late to leave two samples.
     */
    readonly rssAfterNewSpaceSettled: number;
    readonly external: number;
    readonly arrayBuffers: number;
  };
}

/** Marks the forked process as the worker (bench/memory-worker.ts reads it). */
const WORKER_ENV = 'MM_BENCH_SOAK_WORKER';
const MB = 1024 * 1024;

/**
 * Children of this process that are still running. Should this process exit without reaching a
 * `finally` (an uncaught error elsewhere, process.exit), they are killed on the way out.
 */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
}

/** Kills a child we started, by its own handle, and waits for it to be gone. */
async function stop(child: ChildProcess, what: string, log: (line: string) => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    log(`memory: ${what} ignored SIGTERM, killing it`);
    child.kill('SIGKILL');
  }, 5_000);
  try {
    await gone;
  } finally {
    clearTimeout(timer);
  }
}

/** Starts the simulator CLI and resolves with it and its URL once it prints its listening line. */
async function startSimulatorProcess(
  options: SoakOptions,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      // The IPC channel below is only a lifeline: if this process dies without reaching its
      // `finally` (SIGKILL, a SIGTERM from a timeout), the channel closes and the simulator exits.
      // Unreferenced, so that it never keeps the simulator alive once it has closed.
      '--import',
      'data:text/javascript,process.once("disconnect",()=>process.exit(1));process.channel?.unref()',
      join(options.root, 'bin', 'market-monitor.js'),
      'simulate',
      '--symbols',
      String(options.symbols),
      '--rate',
      String(options.rate),
      '--drop-after',
      String(options.dropAfter),
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  track(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the simulator did not start in 20 s')),
        20_000,
      );
      const stdout = child.stdout;
      if (stdout === null) throw new Error('the simulator has no stdout pipe');
      const lines = createInterface({ input: stdout });
      lines.on('line', (line) => {
        try {
          const msg = JSON.parse(line) as { type?: string; url?: string };
          if (msg.type === 'listening' && typeof msg.url === 'string') {
            clearTimeout(timer);
            resolve(msg.url);
          }
        } catch {
          // not the line we wait for
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the simulator exited (${code ?? signal}) before listening: ${stderr}`));
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    return { child, url };
  } catch (err) {
    await stop(child, 'the simulator', () => undefined);
    throw err;
  }
}

/** MB per 10 minutes: the least-squares slope of bytes over seconds, scaled. */
function slopePer10Min(
  samples: readonly MemorySample[],
  pick: (s: MemorySample) => number,
): number {
  return (
    slope(
      samples.map((s) => s.t),
      samples.map((s) => pick(s) / MB),
    ) * 600
  );
}

/**
 * Runs one soak: the simulator and the worker as child processes, both killed on the way out
 * whatever happens. Used by the section and by test/integration/bench-memory.test.ts.
 */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => undefined);
  const sim = await startSimulatorProcess(options);
  let worker: ChildProcess | undefined;
  try {
    log(`memory: simulator at ${sim.url} (pid ${sim.child.pid}), rate ${options.rate}/s`);
    worker = fork(join(options.root, 'bench', 'memory-worker.ts'), [], {
      // Node 24 runs .ts as is; an older Node 22 needs the flag.
      execArgv: [
        '--expose-gc',
        ...(process.features.typescript ? [] : ['--experimental-strip-types']),
        // Extra V8/Node flags for the client process, to test a memory setting (e.g.
        // BENCH_SOAK_NODE_FLAGS=--max-semi-space-size=8); none by default.
        ...(process.env['BENCH_SOAK_NODE_FLAGS']?.split(' ').filter((f) => f !== '') ?? []),
      ],
      env: { ...process.env, [WORKER_ENV]: '1' },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const child = worker;
    track(child);
    const config: WorkerConfig = {
      url: sim.url,
      symbols: symbolUniverse(options.symbols),
      codec: options.codec ?? 'msgpack',
      durationMs: options.durationS * 1000,
      sampleMs: options.sampleS * 1000,
      checkAfterMs: (options.checkAfterS ?? 3) * 1000,
      frameIntervalMs: 16,
      liveTimeoutMs: 30_000,
      ...(options.heapSnapshots
        ? { heapSnapshotDir: options.heapSnapshots.dir, heapSnapshotAtS: options.heapSnapshots.atS }
        : {}),
    };
    const summary = await new Promise<WorkerSummary>((resolve, reject) => {
      // Generous: the first live session, the soak, and closing the core.
      const limitMs = config.liveTimeoutMs + config.durationMs + 60_000;
      const timer = setTimeout(
        () => reject(new Error(`the soak worker did not finish in ${limitMs / 1000} s`)),
        limitMs,
      );
      let lastLog = 0;
      child.on('message', (message: WorkerMessage) => {
        switch (message.type) {
          case 'live':
            log(`memory: client live; soaking for ${options.durationS} s`);
            break;
          case 'sample': {
            const s = message.sample;
            if (s.t - lastLog >= 30 || s.t === 0) {
              lastLog = s.t;
              log(
                `memory: t=${s.t.toFixed(0)} s heap ${(s.heapUsed / MB).toFixed(1)} MB, rss ${(s.rss / MB).toFixed(1)} MB, ` +
                  `${s.messages} msgs, ${s.reconnects} reconnects`,
              );
            }
            break;
          }
          case 'done':
            clearTimeout(timer);
            resolve(message.summary);
            break;
          case 'failed':
            clearTimeout(timer);
            reject(new Error(`the soak worker failed: ${message.error}`));
            break;
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the soak worker exited (${code ?? signal}) before reporting`));
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.send({ type: 'start', config });
    });

    const warmupS = options.warmupS;
    const steady = summary.samples.filter((s) => s.t >= warmupS);
    return {
      options: {
        durationS: options.durationS,
        sampleS: options.sampleS,
        symbols: options.symbols,
        rate: options.rate,
        dropAfter: options.dropAfter,
        codec: config.codec,
        checkAfterS: config.checkAfterMs / 1000,
        warmupS,
      },
      summary,
      lost: summary.checks.filter((c) => c.missing > 0 || c.desiredMissing > 0),
      warmupS,
      slopes: {
        heapUsed: slopePer10Min(steady, (s) => s.heapUsed),
        oldSpaceUsed: slopePer10Min(steady, (s) => s.oldSpaceUsed),
        codeSpaceUsed: slopePer10Min(steady, (s) => s.codeSpaceUsed),
        heapTotal: slopePer10Min(steady, (s) => s.heapTotal),
        newSpaceCommitted: slopePer10Min(steady, (s) => s.newSpaceCommitted),
        rss: slopePer10Min(steady, (s) => s.rss),
        rssAfterNewSpaceSettled: slopePer10Min(
          // RSS follows a resize lazily (pages are touched as the new space fills): skip 10 s more.
          summary.samples.filter((s) => s.t >= newSpaceSettledAt(summary.samples) + 10),
          (s) => s.rss,
        ),
        external: slopePer10Min(steady, (s) => s.external),
        arrayBuffers: slopePer10Min(steady, (s) => s.arrayBuffers),
      },
    };
  } finally {
    if (worker) await stop(worker, 'the soak worker', log);
    await stop(sim.child, 'the simulator', log);
  }
}

/** When the young generation's committed size last changed (the time of that sample), or 0. */
export function newSpaceSettledAt(samples: readonly MemorySample[]): number {
  let at = 0;
  for (let i = 1; i < samples.length; i++) {
    if (samples[i]!.newSpaceCommitted !== samples[i - 1]!.newSpaceCommitted) at = samples[i]!.t;
  }
  return at;
}

/** The warm-up: the first 20% of the run, at least 30 s, but never more than half of it. */
export function warmupFor(durationS: number): number {
  return Math.max(0.2 * durationS, Math.min(30, 0.5 * durationS));
}

function durationFromEnv(quick: boolean): number {
  const env = process.env['BENCH_SOAK_SECONDS'];
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isFinite(n) || n < 4)
      throw new Error(`BENCH_SOAK_SECONDS must be >= 4, got ${env}`);
    return n;
  }
  return quick ? 60 : 600;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
const mb = (bytes: number): number => round2(bytes / MB);

export const run: Section = async (ctx) => {
  const durationS = durationFromEnv(ctx.quick);
  const rate = 20_000;
  const reconnectEveryS = 10;
  const warmup = warmupFor(durationS);
  const snapshotDir = process.env['BENCH_SOAK_HEAPSNAPSHOTS'];
  const options: SoakOptions = {
    root: ctx.root,
    durationS,
    sampleS: ctx.quick ? 2 : 5,
    symbols: 1_000,
    rate,
    dropAfter: rate * reconnectEveryS,
    codec: 'msgpack',
    checkAfterS: 3,
    warmupS: warmup,
    log: ctx.log,
    // Leak hunting: BENCH_SOAK_HEAPSNAPSHOTS=DIR writes a heap snapshot at the end of the warm-up
    // and one at the end of the soak (each blocks the client for a moment: not for real figures).
    ...(snapshotDir
      ? { heapSnapshots: { dir: resolve(snapshotDir), atS: [warmup, durationS] } }
      : {}),
  };
  const r = await runSoak(options);
  const s = r.summary;
  const samples = s.samples;
  const after = samples.filter((x) => x.t >= r.warmupS);
  const memRow = (name: string, pick: (x: MemorySample) => number, slopeMb: number) => {
    const values = samples.map(pick);
    const atWarmup = after[0] ? pick(after[0]) : Number.NaN;
    return [
      name,
      mb(values[0] ?? Number.NaN),
      mb(atWarmup),
      mb(values[values.length - 1] ?? Number.NaN),
      mb(Math.max(...values)),
      round2(slopeMb),
    ];
  };
  const lostPairs = r.lost.reduce((n, c) => n + c.missing + c.desiredMissing, 0);
  const mean = (xs: readonly number[]): number =>
    xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
  const silentMax = s.checks.reduce((m, c) => Math.max(m, c.silentSymbols), 0);

  const tables: Table[] = [
    {
      title: `Memory soak: heap and RSS (MB), ${durationS} s at ${rate / 1000}k msgs/s`,
      columns: ['', 'first', `at ${Math.round(r.warmupS)} s`, 'last', 'max', 'slope MB/10 min'],
      rows: [
        memRow('heapUsed', (x) => x.heapUsed, r.slopes.heapUsed),
        memRow('  of which old space', (x) => x.oldSpaceUsed, r.slopes.oldSpaceUsed),
        memRow('  of which code space (JIT)', (x) => x.codeSpaceUsed, r.slopes.codeSpaceUsed),
        memRow('heapTotal', (x) => x.heapTotal, r.slopes.heapTotal),
        memRow('  new space committed', (x) => x.newSpaceCommitted, r.slopes.newSpaceCommitted),
        memRow('rss', (x) => x.rss, r.slopes.rss),
        [
          `  rss, from 10 s after the last new-space resize (${Math.round(newSpaceSettledAt(samples))} s)`,
          null,
          null,
          null,
          null,
          round2(r.slopes.rssAfterNewSpaceSettled),
        ],
        memRow('external', (x) => x.external, r.slopes.external),
        memRow('arrayBuffers', (x) => x.arrayBuffers, r.slopes.arrayBuffers),
      ],
      note:
        `Client: MonitorCore in a forked child (--expose-gc), ${options.symbols} symbols on quotes/trades/dailyBars, ` +
        `msgpack, one view pulling a frame every 16 ms. gc() then memoryUsage() every ${options.sampleS} s ` +
        `(${samples.length} samples); slopes are least squares over the ${after.length} samples after ${Math.round(r.warmupS)} s.`,
    },
    {
      title: 'Memory soak: reconnects and subscriptions',
      columns: ['figure', 'value'],
      rows: [
        ['simulator drops each connection after (data messages)', options.dropAfter],
        ['live sessions', s.liveSessions],
        ['reconnects (live again after a drop)', s.liveSessions - 1],
        ['reconnects (client metrics)', s.clientReconnects],
        ['mean s between live sessions', round2(mean(s.sessionGaps))],
        ['mean s from drop to live again', round2(mean(s.outages))],
        ['messages received', s.messages],
        ['messages/s (mean over the soak)', Math.round(s.messages / s.elapsedS)],
        ['frames pulled by the view', s.frames],
        ['client process CPU (% of one core)', Math.round(s.cpuPct)],
        ['subscription checks (3 s after live)', s.checks.length],
        ['sessions not checked (ended before 3 s)', s.unchecked],
        ['sessions with a lost subscription', r.lost.length],
        ['(channel, symbol) pairs lost, summed', lostPairs],
        ['most symbols with no data at a check', silentMax],
      ],
      note: 'A check compares the confirmed and desired sets (diagnostics:snapshot) with the watchlist; "no data" counts watchlist symbols absent from every frame since that session went live.',
    },
  ];

  return {
    name: 'memory',
    tables,
    targets: [
      target('memory: heap slope', round2(r.slopes.heapUsed), '<=', 1, 'MB/10 min'),
      target('memory: rss slope', round2(r.slopes.rss), '<=', 1, 'MB/10 min'),
      target('memory: subscriptions lost', lostPairs, '<=', 0, 'pairs'),
    ],
    details: {
      options: r.options,
      slopes: r.slopes,
      lostChecks: r.lost,
      checks: s.checks,
      unchecked: s.unchecked,
      sessionGaps: s.sessionGaps,
      outages: s.outages,
      messages: s.messages,
      clientReconnects: s.clientReconnects,
      frames: s.frames,
      frameRows: s.frameRows,
      cpuPct: s.cpuPct,
      bookSymbols: s.bookSymbols,
      samples: samples.map((x) => ({
        t: round2(x.t),
        heapUsedMB: mb(x.heapUsed),
        oldSpaceMB: mb(x.oldSpaceUsed),
        codeSpaceMB: mb(x.codeSpaceUsed),
        heapTotalMB: mb(x.heapTotal),
        newSpaceMB: mb(x.newSpaceCommitted),
        rssMB: mb(x.rss),
        externalMB: mb(x.external),
        arrayBuffersMB: mb(x.arrayBuffers),
        messages: x.messages,
        reconnects: x.reconnects,
        gcMs: round2(x.gcMs),
      })),
    },
  };
};
