/**
 * Times & Sales: the latest trades of the watched symbol, newest on top, each coloured up or down
 * against the trade before it, with a minimum-size filter. It keeps up with the stream without
 * slowing the watchlist: main sends trades in batches (electron/market/tape.ts), the store folds
 * them into the TradeTape outside React, and this table draws at most once per animation frame
 * whatever the number of batches, over a bounded list (TAPE_ROWS).
 *
 * A screen reader gets a table with a caption; new trades are not announced (one line per trade
 * would drown every other announcement), the caption says how many are shown.
 */
import { useEffect, useId, useState } from 'react';
import type { ReactNode } from 'react';
import { exchangeName } from '../model/exchanges.ts';
import { formatClock, formatPrice, formatSize } from '../model/format.ts';
import type { TapeRow } from '../model/trade-tape.ts';
import { useMonitor } from '../store.ts';

/**
 * A number that follows the store's `tapeVersion`, but changes at most once per animation frame:
 * what a component showing the tape re-renders on.
 */
export function useTapeFrame(): number {
  const [frame, setFrame] = useState(() => useMonitor.getState().tapeVersion);
  useEffect(() => {
    let pending: number | undefined;
    const off = useMonitor.subscribe((state, previous) => {
      if (state.tapeVersion === previous.tapeVersion || pending !== undefined) return;
      pending = requestAnimationFrame(() => {
        pending = undefined;
        setFrame(useMonitor.getState().tapeVersion);
      });
    });
    return () => {
      off();
      if (pending !== undefined) cancelAnimationFrame(pending);
    };
  }, []);
  return frame;
}

const SIZE_FILTERS = [0, 100, 500, 1_000, 5_000, 10_000] as const;

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
  const filterId = useId();
  const held = tape.symbol === symbol ? tape.rows : [];
  const rows = minSize > 0 ? held.filter((r) => r.size >= minSize) : held;
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
          </caption>
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
            {rows.map((row) => (
              <tr key={row.seq} className={moveClass(row)}>
                <td>{formatClock(row.time, true)}</td>
                <td className="num">
                  {formatPrice(row.price)}
                  {row.move !== 0 ? (
                    <span className="visually-hidden"> {moveWord(row)}</span>
                  ) : null}
                </td>
                <td className="num">{formatSize(row.size)}</td>
                <td title={exchangeName(row.exchange)}>{row.exchange}</td>
                <td>{row.conditions.join(' ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
