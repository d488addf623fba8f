/**
 * Keeps V8's young generation (new space) of the process running the core at a fixed ceiling.
 *
 * Why. Under a steady feed V8 keeps doubling the young generation while objects survive its
 * scavenges, up to its built-in maximum: on a 64-bit machine with this much memory that is 64 MB
 * semispaces, 128 MB of new space. The memory soak (bench/memory.ts, 20k msgs/s for 10 minutes)
 * showed exactly that: the JS heap in use stayed flat, while new space went 16 -> 64 -> 128 MB and
 * RSS with it (121 -> 249 MB). The monitor's garbage is short-lived (one message, one frame), so a
 * small young generation costs little: with new space held at 16 MB the same soak kept RSS within
 * 10 MB of its start.
 *
 * How. The maximum can only be set by a V8 flag at start-up (`--max-semi-space-size`), which an
 * Electron main process cannot get from a packaged app. What V8 does read at every growth step is
 * `--semi-space-growth-factor`, which `v8.setFlagsFromString` can change at any time. So this
 * watches new space once a second and sets the factor to 1 (no growth) while it is at or above the
 * ceiling, and back to V8's default of 2 below it (V8 shrinks new space when allocation slows;
 * then it may grow back up to the ceiling). The flag is process-wide: one governor per process.
 */
import v8 from 'node:v8';

/** The parts of node:v8 this uses (injectable for tests). */
export interface V8Heap {
  getHeapSpaceStatistics(): readonly { space_name: string; space_size: number }[];
  setFlagsFromString(flags: string): void;
}

export interface YoungGenerationOptions {
  /** New space at most this many bytes (both semispaces). Default 16 MiB. */
  readonly maxNewSpaceBytes?: number;
  /** How often new space is checked. Default 1000 ms. */
  readonly intervalMs?: number;
  readonly v8?: V8Heap;
  readonly setInterval?: (fn: () => void, ms: number) => unknown;
  readonly clearInterval?: (handle: unknown) => void;
}

export const DEFAULT_MAX_NEW_SPACE_BYTES = 16 * 2 ** 20;
const DEFAULT_GROWTH_FACTOR = 2;

/**
 * Process-wide state, since the V8 flag is process-wide: the ceiling of every running governor,
 * and the growth factor the flag was last set to (the lowest ceiling wins while several run).
 */
const ceilings = new Map<symbol, number>();
let flagFactor = DEFAULT_GROWTH_FACTOR;

/**
 * Starts the governor; returns the stop function (idempotent). Stopping the last one restores
 * V8's default growth. While several run in one process (tests, tools), the lowest ceiling holds.
 */
export function capYoungGeneration(options: YoungGenerationOptions = {}): () => void {
  const heap = options.v8 ?? v8;
  const id = Symbol('young-generation governor');
  ceilings.set(id, options.maxNewSpaceBytes ?? DEFAULT_MAX_NEW_SPACE_BYTES);
  const set = (next: number, force = false): void => {
    if (next === flagFactor && !force) return;
    try {
      heap.setFlagsFromString(`--semi-space-growth-factor=${next}`);
      flagFactor = next;
    } catch {
      // A V8 without the flag: nothing to govern.
    }
  };
  const check = (): void => {
    let size: number | undefined;
    try {
      size = heap.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size;
    } catch {
      size = undefined;
    }
    if (size === undefined) return;
    set(size >= Math.min(...ceilings.values()) ? 1 : DEFAULT_GROWTH_FACTOR);
  };
  check();
  const every = options.setInterval ?? setInterval;
  const handle = every(check, options.intervalMs ?? 1000);
  (handle as { unref?: () => void } | undefined)?.unref?.();
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    (options.clearInterval ?? ((h: unknown) => clearInterval(h as NodeJS.Timeout)))(handle);
    ceilings.delete(id);
    // The last one out restores V8's growth, whichever governor set the flag.
    if (ceilings.size === 0) set(DEFAULT_GROWTH_FACTOR, true);
  };
}
