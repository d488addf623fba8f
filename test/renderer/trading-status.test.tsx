/**
 * Trading halts in the page: the store's trading status slice (the whole set, then events, a
 * reset, an event that beats the answer), the row marks (halted with its reason and time, alert
 * fired with the rule) in the watchlist's symbol cell, the detail pane's halt state and LULD band,
 * the Alerts panel's halted / resumed conditions (no value field), and the simulator's halt
 * control in Diagnostics.
 */
import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ok,
  type AlertRuleView,
  type TradingStatusView,
  type TradingStatusUpdate,
} from '../../shared/api.ts';
import { formatClock } from '../../renderer/model/format.ts';
import { AlertsPanel } from '../../renderer/panels/alerts.tsx';
import { DetailPane } from '../../renderer/panels/detail.tsx';
import { TradingStatusBlock } from '../../renderer/panels/detail-status.tsx';
import { DiagnosticsPanel } from '../../renderer/panels/diagnostics.tsx';
import { RowMarks, haltLabel } from '../../renderer/panels/watchlist-marks.tsx';
import { WatchlistPanel } from '../../renderer/panels/watchlist.tsx';
import { useMonitor } from '../../renderer/store.ts';
import { applyTradingStatus } from '../../renderer/trading-status-slice.ts';
import { FakeApi, T0, snapshot } from './fake-api.ts';

vi.mock('../../renderer/panels/detail-chart.tsx', () => ({
  DetailChart: ({ symbol }: { symbol: string }) => <div data-testid="chart">chart of {symbol}</div>,
}));

const never = () => new Promise<void>(() => undefined);

function halt(symbol: string, over: Partial<TradingStatusView> = {}): TradingStatusView {
  return {
    symbol,
    halted: true,
    statusCode: 'H',
    statusText: 'Trading halt',
    reasonCode: 'LUDP',
    reasonText: 'Volatility trading pause',
    since: T0,
    luld: { limitUp: 105.5, limitDown: 95.25, indicator: 'A', indicatorText: 'price band', at: T0 },
    ...over,
  };
}

function update(over: Partial<TradingStatusUpdate>): TradingStatusUpdate {
  return { reset: false, statuses: [], cleared: [], ...over };
}

function firedRule(over: Partial<AlertRuleView> = {}): AlertRuleView {
  return {
    id: 'al-1',
    symbol: 'AAPL',
    condition: 'price-above',
    value: 230,
    paused: false,
    notify: true,
    createdAt: T0,
    name: 'alert: AAPL price above 230',
    state: 'fired',
    handlerId: 'h9',
    fired: 1,
    lastFiredAt: T0,
    firedSymbols: ['AAPL'],
    streamed: true,
    ...over,
  };
}

function attach(api = new FakeApi()): FakeApi {
  api.snapshot = snapshot({
    watchlists: [{ id: 'default', name: 'Main', symbols: ['AAPL', 'MSFT'] }],
  });
  useMonitor.getState().attach(api, { afterPaint: never });
  return api;
}

const flush = () => act(async () => await Promise.resolve());

describe('the trading status slice', () => {
  it('reads the whole set, then applies events; a reset drops what it held', async () => {
    const api = attach(new FakeApi().handle('market:trading-status', () => ok([halt('AAPL')])));
    await flush();
    expect([...useMonitor.getState().tradingStatus.keys()]).toEqual(['AAPL']);
    act(() => api.emit('market:trading-status', update({ statuses: [halt('MSFT')] })));
    expect([...useMonitor.getState().tradingStatus.keys()]).toEqual(['AAPL', 'MSFT']);
    act(() => api.emit('market:trading-status', update({ cleared: ['AAPL'] })));
    expect([...useMonitor.getState().tradingStatus.keys()]).toEqual(['MSFT']);
    act(() => api.emit('market:trading-status', update({ reset: true })));
    expect(useMonitor.getState().tradingStatus.size).toBe(0);
  });

  it('keeps the same halted set while only bands move; a halt or a resume makes a new one', async () => {
    const api = attach(new FakeApi().handle('market:trading-status', () => ok([halt('AAPL')])));
    await flush();
    const first = useMonitor.getState().haltedSymbols;
    expect([...first]).toEqual(['AAPL']);
    // A band for another symbol (not halted) and a new band for AAPL: the map changes, the set not.
    act(() =>
      api.emit(
        'market:trading-status',
        update({ statuses: [halt('MSFT', { halted: false }), halt('AAPL', { since: T0 + 1 })] }),
      ),
    );
    expect(useMonitor.getState().tradingStatus.size).toBe(2);
    expect(useMonitor.getState().haltedSymbols).toBe(first);
    act(() => api.emit('market:trading-status', update({ statuses: [halt('MSFT')] })));
    expect([...useMonitor.getState().haltedSymbols].sort()).toEqual(['AAPL', 'MSFT']);
    act(() =>
      api.emit('market:trading-status', update({ statuses: [halt('AAPL', { halted: false })] })),
    );
    expect([...useMonitor.getState().haltedSymbols]).toEqual(['MSFT']);
  });

  it('an event that lands before the answer wins over it', async () => {
    let answer: (value: ReturnType<typeof ok<TradingStatusView[]>>) => void = () => undefined;
    const api = attach(
      new FakeApi().handle(
        'market:trading-status',
        () => new Promise((resolve) => (answer = resolve)),
      ),
    );
    act(() => api.emit('market:trading-status', update({ cleared: ['AAPL'] })));
    await act(async () => {
      answer(ok([halt('AAPL'), halt('MSFT')]));
      await Promise.resolve();
    });
    expect([...useMonitor.getState().tradingStatus.keys()]).toEqual(['MSFT']);
  });

  it('applyTradingStatus makes a new map and leaves the old one', () => {
    const before = new Map([['AAPL', halt('AAPL')]]);
    const after = applyTradingStatus(
      before,
      update({ statuses: [halt('AAPL', { halted: false })] }),
    );
    expect(after).not.toBe(before);
    expect(before.get('AAPL')?.halted).toBe(true);
    expect(after.get('AAPL')?.halted).toBe(false);
  });
});

describe('RowMarks', () => {
  it('marks a halted symbol with its reason and time until it resumes', () => {
    const api = attach();
    render(<RowMarks symbol="AAPL" />);
    expect(screen.queryByRole('img')).toBeNull();
    act(() => api.emit('market:trading-status', update({ statuses: [halt('AAPL')] })));
    const mark = screen.getByRole('img', { name: /^halted/ });
    const label = `halted: Volatility trading pause (LUDP) since ${formatClock(T0)}`;
    expect(mark.getAttribute('aria-label')).toBe(label);
    expect(mark.getAttribute('title')).toBe(label);
    expect(mark.textContent).toBe('halt');
    // A resume with a band kept: not halted any more, no mark.
    act(() =>
      api.emit('market:trading-status', update({ statuses: [halt('AAPL', { halted: false })] })),
    );
    expect(screen.queryByRole('img')).toBeNull();
  });

  it('labels a halt without a reason by its status', () => {
    expect(
      haltLabel(halt('AAPL', { reasonCode: '', reasonText: '', statusCode: '2', since: T0 })),
    ).toBe(`halted: Trading halt (2) since ${formatClock(T0)}`);
  });

  it('marks a symbol whose rule fired until it is re-armed, the wide-spread rule aside', async () => {
    const api = attach(
      new FakeApi().handle('alerts:list', () =>
        ok([
          firedRule(),
          firedRule({
            id: 'wide-spread',
            symbol: '*',
            name: 'wide spread alert',
            firedSymbols: ['MSFT'],
          }),
        ]),
      ),
    );
    render(
      <>
        <RowMarks symbol="AAPL" />
        <RowMarks symbol="MSFT" />
      </>,
    );
    const mark = await screen.findByRole('img', { name: 'alert fired: AAPL price above 230' });
    expect(mark.textContent).toBe('!');
    expect(screen.getAllByRole('img')).toHaveLength(1);
    act(() => api.emit('alerts:update', [firedRule({ state: 'armed', firedSymbols: [] })]));
    expect(screen.queryByRole('img')).toBeNull();
  });
});

describe('the watchlist row', () => {
  const sizes = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientHeight');
  beforeAll(() => {
    Object.defineProperty(HTMLElement.prototype, 'clientHeight', {
      configurable: true,
      get(this: HTMLElement) {
        return this.classList.contains('table-scroll') ? 520 : 0;
      },
    });
  });
  afterAll(() => {
    if (sizes) Object.defineProperty(HTMLElement.prototype, 'clientHeight', sizes);
  });

  it('carries both marks in its row header', async () => {
    const api = attach(new FakeApi().handle('alerts:list', () => ok([firedRule()])));
    render(<WatchlistPanel />);
    const table = await screen.findByRole('table', { name: 'Watchlist' });
    act(() => api.emit('market:trading-status', update({ statuses: [halt('AAPL')] })));
    const header = await within(table).findByRole('rowheader', {
      name: /^AAPL\W+halted: Volatility trading pause \(LUDP\) since [\d:]+\W+alert fired: AAPL price above 230$/,
    });
    expect(within(header).getByRole('img', { name: /^halted: Volatility/ })).toBeTruthy();
    expect(
      within(header).getByRole('img', { name: /^alert fired: AAPL price above 230/ }),
    ).toBeTruthy();
    expect(within(table).getByRole('rowheader', { name: 'MSFT' })).toBeTruthy();
  });
});

describe('the detail pane', () => {
  it('shows the halt and the LULD band of the selected symbol', () => {
    const api = attach(new FakeApi().handle('tape:watch', () => ok(null)));
    useMonitor.setState({ selectedSymbol: 'AAPL' });
    render(<DetailPane />);
    const status = screen.getByLabelText('Trading status of AAPL');
    const value = (term: string) =>
      within(status).getByText(term, { selector: 'dt' }).nextElementSibling?.textContent;
    expect(value('Status')).toBe('not halted');
    expect(value('Limit up')).toBe('no band yet');

    act(() => api.emit('market:trading-status', update({ statuses: [halt('AAPL')] })));
    expect(value('Status')).toBe(
      `Halted since ${formatClock(T0)} · Trading halt: Volatility trading pause`,
    );
    expect(value('Limit up')).toBe('105.50');
    expect(value('Limit down')).toBe(`95.25 ${formatClock(T0)}`);

    act(() => api.emit('market:trading-status', update({ cleared: ['AAPL'] })));
    expect(value('Status')).toBe('not halted');
    expect(value('Limit down')).toBe('no band yet');
  });
});

describe('the trading status block', () => {
  it('shows nothing for a crypto pair (no halts, no bands)', () => {
    attach();
    const { container } = render(<TradingStatusBlock symbol="BTC/USD" />);
    expect(container.innerHTML).toBe('');
  });
});

describe('the Alerts panel', () => {
  it('offers halted and resumed without a value and sends 0', async () => {
    const user = userEvent.setup();
    const api = attach(
      new FakeApi().handle('alerts:create', (input) =>
        ok(
          firedRule({
            id: 'al-2',
            symbol: 'AAPL',
            condition: input.condition,
            value: input.value,
            name: 'alert: AAPL halted',
            state: 'armed',
            firedSymbols: [],
          }),
        ),
      ),
    );
    render(<AlertsPanel />);
    const form = screen.getByRole('form', { name: 'New alert' });
    expect(within(form).getByRole('textbox', { name: 'Price' })).toBeTruthy();
    await user.selectOptions(within(form).getByLabelText('Condition'), 'Trading halted');
    expect(within(form).queryByRole('textbox', { name: 'Price' })).toBeNull();
    expect(within(form).getAllByRole('textbox')).toHaveLength(1);
    await user.type(within(form).getByRole('textbox', { name: 'Symbol' }), 'aapl{Enter}');
    expect(api.callsOf('alerts:create')).toEqual([
      { symbol: 'AAPL', condition: 'halted', value: 0, notify: true },
    ]);
    expect(await screen.findByRole('rowheader', { name: 'alert: AAPL halted' })).toBeTruthy();
    // The list names both.
    const options = within(within(form).getByLabelText('Condition')).getAllByRole('option');
    expect(options.map((o) => o.textContent)).toEqual(
      expect.arrayContaining(['Trading halted', 'Trading resumed']),
    );
  });
});

describe('the simulator halt control', () => {
  it('halts and resumes the typed symbol, and refuses a bad one before sending', async () => {
    const user = userEvent.setup();
    const api = attach(
      new FakeApi().handle('simulator:control', (control) =>
        ok({
          applied:
            control.action === 'halt'
              ? `${control.symbol} ${control.halted ? 'halted' : 'resumed'} on 1 connection`
              : 'x',
        }),
      ),
    );
    render(<DiagnosticsPanel />);
    const form = await screen.findByRole('form', { name: 'Trading halt' });
    const input = within(form).getByRole('textbox', { name: 'Symbol to halt' });
    await user.type(input, 'a a');
    await user.click(within(form).getByRole('button', { name: 'Halt trading' }));
    expect(api.callsOf('simulator:control')).toEqual([]);
    expect(input.getAttribute('aria-invalid')).toBe('true');
    await user.clear(input);
    await user.type(input, 'aapl');
    await user.click(within(form).getByRole('button', { name: 'Halt trading' }));
    await user.click(within(form).getByRole('button', { name: 'Resume trading' }));
    expect(api.callsOf('simulator:control')).toEqual([
      { action: 'halt', symbol: 'AAPL', halted: true },
      { action: 'halt', symbol: 'AAPL', halted: false },
    ]);
    expect(await screen.findByText('Applied: AAPL resumed on 1 connection')).toBeTruthy();
  });
});
