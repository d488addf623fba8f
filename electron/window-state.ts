/**
 * Window size, position, maximized state and display, saved per window and restored at the next
 * start: the first window opened takes the first saved place, File > New Window the next free one,
 * and each window's place is saved when it moves, resizes or closes (`<userData>/window-state.json`).
 *
 * A saved place is only used where it can be seen: when its display is gone (a laptop off its
 * dock, a monitor unplugged or rearranged) or the window would hang off every display, it comes
 * back on the primary display, centred, no larger than that display's work area. placeWindow() is
 * that rule as a pure function over plain rectangles, tested with made-up displays.
 *
 * Electron's objects come in as parameters (the `screen` module, each BrowserWindow), typed by the
 * little this uses, so the file loads without Electron.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { JsonFileStore } from './core/json-store.ts';
import type { Logger } from './stream/log.ts';

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** What placeWindow needs of an Electron Display. */
export interface DisplayLike {
  readonly id: number;
  /** The display minus taskbars, docks and menu bars, in screen coordinates. */
  readonly workArea: Rect;
}

/** What the tracker needs of Electron's `screen` (usable only after `ready`). */
export interface ScreenLike {
  getAllDisplays(): DisplayLike[];
  getPrimaryDisplay(): DisplayLike;
  getDisplayMatching(rect: Rect): DisplayLike;
}

/** What the tracker needs of a BrowserWindow. */
export interface WindowLike {
  on(event: 'resize' | 'move' | 'maximize' | 'unmaximize' | 'close', listener: () => void): unknown;
  once(event: 'closed', listener: () => void): unknown;
  /** The bounds the window has when not maximized (or full screen). */
  getNormalBounds(): Rect;
  isMaximized(): boolean;
  isDestroyed(): boolean;
}

const rectSchema = z.strictObject({
  x: z.number().int().min(-100_000).max(100_000),
  y: z.number().int().min(-100_000).max(100_000),
  width: z.number().int().min(1).max(100_000),
  height: z.number().int().min(1).max(100_000),
});

/** Windows open at once whose places are kept; more than that open where a new one would. */
const MAX_SLOTS = 32;

const windowStateSchema = z.strictObject({
  bounds: rectSchema,
  maximized: z.boolean(),
  /** The display the window was on (Electron's Display.id). */
  displayId: z.number().int(),
});
export type WindowState = z.infer<typeof windowStateSchema>;

const fileSchema = z.strictObject({
  version: z.literal(1),
  /** Slot i: the i-th window that is open at the same time. */
  windows: z.array(windowStateSchema.nullable()).max(MAX_SLOTS),
});
type WindowStateFile = z.infer<typeof fileSchema>;

/** Where a window opens: bounds for the constructor, then maximize() if it was. */
export interface Placement {
  readonly bounds: Rect;
  readonly maximized: boolean;
}

/** At least this much of the title bar's strip must be on a display for a place to count. */
const MIN_VISIBLE_WIDTH = 100;
const MIN_VISIBLE_HEIGHT = 40;

function overlap(a: Rect, b: Rect): { width: number; height: number } {
  return {
    width: Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x),
    height: Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y),
  };
}

/** Moves and shrinks `bounds` as little as needed to lie inside `area`. */
function fitInto(bounds: Rect, area: Rect): Rect {
  const width = Math.min(bounds.width, area.width);
  const height = Math.min(bounds.height, area.height);
  return {
    width,
    height,
    x: Math.min(Math.max(bounds.x, area.x), area.x + area.width - width),
    y: Math.min(Math.max(bounds.y, area.y), area.y + area.height - height),
  };
}

/**
 * Where a window with this saved state opens on these displays:
 * - no saved state: `size` centred on the primary display;
 * - its display is still there and the top of the window shows on it: the saved place, moved and
 *   shrunk only as far as needed to fit that display's work area;
 * - otherwise (the display went away, or the place is off every display): the saved size, no
 *   larger than the primary work area, centred there.
 */
export function placeWindow(
  saved: WindowState | undefined,
  displays: readonly DisplayLike[],
  primary: DisplayLike,
  size: { readonly width: number; readonly height: number },
): Placement {
  const centred = (width: number, height: number): Rect => {
    const area = primary.workArea;
    const w = Math.min(width, area.width);
    const h = Math.min(height, area.height);
    return {
      width: w,
      height: h,
      x: area.x + Math.round((area.width - w) / 2),
      y: area.y + Math.round((area.height - h) / 2),
    };
  };
  if (saved === undefined) return { bounds: centred(size.width, size.height), maximized: false };
  const display = displays.find((d) => d.id === saved.displayId);
  // The title bar: what the user needs to see to move the window.
  const titleBar = { ...saved.bounds, height: Math.min(saved.bounds.height, MIN_VISIBLE_HEIGHT) };
  const seen = display === undefined ? undefined : overlap(titleBar, display.workArea);
  if (
    display !== undefined &&
    seen !== undefined &&
    seen.width >= Math.min(MIN_VISIBLE_WIDTH, saved.bounds.width) &&
    seen.height >= Math.min(MIN_VISIBLE_HEIGHT, saved.bounds.height)
  ) {
    return { bounds: fitInto(saved.bounds, display.workArea), maximized: saved.maximized };
  }
  return {
    bounds: centred(saved.bounds.width, saved.bounds.height),
    maximized: saved.maximized,
  };
}

export interface WindowStatesOptions {
  readonly userDataDir: string;
  readonly screen: ScreenLike;
  /** The size of a window with no saved place. */
  readonly defaultSize: { readonly width: number; readonly height: number };
  readonly log: Logger;
  /** How long after the last move or resize the place is written. Default 500 ms. */
  readonly saveDelayMs?: number;
}

/** The saved places of the app's windows, and the tracking that keeps them current. */
export class WindowStates {
  readonly #store: JsonFileStore<WindowStateFile>;
  readonly #screen: ScreenLike;
  readonly #defaultSize: { readonly width: number; readonly height: number };
  readonly #log: Logger;
  readonly #saveDelayMs: number;
  #file: WindowStateFile = { version: 1, windows: [] };
  /** Slots held by open windows. */
  readonly #taken = new Set<number>();

  constructor(options: WindowStatesOptions) {
    this.#screen = options.screen;
    this.#defaultSize = options.defaultSize;
    this.#log = options.log;
    this.#saveDelayMs = options.saveDelayMs ?? 500;
    this.#store = new JsonFileStore<WindowStateFile>({
      path: join(options.userDataDir, 'window-state.json'),
      schema: fileSchema,
      defaults: () => ({ version: 1, windows: [] }),
      logger: options.log,
      label: 'window positions',
    });
  }

  /** Reads the saved places; a missing or damaged file means none (the store keeps a backup). */
  async load(): Promise<void> {
    const outcome = await this.#store.load();
    this.#file = outcome.value;
  }

  /** The next free slot and where its window opens. */
  claim(): { readonly slot: number; readonly placement: Placement } {
    let slot = 0;
    while (this.#taken.has(slot)) slot += 1;
    this.#taken.add(slot);
    const saved = this.#file.windows[slot] ?? undefined;
    const placement = placeWindow(
      saved,
      this.#screen.getAllDisplays(),
      this.#screen.getPrimaryDisplay(),
      this.#defaultSize,
    );
    return { slot, placement };
  }

  /** Saves `win`'s place in `slot` as it changes and when it closes; frees the slot after. */
  track(win: WindowLike, slot: number): void {
    let timer: NodeJS.Timeout | undefined;
    const later = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => this.#save(win, slot), this.#saveDelayMs);
    };
    for (const event of ['resize', 'move', 'maximize', 'unmaximize'] as const) win.on(event, later);
    // 'close' still has the window's bounds; 'closed' does not.
    win.on('close', () => {
      clearTimeout(timer);
      this.#save(win, slot);
    });
    win.once('closed', () => {
      clearTimeout(timer);
      this.#taken.delete(slot);
    });
  }

  /** Waits for pending writes (quitting). */
  flush(): Promise<void> {
    return this.#store.flush();
  }

  #save(win: WindowLike, slot: number): void {
    if (win.isDestroyed() || slot >= MAX_SLOTS) return;
    try {
      const bounds = win.getNormalBounds();
      const state: WindowState = {
        bounds: {
          x: Math.round(bounds.x),
          y: Math.round(bounds.y),
          width: Math.round(bounds.width),
          height: Math.round(bounds.height),
        },
        maximized: win.isMaximized(),
        displayId: this.#screen.getDisplayMatching(bounds).id,
      };
      const windows = [...this.#file.windows];
      while (windows.length < slot) windows.push(null);
      windows[slot] = state;
      this.#file = { version: 1, windows };
    } catch (err) {
      this.#log.warn({ err, slot }, 'could not read a window’s place');
      return;
    }
    // A place that cannot be written only costs the next start its position.
    this.#store
      .save(this.#file)
      .catch((err: unknown) => this.#log.warn({ err }, 'could not save the window positions'));
  }
}
