/**
 * Throttle: a flood of like events becomes at most two lines per key per interval, every event is
 * counted in exactly one line, and the keys it tracks stay bounded. Time is a manual clock.
 */
import { describe, expect, it } from 'vitest';
import {
  OVERFLOW_KEY,
  Throttle,
  type ThrottleClock,
  type ThrottledLine,
} from '../../../electron/stream/throttle.ts';

/** A clock whose timers run only when the test advances it. */
function manualClock(): ThrottleClock & { advance(ms: number): void; pending(): number } {
  let now = 0;
  let nextId = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = ++nextId;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()]
          .filter(([, t]) => t.at <= until)
          .sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = until;
    },
    pending: () => timers.size,
  };
}

function setup(maxKeys?: number) {
  const clock = manualClock();
  const lines: Array<ThrottledLine<number> & { at: number }> = [];
  const throttle = new Throttle<number>({
    intervalMs: 1_000,
    clock,
    emit: (line) => lines.push({ ...line, at: clock.now() }),
    ...(maxKeys !== undefined ? { maxKeys } : {}),
  });
  return { clock, lines, throttle };
}

describe('Throttle', () => {
  it('passes the first of a key on at once, then one count per interval with its first event', () => {
    const { clock, lines, throttle } = setup();
    throttle.add('wrong-type', 1);
    expect(lines).toEqual([{ key: 'wrong-type', count: 1, first: 1, intervalMs: 0, at: 0 }]);
    for (let i = 2; i <= 500; i++) throttle.add('wrong-type', i);
    throttle.add('unknown-type', 1000);
    expect(lines).toHaveLength(2); // the other key's first, at once
    clock.advance(1_000);
    expect(lines.slice(2)).toEqual([
      { key: 'wrong-type', count: 499, first: 2, intervalMs: 1_000, at: 1_000 },
    ]);
    // Quiet for a whole interval: forgotten; the next one is passed on at once again.
    clock.advance(1_000);
    expect(throttle.size).toBe(0);
    expect(clock.pending()).toBe(0);
    throttle.add('wrong-type', 7);
    expect(lines.at(-1)).toMatchObject({ key: 'wrong-type', count: 1, first: 7, intervalMs: 0 });
  });

  it('a steady flood gives one line per key per interval, and every event is counted once', () => {
    const { clock, lines, throttle } = setup();
    let seed = 7;
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const keys = ['a', 'b', 'c'];
    const added = new Map<string, number>();
    for (let ms = 0; ms < 20_000; ms += 5) {
      for (let k = 0; k < 20; k++) {
        const key = keys[Math.floor(random() * keys.length)]!;
        throttle.add(key, ms);
        added.set(key, (added.get(key) ?? 0) + 1);
      }
      clock.advance(5);
    }
    throttle.flush();
    for (const key of keys) {
      const mine = lines.filter((l) => l.key === key);
      expect(mine.reduce((n, l) => n + l.count, 0)).toBe(added.get(key));
      // 20 s: one line at once, then one per second (the flush adds the last partial second).
      expect(mine.length).toBeLessThanOrEqual(22);
      for (let second = 0; second < 20; second++) {
        const inSecond = mine.filter((l) => l.at >= second * 1000 && l.at < (second + 1) * 1000);
        expect(inSecond.length).toBeLessThanOrEqual(2);
      }
    }
    expect(clock.pending()).toBe(0);
  });

  it('tracks at most maxKeys keys; the rest share one key, still counted exactly', () => {
    const { clock, lines, throttle } = setup(4);
    for (let code = 0; code < 10_000; code++) throttle.add(String(code), code);
    expect(throttle.size).toBe(5); // four keys and the overflow
    expect(lines.map((l) => l.key)).toEqual(['0', '1', '2', '3', OVERFLOW_KEY]);
    clock.advance(1_000);
    const other = lines.filter((l) => l.key === OVERFLOW_KEY);
    expect(other.reduce((n, l) => n + l.count, 0)).toBe(10_000 - 4);
    expect(lines.reduce((n, l) => n + l.count, 0)).toBe(10_000);
  });

  it('flush passes on what is pending; dispose drops it and stops the timer', () => {
    const { clock, lines, throttle } = setup();
    throttle.add('x', 1);
    throttle.add('x', 2);
    throttle.add('x', 3);
    clock.advance(300);
    throttle.flush();
    expect(lines.at(-1)).toMatchObject({ key: 'x', count: 2, first: 2, intervalMs: 300 });
    expect(clock.pending()).toBe(0);
    throttle.add('y', 1);
    throttle.add('y', 2);
    throttle.dispose();
    expect(clock.pending()).toBe(0);
    clock.advance(5_000);
    expect(lines.at(-1)).toMatchObject({ key: 'y', count: 1 });
  });

  it('an emit that throws does not stop later summaries', () => {
    const clock = manualClock();
    let calls = 0;
    const throttle = new Throttle<number>({
      intervalMs: 100,
      clock,
      emit: () => {
        calls++;
        if (calls === 2) throw new Error('log sink failed');
      },
    });
    throttle.add('a', 1);
    throttle.add('a', 2);
    expect(() => clock.advance(100)).toThrow('log sink failed');
    throttle.add('a', 3);
    clock.advance(100);
    expect(calls).toBe(3);
  });
});
