/**
 * One animation-frame callback for the page's painters and for those waiting on a paint. A painter
 * (the canvas watchlist) asks for the next frame with `requestPaint`; `afterPaint()` resolves in
 * that same frame, after every painter has drawn. The store's frame loop waits on it, so its
 * screen-latency figure is taken when the canvas has drawn the folded frame, not before.
 *
 * Readers (`requestRead`) run first, in an animation-frame callback of their own: the bridge's
 * socket takes the quote frame waiting in shared memory there (worker-socket.ts). The browser runs
 * the microtasks between two callbacks, so the frame is folded into the board (the store's pull
 * loop awaits it) before the painters of the same animation frame draw it.
 */

type Painter = () => void;

const painters = new Set<Painter>();
const readers = new Set<Painter>();
let waiters: Array<() => void> = [];
let pending = false;

/**
 * The browser's; looked up rather than named, since this file is also type-checked without the
 * DOM's globals (api.ts, which node tests import, imports it).
 */
function nextAnimationFrame(callback: () => void): void {
  (
    globalThis as unknown as { requestAnimationFrame(cb: () => void): number }
  ).requestAnimationFrame(callback);
}

function schedule(): void {
  if (pending) return;
  pending = true;
  // Both, always, and in this order: a reader asked for while painters are already due must
  // still run before them.
  nextAnimationFrame(read);
  nextAnimationFrame(run);
}

function read(): void {
  runEach(readers, 'reader');
}

/** Runs and forgets what `due` holds; one callback's fault must not stop the others. */
function runEach(due: Set<Painter>, what: string): void {
  const now = [...due];
  due.clear();
  for (const callback of now) {
    try {
      callback();
    } catch (err) {
      console.error(`${what} failed`, err);
    }
  }
}

function run(): void {
  pending = false;
  // A painter's fault stops neither the others nor the frame loop waiting below.
  runEach(painters, 'painter');
  const wake = waiters;
  waiters = [];
  for (const resolve of wake) resolve();
  // A reader asked for between this frame's reading and now: the next frame has it.
  if (readers.size > 0) schedule();
}

/**
 * Runs `read` once in the next animation frame, before the painters, with the microtasks it starts
 * run before they draw (asking again before it runs is one run).
 */
export function requestRead(reader: Painter): void {
  readers.add(reader);
  schedule();
}

/** Runs `paint` once in the next animation frame (asking again before it runs is one run). */
export function requestPaint(paint: Painter): void {
  painters.add(paint);
  schedule();
}

/** Drops a painter's pending request (its owner is going away). */
export function cancelPaint(paint: Painter): void {
  painters.delete(paint);
}

/** Resolves in the next animation frame, after the painters asked for it have drawn. */
export function afterPaint(): Promise<void> {
  return new Promise((resolve) => {
    waiters.push(resolve);
    schedule();
  });
}
