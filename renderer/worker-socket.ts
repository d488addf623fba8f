/**
 * Browser mode's bridge socket, held by a dedicated worker (bridge-worker.ts, socket-relay.ts)
 * instead of the page. The bridge client (bridge-client.ts) gets the same messages in the same
 * order; only who reads the socket changes.
 *
 * Why: a quote frame that reaches a page's own WebSocket is handed to the page's main thread in
 * several steps (the network service's notice, the data pipe's read, the message event), each a
 * task of its own. Chromium runs rendering and input before such tasks, so while the page is busy
 * (keys pressed in the watchlist, a big paint) each step can wait a frame. Traced on the desk
 * bench, a frame sent by main waited 80–190 ms before its message event ran, behind several
 * animation frames. A worker reads its socket on its own thread, and the page gets each message as
 * one posted task, with the frame's bytes transferred. Measured (`npm run bench -- e2e`, desk, seven
 * interleaved pairs, load 2.0–4.4): socket-to-screen p99 median 101 ms on the page's socket, 71.6
 * through the worker; p50 25.8 against 23.0 (BENCHMARKS.md has the runs and the trade-off).
 *
 * WorkerSocket has the part of WebSocket's interface the bridge client uses: `readyState`,
 * `send(text)`, `close(code, reason)`, and `open`, `message` and `close` events.
 *
 * When the worker cannot run (no Worker in this browser, or its script refused or failed to load
 * before it said a word), the same object opens the socket itself, on the page, so the bridge
 * still works, as it did before the worker. A worker that fails after the socket opened closes the
 * bridge (1006), which the page reports as a lost bridge: the host's view died with the socket.
 * So does a `messageerror`. The page reports what it has read to the worker, which closes the
 * socket when the page falls too far behind (socket-relay.ts, backpressure).
 */
import {
  ABNORMAL_CLOSURE,
  messageBytes,
  READ_REPORT_BYTES,
  type FromRelay,
  type ToRelay,
} from './socket-relay.ts';

/** The part of Worker this uses; a test passes a MessagePort dressed as one. */
export interface RelayWorker {
  postMessage(message: ToRelay): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  addEventListener(type: 'error' | 'messageerror', listener: () => void): void;
  terminate(): void;
}

export interface WorkerSocketOptions {
  /** Starts the relay. Default: the bundled bridge-worker.ts. */
  readonly createWorker?: () => RelayWorker;
  /** The socket to open on the page when the worker cannot run. Default: the global WebSocket. */
  readonly DirectSocket?: new (url: string) => WebSocket;
}

export type Transport = 'worker' | 'page';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

type RelayWorkerConstructor = new (
  url: URL,
  options: { readonly type: 'module'; readonly name: string },
) => RelayWorker;

/** The bundled relay worker. Vite finds `new Worker(new URL(...))` and builds the file with the app. */
export function startBridgeWorker(): RelayWorker {
  // Looked up rather than named: this file is also type-checked without the DOM's globals.
  const { Worker } = globalThis as unknown as { Worker: RelayWorkerConstructor };
  return new Worker(new URL('./bridge-worker.ts', import.meta.url), {
    type: 'module',
    name: 'market-monitor bridge',
  });
}

/** Whether this page can start workers at all (a browser without them gets the page's socket). */
export function workersAvailable(): boolean {
  return typeof (globalThis as { Worker?: unknown }).Worker === 'function';
}

export class WorkerSocket extends EventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;

  /** Always 'arraybuffer' on both transports; the bridge client sets it to that anyway. */
  binaryType: 'arraybuffer' | 'blob' = 'arraybuffer';
  readonly url: string;
  #state = CONNECTING;
  #transport: Transport = 'worker';
  #worker: RelayWorker | undefined;
  #direct: WebSocket | undefined;
  /** The worker has answered (open or close): from then on, its failure is the bridge's. */
  #heard = false;
  /** Bytes read since the last report to the worker (see socket-relay.ts, backpressure). */
  #unreported = 0;
  readonly #DirectSocket: new (url: string) => WebSocket;

  constructor(url: string, options: WorkerSocketOptions = {}) {
    super();
    this.url = url;
    this.#DirectSocket = options.DirectSocket ?? WebSocket;
    let worker: RelayWorker;
    try {
      worker = (options.createWorker ?? startBridgeWorker)();
    } catch {
      // A worker refused outright (a policy that forbids them): the page's own socket.
      this.#openOnPage();
      return;
    }
    this.#worker = worker;
    worker.addEventListener('message', (event) => this.#fromWorker(event.data as FromRelay));
    worker.addEventListener('error', () => this.#workerFailed());
    // A message that could not be read means the worker's script ran, and its socket may be open
    // at the host: never a reason to open a second one, always the end of this one.
    worker.addEventListener('messageerror', () => {
      if (this.#worker === worker && this.#state !== CLOSED) {
        this.#finish(ABNORMAL_CLOSURE, 'the bridge worker failed', false);
      }
    });
    worker.postMessage({ op: 'open', url });
  }

  get readyState(): number {
    // On the page's own socket, its state is the truth: it turns CLOSING the moment close() is
    // called, before any event, and the bridge client reads it to decide whether to send.
    return this.#direct?.readyState ?? this.#state;
  }

  /** Where the socket is read: in the worker, or on the page (the fallback). */
  get transport(): Transport {
    return this.#transport;
  }

  send(data: string): void {
    if (this.#state === CONNECTING) {
      throw new DOMException('the bridge socket is not open yet', 'InvalidStateError');
    }
    if (this.#direct !== undefined) this.#direct.send(data);
    else if (this.#state === OPEN) this.#worker?.postMessage({ op: 'send', data });
  }

  close(code?: number, reason?: string): void {
    if (this.#direct !== undefined) {
      this.#direct.close(code, reason);
      return;
    }
    if (this.#state === CLOSING || this.#state === CLOSED) return;
    this.#state = CLOSING;
    this.#worker?.postMessage({
      op: 'close',
      ...(code === undefined ? {} : { code }),
      ...(reason === undefined ? {} : { reason }),
    });
  }

  #fromWorker(message: FromRelay): void {
    if (this.#worker === undefined || this.#state === CLOSED) return;
    switch (message?.op) {
      case 'open':
        this.#heard = true;
        // Closed by the page while connecting: the close that follows is all it hears, as with
        // a WebSocket.
        if (this.#state !== CONNECTING) return;
        this.#state = OPEN;
        this.dispatchEvent(new Event('open'));
        return;
      case 'message':
        // Only while open, as a WebSocket: not before 'open' (the page closed while connecting),
        // nor once the page has called close().
        if (this.#state === OPEN) {
          this.dispatchEvent(new MessageEvent('message', { data: message.data }));
          this.#read(messageBytes(message.data));
        }
        return;
      case 'close':
        this.#heard = true;
        this.#finish(message.code, message.reason, message.wasClean);
        return;
      default:
        return;
    }
  }

  /** Tells the worker what the page has read, a READ_REPORT_BYTES step at a time. */
  #read(bytes: number): void {
    this.#unreported += bytes;
    if (this.#unreported < READ_REPORT_BYTES) return;
    this.#worker?.postMessage({ op: 'read', bytes: this.#unreported });
    this.#unreported = 0;
  }

  #workerFailed(): void {
    if (this.#worker === undefined || this.#state === CLOSED) return;
    if (!this.#heard && this.#state === CONNECTING) {
      // Its script never ran (refused, missing): nothing was opened, so open it here instead.
      this.#worker.terminate();
      this.#worker = undefined;
      try {
        this.#openOnPage();
      } catch (err) {
        // The page cannot make the socket either (a malformed address, which the worker would have
        // reported as a close): the same close, rather than an exception out of this listener and
        // a bridge left connecting for ever.
        const reason = err instanceof Error ? err.message : String(err);
        this.#finish(ABNORMAL_CLOSURE, reason, false);
      }
      return;
    }
    this.#finish(ABNORMAL_CLOSURE, 'the bridge worker failed', false);
  }

  #openOnPage(): void {
    this.#transport = 'page';
    const socket = new this.#DirectSocket(this.url);
    this.#direct = socket;
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('open', () => {
      this.#state = OPEN;
      this.dispatchEvent(new Event('open'));
    });
    socket.addEventListener('message', (event: MessageEvent) => {
      const data: unknown = event.data;
      this.dispatchEvent(new MessageEvent('message', { data }));
    });
    socket.addEventListener('close', (event: CloseEvent) => {
      this.#state = CLOSED;
      this.dispatchEvent(closeEvent(event.code, event.reason, event.wasClean));
    });
  }

  #finish(code: number, reason: string, wasClean: boolean): void {
    this.#state = CLOSED;
    this.#worker?.terminate();
    this.#worker = undefined;
    this.dispatchEvent(closeEvent(code, reason, wasClean));
  }
}

/** A CloseEvent where the platform has one (browsers), an Event carrying the same fields elsewhere. */
function closeEvent(code: number, reason: string, wasClean: boolean): Event {
  if (typeof CloseEvent === 'function') return new CloseEvent('close', { code, reason, wasClean });
  return Object.assign(new Event('close'), { code, reason, wasClean });
}
