/**
 * The e2e section's trace summary on a small trace: self time by kind in thread time (children
 * subtracted, an unknown event taking its parent's kind, wall time when an event has no thread
 * time), threads grouped by name without their numbers, quiet threads left out, figures per
 * second of trace.
 */
import { describe, expect, it } from 'vitest';
import { summarizeTrace, type TraceEvent } from '../../../bench/lib/page-trace.ts';

function named(tid: number, name: string): TraceEvent {
  return { name: 'thread_name', ph: 'M', ts: 0, pid: 1, tid, args: { name } };
}

function task(tid: number, name: string, ts: number, dur: number, tdur?: number): TraceEvent {
  return { name, ph: 'X', ts, dur, ...(tdur === undefined ? {} : { tdur }), pid: 1, tid };
}

// One second of trace (µs): the main thread, two raster workers, an unnamed quiet thread.
const EVENTS: TraceEvent[] = [
  named(10, 'CrRendererMain'),
  named(20, 'ThreadPoolForegroundWorker1'),
  named(21, 'ThreadPoolForegroundWorker2'),
  task(10, 'FunctionCall', 0, 10_000, 8_000),
  task(10, 'Layout', 2_000, 3_000, 3_000),
  task(10, 'SomethingNew', 6_000, 1_500, 1_500),
  task(10, 'Paint', 20_000, 2_000, 2_000),
  task(10, 'MinorGC', 30_000, 1_000),
  { name: 'Marker', ph: 'I', ts: 40_000, pid: 1, tid: 10 },
  task(20, 'RasterTask', 0, 5_000, 4_000),
  task(21, 'RasterTask', 994_000, 6_000, 6_000),
  task(30, 'Other', 100, 500, 500),
];

describe('summarizeTrace', () => {
  const summary = summarizeTrace(EVENTS);

  it('spans the complete events', () => {
    expect(summary.seconds).toBe(1);
  });

  it('splits each thread by kind in self CPU time, grouped by name', () => {
    expect(summary.threads).toEqual([
      {
        thread: 'CrRendererMain',
        wallMsPerS: 13,
        cpuMsPerS: 11,
        // FunctionCall's own 3.5 and SomethingNew's 1.5 (unknown: its parent's kind).
        byKind: { scripting: 5, rendering: 3, painting: 2, gc: 1 },
      },
      {
        thread: 'ThreadPoolForegroundWorker',
        wallMsPerS: 11,
        cpuMsPerS: 10,
        byKind: { painting: 10 },
      },
    ]);
  });

  it('ranks events by self CPU time, children subtracted', () => {
    expect(summary.events.map((e) => [e.thread, e.name, e.cpuMsPerS, e.wallMsPerS])).toEqual([
      ['ThreadPoolForegroundWorker', 'RasterTask', 10, 11],
      ['CrRendererMain', 'FunctionCall', 3.5, 5.5],
      ['CrRendererMain', 'Layout', 3, 3],
      ['CrRendererMain', 'Paint', 2, 2],
      ['CrRendererMain', 'SomethingNew', 1.5, 1.5],
      ['CrRendererMain', 'MinorGC', 1, 1],
      ['thread 1:30', 'Other', 0.5, 0.5],
    ]);
  });
});
