/**
 * The panels against the real core in browser mode, on the embedded simulator, in Chromium: what a
 * user watches all day. Counters rise; the handler inspector counts calls; a dropped connection
 * comes back with the same symbols; a 406 backs off with a live countdown; a symbol over the plan's
 * limit is named with the server's reason; every panel is photographed with live data.
 *
 * The tests share one `market-monitor web` per worker, so each leaves the app as it found it
 * (limits lifted, symbols it added removed).
 */
import type { Locator, Page, TestInfo } from '@playwright/test';
import { expect, test } from './fixtures.ts';

const PRICE = /^\d{1,3}(?:,\d{3})*\.\d{2,}$/;

function region(page: Page, name: string): Locator {
  return page.getByRole('region', { name, exact: true });
}

function watchlist(page: Page): Locator {
  return page.getByRole('table', { name: 'Watchlist' });
}

/**
 * The symbols of the watchlist's rows, in order: a row header's text is its symbol and then its
 * marks ("NVDA, halt": the simulator halts symbols at random, as markets do).
 */
async function rowSymbols(page: Page): Promise<string[]> {
  const texts = await watchlist(page).getByRole('rowheader').allTextContents();
  return texts.map((text) => text.split(/[\s,]/)[0] ?? text);
}

function quoteRow(page: Page, symbol: string): Locator {
  return watchlist(page)
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name: symbol }) });
}

/** A table row by its row header, exactly. */
function rowOf(table: Locator, page: Page, header: string): Locator {
  return table
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name: header, exact: true }) });
}

/** The first number in the text: "1,234 (5 in the last 10 min)" → 1234; NaN when none. */
function count(text: string | null): number {
  const match = /\d[\d,]*(?:\.\d+)?/.exec(text ?? '');
  return match === null ? NaN : Number(match[0].replace(/,/g, ''));
}

async function openLive(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('live');
}

async function openTool(page: Page, tab: 'Handlers' | 'Diagnostics' | 'Settings'): Promise<void> {
  await page.getByRole('tablist', { name: 'Tools' }).getByRole('tab', { name: tab }).click();
}

function faults(page: Page): Locator {
  return page.getByRole('group', { name: 'Simulator faults' });
}

async function shoot(target: Locator | Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await target.screenshot({ path });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

/** The bid of `symbol` changes (the feed is flowing into that row). */
async function expectQuotesMoving(page: Page, symbol: string): Promise<void> {
  const bid = quoteRow(page, symbol).getByRole('cell').first();
  await expect(bid).toHaveText(PRICE);
  const before = await bid.textContent();
  await expect(bid).not.toHaveText(before ?? '');
}

test.describe('panels on the embedded simulator', () => {
  test('message counters rise', async ({ page, webApp }) => {
    await openLive(page, webApp.url);
    const counters = region(page, 'Message counters');
    const quotes = rowOf(counters.getByRole('table', { name: 'Messages by type' }), page, 'quote')
      .getByRole('cell')
      .first();
    await expect(quotes).toHaveText(/[1-9]/);
    const first = count(await quotes.textContent());
    await expect.poll(async () => count(await quotes.textContent())).toBeGreaterThan(first);

    const rates = counters.getByRole('table', { name: 'Rates' });
    await expect(rowOf(rates, page, 'Messages/s').getByRole('cell').nth(1)).toHaveText(/[1-9]/);
    await expect(counters.getByRole('img', { name: /Messages per second/ })).toBeVisible();
  });

  test('the handler inspector lists the handlers and their counts rise', async ({
    page,
    webApp,
  }) => {
    await openLive(page, webApp.url);
    await openTool(page, 'Handlers');
    const table = region(page, 'Handler inspector').getByRole('table', { name: 'Handlers' });
    // Header row plus at least the built-in handlers and the user's spread alert.
    await expect.poll(() => table.getByRole('row').count()).toBeGreaterThan(2);
    const callsHeader = table.getByRole('columnheader', { name: 'Calls' });
    await expect(callsHeader).toBeVisible();
    const callsColumn = (await table.getByRole('columnheader').allTextContents()).findIndex(
      (text) => text.trim() === 'Calls',
    );
    expect(callsColumn).toBeGreaterThan(0);
    // Sum of every handler's calls: rises while quotes flow.
    const totalCalls = async () => {
      const rows = await table.getByRole('row').all();
      let total = 0;
      for (const row of rows.slice(1)) {
        // Cells exclude the row header, so the Calls column is one to the left in cells.
        const cell = row.getByRole('cell').nth(callsColumn - 1);
        total += count(await cell.textContent());
      }
      return total;
    };
    await expect.poll(totalCalls).toBeGreaterThan(0);
    const before = await totalCalls();
    await expect.poll(totalCalls).toBeGreaterThan(before);
  });

  test('a dropped connection backs off with a countdown and comes back with the same symbols', async ({
    page,
    webApp,
  }) => {
    await openLive(page, webApp.url);
    const state = page.getByRole('status', { name: 'Connection state' });
    const symbols = await rowSymbols(page);
    expect(symbols.length).toBeGreaterThan(0);

    // "Reconnects: N (M in the last 10 min)".
    const reconnects = region(page, 'Message counters')
      .getByRole('definition')
      .filter({ hasText: 'in the last 10 min' });
    const reconnectsBefore = count(await reconnects.textContent());

    await openTool(page, 'Diagnostics');
    // As Alpaca does after a drop, the server holds the old session for a while: the quick first
    // retry meets 406 and the client backs off for seconds, with the countdown on screen.
    await faults(page).getByRole('button', { name: 'Drop, server holds the session' }).click();
    await expect(state).toHaveText('backoff');
    const timer = region(page, 'Connection health').getByRole('timer', { name: 'Next attempt in' });
    // The drop's own backoff is under half a second; the one after the 406 is 5 s or more, and
    // that is the countdown to watch (reading the short one raced its end).
    await expect(timer).toHaveText(/^[1-9]\d*\.\d s$/);
    await expect(region(page, 'Connection health')).toContainText('406');
    const first = Number.parseFloat((await timer.textContent()) ?? '');
    await expect
      .poll(async () => Number.parseFloat((await timer.textContent()) ?? 'NaN'))
      .toBeLessThan(first);

    const log = page.getByRole('log', { name: 'Event log' });
    await expect(log).toContainText('reconnect scheduled');
    await expect(state).toHaveText('live', { timeout: 30_000 });
    await expect
      .poll(async () => count(await reconnects.textContent()))
      .toBeGreaterThan(reconnectsBefore);

    // The same symbols, confirmed by the server again, and data flowing into them.
    expect(await rowSymbols(page)).toEqual(symbols);
    const subs = page.getByRole('table', { name: 'Subscriptions' });
    for (const symbol of ['AAPL', 'SPY']) {
      await expect(rowOf(subs, page, symbol)).toContainText('quotes');
    }
    await expectQuotesMoving(page, 'AAPL');
  });

  test('406 (connection limit): backoff with a live countdown, then recovery', async ({
    page,
    webApp,
  }) => {
    await openLive(page, webApp.url);
    const state = page.getByRole('status', { name: 'Connection state' });
    await openTool(page, 'Diagnostics');
    await faults(page).getByLabel('Error code').selectOption('406');
    await faults(page).getByRole('button', { name: 'Send error' }).click();

    await expect(state).toHaveText('backoff');
    const health = region(page, 'Connection health');
    const timer = health.getByRole('timer', { name: 'Next attempt in' });
    // The 406 floor is 5 s: the countdown is on screen long enough to watch it fall.
    await expect(timer).toHaveText(/^\d+\.\d s$/);
    const first = Number.parseFloat((await timer.textContent()) ?? '');
    await expect
      .poll(async () => Number.parseFloat((await timer.textContent()) ?? 'NaN'))
      .toBeLessThan(first);
    await expect(health).toContainText('406');
    await expect(health).toContainText(/another session|connection limit/i);

    await expect(state).toHaveText('live', { timeout: 30_000 });
    await expectQuotesMoving(page, 'MSFT');
  });

  test('a symbol over the plan limit is refused with the server reason', async ({
    page,
    webApp,
  }) => {
    await openLive(page, webApp.url);
    const symbols = await watchlist(page).getByRole('rowheader').count();
    await openTool(page, 'Diagnostics');
    const box = faults(page);
    await box.getByRole('spinbutton', { name: 'Symbol limit' }).fill(String(symbols));
    await box.getByRole('button', { name: 'Apply symbol limit' }).click();
    await expect(box.getByRole('status')).toContainText(/limit/i);

    try {
      await page.getByLabel('Add symbol').fill('JPM');
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      await expect(quoteRow(page, 'JPM')).toHaveCount(1);

      const refusal = region(page, 'Watchlist').getByRole('alert');
      await expect(refusal).toContainText('Refused by the server (405: symbol limit): JPM');
      await expect(refusal).toContainText('Your plan allows fewer symbols');
      await expect(quoteRow(page, 'JPM')).toContainText('refused');
      // The others keep their data.
      await expectQuotesMoving(page, 'AAPL');

      // The limit goes; a retry brings JPM in, and its quotes come.
      await box.getByRole('button', { name: 'Lift symbol limit' }).click();
      await refusal.getByRole('button', { name: 'Retry refused symbols' }).click();
      await expect(region(page, 'Watchlist').getByRole('alert')).toHaveCount(0);
      await expect(quoteRow(page, 'JPM')).not.toContainText('refused');
      await expect(quoteRow(page, 'JPM').getByRole('cell').first()).toHaveText(PRICE);
    } finally {
      await box.getByRole('button', { name: 'Lift symbol limit' }).click();
      await page.getByRole('button', { name: 'Remove JPM' }).click();
      await expect(quoteRow(page, 'JPM')).toHaveCount(0);
    }
  });

  test('screenshots of every panel with live data', async ({ page, webApp }, testInfo) => {
    // Tall enough that the dock's panels show whole in their pictures.
    await page.setViewportSize({ width: 1440, height: 1500 });
    await openLive(page, webApp.url);
    await expect(quoteRow(page, 'NVDA').getByRole('cell').first()).toHaveText(PRICE);
    await expect(
      rowOf(
        region(page, 'Message counters').getByRole('table', { name: 'Messages by type' }),
        page,
        'quote',
      )
        .getByRole('cell')
        .first(),
    ).toHaveText(/[1-9]/);

    await shoot(page, testInfo, 'app-dark');
    await shoot(region(page, 'Watchlist'), testInfo, 'panel-watchlist');
    await shoot(region(page, 'Connection health'), testInfo, 'panel-connection-health');
    await shoot(region(page, 'Message counters'), testInfo, 'panel-message-counters');

    await openTool(page, 'Handlers');
    const handlers = region(page, 'Handler inspector');
    await expect(handlers.getByRole('table', { name: 'Handlers' })).toBeVisible();
    await shoot(handlers, testInfo, 'panel-handler-inspector');

    await openTool(page, 'Diagnostics');
    const diagnostics = region(page, 'Diagnostics');
    await expect(diagnostics.getByRole('log', { name: 'Event log' })).not.toBeEmpty();
    await shoot(diagnostics, testInfo, 'panel-diagnostics');

    await openTool(page, 'Settings');
    const settings = region(page, 'Settings');
    await expect(settings.getByLabel('Source')).toBeVisible();
    await shoot(settings, testInfo, 'panel-settings');

    // The light theme, then back.
    await settings.getByRole('radio', { name: 'Light' }).check();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
    await shoot(page, testInfo, 'app-light');
    await settings.getByRole('radio', { name: 'Dark' }).check();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  });
});

test.describe('watchlist interactions', () => {
  test('sort by a column and back, and move the selection with the keyboard', async ({
    page,
    webApp,
  }) => {
    await openLive(page, webApp.url);
    await expect(quoteRow(page, 'AAPL').getByRole('cell').first()).toHaveText(PRICE);
    const listOrder = await rowSymbols(page);

    const symbolHeader = watchlist(page).getByRole('columnheader', { name: 'Symbol' });
    await symbolHeader.getByRole('button').click();
    await expect(symbolHeader).toHaveAttribute('aria-sort', 'ascending');
    await expect.poll(() => rowSymbols(page)).toEqual([...listOrder].sort());
    await symbolHeader.getByRole('button').click();
    await expect.poll(() => rowSymbols(page)).toEqual([...listOrder].sort().reverse());
    await symbolHeader.getByRole('button').click();
    await expect.poll(() => rowSymbols(page)).toEqual(listOrder);

    // Alt+1 focuses the table; arrows select.
    await page.keyboard.press('Alt+1');
    await expect(page.getByRole('group', { name: /symbols\. Arrow keys select/ })).toBeFocused();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await expect(quoteRow(page, listOrder[1] ?? '')).toHaveAttribute('aria-selected', 'true');
    await page.keyboard.press('End');
    await expect(quoteRow(page, listOrder.at(-1) ?? '')).toHaveAttribute('aria-selected', 'true');
  });

  test('a second watchlist keeps its own symbols', async ({ page, webApp }) => {
    await openLive(page, webApp.url);
    const lists = page.getByRole('tablist', { name: 'Watchlists' });
    await page.getByRole('button', { name: 'New list' }).click();
    await page.getByLabel('New watchlist name').fill('Banks');
    await page.getByRole('button', { name: 'Create' }).click();
    await expect(lists.getByRole('tab', { name: /Banks/ })).toHaveAttribute(
      'aria-selected',
      'true',
    );
    await expect(watchlist(page).getByRole('rowheader')).toHaveCount(0);

    await page.getByLabel('Add symbol').fill('JPM, BAC');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => rowSymbols(page)).toEqual(['JPM', 'BAC']);
    await expect(quoteRow(page, 'BAC').getByRole('cell').first()).toHaveText(PRICE);

    await lists.getByRole('tab', { name: /Watchlist/ }).click();
    await expect(quoteRow(page, 'JPM')).toHaveCount(0);
    await expect(quoteRow(page, 'AAPL')).toHaveCount(1);

    // Clean up: delete the new list.
    await lists.getByRole('tab', { name: /Banks/ }).click();
    await page.getByRole('button', { name: 'Delete list' }).click();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect(lists.getByRole('tab', { name: /Banks/ })).toHaveCount(0);
  });
});
