/**
 * A view's cursor into the conflation book (electron/stream/book.ts): which rows changed since the
 * view's previous frame, and take(), which gathers them from the store into one QuoteFrame.
 *
 * A frame's symbol ids are the store's row numbers. Rows are only ever appended (0, 1, 2, ...) and
 * anything that drops or renumbers them resets every cursor (the next frame is full), so between
 * two full frames an id keeps its symbol, and the symbols a view has not been told yet are always
 * the rows from `#told` up to the store's size: a frame names them as one slice, with no per-row
 * bookkeeping in the gather.
 */
import type { QuoteFrame } from '../../shared/frame.ts';
import { COLUMNS, STRIDE, type BookStore, type RowListener } from './book-store.ts';

/** One view's position in the book. */
export interface BookCursor {
  /** Something changed since the last take() (always true before the first one and after clear()). */
  readonly dirty: boolean;
  /**
   * The changes since the previous take: the rows updated since then, latest values; every row
   * when `full` (the first take, and the first after `clear()` or `resync()`). Rows are named by
   * symbol id, and each frame names the symbols its view has not been told yet (shared/frame.ts),
   * so every frame taken must reach the view (one that does not is repaired by resync()). A fresh
   * buffer each time: a frame stays valid after later takes. Called when not dirty it returns an
   * empty frame (seq still advances). Throws once the cursor is closed.
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
   * go in every frame; the other changed rows follow oldest first in sweeps of
   * FOCUS_BACKGROUND_MS, so that each waits one or two sweeps at most. A watchlist of 1,000
   * symbols with 20 on screen then pulls frames of ~20 rows plus a share of the rest (~100 under
   * a full feed), not ~700: less to copy, send, decode and fold per frame, while sorting, stale
   * marks and the footer still see every row within half a second.
   * Unknown symbols are kept and match once their rows exist.
   */
  focus(symbols: readonly string[] | undefined): void;
  /**
   * The view lost a frame ('frames:resync'): the next take() is full, as a view's first one is
   * (every row, the symbol table afresh from id 0); later takes are incremental again. The focus
   * stays. If the cursor was clean, onDirty listeners hear of it at once, so a view waiting in a
   * quiet market heals now, not at the next quote. Asking again before that take changes nothing.
   */
  resync(): void;
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
  /** Rows 0 .. #told - 1 have had their symbols named to the view (since the last full frame). */
  #told = 0;
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

  resync(): void {
    // Not reset(): nothing was dropped or renumbered, so the buffers and the focus's resolved
    // bits stay valid; the full take itself clears the dirty list and the sweep, as a first
    // take does. A resync costs the view one full frame and nothing else.
    if (this.#closed || this.#full) return;
    const wasDirty = this.dirty;
    this.#full = true;
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
    // The wall clock stepped back (NTP, a resumed VM): the sweep's start is in the future and
    // nothing would fall due until the clock caught up. Let what waits go now.
    if (now < this.#sweepStart) this.#sweepStart = now - FOCUS_BACKGROUND_MS;
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
    // One buffer, one allocation: the ids (padded to 8 bytes), then the values column-major
    // (column k of row i at k * n + i). A frame of 500 rows paced like the app (bench/frames.ts)
    // built in about 75 us as sixteen column views of that buffer, against about 40 us as one
    // values view; without the 500 symbol strings its clone went from about 110 to 65 us.
    const idBytes = Math.ceil(n / 2) * 8;
    const buffer = new ArrayBuffer(idBytes + n * 8 * COLUMNS);
    const rows = new Int32Array(buffer, 0, n);
    const values = new Float64Array(buffer, idBytes, n * COLUMNS);
    const cells = s.cells;
    // A row's frame cells are its first COLUMNS (book-store.ts).
    const base = full ? 0 : this.#told;
    if (full) {
      for (let i = 0; i < n; i++) {
        rows[i] = i;
        const at = i * STRIDE;
        for (let k = 0, o = i; k < COLUMNS; k++, o += n) values[o] = cells[at + k]!;
      }
    } else {
      const list = this.#list;
      for (let i = 0; i < n; i++) {
        const row = list[i]!;
        rows[i] = row;
        const at = row * STRIDE;
        for (let k = 0, o = i; k < COLUMNS; k++, o += n) values[o] = cells[at + k]!;
      }
    }
    // Rows created since the last frame, whether or not they are in this one (a new row is
    // dirty in every cursor anyway). Sliced, so the array is packed for structured clone.
    const newSymbols = base < s.size ? s.symbols.slice(base, s.size) : [];
    this.#told = s.size;
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
      rows,
      symbolBase: base,
      newSymbols,
      values,
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
