/**
 * The app under test for bench/e2e.ts, in its own process: what `market-monitor web` runs
 * (electron/cli/web-command.ts runWeb: MonitorCore.create + startHost, keys in a MemorySecretStore,
 * createCoreLogger), except that the Alpaca source points at the simulator process the bench
 * started, and a fresh data folder is seeded with one watchlist of the bench's symbols.
 *
 *   node bench/e2e-host.ts --sim-url ws://127.0.0.1:PORT --static DIR   (symbols: JSON on argv 3+)
 *
 * Prints one JSON line on stdout, {"type":"listening","url":"http://127.0.0.1:PORT/#token=..."}.
 * Forked with an IPC channel, it answers {type:'sample'} with what main measured of itself at that
 * instant (messages received, frames served to the tab, CPU and event-loop use), answers
 * {type:'frames'} with when it handled and answered each frame request, and stops on
 * {type:'stop'}, SIGTERM/SIGINT, or when the parent goes away (the channel closes), so it can never
 * outlive the bench. The data folder is removed on the way out.
 *
 * Nothing here changes how the app works: the host gets the core through the HostCore seam
 * (openView only), and the wrapper merely counts the frames each view pulls and keeps the newest
 * session so that a sample can ask it for a read-only 'diagnostics:snapshot'. No extra view (and
 * so no extra book cursor) is opened.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  constants,
  monitorEventLoopDelay,
  performance,
  PerformanceObserver,
} from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { parseArgs } from 'node:util';
import type { Snapshot } from '../shared/api.ts';
import { FEED_PATHS } from '../shared/market.ts';
import type { ViewSession, ViewSink } from '../electron/core/types.ts';
import { MonitorCore } from '../electron/core/monitor-core.ts';
import { MemorySecretStore } from '../electron/core/memory-secrets.ts';
import { createCoreLogger } from '../electron/core/logging.ts';
import { startHost, type Host } from '../electron/host/server.ts';

/** What the bench sends over IPC. */
export type HostRequest =
  | { readonly type: 'sample'; readonly id: number }
  | { readonly type: 'frames'; readonly id: number; readonly from: number; readonly to: number }
  | { readonly type: 'stop' };

/**
 * When main handled each frame request the tab sent, and when it answered it (the host encodes
 * and sends the frame right then), as wall-clock ms (performance.timeOrigin + performance.now(),
 * the clock a page's own timeOrigin is on). Answers {type:'frames'} for requests handled in
 * [from, to].
 */
export interface HostFrames {
  readonly type: 'frames';
  readonly id: number;
  readonly stamps: readonly (readonly [handled: number, answered: number])[];
}

/** One reading of main, taken inside main. */
export interface HostSample {
  readonly type: 'sample';
  readonly id: number;
  /** CLOCK_MONOTONIC, ns, as a decimal string (comparable across processes on Linux). */
  readonly hrtime: string;
  /** Main's own metrics at this instant (client.snapshot(), taken by the command). */
  readonly metricsAt: number;
  readonly messagesTotal: number;
  readonly connection: string;
  /** Frames the tab pulled from its view, and the rows they carried. */
  readonly framesServed: number;
  readonly rowsServed: number;
  /** The view cursor's own count of updates folded into newer ones (conflation). */
  readonly conflated: number;
  /** process.cpuUsage() of this process, µs. */
  readonly cpuUser: number;
  readonly cpuSystem: number;
  /** performance.eventLoopUtilization() totals, ms. */
  readonly eluIdle: number;
  readonly eluActive: number;
  readonly views: number;
  /** Garbage collections since the host started: how many, their total and longest pause, ms. */
  readonly gcCount: number;
  readonly gcTotalMs: number;
  /** The longest since the previous sample (the window's, for the sample that ends it). */
  readonly gcMaxMs: number;
  /**
   * Main's event-loop delay since the previous sample, ms (monitorEventLoopDelay, 10 ms
   * resolution): how long a page's frame request may wait for main's loop.
   */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  /** Full (mark-compact) collections since the host started: the long pauses among the GCs. */
  readonly gcMajorCount: number;
  /** Main's V8 heap in use, MB: now, and the most seen since the host started. */
  readonly heapUsedMb: number;
  readonly heapPeakMb: number;
  /** Main's resident set, MB: now, and the most seen since the host started. */
  readonly rssMb: number;
  readonly rssPeakMb: number;
  /** Main's REST requests so far and those in flight (NaN without REST). */
  readonly restRequests: number;
  readonly restInFlight: number;
}

// What main's own pauses look like in the window: a frame request waits behind them.
let gcCount = 0;
let gcTotalMs = 0;
let gcMaxMs = 0;
let gcMajorCount = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcCount += 1;
    gcTotalMs += entry.duration;
    gcMaxMs = Math.max(gcMaxMs, entry.duration);
    const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcMajorCount += 1;
  }
}).observe({ entryTypes: ['gc'] });
// Main's memory, read every 50 ms: a startup's peak lasts seconds, which a sample taken at the
// window's edges would miss. Both reads cost a few microseconds.
const MB = 1024 * 1024;
let heapPeakMb = 0;
let rssPeakMb = 0;
setInterval(() => {
  heapPeakMb = Math.max(heapPeakMb, getHeapStatistics().used_heap_size / MB);
  rssPeakMb = Math.max(rssPeakMb, process.memoryUsage.rss() / MB);
}, 50).unref();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: {
    'sim-url': { type: 'string' },
    static: { type: 'string' },
    codec: { type: 'string' },
    'log-level': { type: 'string' },
  },
});
const simUrl = values['sim-url'];
const staticDir = values.static;
if (simUrl === undefined || staticDir === undefined) {
  process.stderr.write('e2e-host: --sim-url and --static are required\n');
  process.exit(2);
}
const simHttp = simUrl.replace(/^ws/, 'http');
const codec = values.codec === 'json' ? 'json' : 'msgpack';
const symbols = positionals;
if (symbols.length === 0) {
  process.stderr.write('e2e-host: no symbols given\n');
  process.exit(2);
}

const dataDir = await mkdtemp(join(tmpdir(), 'market-monitor-bench-e2e-'));
// Seeded as files, as a user's data folder would hold them: the core reads them at start, so the
// client connects once, to the right source, with the whole list subscribed.
await writeFile(
  join(dataDir, 'settings.json'),
  JSON.stringify({
    version: 1,
    source: { kind: 'alpaca', feed: 'iex', codec },
    theme: 'dark',
    autoConnect: true,
    allowInsecureCredentialStorage: false,
  }),
);
await writeFile(
  join(dataDir, 'watchlists.json'),
  JSON.stringify({
    version: 1,
    watchlists: [{ id: 'bench', name: `Bench ${symbols.length}`, symbols }],
  }),
);

const level = values['log-level'] ?? 'warn';
const { logger, ring } = createCoreLogger({
  level: level as 'warn',
  destination: process.stderr,
});

// The simulator runs in demo mode (any key is accepted); the keys only get the client past the
// "no credentials" gate, as APCA_API_KEY_ID / APCA_API_SECRET_KEY would for `market-monitor web`.
const secrets = new MemorySecretStore({ initial: { keyId: 'bench-key', secret: 'bench-secret' } });

let core: MonitorCore | undefined;
let host: Host | undefined;
let stopping: Promise<void> | undefined;

/** Frame requests' [handled, answered] stamps, newest last; the oldest half goes when full. */
const FRAME_STAMPS_KEPT = 20_000;
const frameStamps: (readonly [number, number])[] = [];
const wallNow = (): number => performance.timeOrigin + performance.now();

interface Counted {
  readonly session: ViewSession;
  frames: number;
  rows: number;
}
const sessions: Counted[] = [];

function stop(code: number): Promise<void> {
  stopping ??= (async () => {
    try {
      await host?.close();
      await core?.close();
    } catch (err) {
      process.stderr.write(`e2e-host: close failed: ${String(err)}\n`);
    }
    logger.flush();
    await rm(dataDir, { recursive: true, force: true });
    process.exit(code);
  })();
  return stopping;
}

process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));
// The parent went away (crashed, killed): nothing would ever stop us otherwise.
process.on('disconnect', () => void stop(0));

try {
  core = await MonitorCore.create({
    userDataDir: dataDir,
    secrets,
    app: {
      name: 'Market Monitor (bench e2e host)',
      version: 'bench',
      platform: process.platform,
      runtime: `node ${process.version}`,
    },
    logger,
    logRing: ring,
    alpacaUrl: (feed) => `${simUrl}${FEED_PATHS[feed]}`,
    // The simulator serves Alpaca's REST too (snapshots, bars, the calendar, the asset list), as
    // the embedded one does for `market-monitor web`. Without this, REST went to Alpaca's real
    // hosts, which a machine with no internet cannot resolve: every selection's snapshot failed
    // and retried, and the warnings it logged (~11 a second) were what Diagnostics drew.
    rest: { dataUrl: simHttp, tradingUrl: simHttp },
  });
  const real = core;
  host = await startHost({
    core: {
      openView(sink: ViewSink): ViewSession {
        const session = real.openView(sink);
        const counted: Counted = { session, frames: 0, rows: 0 };
        sessions.push(counted);
        return {
          id: session.id,
          invoke: (command, payload) => session.invoke(command, payload),
          nextFrame: async () => {
            const handled = wallNow();
            const frame = await session.nextFrame();
            if (frameStamps.length >= FRAME_STAMPS_KEPT)
              frameStamps.splice(0, FRAME_STAMPS_KEPT / 2);
            frameStamps.push([handled, wallNow()]);
            counted.frames += 1;
            counted.rows += frame.rows.length;
            return frame;
          },
          close: () => {
            const at = sessions.indexOf(counted);
            if (at >= 0) sessions.splice(at, 1);
            session.close();
          },
        };
      },
    },
    staticDir,
    port: 0,
    logger,
  });
} catch (err) {
  process.stderr.write(
    `e2e-host: start failed: ${err instanceof Error ? err.stack : String(err)}\n`,
  );
  await stop(1);
}

async function sample(id: number): Promise<HostSample> {
  const hrtime = process.hrtime.bigint().toString();
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  const counted = sessions.at(-1);
  let snap: Snapshot | undefined;
  if (counted !== undefined) {
    const result = await counted.session.invoke('diagnostics:snapshot', {});
    if (result.ok) snap = result.value as Snapshot;
  }
  return {
    type: 'sample',
    id,
    hrtime,
    metricsAt: snap?.metrics.at ?? Number.NaN,
    messagesTotal: snap?.metrics.messages.total ?? Number.NaN,
    connection: snap?.connection.state ?? 'no view',
    framesServed: counted?.frames ?? 0,
    rowsServed: counted?.rows ?? 0,
    conflated: snap?.frames.conflated ?? Number.NaN,
    cpuUser: cpu.user,
    cpuSystem: cpu.system,
    eluIdle: elu.idle,
    eluActive: elu.active,
    views: sessions.length,
    restRequests: snap?.rest?.requests ?? Number.NaN,
    restInFlight: snap?.rest?.inFlight ?? Number.NaN,
    ...pauses(),
  };
}

/** GC and loop-delay figures since the previous sample; starts the next period. */
function pauses(): Pick<
  HostSample,
  | 'gcCount'
  | 'gcTotalMs'
  | 'gcMaxMs'
  | 'gcMajorCount'
  | 'heapUsedMb'
  | 'heapPeakMb'
  | 'rssMb'
  | 'rssPeakMb'
  | 'loopDelayP99Ms'
  | 'loopDelayMaxMs'
> {
  const out = {
    gcCount,
    gcTotalMs,
    gcMaxMs,
    gcMajorCount,
    heapUsedMb: getHeapStatistics().used_heap_size / MB,
    heapPeakMb,
    rssMb: process.memoryUsage.rss() / MB,
    rssPeakMb,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
  };
  gcMaxMs = 0;
  loopDelay.reset();
  return out;
}

process.on('message', (raw: unknown) => {
  const request = raw as HostRequest;
  if (request.type === 'stop') void stop(0);
  else if (request.type === 'frames') {
    const reply: HostFrames = {
      type: 'frames',
      id: request.id,
      stamps: frameStamps.filter(([handled]) => handled >= request.from && handled <= request.to),
    };
    process.send?.(reply);
  } else if (request.type === 'sample') {
    sample(request.id).then(
      (reply) => process.send?.(reply),
      (err: unknown) =>
        process.send?.({ type: 'sample-error', id: request.id, message: String(err) }),
    );
  }
});

if (host !== undefined)
  process.stdout.write(`${JSON.stringify({ type: 'listening', url: host.url })}\n`);
