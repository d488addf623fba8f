/**
 * How the views of the tape (Times & Sales, the detail quote's tape fields) follow it: they
 * re-render on the store's `tapeVersion`, at most once per animation frame.
 */
import { useEffect, useState } from 'react';
import { useMonitor } from './store.ts';

/**
 * A number that follows the store's `tapeVersion`, but changes at most once per animation frame:
 * what a component showing the tape re-renders on.
 */
export function useTapeFrame(): number {
  const [frame, setFrame] = useState(() => useMonitor.getState().tapeVersion);
  useEffect(() => {
    let pending: number | undefined;
    const off = useMonitor.subscribe((state, previous) => {
      if (state.tapeVersion === previous.tapeVersion || pending !== undefined) return;
      pending = requestAnimationFrame(() => {
        pending = undefined;
        setFrame(useMonitor.getState().tapeVersion);
      });
    });
    return () => {
      off();
      if (pending !== undefined) cancelAnimationFrame(pending);
    };
  }, []);
  return frame;
}
