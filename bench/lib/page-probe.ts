/**
 * What the e2e section runs inside Chromium pages, and reads back: the probe installed before a
 * page's own scripts (animation frames, long tasks, key presses, Event Timing entries, the canvas
 * watchlist's paint marks), the small scripts that count rows, read columns, focus, reset and
 * export, and the Node side that reads the probe and presses keys on a schedule. The scripts are
 * plain JS in strings: they run in the page, not here.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from '@playwright/test';
import type { EventTimingEntry, KeyPress, PaintMark } from './event-timing.ts';

/** The Event Timing observer's threshold: the smallest Chromium accepts. */
export const EVENT_THRESHOLD_MS = 16;

/**
 * Installed before the app's scripts (addInitScript runs outside the page's CSP), and on the DOM
 * floor page alike: a rAF loop that records each frame's timestamp, a long-task observer, and for
 * the key targets a capture keydown listener (the press's own event.timeStamp, tagged with what
 * the bench is pressing) and an Event Timing observer (PerformanceEventTiming: a keydown's
 * duration runs to the next paint after its handlers), and the arrival of each binary message on
 * the page's WebSockets (the constructor wrapped, so the stamp is taken before the app's listener)
 * and of each quote frame the bridge's WorkerSocket hands the bridge client. `__benchWatchPaints()` starts the
 * attribute method on the canvas watchlist's `data-painted-selection`: each change of the painted
 * selection, then a MessageChannel tick, is a paint mark. The canvas paints (and sets the
 * attribute) inside an animation-frame callback (renderer/paint-clock.ts), so a message posted
 * there is delivered after that frame's rendering steps: its paint. Waiting for one more
 * animation frame first, as first planned, would add a whole frame to every mark. Plain JS: it
 * runs in the page.
 */
export const PROBE = `(() => {
  const probe = { raf: [], longtasks: [], longtaskSupported: true, keyTag: '', keys: [], events: [],
    eventTimingSupported: typeof PerformanceEventTiming !== 'undefined', paints: [], arrivals: [], arrivalsAtFrame: [], pulls: [] };
  Object.defineProperty(window, '__benchProbe', { value: probe });
  // Each binary message on the page's sockets (browser mode's quote frames), stamped by a listener
  // added when the socket is made, so before the app's own; and each frame request sent.
  const NativeSocket = window.WebSocket;
  if (typeof NativeSocket === 'function') {
    const Socket = function (...args) {
      const socket = new NativeSocket(...args);
      socket.addEventListener('message', (e) => {
        if (typeof e.data !== 'string') probe.arrivals.push(performance.now());
      });
      const send = socket.send.bind(socket);
      socket.send = (data) => {
        if (typeof data === 'string' && data.includes('"type":"frame"')) probe.pulls.push(performance.now());
        return send(data);
      };
      return socket;
    };
    Socket.prototype = NativeSocket.prototype;
    for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Socket[k] = NativeSocket[k];
    window.WebSocket = Socket;
  }
  // Browser mode reads its socket in a worker (renderer/worker-socket.ts): the page's WorkerSocket
  // then hands each frame to the bridge client with its own dispatchEvent, either at the worker's
  // message or, from shared memory, at an animation frame (then no event is being handled:
  // window.event is undefined). That dispatch is the frame's arrival; on the page-socket fallback
  // the socket's own listener above has stamped it already. A frame request is the page's post.
  const nativeDispatch = EventTarget.prototype.dispatchEvent;
  EventTarget.prototype.dispatchEvent = function (event) {
    if (event.type === 'message' && event.data instanceof ArrayBuffer && this.transport === 'worker') {
      const at = performance.now();
      probe.arrivals.push(at);
      if (window.event === undefined) probe.arrivalsAtFrame.push(at);
    }
    return nativeDispatch.call(this, event);
  };
  const NativeWorker = window.Worker;
  if (typeof NativeWorker === 'function') {
    const Relay = function (...args) {
      const worker = new NativeWorker(...args);
      const post = worker.postMessage.bind(worker);
      worker.postMessage = (message, ...rest) => {
        if (message && message.op === 'send' && typeof message.data === 'string' && message.data.includes('"type":"frame"')) probe.pulls.push(performance.now());
        return post(message, ...rest);
      };
      return worker;
    };
    Relay.prototype = NativeWorker.prototype;
    window.Worker = Relay;
  }
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

export interface RowCount {
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
export const COUNT_ROWS = `(() => {
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
export const READ_COLUMNS = `(() => {
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
export const FOCUS_WATCHLIST = `(() => {
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
export const SELECTION = `(document.getElementById('watchlist-table-area')?.getAttribute('aria-activedescendant')
  ?? document.querySelector('[data-painted-selection]')?.getAttribute('data-painted-selection') ?? '')`;

export const FOCUS_ADD_BOX = `(() => {
  const input = document.getElementById('add-symbol-input');
  if (input === null) return false;
  input.focus();
  return document.activeElement === input;
})()`;

export const NEXT_PAINT = `new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))`;

/** Clicks Diagnostics' Reset (main -> screen) and returns the page clock at that instant. */
export const RESET_AND_MARK = `(() => {
  const button = document.querySelector('button[aria-label="Reset main to screen latency"]');
  if (button === null) throw new Error('no "Reset main to screen latency" button: is the Diagnostics tab open, the renderer build current?');
  const at = performance.now();
  button.click();
  return at;
})()`;

export const CLICK_EXPORT = `(() => {
  const button = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Export diagnostics');
  if (button === undefined) throw new Error('no "Export diagnostics" button');
  button.click();
})()`;

/** [performance.now(), animation frames so far]. */
export const PROBE_COUNT = `[performance.now(), window.__benchProbe.raf.length]`;

export interface ProbeData {
  readonly raf: number[];
  readonly longtasks: { start: number; duration: number }[];
  readonly longtaskSupported: boolean;
  readonly keys: KeyPress[];
  readonly events: EventTimingEntry[];
  readonly eventTimingSupported: boolean;
  readonly paints: PaintMark[];
  /** When each binary socket message (a quote frame, in browser mode) reached the page. */
  readonly arrivals: number[];
  /** Those of `arrivals` taken from shared memory in an animation frame (not at a message). */
  readonly arrivalsAtFrame: number[];
  /** When each frame request left the page (a text message of type "frame"). */
  readonly pulls: number[];
}

/**
 * The probe's records, frames, long tasks and socket arrivals cut to [from, to] in the page (the
 * lists are long).
 */
export function readProbe(page: Page, from: number, to: number): Promise<ProbeData> {
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
      arrivals: p.arrivals.filter((t) => t >= ${a} && t <= ${b}),
      arrivalsAtFrame: p.arrivalsAtFrame.filter((t) => t >= ${a} && t <= ${b}),
      pulls: p.pulls.filter((t) => t >= ${a} && t <= ${b}),
    };
  })()`);
}

/**
 * Presses `keys` one every `spacingMs` on a fixed schedule, tagged `tag` in the probe. A press is
 * not awaited before the next one is due: a trader's keys arrive whether or not the page has
 * handled the previous one, so a busy page queues them (and their input delay counts). Resolves
 * when every press has been handled.
 */
export async function pressKeys(
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

/** Frame intervals (ascending) from the probe's timestamps inside a window. */
export function intervalsOf(stamps: readonly number[]): Float64Array {
  return Float64Array.from(stamps.slice(1).map((t, i) => t - (stamps[i] as number))).sort();
}
