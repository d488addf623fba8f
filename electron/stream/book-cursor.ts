/**
 * A view's cursor into the conflation book (electron/stream/book.ts): which rows changed since the
 * view's previous frame, and take(), which gathers them from the store into one QuoteFrame.
 */
import { frameColumns, type QuoteFrame } from '../../shared/frame.ts';
import { COLUMNS, STRIDE, type BookStore, type RowListener } from './book-store.ts';

/** One view's position in the book. */
export interface BookCursor {
  /** Something changed since the last take() (always true before the first one and after clear()). */
  readonly dirty: boolean;
  /**
   * The changes since the previous take: the rows updated since then, latest values; every row
   * when `full` (the first take, and the first after `clear()`). Called when not dirty it returns
   * an empty frame (seq still advances). Throws once the cursor is closed.
   */
  take(): QuoteFrame;
  /**
   * Calls `listener` when the cursor goes from clean to dirty (once per transition, not per
   * update), so a pending nextFrame() can resolve without polling. It runs synchronously inside
   * the apply call that dirtied the cursor; a throwing listener is logged and ignored. Returns the
   * unsubscriber.
   */
  onDirty(listener: () => void): () => void;
  /** Frames taken so far. */
  readonly frames: number;
  /** Updates folded into a newer one, over every frame taken so far. */
  readonly conflated: number;
  /** Releases the cursor: the book forgets it. Idempotent. */
  close(): void;
}

export class StoreCursor implements BookCursor, RowListener {
  readonly #store: BookStore;
  readonly #release: (cursor: StoreCursor) => void;
  /** 1 where the row is in `#list`. */
  #bits: Uint8Array;
  /** The dirty rows, in the order they first changed; `#count` of them are valid. */
  #list: Int32Array;
  #count = 0;
  /** The next take() carries every row. */
  #full = true;
  #pendingConflated = 0;
  #seq = 0;
  #frames = 0;
  #conflated = 0;
  #closed = false;
  readonly #listeners = new Set<() => void>();

  constructor(store: BookStore, release: (cursor: StoreCursor) => void) {
    this.#store = store;
    this.#release = release;
    this.#bits = new Uint8Array(store.capacity);
    this.#list = new Int32Array(store.capacity);
  }

  get dirty(): boolean {
    return !this.#closed && (this.#full || this.#count > 0);
  }

  get frames(): number {
    return this.#frames;
  }

  get conflated(): number {
    return this.#conflated;
  }

  /** Per message: keep it small. */
  mark(row: number): void {
    if (this.#closed) return;
    if (this.#bits[row] === 1) {
      this.#pendingConflated++;
      return;
    }
    this.#bits[row] = 1;
    this.#list[this.#count++] = row;
    if (this.#count === 1 && !this.#full) this.#notify();
  }

  resize(capacity: number): void {
    const bits = new Uint8Array(capacity);
    bits.set(this.#bits);
    const list = new Int32Array(capacity);
    list.set(this.#list.subarray(0, this.#count));
    this.#bits = bits;
    this.#list = list;
  }

  /**
   * After `clear`, or a `retain` that dropped rows: the next frame is full (it carries every row,
   * so the dirty list is moot), and the view must learn that now.
   */
  reset(capacity: number): void {
    const wasDirty = this.dirty;
    this.#bits = new Uint8Array(capacity);
    this.#list = new Int32Array(capacity);
    this.#count = 0;
    this.#full = true;
    if (!wasDirty) this.#notify();
  }

  take(): QuoteFrame {
    if (this.#closed) throw new Error('this book cursor is closed');
    const s = this.#store;
    const full = this.#full;
    const n = full ? s.size : this.#count;
    // The columns are views of ONE buffer: eleven typed arrays of their own cost 42 us at
    // 500 rows against 7 us for one buffer and eleven views (each backing store is a separate
    // zeroed allocation with its own GC bookkeeping), and structured clone (the view's
    // MessagePort) then copies one buffer instead of eleven. Electron's contextBridge, though,
    // copies a view with its whole backing buffer, so the preload gives each column a buffer of
    // its own before the frame crosses into the page (electron/preload.ts ownColumns).
    const buffer = new ArrayBuffer(n * 8 * COLUMNS);
    const out = Array.from({ length: COLUMNS }, (_, k) => new Float64Array(buffer, k * n * 8, n));
    // The gather writes through one array over the whole buffer (column k at k * n): one typed
    // array in the loop, not sixteen. A row's frame cells are its first COLUMNS (book-store.ts).
    const all = new Float64Array(buffer);
    const cells = s.cells;
    let symbols: string[];
    if (full) {
      symbols = s.symbols.slice(0, n);
      for (let i = 0; i < n; i++) {
        const at = i * STRIDE;
        for (let k = 0, o = i; k < COLUMNS; k++, o += n) all[o] = cells[at + k]!;
      }
    } else {
      // Built by push, so the array is packed: `new Array(n)` makes a holey one, which structured
      // clone writes key by key as a sparse array, at 3 to 4 times the cost (72 against 21 us at
      // 500 rows in bench/frames.ts) on both sides of the port.
      symbols = [];
      const list = this.#list;
      for (let i = 0; i < n; i++) {
        const row = list[i]!;
        symbols.push(s.symbols[row]!);
        const at = row * STRIDE;
        for (let k = 0, o = i; k < COLUMNS; k++, o += n) all[o] = cells[at + k]!;
      }
    }
    const bits = this.#bits;
    const list = this.#list;
    for (let i = 0; i < this.#count; i++) bits[list[i]!] = 0;
    this.#count = 0;
    this.#full = false;
    const conflated = this.#pendingConflated;
    this.#pendingConflated = 0;
    this.#conflated += conflated;
    this.#frames++;
    return {
      seq: ++this.#seq,
      builtAt: s.now(),
      conflated,
      full,
      symbols,
      ...frameColumns(out),
    };
  }

  onDirty(listener: () => void): () => void {
    if (this.#closed) return () => {};
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    this.#bits = new Uint8Array(0);
    this.#list = new Int32Array(0);
    this.#count = 0;
    this.#release(this);
  }

  #notify(): void {
    if (this.#listeners.size === 0) return;
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch (err) {
        this.#store.log.error({ err }, 'a book cursor onDirty listener threw');
      }
    }
  }
}
