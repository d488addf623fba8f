import { describe, expect, it } from 'vitest';
import { lateFramesAround, lateText } from '../../../bench/lib/frame-phases.ts';

/** Stamps 16.7 ms apart from `from`, with the given gaps replacing some intervals. */
function frames(from: number, count: number, slow: ReadonlyMap<number, number> = new Map()) {
  const out = [from];
  for (let i = 1; i < count; i++) out.push(out[i - 1]! + (slow.get(i) ?? 16.7));
  return out;
}

describe('lateFramesAround', () => {
  it('counts late intervals before, during and after the presses by where each one ends', () => {
    // 30 frames from 0; intervals 3 (before), 12 and 20 (during), 28 (after) are 40 ms.
    const raf = frames(
      0,
      30,
      new Map([
        [3, 40],
        [12, 40],
        [20, 40],
        [28, 40],
      ]),
    );
    const presses = [raf[8]!, raf[15]!];
    // The tail reaches the end of interval 20 but not 21.
    const tail = raf[20]! - raf[15]!;
    const out = lateFramesAround(raf, presses, 20, tail);
    expect(out.before).toEqual({ late: 1, frames: 7 });
    expect(out.during).toEqual({ late: 2, frames: 13 });
    expect(out.after).toEqual({ late: 1, frames: 9 });
    expect(lateText(out.during)).toBe('2/13');
  });

  it('puts every frame before when nothing was pressed, and counts nothing from one stamp', () => {
    const raf = frames(0, 10, new Map([[5, 50]]));
    expect(lateFramesAround(raf, [], 20, 300)).toEqual({
      before: { late: 1, frames: 9 },
      during: { late: 0, frames: 0 },
      after: { late: 0, frames: 0 },
    });
    expect(lateFramesAround([5], [1], 20, 300).during.frames).toBe(0);
  });

  it('takes the presses in any order', () => {
    const raf = frames(0, 20, new Map([[10, 30]]));
    const a = lateFramesAround(raf, [raf[12]!, raf[6]!], 20, 0);
    const b = lateFramesAround(raf, [raf[6]!, raf[12]!], 20, 0);
    expect(a).toEqual(b);
    expect(a.during).toEqual({ late: 1, frames: 7 });
  });
});
