/**
 * 'frames:focus' on the real core and its embedded simulator: a view that names the symbols on
 * screen gets their rows in every frame it pulls and the others at a slower pace, while a view
 * that names none keeps getting every changed row, and nothing is lost to either.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WELL_KNOWN_SYMBOLS } from '../../../electron/simulator/market-walk.ts';
import { FOCUS_BACKGROUND_MS } from '../../../electron/stream/book-cursor.ts';
import { MAX_FOCUS_SYMBOLS } from '../../../shared/api.ts';
import { waitFor } from '../../support/wait.ts';
import { Recorder, call, nextFrame, runCleanups, setup, value } from './harness.ts';

afterEach(runCleanups);

const SYMBOLS = WELL_KNOWN_SYMBOLS.slice(0, 40);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a view's focus", () => {
  it('brings the focus rows in every frame and every other row soon after', async () => {
    const {
      core,
      view: focused,
      sink,
    } = await setup({
      watchlists: [{ id: 'default', name: 'Main', symbols: [...SYMBOLS] }],
      core: { simulator: { rate: 4_000, symbols: 40, barIntervalMs: 300 } },
    });
    await waitFor(() => sink.last('connection:state')?.state === 'live', { what: 'live' });
    const plain = core.openView(new Recorder());
    // The harness reads each view's frames through a symbol table of its own.
    const pull = (which: 'focused' | 'plain') => nextFrame(which === 'focused' ? focused : plain);
    expect(await value(focused, 'frames:focus', { symbols: ['aapl', 'MSFT'] })).toBe(2);
    // The first frames are full: past them.
    await pull('focused');
    await pull('plain');

    const rows = { focused: 0, plain: 0 };
    const frames = { focused: 0, plain: 0 };
    const lastSeen = new Map<string, number>();
    let aaplFrames = 0;
    let aaplDue = 0;
    const started = Date.now();
    while (Date.now() - started < 1_500) {
      await sleep(16);
      const [f, p] = await Promise.all([pull('focused'), pull('plain')]);
      frames.focused++;
      frames.plain++;
      rows.focused += f.symbols.length;
      rows.plain += p.symbols.length;
      for (const s of f.symbols) lastSeen.set(s, Date.now());
      // AAPL changed since the plain view's previous frame: the focused view has it too.
      if (p.symbols.includes('AAPL')) {
        aaplDue++;
        if (f.symbols.includes('AAPL')) aaplFrames++;
      }
    }
    expect(frames.focused).toBeGreaterThan(20);
    // The focused view's frames are smaller: 2 rows plus a share of the rest.
    expect(rows.focused / frames.focused).toBeLessThan((rows.plain / frames.plain) * 0.8);
    expect(aaplDue).toBeGreaterThan(10);
    // (Both takes run in the same tick, so they saw the same updates.)
    expect(aaplFrames).toBeGreaterThanOrEqual(aaplDue * 0.9);
    // Every symbol still arrives, within a few sweeps of the end.
    for (const s of SYMBOLS) {
      expect(lastSeen.has(s), s).toBe(true);
      expect(Date.now() - lastSeen.get(s)!, s).toBeLessThan(4 * FOCUS_BACKGROUND_MS + 500);
    }

    // null: every changed row again, as many as the plain view gets.
    expect(await value(focused, 'frames:focus', { symbols: null })).toBeNull();
    await Promise.all([pull('focused'), pull('plain')]);
    const after = { focused: 0, plain: 0 };
    for (let i = 0; i < 10; i++) {
      await sleep(16);
      const [f, p] = await Promise.all([pull('focused'), pull('plain')]);
      after.focused += f.symbols.length;
      after.plain += p.symbols.length;
    }
    expect(after.plain).toBeGreaterThan(50);
    expect(after.focused).toBeGreaterThan(after.plain * 0.8);
    plain.close();
  });

  it('refuses what is not a symbol list, with the reason', async () => {
    const { view } = await setup();
    const bad = await call(view, 'frames:focus', { symbols: ['AAPL', 'no spaces'] });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toMatch(/not a symbol/);
    const many = Array.from({ length: MAX_FOCUS_SYMBOLS + 1 }, (_, i) => `S${i}`);
    expect((await call(view, 'frames:focus', { symbols: many })).ok).toBe(false);
    expect((await call(view, 'frames:focus', {} as never)).ok).toBe(false);
  });
});
