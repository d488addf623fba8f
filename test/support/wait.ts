/**
 * Waiting without sleeping: poll a condition until it holds or a deadline passes, and await a
 * client's state by event.
 */
import type { StateChange, StreamClient } from '../../electron/stream/client.ts';
import type { ConnectionState } from '../../electron/stream/states.ts';

export async function waitFor(
  condition: () => boolean,
  { timeoutMs = 5_000, what = 'condition' } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves with the first state change into `state` (or at once if already there). */
export function waitForState(
  client: StreamClient,
  state: ConnectionState,
  timeoutMs = 5_000,
): Promise<StateChange | undefined> {
  if (client.state === state) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(
        new Error(
          `timed out after ${timeoutMs} ms waiting for state ${state}; now ${client.state} (${client.reason ?? ''})`,
        ),
      );
    }, timeoutMs);
    const off = client.on('state', (change) => {
      if (change.state !== state) return;
      clearTimeout(timer);
      off();
      resolve(change);
    });
  });
}

/** Records every state the client goes through. */
export function recordStates(client: StreamClient): ConnectionState[] {
  const states: ConnectionState[] = [];
  client.on('state', (change) => states.push(change.state));
  return states;
}
