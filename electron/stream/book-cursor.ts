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
  /**
   * Which symbols the view shows (undefined: all of them, the default). The rows of these symbols
   * go in every frame; the other changed rows trickle in oldest first, so that each waits about
   * FOCUS_BACKGROUND_MS. A watchlist of 1,000 symbols with 20 on screen then pulls frames of
   * ~20 rows plus a share of the rest, not ~700: less to copy, send, decode and fold per frame,
   * while sorting, stale marks and the footer still see every row within a fraction of a second.
   * Unknown symbols are kept and match once their rows exist.
   */
  focus(symbols: readonly string[] | undefined): void;
  /** Frames taken so far. */
  readonly frames: number;
  /** Updates folded into a newer one, over every frame taken so far. */
  readonly conflated: number;
  /** Releases the cursor: the book forgets it. Idempotent. */
  close(): void;
}

/** How long a changed row outside a view's focus waits for a frame, at most about. */
export const FOCUS_BACKGROUND_MS = 250;

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
  /** The view's focus (see BookCursor.focus); undefined: every changed row in every frame. */
  #focus: ReadonlySet<string> | undefined;
  /** 1 where the row's symbol is in the focus; resolved for rows below `#focusResolved`. */
  #focusBits: Uint8Array;
  #focusResolved = 0;
  /** Scratch for a focused take's choice: the rows left for later frames. */
  #rest: Int32Array;
  /** The store's clock at the previous take. */
  #lastTake = Number.NaN;
  /** The current sweep of rows outside the focus (see #choose): its size, rows left, start. */
  #sweepTotal = 0;
  #sweepLeft = 0;
  #sweepStart = Number.NaN;

  constructor(store: BookStore, release: (cursor: StoreCursor) => void) {
    this.#store = store;
    this.#release = release;
    this.#bits = new Uint8Array(store.capacity);
    this.#list = new Int32Array(store.capacity);
    this.#focusBits = new Uint8Array(store.capacity);
    this.#rest = new Int32Array(store.capacity);
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
    const focusBits = new Uint8Array(capacity);
    focusBits.set(this.#focusBits);
    this.#focusBits = focusBits;
    this.#rest = new Int32Array(capacity);
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
    // Rows were renumbered: the focus is resolved again.
    this.#focusBits = new Uint8Array(capacity);
    this.#focusResolved = 0;
    this.#rest = new Int32Array(capacity);
    this.#sweepLeft = 0;
    if (!wasDirty) this.#notify();
  }

  focus(symbols: readonly string[] | undefined): void {
    if (this.#closed) return;
    this.#focus = symbols === undefined ? undefined : new Set(symbols);
    this.#focusBits.fill(0);
    this.#focusResolved = 0;
    this.#sweepLeft = 0;
  }

  /**
   * A focused take's rows: every changed focus row, and the oldest changed others at the pace of
   * a sweep: the rows outside the focus that were waiting when a sweep began go out evenly over
   * FOCUS_BACKGROUND_MS (at least one per take when nothing else is due), then the next sweep
   * takes what gathered meanwhile. A row waits one to two sweeps at most. Moves the chosen rows
   * to the front of `#list` (in their order), the others after them (in theirs), and returns how
   * many were chosen.
   */
  #choose(focus: ReadonlySet<string>, now: number): number {
    const s = this.#store;
    const fb = this.#focusBits;
    for (let r = this.#focusResolved; r < s.size; r++) fb[r] = focus.has(s.symbols[r]!) ? 1 : 0;
    this.#focusResolved = s.size;
    const list = this.#list;
    const count = this.#count;
    let focused = 0;
    for (let i = 0; i < count; i++) if (fb[list[i]!] === 1) focused++;
    const others = count - focused;
    if (this.#sweepLeft <= 0 && others > 0) {
      this.#sweepTotal = others;
      this.#sweepLeft = others;
      // Measured from the previous take: these rows have waited since then at least.
      this.#sweepStart = Number.isFinite(this.#lastTake)
        ? this.#lastTake
        : now - FOCUS_BACKGROUND_MS;
    }
    let share = 0;
    if (this.#sweepLeft > 0) {
      const part = Math.min(1, Math.max(0, now - this.#sweepStart) / FOCUS_BACKGROUND_MS);
      const due = Math.ceil(this.#sweepTotal * part) - (this.#sweepTotal - this.#sweepLeft);
      share = Math.min(others, Math.max(0, due));
    }
    if (share === 0 && focused === 0 && others > 0) share = 1;
    this.#sweepLeft -= share;
    // Stable partition: chosen rows to the front of `list`, the rest (in order) after them.
    const rest = this.#rest;
    let n = 0;
    let r = 0;
    for (let i = 0; i < count; i++) {
      const row = list[i]!;
      if (fb[row] === 1) list[n++] = row;
      else if (share > 0) {
        share--;
        list[n++] = row;
      } else rest[r++] = row;
    }
    list.set(rest.subarray(0, r), n);
    return n;
  }

  take(): QuoteFrame {
    if (this.#closed) throw new Error('this book cursor is closed');
    const s = this.#store;
    const full = this.#full;
    const now = s.now();
    const focus = this.#focus;
    const n = full ? s.size : focus === undefined ? this.#count : this.#choose(focus, now);
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
    if (full) this.#sweepLeft = 0;
    if (full || n === this.#count) {
      for (let i = 0; i < this.#count; i++) bits[list[i]!] = 0;
      this.#count = 0;
    } else {
      // A focused take left rows for later frames: they stay dirty, in their order.
      for (let i = 0; i < n; i++) bits[list[i]!] = 0;
      list.copyWithin(0, n, this.#count);
      this.#count -= n;
    }
    this.#lastTake = now;
    this.#full = false;
    const conflated = this.#pendingConflated;
    this.#pendingConflated = 0;
    this.#conflated += conflated;
    this.#frames++;
    return {
      seq: ++this.#seq,
      builtAt: now,
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
    this.#focusBits = new Uint8Array(0);
    this.#rest = new Int32Array(0);
    this.#focus = undefined;
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
