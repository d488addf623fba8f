/**
 * Section 4, end to end in Chromium: the whole app in browser mode under a full feed, measured
 * where the user sees it, in issue 13's scenarios, each beside its DOM floor.
 *
 * Setup. The project's simulator (`market-monitor simulate`, 1,000 symbols, 50,000 messages/s),
 * the app (bench/e2e-host.ts: what `market-monitor web` runs, pointed at that simulator, a
 * watchlist of the same symbols), and Debian's Chromium driven by Playwright, headless, software
 * rendering. One page serves every scenario in turn: "desk" is a 1920x1080 viewport with whatever
 * rows fit; "wall" is sized until 200 rows are visible. Rows are what the canvas watchlist states
 * in `data-visible-rows`, or, for the DOM table, counted in the page.
 *
 * The dock: desk and wall run with its Alerts tab open, as a trader's desk would (the watchlist,
 * not the tools). Diagnostics, whose live charts and counters repaint on every frame and used to
 * cost the desk more than the watchlist did, is opened only to click the histogram's Reset before
 * the window and its Export after it. "desk-diag" is the desk with Diagnostics open throughout,
 * no keys and no targets: what that tab costs stays in the report.
 *
 * Measured per scenario, after a warm-up, over a window: frame intervals (a rAF loop installed
 * before the page's scripts), long tasks, socket-to-screen per updated row (the renderer's own
 * histogram, reset and exported through the Diagnostics panel), main's message rate and frames,
 * and every process's CPU from /proc. The desk also presses ArrowDown in the focused watchlist
 * inside its window, then types into the add box in a window of its own; each key's time to the
 * paint that shows it comes from Event Timing (bench/lib/event-timing.ts). After each window, a
 * Chrome trace and a CPU profile give the page's CPU per drawn frame by kind (scripting,
 * rendering, painting, GC) and the hottest functions.
 *
 * The DOM floor (bench/lib/dom-floor.ts): once every scenario has run, the app's page closes and
 * a static page with the same rows, columns and CSS, whose numeric cells all change every frame,
 * is measured the same way at each scenario's viewport, so the app reads as a ratio to the least
 * a DOM table of those cells costs here. BENCH_E2E_SCENARIOS=desk (or wall, desk-diag, a
 * comma-separated list) runs only those.
 */
import { spawn, spawnSync, fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { symbolUniverse } from '../electron/simulator/market-walk.ts';
import type { HostSample } from './e2e-host.ts';
import {
  DEFAULT_FLOOR_COLUMNS,
  startFloorServer,
  type FloorColumn,
  type FloorServer,
  type FloorSpec,
} from './lib/dom-floor.ts';
import {
  keyToPaint,
  laterOfEach,
  pressSummary,
  pressToPaintMark,
  type EventTimingEntry,
  type KeyPress,
  type PaintMark,
} from './lib/event-timing.ts';
import { lateFramesAround, lateText } from './lib/frame-phases.ts';
import { sortedPercentile } from './lib/stats.ts';
import { target, type Section, type Table, type Target } from './lib/report.ts';

const SYMBOLS = 1_000;
const RATE = 50_000;
/** renderer/panels/watchlist.tsx ROW_HEIGHT (a .tsx module Node cannot load): for sizing only. */
const ROW_HEIGHT = 26;
const CODEC = 'msgpack';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
/** How long the trace (and CPU profile) after each window runs. */
const TRACE_MS = 3_000;
/** The Event Timing observer's threshold: the smallest Chromium accepts. */
const EVENT_THRESHOLD_MS = 16;
const DESK_VIEWPORT = { width: 1920, height: 1080 } as const;

/** One page size and its targets (issue 13's table). */
interface Scenario {
  readonly name: string;
  readonly title: string;
  /** A fixed viewport, or one sized until `rows` watchlist rows are visible. */
  readonly viewport:
    | { readonly width: number; readonly height: number }
    | { readonly width: number; readonly rows: number };
  /**
   * The dock tab open from the warm-up to the trace. Diagnostics is opened only for the
   * histogram's Reset before the window and its Export after it, unless the scenario is the one
   * that measures Diagnostics itself.
   */
  readonly dock: 'alerts' | 'diagnostics';
  /** Issue 13's targets (PASS/MISS); none for a scenario that only reports. */
  readonly limits: {
    readonly frameP95?: number;
    readonly screenP99?: number;
    readonly longTasks?: number;
    /** Also presses keys: ArrowDown in the watchlist, and keys typed in the add box. */
    readonly arrowP95?: number;
    readonly typeP95?: number;
  };
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'desk',
    title: 'a 1920x1080 window, whatever rows fit',
    viewport: DESK_VIEWPORT,
    dock: 'alerts',
    limits: { frameP95: 20, longTasks: 0, screenP99: 50, arrowP95: 50, typeP95: 50 },
  },
  {
    name: 'wall',
    title: '200 rows visible',
    viewport: { width: 1440, rows: 200 },
    dock: 'alerts',
    limits: { frameP95: 33, screenP99: 100 },
  },
  {
    // What the Diagnostics tab's live charts and counters cost on top of the desk: reported, no
    // target (a trader's desk shows the watchlist, not Diagnostics).
    name: 'desk-diag',
    title: 'the desk with the Diagnostics tab open throughout',
    viewport: DESK_VIEWPORT,
    dock: 'diagnostics',
    limits: {},
  },
];

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
];

// ------------------------------------------------------------------------------ processes

function newestMtime(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/**
 * The host serves the BUILT renderer: build it when missing or older than its sources (a stale
 * build would measure old code, and would lack the Diagnostics Reset button this section uses).
 */
function ensureRendererBuilt(root: string, log: (line: string) => void): string {
  const staticDir = join(root, '.vite', 'renderer', 'main_window');
  const index = join(staticDir, 'index.html');
  const builtAt = existsSync(index) ? statSync(index).mtimeMs : 0;
  const sourcesAt = Math.max(
    newestMtime(join(root, 'renderer')),
    newestMtime(join(root, 'shared')),
    statSync(join(root, 'vite.renderer.config.ts')).mtimeMs,
  );
  if (builtAt < sourcesAt) {
    log(builtAt === 0 ? 'building the renderer' : 'the renderer build is stale: rebuilding');
    const run = spawnSync('npm', ['run', '-s', 'build:renderer'], { cwd: root, encoding: 'utf8' });
    if (run.status !== 0)
      throw new Error(
        `npm run build:renderer failed (${run.status}):\n${run.stdout}\n${run.stderr}`,
      );
  }
  return staticDir;
}

/** Keeps the last `limit` characters a child wrote, for error messages. */
function tail(limit = 8_000): { add: (chunk: Buffer) => void; text: () => string } {
  let text = '';
  return {
    add(chunk) {
      text = (text + chunk.toString('utf8')).slice(-limit);
    },
    text: () => text,
  };
}

/** Resolves with the `url` of the first `{"type":"listening"}` line `child` prints on stdout. */
function listeningUrl(child: ChildProcess, what: string, output: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what} printed no URL in ${START_TIMEOUT_MS} ms:\n${output()}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        try {
          const parsed = JSON.parse(line) as { type?: unknown; url?: unknown };
          if (parsed.type === 'listening' && typeof parsed.url === 'string') {
            cleanup();
            resolve(parsed.url);
            return;
          }
        } catch {
          // not our line
        }
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`${what} exited (${code ?? signal}) before listening:\n${output()}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.on('exit', onExit);
  });
}

/** SIGTERM (or `gently`), then SIGKILL if it has not exited in time. */
async function stopChild(child: ChildProcess | undefined, gently?: () => void): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((done) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(killer);
      done();
    });
    try {
      if (gently) gently();
      else child.kill('SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
  });
}

interface HostHandle {
  readonly child: ChildProcess;
  readonly url: string;
  sample(): Promise<HostSample>;
  stop(): Promise<void>;
}

async function startAppHost(
  root: string,
  simUrl: string,
  staticDir: string,
  symbols: readonly string[],
): Promise<HostHandle> {
  const out = tail();
  const child = fork(
    join(root, 'bench', 'e2e-host.ts'),
    ['--sim-url', simUrl, '--static', staticDir, '--codec', CODEC, ...symbols],
    { cwd: root, execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  child.stdout?.on('data', out.add);
  child.stderr?.on('data', out.add);
  const stop = () =>
    stopChild(child, () => {
      if (child.connected) child.send({ type: 'stop' });
      else child.kill('SIGTERM');
    });
  let url: string;
  try {
    url = await listeningUrl(child, 'the app host (bench/e2e-host.ts)', out.text);
  } catch (err) {
    await stop();
    throw err;
  }
  let nextId = 1;
  const waiting = new Map<number, (reply: unknown) => void>();
  child.on('message', (reply: unknown) => {
    const id = (reply as { id?: unknown }).id;
    if (typeof id !== 'number') return;
    waiting.get(id)?.(reply);
    waiting.delete(id);
  });
  return {
    child,
    url,
    stop,
    sample() {
      const id = nextId++;
      return new Promise<HostSample>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`the app host did not answer a sample in 10 s:\n${out.text()}`));
        }, 10_000);
        waiting.set(id, (reply) => {
          clearTimeout(timer);
          const r = reply as HostSample | { type: 'sample-error'; message: string };
          if (r.type === 'sample') resolve(r);
          else reject(new Error(`the app host failed a sample: ${r.message}`));
        });
        child.send({ type: 'sample', id });
      });
    },
  };
}

// ------------------------------------------------------------------------------ CPU from /proc

/** utime + stime of one process, in clock ticks; undefined once it is gone. */
function procTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return undefined;
  }
}

function procParent(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** `pid` and all its descendants (Chromium: browser, zygotes, renderers, GPU and utility processes). */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [pid];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const child = Number(name);
    const parent = procParent(child);
    if (parent === undefined) continue;
    const list = children.get(parent) ?? [];
    list.push(child);
    children.set(parent, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    out.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return out;
}

/**
 * What a child of this process is: Chromium's kind from its command line (`--type=renderer`...;
 * the browser process has none), else its command name. Playwright's library starts the browser
 * as a direct child of this process, like the simulator and the host.
 */
function childKind(pid: number): string {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
    const exe = args[0] ?? '';
    const type = args.find((a) => a.startsWith('--type='))?.slice('--type='.length);
    if (!/chrom/i.test(exe)) return `other: ${exe.split('/').at(-1) ?? exe}`;
    if (type === undefined) return 'chromium browser';
    if (type === 'utility') {
      const sub = args.find((a) => a.startsWith('--utility-sub-type='));
      return `chromium utility${sub === undefined ? '' : ` (${sub.split('.').at(-2) ?? sub})`}`;
    }
    return `chromium ${type}`;
  } catch {
    return 'gone';
  }
}

/** Busy ticks of the whole machine (all cores) from /proc/stat. */
function machineBusyTicks(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest is already inside user).
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return busy;
  } catch {
    return undefined;
  }
}

function clockTicksPerSecond(): number {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
}

interface CpuReading {
  readonly byPid: Map<number, { kind: string; ticks: number }>;
  readonly machine: number | undefined;
}

/** CPU ticks of this process and all its descendants, each with a label, and of the machine. */
function readCpu(labels: ReadonlyMap<number, string>): CpuReading {
  const byPid = new Map<number, { kind: string; ticks: number }>();
  for (const pid of processTree(process.pid)) {
    const ticks = procTicks(pid);
    if (ticks !== undefined) byPid.set(pid, { kind: labels.get(pid) ?? childKind(pid), ticks });
  }
  return { byPid, machine: machineBusyTicks() };
}

/** CPU per process kind over the window, in % of one core. */
function cpuRows(
  a: CpuReading,
  b: CpuReading,
  seconds: number,
  hz: number,
): { kind: string; pct: number }[] {
  const byKind = new Map<string, number>();
  let ours = 0;
  for (const [pid, end] of b.byPid) {
    const start = a.byPid.get(pid)?.ticks ?? end.ticks; // a process born inside the window: from 0 is unknowable
    const d = end.ticks - start;
    ours += d;
    byKind.set(end.kind, (byKind.get(end.kind) ?? 0) + d);
  }
  const rows = [...byKind]
    .map(([kind, ticks]) => ({ kind, pct: (ticks / hz / seconds) * 100 }))
    .filter((r) => r.pct >= 0.5 || r.kind.startsWith('chromium renderer'))
    .sort((x, y) => y.pct - x.pct);
  if (a.machine !== undefined && b.machine !== undefined) {
    const all = b.machine - a.machine;
    rows.push({ kind: 'everything else on the machine', pct: ((all - ours) / hz / seconds) * 100 });
    rows.push({ kind: 'machine total (all cores)', pct: (all / hz / seconds) * 100 });
  }
  return rows;
}

// ------------------------------------------------------------------------------ the page

/**
 * Installed before the app's scripts (addInitScript runs outside the page's CSP), and on the DOM
 * floor page alike: a rAF loop that records each frame's timestamp, a long-task observer, and for
 * the key targets a capture keydown listener (the press's own event.timeStamp, tagged with what
 * the bench is pressing) and an Event Timing observer (PerformanceEventTiming: a keydown's
 * duration runs to the next paint after its handlers). `__benchWatchPaints()` starts the
 * attribute method on the canvas watchlist's `data-painted-selection`: each change of the painted
 * selection, then a MessageChannel tick, is a paint mark. The canvas paints (and sets the
 * attribute) inside an animation-frame callback (renderer/paint-clock.ts), so a message posted
 * there is delivered after that frame's rendering steps: its paint. Waiting for one more
 * animation frame first, as first planned, would add a whole frame to every mark. Plain JS: it
 * runs in the page.
 */
const PROBE = `(() => {
  const probe = { raf: [], longtasks: [], longtaskSupported: true, keyTag: '', keys: [], events: [],
    eventTimingSupported: typeof PerformanceEventTiming !== 'undefined', paints: [] };
  Object.defineProperty(window, '__benchProbe', { value: probe });
  const tick = (t) => { probe.raf.push(t); requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) probe.longtasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    probe.longtaskSupported = false;
  }
  addEventListener('keydown', (e) => {
    if (probe.keyTag !== '') probe.keys.push({ key: e.key, tag: probe.keyTag, timeStamp: e.timeStamp });
  }, { capture: true });
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.name === 'keydown') probe.events.push({ name: e.name, startTime: e.startTime, duration: e.duration,
          processingStart: e.processingStart, processingEnd: e.processingEnd });
      }
    }).observe({ type: 'event', durationThreshold: ${EVENT_THRESHOLD_MS}, buffered: true });
  } catch {
    probe.eventTimingSupported = false;
  }
  let watched = null;
  Object.defineProperty(window, '__benchWatchPaints', { value: () => {
    const el = document.querySelector('[data-painted-selection]');
    if (el === null) return false;
    if (watched === el) return true;
    watched = el;
    let last = el.getAttribute('data-painted-selection');
    new MutationObserver(() => {
      const selection = el.getAttribute('data-painted-selection') || '';
      if (selection === last) return;
      last = selection;
      const channel = new MessageChannel();
      channel.port1.onmessage = () => probe.paints.push({ selection, at: performance.now() });
      channel.port2.postMessage(0);
    }).observe(el, { attributes: true, attributeFilter: ['data-painted-selection'] });
    return true;
  } });
})();`;

interface RowCount {
  readonly visible: number;
  /** Rows showing a price (DOM table only; null where the count came from data-visible-rows). */
  readonly visibleWithData: number | null;
  readonly rendered: number;
  readonly areaHeight: number;
  /** Where the count came from: the canvas watchlist's own `data-visible-rows`, or the DOM. */
  readonly source: 'data-visible-rows' | 'dom';
}

/**
 * Rows on screen. The canvas watchlist states it (`data-visible-rows` on its scroll container);
 * the DOM table is counted: rows wholly inside both the table's scroll area (below its header) and
 * the viewport, as laid out now; `visibleWithData` also shows a digit in the first two numeric
 * cells (a quote has arrived and is drawn).
 */
const COUNT_ROWS = `(() => {
  const tagged = document.querySelector('[data-visible-rows]');
  if (tagged !== null) {
    const n = Number(tagged.getAttribute('data-visible-rows'));
    const visible = Number.isFinite(n) && n >= 0 ? n : 0;
    return { visible, visibleWithData: null, rendered: visible, areaHeight: tagged.clientHeight, source: 'data-visible-rows' };
  }
  const area = document.getElementById('watchlist-table-area');
  if (area === null) return { visible: 0, visibleWithData: 0, rendered: 0, areaHeight: 0, source: 'dom' };
  const box = area.getBoundingClientRect();
  const head = area.querySelector('thead');
  const top = Math.max(box.top + area.clientTop, head === null ? -Infinity : head.getBoundingClientRect().bottom, 0);
  const bottom = Math.min(box.top + area.clientTop + area.clientHeight, window.innerHeight);
  const rows = area.querySelectorAll('tbody tr.quote-row');
  let visible = 0;
  let visibleWithData = 0;
  for (const row of rows) {
    const r = row.getBoundingClientRect();
    if (r.height <= 0 || r.top < top - 0.5 || r.bottom > bottom + 0.5) continue;
    visible += 1;
    const cells = row.querySelectorAll('td.num');
    if (cells.length > 0 && [...cells].slice(0, 2).every((c) => /\\d/.test(c.textContent || ''))) visibleWithData += 1;
  }
  return { visible, visibleWithData, rendered: rows.length, areaHeight: area.clientHeight, source: 'dom' };
})()`;

/**
 * The watchlist's columns as the header shows them (label, numeric, width on screen), for the DOM
 * floor page: the table's own header cells, else any column headers of the grid role.
 */
const READ_COLUMNS = `(() => {
  const area = document.getElementById('watchlist-table-area') ?? document.querySelector('[data-visible-rows]');
  const scopes = area === null ? [document] : [area, document];
  for (const scope of scopes) {
    let heads = [...scope.querySelectorAll('thead th[scope="col"]')].filter((th) => !th.classList.contains('actions'));
    if (heads.length === 0) heads = [...scope.querySelectorAll('[role="columnheader"]')];
    if (heads.length > 0) {
      // The label as seen: a header that shows an abbreviation also holds its full name, hidden.
      const seen = (th) => (th.querySelector('[aria-hidden="true"]:not(.sort-mark)') ?? th).textContent || '';
      return heads.map((th) => ({ label: seen(th).trim(), numeric: th.classList.contains('num'),
        width: Math.round(th.getBoundingClientRect().width) }));
    }
  }
  return [];
})()`;

/** Focuses the watchlist for its keys: the first of these that takes the focus. */
const FOCUS_WATCHLIST = `(() => {
  const candidates = [document.getElementById('watchlist-table-area'),
    document.querySelector('[data-visible-rows]'), document.querySelector('[role="grid"]')];
  for (const el of candidates) {
    if (el === null) continue;
    el.focus();
    if (document.activeElement === el) return true;
  }
  return false;
})()`;

/** The selected row as the page says it: the DOM table's active descendant, else the canvas's mark. */
const SELECTION = `(document.getElementById('watchlist-table-area')?.getAttribute('aria-activedescendant')
  ?? document.querySelector('[data-painted-selection]')?.getAttribute('data-painted-selection') ?? '')`;

const FOCUS_ADD_BOX = `(() => {
  const input = document.getElementById('add-symbol-input');
  if (input === null) return false;
  input.focus();
  return document.activeElement === input;
})()`;

const NEXT_PAINT = `new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))`;

/** Clicks Diagnostics' Reset (main -> screen) and returns the page clock at that instant. */
const RESET_AND_MARK = `(() => {
  const button = document.querySelector('button[aria-label="Reset main to screen latency"]');
  if (button === null) throw new Error('no "Reset main to screen latency" button: is the Diagnostics tab open, the renderer build current?');
  const at = performance.now();
  button.click();
  return at;
})()`;

const CLICK_EXPORT = `(() => {
  const button = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Export diagnostics');
  if (button === undefined) throw new Error('no "Export diagnostics" button');
  button.click();
})()`;

/**
 * Opens a dock tab by clicking it in the page (not through Playwright's actionability checks, for
 * the reason given at the export) and waits until its panel is there.
 */
async function openDock(page: Page, tab: 'alerts' | 'diagnostics'): Promise<void> {
  const clicked = await page.evaluate<boolean>(`(() => {
    const button = document.getElementById(${JSON.stringify(`dock-tab-${tab}`)});
    if (!(button instanceof HTMLElement)) return false;
    button.click();
    return true;
  })()`);
  if (!clicked) throw new Error(`no dock tab "${tab}"`);
  await page.waitForFunction(
    `document.getElementById('dock-panel')?.getAttribute('aria-labelledby') === ${JSON.stringify(`dock-tab-${tab}`)}` +
      (tab === 'diagnostics'
        ? ` && document.querySelector('button[aria-label="Reset main to screen latency"]') !== null`
        : ''),
    undefined,
    { timeout: 30_000 },
  );
}

/** [performance.now(), animation frames so far]. */
const PROBE_COUNT = `[performance.now(), window.__benchProbe.raf.length]`;

interface ProbeData {
  readonly raf: number[];
  readonly longtasks: { start: number; duration: number }[];
  readonly longtaskSupported: boolean;
  readonly keys: KeyPress[];
  readonly events: EventTimingEntry[];
  readonly eventTimingSupported: boolean;
  readonly paints: PaintMark[];
}

/** The probe's records, frames and long tasks cut to [from, to] in the page (the lists are long). */
function readProbe(page: Page, from: number, to: number): Promise<ProbeData> {
  const [a, b] = [JSON.stringify(from), JSON.stringify(to)];
  return page.evaluate<ProbeData>(`(() => {
    const p = window.__benchProbe;
    return {
      raf: p.raf.filter((t) => t >= ${a} && t <= ${b}),
      longtasks: p.longtasks.filter((l) => l.start >= ${a} && l.start < ${b}),
      longtaskSupported: p.longtaskSupported,
      keys: p.keys,
      events: p.events,
      eventTimingSupported: p.eventTimingSupported,
      paints: p.paints,
    };
  })()`);
}

async function footerSymbols(page: Page): Promise<number> {
  const text = (await page.locator('footer').textContent()) ?? '';
  const m = /([\d,]+) symbols with data/.exec(text);
  return m?.[1] === undefined ? 0 : Number(m[1].replaceAll(',', ''));
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = START_TIMEOUT_MS,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

/**
 * Sizes the viewport so that `wanted` rows (up to two more: rows are whole) are on screen,
 * counted in the page; settles on the smallest height tried that shows at least `wanted`.
 */
async function sizeViewport(
  page: Page,
  width: number,
  wanted: number,
  log: (line: string) => void,
): Promise<{ height: number; rows: RowCount }> {
  const measure = async (height: number): Promise<RowCount> => {
    await page.setViewportSize({ width, height });
    await page.evaluate(NEXT_PAINT);
    await sleep(300);
    const rows = await page.evaluate<RowCount>(COUNT_ROWS);
    log(`viewport ${width}x${height}: ${rows.visible} rows visible (${rows.rendered} rendered)`);
    return rows;
  };
  // The watchlist gets about 60% of the work area (the dock below it up to 40%).
  const SHARE = 0.6;
  let height = Math.ceil((wanted * ROW_HEIGHT) / SHARE) + 200;
  let best: { height: number; rows: RowCount } | undefined;
  let rows = await measure(height);
  for (let attempt = 0; attempt < 6; attempt++) {
    if (rows.visible >= wanted && (best === undefined || height < best.height))
      best = { height, rows };
    if (rows.visible >= wanted && rows.visible <= wanted + 2) break;
    const step = Math.round(((wanted + 1 - rows.visible) * ROW_HEIGHT) / SHARE);
    height += step === 0 ? ROW_HEIGHT : step;
    rows = await measure(height);
  }
  if (rows.visible >= wanted && (best === undefined || height < best.height))
    best = { height, rows };
  if (best !== undefined && best.height !== height) {
    rows = await measure(best.height);
    return { height: best.height, rows };
  }
  return { height, rows };
}

/**
 * Presses `keys` one every `spacingMs` on a fixed schedule, tagged `tag` in the probe. A press is
 * not awaited before the next one is due: a trader's keys arrive whether or not the page has
 * handled the previous one, so a busy page queues them (and their input delay counts). Resolves
 * when every press has been handled.
 */
async function pressKeys(
  page: Page,
  tag: string,
  keys: readonly string[],
  spacingMs: number,
): Promise<void> {
  await page.evaluate(`window.__benchProbe.keyTag = ${JSON.stringify(tag)}`);
  const pending: Promise<void>[] = [];
  const start = Date.now();
  for (let i = 0; i < keys.length; i++) {
    const wait = start + i * spacingMs - Date.now();
    if (wait > 0) await sleep(wait);
    pending.push(page.keyboard.press(keys[i]!));
  }
  const settled = await Promise.allSettled(pending);
  await page.evaluate(`window.__benchProbe.keyTag = ''`);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

// ------------------------------------------------------------------------------ trace analysis

interface TraceEvent {
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

interface ThreadSummary {
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
function summarizeTrace(events: readonly TraceEvent[]): {
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

// ------------------------------------------------------------------------------ CPU profile

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
    readonly columnNumber: number;
  };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A source map's `mappings`, decoded per generated line: [genCol, source, line, col]. */
type Segment = readonly [number, number, number, number];

function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let source = 0;
  let line = 0;
  let col = 0;
  for (const text of mappings.split(';')) {
    const segments: Segment[] = [];
    let genCol = 0;
    for (const seg of text.split(',')) {
      if (seg === '') continue;
      const values: number[] = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const digit = B64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      genCol += values[0] ?? 0;
      if (values.length >= 4) {
        source += values[1] ?? 0;
        line += values[2] ?? 0;
        col += values[3] ?? 0;
        segments.push([genCol, source, line, col]);
      }
    }
    lines.push(segments);
  }
  return lines;
}

interface SourceMapped {
  lookup(line: number, column: number): string | undefined;
}

/** The renderer bundle's source maps (Vite writes them next to the bundle), for profile frames. */
function sourceMapsFor(staticDir: string): (url: string) => SourceMapped | undefined {
  const cache = new Map<string, SourceMapped | undefined>();
  return (url) => {
    if (cache.has(url)) return cache.get(url);
    let mapped: SourceMapped | undefined;
    try {
      const path = join(staticDir, new URL(url).pathname);
      const map = JSON.parse(readFileSync(`${path}.map`, 'utf8')) as {
        sources: string[];
        mappings: string;
      };
      const lines = decodeMappings(map.mappings);
      mapped = {
        lookup(line, column) {
          const segs = lines[line];
          if (segs === undefined || segs.length === 0) return undefined;
          let lo = 0;
          let hi = segs.length - 1;
          while (lo < hi) {
            const mid = (lo + hi + 1) >> 1;
            if ((segs[mid] as Segment)[0] <= column) lo = mid;
            else hi = mid - 1;
          }
          const s = segs[lo] as Segment;
          const source = (map.sources[s[1]] ?? '?').replace(/^(\.\.\/)+/, '');
          return `${source}:${s[2] + 1}`;
        },
      };
    } catch {
      mapped = undefined;
    }
    cache.set(url, mapped);
    return mapped;
  };
}

interface HotFunction {
  readonly fn: string;
  readonly where: string;
  readonly selfMs: number;
  readonly pct: number;
}

function topFunctions(
  profile: CpuProfile,
  maps: (url: string) => SourceMapped | undefined,
  count: number,
): { totalMs: number; idleMs: number; gcMs: number; programMs: number; top: HotFunction[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i] is the time before sample i: attribute the gap to the NEXT sample's node, as
  // DevTools does (each sample stands for the interval that ends at it).
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0));
  }
  const byFunction = new Map<string, { fn: string; where: string; us: number }>();
  let total = 0;
  let idle = 0;
  let gc = 0;
  let program = 0;
  for (const [id, us] of self) {
    total += us;
    const node = byId.get(id);
    if (node === undefined) continue;
    const f = node.callFrame;
    if (f.functionName === '(idle)') {
      idle += us;
      continue;
    }
    if (f.functionName === '(garbage collector)') gc += us;
    if (f.functionName === '(program)') program += us;
    let where = f.url === '' ? '(native)' : f.url.replace(/^https?:\/\/[^/]+\//, '');
    if (f.url.startsWith('http')) {
      const mapped = maps(f.url)?.lookup(f.lineNumber, f.columnNumber);
      if (mapped !== undefined) where = mapped;
    }
    const fn = f.functionName === '' ? '(anonymous)' : f.functionName;
    const key = `${fn}|${where}`;
    const entry = byFunction.get(key) ?? { fn, where, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
  }
  const busy = Math.max(1, total - idle);
  const top = [...byFunction.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, count)
    .map((e) => ({ fn: e.fn, where: e.where, selfMs: e.us / 1000, pct: (e.us / busy) * 100 }));
  return {
    totalMs: total / 1000,
    idleMs: idle / 1000,
    gcMs: gc / 1000,
    programMs: program / 1000,
    top,
  };
}

/** What a traced page spends per drawn frame, ms of CPU (NaN when it drew no frame). */
interface FrameCost {
  readonly framesPerS: number;
  /** The page's main thread (CrRendererMain), all kinds together. */
  readonly mainMs: number;
  /** The same by kind: scripting, rendering, painting, gc, other. */
  readonly byKind: Readonly<Record<string, number>>;
  /** Raster workers (ThreadPoolForegroundWorker): software raster with --disable-gpu. */
  readonly rasterMs: number;
}

const KINDS = ['scripting', 'rendering', 'painting', 'gc', 'other'] as const;

/**
 * A Chrome trace of the page over TRACE_MS (with a CPU profile of its main thread when `staticDir`
 * is given, its functions source-mapped to the renderer's sources), summarized: CPU per drawn
 * frame by thread and kind, the costliest trace events, the hottest functions. Taken after a
 * measured window, never inside one. `label` prefixes the table titles.
 */
async function tracePage(
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

// ------------------------------------------------------------------------------ the section

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

interface ExportedView {
  readonly view?: {
    readonly frames?: {
      readonly frames?: number;
      readonly conflated?: number;
      readonly gaps?: number;
    };
    readonly screenLatency?: {
      readonly count: number;
      readonly p50: number | null;
      readonly p90: number | null;
      readonly p99: number | null;
      readonly p999: number | null;
      readonly max: number | null;
      readonly mean: number | null;
      readonly negatives: number;
    };
  };
}

type ScreenLatency = NonNullable<NonNullable<ExportedView['view']>['screenLatency']>;

/** Frame intervals (ascending) from the probe's timestamps inside a window. */
function intervalsOf(stamps: readonly number[]): Float64Array {
  return Float64Array.from(stamps.slice(1).map((t, i) => t - (stamps[i] as number))).sort();
}

/** A key target's figures: Event Timing where the page has it, else the attribute method. */
interface KeyFigures {
  readonly presses: number;
  readonly method:
    'event timing' | 'event timing + data-painted-selection' | 'data-painted-selection' | 'none';
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  /** Event Timing alone, when the page has it. */
  readonly eventTiming?: { readonly p50: number; readonly p95: number; readonly max: number };
  /** Event timing: presses with no entry (under the threshold, counted at it). */
  readonly belowThreshold: number;
  readonly maxInputDelay: number;
  /** Event Timing's entries split in three (see keyToPaint), when the page has it. */
  readonly phases?: ReturnType<typeof keyToPaint>['phases'];
  /** Per press, in press order (ms): Event Timing, and the paint marks (NaN: none followed). */
  readonly perPress: { readonly eventTiming?: number[]; readonly marks?: number[] };
  /** The attribute method as a cross-check, when the page has the attribute. */
  readonly attribute?: { readonly p50: number; readonly p95: number; readonly missing: number };
}

/** "a / b / c" of the three phases at percentile p. */
function phaseText(phases: NonNullable<KeyFigures['phases']>, p: number): string {
  const at = (sorted: readonly number[]) => round(sortedPercentile(sorted, p), 1);
  return `${at(phases.inputDelay)} / ${at(phases.handlers)} / ${at(phases.toPaint)}`;
}

function keyFigures(probe: ProbeData, tag: string, attributeWatched: boolean): KeyFigures {
  const presses = probe.keys.filter((k) => k.tag === tag);
  const marks = attributeWatched ? pressToPaintMark(presses, probe.paints) : undefined;
  const attribute =
    marks === undefined ? undefined : { ...pressSummary(marks.durations), missing: marks.missing };
  if (probe.eventTimingSupported) {
    const timed = keyToPaint(presses, probe.events, EVENT_THRESHOLD_MS);
    // With the canvas's marks too, a key's paint is the later of the two (see laterOfEach).
    const figures =
      marks === undefined ? timed.durations : laterOfEach(timed.perPress, marks.perPress);
    return {
      presses: presses.length,
      method: marks === undefined ? 'event timing' : 'event timing + data-painted-selection',
      ...pressSummary(figures),
      eventTiming: pressSummary(timed.durations),
      perPress: {
        eventTiming: timed.perPress,
        ...(marks === undefined ? {} : { marks: marks.perPress }),
      },
      belowThreshold: timed.belowThreshold,
      maxInputDelay: timed.maxInputDelay,
      phases: timed.phases,
      ...(attribute === undefined ? {} : { attribute }),
    };
  }
  if (attribute !== undefined && marks !== undefined) {
    return {
      presses: presses.length,
      method: 'data-painted-selection',
      perPress: { marks: marks.perPress },
      ...pressSummary(
        marks.perPress.map((d) => (Number.isNaN(d) ? Infinity : d)).sort((a, b) => a - b),
      ),
      belowThreshold: 0,
      maxInputDelay: Number.NaN,
      attribute,
    };
  }
  return {
    presses: presses.length,
    method: 'none',
    perPress: {},
    p50: Number.NaN,
    p95: Number.NaN,
    max: Number.NaN,
    belowThreshold: 0,
    maxInputDelay: Number.NaN,
  };
}

/** One scenario's app run, before its DOM floor is measured. */
interface AppRun {
  readonly scenario: Scenario;
  readonly viewport: { readonly width: number; readonly height: number };
  readonly rowsAtStart: RowCount;
  readonly rowsAtEnd: RowCount;
  readonly seconds: number;
  readonly intervals: Float64Array;
  readonly longs: { start: number; duration: number }[];
  readonly screen: ScreenLatency;
  readonly exported: ExportedView;
  readonly arrow: KeyFigures | undefined;
  readonly typing: KeyFigures | undefined;
  readonly pageTables: Table[];
  readonly traced: Awaited<ReturnType<typeof tracePage>>;
  readonly floorSpec: FloorSpec;
  readonly loadAverage: { readonly start: number[]; readonly end: number[] };
  readonly details: Record<string, unknown>;
}

interface FloorRun {
  readonly intervals: Float64Array;
  readonly longs: number;
  readonly seconds: number;
  readonly cells: number;
  readonly traced: Awaited<ReturnType<typeof tracePage>>;
}

const ARROW_KEYS = Array.from({ length: 40 }, () => 'ArrowDown');
/** ~40 keys into the add box: a ticker typed and rubbed out, five times (the box ends empty). */
const TYPED_KEYS = ['MSFT', 'NVDA', 'AMZN', 'GOOG', 'META'].flatMap((word) => [
  ...word,
  ...Array.from(word, () => 'Backspace'),
]);
const KEY_SPACING_MS = 150;
/** A frame interval longer than this is a late frame (the desk's frame interval target). */
const FRAME_BUDGET_MS = 20;
/** After the last ArrowDown, how long its work (the detail pane following) counts as the keys'. */
const PRESS_TAIL_MS = 500;
/** When the ArrowDown presses start inside the window, so that they land in the full feed. */
const ARROWS_AFTER_MS = 3_000;

interface Stack {
  readonly sim: ChildProcess;
  readonly host: HostHandle;
  readonly browser: Browser;
  readonly staticDir: string;
  readonly hz: number;
  readonly labels: Map<number, string>;
}

/** REST quiet this long ends the wait below. */
const REST_QUIET_MS = 2_000;
/** The most the wait below adds to a warm-up. */
const REST_SETTLE_MAX_MS = 60_000;

/**
 * Waits until main's REST has gone quiet (nothing in flight, no new request for REST_QUIET_MS):
 * a starting app loads the market's context (snapshots, the session's sparkline bars of every
 * symbol, the calendar, the asset list), about a second of main's CPU in stretches that hold
 * every frame, and the window measures the app running, not starting. Selections load their own
 * bars inside the window, as a user's do.
 */
async function restSettled(host: HostHandle, log: (line: string) => void): Promise<void> {
  const started = performance.now();
  let last = await host.sample();
  let quietSince = performance.now();
  while (performance.now() - started < REST_SETTLE_MAX_MS) {
    await sleep(500);
    const now = await host.sample();
    if (!Number.isFinite(now.restRequests)) return;
    if (now.restRequests !== last.restRequests || now.restInFlight > 0)
      quietSince = performance.now();
    last = now;
    if (performance.now() - quietSince >= REST_QUIET_MS) {
      log(
        `  REST quiet (${now.restRequests} requests so far) after ${round((performance.now() - started) / 1000, 1)} s more`,
      );
      return;
    }
  }
  log(
    `  warning: main's REST still busy after ${REST_SETTLE_MAX_MS / 1000} s more; measuring anyway`,
  );
}

/** One scenario on the app's page: size, warm up, measure, press keys, export, trace. */
async function runScenario(
  stack: Stack,
  context: BrowserContext,
  page: Page,
  scenario: Scenario,
  timing: { warmupMs: number; windowMs: number },
  log: (line: string) => void,
): Promise<AppRun> {
  const { host, hz, labels } = stack;
  log(`-- scenario ${scenario.name}: ${scenario.title}`);
  let viewport: { width: number; height: number };
  if ('rows' in scenario.viewport) {
    const sized = await sizeViewport(page, scenario.viewport.width, scenario.viewport.rows, log);
    viewport = { width: scenario.viewport.width, height: sized.height };
  } else {
    viewport = { ...scenario.viewport };
    await page.setViewportSize(viewport);
    await page.evaluate(NEXT_PAINT);
  }
  await openDock(page, scenario.dock);
  // Every scenario starts with nothing selected: the desk's keys leave a selection, and with it
  // the detail pane open, which a wall 9,000 px tall would otherwise carry (and pay for) after it.
  if (await page.evaluate<boolean>(FOCUS_WATCHLIST)) {
    await page.keyboard.press('Escape');
    await page.evaluate(
      'document.activeElement instanceof HTMLElement && document.activeElement.blur()',
    );
  }
  log(`${scenario.name}: warm-up ${timing.warmupMs / 1000} s, dock tab ${scenario.dock}`);
  await sleep(timing.warmupMs);
  await restSettled(host, log);
  const load0 = os.loadavg();
  const rowsAtStart = await page.evaluate<RowCount>(COUNT_ROWS);

  // The keys' setup is done before the window: the focus, a selection to move.
  const keys = scenario.limits.arrowP95 !== undefined;
  let attributeWatched = false;
  if (keys) {
    if (!(await page.evaluate<boolean>(FOCUS_WATCHLIST)))
      throw new Error('could not focus the watchlist for its keys');
    await page.keyboard.press('Home');
    attributeWatched = await page.evaluate<boolean>('window.__benchWatchPaints()');
  }

  // -------------------------------------------------------------- the window
  // The histogram's Reset is Diagnostics' button: the tab is open for that click only (its
  // unmount's frame falls in the histogram, not in the frame window, which starts after it).
  await openDock(page, 'diagnostics');
  await page.evaluate<number>(RESET_AND_MARK);
  await openDock(page, scenario.dock);
  const mark0 = await page.evaluate<number>(NEXT_PAINT);
  const [h0, cpu0] = await Promise.all([host.sample(), Promise.resolve(readCpu(labels))]);
  // Long enough for every ArrowDown to land inside it (the quick run's 8 s is not).
  const windowMs = keys
    ? Math.max(timing.windowMs, ARROWS_AFTER_MS + ARROW_KEYS.length * KEY_SPACING_MS + 1_000)
    : timing.windowMs;
  log(
    `${scenario.name}: measuring ${windowMs / 1000} s${keys ? `, ArrowDown x${ARROW_KEYS.length} from +${ARROWS_AFTER_MS / 1000} s` : ''}`,
  );
  const windowDone = sleep(windowMs);
  let selection: { before: string; after: string } | undefined;
  if (keys) {
    await sleep(ARROWS_AFTER_MS);
    const before = await page.evaluate<string>(SELECTION);
    const keysTrace = process.env['BENCH_TRACE_KEYS'];
    if (keysTrace !== undefined)
      await stack.browser.startTracing(page, {
        path: keysTrace,
        categories: [
          'devtools.timeline',
          'disabled-by-default-devtools.timeline',
          'v8.execute',
          'toplevel',
        ],
      });
    await pressKeys(page, 'arrow', ARROW_KEYS, KEY_SPACING_MS);
    if (keysTrace !== undefined) await stack.browser.stopTracing();
    selection = { before, after: await page.evaluate<string>(SELECTION) };
    // A key that moved nothing would time a paint of nothing: say so loudly.
    if (selection.after === selection.before)
      log(`warning: ArrowDown did not move the selection (${selection.before || 'none'})`);
  }
  await windowDone;
  const mark1 = await page.evaluate<number>('performance.now()');
  const [h1, cpu1] = await Promise.all([host.sample(), Promise.resolve(readCpu(labels))]);
  const rowsAtEnd = await page.evaluate<RowCount>(COUNT_ROWS);
  const load1 = os.loadavg();

  // The panel's export: the renderer histogram since the Reset at mark0.
  // Clicked in the page, not through Playwright's actionability checks: those wait for the
  // button to hold still over two animation frames, which a starved page may take seconds to draw.
  await openDock(page, 'diagnostics');
  const downloaded = page.waitForEvent('download', { timeout: 60_000 });
  await page.evaluate(CLICK_EXPORT);
  const download = await downloaded;
  const exported = JSON.parse(await readFile(await download.path(), 'utf8')) as ExportedView;
  const screen = exported.view?.screenLatency;
  if (screen === undefined) throw new Error('the diagnostics export carries no view.screenLatency');
  // The typing window and the trace see the page as the window did.
  await openDock(page, scenario.dock);

  // A window of its own for typing: the add box's keys, still under the full feed.
  if (keys) {
    if (!(await page.evaluate<boolean>(FOCUS_ADD_BOX))) throw new Error('no add box to type in');
    log(`${scenario.name}: typing ${TYPED_KEYS.length} keys into the add box`);
    await pressKeys(page, 'type', TYPED_KEYS, KEY_SPACING_MS);
    await page.keyboard.press('Escape');
    await page.evaluate(
      'document.activeElement instanceof HTMLElement && document.activeElement.blur()',
    );
  }
  const probe = await readProbe(page, mark0, mark1);
  const arrow = keys ? keyFigures(probe, 'arrow', attributeWatched) : undefined;
  const typing = keys ? keyFigures(probe, 'type', false) : undefined;

  // -------------------------------------------------------------- figures
  const seconds = (mark1 - mark0) / 1000;
  const intervals = intervalsOf(probe.raf);
  const longs = probe.longtasks;
  const longMax = longs.reduce((m, l) => Math.max(m, l.duration), 0);
  const longTotal = longs.reduce((sum, l) => sum + l.duration, 0);
  const mainSeconds = (h1.metricsAt - h0.metricsAt) / 1000;
  const received = (h1.messagesTotal - h0.messagesTotal) / mainSeconds;
  const hostSeconds = Number(BigInt(h1.hrtime) - BigInt(h0.hrtime)) / 1e9;
  const frames = h1.framesServed - h0.framesServed;
  const rows = h1.rowsServed - h0.rowsServed;
  const conflated = h1.conflated - h0.conflated;
  const mainCpu =
    ((h1.cpuUser - h0.cpuUser + h1.cpuSystem - h0.cpuSystem) / 1e6 / hostSeconds) * 100;
  const mainElu =
    (h1.eluActive - h0.eluActive) / (h1.eluActive - h0.eluActive + h1.eluIdle - h0.eluIdle);
  const cpu = cpuRows(cpu0, cpu1, seconds, hz);
  const frameP = (p: number) => sortedPercentile(intervals, p);
  // This scenario's presses only: the probe keeps every key pressed in the page, and the
  // scenarios before this one pressed theirs in the same page.
  const arrowTimes = probe.keys
    .filter((k) => k.tag === 'arrow' && k.timeStamp >= mark0 && k.timeStamp <= mark1)
    .map((k) => k.timeStamp);
  const late =
    !keys || arrowTimes.length === 0
      ? undefined
      : lateFramesAround(probe.raf, arrowTimes, FRAME_BUDGET_MS, PRESS_TAIL_MS);
  const num = (v: number | null | undefined) => (v === null || v === undefined ? Number.NaN : v);
  const label = `e2e ${scenario.name}`;

  const keyRows = (name: string, k: KeyFigures | undefined): (string | number)[][] =>
    k === undefined
      ? []
      : [
          [`${name} to paint p50 (${k.method})`, round(k.p50), 'ms'],
          [`${name} to paint p95 (${k.method})`, round(k.p95), 'ms'],
          [`${name} to paint max`, round(k.max), 'ms'],
          [
            `${name}: presses / under the ${EVENT_THRESHOLD_MS} ms threshold`,
            `${k.presses} / ${k.belowThreshold}`,
            'count',
          ],
          [`${name}: longest input delay`, round(k.maxInputDelay), 'ms'],
          ...(k.phases === undefined
            ? []
            : [
                [
                  `${name}: input delay / handlers / handlers to paint, p50 (Event Timing)`,
                  phaseText(k.phases, 50),
                  'ms',
                ],
                [`${name}: the same, p90`, phaseText(k.phases, 90), 'ms'],
              ]),
          ...(k.eventTiming === undefined || k.attribute === undefined
            ? []
            : [[`${name}: Event Timing alone, p95`, round(k.eventTiming.p95), 'ms']]),
          ...(k.attribute === undefined
            ? []
            : [
                [`${name}: data-painted-selection alone, p95`, round(k.attribute.p95), 'ms'],
                [`${name}: presses with no paint mark`, k.attribute.missing, 'count'],
              ]),
        ];

  const pageTables: Table[] = [
    {
      title: `${label}: in the page (${viewport.width} x ${viewport.height}, ${rowsAtEnd.visible} rows visible)`,
      columns: ['figure', 'value', 'unit'],
      rows: [
        [
          'watchlist rows visible',
          `${rowsAtEnd.visible} at the end, ${rowsAtStart.visible} at the start (${rowsAtEnd.source}${rowsAtEnd.visibleWithData === null ? '' : `; ${rowsAtEnd.visibleWithData} showing prices; ${rowsAtEnd.rendered} rendered with overscan`})`,
          'rows',
        ],
        ['frame interval p50', round(frameP(50)), 'ms'],
        ['frame interval p95', round(frameP(95)), 'ms'],
        ['frame interval p99', round(frameP(99)), 'ms'],
        ['frame interval max', round(intervals.at(-1) ?? Number.NaN), 'ms'],
        ...(late === undefined
          ? []
          : [
              [
                `frames later than ${FRAME_BUDGET_MS} ms: before / during / after the ArrowDown presses`,
                `${lateText(late.before)} / ${lateText(late.during)} / ${lateText(late.after)}`,
                'late/frames',
              ],
            ]),
        ['animation frames', round(probe.raf.length / seconds, 1), '/s'],
        ['long tasks (> 50 ms)', longs.length, 'count'],
        ['long task max', round(longMax), 'ms'],
        ['long task total', round(longTotal), 'ms'],
        ['socket-to-screen p50', round(num(screen.p50)), 'ms'],
        ['socket-to-screen p99', round(num(screen.p99)), 'ms'],
        ['socket-to-screen max', round(num(screen.max)), 'ms'],
        ['socket-to-screen samples (updated rows)', screen.count, 'rows'],
        ...keyRows('ArrowDown', arrow),
        ...keyRows('add box key', typing),
        ['frames the page pulled and applied', round(frames / hostSeconds, 1), '/s'],
        ['rows per frame (mean)', round(rows / Math.max(1, frames), 1), 'rows'],
        ['updates conflated in main', round(conflated / hostSeconds, 0), '/s'],
        ['messages main received', round(received, 0), '/s'],
        ['main CPU (process.cpuUsage)', round(mainCpu, 1), '% of a core'],
        ['main event-loop utilization', round(mainElu * 100, 1), '%'],
        [
          'main event-loop delay p99 / max',
          `${round(h1.loopDelayP99Ms, 1)} / ${round(h1.loopDelayMaxMs, 1)}`,
          'ms',
        ],
        [
          'main GC: pauses / total / longest',
          `${h1.gcCount - h0.gcCount} / ${round(h1.gcTotalMs - h0.gcTotalMs, 1)} / ${round(h1.gcMaxMs, 1)}`,
          'count / ms / ms',
        ],
        ['main full (mark-compact) GCs in the window', h1.gcMajorCount - h0.gcMajorCount, 'count'],
        [
          'main heap used: at the window end / most since start',
          `${round(h1.heapUsedMb, 0)} / ${round(h1.heapPeakMb, 0)}`,
          'MB',
        ],
        [
          'main resident set: at the window end / most since start',
          `${round(h1.rssMb, 0)} / ${round(h1.rssPeakMb, 0)}`,
          'MB',
        ],
        [
          'machine load average (1 min) at start / end',
          `${round(load0[0] ?? NaN)} / ${round(load1[0] ?? NaN)}`,
          '',
        ],
      ],
      note:
        `Window ${round(seconds, 1)} s after ${timing.warmupMs / 1000} s of warm-up. Frame intervals: consecutive ` +
        'requestAnimationFrame timestamps in the window. Socket-to-screen: the renderer histogram (main stamps ' +
        'receivedAt; the store records the paint after the fold), log buckets ~12% wide, reset at the window ' +
        'start, read from the Diagnostics export just after it.' +
        (keys
          ? ` Keys, ${KEY_SPACING_MS} ms apart: ArrowDown in the focused watchlist inside the window; the add box's ` +
            "keys in a window of their own just after it. Event timing: the keydown entry's duration (event to the " +
            `next paint after its handlers, in 8 ms steps); a press with no entry took under ${EVENT_THRESHOLD_MS} ms ` +
            'and counts as that. Where the canvas watchlist marks its paints (data-painted-selection), an ' +
            'ArrowDown counts the later of its Event Timing duration and its first paint mark (a paint of a new ' +
            'selection, then a MessageChannel tick): the next paint after the key need not show it yet.'
          : ''),
    },
    {
      title: `${label}: CPU over the window, by process`,
      columns: ['process', 'CPU % of one core'],
      rows: cpu.map((r) => [r.kind, round(r.pct, 1)]),
      note: `From /proc (utime+stime, ${hz} ticks/s) over the ${round(seconds, 1)} s window; the machine has ${os.cpus().length} cores shared with other work.`,
    },
  ];
  if ('rows' in scenario.viewport && rowsAtEnd.visible < scenario.viewport.rows)
    log(`warning: only ${rowsAtEnd.visible} rows visible (wanted ${scenario.viewport.rows})`);
  if (!probe.longtaskSupported) log('warning: this Chromium does not report long tasks');
  if (keys && !probe.eventTimingSupported)
    log('warning: no Event Timing in this Chromium: the key targets use the attribute method');

  const traced = await tracePage(stack.browser, context, page, label, stack.staticDir, log);

  let columns = await page.evaluate<FloorColumn[]>(READ_COLUMNS);
  if (columns.length < 2) columns = [...DEFAULT_FLOOR_COLUMNS];
  else if (!columns.some((c) => c.numeric))
    columns = columns.map((c, i) => ({ ...c, numeric: i > 0 }));
  const floorSpec: FloorSpec = { rows: Math.max(1, rowsAtEnd.visible), columns, theme: 'dark' };

  return {
    scenario,
    viewport,
    rowsAtStart,
    rowsAtEnd,
    seconds,
    intervals,
    longs,
    screen,
    exported,
    arrow,
    typing,
    pageTables,
    traced,
    floorSpec,
    loadAverage: { start: load0, end: load1 },
    details: {
      viewport,
      rows: { start: rowsAtStart, end: rowsAtEnd },
      frameIntervalsMs: {
        count: intervals.length,
        p50: frameP(50),
        p95: frameP(95),
        p99: frameP(99),
        max: intervals.at(-1) ?? null,
      },
      longTasks: longs,
      screenLatency: screen,
      exportedFrames: exported.view?.frames,
      keys: {
        arrow,
        typing,
        selection,
        eventTimingSupported: probe.eventTimingSupported,
        attributeWatched,
      },
      main: { h0, h1, receivedPerSecond: received, cpuPct: mainCpu, elu: mainElu },
      cpu,
      loadAverage: { start: load0, end: load1 },
      diagnosis: traced.details,
    },
  };
}

/** The DOM floor for one scenario: the same rows and columns on a static page, same probe. */
async function runFloor(
  stack: Stack,
  server: FloorServer,
  app: AppRun,
  timing: { warmupMs: number; windowMs: number },
  log: (line: string) => void,
): Promise<FloorRun> {
  const context = await stack.browser.newContext({ viewport: app.viewport, colorScheme: 'dark' });
  try {
    await context.addInitScript(PROBE);
    const page = await context.newPage();
    await page.goto(server.page(app.floorSpec));
    const shape = await page.evaluate<{ cells: number; rows: number }>('window.__floor');
    log(
      `e2e ${app.scenario.name} DOM floor: ${shape.rows} rows, ${shape.cells} text cells changed per frame; ${timing.windowMs / 1000} s after ${timing.warmupMs / 1000} s`,
    );
    await sleep(timing.warmupMs);
    const mark0 = await page.evaluate<number>('performance.now()');
    await sleep(timing.windowMs);
    const mark1 = await page.evaluate<number>('performance.now()');
    const probe = await readProbe(page, mark0, mark1);
    const traced = await tracePage(
      stack.browser,
      context,
      page,
      `e2e ${app.scenario.name} DOM floor`,
      undefined,
      log,
    );
    return {
      intervals: intervalsOf(probe.raf),
      longs: probe.longtasks.length,
      seconds: (mark1 - mark0) / 1000,
      cells: shape.cells,
      traced,
    };
  } finally {
    await context.close().catch(() => undefined);
  }
}

/** The app beside its DOM floor: frame intervals and CPU per frame, and app / floor. */
function floorTable(app: AppRun, floor: FloorRun): Table {
  const line = (name: string, intervals: Float64Array, cost: FrameCost, longs: number) => [
    name,
    round(sortedPercentile(intervals, 50)),
    round(sortedPercentile(intervals, 95)),
    longs,
    round(cost.framesPerS, 1),
    round(cost.mainMs),
    ...KINDS.map((k) => round(cost.byKind[k] ?? Number.NaN)),
    round(cost.rasterMs),
  ];
  const a = line('app', app.intervals, app.traced.cost, app.longs.length);
  const f = line('DOM floor', floor.intervals, floor.traced.cost, floor.longs);
  const ratio = a.map((v, i) =>
    i === 0 ? 'app / floor' : round((v as number) / (f[i] as number)),
  );
  const numeric = app.floorSpec.columns.filter((c) => c.numeric).length;
  return {
    title: `e2e ${app.scenario.name}: the app against the DOM floor (ms)`,
    columns: [
      'page',
      'frame p50',
      'frame p95',
      'long tasks',
      'frames/s traced',
      'main CPU/frame',
      ...KINDS.map((k) => `${k}/frame`),
      'raster/frame',
    ],
    rows: [a, f, ratio],
    note:
      `DOM floor: a static page served by the bench, no app code: ${app.floorSpec.rows} rows x ` +
      `${app.floorSpec.columns.length} columns (the watchlist's, at its widths) with the app's CSS, all ` +
      `${floor.cells} numeric cells (${numeric} a row) given new text every animation frame; same viewport, same ` +
      `probe, measured after every app scenario with the app's page closed (the simulator and main still ` +
      `running), ${round(floor.seconds, 1)} s window. CPU per frame: from each page's trace (after its window), ` +
      'main thread by kind (self CPU time), and the raster workers.',
  };
}

/** The scenarios named in BENCH_E2E_SCENARIOS (comma-separated), else all of them. */
function chosenScenarios(): readonly Scenario[] {
  const wanted = (process.env['BENCH_E2E_SCENARIOS'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (wanted.length === 0) return SCENARIOS;
  const unknown = wanted.filter((w) => !SCENARIOS.some((s) => s.name === w));
  if (unknown.length > 0)
    throw new Error(
      `BENCH_E2E_SCENARIOS: unknown ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`,
    );
  return SCENARIOS.filter((s) => wanted.includes(s.name));
}

export const run: Section = async (ctx) => {
  const app = { warmupMs: ctx.quick ? 3_000 : 5_000, windowMs: ctx.quick ? 8_000 : 20_000 };
  const floorTiming = { warmupMs: 2_000, windowMs: ctx.quick ? 5_000 : 10_000 };
  const scenarios = chosenScenarios();
  const executablePath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
  const staticDir = ensureRendererBuilt(ctx.root, ctx.log);
  const symbols = symbolUniverse(SYMBOLS);
  const hz = clockTicksPerSecond();
  const css = readdirSync(join(staticDir, 'assets'))
    .filter((f) => f.endsWith('.css'))
    .map((f) => readFileSync(join(staticDir, 'assets', f), 'utf8'))
    .join('\n');

  let sim: ChildProcess | undefined;
  let host: HostHandle | undefined;
  let browser: Browser | undefined;
  let floorServer: FloorServer | undefined;
  try {
    // -------------------------------------------------------------- load: the simulator
    const simOut = tail();
    sim = spawn(
      process.execPath,
      [
        join(ctx.root, 'bin', 'market-monitor.js'),
        'simulate',
        '--symbol-list',
        symbols.join(','),
        '--rate',
        String(RATE),
      ],
      { cwd: ctx.root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    sim.stdout?.on('data', simOut.add);
    sim.stderr?.on('data', simOut.add);
    const simUrl = await listeningUrl(sim, 'the simulator', simOut.text);
    ctx.log(`simulator: ${simUrl}, ${SYMBOLS} symbols at ${RATE}/s`);

    // -------------------------------------------------------------- the app
    host = await startAppHost(ctx.root, simUrl, staticDir, symbols);
    ctx.log(`app host: ${host.url.replace(/#.*/, '#token=…')}`);
    floorServer = await startFloorServer(css);

    // -------------------------------------------------------------- the browser
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
    const labels = new Map<number, string>();
    if (sim.pid !== undefined) labels.set(sim.pid, 'simulator (load)');
    if (host.child.pid !== undefined) labels.set(host.child.pid, 'app main (e2e-host)');
    labels.set(process.pid, 'bench driver (this process)');
    const stack: Stack = { sim, host, browser, staticDir, hz, labels };
    const context = await browser.newContext({
      viewport: DESK_VIEWPORT,
      colorScheme: 'dark',
      acceptDownloads: true,
    });
    await context.addInitScript(PROBE);
    const page = await context.newPage();
    const pageProblems: string[] = [];
    page.on('pageerror', (err) => pageProblems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageProblems.push(`console: ${msg.text()}`);
    });
    await page.goto(host.url);
    await waitFor('the connection to go live', async () =>
      /^live$/.test(
        (
          (await page.getByRole('status', { name: 'Connection state' }).first().textContent()) ?? ''
        ).trim(),
      ),
    );
    await waitFor(
      `data for all ${SYMBOLS} symbols`,
      async () => (await footerSymbols(page)) >= SYMBOLS,
    );

    const runs: AppRun[] = [];
    for (const scenario of scenarios)
      runs.push(await runScenario(stack, context, page, scenario, app, ctx.log));
    if (pageProblems.length > 0) ctx.log(`page problems: ${pageProblems.slice(0, 5).join(' | ')}`);
    // The floors run with the app's page gone, so that it draws nothing beside them.
    await context.close();
    const floors: FloorRun[] = [];
    for (const r of runs) floors.push(await runFloor(stack, floorServer, r, floorTiming, ctx.log));

    // -------------------------------------------------------------- report
    const tables: Table[] = [
      {
        title: 'e2e: setup',
        columns: ['setting', 'value'],
        rows: [
          ['symbols (watchlist = simulator universe)', String(SYMBOLS)],
          ['simulator rate (messages/s, one process)', String(RATE)],
          ['source / codec', `alpaca iex (the simulator) / ${CODEC}`],
          ['browser', `Chromium ${browser.version()}, headless, ${CHROMIUM_ARGS.join(' ')}`],
          [
            'scenarios',
            runs
              .map(
                (r) =>
                  `${r.scenario.name} ${r.viewport.width}x${r.viewport.height}, ${r.rowsAtEnd.visible} rows`,
              )
              .join('; '),
          ],
          [
            'warm-up / window per scenario',
            `${app.warmupMs / 1000} s / ${app.windowMs / 1000} s (DOM floor: ${floorTiming.warmupMs / 1000} s / ${floorTiming.windowMs / 1000} s)`,
          ],
          [
            'dock tab during the run',
            runs.map((r) => `${r.scenario.name}: ${r.scenario.dock}`).join('; ') +
              ' (Diagnostics opened only to reset and export the histogram)',
          ],
          [
            'machine load average (1/5/15 min) at the end',
            os
              .loadavg()
              .map((l) => round(l))
              .join(' / '),
          ],
        ],
      },
    ];
    const targets: Target[] = [];
    runs.forEach((r, i) => {
      const floor = floors[i]!;
      const limits = r.scenario.limits;
      const name = `e2e ${r.scenario.name}`;
      tables.push(
        ...r.pageTables,
        floorTable(r, floor),
        ...r.traced.tables,
        ...floor.traced.tables.slice(0, 1),
      );
      if (limits.frameP95 !== undefined)
        targets.push(
          target(
            `${name}: frame interval p95`,
            round(sortedPercentile(r.intervals, 95)),
            '<=',
            limits.frameP95,
            'ms',
          ),
        );
      if (limits.longTasks !== undefined)
        targets.push(
          target(`${name}: long tasks > 50 ms`, r.longs.length, '<=', limits.longTasks, 'count'),
        );
      if (limits.screenP99 !== undefined)
        targets.push(
          target(
            `${name}: socket-to-screen p99`,
            round(r.screen.p99 ?? Number.NaN),
            '<=',
            limits.screenP99,
            'ms',
          ),
        );
      if (limits.arrowP95 !== undefined && r.arrow !== undefined)
        targets.push(
          target(
            `${name}: ArrowDown to paint p95`,
            round(r.arrow.p95),
            '<=',
            limits.arrowP95,
            'ms',
          ),
        );
      if (limits.typeP95 !== undefined && r.typing !== undefined)
        targets.push(
          target(
            `${name}: add box key to paint p95`,
            round(r.typing.p95),
            '<=',
            limits.typeP95,
            'ms',
          ),
        );
    });

    return {
      name: 'e2e',
      tables,
      targets,
      details: {
        settings: {
          symbols: SYMBOLS,
          rate: RATE,
          codec: CODEC,
          app,
          floor: floorTiming,
          chromium: executablePath,
          chromiumVersion: browser.version(),
          args: CHROMIUM_ARGS,
          keySpacingMs: KEY_SPACING_MS,
          eventThresholdMs: EVENT_THRESHOLD_MS,
        },
        scenarios: Object.fromEntries(
          runs.map((r, i) => [
            r.scenario.name,
            {
              limits: r.scenario.limits,
              ...r.details,
              floor: {
                spec: r.floorSpec,
                frameIntervalsMs: {
                  count: floors[i]!.intervals.length,
                  p50: sortedPercentile(floors[i]!.intervals, 50),
                  p95: sortedPercentile(floors[i]!.intervals, 95),
                },
                longTasks: floors[i]!.longs,
                cells: floors[i]!.cells,
                trace: floors[i]!.traced.details,
              },
            },
          ]),
        ),
        pageProblems,
      },
    };
  } finally {
    await browser?.close().catch(() => undefined);
    await floorServer?.close();
    await host?.stop();
    await stopChild(sim);
  }
};
