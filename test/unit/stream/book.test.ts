import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuoteBook, type BookCursor } from '../../../electron/stream/book.ts';
import { HandlerRegistry } from '../../../electron/stream/handlers.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';
import { FRAME_COLUMNS, frameColumn } from '../../../shared/frame.ts';
import { FrameReader, type ReadFrame } from '../../support/frame-reader.ts';
import { timeToEpochMs, type Bar, type Trade } from '../../../shared/market.ts';
import { quote } from '../../support/market-messages.ts';

const T = '2025-03-04T15:02:11.123456Z';

function trade(symbol: string, price: number, size: number, time = T): Trade {
  return {
    kind: 'trade',
    symbol,
    id: 1,
    exchange: 'V',
    price,
    size,
    conditions: undefined,
    time,
    timeMs: timeToEpochMs(time),
    tape: 'C',
    takerSide: undefined,
  };
}

function bar(
  kind: Bar['kind'],
  symbol: string,
  open: number,
  volume: number,
  time = '2025-03-04T05:00:00Z',
): Bar {
  return {
    kind,
    symbol,
    open,
    high: open + 1,
    low: open - 1,
    close: open,
    volume,
    tradeCount: 10,
    vwap: open,
    time,
    timeMs: timeToEpochMs(time),
  };
}

const readers = new WeakMap<BookCursor, FrameReader>();

/**
 * cursor.take(), read as a view reads it: frames name symbols by id, so each cursor's frames go
 * through one symbol table, in order (test/support/frame-reader.ts).
 */
function take(cursor: BookCursor): ReadFrame {
  let reader = readers.get(cursor);
  if (reader === undefined) {
    reader = new FrameReader();
    readers.set(cursor, reader);
  }
  return reader.read(cursor.take());
}

/** The frame as { symbol: { column: value } } for readable assertions. */
function rows(frame: ReadFrame): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  frame.symbols.forEach((sym, i) => {
    const row: Record<string, number> = {};
    for (const c of FRAME_COLUMNS) row[c] = frame[c][i]!;
    out[sym] = row;
  });
  return out;
}

function clock(start = 1_000): { now: () => number; set: (t: number) => void } {
  let t = start;
  return { now: () => t, set: (v) => (t = v) };
}

describe('QuoteBook frames', () => {
  it('gives a new cursor a full first frame of every known symbol, then only changed rows', () => {
    const c = clock();
    const book = new QuoteBook({ now: c.now });
    book.applyQuote(quote('AAPL'));
    book.applyQuote(quote('MSFT'));
    const cur = book.cursor();
    expect(cur.dirty).toBe(true);
    c.set(2_000);
    const first = take(cur);
    expect(first).toMatchObject({ seq: 1, full: true, conflated: 0, builtAt: 2_000 });
    expect(first.symbols).toEqual(['AAPL', 'MSFT']);
    for (const col of FRAME_COLUMNS) expect(first[col]).toHaveLength(2);
    expect(cur.dirty).toBe(false);

    book.applyQuote(quote('MSFT', 20, 21));
    expect(cur.dirty).toBe(true);
    const second = take(cur);
    expect(second).toMatchObject({ seq: 2, full: false, conflated: 0 });
    expect(second.symbols).toEqual(['MSFT']);
    expect(second.bidPrice[0]).toBe(20);
    expect(second.askPrice[0]).toBe(21);

    const third = take(cur);
    expect(third).toMatchObject({ seq: 3, full: false, conflated: 0 });
    expect(third.symbols).toEqual([]);
    expect(cur.frames).toBe(3);
  });

  it('a first frame of an empty book is full and empty', () => {
    const cur = new QuoteBook().cursor();
    expect(cur.dirty).toBe(true);
    const f = take(cur);
    expect(f.full).toBe(true);
    expect(f.symbols).toEqual([]);
    expect(cur.dirty).toBe(false);
  });

  it('fills quote fields, receivedAt from the clock, and NaN for what never arrived', () => {
    const c = clock(5_000);
    const book = new QuoteBook({ now: c.now });
    const cur = book.cursor();
    book.applyQuote(quote('AAPL', 189.5, 189.6));
    const r = rows(take(cur))['AAPL']!;
    expect(r).toMatchObject({ bidPrice: 189.5, bidSize: 3, askPrice: 189.6, askSize: 4 });
    expect(r['quoteTime']).toBe(timeToEpochMs(T));
    expect(r['receivedAt']).toBe(5_000);
    for (const c of ['lastPrice', 'lastSize', 'tradeTime', 'volume', 'refPrice']) {
      expect(r[c], c).toBeNaN();
    }
  });

  it('keeps the latest value per symbol and counts what it folded, per cursor', () => {
    const book = new QuoteBook();
    const a = book.cursor();
    const b = book.cursor();
    take(a);
    take(b);
    book.applyQuote(quote('AAPL', 1));
    book.applyQuote(quote('AAPL', 2));
    book.applyQuote(quote('AAPL', 3));
    book.applyQuote(quote('MSFT', 7));
    const fa = take(a);
    expect(fa.conflated).toBe(2);
    expect(rows(fa)['AAPL']!['bidPrice']).toBe(3);
    expect(fa.symbols).toEqual(['AAPL', 'MSFT']);

    // b has not taken yet: it keeps folding while a starts afresh.
    book.applyQuote(quote('AAPL', 4));
    const fa2 = take(a);
    expect(fa2.conflated).toBe(0);
    expect(fa2.symbols).toEqual(['AAPL']);
    const fb = take(b);
    expect(fb.conflated).toBe(3);
    expect(fb.symbols).toEqual(['AAPL', 'MSFT']);
    expect(rows(fb)['AAPL']!['bidPrice']).toBe(4);
    expect(a.conflated).toBe(2);
    expect(b.conflated).toBe(3);
    expect(a.frames).toBe(3);
    expect(b.frames).toBe(2);
  });

  it('does not count updates from before the cursor existed as conflated', () => {
    const book = new QuoteBook();
    book.applyQuote(quote('AAPL', 1));
    book.applyQuote(quote('AAPL', 2));
    const cur = book.cursor();
    book.applyQuote(quote('AAPL', 3));
    book.applyQuote(quote('AAPL', 4));
    const f = take(cur);
    expect(f.full).toBe(true);
    expect(f.conflated).toBe(1);
    expect(rows(f)['AAPL']!['bidPrice']).toBe(4);
  });

  it('builds frames whose columns do not change when the book does', () => {
    const book = new QuoteBook();
    const cur = book.cursor();
    book.applyQuote(quote('AAPL', 1));
    const f = take(cur);
    book.applyQuote(quote('AAPL', 2));
    expect(f.bidPrice[0]).toBe(1);
  });
});

describe('QuoteBook volume and refPrice', () => {
  it('without a daily bar: volume sums trade sizes, refPrice is the first trade price', () => {
    const book = new QuoteBook();
    const cur = book.cursor();
    book.applyTrade(trade('AAPL', 100, 5, '2025-03-04T15:00:00Z'));
    book.applyTrade(trade('AAPL', 101, 7, '2025-03-04T15:00:01.5Z'));
    const r = rows(take(cur))['AAPL']!;
    expect(r).toMatchObject({ lastPrice: 101, lastSize: 7, volume: 12, refPrice: 100 });
    expect(r['tradeTime']).toBe(Date.parse('2025-03-04T15:00:01.500Z'));
    expect(r['bidPrice']).toBeNaN();
    expect(r['quoteTime']).toBeNaN();
  });

  it('a daily bar sets volume and refPrice; later trades add to volume but keep refPrice', () => {
    const book = new QuoteBook();
    const cur = book.cursor();
    book.applyTrade(trade('AAPL', 100, 5));
    book.applyBar(bar('dailyBar', 'AAPL', 95, 1_000_000));
    let r = rows(take(cur))['AAPL']!;
    expect(r).toMatchObject({ volume: 1_000_000, refPrice: 95, lastPrice: 100 });
    book.applyTrade(trade('AAPL', 102, 50));
    r = rows(take(cur))['AAPL']!;
    expect(r).toMatchObject({ volume: 1_000_050, refPrice: 95, lastPrice: 102 });
    // The next daily bar of the same day re-anchors the running total.
    book.applyBar(bar('dailyBar', 'AAPL', 95, 1_200_000));
    r = rows(take(cur))['AAPL']!;
    expect(r).toMatchObject({ volume: 1_200_000, refPrice: 95 });
  });

  it('a daily bar first: refPrice stays its open when trades follow', () => {
    const book = new QuoteBook();
    const cur = book.cursor();
    book.applyBar(bar('dailyBar', 'X', 50, 10));
    book.applyTrade(trade('X', 60, 1));
    expect(rows(take(cur))['X']).toMatchObject({ volume: 11, refPrice: 50, lastPrice: 60 });
  });

  it('ignores a daily bar of an earlier day, takes one of a later day', () => {
    const book = new QuoteBook();
    const cur = book.cursor();
    book.applyBar(bar('dailyBar', 'X', 50, 1000, '2025-03-04T05:00:00Z'));
    take(cur);
    book.applyBar(bar('dailyBar', 'X', 40, 9999, '2025-03-03T05:00:00Z'));
    expect(cur.dirty).toBe(false);
    book.applyBar(bar('dailyBar', 'X', 55, 20, '2025-03-05T05:00:00Z'));
    expect(rows(take(cur))['X']).toMatchObject({ volume: 20, refPrice: 55 });
  });

  it('ignores minute bars and updated bars', () => {
    const book = new QuoteBook();
    const cur = book.cursor();
    take(cur);
    book.applyBar(bar('bar', 'X', 50, 10));
    book.applyBar(bar('updatedBar', 'X', 50, 10));
    expect(cur.dirty).toBe(false);
    expect(book.size).toBe(0);
  });
});

describe('QuoteBook onDirty', () => {
  it('fires once per clean-to-dirty transition', () => {
    const book = new QuoteBook();
    const cur = book.cursor();
    let calls = 0;
    cur.onDirty(() => calls++);
    // Dirty from the start (the full frame is pending): nothing to announce.
    book.applyQuote(quote('A'));
    expect(calls).toBe(0);
    take(cur);
    book.applyQuote(quote('A'));
    book.applyQuote(quote('B'));
    book.applyTrade(trade('A', 1, 1));
    expect(calls).toBe(1);
    take(cur);
    expect(calls).toBe(1);
    book.applyQuote(quote('B'));
    expect(calls).toBe(2);
  });

  it('stops after unsubscribing; a throwing listener is logged and the others still run', () => {
    const ring = new LogRing();
    const book = new QuoteBook({ logger: ringLogger(ring) });
    const cur = book.cursor();
    const other = book.cursor();
    take(cur);
    take(other);
    let calls = 0;
    let otherCalls = 0;
    cur.onDirty(() => {
      throw new Error('listener broke');
    });
    const off = cur.onDirty(() => calls++);
    other.onDirty(() => otherCalls++);
    book.applyQuote(quote('A'));
    expect(calls).toBe(1);
    expect(otherCalls).toBe(1);
    expect(other.dirty).toBe(true);
    expect(ring.records().some((r) => r.msg === 'a book cursor onDirty listener threw')).toBe(true);
    const errRecord = ring.records().find((r) => r.msg === 'a book cursor onDirty listener threw');
    expect(JSON.stringify(errRecord)).toContain('listener broke');
    off();
    take(cur);
    book.applyQuote(quote('A'));
    expect(calls).toBe(1);
  });

  it('a listener may take() synchronously', () => {
    const book = new QuoteBook();
    const cur = book.cursor();
    take(cur);
    const frames: ReadFrame[] = [];
    cur.onDirty(() => frames.push(take(cur)));
    book.applyQuote(quote('A', 1));
    expect(frames).toHaveLength(1);
    expect(rows(frames[0]!)['A']!['bidPrice']).toBe(1);
    expect(cur.dirty).toBe(false);
    book.applyQuote(quote('A', 2));
    expect(frames).toHaveLength(2);
    expect(frames[1]!.conflated).toBe(0);
  });
});

describe('QuoteBook retain and clear', () => {
  it('retain drops rows, keeps the order and values of the rest, and the next frame is full', () => {
    const book = new QuoteBook();
    const cur = book.cursor();
    for (const s of ['A', 'B', 'C', 'D']) book.applyQuote(quote(s, s.charCodeAt(0)));
    take(cur);
    book.applyQuote(quote('B', 100));
    book.applyQuote(quote('D', 200));
    book.retain(new Set(['C', 'D']));
    expect(book.size).toBe(2);
    const f = take(cur);
    expect(f.full).toBe(true);
    expect(f.symbols).toEqual(['C', 'D']);
    expect(Array.from(f.bidPrice)).toEqual([67, 200]);
    book.applyQuote(quote('C', 1));
    expect(take(cur)).toMatchObject({ full: false, symbols: ['C'] });

    const fresh = take(book.cursor());
    expect(fresh.symbols).toEqual(['C', 'D']);
    expect(Array.from(fresh.bidPrice)).toEqual([1, 200]);
  });

  it('a dropped symbol wanted again starts a fresh row, the same in every view', () => {
    const book = new QuoteBook();
    book.retain(new Set(['A', 'B']));
    book.applyQuote(quote('A', 1));
    book.applyTrade(trade('B', 7, 1));
    const open = book.cursor();
    expect(take(open).symbols).toEqual(['A', 'B']);
    book.retain(new Set(['A']));
    book.retain(new Set(['A', 'B']));
    // B is quiet: the open view's full frame drops it, as a new view never sees it.
    const f = take(open);
    expect(f).toMatchObject({ full: true, symbols: ['A'] });
    expect(take(book.cursor()).symbols).toEqual(['A']);
    book.applyQuote(quote('B', 3));
    const back = rows(take(open))['B']!;
    expect(back['bidPrice']).toBe(3);
    expect(back['lastPrice']).toBeNaN();
    expect(back['volume']).toBeNaN();
  });

  it('retain of every row is a no-op; retain of nothing empties the book and dirties cursors', () => {
    const book = new QuoteBook();
    book.applyQuote(quote('A'));
    book.applyQuote(quote('B'));
    const cur = book.cursor();
    take(cur);
    let notified = 0;
    cur.onDirty(() => notified++);
    book.retain(new Set(['A', 'B', 'Z']));
    expect(book.size).toBe(2);
    expect(cur.dirty).toBe(false);
    expect(notified).toBe(0);
    book.applyQuote(quote('A'));
    expect(notified).toBe(1);
    book.retain(new Set());
    expect(book.size).toBe(0);
    expect(notified).toBe(1); // already dirty: no second notification
    expect(cur.dirty).toBe(true);
    expect(take(cur)).toMatchObject({ full: true, symbols: [] });
    expect(cur.dirty).toBe(false);
  });

  it('a retain that drops a row notifies a clean cursor so a pending frame resolves', () => {
    const book = new QuoteBook();
    book.applyQuote(quote('A'));
    book.applyQuote(quote('B'));
    const a = book.cursor();
    const b = book.cursor();
    take(a);
    take(b);
    const seen: string[] = [];
    a.onDirty(() => seen.push('a'));
    b.onDirty(() => seen.push('b'));
    book.retain(new Set(['A']));
    expect(seen).toEqual(['a', 'b']);
    expect(take(a)).toMatchObject({ full: true, symbols: ['A'] });
    expect(take(b)).toMatchObject({ full: true, symbols: ['A'] });
  });

  it('accepts every symbol before the first retain, then only new rows of the retained set', () => {
    const book = new QuoteBook();
    const cur = book.cursor();
    book.applyQuote(quote('STRAY'));
    expect(book.size).toBe(1);
    expect(book.ignored).toBe(0);
    book.retain(new Set(['A']));
    expect(book.size).toBe(0);
    book.applyQuote(quote('A', 1));
    book.applyQuote(quote('JUNK'));
    book.applyTrade(trade('JUNK', 1, 1));
    book.applyBar(bar('dailyBar', 'JUNK', 1, 1));
    book.applyBar(bar('bar', 'JUNK', 1, 1)); // not a daily bar: not counted
    expect(book.size).toBe(1);
    expect(book.ignored).toBe(3);
    expect(take(cur)).toMatchObject({ full: true, symbols: ['A'] });
    // The book copied the set: mutating the caller's set changes nothing.
    const wanted = new Set(['A']);
    book.retain(wanted);
    wanted.add('B');
    book.applyQuote(quote('B'));
    expect(book.size).toBe(1);
    expect(book.ignored).toBe(4);
    // clear() keeps the wanted set.
    book.clear();
    book.applyQuote(quote('B'));
    book.applyQuote(quote('A'));
    expect(book.size).toBe(1);
    expect(book.ignored).toBe(5);
  });

  it('an unwanted symbol is ignored, not counted as overflow, when the book is full', () => {
    const book = new QuoteBook({ maxSymbols: 1 });
    book.retain(new Set(['A', 'B']));
    book.applyQuote(quote('A'));
    book.applyQuote(quote('B'));
    book.applyQuote(quote('C'));
    expect(book.size).toBe(1);
    expect(book.overflow).toBe(1);
    expect(book.ignored).toBe(1);
  });

  it('clear empties the book and makes every cursor dirty with a full next frame', () => {
    const book = new QuoteBook();
    const a = book.cursor();
    const b = book.cursor();
    book.applyQuote(quote('A'));
    take(a);
    take(b);
    let notified = 0;
    a.onDirty(() => notified++);
    book.applyQuote(quote('A')); // a dirty already when clear() comes
    expect(notified).toBe(1);
    book.clear();
    expect(notified).toBe(1);
    expect(book.size).toBe(0);
    let bNotified = 0;
    b.onDirty(() => bNotified++);
    expect(b.dirty).toBe(true);
    const fa = take(a);
    expect(fa).toMatchObject({ full: true, symbols: [] });
    book.applyQuote(quote('Q'));
    const fb = take(b);
    expect(fb.full).toBe(true);
    expect(fb.symbols).toEqual(['Q']);
    const fa2 = take(a);
    expect(fa2).toMatchObject({ full: false, symbols: ['Q'] });
    expect(bNotified).toBe(0);
  });

  it('clear notifies a clean cursor so a pending frame resolves', () => {
    const book = new QuoteBook();
    const cur = book.cursor();
    take(cur);
    let notified = 0;
    cur.onDirty(() => notified++);
    book.clear();
    expect(notified).toBe(1);
    expect(take(cur).full).toBe(true);
  });
});

describe('QuoteBook capacity', () => {
  it('grows past its initial storage with cursors open and dirty', () => {
    const book = new QuoteBook();
    const cur = book.cursor();
    take(cur);
    const n = 1_000;
    for (let i = 0; i < n; i++) book.applyQuote(quote(`S${i}`, i));
    const f = take(cur);
    expect(f.symbols).toHaveLength(n);
    expect(f.symbols[999]).toBe('S999');
    expect(f.bidPrice[999]).toBe(999);
    expect(f.bidPrice[0]).toBe(0);
  });

  it('ignores new symbols beyond maxSymbols and counts the dropped messages', () => {
    const book = new QuoteBook({ maxSymbols: 2 });
    const cur = book.cursor();
    book.applyQuote(quote('A'));
    book.applyQuote(quote('B'));
    book.applyQuote(quote('C'));
    book.applyTrade(trade('C', 1, 1));
    book.applyBar(bar('dailyBar', 'D', 1, 1));
    book.applyQuote(quote('A', 99)); // known symbols still update
    expect(book.size).toBe(2);
    expect(book.overflow).toBe(3);
    const f = take(cur);
    expect(f.symbols).toEqual(['A', 'B']);
    expect(f.bidPrice[0]).toBe(99);
    book.retain(new Set(['A', 'C']));
    book.applyQuote(quote('C'));
    expect(book.size).toBe(2);
    expect(book.overflow).toBe(3);
    book.applyQuote(quote('B')); // dropped by retain and no longer wanted
    expect(book.size).toBe(2);
    expect(book.overflow).toBe(3);
    expect(book.ignored).toBe(1);
  });

  it('rejects a maxSymbols that is not a positive integer', () => {
    expect(() => new QuoteBook({ maxSymbols: 0 })).toThrow(RangeError);
    expect(() => new QuoteBook({ maxSymbols: 1.5 })).toThrow(RangeError);
  });
});

describe('QuoteBook cursors', () => {
  it('close releases the cursor: no leak over many open/close cycles', () => {
    const book = new QuoteBook();
    book.applyQuote(quote('A'));
    for (let i = 0; i < 10_000; i++) {
      const c = book.cursor();
      if (i % 2 === 0) take(c);
      c.close();
    }
    expect(book.cursors).toBe(0);
    const kept = book.cursor();
    expect(book.cursors).toBe(1);
    kept.close();
    kept.close();
    expect(book.cursors).toBe(0);
  });

  it('a closed cursor is clean, silent and refuses take()', () => {
    const book = new QuoteBook();
    const cur = book.cursor();
    take(cur);
    let calls = 0;
    cur.onDirty(() => calls++);
    cur.close();
    book.applyQuote(quote('A'));
    book.clear();
    expect(calls).toBe(0);
    expect(cur.dirty).toBe(false);
    expect(() => take(cur)).toThrow(/closed/);
  });

  it('a listener closing another cursor during a notification does not break the apply', () => {
    const book = new QuoteBook();
    const cursors: BookCursor[] = [book.cursor(), book.cursor(), book.cursor()];
    for (const c of cursors) take(c);
    cursors[0]!.onDirty(() => cursors[1]!.close());
    book.applyQuote(quote('A', 3));
    expect(book.cursors).toBe(2);
    expect(take(cursors[2]!).symbols).toEqual(['A']);
  });
});

describe('QuoteBook.attach', () => {
  it('receives quotes, trades and daily bars through a real HandlerRegistry', () => {
    const registry = new HandlerRegistry();
    const book = new QuoteBook();
    const detach = book.attach(registry);
    const stats = registry.list();
    expect(stats.map((s) => s.name)).toEqual(['book: quotes', 'book: trades', 'book: daily bars']);
    expect(stats.every((s) => s.builtin && s.symbol === '*')).toBe(true);

    const cur = book.cursor();
    registry.dispatch(quote('AAPL', 1, 2));
    registry.dispatch(trade('AAPL', 1.5, 10));
    registry.dispatch(bar('dailyBar', 'AAPL', 1.2, 500));
    registry.dispatch(trade('AAPL', 1.6, 5));
    registry.dispatch(bar('bar', 'MSFT', 1, 1));
    const r = rows(take(cur));
    expect(Object.keys(r)).toEqual(['AAPL']);
    expect(r['AAPL']).toMatchObject({
      bidPrice: 1,
      askPrice: 2,
      lastPrice: 1.6,
      volume: 505,
      refPrice: 1.2,
    });
    // A user-handler clear() keeps the built-in book handlers.
    registry.clear();
    expect(registry.size).toBe(3);

    detach();
    detach();
    expect(registry.size).toBe(0);
    registry.dispatch(quote('AAPL', 9));
    expect(cur.dirty).toBe(false);
    // Detached, it may attach again.
    book.attach(registry)();
  });

  it('refuses a second attach to the same registry, and registers nothing when the limit is hit', () => {
    const registry = new HandlerRegistry({ maxHandlers: 4 });
    const book = new QuoteBook();
    book.attach(registry);
    expect(() => book.attach(registry)).toThrow(/already attached/);
    expect(registry.size).toBe(3);
    const other = new QuoteBook();
    expect(() => other.attach(registry)).toThrow(/limit/);
    expect(registry.size).toBe(3);
  });
});

describe('QuoteBook against a reference model', () => {
  type Op =
    | { t: 'quote'; sym: string; v: number }
    | { t: 'trade'; sym: string; v: number; size: number }
    | { t: 'daily'; sym: string; v: number; day: number }
    | { t: 'take'; c: number }
    | { t: 'open' }
    | { t: 'close'; c: number }
    | { t: 'retain'; keep: string[] }
    | { t: 'clear' };

  interface ModelRow {
    bidPrice: number;
    lastPrice: number;
    volume: number;
    refPrice: number;
    daily: number;
  }
  interface ModelCursor {
    full: boolean;
    dirty: Set<string>;
    pending: number;
    seq: number;
  }

  const SYMS = ['A', 'B', 'C', 'D', 'E', 'F'];
  const sym = fc.constantFrom(...SYMS);
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ t: fc.constant('quote' as const), sym, v: fc.integer() }) },
    {
      weight: 4,
      arbitrary: fc.record({
        t: fc.constant('trade' as const),
        sym,
        v: fc.integer({ min: 1, max: 1000 }),
        size: fc.integer({ min: 1, max: 100 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('daily' as const),
        sym,
        v: fc.integer({ min: 1, max: 1000 }),
        day: fc.integer({ min: 1, max: 3 }),
      }),
    },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('take' as const), c: fc.nat(5) }) },
    { weight: 1, arbitrary: fc.constant({ t: 'open' as const }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('close' as const), c: fc.nat(5) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('retain' as const),
        keep: fc.subarray(SYMS),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ t: 'clear' as const }) },
  );

  it('matches latest-wins, dirty sets and conflation counts of a naive model', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), fc.integer({ min: 1, max: 6 }), (ops, max) => {
        const book = new QuoteBook({ maxSymbols: max, now: () => 42 });
        const model = new Map<string, ModelRow>();
        let overflow = 0;
        let ignored = 0;
        let wanted: Set<string> | undefined;
        const cursors: { real: BookCursor; m: ModelCursor }[] = [];
        const open = (): void => {
          cursors.push({
            real: book.cursor(),
            m: { full: true, dirty: new Set(), pending: 0, seq: 0 },
          });
        };
        open();
        const row = (s: string): ModelRow | undefined => {
          let r = model.get(s);
          if (r) return r;
          if (wanted && !wanted.has(s)) {
            ignored++;
            return undefined;
          }
          if (model.size >= max) {
            overflow++;
            return undefined;
          }
          r = { bidPrice: NaN, lastPrice: NaN, volume: NaN, refPrice: NaN, daily: NaN };
          model.set(s, r);
          return r;
        };
        const touch = (s: string): void => {
          for (const { m } of cursors) {
            if (m.dirty.has(s)) m.pending++;
            else m.dirty.add(s);
          }
        };
        for (const o of ops) {
          switch (o.t) {
            case 'quote': {
              book.applyQuote(quote(o.sym, o.v));
              const r = row(o.sym);
              if (!r) break;
              r.bidPrice = o.v;
              touch(o.sym);
              break;
            }
            case 'trade': {
              book.applyTrade(trade(o.sym, o.v, o.size));
              const r = row(o.sym);
              if (!r) break;
              r.lastPrice = o.v;
              r.volume = (Number.isNaN(r.volume) ? 0 : r.volume) + o.size;
              if (Number.isNaN(r.refPrice)) r.refPrice = o.v;
              touch(o.sym);
              break;
            }
            case 'daily': {
              book.applyBar(bar('dailyBar', o.sym, o.v, o.v * 10, `2025-03-0${o.day}T05:00:00Z`));
              const existing = model.get(o.sym);
              if (existing && o.day < existing.daily) break;
              const r = row(o.sym);
              if (!r) break;
              r.daily = o.day;
              r.volume = o.v * 10;
              r.refPrice = o.v;
              touch(o.sym);
              break;
            }
            case 'take': {
              const c = cursors[o.c % Math.max(cursors.length, 1)];
              if (!c) break;
              expect(c.real.dirty).toBe(c.m.full || c.m.dirty.size > 0);
              const f = take(c.real);
              const want = c.m.full ? [...model.keys()] : [...c.m.dirty];
              expect(f.symbols).toEqual(want);
              expect(f.full).toBe(c.m.full);
              expect(f.seq).toBe(++c.m.seq);
              expect(f.conflated).toBe(c.m.pending);
              want.forEach((s, i) => {
                const r = model.get(s)!;
                expect(f.bidPrice[i]).toEqual(r.bidPrice);
                expect(f.lastPrice[i]).toEqual(r.lastPrice);
                expect(f.volume[i]).toEqual(r.volume);
                expect(f.refPrice[i]).toEqual(r.refPrice);
                expect(f.receivedAt[i]).toBe(42);
              });
              c.m.full = false;
              c.m.dirty.clear();
              c.m.pending = 0;
              break;
            }
            case 'open':
              open();
              break;
            case 'close': {
              const i = o.c % Math.max(cursors.length, 1);
              const c = cursors[i];
              if (!c) break;
              c.real.close();
              cursors.splice(i, 1);
              break;
            }
            case 'retain': {
              const keep = new Set(o.keep);
              book.retain(keep);
              wanted = keep;
              const before = model.size;
              for (const s of [...model.keys()]) if (!keep.has(s)) model.delete(s);
              if (model.size < before) {
                for (const { m } of cursors) {
                  m.full = true;
                  m.dirty.clear();
                }
              }
              break;
            }
            case 'clear':
              book.clear();
              model.clear();
              for (const { m } of cursors) {
                m.full = true;
                m.dirty.clear();
              }
              break;
          }
          expect(book.size).toBe(model.size);
          expect(book.overflow).toBe(overflow);
          expect(book.ignored).toBe(ignored);
          expect(book.cursors).toBe(cursors.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('frame ids and values', () => {
  it('ids and values are views of one buffer, which a structured clone of the frame copies once', () => {
    const book = new QuoteBook({ now: () => 1 });
    for (let i = 0; i < 101; i++) book.applyQuote(quote(`S${i}`));
    const frame = book.cursor().take();
    expect(frame.rows.buffer).toBe(frame.values.buffer);
    // 101 ids of 4 bytes padded to 8, then 16 columns of 101 values.
    expect(frame.rows.byteOffset).toBe(0);
    expect(frame.values.byteOffset).toBe(408);
    expect(frame.values.buffer.byteLength).toBe(408 + FRAME_COLUMNS.length * 101 * 8);
    expect(frame.values.length).toBe(FRAME_COLUMNS.length * 101);
    // What the view's MessagePort does: one buffer on the other side, the views still apart.
    const cloned = structuredClone(frame);
    expect(cloned.rows.buffer).toBe(cloned.values.buffer);
    expect([...cloned.rows]).toEqual([...frame.rows]);
    expect([...cloned.values]).toEqual([...frame.values]);
    expect(cloned.newSymbols).toEqual(frame.newSymbols);
  });

  it('a frame names each symbol once per view: later frames carry ids and only the new symbols', () => {
    const book = new QuoteBook({ now: () => 1 });
    const cur = book.cursor();
    book.applyQuote(quote('A', 1));
    book.applyQuote(quote('B', 2));
    const first = cur.take();
    expect(first).toMatchObject({ full: true, symbolBase: 0, newSymbols: ['A', 'B'] });
    expect([...first.rows]).toEqual([0, 1]);

    // Known symbols only: nothing to name.
    book.applyQuote(quote('B', 3));
    book.applyQuote(quote('A', 4));
    const second = cur.take();
    expect(second).toMatchObject({ full: false, symbolBase: 2, newSymbols: [] });
    expect([...second.rows]).toEqual([1, 0]);
    expect([...frameColumn(second, 'bidPrice')]).toEqual([3, 4]);

    // A new symbol mid-stream: named once, in id order, beside the known ones.
    book.applyQuote(quote('C', 5));
    book.applyQuote(quote('A', 6));
    book.applyQuote(quote('D', 7));
    const third = cur.take();
    expect(third).toMatchObject({ symbolBase: 2, newSymbols: ['C', 'D'] });
    expect([...third.rows]).toEqual([2, 0, 3]);
    book.applyQuote(quote('D', 8));
    expect(cur.take()).toMatchObject({ symbolBase: 4, newSymbols: [] });
  });

  it('a view attaching later gets every symbol in its full first frame, its own ids from then on', () => {
    const book = new QuoteBook({ now: () => 1 });
    const early = book.cursor();
    for (const s of ['A', 'B', 'C']) book.applyQuote(quote(s));
    early.take();
    book.applyQuote(quote('B', 9));
    const late = book.cursor();
    const full = late.take();
    expect(full).toMatchObject({ full: true, symbolBase: 0, newSymbols: ['A', 'B', 'C'] });
    expect([...full.rows]).toEqual([0, 1, 2]);
    book.applyQuote(quote('E'));
    // Each cursor names E to its own view, once.
    expect(early.take()).toMatchObject({ symbolBase: 3, newSymbols: ['E'] });
    expect(late.take()).toMatchObject({ symbolBase: 3, newSymbols: ['E'] });
  });

  it('after rows are dropped the next frame is full and names every symbol again from id 0', () => {
    const book = new QuoteBook({ now: () => 1 });
    const cur = book.cursor();
    for (const s of ['A', 'B', 'C']) book.applyQuote(quote(s));
    cur.take();
    book.retain(new Set(['C', 'A', 'D']));
    const after = cur.take();
    // Rows were compacted: C is now id 1. The full frame restarts the view's table.
    expect(after).toMatchObject({ full: true, symbolBase: 0, newSymbols: ['A', 'C'] });
    expect([...after.rows]).toEqual([0, 1]);
    book.applyQuote(quote('D'));
    expect(cur.take()).toMatchObject({ full: false, symbolBase: 2, newSymbols: ['D'] });
    book.clear();
    book.applyQuote(quote('D'));
    expect(cur.take()).toMatchObject({ full: true, symbolBase: 0, newSymbols: ['D'] });
  });

  it('a fresh buffer per frame: an earlier frame keeps its values after later takes', () => {
    const book = new QuoteBook({ now: () => 1 });
    const cur = book.cursor();
    book.applyQuote(quote('A', 1));
    const first = cur.take();
    book.applyQuote(quote('A', 2));
    const second = cur.take();
    expect(first.values.buffer).not.toBe(second.values.buffer);
    expect(frameColumn(first, 'bidPrice')[0]).toBe(1);
    expect(frameColumn(second, 'bidPrice')[0]).toBe(2);
  });
});
