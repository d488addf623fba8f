/**
 * The canvas grid's geometry, pure: which rows of the list a scroll position shows, where each is
 * on the canvas, how many are wholly visible, and the columns as the DOM header laid them out
 * (the header's cells are the one source of column widths, so the canvas and the DOM agree).
 */

/** A column on the canvas, in CSS pixels from the canvas's left edge (scrolled). */
export interface GridColumn {
  /** A value column's id, or 'symbol' / 'name' / 'actions' for the DOM's (a band: tint only). */
  readonly id: string;
  readonly left: number;
  readonly width: number;
}

/** The canvas's area and the scroll position, in CSS pixels. */
export interface GridViewport {
  readonly width: number;
  readonly height: number;
  /** Where the rows start (below the sticky header). */
  readonly top: number;
  readonly scrollTop: number;
  readonly scrollLeft: number;
  readonly rowHeight: number;
}

/** The rows of a `count`-row list that meet the area below the header: [first, end). */
export function visibleRange(view: GridViewport, count: number): { first: number; end: number } {
  const body = view.height - view.top;
  if (count <= 0 || body <= 0 || view.rowHeight <= 0) return { first: 0, end: 0 };
  const first = Math.max(0, Math.floor(view.scrollTop / view.rowHeight));
  const end = Math.min(count, Math.ceil((view.scrollTop + body) / view.rowHeight));
  return { first, end: Math.max(first, end) };
}

/** Rows above and below the visible ones that count as shown: a short scroll finds them fresh. */
export const SHOWN_MARGIN_ROWS = 10;

/**
 * The symbols a grid shows (rows [first, end) and SHOWN_MARGIN_ROWS either side) and the
 * selected one wherever it is (the detail pane shows it): what the view asks main to keep fresh
 * in every frame ('frames:focus').
 */
export function shownSymbols(
  order: readonly string[],
  first: number,
  end: number,
  selected: string | undefined,
): string[] {
  const out = order.slice(Math.max(0, first - SHOWN_MARGIN_ROWS), end + SHOWN_MARGIN_ROWS);
  if (selected !== undefined && !out.includes(selected)) out.push(selected);
  return out;
}

/** Where row `index` starts on the canvas. */
export function rowTop(view: GridViewport, index: number): number {
  return view.top + index * view.rowHeight - view.scrollTop;
}

/** How many rows fit wholly in the area below the header (the bench's `data-visible-rows`). */
export function wholeRows(view: GridViewport, count: number): number {
  const { first, end } = visibleRange(view, count);
  let whole = 0;
  for (let i = first; i < end; i++) {
    const y = rowTop(view, i);
    if (y >= view.top && y + view.rowHeight <= view.height) whole++;
  }
  return whole;
}

/** A header cell as the DOM laid it out (offsetLeft and offsetWidth within the table). */
export interface HeaderCell {
  readonly id: string;
  readonly offsetLeft: number;
  readonly offsetWidth: number;
}

/** The canvas's columns from the header's cells, shifted by the horizontal scroll. */
export function columnsFromHeader(cells: readonly HeaderCell[], scrollLeft: number): GridColumn[] {
  return cells.map((c) => ({ id: c.id, left: c.offsetLeft - scrollLeft, width: c.offsetWidth }));
}
