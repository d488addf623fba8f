/**
 * The symbol detail pane against the store and a fake transport: it follows the selection and
 * tells main what it watches, the quote reads the tape and the board, Times & Sales draws the
 * trades newest first with up/down marks, a size filter and a bound, and the pane closes.
 *
 * The chart is mocked out: happy-dom has no canvas for lightweight-charts to draw on. The chart
 * runs for real in the browser e2e (test/e2e/detail.spec.ts), which checks its pixels.
 */
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { TapeTrade, TapeUpdate } from '../../shared/api.ts';
import { ok } from '../../shared/api.ts';
import {
  DETAIL_RUN_GAP_MS,
  DETAIL_RUN_REST_MAX_MS,
  DETAIL_SETTLE_MS,
  DetailPane,
  detailRest,
} from '../../renderer/panels/detail.tsx';
import { TAPE_SHOWN_FIRST, TimesSales } from '../../renderer/panels/times-sales.tsx';
import { useMonitor } from '../../renderer/store.ts';
import { TAPE_REDRAW_MS } from '../../renderer/tape-pace.ts';
import { FakeApi, T0, makeFrame, snapshot } from './fake-api.ts';

vi.mock('../../renderer/panels/detail-chart.tsx', () => ({
  DetailChart: ({ symbol }: { symbol: string }) => <div data-testid="chart">chart of {symbol}</div>,
}));

const never = () => new Promise<void>(() => undefined);

function trade(price: number, size = 100, at = T0): TapeTrade {
  return { time: at, price, size, exchange: 'V', conditions: ['@'] };
}

function update(symbol: string, trades: TapeTrade[], over: Partial<TapeUpdate> = {}): TapeUpdate {
  return { symbol, trades, reset: false, quote: undefined, day: undefined, ...over };
}

function answer(symbol: string): TapeUpdate {
  return update(symbol, [trade(100)], {
    reset: true,
    quote: {
      bidPrice: 99.5,
      bidSize: 3,
      bidExchange: 'Q',
      askPrice: 100.5,
      askSize: 4,
      askExchange: 'V',
      time: T0,
    },
    day: { open: 98, high: 101, low: 97, volume: 12_345, vwap: 99.25, prevClose: 95 },
  });
}

function mount(selected: string | null) {
  const api = new FakeApi(snapshot());
  api.handle('tape:watch', ({ symbol }) => ok(symbol === null ? null : answer(symbol)));
  api.handle('symbols:info', ({ symbols }) =>
    ok(symbols.map((s) => ({ symbol: s, name: `${s} Inc.`, exchange: 'NASDAQ', tradable: true }))),
  );
  useMonitor.getState().attach(api, { afterPaint: never });
  useMonitor.setState({ selectedSymbol: selected ?? undefined });
  const view = render(<DetailPane />);
  return { api, view };
}

/**
 * `mount`, the quote in, then fake timers with the selection at rest: the fake clock starts from
 * the real one, and the mount was the selection's last change, so the pane rests
 * DETAIL_RUN_GAP_MS first and the next press is a move on its own however long the mount took on
 * a loaded machine (past 67 ms it would count as a run). The caller restores real timers.
 */
async function mountAtRest(selected: string) {
  const mounted = mount(selected);
  await waitFor(() => expect(quoteValue('Bid')).toMatch(/99\.50/));
  vi.useFakeTimers();
  await act(() => vi.advanceTimersByTimeAsync(DETAIL_RUN_GAP_MS));
  return mounted;
}

function pane(): HTMLElement {
  return screen.getByRole('region', { name: /^Detail: / });
}

function tapeTable(): HTMLElement {
  return screen.getByRole('table', { name: /Times & Sales of/ });
}

function bodyRows(): HTMLElement[] {
  return within(tapeTable()).getAllByRole('row').slice(1);
}

/** The value next to a term in the quote. */
function quoteValue(term: string): string {
  const dt = within(pane()).getByText(term, { selector: 'dt' });
  return dt.nextElementSibling?.textContent ?? '';
}

describe('DetailPane', () => {
  it('shows nothing without a selection', () => {
    mount(null);
    expect(screen.queryByRole('region', { name: /^Detail: / })).toBeNull();
  });

  it('opens for the selected symbol, watches it, and shows name, quote and day', async () => {
    const { api } = mount('AAPL');
    expect(within(pane()).getByRole('heading', { name: 'Detail: AAPL' })).toBeTruthy();
    expect(screen.getByTestId('chart').textContent).toBe('chart of AAPL');
    await waitFor(() => expect(quoteValue('Bid')).toMatch(/99\.50\s*×\s*3\s*Q/));
    expect(api.calls.filter((c) => c.command === 'tape:watch').map((c) => c.input)).toEqual([
      { symbol: 'AAPL' },
    ]);
    expect(quoteValue('Ask')).toMatch(/100\.50\s*×\s*4\s*V/);
    const quote = within(pane()).getByText('Ask', { selector: 'dt' }).parentElement!;
    expect(within(quote).getByTitle('IEX').textContent).toBe('V');
    expect(quoteValue('Open')).toBe('98.00');
    expect(quoteValue('High')).toBe('101.00');
    expect(quoteValue('Low')).toBe('97.00');
    expect(quoteValue('Prev close')).toBe('95.00');
    expect(quoteValue('VWAP')).toBe('99.25');
    expect(quoteValue('Volume')).toBe('12.3K');
    // Last from the tape until the board has one; change against the previous close.
    expect(quoteValue('Last')).toMatch(/^100\.00/);
    expect(quoteValue('Change')).toBe('+5.00 (+5.26%)');
    await within(pane()).findByText('AAPL Inc.');
    expect(within(pane()).getByText('tradable')).toBeTruthy();
  });

  it('takes the last trade and volume from the board when frames bring them', async () => {
    mount('AAPL');
    await waitFor(() => expect(quoteValue('Prev close')).toBe('95.00'));
    act(() => {
      useMonitor
        .getState()
        .applyFrame(
          makeFrame(1, [
            { symbol: 'AAPL', last: 104.5, lastSize: 7, volume: 20_000, tradeTime: T0 },
          ]),
          T0,
        );
    });
    expect(quoteValue('Last')).toMatch(/^104\.50\s*×\s*7/);
    expect(quoteValue('Change')).toBe('+9.50 (+10.00%)');
    expect(quoteValue('Volume')).toBe('20.0K');
  });

  it('says VWAP is not available when the feed gave none', async () => {
    const { api } = mount('AAPL');
    await waitFor(() => expect(quoteValue('VWAP')).toBe('99.25'));
    act(() => {
      api.emit(
        'tape:trades',
        update('AAPL', [], {
          day: { open: 98, high: 101, low: 97, volume: 1, vwap: null, prevClose: 95 },
        }),
      );
    });
    await waitFor(() => expect(quoteValue('VWAP')).toBe('not available'));
  });

  it('follows the selection and stops watching when closed', async () => {
    const { api } = mount('AAPL');
    await waitFor(() => expect(quoteValue('Bid')).toMatch(/99\.50/));
    act(() => useMonitor.getState().selectSymbol('MSFT'));
    // The pane follows once the selection has rested.
    expect(within(pane()).getByRole('heading', { name: 'Detail: AAPL' })).toBeTruthy();
    expect(await within(pane()).findByRole('heading', { name: 'Detail: MSFT' })).toBeTruthy();
    await waitFor(() =>
      expect(api.calls.filter((c) => c.command === 'tape:watch').map((c) => c.input)).toEqual([
        { symbol: 'AAPL' },
        { symbol: 'MSFT' },
      ]),
    );
    fireEvent.click(within(pane()).getByRole('button', { name: 'Close the detail of MSFT' }));
    expect(screen.queryByRole('region', { name: /^Detail: / })).toBeNull();
    await waitFor(() =>
      expect(api.calls.filter((c) => c.command === 'tape:watch').at(-1)?.input).toEqual({
        symbol: null,
      }),
    );
    // Another row opens it again.
    act(() => useMonitor.getState().selectSymbol('AAPL'));
    expect(await screen.findByRole('heading', { name: 'Detail: AAPL' })).toBeTruthy();
  });

  it('skips the rows a quickly moving selection passes: their tapes are never asked for', async () => {
    const { api } = mount('AAPL');
    await waitFor(() => expect(quoteValue('Bid')).toMatch(/99\.50/));
    vi.useFakeTimers();
    try {
      // Three rows, 60 ms apart (a quickly pressed or held-down ArrowDown).
      for (const symbol of ['MSFT', 'NVDA', 'TSLA']) {
        act(() => useMonitor.getState().selectSymbol(symbol));
        await act(() => vi.advanceTimersByTimeAsync(60));
      }
      expect(within(pane()).getByRole('heading', { name: 'Detail: AAPL' })).toBeTruthy();
      // At rest DETAIL_SETTLE_MS: the pane follows.
      await act(() => vi.advanceTimersByTimeAsync(DETAIL_SETTLE_MS));
    } finally {
      vi.useRealTimers();
    }
    expect(await within(pane()).findByRole('heading', { name: 'Detail: TSLA' })).toBeTruthy();
    await waitFor(() =>
      expect(api.calls.filter((c) => c.command === 'tape:watch').map((c) => c.input)).toEqual([
        { symbol: 'AAPL' },
        { symbol: 'TSLA' },
      ]),
    );
  });

  it('waits for a pause in a steady run of presses, and loads only where the run stops', async () => {
    const { api } = await mountAtRest('AAPL');
    try {
      // Six presses a second. The first comes after a rest: a move on its own, followed after
      // DETAIL_SETTLE_MS. Each of the others comes 150 ms after the one before, so the pane
      // waits out the run's rhythm instead.
      act(() => useMonitor.getState().selectSymbol('MSFT'));
      await act(() => vi.advanceTimersByTimeAsync(150));
      expect(within(pane()).getByRole('heading', { name: 'Detail: MSFT' })).toBeTruthy();
      for (const symbol of ['NVDA', 'TSLA', 'AMZN']) {
        act(() => useMonitor.getState().selectSymbol(symbol));
        await act(() => vi.advanceTimersByTimeAsync(150));
        expect(within(pane()).getByRole('heading', { name: 'Detail: MSFT' })).toBeTruthy();
      }
      // 210 ms after the last press: still waiting (the run's rest is 225 ms).
      await act(() => vi.advanceTimersByTimeAsync(60));
      expect(within(pane()).getByRole('heading', { name: 'Detail: MSFT' })).toBeTruthy();
      await act(() => vi.advanceTimersByTimeAsync(20));
    } finally {
      vi.useRealTimers();
    }
    expect(await within(pane()).findByRole('heading', { name: 'Detail: AMZN' })).toBeTruthy();
    await waitFor(() =>
      expect(api.calls.filter((c) => c.command === 'tape:watch').map((c) => c.input)).toEqual([
        { symbol: 'AAPL' },
        { symbol: 'MSFT' },
        { symbol: 'AMZN' },
      ]),
    );
  });

  it('follows a press back to an overshot row at once after a held-down key', async () => {
    const { api } = await mountAtRest('AAPL');
    try {
      // Held down: auto-repeat every 33 ms, let go on TSLA (one row too far).
      for (const symbol of ['MSFT', 'NVDA', 'TSLA']) {
        act(() => useMonitor.getState().selectSymbol(symbol));
        await act(() => vi.advanceTimersByTimeAsync(33));
      }
      // TSLA is followed DETAIL_SETTLE_MS after the last repeat (the rhythm was the repeat's).
      // One press back, 180 ms after it: NVDA is followed DETAIL_SETTLE_MS later, not 270 ms.
      await act(() => vi.advanceTimersByTimeAsync(180 - 33));
      act(() => useMonitor.getState().selectSymbol('NVDA'));
      await act(() => vi.advanceTimersByTimeAsync(DETAIL_SETTLE_MS));
      expect(within(pane()).getByRole('heading', { name: 'Detail: NVDA' })).toBeTruthy();
    } finally {
      vi.useRealTimers();
    }
    await waitFor(() =>
      expect(api.calls.filter((c) => c.command === 'tape:watch').at(-1)?.input).toEqual({
        symbol: 'NVDA',
      }),
    );
  });

  it('follows every move of presses slow enough to read the pane between them', async () => {
    const { api } = await mountAtRest('AAPL');
    try {
      for (const symbol of ['MSFT', 'NVDA']) {
        act(() => useMonitor.getState().selectSymbol(symbol));
        await act(() => vi.advanceTimersByTimeAsync(DETAIL_SETTLE_MS));
        expect(within(pane()).getByRole('heading', { name: `Detail: ${symbol}` })).toBeTruthy();
        // The rest of a 250 ms rhythm: four presses a second is not a run.
        await act(() => vi.advanceTimersByTimeAsync(250 - DETAIL_SETTLE_MS));
      }
    } finally {
      vi.useRealTimers();
    }
    await waitFor(() =>
      expect(api.calls.filter((c) => c.command === 'tape:watch').map((c) => c.input)).toEqual([
        { symbol: 'AAPL' },
        { symbol: 'MSFT' },
        { symbol: 'NVDA' },
      ]),
    );
  });

  it('Escape closes the pane', () => {
    mount('AAPL');
    fireEvent.keyDown(pane(), { key: 'Escape' });
    expect(screen.queryByRole('region', { name: /^Detail: / })).toBeNull();
  });
});

describe('TimesSales', () => {
  async function mountTape() {
    const api = new FakeApi(snapshot());
    api.handle('tape:watch', ({ symbol }) =>
      ok(symbol === null ? null : update(symbol, [], { reset: true })),
    );
    useMonitor.getState().attach(api, { afterPaint: never });
    await act(async () => {
      await useMonitor.getState().watchTape('AAPL');
    });
    tapeView = render(<TimesSales symbol="AAPL" />);
    return api;
  }
  let tapeView: ReturnType<typeof render> | undefined;

  it('is a table with a caption, empty at first', async () => {
    await mountTape();
    expect(tapeTable()).toBeTruthy();
    expect(within(tapeTable()).getByText(/no trades yet/)).toBeTruthy();
    // Not a live region: trades are not read out one by one.
    expect(tapeTable().closest('[aria-live]')).toBeNull();
  });

  it('draws trades newest first, coloured against the previous trade', async () => {
    const api = await mountTape();
    act(() => {
      api.emit('tape:trades', update('AAPL', [trade(10), trade(11, 200), trade(10.5, 300)]));
    });
    await waitFor(() => expect(bodyRows()).toHaveLength(3));
    const rows = bodyRows();
    expect(rows.map((r) => within(r).getAllByRole('cell')[1]?.textContent)).toEqual([
      '10.50 down',
      '11.00 up',
      '10.00',
    ]);
    expect(rows.map((r) => r.className)).toEqual(['tns-down', 'tns-up', 'tns-flat']);
    const cells = within(rows[0]!).getAllByRole('cell');
    expect(cells[2]?.textContent).toBe('300');
    expect(cells[3]?.textContent).toBe('V');
    expect(cells[3]?.getAttribute('title')).toBe('IEX');
    expect(cells[4]?.textContent).toBe('@');
    expect(within(tapeTable()).getByText(/the last 3 trades, newest first/)).toBeTruthy();
  });

  it('ignores a late batch of another symbol', async () => {
    const api = await mountTape();
    act(() => {
      api.emit('tape:trades', update('MSFT', [trade(400)]));
      api.emit('tape:trades', update('AAPL', [trade(10)]));
    });
    await waitFor(() => expect(bodyRows()).toHaveLength(1));
    expect(within(bodyRows()[0]!).getAllByRole('cell')[1]?.textContent).toBe('10.00');
  });

  it('filters by minimum size and says what it hides', async () => {
    const api = await mountTape();
    act(() => {
      api.emit('tape:trades', update('AAPL', [trade(10, 50), trade(10.1, 600), trade(10.2, 99)]));
    });
    await waitFor(() => expect(bodyRows()).toHaveLength(3));
    fireEvent.change(screen.getByLabelText('Min size'), { target: { value: '500' } });
    expect(bodyRows()).toHaveLength(1);
    expect(
      within(tapeTable()).getByText(/1 of the last 3 trades, 500 shares or more/),
    ).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Min size'), { target: { value: '1000' } });
    expect(bodyRows()).toHaveLength(0);
    expect(within(tapeTable()).getByText(/none of the last 3 trades/)).toBeTruthy();
  });

  it('keeps at most 200 rows, the newest', async () => {
    const api = await mountTape();
    act(() => {
      const many = Array.from({ length: 260 }, (_, i) => trade(100 + i / 100, 1, T0 + i));
      api.emit('tape:trades', update('AAPL', many.slice(0, 130)));
      api.emit('tape:trades', update('AAPL', many.slice(130)));
    });
    // The newest 50 are drawn; the rest when asked for.
    await waitFor(() => expect(bodyRows()).toHaveLength(TAPE_SHOWN_FIRST));
    expect(
      within(tapeTable()).getByText(/the last 200 trades, newest first; the newest 50 shown/),
    ).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Show 150 older trades' }));
    expect(bodyRows()).toHaveLength(200);
    expect(screen.queryByRole('button', { name: /older trade/ })).toBeNull();
    expect(within(bodyRows()[0]!).getAllByRole('cell')[1]?.textContent).toMatch(/^102\.59/);
    expect(within(bodyRows()[199]!).getAllByRole('cell')[1]?.textContent).toMatch(/^100\.60/);
  });

  it('draws the older trades when the list is scrolled to its end, per symbol', async () => {
    const api = await mountTape();
    act(() => {
      const many = Array.from({ length: 80 }, (_, i) => trade(100 + i / 100, 1, T0 + i));
      api.emit('tape:trades', update('AAPL', many));
    });
    await waitFor(() => expect(bodyRows()).toHaveLength(TAPE_SHOWN_FIRST));
    const view = screen.getByLabelText(/Times and sales of AAPL/);
    const size = (scrollHeight: number, clientHeight: number, scrollTop: number) => {
      Object.defineProperty(view, 'scrollHeight', { value: scrollHeight, configurable: true });
      Object.defineProperty(view, 'clientHeight', { value: clientHeight, configurable: true });
      view.scrollTop = scrollTop;
    };
    // Far from the end: nothing more.
    size(1_000, 400, 100);
    fireEvent.scroll(view);
    expect(bodyRows()).toHaveLength(TAPE_SHOWN_FIRST);
    // Near it: the rest.
    size(1_000, 400, 560);
    fireEvent.scroll(view);
    expect(bodyRows()).toHaveLength(80);

    // Another symbol starts with its newest trades again.
    api.handle('tape:watch', ({ symbol }) =>
      ok(symbol === null ? null : update(symbol, [], { reset: true })),
    );
    await act(async () => {
      await useMonitor.getState().watchTape('MSFT');
    });
    tapeView?.rerender(<TimesSales symbol="MSFT" />);
    act(() => {
      const many = Array.from({ length: 80 }, (_, i) => trade(400 + i / 100, 1, T0 + i));
      api.emit('tape:trades', update('MSFT', many));
    });
    await waitFor(() => expect(bodyRows()).toHaveLength(TAPE_SHOWN_FIRST));
    expect(screen.getByRole('button', { name: 'Show 30 older trades' })).toBeTruthy();
    // Its view starts at the top: the scroll position kept from AAPL's end would expand it.
    expect(view.scrollTop).toBe(0);
    fireEvent.scroll(view);
    expect(bodyRows()).toHaveLength(TAPE_SHOWN_FIRST);

    // And back to AAPL, shown in full before: its newest trades again (review).
    await act(async () => {
      await useMonitor.getState().watchTape('AAPL');
    });
    tapeView?.rerender(<TimesSales symbol="AAPL" />);
    act(() => {
      const many = Array.from({ length: 80 }, (_, i) => trade(100 + i / 100, 1, T0 + i));
      api.emit('tape:trades', update('AAPL', many));
    });
    await waitFor(() => expect(bodyRows()).toHaveLength(TAPE_SHOWN_FIRST));
  });

  it('keeps the keyboard in the tape when "Show N older trades" is pressed (review)', async () => {
    const api = await mountTape();
    act(() => {
      const many = Array.from({ length: 80 }, (_, i) => trade(100 + i / 100, 1, T0 + i));
      api.emit('tape:trades', update('AAPL', many));
    });
    await waitFor(() => expect(bodyRows()).toHaveLength(TAPE_SHOWN_FIRST));
    const more = screen.getByRole('button', { name: 'Show 30 older trades' });
    more.focus();
    fireEvent.click(more);
    expect(bodyRows()).toHaveLength(80);
    // The button went with the rows it brought; the focus did not fall to the page.
    expect(document.activeElement).toBe(screen.getByLabelText(/Times and sales of AAPL/));
  });

  it('redraws on the tape clock: a batch after a quiet spell at once, then every TAPE_REDRAW_MS', async () => {
    const api = await mountTape();
    // An hour on: the clock keeps the time of its last redraw, which earlier tests' fake timers
    // may have put ahead of the real one.
    vi.useFakeTimers({ now: Date.now() + 3_600_000 });
    try {
      // A quiet spell: the next batch is drawn in the next task.
      await act(() => vi.advanceTimersByTimeAsync(TAPE_REDRAW_MS));
      act(() => api.emit('tape:trades', update('AAPL', [trade(10)])));
      expect(bodyRows()).toHaveLength(0);
      await act(() => vi.advanceTimersByTimeAsync(0));
      expect(bodyRows()).toHaveLength(1);
      // Ten batches right after it: one redraw, TAPE_REDRAW_MS after the last one.
      act(() => {
        for (let i = 0; i < 10; i++) api.emit('tape:trades', update('AAPL', [trade(11 + i)]));
      });
      await act(() => vi.advanceTimersByTimeAsync(TAPE_REDRAW_MS - 1));
      expect(bodyRows()).toHaveLength(1);
      await act(() => vi.advanceTimersByTimeAsync(1));
      expect(bodyRows()).toHaveLength(11);
    } finally {
      vi.useRealTimers();
    }
  });

  it("draws a new symbol's first answer at once, however lately the last one's tape moved (review)", async () => {
    const api = await mountTape();
    api.handle('tape:watch', ({ symbol }) =>
      ok(symbol === null ? null : update(symbol, [trade(400)], { reset: true })),
    );
    vi.useFakeTimers({ now: Date.now() + 3_600_000 });
    try {
      // AAPL's tape is live: a batch, drawn.
      await act(() => vi.advanceTimersByTimeAsync(TAPE_REDRAW_MS));
      act(() => api.emit('tape:trades', update('AAPL', [trade(100)])));
      await act(() => vi.advanceTimersByTimeAsync(0));
      expect(bodyRows()).toHaveLength(1);
      // 50 ms on, the pane shows MSFT, then tells main (the pane's effect): main answers at once
      // with MSFT's recent trades. They are not an AAPL batch to pace behind the last one.
      await act(() => vi.advanceTimersByTimeAsync(50));
      tapeView?.rerender(<TimesSales symbol="MSFT" />);
      await act(async () => {
        await useMonitor.getState().watchTape('MSFT');
      });
      await act(() => vi.advanceTimersByTimeAsync(0));
      expect(bodyRows()).toHaveLength(1);
      expect(within(bodyRows()[0]!).getAllByRole('cell')[1]?.textContent).toMatch(/^400\.00/);
      // Then MSFT's batches are paced again.
      act(() => api.emit('tape:trades', update('MSFT', [trade(401)])));
      await act(() => vi.advanceTimersByTimeAsync(0));
      expect(bodyRows()).toHaveLength(1);
      await act(() => vi.advanceTimersByTimeAsync(TAPE_REDRAW_MS));
      expect(bodyRows()).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('detailRest', () => {
  it("is DETAIL_SETTLE_MS for a move on its own, and half as long again as a run's rhythm", () => {
    expect(detailRest(Infinity)).toBe(DETAIL_SETTLE_MS);
    expect(detailRest(Number.NaN)).toBe(DETAIL_SETTLE_MS);
    expect(detailRest(200)).toBe(DETAIL_SETTLE_MS);
    expect(detailRest(1_000)).toBe(DETAIL_SETTLE_MS);
    // The wall clock set back between two moves (useSettled measures with Date.now): a lone move.
    expect(detailRest(-3_600_000)).toBe(DETAIL_SETTLE_MS);
    // A held-down key's auto-repeat (~33 ms): never less than a lone move's rest.
    expect(detailRest(33)).toBe(DETAIL_SETTLE_MS);
    expect(detailRest(150)).toBe(225);
    expect(detailRest(199)).toBeLessThanOrEqual(DETAIL_RUN_REST_MAX_MS);
    expect(detailRest(199)).toBeGreaterThan(199);
  });

  it('takes the shorter of the last two gaps as the rhythm of a run', () => {
    // The second press of a run: the gap before it was a rest.
    expect(detailRest(150, Infinity)).toBe(225);
    expect(detailRest(150, 5_000)).toBe(225);
    // A key held down (33 ms apart), let go, and one press back 180 ms later: not a run of 180.
    expect(detailRest(180, 33)).toBe(DETAIL_SETTLE_MS);
    // A lone move after a run is still a lone move, whatever the run's rhythm was.
    expect(detailRest(5_000, 150)).toBe(DETAIL_SETTLE_MS);
    // A clock set back before the previous move: the last gap alone.
    expect(detailRest(150, -60_000)).toBe(225);
  });
});
