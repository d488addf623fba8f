/**
 * Self-healing frames end to end: the real core and its simulator behind the browser-mode host,
 * reached over loopback by the renderer's bridge client, folded into the renderer's QuoteBoard
 * with its resync request (renderer/frame-resync.ts), as the store's pull loop does. A frame that
 * names a new symbol is dropped on purpose after it was decoded (a frame lost between main's take
 * and the page's fold); the page notices at the next frame and is whole again one frame later.
 */
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startHost } from '../../../electron/host/server.ts';
import { requestResync } from '../../../renderer/frame-resync.ts';
import { QuoteBoard } from '../../../renderer/model/board.ts';
import type { QuoteFrame } from '../../../shared/frame.ts';
import { connectPage } from '../../support/page-bridge.ts';
import { waitFor } from '../../support/wait.ts';
import { cleanups, runCleanups, setup } from '../core/harness.ts';

afterEach(runCleanups);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Folded {
  readonly seq: number;
  readonly full: boolean;
  readonly resync: boolean;
  /** Whether the board could show NVDA after folding this frame. */
  readonly nvda: boolean;
}

it('a page that lost a frame asks for a full one and is whole again one frame later', async () => {
  const { core, dir, sink } = await setup({
    watchlists: [{ id: 'default', name: 'Main', symbols: ['AAPL', 'MSFT'] }],
    core: { simulator: { rate: 2_000, symbols: 40, barIntervalMs: 300 } },
  });
  const host = await startHost({ core, staticDir: join(dir, 'no-renderer') });
  cleanups.push(() => host.close());
  const client = await connectPage(host);
  cleanups.push(() => Promise.resolve(client.close()));
  await waitFor(() => sink.last('connection:state')?.state === 'live', { what: 'live' });

  // The loss: once armed, the first frame that names NVDA is decoded and thrown away.
  let armed = false;
  let lost: QuoteFrame | undefined;
  const nextFrame = async (): Promise<QuoteFrame> => {
    const frame = await client.nextFrame();
    if (!armed || lost !== undefined || !frame.newSymbols.includes('NVDA')) return frame;
    lost = frame;
    return client.nextFrame();
  };

  // The page: pull, fold, ask for a repair when the fold says so, wait for a "paint", pull again.
  const board = new QuoteBoard();
  const folded: Folded[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      let frame: QuoteFrame;
      try {
        frame = await nextFrame();
      } catch (err) {
        if (running) throw err;
        return; // the bridge closed at the end of the test
      }
      const fold = board.apply(frame, Date.now());
      if (fold.resync) requestResync(client, board, Date.now);
      folded.push({
        seq: frame.seq,
        full: frame.full,
        resync: fold.resync,
        nvda: board.has('NVDA'),
      });
      await sleep(16);
    }
  })();
  cleanups.push(async () => {
    running = false;
    client.close();
    await loop;
  });

  await waitFor(() => board.has('AAPL') && board.has('MSFT'), { what: 'quotes on the board' });
  expect(board.has('NVDA')).toBe(false);
  armed = true;
  const added = await client.invoke('watchlists:add-symbols', { id: 'default', symbols: ['NVDA'] });
  expect(added.ok).toBe(true);
  await waitFor(() => board.has('NVDA'), { timeoutMs: 10_000, what: 'NVDA on the board' });
  const victim = lost!;
  expect(victim.full).toBe(false);

  // The frame after the lost one shows the gap and asks; the one after it is full and heals.
  const at = folded.findIndex((f) => f.seq === victim.seq + 1);
  expect(at).toBeGreaterThan(0);
  expect(folded[at - 1]!.seq).toBe(victim.seq - 1);
  expect(folded[at]).toMatchObject({ full: false, resync: true, nvda: false });
  expect(folded[at + 1]).toMatchObject({ seq: victim.seq + 2, full: true, nvda: true });

  // Incremental again afterwards, with no further request and no row left unknown.
  const healedAt = folded.length;
  const unknownAfterHeal = board.stats.unknownRows;
  await waitFor(() => folded.length >= healedAt + 5, { what: 'frames after the heal' });
  for (const f of folded.slice(at + 2)) expect(f).toMatchObject({ full: false, resync: false });
  expect(board.stats).toMatchObject({ gaps: 1, resyncs: 1, unknownRows: unknownAfterHeal });
  expect(board.get('NVDA')!.bid).toBeGreaterThan(0);
});
