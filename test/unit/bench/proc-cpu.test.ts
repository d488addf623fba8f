/**
 * The /proc parsers behind the fan-out section's CPU figures, on fixed text: a command name with
 * spaces and parentheses, and the machine line's busy and total ticks.
 */
import { describe, expect, it } from 'vitest';
import {
  busyShare,
  parseMachineTicks,
  parseProcTicks,
  processTicks,
} from '../../../bench/lib/proc-cpu.ts';

describe('parseProcTicks', () => {
  it('adds utime and stime, counting fields after the last parenthesis', () => {
    const stat =
      '4242 (node (relay) x) S 1 4242 4242 0 -1 4194304 121 0 0 0 1234 56 0 0 20 0 11 0 1077452';
    expect(parseProcTicks(stat)).toBe(1290);
  });

  it('is NaN on text that is not a stat line', () => {
    expect(parseProcTicks('nonsense')).toBeNaN();
    expect(parseProcTicks('1 (x) S 1')).toBeNaN();
  });

  it('reads this process from /proc', () => {
    expect(processTicks(process.pid)).toBeGreaterThanOrEqual(0);
  });
});

describe('parseMachineTicks', () => {
  it('takes busy as user nice system irq softirq steal, and total with idle and iowait', () => {
    const text = 'cpu  100 10 40 800 20 1 4 5 0 0\ncpu0 50 5 20 400 10 0 2 2 0 0\n';
    expect(parseMachineTicks(text)).toEqual({ busy: 160, total: 980 });
  });

  it('is undefined without a cpu line', () => {
    expect(parseMachineTicks('intr 1 2 3')).toBeUndefined();
    expect(parseMachineTicks('cpu  1 2 x 4 5 6 7 8')).toBeUndefined();
  });

  it('gives the busy share between two readings', () => {
    expect(busyShare({ busy: 100, total: 400 }, { busy: 175, total: 500 })).toBe(0.75);
    expect(busyShare({ busy: 1, total: 4 }, { busy: 1, total: 4 })).toBeNaN();
  });
});
