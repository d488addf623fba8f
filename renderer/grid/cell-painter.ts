/**
 * The canvas watchlist's painter: draws the visible rows' numeric cells (text, flashes, stale
 * dimming, the selection and hover tints, the day-range bar, the sparkline) onto a 2D context, and
 * on every paint after the first redraws only the cells whose content, mark or place changed.
 * Framework-free and DOM-free (it draws on anything shaped like a CanvasRenderingContext2D), so the
 * unit tests run it against a recording context. The page-side owner is quote-grid.ts.
 */
import { drawSparkline, type SparkContext } from '../model/series.ts';
import type { CellContent, Tone, ValueColumn } from './cell-content.ts';
import type { GridPalette } from './grid-palette.ts';
import { rowTop, visibleRange, type GridColumn, type GridViewport } from './grid-layout.ts';
import { TextMeasure, type TextContext } from './text-measure.ts';

/** What the painter needs of a 2D context. */
export interface PaintContext extends TextContext, SparkContext {
  fillStyle: string | CanvasGradient | CanvasPattern;
  globalAlpha: number;
  globalCompositeOperation: GlobalCompositeOperation;
  textBaseline: CanvasTextBaseline;
  fillRect(x: number, y: number, w: number, h: number): void;
  save(): void;
  restore(): void;
  rect(x: number, y: number, w: number, h: number): void;
  clip(): void;
  translate(x: number, y: number): void;
  setTransform(a: number, b: number, c: number, d: number, e: number, f: number): void;
}

/** A row of the list as the painter needs it. */
export interface GridRow {
  readonly symbol: string;
  /** Its place in the list's shown order. */
  readonly index: number;
  readonly selected: boolean;
  readonly hovered: boolean;
  readonly stale: boolean;
}

/**
 * Everything one paint draws from: the list in its shown order, read only where visible. `R`: the
 * owner's own row type, handed back to `content` (e.g. with what it cached for the row).
 */
export interface GridScene<R extends GridRow = GridRow> {
  readonly view: GridViewport;
  readonly columns: readonly GridColumn[];
  readonly count: number;
  readonly row: (index: number) => R | undefined;
  readonly content: (row: R, column: ValueColumn) => CellContent;
}

/** What the painter last drew in one cell (the tests' and the e2e spec's view of the canvas). */
export interface PaintedCell {
  readonly symbol: string;
  readonly column: string;
  readonly text: string;
  readonly tone: Tone;
  readonly flash: string;
  readonly background: string;
  /** The sparkline's points drawn (0 for any other cell). */
  readonly points: number;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface PaintStats {
  /** The whole canvas was cleared and drawn again. */
  readonly full: boolean;
  /** Cells drawn (changed ones only, unless full). */
  readonly cells: number;
}

/** Columns the DOM draws over the canvas: the painter lays only their row tint under them. */
const BAND_COLUMNS: ReadonlySet<string> = new Set(['symbol', 'name', 'actions']);

/** Cell padding (the DOM's `padding: 0 4px`), the flash box's height and overhang. */
const PAD = 4;
const FLASH_HEIGHT = 18;
const FLASH_OVERHANG = 3;
/** The day-range bar's inset and the sparkline's size, as the DOM drew them. */
const RANGE_PAD = 8;
export const SPARK_WIDTH = 84;
export const SPARK_HEIGHT = 18;
/** Stale rows are dimmed (the DOM's opacity 0.6), all but their age, which is the point. */
const STALE_ALPHA = 0.6;
/** How tall a cell's ink is (text, flash box, sparkline) around the row's middle. */
const INK = 18;

interface Drawn extends PaintedCell {
  readonly key: string;
  seen: number;
}

/** Sets a canvas's backing store to its CSS size times the pixel ratio and scales the context to match. */
export function fitBackingStore(
  canvas: { width: number; height: number },
  ctx: Pick<PaintContext, 'setTransform'>,
  cssWidth: number,
  cssHeight: number,
  ratio: number,
): boolean {
  const width = Math.max(0, Math.round(cssWidth * ratio));
  const height = Math.max(0, Math.round(cssHeight * ratio));
  const changed = canvas.width !== width || canvas.height !== height;
  // Setting either size clears the canvas and its state, even to the same value: only on change.
  if (changed) {
    canvas.width = width;
    canvas.height = height;
  }
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return changed;
}

export class CellPainter {
  readonly #measure = new TextMeasure();
  /** Per cell (symbol and column), what it shows now. */
  readonly #drawn = new Map<string, Drawn>();
  #pass = 0;
  #full = true;

  /** The next paint clears everything and draws every visible cell (scroll, resize, theme...). */
  invalidate(): void {
    this.#full = true;
  }

  /** Forgets cached glyph widths (the font changed). */
  fontChanged(): void {
    this.#measure.clear();
    this.#full = true;
  }

  /** What the last paints left in a cell, or undefined when it is not on the canvas. */
  painted(symbol: string, column: string): PaintedCell | undefined {
    const drawn = this.#drawn.get(cellId(symbol, column));
    return drawn === undefined ? undefined : strip(drawn);
  }

  /** Every cell on the canvas now. */
  cells(): PaintedCell[] {
    return [...this.#drawn.values()].map(strip);
  }

  paint<R extends GridRow>(
    ctx: PaintContext,
    scene: GridScene<R>,
    palette: GridPalette,
  ): PaintStats {
    const { view } = scene;
    const full = this.#full;
    this.#full = false;
    const pass = ++this.#pass;
    if (full) {
      ctx.clearRect(0, 0, view.width, view.height);
      this.#drawn.clear();
    }
    ctx.save();
    // Nothing below the header's bottom edge or outside the canvas: a row half under the header is cut.
    ctx.beginPath();
    ctx.rect(0, view.top, view.width, Math.max(0, view.height - view.top));
    ctx.clip();
    this.#measure.setFont(ctx, palette.font);
    ctx.textBaseline = 'middle';
    let count = 0;
    const { first, end } = visibleRange(view, scene.count);
    for (let i = first; i < end; i++) {
      const row = scene.row(i);
      if (row === undefined) continue;
      const y = rowTop(view, i);
      const background = row.selected ? palette.selected : row.hovered ? palette.hover : '';
      for (const column of scene.columns) {
        if (column.left >= view.width || column.left + column.width <= 0) continue;
        const id = cellId(row.symbol, column.id);
        const band = BAND_COLUMNS.has(column.id);
        const content = band ? undefined : scene.content(row, column.id as ValueColumn);
        const key = cellKey(column, y, view.rowHeight, background, row.stale, content);
        const before = this.#drawn.get(id);
        if (before !== undefined && before.key === key) {
          before.seen = pass;
          continue;
        }
        // Moved (a resize without a full paint): its old place is wiped too.
        if (before !== undefined && !sameRect(before, column, y, view.rowHeight))
          clearCell(ctx, before);
        // A row cut down to a sliver by the header or the bottom edge keeps its tint, not text
        // that the clip would cut away whole.
        const mid = y + view.rowHeight / 2;
        const inkShown = mid + INK / 2 > view.top && mid - INK / 2 < view.height;
        const points = this.#draw(
          ctx,
          palette,
          column,
          y,
          view.rowHeight,
          background,
          row.stale,
          inkShown ? content : undefined,
        );
        this.#drawn.set(id, {
          symbol: row.symbol,
          column: column.id,
          text: content?.text ?? '',
          tone: content?.tone ?? 'text',
          flash: content?.flash ?? '',
          background,
          points,
          x: column.left,
          y,
          width: column.width,
          height: view.rowHeight,
          key,
          seen: pass,
        });
        count++;
      }
    }
    // Cells no longer shown (a row that left without a full paint): wiped, forgotten.
    for (const [id, drawn] of this.#drawn) {
      if (drawn.seen === pass) continue;
      clearCell(ctx, drawn);
      this.#drawn.delete(id);
    }
    ctx.restore();
    return { full, cells: count };
  }

  #draw(
    ctx: PaintContext,
    palette: GridPalette,
    column: GridColumn,
    y: number,
    height: number,
    background: string,
    stale: boolean,
    content: CellContent | undefined,
  ): number {
    const x = column.left;
    let points = 0;
    const width = column.width;
    ctx.clearRect(x, y, width, height);
    if (background !== '') {
      ctx.fillStyle = background;
      ctx.fillRect(x, y, width, height);
    }
    if (content === undefined) return 0;
    const dim = stale && column.id !== 'age';
    ctx.globalAlpha = dim ? STALE_ALPHA : 1;
    const mid = y + height / 2;
    if (content.flash !== undefined) {
      const tint = flashTint(palette, content.flash);
      if (tint !== '') {
        ctx.fillStyle = tint;
        ctx.fillRect(
          x + PAD,
          Math.round(mid - FLASH_HEIGHT / 2),
          width - 2 * PAD + FLASH_OVERHANG,
          FLASH_HEIGHT,
        );
      }
    }
    if (content.range !== undefined) {
      drawRange(ctx, palette, x, width, mid, content.range);
    } else if (content.spark !== undefined) {
      ctx.save();
      ctx.translate(x + PAD, Math.round(mid - SPARK_HEIGHT / 2));
      points = drawSparkline(
        ctx,
        content.spark.series?.closes ?? [],
        content.spark.ref,
        SPARK_WIDTH,
        SPARK_HEIGHT,
        palette.spark,
      );
      ctx.restore();
      // The sparkline clears its own box: the row's tint goes back in underneath the line.
      if (background !== '') {
        ctx.globalCompositeOperation = 'destination-over';
        ctx.fillStyle = background;
        ctx.fillRect(x, y, width, height);
        ctx.globalCompositeOperation = 'source-over';
      }
    } else if (content.text !== '') {
      ctx.fillStyle = toneColor(palette, stale && !dim ? 'warn' : dim ? 'muted' : content.tone);
      this.#measure.drawRight(ctx, content.text, x + width - PAD, mid, width - 2 * PAD);
    }
    ctx.globalAlpha = 1;
    return points;
  }
}

function cellId(symbol: string, column: string): string {
  return `${symbol}\u0000${column}`;
}

function strip(drawn: Drawn): PaintedCell {
  const { key: _key, seen: _seen, ...cell } = drawn;
  return cell;
}

/** Everything a cell's pixels depend on: equal keys, equal pixels. */
function cellKey(
  column: GridColumn,
  y: number,
  height: number,
  background: string,
  stale: boolean,
  content: CellContent | undefined,
): string {
  let key = `${column.left},${y},${column.width},${height}|${background}|${stale ? 's' : ''}`;
  if (content === undefined) return key;
  key += `|${content.text}|${content.tone}|${content.flash ?? ''}`;
  if (content.range !== undefined) key += `|${content.range.at},${content.range.open}`;
  if (content.spark !== undefined) {
    const series = content.spark.series;
    key += `|${series?.symbol ?? ''}:${series?.version ?? -1}:${content.spark.ref}`;
  }
  return key;
}

function sameRect(cell: PaintedCell, column: GridColumn, y: number, height: number): boolean {
  return (
    cell.x === column.left && cell.y === y && cell.width === column.width && cell.height === height
  );
}

function clearCell(ctx: PaintContext, cell: PaintedCell): void {
  ctx.clearRect(cell.x, cell.y, cell.width, cell.height);
}

function toneColor(palette: GridPalette, tone: Tone): string {
  return palette[tone];
}

function flashTint(palette: GridPalette, flash: string): string {
  switch (flash) {
    case 'up':
      return palette.upFlash;
    case 'up-fading':
      return palette.upFade;
    case 'down':
      return palette.downFlash;
    default:
      return palette.downFade;
  }
}

/** The day-range bar: the track from low to high, a tick at the open, a marker at the last trade. */
function drawRange(
  ctx: PaintContext,
  palette: GridPalette,
  x: number,
  width: number,
  mid: number,
  range: { readonly at: number; readonly open: number },
): void {
  const left = x + RANGE_PAD;
  const span = Math.max(0, width - 2 * RANGE_PAD);
  const top = Math.round(mid - 2);
  ctx.fillStyle = palette.track;
  ctx.fillRect(left, top, span, 4);
  if (Number.isFinite(range.open)) {
    ctx.fillStyle = palette.muted;
    ctx.fillRect(left + (range.open / 100) * span - 1, top - 1, 2, 6);
  }
  if (Number.isFinite(range.at)) {
    ctx.fillStyle = palette.text;
    ctx.fillRect(left + (range.at / 100) * span - 1, top - 3, 2, 10);
  }
}
