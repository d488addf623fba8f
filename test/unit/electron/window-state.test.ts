/**
 * Window places: placeWindow on made-up displays (a display that went away, a place off every
 * display, one partly off its display), and WindowStates saving per window into a real temp
 * folder and handing the places back in order at the next start.
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';
import {
  placeWindow,
  WindowStates,
  type DisplayLike,
  type Rect,
  type WindowState,
} from '../../../electron/window-state.ts';

const LAPTOP: DisplayLike = { id: 1, workArea: { x: 0, y: 25, width: 1440, height: 875 } };
const MONITOR: DisplayLike = { id: 2, workArea: { x: 1440, y: 0, width: 2560, height: 1400 } };
const SIZE = { width: 1280, height: 820 };

function saved(bounds: Rect, displayId: number, maximized = false): WindowState {
  return { bounds, displayId, maximized };
}

describe('placeWindow', () => {
  it('no saved place: the default size, centred on the primary display', () => {
    expect(placeWindow(undefined, [LAPTOP], LAPTOP, SIZE)).toEqual({
      bounds: { x: 80, y: 53, width: 1280, height: 820 },
      maximized: false,
    });
  });

  it('its display is there: exactly where it was, maximized or not', () => {
    const state = saved({ x: 1600, y: 100, width: 1800, height: 1000 }, 2, true);
    expect(placeWindow(state, [LAPTOP, MONITOR], LAPTOP, SIZE)).toEqual({
      bounds: state.bounds,
      maximized: true,
    });
  });

  it('the monitor went away: the saved size, shrunk to fit, centred on the primary display', () => {
    const state = saved({ x: 1600, y: 100, width: 1800, height: 1000 }, 2, true);
    expect(placeWindow(state, [LAPTOP], LAPTOP, SIZE)).toEqual({
      bounds: { x: 0, y: 25, width: 1440, height: 875 },
      maximized: true,
    });
    const small = saved({ x: 3000, y: 900, width: 800, height: 600 }, 2);
    expect(placeWindow(small, [LAPTOP], LAPTOP, SIZE).bounds).toEqual({
      x: 320,
      y: 163,
      width: 800,
      height: 600,
    });
  });

  it('partly off its display: moved in just enough', () => {
    const state = saved({ x: 1200, y: 500, width: 800, height: 600 }, 1);
    expect(placeWindow(state, [LAPTOP, MONITOR], LAPTOP, SIZE).bounds).toEqual({
      x: 640,
      y: 300,
      width: 800,
      height: 600,
    });
  });

  it('its title bar off the display (the arrangement changed): centred instead', () => {
    const above = saved({ x: 100, y: -700, width: 800, height: 600 }, 1);
    expect(placeWindow(above, [LAPTOP], LAPTOP, SIZE).bounds).toEqual({
      x: 320,
      y: 163,
      width: 800,
      height: 600,
    });
  });
});

class FakeWindow extends EventEmitter {
  bounds: Rect;
  maximized = false;
  destroyed = false;
  constructor(bounds: Rect) {
    super();
    this.bounds = bounds;
  }
  getNormalBounds(): Rect {
    return { ...this.bounds };
  }
  isMaximized(): boolean {
    return this.maximized;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  close(): void {
    this.emit('close');
    this.destroyed = true;
    this.emit('closed');
  }
}

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function screenOf(displays: DisplayLike[]) {
  return {
    getAllDisplays: () => displays,
    getPrimaryDisplay: () => displays[0]!,
    getDisplayMatching: (rect: Rect) =>
      displays.find((d) => rect.x >= d.workArea.x && rect.x < d.workArea.x + d.workArea.width) ??
      displays[0]!,
  };
}

describe('WindowStates', () => {
  it('saves each window in its own place and gives them back in order at the next start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'window-state-'));
    dirs.push(dir);
    const log = ringLogger(new LogRing());
    const first = new WindowStates({
      userDataDir: dir,
      screen: screenOf([LAPTOP, MONITOR]),
      defaultSize: SIZE,
      log,
      saveDelayMs: 1,
    });
    await first.load();
    const a = first.claim();
    const b = first.claim();
    expect([a.slot, b.slot]).toEqual([0, 1]);
    const winA = new FakeWindow(a.placement.bounds);
    const winB = new FakeWindow(b.placement.bounds);
    first.track(winA, a.slot);
    first.track(winB, b.slot);
    winA.bounds = { x: 100, y: 100, width: 1000, height: 700 };
    winA.emit('move');
    winB.bounds = { x: 1500, y: 50, width: 2000, height: 1200 };
    winB.maximized = true;
    winB.emit('maximize');
    winB.close();
    expect(first.claim().slot).toBe(1); // a closed window's place is free again
    winA.close();
    await new Promise((resolve) => setTimeout(resolve, 10));
    await first.flush();
    const file = JSON.parse(await readFile(join(dir, 'window-state.json'), 'utf8')) as unknown;
    expect(file).toEqual({
      version: 1,
      windows: [
        saved({ x: 100, y: 100, width: 1000, height: 700 }, 1),
        saved({ x: 1500, y: 50, width: 2000, height: 1200 }, 2, true),
      ],
    });

    // Next start, the monitor unplugged.
    const next = new WindowStates({
      userDataDir: dir,
      screen: screenOf([LAPTOP]),
      defaultSize: SIZE,
      log,
    });
    await next.load();
    expect(next.claim().placement).toEqual({
      bounds: { x: 100, y: 100, width: 1000, height: 700 },
      maximized: false,
    });
    expect(next.claim().placement).toEqual({
      bounds: { x: 0, y: 25, width: 1440, height: 875 },
      maximized: true,
    });
    expect(next.claim().placement.bounds).toEqual({ x: 80, y: 53, width: 1280, height: 820 });
  });

  it('a damaged file means default places, not a failed start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'window-state-'));
    dirs.push(dir);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'window-state.json'), '{"version":1,"windows":[{"bounds":');
    const states = new WindowStates({
      userDataDir: dir,
      screen: screenOf([LAPTOP]),
      defaultSize: SIZE,
      log: ringLogger(new LogRing()),
    });
    await states.load();
    expect(states.claim().placement.bounds).toEqual({ x: 80, y: 53, width: 1280, height: 820 });
  });
});
