/**
 * The store's pull loop heals a lost frame: the fold that shows the loss sends one 'frames:resync'
 * (not one per frame while the unknown rows keep coming), the full frame main answers with heals
 * the board, and a failed request is retried only after RESYNC_RETRY_MS.
 */
import { describe, expect, it } from 'vitest';
import { fail, ok } from '../../shared/api.ts';
import { RESYNC_RETRY_MS } from '../../renderer/model/board.ts';
import { useMonitor } from '../../renderer/store.ts';
import type { QuoteFrame } from '../../shared/frame.ts';
import { FakeApi, T0 } from './fake-api.ts';
import { ViewFrames } from './view-frames.ts';

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** A page attached to `api` whose paints the test runs, on a clock the test sets. */
async function page(api: FakeApi) {
  const waiting: Array<() => void> = [];
  let clock = T0;
  useMonitor.getState().attach(api, {
    afterPaint: () => new Promise<void>((resolve) => waiting.push(resolve)),
    now: () => clock,
  });
  await settle();
  return {
    /** Hands `frame` to the pull loop, lets it fold and paint, and waits for its next pull. */
    async fold(frame: QuoteFrame, at = clock): Promise<void> {
      clock = at;
      expect(api.framePending).toBe(true);
      api.pushFrame(frame);
      await settle();
      for (const resolve of waiting.splice(0)) resolve();
      await settle();
    },
    bids: () => [...useMonitor.getState().board.rows()].map((r) => [r.symbol, r.bid]),
  };
}

describe('the store, after a lost frame', () => {
  it('sends one resync however many frames show the loss, and folds the full frame that heals', async () => {
    const main = new ViewFrames();
    const api = new FakeApi();
    // Main answers the resync late: frames taken before it keep showing the unknown row.
    let answer: (() => void) | undefined;
    api.handle(
      'frames:resync',
      () =>
        new Promise((resolve) => {
          answer = () => {
            main.resync();
            resolve(ok(null));
          };
        }),
    );
    const view = await page(api);
    await view.fold(main.take([['AAPL', 1]]));
    main.take([['MSFT', 2]]); // lost between main and the page
    await view.fold(main.take([['MSFT', 3]]));
    expect(api.callsOf('frames:resync')).toEqual([{}]);
    for (let i = 0; i < 4; i++)
      await view.fold(
        main.take([
          ['AAPL', 10 + i],
          ['MSFT', 20 + i],
        ]),
      );
    expect(api.callsOf('frames:resync')).toHaveLength(1);
    expect(view.bids()).toEqual([['AAPL', 13]]);

    answer?.();
    await settle();
    const full = main.take();
    expect(full.full).toBe(true);
    await view.fold(full);
    expect(view.bids()).toEqual([
      ['AAPL', 13],
      ['MSFT', 23],
    ]);
    // Healed and incremental again: no more requests, and the counters tell what happened.
    await view.fold(main.take([['MSFT', 30]]));
    expect(view.bids()).toEqual([
      ['AAPL', 13],
      ['MSFT', 30],
    ]);
    expect(api.callsOf('frames:resync')).toHaveLength(1);
    expect(useMonitor.getState().board.stats).toMatchObject({
      frames: 8,
      gaps: 1,
      unknownRows: 5,
      resyncs: 1,
    });
  });

  it('asks in time for the very next frame to be the full one', async () => {
    const main = new ViewFrames();
    const api = new FakeApi().handle('frames:resync', () => {
      main.resync();
      return ok(null);
    });
    const view = await page(api);
    await view.fold(main.take([['AAPL', 1]]));
    main.take([['MSFT', 2]]); // lost
    await view.fold(main.take([['AAPL', 3]]));
    // The request went out before the loop pulled again.
    const next = main.take([['AAPL', 4]]);
    expect(next.full).toBe(true);
    await view.fold(next);
    expect(view.bids()).toEqual([
      ['AAPL', 4],
      ['MSFT', 2],
    ]);
  });

  it('a refused request is asked again at a later loss sign, not before RESYNC_RETRY_MS', async () => {
    const main = new ViewFrames();
    let refuse = true;
    const api = new FakeApi().handle('frames:resync', () => {
      if (refuse) return fail('limit', 'too many unanswered requests on this connection');
      main.resync();
      return ok(null);
    });
    const view = await page(api);
    await view.fold(main.take([['AAPL', 1]]), T0);
    main.take([['MSFT', 2]]); // lost
    await view.fold(main.take([['MSFT', 3]]), T0 + 16);
    expect(api.callsOf('frames:resync')).toHaveLength(1);
    refuse = false;
    // Every frame still carries the unknown row; within the pause none asks.
    for (let t = T0 + 32; t < T0 + 16 + RESYNC_RETRY_MS; t += 100)
      await view.fold(main.take([['MSFT', 4]]), t);
    expect(api.callsOf('frames:resync')).toHaveLength(1);
    await view.fold(main.take([['MSFT', 5]]), T0 + 16 + RESYNC_RETRY_MS);
    expect(api.callsOf('frames:resync')).toHaveLength(2);
    await view.fold(main.take([['MSFT', 6]]), T0 + 32 + RESYNC_RETRY_MS);
    expect(view.bids()).toEqual([
      ['AAPL', 1],
      ['MSFT', 6],
    ]);
  });

  it('a transport that throws is a failed request too', async () => {
    const main = new ViewFrames();
    const api = new FakeApi();
    const invoke = api.invoke.bind(api);
    api.invoke = (command: string, input: unknown) => {
      if (command === 'frames:resync') return Promise.reject(new Error('port closed'));
      return invoke(command as never, input as never);
    };
    const view = await page(api);
    await view.fold(main.take([['AAPL', 1]]), T0);
    main.take([['MSFT', 2]]); // lost
    await view.fold(main.take([['MSFT', 3]]), T0);
    await view.fold(main.take([['MSFT', 4]]), T0 + RESYNC_RETRY_MS);
    // Two asks (both rejected), and the page neither crashed nor stopped pulling.
    expect(useMonitor.getState().board.stats.resyncs).toBe(2);
    expect(useMonitor.getState().halted).toBeUndefined();
    expect(api.framePending).toBe(true);
  });
});
