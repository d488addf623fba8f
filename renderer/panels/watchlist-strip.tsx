/**
 * The market status strip above the watchlist: the session (pre-market, open, after hours,
 * closed), the time to the next open or close in New York time and the user's own, the feed
 * (IEX is not the whole market), and how many symbols are polled rather than streamed. While the
 * market is closed it says so calmly: the values are the last session's, nothing is wrong.
 */
import type { ReactNode } from 'react';
import type { MarketView } from '../../shared/api.ts';
import { useNow } from '../hooks.ts';
import { useMonitor } from '../store.ts';

export const NEW_YORK = 'America/New_York';

const SESSION_LABEL: Record<MarketView['session'], string> = {
  pre: 'Pre-market',
  regular: 'Open',
  post: 'After hours',
  closed: 'Closed',
  unknown: 'Session unknown',
};

export interface MarketLine {
  readonly session: MarketView['session'];
  readonly label: string;
  /** "opens in 14h 32m (Mon 09:30 New York, 15:30 your time)"; undefined when not known. */
  readonly next: string | undefined;
  readonly feed: string;
  /** Said only when some symbols are polled. */
  readonly polled: string | undefined;
  /** The calm note while closed (or why the session is unknown). */
  readonly note: string | undefined;
}

/** A time left, coarse as a trader reads it: "45s", "12m", "3h 05m", "2d 4h". */
export function formatTimeLeft(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** A wall time in `timeZone`: "Mon 09:30". */
export function formatWallTime(at: number, timeZone: string | undefined): string {
  return new Intl.DateTimeFormat('en-US', {
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    ...(timeZone === undefined ? {} : { timeZone }),
  }).format(at);
}

/** The user's own time zone (the page's). */
export function localTimeZone(): string | undefined {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** What the strip says, from the market view at `now` (`userZone`: the user's time zone). */
export function describeMarket(
  view: MarketView,
  now: number,
  userZone: string | undefined,
): MarketLine {
  const opening = view.session !== 'regular';
  const at = opening ? view.nextOpen : view.nextClose;
  let next: string | undefined;
  if (at !== undefined && at > now && view.session !== 'unknown') {
    const ny = formatWallTime(at, NEW_YORK);
    const sameZone = userZone === NEW_YORK;
    const own = sameZone ? '' : `, ${formatWallTime(at, userZone)} your time`;
    next = `${opening ? 'opens' : 'closes'} in ${formatTimeLeft(at - now)} (${ny} New York${own})`;
  }
  const feed =
    view.feed === 'iex'
      ? 'IEX feed: about 2% of market volume'
      : view.feed === 'sip'
        ? 'SIP feed: all US exchanges'
        : `${view.feed.toUpperCase()} feed`;
  const polled =
    view.polled > 0
      ? `${view.polled.toLocaleString('en-US')} ${view.polled === 1 ? 'symbol' : 'symbols'} polled every ${Math.round(view.pollIntervalMs / 1000)}s: over your plan's stream limit`
      : undefined;
  let note: string | undefined;
  if (view.session === 'closed') note = "Prices are the last session's.";
  else if (view.session === 'unknown') note = view.detail;
  else if (view.quiet) note = 'Quiet session: few trades on this feed.';
  return { session: view.session, label: SESSION_LABEL[view.session], next, feed, polled, note };
}

export function MarketStrip(): ReactNode {
  const market = useMonitor((s) => s.market);
  // Minutes matter here, seconds only in the last minute: a 1 s tick is cheap (one small render).
  const now = useNow(1000, market !== undefined);
  if (market === undefined) return null;
  const line = describeMarket(market, now, localTimeZone());
  return (
    <div className={`market-strip session-${line.session}`} role="group" aria-label="Market status">
      {/* Announced when the session changes (the countdown beside it is not: once a second). */}
      <span className="market-session" aria-live="polite">
        {line.label}
      </span>
      {line.next !== undefined ? <span className="market-next">{line.next}</span> : null}
      {line.note !== undefined ? <span className="market-note">{line.note}</span> : null}
      <span className="market-feed">{line.feed}</span>
      {line.polled !== undefined ? <span className="market-polled">{line.polled}</span> : null}
    </div>
  );
}
