/**
 * Nanosecond wall-clock timestamps for simulated market data. `Date` has milliseconds only, so the
 * clock anchors the monotonic high-resolution timer to the wall clock and formats RFC 3339 text
 * with nine fractional digits, as Alpaca's SIP timestamps have. Readings strictly increase, so
 * every message a session sends has its own time.
 */
import { performance } from 'node:perf_hooks';
import { formatEpoch } from '../../shared/market.ts';

/** One reading: whole seconds since the epoch, the nanoseconds past them, and the RFC 3339 text. */
export interface Instant {
  readonly seconds: number;
  readonly nanos: number;
  /** Milliseconds since the epoch, for bar periods. */
  readonly ms: number;
  readonly text: string;
}

/** The monotonic timer drifts from the wall clock over hours; re-anchor this often. */
const REANCHOR_MS = 60_000;

export class WallClock {
  readonly #offsetMs: number;
  #anchorMs = 0;
  #anchorPerf = 0;
  #lastSeconds = 0;
  #lastNanos = -1;
  #prefixSeconds = -1;
  #prefix = '';

  /** @param offsetMs shifts every reading, e.g. -15 minutes for a delayed feed. */
  constructor(offsetMs = 0) {
    this.#offsetMs = offsetMs;
    this.#anchor();
  }

  #anchor(): void {
    this.#anchorMs = Date.now() + this.#offsetMs;
    this.#anchorPerf = performance.now();
  }

  now(): Instant {
    let elapsed = performance.now() - this.#anchorPerf;
    if (elapsed > REANCHOR_MS) {
      this.#anchor();
      elapsed = 0;
    }
    const wholeMs = Math.floor(elapsed);
    const totalMs = this.#anchorMs + wholeMs;
    let seconds = Math.floor(totalMs / 1000);
    let nanos =
      (totalMs - seconds * 1000) * 1_000_000 + Math.floor((elapsed - wholeMs) * 1_000_000);
    if (
      seconds < this.#lastSeconds ||
      (seconds === this.#lastSeconds && nanos <= this.#lastNanos)
    ) {
      // Never repeat or go back (a re-anchor can step back a little): one nanosecond on.
      seconds = this.#lastSeconds;
      nanos = this.#lastNanos + 1;
      if (nanos >= 1_000_000_000) {
        seconds += 1;
        nanos = 0;
      }
    }
    this.#lastSeconds = seconds;
    this.#lastNanos = nanos;
    return {
      seconds,
      nanos,
      ms: seconds * 1000 + Math.floor(nanos / 1_000_000),
      text: this.format(seconds, nanos),
    };
  }

  /** RFC 3339 UTC with nine fractional digits; the date-time prefix is cached per second. */
  format(seconds: number, nanos: number): string {
    if (seconds !== this.#prefixSeconds) {
      this.#prefixSeconds = seconds;
      this.#prefix = new Date(seconds * 1000).toISOString().slice(0, 19);
    }
    return `${this.#prefix}.${String(nanos).padStart(9, '0')}Z`;
  }
}

/**
 * RFC 3339 text of a period start in epoch milliseconds: whole seconds as Alpaca stamps bars
 * (`2025-03-04T15:02:00Z`), with fractional digits only for the short periods tests use.
 */
export function formatPeriodStart(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return formatEpoch(seconds, (ms - seconds * 1000) * 1_000_000);
}
