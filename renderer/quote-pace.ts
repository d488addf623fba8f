/**
 * Reading the quote board from React at a human rate. Frames bump the store's `quotesVersion`
 * tens of times a second; a panel that shows counts or figures about the board (the footer, the
 * Flow counters, the screen-latency histogram) need not render that often, and each render that
 * changes text costs the page a layout and a repaint of the region holding it.
 */
import { useEffect, useState } from 'react';
import { useMonitor } from './store.ts';

/** The rate panels that summarise the board re-render at, at most: readable, and cheap. */
export const BOARD_SUMMARY_MS = 500;

/**
 * The store's `quotesVersion`, re-read at most once per `intervalMs` (trailing: the frame that
 * triggered it has been folded and painted when the value arrives). Use it as a dependency of
 * whatever reads the board: the component re-renders when frames arrived, paced.
 */
export function usePacedQuotesVersion(intervalMs: number): number {
  const [version, setVersion] = useState(() => useMonitor.getState().quotesVersion);
  useEffect(() => {
    let last = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const take = () => {
      timer = undefined;
      last = Date.now();
      setVersion(useMonitor.getState().quotesVersion);
    };
    // Frames folded between the first render and this effect: picked up at once.
    if (useMonitor.getState().quotesVersion !== version) take();
    const off = useMonitor.subscribe((s, prev) => {
      if (s.quotesVersion === prev.quotesVersion || timer !== undefined) return;
      timer = setTimeout(take, Math.max(0, last + intervalMs - Date.now()));
    });
    return () => {
      off();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [intervalMs]);
  return version;
}
