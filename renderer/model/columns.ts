/**
 * The watchlist's columns and how it sorts. Pure: the panel renders what these say.
 *
 * Sorting rules a trader expects:
 * - every column sorts: the first click ascending, the second descending, the third back to the
 *   list's own order (which is the order the user arranged, so it is never more than two clicks
 *   away);
 * - rows without a value (no quote yet) go last in both directions, so a sort never opens with
 *   a screen of dashes;
 * - ties keep the list's own order (a stable sort over the list order), so equal rows do not swap
 *   places from one frame to the next.
 */
import { changeOf, spreadOf, type QuoteRow } from './board.ts';

export const COLUMN_IDS = [
  'symbol',
  'bid',
  'bidSize',
  'ask',
  'askSize',
  'spread',
  'last',
  'lastSize',
  'change',
  'changePct',
  'volume',
  'age',
] as const;
export type ColumnId = (typeof COLUMN_IDS)[number];

export interface ColumnSpec {
  readonly id: ColumnId;
  /** The column's name: the accessible name of its header and sort button. */
  readonly label: string;
  /** What the header shows when the name is too wide for a dense column. */
  readonly short?: string;
  /** Longer description (header tooltip). */
  readonly title: string;
  readonly numeric: boolean;
}

export const COLUMNS: readonly ColumnSpec[] = [
  { id: 'symbol', label: 'Symbol', title: 'Symbol', numeric: false },
  { id: 'bid', label: 'Bid', title: 'Best bid price', numeric: true },
  {
    id: 'bidSize',
    label: 'Bid size',
    short: 'Bid sz',
    title: 'Size at the best bid',
    numeric: true,
  },
  { id: 'ask', label: 'Ask', title: 'Best ask price', numeric: true },
  {
    id: 'askSize',
    label: 'Ask size',
    short: 'Ask sz',
    title: 'Size at the best ask',
    numeric: true,
  },
  { id: 'spread', label: 'Spread', title: 'Ask minus bid', numeric: true },
  { id: 'last', label: 'Last', title: 'Last trade price', numeric: true },
  { id: 'lastSize', label: 'Last size', short: 'Last sz', title: 'Last trade size', numeric: true },
  {
    id: 'change',
    label: 'Change',
    short: 'Chg',
    title: "Last trade against the day's open",
    numeric: true,
  },
  {
    id: 'changePct',
    label: 'Change %',
    short: 'Chg %',
    title: "Change in percent of the day's open",
    numeric: true,
  },
  { id: 'volume', label: 'Volume', title: 'Day volume', numeric: true },
  { id: 'age', label: 'Age', title: 'Time since the last update', numeric: true },
];

export type SortDirection = 'asc' | 'desc';
export interface SortState {
  readonly column: ColumnId;
  readonly direction: SortDirection;
}

/** Header clicks cycle: ascending, descending, the list's own order. */
export function nextSort(current: SortState | undefined, column: ColumnId): SortState | undefined {
  if (current?.column !== column) return { column, direction: 'asc' };
  return current.direction === 'asc' ? { column, direction: 'desc' } : undefined;
}

/**
 * The sort key of a row for a column. For `age`, the receipt time (older = larger age) so that a
 * sort by age does not need the clock; NaN where there is no value.
 */
export function sortKey(row: QuoteRow | undefined, column: Exclude<ColumnId, 'symbol'>): number {
  if (row === undefined) return NaN;
  switch (column) {
    case 'bid':
      return row.bid;
    case 'bidSize':
      return row.bidSize;
    case 'ask':
      return row.ask;
    case 'askSize':
      return row.askSize;
    case 'spread':
      return spreadOf(row);
    case 'last':
      return row.last;
    case 'lastSize':
      return row.lastSize;
    case 'change':
      return changeOf(row).abs;
    case 'changePct':
      return changeOf(row).pct;
    case 'volume':
      return row.volume;
    case 'age':
      // Larger age = older receipt: negate so ascending age is newest first.
      return Number.isFinite(row.receivedAt) ? -row.receivedAt : NaN;
  }
}

/**
 * `symbols` (the list's order) sorted by `sort`, with `lookup` giving each symbol's row. Returns the
 * same array when unsorted. Stable, missing values last in both directions.
 */
export function sortSymbols(
  symbols: readonly string[],
  sort: SortState | undefined,
  lookup: (symbol: string) => QuoteRow | undefined,
): readonly string[] {
  if (sort === undefined) return symbols;
  const sign = sort.direction === 'asc' ? 1 : -1;
  const indexed = symbols.map((symbol, index) => ({ symbol, index }));
  if (sort.column === 'symbol') {
    indexed.sort((a, b) => sign * compareText(a.symbol, b.symbol) || a.index - b.index);
    return indexed.map((e) => e.symbol);
  }
  const column = sort.column;
  const keyed = indexed.map((e) => ({ ...e, key: sortKey(lookup(e.symbol), column) }));
  keyed.sort((a, b) => {
    const aMissing = Number.isNaN(a.key);
    const bMissing = Number.isNaN(b.key);
    if (aMissing || bMissing) return aMissing === bMissing ? a.index - b.index : aMissing ? 1 : -1;
    return sign * (a.key - b.key) || a.index - b.index;
  });
  return keyed.map((e) => e.symbol);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
