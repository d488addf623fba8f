/**
 * The renderer's sparkline series: per symbol, the session's 1-minute closes (slot i is the minute
 * `start + i * 60 s`, NaN where no bar), outside React like the quote board. Main sends every
 * series whole once and then appends; each symbol's `version` rises when its points change, so
 * the watchlist's canvas redraws only the sparklines whose series moved.
 */
import type { SeriesUpdate } from '../../shared/api.ts';

/** One minute per slot. */
export const SERIES_STEP_MS = 60_000;
/** Slots from 04:00 to 20:00 New York: the whole extended session. */
export const SESSION_SLOTS = 16 * 60;
/** The regular session's first minute (09:30 New York). */
export const REGULAR_FIRST_SLOT = 5.5 * 60;
/** The regular session's last minute (15:59 New York): its close is the day's regular close. */
export const REGULAR_LAST_SLOT = 12 * 60 - 1;

export interface Series {
  readonly symbol: string;
  /** Closes per slot, NaN where no bar; as long as the furthest slot seen. */
  readonly closes: number[];
  /** Rises on every change of its points. */
  version: number;
}

export class SeriesBook {
  readonly #series = new Map<string, Series>();
  #version = -Infinity;
  #start: number | undefined = undefined;
  /** Events that came before the whole copy: applied after it (those newer than it). */
  #early: SeriesUpdate[] | undefined = [];

  /** Epoch ms of slot 0 (undefined before any session). */
  get start(): number | undefined {
    return this.#start;
  }

  /** The whole copy (`market:series`'s answer): replaces everything, then replays early events. */
  applyWhole(update: SeriesUpdate): void {
    const early = this.#early ?? [];
    this.#early = undefined;
    this.#series.clear();
    this.#version = -Infinity;
    this.#apply({ ...update, reset: true });
    for (const e of early) this.#apply(e);
  }

  /** An appended update ('market:series' event). Returns whether anything changed. */
  applyEvent(update: SeriesUpdate): boolean {
    if (this.#early !== undefined) {
      this.#early.push(update);
      return false;
    }
    return this.#apply(update);
  }

  #apply(update: SeriesUpdate): boolean {
    if (update.version <= this.#version) return false;
    this.#version = update.version;
    this.#start = update.start;
    if (update.reset) {
      // A new session: bump every series so the pass clears the drawings of symbols left out.
      for (const s of this.#series.values()) {
        s.closes.length = 0;
        s.version += 1;
      }
    }
    for (const change of update.changes) {
      let series = this.#series.get(change.symbol);
      if (series === undefined) {
        series = { symbol: change.symbol, closes: [], version: 0 };
        this.#series.set(change.symbol, series);
      }
      const closes = series.closes;
      while (closes.length < change.from) closes.push(NaN);
      change.closes.forEach((c, k) => {
        closes[change.from + k] = c === null ? NaN : c;
      });
      series.version += 1;
    }
    return true;
  }

  get(symbol: string): Series | undefined {
    return this.#series.get(symbol);
  }

  /** The regular session's close of `symbol` (15:59's close, or the latest before), NaN if none. */
  regularClose(symbol: string): number {
    const closes = this.#series.get(symbol)?.closes;
    if (closes === undefined) return NaN;
    for (let i = Math.min(REGULAR_LAST_SLOT, closes.length - 1); i >= REGULAR_FIRST_SLOT; i--) {
      const c = closes[i];
      if (c !== undefined && Number.isFinite(c)) return c;
    }
    return NaN;
  }
}

/** The few canvas calls a sparkline makes (a test passes a recording context). */
export type SparkContext = Pick<
  CanvasRenderingContext2D,
  | 'clearRect'
  | 'beginPath'
  | 'moveTo'
  | 'lineTo'
  | 'stroke'
  | 'setLineDash'
  | 'strokeStyle'
  | 'lineWidth'
>;

export interface SparkColors {
  readonly up: string;
  readonly down: string;
  readonly ref: string;
}

/**
 * Draws `closes` across the whole extended session (04:00 to 20:00, so the line grows through the
 * day) with a dashed line at `prevClose`, scaled to both. The line is up-coloured when the latest
 * close is at or above the previous close. Returns the number of points drawn.
 */
export function drawSparkline(
  ctx: SparkContext,
  closes: readonly number[],
  prevClose: number,
  width: number,
  height: number,
  colors: SparkColors,
): number {
  ctx.clearRect(0, 0, width, height);
  let min = Infinity;
  let max = -Infinity;
  let latest = NaN;
  for (const c of closes) {
    if (!Number.isFinite(c)) continue;
    if (c < min) min = c;
    if (c > max) max = c;
    latest = c;
  }
  if (!Number.isFinite(latest)) return 0;
  if (Number.isFinite(prevClose)) {
    min = Math.min(min, prevClose);
    max = Math.max(max, prevClose);
  }
  const pad = 1.5;
  const span = max - min;
  const y = (v: number) =>
    span > 0 ? pad + (1 - (v - min) / span) * (height - 2 * pad) : height / 2;
  const x = (i: number) => (i / (SESSION_SLOTS - 1)) * width;
  if (Number.isFinite(prevClose)) {
    ctx.beginPath();
    ctx.setLineDash([2, 2]);
    ctx.strokeStyle = colors.ref;
    ctx.lineWidth = 1;
    const ry = Math.round(y(prevClose)) + 0.5;
    ctx.moveTo(0, ry);
    ctx.lineTo(width, ry);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.beginPath();
  ctx.strokeStyle = Number.isFinite(prevClose) && latest < prevClose ? colors.down : colors.up;
  ctx.lineWidth = 1.25;
  let points = 0;
  let pen = false;
  closes.forEach((c, i) => {
    if (!Number.isFinite(c)) return; // a minute without a bar: the line bridges it
    if (pen) ctx.lineTo(x(i), y(c));
    else ctx.moveTo(x(i), y(c));
    pen = true;
    points += 1;
  });
  ctx.stroke();
  return points;
}
