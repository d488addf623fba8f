/**
 * A real nats-server for the relay's NATS tests and the fan-out bench's NATS leg: Debian's binary
 * (or NATS_SERVER) on 127.0.0.1, a free port chosen by the server itself the first time and reused
 * on restart, so clients reconnect to the same address. Where the binary cannot be found,
 * `natsMissing` says why, and the tests skip and the bench leaves the leg out with that reason.
 * The process is tracked (processes.ts): a crashed bench or test run leaves no server behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { createInterface } from 'node:readline';
import { track } from './processes.ts';

const BINARY = process.env['NATS_SERVER'] || '/usr/sbin/nats-server';

function missing(): string | undefined {
  try {
    accessSync(BINARY, constants.X_OK);
    return undefined;
  } catch {
    return `nats-server not installed (${BINARY}): apt-get install nats-server, or set NATS_SERVER`;
  }
}

/** Why NATS tests cannot run here, or undefined when they can. */
export const natsMissing = missing();

export class NatsServer {
  port = 0;
  readonly #args: readonly string[];
  #child: ChildProcess | undefined;
  #log = '';

  /** `args`: more of nats-server's flags, e.g. `--user U --pass P`. */
  constructor(args: readonly string[] = []) {
    this.#args = args;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** The server's process id while it runs (its CPU and memory are read from /proc). */
  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null;
  }

  /** Starts (again, on the same port once it has one); resolves when it accepts clients. */
  async start(timeoutMs = 10_000): Promise<void> {
    const child = spawn(
      BINARY,
      ['-a', '127.0.0.1', '-p', this.port === 0 ? '-1' : String(this.port), ...this.#args],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.#child = child;
    track(child);
    const ready = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`nats-server did not start:\n${this.#log}`)),
        timeoutMs,
      );
      let port = 0;
      createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
        this.#log += `${line}\n`;
        const listening = /Listening for client connections on [^\s]+:(\d+)/.exec(line);
        if (listening?.[1] !== undefined) port = Number(listening[1]);
        if (line.includes('Server is ready')) {
          clearTimeout(timer);
          resolve(port);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited (${code}):\n${this.#log}`));
      });
    });
    this.port = await ready;
  }

  /** Kills it outright (no lame-duck goodbye to its clients), as a crash would. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}
