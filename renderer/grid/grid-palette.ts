/**
 * The canvas grid's colours and font, read from the page's CSS custom properties (the same ones
 * the DOM table used), once per theme change. The DOM tinted with `color-mix(in srgb, c N%,
 * transparent)`; here that is the colour at N% alpha, which composites the same way over the panel.
 */
import type { SparkColors } from '../model/series.ts';

export interface GridPalette {
  readonly text: string;
  readonly muted: string;
  readonly up: string;
  readonly down: string;
  readonly warn: string;
  /** Row tints: selected, hovered. */
  readonly selected: string;
  readonly hover: string;
  /** Price flash tints, lit and fading; empty when the user asked for less motion. */
  readonly upFlash: string;
  readonly upFade: string;
  readonly downFlash: string;
  readonly downFade: string;
  /** The day-range bar's track. */
  readonly track: string;
  readonly spark: SparkColors;
  /** A canvas font string: the page's family at the table's size. */
  readonly font: string;
}

/** `color` at `alpha` (0-1) for #rgb, #rrggbb and rgb()/rgba(); anything else is kept as it is. */
export function withAlpha(color: string, alpha: number): string {
  const c = color.trim();
  let rgb: [number, number, number] | undefined;
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(c)?.[1];
  if (hex !== undefined) {
    const full = hex.length === 3 ? [...hex].map((h) => h + h).join('') : hex;
    rgb = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)) as [number, number, number];
  } else {
    const m = /^rgba?\(\s*(\d+)[\s,]+(\d+)[\s,]+(\d+)/i.exec(c);
    if (m !== null) rgb = [Number(m[1]), Number(m[2]), Number(m[3])];
  }
  if (rgb === undefined) return c;
  return `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, ${alpha})`;
}

/** The palette for `el`'s computed style (custom properties inherit from the themed root). */
export function readPalette(el: Element, reducedMotion: boolean): GridPalette {
  const style = getComputedStyle(el);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const text = read('--text', '#d7dde4');
  const muted = read('--muted', '#8a96a3');
  const up = read('--up', '#3fb950');
  const down = read('--down', '#f85149');
  const accent = read('--accent', '#4aa3ff');
  const line = read('--line', '#262d36');
  const family = style.fontFamily.trim() || 'system-ui, sans-serif';
  return {
    text,
    muted,
    up,
    down,
    warn: read('--warn', '#d29922'),
    selected: withAlpha(accent, 0.18),
    hover: withAlpha(accent, 0.06),
    upFlash: reducedMotion ? '' : withAlpha(up, 0.18),
    upFade: reducedMotion ? '' : withAlpha(up, 0.08),
    downFlash: reducedMotion ? '' : withAlpha(down, 0.18),
    downFade: reducedMotion ? '' : withAlpha(down, 0.08),
    track: withAlpha(line, 0.8),
    spark: { up, down, ref: muted },
    font: `13px ${family}`,
  };
}
