/**
 * The rate chart: its scale and coordinates (pure), its label, what it paints on a recording
 * context, and that it renders without a 2D context (happy-dom has none) or when getting one throws.
 */
import { render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  RATE_WINDOW_MS,
  RateChart,
  chartLabel,
  chartScale,
  drawRateChart,
  niceMax,
  scaleLabel,
} from '../../renderer/panels/rate-chart.tsx';
import type { RatePoint } from '../../renderer/store.ts';
import { T0 } from './fake-api.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

interface Recorded {
  readonly name: string;
  readonly args: readonly unknown[];
}

/** A 2D context that records method calls and keeps assigned properties. */
function recordingContext(): {
  ctx: CanvasRenderingContext2D;
  calls: Recorded[];
  props: Record<string, unknown>;
} {
  const calls: Recorded[] = [];
  const props: Record<string, unknown> = {};
  const ctx = new Proxy(props, {
    get(target, key) {
      if (typeof key !== 'string') return undefined;
      if (key in target) return target[key];
      return (...args: unknown[]) => {
        calls.push({ name: key, args });
      };
    },
    set(target, key, value) {
      if (typeof key === 'string') target[key] = value;
      return true;
    },
  });
  return { ctx: ctx as unknown as CanvasRenderingContext2D, calls, props };
}

const COLORS = { accent: 'blue', line: 'gray' };

describe('niceMax', () => {
  it('rounds up to 1, 2, 2.5 or 5 times a power of ten', () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(0.3)).toBe(1);
    expect(niceMax(1)).toBe(1);
    expect(niceMax(1.2)).toBe(2);
    expect(niceMax(2)).toBe(2);
    expect(niceMax(2.1)).toBe(2.5);
    expect(niceMax(3)).toBe(5);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(240)).toBe(250);
    expect(niceMax(5678)).toBe(10_000);
    expect(niceMax(50_000)).toBe(50_000);
    expect(niceMax(Number.NaN)).toBe(1);
    expect(niceMax(Number.POSITIVE_INFINITY)).toBe(1);
  });
});

describe('chartScale', () => {
  it('maps a fixed time window ending at the newest point, and values onto the nice max', () => {
    const points: RatePoint[] = [
      { at: T0, perSecond: 0 },
      { at: T0 + 50_000, perSecond: 200 },
      { at: T0 + 100_000, perSecond: 100 },
    ];
    const scale = chartScale(points, 300, 100, 100_000);
    expect(scale.max).toBe(200);
    expect(scale.peak).toBe(200);
    expect(scale.latest).toBe(100);
    expect(scale.coords).toEqual([
      { x: 0, y: 100 },
      { x: 150, y: 0 },
      { x: 300, y: 50 },
    ]);
  });

  it('fills a short history from the right and leaves points older than the window out', () => {
    const short = chartScale([{ at: T0, perSecond: 10 }], 200, 50, 10_000);
    expect(short.coords).toEqual([{ x: 200, y: 0 }]);

    const points: RatePoint[] = [
      { at: T0, perSecond: 9999 },
      { at: T0 + 5_000, perSecond: 4 },
      { at: T0 + 15_000, perSecond: 2 },
    ];
    const scale = chartScale(points, 100, 10, 10_000);
    expect(scale.peak).toBe(4);
    expect(scale.max).toBe(5);
    expect(scale.coords).toEqual([
      { x: 0, y: 2 },
      { x: 100, y: 6 },
    ]);
  });

  it('skips non-finite values and copes with nothing to plot', () => {
    const scale = chartScale(
      [
        { at: T0, perSecond: Number.NaN },
        { at: T0 + 1000, perSecond: 3 },
      ],
      100,
      10,
      1000,
    );
    expect(scale.coords).toEqual([{ x: 100, y: 4 }]);
    expect(chartScale([], 100, 10)).toEqual({ max: 1, peak: 0, latest: Number.NaN, coords: [] });
    expect(chartScale([{ at: T0, perSecond: 1 }], 0, 10).coords).toEqual([]);
  });
});

describe('chartLabel', () => {
  it('reads the span, the current rate and the peak', () => {
    expect(chartLabel([])).toBe('Messages per second: no data yet');
    const points: RatePoint[] = Array.from({ length: 700 }, (_, i) => ({
      at: T0 + i * 250,
      perSecond: i === 650 ? 12_345 : i,
    }));
    // 700 samples at 4 a second is 175 s, more than the window: the label says the window.
    expect(chartLabel(points)).toBe(`Messages per second, last 2m 30s: now 699/s, peak 12.3K/s`);
    expect(RATE_WINDOW_MS).toBe(150_000);
  });
});

describe('drawRateChart', () => {
  it('paints the grid, the area and the line through every point, and no text', () => {
    const { ctx, calls, props } = recordingContext();
    const points: RatePoint[] = [
      { at: T0, perSecond: 10 },
      { at: T0 + 500, perSecond: 40 },
      { at: T0 + 1000, perSecond: 20 },
    ];
    const scale = drawRateChart(ctx, points, COLORS, 200, 80, 2, 1000);
    expect(scale.max).toBe(50);
    expect(calls[0]).toEqual({ name: 'setTransform', args: [2, 0, 0, 2, 0, 0] });
    expect(calls.filter((c) => c.name === 'stroke')).toHaveLength(2);
    expect(calls.filter((c) => c.name === 'fill')).toHaveLength(1);
    // Grid: three lines; area: from the bottom through three points and back down; line: three.
    expect(calls.filter((c) => c.name === 'lineTo')).toHaveLength(3 + 4 + 3);
    // Text on a canvas makes Chromium update the page's style first: the label is in the DOM.
    expect(calls.filter((c) => c.name === 'fillText')).toEqual([]);
    expect(props['font']).toBeUndefined();
    expect(props['strokeStyle']).toBe('blue');
    expect(props['fillStyle']).toBe('blue');
    expect(props['globalAlpha']).toBe(1);
  });

  it('paints only the grid and the label without points', () => {
    const { ctx, calls } = recordingContext();
    drawRateChart(ctx, [], COLORS, 200, 80, 1);
    expect(calls.filter((c) => c.name === 'fill')).toHaveLength(0);
    expect(calls.filter((c) => c.name === 'lineTo')).toHaveLength(3);
  });

  it('the scale label reads the top of the scale', () => {
    const points: RatePoint[] = [
      { at: T0, perSecond: 10 },
      { at: T0 + 500, perSecond: 40 },
    ];
    expect(scaleLabel(points, 1000)).toBe('50.0/s');
    expect(scaleLabel([])).toBe('1.0/s');
  });
});

describe('RateChart', () => {
  const points: RatePoint[] = [
    { at: T0, perSecond: 100 },
    { at: T0 + 250, perSecond: 300 },
  ];

  it('renders a labelled image without a 2D context (happy-dom), drawing nothing', () => {
    render(<RateChart points={points} />);
    const img = screen.getByRole('img');
    expect(img.tagName).toBe('CANVAS');
    expect(img.getAttribute('aria-label')).toBe(
      'Messages per second, last 250 ms: now 300/s, peak 300/s',
    );
    // The top of the scale, over the canvas (hidden from the accessibility tree: the label says it).
    const scale = screen.getByText('500/s');
    expect(scale.getAttribute('aria-hidden')).toBe('true');
  });

  it('reads the theme colours once, not per draw, and again when the theme changes', async () => {
    vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(320);
    const { ctx, calls } = recordingContext();
    vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(ctx);
    const reads = vi.spyOn(window, 'getComputedStyle');
    const root = document.documentElement;
    const theme = root.dataset['theme'];
    try {
      const { rerender } = render(<RateChart points={points} />);
      rerender(<RateChart points={[...points, { at: T0 + 500, perSecond: 2 }]} />);
      rerender(<RateChart points={[...points, { at: T0 + 750, perSecond: 3 }]} />);
      expect(calls.filter((c) => c.name === 'setTransform')).toHaveLength(3);
      expect(reads).toHaveBeenCalledTimes(1);

      root.dataset['theme'] = theme === 'light' ? 'dark' : 'light';
      await waitFor(() => expect(reads).toHaveBeenCalledTimes(2));
      // New colours, one more draw with them.
      expect(calls.filter((c) => c.name === 'setTransform')).toHaveLength(4);
    } finally {
      if (theme === undefined) delete root.dataset['theme'];
      else root.dataset['theme'] = theme;
    }
  });

  it('does not throw when getting a context throws', () => {
    vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(320);
    vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockImplementation(() => {
      throw new Error('no canvas here');
    });
    render(<RateChart points={points} />);
    expect(screen.getByRole('img')).toBeTruthy();
  });

  it('sizes the canvas for the pixel ratio and redraws when the points change', () => {
    vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(320);
    vi.spyOn(window, 'devicePixelRatio', 'get').mockReturnValue(2);
    const { ctx, calls } = recordingContext();
    vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(ctx);

    const { rerender } = render(<RateChart points={points} height={60} />);
    const canvas = screen.getByRole<HTMLCanvasElement>('img');
    expect(canvas.width).toBe(640);
    expect(canvas.height).toBe(120);
    const draws = () => calls.filter((c) => c.name === 'setTransform').length;
    expect(draws()).toBe(1);

    rerender(<RateChart points={points} height={60} />);
    expect(draws()).toBe(1);
    rerender(<RateChart points={[...points, { at: T0 + 500, perSecond: 1 }]} height={60} />);
    expect(draws()).toBe(2);
  });
});
