/**
 * The canvas watchlist in the panel (happy-dom, with a recording 2D context standing in for the
 * canvas and animation frames run by hand): a folded frame is drawn in the next animation frame,
 * only its changed cells; the bench's attributes (paint counter, painted selection, visible rows);
 * hover; a theme change; and the screen-latency figure taken after the canvas drew.
 */
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PaintedCell } from '../../renderer/grid/cell-painter.ts';
import { SHOWN_MARGIN_ROWS } from '../../renderer/grid/grid-layout.ts';
import { MIRROR_OFF_SCREEN_EVERY } from '../../renderer/panels/watchlist-cells.ts';
import type { GridProbe } from '../../renderer/grid/quote-grid.ts';
import { COLUMN_BY_ID, type ColumnId } from '../../renderer/model/columns.ts';
import { WatchlistPanel } from '../../renderer/panels/watchlist.tsx';
import { useMonitor } from '../../renderer/store.ts';
import { FakeApi, makeFrame, snapshot } from './fake-api.ts';
import { RecordingContext } from './recording-context.ts';

const HEADER = 24;
const AREA = { width: 1000, height: 520 };
/** The columns without a fixed width in the catalogue (the symbol's takes the rest). */
const FREE_WIDTH: Record<string, number> = { symbol: 90, actions: 72 };

function widthOf(th: Element): number {
  const id = th.getAttribute('data-col') ?? '';
  return COLUMN_BY_ID.get(id as ColumnId)?.width ?? FREE_WIDTH[id] ?? 0;
}

// happy-dom lays nothing out: the scroll area gets a size, the header its cells' widths and
// places (as a fixed-layout table would), so the grid has columns to draw.
const saved = new Map<string, PropertyDescriptor | undefined>();
function stub(name: string, get: (this: HTMLElement) => number): void {
  saved.set(name, Object.getOwnPropertyDescriptor(HTMLElement.prototype, name));
  Object.defineProperty(HTMLElement.prototype, name, { configurable: true, get });
}
beforeAll(() => {
  stub('clientHeight', function () {
    return this.classList.contains('table-scroll') ? AREA.height : 0;
  });
  stub('clientWidth', function () {
    return this.classList.contains('table-scroll') ? AREA.width : 0;
  });
  stub('offsetHeight', function () {
    return this.tagName === 'THEAD' ? HEADER : 0;
  });
  stub('offsetWidth', function () {
    return this.hasAttribute('data-col') ? widthOf(this) : 0;
  });
  stub('offsetLeft', function () {
    if (!this.hasAttribute('data-col')) return 0;
    let left = 0;
    for (let th = this.previousElementSibling; th !== null; th = th.previousElementSibling)
      left += widthOf(th);
    return left;
  });
});
afterAll(() => {
  for (const [name, descriptor] of saved)
    if (descriptor !== undefined) Object.defineProperty(HTMLElement.prototype, name, descriptor);
});

/** Animation frames, run by hand. */
let frames: FrameRequestCallback[] = [];
let contexts: RecordingContext[] = [];
beforeEach(() => {
  frames = [];
  contexts = [];
  vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => {
    frames.push(cb);
    return frames.length;
  });
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockImplementation(function () {
    const ctx = new RecordingContext();
    contexts.push(ctx);
    return ctx as unknown as CanvasRenderingContext2D;
  });
});
afterEach(() => {
  // The paint clock is the page's: leave it with no frame outstanding for the next test (a
  // mirror sweep takes several frames).
  for (let i = 0; i < 100 && frames.length > 0; i++) runFrame();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

function runFrame(): void {
  const now = frames;
  frames = [];
  for (const cb of now) cb(performance.now());
}

/** Time for a mirror sweep to start and finish: real time, animation frames by hand. */
async function sweeps(): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await act(() => new Promise((resolve) => setTimeout(resolve, 25)));
    await paint();
  }
}

/** Runs the next animation frame inside act, then lets the promises it resolved settle. */
async function paint(): Promise<void> {
  await act(async () => {
    runFrame();
    await Promise.resolve();
  });
}

const never = () => new Promise<void>(() => undefined);

async function mount(symbols: string[], api = new FakeApi(), loop = false) {
  api.snapshot = snapshot({ watchlists: [{ id: 'default', name: 'Main', symbols }] });
  useMonitor.getState().attach(api, loop ? {} : { afterPaint: never });
  render(<WatchlistPanel />);
  await screen.findByRole('table', { name: 'Watchlist' });
  await paint();
  return api;
}

function host(): HTMLElement {
  const el = document.querySelector<HTMLElement>('.quote-grid');
  if (el === null) throw new Error('no grid');
  return el;
}

function cells(): PaintedCell[] {
  return (host() as unknown as { gridProbe: GridProbe }).gridProbe.cells();
}

function cell(symbol: string, column: string): PaintedCell | undefined {
  return cells().find((c) => c.symbol === symbol && c.column === column);
}

function ctx(): RecordingContext {
  const last = contexts.at(-1);
  if (last === undefined) throw new Error('the grid asked for no context');
  return last;
}

/**
 * Scrolls `area` to `top` px and sends its scroll event, inside act; `during` runs inside the
 * event's task, before React's own work after it.
 */
async function scrollArea(area: HTMLElement, top: number, during?: () => void): Promise<void> {
  await act(async () => {
    area.scrollTop = top;
    area.dispatchEvent(new Event('scroll'));
    during?.();
    await Promise.resolve();
  });
}

describe('the canvas watchlist', () => {
  it('draws a folded frame in the next animation frame, and then only the cells it changed', async () => {
    await mount(['AAPL', 'MSFT']);
    act(() => {
      useMonitor.getState().applyFrame(
        makeFrame(1, [
          { symbol: 'AAPL', bid: 187.5, bidSize: 300, ask: 187.52, receivedAt: Date.now() },
          { symbol: 'MSFT', bid: 410, bidSize: 100, ask: 410.1, receivedAt: Date.now() },
        ]),
      );
    });
    // Nothing is drawn until the animation frame.
    const seq = Number(host().dataset.paintSeq);
    expect(cell('AAPL', 'bid')?.text).toBe('—');
    await paint();
    expect(Number(host().dataset.paintSeq)).toBe(seq + 1);
    expect(cell('AAPL', 'bid')).toMatchObject({ text: '187.50', x: 90, y: HEADER, width: 78 });
    expect(cell('MSFT', 'bidSize')?.text).toBe('100');
    // The next frame moves AAPL's bid size only: one cell is drawn again, nothing else.
    ctx().clear();
    act(() => {
      useMonitor
        .getState()
        .applyFrame(
          makeFrame(2, [
            { symbol: 'AAPL', bid: 187.5, bidSize: 400, ask: 187.52, receivedAt: Date.now() },
          ]),
        );
    });
    await paint();
    expect(ctx().texts()).toEqual(['400']);
    expect(
      ctx()
        .ops.filter((o) => o.op === 'clearRect')
        .map((o) => [o.x, o.y]),
    ).toEqual([[90 + 78, HEADER]]);
  });

  it('the selection a key makes is painted in the next frame, and says so on the grid', async () => {
    const user = userEvent.setup();
    await mount(['A', 'B', 'C']);
    expect(host().dataset.paintedSelection).toBe('');
    screen.getByRole('group', { name: /Main: 3 symbols/ }).focus();
    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(useMonitor.getState().selectedSymbol).toBe('B');
    const seq = Number(host().dataset.paintSeq);
    await paint();
    expect(host().dataset.paintedSelection).toBe('B');
    expect(Number(host().dataset.paintSeq)).toBe(seq + 1);
    const tinted = cells().filter((c) => c.background !== '');
    // The whole row, the DOM's columns too (their cells are transparent over it).
    expect(new Set(tinted.map((c) => c.symbol))).toEqual(new Set(['B']));
    expect(tinted.map((c) => c.column)).toContain('symbol');
    expect(tinted.map((c) => c.column)).toContain('actions');
  });

  it('tells main which rows are on screen, with a margin and the selection', async () => {
    const api = await mount(Array.from({ length: 100 }, (_, i) => `S${i}`));
    const symbols = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => `S${from + i}`);
    // 20 rows meet the area (19 whole), and SHOWN_MARGIN_ROWS below them.
    const first = symbols(0, 20 + SHOWN_MARGIN_ROWS);
    expect(useMonitor.getState().shown).toEqual(first);
    await waitFor(() => expect(api.callsOf('frames:focus').at(-1)).toEqual({ symbols: first }));
    const area = screen.getByRole('group', { name: /Main: 100 symbols/ });
    // Scrolled 30 rows down: rows 30-49 on screen, 20-59 shown.
    await scrollArea(area, 30 * 26);
    await paint();
    expect(useMonitor.getState().shown).toEqual(symbols(20, 60));
    // A selection far away is shown too (the detail pane follows it).
    act(() => useMonitor.getState().selectSymbol('S99'));
    await paint();
    expect(useMonitor.getState().shown).toEqual([...symbols(20, 60), 'S99']);
    const calls = api.callsOf('frames:focus').length;
    // Nothing moved: nothing sent again.
    await paint();
    expect(api.callsOf('frames:focus').length).toBe(calls);
  });

  it("the mirror's sweep keeps the rows on screen current, not the ones mounted around them", async () => {
    {
      // The pull loop runs on (each frame after the paint), so every pushed frame is folded.
      const api = await mount(
        Array.from({ length: 100 }, (_, i) => `S${i}`),
        new FakeApi(),
        true,
      );
      const bidText = (symbol: string) =>
        document.querySelector(`#quote-row-${symbol} td.num`)?.textContent ?? 'not mounted';
      // S25 is mounted (the virtualizer's overscan) but below the 20 rows on screen.
      expect(bidText('S25')).not.toBe('not mounted');
      await act(async () => {
        api.pushFrame(
          makeFrame(2, [
            { symbol: 'S1', bid: 11 },
            { symbol: 'S25', bid: 25 },
          ]),
        );
        await Promise.resolve();
      });
      await sweeps();
      expect(bidText('S1')).toBe('11.00');
      expect(bidText('S25')).toBe('—');
      // Every MIRROR_OFF_SCREEN_EVERY-th sweep writes it anyway (a screen reader may read it).
      for (let i = 0; i < MIRROR_OFF_SCREEN_EVERY; i++) {
        await act(async () => {
          api.pushFrame(makeFrame(10 + i, [{ symbol: 'S1', bid: 20 + i }]));
          await Promise.resolve();
        });
        await sweeps();
      }
      expect(bidText('S25')).toBe('25.00');
      await act(async () => {
        api.pushFrame(makeFrame(20, [{ symbol: 'S25', bid: 26 }]));
        await Promise.resolve();
      });
      // Scrolled into view: the next sweep writes it.
      const area = screen.getByRole('group', { name: /Main: 100 symbols/ });
      await scrollArea(area, 10 * 26);
      await act(async () => {
        api.pushFrame(makeFrame(21, [{ symbol: 'S1', bid: 12 }]));
        await Promise.resolve();
      });
      await sweeps();
      expect(bidText('S25')).toBe('26.00');
    }
  });

  it('counts the rows wholly visible on the scroll area for the bench', async () => {
    await mount(Array.from({ length: 100 }, (_, i) => `S${i}`));
    const area = screen.getByRole('group', { name: /Main: 100 symbols/ });
    // (520 - 24) / 26 = 19.07: 19 whole rows, the 20th cut.
    expect(area.dataset.visibleRows).toBe('19');
    expect(new Set(cells().map((c) => c.symbol)).size).toBe(20);
    // Scrolled by half a row: the first row is cut at the top now, the 20th still at the bottom.
    await scrollArea(area, 13);
    await paint();
    expect(area.dataset.visibleRows).toBe('18');
    expect(cell('S0', 'bid')?.y).toBe(HEADER - 13);
  });

  it('reads no layout inside a scroll event: the next frame measures the scroll', async () => {
    await mount(Array.from({ length: 100 }, (_, i) => `S${i}`));
    const area = screen.getByRole('group', { name: /Main: 100 symbols/ });
    const width = vi.spyOn(HTMLElement.prototype, 'offsetWidth', 'get');
    try {
      await scrollArea(area, 5 * 26);
      expect(width).not.toHaveBeenCalled();
      await paint();
      expect(width).toHaveBeenCalled();
      expect(cell('S5', 'bid')?.y).toBe(HEADER);
    } finally {
      width.mockRestore();
    }
  });

  it('moves the canvas with the rows: back over the visible part in the frame after a scroll', async () => {
    await mount(Array.from({ length: 100 }, (_, i) => `S${i}`));
    const area = screen.getByRole('group', { name: /Main: 100 symbols/ });
    const canvas = document.querySelector('canvas.quote-canvas');
    const track = canvas?.parentElement;
    // Inside the scroll area, on a track of its own under the table.
    expect(track?.classList.contains('quote-canvas-track')).toBe(true);
    expect(track?.parentElement).toBe(area);
    expect((canvas as HTMLElement | null)?.style.transform).toBe('translate(0px, 0px)');
    await scrollArea(area, 7 * 26);
    // Not inside the scroll event: the next frame puts it back over what the area shows.
    expect((canvas as HTMLElement | null)?.style.transform).toBe('translate(0px, 0px)');
    await paint();
    expect((canvas as HTMLElement | null)?.style.transform).toBe(`translate(0px, ${7 * 26}px)`);
    expect(cell('S7', 'bid')?.y).toBe(HEADER);
    // The track is at least the area's size (happy-dom lays out no table to be taller).
    expect(track?.style.height).toBe(`${AREA.height}px`);
  });

  it('mounts rows in blocks, a task after a short scroll, and at once after a jump past them', async () => {
    await mount(Array.from({ length: 100 }, (_, i) => `S${i}`));
    const area = screen.getByRole('group', { name: /Main: 100 symbols/ });
    const mounted = (symbol: string) => document.getElementById(`quote-row-${symbol}`) !== null;
    // 20 rows meet the area, 8 more below them, out to the end of their block of 8: rows 0-31.
    expect(mounted('S31')).toBe(true);
    expect(mounted('S32')).toBe(false);
    // Two rows down: the margin (rows 22-29) is still inside the mounted block, so nothing moves.
    await scrollArea(area, 2 * 26);
    expect(mounted('S32')).toBe(false);
    expect(mounted('S0')).toBe(true);
    // Five rows down: the margin reaches row 32, and the next block (32-39) is mounted a task
    // later, not inside the scroll event.
    await scrollArea(area, 5 * 26, () => expect(mounted('S32')).toBe(false));
    expect(mounted('S39')).toBe(true);
    expect(mounted('S40')).toBe(false);
    // Far past the mounted rows: rendered inside the scroll event, before any frame.
    await scrollArea(area, 80 * 26, () => expect(mounted('S80')).toBe(true));
    expect(mounted('S31')).toBe(false);
  });

  it('paints the row under the pointer, and stops when it leaves', async () => {
    await mount(['A', 'B']);
    fireEvent.mouseOver(screen.getByRole('rowheader', { name: 'B' }));
    await paint();
    expect(cell('B', 'bid')?.background).not.toBe('');
    expect(cell('A', 'bid')?.background).toBe('');
    fireEvent.mouseLeave(screen.getByRole('group', { name: /Main: 2 symbols/ }));
    await paint();
    expect(cell('B', 'bid')?.background).toBe('');
  });

  it('a theme change draws everything again, in colours read anew', async () => {
    await mount(['A', 'B']);
    ctx().clear();
    await act(async () => {
      document.documentElement.setAttribute('data-theme', 'light');
      // The observer reports after the attribute change (a microtask).
      await Promise.resolve();
    });
    await paint();
    const [first] = ctx().ops;
    expect(first).toMatchObject({ op: 'clearRect', x: 0, y: 0, w: AREA.width, h: AREA.height });
    expect(ctx().ops.filter((o) => o.op === 'fillText').length).toBeGreaterThan(0);
  });

  it('a theme change measures the header again in the frame that draws it', async () => {
    await mount(['A', 'B']);
    // Another theme may bring another font, and with it other header offsets: they are read in
    // the paint, not only at the table's next commit (up to a second later, on its clock tick).
    const width = vi.spyOn(HTMLElement.prototype, 'offsetWidth', 'get');
    try {
      const root = document.documentElement;
      await act(async () => {
        root.setAttribute(
          'data-theme',
          root.getAttribute('data-theme') === 'light' ? 'dark' : 'light',
        );
        await Promise.resolve();
      });
      expect(width).not.toHaveBeenCalled();
      await paint();
      expect(width).toHaveBeenCalled();
    } finally {
      width.mockRestore();
    }
  });

  it('screen latency is taken once the canvas has drawn the folded frame', async () => {
    const api = await mount(['AAPL'], new FakeApi(), true);
    const histogram = useMonitor.getState().screenLatency;
    const seqAtRecord: number[] = [];
    const record = histogram.record.bind(histogram);
    vi.spyOn(histogram, 'record').mockImplementation((ms: number) => {
      seqAtRecord.push(Number(host().dataset.paintSeq));
      record(ms);
    });
    const before = Number(host().dataset.paintSeq);
    await act(async () => {
      api.pushFrame(makeFrame(1, [{ symbol: 'AAPL', bid: 100, receivedAt: Date.now() }]));
      await Promise.resolve();
      await Promise.resolve();
    });
    expect(histogram.count).toBe(0);
    await paint();
    await act(async () => {
      await Promise.resolve();
    });
    expect(histogram.count).toBe(1);
    // Recorded after the paint that drew the frame, in the same animation frame.
    expect(seqAtRecord).toEqual([before + 1]);
    expect(cell('AAPL', 'bid')?.text).toBe('100.00');
  });
});
