/**
 * Small hooks the panels share.
 */
import { useEffect, useState } from 'react';

/**
 * Wall-clock ms, refreshed every `intervalMs` while `active` (ages, countdowns, uptimes tick on
 * their own between events). Inactive: no timer at all, so a hidden panel costs nothing.
 */
export function useNow(intervalMs = 1000, active = true): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return undefined;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs, active]);
  return now;
}

/**
 * `value` once it has stayed the same for `ms`: a value that changes often (a selection moving
 * under a held-down or quickly pressed key) reaches whatever is costly to redo only when it comes
 * to rest. The first value passes at once, and so does `undefined` (nothing to show is not work).
 */
export function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    if (value === undefined) {
      setSettled(value);
      return undefined;
    }
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return value === undefined ? value : settled;
}

/**
 * The tab a tablist's key moves to (WAI-ARIA tabs: arrows wrap, Home and End go to the ends), or
 * undefined for any other key.
 */
export function tabAfterKey(key: string, index: number, count: number): number | undefined {
  if (count === 0) return undefined;
  switch (key) {
    case 'ArrowRight':
      return (index + 1) % count;
    case 'ArrowLeft':
      return (index - 1 + count) % count;
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return undefined;
  }
}
