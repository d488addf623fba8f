/**
 * A fixed-memory latency histogram with log-linear buckets, after HdrHistogram: values are kept
 * in whole microseconds, exactly below 128 µs and above that in 64 linear sub-buckets per power of
 * two, so a reported percentile is within 1/128 (~0.8 %) of a recorded value, from 1 µs to ~67 s,
 * in 1,344 counters (~11 KB). `record` is a handful of arithmetic operations and no allocation:
 * the stream records into it per message.
 */

import type { HistogramSummary } from '../../shared/metrics.ts';

export type { HistogramSummary };

const SUB_BITS = 6;
const SUB_COUNT = 1 << SUB_BITS;
/** Below this many microseconds every value has its own bucket. */
const LINEAR_LIMIT = 2 * SUB_COUNT;
/** 2^26 - 1 µs, about 67.1 s: the largest value kept apart from the overflow bucket. */
const MAX_UNITS = 2 ** 26 - 1;
const UNITS_PER_MS = 1000;
const MAX_SHIFT = 31 - Math.clz32(MAX_UNITS) - SUB_BITS;
const BUCKET_COUNT = (MAX_SHIFT + 2) * SUB_COUNT;

/** The largest value in milliseconds the histogram tells apart; larger ones are clamped to it. */
export const HISTOGRAM_MAX_MS = MAX_UNITS / UNITS_PER_MS;

function bucketOf(units: number): number {
  if (units < LINEAR_LIMIT) return units;
  const shift = 31 - Math.clz32(units) - SUB_BITS;
  return shift * SUB_COUNT + (units >>> shift);
}

function bucketLow(index: number): number {
  if (index < LINEAR_LIMIT) return index;
  const shift = (index >>> SUB_BITS) - 1;
  return (index - shift * SUB_COUNT) * 2 ** shift;
}

function bucketWidth(index: number): number {
  return index < LINEAR_LIMIT ? 1 : 2 ** ((index >>> SUB_BITS) - 1);
}

/** A summary plus the non-empty buckets, enough to rebuild the histogram. */
export interface HistogramSnapshot extends HistogramSummary {
  readonly sum: number;
  /** Flattened pairs `[bucketIndex, count, bucketIndex, count, ...]`, non-empty buckets only. */
  readonly buckets: readonly number[];
}

export class Histogram {
  readonly #counts = new Float64Array(BUCKET_COUNT);
  #count = 0;
  #sum = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = 0;
  #negatives = 0;
  #overflows = 0;

  /** Records one value in milliseconds. NaN is ignored: it means the caller could not measure. */
  record(value: number): void {
    if (value !== value) return;
    let v = value;
    if (v < 0) {
      this.#negatives++;
      v = 0;
    } else if (v > HISTOGRAM_MAX_MS) {
      this.#overflows++;
      v = HISTOGRAM_MAX_MS;
    }
    this.#count++;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
    // v <= MAX_UNITS / 1000, so the product fits an int32 and `| 0` truncates it.
    this.#counts[bucketOf((v * UNITS_PER_MS) | 0)]! += 1;
  }

  get count(): number {
    return this.#count;
  }

  get min(): number {
    return this.#count === 0 ? 0 : this.#min;
  }

  get max(): number {
    return this.#max;
  }

  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  get negatives(): number {
    return this.#negatives;
  }

  get overflows(): number {
    return this.#overflows;
  }

  /**
   * The value at percentile `p` (0 to 100) in milliseconds: the middle of the bucket holding the
   * value of that rank, kept within [min, max] so that a single recorded value comes back exact.
   */
  percentile(p: number): number {
    return this.percentiles([p])[0] ?? 0;
  }

  /** Several percentiles in one pass over the buckets. */
  percentiles(ps: readonly number[]): number[] {
    const out = new Array<number>(ps.length).fill(0);
    if (this.#count === 0) return out;
    const order = ps.map((_, i) => i).sort((a, b) => (ps[a] ?? 0) - (ps[b] ?? 0));
    let k = 0;
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT && k < order.length; i++) {
      const c = this.#counts[i] ?? 0;
      if (c === 0) continue;
      seen += c;
      while (k < order.length) {
        const slot = order[k] ?? 0;
        if (seen < this.#rank(ps[slot] ?? 0)) break;
        const mid = (bucketLow(i) + bucketWidth(i) / 2) / UNITS_PER_MS;
        out[slot] = Math.min(this.#max, Math.max(this.#min, mid));
        k++;
      }
    }
    for (; k < order.length; k++) out[order[k] ?? 0] = this.#max;
    return out;
  }

  #rank(p: number): number {
    const q = Number.isNaN(p) ? 0 : Math.min(100, Math.max(0, p));
    return Math.max(1, Math.ceil((q / 100) * this.#count));
  }

  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#sum = 0;
    this.#min = Number.POSITIVE_INFINITY;
    this.#max = 0;
    this.#negatives = 0;
    this.#overflows = 0;
  }

  summary(): HistogramSummary {
    const [p50 = 0, p90 = 0, p99 = 0, p999 = 0] = this.percentiles([50, 90, 99, 99.9]);
    return {
      count: this.#count,
      min: this.min,
      max: this.max,
      mean: this.mean,
      p50,
      p90,
      p99,
      p999,
      negatives: this.#negatives,
      overflows: this.#overflows,
    };
  }

  snapshot(): HistogramSnapshot {
    const buckets: number[] = [];
    for (let i = 0; i < BUCKET_COUNT; i++) {
      const c = this.#counts[i] ?? 0;
      if (c !== 0) buckets.push(i, c);
    }
    return { ...this.summary(), sum: this.#sum, buckets };
  }

  /** Rebuilds a histogram from `snapshot()` (e.g. on the other side of IPC). */
  static fromSnapshot(snapshot: HistogramSnapshot): Histogram {
    const h = new Histogram();
    const b = snapshot.buckets;
    for (let i = 0; i + 1 < b.length; i += 2) {
      const index = b[i] ?? -1;
      if (Number.isInteger(index) && index >= 0 && index < BUCKET_COUNT)
        h.#counts[index] = b[i + 1] ?? 0;
    }
    h.#count = snapshot.count;
    h.#sum = snapshot.sum;
    h.#min = snapshot.count === 0 ? Number.POSITIVE_INFINITY : snapshot.min;
    h.#max = snapshot.max;
    h.#negatives = snapshot.negatives;
    h.#overflows = snapshot.overflows;
    return h;
  }
}
