/**
 * The window: a header with the connection state, notices, then the work area. The watchlist takes
 * the left, connection health and counters stand at the right (always in view: a trader glances at
 * them), and a dock below the watchlist holds the handler inspector, diagnostics and settings as
 * tabs.
 *
 * The App binds the store to the transport (`attach`) and owns nothing else: every panel reads the
 * store. Keyboard: Alt+1 watchlist, Alt+2 connection health, Alt+3 counters, Alt+4 handlers,
 * Alt+5 diagnostics, Alt+6 settings, Alt+7 alerts, Alt+8 the symbol detail; the dock's tabs follow
 * the arrow keys. A fired alert is announced from any tab (AlertAnnouncer).
 *
 * Selecting a watchlist row opens the symbol detail pane (panels/detail.tsx) between the watchlist
 * and the side column, the full height of the work area; narrow windows stack it under the
 * watchlist.
 */
import { useEffect, useRef, useState } from 'react';
import type { KeyboardEvent, ReactNode } from 'react';
import type { MonitorApi } from '../shared/api.ts';
import { AlertAnnouncer, AlertsPanel } from './panels/alerts.tsx';
import { CountersPanel } from './panels/counters.tsx';
import { DetailPane } from './panels/detail.tsx';
import { DiagnosticsPanel } from './panels/diagnostics.tsx';
import { HandlersPanel } from './panels/handlers.tsx';
import { HealthPanel } from './panels/health.tsx';
import { listenForDeepLinks } from './deep-link.ts';
import { SettingsPanel } from './panels/settings.tsx';
import { WatchlistPanel } from './panels/watchlist.tsx';
import { formatCount } from './model/format.ts';
import { tabAfterKey } from './hooks.ts';
import { BOARD_SUMMARY_MS, usePacedQuotesVersion } from './quote-pace.ts';
import { PanelBoundary } from './panels/boundary.tsx';
import { useMonitor, type ApiMode } from './store.ts';

export const DOCK_TABS = [
  { id: 'handlers', label: 'Handlers', shortcut: '4' },
  { id: 'diagnostics', label: 'Diagnostics', shortcut: '5' },
  { id: 'settings', label: 'Settings', shortcut: '6' },
  { id: 'alerts', label: 'Alerts', shortcut: '7' },
] as const;
export type DockTab = (typeof DOCK_TABS)[number]['id'];

/**
 * Alt+digit → what to show and focus. Matched on the physical key (`Digit1`...): on macOS,
 * Option+digit types a character (¡, ™, £...) rather than the digit.
 */
export function shortcutTarget(code: string): { panel: string; dock?: DockTab } | undefined {
  const key = /^(?:Digit|Numpad)([0-9])$/.exec(code)?.[1];
  switch (key) {
    case '1':
      return { panel: 'watchlist-table-area' };
    case '2':
      return { panel: 'health' };
    case '3':
      return { panel: 'counters' };
    case '8':
      return { panel: 'detail' };
    default: {
      const tab = DOCK_TABS.find((t) => t.shortcut === key);
      return tab === undefined ? undefined : { panel: tab.id, dock: tab.id };
    }
  }
}

function Header(): ReactNode {
  const connection = useMonitor((s) => s.connection);
  const mode = useMonitor((s) => s.mode);
  const health = useMonitor((s) => s.health);
  const lost = useMonitor((s) => s.lost);
  const state = connection?.state;
  return (
    <header className="bar">
      <h1>Market Monitor</h1>
      <span className="mode">{mode === 'electron' ? 'Desktop' : 'Browser mode'}</span>
      <div className="connection">
        <span
          role="status"
          aria-label="Connection state"
          className={`state state-${state ?? 'unknown'}`}
        >
          {lost !== undefined ? 'no link' : (state ?? 'loading')}
        </span>
        {connection?.reason !== undefined && state !== 'live' ? (
          <span className="reason">{connection.reason}</span>
        ) : null}
        {connection?.stale === true ? <span className="reason">stale</span> : null}
        {health !== undefined && health.status !== 'healthy' ? (
          <span className={`reason health-${health.status}`} title={health.reasons.join('\n')}>
            {health.status}
          </span>
        ) : null}
      </div>
    </header>
  );
}

function Notices(): ReactNode {
  const notices = useMonitor((s) => s.notices);
  const dismiss = useMonitor((s) => s.dismissNotice);
  if (notices.length === 0) return null;
  return (
    <section className="notices" aria-label="Notices" role="status">
      {notices.map((n) => (
        <p key={n.id} className={`notice notice-${n.level}`}>
          <span>{n.message}</span>
          <button
            type="button"
            className="quiet"
            aria-label={`Dismiss: ${n.message}`}
            onClick={() => void dismiss(n.id)}
          >
            Dismiss
          </button>
        </p>
      ))}
    </section>
  );
}

function Problems(): ReactNode {
  const lost = useMonitor((s) => s.lost);
  const halted = useMonitor((s) => s.halted);
  const problem = useMonitor((s) => s.problem);
  const clear = useMonitor((s) => s.clearProblem);
  const restart = useMonitor((s) => s.restart);
  if (lost !== undefined) {
    return (
      <p role="alert" className="problem">
        <span>
          Lost the link to Market Monitor: {lost}. Reload the page, or open the address that{' '}
          <code>market-monitor web</code> printed last.
        </span>
      </p>
    );
  }
  if (halted !== undefined) {
    return (
      <p role="alert" className="problem">
        <span>{halted}</span>
        <button type="button" onClick={restart}>
          Try again
        </button>
      </p>
    );
  }
  if (problem === undefined) return null;
  return (
    <p role="alert" className="problem">
      <span>{problem}</span>
      <button type="button" className="quiet" onClick={clear}>
        Dismiss
      </button>
    </p>
  );
}

function Dock({ tab, onTab }: { tab: DockTab; onTab: (tab: DockTab) => void }): ReactNode {
  const refs = useRef(new Map<DockTab, HTMLButtonElement>());
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const next = tabAfterKey(
      event.key,
      DOCK_TABS.findIndex((t) => t.id === tab),
      DOCK_TABS.length,
    );
    if (next === undefined) return;
    event.preventDefault();
    const target = DOCK_TABS[next];
    if (target === undefined) return;
    onTab(target.id);
    refs.current.get(target.id)?.focus();
  };
  return (
    <div className="dock">
      <div className="dock-tabs" role="tablist" aria-label="Tools" onKeyDown={onKeyDown}>
        {DOCK_TABS.map((t) => (
          <button
            key={t.id}
            ref={(el) => {
              if (el === null) refs.current.delete(t.id);
              else refs.current.set(t.id, el);
            }}
            type="button"
            role="tab"
            id={`dock-tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls="dock-panel"
            tabIndex={tab === t.id ? 0 : -1}
            title={`Alt+${t.shortcut}`}
            onClick={() => onTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div
        className="dock-panel"
        id="dock-panel"
        role="tabpanel"
        aria-labelledby={`dock-tab-${tab}`}
      >
        {tab === 'handlers' ? (
          <PanelBoundary title="Handler inspector">
            <HandlersPanel />
          </PanelBoundary>
        ) : tab === 'diagnostics' ? (
          <PanelBoundary title="Diagnostics">
            <DiagnosticsPanel />
          </PanelBoundary>
        ) : tab === 'alerts' ? (
          <PanelBoundary title="Alerts">
            <AlertsPanel />
          </PanelBoundary>
        ) : (
          <PanelBoundary title="Settings">
            <SettingsPanel />
          </PanelBoundary>
        )}
      </div>
    </div>
  );
}

function Footer(): ReactNode {
  // Counts, not prices: twice a second is plenty, and a per-frame render repainted the page root.
  usePacedQuotesVersion(BOARD_SUMMARY_MS);
  const board = useMonitor((s) => s.board);
  const url = useMonitor((s) => s.connection?.url);
  const stats = board.stats;
  return (
    <footer className="bar footer">
      <span>
        {formatCount(stats.frames)} frames · {formatCount(stats.conflated)} conflated ·{' '}
        {formatCount(board.size)} symbols with data
      </span>
      <span className="shortcuts">
        Alt+1 watchlist · Alt+2 health · Alt+3 counters · Alt+4 handlers · Alt+5 diagnostics · Alt+6
        settings · Alt+7 alerts · Alt+8 detail
      </span>
      {url !== undefined ? <span className="url">{url}</span> : null}
    </footer>
  );
}

export interface AppProps {
  readonly api: MonitorApi;
  readonly mode: ApiMode;
  /** See OpenedApi.onLost. */
  readonly onLost: (listener: (why: string) => void) => () => void;
}

export function App({ api, mode, onLost }: AppProps): ReactNode {
  const [tab, setTab] = useState<DockTab>('handlers');
  const theme = useMonitor((s) => s.settings?.theme);
  const setLost = useMonitor((s) => s.setLost);
  const detailOpen = useMonitor(
    (s) => s.selectedSymbol !== undefined && s.selectedSymbol !== s.detailClosedFor,
  );

  useEffect(() => useMonitor.getState().attach(api, { mode }), [api, mode]);
  useEffect(
    () =>
      listenForDeepLinks(api, {
        confirm: (question) => window.confirm(question),
        tell: (message) => window.alert(message),
      }),
    [api],
  );
  useEffect(() => onLost(setLost), [onLost, setLost]);
  useEffect(() => {
    document.documentElement.dataset['theme'] = theme ?? 'dark';
  }, [theme]);

  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (!event.altKey || event.ctrlKey || event.metaKey) return;
      const target = shortcutTarget(event.code);
      if (target === undefined) return;
      event.preventDefault();
      if (target.dock !== undefined) setTab(target.dock);
      if (target.panel === 'detail') useMonitor.getState().openDetail();
      // After the tab's panel has rendered.
      requestAnimationFrame(() => document.getElementById(target.panel)?.focus());
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="app">
      <Header />
      <Notices />
      <Problems />
      <main className={detailOpen ? 'layout with-detail' : 'layout'}>
        <div className="area-watchlist">
          <PanelBoundary title="Watchlist">
            <WatchlistPanel />
          </PanelBoundary>
        </div>
        {detailOpen ? (
          <div className="area-detail">
            <PanelBoundary title="Symbol detail">
              <DetailPane />
            </PanelBoundary>
          </div>
        ) : null}
        <aside className="area-side" aria-label="Connection and counters">
          <PanelBoundary title="Connection health">
            <HealthPanel />
          </PanelBoundary>
          <PanelBoundary title="Message counters">
            <CountersPanel />
          </PanelBoundary>
        </aside>
        <div className="area-dock">
          <Dock tab={tab} onTab={setTab} />
        </div>
      </main>
      <Footer />
      <AlertAnnouncer />
    </div>
  );
}
