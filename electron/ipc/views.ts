/**
 * One core view per window, and the MessagePort that carries its events and frames.
 *
 * The handshake, in order:
 * 1. window.ts creates a window and `track()`s its webContents: from then on it counts as one of
 *    our windows for the sender guard;
 * 2. the window's preload invokes IPC.ready (guarded in commands.ts) and `attach()` opens a view on
 *    the core with a sink that posts `{ type: 'event' }` messages on port1, then hands port2 to the
 *    page's preload with `webContents.postMessage(IPC.port, null, [port2])`;
 * 3. the preload asks for frames with `{ type: 'frame', id }` on its port; each is answered with
 *    `{ type: 'frame', id, frame }` when the view's nextFrame() resolves (pull-based: one in flight).
 *
 * Core events are not queued for a window before step 2: the view does not exist until the page
 * says it is ready, so no event can be sent into a page that cannot receive it yet. The one
 * exception is sendTo(): an event meant for one window (a deep link that opened it) waits for its
 * page to attach, the latest of each name only.
 *
 * A view is released (session closed, port closed) when its page goes away:
 * - a new IPC.ready from the same window (a reload, or a page that asks twice) replaces it;
 * - another document COMMITS in the window's main frame: `did-navigate` (a reload, or any other
 *   cross-document navigation that went through) or `did-fail-provisional-load` for the main frame
 *   (Electron emits it from DidFinishNavigation only once an error page has committed, e.g. a
 *   reload while the dev server is down: the old document is gone then too). Releasing when a
 *   navigation merely STARTS would be wrong: one that is then cancelled (a redirect window.ts
 *   refuses, a 204, window.stop(), a newer navigation) leaves the old page in place, and that page
 *   never sends IPC.ready again, so it would be stuck without its view for good. In-page
 *   navigations (`did-navigate-in-page`: hash, pushState) keep the document and the view.
 *   This relies on Chromium reporting a commit to the browser before the new document's preload
 *   can send anything, so that the release comes before the new page's IPC.ready; the guard in
 *   guard.ts relies on the same order (`mainFrame` is the new document by the time it speaks);
 * - the port's far end closes (the page was torn down for any reason we did not see);
 * - the render process goes, or the webContents is destroyed.
 */
import type { MessagePortMain, WebContents } from 'electron';
import { fail, ok, type EventMap, type EventName, type Result } from '../../shared/api.ts';
import { IPC, type PortMessage, type PortRequest } from '../../shared/channels.ts';
import type { ViewSession, ViewSink } from '../core/types.ts';
import type { Logger } from '../stream/log.ts';
import { isOurUrl } from './origin.ts';

/** The two ends of a MessageChannelMain. */
export interface PortPair {
  readonly port1: MessagePortMain;
  readonly port2: MessagePortMain;
}

export interface ViewManagerOptions {
  /** Opens a view on the core (MonitorCore.openView). */
  readonly openView: (sink: ViewSink) => ViewSession;
  /** `() => new MessageChannelMain()` in the app; a fake in tests. */
  readonly createChannel: () => PortPair;
  /**
   * Our origins (origin.ts appOrigins). window.ts prevents navigations anywhere else, so a commit
   * elsewhere is logged as a warning (the view is released all the same: its page is gone).
   */
  readonly origins: readonly string[];
  readonly log: Logger;
}

/** What the IPC handlers need from the registry of windows and views. */
export interface ViewRegistry {
  isOurWindow(webContentsId: number): boolean;
  attach(contents: WebContents): Result<{ readonly viewId: string }>;
  session(webContentsId: number): ViewSession | undefined;
}

interface AttachedView {
  readonly webContentsId: number;
  readonly port: MessagePortMain;
  session: ViewSession | undefined;
  closed: boolean;
}

export class ViewManager implements ViewRegistry {
  readonly #options: ViewManagerOptions;
  readonly #log: Logger;
  /** Our windows' webContents, by id: the sender registry of the IPC guard. */
  readonly #windows = new Map<number, WebContents>();
  readonly #views = new Map<number, AttachedView>();
  /** sendTo() events for windows whose page has not attached yet: the latest per name. */
  readonly #pending = new Map<number, Map<EventName, unknown>>();

  constructor(options: ViewManagerOptions) {
    this.#options = options;
    this.#log = options.log;
  }

  /**
   * Registers a window's webContents as ours and releases its view whenever its page goes away.
   * Idempotent.
   */
  track(contents: WebContents): void {
    const id = contents.id;
    if (this.#windows.has(id)) return;
    this.#windows.set(id, contents);
    // Commits only (see the header): a navigation that starts and is then cancelled keeps its page.
    contents.on('did-navigate', (_event, url) => {
      if (!isOurUrl(url, this.#options.origins)) {
        this.#log.warn({ webContentsId: id, url: redactUrl(url) }, 'a window left our origins');
      }
      this.release(id, 'another document committed');
    });
    contents.on(
      'did-fail-provisional-load',
      (_event, errorCode, _description, _url, isMainFrame) => {
        if (isMainFrame) this.release(id, `an error page committed (${errorCode})`);
      },
    );
    contents.on('render-process-gone', (_event, details) => {
      this.release(id, `render process gone (${details.reason})`);
    });
    contents.once('destroyed', () => {
      this.release(id, 'window destroyed');
      this.#windows.delete(id);
      this.#pending.delete(id);
    });
  }

  isOurWindow(webContentsId: number): boolean {
    return this.#windows.has(webContentsId);
  }

  /**
   * Opens a view for the window (replacing any it had) and sends the page its port. The caller
   * has already run the sender guard.
   */
  attach(contents: WebContents): Result<{ readonly viewId: string }> {
    const id = contents.id;
    if (!this.#windows.has(id)) return fail('forbidden', 'not one of our windows');
    this.release(id, 'replaced by a new ready');

    let pair: PortPair;
    try {
      pair = this.#options.createChannel();
    } catch (err) {
      this.#log.error({ err, webContentsId: id }, 'could not create a message channel');
      return fail('internal', 'could not attach the window');
    }
    const view: AttachedView = {
      webContentsId: id,
      port: pair.port1,
      session: undefined,
      closed: false,
    };
    const sink: ViewSink = {
      emit: (event, payload) => this.#post(view, { type: 'event', event, payload }),
    };
    try {
      view.session = this.#options.openView(sink);
    } catch (err) {
      this.#log.error({ err, webContentsId: id }, 'could not open a view');
      closeQuietly(pair.port1);
      closeQuietly(pair.port2);
      return fail('internal', 'could not attach the window');
    }
    this.#views.set(id, view);
    pair.port1.on('message', (message) => this.#onRequest(view, message.data));
    pair.port1.on('close', () => {
      if (this.#views.get(id) === view) this.release(id, 'port closed by the page');
    });
    pair.port1.start();
    try {
      contents.postMessage(IPC.port, null, [pair.port2]);
    } catch (err) {
      this.#log.error({ err, webContentsId: id }, 'could not send the port to the window');
      this.release(id, 'port not delivered');
      return fail('internal', 'could not attach the window');
    }
    this.#log.debug({ webContentsId: id, viewId: view.session.id }, 'view attached');
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    for (const [event, payload] of pending ?? [])
      this.#post(view, { type: 'event', event, payload });
    return ok({ viewId: view.session.id });
  }

  /**
   * Sends one event to one of our windows: now if its page is attached, else when it attaches
   * (a window just opened, or reloading). False for a window that is not ours.
   */
  sendTo<E extends EventName>(webContentsId: number, event: E, payload: EventMap[E]): boolean {
    if (!this.#windows.has(webContentsId)) return false;
    const view = this.#views.get(webContentsId);
    if (view !== undefined && !view.closed) {
      this.#post(view, { type: 'event', event, payload });
      return true;
    }
    const queued = this.#pending.get(webContentsId) ?? new Map<EventName, unknown>();
    queued.set(event, payload);
    this.#pending.set(webContentsId, queued);
    return true;
  }

  /** The open view of a window, if its page has said it is ready. */
  session(webContentsId: number): ViewSession | undefined {
    const view = this.#views.get(webContentsId);
    return view === undefined || view.closed ? undefined : view.session;
  }

  /** Closes the window's view and its port, if it has one. Idempotent. */
  release(webContentsId: number, reason: string): void {
    const view = this.#views.get(webContentsId);
    if (view === undefined) return;
    this.#views.delete(webContentsId);
    view.closed = true;
    try {
      view.session?.close();
    } catch (err) {
      this.#log.error({ err, webContentsId }, 'closing a view failed');
    }
    closeQuietly(view.port);
    this.#log.debug({ webContentsId, reason }, 'view released');
  }

  /** Releases every view (the app is quitting). */
  releaseAll(reason: string): void {
    for (const id of [...this.#views.keys()]) this.release(id, reason);
  }

  /** How many views are open (tests, diagnostics). */
  get openViews(): number {
    return this.#views.size;
  }

  #onRequest(view: AttachedView, data: unknown): void {
    if (!isFrameRequest(data)) {
      this.#log.warn({ webContentsId: view.webContentsId }, 'ignored a malformed port message');
      return;
    }
    const session = view.session;
    if (view.closed || session === undefined) return;
    session.nextFrame().then(
      (frame) => this.#post(view, { type: 'frame', id: data.id, frame }),
      (err: unknown) => {
        // Superseded by a newer request, or the view closed: the page asks again if it still cares.
        if (!view.closed)
          this.#log.debug({ err, webContentsId: view.webContentsId }, 'frame request ended');
      },
    );
  }

  #post(view: AttachedView, message: PortMessage): void {
    if (view.closed) return;
    try {
      view.port.postMessage(message);
    } catch (err) {
      // A payload that does not structured-clone is a bug in main; the page keeps going.
      this.#log.error(
        {
          err,
          webContentsId: view.webContentsId,
          type: message.type,
          event: message.type === 'event' ? message.event : undefined,
        },
        'could not post to a window',
      );
    }
  }
}

/** A well-formed `{ type: 'frame', id }` request (anything else on the port is ignored). */
export function isFrameRequest(data: unknown): data is PortRequest {
  if (typeof data !== 'object' || data === null) return false;
  const request = data as { type?: unknown; id?: unknown };
  return (
    request.type === 'frame' && Number.isSafeInteger(request.id) && (request.id as number) >= 0
  );
}

/** A URL for the log without its query or fragment (they could carry anything). */
function redactUrl(url: string): string {
  const cut = url.search(/[?#]/);
  return (cut === -1 ? url : url.slice(0, cut)).slice(0, 200);
}

function closeQuietly(port: MessagePortMain): void {
  try {
    port.close();
  } catch {
    // already closed
  }
}
