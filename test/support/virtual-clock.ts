/**
 * A RestClock whose time moves only when something sleeps: each pending sleep is due at a virtual
 * time, and on the next turn of the event loop the clock jumps to the earliest one and wakes it.
 * Rate-limit pauses of minutes take microseconds of wall time, and every requested sleep is
 * recorded so a test can check exact backoff delays. Real I/O runs at its own pace meanwhile.
 */
import type { RestClock } from '../../electron/rest/http.ts';

interface Timer {
  readonly due: number;
  readonly wake: () => void;
}

export class VirtualClock implements RestClock {
  #now: number;
  #timers: Timer[] = [];
  #scheduled = false;
  /** Every delay asked of sleep(), in order. */
  readonly sleeps: number[] = [];

  /** With `auto` false, time moves only by advance(): a test can hold a sleeper asleep. */
  readonly #auto: boolean;

  constructor(start = Date.UTC(2024, 4, 1, 14, 0, 0), { auto = true } = {}) {
    this.#now = start;
    this.#auto = auto;
  }

  now(): number {
    return this.#now;
  }

  /** Moves time forward by hand (sleepers due by then wake on the next turn). */
  advance(ms: number): void {
    this.#now += ms;
    const ready = this.#timers.filter((t) => t.due <= this.#now);
    this.#timers = this.#timers.filter((t) => t.due > this.#now);
    for (const timer of ready) timer.wake();
  }

  /** Sleeps not yet woken. */
  pending(): number {
    return this.#timers.length;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return new Promise<void>((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      const onAbort = (): void => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        resolve();
      };
      const timer: Timer = {
        due: this.#now + Math.max(0, ms),
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#timers.push(timer);
      this.#schedule();
    });
  }

  #schedule(): void {
    if (!this.#auto || this.#scheduled || this.#timers.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#timers.length === 0) return;
      // Wake only the earliest due (and any due at the same time), then let the woken code run
      // and schedule its next sleep before time moves again.
      const due = Math.min(...this.#timers.map((t) => t.due));
      this.#now = Math.max(this.#now, due);
      const ready = this.#timers.filter((t) => t.due <= this.#now);
      this.#timers = this.#timers.filter((t) => t.due > this.#now);
      for (const timer of ready) timer.wake();
      this.#schedule();
    });
  }
}
