/**
 * The e2e section's frame intervals from the probe's animation-frame timestamps: the gaps between
 * consecutive frames, ascending, as the percentiles read them.
 */
import { describe, expect, it } from 'vitest';
import { intervalsOf } from '../../../bench/lib/page-probe.ts';

describe('intervalsOf', () => {
  it('gives the gaps between consecutive timestamps, sorted ascending', () => {
    expect([...intervalsOf([100, 116.5, 150, 166.5, 250])]).toEqual([16.5, 16.5, 33.5, 83.5]);
  });

  it('is empty with fewer than two frames', () => {
    expect(intervalsOf([42]).length).toBe(0);
    expect(intervalsOf([]).length).toBe(0);
  });
});
