/**
 * BookCursor.resync ('frames:resync'): a view that lost a frame gets a full one next, exactly like
 * its first frame (every row, the symbol table from id 0), and incremental frames after it.
 */
import { describe, expect, it } from 'vitest';
import { QuoteBook } from '../../../electron/stream/book.ts';
import { SymbolTable } from '../../../shared/frame.ts';
import { FrameReader } from '../../support/frame-reader.ts';
import { quote } from '../../support/market-messages.ts';

function setUp(symbols: readonly string[]) {
  let t = 1_000;
  const book = new QuoteBook({ now: () => t });
  for (const s of symbols) book.applyQuote(quote(s, 1));
  const cur = book.cursor();
  const tick = (ms = 16) => (t += ms);
  return { book, cur, tick };
}

describe('a resynced cursor', () => {
  it('takes a full frame next, with every row and a new table; then incremental ones again', () => {
    const { book, cur, tick } = setUp(['A', 'B', 'C']);
    const reader = new FrameReader();
    expect(reader.read(cur.take()).full).toBe(true);
    tick();
    book.applyQuote(quote('B', 2));
    book.applyQuote(quote('D', 3));
    // This frame names D (id 3) and never reaches the view: a lost frame.
    const lost = cur.take();
    expect(lost).toMatchObject({ seq: 2, full: false, symbolBase: 3, newSymbols: ['D'] });
    tick();
    book.applyQuote(quote('D', 4));
    book.applyQuote(quote('E', 5));
    cur.resync();
    expect(cur.dirty).toBe(true);
    const full = cur.take();
    // Just like a first frame: every row, in row order, named from id 0.
    expect(full).toMatchObject({
      seq: 3,
      full: true,
      symbolBase: 0,
      newSymbols: ['A', 'B', 'C', 'D', 'E'],
    });
    expect([...full.rows]).toEqual([0, 1, 2, 3, 4]);
    // A reader that skipped the lost frame resolves everything from the full one.
    const read = reader.read(full);
    expect(read.symbols).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect([...read.bidPrice]).toEqual([1, 2, 1, 4, 5]);
    // The same as a brand-new view's first frame of this book.
    const fresh = book.cursor().take();
    expect(fresh.newSymbols).toEqual(full.newSymbols);
    expect([...fresh.values]).toEqual([...full.values]);

    // Incremental again: only the changed row, and a new symbol named after the table's end.
    expect(cur.dirty).toBe(false);
    tick();
    book.applyQuote(quote('C', 6));
    book.applyQuote(quote('F', 7));
    const next = cur.take();
    expect(next).toMatchObject({ seq: 4, full: false, symbolBase: 5, newSymbols: ['F'] });
    expect(reader.read(next).symbols).toEqual(['C', 'F']);
  });

  it('wakes a view that waits on a clean cursor, once; asking twice makes one full frame', () => {
    const { book, cur, tick } = setUp(['A', 'B']);
    cur.take();
    let wakes = 0;
    cur.onDirty(() => (wakes += 1));
    expect(cur.dirty).toBe(false);
    cur.resync();
    cur.resync();
    expect(wakes).toBe(1);
    const full = cur.take();
    expect(full.full).toBe(true);
    expect(full.rows).toHaveLength(2);
    expect(cur.dirty).toBe(false);
    // Already dirty: the view is woken by the update, not again by the resync.
    tick();
    book.applyQuote(quote('A', 2));
    expect(wakes).toBe(2);
    cur.resync();
    expect(wakes).toBe(2);
    expect(cur.take().full).toBe(true);
    expect(cur.take()).toMatchObject({ full: false, rows: new Int32Array(0) });
  });

  it('carries every row whatever the focus, and keeps the focus for the frames after', () => {
    const symbols = Array.from({ length: 50 }, (_, i) => `S${i}`);
    const { book, cur, tick } = setUp(symbols);
    const table = new SymbolTable();
    table.learn(cur.take());
    cur.focus(['S7']);
    tick();
    for (const s of symbols) book.applyQuote(quote(s, 2));
    cur.resync();
    const full = cur.take();
    expect(table.learn(full)).toBe(true);
    expect(table.symbolsOf(full)).toEqual(symbols);
    // The full frame took every changed row: nothing is left over from before it.
    expect(cur.dirty).toBe(false);
    tick();
    book.applyQuote(quote('S7', 3));
    book.applyQuote(quote('S30', 3));
    book.applyQuote(quote('S31', 3));
    const next = cur.take();
    table.learn(next);
    // The focus row, and the one other row a millisecond's share of a fresh sweep allows.
    expect(table.symbolsOf(next)).toEqual(['S7', 'S30']);
  });

  it('is a no-op on a closed cursor', () => {
    const { cur } = setUp(['A']);
    let wakes = 0;
    cur.onDirty(() => (wakes += 1));
    cur.close();
    cur.resync();
    expect(wakes).toBe(0);
    expect(cur.dirty).toBe(false);
    expect(() => cur.take()).toThrow(/closed/);
  });
});
