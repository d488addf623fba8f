/**
 * The renderer against the real core in browser mode: `market-monitor web` on the embedded
 * simulator, in Chromium. What a user sees: the connection goes live, quotes move, a symbol can
 * be added and gets quotes of its own, and a page opened without the token says what to do.
 */
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';

/** A price as the watchlist prints it: digits, optional thousands separators, decimals. */
const PRICE = /^\d{1,3}(?:,\d{3})*\.\d{2,}$/;

function watchlist(page: Page): Locator {
  return page.getByRole('table', { name: 'Watchlist' });
}

/** The row whose row header is exactly `symbol`. */
function row(page: Page, symbol: string): Locator {
  return watchlist(page)
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name: symbol, exact: true }) });
}

/** Bid, ask and last are the row's first three data cells. */
function bidCell(page: Page, symbol: string): Locator {
  return row(page, symbol).getByRole('cell').nth(0);
}

test.describe('browser mode on the embedded simulator', () => {
  test('the connection goes live', async ({ page, webApp }) => {
    await page.goto(webApp.url);
    await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('live');
    await expect(page.getByText('Browser mode')).toBeVisible();
  });

  test('the AAPL bid arrives and then changes', async ({ page, webApp }) => {
    await page.goto(webApp.url);
    const bid = bidCell(page, 'AAPL');
    await expect(bid).toHaveText(PRICE);
    const first = await bid.textContent();
    // Polls until the simulator's walk moves the bid; fails after the expect timeout.
    await expect(bid).not.toHaveText(first ?? '');
    await expect(bid).toHaveText(PRICE);
    // Every default symbol gets quotes, not only the first one.
    await expect(bidCell(page, 'SPY')).toHaveText(PRICE);
  });

  test('a symbol added through the form gets its own quotes, and can be removed', async ({
    page,
    webApp,
  }, testInfo) => {
    await page.goto(webApp.url);
    await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('live');
    await expect(row(page, 'JPM')).toHaveCount(0);

    const input = page.getByLabel('Add symbol');
    await input.fill('jpm');
    await page.getByRole('button', { name: 'Add', exact: true }).click();

    await expect(row(page, 'JPM')).toHaveCount(1);
    await expect(bidCell(page, 'JPM')).toHaveText(PRICE);
    await expect(input).toHaveValue('');

    const shot = testInfo.outputPath('watchlist.png');
    await page.screenshot({ path: shot, fullPage: true });
    await testInfo.attach('watchlist', { path: shot, contentType: 'image/png' });

    // And out again.
    await page.getByRole('button', { name: 'Remove JPM' }).click();
    await expect(row(page, 'JPM')).toHaveCount(0);
    await expect(row(page, 'AAPL')).toHaveCount(1);
  });

  test('a symbol that cannot be one is refused with the reason', async ({ page, webApp }) => {
    await page.goto(webApp.url);
    await expect(watchlist(page)).toBeVisible();
    const rows = await watchlist(page).getByRole('row').count();

    await page.getByLabel('Add symbol').fill('B@D!');
    await page.getByRole('button', { name: 'Add', exact: true }).click();

    await expect(page.getByRole('alert')).toHaveText(/B@D!: not a symbol: only letters, digits/);
    await expect(watchlist(page).getByRole('row')).toHaveCount(rows);
  });

  test('disconnect and connect again', async ({ page, webApp }) => {
    await page.goto(webApp.url);
    const state = page.getByRole('status', { name: 'Connection state' });
    await expect(state).toHaveText('live');

    await page.getByRole('button', { name: 'Disconnect' }).click();
    await expect(state).toHaveText('stopped');
    await expect(page.getByRole('button', { name: 'Connect', exact: true })).toBeEnabled();

    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await expect(state).toHaveText('live');
  });

  test('the page refuses inline script (strict CSP)', async ({ page, webApp, pageProblems }) => {
    await page.goto(webApp.url);
    await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('live');
    // The refusal is reported on the console (once per policy: header and meta): expected here.
    const refused = /inline script.*Content Security Policy directive.*script-src/;
    pageProblems.expect(refused);
    pageProblems.expect(/^csp: script-src/);
    const outcome = await page.evaluate(`(() => {
      const s = document.createElement('script');
      s.textContent = 'globalThis.__inlineRan = true';
      document.head.append(s);
      return globalThis.__inlineRan === true ? 'ran' : 'blocked';
    })()`);
    expect(outcome).toBe('blocked');
    await expect.poll(() => pageProblems.seen.some((p) => refused.test(p))).toBe(true);
  });

  test('without the token the page says how to get in', async ({ page, webApp }) => {
    await page.goto(`${webApp.origin}/`);
    await expect(page.getByRole('alert')).toHaveText(/not connected to its app/);
    await expect(page.getByRole('alert')).toContainText('market-monitor web');
  });
});
