/**
 * Late frames around a run of key presses, for bench/e2e.ts: the page's animation-frame
 * timestamps cut into before the first press, during the presses (to the last press plus a tail
 * in which their work still lands) and after, with how many frame intervals in each were longer
 * than a frame budget. A scenario whose frame interval p95 misses can then say whether the late
 * frames come from the keys or from the feed alone. Pure functions, no platform imports.
 */

export interface LateFrames {
  /** Frame intervals longer than the budget. */
  readonly late: number;
  /** Frame intervals in the span. */
  readonly frames: number;
}

export interface LateFramesAround {
  readonly before: LateFrames;
  readonly during: LateFrames;
  readonly after: LateFrames;
}

/**
 * Each interval between consecutive `raf` stamps (ascending, ms) falls in the span its end stamp
 * is in: before `firstPress`, up to `lastPress + tailMs`, or after. No presses: all "before".
 */
export function lateFramesAround(
  raf: readonly number[],
  presses: readonly number[],
  budgetMs: number,
  tailMs: number,
): LateFramesAround {
  const first = presses.length === 0 ? Infinity : Math.min(...presses);
  const end = presses.length === 0 ? Infinity : Math.max(...presses) + tailMs;
  const counts = [
    { late: 0, frames: 0 },
    { late: 0, frames: 0 },
    { late: 0, frames: 0 },
  ];
  for (let i = 1; i < raf.length; i++) {
    const at = raf[i]!;
    const span = counts[at < first ? 0 : at <= end ? 1 : 2]!;
    span.frames++;
    if (at - raf[i - 1]! > budgetMs) span.late++;
  }
  const [before, during, after] = counts as [LateFrames, LateFrames, LateFrames];
  return { before, during, after };
}

/** "late/frames" of a span, as the bench's tables print it. */
export function lateText(span: LateFrames): string {
  return `${span.late}/${span.frames}`;
}
