/**
 * What a page spends per drawn frame, from a Chrome trace taken after a measured window: the trace
 * summarized by thread and kind (scripting, rendering, painting, GC) in thread time, as DevTools'
 * summary classifies it, divided by the frames the probe counted over the same span, with the CPU
 * profile's hottest functions (cpu-profile.ts) beside it. summarizeTrace is pure; tracePage drives
 * the browser.
 */
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { sourceMapsFor, topFunctions, type CpuProfile } from './cpu-profile.ts';
import { PROBE_COUNT } from './page-probe.ts';
import type { Table } from './report.ts';

/** How long the trace (and CPU profile) after each window runs. */
const TRACE_MS = 3_000;

export interface TraceEvent {
  readonly name: string;
  readonly ph: string;
  readonly ts: number;
  readonly dur?: number;
  /** Thread (CPU) time of the event, µs: what it cost, whatever else ran on the machine. */
  readonly tdur?: number;
  readonly pid: number;
  readonly tid: number;
  readonly args?: { readonly name?: string };
}

const KIND_OF: Readonly<Record<string, string>> = {};
for (const name of [
  'EvaluateScript',
  'FunctionCall',
  'TimerFire',
  'FireAnimationFrame',
  'EventDispatch',
  'RunMicrotasks',
  'v8.compile',
  'v8.compileModule',
  'v8.evaluateModule',
  'v8.run',
  'v8.callFunction',
  'V8.Execute',
  'XHRLoad',
  'XHRReadyStateChange',
  'FireIdleCallback',
  'RequestAnimationFrame',
  'TimerInstall',
  'TimerRemove',
  'ParseHTML',
  'v8.parseOnBackground',
])
  (KIND_OF as Record<string, string>)[name] = 'scripting';
for (const name of [
  'MinorGC',
  'MajorGC',
  'GCEvent',
  'V8.GCScavenger',
  'V8.GCCompactor',
  'V8.GCFinalizeMC',
  'V8.GCIncrementalMarking',
  'BlinkGC.AtomicPhase',
  'ThreadState::performIdleLazySweep',
  'V8.GC_SCAVENGER',
  'V8.GC_MC_BACKGROUND_MARKING',
])
  (KIND_OF as Record<string, string>)[name] = 'gc';
for (const name of [
  'UpdateLayoutTree',
  'RecalculateStyles',
  'Layout',
  'UpdateLayerTree',
  'HitTest',
  'PrePaint',
  'Layerize',
  'ScheduleStyleRecalculation',
  'InvalidateLayout',
  'LayoutShift',
  'IntersectionObserverController::computeIntersections',
  'ScrollLayer',
])
  (KIND_OF as Record<string, string>)[name] = 'rendering';
for (const name of [
  'Paint',
  'PaintImage',
  'PaintSetup',
  'CompositeLayers',
  'Commit',
  'RasterTask',
  'Rasterize',
  'DecodeImage',
  'ImageDecodeTask',
  'UpdateLayer',
  'Decode LazyPixelRef',
])
  (KIND_OF as Record<string, string>)[name] = 'painting';

export interface ThreadSummary {
  readonly thread: string;
  /** Wall time inside top-level tasks, ms per second of trace (inflated when starved of CPU). */
  readonly wallMsPerS: number;
  /** Thread CPU time inside top-level tasks, ms per second of trace (1000 = one core). */
  readonly cpuMsPerS: number;
  /** CPU ms per second by kind (self time; an unknown event inherits its parent's kind). */
  readonly byKind: Record<string, number>;
}

/**
 * Self time of every complete ('X') event by thread, classified the way DevTools' summary does
 * (scripting / rendering / painting / gc / other), in THREAD time (`tdur`): on a machine whose cores
 * are shared, wall durations include the time a thread waited for a core, which is not its cost.
 * Threads are grouped by name (all raster workers together). Figures are per second of trace.
 */
export function summarizeTrace(events: readonly TraceEvent[]): {
  seconds: number;
  threads: ThreadSummary[];
  events: { thread: string; name: string; cpuMsPerS: number; wallMsPerS: number }[];
} {
  const threadName = new Map<string, string>();
  for (const e of events) {
    if (e.ph === 'M' && e.name === 'thread_name' && e.args?.name !== undefined)
      threadName.set(`${e.pid}:${e.tid}`, e.args.name.replace(/\d+$/, ''));
  }
  const perThread = new Map<string, TraceEvent[]>();
  let first = Infinity;
  let last = -Infinity;
  for (const e of events) {
    if (e.ph !== 'X' || e.dur === undefined) continue;
    const key = `${e.pid}:${e.tid}`;
    const list = perThread.get(key) ?? [];
    list.push(e);
    perThread.set(key, list);
    first = Math.min(first, e.ts);
    last = Math.max(last, e.ts + e.dur);
  }
  const seconds = Math.max(1e-6, (last - first) / 1e6);
  interface Group {
    byKind: Record<string, number>;
    wall: number;
    cpu: number;
  }
  interface Open {
    readonly end: number;
    readonly kind: string;
    readonly name: string;
    selfWall: number;
    selfCpu: number;
  }
  const grouped = new Map<string, Group>();
  const byName = new Map<string, { thread: string; name: string; cpu: number; wall: number }>();
  for (const [key, list] of perThread) {
    const thread = threadName.get(key) ?? `thread ${key}`;
    const group = grouped.get(thread) ?? { byKind: {}, wall: 0, cpu: 0 };
    grouped.set(thread, group);
    list.sort((x, y) => x.ts - y.ts || (y.dur ?? 0) - (x.dur ?? 0));
    const stack: Open[] = [];
    const close = (until: number) => {
      while (stack.length > 0 && (stack.at(-1) as Open).end <= until) {
        const done = stack.pop() as Open;
        group.byKind[done.kind] = (group.byKind[done.kind] ?? 0) + done.selfCpu;
        const id = `${thread}|${done.name}`;
        const entry = byName.get(id) ?? { thread, name: done.name, cpu: 0, wall: 0 };
        entry.cpu += done.selfCpu;
        entry.wall += done.selfWall;
        byName.set(id, entry);
      }
    };
    for (const e of list) {
      close(e.ts);
      const wall = e.dur ?? 0;
      const cpu = e.tdur ?? wall;
      const parent = stack.at(-1);
      if (parent !== undefined) {
        parent.selfWall -= Math.min(wall, parent.selfWall);
        parent.selfCpu -= Math.min(cpu, parent.selfCpu);
      } else {
        group.wall += wall;
        group.cpu += cpu;
      }
      const kind = KIND_OF[e.name] ?? parent?.kind ?? 'other';
      stack.push({ end: e.ts + wall, kind, name: e.name, selfWall: wall, selfCpu: cpu });
    }
    close(Infinity);
  }
  const perS = (us: number) => us / 1000 / seconds;
  const threads = [...grouped]
    .map(([thread, g]) => {
      const byKind: Record<string, number> = {};
      for (const [k, us] of Object.entries(g.byKind)) byKind[k] = perS(us);
      return { thread, wallMsPerS: perS(g.wall), cpuMsPerS: perS(g.cpu), byKind };
    })
    .filter((t) => t.cpuMsPerS >= 1)
    .sort((x, y) => y.cpuMsPerS - x.cpuMsPerS);
  const top = [...byName.values()]
    .sort((x, y) => y.cpu - x.cpu)
    .slice(0, 15)
    .map((e) => ({
      thread: e.thread,
      name: e.name,
      cpuMsPerS: perS(e.cpu),
      wallMsPerS: perS(e.wall),
    }));
  return { seconds, threads, events: top };
}

/** What a traced page spends per drawn frame, ms of CPU (NaN when it drew no frame). */
export interface FrameCost {
  readonly framesPerS: number;
  /** The page's main thread (CrRendererMain), all kinds together. */
  readonly mainMs: number;
  /** The same by kind: scripting, rendering, painting, gc, other. */
  readonly byKind: Readonly<Record<string, number>>;
  /** Raster workers (ThreadPoolForegroundWorker): software raster with --disable-gpu. */
  readonly rasterMs: number;
}

export const KINDS = ['scripting', 'rendering', 'painting', 'gc', 'other'] as const;

/**
 * A Chrome trace of the page over TRACE_MS (with a CPU profile of its main thread when `staticDir`
 * is given, its functions source-mapped to the renderer's sources), summarized: CPU per drawn
 * frame by thread and kind, the costliest trace events, the hottest functions. Taken after a
 * measured window, never inside one. `label` prefixes the table titles.
 */
export async function tracePage(
  browser: Browser,
  context: BrowserContext,
  page: Page,
  label: string,
  staticDir: string | undefined,
  log: (line: string) => void,
): Promise<{ tables: Table[]; cost: FrameCost; details: unknown }> {
  const dir = join(tmpdir(), 'market-monitor-bench');
  mkdirSync(dir, { recursive: true });
  const stamp = `${label.replace(/\W+/g, '-')}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const tracePath = join(dir, `e2e-trace-${stamp}.json`);
  const profilePath =
    staticDir === undefined ? undefined : join(dir, `e2e-profile-${stamp}.cpuprofile`);
  log(
    `${label}: tracing${profilePath === undefined ? '' : ' and profiling'} the page for ${TRACE_MS / 1000} s`,
  );
  const cdp = await context.newCDPSession(page);
  if (profilePath !== undefined) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 250 });
  }
  // Frames the page drew while traced (the probe's rAF count over the same span): what a frame costs.
  const before = await page.evaluate<[number, number]>(PROBE_COUNT);
  await browser.startTracing(page, {
    path: tracePath,
    screenshots: false,
    categories: [
      'devtools.timeline',
      'disabled-by-default-devtools.timeline',
      'disabled-by-default-devtools.timeline.frame',
      'toplevel',
      'v8.execute',
      'blink.user_timing',
      ...(process.env['BENCH_TRACE_EXTRA'] ?? '').split(',').filter((c) => c !== ''),
    ],
  });
  if (profilePath !== undefined) await cdp.send('Profiler.start');
  await sleep(TRACE_MS);
  let profile: CpuProfile | undefined;
  if (profilePath !== undefined) {
    profile = ((await cdp.send('Profiler.stop')) as unknown as { profile: CpuProfile }).profile;
    await writeFile(profilePath, JSON.stringify(profile));
  }
  const traceBuffer = await browser.stopTracing();
  const after = await page.evaluate<[number, number]>(PROBE_COUNT);
  await cdp.detach();
  const framesPerS = (after[1] - before[1]) / ((after[0] - before[0]) / 1000);
  const trace = JSON.parse(traceBuffer.toString('utf8')) as
    { traceEvents?: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(trace) ? trace : (trace.traceEvents ?? []);
  const summary = summarizeTrace(events);
  const main = summary.threads.find((t) => t.thread === 'CrRendererMain');
  const raster = summary.threads.find((t) => t.thread === 'ThreadPoolForegroundWorker');
  const perFrame = (msPerS: number | undefined): number =>
    framesPerS > 0 ? (msPerS ?? 0) / framesPerS : Number.NaN;
  const byKind: Record<string, number> = {};
  for (const k of KINDS) byKind[k] = perFrame(main?.byKind[k]);
  const cost: FrameCost = {
    framesPerS,
    mainMs: perFrame(main?.cpuMsPerS),
    byKind,
    rasterMs: perFrame(raster?.cpuMsPerS),
  };
  const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a');
  const frameCost =
    `${framesPerS.toFixed(1)} frames/s drawn while traced: page main thread ${ms(cost.mainMs)} ` +
    `CPU per frame (${KINDS.map((k) => `${k} ${ms(byKind[k] ?? Number.NaN)}`).join(', ')}), ` +
    `raster workers ${ms(cost.rasterMs)}.`;
  log(`${label}: ${frameCost}`);
  const tables: Table[] = [
    {
      title: `${label}: where the time goes, by thread (Chrome trace, CPU time)`,
      columns: ['thread', 'wall ms/s', 'CPU ms/s', ...KINDS.map((k) => `${k} CPU ms/s`)],
      rows: summary.threads
        .slice(0, 8)
        .map((t) => [t.thread, t.wallMsPerS, t.cpuMsPerS, ...KINDS.map((k) => t.byKind[k] ?? 0)]),
      note: `${summary.seconds.toFixed(1)} s of trace, taken after the window; ms per second of trace (1000 = one core). Wall: inside tasks, waits for a core included; CPU: thread time, split by kind (self time). ${frameCost} Trace: ${tracePath}`,
    },
    {
      title: `${label}: trace events by self CPU time`,
      columns: ['thread', 'event', 'CPU ms/s', 'wall ms/s'],
      rows: summary.events.map((e) => [e.thread, e.name, e.cpuMsPerS, e.wallMsPerS]),
      note: 'Self time (children subtracted); raster workers (ThreadPoolForegroundWorker), the compositor and the display compositor (Viz) included.',
    },
  ];
  let hot: ReturnType<typeof topFunctions> | undefined;
  if (profile !== undefined && staticDir !== undefined) {
    hot = topFunctions(profile, sourceMapsFor(staticDir), 15);
    tables.push({
      title: `${label}: hottest functions on the page main thread (CPU profile, self time)`,
      columns: ['function', 'source', 'self ms', '% of busy'],
      rows: hot.top.map((h) => [h.fn, h.where, h.selfMs, h.pct]),
      note: `${(hot.totalMs / 1000).toFixed(1)} s profiled: idle ${hot.idleMs.toFixed(0)} ms, GC ${hot.gcMs.toFixed(0)} ms, (program) ${hot.programMs.toFixed(0)} ms; sources via the bundle's source map. Profile: ${profilePath ?? '-'}`,
    });
  }
  return {
    tables,
    cost,
    details: { tracePath, profilePath, framesPerS, frameCost, cost, trace: summary, profile: hot },
  };
}
