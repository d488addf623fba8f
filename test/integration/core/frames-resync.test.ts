/**
 * 'frames:resync' on the real core: the command is validated like any other, and a view waiting
 * for a frame in a quiet market gets its full frame at once, not at the next quote.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { QuoteFrame } from '../../../shared/frame.ts';
import { waitFor } from '../../support/wait.ts';
import { call, nextFrame, runCleanups, setup, value } from './harness.ts';

afterEach(runCleanups);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("'frames:resync'", () => {
  it('refuses a payload with fields, with the reason', async () => {
    const { view } = await setup({ settings: { autoConnect: false } });
    const bad = await call(view, 'frames:resync', { full: true } as never);
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe('bad-request');
      expect(bad.error.message).toMatch(/^frames:resync: /);
    }
    expect(await value(view, 'frames:resync', {})).toBeNull();
  });

  it('wakes a view that waits in a quiet market with a full frame, then incremental ones', async () => {
    const { view, sink } = await setup();
    await waitFor(() => sink.last('connection:state')?.state === 'live', { what: 'live' });
    const seen = new Set<string>();
    while (!(seen.has('AAPL') && seen.has('MSFT')))
      for (const s of (await nextFrame(view)).symbols) seen.add(s);
    await value(view, 'connection:disconnect', {});
    // Drain what came before the disconnect: quiet once a pull waits 200 ms unanswered.
    let waiting: Promise<QuoteFrame>;
    for (;;) {
      waiting = view.nextFrame();
      const answered = await Promise.race([waiting.then(() => true), sleep(200).then(() => false)]);
      if (!answered) break;
    }
    expect(await value(view, 'frames:resync', {})).toBeNull();
    const full = await Promise.race([
      waiting,
      sleep(1_000).then(() => {
        throw new Error('the waiting view was not woken');
      }),
    ]);
    expect(full.full).toBe(true);
    expect(full.symbolBase).toBe(0);
    expect(full.newSymbols).toEqual(expect.arrayContaining(['AAPL', 'MSFT']));
    expect([...full.rows]).toEqual(full.newSymbols.map((_s, id) => id));
    // The next frame is incremental again: it waits for a change like any other.
    const next = view.nextFrame();
    const early = await Promise.race([next.then(() => true), sleep(100).then(() => false)]);
    expect(early).toBe(false);
  });
});
