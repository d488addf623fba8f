/**
 * The e2e section's child processes: the built renderer the app serves (rebuilt when older than
 * its sources), the app host (bench/e2e-host.ts, forked, answering samples over IPC), and the
 * helpers that wait for a child's `listening` line and stop a child, with SIGKILL as the last word.
 */
import { spawnSync, fork, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { HostFrames, HostRequest, HostSample } from '../e2e-host.ts';

/** How long a child (or the page, in e2e.ts) may take to start. */
export const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

function newestMtime(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/**
 * The host serves the BUILT renderer: build it when missing or older than its sources (a stale
 * build would measure old code, and would lack the Diagnostics Reset button this section uses).
 */
export function ensureRendererBuilt(root: string, log: (line: string) => void): string {
  const staticDir = join(root, '.vite', 'renderer', 'main_window');
  const index = join(staticDir, 'index.html');
  const builtAt = existsSync(index) ? statSync(index).mtimeMs : 0;
  const sourcesAt = Math.max(
    newestMtime(join(root, 'renderer')),
    newestMtime(join(root, 'shared')),
    statSync(join(root, 'vite.renderer.config.ts')).mtimeMs,
  );
  if (builtAt < sourcesAt) {
    log(builtAt === 0 ? 'building the renderer' : 'the renderer build is stale: rebuilding');
    const run = spawnSync('npm', ['run', '-s', 'build:renderer'], { cwd: root, encoding: 'utf8' });
    if (run.status !== 0)
      throw new Error(
        `npm run build:renderer failed (${run.status}):\n${run.stdout}\n${run.stderr}`,
      );
  }
  return staticDir;
}

/** Keeps the last `limit` characters a child wrote, for error messages. */
export function tail(limit = 8_000): { add: (chunk: Buffer) => void; text: () => string } {
  let text = '';
  return {
    add(chunk) {
      text = (text + chunk.toString('utf8')).slice(-limit);
    },
    text: () => text,
  };
}

/** Resolves with the `url` of the first `{"type":"listening"}` line `child` prints on stdout. */
export function listeningUrl(
  child: ChildProcess,
  what: string,
  output: () => string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what} printed no URL in ${START_TIMEOUT_MS} ms:\n${output()}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        try {
          const parsed = JSON.parse(line) as { type?: unknown; url?: unknown };
          if (parsed.type === 'listening' && typeof parsed.url === 'string') {
            cleanup();
            resolve(parsed.url);
            return;
          }
        } catch {
          // not our line
        }
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`${what} exited (${code ?? signal}) before listening:\n${output()}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.on('exit', onExit);
  });
}

/**
 * SIGTERM (or `gently`), then SIGKILL if it has not exited in time. Not processes.ts's stopChild:
 * this one takes an undefined child, a gentler way to ask (the host's IPC `stop`) and waits 10 s.
 */
export async function stopOrKill(
  child: ChildProcess | undefined,
  gently?: () => void,
): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((done) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(killer);
      done();
    });
    try {
      if (gently) gently();
      else child.kill('SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
  });
}

export interface HostHandle {
  readonly child: ChildProcess;
  readonly url: string;
  sample(): Promise<HostSample>;
  /** Main's [handled, answered] stamps of the frame requests it handled in [from, to] (wall ms). */
  frames(from: number, to: number): Promise<HostFrames['stamps']>;
  stop(): Promise<void>;
}

export async function startAppHost(
  root: string,
  simUrl: string,
  staticDir: string,
  symbols: readonly string[],
  codec: string,
): Promise<HostHandle> {
  const out = tail();
  const child = fork(
    join(root, 'bench', 'e2e-host.ts'),
    ['--sim-url', simUrl, '--static', staticDir, '--codec', codec, ...symbols],
    { cwd: root, execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  child.stdout?.on('data', out.add);
  child.stderr?.on('data', out.add);
  const stop = () =>
    stopOrKill(child, () => {
      if (child.connected) child.send({ type: 'stop' });
      else child.kill('SIGTERM');
    });
  let url: string;
  try {
    url = await listeningUrl(child, 'the app host (bench/e2e-host.ts)', out.text);
  } catch (err) {
    await stop();
    throw err;
  }
  let nextId = 1;
  const waiting = new Map<number, (reply: unknown) => void>();
  child.on('message', (reply: unknown) => {
    const id = (reply as { id?: unknown }).id;
    if (typeof id !== 'number') return;
    waiting.get(id)?.(reply);
    waiting.delete(id);
  });
  return {
    child,
    url,
    stop,
    async sample() {
      const r = (await ask((id) => ({ type: 'sample', id }), 'a sample')) as
        HostSample | { type: 'sample-error'; message: string };
      if (r.type === 'sample') return r;
      throw new Error(`the app host failed a sample: ${r.message}`);
    },
    async frames(from, to) {
      const r = (await ask(
        (id) => ({ type: 'frames', id, from, to }),
        'frame stamps',
      )) as HostFrames;
      return r.stamps;
    },
  };

  /** Sends the request made for a fresh id; resolves with the reply carrying that id. */
  function ask(request: (id: number) => HostRequest, what: string): Promise<unknown> {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`the app host did not answer ${what} in 10 s:\n${out.text()}`));
      }, 10_000);
      waiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      child.send(request(id));
    });
  }
}
