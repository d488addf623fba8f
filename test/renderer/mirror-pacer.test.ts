/**
 * MirrorPacer: when the accessible mirror's text is written. A sweep is spread over several
 * animation frames so that no frame writes every mounted row (the desk's slowest frames were the
 * ones that did).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MIRROR_INTERVAL_MS,
  MIRROR_MIN_ROWS_PER_FRAME,
  MIRROR_SWEEP_FRAMES,
  MirrorPacer,
  type QuoteCells,
} from '../../renderer/panels/watchlist-cells.ts';

let frames: FrameRequestCallback[] = [];
beforeEach(() => {
  frames = [];
  vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => frames.push(cb));
});
afterEach(() => {
  for (let i = 0; i < 100 && frames.length > 0; i++) runFrame();
  vi.unstubAllGlobals();
});

function runFrame(): void {
  const now = frames;
  frames = [];
  for (const cb of now) cb(0);
}

/** A mirror of `rowCount` rows that records what each write asked for. */
function fakeCells(rowCount: number) {
  const writes: Array<[number, number]> = [];
  const cells = {
    get rowCount() {
      return rowCount;
    },
    write(from = 0, count = Infinity) {
      writes.push([from, count]);
    },
  } as unknown as QuoteCells;
  return { cells, writes };
}

describe('MirrorPacer', () => {
  it('spreads a sweep of the mounted rows over several frames, every row once', () => {
    const { cells, writes } = fakeCells(36);
    const pacer = new MirrorPacer(cells, () => 0);
    pacer.due();
    const perFrame: number[] = [];
    for (let i = 0; i < 20 && frames.length > 0; i++) {
      const before = writes.length;
      runFrame();
      expect(writes.length - before).toBe(1);
      perFrame.push(writes.at(-1)![1]);
    }
    expect(perFrame.length).toBe(MIRROR_SWEEP_FRAMES);
    expect(Math.max(...perFrame)).toBe(Math.ceil(36 / MIRROR_SWEEP_FRAMES));
    // Contiguous, from the first row past the last.
    let next = 0;
    for (const [from, count] of writes) {
      expect(from).toBe(next);
      next += count;
    }
    expect(next).toBeGreaterThanOrEqual(36);
    pacer.dispose();
  });

  it('writes a short table in one frame, and no more than once per interval', () => {
    const { cells, writes } = fakeCells(MIRROR_MIN_ROWS_PER_FRAME);
    let now = 0;
    const pacer = new MirrorPacer(cells, () => now);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      pacer.due();
      runFrame();
      expect(writes).toEqual([[0, MIRROR_MIN_ROWS_PER_FRAME]]);
      expect(frames).toEqual([]);
      now = 100;
      pacer.due();
      pacer.due();
      expect(frames).toEqual([]);
      now = MIRROR_INTERVAL_MS;
      vi.advanceTimersByTime(MIRROR_INTERVAL_MS - 100);
      runFrame();
      expect(writes.length).toBe(2);
    } finally {
      vi.useRealTimers();
      pacer.dispose();
    }
  });

  it('a change during a sweep gets a sweep of its own after it', () => {
    const { cells, writes } = fakeCells(36);
    let now = 0;
    const pacer = new MirrorPacer(cells, () => now);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      pacer.due();
      runFrame();
      // A frame arrives mid-sweep: rows 0-4 were written before it.
      pacer.due();
      for (let i = 0; i < 20 && frames.length > 0; i++) runFrame();
      const first = writes.length;
      expect(first).toBe(MIRROR_SWEEP_FRAMES);
      now = MIRROR_INTERVAL_MS;
      vi.advanceTimersByTime(MIRROR_INTERVAL_MS);
      for (let i = 0; i < 20 && frames.length > 0; i++) runFrame();
      expect(writes.length).toBe(2 * MIRROR_SWEEP_FRAMES);
      expect(writes[first]).toEqual([0, Math.ceil(36 / MIRROR_SWEEP_FRAMES)]);
    } finally {
      vi.useRealTimers();
      pacer.dispose();
    }
  });
});
