/**
 * The watchlist as a trader reads it: columns chosen and ordered per list (and remembered), the
 * day's picture (previous-close change, day range, extended hours), names from the directory.
 */
import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, type SymbolInfo } from '../../shared/api.ts';
import {
  exportFileName,
  formatSymbolList,
  parseSymbolList,
} from '../../renderer/model/symbol-list.ts';
import { SeriesBook, drawSparkline, type SparkContext } from '../../renderer/model/series.ts';
import { WatchlistPanel } from '../../renderer/panels/watchlist.tsx';
import { MIRROR_INTERVAL_MS } from '../../renderer/panels/watchlist-cells.ts';
import { PREFS_KEY, loadPrefs, useMonitor } from '../../renderer/store.ts';
import {
  DEFAULT_COLUMNS,
  moveColumn,
  normalizeColumns,
  sortSymbols,
  toggleColumn,
  visibleColumns,
} from '../../renderer/model/columns.ts';
import { QuoteBoard, dayRangeOf, extendedChangeOf } from '../../renderer/model/board.ts';
import {
  NEW_YORK,
  describeMarket,
  formatTimeLeft,
} from '../../renderer/panels/watchlist-strip.tsx';
import { FakeApi, makeFrame, marketView, snapshot } from './fake-api.ts';

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

const never = () => new Promise<void>(() => undefined);

/** Lets the accessible mirror's text catch up with the frames (it follows at its own pace). */
async function mirrorCatchUp(): Promise<void> {
  await act(async () => {
    await new Promise((resolve) => setTimeout(resolve, MIRROR_INTERVAL_MS + 300));
  });
}

async function mount(
  symbols: string[],
  over: Parameters<typeof snapshot>[0] = {},
  api = new FakeApi(),
): Promise<FakeApi> {
  api.snapshot = snapshot({
    watchlists: [
      { id: 'default', name: 'Main', symbols },
      { id: 'second', name: 'Other', symbols },
    ],
    ...over,
  });
  useMonitor.getState().attach(api, { afterPaint: never });
  render(<WatchlistPanel />);
  await screen.findByRole('table', { name: 'Watchlist' });
  return api;
}

function headers(): string[] {
  const table = screen.getByRole('table', { name: 'Watchlist' });
  return within(table)
    .getAllByRole('columnheader')
    .map((h) => h.querySelector('button')?.getAttribute('aria-label') ?? accessibleName(h));
}

/** A header's name as a screen reader hears it (the visually hidden full name where there is one). */
function accessibleName(h: HTMLElement): string {
  const hidden = h.querySelector('.visually-hidden');
  if (hidden !== null) return hidden.textContent ?? '';
  return (h.textContent ?? '').replace(/[▲▼]/g, '').trim();
}

function rowCells(symbol: string): HTMLElement[] {
  const row = document.querySelector(`tr[data-symbol="${symbol}"]`);
  if (!(row instanceof HTMLElement)) throw new Error(`no row ${symbol}`);
  return within(row).getAllByRole('cell');
}

describe('column rules', () => {
  it('a saved choice is made valid: known ids once, the symbol first', () => {
    expect(normalizeColumns(['last', 'bogus', 'last', 'symbol', 'name'])).toEqual([
      'symbol',
      'last',
      'name',
    ]);
    expect(normalizeColumns('nonsense')).toBe(DEFAULT_COLUMNS);
  });

  it('show, hide and move; the symbol stays first', () => {
    const some = ['symbol', 'last', 'change'] as const;
    expect(toggleColumn(some, 'name')).toEqual(['symbol', 'last', 'change', 'name']);
    expect(toggleColumn(some, 'last')).toEqual(['symbol', 'change']);
    expect(toggleColumn(some, 'symbol')).toBe(some);
    expect(moveColumn(some, 'change', -1)).toEqual(['symbol', 'change', 'last']);
    expect(moveColumn(some, 'last', -1)).toBe(some);
    expect(moveColumn(some, 'change', 1)).toBe(some);
  });

  it('the extended-hours change shows only in pre-market and after hours', () => {
    expect(visibleColumns(DEFAULT_COLUMNS, 'regular')).not.toContain('extChange');
    expect(visibleColumns(DEFAULT_COLUMNS, 'closed')).not.toContain('extChange');
    expect(visibleColumns(DEFAULT_COLUMNS, 'pre')).toContain('extChange');
    expect(visibleColumns(DEFAULT_COLUMNS, 'post')).toContain('extChange');
  });

  it('top movers: the largest absolute change % first, rows without a change last', () => {
    const board = new QuoteBoard();
    board.apply(
      makeFrame(1, [
        { symbol: 'A', last: 101, ref: 100 }, // +1%
        { symbol: 'B', last: 95, ref: 100 }, // -5%
        { symbol: 'C', last: 103, ref: 100 }, // +3%
        { symbol: 'D' },
      ]),
      0,
    );
    const order = sortSymbols(['A', 'B', 'C', 'D'], { column: 'movers', direction: 'desc' }, (s) =>
      board.get(s),
    );
    expect(order).toEqual(['B', 'C', 'A', 'D']);
  });

  it('sort by name: directory names, unknown ones last', () => {
    const names = new Map([
      ['A', 'Zeta Corp'],
      ['B', 'Alpha Inc'],
    ]);
    const order = sortSymbols(
      ['A', 'B', 'C'],
      { column: 'name', direction: 'asc' },
      () => undefined,
      { nameOf: (s) => names.get(s) },
    );
    expect(order).toEqual(['B', 'A', 'C']);
  });

  it('day range: where last and the open sit between low and high', () => {
    expect(dayRangeOf({ last: 15, dayLow: 10, dayHigh: 20, dayOpen: 12 })).toEqual({
      low: 10,
      high: 20,
      at: 0.5,
      open: 0.2,
    });
    // A trade beyond the daily bar widens the range.
    expect(dayRangeOf({ last: 22, dayLow: 10, dayHigh: 20, dayOpen: 12 }).at).toBe(1);
    expect(dayRangeOf({ last: NaN, dayLow: 10, dayHigh: 20, dayOpen: 12 }).at).toBeNaN();
  });

  it('extended-hours change: pre against the previous close, post against the regular close', () => {
    expect(extendedChangeOf({ last: 102, prevClose: 100 }, 'pre', NaN).pct).toBeCloseTo(2);
    expect(extendedChangeOf({ last: 99, prevClose: 100 }, 'post', 110).pct).toBeCloseTo(-10);
    expect(extendedChangeOf({ last: 99, prevClose: 100 }, 'regular', 110).pct).toBeNaN();
  });
});

describe('columns in the panel', () => {
  it('change is against the previous close; day range and the IEX volume title', async () => {
    await mount(['AAPL']);
    act(() => {
      useMonitor.getState().applyFrame(
        makeFrame(1, [
          {
            symbol: 'AAPL',
            bid: 101,
            ask: 101.1,
            last: 101,
            ref: 100,
            prevClose: 100,
            dayOpen: 100.5,
            dayHigh: 102,
            dayLow: 99,
          },
        ]),
      );
    });
    const names = headers();
    expect(names.slice(0, 4)).toEqual(['Symbol', 'Bid', 'Bid size', 'Ask']);
    expect(names).toContain('Day range');
    expect(names).not.toContain('Extended-hours change %');
    const volume = screen.getByRole('columnheader', { name: 'Volume' });
    expect(volume.getAttribute('title')).toMatch(/IEX/);
    const change = screen.getByRole('columnheader', { name: 'Change' });
    expect(change.getAttribute('title')).toMatch(/previous close/);
    await mirrorCatchUp();
    const row = document.querySelector('tr[data-symbol="AAPL"]') as HTMLElement;
    expect(within(row).getAllByRole('cell')[7]?.textContent).toBe('+1.00');
    // The bar is drawn on the canvas (watchlist-canvas.test.tsx); the mirror names the range.
    expect(row.querySelector('td.range')?.getAttribute('title')).toBe('Day low 99.00, high 102.00');
  });

  it('columns shown, hidden and reordered per list, and remembered', async () => {
    const user = userEvent.setup();
    await mount(['AAPL']);
    act(() => {
      useMonitor
        .getState()
        .applyFrame(
          makeFrame(1, [{ symbol: 'AAPL', bid: 101, last: 101.5, dayHigh: 103, dayLow: 99 }]),
        );
    });
    await user.click(screen.getByRole('button', { name: 'Columns' }));
    const chooser = screen.getByRole('group', { name: 'Columns of Main' });
    await user.click(within(chooser).getByRole('checkbox', { name: 'Bid' }));
    await user.click(within(chooser).getByRole('checkbox', { name: 'High' }));
    await user.click(within(chooser).getByRole('button', { name: 'Move Last left' }));
    expect(headers()).not.toContain('Bid');
    expect(headers().at(-2)).toBe('High'); // then the row actions
    const chosen = useMonitor.getState().columns['default'];
    expect(chosen?.indexOf('last')).toBe((chosen?.indexOf('spread') ?? 0) - 1);
    // The cells follow the columns: the first cell is now the bid size, High's is the last.
    const cells = rowCells('AAPL');
    expect(cells.at(-2)?.textContent).toBe('103.00');
    // Remembered in the view's prefs, for this list only.
    const saved = loadPrefs(localStorage);
    expect(saved.columns['default']).toEqual(chosen);
    expect(saved.columns['second']).toBeUndefined();
    const raw = JSON.parse(localStorage.getItem(PREFS_KEY) ?? '{}') as {
      columns: Record<string, string[]>;
    };
    expect(raw.columns['default']).toContain('high');
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('group', { name: 'Columns of Main' })).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Columns' }));
    // The other list shows the default columns.
    act(() => useMonitor.getState().selectWatchlist('second'));
    expect(headers()).toContain('Bid');
    expect(headers()).not.toContain('High');
  });

  it('the extended-hours column appears after hours, against the regular close', async () => {
    const api = await mount(['AAPL'], { market: marketView({ session: 'post' }) });
    await act(async () => {
      useMonitor.getState().applySeries(
        {
          version: 1,
          start: 0,
          reset: true,
          changes: [{ symbol: 'AAPL', from: 12 * 60 - 2, closes: [109, 110] }],
        },
        true,
      );
      useMonitor.getState().applyFrame(makeFrame(1, [{ symbol: 'AAPL', last: 111, ref: 100 }]));
      await Promise.resolve();
    });
    await mirrorCatchUp();
    expect(headers()).toContain('Extended-hours change %');
    const ext = screen.getByRole('columnheader', { name: 'Extended-hours change %' });
    const index = within(screen.getByRole('table', { name: 'Watchlist' }))
      .getAllByRole('columnheader')
      .indexOf(ext);
    expect(rowCells('AAPL')[index - 1]?.textContent).toBe('+0.91%');
    act(() => api.emit('market:update', marketView({ session: 'regular' })));
    expect(headers()).not.toContain('Extended-hours change %');
  });

  it('names come from the directory: the row header says it on hover, the name column shows it', async () => {
    const api = new FakeApi();
    api.handle('symbols:info', ({ symbols }) =>
      ok(
        symbols.map((symbol) => ({
          symbol,
          name: `${symbol} Inc.`,
          exchange: 'NASDAQ',
          tradable: true,
        })),
      ),
    );
    await mount(
      ['AAPL', 'MSFT'],
      { market: marketView({ directory: { status: 'ready', assets: 2, fetchedAt: 1 } }) },
      api,
    );
    await screen.findByTitle('AAPL Inc.');
    expect(api.calls.filter((c) => c.command === 'symbols:info')).toHaveLength(1);
    act(() => useMonitor.getState().setColumns('default', ['symbol', 'name', 'last']));
    expect(rowCells('MSFT')[0]?.textContent).toBe('MSFT Inc.');
  });
});

describe('the market status strip', () => {
  // Monday 7 December 2026, 14:00 UTC = 09:00 New York (EST, UTC-5).
  const now = Date.UTC(2026, 11, 7, 14, 0, 0);
  const open = Date.UTC(2026, 11, 7, 14, 30);
  const close = Date.UTC(2026, 11, 7, 21, 0);

  it('each session with the time to the next open or close, New York and the user own', () => {
    const pre = describeMarket(
      marketView({ session: 'pre', nextOpen: open, nextClose: close }),
      now,
      'Europe/Berlin',
    );
    expect(pre.label).toBe('Pre-market');
    expect(pre.next).toBe('opens in 30m (Mon 09:30 New York, Mon 15:30 your time)');
    const regular = describeMarket(
      marketView({ session: 'regular', nextOpen: open + 86_400_000, nextClose: close }),
      open + 60_000,
      'Europe/Berlin',
    );
    expect(regular.label).toBe('Open');
    expect(regular.next).toBe('closes in 6h 29m (Mon 16:00 New York, Mon 22:00 your time)');
    const post = describeMarket(
      marketView({ session: 'post', nextOpen: open + 86_400_000 }),
      close + 1000,
      NEW_YORK,
    );
    expect(post.label).toBe('After hours');
    // A user in New York reads the time once.
    expect(post.next).toBe('opens in 17h 29m (Tue 09:30 New York)');
    const closed = describeMarket(
      marketView({ session: 'closed', nextOpen: open + 3 * 86_400_000 }),
      now - 86_400_000,
      'Asia/Tokyo',
    );
    expect(closed.label).toBe('Closed');
    expect(closed.next).toBe('opens in 4d 0h (Thu 09:30 New York, Thu 23:30 your time)');
    expect(closed.note).toBe("Prices are the last session's.");
    const unknown = describeMarket(
      marketView({ session: 'unknown', detail: 'No clock: REST unreachable', nextOpen: open }),
      now,
      NEW_YORK,
    );
    expect(unknown.label).toBe('Session unknown');
    expect(unknown.next).toBeUndefined();
    expect(unknown.note).toBe('No clock: REST unreachable');
  });

  it('the feed, and polled symbols only when there are some', () => {
    expect(describeMarket(marketView(), now, NEW_YORK).feed).toMatch(/IEX.*2%/);
    expect(describeMarket(marketView(), now, NEW_YORK).polled).toBeUndefined();
    expect(
      describeMarket(marketView({ polled: 12, pollIntervalMs: 5000 }), now, NEW_YORK).polled,
    ).toBe("12 symbols polled every 5s: over your plan's stream limit");
  });

  it('time left reads coarse', () => {
    expect(formatTimeLeft(45_000)).toBe('45s');
    expect(formatTimeLeft(12 * 60_000 + 5000)).toBe('12m');
    expect(formatTimeLeft(3 * 3_600_000 + 5 * 60_000)).toBe('3h 05m');
    expect(formatTimeLeft(50 * 3_600_000)).toBe('2d 2h');
  });

  it('shows above the list and follows market updates', async () => {
    const api = await mount(['AAPL'], {
      market: marketView({ session: 'closed', nextOpen: Date.now() + 3_600_000, quiet: true }),
    });
    const strip = screen.getByRole('group', { name: 'Market status' });
    expect(strip.textContent).toMatch(/^Closed/);
    expect(strip.textContent).toMatch(/opens in (59m|1h 00m)/);
    expect(strip.textContent).toMatch(/last session/);
    act(() => api.emit('market:update', marketView({ session: 'regular', polled: 3 })));
    expect(strip.textContent).toMatch(/^Open/);
    expect(strip.textContent).toMatch(/3 symbols polled/);
  });
});

/** A 2D context that records the calls a sparkline makes. */
class RecordingContext {
  readonly calls: string[] = [];
  strokeStyle = '';
  lineWidth = 1;
  clearRect(): void {
    this.calls.push('clear');
  }
  beginPath(): void {
    this.calls.push('begin');
  }
  moveTo(x: number, y: number): void {
    this.calls.push(`move ${x.toFixed(1)} ${y.toFixed(1)}`);
  }
  lineTo(x: number, y: number): void {
    this.calls.push(`line ${x.toFixed(1)} ${y.toFixed(1)}`);
  }
  stroke(): void {
    this.calls.push(`stroke ${this.strokeStyle}`);
  }
  setLineDash(dash: number[]): void {
    this.calls.push(`dash ${dash.join(',')}`);
  }
  setTransform(): void {
    this.calls.push('transform');
  }
}

const COLORS = { up: 'green', down: 'red', ref: 'grey' };

describe('sparklines', () => {
  it('draws the closes with a dashed line at the previous close, bridging minutes without bars', () => {
    const ctx = new RecordingContext();
    const closes = [NaN, 10, NaN, 12];
    const points = drawSparkline(ctx, closes, 11, 959, 20, COLORS);
    expect(points).toBe(2);
    // Range 10..12: the previous close (11) sits in the middle.
    expect(ctx.calls).toEqual([
      'clear',
      'begin',
      'dash 2,2',
      'move 0.0 10.5',
      'line 959.0 10.5',
      'stroke grey',
      'dash ',
      'begin',
      'move 1.0 18.5',
      'line 3.0 1.5',
      'stroke green',
    ]);
    const down = new RecordingContext();
    drawSparkline(down, [12, 10], 11, 959, 20, COLORS);
    expect(down.calls.at(-1)).toBe('stroke red');
    const empty = new RecordingContext();
    expect(drawSparkline(empty as unknown as SparkContext, [NaN], 11, 959, 20, COLORS)).toBe(0);
    expect(empty.calls).toEqual(['clear']);
  });

  it('the series book: whole copy, appended events, events before the whole copy, a new session', () => {
    const book = new SeriesBook();
    // An event before the whole copy waits for it, and applies after it when newer.
    book.applyEvent({
      version: 3,
      start: 0,
      reset: false,
      changes: [{ symbol: 'A', from: 2, closes: [12] }],
    });
    expect(book.get('A')).toBeUndefined();
    book.applyWhole({
      version: 2,
      start: 0,
      reset: true,
      changes: [{ symbol: 'A', from: 0, closes: [10, null] }],
    });
    expect(book.get('A')?.closes).toEqual([10, NaN, 12]);
    expect(book.applyEvent({ version: 3, start: 0, reset: false, changes: [] })).toBe(false);
    const before = book.get('A')?.version ?? 0;
    book.applyEvent({
      version: 4,
      start: 0,
      reset: false,
      changes: [{ symbol: 'A', from: 3, closes: [13] }],
    });
    expect(book.get('A')?.closes).toEqual([10, NaN, 12, 13]);
    expect(book.get('A')?.version).toBeGreaterThan(before);
    book.applyEvent({
      version: 5,
      start: 86_400_000,
      reset: true,
      changes: [{ symbol: 'B', from: 0, closes: [1] }],
    });
    expect(book.get('A')?.closes).toEqual([]);
    expect(book.start).toBe(86_400_000);
    // The regular close: 15:59's close (slot 719), not an after-hours one; none before 09:30.
    book.applyEvent({
      version: 6,
      start: 86_400_000,
      reset: false,
      changes: [
        { symbol: 'B', from: 718, closes: [50, 51, 52] },
        { symbol: 'C', from: 100, closes: [7] },
      ],
    });
    expect(book.regularClose('B')).toBe(51);
    expect(book.regularClose('C')).toBeNaN();
  });

  // The sparkline is drawn on the canvas now, again only when its series moves:
  // grid-painter.test.ts and watchlist-canvas.test.tsx.
});

describe('import and export as text', () => {
  it('one a line, comma separated, TradingView EXCHANGE:TICKER with sections; duplicates once', () => {
    expect(parseSymbolList('aapl\nMSFT\r\n\n  nvda  \n').symbols).toEqual(['AAPL', 'MSFT', 'NVDA']);
    expect(parseSymbolList('AAPL, MSFT;JPM\tSPY').symbols).toEqual(['AAPL', 'MSFT', 'JPM', 'SPY']);
    expect(
      parseSymbolList('###Tech,NASDAQ:AAPL,NASDAQ:MSFT,###Banks,NYSE:JPM,NYSE:BRK.B,NASDAQ:AAPL')
        .symbols,
    ).toEqual(['AAPL', 'MSFT', 'JPM', 'BRK.B']);
    expect(parseSymbolList('\uFEFF"AAPL","MSFT"\n# a comment\n').symbols).toEqual(['AAPL', 'MSFT']);
  });

  it('what is not a symbol is reported with why, and the rest is kept', () => {
    const parsed = parseSymbolList('AAPL\nnot$valid\nMSFT');
    expect(parsed.symbols).toEqual(['AAPL', 'MSFT']);
    expect(parsed.skipped).toEqual([
      { input: 'not$valid', reason: 'only letters, digits, ".", "-" and "/" are allowed' },
    ]);
    expect(parseSymbolList('').symbols).toEqual([]);
  });

  it('export writes one ticker a line, under a safe file name', () => {
    expect(formatSymbolList(['AAPL', 'MSFT'])).toBe('AAPL\nMSFT\n');
    expect(formatSymbolList([])).toBe('');
    expect(exportFileName('Tech / Growth')).toBe('Tech-Growth.txt');
    expect(exportFileName('¿?')).toBe('watchlist.txt');
    // What export writes, import reads back.
    expect(parseSymbolList(formatSymbolList(['BRK.B', 'SPY'])).symbols).toEqual(['BRK.B', 'SPY']);
  });

  it('an import adds through main and says what was refused and why', async () => {
    const user = userEvent.setup();
    const api = new FakeApi();
    api.handle('watchlists:add-symbols', ({ id, symbols }) =>
      ok({
        watchlist: { id, name: 'Main', symbols: ['AAPL', 'JPM'] },
        added: ['JPM'],
        rejected: symbols
          .filter((s) => s === 'ZZZZ')
          .map((input) => ({ input, reason: 'unknown symbol: the directory does not list it' })),
      }),
    );
    await mount(['AAPL'], {}, api);
    await user.click(screen.getByRole('button', { name: 'Import' }));
    const form = screen.getByRole('form', { name: 'Import symbols into Main' });
    await user.type(within(form).getByRole('textbox'), 'NYSE:JPM,NASDAQ:ZZZZ,bad$');
    await user.click(within(form).getByRole('button', { name: 'Import' }));
    const call = api.calls.find((c) => c.command === 'watchlists:add-symbols');
    expect(call?.input).toEqual({ id: 'default', symbols: ['JPM', 'ZZZZ'] });
    const alert = await within(form).findByRole('alert');
    expect(alert.textContent).toMatch(/Added JPM/);
    expect(alert.textContent).toMatch(/ZZZZ \(unknown symbol/);
    expect(alert.textContent).toMatch(/bad\$ \(not a symbol/);
  });
});

describe('the add box suggests from the directory', () => {
  const directory: SymbolInfo[] = [
    { symbol: 'JPM', name: 'JPMorgan Chase & Co.', exchange: 'NYSE', tradable: true },
    { symbol: 'JNJ', name: 'Johnson & Johnson', exchange: 'NYSE', tradable: true },
    { symbol: 'JD', name: 'JD.com, Inc.', exchange: 'NASDAQ', tradable: false },
  ];

  function directoryApi(): FakeApi {
    const api = new FakeApi();
    api.handle('symbols:search', ({ query }) =>
      ok(
        directory.filter(
          (d) =>
            d.symbol.startsWith(query.toUpperCase()) ||
            d.name.toLowerCase().includes(query.toLowerCase()),
        ),
      ),
    );
    return api;
  }

  it('arrows move through the options, Enter takes one, Escape closes the list', async () => {
    const user = userEvent.setup();
    const api = directoryApi();
    await mount(['AAPL'], {}, api);
    const input = screen.getByRole('combobox', { name: 'Add symbol' });
    await user.type(input, 'msft, j');
    const listbox = await screen.findByRole('listbox', { name: 'Matching symbols' });
    expect(input.getAttribute('aria-expanded')).toBe('true');
    expect(
      within(listbox)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual([
      'JPMJPMorgan Chase & Co.NYSE',
      'JNJJohnson & JohnsonNYSE',
      'JDJD.com, Inc.NASDAQ · not tradable',
    ]);
    // Only the token being typed was asked about.
    expect(api.calls.filter((c) => c.command === 'symbols:search').at(-1)?.input).toEqual({
      query: 'j',
      limit: 8,
    });
    await user.keyboard('{ArrowDown}{ArrowDown}');
    const second = within(listbox).getAllByRole('option')[1];
    expect(second?.getAttribute('aria-selected')).toBe('true');
    expect(input.getAttribute('aria-activedescendant')).toBe(second?.id);
    await user.keyboard('{ArrowUp}{ArrowUp}');
    expect(input.hasAttribute('aria-activedescendant')).toBe(false);
    await user.keyboard('{ArrowDown}{Enter}');
    expect((input as HTMLInputElement).value).toBe('msft, JPM');
    expect(input.getAttribute('aria-expanded')).toBe('false');
    // No add was sent by choosing an option: Enter again does that.
    expect(api.calls.some((c) => c.command === 'watchlists:add-symbols')).toBe(false);

    await user.type(input, ' johnson');
    await screen.findByRole('option', { name: /Johnson/ });
    await user.keyboard('{Escape}');
    expect(input.getAttribute('aria-expanded')).toBe('false');
    expect((input as HTMLInputElement).value).toBe('msft, JPM johnson');
  });

  it('an unknown symbol is refused with the reason main gives', async () => {
    const user = userEvent.setup();
    const api = directoryApi();
    api.handle('watchlists:add-symbols', ({ id }) =>
      ok({
        watchlist: { id, name: 'Main', symbols: ['AAPL'] },
        added: [],
        rejected: [{ input: 'QQQQX', reason: 'unknown symbol: not in the asset directory' }],
      }),
    );
    await mount(['AAPL'], {}, api);
    const input = screen.getByRole('combobox', { name: 'Add symbol' });
    await user.type(input, 'qqqqx{Enter}');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe('Refused: QQQQX (unknown symbol: not in the asset directory).');
    expect((input as HTMLInputElement).value).toBe('QQQQX');
  });
});

describe('polled rows', () => {
  it('a polled row wears a mark with the age of its poll; a streamed row none', async () => {
    await mount(['AAPL', 'MSFT']);
    await act(async () => {
      useMonitor.getState().applyFrame(
        makeFrame(1, [
          { symbol: 'AAPL', last: 100, polledAt: Date.now() - 12_000, receivedAt: Date.now() },
          { symbol: 'MSFT', last: 100, receivedAt: Date.now() },
        ]),
      );
      await Promise.resolve();
    });
    const tag = await screen.findByText(/^polled \d+s$/);
    expect(tag.closest('tr')?.getAttribute('data-symbol')).toBe('AAPL');
    expect(tag.textContent).toMatch(/^polled 1[1-3]s$/);
    expect(tag.getAttribute('title')).toMatch(/stream limit/);
    expect(screen.getAllByText(/^polled/)).toHaveLength(1);
  });
});
