/**
 * The worker's half of the browser-mode bridge transport (see worker-socket.ts for why the socket
 * lives in a worker): it opens the one WebSocket the page asks for and relays it both ways,
 * message for message, in order. It knows nothing of the bridge's protocol; text stays text, and a
 * binary message (a quote frame) moves to the page as its ArrayBuffer, transferred, not copied.
 *
 * Backpressure: a page whose main thread stops reading no longer leaves the data in the socket (the
 * host's `maxBufferedBytes` guard saw that), since the worker keeps reading. So the page reports
 * what it has read (`read`, in steps of READ_REPORT_BYTES), and once more than `maxUnreadBytes` have
 * been relayed and not reported, the worker closes the socket (PAGE_STOPPED_READING) and relays
 * nothing more: the same end the host gives a tab that stopped reading, at the same default size.
 *
 * Shared frames: when the page sends shared memory (`slot`, frame-slot.ts), binary messages go into
 * it rather than into a message, and the page reads them at its next animation frame without a
 * task. A short `slot` notice is still posted, for a page whose animation frames do not run (a
 * hidden tab) or run late; whichever comes first takes the frame. Text, and frames that do not fit,
 * are posted as before, counted, so that the page keeps the socket's order.
 *
 * No DOM and no worker globals here: the port and the WebSocket constructor are passed in, so the
 * relay runs as it is in a Node test, over a MessageChannel, against a real host.
 */

import { FrameSlotWriter, isFrameSlot } from './frame-slot.ts';

/** What the page asks of the worker. */
export type ToRelay =
  | { readonly op: 'open'; readonly url: string }
  | { readonly op: 'send'; readonly data: string }
  | { readonly op: 'close'; readonly code?: number; readonly reason?: string }
  /** The page has read this many more bytes of what the worker relayed (messageBytes of each). */
  | { readonly op: 'read'; readonly bytes: number }
  /** Shared memory for quote frames (frame-slot.ts), sent right after `open` when the page can. */
  | { readonly op: 'slot'; readonly memory: SharedArrayBuffer };

/** What the worker tells the page: the socket's own events, in the order they happened. */
export type FromRelay =
  | { readonly op: 'open' }
  | { readonly op: 'message'; readonly data: string | ArrayBuffer }
  /** A frame is in the shared slot: the page takes it now, if its animation frame has not yet. */
  | { readonly op: 'slot' }
  | {
      readonly op: 'close';
      readonly code: number;
      readonly reason: string;
      readonly wasClean: boolean;
    };

/** The worker's side of its channel to the page (a DedicatedWorkerGlobalScope, or a MessagePort). */
export interface RelayPort {
  postMessage(message: FromRelay, transfer?: ArrayBuffer[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}

/** The part of WebSocket the relay uses. */
export interface RelayedSocket {
  binaryType: 'arraybuffer' | 'blob';
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  addEventListener(type: 'close', listener: (event: CloseEvent) => void): void;
}

export interface RelayOptions {
  /** Relayed and not yet reported read, past which the socket is closed. Default 64 MiB. */
  readonly maxUnreadBytes?: number;
}

/** How far behind the page's main thread may fall before its bridge is closed, by default. */
export const MAX_UNREAD_BYTES = 64 * 1024 * 1024;
/** The page reports what it read each time this much more has been read. */
export const READ_REPORT_BYTES = 256 * 1024;
/** The close code (private range) of a bridge whose page stopped reading. */
export const PAGE_STOPPED_READING = 4000;

/** What a relayed message counts for in the backlog: its bytes, or two a character of text. */
export function messageBytes(data: string | ArrayBuffer): number {
  return typeof data === 'string' ? data.length * 2 : data.byteLength;
}

/** WebSocket.OPEN (the constant is not on every implementation a test passes in). */
const OPEN = 1;
/** Close code for a connection that ended without a close frame, as a browser reports it. */
export const ABNORMAL_CLOSURE = 1006;

/**
 * Serves `port`: its first `open` makes the socket (one per worker: a second is ignored), `send`
 * and `close` go to it, and every socket event comes back. A socket that cannot even be made (a
 * malformed address) is reported as a close, which is how the page learns of every failure.
 */
export function relaySocket(
  port: RelayPort,
  Socket: new (url: string) => RelayedSocket,
  options: RelayOptions = {},
): void {
  const backlog = new Backlog(options.maxUnreadBytes ?? MAX_UNREAD_BYTES);
  const out = new Outbox(port);
  let socket: RelayedSocket | undefined;
  port.addEventListener('message', (event: MessageEvent) => {
    const ask = event.data as ToRelay | null;
    switch (ask?.op) {
      case 'open': {
        if (socket !== undefined) return;
        try {
          socket = new Socket(ask.url);
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          port.postMessage({ op: 'close', code: ABNORMAL_CLOSURE, reason, wasClean: false });
          return;
        }
        listen(port, socket, backlog, out);
        return;
      }
      case 'slot':
        if (isFrameSlot(ask.memory)) out.share(ask.memory);
        return;
      case 'read':
        if (typeof ask.bytes === 'number' && ask.bytes > 0) backlog.read(ask.bytes);
        return;
      case 'send':
        // Not open (yet, or any more): dropped, as the page's own socket would after closing; the
        // close event that follows settles whatever waited on it.
        if (socket?.readyState === OPEN && typeof ask.data === 'string') socket.send(ask.data);
        return;
      case 'close':
        try {
          socket?.close(ask.code, ask.reason);
        } catch {
          // A code or reason the socket refuses (not 1000 or 3000-4999, too long): close plainly.
          socket?.close();
        }
        return;
      default:
        return;
    }
  });
}

/** Bytes relayed to the page and not yet reported read. */
class Backlog {
  #unread = 0;
  #over = false;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** The page is that far behind: relay nothing more (the socket is being closed). */
  get over(): boolean {
    return this.#over;
  }

  /** Counts a relayed message; true when that takes the page past the limit. */
  add(bytes: number): boolean {
    this.#unread += bytes;
    if (this.#unread > this.#max) this.#over = true;
    return this.#over;
  }

  read(bytes: number): void {
    this.#unread = Math.max(0, this.#unread - bytes);
  }
}

/**
 * Relays the socket's messages to the page: through the shared slot when the page gave one and the
 * frame fits, else as messages, counted, so that a frame in the slot says how many came before it.
 */
class Outbox {
  readonly #port: RelayPort;
  #slot: FrameSlotWriter | undefined;
  /** Messages posted (`message`), modulo 2^32 as the slot counts them. */
  #posted = 0;

  constructor(port: RelayPort) {
    this.#port = port;
  }

  share(memory: SharedArrayBuffer): void {
    this.#slot ??= new FrameSlotWriter(memory);
  }

  relay(data: string | ArrayBuffer): void {
    if (typeof data !== 'string' && this.#slot?.put(data, this.#posted) === true) {
      this.#port.postMessage({ op: 'slot' });
      return;
    }
    if (typeof data === 'string') this.#port.postMessage({ op: 'message', data });
    else this.#port.postMessage({ op: 'message', data }, [data]);
    this.#posted = (this.#posted + 1) | 0;
  }
}

function listen(port: RelayPort, socket: RelayedSocket, backlog: Backlog, out: Outbox): void {
  socket.binaryType = 'arraybuffer';
  socket.addEventListener('open', () => port.postMessage({ op: 'open' }));
  socket.addEventListener('message', (event: MessageEvent) => {
    const data: unknown = event.data;
    if (backlog.over) return;
    if (typeof data !== 'string' && !(data instanceof ArrayBuffer)) return;
    if (backlog.add(messageBytes(data))) {
      socket.close(PAGE_STOPPED_READING, 'the page stopped reading its bridge');
      return;
    }
    out.relay(data);
  });
  socket.addEventListener('close', (event: CloseEvent) =>
    port.postMessage({
      op: 'close',
      code: event.code,
      reason: event.reason,
      wasClean: event.wasClean,
    }),
  );
}
