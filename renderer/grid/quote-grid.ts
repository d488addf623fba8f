/**
 * The canvas watchlist's page-side owner: keeps a canvas the size of the table's scroll area
 * (backing store at the device pixel ratio), measures the DOM header for the columns, builds the
 * scene from the quote board and has the CellPainter draw it once per animation frame, only when
 * something changed. It also keeps the attributes the end-to-end bench reads: `data-visible-rows`
 * on the scroll area, `data-paint-seq` and `data-painted-selection` on the grid element.
 */
import type { QuoteBoard, QuoteRow } from '../model/board.ts';
import type { SeriesBook } from '../model/series.ts';
import { cancelPaint, requestPaint } from '../paint-clock.ts';
import {
  cellContent,
  flashMark,
  nextFlashStep,
  shownFreshness,
  type CellContent,
  type CellInputs,
} from './cell-content.ts';
import {
  CellPainter,
  fitBackingStore,
  type GridRow,
  type GridScene,
  type PaintContext,
  type PaintedCell,
} from './cell-painter.ts';
import {
  columnsFromHeader,
  shownSymbols,
  visibleRange,
  wholeRows,
  type GridViewport,
  type HeaderCell,
} from './grid-layout.ts';
import { readPalette, type GridPalette } from './grid-palette.ts';

/** What the painter reads besides the layout, fetched once per paint. */
export interface GridSources {
  readonly board: QuoteBoard;
  readonly series: SeriesBook;
  readonly session: string | undefined;
  /** Silence is expected (a closed market): no stale marks. */
  readonly quiet: boolean;
  /** The halted symbols: silent by design, never stale. */
  readonly halted: ReadonlySet<string>;
}

/** What React last rendered. */
export interface GridLayout {
  /** The list in its shown order (sorted or not). */
  readonly order: readonly string[];
  readonly selected: string | undefined;
  /** The one-second tick: ages and stale marks. */
  readonly tick: number;
  /**
   * The value columns shown, one array per column choice: another array means another header
   * to measure (the same one means the header has not moved since the last commit).
   */
  readonly columns?: readonly string[];
}

export interface GridElements {
  /** The grid element: the scroll area's parent. */
  readonly host: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  /** The scroll area holding the accessible table (above the canvas, transparent). */
  readonly scroller: HTMLElement;
  /**
   * The canvas's parent inside the scroll area, under the table: it scrolls with the rows and is
   * kept the table's size (so that the canvas, moved to the visible part, never makes the area
   * taller or wider than its rows).
   */
  readonly track: HTMLElement;
}

/** What the e2e spec reads off the grid element: the cells the painter last drew. */
export interface GridProbe {
  readonly cells: () => PaintedCell[];
}

/**
 * A row as this grid builds it for the painter: with the cells already formatted for the row's
 * current state (formatting numbers is most of a paint's script time, and most rows on screen do
 * not change in a given frame).
 */
interface QuoteGridRow extends GridRow {
  readonly formatted: Map<string, CellContent>;
  readonly inputs: CellInputs;
  readonly quote: QuoteRow | undefined;
}

/** Per symbol: the state its cells were formatted for, and those cells. */
interface Formatted {
  quote: QuoteRow | undefined;
  key: string;
  readonly cells: Map<string, CellContent>;
}

export interface GridOptions {
  readonly rowHeight: number;
  readonly clock?: () => number;
  /**
   * The rows on screen or the selection changed: called from a paint with `focus` (those rows, a
   * margin either side and the selected one: what main should keep fresh) and `visible` (the rows
   * that meet the scroll area, and the selected one), and with undefined when the grid goes away.
   */
  readonly onShown?: (focus: readonly string[] | undefined, visible?: readonly string[]) => void;
}

export class QuoteGrid {
  readonly #painter = new CellPainter();
  #formatted = new Map<string, Formatted>();
  readonly #el: GridElements;
  readonly #sources: () => GridSources;
  readonly #clock: () => number;
  readonly #rowHeight: number;
  #ctx: PaintContext | null | undefined;
  #palette: GridPalette | undefined;
  #layout: GridLayout = { order: [], selected: undefined, tick: 0 };
  #header: HeaderCell[] = [];
  #columnsKey = '';
  #view: GridViewport;
  #ratio = 1;
  #hovered: string | undefined;
  #seq = 0;
  #visibleRows = -1;
  #flashTimer: ReturnType<typeof setTimeout> | undefined;
  #flashAt = Infinity;
  #resize: ResizeObserver | undefined;
  #dprQuery: MediaQueryList | undefined;
  #themeWatch: (() => void) | undefined;
  #disposed = false;
  /** The header and the scroll area were measured at least once. */
  #measured = false;
  /** The area scrolled since the last read of its offsets: the next paint reads them first. */
  #scrolled = false;
  readonly #onShown: GridOptions['onShown'];
  /** What `onShown` was last told, as the range, order and selection it came from. */
  #shown: { first: number; end: number; order: readonly string[]; selected: string | undefined } = {
    first: -1,
    end: -1,
    order: [],
    selected: undefined,
  };
  /** The symbols of `#shown`'s rows and its selection (undefined before the first paint). */
  #onScreen: Set<string> | undefined;

  constructor(elements: GridElements, sources: () => GridSources, options: GridOptions) {
    this.#el = elements;
    this.#sources = sources;
    this.#clock = options.clock ?? (() => Date.now());
    this.#rowHeight = options.rowHeight;
    this.#onShown = options.onShown;
    this.#view = {
      width: 0,
      height: 0,
      top: 0,
      scrollTop: 0,
      scrollLeft: 0,
      rowHeight: options.rowHeight,
    };
    const probe: GridProbe = { cells: () => this.#painter.cells() };
    Object.defineProperty(elements.host, 'gridProbe', { value: probe, configurable: true });
    if (typeof ResizeObserver === 'function') {
      this.#resize = new ResizeObserver(() => this.#measure(true));
      this.#resize.observe(elements.scroller);
    }
    this.#watchRatio();
    this.#themeWatch = watchTheme(() => this.themeChanged());
    // A face that finished loading has other glyph widths than its fallback had.
    (document.fonts as FontFaceSet | undefined)?.addEventListener('loadingdone', this.#fontsLoaded);
  }

  readonly #fontsLoaded = (): void => {
    this.#measured = false;
    this.#painter.fontChanged();
    this.#request();
  };

  /** After every commit of the table: the order, selection and tick it rendered, and its header. */
  rendered(layout: GridLayout): void {
    const before = this.#layout;
    this.#layout = layout;
    // Another order (a sort, an add or removal) moves rows under every cell: draw it all again.
    const reordered = layout.order !== before.order;
    // Reading the header's offsets forces a layout of the whole page in the middle of React's
    // commit: only when the header may have moved. A selection or the one-second tick does not
    // move it; a scroll and a resize have their own calls.
    if (
      reordered ||
      !this.#measured ||
      layout.columns === undefined ||
      layout.columns !== before.columns
    )
      this.#measure(reordered);
    else this.#request();
  }

  /** A frame was folded, or the series moved: paint what changed in the next animation frame. */
  changed(): void {
    this.#request();
  }

  /**
   * The scroll area scrolled: every row moved. Measured in the animation frame, not here: a scroll
   * event may come right after React mounted rows, and reading offsets then is a forced layout of
   * the whole table inside the event (6.7 ms in one traced scrolling ArrowDown; keys trace of bench
   * e2e, BENCH_TRACE_KEYS, 2026-12-07).
   */
  scrolled(): void {
    this.#scrolled = true;
    this.#request();
  }

  /** The pointer is over `symbol`'s row (undefined: over none). */
  hover(symbol: string | undefined): void {
    if (symbol === this.#hovered) return;
    this.#hovered = symbol;
    this.#request();
  }

  /** The theme changed: colours are read again (in the frame, after the page applied it). */
  themeChanged(): void {
    this.#palette = undefined;
    // Another theme may bring another font size, and with it other header offsets.
    this.#measured = false;
    this.#painter.invalidate();
    this.#request();
  }

  dispose(): void {
    this.#disposed = true;
    cancelPaint(this.#paint);
    this.#resize?.disconnect();
    this.#themeWatch?.();
    (document.fonts as FontFaceSet | undefined)?.removeEventListener(
      'loadingdone',
      this.#fontsLoaded,
    );
    this.#dprQuery?.removeEventListener('change', this.#ratioChanged);
    if (this.#flashTimer !== undefined) clearTimeout(this.#flashTimer);
    this.#onShown?.(undefined);
  }

  /** Reads the scroll area's size and scroll, and the header's columns; paints if any moved. */
  #measure(full: boolean): void {
    this.#read(full);
    this.#request();
  }

  /** Reads the header's cells and the scroll area's box and offsets (a layout, if one is due). */
  #read(full: boolean): void {
    this.#scrolled = false;
    const { scroller, canvas } = this.#el;
    const head = scroller.querySelector('thead');
    // children, not rows/cells: the same here, and happy-dom has only these.
    const cells = head?.children[0]?.children ?? [];
    const header: HeaderCell[] = [];
    for (const th of cells) {
      const id = th.getAttribute('data-col');
      if (!(th instanceof HTMLElement)) continue;
      if (id === null) continue;
      header.push({ id, offsetLeft: th.offsetLeft, offsetWidth: th.offsetWidth });
    }
    const columnsKey = header.map((h) => `${h.id}:${h.offsetLeft}:${h.offsetWidth}`).join(',');
    const width = scroller.clientWidth;
    const height = scroller.clientHeight;
    // The track before the offsets: rows removed at the end of a list scrolled to it clamp the
    // area's scroll only once the track is no taller than the table, and the canvas moved to the
    // offset from before that clamp stood a row off its rows for a frame.
    this.#fitTrack(this.#el.track, width, height);
    const view: GridViewport = {
      width,
      height,
      top: head?.offsetHeight ?? 0,
      scrollTop: scroller.scrollTop,
      scrollLeft: scroller.scrollLeft,
      rowHeight: this.#rowHeight,
    };
    const before = this.#view;
    const moved =
      view.width !== before.width ||
      view.height !== before.height ||
      view.top !== before.top ||
      view.scrollTop !== before.scrollTop ||
      view.scrollLeft !== before.scrollLeft ||
      columnsKey !== this.#columnsKey;
    this.#measured = true;
    this.#view = view;
    this.#header = header;
    this.#columnsKey = columnsKey;
    if (moved || full) this.#painter.invalidate();
    if (view.width !== before.width || view.height !== before.height) {
      canvas.style.width = `${view.width}px`;
      canvas.style.height = `${view.height}px`;
    }
    this.#follow(view);
    const whole = wholeRows(view, this.#layout.order.length);
    if (whole !== this.#visibleRows) {
      this.#visibleRows = whole;
      scroller.dataset.visibleRows = String(whole);
    }
  }

  /**
   * Inside the scroll area the canvas moves with the rows: the compositor scrolls both together, so
   * that a wheel never shows the values of one row beside the symbol of another, and each paint
   * puts the canvas back over the visible part. The track (#fitTrack) takes the table's size, so
   * the canvas never holds the area open past its rows (after rows are removed, say).
   */
  #follow(view: GridViewport): void {
    const shift = `translate(${view.scrollLeft}px, ${view.scrollTop}px)`;
    if (this.#el.canvas.style.transform !== shift) this.#el.canvas.style.transform = shift;
  }

  /** The track takes the table's size, or the area's where the table is smaller. */
  #fitTrack(track: HTMLElement, areaWidth: number, areaHeight: number): void {
    const table = this.#el.scroller.querySelector('table');
    const width = `${Math.max(areaWidth, table?.offsetWidth ?? 0)}px`;
    const height = `${Math.max(areaHeight, (table?.offsetTop ?? 0) + (table?.offsetHeight ?? 0))}px`;
    const style = track.style;
    if (style.width !== width) style.width = width;
    if (style.height !== height) style.height = height;
  }

  #watchRatio(): void {
    this.#ratio =
      typeof devicePixelRatio === 'number' && devicePixelRatio > 0 ? devicePixelRatio : 1;
    if (typeof matchMedia !== 'function') return;
    // Matches while the ratio is this one: a change (another screen, a zoom) fires once.
    this.#dprQuery = matchMedia(`(resolution: ${this.#ratio}dppx)`);
    this.#dprQuery.addEventListener('change', this.#ratioChanged);
  }

  readonly #ratioChanged = (): void => {
    this.#dprQuery?.removeEventListener('change', this.#ratioChanged);
    if (this.#disposed) return;
    this.#watchRatio();
    this.#painter.invalidate();
    this.#request();
  };

  #request(): void {
    if (!this.#disposed) requestPaint(this.#paint);
  }

  readonly #paint = (): void => {
    if (this.#disposed) return;
    // A scroll, and a theme or a font that may have moved the header, are measured here, in the
    // frame that draws them.
    if (this.#scrolled || !this.#measured) this.#read(true);
    const { canvas, host } = this.#el;
    if (this.#ctx === undefined) this.#ctx = canvas.getContext('2d');
    const ctx = this.#ctx;
    // No 2D context (a test DOM without canvas): nothing drawn, nothing claimed as painted.
    if (ctx === null) return;
    const view = this.#view;
    if (fitBackingStore(canvas, ctx, view.width, view.height, this.#ratio))
      this.#painter.invalidate();
    this.#palette ??= readPalette(host, prefersLessMotion());
    const scene = this.#scene();
    this.#painter.paint(ctx, scene.scene, this.#palette);
    this.#seq += 1;
    host.dataset.paintSeq = String(this.#seq);
    host.dataset.paintedSelection = this.#layout.selected ?? '';
    this.#scheduleFlash(scene.flashDue, scene.now);
  };

  /** Tells `onShown` when the rows on screen, their order or the selection moved. */
  #reportShown(
    first: number,
    end: number,
    order: readonly string[],
    selected: string | undefined,
  ): void {
    const last = this.#shown;
    if (
      last.first === first &&
      last.end === end &&
      last.order === order &&
      last.selected === selected
    )
      return;
    this.#shown = { first, end, order, selected };
    const visible = order.slice(first, end);
    if (selected !== undefined && !visible.includes(selected)) visible.push(selected);
    this.#onScreen = new Set(visible);
    this.#onShown?.(shownSymbols(order, first, end, selected), visible);
  }

  /**
   * Whether `symbol`'s row meets the scroll area, or is the selected one, as of the last paint
   * (true before the first): the accessible mirror's sweep keeps those rows' text current.
   */
  isOnScreen(symbol: string): boolean {
    return this.#onScreen === undefined || this.#onScreen.has(symbol);
  }

  /** The scene for this paint, and when the earliest lit flash on screen steps. */
  #scene(): { scene: GridScene<QuoteGridRow>; flashDue: number; now: number } {
    const { board, series, session, quiet, halted } = this.#sources();
    const { order, selected, tick } = this.#layout;
    const now = this.#clock();
    const hovered = this.#hovered;
    const fresh: CellInputs = {
      session,
      regularClose: (symbol) => series.regularClose(symbol),
      series: (symbol) => series.get(symbol),
      now,
      tick,
      stale: false,
    };
    const stale: CellInputs = { ...fresh, stale: true };
    const view = this.#view;
    const { first, end } = visibleRange(view, order.length);
    this.#reportShown(first, end, order, selected);
    let flashDue = Infinity;
    for (let i = first; i < end; i++) {
      const symbol = order[i];
      if (symbol !== undefined)
        flashDue = Math.min(flashDue, nextFlashStep(board.get(symbol), now));
    }
    // The formatted cells of rows that left the screen are dropped (they were cheap to make).
    const formatted = new Map<string, Formatted>();
    const before = this.#formatted;
    this.#formatted = formatted;
    const scene: GridScene<QuoteGridRow> = {
      view,
      columns: columnsFromHeader(this.#header, view.scrollLeft),
      count: order.length,
      row: (index): QuoteGridRow | undefined => {
        const symbol = order[index];
        if (symbol === undefined) return undefined;
        const quote = board.get(symbol);
        const silent = quiet || halted.has(symbol);
        const isStale = shownFreshness(quote?.receivedAt ?? NaN, tick, silent) === 'stale';
        // Everything a cell of the row is formatted from (the flashes by their step, not the clock).
        const key =
          `${quote?.version ?? -1}|${session}|${tick}|${isStale}|${series.get(symbol)?.version}|` +
          `${flashMark(quote, 'bid', now)}${flashMark(quote, 'ask', now)}${flashMark(quote, 'last', now)}`;
        let entry = before.get(symbol);
        if (entry === undefined || entry.quote !== quote || entry.key !== key)
          entry = { quote, key, cells: new Map() };
        formatted.set(symbol, entry);
        return {
          symbol,
          index,
          selected: symbol === selected,
          hovered: symbol === hovered,
          stale: isStale,
          formatted: entry.cells,
          inputs: isStale ? stale : fresh,
          quote,
        };
      },
      content: (row, column) => {
        let content = row.formatted.get(column);
        if (content === undefined) {
          content = cellContent(column, row.quote, row.inputs);
          row.formatted.set(column, content);
        }
        return content;
      },
    };
    return { scene, flashDue, now };
  }

  /** A lit flash must step (paler, out) on time even when no frame comes: one timer, earliest. */
  #scheduleFlash(due: number, now: number): void {
    if (due === Infinity || due >= this.#flashAt) return;
    if (this.#flashTimer !== undefined) clearTimeout(this.#flashTimer);
    this.#flashAt = due;
    this.#flashTimer = setTimeout(
      () => {
        this.#flashTimer = undefined;
        this.#flashAt = Infinity;
        this.#request();
      },
      Math.max(0, due - now) + 1,
    );
  }
}

/**
 * Calls `changed` when the page's colours may have changed: the root element's theme attribute,
 * class or style, the system's colour scheme, or the user's motion preference (flash tints).
 */
function watchTheme(changed: () => void): () => void {
  const root = document.documentElement;
  const observer =
    typeof MutationObserver === 'undefined' ? undefined : new MutationObserver(changed);
  observer?.observe(root, { attributes: true, attributeFilter: ['data-theme', 'class', 'style'] });
  const queries =
    typeof matchMedia === 'function'
      ? [matchMedia('(prefers-color-scheme: dark)'), matchMedia('(prefers-reduced-motion: reduce)')]
      : [];
  for (const query of queries) query.addEventListener('change', changed);
  return () => {
    observer?.disconnect();
    for (const query of queries) query.removeEventListener('change', changed);
  };
}

function prefersLessMotion(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
}
