/**
 * CPU by process kind for the e2e section: this process and its descendants found in /proc (the
 * simulator, the app host, Chromium's browser, renderers, GPU and utility processes), each
 * labelled, read before and after a window and turned into % of one core per kind, with the rest
 * of the machine beside them. The ticks themselves come from proc-cpu.ts. Linux only.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { machineTicks, processTicks } from './proc-cpu.ts';

function procParent(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** `pid` and all its descendants (Chromium: browser, zygotes, renderers, GPU and utility processes). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [pid];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const child = Number(name);
    const parent = procParent(child);
    if (parent === undefined) continue;
    const list = children.get(parent) ?? [];
    list.push(child);
    children.set(parent, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    out.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return out;
}

/**
 * What a child of this process is: Chromium's kind from its command line (`--type=renderer`...;
 * the browser process has none), else its command name. Playwright's library starts the browser
 * as a direct child of this process, like the simulator and the host.
 */
export function childKind(pid: number): string {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
    const exe = args[0] ?? '';
    const type = args.find((a) => a.startsWith('--type='))?.slice('--type='.length);
    if (!/chrom/i.test(exe)) return `other: ${exe.split('/').at(-1) ?? exe}`;
    if (type === undefined) return 'chromium browser';
    if (type === 'utility') {
      const sub = args.find((a) => a.startsWith('--utility-sub-type='));
      return `chromium utility${sub === undefined ? '' : ` (${sub.split('.').at(-2) ?? sub})`}`;
    }
    return `chromium ${type}`;
  } catch {
    return 'gone';
  }
}

export interface CpuReading {
  readonly byPid: Map<number, { kind: string; ticks: number }>;
  readonly machine: number | undefined;
}

/** CPU ticks of this process and all its descendants, each with a label, and of the machine. */
export function readCpu(labels: ReadonlyMap<number, string>): CpuReading {
  const byPid = new Map<number, { kind: string; ticks: number }>();
  for (const pid of processTree(process.pid)) {
    const ticks = processTicks(pid);
    if (ticks !== undefined) byPid.set(pid, { kind: labels.get(pid) ?? childKind(pid), ticks });
  }
  return { byPid, machine: machineTicks()?.busy };
}

/** CPU per process kind over the window, in % of one core. */
export function cpuRows(
  a: CpuReading,
  b: CpuReading,
  seconds: number,
  hz: number,
): { kind: string; pct: number }[] {
  const byKind = new Map<string, number>();
  let ours = 0;
  for (const [pid, end] of b.byPid) {
    const start = a.byPid.get(pid)?.ticks ?? end.ticks; // a process born inside the window: from 0 is unknowable
    const d = end.ticks - start;
    ours += d;
    byKind.set(end.kind, (byKind.get(end.kind) ?? 0) + d);
  }
  const rows = [...byKind]
    .map(([kind, ticks]) => ({ kind, pct: (ticks / hz / seconds) * 100 }))
    .filter((r) => r.pct >= 0.5 || r.kind.startsWith('chromium renderer'))
    .sort((x, y) => y.pct - x.pct);
  if (a.machine !== undefined && b.machine !== undefined) {
    const all = b.machine - a.machine;
    rows.push({ kind: 'everything else on the machine', pct: ((all - ours) / hz / seconds) * 100 });
    rows.push({ kind: 'machine total (all cores)', pct: (all / hz / seconds) * 100 });
  }
  return rows;
}
