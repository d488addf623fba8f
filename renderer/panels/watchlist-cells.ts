/**
 * The watchlist's frame pass: writes quote values into the mounted rows' cells outside React.
 *
 * React renders each value cell empty and never touches its content or classes again; this pass
 * owns the text, the flash classes and the change cells' direction classes. See QuoteCells.
 */
import {
  FLASH_MS,
  changeOf,
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

/**
 * The quote cells, in column order after the symbol. React renders each as an empty <td> (a price
 * cell holds an empty <span class="cell price">, the box its flash tints) and never touches their
 * content or classes again (those className props never change): the frame pass owns the text,
 * the flash classes and the change cells' direction classes.
 */
export const VALUE_CELLS = [
  { id: 'bid', td: 'num', price: true },
  { id: 'bidSize', td: 'num size', price: false },
  { id: 'ask', td: 'num', price: true },
  { id: 'askSize', td: 'num size', price: false },
  { id: 'spread', td: 'num', price: false },
  { id: 'last', td: 'num', price: true },
  { id: 'lastSize', td: 'num size', price: false },
  { id: 'change', td: 'num', price: false },
  { id: 'changePct', td: 'num', price: false },
  { id: 'volume', td: 'num', price: false },
  { id: 'age', td: 'num age', price: false },
] as const satisfies ReadonlyArray<{
  id: Exclude<ColumnId, 'symbol'>;
  td: string;
  price: boolean;
}>;

export const PRICE_CELL = 'cell price';

/** One quote cell as the frame pass sees it: what it shows and what that was formatted from. */
interface Slot {
  readonly td: HTMLElement;
  /** Where the text and the flash class go: the price span, or the cell itself. */
  readonly box: HTMLElement;
  readonly text: Text;
  shown: string;
  /** The value last formatted (undefined: none yet, so the first pass always writes). */
  value: number | undefined;
  /** The class last written (span for prices, td for change cells), '' when React's own. */
  mark: string;
}

/** A mounted row's cells and what the pass last wrote into them. */
interface RowCells {
  readonly symbol: string;
  readonly slots: readonly Slot[];
  /** The QuoteRow last written (a new board or a re-added symbol brings a new object). */
  row: QuoteRow | undefined;
  version: number;
  /** The tick and receipt time the age cell was last written for. */
  ageNow: number;
  ageOf: number;
  /** When the next flash step of this row is due (Infinity: none lit). */
  flashUntil: number;
}

const BID = 0;
const BID_SIZE = 1;
const ASK = 2;
const ASK_SIZE = 3;
const SPREAD = 4;
const LAST = 5;
const LAST_SIZE = 6;
const CHANGE = 7;
const CHANGE_PCT = 8;
const VOLUME = 9;
const AGE = 10;
const PRICE_SLOTS = [
  [BID, 'bid'],
  [ASK, 'ask'],
  [LAST, 'last'],
] as const satisfies ReadonlyArray<readonly [number, FlashField]>;

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

/**
 * Writes quote values into the visible rows' cells, outside React: once per folded frame (a store
 * subscription), after every commit of the table (rows that just mounted are empty), on the
 * one-second tick (ages) and when a flash is due to go out.
 *
 * Per row it does nothing unless the row's version moved; per cell it formats only a value that
 * changed and touches the DOM (Text.data, className) only when the text or class did. So a frame
 * costs one pass over ~200 rows in script and, in the page, only the cells whose text changed: no
 * component renders, no element is created, no animation restarts.
 */
export class QuoteCells {
  readonly #cells = new WeakMap<HTMLTableRowElement, RowCells | typeof NOT_A_QUOTE_ROW>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #body: HTMLTableSectionElement | null = null;
  /** The freshness React rendered each visible row with. */
  #rendered: ReadonlyMap<string, Freshness> = new Map();
  #tick = 0;
  readonly #board: () => QuoteBoard;
  readonly #onFreshness: () => void;
  readonly #clock: () => number;

  /**
   * `onFreshness`: a row's freshness moved away from what React rendered (a first quote, a stale
   * row that came back): the table renders again for its marks.
   */
  constructor(
    board: () => QuoteBoard,
    onFreshness: () => void,
    clock: () => number = () => Date.now(),
  ) {
    this.#board = board;
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

  /** One pass over the mounted rows. */
  write(): void {
    const body = this.#body;
    if (body === null) return;
    const board = this.#board();
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
      if (cells === undefined) {
        cells = cellsOf(tr);
        this.#cells.set(tr, cells);
      }
      if (cells === NOT_A_QUOTE_ROW) continue;
      const row = board.get(cells.symbol);
      const moved = row !== cells.row || (row?.version ?? -1) !== cells.version;
      if (moved) {
        cells.row = row;
        cells.version = row?.version ?? -1;
        writeValues(cells.slots, row);
      }
      const receivedAt = row?.receivedAt ?? NaN;
      if (cells.ageNow !== tick || !Object.is(cells.ageOf, receivedAt)) {
        cells.ageNow = tick;
        cells.ageOf = receivedAt;
        put(cells.slots[AGE] as Slot, formatAge(receivedAt, tick));
      }
      if (moved || cells.flashUntil <= now) cells.flashUntil = writeFlashes(cells.slots, row, now);
      if (cells.flashUntil < flashDue) flashDue = cells.flashUntil;
      const shown = this.#rendered.get(cells.symbol);
      if (shown !== undefined && shown !== freshnessOf(receivedAt, tick)) freshnessMoved = true;
    }
    this.#schedule(flashDue, now);
    if (freshnessMoved) this.#onFreshness();
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

/** The slots of a quote row as React rendered it (see VALUE_CELLS), or NOT_A_QUOTE_ROW. */
function cellsOf(tr: HTMLTableRowElement): RowCells | typeof NOT_A_QUOTE_ROW {
  const symbol = tr.getAttribute('data-symbol');
  if (symbol === null || !tr.classList.contains('quote-row')) return NOT_A_QUOTE_ROW;
  const slots: Slot[] = [];
  for (let i = 0; i < VALUE_CELLS.length; i++) {
    // cells[0] is the symbol's row header.
    const td = tr.children[i + 1];
    const box = VALUE_CELLS[i]?.price === true ? td?.firstElementChild : td;
    if (!(td instanceof HTMLElement) || !(box instanceof HTMLElement)) return NOT_A_QUOTE_ROW;
    const text = document.createTextNode('');
    box.append(text);
    slots.push({ td, box, text, shown: '', value: undefined, mark: '' });
  }
  return {
    symbol,
    slots,
    row: undefined,
    version: -2,
    ageNow: NaN,
    ageOf: NaN,
    flashUntil: Infinity,
  };
}

function writeValues(slots: readonly Slot[], row: QuoteRow | undefined): void {
  const s = (i: number) => slots[i] as Slot;
  putNumber(s(BID), row?.bid ?? NaN, formatPrice);
  putNumber(s(BID_SIZE), row?.bidSize ?? NaN, formatSize);
  putNumber(s(ASK), row?.ask ?? NaN, formatPrice);
  putNumber(s(ASK_SIZE), row?.askSize ?? NaN, formatSize);
  putNumber(s(SPREAD), row === undefined ? NaN : spreadOf(row), formatPrice);
  putNumber(s(LAST), row?.last ?? NaN, formatPrice);
  putNumber(s(LAST_SIZE), row?.lastSize ?? NaN, formatSize);
  putNumber(s(VOLUME), row?.volume ?? NaN, formatSize);
  const change = row === undefined ? { abs: NaN, pct: NaN } : changeOf(row);
  putNumber(s(CHANGE), change.abs, formatSigned);
  putNumber(s(CHANGE_PCT), change.pct, formatPercent);
  const direction = change.abs > 0 ? 'num up' : change.abs < 0 ? 'num down' : 'num';
  markCell(s(CHANGE), direction);
  markCell(s(CHANGE_PCT), direction);
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
function writeFlashes(slots: readonly Slot[], row: QuoteRow | undefined, now: number): number {
  let due = Infinity;
  for (const [i, field] of PRICE_SLOTS) {
    const slot = slots[i] as Slot;
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
