/**
 * A process's resident memory read from outside it (/proc/PID/status, VmRSS), as the hostile
 * section and the hardening tests measure their targets: the process under attack is never asked,
 * so a process too busy to answer is still measured. Linux only, like the rest of the bench's /proc
 * readings.
 */
import { readFileSync } from 'node:fs';

/** VmRSS of `pid` in MiB, or undefined when the process is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** Samples `pid`'s RSS every `everyMs` until stopped; `peak` and `samples` so far. */
export class RssSampler {
  readonly samples: number[] = [];
  #timer: NodeJS.Timeout;

  constructor(pid: number, everyMs = 50) {
    const take = (): void => {
      const mib = rssMiB(pid);
      if (mib !== undefined) this.samples.push(mib);
    };
    take();
    this.#timer = setInterval(take, everyMs);
  }

  get peak(): number {
    return this.samples.reduce((a, b) => Math.max(a, b), 0);
  }

  get last(): number | undefined {
    return this.samples.at(-1);
  }

  stop(): number {
    clearInterval(this.#timer);
    return this.peak;
  }
}

/** The median of RSS samples of `pid` taken `count` times `everyMs` apart: an idle figure. */
export async function idleRssMiB(pid: number, count = 10, everyMs = 100): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const mib = rssMiB(pid);
    if (mib !== undefined) values.push(mib);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  if (values.length === 0) throw new Error(`process ${pid} is gone`);
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)] ?? 0;
}
