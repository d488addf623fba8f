/**
 * A view's focus (BookCursor.focus): the symbols on screen come in every frame, the other changed
 * rows trickle in oldest first, each within about FOCUS_BACKGROUND_MS, and nothing is lost.
 */
import { describe, expect, it } from 'vitest';
import { FOCUS_BACKGROUND_MS } from '../../../electron/stream/book-cursor.ts';
import { QuoteBook } from '../../../electron/stream/book.ts';
import { FrameReader } from '../../support/frame-reader.ts';
import { quote as quoteAt } from '../../support/market-messages.ts';

/** A quote of `symbol` at bid `bidPrice`, ask half a dollar above. */
const quote = (symbol: string, bidPrice: number) => quoteAt(symbol, bidPrice, bidPrice + 0.5);

const SYMBOLS = Array.from({ length: 100 }, (_, i) => `S${i}`);

function setUp() {
  let t = 1_000;
  const book = new QuoteBook({ now: () => t });
  for (const s of SYMBOLS) book.applyQuote(quote(s, 1));
  const cur = book.cursor();
  const reader = new FrameReader();
  const take = () => reader.read(cur.take());
  expect(take().full).toBe(true);
  const tick = (ms: number) => (t += ms);
  const all = (bid: number) => {
    for (const s of SYMBOLS) book.applyQuote(quote(s, bid));
  };
  return { book, cur, take, tick, all };
}

/**
 * Every symbol quoted before each of `frames` takes 16 ms apart, focus S0 first and `each` run
 * before each frame's quotes. Returns the longest any row went without a frame (after 40 frames of
 * settling), when each row was last taken, and the clock at the end.
 */
function fullFeed(
  frames: number,
  each: (frame: number, cur: ReturnType<typeof setUp>['cur']) => void,
): { worst: number; last: Map<string, number>; t: number } {
  const { cur, take, tick, all } = setUp();
  cur.focus(['S0']);
  take();
  const last = new Map<string, number>();
  let t = 0;
  let worst = 0;
  for (let frame = 0; frame < frames; frame++) {
    each(frame, cur);
    all(frame);
    tick(16);
    t += 16;
    for (const s of take().symbols) last.set(s, t);
    if (frame > 40) for (const s of SYMBOLS) worst = Math.max(worst, t - (last.get(s) ?? 0));
  }
  return { worst, last, t };
}

describe('a focused cursor', () => {
  it('sends the focus rows in every frame and a time share of the rest, oldest first', () => {
    const { cur, take, tick, all } = setUp();
    cur.focus(['S50', 'S51']);
    all(3);
    tick(FOCUS_BACKGROUND_MS / 10);
    const f = take();
    // Both focus rows, and a tenth of the 98 others (rounded up), in the order they changed.
    const others = SYMBOLS.filter((s) => s !== 'S50' && s !== 'S51');
    expect(f.symbols).toEqual(
      SYMBOLS.filter((s) => s === 'S50' || s === 'S51' || others.slice(0, 10).includes(s)),
    );
    expect(f.symbols.length).toBe(2 + Math.ceil(98 / 10));
    // The frame carries each row's latest values.
    expect(f.bidPrice[f.symbols.indexOf('S50')]).toBe(3);
    expect(cur.dirty).toBe(true);
  });

  it('delivers every changed row within FOCUS_BACKGROUND_MS at the page pace, none twice', () => {
    const { cur, take, tick, all } = setUp();
    cur.focus(['S0']);
    take();
    all(2);
    const seen = new Map<string, number>();
    let elapsed = 0;
    while (cur.dirty && elapsed <= FOCUS_BACKGROUND_MS + 16) {
      tick(16);
      elapsed += 16;
      for (const s of take().symbols) seen.set(s, (seen.get(s) ?? 0) + 1);
    }
    expect(cur.dirty).toBe(false);
    expect(elapsed).toBeLessThanOrEqual(FOCUS_BACKGROUND_MS + 16);
    expect([...seen.keys()].sort()).toEqual([...SYMBOLS].sort());
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });

  it('takes everything after a pause as long as a sweep', () => {
    const { cur, take, tick, all } = setUp();
    cur.focus(['S0']);
    take();
    tick(FOCUS_BACKGROUND_MS);
    all(2);
    expect(take().symbols).toHaveLength(100);
    expect(cur.dirty).toBe(false);
  });

  it('keeps each row within two sweeps under a feed that never stops', () => {
    const { worst, last, t } = fullFeed(200, () => undefined);
    expect(worst).toBeLessThanOrEqual(2 * FOCUS_BACKGROUND_MS + 16);
    // The focus row is in every frame.
    expect(last.get('S0')).toBe(t);
  });

  it('keeps each row within two sweeps while the focus moves every other frame (a held arrow key)', () => {
    // Key repeat at ~30/s moves the selection, and with it the rows on screen, by one.
    const { worst } = fullFeed(300, (frame, cur) => {
      if (frame % 2 === 0) cur.focus([`S${(frame / 2) % 100}`, `S${((frame / 2) % 100) + 1}`]);
    });
    expect(worst).toBeLessThanOrEqual(2 * FOCUS_BACKGROUND_MS + 16);
  });

  it('sends one background row rather than an empty frame when no time has passed', () => {
    const { book, cur, take } = setUp();
    cur.focus(['S0']);
    take();
    book.applyQuote(quote('S7', 9));
    book.applyQuote(quote('S8', 9));
    const f = take();
    expect(f.symbols).toEqual(['S7']);
    expect(take().symbols).toEqual(['S8']);
    expect(cur.dirty).toBe(false);
  });

  it('matches a focus symbol whose row appears later, and follows a new focus', () => {
    const { book, cur, take, tick } = setUp();
    cur.focus(['NEW', 'S1']);
    take();
    tick(1);
    book.applyQuote(quote('S2', 5));
    book.applyQuote(quote('NEW', 5));
    book.applyQuote(quote('S1', 5));
    // The focus rows, and the one other row this millisecond's share allows.
    expect(take().symbols).toEqual(['S2', 'NEW', 'S1']);
    cur.focus(['S3']);
    tick(1);
    book.applyQuote(quote('S1', 6));
    book.applyQuote(quote('S3', 6));
    book.applyQuote(quote('S4', 6));
    const f = take();
    expect(f.symbols).toContain('S3');
    expect(cur.dirty).toBe(true);
  });

  it('back to every row in every frame when the focus is cleared', () => {
    const { cur, take, tick, all } = setUp();
    cur.focus(['S0']);
    take();
    cur.focus(undefined);
    tick(1);
    all(2);
    expect(take().symbols).toHaveLength(100);
  });

  it('a full frame (after retain dropped rows) still carries every row, focus or not', () => {
    const { book, cur, take, tick } = setUp();
    cur.focus(['S0']);
    take();
    book.retain(new Set(SYMBOLS.slice(0, 50)));
    tick(1);
    const f = take();
    expect(f.full).toBe(true);
    expect(f.symbols).toHaveLength(50);
    // Rows were renumbered: the focus is resolved again.
    book.applyQuote(quote('S10', 7));
    book.applyQuote(quote('S0', 7));
    tick(1);
    expect(take().symbols).toContain('S0');
  });

  it('keeps sweeping when the wall clock steps back', () => {
    const { cur, take, tick, all } = setUp();
    cur.focus(['S0']);
    take();
    all(2);
    tick(16);
    take();
    // NTP steps the clock back a minute mid-sweep; the feed goes on.
    tick(-60_000);
    const seen = new Set<string>();
    for (let frame = 0; frame < 40; frame++) {
      all(3 + frame);
      tick(16);
      for (const s of take().symbols) seen.add(s);
    }
    expect(seen.size).toBe(SYMBOLS.length);
  });
});
