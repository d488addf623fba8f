/**
 * The trading status slice of the renderer's store (renderer/store.ts composes it): each symbol's
 * halt and LULD band as main holds them, for the mark on the watchlist row and the detail pane.
 * The whole set is read once (`market:trading-status`), then `market:trading-status` events bring
 * only the symbols that changed. Halts are rare but LULD bands follow the price, so the map is
 * replaced per event (its readers select one symbol's entry) and `haltedSymbols` only on a halt
 * or a resume.
 */
import type { MonitorApi, TradingStatusUpdate, TradingStatusView } from '../shared/api.ts';

export interface TradingStatusSlice {
  /** Symbol -> its status; symbols with neither a halt nor a band are absent. */
  tradingStatus: ReadonlyMap<string, TradingStatusView>;
  /**
   * The halted symbols: the same set until one halts or resumes. LULD bands move with the price
   * (many events a second under a full feed), so the watchlist follows this, not the map.
   */
  haltedSymbols: ReadonlySet<string>;
}

export function tradingStatusInitialData(): TradingStatusSlice {
  return { tradingStatus: new Map(), haltedSymbols: new Set() };
}

/** The slice after an event: a new map, and a new halted set only when the set changed. */
function withUpdate(s: TradingStatusSlice, update: TradingStatusUpdate): TradingStatusSlice {
  const tradingStatus = applyTradingStatus(s.tradingStatus, update);
  if (!update.reset && !haltsMoved(s.haltedSymbols, update))
    return { tradingStatus, haltedSymbols: s.haltedSymbols };
  const halted = new Set<string>();
  for (const [symbol, status] of tradingStatus) if (status.halted) halted.add(symbol);
  const same =
    halted.size === s.haltedSymbols.size && [...halted].every((x) => s.haltedSymbols.has(x));
  return { tradingStatus, haltedSymbols: same ? s.haltedSymbols : halted };
}

/**
 * Whether an event halts, resumes or clears a halted symbol. Under a full feed the events are
 * LULD bands, hundreds a second: looking at the event's few symbols, not the whole map, keeps
 * each one cheap.
 */
function haltsMoved(halted: ReadonlySet<string>, update: TradingStatusUpdate): boolean {
  for (const symbol of update.cleared) if (halted.has(symbol)) return true;
  for (const status of update.statuses)
    if (status.halted !== halted.has(status.symbol)) return true;
  return false;
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
      set((s) => withUpdate(s, update));
    }),
  ];
  void api.invoke('market:trading-status', {}).then(
    (result) => {
      if (!isLive() || !result.ok || wasReset) return;
      const fresh = result.value.filter((status) => !touched.has(status.symbol));
      if (fresh.length === 0) return;
      set((s) => withUpdate(s, { reset: false, statuses: fresh, cleared: [] }));
    },
    () => undefined,
  );
  return offs;
}
