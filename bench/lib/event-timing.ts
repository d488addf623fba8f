/**
 * Input-to-paint figures for bench/e2e.ts, from what its probe recorded in the page: the key
 * presses (keydown timeStamps, taken by a capture listener) matched to Chromium's Event Timing
 * entries, whose `duration` runs from the event's timeStamp to the next paint after its handlers
 * ran; or, where Event Timing is missing, to the paint marks the canvas watchlist leaves in its
 * `data-painted-selection` attribute. Pure functions, no platform imports.
 */
import { sortedPercentile } from './stats.ts';

/** A keydown the probe saw while the bench was pressing keys of one kind (`tag`). */
export interface KeyPress {
  readonly key: string;
  readonly tag: string;
  readonly timeStamp: number;
}

/** The fields of a PerformanceEventTiming entry the bench keeps. */
export interface EventTimingEntry {
  readonly name: string;
  readonly startTime: number;
  readonly duration: number;
  readonly processingStart: number;
  readonly processingEnd: number;
}

export interface KeyToPaint {
  /**
   * One per press, ascending: the entry's duration, or `thresholdMs` for a press that has no entry
   * (the observer only reports events that took at least its threshold, so such a press painted
   * sooner: counting it at the threshold overstates it, never understates it).
   */
  readonly durations: number[];
  /** The same, in the order of `presses`. */
  readonly perPress: number[];
  /** Presses with an entry. */
  readonly matched: number;
  /** Presses without one (under the threshold). */
  readonly belowThreshold: number;
  /** Of the matched: the longest wait from the event to its handlers (input delay). */
  readonly maxInputDelay: number;
  /**
   * The matched presses' entries split in three, each ascending (ms): input delay (the event's
   * timeStamp to its first handler), handlers (first handler to the last one's end, the page's
   * microtasks included) and to the paint (the handlers' end to the next paint). A key that
   * paints late because the page was busy before it shows in the first; because its own work
   * was long, in the second; because the frame that shows it was long or late, in the third.
   */
  readonly phases: {
    readonly inputDelay: number[];
    readonly handlers: number[];
    readonly toPaint: number[];
  };
}

/**
 * Matches each press to the keydown entry that starts at its timeStamp (Chromium sets an entry's
 * startTime to the event's timeStamp; `toleranceMs` allows for the two being rounded apart). An
 * entry matches one press at most.
 */
export function keyToPaint(
  presses: readonly KeyPress[],
  entries: readonly EventTimingEntry[],
  thresholdMs: number,
  toleranceMs = 1,
): KeyToPaint {
  const keydowns = entries
    .filter((e) => e.name === 'keydown' && Number.isFinite(e.startTime))
    .sort((a, b) => a.startTime - b.startTime);
  const used = new Uint8Array(keydowns.length);
  const perPress: number[] = [];
  const phases = { inputDelay: [] as number[], handlers: [] as number[], toPaint: [] as number[] };
  let matched = 0;
  for (const press of presses) {
    let best = -1;
    let bestGap = Infinity;
    for (let i = 0; i < keydowns.length; i++) {
      const e = keydowns[i]!;
      if (e.startTime > press.timeStamp + toleranceMs) break;
      const gap = Math.abs(e.startTime - press.timeStamp);
      if (used[i] === 0 && gap <= toleranceMs && gap < bestGap) {
        best = i;
        bestGap = gap;
      }
    }
    if (best < 0) {
      perPress.push(thresholdMs);
      continue;
    }
    used[best] = 1;
    const e = keydowns[best]!;
    matched++;
    perPress.push(e.duration);
    phases.inputDelay.push(e.processingStart - e.startTime);
    phases.handlers.push(e.processingEnd - e.processingStart);
    phases.toPaint.push(e.startTime + e.duration - e.processingEnd);
  }
  const durations = [...perPress].sort((a, b) => a - b);
  for (const list of Object.values(phases)) list.sort((a, b) => a - b);
  return {
    durations,
    perPress,
    matched,
    belowThreshold: presses.length - matched,
    // The input delays are sorted: the longest is the last (0 when nothing matched).
    maxInputDelay: Math.max(0, phases.inputDelay.at(-1) ?? 0),
    phases,
  };
}

/** A paint the canvas watchlist announced: the selection it showed, and when (page clock). */
export interface PaintMark {
  readonly selection: string;
  readonly at: number;
}

/**
 * The attribute method: for each press, the first paint mark at or after it (a paint showing a
 * selection other than the one painted before), minus the press's timeStamp. A press followed by
 * no mark (the selection never painted, or the marks stopped) is counted in `missing` and is NaN
 * in `perPress`; `durations` (ascending) leaves it out.
 */
export function pressToPaintMark(
  presses: readonly KeyPress[],
  marks: readonly PaintMark[],
): { durations: number[]; perPress: number[]; missing: number } {
  const sorted = [...marks].sort((a, b) => a.at - b.at);
  const perPress: number[] = [];
  let missing = 0;
  for (const press of presses) {
    const mark = sorted.find((m) => m.at >= press.timeStamp);
    if (mark === undefined) missing++;
    perPress.push(mark === undefined ? Number.NaN : mark.at - press.timeStamp);
  }
  const durations = perPress.filter((d) => !Number.isNaN(d)).sort((a, b) => a - b);
  return { durations, perPress, missing };
}

/**
 * Per press, the later of two measures of the same presses (same order), ascending. Event Timing
 * ends at the first paint after the key's handlers, which a canvas may not have drawn the new
 * selection into yet; the paint mark ends at the canvas's paint of a new selection. The paint
 * that shows the key can be neither earlier than the one nor than the other. A press one measure
 * has no value for (NaN: no paint mark followed it) counts as never painted: Infinity.
 */
export function laterOfEach(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) {
    throw new RangeError(`measures of ${a.length} and ${b.length} presses cannot be paired`);
  }
  return a
    .map((x, i) => {
      const y = b[i]!;
      return Number.isNaN(x) || Number.isNaN(y) ? Infinity : Math.max(x, y);
    })
    .sort((x, y) => x - y);
}

/** p50 / p95 / max of ascending values (NaN when empty). */
export function pressSummary(sorted: readonly number[]): { p50: number; p95: number; max: number } {
  return {
    p50: sortedPercentile(sorted, 50),
    p95: sortedPercentile(sorted, 95),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
  };
}
