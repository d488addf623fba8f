/**
 * Message counters: what the stream received (by type, per second, in bytes), what it rejected,
 * and what reached this view. The last part comes from the renderer's own quote board, which
 * changes with every frame; it is a separate small component so that a frame re-renders those
 * three numbers, not the tables and the chart (which follow the metrics events, four a second).
 */
import type { ReactNode } from 'react';
import type { MetricsView } from '../../shared/api.ts';
import { MESSAGE_KINDS } from '../../shared/metrics.ts';
import { MISSING, formatBytes, formatCount, formatRate } from '../model/format.ts';
import { BOARD_SUMMARY_MS, usePacedQuotesVersion } from '../quote-pace.ts';
import { useMonitor } from '../store.ts';
import { Panel } from './panel.tsx';
import { RateChart } from './rate-chart.tsx';
import './counters.css';

/** Always listed, even at zero: the kinds a quote monitor lives on. */
const ALWAYS_SHOWN: ReadonlySet<string> = new Set(['quote', 'trade', 'bar']);

export interface MessageRow {
  readonly kind: string;
  readonly count: number;
}

/**
 * The rows of the by-type table: quote, trade and bar always, every other kind once it has been
 * seen, in the protocol's order; a kind main counts that this build does not know comes last.
 */
export function messageRows(metrics: MetricsView): MessageRow[] {
  const byKind: Readonly<Record<string, number>> = metrics.messages.byKind;
  const rows: MessageRow[] = [];
  const known = new Set<string>(MESSAGE_KINDS);
  for (const kind of MESSAGE_KINDS) {
    const count = byKind[kind] ?? 0;
    if (count !== 0 || ALWAYS_SHOWN.has(kind)) rows.push({ kind, count });
  }
  for (const [kind, count] of Object.entries(byKind)) {
    if (!known.has(kind) && count !== 0) rows.push({ kind, count });
  }
  return rows;
}

/** Invalid input by reason, most frequent first (ties by name, so the order is stable). */
export function invalidRows(metrics: MetricsView): MessageRow[] {
  return Object.entries(metrics.invalid.byReason)
    .filter(([, count]) => count !== 0)
    .map(([kind, count]) => ({ kind, count }))
    .sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind));
}

/** Bytes per second: `1.5 KiB/s`. */
function formatByteRate(value: number): string {
  const text = formatBytes(value);
  return text === MISSING ? text : `${text}/s`;
}

function ByType({ metrics }: { readonly metrics: MetricsView }): ReactNode {
  return (
    <table className="counters-table" aria-label="Messages by type">
      <caption>Messages by type</caption>
      <thead>
        <tr>
          <th scope="col">Type</th>
          <th scope="col" className="num">
            Count
          </th>
        </tr>
      </thead>
      <tbody>
        {messageRows(metrics).map((row) => (
          <tr key={row.kind}>
            <th scope="row">{row.kind}</th>
            <td className="num">{formatCount(row.count)}</td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row">Total</th>
          <td className="num">{formatCount(metrics.messages.total)}</td>
        </tr>
      </tfoot>
    </table>
  );
}

function RatesTable({ metrics }: { readonly metrics: MetricsView }): ReactNode {
  const { messages, bytes } = metrics.rates;
  return (
    <table className="counters-table" aria-label="Rates">
      <caption>Rates, averaged over</caption>
      <thead>
        <tr>
          <td />
          <th scope="col" className="num">
            1 s
          </th>
          <th scope="col" className="num">
            10 s
          </th>
          <th scope="col" className="num">
            60 s
          </th>
        </tr>
      </thead>
      <tbody>
        <tr>
          <th scope="row">Messages/s</th>
          <td className="num">{formatRate(messages.s1)}</td>
          <td className="num">{formatRate(messages.s10)}</td>
          <td className="num">{formatRate(messages.s60)}</td>
        </tr>
        <tr>
          <th scope="row">Bytes/s</th>
          <td className="num">{formatByteRate(bytes.s1)}</td>
          <td className="num">{formatByteRate(bytes.s10)}</td>
          <td className="num">{formatByteRate(bytes.s60)}</td>
        </tr>
      </tbody>
    </table>
  );
}

function Totals({ metrics }: { readonly metrics: MetricsView }): ReactNode {
  return (
    <dl className="counters-list">
      <div>
        <dt>Bytes received</dt>
        <dd className="num">{formatBytes(metrics.bytes)}</dd>
      </div>
      <div>
        <dt>Frames decoded</dt>
        <dd className="num">{formatCount(metrics.frames)}</dd>
      </div>
      <div>
        <dt>Reconnects</dt>
        <dd className="num">
          {formatCount(metrics.reconnects)}
          <span className="counters-muted">
            {' '}
            ({formatCount(metrics.reconnectsLast10m)} in the last 10 min)
          </span>
        </dd>
      </div>
    </dl>
  );
}

function Invalid({ metrics }: { readonly metrics: MetricsView }): ReactNode {
  const rows = invalidRows(metrics);
  return (
    <div className="counters-invalid">
      <dl className="counters-list">
        <div>
          <dt>Invalid input</dt>
          <dd className={metrics.invalid.total > 0 ? 'num counters-alert' : 'num'}>
            {metrics.invalid.total > 0 ? formatCount(metrics.invalid.total) : 'none'}
          </dd>
        </div>
      </dl>
      {rows.length > 0 ? (
        <table className="counters-table" aria-label="Invalid input by reason">
          <thead>
            <tr>
              <th scope="col">Reason</th>
              <th scope="col" className="num">
                Count
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.kind}>
                <th scope="row" className="counters-reason">
                  {row.kind}
                </th>
                <td className="num">{formatCount(row.count)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

const CONFLATED_HINT =
  'Quote and trade updates that main folded into a newer one for the same symbol before a frame ' +
  'carried them here. Nothing is queued and nothing is dropped: this view asks for the next frame ' +
  'after each paint, and in between main keeps only the latest values per symbol. Rows off ' +
  'screen come in quarter-second sweeps, so their updates fold more.';

const RESYNC_HINT =
  'A frame that shows an earlier one was lost (a sequence gap, a symbol this view was never told) ' +
  'asks main for a full frame, which puts every row right again; this counts those requests.';

/** Re-renders as frames arrive (it reads the board), at most every BOARD_SUMMARY_MS. */
function Flow(): ReactNode {
  usePacedQuotesVersion(BOARD_SUMMARY_MS);
  const board = useMonitor((s) => s.board);
  const { frames, conflated, gaps, resyncs } = board.stats;
  return (
    <dl className="counters-list">
      <div>
        <dt>Frames to this view</dt>
        <dd className="num">{formatCount(frames)}</dd>
      </div>
      <div title={CONFLATED_HINT}>
        <dt>Conflated updates</dt>
        <dd className="num">
          {formatCount(conflated)}
          <span className="counters-muted"> (latest wins; nothing queued)</span>
        </dd>
      </div>
      <div>
        <dt>Sequence gaps</dt>
        <dd className={gaps > 0 ? 'num counters-alert' : 'num'}>{formatCount(gaps)}</dd>
      </div>
      <div title={RESYNC_HINT}>
        <dt>Full frames asked for</dt>
        <dd className="num">{formatCount(resyncs)}</dd>
      </div>
    </dl>
  );
}

export function CountersPanel(): ReactNode {
  const metrics = useMonitor((s) => s.metrics);
  const rateHistory = useMonitor((s) => s.rateHistory);
  return (
    <Panel id="counters" title="Message counters" className="counters-panel">
      <RateChart points={rateHistory} />
      {metrics === undefined ? (
        <p className="empty">Waiting for the app…</p>
      ) : (
        <div className="counters-grid">
          <div className="counters-group">
            <ByType metrics={metrics} />
          </div>
          <div className="counters-group">
            <RatesTable metrics={metrics} />
            <Totals metrics={metrics} />
          </div>
          <div className="counters-group">
            <Invalid metrics={metrics} />
            <Flow />
          </div>
        </div>
      )}
    </Panel>
  );
}
