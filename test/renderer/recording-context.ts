/**
 * A 2D canvas context that records what is drawn, where (in canvas CSS pixels, translations
 * applied) and with which style, for the canvas watchlist's tests. happy-dom has no canvas; this
 * stands in for one at the edge, while the painter above it runs for real.
 */
import type { PaintContext } from '../../renderer/grid/cell-painter.ts';

export interface DrawOp {
  readonly op: 'fillRect' | 'clearRect' | 'fillText' | 'stroke' | 'clip';
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly text: string;
  readonly fillStyle: string;
  readonly globalAlpha: number;
  readonly composite: string;
  readonly textAlign: string;
}

/** Advance widths: every digit 7 px (tabular), or '1' narrower when `proportional`. */
function glyphWidth(ch: string, proportional: boolean): number {
  if (ch >= '0' && ch <= '9') return proportional && ch === '1' ? 4 : 7;
  if (ch === '.' || ch === ',') return 3;
  return 6;
}

export class RecordingContext implements PaintContext {
  readonly ops: DrawOp[] = [];
  readonly transforms: number[][] = [];
  fillStyle: string | CanvasGradient | CanvasPattern = '#000';
  strokeStyle: string | CanvasGradient | CanvasPattern = '#000';
  lineWidth = 1;
  globalAlpha = 1;
  globalCompositeOperation: GlobalCompositeOperation = 'source-over';
  textBaseline: CanvasTextBaseline = 'alphabetic';
  textAlign: CanvasTextAlign = 'start';
  font = '10px sans-serif';
  measured = 0;
  #dx = 0;
  #dy = 0;
  readonly #stack: Array<[number, number]> = [];
  readonly #proportional: boolean;

  constructor(options: { proportionalDigits?: boolean } = {}) {
    this.#proportional = options.proportionalDigits ?? false;
  }

  #record(op: DrawOp['op'], x: number, y: number, w: number, h: number, text = ''): void {
    this.ops.push({
      op,
      x: x + this.#dx,
      y: y + this.#dy,
      w,
      h,
      text,
      fillStyle: typeof this.fillStyle === 'string' ? this.fillStyle : 'pattern',
      globalAlpha: this.globalAlpha,
      composite: this.globalCompositeOperation,
      textAlign: this.textAlign,
    });
  }

  fillRect(x: number, y: number, w: number, h: number): void {
    this.#record('fillRect', x, y, w, h);
  }
  clearRect(x: number, y: number, w: number, h: number): void {
    this.#record('clearRect', x, y, w, h);
  }
  fillText(text: string, x: number, y: number): void {
    this.#record('fillText', x, y, 0, 0, text);
  }
  measureText(text: string): { width: number } {
    this.measured += 1;
    let width = 0;
    for (const ch of text) width += glyphWidth(ch, this.#proportional);
    return { width };
  }
  save(): void {
    this.#stack.push([this.#dx, this.#dy]);
  }
  restore(): void {
    const top = this.#stack.pop();
    if (top !== undefined) [this.#dx, this.#dy] = top;
  }
  translate(x: number, y: number): void {
    this.#dx += x;
    this.#dy += y;
  }
  setTransform(a: number, b: number, c: number, d: number, e: number, f: number): void {
    this.transforms.push([a, b, c, d, e, f]);
  }
  beginPath(): void {}
  rect(x: number, y: number, w: number, h: number): void {
    this.#record('clip', x, y, w, h);
  }
  clip(): void {}
  moveTo(): void {}
  lineTo(): void {}
  stroke(): void {
    this.#record('stroke', 0, 0, 0, 0);
  }
  setLineDash(): void {}

  /** The text drawn, in order. */
  texts(): string[] {
    return this.ops.filter((o) => o.op === 'fillText').map((o) => o.text);
  }

  clear(): void {
    this.ops.length = 0;
  }
}
