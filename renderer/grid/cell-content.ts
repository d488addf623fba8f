/**
 * What one watchlist cell shows, as data: its text, its tone (direction colour), its flash and,
 * for the drawn columns, the day-range marks and the sparkline. Pure: the canvas painter draws
 * from it and the accessible mirror takes its text, so both say the same thing.
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
import type { Series } from '../model/series.ts';

export type ValueColumn = Exclude<ColumnId, 'symbol'>;

/** The colour a cell's text takes (the painter maps each to the theme). */
export type Tone = 'text' | 'muted' | 'up' | 'down' | 'warn';

/** A price's flash: lit for FLASH_MS after its latest change, paler for the second half. */
export type FlashMark = 'up' | 'down' | 'up-fading' | 'down-fading';

/** When a flash turns paler (ms after the change). */
export const FLASH_FADES_AT = FLASH_MS / 2;

export interface CellContent {
  readonly text: string;
  readonly tone: Tone;
  readonly flash: FlashMark | undefined;
  /** The day-range bar: where the last trade and the open stand, in whole percent (NaN: none). */
  readonly range: { readonly at: number; readonly open: number } | undefined;
  /** The sparkline: the minute closes and the previous close they are drawn against. */
  readonly spark: { readonly series: Series | undefined; readonly ref: number } | undefined;
}

/** What some cells need besides the row. */
export interface CellInputs {
  readonly session: string | undefined;
  /** Today's regular close (the after-hours change is measured against it). */
  readonly regularClose: (symbol: string) => number;
  readonly series: (symbol: string) => Series | undefined;
  /** Wall clock: flashes. */
  readonly now: number;
  /** The one-second tick: ages and stale marks move with it, not with every frame. */
  readonly tick: number;
  /** The row is stale (no update for a while while the market is open). */
  readonly stale: boolean;
}

function plain(text: string, tone: Tone = 'text'): CellContent {
  return { text, tone, flash: undefined, range: undefined, spark: undefined };
}

const BLANK = plain('');

function direction(abs: number): Tone {
  return abs > 0 ? 'up' : abs < 0 ? 'down' : 'text';
}

/** A price's flash as of `now`: lit, paler for the second half, or none. */
export function flashMark(
  row: QuoteRow | undefined,
  field: FlashField,
  now: number,
): FlashMark | undefined {
  const cell = row?.flash[field];
  const lit = cell === undefined ? undefined : flashOf(cell, now);
  if (cell === undefined || lit === undefined) return undefined;
  return now - cell.at >= FLASH_FADES_AT ? `${lit}-fading` : lit;
}

/** A price cell: its text, and its flash as of `now`. */
function price(row: QuoteRow | undefined, field: FlashField, now: number): CellContent {
  const text = formatPrice(row?.[field] ?? NaN);
  const flash = flashMark(row, field, now);
  if (flash === undefined) return plain(text);
  return {
    text,
    tone: flash === 'up' || flash === 'up-fading' ? 'up' : 'down',
    flash,
    range: undefined,
    spark: undefined,
  };
}

/** When a row's lit flashes next step (paler or out), or Infinity when none is lit. */
export function nextFlashStep(row: QuoteRow | undefined, now: number): number {
  if (row === undefined) return Infinity;
  let due = Infinity;
  for (const field of ['bid', 'ask', 'last'] as const) {
    const cell = row.flash[field];
    if (flashOf(cell, now) === undefined) continue;
    due = Math.min(due, cell.at + (now - cell.at >= FLASH_FADES_AT ? FLASH_MS : FLASH_FADES_AT));
  }
  return due;
}

/** What `col`'s cell of `row` shows (row undefined: no quote yet, dashes). */
export function cellContent(
  col: ValueColumn,
  row: QuoteRow | undefined,
  inputs: CellInputs,
): CellContent {
  switch (col) {
    case 'bid':
    case 'ask':
    case 'last':
      return price(row, col, inputs.now);
    case 'bidSize':
      return plain(formatSize(row?.bidSize ?? NaN), 'muted');
    case 'askSize':
      return plain(formatSize(row?.askSize ?? NaN), 'muted');
    case 'lastSize':
      return plain(formatSize(row?.lastSize ?? NaN), 'muted');
    case 'spread':
      return plain(formatPrice(row === undefined ? NaN : spreadOf(row)));
    case 'change': {
      const change = row === undefined ? { abs: NaN, pct: NaN } : changeOf(row);
      return plain(formatSigned(change.abs), direction(change.abs));
    }
    case 'changePct': {
      const change = row === undefined ? { abs: NaN, pct: NaN } : changeOf(row);
      return plain(formatPercent(change.pct), direction(change.abs));
    }
    case 'extChange': {
      const ext =
        row === undefined
          ? { abs: NaN, pct: NaN }
          : extendedChangeOf(row, inputs.session, inputs.regularClose(row.symbol));
      return plain(formatPercent(ext.pct), direction(ext.abs));
    }
    case 'open':
      return plain(formatPrice(row?.dayOpen ?? NaN));
    case 'high':
      return plain(formatPrice(row?.dayHigh ?? NaN));
    case 'low':
      return plain(formatPrice(row?.dayLow ?? NaN));
    case 'volume':
      return plain(formatSize(row?.volume ?? NaN));
    case 'age':
      return plain(formatAge(row?.receivedAt ?? NaN, inputs.tick), inputs.stale ? 'warn' : 'text');
    case 'range': {
      const range =
        row === undefined ? { low: NaN, high: NaN, at: NaN, open: NaN } : dayRangeOf(row);
      // Whole percent: the bar is narrower than 100 px, a finer step would move nothing.
      const text = Number.isFinite(range.low)
        ? `Day low ${formatPrice(range.low)}, high ${formatPrice(range.high)}`
        : '';
      return {
        text,
        tone: 'text',
        flash: undefined,
        range: { at: Math.round(range.at * 100), open: Math.round(range.open * 100) },
        spark: undefined,
      };
    }
    case 'spark':
      return {
        text: '',
        tone: 'text',
        flash: undefined,
        range: undefined,
        spark: {
          series: row === undefined ? undefined : inputs.series(row.symbol),
          ref: row?.prevClose ?? NaN,
        },
      };
    case 'name':
      return BLANK;
  }
}

/** The freshness the watchlist shows for a receipt time (quiet: no stale marks). */
export function shownFreshness(receivedAt: number, now: number, quiet: boolean): Freshness {
  if (quiet) return Number.isFinite(receivedAt) ? 'fresh' : 'waiting';
  return freshnessOf(receivedAt, now);
}
