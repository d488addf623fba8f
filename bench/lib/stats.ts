/**
 * Small statistics for the benchmark suite: medians over rounds, percentiles over samples, and a
 * least-squares slope for memory soaks. Pure functions, no platform imports.
 */

/** The value at percentile p (0..100) of `values`, nearest-rank on a sorted copy; NaN when empty. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sortedPercentile(sorted, p);
}

/** Percentile of an already ascending array (nearest rank: the smallest value with >= p% at or below it). */
export function sortedPercentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * n);
  return sorted[Math.min(n - 1, Math.max(0, rank - 1))] as number;
}

export function median(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const mid = n >> 1;
  return n % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function mean(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i] as number;
  return sum / n;
}

/** Least-squares slope of y over x (units of y per unit of x); NaN with fewer than two points. */
export function slope(xs: ArrayLike<number>, ys: ArrayLike<number>): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return Number.NaN;
  const mx = mean(Array.from({ length: n }, (_, i) => xs[i] as number));
  const my = mean(Array.from({ length: n }, (_, i) => ys[i] as number));
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    num += dx * ((ys[i] as number) - my);
    den += dx * dx;
  }
  return den === 0 ? Number.NaN : num / den;
}

/** p50 / p99 / p99.9 / max of a sample, in its own unit. */
export function latencySummary(values: ArrayLike<number>): {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
} {
  const sorted = Float64Array.from(values).sort();
  return {
    count: sorted.length,
    p50: sortedPercentile(sorted, 50),
    p99: sortedPercentile(sorted, 99),
    p999: sortedPercentile(sorted, 99.9),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
  };
}

/** `value` to `digits` decimals, for a table. */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
