/**
 * The watchlist's quote table: the numbers drawn on a canvas (renderer/grid/quote-grid.ts) under a
 * virtualized, sortable DOM table whose structure React renders, whose symbol cells and buttons
 * show, and whose value cells are the accessible mirror (watchlist-cells.ts writes their text,
 * transparent over the canvas). See watchlist.tsx for the design.
 */
import {
  memo,
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useReducer,
  useRef,
  useState,
} from 'react';
import type { KeyboardEvent, ReactNode } from 'react';
import type { MouseEvent as ReactMouseEvent } from 'react';
import type { Watchlist } from '../../shared/api.ts';
import { QuoteGrid } from '../grid/quote-grid.ts';
import { useRowWindow } from '../grid/row-window.ts';
import { STALE_AFTER_MS, type Freshness } from '../model/board.ts';
import {
  ACTIONS_WIDTH,
  COLUMN_BY_ID,
  tableMinWidth,
  DEFAULT_COLUMNS,
  sortSymbols,
  visibleColumns,
  type SortColumn,
  type SortState,
} from '../model/columns.ts';
import { formatCount } from '../model/format.ts';
import { useNow } from '../hooks.ts';
import { useMonitor } from '../store.ts';
import {
  MirrorPacer,
  QuoteCells,
  VALUE_CELLS,
  shownFreshness,
  type CellSources,
  type ValueColumn,
} from './watchlist-cells.ts';
import { RowMarks } from './watchlist-marks.tsx';

export const ROW_HEIGHT = 26;

/**
 * What React renders per row: structure and marks only. The quote values are not props: the
 * canvas draws them, and the mirror pass (QuoteCells) writes their text into the row's cells at
 * a readable rate, so a frame re-renders no row.
 */
interface RowProps {
  readonly symbol: string;
  readonly selected: boolean;
  readonly refused: boolean;
  /** As of the one-second tick (a frame that changes it asks for a render: checkFreshness). */
  readonly freshness: Freshness;
  /** Listed a while (while live) and never a value: the feed may not carry it. */
  readonly noData: boolean;
  readonly sorted: boolean;
  readonly rowIndex: number;
  readonly onSelect: (symbol: string) => void;
  readonly onRemove: (symbol: string) => void;
  readonly onMove: (symbol: string, delta: number) => void;
  /** The value columns shown, in order (one array per column choice, so memo holds). */
  readonly columns: readonly ValueColumn[];
  /** The company name (row header's tooltip, and the name column). */
  readonly name: string | undefined;
  /** Polled rather than streamed: the poll's age as of the tick. */
  readonly polledAge: string | undefined;
}

/** The DOM id of a symbol's row (aria-activedescendant points at it). */
function rowId(symbol: string): string {
  return `quote-row-${symbol}`;
}

/**
 * The row buttons are for the mouse (the keyboard has Delete and Alt+arrows): a click must not
 * move focus onto them, or the table's keys would stop working until the user tabs back.
 */
function keepFocus(event: { preventDefault(): void }): void {
  event.preventDefault();
}

/** A row's mouse button: out of the tab order, keeps focus on the table, does not select the row. */
function RowButton({
  label,
  disabled = false,
  onPress,
  children,
}: {
  label: string;
  disabled?: boolean;
  onPress: () => void;
  children: ReactNode;
}): ReactNode {
  return (
    <button
      type="button"
      className="quiet icon"
      tabIndex={-1}
      onMouseDown={keepFocus}
      aria-label={label}
      disabled={disabled}
      onClick={(e) => {
        e.stopPropagation();
        onPress();
      }}
    >
      {children}
    </button>
  );
}

const QuoteTableRow = memo(function QuoteTableRow(props: RowProps): ReactNode {
  const { symbol, selected, freshness } = props;
  const classes = ['quote-row'];
  if (selected) classes.push('selected');
  if (freshness === 'stale') classes.push('stale');
  if (props.refused) classes.push('refused');
  return (
    <tr
      id={rowId(symbol)}
      className={classes.join(' ')}
      aria-selected={selected}
      aria-rowindex={props.rowIndex + 2}
      data-symbol={symbol}
      data-cols={props.columns.join(',')}
      onClick={() => props.onSelect(symbol)}
    >
      <th scope="row" className="symbol" title={props.name}>
        {symbol}
        <RowMarks symbol={symbol} />
        {props.polledAge !== undefined ? (
          <span
            className="tag polled-tag"
            title="Over the plan's stream limit: refreshed by polling, not streamed"
          >
            polled {props.polledAge}
          </span>
        ) : null}
        {freshness === 'stale' ? (
          <span className="tag stale-tag" title="No update for 15 s or more">
            stale
          </span>
        ) : null}
        {props.refused ? (
          <span className="tag refused-tag" title="Refused by the server">
            refused
          </span>
        ) : null}
        {props.noData ? (
          <span
            className="tag nodata-tag"
            title="No data since it was added: the feed may not carry this symbol"
          >
            no data
          </span>
        ) : null}
      </th>
      {props.columns.map((id) => {
        const cell = VALUE_CELLS[id];
        return (
          <td key={id} className={cell.td}>
            {cell.kind === 'react' ? props.name : null}
          </td>
        );
      })}
      <td className="actions">
        <RowButton
          label={`Move ${symbol} up`}
          disabled={props.sorted}
          onPress={() => props.onMove(symbol, -1)}
        >
          ↑
        </RowButton>
        <RowButton
          label={`Move ${symbol} down`}
          disabled={props.sorted}
          onPress={() => props.onMove(symbol, 1)}
        >
          ↓
        </RowButton>
        <RowButton label={`Remove ${symbol}`} onPress={() => props.onRemove(symbol)}>
          ×
        </RowButton>
      </td>
    </tr>
  );
});

/** A poll's age, short: "12s", "3m". */
export function formatPollAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
}

function ariaSort(
  sort: SortState | undefined,
  column: SortColumn,
): 'ascending' | 'descending' | 'none' {
  if (sort?.column !== column) return 'none';
  return sort.direction === 'asc' ? 'ascending' : 'descending';
}

/** Where the selection goes for a key, or undefined when the key is not a move. */
export function selectionAfterKey(
  key: string,
  index: number,
  count: number,
  page: number,
): number | undefined {
  if (count === 0) return undefined;
  const from = index < 0 ? -1 : index;
  switch (key) {
    case 'ArrowDown':
      return Math.min(count - 1, from + 1);
    case 'ArrowUp':
      return from < 0 ? 0 : Math.max(0, from - 1);
    case 'PageDown':
      return Math.min(count - 1, Math.max(0, from) + page);
    case 'PageUp':
      return Math.max(0, from - page);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return undefined;
  }
}

export function QuoteTable({ list }: { list: Watchlist }): ReactNode {
  const board = useMonitor((s) => s.board);
  // No subscription to quotesVersion here: frames reach the canvas and the mirror outside React.
  const sort = useMonitor((s) => s.sort);
  const toggleSort = useMonitor((s) => s.toggleSort);
  const selected = useMonitor((s) => s.selectedSymbol);
  const selectSymbol = useMonitor((s) => s.selectSymbol);
  const removeSymbol = useMonitor((s) => s.removeSymbol);
  const moveSymbol = useMonitor((s) => s.moveSymbol);
  const refusedList = useMonitor((s) => s.subscriptions?.refused);
  // A closed market (or a thin extended session on IEX): silence is expected, no stale marks.
  const quiet = useMonitor((s) => s.market?.quiet ?? false);
  // A halted symbol sends nothing until it resumes: its row wears the halt mark, not `stale`.
  const halted = useMonitor((s) => s.haltedSymbols);
  const listedAt = useMonitor((s) => s.listedAt);
  // "No data" counts only while live: without a connection every row would say it.
  const liveSince = useMonitor((s) =>
    s.connection?.state === 'live' ? s.connection.since : Infinity,
  );
  const now = useNow(1000);
  const session = useMonitor((s) => s.market?.session);
  const feed = useMonitor((s) => s.market?.feed);
  const symbolInfo = useMonitor((s) => s.symbolInfo);
  const chosen = useMonitor((s) => s.columns[list.id] ?? DEFAULT_COLUMNS);
  const shownColumns = useMemo(() => visibleColumns(chosen, session), [chosen, session]);
  const columnSpecs = useMemo(
    () => shownColumns.map((id) => COLUMN_BY_ID.get(id)).filter((c) => c !== undefined),
    [shownColumns],
  );
  const valueColumns = useMemo(
    () => shownColumns.filter((id): id is ValueColumn => id !== 'symbol'),
    [shownColumns],
  );

  const refused = useMemo(() => new Set((refusedList ?? []).map((r) => r.symbol)), [refusedList]);

  // Sorted by a live column: re-sort on the one-second tick, not on every frame.
  const liveSortTick = sort !== undefined && sort.column !== 'symbol' ? now : 0;
  const order = useMemo(
    () =>
      sortSymbols(list.symbols, sort, (symbol) => board.get(symbol), {
        session,
        regularClose: (symbol) => useMonitor.getState().series.regularClose(symbol),
        nameOf: (symbol) => symbolInfo.get(symbol)?.name,
      }),
    // liveSortTick is the point: it re-runs the sort once a second while sorted by a live column.
    [list.symbols, sort, board, liveSortTick, session, symbolInfo],
  );

  const scrollRef = useRef<HTMLDivElement>(null);
  const headRef = useRef<HTMLTableSectionElement>(null);
  const bodyRef = useRef<HTMLTableSectionElement>(null);

  // The accessible mirror: values' text into the mounted rows' cells, outside React, paced.
  const [, refresh] = useReducer((n: number) => n + 1, 0);
  /** The row indexes the last commit mounted (the virtualizer's items, overscan included). */
  const mountedRange = useRef({ first: 0, last: -1 });
  const gridRef = useRef<QuoteGrid | undefined>(undefined);
  const [cells] = useState(
    () =>
      new QuoteCells(
        () => ({
          ...cellSources(),
          onScreen: (symbol: string) => gridRef.current?.isOnScreen(symbol) ?? true,
        }),
        refresh,
      ),
  );
  const [pacer] = useState(() => new MirrorPacer(cells));
  // The canvas: made once the elements exist, painted per animation frame when something moved.
  const hostRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const trackRef = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const host = hostRef.current;
    const canvas = canvasRef.current;
    const scroller = scrollRef.current;
    const track = trackRef.current;
    if (host === null || canvas === null || scroller === null || track === null) return undefined;
    const grid = new QuoteGrid({ host, canvas, scroller, track }, cellSources, {
      rowHeight: ROW_HEIGHT,
      onShown: (focus, visible) => useMonitor.getState().setShown(focus, visible),
    });
    gridRef.current = grid;
    return () => {
      grid.dispose();
      gridRef.current = undefined;
    };
  }, []);
  useEffect(() => {
    const off = useMonitor.subscribe((state, previous) => {
      if (
        state.quotesVersion !== previous.quotesVersion ||
        state.seriesVersion !== previous.seriesVersion
      ) {
        gridRef.current?.changed();
        cells.checkFreshness();
        pacer.due();
      }
    });
    return () => {
      off();
      pacer.dispose();
    };
  }, [cells, pacer]);
  const virtualizer = useRowWindow({
    count: order.length,
    getScrollElement: () => scrollRef.current,
    rowHeight: ROW_HEIGHT,
    overscan: 8,
    initialRect: { width: 1000, height: 600 },
    // Not inside the scroll event while the rows now on screen are mounted already (8 or more
    // either side): the canvas draws from the order and the scroll offset in the next animation
    // frame, and the table's next block of rows can follow a task later. flushSync on every scroll
    // made a scrolling ArrowDown render and lay out the whole table inside its scroll event (10.7
    // ms in one traced press, 5.2 ms the median of 28; keys trace of bench e2e, 2026-12-07). A jump
    // past the mounted rows (End, a fling) renders at once, so that no frame shows the canvas's
    // rows without their symbol cells.
    urgent: (instance, sync) => {
      const range = instance.range;
      const { first, last } = mountedRange.current;
      return sync && range !== null && (range.startIndex < first || range.endIndex > last);
    },
  });

  const selectedIndex = selected === undefined ? -1 : order.indexOf(selected);

  const onSelect = useCallback((symbol: string) => selectSymbol(symbol), [selectSymbol]);
  // Where a symbol is headed while its moves are on their way: Alt+arrow pressed quickly (key
  // repeat) counts from there, not from the list as main last sent it, so no press is lost.
  const heading = useRef(new Map<string, { to: number; pending: number }>());
  const onMove = useCallback(
    (symbol: string, delta: number) => {
      const pending = heading.current.get(symbol);
      const index = pending?.to ?? list.symbols.indexOf(symbol);
      const to = index + delta;
      if (index < 0 || to < 0 || to >= list.symbols.length) return;
      heading.current.set(symbol, { to, pending: (pending?.pending ?? 0) + 1 });
      void moveSymbol(list.id, symbol, to).finally(() => {
        const now = heading.current.get(symbol);
        if (now === undefined) return;
        if (now.pending <= 1) heading.current.delete(symbol);
        else heading.current.set(symbol, { to: now.to, pending: now.pending - 1 });
      });
    },
    [list.id, list.symbols, moveSymbol],
  );

  // Removals on their way to main: Delete held down (auto-repeat) must not send one per repeat.
  const removing = useRef(new Set<string>());
  const removeOnce = useCallback(
    async (symbol: string) => {
      if (removing.current.has(symbol)) return undefined;
      removing.current.add(symbol);
      try {
        return await removeSymbol(list.id, symbol);
      } finally {
        removing.current.delete(symbol);
      }
    },
    [list.id, removeSymbol],
  );

  const onRemove = useCallback((symbol: string) => void removeOnce(symbol), [removeOnce]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.target !== event.currentTarget) return;
    if (event.altKey && (event.key === 'ArrowUp' || event.key === 'ArrowDown')) {
      event.preventDefault();
      if (selected !== undefined && sort === undefined)
        onMove(selected, event.key === 'ArrowUp' ? -1 : 1);
      return;
    }
    if ((event.key === 'Delete' || event.key === 'Backspace') && selected !== undefined) {
      event.preventDefault();
      // The neighbour in the order on screen (sorted or not) takes the selection.
      const next = order[selectedIndex + 1] ?? order[selectedIndex - 1];
      void removeOnce(selected).then((out) => {
        if (out?.ok === true) selectSymbol(next);
      });
      return;
    }
    if (event.key === 'Escape') {
      selectSymbol(undefined);
      return;
    }
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 300) / ROW_HEIGHT) - 1);
    const next = selectionAfterKey(event.key, selectedIndex, order.length, page);
    if (next === undefined) return;
    event.preventDefault();
    const symbol = order[next];
    if (symbol === undefined) return;
    selectSymbol(symbol);
    revealRow(next);
  };

  /**
   * Scrolls just enough that row `index` is wholly visible below the sticky header (the
   * virtualizer's own scrollToIndex does not know the header covers the top of the area).
   */
  const revealRow = (index: number) => {
    const area = scrollRef.current;
    if (area === null) return;
    const header = headRef.current?.offsetHeight ?? 0;
    const top = header + index * ROW_HEIGHT;
    const bottom = top + ROW_HEIGHT;
    if (top - header < area.scrollTop) area.scrollTop = top - header;
    else if (bottom > area.scrollTop + area.clientHeight)
      area.scrollTop = bottom - area.clientHeight;
  };

  const items = virtualizer.getVirtualItems();
  const first = items[0];
  const last = items[items.length - 1];
  const padTop = first?.start ?? 0;
  const padBottom = last === undefined ? 0 : virtualizer.getTotalSize() - last.end;
  const sorted = sort !== undefined;

  // Each visible row's marks as of the tick; a frame that moves one (a first quote, a stale row
  // that came back) asks for a render.
  const freshness = new Map<string, Freshness>();
  const rowElements: ReactNode[] = [];
  for (const item of items) {
    const symbol = order[item.index];
    if (symbol === undefined) continue;
    const receivedAt = board.get(symbol)?.receivedAt ?? NaN;
    // While the market sleeps (or the symbol is halted), old values are not a stalled feed.
    const silent = quiet || halted.has(symbol);
    const rowFreshness = shownFreshness(receivedAt, now, silent);
    const polledAt = board.get(symbol)?.polledAt ?? NaN;
    freshness.set(symbol, rowFreshness);
    const isRefused = refused.has(symbol);
    const since = Math.max(listedAt.get(symbol) ?? now, liveSince);
    rowElements.push(
      <QuoteTableRow
        key={symbol}
        symbol={symbol}
        selected={symbol === selected}
        refused={isRefused}
        freshness={rowFreshness}
        noData={
          !silent && rowFreshness === 'waiting' && !isRefused && now - since >= STALE_AFTER_MS
        }
        sorted={sorted}
        rowIndex={item.index}
        onSelect={onSelect}
        onRemove={onRemove}
        onMove={onMove}
        columns={valueColumns}
        name={symbolInfo.get(symbol)?.name}
        polledAge={Number.isFinite(polledAt) ? formatPollAge(now - polledAt) : undefined}
      />,
    );
  }

  // After every commit: rows that just mounted are filled now; the rest follow at the mirror's
  // pace. The canvas takes the order, selection and tick it is to draw.
  useLayoutEffect(() => {
    mountedRange.current = { first: first?.index ?? 0, last: last?.index ?? -1 };
    cells.rendered(bodyRef.current, now, freshness);
    pacer.committed();
    pacer.due();
    gridRef.current?.rendered({ order, selected, tick: now, columns: valueColumns });
  });

  // Hover is the canvas's to draw (the row under the pointer), as the selection is.
  const onPointerOver = (event: ReactMouseEvent<HTMLElement>) => {
    const target = event.target instanceof Element ? event.target : null;
    gridRef.current?.hover(
      target?.closest('tr[data-symbol]')?.getAttribute('data-symbol') ?? undefined,
    );
  };

  return (
    <div className="quote-grid" ref={hostRef} data-paint-seq="0" data-painted-selection="">
      <div
        id="watchlist-table-area"
        ref={scrollRef}
        className="table-scroll"
        tabIndex={0}
        role="group"
        aria-label={`${list.name}: ${formatCount(order.length)} symbols. Arrow keys select, Delete removes, Alt+arrows reorder.`}
        aria-activedescendant={
          selected !== undefined && selectedIndex >= 0 ? rowId(selected) : undefined
        }
        onKeyDown={onKeyDown}
        onScroll={() => gridRef.current?.scrolled()}
        onMouseOver={onPointerOver}
        onMouseLeave={() => gridRef.current?.hover(undefined)}
      >
        <div className="quote-canvas-track" ref={trackRef} aria-hidden="true">
          <canvas ref={canvasRef} className="quote-canvas" />
        </div>
        <span className="visually-hidden" aria-live="polite">
          {selected !== undefined && selectedIndex >= 0
            ? `${selected} selected, ${selectedIndex + 1} of ${order.length}`
            : ''}
        </span>
        <table
          className="quotes"
          aria-label="Watchlist"
          aria-rowcount={order.length + 1}
          style={{ minWidth: tableMinWidth(shownColumns) }}
        >
          {/* Fixed widths: a virtualized table must not re-measure its columns as rows scroll by. */}
          <colgroup>
            {columnSpecs.map((column) => (
              <col
                key={column.id}
                className={`col-${column.id}`}
                style={column.width === undefined ? undefined : { width: column.width }}
              />
            ))}
            <col className="col-actions" style={{ width: ACTIONS_WIDTH }} />
          </colgroup>
          <thead ref={headRef}>
            <tr aria-rowindex={1}>
              {columnSpecs.map((column) => (
                <th
                  key={column.id}
                  scope="col"
                  data-col={column.id}
                  className={column.numeric ? 'num' : undefined}
                  aria-sort={column.sortable ? ariaSort(sort, column.id) : undefined}
                  title={
                    column.id === 'volume' && feed === 'iex'
                      ? 'Day volume on IEX only: about 2% of the whole market'
                      : column.title
                  }
                >
                  <button
                    type="button"
                    className="sort"
                    disabled={!column.sortable}
                    onClick={() => toggleSort(column.id)}
                  >
                    {column.short === undefined ? (
                      column.label
                    ) : (
                      // Seen: the abbreviation; heard (and named): the full name.
                      <>
                        <span aria-hidden="true">{column.short}</span>
                        <span className="visually-hidden">{column.label}</span>
                      </>
                    )}
                    <span className="sort-mark" aria-hidden="true">
                      {sort?.column === column.id ? (sort.direction === 'asc' ? '▲' : '▼') : ''}
                    </span>
                  </button>
                </th>
              ))}
              <th scope="col" className="actions" data-col="actions">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody ref={bodyRef}>
            {padTop > 0 ? (
              <tr className="spacer" aria-hidden="true" style={{ height: padTop }}>
                <td colSpan={columnSpecs.length + 1} />
              </tr>
            ) : null}
            {rowElements}
            {padBottom > 0 ? (
              <tr className="spacer" aria-hidden="true" style={{ height: padBottom }}>
                <td colSpan={columnSpecs.length + 1} />
              </tr>
            ) : null}
          </tbody>
        </table>
        {order.length === 0 ? (
          <p className="empty">No symbols in this list yet: add one above.</p>
        ) : null}
      </div>
    </div>
  );
}

/** What the canvas and the mirror read of the store, fetched once per pass. */
function cellSources(): CellSources {
  const state = useMonitor.getState();
  return {
    board: state.board,
    series: state.series,
    session: state.market?.session,
    quiet: state.market?.quiet ?? false,
    halted: state.haltedSymbols,
  };
}
