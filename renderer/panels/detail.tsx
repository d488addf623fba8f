/**
 * The symbol detail pane: follows the watchlist's selection (mouse or keyboard) and shows the
 * selected symbol's trading status (halt, LULD band: detail-status.tsx), chart (detail-chart.tsx),
 * quote and Times & Sales (times-sales.tsx).
 * Closing it hides it until another row is selected; Alt+8 opens it again and focuses it.
 *
 * The pane tells main which symbol it watches (`tape:watch`) while it is open, so main keeps a tape
 * for that symbol only, and says it watches nothing when it closes.
 *
 * The quote reads two sources: the quote board (the frame's bid, ask, last and volume, the
 * freshest values) and the tape (the quote's exchanges, the day's open, high, low, VWAP and the
 * previous close, which a frame does not carry). A screen reader reads it as a list of terms and
 * values; nothing in the pane is a live region, so moving prices are not read out on their own.
 */
import { memo, useDeferredValue, useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import type { SymbolInfo } from '../../shared/api.ts';
import { changeOf } from '../model/board.ts';
import { exchangeName } from '../model/exchanges.ts';
import {
  formatClock,
  formatPercent,
  formatPrice,
  formatSigned,
  formatSize,
} from '../model/format.ts';
import { useSettled } from '../hooks.ts';
import { useMonitor } from '../store.ts';
import { useTapeFrame } from '../tape-pace.ts';
import { DetailChart } from './detail-chart.tsx';
import { TradingStatusBlock } from './detail-status.tsx';
import { TimesSales } from './times-sales.tsx';
import './detail.css';

/**
 * How long the selection rests before the pane follows it: under the ~100 ms a reader takes as
 * instant, and long enough that the pane's work is out of the moving key's frame (a chart redraw
 * and the pane's render cost ~17 ms a selection on the desk; keys trace, 2026-12-07).
 */
export const DETAIL_SETTLE_MS = 100;
/**
 * A selection that moves again this soon after its last move is in a run of presses: faster than
 * five a second, quicker than a chart can be read. The pane then waits for a pause in the run.
 */
export const DETAIL_RUN_GAP_MS = 200;
/** The longest the pane waits after the last move of a run. */
export const DETAIL_RUN_REST_MAX_MS = 300;

/**
 * How long the selection must rest before the pane follows, given the time since its previous
 * move and the gap between that move and the one before it. A move on its own: DETAIL_SETTLE_MS.
 * A move inside a run: half as long again as the run's rhythm (at least DETAIL_SETTLE_MS, at most
 * DETAIL_RUN_REST_MAX_MS), so a steady run of presses loads no chart, bars or tape for the rows
 * it passes over, only for the row where it stops. The rhythm is the shorter of the last two
 * gaps: a key held down and let go, then one press back to the row overshot, is followed at
 * DETAIL_SETTLE_MS, not kept waiting as if the correction were a run of its own.
 * Each of those loads is a REST request against the account's per-minute budget and a late frame
 * or two while the keys are moving (bench e2e, desk, 40 presses 150 ms apart, three interleaved
 * pairs of runs: 91-104 frames late during the presses with the pane following each, 47-100 with
 * it waiting; 2026-12-07).
 */
export function detailRest(sinceLastMoveMs: number, gapBeforeMs = Infinity): number {
  // A clock set back between two moves (a negative time) counts as a move on its own too.
  if (!(sinceLastMoveMs >= 0 && sinceLastMoveMs < DETAIL_RUN_GAP_MS)) return DETAIL_SETTLE_MS;
  const rhythm = gapBeforeMs >= 0 ? Math.min(sinceLastMoveMs, gapBeforeMs) : sinceLastMoveMs;
  return Math.min(DETAIL_RUN_REST_MAX_MS, Math.max(DETAIL_SETTLE_MS, rhythm * 1.5));
}

/** Directory answers by symbol: the name of a symbol does not change while the app runs. */
const infoCache = new Map<string, SymbolInfo | null>();

function useSymbolInfo(symbol: string): SymbolInfo | null | undefined {
  const [info, setInfo] = useState<SymbolInfo | null | undefined>(() => infoCache.get(symbol));
  const api = useMonitor((s) => s.api);
  useEffect(() => {
    const known = infoCache.get(symbol);
    setInfo(known);
    if (known !== undefined || api === undefined) return;
    let live = true;
    void useMonitor
      .getState()
      .fetchSymbolInfo(symbol)
      .then((out) => {
        if (!out.ok) return;
        // Not cached while the directory is still loading: asked again next time.
        if (out.value !== undefined) infoCache.set(symbol, out.value);
        if (live) setInfo(out.value ?? null);
      });
    return () => {
      live = false;
    };
  }, [symbol, api]);
  return info;
}

/** One term and its value; `title` names an exchange code on hover. */
function Item({
  term,
  children,
  className,
}: {
  readonly term: string;
  readonly children: ReactNode;
  readonly className?: string;
}): ReactNode {
  return (
    <div className={className === undefined ? 'q-item' : `q-item ${className}`}>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Exchange({ code }: { readonly code: string | undefined }): ReactNode {
  if (code === undefined || code === '') return null;
  return (
    <abbr className="q-exch" title={exchangeName(code)}>
      {code}
    </abbr>
  );
}

/** The quote block: bid/ask with sizes and exchanges, last, day range, previous close, VWAP. */
export function DetailQuote({ symbol }: { readonly symbol: string }): ReactNode {
  useTapeFrame();
  useMonitor((s) => s.board.get(symbol)?.version);
  const row = useMonitor((s) => s.board).get(symbol);
  const tape = useMonitor((s) => s.tape);
  const mine = tape.symbol === symbol;
  const q = mine ? tape.quote : undefined;
  const day = mine ? tape.day : undefined;
  const lastTrade = mine ? tape.rows[0] : undefined;

  // The tape's quote carries the exchanges, so bid and ask come from it (a few times a second);
  // the frame's fill in until the tape has one.
  const bid = q !== undefined ? q.bidPrice : row?.bid;
  const bidSize = q !== undefined ? q.bidSize : row?.bidSize;
  const ask = q !== undefined ? q.askPrice : row?.ask;
  const askSize = q !== undefined ? q.askSize : row?.askSize;
  const bidExchange = q?.bidExchange;
  const askExchange = q?.askExchange;

  const last = row !== undefined && Number.isFinite(row.last) ? row.last : lastTrade?.price;
  const lastSize = row !== undefined && Number.isFinite(row.last) ? row.lastSize : lastTrade?.size;
  const lastTime =
    row !== undefined && Number.isFinite(row.tradeTime) ? row.tradeTime : lastTrade?.time;
  const prevClose = day?.prevClose ?? undefined;
  const change =
    last !== undefined && prevClose !== undefined
      ? changeOf({ last, ref: prevClose })
      : { abs: NaN, pct: NaN };
  // The larger of the frame's and the day bar's: each may lag the other by a few trades.
  const volumes = [row?.volume, day?.volume].filter(
    (v): v is number => typeof v === 'number' && Number.isFinite(v),
  );
  const volume = volumes.length > 0 ? Math.max(...volumes) : undefined;
  const direction = change.abs > 0 ? 'up' : change.abs < 0 ? 'down' : 'flat';

  return (
    <dl className="detail-quote" aria-label={`Quote of ${symbol}`}>
      <Item term="Bid" className="q-bid">
        {formatPrice(bid)} <span className="q-size">× {formatSize(bidSize)}</span>{' '}
        <Exchange code={bidExchange} />
      </Item>
      <Item term="Ask" className="q-ask">
        {formatPrice(ask)} <span className="q-size">× {formatSize(askSize)}</span>{' '}
        <Exchange code={askExchange} />
      </Item>
      <Item term="Last" className="q-last">
        {formatPrice(last)} <span className="q-size">× {formatSize(lastSize)}</span>{' '}
        <span className="q-time">{formatClock(lastTime)}</span>
      </Item>
      <Item term="Change" className={`q-change q-${direction}`}>
        {formatSigned(change.abs)} ({formatPercent(change.pct)})
      </Item>
      <Item term="Open">{formatPrice(day?.open)}</Item>
      <Item term="High">{formatPrice(day?.high)}</Item>
      <Item term="Low">{formatPrice(day?.low)}</Item>
      <Item term="Prev close">{formatPrice(prevClose)}</Item>
      <Item term="Volume">{formatSize(volume)}</Item>
      <Item term="VWAP">
        {day?.vwap != null ? (
          formatPrice(day.vwap)
        ) : (
          <span className="q-na" title="The feed has sent no daily bar with a VWAP yet">
            not available
          </span>
        )}
      </Item>
    </dl>
  );
}

/** The pane's header line: name, exchange and whether it is tradable, from the directory. */
function SymbolLine({ symbol }: { readonly symbol: string }): ReactNode {
  const info = useSymbolInfo(symbol);
  if (info === undefined) return <p className="detail-info">…</p>;
  if (info === null)
    return <p className="detail-info">Not in the symbol directory (no name known).</p>;
  return (
    <p className="detail-info">
      <span className="detail-name">{info.name}</span>
      <span className="detail-exch">{info.exchange}</span>
      <span className={info.tradable ? 'detail-tradable' : 'detail-untradable'}>
        {info.tradable ? 'tradable' : 'not tradable'}
      </span>
    </p>
  );
}

/** The pane for the selected symbol, or nothing when none is selected or it was closed. */
export function DetailPane(): ReactNode {
  // Settled, then deferred: a key that moves the watchlist's selection paints the new row at once;
  // the pane (a chart and its bars, a snapshot, a tape, a quote: most of a selection change's
  // work) follows once the selection has rested (detailRest), in a render React may put after a
  // paint. So the pane's work never lands in the frame of the key that moved the selection, and
  // a held-down or quickly pressed key loads no chart for the rows it passes.
  const selected = useDeferredValue(
    useSettled(
      useMonitor((s) => s.selectedSymbol),
      detailRest,
    ),
  );
  const closedFor = useMonitor((s) => s.detailClosedFor);
  const close = useMonitor((s) => s.closeDetail);
  const api = useMonitor((s) => s.api);
  const symbol = selected !== undefined && selected !== closedFor ? selected : undefined;

  // Main keeps a tape only for what an open pane shows.
  useEffect(() => {
    if (api === undefined) return;
    void useMonitor.getState().watchTape(symbol);
  }, [symbol, api]);
  useEffect(
    () => () => {
      if (useMonitor.getState().tape.symbol !== undefined)
        void useMonitor.getState().watchTape(undefined);
    },
    [],
  );

  if (symbol === undefined) return null;
  return (
    <section
      id="detail"
      className="panel detail"
      aria-labelledby="detail-title"
      tabIndex={-1}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !e.defaultPrevented) {
          e.preventDefault();
          close();
        }
      }}
    >
      <header className="panel-head">
        <h2 id="detail-title">
          <span className="visually-hidden">Detail: </span>
          {symbol}
        </h2>
        <div className="panel-actions">
          <button
            type="button"
            className="quiet"
            aria-label={`Close the detail of ${symbol}`}
            title="Close (Esc)"
            onClick={close}
          >
            ×
          </button>
        </div>
      </header>
      <DetailBody symbol={symbol} />
    </section>
  );
}

/** The pane's content: memo, so the urgent render of a selection change passes it by. */
const DetailBody = memo(function DetailBody({ symbol }: { readonly symbol: string }): ReactNode {
  return (
    <div className="panel-body detail-body">
      <SymbolLine symbol={symbol} />
      <TradingStatusBlock symbol={symbol} />
      <DetailChart symbol={symbol} />
      <DetailQuote symbol={symbol} />
      <TimesSales symbol={symbol} />
    </div>
  );
});
