/**
 * The watchlist's list tabs: one tab per named list, arrow keys move between them, the active one
 * stays scrolled into view.
 */
import { useEffect, useRef } from 'react';
import type { KeyboardEvent, ReactNode } from 'react';
import { formatCount } from '../model/format.ts';
import { tabAfterKey } from '../hooks.ts';
import { useMonitor } from '../store.ts';

export function ListTabs(): ReactNode {
  const watchlists = useMonitor((s) => s.watchlists);
  const activeId = useMonitor((s) => s.activeWatchlistId);
  const selectWatchlist = useMonitor((s) => s.selectWatchlist);
  const refs = useRef(new Map<string, HTMLButtonElement>());

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const next = tabAfterKey(
      event.key,
      watchlists.findIndex((l) => l.id === activeId),
      watchlists.length,
    );
    if (next === undefined) return;
    event.preventDefault();
    const target = watchlists[next];
    if (target === undefined) return;
    selectWatchlist(target.id);
    refs.current.get(target.id)?.focus();
  };

  // The active tab stays in view however many lists there are (the strip scrolls sideways).
  // Also when the tabs first appear: a list remembered from the last visit may be far right.
  const tabCount = watchlists.length;
  useEffect(() => {
    if (activeId !== undefined)
      refs.current.get(activeId)?.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
  }, [activeId, tabCount]);

  return (
    <div className="list-tabs" role="tablist" aria-label="Watchlists" onKeyDown={onKeyDown}>
      {watchlists.map((list) => {
        const selected = list.id === activeId;
        return (
          <button
            key={list.id}
            ref={(el) => {
              if (el === null) refs.current.delete(list.id);
              else refs.current.set(list.id, el);
            }}
            type="button"
            role="tab"
            id={`list-tab-${list.id}`}
            aria-selected={selected}
            aria-controls="watchlist-tabpanel"
            tabIndex={selected ? 0 : -1}
            className="list-tab"
            title={list.name}
            onClick={() => selectWatchlist(list.id)}
          >
            <span className="list-name">{list.name}</span>
            <span className="list-count">
              <span className="visually-hidden">, </span>
              {formatCount(list.symbols.length)}
              <span className="visually-hidden"> symbols</span>
            </span>
          </button>
        );
      })}
    </div>
  );
}
