/**
 * The trading status slice of the renderer's store (renderer/store.ts composes it): each symbol's
 * halt and LULD band as main holds them, for the mark on the watchlist row and the detail pane.
 * The whole set is read once (`market:trading-status`), then `market:trading-status` events bring
 * only the symbols that changed; halts are rare, so a map replaced per event costs nothing.
 */
import type { MonitorApi, TradingStatusUpdate, TradingStatusView } from '../shared/api.ts';

export interface TradingStatusSlice {
  /** Symbol -> its status; symbols with neither a halt nor a band are absent. */
  tradingStatus: ReadonlyMap<string, TradingStatusView>;
}

export function tradingStatusInitialData(): TradingStatusSlice {
  return { tradingStatus: new Map() };
}

/** `current` with an event's changes applied (a new map: the store's subscribers compare it). */
export function applyTradingStatus(
  current: ReadonlyMap<string, TradingStatusView>,
  update: TradingStatusUpdate,
): Map<string, TradingStatusView> {
  const next = update.reset ? new Map<string, TradingStatusView>() : new Map(current);
  for (const symbol of update.cleared) next.delete(symbol);
  for (const status of update.statuses) next.set(status.symbol, status);
  return next;
}

type Set_ = (
  patch: Partial<TradingStatusSlice> | ((s: TradingStatusSlice) => Partial<TradingStatusSlice>),
) => void;

/**
 * Subscribes the events, then reads the whole set; returns the unsubscribers. An event that lands
 * before the answer is newer than it: the answer fills only the symbols no event has touched.
 */
export function attachTradingStatus(
  api: MonitorApi,
  set: Set_,
  isLive: () => boolean,
): (() => void)[] {
  const touched = new Set<string>();
  let wasReset = false;
  const offs = [
    api.on('market:trading-status', (update) => {
      if (update.reset) wasReset = true;
      for (const symbol of update.cleared) touched.add(symbol);
      for (const status of update.statuses) touched.add(status.symbol);
      set((s) => ({ tradingStatus: applyTradingStatus(s.tradingStatus, update) }));
    }),
  ];
  void api.invoke('market:trading-status', {}).then(
    (result) => {
      if (!isLive() || !result.ok || wasReset) return;
      const fresh = result.value.filter((status) => !touched.has(status.symbol));
      if (fresh.length === 0) return;
      set((s) => ({
        tradingStatus: applyTradingStatus(s.tradingStatus, {
          reset: false,
          statuses: fresh,
          cleared: [],
        }),
      }));
    },
    () => undefined,
  );
  return offs;
}
