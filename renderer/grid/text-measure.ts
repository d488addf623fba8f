/**
 * Text on the canvas with tabular figures, and the measuring it needs, cached. A canvas font
 * string cannot ask for `font-variant-numeric: tabular-nums`, so the digits are laid out here:
 * when the font's digits are all one width already (most UI fonts), a cell is one right-aligned
 * fillText; otherwise every digit gets the widest digit's advance, centred in it, so a column of
 * prices does not jitter as digits change. Each glyph is measured once per font, and a string's
 * width is the sum of its glyphs' (no measureText per value: a full feed brings thousands of new
 * price strings a second, which no cache of strings keeps up with).
 */

/** The part of a 2D context that measuring and drawing text needs. */
export interface TextContext {
  font: string;
  textAlign: CanvasTextAlign;
  measureText(text: string): { readonly width: number };
  fillText(text: string, x: number, y: number): void;
}

const DIGITS = '0123456789';

interface FontMetrics {
  /** The widest digit: a digit's advance when the font's own digits differ. */
  readonly digit: number;
  /** Every digit is `digit` wide already: a string can be drawn in one call. */
  readonly tabular: boolean;
  readonly glyphs: Map<string, number>;
}

function isDigit(ch: string): boolean {
  return ch >= '0' && ch <= '9';
}

export class TextMeasure {
  readonly #fonts = new Map<string, FontMetrics>();
  /** The font setFont gave the context last, and its metrics. */
  #active: { readonly ctx: TextContext; readonly metrics: FontMetrics } | undefined;

  /**
   * Sets the context's font and measures in it until the next setFont (or clear): reading
   * `ctx.font` back, as a context that was not given its font here must be, serializes the font
   * on every read in Chromium, and that was most of a busy paint's script time.
   */
  setFont(ctx: TextContext, font: string): void {
    ctx.font = font;
    this.#active = { ctx, metrics: this.#metricsOf(ctx, font) };
  }

  /** What the font's digits are like (measured once per font; `ctx.font` must already be it). */
  #metrics(ctx: TextContext): FontMetrics {
    const active = this.#active;
    if (active !== undefined && active.ctx === ctx) return active.metrics;
    return this.#metricsOf(ctx, ctx.font);
  }

  #metricsOf(ctx: TextContext, font: string): FontMetrics {
    let metrics = this.#fonts.get(font);
    if (metrics === undefined) {
      const widths = [...DIGITS].map((d) => ctx.measureText(d).width);
      const digit = Math.max(...widths);
      metrics = {
        digit,
        tabular: widths.every((w) => Math.abs(w - digit) < 0.01),
        glyphs: new Map(),
      };
      this.#fonts.set(font, metrics);
    }
    return metrics;
  }

  /** The width `text` takes when drawn by drawRight in the context's current font. */
  width(ctx: TextContext, text: string): number {
    const metrics = this.#metrics(ctx);
    // Figures, separators and signs do not kern: the glyphs' advances add up to the string's.
    let width = 0;
    for (const ch of text) width += isDigit(ch) ? metrics.digit : this.#glyph(ctx, metrics, ch);
    return width;
  }

  #glyph(ctx: TextContext, metrics: FontMetrics, ch: string): number {
    let width = metrics.glyphs.get(ch);
    if (width === undefined) {
      width = ctx.measureText(ch).width;
      metrics.glyphs.set(ch, width);
    }
    return width;
  }

  /**
   * Draws `text` with its right edge at `right` (figures tabular), cut with an ellipsis to fit
   * `room` when wider (a value the column was not sized for is shown short, not over its neighbour).
   */
  drawRight(ctx: TextContext, text: string, right: number, y: number, room: number): void {
    const shown = this.#fit(ctx, text, room);
    const metrics = this.#metrics(ctx);
    if (metrics.tabular) {
      ctx.textAlign = 'right';
      ctx.fillText(shown, right, y);
      return;
    }
    // Glyph by glyph from the right, each digit centred in the widest digit's advance.
    ctx.textAlign = 'center';
    let x = right;
    const chars = [...shown];
    for (let i = chars.length - 1; i >= 0; i--) {
      const ch = chars[i] as string;
      const advance = isDigit(ch) ? metrics.digit : this.#glyph(ctx, metrics, ch);
      ctx.fillText(ch, x - advance / 2, y);
      x -= advance;
    }
  }

  /** `text`, or its longest head that fits `room` with an ellipsis after it. */
  #fit(ctx: TextContext, text: string, room: number): string {
    if (this.width(ctx, text) <= room) return text;
    const chars = [...text];
    while (chars.length > 0) {
      chars.pop();
      const cut = `${chars.join('')}…`;
      if (this.width(ctx, cut) <= room) return cut;
    }
    return '';
  }

  /** Forgets every measurement (the font changed its face, e.g. a web font finished loading). */
  clear(): void {
    this.#fonts.clear();
    this.#active = undefined;
  }
}
