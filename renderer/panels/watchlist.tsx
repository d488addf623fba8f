/**
 * The watchlist: a market status strip, named lists as tabs, an add box with autocomplete, import
 * and export, a column chooser (per list), and a virtualized, sortable quote table. One file per
 * part: watchlist-strip, -tabs, -actions, -add, -transfer, -columns, -refusals, -table, the
 * accessible mirror's writer in watchlist-cells.ts, and the canvas grid in renderer/grid/.
 *
 * Hot path. Under a full feed every visible row changes on every frame (1,000 symbols, 200 rows
 * on screen), and a DOM table cannot redraw that many numbers per frame (BENCHMARKS.md: ~2,000
 * text changes cost 65-70 ms of main-thread time). So the numbers are drawn on one canvas the size
 * of the table's scroll area (renderer/grid/quote-grid.ts), inside it under the table, moved with
 * the rows when the compositor scrolls them and back over the visible part at each paint: once per
 * folded frame (a store subscription to `quotesVersion` and `seriesVersion`), in the next
 * animation frame, the painter draws only the cells whose content, mark or place changed: the
 * values, the price flashes (a steady tint for FLASH_MS after the latest change, paler for the
 * second half, with a timer for when frames stop), the change cells' direction colours, stale
 * dimming, the selection and hover tints, the day-range bars and the sparklines. Columns come from
 * the DOM header's widths.
 *
 * React renders the table's structure over the canvas: which rows (virtualized in blocks of rows,
 * renderer/grid/row-window.ts, spacer rows above and below keep real table semantics), their order,
 * the selection (aria-activedescendant) and the row marks (stale, refused, no data), in the symbol
 * cells, which stay DOM, as do the headers and the row buttons. The value cells are the accessible
 * mirror: their text, transparent over the canvas, is written outside React at about 2 Hz
 * (QuoteCells, paced by MirrorPacer, a few rows per animation frame), so screen readers read it and
 * a row's values can be selected and copied.
 *
 * Sorting by a live column re-sorts at most once a second: rows that jump on every tick cannot be
 * read, and a trader scanning "top movers" wants an order that holds still long enough to read.
 *
 * Keyboard (the table's scroll area takes focus): ↑/↓ move the selection, PageUp/PageDown by a
 * screen, Home/End to the ends, Delete removes the selected symbol, Alt+↑/↓ moves it within the list
 * (in the list's own order only).
 */
import { useEffect } from 'react';
import type { ReactNode } from 'react';
import { useMonitor } from '../store.ts';
import { Panel } from './panel.tsx';
import { ListActions } from './watchlist-actions.tsx';
import { AddSymbolForm } from './watchlist-add.tsx';
import { ColumnChooser } from './watchlist-columns.tsx';
import { Refusals } from './watchlist-refusals.tsx';
import { MarketStrip } from './watchlist-strip.tsx';
import { ListTransfer } from './watchlist-transfer.tsx';
import { QuoteTable } from './watchlist-table.tsx';
import { ListTabs } from './watchlist-tabs.tsx';
import './watchlist.css';

export { describeAdd } from './watchlist-add.tsx';
export { refusalsFor } from './watchlist-refusals.tsx';
export { ROW_HEIGHT, selectionAfterKey } from './watchlist-table.tsx';

// ------------------------------------------------------------------------------ panel

export function WatchlistPanel(): ReactNode {
  const watchlists = useMonitor((s) => s.watchlists);
  const activeId = useMonitor((s) => s.activeWatchlistId);
  const sort = useMonitor((s) => s.sort);
  const setSort = useMonitor((s) => s.setSort);
  const list = watchlists.find((l) => l.id === activeId) ?? watchlists[0];

  // A selection that left the list (removed elsewhere, another window) is dropped. Read from the
  // store, not subscribed: the panel must not render again for every ArrowDown (the table does).
  useEffect(() => {
    const check = () => {
      const { selectedSymbol, selectSymbol } = useMonitor.getState();
      if (
        selectedSymbol !== undefined &&
        list !== undefined &&
        !list.symbols.includes(selectedSymbol)
      )
        selectSymbol(undefined);
    };
    check();
    return useMonitor.subscribe((state, previous) => {
      if (state.selectedSymbol !== previous.selectedSymbol) check();
    });
  }, [list]);

  // Names for the listed symbols (the row header's tooltip, the name column): asked once each.
  const loadSymbolInfo = useMonitor((s) => s.loadSymbolInfo);
  const directoryReady = useMonitor((s) => s.market?.directory.status === 'ready');
  useEffect(() => {
    if (list !== undefined && directoryReady) void loadSymbolInfo(list.symbols);
  }, [list, directoryReady, loadSymbolInfo]);

  const movers = sort?.column === 'movers';

  return (
    <Panel
      id="watchlist"
      title="Watchlist"
      className="watchlist-panel"
      actions={
        <>
          <button
            type="button"
            className="quiet"
            aria-pressed={movers}
            title="Largest moves first, up or down (absolute change % against the previous close)"
            onClick={() => setSort(movers ? undefined : { column: 'movers', direction: 'desc' })}
          >
            Top movers
          </button>
          {sort !== undefined ? (
            <button type="button" className="quiet" onClick={() => setSort(undefined)}>
              List order
            </button>
          ) : null}
        </>
      }
    >
      <MarketStrip />
      <div className="watchlist-bar">
        <ListTabs />
        <ListActions list={list} />
      </div>
      {list === undefined ? (
        <p className="empty">Loading watchlists…</p>
      ) : (
        <div
          className="watchlist-tabpanel"
          id="watchlist-tabpanel"
          role="tabpanel"
          aria-labelledby={`list-tab-${list.id}`}
        >
          <div className="watchlist-tools">
            <AddSymbolForm key={list.id} list={list} />
            <ListTransfer key={`transfer-${list.id}`} list={list} />
            <ColumnChooser list={list} />
          </div>
          <Refusals symbols={list.symbols} />
          <QuoteTable list={list} />
        </div>
      )}
    </Panel>
  );
}
