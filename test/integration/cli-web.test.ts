/**
 * `market-monitor web` as a user runs it: a real child process with the real MonitorCore, its one
 * stdout line, the page address, the bridge behind it, and a clean exit on SIGTERM.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { bridgeUrlFromLocation, connectBridge } from '../../renderer/bridge-client.ts';

const BIN = fileURLToPath(new URL('../../bin/market-monitor.js', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mm-cli-web-'));
  dirs.push(dir);
  return dir;
}

function run(args: string[]): {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  firstLine: Promise<string>;
  stderr: () => string;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, APCA_API_KEY_ID: '', APCA_API_SECRET_KEY: '' },
  });
  children.push(child);
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const firstLine = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (lines.length === 1) resolve(line);
    });
    child.once('exit', (code) =>
      reject(new Error(`exited ${String(code)} before printing; stderr: ${stderr}`)),
    );
  });
  firstLine.catch(() => undefined);
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return { child, lines, firstLine, stderr: () => stderr, exit };
}

describe('market-monitor web', () => {
  it('prints the address, serves the page and the bridge, and exits 0 on SIGTERM', async () => {
    const dataDir = await tempDir();
    const web = run(['web', '--port', '0', '--data-dir', dataDir]);
    const line = await web.firstLine;
    const match =
      /^Market Monitor \(browser mode\): (http:\/\/127\.0\.0\.1:(\d+)\/#token=([A-Za-z0-9_-]{43}))$/.exec(
        line,
      );
    expect(match, line).not.toBeNull();
    const pageUrl = new URL(match![1]!);
    const origin = pageUrl.origin;

    // The renderer may or may not be built in this checkout: either it is served, or '/' says how to build it.
    const page = await fetch(new URL('/', origin));
    const body = await page.text();
    if (page.status === 503) expect(body).toContain('renderer not built: run npm run build');
    else {
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    }
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");

    // The bridge reaches the real core of the child process.
    const url = bridgeUrlFromLocation(pageUrl)!;
    const client = await connectBridge({
      url,
      WebSocketImpl: class extends WebSocket {
        constructor(u: string | URL) {
          super(u, { headers: { origin } });
        }
      },
    });
    const lists = await client.invoke('watchlists:list', {});
    expect(lists.ok && lists.value.map((w) => w.id)).toEqual(['default']);
    const status = await client.invoke('credentials:status', {});
    expect(status.ok && status.value.backend).toBe('memory');
    client.close();

    web.child.kill('SIGTERM');
    expect(await web.exit).toBe(0);
    expect(web.lines).toEqual([line]); // exactly one stdout line
  });

  it.each([
    [['--port', 'x']],
    [['--port', '70000']],
    [['--bogus']],
    [['positional']],
    [['--log-level', 'loud']],
  ])('exits 2 with one line on stderr for a usage error: %j', async (args) => {
    const web = run(['web', ...args]);
    expect(await web.exit).toBe(2);
    expect(web.lines).toEqual([]);
    expect(web.stderr()).toMatch(/^market-monitor: .+\n$/);
  });
});
