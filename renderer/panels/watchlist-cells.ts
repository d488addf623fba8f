/**
 * The watchlist's accessible mirror: writes the quote values' text into the DOM table's mounted
 * rows, outside React, at a readable rate. The numbers a trader looks at are drawn on the canvas
 * (renderer/grid); this table lies over the canvas with transparent value text, for screen readers,
 * keyboard focus and copying a row, so it need not change on every frame, and must not: thousands
 * of text changes per frame were what kept the DOM table from keeping up.
 *
 * React renders each value cell empty and never touches its content again; this pass owns the
 * text (and the day range's title). MirrorPacer decides when it runs.
 */
import type { QuoteBoard } from '../model/board.ts';
import type { Freshness, QuoteRow } from '../model/board.ts';
import type { SeriesBook } from '../model/series.ts';
import { cancelPaint, requestPaint } from '../paint-clock.ts';
import {
  cellContent,
  shownFreshness,
  type CellInputs,
  type ValueColumn,
} from '../grid/cell-content.ts';

export { shownFreshness, type ValueColumn } from '../grid/cell-content.ts';

/**
 * Each value column's cell class, and whether its content is React's (`react`: the name, which
 * changes once, when the directory answers) or the mirror pass's (`text`: everything else; the
 * range and sparkline cells hold no text, the range its title).
 */
export type CellKind = 'text' | 'react';
export const VALUE_CELLS: Readonly<Record<ValueColumn, { td: string; kind: CellKind }>> = {
  name: { td: 'name', kind: 'react' },
  bid: { td: 'num', kind: 'text' },
  bidSize: { td: 'num size', kind: 'text' },
  ask: { td: 'num', kind: 'text' },
  askSize: { td: 'num size', kind: 'text' },
  spread: { td: 'num', kind: 'text' },
  last: { td: 'num', kind: 'text' },
  lastSize: { td: 'num size', kind: 'text' },
  change: { td: 'num', kind: 'text' },
  changePct: { td: 'num', kind: 'text' },
  extChange: { td: 'num', kind: 'text' },
  open: { td: 'num', kind: 'text' },
  high: { td: 'num', kind: 'text' },
  low: { td: 'num', kind: 'text' },
  range: { td: 'range', kind: 'text' },
  volume: { td: 'num', kind: 'text' },
  spark: { td: 'spark', kind: 'text' },
  age: { td: 'num age', kind: 'text' },
};

/** How often the mirror's text is brought up to date under a stream: about twice a second. */
export const MIRROR_INTERVAL_MS = 500;
/**
 * A sweep spreads over this many animation frames: a few rows each, never every mounted row in
 * one frame (40 rows of new text in one frame, twice a second, were the desk's slowest frames).
 */
export const MIRROR_SWEEP_FRAMES = 8;
/** At least this many rows per frame of a sweep. */
export const MIRROR_MIN_ROWS_PER_FRAME = 2;
/**
 * Every this many sweeps, one also writes the mounted rows off screen (the virtualizer's
 * overscan): a screen reader may read them, so they are never more than a few seconds old.
 */
export const MIRROR_OFF_SCREEN_EVERY = 4;

/** One value cell as the pass sees it. */
interface Slot {
  readonly col: ValueColumn;
  readonly td: HTMLElement;
  readonly text: Text | undefined;
  shown: string;
}

/** A mounted row's cells and what the pass last wrote into them. */
interface RowCells {
  readonly symbol: string;
  /** The columns React rendered the row with: other columns mean other slots. */
  readonly layout: string;
  readonly slots: readonly Slot[];
  /** The QuoteRow, its version, session and tick last written (-2: never written). */
  row: QuoteRow | undefined;
  version: number;
  session: string | undefined;
  tick: number;
}

/** What the pass reads besides the DOM, fetched once per pass. */
export interface CellSources {
  readonly board: QuoteBoard;
  readonly series: SeriesBook;
  /** The market session (pre, regular, post, closed, unknown). */
  readonly session: string | undefined;
  /** Silence is expected: old values are the last session's, not stale. */
  readonly quiet: boolean;
  /** The halted symbols: their silence is the halt's, not a stale feed. */
  readonly halted: ReadonlySet<string>;
  /**
   * Whether a symbol's row is on screen (or selected): a sweep writes only those; the rows
   * mounted around them for scrolling keep the text they were mounted with until they show.
   * Absent: every mounted row.
   */
  readonly onScreen?: (symbol: string) => boolean;
}

/** A spacer row, or anything else in the body that is not a quote row. */
const NOT_A_QUOTE_ROW = 'not a quote row';

export class QuoteCells {
  readonly #cells = new WeakMap<HTMLTableRowElement, RowCells | typeof NOT_A_QUOTE_ROW>();
  #body: HTMLTableSectionElement | null = null;
  /** The freshness React rendered each visible row with. */
  #rendered: ReadonlyMap<string, Freshness> = new Map();
  #tick = 0;
  readonly #sources: () => CellSources;
  readonly #onFreshness: () => void;

  /**
   * `onFreshness`: a row's freshness moved away from what React rendered (a first quote, a stale
   * row that came back): the table renders again for its marks.
   */
  constructor(sources: () => CellSources, onFreshness: () => void) {
    this.#sources = sources;
    this.#onFreshness = onFreshness;
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

  /** How many rows the body holds (spacers included): what a sweep walks. */
  get rowCount(): number {
    return this.#body?.children.length ?? 0;
  }

  /**
   * Brings rows [from, from + count) of the body up to date; `onlyNew`: only rows never written
   * (just mounted: a scroll, a sort), which must not wait for the next sweep; `offScreen`: the
   * mounted rows off screen too (a screen reader's table navigation reads them).
   */
  write(from = 0, count = Infinity, onlyNew = false, offScreen = false): void {
    const body = this.#body;
    if (body === null) return;
    const { board, series, session, onScreen } = this.#sources();
    const tick = this.#tick;
    const inputs: CellInputs = {
      session,
      regularClose: (symbol) => series.regularClose(symbol),
      series: (symbol) => series.get(symbol),
      // The mirror shows values, not flashes: the time matters only for the canvas.
      now: tick,
      tick,
      stale: false,
    };
    // children, not rows/cells: the same here, and happy-dom has only these.
    const rows = body.children;
    const end = Math.min(rows.length, from + count);
    for (let r = Math.max(0, from); r < end; r++) {
      const tr = rows[r];
      if (!(tr instanceof HTMLTableRowElement)) continue;
      let cells = this.#cells.get(tr);
      if (cells === undefined || (cells !== NOT_A_QUOTE_ROW && cells.layout !== tr.dataset.cols)) {
        cells = cellsOf(tr);
        this.#cells.set(tr, cells);
      }
      if (cells === NOT_A_QUOTE_ROW) continue;
      if (onlyNew && cells.version !== -2) continue;
      if (!onlyNew && !offScreen && cells.version !== -2 && onScreen?.(cells.symbol) === false)
        continue;
      const row = board.get(cells.symbol);
      if (
        row !== cells.row ||
        (row?.version ?? -1) !== cells.version ||
        cells.session !== session ||
        cells.tick !== tick
      ) {
        cells.row = row;
        cells.version = row?.version ?? -1;
        cells.session = session;
        cells.tick = tick;
        for (const slot of cells.slots) {
          const content = cellContent(slot.col, row, inputs);
          if (slot.shown === content.text) continue;
          slot.shown = content.text;
          // The range cell's text is its title (its bar is drawn); the sparkline has none.
          if (slot.text === undefined) slot.td.title = content.text;
          else slot.text.data = content.text;
        }
      }
    }
  }

  /**
   * On every folded frame, cheap (no DOM): when a visible row's freshness moved away from what
   * React rendered (a first quote, a stale row that came back), the table renders its marks now
   * rather than at the mirror's pace, since the symbol cell wearing them is in plain sight.
   */
  checkFreshness(): void {
    const { board, quiet, halted } = this.#sources();
    for (const [symbol, shown] of this.#rendered) {
      const receivedAt = board.get(symbol)?.receivedAt ?? NaN;
      const silent = quiet || halted.has(symbol);
      if (shown !== shownFreshness(receivedAt, this.#tick, silent)) {
        this.#onFreshness();
        return;
      }
    }
  }
}

/** The slots of a quote row as React rendered it (see VALUE_CELLS), or NOT_A_QUOTE_ROW. */
function cellsOf(tr: HTMLTableRowElement): RowCells | typeof NOT_A_QUOTE_ROW {
  const symbol = tr.getAttribute('data-symbol');
  const layout = tr.dataset.cols;
  if (symbol === null || layout === undefined || !tr.classList.contains('quote-row'))
    return NOT_A_QUOTE_ROW;
  const slots: Slot[] = [];
  const columns = layout === '' ? [] : (layout.split(',') as ValueColumn[]);
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i] as ValueColumn;
    if (VALUE_CELLS[col].kind === 'react') continue;
    // children[0] is the symbol's row header.
    const td = tr.children[i + 1];
    if (!(td instanceof HTMLElement)) return NOT_A_QUOTE_ROW;
    let text: Text | undefined;
    if (col !== 'range' && col !== 'spark') {
      // A cell React kept from an earlier layout (a column moved) has its Text node already.
      const existing = td.lastChild;
      if (existing instanceof Text) text = existing;
      else {
        text = document.createTextNode('');
        td.append(text);
      }
    }
    slots.push({ col, td, text, shown: text?.data ?? td.title });
  }
  return { symbol, layout, slots, row: undefined, version: -2, session: undefined, tick: NaN };
}

/**
 * When the mirror is written: a sweep of the mounted rows at most every MIRROR_INTERVAL_MS while
 * frames come, spread over MIRROR_SWEEP_FRAMES animation frames, so that no frame pays for the
 * whole table at once (a long task is what a trader feels as a missed key).
 */
export class MirrorPacer {
  readonly #cells: QuoteCells;
  readonly #clock: () => number;
  #lastSweep = -Infinity;
  #cursor = -1;
  #sweeps = 0;
  /** Something changed during the current sweep. */
  #again = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  constructor(cells: QuoteCells, clock: () => number = () => Date.now()) {
    this.#cells = cells;
    this.#clock = clock;
  }

  /** Something changed (a frame, a series): a sweep now if the last began long enough ago. */
  due(): void {
    if (this.#disposed || this.#timer !== undefined) return;
    // Mid-sweep: rows it already passed need another, once this one is done.
    if (this.#cursor >= 0) {
      this.#again = true;
      return;
    }
    const wait = this.#lastSweep + MIRROR_INTERVAL_MS - this.#clock();
    if (wait <= 0) this.#start();
    else
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#start();
      }, wait);
  }

  /** After a commit: rows that just mounted get their text now, before anyone reads them. */
  committed(): void {
    this.#cells.write(0, Infinity, true);
  }

  dispose(): void {
    this.#disposed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    cancelPaint(this.#step);
  }

  #start(): void {
    if (this.#disposed) return;
    this.#lastSweep = this.#clock();
    this.#cursor = 0;
    this.#sweeps += 1;
    requestPaint(this.#step);
  }

  readonly #step = (): void => {
    if (this.#disposed || this.#cursor < 0) return;
    const total = this.#cells.rowCount;
    const rows = Math.max(MIRROR_MIN_ROWS_PER_FRAME, Math.ceil(total / MIRROR_SWEEP_FRAMES));
    this.#cells.write(this.#cursor, rows, false, this.#sweeps % MIRROR_OFF_SCREEN_EVERY === 0);
    this.#cursor += rows;
    if (this.#cursor < total) requestPaint(this.#step);
    else {
      this.#cursor = -1;
      if (this.#again) {
        this.#again = false;
        this.due();
      }
    }
  };
}
