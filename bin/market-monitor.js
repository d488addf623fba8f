#!/usr/bin/env node
// Entry point of the `market-monitor` command. The CLI is TypeScript run by Node's own type
// stripping (on by default from Node 22.18 and in Node 24); on an older Node 22 that has it only
// behind a flag, re-run this process with the flag rather than ship a second, compiled copy.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../electron/cli.ts', import.meta.url));

if (process.features.typescript) {
  const { main } = await import(cli);
  process.exitCode = await main(process.argv.slice(2));
} else {
  const child = spawn(
    process.execPath,
    [
      '--experimental-strip-types',
      '--disable-warning=ExperimentalWarning',
      fileURLToPath(import.meta.url),
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit' },
  );
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
}
