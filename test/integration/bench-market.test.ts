/**
 * The market section's harness (bench/market.ts), run small: the simulator CLI and the worker as
 * real child processes. It asserts what the harness must get right to be trusted: every watchlist
 * symbol seen, requests counted exactly and by the right endpoint, polled rows counted as the core
 * counts them, the history's memory seen by the heap measurement, search queries all timed. No
 * timing assertions: those belong to the bench.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runColdStart, runHistory, runPolled, runSearch } from '../../bench/market.ts';
import { endpointOf } from '../../bench/market-worker.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

// Each part runs in its own processes and asserts no timing: they may run side by side.
describe.concurrent('bench market harness', () => {
  it('files each REST path under its endpoint', () => {
    expect(endpointOf('/v2/stocks/snapshots')).toBe('snapshots');
    expect(endpointOf('/v1beta3/crypto/us/snapshots')).toBe('snapshots');
    expect(endpointOf('/v2/stocks/bars')).toBe('bars');
    expect(endpointOf('/v1beta3/crypto/us/bars')).toBe('bars');
    expect(endpointOf('/v2/clock')).toBe('clock');
    expect(endpointOf('/v2/calendar')).toBe('calendar');
    expect(endpointOf('/v2/assets')).toBe('assets');
    expect(endpointOf('/v2/assets/AAPL')).toBe('assets');
    expect(endpointOf('/v2/stocks/AAPL/snapshot')).toBe('other');
  });

  it('cold start: sees every row complete and counts each request once', async () => {
    // 250 symbols: two snapshot requests of at most 200.
    const [r] = await runColdStart({ root: ROOT, symbols: 250, rounds: 1, settleMs: 200 });
    expect(r).toBeDefined();
    const c = r!;
    expect(c.symbols).toBe(250);
    expect(c.session).toBe('closed');
    expect(c.strangers).toBe(0);
    expect(c.frameRows).toBeGreaterThanOrEqual(250);
    expect(Number.isFinite(c.completeMs)).toBe(true);
    expect(c.completeMs).toBeGreaterThanOrEqual(c.lastSnapshotAnswerMs);
    expect(c.requestsAtComplete.snapshots).toBe(2);
    expect(c.requestsAtComplete.calendar).toBe(1);
    expect(c.requestsAtComplete.other).toBe(0);
    const { total, ...byEndpoint } = c.requestsAtComplete;
    expect(Object.values(byEndpoint).reduce((a, b) => a + b, 0)).toBe(total);
    expect(c.metricRequests).toBe(total);
    expect(c.timeline.length).toBe(total);
    expect(c.requestsAfterSettle.total).toBeGreaterThanOrEqual(total);
    // The rows hold what the simulator answers when asked directly.
    expect(c.checked).toBe(200);
    expect(c.mismatched).toBe(0);
  }, 30_000);

  it('polled: counts the polled rows the core polls, with sane ages', async () => {
    const r = await runPolled({
      root: ROOT,
      symbols: 40,
      streamSymbols: 5,
      restPerMinute: 200,
      warmupMs: 250,
      windowMs: 1_000,
      sampleMs: 250,
      rate: 200,
    });
    expect(r.session).toBe('regular');
    expect(r.oldestAgeMs.length).toBe(5);
    // Every polled symbol's row is counted in every sample; early samples may still count the
    // stream's first symbols, whose quotes confirm a few 405 round trips after the warm-up.
    expect(Math.min(...r.polledRows)).toBeGreaterThanOrEqual(r.marketPolled);
    expect(Math.max(...r.polledRows)).toBeLessThanOrEqual(40);
    expect(r.marketPolled).toBeGreaterThanOrEqual(40 - 5 * 4);
    for (const age of r.oldestAgeMs) {
      expect(age).toBeGreaterThanOrEqual(0);
      // The poll period plus a request: never a stale mark from before the run.
      expect(age).toBeLessThan(r.pollIntervalMs + r.warmupMs);
    }
    expect(r.rowAgeP99Ms).toBeLessThanOrEqual(Math.max(...r.oldestAgeMs));
  }, 30_000);

  it('history: the heap measurement sees the typed arrays bytes() counts', async () => {
    const r = await runHistory({ root: ROOT, symbols: 200 });
    expect(r.filledSlots).toBe(200 * r.slots);
    // Closes (4 bytes a minute) and the settled bitset of every series, plus the fixed journal.
    const perSymbol = r.slots * 4 + Math.ceil(r.slots / 32) * 4;
    expect(r.bytes).toBeGreaterThan(200 * perSymbol);
    expect(r.heapUsedDelta + r.externalDelta).toBeGreaterThan(200 * perSymbol * 0.9);
  }, 30_000);

  it('search: every query timed in every pass, tickers found first', async () => {
    const r = await runSearch({ root: ROOT, assets: 2_000, queries: 400, passes: 2 });
    expect(r.assets).toBe(2_000);
    expect(r.passes).toBe(2);
    expect(r.exactMisses).toBe(0);
    const all = r.kinds.find((k) => k.kind === 'all')!;
    expect(all.count).toBeGreaterThanOrEqual(400);
    const parts = r.kinds.filter((k) => k.kind !== 'all');
    expect(parts.reduce((n, k) => n + k.count, 0)).toBe(all.count);
    expect(all.p99).toBeGreaterThanOrEqual(all.p50);
  }, 30_000);
});
