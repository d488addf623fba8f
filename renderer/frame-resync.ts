/**
 * The page's half of self-healing frames: when the quote board finds that a frame was lost (its
 * fold says `resync`), ask main for a full one ('frames:resync'). Kept apart from the store, with
 * no DOM in it, so that the loopback tests drive the same request through the real transport.
 */
import type { MonitorApi } from '../shared/api.ts';
import type { QuoteBoard } from './model/board.ts';

/**
 * Sends 'frames:resync' for `board`'s view. A request that fails (refused, or the transport threw)
 * is reported back to the board, which lets a later loss ask again after a pause; one that
 * succeeds needs nothing more: the full frame it brings clears the board's outstanding ask.
 */
export function requestResync(api: MonitorApi, board: QuoteBoard, now: () => number): void {
  const failed = (): void => board.resyncFailed(now());
  try {
    void api.invoke('frames:resync', {}).then((result) => {
      if (!result.ok) failed();
    }, failed);
  } catch {
    failed(); // a transport that throws instead of rejecting
  }
}
