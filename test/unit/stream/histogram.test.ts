import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HISTOGRAM_MAX_MS, Histogram } from '../../../electron/stream/histogram.ts';

/** The value of rank ceil(p% * n) among the sorted values: the definition the histogram follows. */
function exactPercentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

/** Within 1/128 relative (bucket half-width), or 1 µs for the exact microsecond range. */
function expectClose(actual: number, expected: number): void {
  const tolerance = Math.max(expected / 128, 0.001);
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance + 1e-12);
}

describe('Histogram', () => {
  it('is empty at first', () => {
    const h = new Histogram();
    expect(h.summary()).toEqual({
      count: 0,
      min: 0,
      max: 0,
      mean: 0,
      p50: 0,
      p90: 0,
      p99: 0,
      p999: 0,
      negatives: 0,
      overflows: 0,
    });
  });

  it('gives back a single value exactly', () => {
    const h = new Histogram();
    h.record(5.123);
    expect(h.percentile(50)).toBe(5.123);
    expect(h.percentile(99.9)).toBe(5.123);
    expect(h.min).toBe(5.123);
    expect(h.max).toBe(5.123);
    expect(h.mean).toBe(5.123);
  });

  it('computes count, min, max and mean exactly', () => {
    const h = new Histogram();
    for (const v of [1, 2, 3, 10]) h.record(v);
    expect(h.count).toBe(4);
    expect(h.min).toBe(1);
    expect(h.max).toBe(10);
    expect(h.mean).toBe(4);
  });

  it('finds p50, p99 and p99.9 of 1..100000 µs within the bucket error', () => {
    const h = new Histogram();
    const values: number[] = [];
    for (let i = 1; i <= 100_000; i++) {
      values.push(i / 1000);
      h.record(i / 1000);
    }
    for (const p of [50, 90, 99, 99.9]) expectClose(h.percentile(p), exactPercentile(values, p));
    expectClose(h.percentile(50), 50);
    expectClose(h.percentile(99.9), 99.9);
  });

  it('keeps percentiles within ~0.8 % for arbitrary values from 1 µs to 60 s', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.001, max: 60_000, noNaN: true }), {
          minLength: 1,
          maxLength: 300,
        }),
        fc.constantFrom(0, 1, 50, 90, 99, 99.9, 100),
        (values, p) => {
          const h = new Histogram();
          for (const v of values) h.record(v);
          const sorted = [...values].sort((a, b) => a - b);
          expectClose(h.percentile(p), exactPercentile(sorted, p));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('clamps negatives to 0 and counts them', () => {
    const h = new Histogram();
    h.record(-3);
    h.record(-0.5);
    h.record(2);
    expect(h.negatives).toBe(2);
    expect(h.count).toBe(3);
    expect(h.min).toBe(0);
    expect(h.percentile(50)).toBeLessThan(0.001);
    expect(h.mean).toBeCloseTo(2 / 3);
  });

  it('clamps values past the range to the maximum and counts them', () => {
    const h = new Histogram();
    h.record(1e9);
    h.record(Number.POSITIVE_INFINITY);
    expect(h.overflows).toBe(2);
    expect(h.max).toBe(HISTOGRAM_MAX_MS);
    expect(h.percentile(50)).toBe(HISTOGRAM_MAX_MS);
    expect(Number.isFinite(h.mean)).toBe(true);
  });

  it('ignores NaN', () => {
    const h = new Histogram();
    h.record(Number.NaN);
    expect(h.count).toBe(0);
  });

  it('resets to empty', () => {
    const h = new Histogram();
    h.record(1);
    h.record(-1);
    h.reset();
    expect(h.summary().count).toBe(0);
    expect(h.negatives).toBe(0);
    h.record(7);
    expect(h.min).toBe(7);
  });

  it('round-trips through a compact JSON snapshot', () => {
    const h = new Histogram();
    for (let i = 0; i < 1000; i++) h.record((i * 7.3) % 250);
    h.record(-1);
    const json = JSON.stringify(h.snapshot());
    const snap = h.snapshot();
    // Only non-empty buckets travel: far fewer numbers than the 1,344 counters.
    expect(snap.buckets.length).toBeLessThan(2 * 1000);
    const back = Histogram.fromSnapshot(JSON.parse(json) as typeof snap);
    expect(back.summary()).toEqual(h.summary());
  });

  it('reports several percentiles in request order', () => {
    const h = new Histogram();
    for (let i = 1; i <= 100; i++) h.record(i);
    const [p99, p50] = h.percentiles([99, 50]);
    expectClose(p99 ?? 0, 99);
    expectClose(p50 ?? 0, 50);
  });
});
