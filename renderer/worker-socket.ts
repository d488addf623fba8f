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
 * Even one posted task waits in that queue (main's answer to the frame's message event, p99 26–64
 * ms on the desk bench). So where the page may share memory with its worker (cross-origin isolated:
 * the host sends COOP and COEP), the worker puts each frame in a shared slot (frame-slot.ts) and
 * the page takes it at the start of its next animation frame, before the painters draw, without a
 * task; the worker's short notice still delivers it if a task runs first, or no animation frame
 * does (a hidden tab). The page looks at each animation frame for about two seconds after it sends
 * anything (a frame request), then leaves it to the notice. Messages keep the socket's order.
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
import { canShareMemory, createFrameSlot, FrameSlotReader } from './frame-slot.ts';
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
  /**
   * Runs `read` in the page's next animation frame, before its painters draw (paint-clock.ts's
   * requestRead). Given it, and a page that may share memory, quote frames come through a shared
   * slot (frame-slot.ts) that the page reads there, with no task to wait for.
   */
  readonly readBeforePaint?: (read: () => void) => void;
  /** Whether the page may share memory with the worker. Default: canShareMemory(). */
  readonly shareMemory?: boolean;
}

/**
 * Animation frames in a row the page looks in the slot and finds nothing, before it leaves the
 * frame to the worker's notice: about two seconds, longer than a busy market takes to answer.
 */
const SLOT_POLLS = 120;

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
  /** The shared frame slot's reading end, when frames come that way. */
  #slot: FrameSlotReader | undefined;
  readonly #readBeforePaint: ((read: () => void) => void) | undefined;
  /** Relayed messages handled, modulo 2^32 (the slot's frames say how many came before them). */
  #handled = 0;
  /** Animation frames left to look in the slot; a look is scheduled while this is above zero. */
  #polls = 0;
  #pollScheduled = false;

  constructor(url: string, options: WorkerSocketOptions = {}) {
    super();
    this.url = url;
    this.#DirectSocket = options.DirectSocket ?? WebSocket;
    this.#readBeforePaint = options.readBeforePaint;
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
    if (this.#readBeforePaint !== undefined && (options.shareMemory ?? canShareMemory())) {
      // After `open`, in a message of its own: a worker that cannot take the memory (not isolated
      // after all) loses only this message, and then posts every frame, as without a slot.
      try {
        const memory = createFrameSlot();
        const reader = new FrameSlotReader(memory);
        worker.postMessage({ op: 'slot', memory });
        // Only once the worker has it: a slot the worker never got is one nobody writes.
        this.#slot = reader;
      } catch {
        // The memory refused here (out of memory; DataCloneError on a page not isolated after
        // all). `open` is gone already and the worker's socket may be opening: throwing now
        // would leave it unowned. Without a slot, every frame is posted, as before.
      }
    }
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
    else if (this.#state === OPEN) {
      this.#worker?.postMessage({ op: 'send', data });
      // An answer may come through the slot: look for it at each animation frame for a while.
      this.#lookInSlot();
    }
  }

  /** Whether quote frames come through shared memory (a page that is cross-origin isolated). */
  get sharesFrames(): boolean {
    return this.#slot !== undefined && this.#worker !== undefined;
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
        // A frame in the slot from before this message goes first.
        this.#takeFromSlot();
        this.#handled = (this.#handled + 1) | 0;
        this.#deliver(message.data);
        // And one from after it, which waited for this message.
        this.#takeFromSlot();
        return;
      case 'slot':
        this.#takeFromSlot();
        return;
      case 'close':
        this.#heard = true;
        this.#takeFromSlot();
        this.#finish(message.code, message.reason, message.wasClean);
        return;
      default:
        return;
    }
  }

  /**
   * A message to the bridge client, only while open, as a WebSocket: not before 'open' (the page
   * closed while connecting), nor once the page has called close().
   */
  #deliver(data: string | ArrayBuffer): void {
    if (this.#state !== OPEN) return;
    this.dispatchEvent(new MessageEvent('message', { data }));
    this.#read(messageBytes(data));
  }

  /** Delivers the frame in the slot, if one waits and its turn has come; whether it did. */
  #takeFromSlot(): boolean {
    if (this.#slot === undefined || this.#state !== OPEN) return false;
    const frame = this.#slot.take(this.#handled);
    if (frame === undefined) return false;
    this.#deliver(frame);
    return true;
  }

  #lookInSlot(): void {
    if (this.#slot === undefined || this.#readBeforePaint === undefined) return;
    this.#polls = SLOT_POLLS;
    if (this.#pollScheduled) return;
    this.#pollScheduled = true;
    this.#readBeforePaint(this.#poll);
  }

  /** In an animation frame, before the painters: the frame in the slot, if any. */
  readonly #poll = (): void => {
    this.#pollScheduled = false;
    if (this.#worker === undefined || this.#state !== OPEN) return;
    if (this.#takeFromSlot()) {
      // Whoever waits for the next frame asks for it, and that looks again (perhaps already, from
      // a listener of this very frame).
      if (!this.#pollScheduled) this.#polls = 0;
      return;
    }
    this.#polls -= 1;
    if (this.#polls <= 0 || this.#readBeforePaint === undefined) return;
    this.#pollScheduled = true;
    this.#readBeforePaint(this.#poll);
  };

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
