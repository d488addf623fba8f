/**
 * The marks on a watchlist row's symbol cell: "halted" while the symbol's trading is halted (the
 * reason and since when in its label), and "alert" while one of the user's rules fired for it and
 * has not re-armed. A component of its own that reads the store itself, so that the table (whose
 * numeric cells may be drawn on a canvas) only has to place it in the symbol cell.
 *
 * The symbol cell is narrow, so the marks are short ("HALT", "!"); each is an image with a label: a screen reader reads the row header as "AAPL, halted:
 * Volatility trading pause (LUDP) since 10:32:05", and a sighted user gets the same text on hover.
 */
import type { ReactNode } from 'react';
import type { AlertRuleView, TradingStatusView } from '../../shared/api.ts';
import { DEFAULT_SPREAD_RULE_ID } from '../../shared/api.ts';
import { formatClock } from '../model/format.ts';
import { useMonitor } from '../store.ts';

/** The halt mark's label: `halted: Volatility trading pause (LUDP) since 10:32:05`. */
export function haltLabel(status: TradingStatusView): string {
  const why = status.reasonText !== '' ? status.reasonText : status.statusText;
  const code = status.reasonCode !== '' ? status.reasonCode : status.statusCode;
  const reason =
    why === '' ? '' : `: ${why}${code !== '' && !why.includes(code) ? ` (${code})` : ''}`;
  return `halted${reason} since ${formatClock(status.since)}`;
}

/**
 * The rules that fired for `symbol` and wait to re-arm, by name without the `alert: ` prefix
 * (`AAPL price above 230`), the built-in wide-spread rule aside (as in the store's firedSymbols).
 */
export function firedRuleNames(rules: readonly AlertRuleView[], symbol: string): string[] {
  const names: string[] = [];
  for (const rule of rules) {
    if (rule.id === DEFAULT_SPREAD_RULE_ID || rule.state !== 'fired') continue;
    if (!rule.firedSymbols.includes(symbol)) continue;
    names.push(rule.name.replace(/^alert: /, ''));
  }
  return names;
}

export function RowMarks({ symbol }: { symbol: string }): ReactNode {
  const status = useMonitor((s) => s.tradingStatus.get(symbol));
  // A string, so that the row re-renders only when its own marks change.
  const fired = useMonitor((s) =>
    s.firedSymbols.has(symbol) ? firedRuleNames(s.alertRules, symbol).join('; ') : '',
  );
  const halted = status?.halted === true;
  if (!halted && fired === '') return null;
  // The hidden commas keep the header's name readable: "AAPL, halted: ..., alert fired: ...".
  return (
    <>
      {halted ? <span className="visually-hidden">, </span> : null}
      {halted ? (
        <span
          className="tag halt-mark"
          role="img"
          aria-label={haltLabel(status)}
          title={haltLabel(status)}
        >
          halt
        </span>
      ) : null}
      {fired !== '' ? <span className="visually-hidden">, </span> : null}
      {fired !== '' ? (
        <span
          className="tag alert-mark"
          role="img"
          aria-label={`alert fired: ${fired}`}
          title={`alert fired: ${fired} (re-arm it in the Alerts panel)`}
        >
          !
        </span>
      ) : null}
    </>
  );
}
