/**
 * Transport constants with no dependencies (preload bundles this; it must not pull in zod).
 * Command channels are the command names themselves (`ipcRenderer.invoke(command, input)`).
 */
import type { EventName } from './api.ts';
import type { QuoteFrame } from './frame.ts';

/** Channel names on the Electron IPC side (invoke per command; these for the rest). */
export const IPC = {
  /** renderer -> main (invoke): the window's preload is listening; main answers with a port. */
  ready: 'window:ready',
  /** main -> renderer: carries the MessagePort for events and frames. */
  port: 'window:port',
} as const;

/** Messages on the per-view port / bridge socket (after the handshake). */
export type PortRequest = { readonly type: 'frame'; readonly id: number };
export type PortMessage =
  | { readonly type: 'event'; readonly event: EventName; readonly payload: unknown }
  | { readonly type: 'frame'; readonly id: number; readonly frame: QuoteFrame };
