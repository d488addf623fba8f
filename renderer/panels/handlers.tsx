/**
 * The handler inspector: every message handler main runs (built-in and user-registered), how often
 * it ran, how long it took, and whether it throws. A throwing handler is the usual reason a view
 * stops updating while the connection looks healthy, so those rows are flagged and their last error
 * opens to its stack. Only user handlers can be removed; main refuses the built-in ones anyway.
 */
import { useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import type { HandlerView } from '../../shared/api.ts';
import { useNow } from '../hooks.ts';
import {
  MISSING,
  formatClock,
  formatCount,
  formatDuration,
  formatLatency,
} from '../model/format.ts';
import { useMonitor } from '../store.ts';
import { Panel } from './panel.tsx';
import './handlers.css';

/** Throwing handlers first, each group in the order main lists them (a stable sort). */
export function errorsFirst(handlers: readonly HandlerView[]): HandlerView[] {
  return handlers
    .map((h, index) => ({ h, index }))
    .sort((a, b) => Number(b.h.errors > 0) - Number(a.h.errors > 0) || a.index - b.index)
    .map((x) => x.h);
}

export function HandlersPanel(): ReactNode {
  const handlers = useMonitor((s) => s.handlers);
  const removeHandler = useMonitor((s) => s.removeHandler);
  // Counts arrive about once a second; the "ago" column ticks on its own between them.
  const now = useNow(1000);
  const [throwingFirst, setThrowingFirst] = useState(false);
  const [removing, setRemoving] = useState<ReadonlySet<string>>(() => new Set());
  const [failure, setFailure] = useState<string | undefined>(undefined);

  const rows = useMemo(
    () => (throwingFirst ? errorsFirst(handlers) : handlers),
    [handlers, throwingFirst],
  );
  const throwing = handlers.filter((h) => h.errors > 0).length;

  async function remove(handler: HandlerView): Promise<void> {
    setFailure(undefined);
    setRemoving((s) => new Set(s).add(handler.id));
    const out = await removeHandler(handler.id);
    setRemoving((s) => {
      const next = new Set(s);
      next.delete(handler.id);
      return next;
    });
    if (!out.ok) setFailure(`Could not remove ${handler.name}: ${out.message}`);
    // The button that had the focus is gone with its row: keep the keyboard in this panel.
    else document.getElementById('handlers')?.focus();
  }

  const summary = (
    <span className="handlers-summary num">
      {formatCount(handlers.length)} {handlers.length === 1 ? 'handler' : 'handlers'}
      {throwing > 0 ? (
        <span className="handlers-throwing">, {formatCount(throwing)} throwing</span>
      ) : null}
    </span>
  );

  return (
    <Panel id="handlers" title="Handler inspector" actions={summary} className="handlers-panel">
      {failure !== undefined ? (
        <p role="alert" className="handlers-failure">
          {failure}
        </p>
      ) : null}
      {handlers.length === 0 ? (
        <p className="empty">
          No handlers registered. Handlers appear here once main registers them.
        </p>
      ) : (
        <>
          <label className="handlers-toggle">
            <input
              type="checkbox"
              checked={throwingFirst}
              onChange={(e) => setThrowingFirst(e.currentTarget.checked)}
            />
            Errors first
          </label>
          <div className="handlers-scroll">
            <table aria-label="Handlers" className="handlers-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Stream</th>
                  <th scope="col">Symbol</th>
                  <th scope="col" className="num">
                    Calls
                  </th>
                  <th scope="col" className="num">
                    Errors
                  </th>
                  <th
                    scope="col"
                    className="num"
                    title="Time per call, measured on one call in 8 of each handler (timing every call cost more than the handlers)"
                  >
                    Mean
                  </th>
                  <th
                    scope="col"
                    className="num"
                    title="Longest call among the measured ones (one call in 8)"
                  >
                    Max
                  </th>
                  <th scope="col">Registered</th>
                  <th scope="col">Last called</th>
                  <th scope="col">Last error</th>
                  <th scope="col" className="actions">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((h) => (
                  <HandlerRow
                    key={h.id}
                    handler={h}
                    now={now}
                    removing={removing.has(h.id)}
                    onRemove={() => void remove(h)}
                  />
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Panel>
  );
}

interface HandlerRowProps {
  readonly handler: HandlerView;
  readonly now: number;
  readonly removing: boolean;
  readonly onRemove: () => void;
}

function HandlerRow({ handler: h, now, removing, onRemove }: HandlerRowProps): ReactNode {
  const failing = h.errors > 0;
  return (
    <tr className={failing ? 'handler-failing' : undefined}>
      <th scope="row">
        {failing ? (
          <span className="handler-mark" title="This handler has thrown" aria-hidden="true">
            ⚠{' '}
          </span>
        ) : null}
        {h.name}
        {failing ? <span className="visually-hidden"> (throwing)</span> : null}
      </th>
      <td>{h.kind}</td>
      <td>{h.symbol === '*' ? <span title="All symbols">*</span> : h.symbol}</td>
      <td className="num">{formatCount(h.calls)}</td>
      <td className={failing ? 'num down handler-errors' : 'num'}>{formatCount(h.errors)}</td>
      <td className="num">{formatLatency(h.calls > 0 ? h.meanMs : NaN)}</td>
      <td className="num">{formatLatency(h.calls > 0 ? h.maxMs : NaN)}</td>
      <td className="num">{formatClock(h.registeredAt)}</td>
      <td
        className="num"
        title={h.lastCalledAt === undefined ? undefined : formatClock(h.lastCalledAt, true)}
      >
        {h.lastCalledAt === undefined ? MISSING : `${formatDuration(now - h.lastCalledAt)} ago`}
      </td>
      <td className="handler-error-cell">
        {h.lastError === undefined ? (
          MISSING
        ) : (
          <details className="handler-error">
            <summary>
              <span className="handler-error-at num">{formatClock(h.lastError.at)}</span>{' '}
              {h.lastError.message}
            </summary>
            <pre>{h.lastError.stack ?? 'No stack trace was recorded.'}</pre>
          </details>
        )}
      </td>
      <td className="actions">
        {h.builtin ? (
          <span className="handler-builtin">built-in</span>
        ) : (
          <button
            type="button"
            className="quiet"
            aria-label={`Remove handler ${h.name}`}
            title={`Remove handler ${h.name}`}
            disabled={removing}
            onClick={onRemove}
          >
            ✕
          </button>
        )}
      </td>
    </tr>
  );
}
