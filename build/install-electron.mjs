#!/usr/bin/env node
// Makes sure Electron's binary is installed before the desktop tests (`npm run test:electron`).
// Electron 45's npm package no longer downloads it at `npm ci`: its index.js fetches it the first
// time the package is loaded, and the desktop tests never load it (Playwright launches the
// executable by path), so on a fresh checkout they found no binary and skipped. This runs the
// package's own install step (node_modules/electron/install.js: download, checksum, unzip, write
// path.txt; a no-op when the right version is there already) and, where Electron's downloads are
// unreachable, stops with a message that says so instead of a stack trace.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
// The package.json, not the package: loading index.js would start the same download unguarded.
const electronDir = dirname(require.resolve('electron/package.json'));
const { version } = require('electron/package.json');

const result = spawnSync(process.execPath, [join(electronDir, 'install.js')], {
  stdio: ['ignore', 'inherit', 'pipe'],
  encoding: 'utf8',
});

if (result.status !== 0) {
  const detail = (result.stderr ?? result.error?.message ?? '').trim().split('\n')[0] ?? '';
  process.stderr.write(
    [
      '',
      `Electron ${version}'s binary could not be installed, so the desktop tests cannot run here.`,
      `  ${detail || `install.js exited with ${result.status ?? result.signal}`}`,
      '  It is downloaded from GitHub (or $ELECTRON_MIRROR) into node_modules/electron/dist.',
      "  Where Electron's downloads are unreachable, `npm test` runs the same app in a browser,",
      '  and CI (.github/workflows/ci.yml) runs the desktop tests on Linux, Windows and macOS.',
      '',
    ].join('\n'),
  );
  process.exit(1);
}
