import { describe, expect, it } from 'vitest';
import { capYoungGeneration, type V8Heap } from '../../../electron/core/young-generation.ts';

function fakeHeap(newSpace: { size: number }): V8Heap & { flags: string[] } {
  const flags: string[] = [];
  return {
    flags,
    getHeapSpaceStatistics: () => [
      { space_name: 'old_space', space_size: 50 * 2 ** 20 },
      { space_name: 'new_space', space_size: newSpace.size },
    ],
    setFlagsFromString: (f) => {
      flags.push(f);
    },
  };
}

function fakeTimer(): {
  tick: () => void;
  setInterval: (fn: () => void) => unknown;
  clearInterval: () => void;
  cleared: () => boolean;
} {
  let fn: (() => void) | undefined;
  let cleared = false;
  return {
    tick: () => fn?.(),
    setInterval: (f) => {
      fn = f;
      return 1;
    },
    clearInterval: () => {
      cleared = true;
      fn = undefined;
    },
    cleared: () => cleared,
  };
}

describe('capYoungGeneration', () => {
  it('stops new-space growth at the ceiling, allows it again below, and restores V8 on stop', () => {
    const space = { size: 4 * 2 ** 20 };
    const heap = fakeHeap(space);
    const timer = fakeTimer();
    const stop = capYoungGeneration({ v8: heap, maxNewSpaceBytes: 16 * 2 ** 20, ...timer });
    expect(heap.flags).toEqual([]); // below the ceiling: V8's default growth, nothing set
    space.size = 16 * 2 ** 20;
    timer.tick();
    expect(heap.flags).toEqual(['--semi-space-growth-factor=1']);
    timer.tick(); // no change, no repeated call
    expect(heap.flags).toHaveLength(1);
    space.size = 8 * 2 ** 20; // V8 shrank it when allocation slowed
    timer.tick();
    expect(heap.flags.at(-1)).toBe('--semi-space-growth-factor=2');
    space.size = 32 * 2 ** 20;
    timer.tick();
    expect(heap.flags.at(-1)).toBe('--semi-space-growth-factor=1');
    stop();
    stop();
    expect(timer.cleared()).toBe(true);
    expect(heap.flags.at(-1)).toBe('--semi-space-growth-factor=2');
    expect(heap.flags).toHaveLength(4);
  });

  it('with several governors the lowest ceiling holds, and the last one out restores V8 whoever set the flag', () => {
    const space = { size: 4 * 2 ** 20 };
    const heap = fakeHeap(space);
    const timerA = fakeTimer();
    const timerB = fakeTimer();
    const stopB = capYoungGeneration({ v8: heap, maxNewSpaceBytes: 64 * 2 ** 20, ...timerB });
    const stopA = capYoungGeneration({ v8: heap, maxNewSpaceBytes: 16 * 2 ** 20, ...timerA });
    space.size = 16 * 2 ** 20;
    timerB.tick(); // B's own ceiling is 64 MiB, but A's lower one holds
    expect(heap.flags).toEqual(['--semi-space-growth-factor=1']);
    timerA.tick(); // already set: not set again
    expect(heap.flags).toHaveLength(1);
    stopA();
    stopB(); // B never set the flag itself, yet restores it
    expect(heap.flags.at(-1)).toBe('--semi-space-growth-factor=2');
  });

  it('survives a V8 that rejects the flag or has no new space', () => {
    const heap: V8Heap = {
      getHeapSpaceStatistics: () => [],
      setFlagsFromString: () => {
        throw new Error('unknown flag');
      },
    };
    const timer = fakeTimer();
    const stop = capYoungGeneration({ v8: heap, ...timer });
    timer.tick();
    expect(() => stop()).not.toThrow();
  });

  it('really holds new space in this process', () => {
    const stop = capYoungGeneration({ maxNewSpaceBytes: 0 });
    // With the ceiling at 0 the factor is 1 from the start: allocating a lot of short-lived garbage
    // must not grow new space past where it was.
    const v8 = process.getBuiltinModule('node:v8');
    const before = v8
      .getHeapSpaceStatistics()
      .find((s) => s.space_name === 'new_space')?.space_size;
    let keep: unknown[] = [];
    for (let i = 0; i < 400_000; i++) {
      keep.push({ i, s: `x${i}` });
      if (keep.length > 50_000) keep = [];
    }
    const after = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size;
    stop();
    expect(after).toBeLessThanOrEqual(before ?? 0);
  });
});
