/**
 * Small hooks the panels share.
 */
import { useEffect, useEffectEvent, useRef, useState } from 'react';

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
 *
 * `ms` may be a function of the time since the value's previous change and of the gap between
 * that change and the one before it (Infinity where there was none), so that how long a rest must
 * be can follow the rhythm of the changes: see `detailRest`. It is read when the value changes: a
 * new `ms` (or a new function) applies from the next change on.
 */
export function useSettled<T>(
  value: T,
  ms: number | ((sinceLastChangeMs: number, gapBeforeMs: number) => number),
): T {
  const [settled, setSettled] = useState(value);
  const lastChange = useRef<number | undefined>(undefined);
  const gapBefore = useRef(Infinity);
  // Asked when the value changes, and not a dependency of the wait: a rest written inline is a new
  // function every render, and a holder that re-renders more often than the rest (a quote ticking
  // beside the value) would otherwise restart the wait, and the clock of changes, every time.
  const restAfter = useEffectEvent((since: number, before: number) =>
    typeof ms === 'number' ? ms : ms(since, before),
  );
  useEffect(() => {
    const now = Date.now();
    const since = lastChange.current === undefined ? Infinity : now - lastChange.current;
    const before = gapBefore.current;
    lastChange.current = now;
    gapBefore.current = since;
    if (value === undefined) {
      setSettled(value);
      return undefined;
    }
    const timer = setTimeout(() => setSettled(value), restAfter(since, before));
    return () => clearTimeout(timer);
  }, [value]);
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
