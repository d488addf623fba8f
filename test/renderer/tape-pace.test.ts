/**
 * The tape's clock against the real store and fake timers: every view of the tape redraws in the
 * same task, at most once per TAPE_REDRAW_MS, and one view's fault does not stop the others.
 */
import { act, renderHook } from '@testing-library/react';
import { StrictMode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useMonitor } from '../../renderer/store.ts';
import { TAPE_REDRAW_MS, onTapeRedraw, useTapeFrame } from '../../renderer/tape-pace.ts';

const bump = () => useMonitor.setState((s) => ({ tapeVersion: s.tapeVersion + 1 }));
const offs: (() => void)[] = [];

// The clock keeps the time of its last redraw across tests: each test starts an hour later.
let hours = 0;
beforeEach(() => {
  vi.useFakeTimers({ now: Date.now() + ++hours * 3_600_000 });
});

afterEach(() => {
  for (const off of offs.splice(0)) off();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('onTapeRedraw', () => {
  it('calls every listener in one task, at most once per TAPE_REDRAW_MS', async () => {
    const calls: string[] = [];
    offs.push(onTapeRedraw(() => calls.push('rows')));
    offs.push(onTapeRedraw(() => calls.push('candle')));
    await vi.advanceTimersByTimeAsync(TAPE_REDRAW_MS);
    bump();
    bump();
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual(['rows', 'candle']);
    bump();
    await vi.advanceTimersByTimeAsync(TAPE_REDRAW_MS - 1);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual(['rows', 'candle', 'rows', 'candle']);
    // Nothing moved: nothing drawn.
    await vi.advanceTimersByTimeAsync(TAPE_REDRAW_MS * 4);
    expect(calls).toHaveLength(4);
  });

  it('keeps drawing the others when one listener throws, and stops with the last one gone', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const calls: string[] = [];
    const offBad = onTapeRedraw(() => {
      throw new Error('broken view');
    });
    const offGood = onTapeRedraw(() => calls.push('good'));
    await vi.advanceTimersByTimeAsync(TAPE_REDRAW_MS);
    bump();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual(['good']);
    expect(error).toHaveBeenCalledWith('tape redraw failed', expect.any(Error));
    // A move, then every view gone before the redraw: no timer is left to fire.
    bump();
    offBad();
    offGood();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(TAPE_REDRAW_MS);
    expect(calls).toEqual(['good']);
  });
});

describe('onTapeRedraw and the wall clock', () => {
  it('a clock set back after a redraw holds the next one no longer than TAPE_REDRAW_MS (review)', async () => {
    const calls: number[] = [];
    offs.push(onTapeRedraw(() => calls.push(Date.now())));
    await vi.advanceTimersByTimeAsync(TAPE_REDRAW_MS);
    bump();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    // The system clock goes back an hour (a manual change, an NTP step, a VM resumed): the time of
    // the last redraw is now an hour ahead of it.
    vi.setSystemTime(Date.now() - 3_600_000);
    bump();
    await vi.advanceTimersByTimeAsync(TAPE_REDRAW_MS);
    expect(calls).toHaveLength(2);
  });
});

describe('onTapeRedraw and a hidden window', () => {
  const setHidden = (hidden: boolean) => {
    Object.defineProperty(document, 'hidden', { value: hidden, configurable: true });
    Object.defineProperty(document, 'visibilityState', {
      value: hidden ? 'hidden' : 'visible',
      configurable: true,
    });
    document.dispatchEvent(new Event('visibilitychange'));
  };
  afterEach(() => {
    // Back to the document's own getters.
    Reflect.deleteProperty(document, 'hidden');
    Reflect.deleteProperty(document, 'visibilityState');
  });

  it('draws nothing while the window is hidden, and the latest tape once it is shown (review)', async () => {
    const calls: number[] = [];
    offs.push(onTapeRedraw(() => calls.push(useMonitor.getState().tapeVersion)));
    await vi.advanceTimersByTimeAsync(TAPE_REDRAW_MS);
    // Minimised: the tape keeps moving (main sends batches whatever the window), timers still run
    // (throttled to one a second in a hidden page), but nobody sees the rows.
    setHidden(true);
    for (let i = 0; i < 20; i++) {
      bump();
      await vi.advanceTimersByTimeAsync(150);
    }
    expect(calls).toEqual([]);
    // Shown again: the tape as it is now, at once.
    setHidden(false);
    expect(calls).toEqual([useMonitor.getState().tapeVersion]);
    // And paced as before.
    bump();
    await vi.advanceTimersByTimeAsync(TAPE_REDRAW_MS);
    expect(calls).toHaveLength(2);
  });
});

describe('useTapeFrame', () => {
  it('a view that comes as the last one goes, a redraw pending, starts on the latest tape (review)', async () => {
    const offOld = onTapeRedraw(() => undefined);
    await vi.advanceTimersByTimeAsync(TAPE_REDRAW_MS);
    bump();
    await vi.advanceTimersByTimeAsync(0);
    // A move right after a redraw: its redraw waits, then the only view goes (pane closed, or a
    // symbol change's unmount) and takes that redraw with it.
    bump();
    expect(vi.getTimerCount()).toBe(1);
    offOld();
    expect(vi.getTimerCount()).toBe(0);
    // The next view (StrictMode: mounted, unmounted, mounted again) shows that move all the same.
    const { result, unmount } = renderHook(() => useTapeFrame(), { wrapper: StrictMode });
    expect(result.current).toBe(useMonitor.getState().tapeVersion);
    act(() => bump());
    await act(() => vi.advanceTimersByTimeAsync(TAPE_REDRAW_MS));
    expect(result.current).toBe(useMonitor.getState().tapeVersion);
    unmount();
    bump();
    expect(vi.getTimerCount()).toBe(0);
  });
});
