/**
 * The watchlist's frame pass: writes quote values into the mounted rows' cells outside React, and
 * draws each visible row's sparkline when its series changed.
 *
 * React renders each value cell empty and never touches its content or classes again; this pass
 * owns the text, the flash classes, the change cells' direction classes, the day-range bar's
 * marks and the sparkline canvases. See QuoteCells.
 */
import {
  FLASH_MS,
  changeOf,
  dayRangeOf,
  extendedChangeOf,
  flashOf,
  freshnessOf,
  spreadOf,
  type FlashField,
  type Freshness,
  type QuoteBoard,
  type QuoteRow,
} from '../model/board.ts';
import type { ColumnId } from '../model/columns.ts';
import {
  formatAge,
  formatPercent,
  formatPrice,
  formatSigned,
  formatSize,
} from '../model/format.ts';
import { drawSparkline, type Series, type SeriesBook, type SparkColors } from '../model/series.ts';

/**
 * How each value column's cell is built. React renders each as an empty <td> (a price cell holds
 * an empty <span class="cell price">, the box its flash tints; the range cell its bar; the
 * sparkline cell a canvas) and never touches their content or classes again (those className
 * props never change): the frame pass owns the text, the flash classes, the change cells'
 * direction classes, the range bar's marks and the sparkline drawing. `react`: the content is
 * React's (the name, which changes once, when the directory answers).
 */
export type CellKind = 'price' | 'text' | 'range' | 'spark' | 'react';
export type ValueColumn = Exclude<ColumnId, 'symbol'>;
export const VALUE_CELLS: Readonly<Record<ValueColumn, { td: string; kind: CellKind }>> = {
  name: { td: 'name', kind: 'react' },
  bid: { td: 'num', kind: 'price' },
  bidSize: { td: 'num size', kind: 'text' },
  ask: { td: 'num', kind: 'price' },
  askSize: { td: 'num size', kind: 'text' },
  spread: { td: 'num', kind: 'text' },
  last: { td: 'num', kind: 'price' },
  lastSize: { td: 'num size', kind: 'text' },
  change: { td: 'num', kind: 'text' },
  changePct: { td: 'num', kind: 'text' },
  extChange: { td: 'num', kind: 'text' },
  open: { td: 'num', kind: 'text' },
  high: { td: 'num', kind: 'text' },
  low: { td: 'num', kind: 'text' },
  range: { td: 'range', kind: 'range' },
  volume: { td: 'num', kind: 'text' },
  spark: { td: 'spark', kind: 'spark' },
  age: { td: 'num age', kind: 'text' },
};

export const PRICE_CELL = 'cell price';
/** Sparkline canvas size in CSS pixels. */
export const SPARK_WIDTH = 84;
export const SPARK_HEIGHT = 18;

/** One value cell as the frame pass sees it: what it shows and what that was formatted from. */
interface Slot {
  readonly col: ValueColumn;
  readonly td: HTMLElement;
  /** Where the text and the flash class go: the price span, or the cell itself. */
  readonly box: HTMLElement;
  readonly text: Text;
  shown: string;
  /** The value last formatted (undefined: none yet, so the first pass always writes). */
  value: number | undefined;
  /** The class last written (span for prices, td for change cells), '' when React's own. */
  mark: string;
  /** Range: the last-trade marker and the open tick; spark: the canvas. */
  readonly parts: readonly HTMLElement[];
  /** The second value the cell was last written for (range: the open's place). */
  other: number | undefined;
}

/** A mounted row's cells and what the pass last wrote into them. */
interface RowCells {
  readonly symbol: string;
  /** The columns React rendered the row with: other columns mean other slots. */
  readonly layout: string;
  readonly slots: readonly Slot[];
  readonly age: Slot | undefined;
  readonly prices: ReadonlyArray<readonly [Slot, FlashField]>;
  readonly spark: Slot | undefined;
  /** The QuoteRow last written (a new board or a re-added symbol brings a new object). */
  row: QuoteRow | undefined;
  version: number;
  /** The session the values were written for (the extended-hours change depends on it). */
  session: string | undefined;
  /** The tick and receipt time the age cell was last written for. */
  ageNow: number;
  ageOf: number;
  /** When the next flash step of this row is due (Infinity: none lit). */
  flashUntil: number;
  /** The series, its version and the previous close the sparkline was last drawn from. */
  series: Series | undefined;
  seriesVersion: number;
  sparkRef: number;
  sparkEpoch: number;
}

/** What the pass reads besides the DOM, fetched once per pass. */
export interface CellSources {
  readonly board: QuoteBoard;
  readonly series: SeriesBook;
  /** The market session (pre, regular, post, closed, unknown). */
  readonly session: string | undefined;
  /** Silence is expected: old values are the last session's, not stale. */
  readonly quiet: boolean;
}

/** When a flash turns paler (ms after the change). */
const FLASH_FADES_AT = FLASH_MS / 2;
const FLASH_UP = `${PRICE_CELL} flash-up`;
const FLASH_DOWN = `${PRICE_CELL} flash-down`;

/** A spacer row, or anything else in the body that is not a quote row. */
const NOT_A_QUOTE_ROW = 'not a quote row';

function put(slot: Slot, text: string): void {
  if (slot.shown === text) return;
  slot.shown = text;
  slot.text.data = text;
}

/** Formats `value` into `slot` unless it is the value already shown (formatting is the cost). */
function putNumber(slot: Slot, value: number, format: (value: number) => string): void {
  if (Object.is(slot.value, value)) return;
  slot.value = value;
  put(slot, format(value));
}

/** The freshness the table shows for a receipt time (quiet: no stale marks). */
export function shownFreshness(receivedAt: number, now: number, quiet: boolean): Freshness {
  if (quiet) return Number.isFinite(receivedAt) ? 'fresh' : 'waiting';
  return freshnessOf(receivedAt, now);
}

/**
 * Writes quote values into the visible rows' cells, outside React: once per folded frame (a store
 * subscription), once per series update (sparklines), after every commit of the table (rows that
 * just mounted are empty), on the one-second tick (ages) and when a flash is due to go out.
 *
 * Per row it does nothing unless the row's version (or its series' version) moved; per cell it
 * formats only a value that changed and touches the DOM (Text.data, className, a bar's position,
 * a canvas) only when what it shows did. So a frame costs one pass over ~200 rows in script and,
 * in the page, only the cells whose text changed: no component renders, no element is created,
 * no animation restarts.
 */
export class QuoteCells {
  readonly #cells = new WeakMap<HTMLTableRowElement, RowCells | typeof NOT_A_QUOTE_ROW>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #body: HTMLTableSectionElement | null = null;
  /** The freshness React rendered each visible row with. */
  #rendered: ReadonlyMap<string, Freshness> = new Map();
  #tick = 0;
  #colors: SparkColors | undefined;
  /** Rises when every sparkline must be drawn again (a theme change). */
  #epoch = 0;
  readonly #sources: () => CellSources;
  readonly #onFreshness: () => void;
  readonly #clock: () => number;

  /**
   * `onFreshness`: a row's freshness moved away from what React rendered (a first quote, a stale
   * row that came back): the table renders again for its marks.
   */
  constructor(
    sources: () => CellSources,
    onFreshness: () => void,
    clock: () => number = () => Date.now(),
  ) {
    this.#sources = sources;
    this.#onFreshness = onFreshness;
    this.#clock = clock;
  }

  /** What the table last rendered: its body, its one-second tick, each visible row's freshness. */
  rendered(
    body: HTMLTableSectionElement | null,
    tick: number,
    freshness: ReadonlyMap<string, Freshness>,
  ): void {
    this.#body = body;
    this.#tick = tick;
    this.#rendered = freshness;
  }

  /**
   * The theme changed: every sparkline is drawn again in the new colours, after the page has
   * applied the theme (its colours are read from the page's CSS).
   */
  themeChanged(): void {
    this.#colors = undefined;
    this.#epoch += 1;
    if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => this.write());
  }

  /** One pass over the mounted rows. */
  write(): void {
    const body = this.#body;
    if (body === null) return;
    const { board, series, session, quiet } = this.#sources();
    const now = this.#clock();
    const tick = this.#tick;
    let flashDue = Infinity;
    let freshnessMoved = false;
    // children, not rows/cells: the same here, and happy-dom has only these.
    const rows = body.children;
    for (let r = 0; r < rows.length; r++) {
      const tr = rows[r];
      if (!(tr instanceof HTMLTableRowElement)) continue;
      let cells = this.#cells.get(tr);
      if (cells === undefined || (cells !== NOT_A_QUOTE_ROW && cells.layout !== tr.dataset.cols)) {
        cells = cellsOf(tr);
        this.#cells.set(tr, cells);
      }
      if (cells === NOT_A_QUOTE_ROW) continue;
      const row = board.get(cells.symbol);
      const moved =
        row !== cells.row || (row?.version ?? -1) !== cells.version || cells.session !== session;
      if (moved) {
        cells.row = row;
        cells.version = row?.version ?? -1;
        cells.session = session;
        writeValues(cells.slots, row, session, series);
      }
      const receivedAt = row?.receivedAt ?? NaN;
      const age = cells.age;
      if (age !== undefined && (cells.ageNow !== tick || !Object.is(cells.ageOf, receivedAt))) {
        cells.ageNow = tick;
        cells.ageOf = receivedAt;
        put(age, formatAge(receivedAt, tick));
      }
      if (moved || cells.flashUntil <= now) cells.flashUntil = writeFlashes(cells.prices, row, now);
      if (cells.flashUntil < flashDue) flashDue = cells.flashUntil;
      if (cells.spark !== undefined) this.#drawSpark(cells, cells.spark, series, row);
      const shown = this.#rendered.get(cells.symbol);
      if (shown !== undefined && shown !== shownFreshness(receivedAt, tick, quiet))
        freshnessMoved = true;
    }
    this.#schedule(flashDue, now);
    if (freshnessMoved) this.#onFreshness();
  }

  /** Draws a row's sparkline when its series or previous close changed since the last drawing. */
  #drawSpark(cells: RowCells, slot: Slot, book: SeriesBook, row: QuoteRow | undefined): void {
    const series = book.get(cells.symbol);
    const version = series?.version ?? -1;
    const ref = row?.prevClose ?? NaN;
    if (
      series === cells.series &&
      version === cells.seriesVersion &&
      Object.is(ref, cells.sparkRef) &&
      cells.sparkEpoch === this.#epoch
    )
      return;
    cells.sparkEpoch = this.#epoch;
    cells.series = series;
    cells.seriesVersion = version;
    cells.sparkRef = ref;
    const canvas = slot.parts[0];
    if (!(canvas instanceof HTMLCanvasElement)) return;
    const ctx = canvas.getContext('2d');
    if (ctx === null) return; // no canvas support (a test DOM): the cell stays empty
    const scale = canvas.width / SPARK_WIDTH;
    ctx.setTransform(scale, 0, 0, scale, 0, 0);
    this.#colors ??= sparkColors(canvas);
    const points = drawSparkline(
      ctx,
      series?.closes ?? [],
      ref,
      SPARK_WIDTH,
      SPARK_HEIGHT,
      this.#colors,
    );
    canvas.dataset.points = String(points);
  }

  /** A lit flash must go out on time even when no frame comes: one timer for the earliest. */
  #schedule(due: number, now: number): void {
    if (due === Infinity || due >= this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = due;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Infinity;
        this.write();
      },
      Math.max(0, due - now) + 1,
    );
  }

  /** Stops the flash timer (the table unmounts; a later write would start it again). */
  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }
}

/** The sparkline colours of the current theme (the page's CSS custom properties). */
function sparkColors(el: HTMLElement): SparkColors {
  const style = getComputedStyle(el);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    up: read('--up', '#1a7f37'),
    down: read('--down', '#cf222e'),
    ref: read('--muted', '#8c959f'),
  };
}

/** The slots of a quote row as React rendered it (see VALUE_CELLS), or NOT_A_QUOTE_ROW. */
function cellsOf(tr: HTMLTableRowElement): RowCells | typeof NOT_A_QUOTE_ROW {
  const symbol = tr.getAttribute('data-symbol');
  const layout = tr.dataset.cols;
  if (symbol === null || layout === undefined || !tr.classList.contains('quote-row'))
    return NOT_A_QUOTE_ROW;
  const slots: Slot[] = [];
  const prices: Array<readonly [Slot, FlashField]> = [];
  let age: Slot | undefined;
  let spark: Slot | undefined;
  const columns = layout === '' ? [] : (layout.split(',') as ValueColumn[]);
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i] as ValueColumn;
    const kind = VALUE_CELLS[col].kind;
    // children[0] is the symbol's row header.
    const td = tr.children[i + 1];
    if (!(td instanceof HTMLElement)) return NOT_A_QUOTE_ROW;
    if (kind === 'react') continue;
    const box = kind === 'price' ? td.firstElementChild : td;
    if (!(box instanceof HTMLElement)) return NOT_A_QUOTE_ROW;
    // A cell React kept from an earlier layout (a column moved) has its Text node already.
    const existing = kind === 'range' || kind === 'spark' ? undefined : box.lastChild;
    let text: Text;
    if (existing instanceof Text) text = existing;
    else {
      text = document.createTextNode('');
      if (kind !== 'range' && kind !== 'spark') box.append(text);
    }
    const parts =
      kind === 'range'
        ? [
            td.querySelector<HTMLElement>('.range-at'),
            td.querySelector<HTMLElement>('.range-open'),
          ].filter((el) => el !== null)
        : kind === 'spark'
          ? [...td.querySelectorAll<HTMLElement>('canvas')]
          : [];
    // The class a kept cell wears now, so that the first write clears a flash left from before.
    const mark = kind === 'price' ? (box.className === PRICE_CELL ? '' : box.className) : '';
    const slot: Slot = {
      col,
      td,
      box,
      text,
      shown: '',
      value: undefined,
      mark,
      parts,
      other: undefined,
    };
    slots.push(slot);
    if (col === 'age') age = slot;
    else if (kind === 'spark') spark = slot;
    else if (col === 'bid' || col === 'ask' || col === 'last') prices.push([slot, col]);
  }
  return {
    symbol,
    layout,
    slots,
    age,
    prices,
    spark,
    row: undefined,
    version: -2,
    session: undefined,
    ageNow: NaN,
    ageOf: NaN,
    flashUntil: Infinity,
    // As if drawn from no series: a fresh canvas is blank already, nothing to clear.
    series: undefined,
    seriesVersion: -1,
    sparkRef: NaN,
    sparkEpoch: 0,
  };
}

function writeValues(
  slots: readonly Slot[],
  row: QuoteRow | undefined,
  session: string | undefined,
  series: SeriesBook,
): void {
  const change = row === undefined ? { abs: NaN, pct: NaN } : changeOf(row);
  const direction = change.abs > 0 ? 'num up' : change.abs < 0 ? 'num down' : 'num';
  for (const slot of slots) {
    switch (slot.col) {
      case 'bid':
        putNumber(slot, row?.bid ?? NaN, formatPrice);
        break;
      case 'bidSize':
        putNumber(slot, row?.bidSize ?? NaN, formatSize);
        break;
      case 'ask':
        putNumber(slot, row?.ask ?? NaN, formatPrice);
        break;
      case 'askSize':
        putNumber(slot, row?.askSize ?? NaN, formatSize);
        break;
      case 'spread':
        putNumber(slot, row === undefined ? NaN : spreadOf(row), formatPrice);
        break;
      case 'last':
        putNumber(slot, row?.last ?? NaN, formatPrice);
        break;
      case 'lastSize':
        putNumber(slot, row?.lastSize ?? NaN, formatSize);
        break;
      case 'change':
        putNumber(slot, change.abs, formatSigned);
        markCell(slot, direction);
        break;
      case 'changePct':
        putNumber(slot, change.pct, formatPercent);
        markCell(slot, direction);
        break;
      case 'extChange': {
        const ext =
          row === undefined
            ? { abs: NaN, pct: NaN }
            : extendedChangeOf(row, session, series.regularClose(row.symbol));
        putNumber(slot, ext.pct, formatPercent);
        markCell(slot, ext.abs > 0 ? 'num up' : ext.abs < 0 ? 'num down' : 'num');
        break;
      }
      case 'open':
        putNumber(slot, row?.dayOpen ?? NaN, formatPrice);
        break;
      case 'high':
        putNumber(slot, row?.dayHigh ?? NaN, formatPrice);
        break;
      case 'low':
        putNumber(slot, row?.dayLow ?? NaN, formatPrice);
        break;
      case 'range':
        writeRange(slot, row);
        break;
      case 'volume':
        putNumber(slot, row?.volume ?? NaN, formatSize);
        break;
      case 'name':
      case 'spark':
      case 'age':
        break;
    }
  }
}

/**
 * Places the day-range bar's marker (the last trade) and tick (the open), in whole percent: the
 * bar is narrower than 100 px, so a finer step would move nothing on screen and only cost a style
 * write per frame. The title names the low and high (not the last, which changes every frame).
 */
function writeRange(slot: Slot, row: QuoteRow | undefined): void {
  const range = row === undefined ? { low: NaN, high: NaN, at: NaN, open: NaN } : dayRangeOf(row);
  const at = Math.round(range.at * 100);
  const open = Math.round(range.open * 100);
  const [marker, tick] = slot.parts;
  if (!Object.is(slot.value, at)) {
    slot.value = at;
    place(marker, at);
  }
  if (!Object.is(slot.other, open)) {
    slot.other = open;
    place(tick, open);
  }
  const title = Number.isFinite(range.low)
    ? `Day low ${formatPrice(range.low)}, high ${formatPrice(range.high)}`
    : '';
  if (slot.shown !== title) {
    slot.shown = title;
    slot.td.title = title;
  }
}

/** Shows a range mark at `percent` of the bar, or hides it (NaN). */
function place(mark: HTMLElement | undefined, percent: number): void {
  if (mark === undefined) return;
  mark.hidden = !Number.isFinite(percent);
  if (Number.isFinite(percent)) mark.style.left = `${percent}%`;
}

/** Sets a change cell's class (colour by direction) when it is not already that. */
function markCell(slot: Slot, className: string): void {
  if (slot.mark === className) return;
  slot.mark = className;
  slot.td.className = className;
}

/**
 * Lights, dims or clears the price cells' flashes; returns when the next of them is due to step.
 * A flash is a tint for FLASH_MS after the latest change, paler for its second half: a fade in two
 * steps, which costs one class change per step where a CSS fade would run (and dispatch events)
 * on every lit cell.
 */
function writeFlashes(
  prices: ReadonlyArray<readonly [Slot, FlashField]>,
  row: QuoteRow | undefined,
  now: number,
): number {
  let due = Infinity;
  for (const [slot, field] of prices) {
    const cell = row?.flash[field];
    const flash = cell === undefined ? undefined : flashOf(cell, now);
    let mark = '';
    if (cell !== undefined && flash !== undefined) {
      const fading = now - cell.at >= FLASH_FADES_AT;
      mark = flash === 'up' ? FLASH_UP : FLASH_DOWN;
      if (fading) mark += ' fading';
      due = Math.min(due, cell.at + (fading ? FLASH_MS : FLASH_FADES_AT));
    }
    if (slot.mark !== mark) {
      slot.mark = mark;
      slot.box.className = mark === '' ? PRICE_CELL : mark;
    }
  }
  return due;
}
