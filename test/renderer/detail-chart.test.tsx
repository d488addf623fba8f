/**
 * The detail chart's work on the chart library when the symbol changes: nothing until the new
 * symbol's bars arrive (the previous candles are hidden, not cleared), then the bars and the
 * reference lines together, in one task, so that lightweight-charts redraws once per change of
 * symbol rather than once for a clear, once for the bars and once per line.
 *
 * lightweight-charts is replaced by a recording fake: happy-dom has no canvas. The real library
 * draws in the browser e2e (test/e2e/detail.spec.ts), which checks its pixels.
 */
import { act, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { ChartBar, Result, TapeUpdate, TradingStatusView } from '../../shared/api.ts';
import { ok } from '../../shared/api.ts';
import { DetailChart } from '../../renderer/panels/detail-chart.tsx';
import { useMonitor } from '../../renderer/store.ts';
import { TAPE_REDRAW_MS } from '../../renderer/tape-pace.ts';
import { FakeApi, T0, snapshot } from './fake-api.ts';

/** What the fake chart was asked to do, in order. */
const calls = vi.hoisted(() => [] as string[]);
/** The fake chart's series by kind, and its crosshair listeners, for a test to move it. */
const fake = vi.hoisted(() => ({
  series: new Map<string, object>(),
  crosshair: new Set<(param: unknown) => void>(),
}));

vi.mock('lightweight-charts', () => {
  const series = (kind: string) => {
    const made = {
      setData: (data: unknown[]) => calls.push(`${kind}.setData(${data.length})`),
      update: () => calls.push(`${kind}.update`),
      createPriceLine: (o: { price: number; title: string }) => {
        calls.push(`${kind}.line+ ${o.title} ${o.price}`);
        return { applyOptions: () => undefined, title: o.title };
      },
      removePriceLine: (line: { title: string }) => calls.push(`${kind}.line- ${line.title}`),
      applyOptions: () => undefined,
      priceScale: () => ({ applyOptions: () => undefined }),
    };
    fake.series.set(kind, made);
    return made;
  };
  return {
    CandlestickSeries: 'candles',
    HistogramSeries: 'volume',
    ColorType: { Solid: 'solid' },
    CrosshairMode: { Normal: 0 },
    LineStyle: { Dashed: 2, Dotted: 1 },
    createChart: () => ({
      addSeries: (kind: string) => series(kind),
      timeScale: () => ({ fitContent: () => calls.push('fitContent') }),
      applyOptions: () => undefined,
      subscribeCrosshairMove: (on: (param: unknown) => void) => fake.crosshair.add(on),
      unsubscribeCrosshairMove: (on: (param: unknown) => void) => fake.crosshair.delete(on),
      remove: () => undefined,
    }),
  };
});

function bars(count: number, close: number): ChartBar[] {
  return Array.from({ length: count }, (_, i) => ({
    time: T0 - (count - i) * 60_000,
    open: close,
    high: close + 1,
    low: close - 1,
    close,
    volume: 100,
  }));
}

/** The store's tape watching `symbol`, with a day that gives it a previous close. */
function watch(symbol: string, prevClose: number): void {
  const tape = useMonitor.getState().tape;
  tape.reset(symbol);
  const update: TapeUpdate = {
    symbol,
    trades: [],
    reset: true,
    quote: undefined,
    day: { open: 1, high: 2, low: 0.5, volume: 10, vwap: 1.5, prevClose },
  };
  tape.apply(update);
  act(() => useMonitor.setState((s) => ({ tapeVersion: s.tapeVersion + 1 })));
}

/** Bars answered only when the test says so, one request at a time. */
function mount(symbol: string) {
  let answer: ((out: Result<readonly ChartBar[]>) => void) | undefined;
  const api = new FakeApi(snapshot());
  api.handle(
    'market:bars',
    () =>
      new Promise<Result<readonly ChartBar[]>>((resolve) => {
        answer = resolve;
      }),
  );
  useMonitor.getState().attach(api, { afterPaint: () => new Promise<void>(() => undefined) });
  const view = render(<DetailChart symbol={symbol} />);
  /** Answers the request in flight and returns what the chart was asked to do in that task. */
  const respond = async (out: Result<readonly ChartBar[]>): Promise<string[]> => {
    const reply = answer;
    if (reply === undefined) throw new Error('no bars request in flight');
    answer = undefined;
    calls.length = 0;
    await act(async () => {
      reply(out);
      // The store's call and the chart's `then` are promise hops, not tasks.
      for (let i = 0; i < 5; i++) await Promise.resolve();
      expect(calls.length).toBeGreaterThan(0);
    });
    return [...calls];
  };
  return { view, respond, rerender: (s: string) => view.rerender(<DetailChart symbol={s} />) };
}

const box = (): HTMLElement => screen.getByRole('img', { name: /Candlestick chart of/ });

describe('DetailChart', () => {
  it('a new symbol: nothing drawn until its bars arrive, then bars and lines at once', async () => {
    watch('AAPL', 95);
    const chart = mount('AAPL');
    expect(box().dataset['state']).toBe('loading');
    const first = await chart.respond(ok(bars(30, 100)));
    expect(first).toEqual([
      'candles.setData(30)',
      'volume.setData(30)',
      'fitContent',
      'candles.line+ prev close 95',
    ]);
    expect(box().dataset['state']).toBe('ready');
    expect(box().dataset['bars']).toBe('30');

    // The selection moves on: the chart is hidden at once, in the render that names MSFT.
    calls.length = 0;
    chart.rerender('MSFT');
    expect(box().dataset['state']).toBe('loading');
    expect(box().getAttribute('aria-label')).toMatch(/^Candlestick chart of MSFT/);
    // MSFT's tape and status arrive before its bars: their lines wait for the bars.
    watch('MSFT', 310);
    const status: TradingStatusView = {
      symbol: 'MSFT',
      halted: false,
      statusCode: '',
      statusText: '',
      reasonCode: '',
      reasonText: '',
      since: T0,
      luld: { limitUp: 330, limitDown: 290, indicator: 'B', indicatorText: undefined, at: T0 },
    };
    act(() => useMonitor.setState({ tradingStatus: new Map([['MSFT', status]]) }));
    await act(async () => {
      for (let i = 0; i < 5; i++) await Promise.resolve();
    });
    expect(calls).toEqual([]);

    const second = await chart.respond(ok(bars(12, 300)));
    expect(second).toEqual([
      'candles.setData(12)',
      'volume.setData(12)',
      'fitContent',
      'candles.line- prev close',
      'candles.line+ prev close 310',
      'candles.line+ limit up 330',
      'candles.line+ limit down 290',
    ]);
    expect(box().dataset['state']).toBe('ready');
  });

  it('lines that change while the bars are in are drawn at once, and only when they change', async () => {
    watch('AAPL', 95);
    const chart = mount('AAPL');
    await chart.respond(ok(bars(5, 100)));
    calls.length = 0;
    watch('AAPL', 96);
    expect(calls).toEqual(['candles.line- prev close', 'candles.line+ prev close 96']);
    calls.length = 0;
    // The same close again (a new day object, the same price): nothing to redraw.
    watch('AAPL', 96);
    expect(calls).toEqual([]);
  });

  it('back to a symbol before its successor loaded: loading again, not its frozen chart', async () => {
    watch('AAPL', 95);
    const chart = mount('AAPL');
    await chart.respond(ok(bars(30, 100)));
    chart.rerender('MSFT');
    // MSFT's bars never come: AAPL is picked again. The series still hold AAPL's candles, but
    // its bars are asked for again, and until they come nothing folds into the last candle nor
    // moves a line: shown now, the chart would stand still under a status of "30 bars".
    chart.rerender('AAPL');
    expect(box().dataset['state']).toBe('loading');
    watch('AAPL', 97);
    const again = await chart.respond(ok(bars(31, 100)));
    expect(again).toEqual([
      'candles.setData(31)',
      'volume.setData(31)',
      'fitContent',
      'candles.line- prev close',
      'candles.line+ prev close 97',
    ]);
    expect(box().dataset['state']).toBe('ready');
    expect(box().dataset['bars']).toBe('31');
  });

  it('back to a symbol before its successor loaded: no commit shows its old state', async () => {
    /** Every value `data-state` takes from here on, in commit order (one frame each, painted). */
    const states = (): (() => string[]) => {
      const seen = new MutationObserver(() => undefined);
      seen.observe(box(), {
        attributes: true,
        attributeFilter: ['data-state'],
        attributeOldValue: true,
      });
      return () => {
        const records = seen.takeRecords();
        seen.disconnect();
        // A record holds the value before the change: the next record's, or the box's now, after.
        return [...records.slice(1).map((r) => r.oldValue ?? ''), box().dataset['state'] ?? ''];
      };
    };
    watch('AAPL', 95);
    const chart = mount('AAPL');
    await chart.respond(ok(bars(30, 100)));
    chart.rerender('MSFT');
    let taken = states();
    chart.rerender('AAPL');
    // Not "ready" for a frame before the bars effect marks it loading: that frame showed AAPL's
    // frozen candles under an empty status.
    expect(taken()).toEqual(['loading']);

    // The same with a load that failed: its message must not come back while it is retried.
    chart.rerender('ZZZZ');
    await chart.respond({
      ok: false,
      error: { code: 'unavailable', message: 'bars: HTTP 500 from the data API' },
    });
    chart.rerender('MSFT');
    taken = states();
    chart.rerender('ZZZZ');
    expect(taken()).toEqual(['loading']);
    expect(screen.getByRole('status').textContent).toBe('Loading…');
  });

  it('a crosshair move while the next symbol loads names no values of the previous one', async () => {
    watch('AAPL', 95);
    const chart = mount('AAPL');
    await chart.respond(ok(bars(5, 100)));
    const legend = (): string | null => document.querySelector('.chart-legend')!.textContent;
    /** The crosshair where it rests, over the candle the series hold there. */
    const move = (): void => {
      const seriesData = new Map([
        [fake.series.get('candles'), { time: 1, open: 123, high: 124, low: 122, close: 123 }],
        [fake.series.get('volume'), { time: 1, value: 77 }],
      ]);
      act(() => {
        for (const on of fake.crosshair) on({ time: 1, seriesData });
      });
    };
    move();
    expect(legend()).toMatch(/^AAPL · 1D\s+O 123/);
    chart.rerender('MSFT');
    expect(legend()).toBe('MSFT · 1D');
    // lightweight-charts moves the crosshair again, in place, on a resize (autoSize) or a scroll
    // of the time scale, reading the series as they are: AAPL's candles, hidden under MSFT's name.
    move();
    expect(legend()).toBe('MSFT · 1D');
    await chart.respond(ok(bars(3, 300)));
    move();
    expect(legend()).toMatch(/^MSFT · 1D\s+O 123/);
  });

  it('a failed load clears the previous candles and says why', async () => {
    watch('AAPL', 95);
    const chart = mount('AAPL');
    await chart.respond(ok(bars(5, 100)));
    chart.rerender('ZZZZ');
    const failed = await chart.respond({
      ok: false,
      error: { code: 'unavailable', message: 'bars: HTTP 500 from the data API' },
    });
    expect(failed).toEqual(['candles.setData(0)', 'volume.setData(0)']);
    expect(box().dataset['state']).toBe('failed');
    expect(screen.getByRole('status').textContent).toMatch(/HTTP 500/);
  });

  it("folds the tape's new trades into the live candle on the tape's clock, and lets go on unmount (review)", async () => {
    vi.useFakeTimers({ now: T0 + 10_000 });
    try {
      watch('AAPL', 95);
      const chart = mount('AAPL');
      await chart.respond(ok(bars(5, 100)));
      const trades = (...at: number[]) =>
        act(() => {
          useMonitor.getState().tape.apply({
            symbol: 'AAPL',
            trades: at.map((time) => ({
              time,
              price: 101,
              size: 10,
              exchange: 'V',
              conditions: [],
            })),
            reset: false,
            quote: undefined,
            day: undefined,
          });
          useMonitor.setState((s) => ({ tapeVersion: s.tapeVersion + 1 }));
        });
      calls.length = 0;
      // A trade from before the bars were asked for is in them already: nothing to fold.
      trades(T0 - 1_000);
      await act(() => vi.advanceTimersByTimeAsync(TAPE_REDRAW_MS));
      expect(calls).toEqual([]);
      // A new one after a quiet spell: folded in the tape's redraw, the next task, not before.
      trades(Date.now());
      expect(calls).toEqual([]);
      await act(() => vi.advanceTimersByTimeAsync(0));
      expect(calls).toEqual(['candles.update', 'volume.update']);
      // Two batches right after: one fold of both, TAPE_REDRAW_MS after the last.
      calls.length = 0;
      trades(Date.now());
      trades(Date.now() + 1);
      await act(() => vi.advanceTimersByTimeAsync(TAPE_REDRAW_MS - 1));
      expect(calls).toEqual([]);
      await act(() => vi.advanceTimersByTimeAsync(1));
      expect(calls).toEqual(['candles.update', 'volume.update']);
      // Gone: the tape's clock has nobody to call and sets no timer for a move.
      chart.view.unmount();
      calls.length = 0;
      trades(Date.now());
      expect(vi.getTimerCount()).toBe(0);
      await act(() => vi.advanceTimersByTimeAsync(TAPE_REDRAW_MS));
      expect(calls).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});
