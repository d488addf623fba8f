/**
 * The quote board's half of self-healing frames: a fold that shows a lost frame says `resync` once
 * until a full frame comes, the full frame heals the symbols it could not name, and a failed
 * request may be repeated only after RESYNC_RETRY_MS.
 */
import { describe, expect, it } from 'vitest';
import { QuoteBoard, RESYNC_RETRY_MS } from '../../renderer/model/board.ts';
import type { QuoteFrame } from '../../shared/frame.ts';
import { T0 } from './fake-api.ts';
import { ViewFrames } from './view-frames.ts';

function bids(board: QuoteBoard): [string, number][] {
  return [...board.rows()].map((r) => [r.symbol, r.bid]);
}

describe('a board that lost a frame', () => {
  it('asks once on the gap, not per frame, and the full frame heals the unknown symbols', () => {
    const main = new ViewFrames();
    const board = new QuoteBoard();
    expect(board.apply(main.take([['A', 1]]), T0).resync).toBe(false);
    main.take([['B', 2]]); // names B (id 1) and is lost
    // The gap is seen, and B's row cannot be named.
    const gapped = board.apply(main.take([['B', 3]]), T0);
    expect(gapped.resync).toBe(true);
    expect(board.stats).toMatchObject({ gaps: 1, unknownRows: 1, resyncs: 1 });
    // Frames already on their way before main got the request: still unknown, no second ask.
    for (let i = 0; i < 5; i++) {
      const fold = board.apply(
        main.take([
          ['A', 10 + i],
          ['B', 20 + i],
        ]),
        T0,
      );
      expect(fold.resync).toBe(false);
      expect(fold.changed).toBe(1);
    }
    expect(board.stats).toMatchObject({ gaps: 1, unknownRows: 6, resyncs: 1 });
    expect(board.has('B')).toBe(false);

    main.resync();
    const full = main.take();
    expect(full.full).toBe(true);
    expect(board.apply(full, T0).resync).toBe(false);
    expect(bids(board)).toEqual([
      ['A', 14],
      ['B', 24],
    ]);
    // Incremental again, and new symbols are named as usual.
    expect(
      board.apply(
        main.take([
          ['B', 30],
          ['C', 31],
        ]),
        T0,
      ).resync,
    ).toBe(false);
    expect(bids(board)).toEqual([
      ['A', 14],
      ['B', 30],
      ['C', 31],
    ]);
    // The counters keep what happened: one gap, six skipped rows, one repair.
    expect(board.stats).toMatchObject({ gaps: 1, unknownRows: 6, resyncs: 1 });

    // A later loss is a new one: it asks again.
    main.take([['D', 1]]);
    expect(board.apply(main.take([['D', 2]]), T0).resync).toBe(true);
    expect(board.stats.resyncs).toBe(2);
  });

  it('asks on a row of an id it was never told, even without a sequence gap', () => {
    const main = new ViewFrames();
    const board = new QuoteBoard();
    board.apply(main.take([['A', 1]]), T0);
    const frame = main.take([['B', 2]]);
    // The same frame with its new symbol lost on the way (a transport bug), seq intact.
    const fold = board.apply({ ...frame, newSymbols: [] }, T0);
    expect(fold.resync).toBe(true);
    expect(board.stats).toMatchObject({ gaps: 0, unknownRows: 1, resyncs: 1 });
  });

  it('asks on a symbolBase past its table even when the frame has no row of the lost ids', () => {
    const main = new ViewFrames();
    const board = new QuoteBoard();
    board.apply(main.take([['A', 1]]), T0);
    const frame = main.take([['B', 2]]);
    // The frame naming B arrives with seq intact but after one naming an id that never came.
    const fold = board.apply({ ...frame, symbolBase: 2, rows: new Int32Array(0) }, T0);
    expect(fold.resync).toBe(true);
    expect(board.stats).toMatchObject({ gaps: 0, unknownRows: 0, resyncs: 1 });
  });

  it('asks nothing for rows of a symbol the transport could not carry', () => {
    const main = new ViewFrames();
    const board = new QuoteBoard();
    board.apply(main.take([['A', 1]]), T0);
    // The host sent B as '' (frame-codec.ts): a full frame would name it '' again.
    const frame = main.take([['B', 2]]);
    const blank = (f: QuoteFrame): QuoteFrame => ({
      ...f,
      newSymbols: f.newSymbols.map((s) => (s === 'B' ? '' : s)),
    });
    expect(board.apply(blank(frame), T0).resync).toBe(false);
    expect(board.apply(main.take([['B', 3]]), T0).resync).toBe(false);
    expect(board.stats).toMatchObject({ gaps: 0, unknownRows: 2, resyncs: 0 });
  });

  it('asks again while no full frame came, at most every RESYNC_RETRY_MS: it may be lost too', () => {
    const main = new ViewFrames();
    const board = new QuoteBoard();
    board.apply(main.take([['A', 1]]), T0);
    main.take([['B', 2]]); // lost
    expect(board.apply(main.take([['A', 2]]), T0).resync).toBe(true);
    main.resync();
    main.take(); // the full frame, lost too
    // Another gap, but the ask is 16 ms old: a lossy link gets one full frame a second at most.
    expect(board.apply(main.take([['B', 3]]), T0 + 16).resync).toBe(false);
    // No further sign of the loss, yet the board is still broken: asked again once it is time.
    expect(board.apply(main.take([['A', 3]]), T0 + RESYNC_RETRY_MS - 1).resync).toBe(false);
    expect(board.apply(main.take([['A', 4]]), T0 + RESYNC_RETRY_MS).resync).toBe(true);
    expect(board.stats).toMatchObject({ gaps: 2, resyncs: 2 });
    main.resync();
    board.apply(main.take(), T0 + RESYNC_RETRY_MS + 16);
    // Healed: nothing more is asked.
    expect(board.apply(main.take([['A', 5]]), T0 + 5 * RESYNC_RETRY_MS).resync).toBe(false);
    expect(bids(board)).toEqual([
      ['A', 5],
      ['B', 3],
    ]);
  });

  it('after a failed request asks again when only a gap showed the loss (review)', () => {
    const main = new ViewFrames();
    const board = new QuoteBoard();
    board.apply(
      main.take([
        ['A', 1],
        ['B', 2],
      ]),
      T0,
    );
    main.take([['B', 5]]); // lost: B's 5 never reaches the board
    expect(board.apply(main.take([['A', 3]]), T0).resync).toBe(true);
    board.resyncFailed(T0);
    // Later frames bring only A: nothing unknown, no gap; the board is still missing B's 5.
    expect(board.apply(main.take([['A', 4]]), T0 + RESYNC_RETRY_MS - 1).resync).toBe(false);
    expect(board.apply(main.take([['A', 5]]), T0 + RESYNC_RETRY_MS).resync).toBe(true);
    main.resync();
    board.apply(main.take(), T0 + RESYNC_RETRY_MS + 16);
    expect(bids(board)).toEqual([
      ['A', 5],
      ['B', 5],
    ]);
  });

  it('after a failed request, asks again at the next loss sign, but not within RESYNC_RETRY_MS', () => {
    const main = new ViewFrames();
    const board = new QuoteBoard();
    board.apply(main.take([['A', 1]]), T0);
    main.take([['B', 2]]); // lost
    expect(board.apply(main.take([['B', 3]]), T0).resync).toBe(true);
    board.resyncFailed(T0 + 5);
    expect(board.apply(main.take([['B', 4]]), T0 + 5 + RESYNC_RETRY_MS - 1).resync).toBe(false);
    expect(board.apply(main.take([['B', 5]]), T0 + 5 + RESYNC_RETRY_MS).resync).toBe(true);
    expect(board.apply(main.take([['B', 6]]), T0 + 5 + RESYNC_RETRY_MS + 16).resync).toBe(false);
    expect(board.stats.resyncs).toBe(2);
  });
});
