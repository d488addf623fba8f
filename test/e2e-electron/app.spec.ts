/**
 * Smoke tests of the desktop app itself through Playwright's `_electron`: the built app
 * (`npm run build` output, `.vite/build/main.js`) in the real Electron binary, on the embedded
 * simulator, with a fresh user-data folder.
 *
 * They need the Electron binary in node_modules/electron/dist, which `npm run test:electron`
 * installs first (build/install-electron.mjs, failing clearly where Electron's downloads are
 * unreachable). Run directly without it, every test here is skipped with the path it looked for. Nothing here imports the
 * `electron` package: its index.js would start that download.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron, expect, test } from '@playwright/test';
import type { ElectronApplication, Page } from '@playwright/test';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ELECTRON_DIR = join(ROOT, 'node_modules/electron');
const MAIN_BUNDLE = join(ROOT, '.vite/build/main.js');

/** The Electron executable, or why there is none. */
function electronBinary(): { path: string } | { missing: string } {
  const dist = join(ELECTRON_DIR, 'dist');
  if (!existsSync(dist)) {
    return {
      missing: `the Electron binary is not installed: ${dist} does not exist (npm fetches it on first run where Electron's downloads are reachable)`,
    };
  }
  // path.txt names the executable inside dist/ for this platform (written by the download).
  const pathFile = join(ELECTRON_DIR, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : 'electron';
  const executable = join(dist, relative);
  return existsSync(executable)
    ? { path: executable }
    : { missing: `the Electron binary is not installed: ${executable} does not exist` };
}

function displayMissing(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  if (process.env['DISPLAY'] || process.env['WAYLAND_DISPLAY']) return undefined;
  return 'no display: run under a desktop session or xvfb-run (e.g. `xvfb-run -a npm run test:electron`)';
}

/** Adds an inline script to the page; says whether it ran. Evaluated in the page. */
const INLINE_SCRIPT_PROBE = `(() => {
  const s = document.createElement('script');
  s.textContent = 'globalThis.__inlineRan = true';
  document.head.append(s);
  return globalThis.__inlineRan === true ? 'ran' : 'blocked';
})()`;

const binary = electronBinary();
const why = 'missing' in binary ? binary.missing : displayMissing();

// Playwright's list reporter does not print skip reasons, so a skipped run carries it in its title.
test.describe(why === undefined ? 'desktop app' : `desktop app (skipped: ${why})`, () => {
  test.skip(why !== undefined, why ?? '');

  let app: ElectronApplication;
  let page: Page;
  let configHome: string;

  test.beforeAll(async () => {
    if (!('path' in binary)) return;
    if (!existsSync(MAIN_BUNDLE))
      throw new Error(`${MAIN_BUNDLE} is missing: run npm run build first`);
    // userData is $XDG_CONFIG_HOME/<app name> on Linux: a fresh one per run.
    configHome = mkdtempSync(join(tmpdir(), 'market-monitor-electron-'));
    app = await _electron.launch({
      executablePath: binary.path,
      // Playwright adds --no-sandbox on Linux for EVERY user unless chromiumSandbox is set, which
      // would test an app without Chromium's OS sandbox. It is kept on for everyone but root:
      // Electron (Chromium) refuses to start as root with it ("Running as root without
      // --no-sandbox is not supported"), and CI containers often run as root.
      chromiumSandbox: process.getuid?.() !== 0,
      args: [ROOT],
      cwd: ROOT,
      env: { ...process.env, XDG_CONFIG_HOME: configHome },
    });
    page = await app.firstWindow();
  });

  test.afterAll(async () => {
    await app?.close();
    if (configHome) rmSync(configHome, { recursive: true, force: true });
  });

  test('the window shows the app from app:// under its CSP', async () => {
    expect(page.url()).toMatch(/^app:\/\//);
    await expect(page.getByRole('heading', { name: 'Market Monitor' })).toBeVisible();
    // An inline script is refused: CSP script-src 'self'.
    expect(await page.evaluate(INLINE_SCRIPT_PROBE)).toBe('blocked');
  });

  test('the page has window.monitor and no Node', async () => {
    const seen = await page.evaluate(() => {
      const g = globalThis as Record<string, unknown>;
      const monitor = g['monitor'] as Record<string, unknown> | undefined;
      return {
        monitor: typeof monitor,
        methods: monitor ? Object.keys(monitor).sort() : [],
        require: typeof g['require'],
        process: typeof g['process'],
        module: typeof g['module'],
      };
    });
    expect(seen).toEqual({
      monitor: 'object',
      methods: ['invoke', 'nextFrame', 'on'],
      require: 'undefined',
      process: 'undefined',
      module: 'undefined',
    });
  });

  test('quotes flow from the embedded simulator', async () => {
    await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('live');
    const bid = page
      .getByRole('table', { name: 'Watchlist' })
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: 'AAPL', exact: true }) })
      .getByRole('cell')
      .nth(0);
    await expect(bid).toHaveText(/^\d{1,3}(?:,\d{3})*\.\d{2,}$/);
    const first = await bid.textContent();
    await expect(bid).not.toHaveText(first ?? '');
    await expect(page.getByText('Desktop')).toBeVisible();
  });

  test('every panel shows live data in the window', async () => {
    await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('live');
    const health = page.getByRole('region', { name: 'Connection health', exact: true });
    await expect(health).toContainText('Built-in simulator');
    const counters = page.getByRole('region', { name: 'Message counters', exact: true });
    await expect(
      counters
        .getByRole('table', { name: 'Messages by type' })
        .getByRole('row')
        .filter({ has: page.getByRole('rowheader', { name: 'quote', exact: true }) })
        .getByRole('cell')
        .first(),
    ).toHaveText(/[1-9]/);
    const tools = page.getByRole('tablist', { name: 'Tools' });
    for (const [tab, region] of [
      ['Handlers', 'Handler inspector'],
      ['Diagnostics', 'Diagnostics'],
      ['Settings', 'Settings'],
    ] as const) {
      await tools.getByRole('tab', { name: tab }).click();
      await expect(page.getByRole('region', { name: region, exact: true })).toBeVisible();
    }
    // Settings in the desktop app report the OS credential store (safeStorage), not browser mode's.
    await expect(page.getByRole('region', { name: 'Settings', exact: true })).toContainText(
      /encrypted|obfuscated|memory|No API keys/i,
    );
  });
});
