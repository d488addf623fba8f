/**
 * Diagnostics: what a user (or whoever reads their bug report) needs to see why the monitor behaves
 * as it does. Main's event log, the subscription picture per symbol (what we asked for, what the
 * server confirmed, what actually arrives), both halves of the latency path, a one-click export of
 * all of it, and, on the built-in simulator, buttons that inject faults.
 *
 * Everything here is cheap to keep open: the log renders at most LOG_SHOWN lines, the
 * subscriptions table at most SUBSCRIPTION_ROWS rows and re-reads the quote board once a second,
 * and the renderer's own latency histogram is sampled at most once a second however fast frames
 * arrive.
 */
import {
  memo,
  useCallback,
  useDeferredValue,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import type { FormEvent, ReactNode } from 'react';
import type {
  DiagnosticsBundle,
  LogEntry,
  LogLevel,
  RefusedView,
  SimulatorControl,
  SubscriptionsView,
} from '../../shared/api.ts';
import { normalizeSymbol } from '../../shared/api.ts';
import { ALPACA_ERRORS, CHANNELS, type Channel } from '../../shared/market.ts';
import type { HistogramSummary } from '../../shared/metrics.ts';
import { useNow } from '../hooks.ts';
import { freshnessOf, type Freshness, type QuoteBoard } from '../model/board.ts';
import { MISSING, formatAge, formatClock, formatCount, formatLatency } from '../model/format.ts';
import type { LatencyHistogram } from '../model/latency.ts';
import { usePacedQuotesVersion } from '../quote-pace.ts';
import { useMonitor, type ApiMode } from '../store.ts';
import { LatencyChart, type LatencyBar } from './latency-chart.tsx';
import { RelayDiagnostics } from './diagnostics-relay.tsx';
import { Panel } from './panel.tsx';
import { OutcomeLine, type Outcome } from './settings-fields.tsx';
import './diagnostics.css';

export function DiagnosticsPanel(): ReactNode {
  const simulator = useMonitor((s) => s.settings?.source.kind === 'simulator');
  return (
    <Panel id="diagnostics" title="Diagnostics" className="diagnostics-panel">
      <EventLog />
      <Subscriptions />
      <Latency />
      <RelayDiagnostics />
      <Export />
      {simulator ? <SimulatorFaults /> : null}
    </Panel>
  );
}

// ================================================================================== event log

/** Lines rendered at most: the store keeps up to 2000, and each line is a few elements. */
export const LOG_SHOWN = 500;

export const LEVEL_FILTERS = ['all', 'debug', 'info', 'warn', 'error'] as const;
export type LevelFilter = (typeof LEVEL_FILTERS)[number];

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

/** Fields shown on a line (all of them are searched). */
const FIELDS_SHOWN = 4;

function fieldText(value: string | number | boolean | null): string {
  const text = String(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/**
 * The entries at or above `min` whose message, module, level or any field (as `key=value`)
 * contains `text`, ignoring case. Oldest first, like the store.
 */
export function filterLog(
  log: readonly LogEntry[],
  text: string,
  min: LevelFilter,
): readonly LogEntry[] {
  const query = text.trim().toLowerCase();
  const floor = min === 'all' ? 0 : LEVEL_RANK[min];
  if (query === '' && floor === 0) return log;
  return log.filter((e) => {
    if (LEVEL_RANK[e.level] < floor) return false;
    if (query === '') return true;
    if (e.msg.toLowerCase().includes(query)) return true;
    if (e.level.includes(query)) return true;
    if (e.module?.toLowerCase().includes(query) === true) return true;
    if (e.err?.message.toLowerCase().includes(query) === true) return true;
    for (const [key, value] of Object.entries(e.fields))
      if (`${key}=${String(value)}`.toLowerCase().includes(query)) return true;
    return false;
  });
}

function EventLog(): ReactNode {
  const log = useMonitor((s) => s.log);
  const [text, setText] = useState('');
  const [level, setLevel] = useState<LevelFilter>('all');
  // Typing stays responsive while 2000 entries are filtered behind it.
  const query = useDeferredValue(text);
  const matching = useMemo(() => filterLog(log, query, level), [log, query, level]);
  const shown = useMemo(
    () => (matching.length > LOG_SHOWN ? matching.slice(matching.length - LOG_SHOWN) : matching),
    [matching],
  );

  // Newest at the bottom, like a terminal: follow new entries while the user is at the bottom,
  // and leave the scroll position alone while they read further up.
  const scroller = useRef<HTMLDivElement>(null);
  const following = useRef(true);
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el !== null && following.current) el.scrollTop = el.scrollHeight;
  }, [shown]);

  const filtered = matching.length !== log.length;
  return (
    <section className="diag-section diag-log-section">
      <h3>Event log</h3>
      <div className="diag-controls">
        <label>
          Filter log
          <input
            type="search"
            className="diag-text"
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
            placeholder="message, module, key=value"
          />
        </label>
        <label>
          Minimum level
          <select value={level} onChange={(e) => setLevel(e.currentTarget.value as LevelFilter)}>
            {LEVEL_FILTERS.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <span className="diag-count num">
          Showing {formatCount(shown.length)} of {formatCount(log.length)}
          {filtered ? ` (${formatCount(matching.length)} match)` : ''}
          {shown.length < matching.length ? `, newest ${formatCount(LOG_SHOWN)}` : ''}
        </span>
      </div>
      <div
        ref={scroller}
        className="diag-log"
        role="log"
        aria-label="Event log"
        // A log is a polite live region by default: every entry (and every re-filter, up to 500
        // lines) would be read out. The count line above says how many there are.
        aria-live="off"
        // Focusable, so the list scrolls from the keyboard.
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          following.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {shown.length === 0 ? (
          <p className="empty">
            {log.length === 0 ? 'No log entries yet.' : 'No entries match the filter.'}
          </p>
        ) : (
          <ol>
            {shown.map((e) => (
              <LogLine key={e.seq} entry={e} />
            ))}
          </ol>
        )}
      </div>
    </section>
  );
}

/** One entry; memoized, so a new entry renders one line, not all 500. */
const LogLine = memo(function LogLine({ entry }: { readonly entry: LogEntry }): ReactNode {
  const fields = Object.entries(entry.fields);
  return (
    <li className={`log-line log-${entry.level}`}>
      <time
        className="log-time num"
        dateTime={Number.isFinite(entry.at) ? new Date(entry.at).toISOString() : undefined}
      >
        {formatClock(entry.at, true)}
      </time>{' '}
      <span className={`log-level lvl-${entry.level}`}>{entry.level}</span>{' '}
      {entry.module !== undefined ? <span className="log-module">{entry.module}</span> : null}{' '}
      <span className="log-msg">{entry.msg}</span>
      {fields.slice(0, FIELDS_SHOWN).map(([key, value]) => (
        <span key={key} className="log-field">
          {' '}
          {key}={fieldText(value)}
        </span>
      ))}
      {fields.length > FIELDS_SHOWN ? (
        <span className="log-field"> +{fields.length - FIELDS_SHOWN}</span>
      ) : null}
      {entry.err !== undefined ? (
        <details className="log-err">
          <summary>{entry.err.message}</summary>
          <pre>{entry.err.stack ?? 'No stack trace was recorded.'}</pre>
        </details>
      ) : null}
    </li>
  );
});

// ================================================================================== subscriptions

/** Rows rendered at most (mismatches first); up to 20,000 symbols may be subscribed. */
export const SUBSCRIPTION_ROWS = 300;

export interface SubscriptionRow {
  readonly symbol: string;
  readonly desired: readonly Channel[];
  readonly confirmed: readonly Channel[];
  readonly refused: readonly RefusedView[];
}

/** One row per symbol named anywhere in the view, sorted by symbol; channels in CHANNELS order. */
export function subscriptionRows(view: SubscriptionsView): SubscriptionRow[] {
  const bySymbol = new Map<
    string,
    { desired: Channel[]; confirmed: Channel[]; refused: RefusedView[] }
  >();
  const rowOf = (symbol: string) => {
    let row = bySymbol.get(symbol);
    if (row === undefined) {
      row = { desired: [], confirmed: [], refused: [] };
      bySymbol.set(symbol, row);
    }
    return row;
  };
  for (const channel of CHANNELS) {
    for (const symbol of view.desired[channel] ?? []) rowOf(symbol).desired.push(channel);
    for (const symbol of view.confirmed[channel] ?? []) rowOf(symbol).confirmed.push(channel);
  }
  for (const r of view.refused) rowOf(r.symbol).refused.push(r);
  return [...bySymbol.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([symbol, row]) => ({ symbol, ...row }));
}

export interface SubscriptionCheck {
  /** Desired, neither confirmed nor refused (yet). */
  readonly unconfirmed: readonly Channel[];
  /** Confirmed by the server but no longer desired. */
  readonly unwanted: readonly Channel[];
  readonly receiving: Freshness;
  /** Confirmed, yet nothing is arriving (waiting or stale). */
  readonly silent: boolean;
  readonly mismatch: boolean;
}

export function checkSubscription(row: SubscriptionRow, receiving: Freshness): SubscriptionCheck {
  const refusedChannels = new Set(row.refused.map((r) => r.channel));
  const unconfirmed = row.desired.filter(
    (c) => !row.confirmed.includes(c) && !refusedChannels.has(c),
  );
  const unwanted = row.confirmed.filter((c) => !row.desired.includes(c));
  const silent = row.confirmed.length > 0 && receiving !== 'fresh';
  return {
    unconfirmed,
    unwanted,
    receiving,
    silent,
    mismatch: row.refused.length > 0 || unconfirmed.length > 0 || unwanted.length > 0 || silent,
  };
}

function freshnessFor(symbol: string, board: QuoteBoard, now: number): Freshness {
  if (symbol !== '*') return freshnessOf(board.get(symbol)?.receivedAt ?? NaN, now);
  // A star subscription receives when any symbol does.
  let best: Freshness = 'waiting';
  for (const row of board.rows()) {
    const f = freshnessOf(row.receivedAt, now);
    if (f === 'fresh') return f;
    if (f === 'stale') best = f;
  }
  return best;
}

function Subscriptions(): ReactNode {
  const view = useMonitor((s) => s.subscriptions);
  const board = useMonitor((s) => s.board);
  // The board changes every frame; this table needs it once a second.
  const now = useNow(1000);
  const [text, setText] = useState('');
  const query = useDeferredValue(text.trim().toUpperCase());
  const rows = useMemo(() => (view === undefined ? [] : subscriptionRows(view)), [view]);

  const checked = rows.map((row) => ({
    row,
    check: checkSubscription(row, freshnessFor(row.symbol, board, now)),
  }));
  let desired = 0;
  let confirmed = 0;
  let receiving = 0;
  let refused = 0;
  let mismatches = 0;
  for (const { row, check } of checked) {
    if (row.desired.length > 0) desired += 1;
    if (row.confirmed.length > 0) confirmed += 1;
    if (check.receiving === 'fresh') receiving += 1;
    if (row.refused.length > 0) refused += 1;
    if (check.mismatch) mismatches += 1;
  }
  const matching = query === '' ? checked : checked.filter(({ row }) => row.symbol.includes(query));
  const visible = [
    ...matching.filter((c) => c.check.mismatch),
    ...matching.filter((c) => !c.check.mismatch),
  ].slice(0, SUBSCRIPTION_ROWS);
  const more = matching.length - visible.length;

  return (
    <section className="diag-section">
      <h3>Subscriptions</h3>
      {view === undefined ? (
        <p className="empty">No subscription state yet.</p>
      ) : (
        <>
          <div className="diag-controls">
            <p className="diag-summary num">
              {formatCount(rows.length)} symbols: {formatCount(desired)} desired,{' '}
              {formatCount(confirmed)} confirmed, {formatCount(receiving)} receiving,{' '}
              <span className={refused > 0 ? 'diag-bad' : undefined}>
                {formatCount(refused)} refused
              </span>
              ,{' '}
              <span className={mismatches > 0 ? 'diag-warn' : undefined}>
                {formatCount(mismatches)} {mismatches === 1 ? 'mismatch' : 'mismatches'}
              </span>
            </p>
            <label>
              Filter symbols
              <input type="search" value={text} onChange={(e) => setText(e.currentTarget.value)} />
            </label>
          </div>
          {rows.length === 0 ? (
            <p className="empty">Nothing is subscribed.</p>
          ) : (
            <div className="diag-scroll">
              <table aria-label="Subscriptions" className="diag-table diag-subs">
                <thead>
                  <tr>
                    <th scope="col">Symbol</th>
                    <th scope="col">Desired</th>
                    <th scope="col">Confirmed</th>
                    <th scope="col">Receiving</th>
                    <th scope="col">Refused</th>
                  </tr>
                </thead>
                <tbody>
                  {visible.map(({ row, check }) => (
                    <SubscriptionLine
                      key={row.symbol}
                      row={row}
                      check={check}
                      receivedAt={board.get(row.symbol)?.receivedAt ?? NaN}
                      now={now}
                    />
                  ))}
                </tbody>
              </table>
              {matching.length === 0 ? (
                <p className="empty">No symbol matches the filter.</p>
              ) : null}
              {more > 0 ? (
                <p className="diag-more">
                  and {formatCount(more)} more{query === '' ? ' (filter to find a symbol)' : ''}
                </p>
              ) : null}
            </div>
          )}
        </>
      )}
    </section>
  );
}

function SubscriptionLine({
  row,
  check,
  receivedAt,
  now,
}: {
  readonly row: SubscriptionRow;
  readonly check: SubscriptionCheck;
  readonly receivedAt: number;
  readonly now: number;
}): ReactNode {
  return (
    <tr className={check.mismatch ? 'sub-mismatch' : undefined}>
      <th scope="row">
        {check.mismatch ? (
          <span className="sub-mark" aria-hidden="true">
            ⚠{' '}
          </span>
        ) : null}
        {row.symbol}
      </th>
      <td>{row.desired.length > 0 ? row.desired.join(' ') : MISSING}</td>
      <td>
        {row.confirmed.length > 0
          ? row.confirmed.join(' ')
          : check.unconfirmed.length > 0
            ? null
            : MISSING}
        {check.unconfirmed.length > 0 ? (
          <span className="diag-warn"> not confirmed: {check.unconfirmed.join(' ')}</span>
        ) : null}
        {check.unwanted.length > 0 ? (
          <span className="diag-warn"> not desired: {check.unwanted.join(' ')}</span>
        ) : null}
      </td>
      <td
        className={
          check.silent ? (check.receiving === 'stale' ? 'diag-warn' : 'diag-bad') : undefined
        }
      >
        {check.receiving === 'waiting' || !Number.isFinite(receivedAt)
          ? check.receiving
          : `${check.receiving} (${formatAge(receivedAt, now)} ago)`}
      </td>
      <td className={row.refused.length > 0 ? 'diag-bad sub-refused' : undefined}>
        {row.refused.length === 0
          ? MISSING
          : row.refused.map((r) => (
              <span key={r.channel} className="sub-refusal">
                {r.channel}: {r.code} {r.meaning ?? ALPACA_ERRORS[r.code]?.msg ?? 'refused'}
              </span>
            ))}
      </td>
    </tr>
  );
}

// ================================================================================== latency

/** How often at most the renderer's own histogram is re-read. */
const SCREEN_SAMPLE_MS = 1000;
const CHART_BARS = 24;

interface ScreenSample {
  readonly summary: HistogramSummary;
  readonly bars: readonly LatencyBar[];
}

function sample(histogram: LatencyHistogram): ScreenSample {
  return { summary: histogram.summary(), bars: histogram.bars(CHART_BARS) };
}

/**
 * The main-to-screen histogram, re-read when frames arrive but at most once per SCREEN_SAMPLE_MS:
 * it is mutated outside React on every frame, and this section need not render at frame rate.
 * Also returns a reset: the histogram counts since the window opened, and to see the effect of a
 * change (a setting, a busier feed, a second tab) alone, the user starts it afresh.
 */
function useScreenLatency(): readonly [ScreenSample, () => void] {
  const histogram = useMonitor((s) => s.screenLatency);
  // Trailing: the frame that triggered this records its latency after the next paint.
  const version = usePacedQuotesVersion(SCREEN_SAMPLE_MS);
  const [resets, setResets] = useState(0);
  // version and resets are why it re-samples: the histogram is mutated in place.
  const value = useMemo(() => sample(histogram), [histogram, version, resets]);
  const reset = useCallback(() => {
    histogram.reset();
    setResets((n) => n + 1);
  }, [histogram]);
  return [value, reset];
}

const SKEW_NOTE =
  'Exchange timestamps come from the exchange’s clock, so this includes any clock skew between ' +
  'the exchange and this machine. Negative values (exchange clock ahead) are counted as 0.';

function Latency(): ReactNode {
  const latency = useMonitor((s) => s.metrics?.latency);
  const [screen, resetScreen] = useScreenLatency();
  const exchange = latency?.exchangeToReceipt;
  return (
    <section className="diag-section">
      <h3>Latency</h3>
      <div className="diag-latency">
        <div className="diag-hist">
          <h4 title={SKEW_NOTE}>Exchange → main</h4>
          <HistogramTable label="Exchange to main latency" summary={exchange} />
          <p className="diag-hint" title={SKEW_NOTE}>
            Includes clock skew between the exchange and this machine
            {exchange !== undefined && exchange.negatives > 0
              ? ` (${formatCount(exchange.negatives)} negative, counted as 0)`
              : ''}
            .
          </p>
        </div>
        <div className="diag-hist">
          <h4 title="From main receiving a message to the end of its dispatch to handlers and views">
            Dispatch in main
          </h4>
          <HistogramTable label="Main dispatch latency" summary={latency?.receiptToDispatch} />
        </div>
        <div className="diag-hist">
          <h4 title="From main receiving an update to this window painting it">Main → screen</h4>
          <HistogramTable label="Main to screen latency" summary={screen.summary} />
          <LatencyChart bars={screen.bars} label="Main to screen latency distribution" />
          <button
            type="button"
            className="quiet"
            aria-label="Reset main to screen latency"
            title="Count afresh from now (the export then carries only what follows)"
            onClick={resetScreen}
          >
            Reset
          </button>
        </div>
      </div>
    </section>
  );
}

function HistogramTable({
  label,
  summary,
}: {
  readonly label: string;
  readonly summary: HistogramSummary | undefined;
}): ReactNode {
  const rows: ReadonlyArray<readonly [string, string]> = [
    ['p50', formatLatency(summary?.p50)],
    ['p90', formatLatency(summary?.p90)],
    ['p99', formatLatency(summary?.p99)],
    ['p99.9', formatLatency(summary?.p999)],
    ['max', formatLatency(summary?.max)],
    ['samples', formatCount(summary?.count)],
  ];
  return (
    <table aria-label={label} className="diag-table diag-hist-table">
      <tbody>
        {rows.map(([name, value]) => (
          <tr key={name}>
            <th scope="row">{name}</th>
            <td className="num">{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// ================================================================================== export

/** What the view adds to main's bundle: the things only this window knows. */
export interface ExportView {
  readonly mode: ApiMode | null;
  readonly frames: QuoteBoard['stats'];
  readonly screenLatency: HistogramSummary;
  readonly userAgent: string;
}

/**
 * The file's text: main's bundle (secrets already redacted there) plus this view's side, pretty
 * printed. NaN (an empty histogram) becomes null, as JSON has no NaN.
 */
export function bundleJson(bundle: DiagnosticsBundle, view: ExportView): string {
  return JSON.stringify({ ...bundle, view }, null, 2);
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** `market-monitor-diagnostics-YYYYMMDD-HHMMSS.json`, in local time. */
export function exportFileName(at: Date): string {
  const day = `${at.getFullYear()}${pad2(at.getMonth() + 1)}${pad2(at.getDate())}`;
  const time = `${pad2(at.getHours())}${pad2(at.getMinutes())}${pad2(at.getSeconds())}`;
  return `market-monitor-diagnostics-${day}-${time}.json`;
}

/**
 * How long the blob URL lives after the click. Chromium resolves it at once, but browser mode may
 * run in browsers that read the blob later (after a save dialog); a leaked URL for a few seconds
 * costs nothing.
 */
export const REVOKE_AFTER_MS = 10_000;

function download(text: string, fileName: string): number {
  const blob = new Blob([text], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.hidden = true;
  document.body.append(a);
  try {
    a.click();
  } finally {
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
  }
  return blob.size;
}

function Export(): ReactNode {
  const exportBundle = useMonitor((s) => s.exportBundle);
  const mode = useMonitor((s) => s.mode);
  const board = useMonitor((s) => s.board);
  const screenLatency = useMonitor((s) => s.screenLatency);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | undefined>(undefined);

  async function run(): Promise<void> {
    setBusy(true);
    setOutcome(undefined);
    try {
      const out = await exportBundle();
      if (!out.ok) {
        setOutcome({ ok: false, text: out.message });
        return;
      }
      const text = bundleJson(out.value, {
        mode: mode ?? null,
        frames: board.stats,
        screenLatency: screenLatency.summary(),
        userAgent: navigator.userAgent,
      });
      const name = exportFileName(new Date());
      const bytes = download(text, name);
      setOutcome({
        ok: true,
        text: `Saved ${name} (${formatCount(Math.max(1, Math.ceil(bytes / 1024)))} KB)`,
      });
    } catch (err) {
      setOutcome({
        ok: false,
        text: `Export diagnostics: ${err instanceof Error ? err.message : String(err)}`,
      });
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="diag-section">
      <h3>Export</h3>
      <div className="diag-controls">
        <button type="button" onClick={() => void run()} disabled={busy}>
          Export diagnostics
        </button>
        <span className="diag-hint">
          Connection, metrics, subscriptions, handlers, settings and the log as one JSON file. Keys
          and secrets are left out.
        </span>
      </div>
      <OutcomeLine outcome={outcome} panel="diag" />
    </section>
  );
}

// ================================================================================== simulator

/** The protocol's error codes a user may want to see the monitor handle. */
export const SIMULATED_ERRORS: readonly number[] = [
  400, 401, 402, 403, 404, 405, 406, 407, 409, 410,
];

export const SYMBOL_LIMIT_MAX = 100_000;
export const RATE_MAX = 1_000_000;

/** A whole number in [min, max] from an input's text, or why not. */
export function parseWhole(
  text: string,
  what: string,
  min: number,
  max: number,
): { readonly ok: true; readonly value: number } | { readonly ok: false; readonly reason: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, reason: `${what}: enter a number.` };
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return { ok: false, reason: `${what}: not a number.` };
  if (!Number.isInteger(value)) return { ok: false, reason: `${what}: must be a whole number.` };
  if (value < min || value > max)
    return {
      ok: false,
      reason: `${what}: must be between ${formatCount(min)} and ${formatCount(max)}.`,
    };
  return { ok: true, value };
}

/** How long "Drop, server holds the session" keeps the old slot (under the 406 floor of 5 s). */
export const HOLD_SESSION_MS = 3_000;

function SimulatorFaults(): ReactNode {
  const simulatorControl = useMonitor((s) => s.simulatorControl);
  // What was set survives switching tabs: the store keeps it (main does not report faults back).
  const faults = useMonitor((s) => s.faults);
  const [status, setStatus] = useState<Outcome | undefined>(undefined);
  const [limit, setLimit] = useState(() =>
    faults.symbolLimit === null ? '' : String(faults.symbolLimit),
  );
  const [rate, setRate] = useState(() =>
    faults.perSecond === undefined ? '' : String(faults.perSecond),
  );
  const [code, setCode] = useState('405');
  const [haltSymbol, setHaltSymbol] = useState('');
  const [invalid, setInvalid] = useState<'limit' | 'rate' | 'halt' | undefined>(undefined);

  async function send(control: SimulatorControl, applied?: () => void): Promise<void> {
    setInvalid(undefined);
    setStatus({ ok: true, text: 'Sending…' });
    const out = await simulatorControl(control);
    if (out.ok) {
      applied?.();
      setStatus({ ok: true, text: `Applied: ${out.value.applied}` });
    } else {
      setStatus({ ok: false, text: out.message });
    }
  }

  function applyLimit(e: FormEvent): void {
    e.preventDefault();
    const parsed = parseWhole(limit, 'Symbol limit', 1, SYMBOL_LIMIT_MAX);
    if (!parsed.ok) {
      setInvalid('limit');
      setStatus({ ok: false, text: parsed.reason });
      return;
    }
    void send({ action: 'symbol-limit', limit: parsed.value });
  }

  function applyRate(e: FormEvent): void {
    e.preventDefault();
    // 0 is allowed (the schema's lower bound): a connection that stays up but carries no data.
    const parsed = parseWhole(rate, 'Messages per second', 0, RATE_MAX);
    if (!parsed.ok) {
      setInvalid('rate');
      setStatus({ ok: false, text: parsed.reason });
      return;
    }
    void send({ action: 'rate', perSecond: parsed.value });
  }

  /** Halts (or resumes) one symbol: the form's submit halts, the other button resumes. */
  function sendHalt(halted: boolean): void {
    const symbol = normalizeSymbol(haltSymbol);
    if (!symbol.ok) {
      setInvalid('halt');
      setStatus({ ok: false, text: `Symbol to halt: ${symbol.reason}.` });
      return;
    }
    void send({ action: 'halt', symbol: symbol.symbol, halted });
  }

  function sendError(e: FormEvent): void {
    e.preventDefault();
    void send({ action: 'error', code: Number(code) });
  }

  return (
    <section className="diag-section">
      <h3>Simulator</h3>
      <fieldset className="diag-faults">
        <legend>Simulator faults</legend>
        <p className="diag-hint">
          Break the built-in simulator on purpose to see how the monitor copes.
        </p>
        <div className="diag-fault-row">
          <button type="button" onClick={() => void send({ action: 'drop' })}>
            Drop connection
          </button>
          <button
            type="button"
            title="As Alpaca does after a network drop: the old session holds the account's one connection for a while, so the reconnect is refused with 406 and the client backs off for seconds"
            onClick={() => void send({ action: 'drop', holdSessionMs: HOLD_SESSION_MS })}
          >
            Drop, server holds the session
          </button>
          <button type="button" onClick={() => void send({ action: 'stall', on: true })}>
            Stall feed
          </button>
          <button type="button" onClick={() => void send({ action: 'stall', on: false })}>
            Resume feed
          </button>
        </div>
        {/* noValidate: the browser's own check would block the submit with a bubble instead of
            letting parseWhole say why, in the status line below. */}
        <form className="diag-fault-row" onSubmit={applyLimit} noValidate>
          <label>
            Symbol limit
            <input
              type="number"
              inputMode="numeric"
              min={1}
              max={SYMBOL_LIMIT_MAX}
              step={1}
              value={limit}
              aria-invalid={invalid === 'limit' ? true : undefined}
              onChange={(e) => setLimit(e.currentTarget.value)}
            />
          </label>
          <button type="submit">Apply symbol limit</button>
          <button
            type="button"
            onClick={() => void send({ action: 'symbol-limit', limit: null }, () => setLimit(''))}
          >
            Lift symbol limit
          </button>
        </form>
        <form className="diag-fault-row" onSubmit={applyRate} noValidate>
          <label>
            Messages per second
            <input
              type="number"
              inputMode="numeric"
              min={0}
              max={RATE_MAX}
              step={1}
              value={rate}
              aria-invalid={invalid === 'rate' ? true : undefined}
              onChange={(e) => setRate(e.currentTarget.value)}
            />
          </label>
          <button type="submit">Apply rate</button>
        </form>
        <form
          className="diag-fault-row"
          aria-label="Trading halt"
          onSubmit={(e) => {
            e.preventDefault();
            sendHalt(true);
          }}
          noValidate
        >
          <label>
            Symbol to halt
            <input
              value={haltSymbol}
              placeholder="AAPL"
              autoComplete="off"
              spellCheck={false}
              aria-invalid={invalid === 'halt' ? true : undefined}
              onChange={(e) => setHaltSymbol(e.currentTarget.value)}
            />
          </label>
          <button type="submit">Halt trading</button>
          <button type="button" onClick={() => sendHalt(false)}>
            Resume trading
          </button>
        </form>
        <form className="diag-fault-row" onSubmit={sendError}>
          <label>
            Error code
            <select value={code} onChange={(e) => setCode(e.currentTarget.value)}>
              {SIMULATED_ERRORS.map((c) => (
                <option key={c} value={String(c)}>
                  {c} {ALPACA_ERRORS[c]?.msg ?? ''}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Send error</button>
        </form>
        <p role="status" className={status?.ok === false ? 'diag-status diag-bad' : 'diag-status'}>
          {status?.text}
        </p>
      </fieldset>
    </section>
  );
}
