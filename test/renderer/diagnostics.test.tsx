/**
 * The diagnostics panel: the log's filters and cap, the subscription picture with its mismatches,
 * both latency halves, the export file, and the simulator's fault controls (right payloads, bad
 * numbers refused before anything is sent).
 */
import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DiagnosticsBundle, LogEntry, SimulatorControl } from '../../shared/api.ts';
import { DEFAULT_SETTINGS, fail, ok } from '../../shared/api.ts';
import {
  DiagnosticsPanel,
  LOG_SHOWN,
  REVOKE_AFTER_MS,
  SUBSCRIPTION_ROWS,
  bundleJson,
  checkSubscription,
  exportFileName,
  filterLog,
  parseWhole,
  subscriptionRows,
} from '../../renderer/panels/diagnostics.tsx';
import { describeBars } from '../../renderer/panels/latency-chart.tsx';
import { useMonitor } from '../../renderer/store.ts';
import { FakeApi, T0, makeFrame, metricsView, snapshot } from './fake-api.ts';

function entry(seq: number, over: Partial<LogEntry> = {}): LogEntry {
  return {
    seq,
    at: T0 + seq,
    level: 'info',
    module: 'stream',
    msg: `message ${seq}`,
    err: undefined,
    fields: {},
    ...over,
  };
}

function attach(api = new FakeApi()): FakeApi {
  useMonitor.getState().attach(api, { afterPaint: () => new Promise(() => {}) });
  return api;
}

/** Lets queued promise callbacks (a FakeApi answer, the store's await) run inside act. */
async function settle(): Promise<void> {
  await act(async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  });
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

// ------------------------------------------------------------------------------ event log

describe('event log', () => {
  const log: LogEntry[] = [
    entry(1, { msg: 'connected', module: 'stream', fields: { url: 'ws://127.0.0.1/v2/iex' } }),
    entry(2, { level: 'debug', msg: 'frame built', module: 'view', fields: { symbols: 12 } }),
    entry(3, {
      level: 'warn',
      msg: 'subscription refused',
      module: 'subscriptions',
      fields: { symbol: 'TSLA', code: 405 },
    }),
    entry(4, {
      level: 'error',
      msg: 'handler threw',
      module: 'handlers',
      err: { message: 'boom', stack: 'Error: boom\n    at h (user.js:1:1)' },
    }),
  ];

  function lines(): string[] {
    return within(screen.getByRole('log', { name: 'Event log' }))
      .queryAllByRole('listitem')
      .map((li) => li.querySelector('.log-msg')!.textContent);
  }

  it('shows every entry oldest first with time, level, module and fields', () => {
    useMonitor.setState({ log });
    render(<DiagnosticsPanel />);
    expect(lines()).toEqual(['connected', 'frame built', 'subscription refused', 'handler threw']);
    const third = within(screen.getByRole('log')).getAllByRole('listitem')[2]!;
    expect(third.textContent).toContain('warn');
    expect(third.textContent).toContain('subscriptions');
    expect(third.textContent).toContain('symbol=TSLA');
    expect(third.textContent).toContain('code=405');
    expect(third.querySelector('time')!.textContent).toMatch(/^\d\d:\d\d:\d\d\.003$/);
    expect(screen.getByText('Showing 4 of 4')).toBeTruthy();
  });

  it('narrows by text (message, module, field values) and by minimum level', async () => {
    const user = userEvent.setup();
    useMonitor.setState({ log });
    render(<DiagnosticsPanel />);
    const filter = screen.getByLabelText('Filter log');
    await user.type(filter, 'tsla');
    expect(lines()).toEqual(['subscription refused']);
    expect(screen.getByText('Showing 1 of 4 (1 match)')).toBeTruthy();
    await user.clear(filter);
    await user.type(filter, 'VIEW');
    expect(lines()).toEqual(['frame built']);
    await user.clear(filter);
    expect(lines()).toHaveLength(4);

    await user.selectOptions(screen.getByLabelText('Minimum level'), 'warn');
    expect(lines()).toEqual(['subscription refused', 'handler threw']);
    await user.type(filter, 'nothing like this');
    expect(lines()).toEqual([]);
    expect(screen.getByText('No entries match the filter.')).toBeTruthy();
  });

  it('expands an entry with an error to its stack', async () => {
    const user = userEvent.setup();
    useMonitor.setState({ log });
    render(<DiagnosticsPanel />);
    const line = within(screen.getByRole('log')).getAllByRole('listitem')[3]!;
    const details = line.querySelector('details')!;
    expect(details.open).toBe(false);
    await user.click(within(line).getByText('boom'));
    expect(details.open).toBe(true);
    expect(within(line).getByText(/at h \(user\.js:1:1\)/)).toBeTruthy();
  });

  it('renders only the newest matching entries and says how many there are', () => {
    const many = Array.from({ length: 2000 }, (_, i) =>
      entry(i + 1, { level: i % 2 === 0 ? 'debug' : 'info' }),
    );
    useMonitor.setState({ log: many });
    render(<DiagnosticsPanel />);
    const items = within(screen.getByRole('log')).getAllByRole('listitem');
    expect(items).toHaveLength(LOG_SHOWN);
    expect(items.at(-1)!.textContent).toContain('message 2000');
    expect(items[0]!.textContent).toContain('message 1501');
    expect(screen.getByText('Showing 500 of 2,000, newest 500')).toBeTruthy();
  });

  it('filterLog matches field keys and values, ignoring case, and keeps fatal under error', () => {
    const fatal = entry(9, { level: 'fatal', msg: 'gone' });
    const all = [...log, fatal];
    expect(filterLog(all, 'CODE=405', 'all').map((e) => e.seq)).toEqual([3]);
    expect(filterLog(all, 'ws://127', 'all').map((e) => e.seq)).toEqual([1]);
    expect(filterLog(all, '', 'error').map((e) => e.seq)).toEqual([4, 9]);
    expect(filterLog(all, 'boom', 'all').map((e) => e.seq)).toEqual([4]);
    expect(filterLog(all, '', 'all')).toBe(all);
  });
});

// ------------------------------------------------------------------------------ subscriptions

describe('subscriptions', () => {
  function feedBoard(rows: ReadonlyArray<{ symbol: string; receivedAt: number }>): void {
    useMonitor.getState().applyFrame(
      makeFrame(
        1,
        rows.map((r) => ({ ...r, bid: 10 })),
        { full: true },
      ),
      Date.now(),
    );
  }

  it('puts desired, confirmed, receiving and refused side by side and marks mismatches', () => {
    const now = Date.now();
    feedBoard([
      { symbol: 'MSFT', receivedAt: now - 200 },
      { symbol: 'AAPL', receivedAt: now - 300 },
    ]);
    useMonitor.setState({
      subscriptions: {
        desired: { trades: ['AAPL', 'MSFT', 'NVDA', 'TSLA'], quotes: ['AAPL', 'MSFT', 'NVDA'] },
        confirmed: { trades: ['AAPL', 'MSFT', 'NVDA'], quotes: ['MSFT', 'NVDA'] },
        refused: [
          {
            channel: 'trades',
            symbol: 'TSLA',
            code: 405,
            meaning: 'Your plan allows fewer symbols; some were refused.',
            at: now,
          },
        ],
      },
    });
    render(<DiagnosticsPanel />);
    const table = screen.getByRole('table', { name: 'Subscriptions' });
    const row = (symbol: string) =>
      within(table)
        .getByRole('rowheader', { name: new RegExp(`^${symbol}`) })
        .closest('tr')!;
    const cells = (symbol: string) =>
      within(row(symbol))
        .getAllByRole('cell')
        .map((c) => c.textContent);

    // MSFT: everything lines up.
    expect(row('MSFT').classList.contains('sub-mismatch')).toBe(false);
    expect(within(table).getByRole('rowheader', { name: 'MSFT' })).toBeTruthy();
    expect(cells('MSFT')[0]).toBe('trades quotes');
    expect(cells('MSFT')[1]).toBe('trades quotes');
    expect(cells('MSFT')[2]).toMatch(/^fresh \(\d+\.\d s ago\)$/);
    // AAPL: quotes desired, never confirmed.
    expect(row('AAPL').classList.contains('sub-mismatch')).toBe(true);
    // The row header stays the bare symbol (it is how rows are found); the cells say what is wrong.
    expect(within(table).getByRole('rowheader', { name: 'AAPL' })).toBeTruthy();
    expect(cells('AAPL')[1]).toBe('trades not confirmed: quotes');
    // NVDA: confirmed, but nothing has arrived.
    expect(row('NVDA').classList.contains('sub-mismatch')).toBe(true);
    expect(cells('NVDA')[2]).toBe('waiting');
    // TSLA: refused, with the code and what it means.
    expect(row('TSLA').classList.contains('sub-mismatch')).toBe(true);
    expect(cells('TSLA')[3]).toBe('trades: 405 Your plan allows fewer symbols; some were refused.');

    // Mismatches first, then the rest.
    const order = within(table)
      .getAllByRole('rowheader')
      .map((h) => h.textContent.replace(/[^A-Z]/g, ''));
    expect(order).toEqual(['AAPL', 'NVDA', 'TSLA', 'MSFT']);
    expect(screen.getByText(/4 symbols: 4 desired, 3 confirmed, 2 receiving,/).textContent).toBe(
      '4 symbols: 4 desired, 3 confirmed, 2 receiving, 1 refused, 3 mismatches',
    );
  });

  it('caps the rows, keeps mismatches in view, and filters by symbol', async () => {
    const user = userEvent.setup();
    const now = Date.now();
    const symbols = Array.from({ length: 400 }, (_, i) => `S${String(i).padStart(3, '0')}`);
    feedBoard(symbols.map((symbol) => ({ symbol, receivedAt: now })));
    useMonitor.setState({
      subscriptions: {
        desired: { trades: [...symbols, 'ZZZ'] },
        confirmed: { trades: symbols },
        refused: [],
      },
    });
    render(<DiagnosticsPanel />);
    const table = screen.getByRole('table', { name: 'Subscriptions' });
    const headers = within(table).getAllByRole('rowheader');
    expect(headers).toHaveLength(SUBSCRIPTION_ROWS);
    // ZZZ sorts last but is the one mismatch, so it comes first.
    expect(headers[0]!.textContent).toContain('ZZZ');
    expect(screen.getByText('and 101 more (filter to find a symbol)')).toBeTruthy();

    await user.type(screen.getByLabelText('Filter symbols'), 's39');
    expect(
      within(table)
        .getAllByRole('rowheader')
        .map((h) => h.textContent),
    ).toEqual(Array.from({ length: 10 }, (_, i) => `S39${i}`));
    expect(screen.queryByText(/more/)).toBeNull();
  });

  it('subscriptionRows and checkSubscription agree with the table', () => {
    const rows = subscriptionRows({
      desired: { quotes: ['B', 'A'], trades: ['A'] },
      confirmed: { trades: ['A', 'C'] },
      refused: [],
    });
    expect(rows.map((r) => [r.symbol, r.desired, r.confirmed])).toEqual([
      ['A', ['trades', 'quotes'], ['trades']],
      ['B', ['quotes'], []],
      ['C', [], ['trades']],
    ]);
    expect(checkSubscription(rows[2]!, 'fresh')).toMatchObject({
      unwanted: ['trades'],
      mismatch: true,
    });
    expect(checkSubscription({ ...rows[0]!, desired: ['trades'] }, 'fresh').mismatch).toBe(false);
    expect(checkSubscription({ ...rows[0]!, desired: ['trades'] }, 'stale').silent).toBe(true);
  });
});

// ------------------------------------------------------------------------------ latency

describe('latency', () => {
  it('shows both halves with percentiles, sample counts and a chart', () => {
    const histogram = useMonitor.getState().screenLatency;
    for (let i = 0; i < 100; i++) histogram.record(i < 90 ? 4 : 40);
    const base = metricsView();
    useMonitor.setState({
      metrics: {
        ...base,
        latency: {
          exchangeToReceipt: {
            ...base.latency.exchangeToReceipt,
            count: 5000,
            p50: 12.4,
            p90: 30,
            p99: 81,
            p999: 140,
            max: 400,
            mean: 15,
            negatives: 7,
          },
          receiptToDispatch: {
            ...base.latency.receiptToDispatch,
            count: 5000,
            p50: 0.05,
            p90: 0.1,
            p99: 0.4,
            p999: 1.2,
            max: 3,
            mean: 0.06,
          },
        },
      },
    });
    render(<DiagnosticsPanel />);
    const values = (name: string) =>
      Object.fromEntries(
        within(screen.getByRole('table', { name }))
          .getAllByRole('row')
          .map((r) => [
            within(r).getByRole('rowheader').textContent,
            within(r).getByRole('cell').textContent,
          ]),
      );
    expect(values('Exchange to main latency')).toEqual({
      p50: '12 ms',
      p90: '30 ms',
      p99: '81 ms',
      'p99.9': '140 ms',
      max: '400 ms',
      samples: '5,000',
    });
    expect(values('Main dispatch latency').p50).toBe('0.05 ms');
    const screenValues = values('Main to screen latency');
    expect(screenValues.samples).toBe('100');
    expect(screenValues.max).toBe('40 ms');
    expect(screen.getByText(/Includes clock skew/).textContent).toContain('7 negative');
    const chart = screen.getByRole('img', { name: /^Main to screen latency distribution/ });
    expect(chart.getAttribute('aria-label')).toMatch(/100 samples up to 4\d(\.\d)? ms/);
    expect(chart.querySelectorAll('.latency-bar').length).toBeGreaterThan(1);
  });

  it('reads the renderer histogram again after frames, at most once a second', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    render(<DiagnosticsPanel />);
    const samples = () =>
      within(screen.getByRole('table', { name: 'Main to screen latency' }))
        .getByRole('rowheader', { name: 'samples' })
        .closest('tr')!
        .querySelector('td')!.textContent;
    expect(samples()).toBe('0');
    const { screenLatency, applyFrame } = useMonitor.getState();
    screenLatency.record(5);
    act(() => void applyFrame(makeFrame(2, [{ symbol: 'A', bid: 1 }])));
    // Not yet: the previous read was just now.
    expect(samples()).toBe('0');
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1000);
    });
    expect(samples()).toBe('1');
    expect(describeBars('x', [])).toBe('x: no samples yet');
  });

  it('resets the renderer histogram on request, so that what follows is counted alone', async () => {
    const histogram = useMonitor.getState().screenLatency;
    for (let i = 0; i < 10; i++) histogram.record(400);
    render(<DiagnosticsPanel />);
    const table = () => within(screen.getByRole('table', { name: 'Main to screen latency' }));
    const valueOf = (name: string) =>
      table().getByRole('rowheader', { name }).closest('tr')!.querySelector('td')!.textContent;
    expect(valueOf('samples')).toBe('10');
    await userEvent.click(screen.getByRole('button', { name: 'Reset main to screen latency' }));
    // Shown at once, and the store's histogram itself (which the export reads) starts afresh.
    expect(valueOf('samples')).toBe('0');
    expect(histogram.count).toBe(0);
    histogram.record(3);
    expect(histogram.summary().max).toBe(3);
  });
});

// ------------------------------------------------------------------------------ export

const bundle: DiagnosticsBundle = {
  generatedAt: '2026-11-26T14:30:00.000Z',
  app: { name: 'Market Monitor', version: '0.1.0', platform: 'linux', runtime: 'electron 45' },
  connection: snapshot().connection,
  metrics: metricsView(),
  health: { status: 'healthy', reasons: [] },
  subscriptions: { desired: {}, confirmed: {}, refused: [] },
  handlers: [],
  settings: DEFAULT_SETTINGS,
  credentials: snapshot().credentials,
  watchlists: [],
  market: snapshot().market,
  rest: null,
  log: [],
};

describe('export', () => {
  it('bundleJson adds the view side and pretty prints', () => {
    const text = bundleJson(bundle, {
      mode: 'browser',
      frames: { frames: 3, conflated: 1, lastSeq: 3, gaps: 0, unknownRows: 0, resyncs: 0 },
      screenLatency: useMonitor.getState().screenLatency.summary(),
      userAgent: 'test-agent',
    });
    expect(text).toContain('\n  "generatedAt": "2026-11-26T14:30:00.000Z"');
    const parsed = JSON.parse(text) as Record<string, unknown> & {
      view: { mode: string; frames: { frames: number }; screenLatency: { p50: unknown } };
    };
    expect(Object.keys(parsed)).toEqual([...Object.keys(bundle), 'view']);
    expect(parsed.view.mode).toBe('browser');
    expect(parsed.view.frames.frames).toBe(3);
    // An empty histogram's NaN is written as null.
    expect(parsed.view.screenLatency.p50).toBeNull();
  });

  it('names the file after the local time', () => {
    expect(exportFileName(new Date(2026, 0, 5, 9, 7, 3))).toBe(
      'market-monitor-diagnostics-20260105-090703.json',
    );
  });

  it('downloads the bundle through a blob URL and revokes it afterwards', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const created: Blob[] = [];
    vi.spyOn(URL, 'createObjectURL').mockImplementation((blob) => {
      if (blob instanceof Blob) created.push(blob);
      return 'blob:market-monitor/1';
    });
    const revokeObjectURL = vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined);
    const clicked: HTMLAnchorElement[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (
      this: HTMLAnchorElement,
    ) {
      clicked.push(this);
    });
    const api = attach().handle('diagnostics:export', () => ok(bundle));
    useMonitor.setState({ mode: 'electron' });
    render(<DiagnosticsPanel />);

    act(() => screen.getByRole('button', { name: 'Export diagnostics' }).click());
    await settle();

    expect(api.callsOf('diagnostics:export')).toEqual([{}]);
    expect(clicked).toHaveLength(1);
    const a = clicked[0]!;
    expect(a.download).toMatch(/^market-monitor-diagnostics-\d{8}-\d{6}\.json$/);
    expect(a.getAttribute('href')).toBe('blob:market-monitor/1');
    expect(a.isConnected).toBe(false);
    const json = JSON.parse(await created[0]!.text()) as {
      app: { name: string };
      view: { mode: string; userAgent: string };
    };
    expect(json.app.name).toBe('Market Monitor');
    expect(json.view.mode).toBe('electron');
    expect(json.view.userAgent).toBe(navigator.userAgent);
    expect(
      within(screen.getByRole('heading', { name: 'Export' }).closest('section')!).getByRole(
        'status',
      ).textContent,
    ).toBe(`Saved ${a.download} (${Math.ceil(created[0]!.size / 1024)} KB)`);

    expect(revokeObjectURL).not.toHaveBeenCalled();
    vi.advanceTimersByTime(REVOKE_AFTER_MS);
    expect(revokeObjectURL).toHaveBeenCalledWith('blob:market-monitor/1');
  });

  it('says why an export failed', async () => {
    const user = userEvent.setup();
    attach().handle('diagnostics:export', () => fail('internal', 'disk on fire'));
    render(<DiagnosticsPanel />);
    await user.click(screen.getByRole('button', { name: 'Export diagnostics' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Export diagnostics: disk on fire (internal)',
    );
  });
});

// ------------------------------------------------------------------------------ simulator

describe('simulator faults', () => {
  function simulator(): FakeApi {
    return attach().handle('simulator:control', (control) =>
      ok({ applied: JSON.stringify(control) }),
    );
  }

  it('is there only while the source is the simulator', () => {
    useMonitor.setState({
      settings: { ...DEFAULT_SETTINGS, source: { kind: 'alpaca', feed: 'iex', codec: 'json' } },
    });
    const { rerender } = render(<DiagnosticsPanel />);
    expect(screen.queryByRole('group', { name: 'Simulator faults' })).toBeNull();
    act(() => useMonitor.setState({ settings: DEFAULT_SETTINGS }));
    rerender(<DiagnosticsPanel />);
    expect(screen.getByRole('group', { name: 'Simulator faults' })).toBeTruthy();
  });

  it('sends each control with its payload and shows what was applied', async () => {
    const user = userEvent.setup();
    const api = simulator();
    render(<DiagnosticsPanel />);
    const faults = await screen.findByRole('group', { name: 'Simulator faults' });
    const f = within(faults);
    const status = f.getByRole('status');

    await user.click(f.getByRole('button', { name: 'Drop connection' }));
    await user.click(f.getByRole('button', { name: 'Drop, server holds the session' }));
    // Two explicit actions, no toggle: after a reload nothing can be shown the wrong way round.
    await user.click(f.getByRole('button', { name: 'Stall feed' }));
    await user.click(f.getByRole('button', { name: 'Resume feed' }));

    await user.type(f.getByRole('spinbutton', { name: 'Symbol limit' }), '250');
    await user.click(f.getByRole('button', { name: 'Apply symbol limit' }));
    await user.click(f.getByRole('button', { name: 'Lift symbol limit' }));
    await user.type(f.getByLabelText('Messages per second'), '5000{Enter}');
    await user.selectOptions(f.getByLabelText('Error code'), '409');
    await user.click(f.getByRole('button', { name: 'Send error' }));

    const sent: SimulatorControl[] = [
      { action: 'drop' },
      { action: 'drop', holdSessionMs: 3000 },
      { action: 'stall', on: true },
      { action: 'stall', on: false },
      { action: 'symbol-limit', limit: 250 },
      { action: 'symbol-limit', limit: null },
      { action: 'rate', perSecond: 5000 },
      { action: 'error', code: 409 },
    ];
    expect(api.callsOf('simulator:control')).toEqual(sent);
    await vi.waitFor(() =>
      expect(status.textContent).toBe('Applied: {"action":"error","code":409}'),
    );
    const codes = within(f.getByLabelText('Error code'))
      .getAllByRole('option')
      .map((o) => o.textContent);
    expect(codes).toContain('405 symbol limit exceeded');
    expect(codes.map((c) => c.slice(0, 3))).toEqual([
      '400',
      '401',
      '402',
      '403',
      '404',
      '405',
      '406',
      '407',
      '409',
      '410',
    ]);
  });

  it('refuses bad numbers with the reason and sends nothing', async () => {
    const user = userEvent.setup();
    const api = simulator();
    render(<DiagnosticsPanel />);
    const f = within(await screen.findByRole('group', { name: 'Simulator faults' }));
    const limit = f.getByLabelText('Symbol limit');
    const apply = f.getByRole('button', { name: 'Apply symbol limit' });

    await user.click(apply);
    expect(f.getByRole('status').textContent).toBe('Symbol limit: enter a number.');
    await user.type(limit, '0');
    await user.click(apply);
    expect(f.getByRole('status').textContent).toBe('Symbol limit: must be between 1 and 100,000.');
    expect(limit.getAttribute('aria-invalid')).toBe('true');
    await user.clear(limit);
    await user.type(limit, '2.5');
    await user.click(apply);
    expect(f.getByRole('status').textContent).toBe('Symbol limit: must be a whole number.');
    await user.clear(limit);
    await user.type(limit, '100001');
    await user.click(apply);
    expect(f.getByRole('status').textContent).toBe('Symbol limit: must be between 1 and 100,000.');
    await user.type(f.getByLabelText('Messages per second'), '2000000');
    await user.click(f.getByRole('button', { name: 'Apply rate' }));
    expect(f.getByRole('status').textContent).toBe(
      'Messages per second: must be between 0 and 1,000,000.',
    );
    expect(api.callsOf('simulator:control')).toEqual([]);

    expect(parseWhole(' 42 ', 'x', 1, 100)).toEqual({ ok: true, value: 42 });
    expect(parseWhole('1e3', 'x', 1, 10_000)).toEqual({ ok: true, value: 1000 });
    expect(parseWhole('abc', 'x', 1, 100)).toEqual({ ok: false, reason: 'x: not a number.' });
  });

  it('shows a refused control as an error', async () => {
    const user = userEvent.setup();
    attach().handle('simulator:control', () => fail('conflict', 'the source is not the simulator'));
    render(<DiagnosticsPanel />);
    const f = within(await screen.findByRole('group', { name: 'Simulator faults' }));
    await user.click(f.getByRole('button', { name: 'Drop connection' }));
    await vi.waitFor(() =>
      expect(f.getByRole('status').textContent).toBe('Simulator: the source is not the simulator'),
    );
  });
});
