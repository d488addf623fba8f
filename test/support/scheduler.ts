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
