/**
 * Times & Sales: the latest trades of the watched symbol, newest on top, each coloured up or down
 * against the trade before it, with a minimum-size filter. It keeps up with the stream without
 * slowing the watchlist: main sends trades in batches (electron/market/tape.ts), the store folds
 * them into the TradeTape outside React, and this table draws on the tape's clock (tape-pace.ts:
 * at most every TAPE_REDRAW_MS, with the chart's live candle) whatever the number of batches, over
 * a bounded list (TAPE_ROWS).
 *
 * A screen reader gets a table with a caption; new trades are not announced (one line per trade
 * would drown every other announcement), the caption says how many are shown.
 *
 * Only the newest TAPE_SHOWN_FIRST trades are in the DOM until the reader asks for the older ones
 * (scrolls to the end of the list, or the button under it; a view taller than those rows asks by
 * itself): a new symbol's tape mounts 50 rows, not 200, in the frame after a selection moved, and
 * every new trade shifts 50 rows, not 200. Rows are memoized, so a batch renders its new trades only.
 */
import { memo, useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { exchangeName } from '../model/exchanges.ts';
import { formatClock, formatPrice, formatSize } from '../model/format.ts';
import type { TapeRow } from '../model/trade-tape.ts';
import { useMonitor } from '../store.ts';
import { useTapeFrame } from '../tape-pace.ts';

const SIZE_FILTERS = [0, 100, 500, 1_000, 5_000, 10_000] as const;

/** Trades in the DOM until the reader asks for the rest of the tape. */
export const TAPE_SHOWN_FIRST = 50;
/** The older trades come when the end of the list is this close (px) to the bottom of the view. */
const NEAR_END_PX = 60;

function moveClass(row: TapeRow): string {
  return row.move > 0 ? 'tns-up' : row.move < 0 ? 'tns-down' : 'tns-flat';
}

function moveWord(row: TapeRow): string {
  return row.move > 0 ? 'up' : row.move < 0 ? 'down' : '';
}

export function TimesSales({ symbol }: { readonly symbol: string }): ReactNode {
  useTapeFrame();
  const tape = useMonitor((s) => s.tape);
  const [minSize, setMinSize] = useState(0);
  // Per symbol: another selection starts with the newest trades again.
  const [allFor, setAllFor] = useState<string | undefined>(undefined);
  const filterId = useId();
  const scrollRef = useRef<HTMLDivElement>(null);
  const held = tape.symbol === symbol ? tape.rows : [];
  const rows = minSize > 0 ? held.filter((r) => r.size >= minSize) : held;
  const all = allFor === symbol;
  const shown = all ? rows : rows.slice(0, TAPE_SHOWN_FIRST);
  const hidden = rows.length - shown.length;

  // Another symbol starts at its newest trade with its newest trades only (coming back to one
  // included): a scroll position kept from the last tape would put the view at the new one's end
  // and expand it at once. Before the paint, and before the check below subscribes.
  useLayoutEffect(() => {
    setAllFor(undefined);
    if (scrollRef.current !== null) scrollRef.current.scrollTop = 0;
  }, [symbol]);

  // The end of the list in view (scrolled there, or a view taller than the rows): the rest now.
  // Subscribed while some are held back, not again per trade (each one changes `hidden`).
  const holdingBack = hidden > 0;
  useEffect(() => {
    const view = scrollRef.current;
    if (view === null || !holdingBack) return;
    const check = () => {
      if (view.scrollTop + view.clientHeight >= view.scrollHeight - NEAR_END_PX) setAllFor(symbol);
    };
    view.addEventListener('scroll', check, { passive: true });
    // Called after layout: no forced reflow when the rows change.
    const resized = typeof ResizeObserver === 'undefined' ? undefined : new ResizeObserver(check);
    resized?.observe(view);
    return () => {
      view.removeEventListener('scroll', check);
      resized?.disconnect();
    };
  }, [symbol, holdingBack]);

  return (
    <div className="tns">
      <div className="tns-tools">
        <label htmlFor={filterId}>Min size</label>
        <select id={filterId} value={minSize} onChange={(e) => setMinSize(Number(e.target.value))}>
          {SIZE_FILTERS.map((n) => (
            <option key={n} value={n}>
              {n === 0 ? 'all' : formatSize(n)}
            </option>
          ))}
        </select>
      </div>
      <div
        ref={scrollRef}
        className="tns-scroll"
        tabIndex={0}
        aria-label={`Times and sales of ${symbol}, scrollable`}
      >
        <table className="tns-table">
          <caption>
            Times &amp; Sales of {symbol}:{' '}
            {rows.length === 0
              ? held.length === 0
                ? 'no trades yet'
                : `none of the last ${held.length} trades is ${formatSize(minSize)} shares or more`
              : minSize > 0
                ? `${rows.length} of the last ${held.length} trades, ${formatSize(minSize)} shares or more, newest first`
                : `the last ${rows.length} trades, newest first`}
            {hidden > 0 ? `; the newest ${shown.length} shown` : ''}
          </caption>
          <colgroup>
            <col className="tns-c-time" />
            <col className="tns-c-price" />
            <col className="tns-c-size" />
            <col className="tns-c-exch" />
            <col />
          </colgroup>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Price</th>
              <th scope="col">Size</th>
              <th scope="col">Exch</th>
              <th scope="col">Cond</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((row) => (
              <TapeLine key={row.seq} row={row} />
            ))}
          </tbody>
        </table>
        {hidden > 0 ? (
          <button
            type="button"
            className="quiet tns-more"
            onClick={() => {
              setAllFor(symbol);
              // The button goes with the rows it brought: the keyboard stays in the tape.
              scrollRef.current?.focus({ preventScroll: true });
            }}
          >
            Show {hidden} older {hidden === 1 ? 'trade' : 'trades'}
          </button>
        ) : null}
      </div>
    </div>
  );
}

/** One trade: a TapeRow never changes, so a batch renders only the rows it brought. */
const TapeLine = memo(function TapeLine({ row }: { readonly row: TapeRow }): ReactNode {
  return (
    <tr className={moveClass(row)}>
      <td>{formatClock(row.time, true)}</td>
      <td className="num">
        {formatPrice(row.price)}
        {row.move !== 0 ? <span className="visually-hidden"> {moveWord(row)}</span> : null}
      </td>
      <td className="num">{formatSize(row.size)}</td>
      <td title={exchangeName(row.exchange)}>{row.exchange}</td>
      <td>{row.conditions.join(' ')}</td>
    </tr>
  );
});
