/**
 * The preload: exposes `window.monitor` (MonitorApi) and nothing else. The page never sees
 * ipcRenderer, a MessagePort or any Electron object: only three functions, each of which checks
 * what the page passes.
 *
 * Runs sandboxed (a plain CommonJS script whose only require is `electron`), so it must stay
 * small and must not pull in zod: it imports shared/api.ts for TYPES only (erased), and
 * shared/channels.ts, which has no dependencies.
 *
 * Protocol (see electron/ipc/views.ts for main's side):
 * - at load it invokes IPC.ready; main opens a view and posts a MessagePort on IPC.port;
 * - events arrive on the port as `{ type: 'event', event, payload }` and go to `on` listeners;
 * - nextFrame() sends `{ type: 'frame', id }` and resolves with the matching
 *   `{ type: 'frame', id, frame }`.
 *
 * nextFrame semantics, the same as the core's ViewSession and the browser-mode bridge client: one
 * caller waits at a time, and at most ONE request is in flight to main. A call while one is pending
 * rejects the earlier promise ("superseded") and takes over the request already in flight: no new
 * message goes to main, and main's answer goes to whoever waits now. This matters because main
 * answers at once when the view has changes, taking them from the view's cursor; a second request
 * would leave the frame in the first answer with nobody to receive it (a restarted pull loop, or
 * React StrictMode mounting the loop twice, would lose the full first frame). A new request is sent
 * only when none is in flight. A call before the port has arrived waits for it. If main sends a new
 * port (it replaced the view), the old port's answer can no longer come, so a waiting call is asked
 * again on the new port.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type {
  CommandInput,
  CommandName,
  CommandOutput,
  EventMap,
  EventName,
  MonitorApi,
  Result,
} from '../shared/api.ts';
import { IPC, type PortMessage, type PortRequest } from '../shared/channels.ts';
import type { QuoteFrame } from '../shared/frame.ts';

/**
 * The command names the page may invoke. A names-only copy of shared/api.ts COMMANDS (importing
 * that file would bundle zod into the preload); the type below fails to compile if the two ever
 * differ, and the preload test compares them at run time.
 */
export const PRELOAD_COMMANDS = [
  'connection:connect',
  'connection:disconnect',
  'source:set',
  'settings:get',
  'settings:update',
  'credentials:set',
  'credentials:clear',
  'credentials:status',
  'watchlists:list',
  'watchlists:create',
  'watchlists:rename',
  'watchlists:delete',
  'watchlists:add-symbols',
  'watchlists:remove-symbol',
  'watchlists:move-symbol',
  'handlers:list',
  'handlers:remove',
  'subscriptions:retry-refused',
  'diagnostics:snapshot',
  'diagnostics:export',
  'log:recent',
  'notices:dismiss',
  'simulator:control',
  'market:status',
  'symbols:search',
  'symbols:info',
  'market:bars',
  'market:series',
  'market:trading-status',
  'alerts:list',
  'alerts:create',
  'alerts:update',
  'alerts:delete',
  'alerts:log',
  'tape:watch',
  'watchlists:set-active',
  'frames:focus',
  'frames:resync',
  'update:status',
  'update:check',
  'update:restart',
  'relay:keys-set',
  'relay:keys-clear',
  'relay:status',
  'relay:serve',
] as const satisfies readonly CommandName[];

type MissingCommand = Exclude<CommandName, (typeof PRELOAD_COMMANDS)[number]>;
/** Compile-time check: every command in shared/api.ts is listed above. */
export const PRELOAD_COMMANDS_COMPLETE: [MissingCommand] extends [never] ? true : MissingCommand =
  true;

const commandSet: ReadonlySet<string> = new Set(PRELOAD_COMMANDS);

/**
 * Events that happen once and must not be lost to a page that is still loading: main can send a
 * deep link right after the port arrives, before the page's scripts have run and subscribed. The
 * latest one nobody has heard yet is kept and handed to the first listener that subscribes. State
 * events need no such care: the page reads the state itself when it starts.
 */
const HELD_EVENTS: ReadonlySet<string> = new Set<EventName>(['deeplink:symbol']);
const held = new Map<string, unknown>();

/** The DOM MessagePort as the preload uses it (tsconfig has no DOM lib). */
interface PagePort {
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  postMessage(message: PortRequest): void;
  start(): void;
  close(): void;
}

/** The page's current nextFrame() call. */
interface FrameWaiter {
  readonly promise: Promise<QuoteFrame>;
  readonly resolve: (frame: QuoteFrame) => void;
  readonly reject: (err: Error) => void;
}

function failure<T>(
  code: 'bad-request' | 'unknown-command' | 'internal',
  message: string,
): Result<T> {
  return { ok: false, error: { code, message } };
}

let port: PagePort | undefined;
/** Who gets the next frame. */
let waiter: FrameWaiter | undefined;
/** The id of the frame request main has not answered yet on the current port, if any. */
let inFlight: number | undefined;
let nextRequestId = 1;
const listeners = new Map<string, Set<(payload: unknown) => void>>();

/** Asks main for a frame unless a request is already on its way or there is no port yet. */
function requestFrame(): void {
  if (waiter === undefined || port === undefined || inFlight !== undefined) return;
  const id = nextRequestId++;
  inFlight = id;
  port.postMessage({ type: 'frame', id });
}

function onPortMessage(data: unknown): void {
  if (typeof data !== 'object' || data === null) return;
  const message = data as PortMessage;
  if (message.type === 'event') {
    const set = listeners.get(message.event);
    if (set === undefined || set.size === 0) {
      if (HELD_EVENTS.has(message.event)) held.set(message.event, message.payload);
      return;
    }
    for (const listener of [...set]) {
      try {
        listener(message.payload);
      } catch (err) {
        // One throwing listener must not starve the others.
        console.error(`monitor.on('${message.event}') listener threw`, err);
      }
    }
  } else if (message.type === 'frame') {
    if (message.id !== inFlight) return; // not the request in flight: junk, or from an old port
    inFlight = undefined;
    const done = waiter;
    waiter = undefined;
    // There is always a waiter while a request is in flight (a newer call replaces it, never
    // clears it), so no frame main has taken from the view is dropped here.
    done?.resolve(ownColumns(message.frame));
  }
}

/**
 * Main builds a frame's ids and values as two views of one buffer (electron/stream/book-cursor.ts
 * take(): one allocation, and one buffer for the port's structured clone). contextBridge copies a
 * typed array together with its whole backing buffer, so the small ids view gets a buffer of its
 * own here, before the frame crosses into the page; the values are nearly all of the buffer (all
 * but n x 4 bytes) and cross as they are.
 */
function ownColumns(frame: QuoteFrame): QuoteFrame {
  const rows = frame.rows;
  if (rows.byteLength === rows.buffer.byteLength) return frame;
  return { ...frame, rows: rows.slice() };
}

function attachPort(next: PagePort): void {
  port?.close();
  port = next;
  // The old port is closed: its answer can no longer arrive, so a waiting call asks on this one.
  inFlight = undefined;
  next.onmessage = (event) => onPortMessage(event.data);
  next.start();
  requestFrame();
}

const api: MonitorApi = {
  invoke<C extends CommandName>(
    command: C,
    input: CommandInput<C>,
  ): Promise<Result<CommandOutput<C>>> {
    if (typeof command !== 'string' || !commandSet.has(command)) {
      return Promise.resolve(
        failure(
          'unknown-command',
          `unknown command: ${JSON.stringify(String(command)).slice(0, 80)}`,
        ),
      );
    }
    return (async () => {
      try {
        return (await ipcRenderer.invoke(command, input)) as Result<CommandOutput<C>>;
      } catch (err) {
        // A payload that cannot be cloned, or main without a handler: never a rejection.
        const message = err instanceof Error ? err.message : String(err);
        return failure<CommandOutput<C>>('internal', `${command}: ${message}`);
      }
    })();
  },

  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void {
    if (typeof event !== 'string' || typeof listener !== 'function') {
      throw new TypeError('monitor.on(event, listener) takes an event name and a function');
    }
    let set = listeners.get(event);
    if (set === undefined) {
      set = new Set();
      listeners.set(event, set);
    }
    const entry = listener as (payload: unknown) => void;
    set.add(entry);
    if (held.has(event)) {
      const payload = held.get(event);
      held.delete(event);
      // After on() has returned, as a message from the port would be.
      queueMicrotask(() => {
        try {
          entry(payload);
        } catch (err) {
          console.error(`monitor.on('${event}') listener threw`, err);
        }
      });
    }
    return () => {
      listeners.get(event)?.delete(entry);
    };
  },

  nextFrame(): Promise<QuoteFrame> {
    const earlier = waiter;
    let resolve!: (frame: QuoteFrame) => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<QuoteFrame>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    waiter = { promise, resolve, reject };
    if (earlier !== undefined) {
      // A stopped loop may no longer listen: its rejection must not surface as unhandled.
      earlier.promise.catch(() => undefined);
      earlier.reject(
        new Error('superseded by a newer nextFrame() call, which takes over its request'),
      );
    }
    requestFrame(); // a no-op while a request is in flight: the newer call takes that one over
    return promise;
  },
};

ipcRenderer.on(IPC.port, (event) => {
  const received = event.ports[0] as unknown as PagePort | undefined;
  if (received !== undefined) attachPort(received);
});

contextBridge.exposeInMainWorld('monitor', api);

ipcRenderer.invoke(IPC.ready).then(
  (result: Result<unknown>) => {
    if (!result.ok) console.error(`monitor: main refused this window (${result.error.message})`);
  },
  (err: unknown) => console.error('monitor: could not reach main', err),
);
