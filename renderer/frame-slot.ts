/**
 * A one-frame mailbox in shared memory, from the bridge worker to the page (browser mode, where the
 * page is cross-origin isolated). The worker puts each quote frame it receives here instead of
 * posting it, and the page takes it at the start of its next animation frame, before its painters
 * draw: no task on the page's main thread carries it, so it no longer waits in that thread's queue
 * behind rendering and input (worker-socket.ts tells how long that wait was, and why).
 *
 * One frame at a time is enough: the bridge client keeps one frame request in flight, and the host
 * answers each with one frame, so the next frame comes only after the page took the last. The
 * worker checks anyway, and posts a frame as a message when the slot is still full or the frame is
 * larger than the slot.
 *
 * Order: a frame must not overtake a message the worker posted before it. The worker counts the
 * messages it posted, the frame carries that count, and the page takes the frame only once it has
 * handled as many (worker-socket.ts). Anything else waits for the worker's notice.
 *
 * Layout: four Int32 words, then the bytes. The worker writes the bytes and the length, then the
 * sequence number (Atomics, so the page that sees the number sees the bytes); the page copies the
 * bytes out (the decoder's TextDecoder refuses shared memory) and writes the number it took.
 */

const SEQUENCE = 0;
const LENGTH = 1;
const AFTER = 2;
const TAKEN = 3;
const HEADER_WORDS = 4;
const HEADER_BYTES = HEADER_WORDS * 4;

/** What the page gets by default: a full first frame of a few thousand symbols fits. */
export const FRAME_SLOT_BYTES = 4 * 1024 * 1024;

/** Whether this page may share memory with its workers (cross-origin isolated). */
export function canShareMemory(scope: object = globalThis): boolean {
  const page = scope as { crossOriginIsolated?: unknown };
  return typeof SharedArrayBuffer === 'function' && page.crossOriginIsolated === true;
}

/** The slot's memory, made by the page and sent to the worker. */
export function createFrameSlot(capacity: number = FRAME_SLOT_BYTES): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + capacity);
}

/** Whether `value` is a slot's memory (what the worker checks of what the page sent). */
export function isFrameSlot(value: unknown): value is SharedArrayBuffer {
  return (
    typeof SharedArrayBuffer === 'function' &&
    value instanceof SharedArrayBuffer &&
    value.byteLength > HEADER_BYTES
  );
}

/** The slot's header words and its bytes, as both ends see them. */
function slotViews(memory: SharedArrayBuffer): { words: Int32Array; bytes: Uint8Array } {
  return {
    words: new Int32Array(memory, 0, HEADER_WORDS),
    bytes: new Uint8Array(memory, HEADER_BYTES),
  };
}

/** The worker's end. */
export class FrameSlotWriter {
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;

  constructor(memory: SharedArrayBuffer) {
    ({ words: this.#words, bytes: this.#bytes } = slotViews(memory));
  }

  /**
   * Puts `frame` in the slot, to be taken after the page handled `after` messages; false when it
   * does not fit or the page has not taken the last one (then post it instead).
   */
  put(frame: ArrayBuffer, after: number): boolean {
    const words = this.#words;
    const sequence = Atomics.load(words, SEQUENCE);
    if (Atomics.load(words, TAKEN) !== sequence) return false;
    if (frame.byteLength > this.#bytes.length) return false;
    this.#bytes.set(new Uint8Array(frame));
    Atomics.store(words, LENGTH, frame.byteLength);
    Atomics.store(words, AFTER, after | 0);
    // Last: a page that reads this number finds the bytes and the length above.
    Atomics.store(words, SEQUENCE, (sequence + 1) | 0);
    return true;
  }
}

/** The page's end. */
export class FrameSlotReader {
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;

  constructor(memory: SharedArrayBuffer) {
    ({ words: this.#words, bytes: this.#bytes } = slotViews(memory));
  }

  /**
   * The frame waiting in the slot, copied out, when the page has handled the `handled` messages
   * the worker posted before it; otherwise undefined (none waits, or an earlier message has not
   * been handled yet).
   */
  take(handled: number): ArrayBuffer | undefined {
    const words = this.#words;
    const sequence = Atomics.load(words, SEQUENCE);
    if (sequence === Atomics.load(words, TAKEN)) return undefined;
    // Counted modulo 2^32 on both ends: the difference says which came first.
    if ((((handled | 0) - Atomics.load(words, AFTER)) | 0) < 0) return undefined;
    const length = Atomics.load(words, LENGTH);
    const frame = this.#bytes.slice(0, length).buffer;
    Atomics.store(words, TAKEN, sequence);
    return frame;
  }
}
