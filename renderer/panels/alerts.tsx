/**
 * The Alerts panel: the user's alert rules with their state (armed, fired, paused), a small form to
 * add or edit one (symbol, condition, value), and the log of what fired, newest first. Rules run
 * in main, so they keep firing with this panel (or every window) closed; the panel only shows and
 * edits them.
 *
 * Every control is a native one (form fields, buttons), so the panel is reachable by Tab and works
 * with a screen reader as it is. A firing is announced by `AlertAnnouncer`, a polite live region
 * the App keeps mounted whichever dock tab is shown.
 */
import { useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import {
  ALERT_CONDITIONS,
  alertValueProblem,
  normalizeSymbol,
  type AlertCondition,
  type AlertRuleView,
} from '../../shared/api.ts';
import { MISSING, formatClock, formatCount } from '../model/format.ts';
import { useMonitor } from '../store.ts';
import { Panel } from './panel.tsx';
import './alerts.css';

/** The condition as the form's list says it, and what its value field is called. */
export const CONDITION_TEXT: Readonly<
  Record<AlertCondition, { readonly label: string; readonly value: string }>
> = {
  'price-above': { label: 'Price crosses above', value: 'Price' },
  'price-below': { label: 'Price crosses below', value: 'Price' },
  'change-above': { label: 'Change % above', value: 'Change %' },
  'change-below': { label: 'Change % below', value: 'Change %' },
  'spread-above': { label: 'Spread wider than (% of mid)', value: 'Spread %' },
  'volume-above': { label: 'Volume over', value: 'Shares' },
  'no-trade': { label: 'No trade for (regular session)', value: 'Seconds' },
  // Events, not levels: no value field (main takes 0).
  halted: { label: 'Trading halted', value: '' },
  resumed: { label: 'Trading resumed', value: '' },
};

/** Whether a condition is an event with no value to enter (a halt, a resume). */
function takesNoValue(condition: AlertCondition): boolean {
  return CONDITION_TEXT[condition].value === '';
}

const STATE_TEXT: Readonly<Record<AlertRuleView['state'], string>> = {
  armed: 'Armed',
  fired: 'Fired',
  paused: 'Paused',
};

interface Draft {
  readonly id: string | undefined;
  readonly symbol: string;
  readonly condition: AlertCondition;
  readonly value: string;
  readonly notify: boolean;
}

const EMPTY_DRAFT: Draft = {
  id: undefined,
  symbol: '',
  condition: 'price-above',
  value: '',
  notify: true,
};

/** What the form holds, checked as main will check it; a reason when it would be refused. */
export function checkDraft(
  draft: Draft,
):
  | { ok: true; symbol: string; condition: AlertCondition; value: number }
  | { ok: false; message: string } {
  const typed = draft.symbol.trim();
  let symbol: string;
  if (typed === '*') symbol = '*';
  else {
    const normalized = normalizeSymbol(typed);
    if (!normalized.ok) return { ok: false, message: `Symbol: ${normalized.reason}.` };
    symbol = normalized.symbol;
  }
  if (takesNoValue(draft.condition))
    return { ok: true, symbol, condition: draft.condition, value: 0 };
  if (draft.value.trim() === '') return { ok: false, message: 'Value: enter a number.' };
  const value = Number(draft.value);
  const problem = alertValueProblem(draft.condition, value);
  if (problem !== undefined) return { ok: false, message: `Value: ${problem}.` };
  return { ok: true, symbol, condition: draft.condition, value };
}

export function AlertsPanel(): ReactNode {
  const rules = useMonitor((s) => s.alertRules);
  const log = useMonitor((s) => s.alertLog);
  const createAlert = useMonitor((s) => s.createAlert);
  const updateAlert = useMonitor((s) => s.updateAlert);
  const deleteAlert = useMonitor((s) => s.deleteAlert);
  const [draft, setDraft] = useState<Draft>(EMPTY_DRAFT);
  const [failure, setFailure] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const checked = checkDraft(draft);
    if (!checked.ok) {
      setFailure(checked.message);
      return;
    }
    setFailure(undefined);
    setBusy(true);
    const fields = {
      symbol: checked.symbol,
      condition: checked.condition,
      value: checked.value,
      notify: draft.notify,
    };
    const out =
      draft.id === undefined
        ? await createAlert(fields)
        : await updateAlert({ id: draft.id, ...fields });
    setBusy(false);
    if (!out.ok) setFailure(out.message);
    else setDraft({ ...EMPTY_DRAFT, condition: draft.condition, notify: draft.notify });
  }

  async function act(
    what: Promise<{ readonly ok: boolean; readonly message?: string }>,
  ): Promise<void> {
    setFailure(undefined);
    const out = await what;
    if (!out.ok) setFailure(out.message);
  }

  function edit(rule: AlertRuleView): void {
    setFailure(undefined);
    setDraft({
      id: rule.id,
      symbol: rule.symbol,
      condition: rule.condition,
      value: String(rule.value),
      notify: rule.notify,
    });
    document.getElementById('alert-symbol')?.focus();
  }

  const firedNow = rules.filter((r) => r.state === 'fired').length;
  const summary = (
    <span className="alerts-summary num">
      {formatCount(rules.length)} {rules.length === 1 ? 'rule' : 'rules'}
      {firedNow > 0 ? <span className="alerts-fired">, {formatCount(firedNow)} fired</span> : null}
    </span>
  );

  return (
    <Panel id="alerts" title="Alerts" actions={summary} className="alerts-panel">
      <form
        className="alerts-form"
        aria-label={draft.id === undefined ? 'New alert' : 'Edit alert'}
        onSubmit={(e) => void submit(e)}
      >
        <label>
          Symbol
          <input
            id="alert-symbol"
            value={draft.symbol}
            placeholder="AAPL, or * for all"
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => setDraft({ ...draft, symbol: e.currentTarget.value })}
          />
        </label>
        <label>
          Condition
          <select
            value={draft.condition}
            onChange={(e) =>
              setDraft({ ...draft, condition: e.currentTarget.value as AlertCondition })
            }
          >
            {ALERT_CONDITIONS.map((c) => (
              <option key={c} value={c}>
                {CONDITION_TEXT[c].label}
              </option>
            ))}
          </select>
        </label>
        {takesNoValue(draft.condition) ? null : (
          <label>
            {CONDITION_TEXT[draft.condition].value}
            <input
              inputMode="decimal"
              value={draft.value}
              onChange={(e) => setDraft({ ...draft, value: e.currentTarget.value })}
            />
          </label>
        )}
        <label className="alerts-check">
          <input
            type="checkbox"
            checked={draft.notify}
            onChange={(e) => setDraft({ ...draft, notify: e.currentTarget.checked })}
          />
          Notify
        </label>
        <button type="submit" disabled={busy}>
          {draft.id === undefined ? 'Add alert' : 'Save alert'}
        </button>
        {draft.id !== undefined ? (
          <button type="button" className="quiet" onClick={() => setDraft(EMPTY_DRAFT)}>
            Cancel
          </button>
        ) : null}
      </form>
      {failure !== undefined ? (
        <p role="alert" className="alerts-failure">
          {failure}
        </p>
      ) : null}

      {rules.length === 0 ? (
        <p className="empty">No alert rules.</p>
      ) : (
        <div className="alerts-scroll">
          <table aria-label="Alert rules" className="alerts-table">
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">State</th>
                <th scope="col" className="num">
                  Fired
                </th>
                <th scope="col" className="num">
                  Last fired
                </th>
                <th scope="col" className="actions">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rules.map((rule) => (
                <tr key={rule.id} className={`alert-${rule.state}`}>
                  <th scope="row">
                    {rule.name}
                    {!rule.streamed ? (
                      <span className="alerts-note" title="Add it to a watchlist to stream it">
                        {' '}
                        (not on a watchlist)
                      </span>
                    ) : null}
                  </th>
                  <td>
                    {STATE_TEXT[rule.state]}
                    {rule.state === 'fired' && rule.symbol === '*' && rule.firedSymbols.length > 0
                      ? `: ${rule.firedSymbols.slice(0, 5).join(', ')}${rule.firedSymbols.length > 5 ? '…' : ''}`
                      : null}
                  </td>
                  <td className="num">{formatCount(rule.fired)}</td>
                  <td className="num">
                    {rule.lastFiredAt === undefined ? MISSING : formatClock(rule.lastFiredAt)}
                  </td>
                  <td className="actions">
                    <button
                      type="button"
                      className="quiet"
                      aria-label={`${rule.paused ? 'Resume' : 'Pause'} ${rule.name}`}
                      onClick={() => void act(updateAlert({ id: rule.id, paused: !rule.paused }))}
                    >
                      {rule.paused ? 'Resume' : 'Pause'}
                    </button>
                    {rule.state === 'fired' ? (
                      <button
                        type="button"
                        className="quiet"
                        aria-label={`Re-arm ${rule.name}`}
                        onClick={() => void act(updateAlert({ id: rule.id, rearm: true }))}
                      >
                        Re-arm
                      </button>
                    ) : null}
                    <button
                      type="button"
                      className="quiet"
                      aria-label={`Edit ${rule.name}`}
                      onClick={() => edit(rule)}
                    >
                      Edit
                    </button>
                    <button
                      type="button"
                      className="quiet"
                      aria-label={`Delete ${rule.name}`}
                      onClick={() => void act(deleteAlert(rule.id))}
                    >
                      ✕
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h3 className="alerts-log-title" id="alerts-log-title">
        Alerts log
      </h3>
      {log.length === 0 ? (
        <p className="empty">Nothing fired yet.</p>
      ) : (
        <ol className="alerts-log" aria-labelledby="alerts-log-title">
          {log.map((f) => (
            <li key={f.seq}>
              <time className="num" dateTime={new Date(f.at).toISOString()}>
                {formatClock(f.at)}
              </time>{' '}
              {f.message}
            </li>
          ))}
        </ol>
      )}
    </Panel>
  );
}

/** A polite live region with the latest firing: mounted always, so it speaks from any tab. */
export function AlertAnnouncer(): ReactNode {
  const announcement = useMonitor((s) => s.alertAnnouncement);
  return (
    <div className="visually-hidden" role="status" aria-live="polite" aria-atomic="true">
      {announcement ?? ''}
    </div>
  );
}
