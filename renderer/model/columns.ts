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
import { changeOf, dayRangeOf, extendedChangeOf, spreadOf, type QuoteRow } from './board.ts';

/** What some sort keys need besides the row. */
export interface SortExtras {
  readonly session?: string | undefined;
  readonly regularClose?: (symbol: string) => number;
  readonly nameOf?: (symbol: string) => string | undefined;
}

export const COLUMN_IDS = [
  'symbol',
  'name',
  'bid',
  'bidSize',
  'ask',
  'askSize',
  'spread',
  'last',
  'lastSize',
  'change',
  'changePct',
  'extChange',
  'open',
  'high',
  'low',
  'range',
  'volume',
  'spark',
  'age',
] as const;
export type ColumnId = (typeof COLUMN_IDS)[number];

/** What a sort can be by: a column, or "top movers" (absolute change %, largest first). */
export type SortColumn = ColumnId | 'movers';
export const SORT_COLUMNS: readonly SortColumn[] = [...COLUMN_IDS, 'movers'];

export interface ColumnSpec {
  readonly id: ColumnId;
  /** The column's name: the accessible name of its header and sort button. */
  readonly label: string;
  /** What the header shows when the name is too wide for a dense column. */
  readonly short?: string;
  /** Longer description (header tooltip). */
  readonly title: string;
  readonly numeric: boolean;
  /** Whether a header click sorts by it (a sparkline has no single value to sort by). */
  readonly sortable: boolean;
  /** Fixed width in CSS pixels (a virtualized table must not re-measure); none: takes the rest. */
  readonly width?: number;
  /** Shown only in pre-market and after hours (when chosen). */
  readonly extendedOnly?: boolean;
}

export const COLUMNS: readonly ColumnSpec[] = [
  {
    id: 'symbol',
    label: 'Symbol',
    title: 'Symbol (hover for the name)',
    numeric: false,
    sortable: true,
  },
  {
    id: 'name',
    width: 140,
    label: 'Name',
    title: 'Company name from the symbol directory',
    numeric: false,
    sortable: true,
  },
  { id: 'bid', width: 78, label: 'Bid', title: 'Best bid price', numeric: true, sortable: true },
  {
    id: 'bidSize',
    width: 62,
    label: 'Bid size',
    short: 'Bid sz',
    title: 'Size at the best bid',
    numeric: true,
    sortable: true,
  },
  { id: 'ask', width: 78, label: 'Ask', title: 'Best ask price', numeric: true, sortable: true },
  {
    id: 'askSize',
    width: 62,
    label: 'Ask size',
    short: 'Ask sz',
    title: 'Size at the best ask',
    numeric: true,
    sortable: true,
  },
  {
    id: 'spread',
    width: 58,
    label: 'Spread',
    title: 'Ask minus bid',
    numeric: true,
    sortable: true,
  },
  {
    id: 'last',
    width: 78,
    label: 'Last',
    title: 'Last trade price',
    numeric: true,
    sortable: true,
  },
  {
    id: 'lastSize',
    width: 62,
    label: 'Last size',
    short: 'Last sz',
    title: 'Last trade size',
    numeric: true,
    sortable: true,
  },
  {
    id: 'change',
    width: 64,
    label: 'Change',
    short: 'Chg',
    title: 'Last trade against the previous close',
    numeric: true,
    sortable: true,
  },
  {
    id: 'changePct',
    width: 74,
    label: 'Change %',
    short: 'Chg %',
    title: 'Change in percent of the previous close',
    numeric: true,
    sortable: true,
  },
  {
    id: 'extChange',
    width: 70,
    label: 'Extended-hours change %',
    short: 'Ext %',
    title: "Pre-market: against the previous close. After hours: against today's regular close",
    numeric: true,
    sortable: true,
    extendedOnly: true,
  },
  { id: 'open', width: 72, label: 'Open', title: "The day's open", numeric: true, sortable: true },
  { id: 'high', width: 72, label: 'High', title: "The day's high", numeric: true, sortable: true },
  { id: 'low', width: 72, label: 'Low', title: "The day's low", numeric: true, sortable: true },
  {
    id: 'range',
    width: 72,
    label: 'Day range',
    short: 'Range',
    title: "Where the last trade stands between the day's low and high (tick: the open)",
    numeric: false,
    sortable: true,
  },
  { id: 'volume', width: 64, label: 'Volume', title: 'Day volume', numeric: true, sortable: true },
  {
    id: 'spark',
    width: 92,
    label: 'Today',
    title: "The session's 1-minute closes, dashed: the previous close",
    numeric: false,
    sortable: false,
  },
  {
    id: 'age',
    width: 56,
    label: 'Age',
    title: 'Time since the last update',
    numeric: true,
    sortable: true,
  },
];

export const COLUMN_BY_ID: ReadonlyMap<ColumnId, ColumnSpec> = new Map(
  COLUMNS.map((c) => [c.id, c]),
);

/**
 * The columns a list shows until the user chooses: bid first as before (what a quote screen
 * opens with), then the day's picture. Name, open, high and low are a click away.
 */
export const DEFAULT_COLUMNS: readonly ColumnId[] = [
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
  'extChange',
  'volume',
  'range',
  'spark',
  'age',
];

/**
 * A saved column choice made valid: known ids once each, the symbol first (it names the row).
 * Anything unusable reads as the default.
 */
export function normalizeColumns(saved: unknown): readonly ColumnId[] {
  if (!Array.isArray(saved)) return DEFAULT_COLUMNS;
  const seen = new Set<ColumnId>();
  for (const id of saved)
    if ((COLUMN_IDS as readonly unknown[]).includes(id)) seen.add(id as ColumnId);
  seen.delete('symbol');
  return ['symbol', ...seen];
}

/** The columns on screen now: the chosen ones, less the extended-hours one in other sessions. */
export function visibleColumns(
  chosen: readonly ColumnId[],
  session: string | undefined,
): readonly ColumnId[] {
  const extended = session === 'pre' || session === 'post';
  return extended ? chosen : chosen.filter((id) => COLUMN_BY_ID.get(id)?.extendedOnly !== true);
}

/** The symbol column's least width, and the row actions' width: with the columns, the table's. */
export const SYMBOL_MIN_WIDTH = 110;
export const ACTIONS_WIDTH = 78;

/** The least width of a table showing `columns`. */
export function tableMinWidth(columns: readonly ColumnId[]): number {
  let sum = SYMBOL_MIN_WIDTH + ACTIONS_WIDTH;
  for (const id of columns) sum += COLUMN_BY_ID.get(id)?.width ?? 0;
  return sum;
}

/** `chosen` with `id` shown (appended) or hidden. The symbol stays. */
export function toggleColumn(chosen: readonly ColumnId[], id: ColumnId): readonly ColumnId[] {
  if (id === 'symbol') return chosen;
  return chosen.includes(id) ? chosen.filter((c) => c !== id) : [...chosen, id];
}

/** `chosen` with `id` moved by `delta` places (not before the symbol). */
export function moveColumn(
  chosen: readonly ColumnId[],
  id: ColumnId,
  delta: number,
): readonly ColumnId[] {
  const at = chosen.indexOf(id);
  const to = at + delta;
  if (id === 'symbol' || at < 0 || to < 1 || to >= chosen.length) return chosen;
  const out = [...chosen];
  out.splice(at, 1);
  out.splice(to, 0, id);
  return out;
}

export type SortDirection = 'asc' | 'desc';
export interface SortState {
  readonly column: SortColumn;
  readonly direction: SortDirection;
}

/** Header clicks cycle: ascending, descending, the list's own order. */
export function nextSort(
  current: SortState | undefined,
  column: SortColumn,
): SortState | undefined {
  if (current?.column !== column) return { column, direction: 'asc' };
  return current.direction === 'asc' ? { column, direction: 'desc' } : undefined;
}

/**
 * The sort key of a row for a column. For `age`, the receipt time (older = larger age) so that a
 * sort by age does not need the clock; NaN where there is no value.
 */
export function sortKey(
  row: QuoteRow | undefined,
  column: Exclude<SortColumn, 'symbol' | 'name'>,
  extras: SortExtras = {},
): number {
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
    case 'movers':
      return Math.abs(changeOf(row).pct);
    case 'extChange':
      return extendedChangeOf(row, extras.session, extras.regularClose?.(row.symbol) ?? NaN).pct;
    case 'open':
      return row.dayOpen;
    case 'high':
      return row.dayHigh;
    case 'low':
      return row.dayLow;
    case 'range':
      return dayRangeOf(row).at;
    case 'spark':
      return NaN;
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
  extras: SortExtras = {},
): readonly string[] {
  if (sort === undefined) return symbols;
  const sign = sort.direction === 'asc' ? 1 : -1;
  const indexed = symbols.map((symbol, index) => ({ symbol, index }));
  if (sort.column === 'symbol') {
    indexed.sort((a, b) => sign * compareText(a.symbol, b.symbol) || a.index - b.index);
    return indexed.map((e) => e.symbol);
  }
  if (sort.column === 'name') {
    // Unknown names go last in both directions, like missing numbers.
    const nameOf = extras.nameOf ?? (() => undefined);
    const named = indexed.map((e) => ({ ...e, name: nameOf(e.symbol) }));
    named.sort((a, b) => {
      if (a.name === undefined || b.name === undefined)
        return a.name === b.name ? a.index - b.index : a.name === undefined ? 1 : -1;
      return sign * a.name.localeCompare(b.name) || a.index - b.index;
    });
    return named.map((e) => e.symbol);
  }
  const column = sort.column;
  const keyed = indexed.map((e) => ({ ...e, key: sortKey(lookup(e.symbol), column, extras) }));
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
