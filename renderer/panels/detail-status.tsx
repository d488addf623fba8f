/**
 * The detail pane's trading status: whether the symbol is halted (why, since when) and its
 * limit-up / limit-down band, from the store's trading statuses (Alpaca's `statuses` and `lulds`
 * channels). Like the quote it is a list of terms and values, not a live region: a halt is
 * announced by the alerts a user sets for it, not by every pane that shows it.
 */
import type { ReactNode } from 'react';
import { formatClock, formatPrice } from '../model/format.ts';
import { useMonitor } from '../store.ts';

export function TradingStatusBlock({ symbol }: { readonly symbol: string }): ReactNode {
  const status = useMonitor((s) => s.tradingStatus.get(symbol));
  // Crypto pairs trade around the clock with no halts or bands: nothing to show.
  if (symbol.includes('/')) return null;
  const halted = status?.halted === true;
  const luld = status?.luld;
  const why =
    status === undefined
      ? ''
      : status.reasonText !== ''
        ? `${status.statusText}: ${status.reasonText}`
        : status.statusText;
  return (
    <dl className="detail-status" aria-label={`Trading status of ${symbol}`}>
      <div className={halted ? 'q-item s-halted' : 'q-item s-trading'}>
        <dt>Status</dt>
        <dd>
          {halted ? (
            <>
              <strong>Halted</strong> since {formatClock(status.since)}
              {why !== '' ? <span className="s-why"> · {why}</span> : null}
            </>
          ) : (
            <span title="No halt seen on the stream's trading status channel">not halted</span>
          )}
        </dd>
      </div>
      <div className="q-item s-luld-up">
        <dt>Limit up</dt>
        <dd>{luld !== undefined ? formatPrice(luld.limitUp) : <NoBand />}</dd>
      </div>
      <div className="q-item s-luld-down">
        <dt>Limit down</dt>
        <dd>
          {luld !== undefined ? (
            <>
              {formatPrice(luld.limitDown)}{' '}
              <span
                className="q-time"
                title={`LULD ${luld.indicatorText ?? `indicator ${luld.indicator}`}`}
              >
                {formatClock(luld.at)}
              </span>
            </>
          ) : (
            <NoBand />
          )}
        </dd>
      </div>
    </dl>
  );
}

function NoBand(): ReactNode {
  return (
    <span className="q-na" title="The feed has sent no limit-up / limit-down band yet">
      no band yet
    </span>
  );
}
