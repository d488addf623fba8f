import { describe, expect, it } from 'vitest';
import {
  keyToPaint,
  laterOfEach,
  pressSummary,
  pressToPaintMark,
  type EventTimingEntry,
  type KeyPress,
} from '../../../bench/lib/event-timing.ts';

function press(timeStamp: number, tag = 'arrow', key = 'ArrowDown'): KeyPress {
  return { key, tag, timeStamp };
}

function entry(
  startTime: number,
  duration: number,
  name = 'keydown',
  inputDelay = 1,
): EventTimingEntry {
  return {
    name,
    startTime,
    duration,
    processingStart: startTime + inputDelay,
    processingEnd: startTime + inputDelay + 2,
  };
}

describe('keyToPaint', () => {
  it('takes each press its keydown entry duration, sorted ascending', () => {
    const out = keyToPaint(
      [press(100), press(250), press(400)],
      [entry(400, 24), entry(100, 40, 'keydown', 7), entry(250, 32)],
      16,
    );
    expect(out.durations).toEqual([24, 32, 40]);
    expect(out.matched).toBe(3);
    expect(out.belowThreshold).toBe(0);
    expect(out.maxInputDelay).toBe(7);
  });

  it('counts a press with no entry at the threshold (it painted sooner), never drops it', () => {
    const out = keyToPaint([press(100), press(250)], [entry(250, 48)], 16);
    expect(out.durations).toEqual([16, 48]);
    expect(out.matched).toBe(1);
    expect(out.belowThreshold).toBe(1);
  });

  it('ignores keyup, keypress and pointer entries, even at the same time', () => {
    const out = keyToPaint(
      [press(100)],
      [entry(100, 200, 'keyup'), entry(100, 300, 'keypress'), entry(100, 400, 'pointerdown')],
      16,
    );
    expect(out.durations).toEqual([16]);
    expect(out.matched).toBe(0);
  });

  it('matches within the tolerance only, the nearest entry, and each entry once', () => {
    // Two presses 0.4 ms apart cannot share one entry.
    const out = keyToPaint(
      [press(100), press(100.4), press(300)],
      [entry(100.3, 56), entry(302, 80)],
      16,
    );
    expect(out.matched).toBe(1);
    expect(out.durations).toEqual([16, 16, 56]);
  });

  it('an empty run gives no durations and NaN percentiles', () => {
    const out = keyToPaint([], [entry(1, 30)], 16);
    expect(out.durations).toEqual([]);
    const s = pressSummary(out.durations);
    expect(s.p95).toBeNaN();
    expect(s.max).toBeNaN();
  });
});

describe('pressToPaintMark', () => {
  it('takes the first mark at or after each press', () => {
    const out = pressToPaintMark(
      [press(100), press(250)],
      [
        { selection: 'B', at: 290 },
        { selection: 'A', at: 130 },
        { selection: 'Z', at: 90 },
      ],
    );
    expect(out.durations).toEqual([30, 40]);
    expect(out.missing).toBe(0);
  });

  it('counts a press that no mark follows as missing, with no value', () => {
    const out = pressToPaintMark([press(100), press(500)], [{ selection: 'A', at: 120 }]);
    expect(out.durations).toEqual([20]);
    expect(out.missing).toBe(1);
  });
});

describe('pressSummary', () => {
  it('nearest-rank p50 and p95 of ascending values, and the max', () => {
    const values = Array.from({ length: 40 }, (_, i) => (i + 1) * 8);
    // 40 values: p50 is the 20th, p95 the 38th.
    expect(pressSummary(values)).toEqual({ p50: 160, p95: 304, max: 320 });
  });
});

describe('per press, for pairing the two measures', () => {
  it('keyToPaint keeps the presses order in perPress, the threshold for a press with no entry', () => {
    const out = keyToPaint(
      [press(100), press(250), press(400)],
      [entry(400, 24), entry(100, 40)],
      16,
    );
    expect(out.perPress).toEqual([40, 16, 24]);
  });

  it('pressToPaintMark gives NaN in perPress for a press no mark followed', () => {
    const out = pressToPaintMark([press(100), press(500)], [{ selection: 'A', at: 120 }]);
    expect(out.perPress).toEqual([20, NaN]);
  });

  it('laterOfEach takes the later measure of each press, Infinity for one never painted', () => {
    expect(laterOfEach([40, 16, 24], [100, 8, NaN])).toEqual([16, 100, Infinity]);
    expect(pressSummary(laterOfEach([8], [NaN])).p95).toBe(Infinity);
  });

  it('laterOfEach refuses measures of different presses', () => {
    expect(() => laterOfEach([1, 2], [1])).toThrow(RangeError);
  });
});

describe('keyToPaint phases', () => {
  it('splits each matched entry into input delay, handlers and the time to the paint', () => {
    const e = (start: number, delay: number, handlers: number, duration: number) => ({
      name: 'keydown',
      startTime: start,
      duration,
      processingStart: start + delay,
      processingEnd: start + delay + handlers,
    });
    const out = keyToPaint(
      [press(100), press(300), press(500)],
      [e(100, 2, 3, 32), e(300, 10, 1, 48)],
      16,
    );
    // The third press has no entry: in the durations at the threshold, in no phase.
    expect(out.durations).toEqual([16, 32, 48]);
    expect(out.phases).toEqual({ inputDelay: [2, 10], handlers: [1, 3], toPaint: [27, 37] });
  });
});
