/**
 * A small canvas chart of messages per second over the last couple of minutes: an area under a
 * line, a faint grid and the scale's top value. No chart library: it is one path per draw, and it
 * is drawn up to four times a second (once per metrics event), so it has to stay cheap.
 *
 * Cheap here means nothing in a draw makes the browser bring the page's style up to date before
 * its next frame (the watchlist changes hundreds of cells per frame, so a forced recalculation
 * costs tens of ms): the theme's colours are read once and on theme changes, not per draw, and the
 * scale's label is a DOM element over the canvas, since Chromium's fillText updates the page's
 * style first.
 *
 * The arithmetic (scale, coordinates, label) is pure and exported for tests; the component only
 * measures its container, sizes the canvas for the device pixel ratio and paints. Where no 2D
 * context exists (happy-dom, a lost GPU context) it paints nothing and still renders its label.
 */
import { memo, useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { formatDuration, formatRate } from '../model/format.ts';
import { RATE_HISTORY, type RatePoint } from '../store.ts';

/** The time the chart spans: the store's history at four samples a second. */
export const RATE_WINDOW_MS = (RATE_HISTORY / 4) * 1000;

/** Room above the plot for the scale label. */
const PAD_TOP = 14;
const DEFAULT_HEIGHT = 84;

export interface ChartPoint {
  readonly x: number;
  readonly y: number;
}

export interface ChartScale {
  /** The value at the top of the plot: the peak rounded up to a nice number, at least 1. */
  readonly max: number;
  /** Highest value among the plotted points (0 when none). */
  readonly peak: number;
  /** The newest value (NaN when none). */
  readonly latest: number;
  /** Plot coordinates, oldest first: x from 0 (window start) to width (newest), y down from 0. */
  readonly coords: readonly ChartPoint[];
}

/** The smallest of 1, 2, 2.5, 5 × 10^k that is at least `value`; 1 for anything not above 1. */
export function niceMax(value: number): number {
  if (!(value > 1) || !Number.isFinite(value)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    // A little slack so that 500.0000001 (float noise) does not jump to 1,000.
    if (value <= step * magnitude * (1 + 1e-9)) return step * magnitude;
  }
  return 10 * magnitude;
}

/**
 * Maps points onto a `width` × `height` plot. Time runs over a fixed window ending at the newest
 * point, so a short history fills from the right instead of stretching; older points are left out.
 * Non-finite values are skipped.
 */
export function chartScale(
  points: readonly RatePoint[],
  width: number,
  height: number,
  windowMs = RATE_WINDOW_MS,
): ChartScale {
  const newest = points[points.length - 1];
  if (newest === undefined || width <= 0 || height <= 0) {
    return { max: 1, peak: 0, latest: newest?.perSecond ?? NaN, coords: [] };
  }
  const start = newest.at - windowMs;
  const visible = points.filter(
    (p) => p.at >= start && Number.isFinite(p.perSecond) && Number.isFinite(p.at),
  );
  let peak = 0;
  for (const p of visible) if (p.perSecond > peak) peak = p.perSecond;
  const max = niceMax(peak);
  const coords = visible.map((p) => ({
    x: ((p.at - start) / windowMs) * width,
    y: height - (Math.max(0, p.perSecond) / max) * height,
  }));
  return { max, peak, latest: newest.perSecond, coords };
}

/** The chart's accessible name: what a sighted user reads off it. */
export function chartLabel(points: readonly RatePoint[], windowMs = RATE_WINDOW_MS): string {
  const first = points[0];
  const newest = points[points.length - 1];
  if (first === undefined || newest === undefined) return 'Messages per second: no data yet';
  const { peak, latest } = chartScale(points, 1, 1, windowMs);
  const span = Math.min(windowMs, newest.at - first.at);
  return `Messages per second, last ${formatDuration(span)}: now ${formatRate(latest)}/s, peak ${formatRate(peak)}/s`;
}

/** The label at the top of the scale: `50.0/s`. */
export function scaleLabel(points: readonly RatePoint[], windowMs = RATE_WINDOW_MS): string {
  return `${formatRate(chartScale(points, 1, 1, windowMs).max)}/s`;
}

export interface ChartColors {
  readonly accent: string;
  readonly line: string;
}

/**
 * The theme's colours, read from the CSS variables where the canvas sits (both themes work).
 * getComputedStyle forces a style recalculation of the page: called when the chart mounts and when
 * the theme changes, never per draw.
 */
export function readColors(element: Element): ChartColors {
  const style = getComputedStyle(element);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    accent: read('--accent', '#4aa3ff'),
    line: read('--line', '#262d36'),
  };
}

/** The 2D context, or null where there is none (or getting one throws, as happy-dom may). */
function context2d(canvas: HTMLCanvasElement): CanvasRenderingContext2D | null {
  try {
    return canvas.getContext('2d');
  } catch {
    return null;
  }
}

/**
 * Paints `points` onto a context sized `width` × `height` CSS pixels (the backing store is that
 * times `dpr`): grid, area and line. The scale's label is not painted (see scaleLabel).
 */
export function drawRateChart(
  ctx: CanvasRenderingContext2D,
  points: readonly RatePoint[],
  colors: ChartColors,
  width: number,
  height: number,
  dpr: number,
  windowMs = RATE_WINDOW_MS,
): ChartScale {
  const plotHeight = Math.max(1, height - PAD_TOP - 1);
  const scale = chartScale(points, width, plotHeight, windowMs);
  const bottom = PAD_TOP + plotHeight;

  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);

  // Grid: the top of the scale, its middle and the zero line; half-pixel offsets keep them crisp.
  ctx.strokeStyle = colors.line;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const y of [PAD_TOP, PAD_TOP + plotHeight / 2, bottom]) {
    const crisp = Math.round(y) + 0.5;
    ctx.moveTo(0, crisp);
    ctx.lineTo(width, crisp);
  }
  ctx.stroke();

  const first = scale.coords[0];
  const last = scale.coords[scale.coords.length - 1];
  if (first !== undefined && last !== undefined) {
    ctx.beginPath();
    ctx.moveTo(first.x, bottom);
    for (const c of scale.coords) ctx.lineTo(c.x, PAD_TOP + c.y);
    ctx.lineTo(last.x, bottom);
    ctx.closePath();
    ctx.globalAlpha = 0.18;
    ctx.fillStyle = colors.accent;
    ctx.fill();
    ctx.globalAlpha = 1;

    ctx.beginPath();
    ctx.moveTo(first.x, PAD_TOP + first.y);
    for (const c of scale.coords) ctx.lineTo(c.x, PAD_TOP + c.y);
    ctx.strokeStyle = colors.accent;
    ctx.lineWidth = 1.5;
    ctx.lineJoin = 'round';
    ctx.stroke();
  }

  return scale;
}

const LABEL_STYLE = {
  position: 'absolute',
  left: 4,
  top: 1,
  font: '11px/12px system-ui, sans-serif',
  color: 'var(--muted)',
  pointerEvents: 'none',
  fontVariantNumeric: 'tabular-nums',
} as const;

export interface RateChartProps {
  readonly points: readonly RatePoint[];
  /** CSS pixels; the width follows the container. */
  readonly height?: number;
  readonly windowMs?: number;
}

export const RateChart = memo(function RateChart({
  points,
  height = DEFAULT_HEIGHT,
  windowMs = RATE_WINDOW_MS,
}: RateChartProps): ReactNode {
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const [colors, setColors] = useState<ChartColors | undefined>(undefined);

  // Colours once, then again only when the theme may have changed: the root element's theme
  // attribute, class or style, or the system's colour scheme.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (canvas === null) return undefined;
    const reread = () => setColors(readColors(canvas));
    reread();
    const root = document.documentElement;
    const observer =
      typeof MutationObserver === 'undefined' ? undefined : new MutationObserver(reread);
    observer?.observe(root, {
      attributes: true,
      attributeFilter: ['data-theme', 'class', 'style'],
    });
    const scheme =
      typeof window.matchMedia === 'function'
        ? window.matchMedia('(prefers-color-scheme: dark)')
        : undefined;
    scheme?.addEventListener('change', reread);
    return () => {
      observer?.disconnect();
      scheme?.removeEventListener('change', reread);
    };
  }, []);

  // Follow the container's width (the canvas is 100% wide, its height fixed, so no feedback loop).
  useEffect(() => {
    const wrap = wrapRef.current;
    if (wrap === null) return undefined;
    const measure = () => setWidth(Math.floor(wrap.clientWidth));
    measure();
    if (typeof ResizeObserver === 'undefined') {
      window.addEventListener('resize', measure);
      return () => window.removeEventListener('resize', measure);
    }
    const observer = new ResizeObserver((entries) => {
      const box = entries[0]?.contentRect;
      if (box !== undefined) setWidth(Math.floor(box.width));
    });
    observer.observe(wrap);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (canvas === null || width <= 0 || colors === undefined) return;
    const dpr = window.devicePixelRatio > 0 ? window.devicePixelRatio : 1;
    const pixelWidth = Math.round(width * dpr);
    const pixelHeight = Math.round(height * dpr);
    // Assigning a size clears the canvas and reallocates it: only when it really changed.
    if (canvas.width !== pixelWidth) canvas.width = pixelWidth;
    if (canvas.height !== pixelHeight) canvas.height = pixelHeight;
    const ctx = context2d(canvas);
    if (ctx === null) return;
    drawRateChart(ctx, points, colors, width, height, dpr, windowMs);
  }, [points, width, height, windowMs, colors]);

  return (
    <div ref={wrapRef} className="rate-chart" style={{ position: 'relative' }}>
      <canvas
        ref={canvasRef}
        role="img"
        aria-label={chartLabel(points, windowMs)}
        style={{ display: 'block', width: '100%', height: `${height}px` }}
      />
      {/* Said by the canvas's label already; the plot's top line is PAD_TOP below. */}
      <span aria-hidden="true" style={LABEL_STYLE}>
        {scaleLabel(points, windowMs)}
      </span>
    </div>
  );
});
