/** A diagnostics bundle asked for in a loop is built once a second, not once a request. */
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanups, setup, value } from './harness.ts';

afterEach(runCleanups);

describe('diagnostics:export under a loop of requests', () => {
  it('answers a burst with one bundle, and a fresh one a second later', async () => {
    const { view } = await setup({ settings: { autoConnect: false } });
    const burst = await Promise.all(
      Array.from({ length: 50 }, () => value(view, 'diagnostics:export', {})),
    );
    expect(new Set(burst.map((b) => b.generatedAt)).size).toBe(1);
    expect(new Set(burst).size).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const later = await value(view, 'diagnostics:export', {});
    expect(later).not.toBe(burst[0]);
    expect(Date.parse(later.generatedAt)).toBeGreaterThan(Date.parse(burst[0]!.generatedAt));
  });
});
