/**
 * The store against a fake transport: events and the snapshot merge, frames fold without a
 * render per quote, actions report failures, and a reset leaves nothing attached.
 */
import { describe, expect, it } from 'vitest';
import { fail, ok } from '../../shared/api.ts';
import {
  loadPrefs,
  mergeLog,
  resetMonitorStore,
  splitSymbols,
  useMonitor,
} from '../../renderer/store.ts';
import { FakeApi, T0, connectionView, makeFrame, snapshot } from './fake-api.ts';

/** Lets queued promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

function manualPaint() {
  const waiting: Array<() => void> = [];
  return {
    afterPaint: () => new Promise<void>((resolve) => waiting.push(resolve)),
    paint: () => {
      for (const resolve of waiting.splice(0)) resolve();
    },
    get pending() {
      return waiting.length;
    },
  };
}

describe('attach', () => {
  it('loads the snapshot, and an event that came first wins over it', async () => {
    const api = new FakeApi();
    let release!: () => void;
    api.handle(
      'diagnostics:snapshot',
      () =>
        new Promise((resolve) => {
          release = () => resolve(ok(snapshot()));
        }),
    );
    useMonitor.getState().attach(api, { afterPaint: manualPaint().afterPaint });
    api.emit('connection:state', connectionView({ state: 'backoff', attempt: 3 }));
    release();
    await settle();
    const s = useMonitor.getState();
    expect(s.connection?.state).toBe('backoff');
    expect(s.watchlists.map((l) => l.id)).toEqual(['default']);
    expect(s.activeWatchlistId).toBe('default');
    expect(s.handlers).toHaveLength(1);
  });

  it('says so when the snapshot cannot be loaded', async () => {
    const api = new FakeApi().handle('diagnostics:snapshot', () => fail('internal', 'boom'));
    useMonitor.getState().attach(api, { afterPaint: manualPaint().afterPaint });
    await settle();
    expect(useMonitor.getState().halted).toBe('Could not load the current state: boom (internal)');
  });

  it('folds frames, one store bump per frame, and pulls again only after a paint', async () => {
    const api = new FakeApi();
    const paint = manualPaint();
    let clock = T0 + 1000;
    useMonitor.getState().attach(api, { afterPaint: paint.afterPaint, now: () => clock });
    await settle();
    expect(api.framePending).toBe(true);
    let bumps = 0;
    const off = useMonitor.subscribe((s, prev) => {
      if (s.quotesVersion !== prev.quotesVersion) bumps += 1;
    });
    api.pushFrame(
      makeFrame(1, [
        { symbol: 'AAPL', bid: 100, ask: 100.02, receivedAt: T0 + 990 },
        { symbol: 'MSFT', bid: 300, ask: 300.05, receivedAt: T0 + 995 },
      ]),
    );
    await settle();
    expect(bumps).toBe(1);
    expect(useMonitor.getState().board.get('AAPL')?.bid).toBe(100);
    // Not painted yet: no second request.
    expect(api.framePending).toBe(false);
    clock = T0 + 1016;
    paint.paint();
    await settle();
    expect(api.framePending).toBe(true);
    // Screen latency: shown at T0+1016, received at T0+990 and T0+995.
    const latency = useMonitor.getState().screenLatency.summary();
    expect(latency.count).toBe(2);
    expect(latency.max).toBeCloseTo(26, 5);
    off();
  });

  it('"Quotes stopped" stays until a restart brings quotes back; an unrelated success does not clear it', async () => {
    const api = new FakeApi();
    const realNext = api.nextFrame.bind(api);
    let fail = true;
    api.nextFrame = () => (fail ? Promise.reject(new Error('port closed')) : realNext());
    useMonitor.getState().attach(api, { afterPaint: manualPaint().afterPaint });
    await settle();
    expect(useMonitor.getState().halted).toBe('Quotes stopped: port closed');
    await useMonitor.getState().connect();
    expect(useMonitor.getState().halted).toBe('Quotes stopped: port closed');
    fail = false;
    useMonitor.getState().restart();
    await settle();
    expect(useMonitor.getState().halted).toBeUndefined();
    expect(api.framePending).toBe(true);
  });

  it('a theme main refused is put back', async () => {
    const api = new FakeApi().handle('settings:update', () => fail('storage', 'disk full'));
    useMonitor.getState().attach(api, { afterPaint: manualPaint().afterPaint });
    await settle();
    const out = await useMonitor.getState().setTheme('light');
    expect(out.ok).toBe(false);
    expect(useMonitor.getState().settings?.theme).toBe('dark');
  });

  it('removing the selected symbol selects the one that took its place', async () => {
    const api = new FakeApi().handle('watchlists:remove-symbol', (input) =>
      ok({ id: input.id, name: 'W', symbols: ['A', 'C'] }),
    );
    api.snapshot = snapshot({ watchlists: [{ id: 'w', name: 'W', symbols: ['A', 'B', 'C'] }] });
    useMonitor.getState().attach(api, { afterPaint: manualPaint().afterPaint });
    await settle();
    useMonitor.getState().selectSymbol('B');
    await useMonitor.getState().removeSymbol('w', 'B');
    expect(useMonitor.getState().selectedSymbol).toBe('C');
  });

  it('a paint wait longer than a second (a hidden page) is not measured as screen latency', async () => {
    const api = new FakeApi();
    const paint = manualPaint();
    let clock = T0;
    useMonitor.getState().attach(api, { afterPaint: paint.afterPaint, now: () => clock });
    await settle();
    api.pushFrame(makeFrame(1, [{ symbol: 'AAPL', bid: 1, receivedAt: T0 - 5 }]));
    await settle();
    clock = T0 + 5000;
    paint.paint();
    await settle();
    expect(useMonitor.getState().screenLatency.count).toBe(0);
  });

  it('measures screen latency for rows on screen since they came on screen, and tells main', async () => {
    const api = new FakeApi();
    const paint = manualPaint();
    let clock = T0;
    useMonitor.getState().attach(api, { afterPaint: paint.afterPaint, now: () => clock });
    await settle();
    // The grid: AAPL on screen, MSFT in the margin (main keeps both fresh).
    useMonitor.getState().setShown(['AAPL', 'MSFT'], ['AAPL']);
    // The same lists again are no news.
    useMonitor.getState().setShown(['AAPL', 'MSFT'], ['AAPL']);
    await settle();
    expect(api.callsOf('frames:focus')).toEqual([{ symbols: ['AAPL', 'MSFT'] }]);
    clock = T0 + 10;
    api.pushFrame(
      makeFrame(1, [
        // Received before AAPL came on screen: it had no screen to reach yet.
        { symbol: 'AAPL', bid: 1, receivedAt: T0 - 300 },
        { symbol: 'MSFT', bid: 1, receivedAt: T0 + 5 },
      ]),
    );
    await settle();
    paint.paint();
    await settle();
    expect(useMonitor.getState().screenLatency.count).toBe(0);
    expect(useMonitor.getState().board.get('AAPL')?.bid).toBe(1);
    api.pushFrame(
      makeFrame(2, [
        { symbol: 'AAPL', bid: 2, receivedAt: T0 + 5 },
        { symbol: 'MSFT', bid: 2, receivedAt: T0 + 5 },
      ]),
    );
    await settle();
    paint.paint();
    await settle();
    // AAPL only: MSFT is kept fresh but not on screen.
    expect(useMonitor.getState().screenLatency.count).toBe(1);

    // A new view (a restart) starts with no focus in main: it is told again.
    const next = new FakeApi();
    useMonitor.getState().attach(next, { afterPaint: paint.afterPaint, now: () => clock });
    await settle();
    expect(next.callsOf('frames:focus')).toEqual([{ symbols: ['AAPL', 'MSFT'] }]);
    // No grid any more: every row, and every row measured.
    useMonitor.getState().setShown(undefined);
    await settle();
    expect(next.callsOf('frames:focus').at(-1)).toEqual({ symbols: null });
  });

  it('keeps one focus in flight: a scroll sends the latest list, not every step', async () => {
    const api = new FakeApi();
    let answer: (() => void) | undefined;
    const invoke = api.invoke.bind(api);
    api.invoke = (command: string, input: unknown) => {
      if (command !== 'frames:focus') return invoke(command as never, input as never);
      const done = invoke(command as never, input as never);
      return new Promise((resolve) => {
        answer = () => resolve(done);
      });
    };
    useMonitor.getState().attach(api, { afterPaint: () => new Promise<void>(() => undefined) });
    await settle();
    for (let i = 0; i < 20; i++) useMonitor.getState().setShown([`S${i}`]);
    await settle();
    expect(api.callsOf('frames:focus')).toEqual([{ symbols: ['S0'] }]);
    answer?.();
    await settle();
    expect(api.callsOf('frames:focus')).toEqual([{ symbols: ['S0'] }, { symbols: ['S19'] }]);
    answer?.();
    await settle();
  });

  it('keeps the rate history bounded and in order', () => {
    const api = new FakeApi();
    useMonitor.getState().attach(api, { afterPaint: manualPaint().afterPaint });
    const base = snapshot().metrics;
    for (let i = 0; i < 700; i++) {
      api.emit('metrics:update', {
        metrics: {
          ...base,
          at: T0 + i * 250,
          rates: { ...base.rates, messages: { s1: i, s10: 0, s60: 0 } },
        },
        health: { status: 'healthy', reasons: [] },
      });
    }
    const history = useMonitor.getState().rateHistory;
    expect(history).toHaveLength(600);
    expect(history[0]?.perSecond).toBe(100);
    expect(history.at(-1)?.perSecond).toBe(699);
  });

  it('reset detaches: later events change nothing, and every listener is gone', () => {
    const api = new FakeApi();
    useMonitor.getState().attach(api, { afterPaint: manualPaint().afterPaint });
    expect(api.listenerCount('connection:state')).toBe(1);
    resetMonitorStore();
    expect(api.listenerCount('connection:state')).toBe(0);
    api.emit('connection:state', connectionView({ state: 'failed' }));
    expect(useMonitor.getState().connection).toBeUndefined();
    expect(useMonitor.getState().api).toBeUndefined();
  });
});

describe('actions', () => {
  it('a failed connect lands in problem; a success clears it', async () => {
    const api = new FakeApi().handle('connection:connect', () => fail('conflict', 'busy'));
    useMonitor.getState().attach(api, { afterPaint: manualPaint().afterPaint });
    const out = await useMonitor.getState().connect();
    expect(out).toEqual({ ok: false, message: 'Connect: busy' });
    expect(useMonitor.getState().problem).toBe('Connect: busy');
    // A generic message keeps its code, for a bug report.
    api.handle('connection:connect', () => fail('internal', 'internal error'));
    expect(await useMonitor.getState().connect()).toEqual({
      ok: false,
      message: 'Connect: internal error (internal)',
    });
    api.handle('connection:connect', () => ok(connectionView()));
    await useMonitor.getState().connect();
    expect(useMonitor.getState().problem).toBeUndefined();
  });

  it('a transport that throws is a message, not a crash', async () => {
    const api = new FakeApi().handle('connection:disconnect', () => {
      throw new Error('port closed');
    });
    useMonitor.getState().attach(api, { afterPaint: manualPaint().afterPaint });
    expect(await useMonitor.getState().disconnect()).toEqual({
      ok: false,
      message: 'Disconnect: port closed',
    });
  });

  it('without an api, actions say so', async () => {
    expect(await useMonitor.getState().connect()).toEqual({
      ok: false,
      message: 'Connect: not connected to the app',
    });
  });

  it("addSymbols checks here first: only well-formed symbols travel, local refusals join main's", async () => {
    const api = new FakeApi().handle('watchlists:add-symbols', (input) =>
      ok({
        watchlist: { id: input.id, name: 'W', symbols: ['AAPL', 'JPM'] },
        added: ['JPM'],
        rejected: [{ input: 'aapl', reason: 'AAPL is already in the list' }],
      }),
    );
    useMonitor.getState().attach(api, { afterPaint: manualPaint().afterPaint });
    expect(await useMonitor.getState().addSymbols('default', '  ')).toEqual({
      ok: false,
      message: 'Type a symbol first.',
    });
    const bad = await useMonitor.getState().addSymbols('default', 'B@D');
    expect(bad.ok).toBe(false);
    expect(api.callsOf('watchlists:add-symbols')).toEqual([]);
    const long = 'X'.repeat(70);
    const out = await useMonitor.getState().addSymbols('default', `jpm, B@D aapl ${long}`);
    // The 70-character token would fail main's schema for the whole request: it never travels.
    expect(api.callsOf('watchlists:add-symbols')).toEqual([
      { id: 'default', symbols: ['jpm', 'aapl'] },
    ]);
    if (!out.ok) throw new Error(out.message);
    expect(out.value.added).toEqual(['JPM']);
    expect(out.value.rejected.map((r) => r.input)).toEqual(['B@D', `${'X'.repeat(30)}…`, 'aapl']);
  });

  it('more symbols than a list holds is refused with a count, before anything is sent', async () => {
    const api = new FakeApi();
    useMonitor.getState().attach(api, { afterPaint: manualPaint().afterPaint });
    const text = Array.from({ length: 10_001 }, (_, i) => `S${i}`).join(' ');
    const out = await useMonitor.getState().addSymbols('default', text);
    expect(out).toEqual({
      ok: false,
      message: 'That is 10,001 symbols; a list holds at most 10,000. Add them in parts.',
    });
    expect(api.callsOf('watchlists:add-symbols')).toEqual([]);
  });

  it('toggleSort cycles ascending, descending, off', () => {
    const { toggleSort } = useMonitor.getState();
    toggleSort('bid');
    expect(useMonitor.getState().sort).toEqual({ column: 'bid', direction: 'asc' });
    toggleSort('bid');
    expect(useMonitor.getState().sort).toEqual({ column: 'bid', direction: 'desc' });
    toggleSort('bid');
    expect(useMonitor.getState().sort).toBeUndefined();
  });
});

describe('helpers', () => {
  it('splitSymbols splits on spaces, commas, semicolons and new lines', () => {
    expect(splitSymbols(' aapl, msft;nvda\nBRK.B  ')).toEqual(['aapl', 'msft', 'nvda', 'BRK.B']);
    expect(splitSymbols(' , ; ')).toEqual([]);
  });

  it('mergeLog dedupes by sequence, orders and bounds', () => {
    const e = (seq: number) => ({
      seq,
      at: T0,
      level: 'info' as const,
      module: undefined,
      msg: `m${seq}`,
      err: undefined,
      fields: {},
    });
    expect(mergeLog([e(2), e(3)], [e(1), e(3), e(4)]).map((x) => x.seq)).toEqual([1, 2, 3, 4]);
    expect(mergeLog([e(1), e(2)], [e(3)], 2).map((x) => x.seq)).toEqual([2, 3]);
    // A single entry older than the tail, or one already held, still lands in order, once.
    expect(mergeLog([e(2), e(3)], [e(1)]).map((x) => x.seq)).toEqual([1, 2, 3]);
    expect(mergeLog([e(2), e(3)], [e(3)]).map((x) => x.seq)).toEqual([2, 3]);
  });
});

describe('view choices across reloads', () => {
  it('the active list and the sort are saved, and read back', () => {
    useMonitor.setState({
      watchlists: [
        { id: 'a', name: 'A', symbols: [] },
        { id: 'b', name: 'B', symbols: [] },
      ],
    });
    useMonitor.getState().selectWatchlist('b');
    useMonitor.getState().toggleSort('volume');
    expect(loadPrefs()).toEqual({
      activeWatchlistId: 'b',
      sort: { column: 'volume', direction: 'asc' },
      columns: {},
    });
  });

  it('a corrupt or foreign value reads as no choice', () => {
    const read = (raw: string) => loadPrefs({ getItem: () => raw });
    expect(read('{not json')).toEqual({
      activeWatchlistId: undefined,
      sort: undefined,
      columns: {},
    });
    expect(read('null')).toEqual({ activeWatchlistId: undefined, sort: undefined, columns: {} });
    expect(read('{"activeWatchlistId":5,"sort":{"column":"evil","direction":"asc"}}')).toEqual({
      activeWatchlistId: undefined,
      sort: undefined,
      columns: {},
    });
    expect(
      read(
        '{"columns":{"a":["last","nope","symbol"],"b":"all","c":["name"]},"sort":{"column":"movers","direction":"desc"}}',
      ),
    ).toEqual({
      activeWatchlistId: undefined,
      sort: { column: 'movers', direction: 'desc' },
      columns: { a: ['symbol', 'last'], c: ['symbol', 'name'] },
    });
    expect(
      loadPrefs({
        getItem: () => {
          throw new Error('denied');
        },
      }),
    ).toEqual({ activeWatchlistId: undefined, sort: undefined, columns: {} });
  });
});
