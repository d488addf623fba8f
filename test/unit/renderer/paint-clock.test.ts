/**
 * The page's paint clock (renderer/paint-clock.ts) under a scripted requestAnimationFrame that
 * runs each callback and then the microtasks, as a browser does: readers come first, and what
 * their microtasks ask to paint is drawn in the same animation frame.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type * as PaintClock from '../../../renderer/paint-clock.ts';

type Clock = typeof PaintClock;

let queued: Array<() => void> = [];

/** One animation frame: the callbacks asked for before it, each followed by its microtasks. */
async function animationFrame(): Promise<void> {
  const now = queued;
  queued = [];
  for (const callback of now) {
    callback();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function freshClock(): Promise<Clock> {
  vi.resetModules();
  return import('../../../renderer/paint-clock.ts');
}

beforeEach(() => {
  queued = [];
  vi.stubGlobal('requestAnimationFrame', (callback: () => void) => {
    queued.push(callback);
    return queued.length;
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the paint clock', () => {
  it('runs readers before painters, with the readers microtasks between', async () => {
    const clock = await freshClock();
    const seen: string[] = [];
    const painter = () => seen.push('paint');
    clock.requestRead(() => {
      seen.push('read');
      // What a read frame starts (the store's pull loop folding it) asks for a paint.
      void Promise.resolve().then(() => {
        seen.push('fold');
        clock.requestPaint(painter);
      });
    });
    await animationFrame();
    expect(seen).toEqual(['read', 'fold', 'paint']);
  });

  it('a reader asked for after the painters were due still runs first', async () => {
    const clock = await freshClock();
    const seen: string[] = [];
    clock.requestPaint(() => seen.push('paint'));
    clock.requestRead(() => seen.push('read'));
    await animationFrame();
    expect(seen).toEqual(['read', 'paint']);
  });

  it('a reader asked for between this frame`s reading and its painting runs in the next frame', async () => {
    const clock = await freshClock();
    const seen: string[] = [];
    clock.requestRead(() => {
      seen.push('read 1');
      void Promise.resolve().then(() => clock.requestRead(() => seen.push('read 2')));
    });
    clock.requestPaint(() => seen.push('paint 1'));
    await animationFrame();
    expect(seen).toEqual(['read 1', 'paint 1']);
    expect(queued.length).toBeGreaterThan(0);
    await animationFrame();
    expect(seen).toEqual(['read 1', 'paint 1', 'read 2']);
  });

  it('a reader asked for by a painter, or by a reader, runs once, first in the next frame', async () => {
    const clock = await freshClock();
    const seen: string[] = [];
    let again = true;
    const reader = () => {
      seen.push('read');
      // A reader that finds nothing asks again (worker-socket.ts's poll): once more, next frame.
      if (again) clock.requestRead(reader);
      again = false;
    };
    clock.requestPaint(() => {
      seen.push('paint 1');
      clock.requestRead(reader);
      clock.requestRead(reader);
      clock.requestPaint(() => seen.push('paint 2'));
    });
    await animationFrame();
    expect(seen).toEqual(['paint 1']);
    await animationFrame();
    expect(seen).toEqual(['paint 1', 'read', 'paint 2']);
    await animationFrame();
    expect(seen).toEqual(['paint 1', 'read', 'paint 2', 'read']);
    await animationFrame();
    expect(queued).toEqual([]);
  });

  it('a reader asked for after the frame`s painting (the next frame request) runs in the next frame', async () => {
    const clock = await freshClock();
    const seen: string[] = [];
    void clock.afterPaint().then(() => clock.requestRead(() => seen.push('read')));
    await animationFrame();
    expect(seen).toEqual([]);
    await animationFrame();
    expect(seen).toEqual(['read']);
  });

  it('a failing reader stops neither the other readers nor the painters', async () => {
    const clock = await freshClock();
    const seen: string[] = [];
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    clock.requestRead(() => {
      throw new Error('broken');
    });
    clock.requestRead(() => seen.push('read'));
    clock.requestPaint(() => seen.push('paint'));
    await animationFrame();
    expect(seen).toEqual(['read', 'paint']);
    expect(error).toHaveBeenCalledTimes(1);
  });
});
