/**
 * Trading halts in browser mode on the embedded simulator, in Chromium: a "Trading halted" rule
 * made in the Alerts panel, then the simulator halts AMD from the Diagnostics panel; the row shows
 * the halt mark (reason and time in its label) and the alert mark, the detail pane the halt and
 * the LULD band, the alerts log the firing. The resume takes the halt mark away. The rule is
 * deleted and the symbol resumed at the end (one `market-monitor web` serves the whole worker).
 */
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';

const SYMBOL = 'AMD';
const PRICE = /^\d{1,3}(?:,\d{3})*\.\d{2,}$/;

function rowHeader(page: Page): Locator {
  // The marks are part of the header's name while they show.
  return page
    .getByRole('table', { name: 'Watchlist' })
    .getByRole('rowheader', { name: new RegExp(`^${SYMBOL}(\\W|$)`) });
}

function tools(page: Page, tab: string): Promise<void> {
  return page.getByRole('tablist', { name: 'Tools' }).getByRole('tab', { name: tab }).click();
}

function haltForm(page: Page): Locator {
  return page.getByRole('form', { name: 'Trading halt' });
}

test.use({ webArgs: ['--session', 'regular'] });

test.describe('trading halts', () => {
  test('a halt commanded on the simulator marks the row, fires the rule and shows the band', async ({
    page,
    webApp,
  }, testInfo) => {
    test.setTimeout(120_000);
    await page.goto(webApp.url);
    await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('live');
    await expect(rowHeader(page)).toHaveText(SYMBOL);

    // A "Trading halted" rule, made in the Alerts panel: no value to enter.
    await tools(page, 'Alerts');
    const alerts = page.getByRole('region', { name: 'Alerts', exact: true });
    const form = alerts.getByRole('form', { name: 'New alert' });
    await form
      .getByRole('combobox', { name: 'Condition' })
      .selectOption({ label: 'Trading halted' });
    await expect(form.getByRole('textbox')).toHaveCount(1);
    await form.getByRole('checkbox', { name: 'Notify' }).uncheck();
    const symbol = form.getByRole('textbox', { name: 'Symbol', exact: true });
    await symbol.fill(SYMBOL.toLowerCase());
    await symbol.press('Enter');
    const ruleName = `alert: ${SYMBOL} halted`;
    const rules = alerts.getByRole('table', { name: 'Alert rules' });
    await expect(rules.getByRole('rowheader', { name: ruleName })).toBeVisible();

    // The simulator halts the symbol, from Diagnostics.
    await tools(page, 'Diagnostics');
    await haltForm(page).getByRole('textbox', { name: 'Symbol to halt' }).fill(SYMBOL);
    await haltForm(page).getByRole('button', { name: 'Halt trading' }).click();
    await expect(page.getByText(`Applied: ${SYMBOL} halted on 1 connection`)).toBeVisible();

    // The row: the halt mark with its reason and time, and the alert mark.
    const header = rowHeader(page);
    const haltMark = header.getByRole('img', { name: /^halted: / });
    await expect(haltMark).toBeVisible();
    await expect(haltMark).toHaveAttribute(
      'aria-label',
      /^halted: Volatility trading pause \(LUDP\) since \d\d:\d\d:\d\d$/,
    );
    await expect(header.getByRole('img', { name: `alert fired: ${SYMBOL} halted` })).toBeVisible();

    // The detail pane: halted, and the band around the price.
    await header.click();
    const detail = page.getByRole('region', { name: `Detail: ${SYMBOL}` });
    await expect(detail).toBeVisible();
    const status = detail.locator(`dl[aria-label="Trading status of ${SYMBOL}"]`);
    await expect(status).toContainText(/Halted since \d\d:\d\d:\d\d/);
    await expect(status).toContainText('Volatility trading pause');
    const up = status.locator('.s-luld-up dd');
    const down = status.locator('.s-luld-down dd');
    await expect(up).toHaveText(PRICE);
    const limitUp = Number((await up.textContent())!.replace(/,/g, ''));
    const limitDown = Number((await down.textContent())!.split(' ')[0]!.replace(/,/g, ''));
    expect(limitDown).toBeGreaterThan(0);
    expect(limitUp).toBeGreaterThan(limitDown);

    // The alerts log has the firing.
    await tools(page, 'Alerts');
    await expect(
      alerts.getByRole('list', { name: 'Alerts log' }).getByRole('listitem').first(),
    ).toContainText(`${SYMBOL} halted: Trading halt: Volatility trading pause`);

    const shot = testInfo.outputPath('halts.png');
    await page.screenshot({ path: shot, fullPage: true });
    await testInfo.attach('halts', { path: shot, contentType: 'image/png' });

    // The resume: the halt mark goes, the band stays in the detail pane.
    await tools(page, 'Diagnostics');
    // The panel was re-mounted by the tab switch: the symbol is typed again.
    await haltForm(page).getByRole('textbox', { name: 'Symbol to halt' }).fill(SYMBOL);
    await haltForm(page).getByRole('button', { name: 'Resume trading' }).click();
    await expect(page.getByText(`Applied: ${SYMBOL} resumed on 1 connection`)).toBeVisible();
    await expect(header.getByRole('img', { name: /^halted: / })).toHaveCount(0);
    await expect(status.locator('.s-trading')).toHaveText('Statusnot halted');
    await expect(up).toHaveText(PRICE);

    // Leave the shared app as it was: no rule, so no alert mark.
    await tools(page, 'Alerts');
    await alerts.getByRole('button', { name: `Delete ${ruleName}` }).click();
    await expect(rules.getByRole('rowheader', { name: ruleName })).toHaveCount(0);
    await expect(rowHeader(page).getByRole('img')).toHaveCount(0);
  });
});
