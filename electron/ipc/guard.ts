/**
 * The sender check every IPC handler runs before anything else (Electron security checklist:
 * "validate the sender of all IPC messages").
 *
 * A message is accepted only when all of these hold:
 * - the sending webContents still exists and is one of OUR windows (a registry of webContents ids
 *   that window.ts fills): a webContents we did not create (a devtools extension, a stray guest)
 *   gets nothing;
 * - the sending frame is known (`senderFrame` is null once the frame navigated away or died) and
 *   still attached;
 * - it is the top frame of that webContents, the very frame the webContents shows now (not an
 *   iframe, not the previous document of a frame that is being replaced);
 * - the frame's URL is on one of our origins (origin.ts), which rules out `file:`, `data:`,
 *   `about:blank`, any web page, and the dev server in a packaged build.
 *
 * checkSender is pure (tests call it with plain objects); guardSender adds the log line.
 */
import { fail, ok, type Result } from '../../shared/api.ts';
import type { Logger } from '../stream/log.ts';
import { isOurUrl } from './origin.ts';

/** What the guard reads of a frame: a structural subset of Electron's WebFrameMain. */
export interface SenderFrame {
  readonly url: string;
  readonly parent: SenderFrame | null;
  readonly processId: number;
  readonly routingId: number;
  readonly detached: boolean;
}

/** What the guard reads of an IPC event: a structural subset of IpcMainInvokeEvent. */
export interface SenderEvent {
  readonly sender: {
    readonly id: number;
    isDestroyed(): boolean;
    readonly mainFrame: SenderFrame;
  };
  readonly senderFrame: SenderFrame | null;
}

export interface SenderPolicy {
  /** Whether the webContents with this id is one of our windows. */
  isOurWindow(webContentsId: number): boolean;
  /** Origins whose pages may talk to main (origin.ts appOrigins). */
  readonly origins: readonly string[];
}

/** Accepts or refuses an IPC event; a refusal is `forbidden` with the reason. Never throws. */
export function checkSender(event: SenderEvent, policy: SenderPolicy): Result<void> {
  try {
    const { sender } = event;
    if (sender.isDestroyed()) return fail('forbidden', 'the sending window is gone');
    if (!policy.isOurWindow(sender.id)) return fail('forbidden', 'not one of our windows');
    const frame = event.senderFrame;
    if (frame === null) return fail('forbidden', 'the sending frame is gone');
    if (frame.detached) return fail('forbidden', 'the sending frame is detached');
    if (frame.parent !== null) return fail('forbidden', 'sent from a sub-frame');
    // Distinct WebFrameMain objects for one frame share processId + routingId; the current main
    // frame differs from the sender when the message comes from a document being replaced.
    const main = sender.mainFrame;
    if (frame.processId !== main.processId || frame.routingId !== main.routingId) {
      return fail('forbidden', 'not the main frame of the window');
    }
    if (!isOurUrl(frame.url, policy.origins)) return fail('forbidden', 'foreign origin');
    return ok(undefined);
  } catch {
    // A getter of a dying frame can throw; the only safe answer is no.
    return fail('forbidden', 'the sender could not be inspected');
  }
}

/** checkSender, with one warning line per refusal (the channel, the reason, the sender's URL). */
export function guardSender(
  event: SenderEvent,
  channel: string,
  policy: SenderPolicy,
  log: Logger,
): Result<void> {
  const verdict = checkSender(event, policy);
  if (!verdict.ok) {
    log.warn(
      { channel, reason: verdict.error.message, webContentsId: safeId(event), url: safeUrl(event) },
      'refused an IPC message',
    );
  }
  return verdict;
}

function safeId(event: SenderEvent): number | undefined {
  try {
    return event.sender.id;
  } catch {
    return undefined;
  }
}

/** The sender's URL for the log, without query or fragment (they could carry anything). */
function safeUrl(event: SenderEvent): string | undefined {
  try {
    const url = event.senderFrame?.url;
    if (url === undefined) return undefined;
    const cut = url.search(/[?#]/);
    return (cut === -1 ? url : url.slice(0, cut)).slice(0, 200);
  } catch {
    return undefined;
  }
}
