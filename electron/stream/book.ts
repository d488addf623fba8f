/**
 * The conflation book: the latest quote, trade and day figures per symbol, and per view (cursor)
 * the set of rows that changed since that view's previous frame. Views pull: after painting, a
 * view takes a frame holding only its changed rows, latest values only. A slow view therefore
 * gets fewer, fuller frames and never a growing queue; `conflated` counts what it never saw
 * individually.
 *
 * Cost model. `applyQuote` / `applyTrade` / `applyBar` run per message at feed rate: a Map get for
 * the row, a few typed-array stores, one clock read, and per open cursor a bitmap test plus at most
 * one Int32 store. Nothing is allocated per message (a new symbol allocates its Map entry, and the
 * storage doubles now and then). The work proportional to changes happens in `take()`, once per
 * painted frame per view. `retain`, `clear`, opening and closing cursors are rare and may walk
 * every row.
 *
 * Rows are stored densely and row-major (book-store.ts: row i's values are together and belong
 * to `symbols[i]`); `retain` compacts them in place, keeping their order.
 *
 * Choices (the frame's columns are described in shared/frame.ts):
 * - Latest wins by ARRIVAL, not by exchange timestamp: Alpaca sends each symbol in order, and a
 *   reordered message is better shown than silently dropped. Daily bars are the exception (below).
 * - Values are stored as received (a one-sided quote keeps the 0 the server sent); fields never
 *   received are NaN.
 * - Volume: a daily bar SETS the day volume to its own volume, and every trade after it adds its
 *   size. Daily bars arrive about once a minute carrying the day so far, so each one re-anchors
 *   the running total; in between it is approximate (a trade that arrived just before a daily bar
 *   that does not yet include it is lost until the next one). Without any daily bar the volume is
 *   the sum of the trade sizes seen since the row appeared.
 * - refPrice (what change is measured against): the previous session's close where known; else
 *   the open of the latest daily bar; until one arrives, the price of the first trade seen for
 *   the row (later trades never move it).
 * - prevClose comes from snapshots (`applySnapshot`, the REST `prevDailyBar`). When the stream
 *   brings a daily bar of a later day than the row's, the session rolled: the close of the day
 *   that ended becomes prevClose (its last trade, the best the stream knows; the market context
 *   fetches the exact figure with its next snapshot).
 * - Day open/high/low: the daily bar's, widened by every trade after it (a trade outside the
 *   range moves high or low; the next daily bar re-anchors them).
 * - A daily bar whose start time is earlier than the one already applied (a replay of a previous
 *   day) is ignored; a later one (a new day) replaces volume, open, high, low and refPrice.
 * - Snapshots (`applySnapshot`) never overwrite newer streamed data: each field group (quote,
 *   trade, daily bar, previous close) is applied only when its event time is later than what the
 *   row holds; for the same day's bar, the figures only move the way a day moves (volume and
 *   high up, low down). A snapshot marks a row `polledAt` when it is the row's only source.
 * - Minute bars ('bar') and updated bars ('updatedBar', Alpaca's late correction of a MINUTE bar)
 *   carry nothing this book shows, so they are ignored. Trade corrections and cancels are not
 *   applied to volume (they are rare and the next daily bar re-anchors it).
 * - Trade conditions are not filtered: every trade moves lastPrice and adds to volume.
 * - Conflation counts every update (quote, trade or daily bar) that hits a row already dirty for a
 *   cursor; updates applied before a cursor existed are not counted for it.
 * - Wanted symbols: the handlers listen to every symbol ('*'), yet the server may still send a
 *   symbol nobody asked for (a message in flight when it was unsubscribed, or a hostile one). Once
 *   `retain(symbols)` has been called, only symbols in the last retained set get NEW rows; a
 *   message for any other symbol without a row is dropped and counted in `ignored`. The check runs
 *   only when a row would be created, so updates of existing rows stay one Map lookup. Before the
 *   first retain() every symbol is accepted (a standalone book, tests, tools). `clear()` keeps the
 *   retained set: a new source is subscribed to the same watchlists.
 * - A retain() that drops rows makes every cursor's next frame full (clean cursors are notified),
 *   so that a view, which clears rows only on a full frame, never keeps showing a removed symbol,
 *   and a symbol removed and added again starts fresh in every view alike.
 * - Overflow: with `maxSymbols` rows in use, a message for a symbol without a row is dropped and
 *   counted in `overflow` (messages, not distinct symbols: counting symbols would need the
 *   unbounded set the limit exists to avoid). The counter is cumulative; `clear()` keeps it.
 *   `ignored` and `overflow` never count the same message: an unwanted symbol is `ignored` first.
 */
import type { FrameColumn } from '../../shared/frame.ts';
import type { SymbolSnapshot } from '../rest/types.ts';
import type { Bar, Quote, Trade } from '../../shared/market.ts';
import { StoreCursor, type BookCursor } from './book-cursor.ts';
import {
  ASK_PRICE,
  ASK_SIZE,
  BID_PRICE,
  BID_SIZE,
  BookStore,
  DAILY_TIME,
  DAY_HIGH,
  DAY_LOW,
  DAY_OPEN,
  fieldOf,
  LAST_PRICE,
  LAST_SIZE,
  POLLED_AT,
  PREV_CLOSE,
  PREV_TIME,
  QUOTE_TIME,
  RECEIVED_AT,
  REF_PRICE,
  STRIDE,
  TRADE_TIME,
  VOLUME,
} from './book-store.ts';
import type { HandlerRegistry } from './handlers.ts';
import { silentLogger, type Logger } from './log.ts';

export type { BookCursor } from './book-cursor.ts';

export interface QuoteBookOptions {
  /** Wall-clock epoch ms, for `receivedAt` and `builtAt`; default Date.now. */
  readonly now?: () => number;
  /** Rows kept at most (default 20 000); messages for further new symbols are dropped and counted. */
  readonly maxSymbols?: number;
  /** Where a throwing onDirty listener is reported. */
  readonly logger?: Logger;
}

const DEFAULT_MAX_SYMBOLS = 20_000;

export class QuoteBook {
  readonly #store: BookStore;
  readonly #max: number;
  #overflow = 0;
  #ignored = 0;
  /** The last retained set (a copy); undefined until the first retain(): every symbol is wanted. */
  #wanted: ReadonlySet<string> | undefined;
  readonly #attached = new Set<HandlerRegistry>();

  constructor(options: QuoteBookOptions = {}) {
    const max = options.maxSymbols ?? DEFAULT_MAX_SYMBOLS;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`maxSymbols must be a positive integer, got ${String(max)}`);
    }
    this.#max = max;
    this.#store = new BookStore(options.now ?? Date.now, options.logger ?? silentLogger());
  }

  /**
   * Registers the book's built-in handlers (quotes, trades, daily bars; every symbol, though only
   * wanted symbols get rows: see `retain`) on `handlers`. Returns a disposer that removes them
   * (idempotent). Attaching twice to the same registry would apply every message twice, so it
   * throws.
   */
  attach(handlers: HandlerRegistry): () => void {
    if (this.#attached.has(handlers)) {
      throw new Error('this book is already attached to this handler registry');
    }
    const disposers: (() => void)[] = [];
    const dispose = (): void => {
      for (const d of disposers.splice(0)) d();
      this.#attached.delete(handlers);
    };
    try {
      // One push per registration, so that a throw part-way leaves the earlier ones disposable.
      disposers.push(
        handlers.on('quote', '*', (q) => this.applyQuote(q), {
          name: 'book: quotes',
          builtin: true,
        }),
      );
      disposers.push(
        handlers.on('trade', '*', (t) => this.applyTrade(t), {
          name: 'book: trades',
          builtin: true,
        }),
      );
      disposers.push(
        handlers.on('dailyBar', '*', (b) => this.applyBar(b), {
          name: 'book: daily bars',
          builtin: true,
        }),
      );
    } catch (err) {
      // E.g. the registry's handler limit: leave nothing half-registered.
      dispose();
      throw err;
    }
    this.#attached.add(handlers);
    let disposed = false;
    return () => {
      if (disposed) return;
      disposed = true;
      dispose();
    };
  }

  applyQuote(q: Quote): void {
    const row = this.#row(q.symbol);
    if (row < 0) return;
    const s = this.#store;
    const c = s.cells;
    const b = row * STRIDE;
    c[b + BID_PRICE] = q.bidPrice;
    c[b + BID_SIZE] = q.bidSize;
    c[b + ASK_PRICE] = q.askPrice;
    c[b + ASK_SIZE] = q.askSize;
    c[b + QUOTE_TIME] = q.timeMs;
    c[b + RECEIVED_AT] = s.now();
    s.touch(row);
  }

  applyTrade(t: Trade): void {
    const row = this.#row(t.symbol);
    if (row < 0) return;
    const s = this.#store;
    const c = s.cells;
    const b = row * STRIDE;
    c[b + LAST_PRICE] = t.price;
    c[b + LAST_SIZE] = t.size;
    c[b + TRADE_TIME] = t.timeMs;
    const volume = c[b + VOLUME]!;
    c[b + VOLUME] = (Number.isNaN(volume) ? 0 : volume) + t.size;
    if (Number.isNaN(c[b + REF_PRICE]!)) c[b + REF_PRICE] = t.price;
    // NaN compares false both ways: an unknown high or low stays unknown until a bar sets it.
    if (t.price > c[b + DAY_HIGH]!) c[b + DAY_HIGH] = t.price;
    if (t.price < c[b + DAY_LOW]!) c[b + DAY_LOW] = t.price;
    c[b + RECEIVED_AT] = s.now();
    s.touch(row);
  }

  /** Daily bars set volume and refPrice (see the module comment); other bars are ignored. */
  applyBar(b: Bar): void {
    if (b.kind !== 'dailyBar') return;
    const start = b.timeMs;
    const s = this.#store;
    const existing = s.index.get(b.symbol);
    // A replayed bar of an earlier day must not undo the current one.
    if (existing !== undefined && start < s.cells[existing * STRIDE + DAILY_TIME]!) return;
    const row = existing ?? this.#row(b.symbol);
    if (row < 0) return;
    // After #row, which may have grown (replaced) the cells.
    const c = s.cells;
    const at = row * STRIDE;
    const previousDay = c[at + DAILY_TIME]!;
    if (start > previousDay) this.#roll(row, start);
    c[at + DAILY_TIME] = start;
    c[at + VOLUME] = b.volume;
    c[at + DAY_OPEN] = b.open;
    c[at + DAY_HIGH] = b.high;
    c[at + DAY_LOW] = b.low;
    c[at + REF_PRICE] = Number.isNaN(c[at + PREV_CLOSE]!) ? b.open : c[at + PREV_CLOSE]!;
    c[at + RECEIVED_AT] = s.now();
    s.touch(row);
  }

  /**
   * Seeds or refreshes a row from a REST snapshot without overwriting newer streamed values (see
   * the module comment). `polledAt` marks the row as kept fresh by polling (pass NaN for a row the
   * stream carries). Returns false when the symbol is not wanted or the book is full.
   */
  applySnapshot(snap: SymbolSnapshot, polledAt = Number.NaN): boolean {
    const row = this.#row(snap.symbol);
    if (row < 0) return false;
    const s = this.#store;
    const c = s.cells;
    const b = row * STRIDE;
    let changed = false;
    const q = snap.latestQuote;
    if (q && !(q.time <= c[b + QUOTE_TIME]!)) {
      c[b + BID_PRICE] = q.bidPrice;
      c[b + BID_SIZE] = q.bidSize;
      c[b + ASK_PRICE] = q.askPrice;
      c[b + ASK_SIZE] = q.askSize;
      c[b + QUOTE_TIME] = q.time;
      changed = true;
    }
    const t = snap.latestTrade;
    if (t && !(t.time <= c[b + TRADE_TIME]!)) {
      c[b + LAST_PRICE] = t.price;
      c[b + LAST_SIZE] = t.size;
      c[b + TRADE_TIME] = t.time;
      changed = true;
    }
    const d = snap.dailyBar;
    if (d) {
      const current = c[b + DAILY_TIME]!;
      if (Number.isNaN(current) || d.time > current) {
        if (d.time > current) this.#roll(row, d.time);
        c[b + DAILY_TIME] = d.time;
        c[b + VOLUME] = d.volume;
        c[b + DAY_OPEN] = d.open;
        c[b + DAY_HIGH] = d.high;
        c[b + DAY_LOW] = d.low;
        changed = true;
      } else if (d.time === current) {
        // The same day seen at two moments: keep whichever saw more of it.
        if (!(d.volume <= c[b + VOLUME]!)) c[b + VOLUME] = d.volume;
        if (!(d.high <= c[b + DAY_HIGH]!)) c[b + DAY_HIGH] = d.high;
        if (!(d.low >= c[b + DAY_LOW]!)) c[b + DAY_LOW] = d.low;
        if (Number.isNaN(c[b + DAY_OPEN]!)) c[b + DAY_OPEN] = d.open;
        changed = true;
      }
    }
    const p = snap.prevDailyBar;
    const day = c[b + DAILY_TIME]!;
    // The previous day's close, unless the row already knows a later day's, or the bar is not
    // before the row's current day (a snapshot older than the stream's roll). The same day's
    // close replaces the roll's estimate (the last trade the stream saw).
    if (p && !(p.time < c[b + PREV_TIME]!) && !(p.time >= day)) {
      c[b + PREV_CLOSE] = p.close;
      c[b + PREV_TIME] = p.time;
      changed = true;
    }
    const ref = !Number.isNaN(c[b + PREV_CLOSE]!) ? c[b + PREV_CLOSE]! : c[b + DAY_OPEN]!;
    if (!Number.isNaN(ref)) c[b + REF_PRICE] = ref;
    if (!Object.is(c[b + POLLED_AT], polledAt)) {
      c[b + POLLED_AT] = polledAt;
      changed = true;
    }
    if (changed) {
      c[b + RECEIVED_AT] = s.now();
      s.touch(row);
    }
    return true;
  }

  /** The row of `symbol` is streamed again: its poll mark goes. */
  markStreamed(symbol: string): void {
    const s = this.#store;
    const row = s.index.get(symbol);
    if (row === undefined) return;
    const at = row * STRIDE + POLLED_AT;
    if (Number.isNaN(s.cells[at]!)) return;
    s.cells[at] = Number.NaN;
    s.touch(row);
  }

  /**
   * A daily bar of a later day reached `row`: the day it held is over, so its close (the last
   * trade before the new day began) becomes the previous close, unless a snapshot already gave
   * the close of a day at least as recent.
   */
  #roll(row: number, newDay: number): void {
    const c = this.#store.cells;
    const b = row * STRIDE;
    const oldDay = c[b + DAILY_TIME]!;
    if (Number.isNaN(oldDay)) return;
    if (c[b + PREV_TIME]! >= oldDay) return;
    const last = c[b + LAST_PRICE]!;
    if (Number.isNaN(last) || !(c[b + TRADE_TIME]! < newDay)) return;
    c[b + PREV_CLOSE] = last;
    c[b + PREV_TIME] = oldDay;
  }

  /** A new cursor; its first take() is a full frame of every known symbol. */
  cursor(): BookCursor {
    const s = this.#store;
    const cursor = new StoreCursor(s, (c) => {
      s.cursors = s.cursors.filter((x) => x !== c);
    });
    s.cursors = [...s.cursors, cursor];
    return cursor;
  }

  /**
   * Makes `symbols` the wanted set (compared as given: pass normalized symbols, as messages carry
   * them): from now on only these symbols get new rows (others are counted in `ignored`), and the
   * rows of symbols not in it are dropped. When any row is dropped, every cursor's next frame is
   * full and clean cursors are notified (see the module comment); a dropped symbol that is wanted
   * again starts a fresh row (NaN everywhere). The book keeps a copy of `symbols`. O(rows + wanted).
   */
  retain(symbols: ReadonlySet<string>): void {
    this.#wanted = new Set(symbols);
    const s = this.#store;
    let w = 0;
    for (let r = 0; r < s.size; r++) {
      const sym = s.symbols[r]!;
      if (!symbols.has(sym)) {
        s.index.delete(sym);
        continue;
      }
      if (w !== r) {
        s.moveRow(r, w);
        s.symbols[w] = sym;
        s.index.set(sym, w);
      }
      w++;
    }
    if (w === s.size) return;
    // Rows past the new size keep stale values; #row overwrites a row with NaN before reusing it.
    s.symbols.length = w;
    s.size = w;
    for (const c of s.cursors) c.reset(s.capacity);
  }

  /**
   * A new source: every row is gone and every cursor's next frame is full (and empty until data
   * arrives), which tells each view to drop what it shows. Cursors become dirty now, so pending
   * frames resolve at once. Conflation counts pending for a cursor are kept: those updates were
   * not seen either way.
   */
  clear(): void {
    const s = this.#store;
    s.reset();
    for (const c of s.cursors) c.reset(s.capacity);
  }

  /**
   * One figure of one symbol's row (NaN when the symbol has no row or the field no value yet):
   * for readers beside the views, like the alert rules (change %, day volume). A Map get.
   */
  value(symbol: string, column: FrameColumn): number {
    const s = this.#store;
    const row = s.index.get(symbol);
    return row === undefined ? Number.NaN : (s.cells[row * STRIDE + fieldOf(column)] ?? Number.NaN);
  }

  /** Rows in use. */
  get size(): number {
    return this.#store.size;
  }

  /**
   * Messages dropped because their symbol had no row and was not in the last retained set
   * (cumulative; always 0 before the first retain()).
   */
  get ignored(): number {
    return this.#ignored;
  }

  /** Messages dropped because `maxSymbols` rows were in use. */
  get overflow(): number {
    return this.#overflow;
  }

  /** Open cursors (for leak checks and diagnostics). */
  get cursors(): number {
    return this.#store.cursors.length;
  }

  /**
   * The row of `symbol`, created (NaN everywhere) when new; -1 when the symbol is not wanted or the
   * book is full.
   */
  #row(symbol: string): number {
    const s = this.#store;
    const row = s.index.get(symbol);
    if (row !== undefined) return row;
    const wanted = this.#wanted;
    if (wanted !== undefined && !wanted.has(symbol)) {
      this.#ignored++;
      return -1;
    }
    if (s.size >= this.#max) {
      this.#overflow++;
      return -1;
    }
    if (s.size === s.capacity) s.grow();
    const r = s.size++;
    s.clearRow(r);
    s.symbols[r] = symbol;
    s.index.set(symbol, r);
    return r;
  }
}
