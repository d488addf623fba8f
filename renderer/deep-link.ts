/**
 * What the page does with a `market-monitor://symbol/AAPL` link main has validated and sent as
 * 'deeplink:symbol' (electron/deep-link.ts, desktop only): select the symbol in the active list,
 * after asking the user before adding one the list does not hold. A link is someone else's text,
 * so it never changes a list on its own.
 */
import type { MonitorApi } from '../shared/api.ts';
import { useMonitor } from './store.ts';

export interface DeepLinkUi {
  /** window.confirm in the app. */
  readonly confirm: (question: string) => boolean;
  /** Tells the user why the link did nothing (window.alert in the app). */
  readonly tell: (message: string) => void;
}

export type DeepLinkOutcome = 'selected' | 'added' | 'declined' | 'failed';

/** How long a link that came with the window waits for the watchlists to load. */
export const LISTS_WAIT_MS = 10_000;

/** Resolves once the store has an active list, or with false after `ms`. */
function listsLoaded(ms: number): Promise<boolean> {
  if (useMonitor.getState().activeWatchlistId !== undefined) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      off();
      resolve(false);
    }, ms);
    const off = useMonitor.subscribe((state) => {
      if (state.activeWatchlistId === undefined) return;
      clearTimeout(timer);
      off();
      resolve(true);
    });
  });
}

export async function openSymbolLink(
  symbol: string,
  ui: DeepLinkUi,
  waitMs = LISTS_WAIT_MS,
): Promise<DeepLinkOutcome> {
  if (!(await listsLoaded(waitMs))) {
    ui.tell(`Could not open ${symbol}: the watchlists did not load.`);
    return 'failed';
  }
  const state = useMonitor.getState();
  const list = state.watchlists.find((l) => l.id === state.activeWatchlistId);
  if (list === undefined) {
    ui.tell(`Could not open ${symbol}: there is no watchlist to show it in.`);
    return 'failed';
  }
  if (list.symbols.includes(symbol)) {
    state.selectSymbol(symbol);
    return 'selected';
  }
  if (!ui.confirm(`A link asks to show ${symbol}. Add it to the list "${list.name}"?`))
    return 'declined';
  const out = await state.addSymbols(list.id, symbol);
  const added = useMonitor
    .getState()
    .watchlists.find((l) => l.id === list.id)
    ?.symbols.includes(symbol);
  if (!out.ok || added !== true) {
    const why = out.ok
      ? out.value.rejected.map((r) => r.reason).join('; ') || 'it was not added'
      : out.message;
    ui.tell(`Could not add ${symbol}: ${why}`);
    return 'failed';
  }
  useMonitor.getState().selectSymbol(symbol);
  return 'added';
}

/** Handles every 'deeplink:symbol' from `api`; returns the unsubscribe. */
export function listenForDeepLinks(api: MonitorApi, ui: DeepLinkUi): () => void {
  return api.on('deeplink:symbol', ({ symbol }) => {
    void openSymbolLink(symbol, ui);
  });
}
