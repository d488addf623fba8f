/**
 * The watchlist as a trader reads it, in Chromium against `market-monitor web` on the embedded
 * simulator: a closed-market start (every row has the last session's price and its change against
 * the previous close, the strip says closed and when it opens, no stale marks), the add box's
 * autocomplete and an unknown symbol refused, and a list imported and exported as text.
 */
import { readFileSync } from 'node:fs';
import type { Locator, Page, TestInfo } from '@playwright/test';
import { expect, test } from './fixtures.ts';

test.use({ webArgs: ['--session', 'closed'] });

const PRICE = /^\d{1,3}(?:,\d{3})*\.\d{2,}$/;
const SIGNED = /^[+−-]?\d{1,3}(?:,\d{3})*\.\d{2}$|^0\.00$/;
const DEFAULT_SYMBOLS = [
  'AAPL',
  'MSFT',
  'NVDA',
  'AMZN',
  'GOOGL',
  'META',
  'TSLA',
  'SPY',
  'QQQ',
  'AMD',
];

function watchlist(page: Page): Locator {
  return page.getByRole('table', { name: 'Watchlist' });
}

function row(page: Page, symbol: string): Locator {
  return watchlist(page)
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name: symbol, exact: true }) });
}

/** The cell of `symbol`'s row under the column named `column` (found by its header's position). */
async function cell(page: Page, symbol: string, column: string): Promise<Locator> {
  const header = watchlist(page).getByRole('columnheader', { name: column, exact: true });
  const index = await header.evaluate((th) => (th as unknown as { cellIndex: number }).cellIndex);
  // cellIndex counts the row header; the data cells start after it.
  return row(page, symbol)
    .getByRole('cell')
    .nth(index - 1);
}

async function shoot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

test.describe('the watchlist on a closed market', () => {
  test('every row shows the last session: price, change against the previous close, calm marks', async ({
    page,
    webApp,
  }, testInfo) => {
    await page.goto(webApp.url);
    const strip = page.getByRole('group', { name: 'Market status' });
    await expect(strip).toContainText('Closed');
    await expect(strip).toContainText(/opens in .+ New York/);
    await expect(strip).toContainText("last session's");
    await expect(strip).toContainText('IEX');

    for (const symbol of DEFAULT_SYMBOLS) {
      await expect(await cell(page, symbol, 'Last')).toHaveText(PRICE);
      await expect(await cell(page, symbol, 'Change')).toHaveText(SIGNED);
      await expect(await cell(page, symbol, 'Change %')).toHaveText(/%$/);
    }
    // The change is against the previous close: its header says so.
    await expect(
      watchlist(page).getByRole('columnheader', { name: 'Change', exact: true }),
    ).toHaveAttribute('title', /previous close/);
    await expect(watchlist(page).getByRole('columnheader', { name: 'Volume' })).toHaveAttribute(
      'title',
      /IEX/,
    );
    // Silence is expected while closed: no stale and no "no data" marks.
    await expect(watchlist(page).locator('.stale-tag, .nodata-tag')).toHaveCount(0);
    // Sparklines drew the last session's minutes (on the watchlist's canvas: its painter's record).
    await expect
      .poll(() =>
        page.locator('.quote-grid').evaluate((el) => {
          const probe = (
            el as unknown as { gridProbe: { cells(): Array<Record<string, unknown>> } }
          ).gridProbe;
          const cell = probe.cells().find((c) => c['symbol'] === 'AAPL' && c['column'] === 'spark');
          return Number(cell?.['points'] ?? 0);
        }),
      )
      .toBeGreaterThan(0);
    // Names from the directory on hover.
    await expect(row(page, 'AAPL').getByRole('rowheader')).toHaveAttribute('title', 'Apple Inc.');
    await shoot(page, testInfo, 'watchlist-closed');
  });

  test('top movers sorts by the largest move, up or down', async ({ page, webApp }) => {
    await page.goto(webApp.url);
    await expect(await cell(page, 'AAPL', 'Change %')).toHaveText(/%$/);
    await page.getByRole('button', { name: 'Top movers' }).click();
    await expect(page.getByRole('button', { name: 'Top movers' })).toHaveAttribute(
      'aria-pressed',
      'true',
    );
    await expect
      .poll(async () => {
        const header = watchlist(page).getByRole('columnheader', { name: 'Change %' });
        const index = await header.evaluate(
          (th) => (th as unknown as { cellIndex: number }).cellIndex,
        );
        const texts = await watchlist(page)
          .locator('tr.quote-row')
          .evaluateAll(
            (rows, i) =>
              (rows as unknown as Array<{ cells: ArrayLike<{ textContent: string | null }> }>).map(
                (r) => r.cells[i]?.textContent ?? '',
              ),
            index,
          );
        const moves = texts.map((t) => Math.abs(Number.parseFloat(t.replace('−', '-'))));
        return moves.every((m, k) => k === 0 || m <= (moves[k - 1] ?? Infinity));
      })
      .toBe(true);
  });

  test('the add box suggests from the directory; an unknown symbol is refused with the reason', async ({
    page,
    webApp,
  }, testInfo) => {
    await page.goto(webApp.url);
    const input = page.getByRole('combobox', { name: 'Add symbol' });
    await input.fill('coca');
    const option = page.getByRole('option', { name: /KO.*Coca-Cola/ });
    await expect(option).toBeVisible();
    await shoot(page, testInfo, 'watchlist-autocomplete');
    await input.press('ArrowDown');
    await expect(option).toHaveAttribute('aria-selected', 'true');
    await input.press('Enter');
    await expect(input).toHaveValue('KO');
    await input.press('Enter');
    await expect(row(page, 'KO')).toHaveCount(1);
    await expect(await cell(page, 'KO', 'Last')).toHaveText(PRICE);

    // Escape closes the suggestions and keeps what was typed.
    await input.fill('pepsi');
    await expect(page.getByRole('option', { name: /PEP/ })).toBeVisible();
    await input.press('Escape');
    await expect(page.getByRole('listbox', { name: 'Matching symbols' })).toBeHidden();
    await expect(input).toHaveValue('pepsi');

    const rows = await watchlist(page).getByRole('row').count();
    await input.fill('QWZQ');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect(page.getByRole('alert')).toHaveText(/QWZQ is not an active US-listed symbol/);
    await expect(watchlist(page).getByRole('row')).toHaveCount(rows);
  });

  test('a list imported from text (TradingView lines too) and exported again', async ({
    page,
    webApp,
  }, testInfo) => {
    await page.goto(webApp.url);
    await expect(row(page, 'AAPL')).toHaveCount(1);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const form = page.getByRole('form', { name: /Import symbols into/ });
    await form.getByRole('textbox').fill('NYSE:DIS\nNASDAQ:PEP,NYSE:MCD\nIBM');
    await shoot(page, testInfo, 'watchlist-import');
    await form.getByRole('button', { name: 'Import', exact: true }).click();
    for (const symbol of ['DIS', 'PEP', 'MCD', 'IBM'])
      await expect(row(page, symbol)).toHaveCount(1);
    await expect(page.getByRole('status').filter({ hasText: 'Added 4 symbols' })).toBeVisible();

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/\.txt$/);
    const path = testInfo.outputPath('exported.txt');
    await file.saveAs(path);
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines.slice(-4)).toEqual(['DIS', 'PEP', 'MCD', 'IBM']);
    expect(lines).toContain('AAPL');
  });
});
