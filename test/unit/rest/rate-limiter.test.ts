import { describe, expect, it } from 'vitest';
import { RATE_WINDOW_MS, TokenBucket } from '../../../electron/rest/rate-limiter.ts';

/** Most starts in any half-open window [t, t + windowMs) of sorted start times. */
function busiestWindow(starts: readonly number[], windowMs = RATE_WINDOW_MS): number {
  let most = 0;
  let lo = 0;
  for (let hi = 0; hi < starts.length; hi++) {
    while (starts[hi]! - starts[lo]! >= windowMs) lo++;
    most = Math.max(most, hi - lo + 1);
  }
  return most;
}

/** A seeded generator (mulberry32), so a failing property run can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('TokenBucket', () => {
  it('gives a full burst, then each token back one window after it was spent', () => {
    const bucket = new TokenBucket(3);
    expect(bucket.tryTake(0)).toBe(true);
    expect(bucket.tryTake(10_000)).toBe(true);
    expect(bucket.tryTake(20_000)).toBe(true);
    expect(bucket.available(20_000)).toBe(0);
    expect(bucket.tryTake(30_000)).toBe(false);
    expect(bucket.delay(30_000)).toBe(30_000);
    expect(bucket.tryTake(59_999)).toBe(false);
    expect(bucket.delay(59_999)).toBe(1);
    expect(bucket.tryTake(60_000)).toBe(true);
    expect(bucket.delay(60_000)).toBe(10_000);
    expect(bucket.available(80_000)).toBe(2);
  });

  it('never lets more than requestsPerMinute start in any 60 s window (property)', () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const random = seeded(seed);
      const rpm = 1 + Math.floor(random() * 20);
      const bucket = new TokenBucket(rpm);
      const starts: number[] = [];
      let now = 0;
      // Callers arrive in bursts and lulls; each takes a token as soon as the bucket allows.
      for (let i = 0; i < 400; i++) {
        now += random() < 0.7 ? 0 : Math.floor(random() * 20_000);
        const wait = bucket.delay(now);
        now += wait;
        // Sometimes the server is stricter than we are.
        if (random() < 0.05)
          bucket.observe(Math.floor(random() * rpm), now + random() * 60_000, now);
        while (!bucket.tryTake(now)) now += Math.max(1, bucket.delay(now));
        starts.push(now);
      }
      expect(busiestWindow(starts), `seed ${seed}, rpm ${rpm}`).toBeLessThanOrEqual(rpm);
      // And the limiter is not simply idle: it reaches the limit at some point.
      expect(busiestWindow(starts), `seed ${seed}`).toBe(rpm);
    }
  });

  it('delay() is exactly the time until tryTake() succeeds', () => {
    const bucket = new TokenBucket(2);
    bucket.tryTake(1_000);
    bucket.tryTake(5_000);
    const wait = bucket.delay(7_000);
    expect(wait).toBe(54_000);
    expect(bucket.tryTake(7_000 + wait - 1)).toBe(false);
    expect(bucket.tryTake(7_000 + wait)).toBe(true);
  });

  it('believes the server when it says fewer remain, until its reset', () => {
    const bucket = new TokenBucket(200);
    bucket.tryTake(0);
    // We think 199 are left; the server says 1, resetting at 30 s.
    bucket.observe(1, 30_000, 100);
    expect(bucket.available(100)).toBe(1);
    expect(bucket.tryTake(100)).toBe(true);
    expect(bucket.tryTake(200)).toBe(false);
    expect(bucket.delay(200)).toBe(29_800);
    expect(bucket.tryTake(30_000)).toBe(true);
    expect(bucket.available(30_000)).toBe(197);
  });

  it('keeps its own stricter count when the server says more remain', () => {
    const bucket = new TokenBucket(3);
    bucket.tryTake(0);
    bucket.tryTake(0);
    bucket.observe(150, 40_000, 10);
    expect(bucket.available(10)).toBe(1);
  });

  it('drops an old low count when a later server window starts', () => {
    const bucket = new TokenBucket(10);
    bucket.observe(0, 20_000, 0);
    expect(bucket.available(1_000)).toBe(0);
    // An answer from the next server window (a later reset): its count replaces the old 0.
    bucket.observe(9, 80_000, 1_000);
    expect(bucket.available(1_000)).toBe(9);
    // And one with more left than we think is not believed over our own count.
    bucket.observe(50, 140_000, 2_000);
    expect(bucket.available(2_000)).toBe(10);
  });

  it('ignores a reset in the past, and caps one far in the future at about a window', () => {
    const bucket = new TokenBucket(10);
    bucket.observe(0, 500, 1_000);
    expect(bucket.available(1_000)).toBe(10);
    bucket.observe(0, 3_600_000, 1_000);
    expect(bucket.delay(1_000)).toBe(65_000);
  });

  it('a block (after a 429) holds every token until it ends', () => {
    const bucket = new TokenBucket(10);
    bucket.block(7_000, 0);
    expect(bucket.available(0)).toBe(0);
    expect(bucket.tryTake(6_999)).toBe(false);
    expect(bucket.delay(2_000)).toBe(5_000);
    expect(bucket.tryTake(7_000)).toBe(true);
    // A block far out is bounded like a reset.
    bucket.block(10_000_000, 8_000);
    expect(bucket.delay(8_000)).toBe(65_000);
  });

  it('a clock stepping back does not hand spent tokens back early', () => {
    const bucket = new TokenBucket(1);
    expect(bucket.tryTake(100_000)).toBe(true);
    expect(bucket.tryTake(50_000)).toBe(false);
    expect(bucket.tryTake(159_999)).toBe(false);
    expect(bucket.tryTake(160_000)).toBe(true);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new TokenBucket(0)).toThrow(RangeError);
    expect(() => new TokenBucket(2.5)).toThrow(/positive integer/);
  });
});
