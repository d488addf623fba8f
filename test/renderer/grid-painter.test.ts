/**
 * The canvas watchlist's painter against a recording context: what is drawn where and in which
 * colour, that a paint after the first redraws only the cells that changed, that nothing is drawn
 * outside the visible area, the pixel-ratio sizing, and the tabular-figure text layout.
 */
import { describe, expect, it } from 'vitest';
import { FLASH_MS, QuoteBoard } from '../../renderer/model/board.ts';
import { SeriesBook } from '../../renderer/model/series.ts';
import { cellContent, type CellInputs } from '../../renderer/grid/cell-content.ts';
import {
  CellPainter,
  fitBackingStore,
  type GridRow,
  type GridScene,
} from '../../renderer/grid/cell-painter.ts';
import { wholeRows, visibleRange, type GridViewport } from '../../renderer/grid/grid-layout.ts';
import type { GridPalette } from '../../renderer/grid/grid-palette.ts';
import { withAlpha } from '../../renderer/grid/grid-palette.ts';
import { TextMeasure } from '../../renderer/grid/text-measure.ts';
import { RecordingContext, type DrawOp } from './recording-context.ts';
import { T0, makeFrame } from './fake-api.ts';

const PALETTE: GridPalette = {
  text: 'TEXT',
  muted: 'MUTED',
  up: 'UP',
  down: 'DOWN',
  warn: 'WARN',
  selected: 'SELECTED',
  hover: 'HOVER',
  upFlash: 'UP-LIT',
  upFade: 'UP-FADE',
  downFlash: 'DOWN-LIT',
  downFade: 'DOWN-FADE',
  track: 'TRACK',
  spark: { up: 'S-UP', down: 'S-DOWN', ref: 'S-REF' },
  font: '13px test',
};

const ROW = 26;
const HEADER = 24;

/** symbol 0-80, bid 80-158, bid size 158-220, ask 220-298, actions 298-370. */
const COLUMNS = [
  { id: 'symbol', left: 0, width: 80 },
  { id: 'bid', left: 80, width: 78 },
  { id: 'bidSize', left: 158, width: 62 },
  { id: 'ask', left: 220, width: 78 },
  { id: 'actions', left: 298, width: 72 },
];

function view(over: Partial<GridViewport> = {}): GridViewport {
  return {
    width: 370,
    height: HEADER + 3 * ROW,
    top: HEADER,
    scrollTop: 0,
    scrollLeft: 0,
    rowHeight: ROW,
    ...over,
  };
}

interface World {
  board: QuoteBoard;
  series: SeriesBook;
  order: string[];
  selected?: string;
  hovered?: string;
  stale?: Set<string>;
  now: number;
  tick?: number;
}

function scene(world: World, v: GridViewport = view(), columns = COLUMNS): GridScene {
  const inputs: CellInputs = {
    session: 'regular',
    regularClose: () => NaN,
    series: (s) => world.series.get(s),
    now: world.now,
    tick: world.tick ?? world.now,
    stale: false,
  };
  return {
    view: v,
    columns,
    count: world.order.length,
    row: (index): GridRow | undefined => {
      const symbol = world.order[index];
      if (symbol === undefined) return undefined;
      return {
        symbol,
        index,
        selected: symbol === world.selected,
        hovered: symbol === world.hovered,
        stale: world.stale?.has(symbol) ?? false,
      };
    },
    content: (row, column) =>
      cellContent(column, world.board.get(row.symbol), { ...inputs, stale: row.stale }),
  };
}

function world(symbols: string[]): World {
  const board = new QuoteBoard();
  board.apply(
    makeFrame(
      1,
      symbols.map((symbol, i) => ({
        symbol,
        bid: 100 + i,
        bidSize: 300,
        ask: 100.5 + i,
        receivedAt: T0,
      })),
    ),
    T0,
  );
  return { board, series: new SeriesBook(), order: symbols, now: T0 + 5 * FLASH_MS };
}

const texts = (ops: readonly DrawOp[]) => ops.filter((o) => o.op === 'fillText').map((o) => o.text);

describe('the cell painter', () => {
  it('draws each visible value right-aligned in its column, centred in its row', () => {
    const w = world(['AAPL', 'MSFT']);
    const ctx = new RecordingContext();
    const painter = new CellPainter();
    const stats = painter.paint(ctx, scene(w), PALETTE);
    expect(stats).toEqual({ full: true, cells: 10 });
    // The whole canvas cleared first, then a clip to the rows' area below the header.
    expect(ctx.ops[0]).toMatchObject({ op: 'clearRect', x: 0, y: 0, w: 370, h: HEADER + 3 * ROW });
    expect(ctx.ops[1]).toMatchObject({ op: 'clip', x: 0, y: HEADER, w: 370, h: 3 * ROW });
    expect(texts(ctx.ops)).toEqual(['100.00', '300', '100.50', '101.00', '300', '101.50']);
    const bid = ctx.ops.find((o) => o.op === 'fillText' && o.text === '101.00');
    // Right edge: the column's right edge less the cell padding; middle of the second row.
    expect(bid).toMatchObject({ x: 80 + 78 - 4, y: HEADER + ROW + ROW / 2, textAlign: 'right' });
    expect(bid?.fillStyle).toBe('TEXT');
    const size = ctx.ops.find((o) => o.op === 'fillText' && o.text === '300');
    expect(size?.fillStyle).toBe('MUTED');
    expect(painter.painted('MSFT', 'bid')).toMatchObject({
      text: '101.00',
      x: 80,
      y: HEADER + ROW,
      width: 78,
      height: ROW,
    });
    // The DOM's columns (symbol, actions) are on the canvas only as the row's background.
    expect(painter.painted('AAPL', 'symbol')).toMatchObject({ text: '', background: '' });
  });

  it('a second paint redraws only the cells whose value changed', () => {
    const w = world(['AAPL', 'MSFT']);
    const ctx = new RecordingContext();
    const painter = new CellPainter();
    painter.paint(ctx, scene(w), PALETTE);
    ctx.clear();
    expect(painter.paint(ctx, scene(w), PALETTE)).toEqual({ full: false, cells: 0 });
    expect(ctx.ops.filter((o) => o.op !== 'clip')).toEqual([]);
    // MSFT's bid size moves; its bid and ask do not.
    w.board.apply(
      makeFrame(2, [{ symbol: 'MSFT', bid: 101, bidSize: 400, ask: 101.5, receivedAt: T0 }]),
      w.now,
    );
    ctx.clear();
    expect(painter.paint(ctx, scene(w), PALETTE)).toEqual({ full: false, cells: 1 });
    const drawn = ctx.ops.filter((o) => o.op !== 'clip');
    expect(drawn.map((o) => [o.op, o.x, o.y, o.w, o.h, o.text])).toEqual([
      ['clearRect', 158, HEADER + ROW, 62, ROW, ''],
      ['fillText', 158 + 62 - 4, HEADER + ROW + ROW / 2, 0, 0, '400'],
    ]);
  });

  it('a changed price flashes its direction, pales halfway, and goes out after FLASH_MS', () => {
    const w = world(['AAPL']);
    const at = T0 + 10_000;
    w.board.apply(makeFrame(2, [{ symbol: 'AAPL', bid: 100.5, ask: 100.25 }], { full: false }), at);
    const ctx = new RecordingContext();
    const painter = new CellPainter();
    w.now = at + 10;
    painter.paint(ctx, scene(w), PALETTE);
    const tint = (style: string) =>
      ctx.ops.find((o) => o.op === 'fillRect' && o.fillStyle === style);
    // The bid went up: a tint box of the flash's height, the text in the up colour.
    expect(tint('UP-LIT')).toMatchObject({ x: 84, y: HEADER + 4, w: 78 - 8 + 3, h: 18 });
    expect(ctx.ops.find((o) => o.text === '100.50')?.fillStyle).toBe('UP');
    expect(tint('DOWN-LIT')).toMatchObject({ x: 224 });
    expect(painter.painted('AAPL', 'ask')?.flash).toBe('down');
    // Halfway: paler, the same cells and nothing else.
    ctx.clear();
    w.now = at + FLASH_MS / 2;
    expect(painter.paint(ctx, scene(w), PALETTE).cells).toBe(2);
    expect(tint('UP-FADE')).toBeDefined();
    expect(tint('DOWN-FADE')).toBeDefined();
    // Out: the plain colour, no tint.
    ctx.clear();
    w.now = at + FLASH_MS;
    expect(painter.paint(ctx, scene(w), PALETTE).cells).toBe(2);
    expect(ctx.ops.filter((o) => o.op === 'fillRect')).toEqual([]);
    expect(ctx.ops.find((o) => o.text === '100.50')?.fillStyle).toBe('TEXT');
  });

  it('selection and hover tint whole rows, the DOM columns too, and repaint only those rows', () => {
    const w = world(['A', 'B', 'C']);
    const ctx = new RecordingContext();
    const painter = new CellPainter();
    painter.paint(ctx, scene(w), PALETTE);
    ctx.clear();
    w.selected = 'B';
    w.hovered = 'C';
    expect(painter.paint(ctx, scene(w), PALETTE).cells).toBe(10);
    const fills = ctx.ops.filter((o) => o.op === 'fillRect');
    expect(fills.filter((o) => o.fillStyle === 'SELECTED').map((o) => [o.x, o.y, o.w])).toEqual(
      COLUMNS.map((c) => [c.left, HEADER + ROW, c.width]),
    );
    expect(fills.filter((o) => o.fillStyle === 'HOVER')).toHaveLength(5);
    expect(ctx.ops.every((o) => o.op === 'clip' || o.y >= HEADER + ROW)).toBe(true);
    // Selected and hovered at once: the selection's tint, as the DOM's CSS had it.
    ctx.clear();
    w.hovered = 'B';
    painter.paint(ctx, scene(w), PALETTE);
    expect(painter.painted('B', 'bid')?.background).toBe('SELECTED');
    expect(painter.painted('C', 'bid')?.background).toBe('');
  });

  it('a stale row is dimmed, all but its age, which is in the warning colour', () => {
    const w = world(['OLD']);
    w.stale = new Set(['OLD']);
    w.tick = T0 + 60_000;
    const ctx = new RecordingContext();
    const painter = new CellPainter();
    const columns = [...COLUMNS.slice(0, 2), { id: 'age', left: 158, width: 56 }];
    painter.paint(ctx, scene(w, view(), columns), PALETTE);
    const bid = ctx.ops.find((o) => o.text === '100.00');
    expect(bid).toMatchObject({ fillStyle: 'MUTED', globalAlpha: 0.6 });
    const age = ctx.ops.find((o) => o.op === 'fillText' && o.x === 158 + 56 - 4);
    expect(age).toMatchObject({ text: '1m 00s', fillStyle: 'WARN', globalAlpha: 1 });
  });

  it('draws nothing outside the visible area: only the rows in view, clipped below the header', () => {
    const symbols = Array.from({ length: 100 }, (_, i) => `S${i}`);
    const w = world(symbols);
    const v = view({ height: HEADER + 200, scrollTop: 40 * ROW + 10 });
    const ctx = new RecordingContext();
    const painter = new CellPainter();
    painter.paint(ctx, scene(w, v), PALETTE);
    // Row 40 is 10 px under the header, row 48 shows its top 2 px: rows 40-48 are drawn.
    expect(visibleRange(v, 100)).toEqual({ first: 40, end: 49 });
    expect(wholeRows(v, 100)).toBe(7);
    const drawnRows = new Set(painter.cells().map((c) => c.symbol));
    expect([...drawnRows]).toEqual(symbols.slice(40, 49));
    const [clear, clip, ...rest] = ctx.ops;
    expect(clear).toMatchObject({ op: 'clearRect', x: 0, y: 0, w: 370, h: HEADER + 200 });
    expect(clip).toMatchObject({ op: 'clip', x: 0, y: HEADER, w: 370, h: 200 });
    for (const op of rest) {
      // Every drawing meets the clipped area (a cut row reaches past it; the clip cuts it there).
      expect(op.x).toBeGreaterThanOrEqual(0);
      expect(op.x + op.w).toBeLessThanOrEqual(370);
      // Text is drawn at its middle: its glyphs reach 9 px either way.
      const [top, bottom] = op.op === 'fillText' ? [op.y - 9, op.y + 9] : [op.y, op.y + op.h];
      expect(bottom).toBeGreaterThan(HEADER);
      expect(top).toBeLessThan(HEADER + 200);
    }
    // Columns scrolled out sideways are not drawn either.
    const narrow = view({ width: 150 });
    const other = new CellPainter();
    const ctx2 = new RecordingContext();
    other.paint(ctx2, scene(w, narrow), PALETTE);
    expect(new Set(other.cells().map((c) => c.column))).toEqual(new Set(['symbol', 'bid']));
  });

  it('a full repaint after invalidate(): a scroll, a resize, a theme', () => {
    const w = world(['A', 'B']);
    const ctx = new RecordingContext();
    const painter = new CellPainter();
    painter.paint(ctx, scene(w), PALETTE);
    painter.invalidate();
    ctx.clear();
    const dark = { ...PALETTE, text: 'LIGHT-TEXT' };
    expect(painter.paint(ctx, scene(w), dark)).toEqual({ full: true, cells: 10 });
    expect(ctx.ops.find((o) => o.text === '100.00')?.fillStyle).toBe('LIGHT-TEXT');
  });

  it('the day range and the sparkline are drawn, the sparkline again only when its series moves', () => {
    const w = world(['A']);
    w.board.apply(
      makeFrame(2, [{ symbol: 'A', last: 101, dayLow: 99, dayHigh: 103, dayOpen: 100 }], {
        full: false,
      }),
      T0,
    );
    w.series.applyWhole({
      version: 1,
      start: 0,
      reset: true,
      changes: [{ symbol: 'A', from: 0, closes: [100, 101] }],
    });
    const columns = [
      { id: 'symbol', left: 0, width: 80 },
      { id: 'range', left: 80, width: 72 },
      { id: 'spark', left: 152, width: 92 },
    ];
    const ctx = new RecordingContext();
    const painter = new CellPainter();
    painter.paint(ctx, scene(w, view(), columns), PALETTE);
    const fills = ctx.ops.filter((o) => o.op === 'fillRect');
    // The track 8 px in from each side; the last trade at 50% of it, the open at 25%.
    expect(fills.find((o) => o.fillStyle === 'TRACK')).toMatchObject({ x: 88, w: 56, h: 4 });
    expect(fills.find((o) => o.fillStyle === 'TEXT')).toMatchObject({
      x: 88 + 28 - 1,
      w: 2,
      h: 10,
    });
    expect(fills.find((o) => o.fillStyle === 'MUTED')).toMatchObject({ x: 88 + 14 - 1, h: 6 });
    // The sparkline clears its own box inside the cell, then strokes.
    expect(ctx.ops.some((o) => o.op === 'clearRect' && o.x === 156 && o.w === 84)).toBe(true);
    expect(ctx.ops.filter((o) => o.op === 'stroke')).toHaveLength(1);
    ctx.clear();
    painter.paint(ctx, scene(w, view(), columns), PALETTE);
    expect(ctx.ops.filter((o) => o.op === 'stroke')).toHaveLength(0);
    w.series.applyEvent({
      version: 2,
      start: 0,
      reset: false,
      changes: [{ symbol: 'A', from: 2, closes: [102] }],
    });
    ctx.clear();
    expect(painter.paint(ctx, scene(w, view(), columns), PALETTE).cells).toBe(1);
    expect(ctx.ops.filter((o) => o.op === 'stroke')).toHaveLength(1);
  });
});

describe('backing store and text', () => {
  it('a pixel ratio of 2: the backing store is twice the CSS size and the context scaled by 2', () => {
    let sets = 0;
    let width = 300;
    let height = 150;
    const canvas = {
      get width() {
        return width;
      },
      set width(v: number) {
        sets++;
        width = v;
      },
      get height() {
        return height;
      },
      set height(v: number) {
        sets++;
        height = v;
      },
    };
    const ctx = new RecordingContext();
    expect(fitBackingStore(canvas, ctx, 370, 102, 2)).toBe(true);
    expect([canvas.width, canvas.height]).toEqual([740, 204]);
    expect(ctx.transforms.at(-1)).toEqual([2, 0, 0, 2, 0, 0]);
    // The same size again does not touch the canvas (that would clear it).
    expect(fitBackingStore(canvas, ctx, 370, 102, 2)).toBe(false);
    expect(sets).toBe(2);
    // A ratio of 1.5 rounds to whole device pixels.
    fitBackingStore(canvas, ctx, 101, 33, 1.5);
    expect([canvas.width, canvas.height]).toEqual([152, 50]);
  });

  it('tabular digits: one call per value when the font has them; digit by digit when not', () => {
    const measure = new TextMeasure();
    const tabular = new RecordingContext();
    tabular.font = '13px a';
    measure.drawRight(tabular, '111.00', 100, 10, 80);
    expect(tabular.texts()).toEqual(['111.00']);
    const proportional = new RecordingContext({ proportionalDigits: true });
    proportional.font = '13px b';
    measure.drawRight(proportional, '11.0', 100, 10, 80);
    // From the right: each digit centred in the widest digit's advance (7), the point its own (3).
    expect(
      proportional.ops.filter((o) => o.op === 'fillText').map((o) => [o.text, o.x, o.textAlign]),
    ).toEqual([
      ['0', 96.5, 'center'],
      ['.', 91.5, 'center'],
      ['1', 86.5, 'center'],
      ['1', 79.5, 'center'],
    ]);
    // Measured once per glyph and font: drawing again measures nothing.
    const before = proportional.measured;
    measure.drawRight(proportional, '11.0', 100, 10, 80);
    expect(proportional.measured).toBe(before);
  });

  it('a font given with setFont is never read back, and each glyph is measured once', () => {
    const measure = new TextMeasure();
    const ctx = new RecordingContext();
    let font = '';
    let reads = 0;
    Object.defineProperty(ctx, 'font', {
      get: () => {
        reads += 1;
        return font;
      },
      set: (value: string) => {
        font = value;
      },
    });
    measure.setFont(ctx, '13px given');
    expect(font).toBe('13px given');
    measure.drawRight(ctx, '101.25', 100, 10, 80);
    measure.drawRight(ctx, '99.75', 100, 36, 80);
    expect(measure.width(ctx, '1,250')).toBe(5 * 7 - 4);
    expect(reads).toBe(0);
    // Ten digits and the two separators, each once, however many values follow.
    const measured = ctx.measured;
    expect(measured).toBe(12);
    for (let i = 0; i < 50; i++) measure.drawRight(ctx, `${100 + i}.${i % 10}5`, 100, 10, 80);
    expect(ctx.measured).toBe(measured);
    expect(ctx.texts().slice(0, 2)).toEqual(['101.25', '99.75']);
  });

  it('a value wider than its column is cut with an ellipsis, not drawn over the next', () => {
    const measure = new TextMeasure();
    const ctx = new RecordingContext();
    measure.drawRight(ctx, '123,456.00', 100, 10, 40);
    expect(ctx.texts()).toEqual(['123,4…']);
    expect(measure.width(ctx, '123,4…')).toBeLessThanOrEqual(40);
    expect(measure.width(ctx, '123,45…')).toBeGreaterThan(40);
  });

  it('theme colours at an alpha, as color-mix with transparent did', () => {
    expect(withAlpha('#4aa3ff', 0.18)).toBe('rgba(74, 163, 255, 0.18)');
    expect(withAlpha('#fff', 0.5)).toBe('rgba(255, 255, 255, 0.5)');
    expect(withAlpha('rgb(1, 2, 3)', 0.1)).toBe('rgba(1, 2, 3, 0.1)');
    expect(withAlpha('red', 0.1)).toBe('red');
  });
});
