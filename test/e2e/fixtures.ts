/**
 * Browser-mode fixtures: one `market-monitor web` per worker (the real CLI, on the embedded
 * simulator, with a fresh data folder), and a page that fails its test on any console error or
 * uncaught exception (a CSP violation is reported as a console error, so a renderer that needs an
 * inline script or style fails here).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as base, expect } from '@playwright/test';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RENDERER_INDEX = join(ROOT, '.vite/renderer/main_window/index.html');
/** `Market Monitor (browser mode): http://127.0.0.1:PORT/#token=...` */
const URL_LINE =
  /Market Monitor \(browser mode\): (http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]+)/;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export interface WebApp {
  /** The address the CLI printed, token included. */
  readonly url: string;
  /** `http://127.0.0.1:PORT`: the same server without the token. */
  readonly origin: string;
  readonly dataDir: string;
  /** What the process wrote so far (for failure messages). */
  output(): string;
}

/** Newest modification time under `dir` (files only). */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/**
 * `market-monitor web` serves the BUILT renderer. Build it when there is none, or when a source
 * is newer than the build (a stale UI would make these tests test old code).
 */
function ensureRendererBuilt(): void {
  const builtAt = existsSync(RENDERER_INDEX) ? statSync(RENDERER_INDEX).mtimeMs : 0;
  const sourcesAt = Math.max(
    newest(join(ROOT, 'renderer')),
    newest(join(ROOT, 'shared')),
    statSync(join(ROOT, 'vite.renderer.config.ts')).mtimeMs,
  );
  if (builtAt >= sourcesAt) return;
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const run = spawnSync(npm, ['run', '-s', 'build:renderer'], {
    cwd: ROOT,
    encoding: 'utf8',
    shell: process.platform === 'win32',
  });
  if (run.status !== 0) {
    throw new Error(`npm run build:renderer failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
  }
}

function stop(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(killer);
      done();
    });
    child.kill('SIGTERM');
  });
}

/** The embedded simulator's market session (`web --session`); undefined: the CLI's default. */
export type WebSession = 'auto' | 'pre' | 'regular' | 'post' | 'closed' | undefined;

async function startWebApp(
  session: WebSession = undefined,
): Promise<{ app: WebApp; child: ChildProcessWithoutNullStreams }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'market-monitor-e2e-'));
  const args = [join(ROOT, 'bin/market-monitor.js'), 'web', '--port', '0', '--data-dir', dataDir];
  if (session !== undefined) args.push('--session', session);
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
  });
  let output = '';
  const url = await new Promise<string>((found, failed) => {
    const timer = setTimeout(
      () =>
        failed(
          new Error(`market-monitor web printed no URL in ${START_TIMEOUT_MS} ms:\n${output}`),
        ),
      START_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = URL_LINE.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        found(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      failed(
        new Error(
          `market-monitor web exited (${code ?? signal}) before printing its URL:\n${output}`,
        ),
      );
    });
  }).catch(async (err: unknown) => {
    await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  return {
    child,
    app: { url, origin: new URL(url).origin, dataDir, output: () => output },
  };
}

interface WorkerFixtures {
  webApp: WebApp;
  /** A spec sets it with `test.use({ webSession: 'closed' })` (one `web` per worker and value). */
  webSession: WebSession;
}

/** Console errors and uncaught exceptions of `page`: the test fails on any it did not expect. */
export interface PageProblems {
  /** Everything seen so far, expected or not. */
  readonly seen: readonly string[];
  /** Declares problems matching `pattern` expected (a test that provokes them on purpose). */
  expect(pattern: RegExp): void;
}

interface TestFixtures {
  pageProblems: PageProblems;
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  webSession: [undefined, { scope: 'worker', option: true }],
  webApp: [
    async ({ webSession }, use) => {
      ensureRendererBuilt();
      const { app, child } = await startWebApp(webSession);
      try {
        await use(app);
      } finally {
        await stop(child);
        rmSync(app.dataDir, { recursive: true, force: true });
      }
    },
    { scope: 'worker', timeout: 180_000 },
  ],
  pageProblems: [
    async ({ page }, use) => {
      const seen: string[] = [];
      const expected: RegExp[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') seen.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => seen.push(`uncaught: ${error.message}`));
      // A CSP violation that the page survives (an eval probe, a refused style) is not always a
      // console error; the page's own report event catches every one.
      await page.exposeFunction('__reportCspViolation', (text: string) =>
        seen.push(`csp: ${text}`),
      );
      await page.addInitScript(`document.addEventListener('securitypolicyviolation', (e) =>
        globalThis.__reportCspViolation(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));`);
      await use({ seen, expect: (pattern) => expected.push(pattern) });
      const unexpected = seen.filter((p) => !expected.some((re) => re.test(p)));
      expect(unexpected, 'console errors or uncaught exceptions in the page').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
