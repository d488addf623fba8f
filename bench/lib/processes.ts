/**
 * Child processes for a benchmark section: the simulator CLI as the load, and forked TypeScript
 * workers as the client, each tracked so that none outlives the bench (a `finally` stops it, and an
 * exit hook kills whatever a crash left behind). The simulator gets an IPC channel it never uses
 * but dies with, so even a SIGKILLed bench leaves no simulator behind.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills `child` (SIGKILL) if this process exits while it still runs. */
export function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
}

/** Stops a child we started, by its own handle, and waits for it to be gone (SIGKILL after 5 s). */
export async function stopChild(
  child: ChildProcess,
  what: string,
  log: (line: string) => void = () => undefined,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    log(`${what} ignored SIGTERM, killing it`);
    child.kill('SIGKILL');
  }, 5_000);
  try {
    await gone;
  } finally {
    clearTimeout(timer);
  }
}

export interface SimulatorProcess {
  readonly child: ChildProcess;
  /** ws://127.0.0.1:port */
  readonly url: string;
  /** http://127.0.0.1:port: both REST APIs. */
  readonly restUrl: string;
}

/**
 * Starts `market-monitor simulate ARGS` and resolves once it prints its `listening` line. The
 * caller stops it with stopChild.
 */
export async function startSimulatorProcess(
  root: string,
  args: readonly string[],
): Promise<SimulatorProcess> {
  const child = spawn(
    process.execPath,
    [
      // The channel is only a lifeline (see the module comment), unreferenced so it never keeps
      // the simulator alive by itself.
      '--import',
      'data:text/javascript,process.once("disconnect",()=>process.exit(1));process.channel?.unref()',
      join(root, 'bin', 'market-monitor.js'),
      'simulate',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  track(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  try {
    return await new Promise<SimulatorProcess>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the simulator did not start in 20 s: ${stderr}`)),
        20_000,
      );
      const stdout = child.stdout;
      if (stdout === null) throw new Error('the simulator has no stdout pipe');
      createInterface({ input: stdout }).on('line', (line) => {
        let msg: { type?: unknown; url?: unknown; restUrl?: unknown };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          return; // not the line we wait for
        }
        if (msg.type === 'listening' && typeof msg.url === 'string') {
          clearTimeout(timer);
          const restUrl =
            typeof msg.restUrl === 'string' ? msg.restUrl : msg.url.replace(/^ws/, 'http');
          resolve({ child, url: msg.url, restUrl });
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the simulator exited (${code ?? signal}) before listening: ${stderr}`));
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  } catch (err) {
    await stopChild(child, 'the simulator');
    throw err;
  }
}

/**
 * Forks a TypeScript worker module with `env` set, sends it `task` and resolves with its one
 * answer: a `{ type: 'done', result }` message (or rejects on `{ type: 'failed', error }`, an exit
 * before answering, or `timeoutMs`). The worker is stopped whatever happens. `onMessage` sees every
 * other message (progress).
 */
export async function runWorker<R>(options: {
  readonly module: string;
  readonly env: Readonly<Record<string, string>>;
  readonly task: unknown;
  readonly timeoutMs: number;
  readonly execArgv?: readonly string[];
  readonly what: string;
  readonly onMessage?: (message: { readonly type: string }) => void;
  readonly log?: (line: string) => void;
}): Promise<R> {
  const child = fork(options.module, [], {
    // Node 24 runs .ts as is; an older Node 22 needs the flag.
    execArgv: [
      ...(process.features.typescript ? [] : ['--experimental-strip-types']),
      ...(options.execArgv ?? []),
    ],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  track(child);
  try {
    return await new Promise<R>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${options.what} did not finish in ${options.timeoutMs / 1000} s`)),
        options.timeoutMs,
      );
      child.on('message', (message: { type: string; result?: R; error?: string }) => {
        if (message.type === 'done') {
          clearTimeout(timer);
          resolve(message.result as R);
        } else if (message.type === 'failed') {
          clearTimeout(timer);
          reject(new Error(`${options.what} failed: ${message.error ?? '?'}`));
        } else {
          options.onMessage?.(message);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${options.what} exited (${code ?? signal}) before reporting`));
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.send({ type: 'start', task: options.task });
    });
  } finally {
    await stopChild(child, options.what, options.log);
  }
}
