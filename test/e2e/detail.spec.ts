/**
 * The symbol detail pane in browser mode on the embedded simulator: selecting a row opens it, the
 * chart draws (a canvas with pixels) in each range under the strict CSP, the quote fills, Times &
 * Sales rows arrive, and the pane closes and comes back from the keyboard.
 */
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';

function watchlist(page: Page): Locator {
  return page.getByRole('table', { name: 'Watchlist' });
}

function rowHeader(page: Page, symbol: string): Locator {
  return watchlist(page).getByRole('rowheader', { name: symbol, exact: true });
}

function pane(page: Page): Locator {
  return page.getByRole('region', { name: /^Detail: / });
}

/**
 * How many sampled pixels of the chart's canvases differ from their own top-left pixel (the
 * background): a chart that drew nothing has none. A string: the e2e project has no DOM types.
 */
function drawnPixels(page: Page): Promise<number> {
  return page.evaluate<number>(`(() => {
    const box = document.querySelector('.chart-box');
    if (box === null) return -1;
    let drawn = 0;
    for (const canvas of box.querySelectorAll('canvas')) {
      if (canvas.width === 0 || canvas.height === 0) continue;
      const ctx = canvas.getContext('2d');
      if (ctx === null) continue;
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < data.length; i += 16) {
        if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2] || data[i + 3] !== data[3])
          drawn++;
      }
    }
    return drawn;
  })()`);
}

/** The chart's background at its top-left corner, [r, g, b, a]. */
/**
 * The chart's background near its top-left corner: the commonest colour of a 12 x 12 patch, since
 * a one-pixel grid line may cross any single pixel there (where depends on the random prices).
 */
function cornerPixel(page: Page): Promise<number[]> {
  return page.evaluate<number[]>(`(() => {
    const canvas = document.querySelector('.chart-box canvas');
    const data = canvas?.getContext('2d')?.getImageData(1, 1, 12, 12).data;
    if (data === undefined) return [];
    const counts = new Map();
    let best = '';
    for (let i = 0; i < data.length; i += 4) {
      const key = data[i] + ',' + data[i + 1] + ',' + data[i + 2] + ',' + data[i + 3];
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      if (best === '' || n > counts.get(best)) best = key;
    }
    return best.split(',').map(Number);
  })()`);
}

test.use({ webArgs: ['--session', 'regular'] });

test.describe('symbol detail', () => {
  test('a selected row opens the detail: chart in every range, quote, Times & Sales', async ({
    page,
    webApp,
  }, testInfo) => {
    // Four ranges with a screenshot each: 40-90 s on a shared two-core machine.
    test.setTimeout(180_000);
    await page.goto(webApp.url);
    await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('live');

    await expect(pane(page)).toHaveCount(0);
    await rowHeader(page, 'AAPL').click();
    const detail = pane(page);
    await expect(detail).toBeVisible();
    await expect(detail.getByRole('heading', { name: 'Detail: AAPL' })).toBeVisible();

    // The quote fills from the board and the tape.
    const quote = detail.locator('dl[aria-label="Quote of AAPL"]');
    await expect(quote).toContainText(/Bid\s*\d/);
    await expect(quote).toContainText(/Prev close\s*\d/);

    // The chart draws in every range.
    const chart = detail.locator('.chart-box');
    const ranges = { '1D': 'One day', '5D': 'Five days', '1M': 'One month', '1Y': 'One year' };
    for (const [id, label] of Object.entries(ranges)) {
      await detail.getByRole('button', { name: new RegExp(`^${label}`) }).click();
      await expect(chart).toHaveAttribute('data-bars', /^[1-9]\d*$/);
      await expect.poll(() => drawnPixels(page)).toBeGreaterThan(100);
      await expect(detail.locator('.chart-legend')).toContainText(
        new RegExp(`AAPL · ${id}\\s+O \\d`),
      );
      const shot = testInfo.outputPath(`detail-${id}.png`);
      await page.screenshot({ path: shot });
      await testInfo.attach(`detail-${id}`, { path: shot, contentType: 'image/png' });
    }

    // The last candle moves with the stream: back on 1D, the legend (the newest bar) changes.
    await detail.getByRole('button', { name: /^One day/ }).click();
    await expect(chart).toHaveAttribute('data-bars', /^[1-9]\d*$/);
    const legend = detail.locator('.chart-legend');
    const before = (await legend.textContent()) ?? '';
    await expect(legend).not.toHaveText(before, { timeout: 20_000 });

    // Times & Sales rows arrive, newest first.
    const tns = detail.getByRole('table', { name: /Times & Sales of AAPL/ });
    await expect(tns.getByRole('row')).not.toHaveCount(1, { timeout: 20_000 });
    await expect(tns.getByRole('row').nth(1).getByRole('cell').nth(1)).toHaveText(/^\d[\d,]*\.\d+/);

    // A filter that nothing meets empties the table and says so.
    await detail.getByLabel('Min size').selectOption('10000');
    await expect(tns).toContainText(/shares or more|no trades yet/);
    await detail.getByLabel('Min size').selectOption('0');

    // Keyboard: another row by arrow key moves the pane; Escape closes it, Alt+8 brings it back.
    await rowHeader(page, 'AAPL').click();
    await page.keyboard.press('ArrowDown');
    await expect(detail.getByRole('heading', { name: /^Detail: (?!AAPL)/ })).toBeVisible();
    await detail.getByRole('button', { name: /^Close the detail of/ }).click();
    await expect(pane(page)).toHaveCount(0);
    await page.keyboard.press('Alt+Digit8');
    await expect(pane(page)).toBeVisible();
    await expect(pane(page)).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(pane(page)).toHaveCount(0);
  });

  test('light theme: the chart follows the page colours', async ({ page, webApp }, testInfo) => {
    await page.goto(webApp.url);
    await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('live');
    await page.getByRole('tab', { name: 'Settings' }).click();
    const light = page.getByRole('radio', { name: /light/i });
    await light.check();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
    await rowHeader(page, 'MSFT').click();
    const chart = pane(page).locator('.chart-box');
    await expect(chart).toHaveAttribute('data-bars', /^[1-9]\d*$/);
    await expect.poll(() => drawnPixels(page)).toBeGreaterThan(100);
    // The chart's background is the light panel's white, not the dark default.
    // Polled: the chart repaints on its next animation frame after it read the theme's colours.
    await expect
      .poll(async () => (await cornerPixel(page)).slice(0, 3), { timeout: 10_000 })
      .toEqual([255, 255, 255]);
    const shot = testInfo.outputPath('detail-light.png');
    await page.screenshot({ path: shot });
    await testInfo.attach('detail-light', { path: shot, contentType: 'image/png' });
    // Back to dark: the data folder is the worker's, shared by the tests after this one.
    await page.getByRole('radio', { name: /dark/i }).check();
  });
});

test.describe('symbol detail in a narrow window', () => {
  test.use({ viewport: { width: 900, height: 1000 } });

  test('the pane stacks under the watchlist', async ({ page, webApp }, testInfo) => {
    await page.goto(webApp.url);
    await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('live');
    await rowHeader(page, 'NVDA').click();
    await expect(pane(page)).toBeVisible();
    await expect(pane(page).locator('.chart-box')).toHaveAttribute('data-bars', /^[1-9]\d*$/);
    const list = await watchlist(page).boundingBox();
    const detail = await pane(page).boundingBox();
    expect(list).not.toBeNull();
    expect(detail).not.toBeNull();
    if (list !== null && detail !== null) {
      expect(detail.y).toBeGreaterThanOrEqual(list.y + list.height);
      expect(detail.width).toBeGreaterThan(800);
    }
    await pane(page).scrollIntoViewIfNeeded();
    const shot = testInfo.outputPath('detail-narrow.png');
    await page.screenshot({ path: shot, fullPage: true });
    await testInfo.attach('detail-narrow', { path: shot, contentType: 'image/png' });
  });
});
