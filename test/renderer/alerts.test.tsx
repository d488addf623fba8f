/**
 * The Alerts panel and its store slice: rules with their state, the form (checked before sending),
 * pause / resume / re-arm / delete, the log newest first, the live region, the fired symbols for
 * the watchlist's mark, and the browser's Notification in browser mode only.
 */
import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ok, type AlertFired, type AlertRuleView } from '../../shared/api.ts';
import { AlertAnnouncer, AlertsPanel } from '../../renderer/panels/alerts.tsx';
import { useMonitor, type ApiMode } from '../../renderer/store.ts';
import { FakeApi, T0 } from './fake-api.ts';

function ruleView(over: Partial<AlertRuleView> = {}): AlertRuleView {
  return {
    id: 'al-1',
    symbol: 'AAPL',
    condition: 'price-above',
    value: 230,
    paused: false,
    notify: true,
    createdAt: T0,
    name: 'alert: AAPL price above 230',
    state: 'armed',
    handlerId: 'h9',
    fired: 0,
    lastFiredAt: undefined,
    firedSymbols: [],
    streamed: true,
    ...over,
  };
}

const spread = ruleView({
  id: 'wide-spread',
  symbol: '*',
  condition: 'spread-above',
  value: 2,
  notify: false,
  name: 'wide spread alert',
  state: 'fired',
  firedSymbols: ['TSLA'],
});

function firedAt(seq: number, over: Partial<AlertFired> = {}): AlertFired {
  return {
    seq,
    ruleId: 'al-1',
    name: 'alert: AAPL price above 230',
    symbol: 'AAPL',
    condition: 'price-above',
    level: 230,
    value: 230.5,
    at: T0 + seq * 1000,
    message: `AAPL traded at 230.50, at or above 230 (#${seq})`,
    notify: true,
    ...over,
  };
}

function attach(api: FakeApi, mode: ApiMode = 'electron'): FakeApi {
  useMonitor.getState().attach(api, { mode, afterPaint: () => new Promise(() => {}) });
  return api;
}

class FakeNotification {
  static permission: NotificationPermission = 'default';
  static readonly made: Array<{ title: string; options: NotificationOptions | undefined }> = [];
  /** What the user answers the prompt: 'default' when they close it without a choice. */
  static answer: NotificationPermission = 'granted';
  static readonly requestPermission = vi.fn(() => {
    FakeNotification.permission = FakeNotification.answer;
    return Promise.resolve<NotificationPermission>(FakeNotification.answer);
  });
  constructor(title: string, options?: NotificationOptions) {
    FakeNotification.made.push({ title, options });
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
  FakeNotification.permission = 'default';
  FakeNotification.answer = 'granted';
  FakeNotification.made.length = 0;
  FakeNotification.requestPermission.mockClear();
});

describe('AlertsPanel', () => {
  it('lists the rules with their state and the log newest first', async () => {
    const api = new FakeApi()
      .handle('alerts:list', () =>
        ok([
          ruleView({ state: 'fired', fired: 2, lastFiredAt: T0, firedSymbols: ['AAPL'] }),
          spread,
        ]),
      )
      .handle('alerts:log', () => ok([firedAt(2), firedAt(1)]));
    attach(api);
    render(<AlertsPanel />);
    const panel = screen.getByRole('region', { name: 'Alerts' });
    const table = await within(panel).findByRole('table', { name: 'Alert rules' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((r) => within(r).getByRole('rowheader').textContent)).toEqual([
      'alert: AAPL price above 230',
      'wide spread alert',
    ]);
    expect(within(rows[0]!).getAllByRole('cell')[0]?.textContent).toBe('Fired');
    expect(within(rows[1]!).getAllByRole('cell')[0]?.textContent).toBe('Fired: TSLA');
    expect(within(panel).getByText('2 rules').textContent).toContain('2 fired');
    const log = within(panel).getByRole('list', { name: 'Alerts log' });
    expect(
      within(log)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual([expect.stringContaining('(#2)'), expect.stringContaining('(#1)')]);
    // The watchlist's mark: symbols of fired rules, the built-in wide-spread rule aside.
    expect([...useMonitor.getState().firedSymbols]).toEqual(['AAPL']);
  });

  it('creates a rule from the form, by keyboard, and shows it', async () => {
    const user = userEvent.setup();
    const api = attach(
      new FakeApi().handle('alerts:create', (input) =>
        ok(
          ruleView({
            id: 'al-2',
            symbol: String(input.symbol),
            value: input.value,
            name: 'alert: MSFT price below 400',
          }),
        ),
      ),
    );
    render(<AlertsPanel />);
    const form = screen.getByRole('form', { name: 'New alert' });
    await user.type(within(form).getByLabelText('Symbol'), 'msft');
    await user.selectOptions(within(form).getByLabelText('Condition'), 'Price crosses below');
    await user.type(within(form).getByLabelText('Price'), '400{Enter}');
    expect(api.callsOf('alerts:create')).toEqual([
      { symbol: 'MSFT', condition: 'price-below', value: 400, notify: true },
    ]);
    expect(await screen.findByRole('rowheader', { name: /MSFT price below 400/ })).toBeTruthy();
    // The form is ready for the next one.
    expect(within(form).getByLabelText<HTMLInputElement>('Symbol').value).toBe('');
  });

  it('refuses a bad value before sending, and shows main refusing one', async () => {
    const user = userEvent.setup();
    const api = attach(
      new FakeApi().handle('alerts:create', () => ({
        ok: false,
        error: { code: 'conflict', message: 'This alert exists already.' },
      })),
    );
    render(<AlertsPanel />);
    await user.type(screen.getByLabelText('Symbol'), 'AAPL');
    await user.selectOptions(screen.getByLabelText('Condition'), 'No trade for (regular session)');
    await user.type(screen.getByLabelText('Seconds'), '2.5');
    await user.click(screen.getByRole('button', { name: 'Add alert' }));
    expect(screen.getByRole('alert').textContent).toBe(
      'Value: no-trade takes whole seconds from 1 to 86400.',
    );
    expect(api.callsOf('alerts:create')).toEqual([]);
    await user.clear(screen.getByLabelText('Seconds'));
    await user.type(screen.getByLabelText('Seconds'), '60');
    await user.click(screen.getByRole('button', { name: 'Add alert' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Create alert: This alert exists already.',
    );
  });

  it('pause, resume, re-arm, edit and delete go to main', async () => {
    const user = userEvent.setup();
    const fired = ruleView({ state: 'fired', fired: 1 });
    const api = new FakeApi()
      .handle('alerts:list', () => ok([fired]))
      .handle('alerts:update', (patch) =>
        ok(
          ruleView({
            ...(patch.paused !== undefined
              ? { paused: patch.paused, state: patch.paused ? 'paused' : 'armed' }
              : {}),
            ...(patch.value !== undefined
              ? { value: patch.value, name: `alert: AAPL price above ${patch.value}` }
              : {}),
          }),
        ),
      )
      .handle('alerts:delete', () => ok([]));
    attach(api);
    render(<AlertsPanel />);
    await user.click(
      await screen.findByRole('button', { name: 'Re-arm alert: AAPL price above 230' }),
    );
    await user.click(screen.getByRole('button', { name: 'Pause alert: AAPL price above 230' }));
    expect(
      await screen.findByRole('button', { name: 'Resume alert: AAPL price above 230' }),
    ).toBeTruthy();
    expect(screen.getAllByRole('cell')[0]?.textContent).toBe('Paused');

    await user.click(screen.getByRole('button', { name: 'Edit alert: AAPL price above 230' }));
    const form = screen.getByRole('form', { name: 'Edit alert' });
    const level = within(form).getByLabelText('Price');
    await user.clear(level);
    await user.type(level, '235{Enter}');
    expect(
      await screen.findByRole('rowheader', { name: 'alert: AAPL price above 235' }),
    ).toBeTruthy();

    await user.click(screen.getByRole('button', { name: 'Delete alert: AAPL price above 235' }));
    expect(await screen.findByText('No alert rules.')).toBeTruthy();
    expect(api.callsOf('alerts:update')).toEqual([
      { id: 'al-1', rearm: true },
      { id: 'al-1', paused: true },
      { id: 'al-1', symbol: 'AAPL', condition: 'price-above', value: 235, notify: true },
    ]);
    expect(api.callsOf('alerts:delete')).toEqual([{ id: 'al-1' }]);
  });
});

describe('a fired alert', () => {
  it('browser mode: a prompt closed without an answer is not shown again on the next rule', async () => {
    vi.stubGlobal('Notification', FakeNotification);
    FakeNotification.answer = 'default';
    attach(
      new FakeApi().handle('alerts:create', () => ok(ruleView())),
      'browser',
    );
    const create = useMonitor.getState().createAlert;
    await act(() => create({ symbol: 'AAPL', condition: 'price-above', value: 230 }));
    await act(() => create({ symbol: 'AAPL', condition: 'price-above', value: 231 }));
    expect(FakeNotification.requestPermission).toHaveBeenCalledTimes(1);
  });

  it('is announced in the live region and logged; the desktop app leaves the notification to main', () => {
    vi.stubGlobal('Notification', FakeNotification);
    FakeNotification.permission = 'granted';
    const api = attach(new FakeApi(), 'electron');
    render(<AlertAnnouncer />);
    act(() => api.emit('alerts:fired', firedAt(7)));
    expect(screen.getByRole('status').textContent).toBe(
      'Alert: AAPL traded at 230.50, at or above 230 (#7)',
    );
    expect(useMonitor.getState().alertLog.map((f) => f.seq)).toEqual([7]);
    expect(FakeNotification.made).toEqual([]);
    act(() => api.emit('alerts:update', [ruleView({ state: 'fired', firedSymbols: ['AAPL'] })]));
    expect([...useMonitor.getState().firedSymbols]).toEqual(['AAPL']);
    act(() => api.emit('alerts:update', [ruleView({ state: 'armed' })]));
    expect(useMonitor.getState().firedSymbols.size).toBe(0);
  });

  it('browser mode: permission asked on the first rule created, then a notification per firing', async () => {
    vi.stubGlobal('Notification', FakeNotification);
    const api = attach(
      new FakeApi().handle('alerts:create', () => ok(ruleView())),
      'browser',
    );
    act(() => api.emit('alerts:fired', firedAt(1)));
    expect(FakeNotification.made).toEqual([]); // not granted yet
    await act(() =>
      useMonitor.getState().createAlert({ symbol: 'AAPL', condition: 'price-above', value: 230 }),
    );
    await act(() =>
      useMonitor.getState().createAlert({ symbol: 'AAPL', condition: 'price-below', value: 220 }),
    );
    expect(FakeNotification.requestPermission).toHaveBeenCalledTimes(1);
    act(() => api.emit('alerts:fired', firedAt(2)));
    act(() => api.emit('alerts:fired', firedAt(3, { notify: false })));
    expect(FakeNotification.made).toEqual([
      {
        title: 'Alert: AAPL',
        options: {
          body: 'AAPL traded at 230.50, at or above 230 (#2)',
          tag: 'market-monitor-alert-2',
        },
      },
    ]);
  });
});
