/**
 * A scheduler that runs real timers faster than asked and records every delay requested, so a
 * test can check backoff delays of seconds in milliseconds of wall time.
 */
import { performance } from 'node:perf_hooks';
import type { Scheduler } from '../../electron/stream/client.ts';

export interface RecordingScheduler extends Scheduler {
  readonly requested: number[];
}

export function scaledScheduler(speedup: number): RecordingScheduler {
  const requested: number[] = [];
  const start = performance.now();
  return {
    requested,
    now: () => start + (performance.now() - start) * speedup,
    setTimeout: (fn, ms) => {
      requested.push(ms);
      return setTimeout(fn, ms / speedup);
    },
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
}

export interface TrackingScheduler extends Scheduler {
  /** Timers set and neither fired nor cleared yet. */
  pending(): number;
}

/** Real timers, counted: a test can check that nothing is left scheduled. */
export function trackingScheduler(): TrackingScheduler {
  const live = new Set<NodeJS.Timeout>();
  return {
    now: () => performance.now(),
    setTimeout: (fn, ms) => {
      const handle = setTimeout(() => {
        live.delete(handle);
        fn();
      }, ms);
      live.add(handle);
      return handle;
    },
    clearTimeout: (handle) => {
      live.delete(handle as NodeJS.Timeout);
      clearTimeout(handle as NodeJS.Timeout);
    },
    pending: () => live.size,
  };
}
