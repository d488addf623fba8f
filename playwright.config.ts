/**
 * End-to-end tests, two projects:
 * - `browser` (test/e2e/): the real app in browser mode (`market-monitor web` on the embedded
 *   simulator) driven in Debian's Chromium. Part of `npm test`; runs wherever Chromium is
 *   installed, no Electron binary needed.
 * - `electron` (test/e2e-electron/): the desktop app through Playwright's `_electron`. Needs the
 *   Electron binary that npm fetches lazily on first run; the tests skip, naming the missing path,
 *   where it is not there. `npm run test:electron`.
 *
 * Chromium is the system one (`/usr/bin/chromium`, override with CHROMIUM_PATH): Playwright's own
 * browser download is not available on every machine this project is built on.
 */
import { defineConfig } from '@playwright/test';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

const ci = process.env['CI'] !== undefined && process.env['CI'] !== '';

export default defineConfig({
  outputDir: 'test-results',
  // Two cores, shared: one worker, and each project starts one app.
  workers: 1,
  fullyParallel: false,
  forbidOnly: ci,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'browser',
      testDir: 'test/e2e',
      use: {
        browserName: 'chromium',
        viewport: { width: 1440, height: 900 },
        colorScheme: 'dark',
        launchOptions: {
          executablePath: CHROMIUM_PATH,
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
          ],
        },
      },
    },
    {
      name: 'electron',
      testDir: 'test/e2e-electron',
    },
  ],
});
