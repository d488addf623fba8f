import { describe, expect, it } from 'vitest';
import {
  arrivalToFrame,
  lateFramesAround,
  lateText,
  pullRoundTrips,
} from '../../../bench/lib/frame-phases.ts';

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

describe('arrivalToFrame', () => {
  it('waits from each arrival to the first animation frame after it, sorted', () => {
    const raf = [0, 16.7, 33.4, 83.4, 100.1];
    // 5 -> 16.7; 16.7 (a frame stamp itself) -> 33.4; 40 -> 83.4 (a late frame); 101 -> none.
    expect(arrivalToFrame([40, 5, 16.7, 101], raf).map((w) => Math.round(w * 10) / 10)).toEqual([
      11.7, 16.7, 43.4,
    ]);
    expect(arrivalToFrame([], raf)).toEqual([]);
    expect(arrivalToFrame([1], [])).toEqual([]);
  });
});

describe('pullRoundTrips', () => {
  it('times each arrival from the last request sent before it, sorted', () => {
    // Requests at 0, 20 and 50; frames at 3 (for 0), 24 (for 20), 90 (for 50, slow); 19 has the
    // request at 0 as its last.
    expect(pullRoundTrips([3, 24, 90, 19], [0, 20, 50])).toEqual([3, 4, 19, 40]);
    expect(pullRoundTrips([5], [10])).toEqual([]);
  });
});
