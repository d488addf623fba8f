/**
 * The detail pane's one clock for what the tape moves. Times & Sales' rows and the chart's live
 * candle redraw together, at most every TAPE_REDRAW_MS, in the same task (React renders the rows
 * in a task of its own right after it, before the next frame). The quote redraws on this clock
 * too, and also on each board frame of its symbol: its bid, ask and last may run up to one pace
 * ahead of the tape's top row, which is the fresher of the two for a trader.
 *
 * Main sends the watched symbol's trades in batches at most every TAPE_PACE_MS, the same pace
 * (electron/market/tape.ts), so a batch is mostly drawn as it arrives. When main sent them every
 * 150 ms and each was redrawn on its own arrival, the tape's 50 rows shifted, the pane was relaid
 * and repainted and the chart redrawn about seven times a second, in frames of their own. On the desk that open pane
 * brought 2-4 long tasks into every 20 s window and made most of the late frames outside the key
 * presses (bench e2e desk, 2026-12-07: with Times & Sales hidden, 0 long tasks in three runs of
 * three). A tape that moves four times a second still reads as live. A lone batch after a quiet
 * spell is drawn at once, and so is a tape that was replaced rather than added to (another symbol,
 * main's first answer for it, another source): it is not one more batch of what was shown. A
 * hidden window draws nothing until it is shown again.
 */
import { useEffect, useState } from 'react';
import { TAPE_PACE_MS } from '../shared/api.ts';
import type { TradeTape } from './model/trade-tape.ts';
import { useMonitor } from './store.ts';

/** The shortest time between two redraws of the tape's views: main's pace of batches. */
export const TAPE_REDRAW_MS = TAPE_PACE_MS;

const listeners = new Set<() => void>();
let timer: ReturnType<typeof setTimeout> | undefined;
/** Date.now() of the last redraw. */
let last = -Infinity;
let unsubscribe: (() => void) | undefined;
/** The tape and its epoch as last drawn: another one is drawn at once. */
let drawnTape: TradeTape | undefined;
let drawnEpoch = 0;
/** Whether a redraw waits for the window to be shown again. */
let waitingForShow = false;

function shown(): void {
  if (document.hidden) return;
  stopWaitingForShow();
  redraw();
}

function stopWaitingForShow(): void {
  if (!waitingForShow) return;
  waitingForShow = false;
  document.removeEventListener('visibilitychange', shown);
}

function redraw(): void {
  timer = undefined;
  // A hidden window (minimised, another tab) shows nothing, yet its timers still run (once a
  // second in Chromium): the views would render for nobody, which on animation frames they never
  // did. They draw the tape as it is once the window is shown.
  if (document.hidden) {
    if (!waitingForShow) document.addEventListener('visibilitychange', shown);
    waitingForShow = true;
    return;
  }
  last = Date.now();
  const { tape } = useMonitor.getState();
  drawnTape = tape;
  drawnEpoch = tape.epoch;
  for (const listener of [...listeners]) {
    try {
      listener();
    } catch (err) {
      // One view's fault must not keep the others on an old tape.
      console.error('tape redraw failed', err);
    }
  }
}

function tapeMoved(tape: TradeTape): void {
  if (waitingForShow) return;
  if (tape !== drawnTape || tape.epoch !== drawnEpoch) {
    // Another symbol's tape (or a source's new one): the pane shows it empty until drawn, and
    // its first answer comes right after the reset, while the last symbol's pace still holds.
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(redraw, 0);
    return;
  }
  if (timer !== undefined) return;
  // Never longer than TAPE_REDRAW_MS: a wall clock set back since the last redraw puts `last` in
  // the future, and the tape would stand still for as long as the clock went back.
  const wait = Math.min(TAPE_REDRAW_MS, Math.max(0, last + TAPE_REDRAW_MS - Date.now()));
  timer = setTimeout(redraw, wait);
}

/**
 * Calls `listener` on the tape's clock: after the store's `tapeVersion` moved, at most once per
 * TAPE_REDRAW_MS (a replaced tape at once), every listener in the same task. Returns the
 * unsubscribe.
 */
export function onTapeRedraw(listener: () => void): () => void {
  listeners.add(listener);
  unsubscribe ??= useMonitor.subscribe((state, previous) => {
    if (state.tapeVersion !== previous.tapeVersion) tapeMoved(state.tape);
  });
  return () => {
    listeners.delete(listener);
    if (listeners.size > 0) return;
    unsubscribe?.();
    unsubscribe = undefined;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    stopWaitingForShow();
  };
}

/**
 * The store's `tapeVersion` on the tape's clock: what a component showing the tape re-renders on.
 */
export function useTapeFrame(): number {
  const [version, setVersion] = useState(() => useMonitor.getState().tapeVersion);
  useEffect(() => {
    const take = () => setVersion(useMonitor.getState().tapeVersion);
    // A tape that moved between the first render and this effect: drawn at once.
    take();
    return onTapeRedraw(take);
  }, []);
  return version;
}
