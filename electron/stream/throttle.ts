/**
 * Turns a flood of like events into a bounded trickle of lines: the first event of a key (an
 * invalid-input reason, a server error code) is passed on at once, with itself as the example;
 * later ones within the interval are only counted, and one summary per key per interval carries
 * the count and the first of them. A key quiet for a whole interval is forgotten, so its next event
 * is passed on at once again. At most two lines per key per interval, one under a steady flood,
 * and at most `maxKeys` keys (past them, events share the key OVERFLOW_KEY), whatever a server
 * sends. Counting stays exact: every event is in exactly one line.
 *
 * Used where a per-event log line or output record would let a hostile or broken server flood a
 * log ring or a slow reader: the stream client's warnings and the `stream` CLI's records.
 */

/** Timers and a monotonic clock (StreamClient's Scheduler fits). */
export interface ThrottleClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ThrottledLine<T> {
  readonly key: string;
  /** Events this line stands for: 1 for the first of a key, else those counted since. */
  readonly count: number;
  /** The first of those events. */
  readonly first: T;
  /** 0 for the line passed on at once; else the ms the count covers (about one interval). */
  readonly intervalMs: number;
}

export interface ThrottleOptions<T> {
  readonly intervalMs: number;
  readonly clock: ThrottleClock;
  readonly emit: (line: ThrottledLine<T>) => void;
  /** Distinct keys tracked at once; default 32. */
  readonly maxKeys?: number;
}

/** The key events share once `maxKeys` keys are tracked. */
export const OVERFLOW_KEY = 'other';

interface KeyState<T> {
  count: number;
  first: T | undefined;
  since: number;
}

export class Throttle<T> {
  readonly #intervalMs: number;
  readonly #clock: ThrottleClock;
  readonly #emit: (line: ThrottledLine<T>) => void;
  readonly #maxKeys: number;
  readonly #keys = new Map<string, KeyState<T>>();
  #timer: unknown;

  constructor(options: ThrottleOptions<T>) {
    this.#intervalMs = Math.max(1, options.intervalMs);
    this.#clock = options.clock;
    this.#emit = options.emit;
    this.#maxKeys = Math.max(1, options.maxKeys ?? 32);
  }

  /** Keys tracked now (for tests: it must stay bounded). */
  get size(): number {
    return this.#keys.size;
  }

  add(key: string, event: T): void {
    let k = key;
    if (!this.#keys.has(k) && this.#keys.size >= this.#maxKeys) k = OVERFLOW_KEY;
    const state = this.#keys.get(k);
    if (state !== undefined) {
      if (state.count === 0) state.first = event;
      state.count++;
      return;
    }
    this.#keys.set(k, { count: 0, first: undefined, since: this.#clock.now() });
    this.#arm();
    this.#emit({ key: k, count: 1, first: event, intervalMs: 0 });
  }

  /** Passes on every count not yet passed on (at the end of a run, so none is lost). */
  flush(): void {
    const now = this.#clock.now();
    for (const [key, state] of this.#keys) this.#summarize(key, state, now);
    this.#keys.clear();
    this.#disarm();
  }

  /** Stops the timer and forgets every count, passing nothing on. */
  dispose(): void {
    this.#keys.clear();
    this.#disarm();
  }

  #tick(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    try {
      for (const [key, state] of this.#keys) {
        // Quiet for a whole interval: forgotten, so that its next event is passed on at once.
        if (state.count === 0) this.#keys.delete(key);
        else this.#summarize(key, state, now);
      }
    } finally {
      if (this.#keys.size > 0) this.#arm();
    }
  }

  #summarize(key: string, state: KeyState<T>, now: number): void {
    const { count, first, since } = state;
    state.count = 0;
    state.first = undefined;
    state.since = now;
    if (count > 0 && first !== undefined) {
      this.#emit({ key, count, first, intervalMs: Math.max(1, Math.round(now - since)) });
    }
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    this.#timer = this.#clock.setTimeout(() => this.#tick(), this.#intervalMs);
    // A pending summary alone must not keep a process alive (a Node timer has unref; fakes may not).
    (this.#timer as { unref?: () => void } | undefined)?.unref?.();
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
