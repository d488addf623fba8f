/**
 * The MonitorApi over the browser-mode bridge (electron/host/server.ts documents the protocol).
 * In Electron a window gets the same interface from preload; in a browser tab served by
 * `market-monitor web`, this is it. Browser code: the standard WebSocket, no node:*, no electron.
 *
 * Semantics match the Electron side: invoke() always resolves with a Result (a lost bridge is
 * `internal: bridge disconnected`, never a rejection); nextFrame() resolves with a frame or rejects
 * (superseded by a newer call, bridge lost).
 *
 * At most ONE frame request is in flight. A nextFrame() call while one waits rejects the earlier
 * promise ("superseded") and takes over the request already sent: no new message, and the host's
 * answer goes to whoever waits now. The host's view answers at once when it has changes, taking
 * them from its cursor, so a second request would leave the first answer's frame (often the full
 * first frame) to a caller that no longer listens: a restarted pull loop, or React StrictMode
 * mounting the loop twice, would lose it. A new request is sent only when none is in flight.
 *
 * There is no reconnect: the host's view session, and with it the frame cursor, died with the
 * socket, so the page says "bridge lost, reload" instead.
 *
 * The page passes `openSocket` so that the socket is read in a worker (worker-socket.ts says why);
 * the messages and their order are the same either way.
 *
 * Payloads travel as JSON: the contract's commands and events are plain data, so nothing is lost
 * (structured clone in Electron would also carry Dates and Maps; the contract uses neither).
 */
import type {
  CommandInput,
  CommandName,
  CommandOutput,
  EventMap,
  EventName,
  MonitorApi,
  Result,
} from '../shared/api.ts';
import { decodeFrame } from '../shared/frame-codec.ts';
import type { QuoteFrame } from '../shared/frame.ts';

/** Binary frame messages: [u32 LE request id][u32 zero] then the encoded frame. */
const FRAME_HEADER_BYTES = 8;
/** WebSocket.OPEN (the constant itself is not on every WebSocket implementation tests pass in). */
const OPEN = 1;
const MAX_ID = 0xffff_ffff;

export type BridgeStatus = 'open' | 'closed';

export interface BridgeCloseInfo {
  /** The WebSocket close code (1006: the connection dropped without a close frame). */
  readonly code: number;
  readonly reason: string;
}

export interface BridgeClient extends MonitorApi {
  readonly status: BridgeStatus;
  /** Called once when the bridge closes (at once if it already has). Returns the unsubscribe. */
  onClose(listener: (info: BridgeCloseInfo) => void): () => void;
  /** Closes the bridge: pending invokes resolve `bridge disconnected`, a pending frame rejects. */
  close(): void;
}

export interface BridgeOptions {
  /** `ws://127.0.0.1:PORT/bridge?token=...`; see bridgeUrlFromLocation. */
  readonly url: string;
  /** Default: the global WebSocket. Tests pass one that sends the page's Origin, as a browser does. */
  readonly WebSocketImpl?: typeof WebSocket;
  /**
   * Opens the socket instead of `new WebSocketImpl(url)`: the page passes one that reads it in a
   * worker (worker-socket.ts). It must behave as a WebSocket in what this client uses: readyState,
   * send, close, and the open, message and close events.
   */
  readonly openSocket?: (url: string) => WebSocket;
}

const DISCONNECTED = {
  ok: false,
  error: { code: 'internal', message: 'bridge disconnected' },
} as const satisfies Result<never>;

type PendingInvoke = (result: Result<unknown>) => void;

/** The page's current nextFrame() call. */
interface FrameWaiter {
  readonly promise: Promise<QuoteFrame>;
  readonly resolve: (frame: QuoteFrame) => void;
  readonly reject: (err: Error) => void;
}

/** The one frame request the host has not answered yet, and who gets its answer. */
interface FrameRequest {
  readonly id: number;
  waiter: FrameWaiter;
}

/**
 * Opens the bridge; resolves once the socket is open. Rejects when it cannot open: the host is
 * gone, or it refused the token or the page's origin (a browser does not say which).
 */
export function connectBridge(options: BridgeOptions): Promise<BridgeClient> {
  const Impl = options.WebSocketImpl ?? globalThis.WebSocket;
  const open = options.openSocket ?? ((url: string) => new Impl(url));
  return new Promise((resolve, reject) => {
    let socket: WebSocket;
    try {
      socket = open(options.url);
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    socket.binaryType = 'arraybuffer';
    const onOpen = (): void => {
      socket.removeEventListener('close', onEarlyClose);
      resolve(new Bridge(socket));
    };
    const onEarlyClose = (event: CloseEvent): void => {
      socket.removeEventListener('open', onOpen);
      reject(
        new Error(
          `bridge did not open (code ${event.code}): the host is not running, or it refused ` +
            'this page (token or origin)',
        ),
      );
    };
    socket.addEventListener('open', onOpen, { once: true });
    socket.addEventListener('close', onEarlyClose, { once: true });
  });
}

class Bridge implements BridgeClient {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, PendingInvoke>();
  #frameRequest: FrameRequest | undefined;
  readonly #listeners = new Map<EventName, Set<(payload: never) => void>>();
  readonly #closeListeners = new Set<(info: BridgeCloseInfo) => void>();
  #closeInfo: BridgeCloseInfo | undefined;
  #nextId = 1;

  constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.addEventListener('message', (event: MessageEvent) => this.#message(event.data));
    socket.addEventListener('close', (event: CloseEvent) =>
      this.#closed({ code: event.code, reason: event.reason }),
    );
  }

  get status(): BridgeStatus {
    return this.#closeInfo === undefined ? 'open' : 'closed';
  }

  invoke<C extends CommandName>(
    command: C,
    input: CommandInput<C>,
  ): Promise<Result<CommandOutput<C>>> {
    if (this.#closeInfo !== undefined) return Promise.resolve(DISCONNECTED);
    const id = this.#id();
    let text: string;
    try {
      text = JSON.stringify({ type: 'invoke', id, command, payload: input });
    } catch (err) {
      // A cyclic object or a BigInt: the caller's bug, answered like any bad payload.
      const message = err instanceof Error ? err.message : String(err);
      return Promise.resolve({
        ok: false,
        error: { code: 'bad-request', message: `${command}: payload is not JSON: ${message}` },
      });
    }
    return new Promise((resolve) => {
      this.#pending.set(id, resolve as PendingInvoke);
      this.#send(text);
    });
  }

  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    const stored = listener as (payload: never) => void;
    set.add(stored);
    return () => {
      set.delete(stored);
    };
  }

  nextFrame(): Promise<QuoteFrame> {
    if (this.#closeInfo !== undefined) return Promise.reject(new Error('bridge disconnected'));
    let resolve!: (frame: QuoteFrame) => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<QuoteFrame>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const waiter: FrameWaiter = { promise, resolve, reject };
    const request = this.#frameRequest;
    if (request !== undefined) {
      // Take over the request in flight; its answer may already carry changes the host took.
      const earlier = request.waiter;
      request.waiter = waiter;
      // A stopped loop may no longer listen: its rejection must not surface as unhandled.
      earlier.promise.catch(() => undefined);
      earlier.reject(
        new Error('superseded by a newer nextFrame() call, which takes over its request'),
      );
      return promise;
    }
    const id = this.#id();
    this.#frameRequest = { id, waiter };
    this.#send(JSON.stringify({ type: 'frame', id }));
    return promise;
  }

  onClose(listener: (info: BridgeCloseInfo) => void): () => void {
    if (this.#closeInfo !== undefined) {
      const info = this.#closeInfo;
      queueMicrotask(() => listener(info));
      return () => {};
    }
    this.#closeListeners.add(listener);
    return () => {
      this.#closeListeners.delete(listener);
    };
  }

  close(): void {
    if (this.#closeInfo !== undefined) return;
    this.#socket.close(1000, 'closed by the page');
    // Settle now rather than at the close handshake: the caller asked for it.
    this.#closed({ code: 1000, reason: 'closed by the page' });
  }

  #id(): number {
    const id = this.#nextId;
    this.#nextId = id >= MAX_ID ? 1 : id + 1;
    return id;
  }

  #send(text: string): void {
    // Closing or closed: the close event settles (or has settled) whatever waits, and a send now
    // would only make the browser print "WebSocket is already in CLOSING or CLOSED state".
    if (this.#socket.readyState !== OPEN) return;
    try {
      this.#socket.send(text);
    } catch (err) {
      // Only when the socket is not open: its close event settles everything pending.
      console.warn('bridge: send failed', err);
    }
  }

  #message(data: unknown): void {
    if (data instanceof ArrayBuffer) {
      this.#frame(data);
      return;
    }
    if (typeof data !== 'string') {
      console.warn('bridge: unexpected message type', typeof data);
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      console.warn('bridge: a message from the host is not JSON', data.slice(0, 80));
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const m = message as {
      type?: unknown;
      id?: unknown;
      result?: unknown;
      event?: unknown;
      payload?: unknown;
    };
    if (m.type === 'event' && typeof m.event === 'string') {
      const set = this.#listeners.get(m.event as EventName);
      if (set === undefined) return;
      for (const listener of [...set]) {
        try {
          (listener as (payload: unknown) => void)(m.payload);
        } catch (err) {
          // One failing listener must not keep the event from the others.
          console.error(`bridge: a listener for ${m.event} threw`, err);
        }
      }
      return;
    }
    if (m.type === 'result' && typeof m.id === 'number') {
      const result = isResult(m.result)
        ? m.result
        : {
            ok: false as const,
            error: { code: 'internal' as const, message: 'malformed answer from the host' },
          };
      const frameWaiter = this.#takeFrameRequest(m.id);
      if (frameWaiter !== undefined) {
        // The host could not give a frame for this request (encode failure, view closed).
        frameWaiter.reject(new Error(result.ok ? 'no frame' : result.error.message));
        return;
      }
      const resolve = this.#pending.get(m.id);
      if (resolve === undefined) return;
      this.#pending.delete(m.id);
      resolve(result);
    }
  }

  #frame(data: ArrayBuffer): void {
    if (data.byteLength < FRAME_HEADER_BYTES) {
      console.warn('bridge: a binary message shorter than its header');
      return;
    }
    const id = new DataView(data).getUint32(0, true);
    const waiter = this.#takeFrameRequest(id);
    if (waiter === undefined) return;
    try {
      waiter.resolve(decodeFrame(new Uint8Array(data, FRAME_HEADER_BYTES)));
    } catch (err) {
      waiter.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Ends the frame request `id` if it is the one in flight; returns who waits for its answer. */
  #takeFrameRequest(id: number): FrameWaiter | undefined {
    const request = this.#frameRequest;
    if (request === undefined || request.id !== id) return undefined;
    this.#frameRequest = undefined;
    return request.waiter;
  }

  #closed(info: BridgeCloseInfo): void {
    if (this.#closeInfo !== undefined) return;
    this.#closeInfo = info;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const resolve of pending) resolve(DISCONNECTED);
    const frameRequest = this.#frameRequest;
    this.#frameRequest = undefined;
    frameRequest?.waiter.reject(new Error('bridge disconnected'));
    const listeners = [...this.#closeListeners];
    this.#closeListeners.clear();
    for (const listener of listeners) {
      try {
        listener(info);
      } catch (err) {
        console.error('bridge: a close listener threw', err);
      }
    }
  }
}

/** Enough of a Result's shape to read it without throwing. */
function isResult(value: unknown): value is Result<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as { ok?: unknown; error?: unknown };
  if (r.ok === true) return true;
  return (
    r.ok === false &&
    typeof r.error === 'object' &&
    r.error !== null &&
    typeof (r.error as { message?: unknown }).message === 'string'
  );
}

/**
 * The bridge URL for the page at `location` (`http://127.0.0.1:PORT/#token=...`), or undefined when
 * the page was not opened by `market-monitor web` (no token, or not http(s): an Electron window).
 * The token is in the fragment so that it is never sent in a request or a Referer.
 */
export function bridgeUrlFromLocation(location: {
  readonly protocol: string;
  readonly host: string;
  readonly hash: string;
}): string | undefined {
  const scheme =
    location.protocol === 'http:' ? 'ws:' : location.protocol === 'https:' ? 'wss:' : undefined;
  if (scheme === undefined || location.host === '') return undefined;
  const fragment = location.hash.startsWith('#') ? location.hash.slice(1) : location.hash;
  const token = new URLSearchParams(fragment).get('token');
  if (token === null || !/^[A-Za-z0-9_-]{1,512}$/.test(token)) return undefined;
  return `${scheme}//${location.host}/bridge?token=${token}`;
}
