/**
 * One animation-frame callback for the page's painters and for those waiting on a paint. A painter
 * (the canvas watchlist) asks for the next frame with `requestPaint`; `afterPaint()` resolves in
 * that same frame, after every painter has drawn. The store's frame loop waits on it, so its
 * screen-latency figure is taken when the canvas has drawn the folded frame, not before.
 */

type Painter = () => void;

const painters = new Set<Painter>();
let waiters: Array<() => void> = [];
let pending = false;

function schedule(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(run);
}

function run(): void {
  pending = false;
  const now = [...painters];
  painters.clear();
  for (const paint of now) {
    try {
      paint();
    } catch (err) {
      // One painter's fault must not stop the others, nor the frame loop waiting below.
      console.error('painter failed', err);
    }
  }
  const wake = waiters;
  waiters = [];
  for (const resolve of wake) resolve();
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
