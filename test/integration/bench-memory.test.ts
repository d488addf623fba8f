/**
 * The memory soak's harness (bench/memory.ts), run short: the simulator CLI and the MonitorCore
 * worker as real child processes, a low rate, and a server-side connection drop about every 2 s.
 * It asserts what the harness must see to be trusted: reconnects, samples, subscription checks,
 * and no subscription lost. No timing or memory-size assertions: those belong to the bench.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSoak } from '../../bench/memory.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('bench memory soak harness', () => {
  it('sees forced reconnects, collects samples and loses no subscription', async () => {
    const rate = 1_000;
    const result = await runSoak({
      root: ROOT,
      durationS: 7,
      sampleS: 1,
      symbols: 20,
      rate,
      // About 2 s of data per connection, then the simulator terminates it.
      dropAfter: rate * 2,
      codec: 'msgpack',
      checkAfterS: 1,
      warmupS: 0,
    });
    const s = result.summary;

    // The first session plus at least two recoveries from a dropped connection.
    expect(s.liveSessions).toBeGreaterThanOrEqual(3);
    expect(s.clientReconnects).toBeGreaterThanOrEqual(2);
    // A sample at 0 s and then one a second.
    expect(s.samples.length).toBeGreaterThanOrEqual(6);
    for (const sample of s.samples) {
      expect(sample.heapUsed).toBeGreaterThan(0);
      expect(sample.rss).toBeGreaterThan(0);
    }
    expect(s.samples.at(-1)!.messages).toBeGreaterThan(s.samples[0]!.messages);
    expect(s.messages).toBeGreaterThan(0);
    expect(s.frames).toBeGreaterThan(0);

    // Every session that lasted past its check was checked, and none lost anything.
    expect(s.checks.length).toBeGreaterThanOrEqual(2);
    expect(result.lost).toEqual([]);
    for (const check of s.checks) {
      expect(check).toMatchObject({ missing: 0, extra: 0, desiredMissing: 0 });
    }
    expect(Number.isFinite(result.slopes.heapUsed)).toBe(true);
  }, 90_000);
});
