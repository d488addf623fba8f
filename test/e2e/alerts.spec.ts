/**
 * Alerts in browser mode against the real core on the embedded simulator, in Chromium: rules
 * created in the Alerts panel a cent either side of AAPL's last trade; whichever way the walk
 * moves, one fires: a browser notification (the page's Notification API, permission granted to
 * the origin), an entry in the alerts log, the rule shown fired, the live region speaking. The
 * rules are deleted at the end (one `market-monitor web` serves the whole worker).
 */
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';

const PRICE = /^\d{1,3}(?:,\d{3})*\.\d{2,}$/;

function alertsPanel(page: Page): Locator {
  return page.getByRole('region', { name: 'Alerts', exact: true });
}

/** AAPL's last trade price as the watchlist shows it. */
async function lastPrice(page: Page): Promise<number> {
  const table = page.getByRole('table', { name: 'Watchlist' });
  const headers = await table.getByRole('columnheader').allTextContents();
  const column = headers.findIndex((text) => text.trim() === 'Last');
  expect(column, `a Last column among ${headers.join(' | ')}`).toBeGreaterThan(0);
  const row = table
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name: 'AAPL', exact: true }) });
  // Cells exclude the row header: the column is one to the left in cells.
  const cell = row.getByRole('cell').nth(column - 1);
  await expect(cell).toHaveText(PRICE);
  return Number((await cell.textContent())!.replace(/,/g, ''));
}

async function addRule(page: Page, condition: string, value: string): Promise<void> {
  const form = alertsPanel(page).getByRole('form', { name: 'New alert' });
  const symbol = form.getByRole('textbox', { name: 'Symbol', exact: true });
  const level = form.getByRole('textbox', { name: 'Price', exact: true });
  await symbol.fill('aapl');
  await form.getByRole('combobox', { name: 'Condition' }).selectOption({ label: condition });
  await level.fill(value);
  await level.press('Enter');
  await expect(symbol).toHaveValue('');
}

test.describe('alerts on the embedded simulator', () => {
  test('an alert created in the UI fires when the price moves through it', async ({
    page,
    context,
    webApp,
  }, testInfo) => {
    await context.grantPermissions(['notifications'], { origin: webApp.origin });
    // Records what the page asks the browser to show (headless Chromium draws no notification).
    await page.addInitScript(`{
      const Real = window.Notification;
      const shown = [];
      window.__shown = shown;
      class Recording extends Real {
        constructor(title, options) {
          shown.push({ title, body: options && options.body });
          super(title, options);
        }
      }
      Object.defineProperty(window, 'Notification', { value: Recording, configurable: true });
    }`);
    await page.goto(webApp.url);
    await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('live');

    await page.getByRole('tablist', { name: 'Tools' }).getByRole('tab', { name: 'Alerts' }).click();
    const panel = alertsPanel(page);
    await expect(panel.getByRole('table', { name: 'Alert rules' })).toBeVisible();

    const price = await lastPrice(page);
    const above = (price + 0.01).toFixed(2);
    const below = (price - 0.01).toFixed(2);
    await addRule(page, 'Price crosses above', above);
    await addRule(page, 'Price crosses below', below);
    const rules = panel.getByRole('table', { name: 'Alert rules' });
    await expect(
      rules.getByRole('rowheader', { name: `alert: AAPL price above ${above}` }),
    ).toBeVisible();
    await expect(
      rules.getByRole('rowheader', { name: `alert: AAPL price below ${below}` }),
    ).toBeVisible();

    // One of them fires as the walk moves: the log, the rule's state, the live region.
    const log = panel.getByRole('list', { name: 'Alerts log' });
    await expect(log.getByRole('listitem').first()).toContainText(
      /AAPL traded at [\d.,]+, at or (above|below)/,
    );
    await expect(rules.getByRole('cell', { name: 'Fired', exact: true }).first()).toBeVisible();
    await expect(
      page.getByRole('status').filter({ hasText: /^Alert: AAPL traded at/ }),
    ).toHaveCount(1);
    await expect
      .poll(() =>
        page.evaluate(
          () => (globalThis as unknown as { __shown: { title: string }[] }).__shown.length,
        ),
      )
      .toBeGreaterThan(0);
    const shown = await page.evaluate(
      () => (globalThis as unknown as { __shown: { title: string; body: string }[] }).__shown,
    );
    expect(shown[0]?.title).toBe('Alert: AAPL');
    expect(shown[0]?.body).toMatch(/^AAPL traded at/);

    // The handler inspector lists them as handlers.
    await page
      .getByRole('tablist', { name: 'Tools' })
      .getByRole('tab', { name: 'Handlers' })
      .click();
    const handlers = page.getByRole('table', { name: 'Handlers' });
    await expect(
      handlers.getByRole('rowheader', { name: `alert: AAPL price above ${above}` }),
    ).toBeVisible();
    await page.getByRole('tablist', { name: 'Tools' }).getByRole('tab', { name: 'Alerts' }).click();

    const shot = testInfo.outputPath('alerts.png');
    await page.screenshot({ path: shot, fullPage: true });
    await testInfo.attach('alerts', { path: shot, contentType: 'image/png' });

    // Leave the shared app as it was.
    for (const name of [`alert: AAPL price above ${above}`, `alert: AAPL price below ${below}`]) {
      await panel.getByRole('button', { name: `Delete ${name}` }).click();
      await expect(rules.getByRole('rowheader', { name })).toHaveCount(0);
    }
  });
});
