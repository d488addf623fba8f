import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay, DEFAULT_BACKOFF } from '../../../electron/stream/backoff.ts';

describe('backoff', () => {
  const policy = { baseMs: 500, capMs: 30_000 };

  it('grows the ceiling exponentially up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((a) => backoffCeiling(policy, a))).toEqual([
      500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ]);
    expect(backoffCeiling(policy, 10_000)).toBe(30_000);
  });

  it('gives exact delays from the injected random draw (full jitter)', () => {
    expect(backoffDelay(policy, 1, 0, 0)).toBe(0);
    expect(backoffDelay(policy, 1, 0, 0.5)).toBe(250);
    expect(backoffDelay(policy, 3, 0, 0.25)).toBe(500);
    expect(backoffDelay(policy, 20, 0, 0.999)).toBe(29_970);
  });

  it('adds the 406 floor under the jitter', () => {
    expect(backoffDelay(policy, 1, 5_000, 0)).toBe(5_000);
    expect(backoffDelay(policy, 2, 10_000, 0.5)).toBe(10_500);
  });

  it('treats a bad random draw as zero jitter rather than NaN', () => {
    expect(backoffDelay(DEFAULT_BACKOFF, 2, 0, Number.NaN)).toBe(0);
    expect(backoffDelay(DEFAULT_BACKOFF, 2, 0, 7)).toBe(1_000);
  });
});
