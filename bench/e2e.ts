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
 *
 * Where the parts live, in bench/lib/: app-host.ts (the renderer build, the app host, starting and
 * stopping children), process-tree.ts (CPU by process kind from /proc), page-probe.ts (the in-page
 * probe and scripts), page-trace.ts (the trace after each window: CPU per drawn frame),
 * cpu-profile.ts (the hottest functions, source-mapped), key-figures.ts (the key targets' figures).
 * This file holds the scenarios, the stack and the section that runs them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { symbolUniverse } from '../electron/simulator/market-walk.ts';
import {
  ensureRendererBuilt,
  listeningUrl,
  startAppHost,
  stopOrKill,
  tail,
  START_TIMEOUT_MS,
  type HostHandle,
} from './lib/app-host.ts';
import {
  DEFAULT_FLOOR_COLUMNS,
  startFloorServer,
  type FloorColumn,
  type FloorServer,
  type FloorSpec,
} from './lib/dom-floor.ts';
import {
  arrivalToFrame,
  lateFramesAround,
  lateText,
  pullRoundTrips,
  tripLegs,
} from './lib/frame-phases.ts';
import { keyFigures, phaseText, type KeyFigures } from './lib/key-figures.ts';
import {
  CLICK_EXPORT,
  COUNT_ROWS,
  EVENT_THRESHOLD_MS,
  FOCUS_ADD_BOX,
  FOCUS_WATCHLIST,
  intervalsOf,
  NEXT_PAINT,
  PROBE,
  pressKeys,
  READ_COLUMNS,
  readProbe,
  RESET_AND_MARK,
  SELECTION,
  type RowCount,
} from './lib/page-probe.ts';
import { KINDS, tracePage, type FrameCost } from './lib/page-trace.ts';
import { clockTicksPerSecond } from './lib/proc-cpu.ts';
import { cpuRows, readCpu } from './lib/process-tree.ts';
import { round, sortedPercentile } from './lib/stats.ts';
import { target, type Section, type Table, type Target } from './lib/report.ts';

const SYMBOLS = 1_000;
const RATE = 50_000;
/** renderer/panels/watchlist.tsx ROW_HEIGHT (a .tsx module Node cannot load): for sizing only. */
const ROW_HEIGHT = 26;
const CODEC = 'msgpack';
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

// ------------------------------------------------------------------------------ the page

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

// ------------------------------------------------------------------------------ the section

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
  /** The app's keys on the floor page (scenarios with keys only). */
  readonly keys: { readonly arrow: KeyFigures; readonly typing: KeyFigures } | undefined;
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
  const arrived = arrivalToFrame(probe.arrivals, probe.raf, probe.arrivalsAtFrame);
  const trips = pullRoundTrips(probe.arrivals, probe.pulls);
  // Main's stamps of the same requests, moved onto the page's clock.
  const origin = await page.evaluate<number>('performance.timeOrigin');
  const mainStamps = (await host.frames(origin + mark0, origin + mark1)).map(
    ([handled, answered]) => [handled - origin, answered - origin] as const,
  );
  const legs = tripLegs(probe.pulls, probe.arrivals, mainStamps);
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
  /** A sorted list's percentile, to 0.1 ms. */
  const legText = (sorted: readonly number[], p: number) => round(sortedPercentile(sorted, p), 1);
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
        [
          "socket-to-screen, the page's part: a frame's arrival to the next animation frame (0 for one taken at an animation frame), p50 / p99 / max",
          `${legText(arrived, 50)} / ${legText(arrived, 99)} / ${round(arrived.at(-1) ?? Number.NaN, 1)}`,
          'ms',
        ],
        [
          'frames taken from shared memory at an animation frame / all frames that arrived',
          `${probe.arrivalsAtFrame.length} / ${probe.arrivals.length}`,
          'count',
        ],
        [
          "a frame request to its frame's dispatch in the page (main, the transport, the page's wait for a task or an animation frame), p50 / p99 / max",
          `${legText(trips, 50)} / ${legText(trips, 99)} / ${round(trips.at(-1) ?? Number.NaN, 1)}`,
          'ms',
        ],
        [
          'the same, cut where main handled and answered it (clocks agree to ~1 ms): ' +
            "to main / in main / main's answer to its dispatch in the page, p99",
          `${legText(legs.toMain, 99)} / ${legText(legs.inMain, 99)} / ${legText(legs.toPage, 99)}`,
          'ms',
        ],
        [
          "the same three legs, p50 (requests matched to main's stamps)",
          `${legText(legs.toMain, 50)} / ${legText(legs.inMain, 50)} / ${legText(legs.toPage, 50)} (${legs.toMain.length} of ${probe.pulls.length})`,
          'ms',
        ],
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
    const keys =
      app.arrow === undefined ? undefined : await floorKeys(page, app.scenario.name, log);
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
      keys,
    };
  } finally {
    await context.close().catch(() => undefined);
  }
}

/**
 * The app's keys on the floor page, after its frame window (whose frames stay those of the cells
 * alone): the same presses at the same pace under the same feed, measured the same way.
 */
async function floorKeys(
  page: Page,
  scenario: string,
  log: (line: string) => void,
): Promise<NonNullable<FloorRun['keys']>> {
  if (!(await page.evaluate<boolean>(FOCUS_WATCHLIST)))
    throw new Error('could not focus the DOM floor table for its keys');
  await page.keyboard.press('Home');
  const watched = await page.evaluate<boolean>('window.__benchWatchPaints()');
  const before = await page.evaluate<string>(SELECTION);
  await pressKeys(page, 'arrow', ARROW_KEYS, KEY_SPACING_MS);
  if ((await page.evaluate<string>(SELECTION)) === before)
    log(`warning: ArrowDown did not move the DOM floor's selection (${before || 'none'})`);
  if (!(await page.evaluate<boolean>(FOCUS_ADD_BOX)))
    throw new Error('no add box on the DOM floor page');
  await pressKeys(page, 'type', TYPED_KEYS, KEY_SPACING_MS);
  // The last press's entry and paint mark come after its paint.
  await sleep(PRESS_TAIL_MS);
  // Only the keys, their entries and paint marks are read: those lists are not cut to a window
  // (the frames and long tasks are, here to none).
  const pressed = await readProbe(page, 0, 0);
  const keys = {
    arrow: keyFigures(pressed, 'arrow', watched),
    typing: keyFigures(pressed, 'type', false),
  };
  log(
    `e2e ${scenario} DOM floor keys: ArrowDown p50 / p95 ${round(keys.arrow.p50)} / ${round(keys.arrow.p95)} ms, ` +
      `add box ${round(keys.typing.p50)} / ${round(keys.typing.p95)} ms`,
  );
  return keys;
}

/** The app's keys beside the same keys on its DOM floor, or undefined where no keys ran. */
function floorKeysTable(app: AppRun, floor: FloorRun): Table | undefined {
  if (app.arrow === undefined || app.typing === undefined || floor.keys === undefined)
    return undefined;
  const line = (name: string, a: KeyFigures, f: KeyFigures) => {
    const handlersToPaint = (k: KeyFigures) =>
      k.phases === undefined ? Number.NaN : sortedPercentile(k.phases.toPaint, 50);
    const cells = (k: KeyFigures) => [k.p50, k.p95, k.max, handlersToPaint(k)];
    const [x, y] = [cells(a), cells(f)];
    return [
      [`${name}: app`, ...x.map((v) => round(v, 1))],
      [`${name}: DOM floor`, ...y.map((v) => round(v, 1))],
      [`${name}: app / floor`, ...x.map((v, i) => round(v / (y[i] ?? Number.NaN)))],
    ];
  };
  return {
    title: `e2e ${app.scenario.name}: keys against the DOM floor (ms)`,
    columns: ['key', 'p50', 'p95', 'max', 'handlers to paint p50'],
    rows: [
      ...line('ArrowDown', app.arrow, floor.keys.arrow),
      ...line('add box key', app.typing, floor.keys.typing),
    ],
    note:
      `The same ${ARROW_KEYS.length} ArrowDown and ${TYPED_KEYS.length} add box keys, ${KEY_SPACING_MS} ms apart, on the ` +
      "DOM floor page after its frame window (the feed and main still running), measured as the app's are. " +
      'There, ArrowDown moves a highlighted row (its style and aria attributes) and marks the paint in the next ' +
      'animation frame, as the canvas does; the page holds only the rows on screen, so a move past the last wraps ' +
      "instead of scrolling. The add box is a bare input (the app's also filters and lists matches).",
  };
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
    host = await startAppHost(ctx.root, simUrl, staticDir, symbols, CODEC);
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
        ...[floorKeysTable(r, floor)].filter((t) => t !== undefined),
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
                ...(floors[i]!.keys === undefined ? {} : { keys: floors[i]!.keys }),
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
    await stopOrKill(sim);
  }
};
