/**
 * The renderer's own latency histogram: main's receipt of an update to the moment its frame is on
 * screen (measured at the animation frame after the frame was folded and rendered). Main measures
 * exchange-to-receipt itself and sends summaries; this is the other half, which only a view can see.
 *
 * Fixed log-spaced buckets (about 12% wide, 0.1 ms to ~100 s), so recording is an index computation
 * and memory is constant however long the app runs.
 */
import type { HistogramSummary } from '../../shared/metrics.ts';

const MIN_MS = 0.1;
const GROWTH = 1.12;
const BUCKETS = 124; // 0.1 ms * 1.12^123 ≈ 110 s
const LOG_GROWTH = Math.log(GROWTH);

/** Upper bound (ms) of bucket i. */
export function bucketUpper(i: number): number {
  return MIN_MS * GROWTH ** i;
}

export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;
  #negatives = 0;
  #overflows = 0;

  record(ms: number): void {
    if (!Number.isFinite(ms)) return;
    let v = ms;
    if (v < 0) {
      this.#negatives += 1;
      v = 0;
    }
    let i = v <= MIN_MS ? 0 : Math.ceil(Math.log(v / MIN_MS) / LOG_GROWTH);
    if (i >= BUCKETS) {
      this.#overflows += 1;
      i = BUCKETS - 1;
    }
    this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    this.#count += 1;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  get count(): number {
    return this.#count;
  }

  /** The value at quantile q (0..1): the upper bound of its bucket, capped at the maximum seen. */
  quantile(q: number): number {
    if (this.#count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) return Math.min(bucketUpper(i), this.#max);
    }
    return this.#max;
  }

  summary(): HistogramSummary {
    const empty = this.#count === 0;
    return {
      count: this.#count,
      min: empty ? NaN : this.#min,
      max: empty ? NaN : this.#max,
      mean: empty ? NaN : this.#sum / this.#count,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      p999: this.quantile(0.999),
      negatives: this.#negatives,
      overflows: this.#overflows,
    };
  }

  /**
   * Counts regrouped into `groups` bars between the smallest and largest non-empty bucket, for a
   * small bar chart: each bar has its upper bound in ms.
   */
  bars(groups = 24): Array<{ upTo: number; count: number }> {
    let first = -1;
    let last = -1;
    for (let i = 0; i < BUCKETS; i++) {
      if ((this.#counts[i] ?? 0) > 0) {
        if (first < 0) first = i;
        last = i;
      }
    }
    if (first < 0) return [];
    const span = last - first + 1;
    const per = Math.max(1, Math.ceil(span / groups));
    const out: Array<{ upTo: number; count: number }> = [];
    for (let start = first; start <= last; start += per) {
      let count = 0;
      const end = Math.min(last, start + per - 1);
      for (let i = start; i <= end; i++) count += this.#counts[i] ?? 0;
      out.push({ upTo: bucketUpper(end), count });
    }
    return out;
  }

  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#sum = 0;
    this.#min = Infinity;
    this.#max = -Infinity;
    this.#negatives = 0;
    this.#overflows = 0;
  }
}
