/**
 * The client side of the memory soak (section 5), run by bench/memory.ts in a forked child with
 * --expose-gc so that its heap is its own and can be settled before each sample.
 *
 * What runs here is the app's main-process core, as a window would use it: a real MonitorCore on a
 * temp user-data folder (MemorySecretStore, source `alpaca` pointed at the simulator's URL through
 * the `alpacaUrl` option, msgpack), one watchlist of the soak's symbols, and one view that pulls
 * frames continuously: nextFrame(), structuredClone (what the MessagePort does to it), then 16 ms
 * of "painting" before the next pull. The load (the simulator, which drops every connection after
 * N data messages) runs in another process; the core has to notice each loss and reconnect by
 * itself.
 *
 * Every `sampleMs`: global.gc(), then process.memoryUsage(), sent to the parent. Each time the
 * connection goes live again, `checkAfterMs` later (if it is still the same session) the
 * subscriptions the server confirmed are compared with what the watchlist asks for (every symbol
 * on quotes, trades and daily bars); a difference still present then counts as lost. Independently
 * of the client's own bookkeeping, the symbols that had data in frames since going live are counted
 * at the same moment (a symbol that stopped streaming would show there).
 *
 * Protocol (child_process IPC): the parent sends one `start` message with WorkerConfig; the worker
 * sends `live` once, a `sample` per sample, then `done` with the summary (or `failed`), and exits.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { MemorySecretStore } from '../electron/core/memory-secrets.ts';
import { MonitorCore, STREAM_CHANNELS } from '../electron/core/monitor-core.ts';
import type { ViewSink } from '../electron/core/types.ts';
import {
  DEFAULT_SETTINGS,
  type EventMap,
  type EventName,
  type Snapshot,
  type SubscriptionsView,
} from '../shared/api.ts';
import { SymbolTable } from '../shared/frame.ts';
import type { Codec } from '../shared/market.ts';

export interface WorkerConfig {
  /** The simulator's base URL (ws://127.0.0.1:port); the worker appends the feed path. */
  readonly url: string;
  readonly symbols: readonly string[];
  readonly codec: Codec;
  /** How long to soak, from the first time the connection is live. */
  readonly durationMs: number;
  readonly sampleMs: number;
  /** How long after going live the subscriptions must be complete. */
  readonly checkAfterMs: number;
  /** The view's "paint" time between two frames. */
  readonly frameIntervalMs: number;
  /** Give up when the first live session takes longer than this. */
  readonly liveTimeoutMs: number;
  /**
   * Leak hunting (off by default: writing one blocks the process for a while): after the first
   * sample at or past each of these times (s), v8.writeHeapSnapshot into `heapSnapshotDir`.
   */
  readonly heapSnapshotDir?: string;
  readonly heapSnapshotAtS?: readonly number[];
}

export interface MemorySample {
  /** Seconds since the first live session began. */
  readonly t: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly rss: number;
  readonly external: number;
  readonly arrayBuffers: number;
  /** V8 heap spaces after the gc(): where heapUsed is (objects vs JIT code), and the young generation's size. */
  readonly oldSpaceUsed: number;
  readonly codeSpaceUsed: number;
  readonly largeObjectSpaceUsed: number;
  readonly newSpaceCommitted: number;
  /** Data and control messages the client has received (its own metrics). */
  readonly messages: number;
  /** Live sessions after the first one, as this view saw them. */
  readonly reconnects: number;
  /** How long the forced gc() before this sample took, ms. */
  readonly gcMs: number;
}

export interface SubscriptionCheck {
  /** Which live session (1 = the first). */
  readonly session: number;
  /** Seconds since the first live session. */
  readonly t: number;
  /** Expected (channel, symbol) pairs the server had not confirmed. */
  readonly missing: number;
  /** Confirmed pairs nobody asked for. */
  readonly extra: number;
  /** Expected pairs missing from the client's desired set (the watchlist side losing them). */
  readonly desiredMissing: number;
  /** Expected symbols with no update in any frame since this session went live. */
  readonly silentSymbols: number;
}

export interface WorkerSummary {
  readonly samples: readonly MemorySample[];
  readonly checks: readonly SubscriptionCheck[];
  /** Live sessions that ended before their check was due (not checked). */
  readonly unchecked: number;
  readonly liveSessions: number;
  /** Seconds between the starts of consecutive live sessions. */
  readonly sessionGaps: readonly number[];
  /** Seconds spent not live between sessions (loss to live again). */
  readonly outages: readonly number[];
  readonly messages: number;
  readonly clientReconnects: number;
  readonly frames: number;
  readonly frameRows: number;
  readonly elapsedS: number;
  /** Process CPU over the soak, as a share of one core. */
  readonly cpuPct: number;
  readonly bookSymbols: number;
}

export type WorkerMessage =
  | { readonly type: 'live' }
  | { readonly type: 'sample'; readonly sample: MemorySample }
  | { readonly type: 'done'; readonly summary: WorkerSummary }
  | { readonly type: 'failed'; readonly error: string };

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

function pairs(view: Partial<Record<string, readonly string[]>>): Set<string> {
  const out = new Set<string>();
  for (const [channel, symbols] of Object.entries(view)) {
    for (const symbol of symbols ?? []) out.add(`${channel}:${symbol}`);
  }
  return out;
}

async function soak(config: WorkerConfig): Promise<WorkerSummary> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') throw new Error('the soak worker needs --expose-gc');

  const expected = new Set<string>();
  for (const channel of STREAM_CHANNELS) {
    for (const symbol of config.symbols) expected.add(`${channel}:${symbol}`);
  }

  const dir = await mkdtemp(join(tmpdir(), 'mm-bench-soak-'));
  let core: MonitorCore | undefined;
  try {
    await writeFile(
      join(dir, 'settings.json'),
      JSON.stringify({
        ...DEFAULT_SETTINGS,
        source: { kind: 'alpaca', feed: 'iex', codec: config.codec },
        autoConnect: true,
      }),
    );
    await writeFile(
      join(dir, 'watchlists.json'),
      JSON.stringify({
        version: 1,
        watchlists: [{ id: 'soak', name: 'Soak', symbols: config.symbols }],
      }),
    );

    // Session bookkeeping, fed by the view's events. Only the latest state is kept: a sink that
    // stored every event would itself be the leak this soak looks for.
    let state = 'idle';
    let session = 0;
    let firstLiveAt: number | undefined;
    let lastLiveAt = 0;
    let lostAt: number | undefined;
    const sessionGaps: number[] = [];
    const outages: number[] = [];
    let seenThisSession = new Set<string>();
    let onFirstLive: (() => void) | undefined;
    const checksDue: NodeJS.Timeout[] = [];
    const checks: SubscriptionCheck[] = [];
    let unchecked = 0;
    let checkedSession = 0;

    const sinceStart = (at: number): number =>
      firstLiveAt === undefined ? 0 : (at - firstLiveAt) / 1000;

    const check = async (forSession: number): Promise<void> => {
      if (forSession !== session || state !== 'live' || core === undefined) return;
      const result = await view.invoke('diagnostics:snapshot', {});
      if (!result.ok || forSession !== session || state !== 'live') return;
      const subs: SubscriptionsView = (result.value as Snapshot).subscriptions;
      const confirmed = pairs(subs.confirmed);
      const desired = pairs(subs.desired);
      let missing = 0;
      let desiredMissing = 0;
      for (const p of expected) {
        if (!confirmed.has(p)) missing++;
        if (!desired.has(p)) desiredMissing++;
      }
      let extra = 0;
      for (const p of confirmed) if (!expected.has(p)) extra++;
      let silentSymbols = 0;
      for (const symbol of config.symbols) if (!seenThisSession.has(symbol)) silentSymbols++;
      checkedSession = forSession;
      checks.push({
        session: forSession,
        t: sinceStart(performance.now()),
        missing,
        extra,
        desiredMissing,
        silentSymbols,
      });
    };

    const onState = (next: string): void => {
      const now = performance.now();
      const was = state;
      state = next;
      if (next === 'live' && was !== 'live') {
        session++;
        if (firstLiveAt === undefined) {
          firstLiveAt = now;
          onFirstLive?.();
        } else {
          sessionGaps.push((now - lastLiveAt) / 1000);
          if (lostAt !== undefined) outages.push((now - lostAt) / 1000);
        }
        lastLiveAt = now;
        lostAt = undefined;
        seenThisSession = new Set();
        const mine = session;
        checksDue.push(
          setTimeout(() => {
            checksDue.shift();
            void check(mine).catch((err: unknown) => {
              process.stderr.write(`soak worker: subscription check failed: ${String(err)}\n`);
            });
          }, config.checkAfterMs),
        );
      } else if (was === 'live' && next !== 'live') {
        lostAt = now;
        if (checkedSession !== session) unchecked++;
      }
    };

    const sink: ViewSink = {
      emit<E extends EventName>(event: E, payload: EventMap[E]): void {
        if (event === 'connection:state') onState((payload as EventMap['connection:state']).state);
      },
    };

    core = await MonitorCore.create({
      userDataDir: dir,
      secrets: new MemorySecretStore(),
      app: APP,
      alpacaUrl: () => `${config.url}/v2/iex`,
      env: { keyId: 'PKBENCHSOAK000000001', secret: 'bench-soak-secret-000001' },
    });
    const view = core.openView(sink);

    await new Promise<void>((resolve, reject) => {
      if (firstLiveAt !== undefined) {
        resolve();
        return;
      }
      const timer = setTimeout(
        () => reject(new Error(`not live after ${config.liveTimeoutMs} ms (state ${state})`)),
        config.liveTimeoutMs,
      );
      onFirstLive = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    send({ type: 'live' });
    const cpuStart = process.cpuUsage();
    const wallStart = performance.now();

    // The window: pull a frame, clone it as the port would, paint for a frame interval.
    let stopped = false;
    let frames = 0;
    let frameRows = 0;
    const symbolTable = new SymbolTable();
    let pumpError: unknown;
    const pump = (async () => {
      while (!stopped) {
        let frame;
        try {
          frame = await view.nextFrame();
        } catch {
          if (stopped) return;
          throw new Error('nextFrame failed during the soak');
        }
        const copy = structuredClone(frame);
        frames++;
        frameRows += copy.rows.length;
        symbolTable.learn(copy);
        const seen = seenThisSession;
        for (const symbol of symbolTable.symbolsOf(copy))
          if (symbol !== undefined) seen.add(symbol);
        await sleep(config.frameIntervalMs);
      }
    })().catch((err: unknown) => {
      // Reported at the end: a view that stopped pulling would make the soak meaningless.
      pumpError = err;
    });

    const snapshotOf = async (): Promise<Snapshot> => {
      const result = await view.invoke('diagnostics:snapshot', {});
      if (!result.ok) throw new Error(`diagnostics:snapshot failed: ${result.error.message}`);
      return result.value as Snapshot;
    };

    const samples: MemorySample[] = [];
    const snapshotsDue = [...(config.heapSnapshotAtS ?? [])].sort((a, b) => a - b);
    const takeSample = async (): Promise<void> => {
      const snap = await snapshotOf();
      const g0 = performance.now();
      gc();
      const gcMs = performance.now() - g0;
      const m = process.memoryUsage();
      const spaces = new Map(v8.getHeapSpaceStatistics().map((sp) => [sp.space_name, sp]));
      const sample: MemorySample = {
        t: sinceStart(performance.now()),
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        rss: m.rss,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
        oldSpaceUsed: spaces.get('old_space')?.space_used_size ?? Number.NaN,
        codeSpaceUsed: spaces.get('code_space')?.space_used_size ?? Number.NaN,
        largeObjectSpaceUsed: spaces.get('large_object_space')?.space_used_size ?? Number.NaN,
        newSpaceCommitted: spaces.get('new_space')?.space_size ?? Number.NaN,
        messages: snap.metrics.messages.total,
        reconnects: Math.max(0, session - 1),
        gcMs,
      };
      samples.push(sample);
      send({ type: 'sample', sample });
      if (config.heapSnapshotDir !== undefined && snapshotsDue.length > 0) {
        if (sample.t >= snapshotsDue[0]!) {
          snapshotsDue.shift();
          const file = join(config.heapSnapshotDir, `soak-${Math.round(sample.t)}s.heapsnapshot`);
          v8.writeHeapSnapshot(file);
          process.stderr.write(`soak worker: heap snapshot ${file}\n`);
        }
      }
    };

    // Samples on a fixed schedule from the first live moment (drift-free).
    const start = firstLiveAt ?? performance.now();
    await takeSample();
    for (let k = 1; ; k++) {
      const due = start + k * config.sampleMs;
      if (due > start + config.durationMs + 1) break;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      await takeSample();
    }

    const cpu = process.cpuUsage(cpuStart);
    const elapsedS = (performance.now() - wallStart) / 1000;
    const final = await snapshotOf();
    stopped = true;
    for (const timer of checksDue) clearTimeout(timer);
    view.close();
    await pump;
    if (pumpError !== undefined) {
      throw pumpError instanceof Error
        ? pumpError
        : new Error(`the frame pump failed: ${JSON.stringify(pumpError)}`);
    }
    return {
      samples,
      checks,
      // A session still live at the end that had not reached its check yet.
      unchecked: unchecked + (state === 'live' && checkedSession !== session ? 1 : 0),
      liveSessions: session,
      sessionGaps,
      outages,
      messages: final.metrics.messages.total,
      clientReconnects: final.metrics.reconnects,
      frames,
      frameRows,
      elapsedS,
      cpuPct: ((cpu.user + cpu.system) / 1e6 / elapsedS) * 100,
      bookSymbols: final.frames.symbols,
    };
  } finally {
    await core?.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Set by bench/memory.ts in the worker's environment. */
export const WORKER_ENV = 'MM_BENCH_SOAK_WORKER';

// Run only as the forked worker; importing this module for its types does nothing.
if (process.env[WORKER_ENV] === '1' && process.send !== undefined) {
  // The parent went away (killed, crashed): do not outlive it.
  process.once('disconnect', () => process.exit(1));
  process.once('message', (message: { type: string; config: WorkerConfig }) => {
    if (message.type !== 'start') return;
    soak(message.config)
      .then((summary) => send({ type: 'done', summary }))
      .catch((err: unknown) =>
        send({
          type: 'failed',
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        }),
      )
      .finally(() => {
        // Let the last message flush through the channel, then leave.
        process.disconnect?.();
      });
  });
}
