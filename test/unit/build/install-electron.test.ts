/**
 * build/install-electron.mjs (the first step of `npm run test:electron`) runs the electron
 * package's own install step and, where Electron's downloads are unreachable, fails with a message
 * that says what happened and what to do. Here the download goes to a real HTTP server on
 * 127.0.0.1 that has nothing (ELECTRON_MIRROR), with a throw-away download cache, so nothing
 * leaves the machine and nothing is written under node_modules. Skipped where the binary is
 * installed already: the install step is then a no-op that never downloads.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SCRIPT = join(ROOT, 'build/install-electron.mjs');
const installed = existsSync(join(ROOT, 'node_modules/electron/dist/version'));

let server: Server | undefined;
let cache: string | undefined;

afterEach(() => {
  server?.close();
  if (cache !== undefined) rmSync(cache, { recursive: true, force: true });
});

function run(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done, failed) => {
    const child = spawn(process.execPath, [SCRIPT], { cwd: ROOT, env, stdio: 'pipe' });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', failed);
    child.on('close', (code) => done({ code, stderr }));
  });
}

describe('install-electron', () => {
  // Skipped where Electron's binary is already installed (node_modules/electron/dist/version):
  // the script then has nothing to download, so an unreachable mirror cannot be shown failing.
  it.skipIf(installed)(
    'an unreachable download fails with a clear message, not a stack trace',
    async () => {
      const requests: string[] = [];
      server = createServer((req, res) => {
        requests.push(req.url ?? '');
        res.writeHead(404).end('not here');
      });
      await new Promise<void>((ready) => server!.listen(0, '127.0.0.1', ready));
      const { port } = server.address() as AddressInfo;
      cache = mkdtempSync(join(tmpdir(), 'electron-cache-'));

      const { code, stderr } = await run({
        PATH: process.env['PATH'] ?? '',
        HOME: cache,
        ELECTRON_MIRROR: `http://127.0.0.1:${port}/`,
        electron_config_cache: cache,
      });

      expect(code).toBe(1);
      expect(requests.length).toBeGreaterThan(0); // it really tried, and only here
      expect(stderr).toMatch(/Electron \d+\.\d+\.\d+'s binary could not be installed/);
      expect(stderr).toContain('npm test');
      expect(existsSync(join(ROOT, 'node_modules/electron/dist/version'))).toBe(false);
    },
    60_000,
  );
});
