import { describe, expect, it } from 'vitest';
import {
  arrivalToFrame,
  lateFramesAround,
  lateText,
  pullRoundTrips,
  tripLegs,
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

  it('a frame taken from shared memory in an animation frame waits for none: it is painted there', () => {
    const raf = [0, 16.7, 33.4];
    // 18 was taken in the frame that began at 16.7 (its read phase, before the painters): that
    // frame paints it. 20 came in a message after that frame's callbacks, and waits for 33.4.
    const waits = arrivalToFrame([18, 20], raf, [18]);
    expect(waits.map((w) => Math.round(w * 10) / 10)).toEqual([0, 13.4]);
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

describe('tripLegs', () => {
  it("cuts each request's trip where main handled and answered it, each leg sorted", () => {
    // One request in flight at a time: sent at 0, 10 and 40; main handled them at 1, 13 and 41
    // and answered at 1.5, 13 and 45; their frames' message events ran at 4, 30 and 47.5.
    const legs = tripLegs(
      [0, 10, 40],
      [4, 30, 47.5],
      [
        [1, 1.5],
        [13, 13],
        [41, 45],
      ],
    );
    expect(legs.toMain).toEqual([1, 1, 3]);
    expect(legs.inMain).toEqual([0, 0.5, 4]);
    expect(legs.toPage).toEqual([2.5, 2.5, 17]);
  });

  it('allows main a millisecond or two of clock skew, and no more', () => {
    // Main's clock reads 1.5 ms behind: its stamp of the request sent at 10 says 8.5.
    expect(tripLegs([10], [20], [[8.5, 9]]).toMain).toEqual([-1.5]);
    // 5 ms before the request is another request's stamp, not this one's.
    expect(tripLegs([10], [20], [[5, 6]]).toMain).toEqual([]);
  });

  it("leaves out requests at the window's edges and never uses a stamp or an arrival twice", () => {
    // The last request's answer came after the window (no arrival after it).
    const cut = tripLegs(
      [0, 20],
      [5],
      [
        [1, 2],
        [21, 22],
      ],
    );
    expect(cut.toMain).toEqual([1]);
    // Two requests, one stamp: the second request has none of its own.
    const once = tripLegs([0, 1], [5, 6], [[2, 3]]);
    expect(once.toMain).toEqual([2]);
    expect(once.toPage).toEqual([2]);
    // A stamp more than the limit after the request belongs to something else.
    expect(tripLegs([0], [3_000], [[2_000, 2_001]]).toMain).toEqual([]);
  });
});
