/**
 * CPU time read from outside a process (/proc/PID/stat) and the whole machine's (/proc/stat), as
 * the fan-out section measures the relay: the process is never asked, so what it spends answering
 * does not count, and a busy process is measured all the same. Linux only, like the bench's other
 * /proc readings; the parsers are pure so that the field arithmetic is tested on fixed text.
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/** utime + stime (clock ticks) from the text of /proc/PID/stat; NaN when it does not parse. */
export function parseProcTicks(stat: string): number {
  // The command name (field 2) sits in parentheses and may hold spaces and ')': fields are
  // counted from the last ')'. After it: state is field 3, utime field 14, stime field 15.
  const close = stat.lastIndexOf(')');
  if (close < 0) return Number.NaN;
  const rest = stat.slice(close + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : Number.NaN;
}

export interface MachineTicks {
  /** user nice system irq softirq steal (guest time is already inside user). */
  readonly busy: number;
  /** busy + idle + iowait. */
  readonly total: number;
}

/** The machine's ticks from the first line of /proc/stat (all cores); undefined when unreadable. */
export function parseMachineTicks(procStat: string): MachineTicks | undefined {
  const line = procStat.split('\n')[0] ?? '';
  if (!line.startsWith('cpu ')) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 8 || f.some((x) => !Number.isFinite(x))) return undefined;
  const at = (i: number): number => f[i] ?? 0;
  const busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
  return { busy, total: busy + at(3) + at(4) };
}

/** Share of the machine busy between two readings (0..1), NaN when nothing elapsed. */
export function busyShare(a: MachineTicks, b: MachineTicks): number {
  const total = b.total - a.total;
  return total > 0 ? (b.busy - a.busy) / total : Number.NaN;
}

/** utime + stime of `pid` in clock ticks; undefined once it is gone. */
export function processTicks(pid: number): number | undefined {
  try {
    const ticks = parseProcTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return Number.isNaN(ticks) ? undefined : ticks;
  } catch {
    return undefined;
  }
}

export function machineTicks(): MachineTicks | undefined {
  try {
    return parseMachineTicks(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

let ticksPerSecond: number | undefined;

/** The kernel's USER_HZ (getconf CLK_TCK; 100 on every Linux we run on), asked once. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(r.stdout?.trim());
    ticksPerSecond = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return ticksPerSecond;
}
