/**
 * Connection health: where the state machine is and why, what it is connected to, how long the
 * session has lived, the last error with its meaning, and the overall verdict with its reasons.
 *
 * Ticking values refresh on their own between events: once a second for ages and uptime, and ten
 * times a second for the backoff countdown, which lives in its own small component so that only it
 * re-renders that often, and only while the connection waits in backoff.
 */
import type { ReactNode } from 'react';
import type {
  ConnectionView,
  HealthView,
  MetricsView,
  Settings,
  Source,
} from '../../shared/api.ts';
import type { ConnectionState } from '../../shared/connection.ts';
import type { Codec, Feed } from '../../shared/market.ts';
import { useNow } from '../hooks.ts';
import {
  MISSING,
  formatCount,
  formatCountdown,
  formatDuration,
  formatSince,
} from '../model/format.ts';
import { useMonitor } from '../store.ts';
import { Panel } from './panel.tsx';
import './health.css';

/** States in which a connection is under way, established, or about to be retried. */
const ENGAGED: ReadonlySet<ConnectionState> = new Set([
  'connecting',
  'authenticating',
  'subscribing',
  'live',
  'backoff',
]);

/** States with nothing to disconnect. */
const AT_REST: ReadonlySet<ConnectionState> = new Set(['idle', 'stopped']);

export function canConnect(state: ConnectionState): boolean {
  return !ENGAGED.has(state);
}

export function canDisconnect(state: ConnectionState): boolean {
  return !AT_REST.has(state);
}

const FEED_LABELS: Readonly<Record<Feed, string>> = {
  iex: 'IEX',
  sip: 'SIP',
  delayed_sip: 'delayed SIP',
  test: 'test',
  crypto: 'crypto',
};

const CODEC_LABELS: Readonly<Record<Codec, string>> = {
  json: 'JSON',
  msgpack: 'MessagePack',
};

/** `Built-in simulator`, `Alpaca, SIP feed`, or `Relay ws://127.0.0.1:8765, IEX feed`. */
export function sourceLabel(source: Source): string {
  if (source.kind === 'relay') return `Relay ${source.url}, ${FEED_LABELS[source.feed]} feed`;
  return source.kind === 'simulator'
    ? 'Built-in simulator'
    : `Alpaca, ${FEED_LABELS[source.feed]} feed`;
}

export function codecLabel(codec: Codec): string {
  return CODEC_LABELS[codec];
}

function sameSource(a: Source, b: Source): boolean {
  if (a.kind === 'alpaca' && b.kind === 'alpaca') return a.feed === b.feed && a.codec === b.codec;
  if (a.kind === 'relay' && b.kind === 'relay')
    return a.url === b.url && a.feed === b.feed && a.codec === b.codec;
  return a.kind === b.kind && a.codec === b.codec;
}

/**
 * The live session's uptime at `now`: the last sample plus the time since it was taken, so that it
 * ticks between metrics events. Null when no session is live.
 */
export function sessionUptime(
  metrics: MetricsView | undefined,
  live: boolean,
  now: number,
): number | null {
  const sessionMs = metrics?.uptime.sessionMs ?? null;
  if (metrics === undefined || sessionMs === null) return null;
  return live ? sessionMs + Math.max(0, now - metrics.at) : sessionMs;
}

/** Ten times a second, only while mounted (that is, only in backoff). */
function Countdown({ retryAt }: { readonly retryAt: number | undefined }): ReactNode {
  const now = useNow(100, true);
  return (
    <span role="timer" aria-label="Next attempt in" className="num">
      {formatCountdown(retryAt, now)}
    </span>
  );
}

function Row({
  label,
  children,
  wide = false,
}: {
  readonly label: string;
  readonly children: ReactNode;
  readonly wide?: boolean;
}): ReactNode {
  return (
    <div className={wide ? 'health-row health-wide' : 'health-row'}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** "connection limit exceeded (406)" → "connection limit exceeded" when the code is shown apart. */
export function withoutCode(message: string, code: number | undefined): string {
  if (code === undefined) return message;
  // "connection closed (1006): getaddrinfo ENOTFOUND ..." names it mid-sentence too.
  return message.replace(` (${code})`, '');
}

function LastError({ error }: { readonly error: ConnectionView['lastError'] }): ReactNode {
  if (error === undefined) return <span className="health-muted">none</span>;
  return (
    <>
      <span className="health-error">
        {error.code !== undefined ? <span className="num health-code">{error.code}</span> : null}
        {withoutCode(error.message, error.code)}
      </span>
      {error.meaning !== undefined ? <span className="health-meaning">{error.meaning}</span> : null}
    </>
  );
}

function HealthVerdict({
  health,
  stale,
}: {
  readonly health: HealthView | undefined;
  readonly stale: boolean;
}): ReactNode {
  return (
    <>
      {health === undefined ? (
        MISSING
      ) : (
        <span className={`health-badge health-status-${health.status}`}>{health.status}</span>
      )}
      {stale ? (
        <span
          className="health-stale"
          title="The subscribed quote and trade channels have been silent too long while live"
        >
          stale data
        </span>
      ) : null}
      {health?.note !== undefined ? <p className="health-note">{health.note}</p> : null}
      {health !== undefined && health.reasons.length > 0 ? (
        <ul className="health-reasons" aria-label="Health reasons">
          {health.reasons.map((reason) => (
            <li key={reason}>{reason}</li>
          ))}
        </ul>
      ) : null}
    </>
  );
}

function Details({
  connection,
  metrics,
  health,
  settings,
  now,
}: {
  readonly connection: ConnectionView;
  readonly metrics: MetricsView | undefined;
  readonly health: HealthView | undefined;
  readonly settings: Settings | undefined;
  readonly now: number;
}): ReactNode {
  const { state } = connection;
  const lastSeen = useMonitor((s) => s.lastError);
  const uptime = sessionUptime(metrics, state === 'live', now);
  const lastDataAgo =
    metrics?.lastDataAgoMs == null
      ? undefined
      : metrics.lastDataAgoMs + (state === 'live' ? Math.max(0, now - metrics.at) : 0);
  const pendingSource =
    settings !== undefined && !sameSource(settings.source, connection.source)
      ? settings.source
      : undefined;

  return (
    <dl className="health-list">
      <Row label="Health" wide>
        <HealthVerdict health={health} stale={connection.stale} />
      </Row>
      <Row label="State">
        <span className={`health-state health-state-${state}`}>{state}</span>
        <span className="health-muted num"> since {formatSince(connection.since, now)}</span>
      </Row>
      <Row label="Previous">{connection.previous}</Row>
      {connection.reason !== undefined ? (
        <Row label="Reason" wide>
          {connection.reason}
        </Row>
      ) : null}
      <Row label="Attempt">
        <span className="num">{formatCount(connection.attempt)}</span>
      </Row>
      <Row label="Next attempt">
        {state === 'backoff' ? <Countdown retryAt={connection.retryAt} /> : MISSING}
      </Row>
      <Row label="Source">
        {sourceLabel(connection.source)}
        {pendingSource !== undefined ? (
          <span className="health-muted">
            {' '}
            (settings: {sourceLabel(pendingSource)}, {codecLabel(pendingSource.codec)}; applies on
            the next connect)
          </span>
        ) : null}
      </Row>
      <Row label="Codec">{codecLabel(connection.source.codec)}</Row>
      <Row label="Server" wide>
        <code className="health-url" title={connection.url}>
          {connection.url}
        </code>
      </Row>
      <Row label="Last error" wide>
        {connection.lastError !== undefined ? (
          <LastError error={connection.lastError} />
        ) : lastSeen !== undefined ? (
          <>
            <LastError error={lastSeen.error} />
            <span className="health-muted num"> ({formatSince(lastSeen.at, now)}; cleared)</span>
          </>
        ) : (
          <LastError error={undefined} />
        )}
      </Row>
      <Row label="Session uptime">
        <span className="num">{uptime === null ? 'not live' : formatDuration(uptime)}</span>
      </Row>
      <Row label="Last data">
        <span className="num">
          {lastDataAgo === undefined ? 'none yet' : `${formatDuration(lastDataAgo)} ago`}
        </span>
      </Row>
      <Row label="Connects">
        <span className="num">{formatCount(metrics?.connects)}</span>
      </Row>
      <Row label="Reconnects">
        <span className="num">
          {formatCount(metrics?.reconnects)}
          {metrics !== undefined ? (
            <span className="health-muted">
              {' '}
              ({formatCount(metrics.reconnectsLast10m)} in the last 10 min)
            </span>
          ) : null}
        </span>
      </Row>
    </dl>
  );
}

export function HealthPanel(): ReactNode {
  const connection = useMonitor((s) => s.connection);
  const lost = useMonitor((s) => s.lost !== undefined);
  const metrics = useMonitor((s) => s.metrics);
  const health = useMonitor((s) => s.health);
  const settings = useMonitor((s) => s.settings);
  const connect = useMonitor((s) => s.connect);
  const disconnect = useMonitor((s) => s.disconnect);
  // Ages and uptime: once a second is plenty (the countdown ticks faster on its own).
  const now = useNow(1000, connection !== undefined);

  const state = connection?.state;
  // Failures land in the store's `problem`, which the page shows; nothing more to do here.
  const actions =
    state === undefined ? undefined : (
      <>
        <button type="button" disabled={!canConnect(state)} onClick={() => void connect()}>
          Connect
        </button>
        <button type="button" disabled={!canDisconnect(state)} onClick={() => void disconnect()}>
          Disconnect
        </button>
      </>
    );

  return (
    <Panel id="health" title="Connection health" actions={actions} className="health-panel">
      {connection === undefined ? (
        <p className="empty">
          {lost ? 'No link to the app: nothing here is current.' : 'Waiting for the app…'}
        </p>
      ) : (
        <Details
          connection={connection}
          metrics={metrics}
          health={health}
          settings={settings}
          now={now}
        />
      )}
    </Panel>
  );
}
