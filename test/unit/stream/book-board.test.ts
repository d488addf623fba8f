/**
 * The frame path end to end, with real parts: a QuoteBook's cursors build frames, which reach a
 * page's QuoteBoard the two ways a view gets them (structured clone, as Electron's MessagePort
 * does, and the browser bridge's binary codec). Symbols arrive mid-stream, rows are dropped
 * (retain, clear: full frames that renumber ids), and views attach late; after every frame the
 * view's board must hold exactly the book's rows and values.
 */
import { describe, expect, it } from 'vitest';
import { QuoteBook, type BookCursor } from '../../../electron/stream/book.ts';
import { mulberry32 } from '../../../electron/simulator/market-walk.ts';
import { QuoteBoard, type QuoteRow } from '../../../renderer/model/board.ts';
import { decodeFrame, encodeFrame } from '../../../shared/frame-codec.ts';
import type { FrameColumn, QuoteFrame } from '../../../shared/frame.ts';
import type { Quote, Trade } from '../../../shared/market.ts';
import { quote } from '../../support/market-messages.ts';

/** The board's name of each frame column. */
const FIELD: Readonly<Record<FrameColumn, keyof QuoteRow>> = {
  bidPrice: 'bid',
  bidSize: 'bidSize',
  askPrice: 'ask',
  askSize: 'askSize',
  quoteTime: 'quoteTime',
  lastPrice: 'last',
  lastSize: 'lastSize',
  tradeTime: 'tradeTime',
  volume: 'volume',
  refPrice: 'ref',
  receivedAt: 'receivedAt',
  prevClose: 'prevClose',
  dayOpen: 'dayOpen',
  dayHigh: 'dayHigh',
  dayLow: 'dayLow',
  polledAt: 'polledAt',
};

interface View {
  readonly cursor: BookCursor;
  /** Fed by structuredClone (Electron) and by the codec (browser mode). */
  readonly cloned: QuoteBoard;
  readonly coded: QuoteBoard;
}

function expectSame(board: QuoteBoard, book: QuoteBook, symbols: readonly string[]): void {
  // Collected, then one assertion: a few hundred thousand expect() calls would take seconds.
  const wrong: string[] = [];
  for (const symbol of symbols) {
    const row = board.get(symbol);
    if (!Number.isFinite(book.value(symbol, 'receivedAt'))) {
      if (row !== undefined) wrong.push(`${symbol}: on the board, not in the book`);
      continue;
    }
    if (row === undefined) {
      wrong.push(`${symbol}: not on the board`);
      continue;
    }
    for (const [column, field] of Object.entries(FIELD) as [FrameColumn, keyof QuoteRow][]) {
      if (!Object.is(row[field], book.value(symbol, column))) wrong.push(`${symbol} ${column}`);
    }
  }
  expect(wrong).toEqual([]);
  expect(board.size).toBe(book.size);
  expect(board.stats.unknownRows).toBe(0);
  expect(board.stats.gaps).toBe(0);
}

describe('book frames into a board', () => {
  it.each([1, 2, 3])('seed %i: every view board equals the book after every frame', (seed) => {
    const random = mulberry32(seed);
    const int = (n: number): number => Math.floor(random() * n);
    let clock = Date.UTC(2026, 11, 7, 15);
    const book = new QuoteBook({ now: () => clock, maxSymbols: 60 });
    const universe = Array.from({ length: 80 }, (_, i) => `S${i}`);
    const views: View[] = [];
    const open = (): void => {
      views.push({ cursor: book.cursor(), cloned: new QuoteBoard(), coded: new QuoteBoard() });
    };
    open();
    let frames = 0;
    let named = 0;
    for (let step = 0; step < 3_000; step++) {
      clock += 1 + int(5);
      const symbol = universe[int(universe.length)]!;
      const r = random();
      if (r < 0.5) {
        const bid = 10 + int(9000) / 100;
        const quote: Quote = {
          kind: 'quote',
          symbol,
          bidExchange: 'V',
          bidPrice: bid,
          bidSize: int(900),
          askExchange: 'Q',
          askPrice: bid + 0.01,
          askSize: int(900),
          conditions: undefined,
          time: new Date(clock).toISOString(),
          timeMs: clock,
          tape: 'C',
        };
        book.applyQuote(quote);
      } else if (r < 0.8) {
        const trade: Trade = {
          kind: 'trade',
          symbol,
          id: String(step),
          exchange: 'V',
          price: 10 + int(9000) / 100,
          size: 1 + int(500),
          conditions: undefined,
          time: new Date(clock).toISOString(),
          timeMs: clock,
          tape: 'C',
          takerSide: undefined,
        };
        book.applyTrade(trade);
      } else if (r < 0.97) {
        const view = views[int(views.length)]!;
        const frame = view.cursor.take();
        frames++;
        named += frame.newSymbols.length;
        view.cloned.apply(structuredClone(frame), clock);
        view.coded.apply(decodeFrame(encodeFrame(frame)), clock);
        expectSame(view.cloned, book, universe);
        expectSame(view.coded, book, universe);
      } else if (r < 0.985) {
        book.retain(new Set(universe.filter(() => random() < 0.8)));
      } else if (r < 0.99) {
        book.clear();
      } else if (views.length < 4) {
        open();
      }
    }
    // The sequence did what it claims: many frames, and far fewer symbol names than rows sent.
    expect(frames).toBeGreaterThan(300);
    expect(views.length).toBeGreaterThan(1);
    expect(named).toBeGreaterThan(0);
  });

  it('a steady frame of known symbols names none of them: only ids and values cross', () => {
    const book = new QuoteBook({ now: () => 1 });
    const cursor = book.cursor();
    const board = new QuoteBoard();
    for (let i = 0; i < 500; i++) book.applyQuote(quote(`S${i}`, i, i + 1));
    board.apply(structuredClone(cursor.take()), 1);
    for (let i = 0; i < 500; i += 2) book.applyQuote(quote(`S${i}`, i + 0.5, i + 1.5));
    const frame: QuoteFrame = cursor.take();
    expect(frame.rows.length).toBe(250);
    expect(frame.newSymbols).toEqual([]);
    const fold = board.apply(structuredClone(frame), 2);
    expect(fold.changed).toBe(250);
    expect(board.get('S498')?.bid).toBe(498.5);
    expect(board.get('S499')?.bid).toBe(499);
  });
});
