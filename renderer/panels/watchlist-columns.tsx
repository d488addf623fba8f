/**
 * The watchlist's column chooser: show, hide and reorder the columns of the active list (each
 * list remembers its own, in the view's prefs as the sort is). A disclosure, not a modal: a
 * checkbox per column and a pair of move buttons, all reachable by Tab; Escape closes it and gives
 * the focus back to its button.
 */
import { useRef, useState } from 'react';
import type { ReactNode } from 'react';
import type { Watchlist } from '../../shared/api.ts';
import {
  COLUMNS,
  COLUMN_BY_ID,
  DEFAULT_COLUMNS,
  moveColumn,
  toggleColumn,
  type ColumnId,
} from '../model/columns.ts';
import { useMonitor } from '../store.ts';

export function ColumnChooser({ list }: { list: Watchlist }): ReactNode {
  const [open, setOpen] = useState(false);
  const chosen = useMonitor((s) => s.columns[list.id] ?? DEFAULT_COLUMNS);
  const setColumns = useMonitor((s) => s.setColumns);
  const opener = useRef<HTMLButtonElement>(null);

  // The chosen columns in their order, then the others (unchecked) in the catalogue's order.
  const others = COLUMNS.filter((c) => !chosen.includes(c.id)).map((c) => c.id);
  const rows: ColumnId[] = [...chosen, ...others];

  const close = () => {
    setOpen(false);
    opener.current?.focus();
  };

  return (
    <div className="column-chooser">
      <button
        ref={opener}
        type="button"
        className="quiet"
        aria-expanded={open}
        aria-controls="column-chooser-list"
        onClick={() => setOpen(!open)}
      >
        Columns
      </button>
      {open ? (
        <div
          id="column-chooser-list"
          className="column-list"
          role="group"
          aria-label={`Columns of ${list.name}`}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.stopPropagation();
              close();
            }
          }}
        >
          <ul>
            {rows.map((id) => {
              const spec = COLUMN_BY_ID.get(id);
              if (spec === undefined) return null;
              const shown = chosen.includes(id);
              const at = chosen.indexOf(id);
              const fixed = id === 'symbol';
              return (
                <li key={id}>
                  <label>
                    <input
                      type="checkbox"
                      checked={shown}
                      disabled={fixed}
                      onChange={() => setColumns(list.id, toggleColumn(chosen, id))}
                    />
                    {spec.label}
                    {spec.extendedOnly === true ? (
                      <span className="hint"> (pre-market and after hours)</span>
                    ) : null}
                  </label>
                  {shown && !fixed ? (
                    <span className="column-moves">
                      <button
                        type="button"
                        className="quiet icon"
                        aria-label={`Move ${spec.label} left`}
                        disabled={at <= 1}
                        onClick={() => setColumns(list.id, moveColumn(chosen, id, -1))}
                      >
                        ↑
                      </button>
                      <button
                        type="button"
                        className="quiet icon"
                        aria-label={`Move ${spec.label} right`}
                        disabled={at >= chosen.length - 1}
                        onClick={() => setColumns(list.id, moveColumn(chosen, id, 1))}
                      >
                        ↓
                      </button>
                    </span>
                  ) : null}
                </li>
              );
            })}
          </ul>
          <p className="column-list-actions">
            <button type="button" className="quiet" onClick={() => setColumns(list.id, undefined)}>
              Default columns
            </button>
            <button type="button" className="quiet" onClick={close}>
              Done
            </button>
          </p>
        </div>
      ) : null}
    </div>
  );
}
