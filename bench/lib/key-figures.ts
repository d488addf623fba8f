/**
 * A key target's figures for the e2e section, from what the page probe recorded: Event Timing
 * where the page has it, the canvas watchlist's paint marks where it has those, the later of the
 * two where it has both. event-timing.ts matches presses to entries and marks; this module picks
 * the method and summarizes. Pure: nothing here drives the page.
 */
import { keyToPaint, laterOfEach, pressSummary, pressToPaintMark } from './event-timing.ts';
import { EVENT_THRESHOLD_MS, type ProbeData } from './page-probe.ts';
import { round, sortedPercentile } from './stats.ts';

/** A key target's figures: Event Timing where the page has it, else the attribute method. */
export interface KeyFigures {
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
export function phaseText(phases: NonNullable<KeyFigures['phases']>, p: number): string {
  const at = (sorted: readonly number[]) => round(sortedPercentile(sorted, p), 1);
  return `${at(phases.inputDelay)} / ${at(phases.handlers)} / ${at(phases.toPaint)}`;
}

export function keyFigures(probe: ProbeData, tag: string, attributeWatched: boolean): KeyFigures {
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
