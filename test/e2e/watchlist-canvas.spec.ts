/**
 * The canvas watchlist in Chromium against `market-monitor web` on the embedded simulator: the
 * values drawn on the canvas are the values the accessible table says (read from both: the
 * painter's record of what it drew, and the canvas's pixels), sorting, selection by mouse and by
 * keyboard, flashes under a live stream, both themes, a resize and a device pixel ratio of 2.
 */
import type { Locator, Page, TestInfo } from '@playwright/test';
import { expect, test } from './fixtures.ts';

/** What the painter last drew in a cell (renderer/grid/cell-painter.ts, PaintedCell). */
interface Painted {
  readonly symbol: string;
  readonly column: string;
  readonly text: string;
  readonly flash: string;
  readonly background: string;
  readonly points: number;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * The page's DOM as the callbacks below use it: this project is typed for Node, without the DOM
 * library, so page-side code names the little it touches.
 */
interface PageElement {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { left: number; top: number; width: number; height: number };
  readonly children: ArrayLike<PageElement> & Iterable<PageElement>;
  readonly classList: { contains(name: string): boolean };
  readonly textContent: string | null;
  readonly clientWidth: number;
  readonly clientHeight: number;
}

interface PageCanvas extends PageElement {
  readonly width: number;
  readonly height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
  } | null;
}

/** Columns the DOM shows (the canvas draws only their row tint). */
const DOM_COLUMNS = new Set(['symbol', 'name', 'actions']);

function watchlist(page: Page): Locator {
  return page.getByRole('table', { name: 'Watchlist' });
}

function grid(page: Page): Locator {
  return page.locator('.quote-grid');
}

function area(page: Page): Locator {
  return page.locator('#watchlist-table-area');
}

function rowHeader(page: Page, symbol: string): Locator {
  return watchlist(page).getByRole('rowheader', { name: symbol, exact: true });
}

async function shoot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

/** Every cell the painter has on the canvas now (the grid element's test hook). */
function painted(page: Page): Promise<Painted[]> {
  return grid(page).evaluate((el) =>
    (el as unknown as { gridProbe: { cells(): Painted[] } }).gridProbe.cells(),
  );
}

/** The painted value cells (not the DOM's columns), by "SYMBOL column". */
async function paintedValues(page: Page): Promise<Map<string, Painted>> {
  const cells = await painted(page);
  return new Map(
    cells.filter((c) => !DOM_COLUMNS.has(c.column)).map((c) => [`${c.symbol} ${c.column}`, c]),
  );
}

/**
 * The accessible table's text by "SYMBOL column" (the column from the header's data-col), for the
 * rows that are on screen.
 */
function mirrorValues(page: Page): Promise<Record<string, string>> {
  return area(page).evaluate((node) => {
    const scroller = node as unknown as PageElement;
    const out: Record<string, string> = {};
    const ids = [...scroller.querySelectorAll('thead th')].map((th) => th.getAttribute('data-col'));
    for (const tr of scroller.querySelectorAll('tbody tr.quote-row')) {
      const symbol = tr.getAttribute('data-symbol') ?? '';
      [...tr.children].forEach((cell, i) => {
        const id = ids[i];
        if (id === null || id === undefined) return;
        // The range cell's text is its title (its bar is drawn).
        const text = cell.classList.contains('range')
          ? (cell.getAttribute('title') ?? '')
          : (cell.textContent ?? '');
        out[`${symbol} ${id}`] = text;
      });
    }
    return out;
  });
}

/** The painted text cells whose mirror text differs (none when both agree). */
async function disagreements(page: Page): Promise<string[]> {
  const drawn = await paintedValues(page);
  const mirror = await mirrorValues(page);
  const out: string[] = [];
  for (const [key, cell] of drawn) {
    if (cell.column === 'spark' || cell.column === 'range') continue;
    if (mirror[key] !== cell.text) out.push(`${key}: canvas ${cell.text}, table ${mirror[key]}`);
  }
  return out;
}

/**
 * Pixels of the canvas in a CSS-pixel rectangle, read back from the canvas itself: how many are
 * not clear (ink), and the mean luminance (0-255) of the solid ones (the glyphs' cores, not their
 * anti-aliased edges; NaN when there are none).
 */
function pixels(
  page: Page,
  rect: { x: number; y: number; width: number; height: number },
): Promise<{ ink: number; solid: number; maxAlpha: number; ratio: number }> {
  return grid(page).evaluate((host, r) => {
    const canvas = (host as unknown as PageElement).querySelector('canvas') as PageCanvas | null;
    const ctx = canvas?.getContext('2d');
    if (canvas === null || canvas === undefined || ctx === null || ctx === undefined)
      throw new Error('no canvas');
    const ratio = canvas.width / canvas.clientWidth;
    const data = ctx.getImageData(
      Math.round(r.x * ratio),
      Math.round(r.y * ratio),
      Math.round(r.width * ratio),
      Math.round(r.height * ratio),
    ).data;
    let ink = 0;
    let solid = 0;
    let lum = 0;
    let maxAlpha = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [red, green, blue, alpha] = [
        data[i] ?? 0,
        data[i + 1] ?? 0,
        data[i + 2] ?? 0,
        data[i + 3] ?? 0,
      ];
      if (alpha > 0) ink += 1;
      maxAlpha = Math.max(maxAlpha, alpha);
      if (alpha >= 200) {
        solid += 1;
        lum += 0.2126 * red + 0.7152 * green + 0.0722 * blue;
      }
    }
    return { ink, solid: solid === 0 ? NaN : lum / solid, maxAlpha, ratio };
  }, rect);
}

async function paintSeq(page: Page): Promise<number> {
  return Number(await grid(page).getAttribute('data-paint-seq'));
}

async function cellOf(page: Page, symbol: string, column: string): Promise<Painted> {
  const cell = (await paintedValues(page)).get(`${symbol} ${column}`);
  if (cell === undefined) throw new Error(`${symbol} ${column} is not on the canvas`);
  return cell;
}

/**
 * The area's scroll and size, where the canvas sits against the area, and how far each painted
 * "last" value is from its row's DOM cell (the worst of them, in CSS pixels).
 */
function geometry(page: Page) {
  return grid(page).evaluate((node) => {
    interface Box {
      left: number;
      top: number;
      width: number;
      height: number;
    }
    interface El {
      scrollTop: number;
      readonly scrollLeft: number;
      readonly scrollWidth: number;
      readonly clientWidth: number;
      readonly scrollHeight: number;
      readonly clientHeight: number;
      readonly offsetTop: number;
      readonly offsetHeight: number;
      readonly offsetLeft: number;
      readonly offsetWidth: number;
      getAttribute(name: string): string | null;
      getBoundingClientRect(): Box;
      querySelector(selector: string): El | null;
      querySelectorAll(selector: string): Iterable<El>;
      readonly children: ArrayLike<El>;
    }
    const host = node as unknown as El & { gridProbe: { cells(): Painted[] } };
    const area = host.querySelector('#watchlist-table-area');
    const table = host.querySelector('table.quotes');
    const canvas = host.querySelector('canvas');
    if (area === null || table === null || canvas === null) throw new Error('no grid parts');
    const ids = [...host.querySelectorAll('thead th')].map((th) => th.getAttribute('data-col'));
    const column = ids.indexOf('last');
    const c = canvas.getBoundingClientRect();
    const a = area.getBoundingClientRect();
    // Each painted "last" cell against its DOM cell, both relative to the canvas.
    const offsets: number[] = [];
    for (const cell of host.gridProbe.cells()) {
      if (cell.column !== 'last') continue;
      const td = host.querySelector(`tr[data-symbol="${cell.symbol}"]`)?.children[column];
      if (td === undefined) continue;
      const box = td.getBoundingClientRect();
      offsets.push(Math.abs(box.top - c.top - cell.y) + Math.abs(box.left - c.left - cell.x));
    }
    return {
      scrollTop: area.scrollTop,
      scrollHeight: area.scrollHeight,
      clientHeight: area.clientHeight,
      tableBottom: table.offsetTop + table.offsetHeight,
      tableRight: table.offsetLeft + table.offsetWidth,
      // The canvas covers the area's visible part wherever it is scrolled.
      canvasTop: c.top - a.top,
      canvasLeft: c.left - a.left,
      scrollLeft: area.scrollLeft,
      scrollWidth: area.scrollWidth,
      clientWidth: area.clientWidth,
      worst: Math.max(...offsets),
      cells: offsets.length,
    };
  });
}

/**
 * Opens the app and stops the stream once the rows have values: what the canvas drew and what
 * the table says can then be compared exactly (the table follows the canvas at about 2 Hz).
 */
async function openHeld(page: Page, url: string): Promise<void> {
  await page.goto(url);
  const state = page.getByRole('status', { name: 'Connection state' });
  await expect(state).toHaveText('live');
  await expect.poll(async () => (await paintedValues(page)).get('SPY last')?.text).toMatch(/^\d/);
  await page.getByRole('button', { name: 'Disconnect' }).click();
  await expect(state).toHaveText('stopped');
}

// The app is the worker's: a test that stopped the stream starts it again for the next one.
test.afterEach(async ({ page }) => {
  if (!page.url().startsWith('http')) return; // a test with a page of its own
  const connect = page.getByRole('button', { name: 'Connect', exact: true });
  if (await connect.isEnabled({ timeout: 2000 }).catch(() => false)) await connect.click();
});

test.describe('the canvas watchlist with the stream held (values hold still)', () => {
  test('the canvas draws what the accessible table says, in pixels too', async ({
    page,
    webApp,
  }, testInfo) => {
    await openHeld(page, webApp.url);
    await expect.poll(() => disagreements(page)).toEqual([]);
    const drawn = await paintedValues(page);
    // Every visible row's prices are on the canvas.
    for (const symbol of ['AAPL', 'MSFT', 'SPY'])
      expect(drawn.get(`${symbol} bid`)?.text).toMatch(/^\d{1,3}(,\d{3})*\.\d{2,}$/);
    // The painter's record is backed by pixels: the AAPL last cell has ink, the empty strip
    // between the header and the first row has none.
    const last = await cellOf(page, 'AAPL', 'last');
    expect((await pixels(page, last)).ink).toBeGreaterThan(20);
    // The canvas lies exactly under the table: the DOM cell and the painted cell share a box.
    const box = await grid(page).evaluate((node, col) => {
      const host = node as unknown as PageElement;
      const ids = [...host.querySelectorAll('thead th')].map((th) => th.getAttribute('data-col'));
      const td = host.querySelector('tr[data-symbol="AAPL"]')?.children[ids.indexOf(col)];
      const canvas = host.querySelector('canvas');
      if (td === undefined || canvas === null) throw new Error('no AAPL cell or no canvas');
      const a = td.getBoundingClientRect();
      const c = canvas.getBoundingClientRect();
      return { x: a.left - c.left, y: a.top - c.top, width: a.width, height: a.height };
    }, 'last');
    expect(Math.abs(box.x - last.x)).toBeLessThanOrEqual(1);
    expect(Math.abs(box.y - last.y)).toBeLessThanOrEqual(1);
    expect(Math.abs(box.width - last.width)).toBeLessThanOrEqual(1);
    // The bench's contract: rows wholly visible, a paint counter.
    expect(Number(await area(page).getAttribute('data-visible-rows'))).toBeGreaterThan(5);
    expect(await paintSeq(page)).toBeGreaterThan(0);
    await shoot(page, testInfo, 'canvas-closed');
  });

  test("a row's values can be selected with the mouse and copied as text", async ({
    page,
    webApp,
  }, testInfo) => {
    await openHeld(page, webApp.url);
    await expect.poll(() => disagreements(page)).toEqual([]);
    const bid = await cellOf(page, 'AAPL', 'bid');
    const last = await cellOf(page, 'AAPL', 'last');
    const canvas = await page.locator('.quote-canvas').boundingBox();
    if (canvas === null) throw new Error('no canvas box');
    // A drag from the left of the bid to the right of the last price, across the drawn digits.
    const y = canvas.y + bid.y + bid.height / 2;
    await page.mouse.move(canvas.x + bid.x + 2, y);
    await page.mouse.down();
    await page.mouse.move(canvas.x + last.x + last.width - 2, y, { steps: 8 });
    await page.mouse.up();
    const selected = await page.evaluate(() =>
      String((globalThis as unknown as { getSelection(): unknown }).getSelection()),
    );
    expect(selected).toContain(bid.text);
    expect(selected).toContain(last.text);
    await shoot(page, testInfo, 'canvas-text-selected');
  });

  test('a row gone stale is dimmed on the canvas, and the table under it stays see-through', async ({
    page,
    webApp,
  }, testInfo) => {
    await openHeld(page, webApp.url);
    const bid = await cellOf(page, 'AAPL', 'bid');
    expect((await pixels(page, bid)).maxAlpha).toBe(255);
    // No update for 15 s with the market open: stale (the stream is held).
    const row = watchlist(page).locator('tr[data-symbol="AAPL"]');
    await expect(row).toHaveClass(/stale/, { timeout: 30_000 });
    await expect(row.getByText('stale', { exact: true })).toBeVisible();
    // The digits at the DOM's old 60% opacity: no pixel of them is solid any more.
    await expect.poll(async () => (await pixels(page, bid)).maxAlpha).toBeLessThan(200);
    expect((await pixels(page, bid)).ink).toBeGreaterThan(20);
    // The mirror's text does not show through as a second, muted copy.
    const color = await row
      .locator('td.num')
      .first()
      .evaluate(
        (td) =>
          (
            globalThis as unknown as { getComputedStyle(el: unknown): { color: string } }
          ).getComputedStyle(td).color,
      );
    expect(color).toBe('rgba(0, 0, 0, 0)');
    await shoot(page, testInfo, 'canvas-stale');
  });

  test('sorting by a header reorders the canvas and the table alike', async ({ page, webApp }) => {
    await openHeld(page, webApp.url);
    await watchlist(page)
      .getByRole('columnheader', { name: 'Last', exact: true })
      .getByRole('button')
      .click();
    const order = async () => {
      const cells = [...(await paintedValues(page)).values()].filter((c) => c.column === 'last');
      cells.sort((a, b) => a.y - b.y);
      return cells.map((c) => Number.parseFloat(c.text.replace(/,/g, '')));
    };
    await expect
      .poll(async () => {
        const values = await order();
        return values.length > 5 && values.every((v, i) => i === 0 || v >= (values[i - 1] ?? 0));
      })
      .toBe(true);
    // The table's rows are in the same order as the canvas's.
    const canvasSymbols = [...(await paintedValues(page)).values()]
      .filter((c) => c.column === 'last')
      .sort((a, b) => a.y - b.y)
      .map((c) => c.symbol);
    const tableSymbols = await watchlist(page)
      .locator('tbody tr.quote-row')
      .evaluateAll((rows) =>
        rows.map((r) => (r as unknown as PageElement).getAttribute('data-symbol')),
      );
    expect(tableSymbols.slice(0, canvasSymbols.length)).toEqual(canvasSymbols);
    await expect.poll(() => disagreements(page)).toEqual([]);
  });

  test('selection by mouse and keyboard: the canvas paints it, the table points at it', async ({
    page,
    webApp,
  }, testInfo) => {
    await openHeld(page, webApp.url);
    const msft = await cellOf(page, 'MSFT', 'bid');
    const before = await pixels(page, { ...msft, height: 4 });
    await rowHeader(page, 'MSFT').click();
    // The pointer off the table: the hover tint is not what is being checked here.
    await page.mouse.move(1, 1);
    await expect(grid(page)).toHaveAttribute('data-painted-selection', 'MSFT');
    expect((await cellOf(page, 'MSFT', 'bid')).background).not.toBe('');
    // In pixels: the top of the cell (no text there) went from clear to the selection's tint.
    expect(before.ink).toBe(0);
    const tinted = await pixels(page, { ...msft, height: 4 });
    expect(tinted.ink).toBeGreaterThan(0);
    // The keyboard from there: the next row, in the canvas and in aria-activedescendant.
    await area(page).focus();
    // The list's own order: AAPL, MSFT, NVDA...
    const next = 'NVDA';
    const seq = await paintSeq(page);
    await page.keyboard.press('ArrowDown');
    await expect(grid(page)).toHaveAttribute('data-painted-selection', next);
    expect(await paintSeq(page)).toBeGreaterThan(seq);
    await expect(area(page)).toHaveAttribute('aria-activedescendant', `quote-row-${next}`);
    expect((await cellOf(page, next, 'bid')).background).not.toBe('');
    expect((await cellOf(page, 'MSFT', 'bid')).background).toBe('');
    expect((await pixels(page, { ...(await cellOf(page, 'MSFT', 'bid')), height: 4 })).ink).toBe(0);
    await shoot(page, testInfo, 'canvas-selection');
  });

  test('both themes: the digits are light on dark, dark on light', async ({
    page,
    webApp,
  }, testInfo) => {
    await openHeld(page, webApp.url);
    const last = await cellOf(page, 'AAPL', 'last');
    await expect.poll(async () => (await pixels(page, last)).solid).toBeGreaterThan(150);
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByRole('radio', { name: /light/i }).check();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
    // Dark ink now: the glyphs' solid pixels are near black.
    await expect
      .poll(async () => (await pixels(page, await cellOf(page, 'AAPL', 'last'))).solid)
      .toBeLessThan(80);
    await shoot(page, testInfo, 'canvas-light');
    await page.getByRole('radio', { name: /dark/i }).check();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
    await expect.poll(async () => (await pixels(page, last)).solid).toBeGreaterThan(150);
  });

  test('a resize: the canvas follows the scroll area and the visible rows are counted again', async ({
    page,
    webApp,
  }, testInfo) => {
    await openHeld(page, webApp.url);
    const size = async () =>
      grid(page).evaluate((node) => {
        const host = node as unknown as PageElement;
        const el = host.querySelector('#watchlist-table-area');
        const canvas = host.querySelector('canvas') as PageCanvas | null;
        if (el === null || canvas === null) throw new Error('no scroll area or no canvas');
        return {
          area: [el.clientWidth, el.clientHeight],
          canvas: [canvas.clientWidth, canvas.clientHeight],
          store: [canvas.width, canvas.height],
          rows: Number(el.getAttribute('data-visible-rows')),
        };
      });
    const big = await size();
    expect(big.canvas).toEqual(big.area);
    expect(big.store).toEqual(big.area);
    await page.setViewportSize({ width: 1100, height: 560 });
    await expect.poll(async () => (await size()).rows).toBeLessThan(big.rows);
    // The backing store follows in the next animation frame.
    await expect
      .poll(async () => {
        const now = await size();
        return (
          now.store.join('x') === now.area.join('x') && now.canvas.join('x') === now.area.join('x')
        );
      })
      .toBe(true);
    const small = await size();
    // Nothing painted below the canvas's bottom.
    for (const cell of await painted(page)) expect(cell.y).toBeLessThan(small.area[1] ?? 0);
    await expect.poll(() => disagreements(page)).toEqual([]);
    await shoot(page, testInfo, 'canvas-resized');
  });

  test('a wheel scroll moves the canvas with the rows, and the area ends at its last row', async ({
    page,
    webApp,
  }, testInfo) => {
    await page.setViewportSize({ width: 1100, height: 480 });
    await openHeld(page, webApp.url);
    const before = await geometry(page);
    expect(before.scrollHeight).toBeGreaterThan(before.clientHeight);
    const box = await area(page).boundingBox();
    if (box === null) throw new Error('no scroll area box');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, 100);
    await expect.poll(async () => (await geometry(page)).scrollTop).toBeGreaterThan(0);
    // Once the frame after the scroll is drawn, every painted value sits in its own row's cell.
    await expect
      .poll(async () => {
        const now = await geometry(page);
        return now.cells > 3 && now.worst <= 1 && Math.abs(now.canvasTop - 1) <= 1;
      })
      .toBe(true);
    await expect.poll(() => disagreements(page)).toEqual([]);
    // To the end: the canvas, moved down with the rows, holds the area no taller than the table.
    await area(page).evaluate((node) => {
      (node as unknown as { scrollTop: number }).scrollTop = 1e6;
    });
    await expect
      .poll(async () => {
        const now = await geometry(page);
        return now.scrollTop > 0 && now.worst <= 1 && now.cells > 3;
      })
      .toBe(true);
    const end = await geometry(page);
    expect(end.scrollHeight).toBeLessThanOrEqual(end.tableBottom + 2);
    expect(end.scrollTop + end.clientHeight).toBeGreaterThanOrEqual(end.scrollHeight - 1);
    await shoot(page, testInfo, 'canvas-scrolled');
  });

  test('rows removed at the bottom: the area shrinks and the canvas stays over its rows', async ({
    page,
    webApp,
  }) => {
    await page.setViewportSize({ width: 1100, height: 480 });
    await openHeld(page, webApp.url);
    await area(page).evaluate((node) => {
      (node as unknown as { scrollTop: number }).scrollTop = 1e6;
    });
    await expect.poll(async () => (await geometry(page)).worst).toBeLessThanOrEqual(1);
    const rows = watchlist(page).locator('tbody tr.quote-row');
    const lastSymbol = await rows.last().getAttribute('data-symbol');
    if (lastSymbol === null) throw new Error('no last row');
    const before = await geometry(page);
    // Every frame from here, as shown (read in a task after it): where the canvas was moved to
    // against where the area was scrolled. Apart, the values stand a row off their symbols.
    await grid(page).evaluate((node) => {
      interface Frames {
        requestAnimationFrame(cb: () => void): number;
        setTimeout(cb: () => void, ms: number): number;
      }
      const host = node as unknown as {
        querySelector(s: string): { scrollTop: number; style: { transform: string } } | null;
        apart?: string[];
      };
      const win = globalThis as unknown as Frames;
      const apart: string[] = [];
      host.apart = apart;
      const frame = () => {
        win.setTimeout(() => {
          const canvas = host.querySelector('canvas');
          const scroller = host.querySelector('#watchlist-table-area');
          if (canvas === null || scroller === null) return;
          const y = /translate\([^,]+, ([-\d.]+)px\)/.exec(canvas.style.transform)?.[1];
          if (Math.abs(Number(y) - scroller.scrollTop) > 0.5)
            apart.push(`canvas at ${y}, area at ${scroller.scrollTop}`);
        }, 0);
        win.requestAnimationFrame(frame);
      };
      win.requestAnimationFrame(frame);
    });
    await page.getByRole('button', { name: `Remove ${lastSymbol}`, exact: true }).click();
    await expect(rowHeader(page, lastSymbol)).toHaveCount(0);
    await page.waitForTimeout(300);
    // Not one frame with the canvas away from the rows (the area's scroll clamped after it moved).
    expect(
      await grid(page).evaluate((node) => (node as unknown as { apart: string[] }).apart),
    ).toEqual([]);
    // The area ends at its (new) last row, scrolled to it, with every value in its row's cell.
    await expect
      .poll(async () => {
        const now = await geometry(page);
        return {
          shorter: now.scrollHeight < before.scrollHeight,
          atEnd: Math.abs(now.scrollTop + now.clientHeight - now.scrollHeight) <= 1,
          fits: now.scrollHeight <= now.tableBottom + 2,
          aligned: now.cells > 3 && now.worst <= 1,
          over: Math.abs(now.canvasTop - 1) <= 1,
        };
      })
      .toEqual({ shorter: true, atEnd: true, fits: true, aligned: true, over: true });
    await expect.poll(() => disagreements(page)).toEqual([]);
    // Put it back for the next tests (added at the end, where it was).
    const input = page.getByRole('combobox', { name: 'Add symbol' });
    await input.fill(lastSymbol);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect(rowHeader(page, lastSymbol)).toHaveCount(1);
  });

  test('a narrow window scrolled sideways: the canvas stays over the area, values in their cells', async ({
    page,
    webApp,
  }) => {
    await page.setViewportSize({ width: 560, height: 900 });
    await openHeld(page, webApp.url);
    const start = await geometry(page);
    expect(start.scrollWidth).toBeGreaterThan(start.clientWidth);
    await area(page).evaluate((node) => {
      const el = node as unknown as { scrollLeft: number; scrollTop: number };
      // Far enough that the symbols scroll away, not so far that "last" (the cells compared) does.
      el.scrollLeft = 80;
      el.scrollTop = 1e6;
    });
    await expect
      .poll(async () => {
        const now = await geometry(page);
        return {
          sideways: now.scrollLeft > 0,
          aligned: now.cells > 3 && now.worst <= 1,
          over: Math.abs(now.canvasTop - 1) <= 1 && Math.abs(now.canvasLeft - 1) <= 1,
          // The canvas, moved right with the area, holds it no wider than the table.
          wide: now.scrollWidth <= now.tableRight + 1,
        };
      })
      .toEqual({ sideways: true, aligned: true, over: true, wide: true });
    await expect.poll(() => disagreements(page)).toEqual([]);
  });

  test('a device pixel ratio of 2: a backing store twice the size, text drawn at it', async ({
    browser,
    webApp,
  }, testInfo) => {
    const context = await browser.newContext({
      deviceScaleFactor: 2,
      viewport: { width: 1280, height: 800 },
      colorScheme: 'dark',
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await openHeld(page, webApp.url);
      const dims = await grid(page).evaluate((node) => {
        const host = node as unknown as PageElement;
        const el = host.querySelector('#watchlist-table-area');
        const canvas = host.querySelector('canvas') as PageCanvas | null;
        if (el === null || canvas === null) throw new Error('no scroll area or no canvas');
        return { area: [el.clientWidth, el.clientHeight], store: [canvas.width, canvas.height] };
      });
      expect(dims.store).toEqual(dims.area.map((v) => v * 2));
      const last = await cellOf(page, 'AAPL', 'last');
      const p = await pixels(page, last);
      expect(p.ratio).toBe(2);
      expect(p.ink).toBeGreaterThan(80);
      await expect.poll(() => disagreements(page)).toEqual([]);
      await shoot(page, testInfo, 'canvas-dpr2');
      expect(errors).toEqual([]);
      await page.getByRole('button', { name: 'Connect', exact: true }).click();
      await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('live');
    } finally {
      await context.close();
    }
  });
});

test.describe('the canvas watchlist under a live stream', () => {
  test('prices flash up and down on the canvas, and the table catches up at its pace', async ({
    page,
    webApp,
  }, testInfo) => {
    await page.goto(webApp.url);
    // Whatever an earlier test left: the stream on.
    const connect = page.getByRole('button', { name: 'Connect', exact: true });
    await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText(/live|stopped/);
    if (await connect.isEnabled()) await connect.click();
    await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('live');
    const flashes = async () =>
      [...(await paintedValues(page)).values()].filter((c) => c.flash !== '').map((c) => c.flash);
    await expect.poll(async () => (await flashes()).some((f) => f.startsWith('up'))).toBe(true);
    await expect.poll(async () => (await flashes()).some((f) => f.startsWith('down'))).toBe(true);
    // A lit cell has its tint in pixels: its top rows (above the text) are not clear.
    const lit = [...(await paintedValues(page)).values()].find(
      (c) => c.flash === 'up' || c.flash === 'down',
    );
    if (lit !== undefined) {
      const band = { x: lit.x + 6, y: lit.y + 5, width: lit.width - 12, height: 2 };
      const p = await pixels(page, band);
      // It may have gone out between reading the record and the pixels: only a lit one counts.
      const still = (await paintedValues(page)).get(`${lit.symbol} ${lit.column}`);
      if (still?.flash === lit.flash && still.y === lit.y) expect(p.ink).toBeGreaterThan(0);
    }
    // The paint counter moves with the stream.
    const seq = await paintSeq(page);
    await expect.poll(() => paintSeq(page)).toBeGreaterThan(seq + 5);
    // The table's text follows: some price it shows is one the canvas drew within the last second.
    const drawn = await paintedValues(page);
    await expect
      .poll(async () => {
        const mirror = await mirrorValues(page);
        return [...drawn.values()].filter(
          (c) => c.column === 'bid' && mirror[`${c.symbol} bid`] !== '',
        ).length;
      })
      .toBeGreaterThan(3);
    await shoot(page, testInfo, 'canvas-live');
  });
});
