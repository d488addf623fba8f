/**
 * The watchlist panel in a DOM: rows from frames, sorting by header, keyboard selection, add-symbol
 * validation and messages, the server's refusals, and virtualization of a long list.
 */
import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIRROR_INTERVAL_MS } from '../../renderer/panels/watchlist-cells.ts';
import { ok } from '../../shared/api.ts';
import {
  WatchlistPanel,
  describeAdd,
  refusalsFor,
  selectionAfterKey,
} from '../../renderer/panels/watchlist.tsx';
import { useMonitor } from '../../renderer/store.ts';
import { FakeApi, T0, connectionView, makeFrame, snapshot } from './fake-api.ts';

// happy-dom lays nothing out: give scroll areas a size so the virtualizer has a viewport.
const sizes = {
  clientHeight: Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientHeight'),
  clientWidth: Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientWidth'),
};
beforeAll(() => {
  Object.defineProperty(HTMLElement.prototype, 'clientHeight', {
    configurable: true,
    get(this: HTMLElement) {
      return this.classList.contains('table-scroll') ? 520 : 0;
    },
  });
  Object.defineProperty(HTMLElement.prototype, 'clientWidth', {
    configurable: true,
    get(this: HTMLElement) {
      return this.classList.contains('table-scroll') ? 1000 : 0;
    },
  });
});
afterAll(() => {
  if (sizes.clientHeight)
    Object.defineProperty(HTMLElement.prototype, 'clientHeight', sizes.clientHeight);
  if (sizes.clientWidth)
    Object.defineProperty(HTMLElement.prototype, 'clientWidth', sizes.clientWidth);
});

const never = () => new Promise<void>(() => undefined);

/**
 * Lets the accessible mirror catch up: its text follows the frames at most MIRROR_INTERVAL_MS
 * behind (the canvas draws every frame; see watchlist-canvas.test.tsx).
 */
async function mirrorCatchUp(): Promise<void> {
  await act(async () => {
    await new Promise((resolve) => setTimeout(resolve, MIRROR_INTERVAL_MS + 300));
  });
}

async function mount(symbols: string[], api = new FakeApi()) {
  api.snapshot = snapshot({ watchlists: [{ id: 'default', name: 'Main', symbols }] });
  useMonitor.getState().attach(api, { afterPaint: never });
  const view = render(<WatchlistPanel />);
  await screen.findByRole('table', { name: 'Watchlist' });
  return { api, view };
}

function dataRows(): HTMLElement[] {
  const table = screen.getByRole('table', { name: 'Watchlist' });
  return within(table)
    .getAllByRole('row')
    .filter((r) => r.classList.contains('quote-row'));
}

function symbolsShown(): string[] {
  return dataRows().map((r) => r.getAttribute('data-symbol') ?? '');
}

describe('WatchlistPanel', () => {
  it('shows the list with every column and fills rows from frames', async () => {
    const { api } = await mount(['AAPL', 'MSFT']);
    // Every column, by its full accessible name (dense ones show an abbreviation).
    for (const name of [
      'Symbol',
      'Bid',
      'Bid size',
      'Ask',
      'Ask size',
      'Spread',
      'Last',
      'Last size',
      'Change',
      'Change %',
      'Volume',
      'Age',
    ]) {
      expect(screen.getByRole('columnheader', { name })).toBeTruthy();
    }
    const changePct = screen.getByRole('columnheader', { name: 'Change %' });
    expect(changePct.querySelector('[aria-hidden="true"]:not(.sort-mark)')?.textContent).toBe(
      'Chg %',
    );
    await act(async () => {
      api.pushFrame(
        makeFrame(1, [
          {
            symbol: 'AAPL',
            bid: 187.5,
            bidSize: 300,
            ask: 187.52,
            askSize: 12_345,
            last: 187.51,
            lastSize: 100,
            ref: 185,
            volume: 45_600_000,
            receivedAt: Date.now(),
          },
        ]),
      );
      await Promise.resolve();
    });
    await mirrorCatchUp();
    const aapl = dataRows()[0];
    if (aapl === undefined) throw new Error('no row');
    const cells = within(aapl)
      .getAllByRole('cell')
      .map((c) => c.textContent);
    expect(cells.slice(0, 10)).toEqual([
      '187.50',
      '300',
      '187.52',
      '12.3K',
      '0.02',
      '187.51',
      '100',
      '+2.51',
      '+1.36%',
      '45.6M',
    ]);
    // MSFT has no quote yet: dashes, not zeros.
    const msft = dataRows()[1];
    expect(within(msft as HTMLElement).getAllByRole('cell')[0]?.textContent).toBe('—');
  });

  it('a quiet symbol is marked stale', async () => {
    await mount(['OLD', 'NEW']);
    act(() => {
      useMonitor.getState().applyFrame(
        makeFrame(1, [
          { symbol: 'OLD', bid: 1, receivedAt: Date.now() - 60_000 },
          { symbol: 'NEW', bid: 2, receivedAt: Date.now() },
        ]),
      );
    });
    const [old, fresh] = dataRows();
    expect(old?.className).toContain('stale');
    expect(within(old as HTMLElement).getByText('stale')).toBeTruthy();
    expect(fresh?.className).not.toContain('stale');
  });

  it('a halted symbol is silent by design: its row is not marked stale', async () => {
    await mount(['HALT', 'OLD']);
    act(() => {
      useMonitor.setState({
        haltedSymbols: new Set(['HALT']),
        tradingStatus: new Map([
          [
            'HALT',
            {
              symbol: 'HALT',
              halted: true,
              statusCode: 'H',
              statusText: 'Trading halt',
              reasonCode: 'LUDP',
              reasonText: 'Volatility trading pause',
              since: Date.now() - 120_000,
              luld: undefined,
            },
          ],
        ]),
      });
      useMonitor.getState().applyFrame(
        makeFrame(1, [
          { symbol: 'HALT', bid: 1, receivedAt: Date.now() - 60_000 },
          { symbol: 'OLD', bid: 2, receivedAt: Date.now() - 60_000 },
        ]),
      );
    });
    const [halted, old] = dataRows();
    expect(halted?.className).not.toContain('stale');
    expect(within(halted as HTMLElement).queryByText('stale')).toBeNull();
    expect(old?.className).toContain('stale');
  });

  it('sorts by a header click: ascending, descending, back to list order', async () => {
    const user = userEvent.setup();
    await mount(['B', 'A', 'C']);
    act(() => {
      useMonitor.getState().applyFrame(
        makeFrame(1, [
          { symbol: 'B', bid: 2 },
          { symbol: 'A', bid: 3 },
          { symbol: 'C', bid: 1 },
        ]),
      );
    });
    const bidHeader = screen.getByRole('columnheader', { name: 'Bid' });
    await user.click(within(bidHeader).getByRole('button'));
    expect(symbolsShown()).toEqual(['C', 'B', 'A']);
    expect(bidHeader.getAttribute('aria-sort')).toBe('ascending');
    await user.click(within(bidHeader).getByRole('button'));
    expect(symbolsShown()).toEqual(['A', 'B', 'C']);
    await user.click(within(bidHeader).getByRole('button'));
    expect(symbolsShown()).toEqual(['B', 'A', 'C']);
    expect(bidHeader.getAttribute('aria-sort')).toBe('none');
  });

  it('arrow keys move the selection; Delete removes; Alt+arrow reorders', async () => {
    const user = userEvent.setup();
    const api = new FakeApi();
    api.handle('watchlists:remove-symbol', (input) =>
      ok({ id: input.id, name: 'Main', symbols: ['A', 'C'] }),
    );
    api.handle('watchlists:move-symbol', (input) =>
      ok({ id: input.id, name: 'Main', symbols: ['B', 'A', 'C'] }),
    );
    await mount(['A', 'B', 'C'], api);
    const area = screen.getByRole('group', { name: /Main: 3 symbols/ });
    area.focus();
    await user.keyboard('{ArrowDown}');
    expect(useMonitor.getState().selectedSymbol).toBe('A');
    await user.keyboard('{ArrowDown}{ArrowDown}{ArrowDown}');
    expect(useMonitor.getState().selectedSymbol).toBe('C');
    await user.keyboard('{Home}');
    expect(useMonitor.getState().selectedSymbol).toBe('A');
    expect(dataRows()[0]?.getAttribute('aria-selected')).toBe('true');
    await user.keyboard('{Alt>}{ArrowDown}{/Alt}');
    expect(api.callsOf('watchlists:move-symbol')).toEqual([
      { id: 'default', symbol: 'A', toIndex: 1 },
    ]);
    await user.keyboard('{End}{Delete}');
    expect(api.callsOf('watchlists:remove-symbol')).toEqual([{ id: 'default', symbol: 'C' }]);
  });

  it('the add form: a typo gets its reason without asking main; a good symbol is sent and the field clears', async () => {
    const user = userEvent.setup();
    const api = new FakeApi();
    api.handle('watchlists:add-symbols', (input) =>
      ok({
        watchlist: { id: input.id, name: 'Main', symbols: ['AAPL', 'JPM'] },
        added: ['JPM'],
        rejected: [],
      }),
    );
    await mount(['AAPL'], api);
    const input = screen.getByLabelText('Add symbol');
    await user.type(input, 'J#M');
    await user.click(screen.getByRole('button', { name: 'Add' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/only letters, digits/);
    expect(api.callsOf('watchlists:add-symbols')).toEqual([]);
    await user.clear(input);
    await user.type(input, 'jpm');
    await user.click(screen.getByRole('button', { name: 'Add' }));
    expect((await screen.findByRole('status')).textContent).toBe('Added JPM.');
    expect((input as HTMLInputElement).value).toBe('');
    expect(api.callsOf('watchlists:add-symbols')).toEqual([{ id: 'default', symbols: ['jpm'] }]);
  });

  it('a symbol the server refused (405) is named with the meaning, and its row is marked', async () => {
    const api = new FakeApi();
    await mount(['AAPL', 'XYZ'], api);
    act(() => {
      api.emit('subscriptions:update', {
        desired: { quotes: ['AAPL', 'XYZ'] },
        confirmed: { quotes: ['AAPL'] },
        refused: [
          {
            channel: 'quotes',
            symbol: 'XYZ',
            code: 405,
            meaning: 'Your plan allows fewer symbols; some were refused.',
            at: T0,
          },
        ],
      });
    });
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toMatch(/Refused by the server \(405: symbol limit\): XYZ\./);
    expect(alert.textContent).toMatch(/Your plan allows fewer symbols/);
    const xyz = dataRows().find((r) => r.getAttribute('data-symbol') === 'XYZ');
    expect(xyz?.className).toContain('refused');
  });

  it('5,000 symbols render only a screenful of rows, with spacers for the rest', async () => {
    const symbols = Array.from({ length: 5000 }, (_, i) => `S${i}`);
    await mount(symbols);
    const rows = dataRows();
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(80);
    const table = screen.getByRole('table', { name: 'Watchlist' });
    expect(table.getAttribute('aria-rowcount')).toBe('5001');
  });
});

describe('watchlist rules', () => {
  it('selectionAfterKey', () => {
    expect(selectionAfterKey('ArrowDown', -1, 5, 3)).toBe(0);
    expect(selectionAfterKey('ArrowUp', -1, 5, 3)).toBe(0);
    expect(selectionAfterKey('ArrowDown', 4, 5, 3)).toBe(4);
    expect(selectionAfterKey('ArrowUp', 0, 5, 3)).toBe(0);
    expect(selectionAfterKey('PageDown', 1, 5, 3)).toBe(4);
    expect(selectionAfterKey('PageUp', 4, 5, 3)).toBe(1);
    expect(selectionAfterKey('End', 0, 5, 3)).toBe(4);
    expect(selectionAfterKey('x', 0, 5, 3)).toBeUndefined();
    expect(selectionAfterKey('ArrowDown', -1, 0, 3)).toBeUndefined();
  });

  it('describeAdd: what was added, what was refused and why, and only the refused stay typed', () => {
    expect(describeAdd(['JPM'], [])).toEqual({ text: 'Added JPM.', problem: false, keep: '' });
    expect(describeAdd([], [{ input: 'aapl', reason: 'AAPL is already in the list' }])).toEqual({
      text: 'Refused: AAPL is already in the list.',
      problem: true,
      keep: '',
    });
    expect(describeAdd(['A'], [{ input: 'b#', reason: 'bad' }])).toEqual({
      text: 'Added A. Refused: b# (bad).',
      problem: true,
      keep: 'b#',
    });
  });

  it('refusalsFor groups the newest refusal per symbol of the list by code', () => {
    const r = (symbol: string, code: number, at: number) => ({
      channel: 'quotes' as const,
      symbol,
      code,
      meaning: `m${code}`,
      at,
    });
    expect(
      refusalsFor([r('A', 405, 1), r('B', 405, 2), r('OTHER', 405, 3), r('A', 410, 0)], ['A', 'B']),
    ).toEqual([{ code: 405, meaning: 'm405', symbols: ['A', 'B'] }]);
  });
});

describe('list actions', () => {
  async function mountLists(api = new FakeApi()) {
    api.snapshot = snapshot({
      watchlists: [
        { id: 'a', name: 'One', symbols: ['A'] },
        { id: 'b', name: 'Two', symbols: ['B'] },
      ],
    });
    useMonitor.getState().attach(api, { afterPaint: never });
    render(<WatchlistPanel />);
    await screen.findByRole('tab', { name: /One/ });
    return api;
  }

  it('a rename acts on the list it was opened for, even after a tab switch', async () => {
    const user = userEvent.setup();
    const api = await mountLists();
    api.handle('watchlists:rename', (input) => ok({ id: input.id, name: input.name, symbols: [] }));
    await user.click(screen.getByRole('button', { name: 'Rename list' }));
    const input = screen.getByLabelText('New name for “One”');
    expect((input as HTMLInputElement).value).toBe('One');
    await user.clear(input);
    await user.type(input, 'Tech');
    await user.click(screen.getByRole('tab', { name: /Two/ }));
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(api.callsOf('watchlists:rename')).toEqual([{ id: 'a', name: 'Tech' }]);
  });

  it('focus goes into the form when it opens and back to its button when it closes', async () => {
    const user = userEvent.setup();
    await mountLists();
    await user.click(screen.getByRole('button', { name: 'Delete list' }));
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Delete' }));
    await user.keyboard('{Escape}');
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Delete list' }));
    await user.click(screen.getByRole('button', { name: 'New list' }));
    expect(document.activeElement).toBe(screen.getByLabelText('New watchlist name'));
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'New list' }));
  });

  it('each list tab controls the tab panel, which it labels', async () => {
    await mountLists();
    const tab = screen.getByRole('tab', { name: /One/ });
    const panel = screen.getByRole('tabpanel');
    expect(tab.getAttribute('aria-controls')).toBe(panel.id);
    expect(panel.getAttribute('aria-labelledby')).toBe(tab.id);
  });
});

describe('keyboard and selection details', () => {
  it('the focused table points at the selected row and announces it', async () => {
    const user = userEvent.setup();
    await mount(['A', 'B', 'C']);
    const area = screen.getByRole('group', { name: /Main: 3 symbols/ });
    area.focus();
    await user.keyboard('{ArrowDown}{ArrowDown}');
    const active = area.getAttribute('aria-activedescendant');
    expect(active).not.toBeNull();
    expect(document.getElementById(active ?? '')?.getAttribute('data-symbol')).toBe('B');
    expect(area.querySelector('[aria-live="polite"]')?.textContent).toBe('B selected, 2 of 3');
  });

  it('a click on a row button leaves the focus on the table, so the keys keep working', async () => {
    const user = userEvent.setup();
    const api = new FakeApi();
    api.handle('watchlists:move-symbol', (input) =>
      ok({ id: input.id, name: 'Main', symbols: ['B', 'A', 'C'] }),
    );
    await mount(['A', 'B', 'C'], api);
    const area = screen.getByRole('group', { name: /Main: 3 symbols/ });
    area.focus();
    await user.click(screen.getByRole('button', { name: 'Move A down' }));
    expect(document.activeElement).toBe(area);
    await user.keyboard('{ArrowDown}');
    expect(useMonitor.getState().selectedSymbol).toBe('A');
  });

  it('Delete pressed again before main answers removes the symbol once', async () => {
    const user = userEvent.setup();
    const api = new FakeApi();
    let answer: (() => void) | undefined;
    api.handle(
      'watchlists:remove-symbol',
      (input) =>
        new Promise((resolve) => {
          answer = () => resolve(ok({ id: input.id, name: 'Main', symbols: ['A', 'C'] }));
        }),
    );
    await mount(['A', 'B', 'C'], api);
    const area = screen.getByRole('group', { name: /Main: 3 symbols/ });
    area.focus();
    await user.keyboard('{ArrowDown}{ArrowDown}{Delete}{Delete}');
    expect(api.callsOf('watchlists:remove-symbol')).toEqual([{ id: 'default', symbol: 'B' }]);
    await act(async () => {
      answer?.();
      await Promise.resolve();
    });
  });

  it('a refusal that is not the symbol limit is not explained as one', async () => {
    const api = new FakeApi();
    await mount(['AAPL', 'XYZ'], api);
    act(() => {
      api.emit('subscriptions:update', {
        desired: { quotes: ['AAPL', 'XYZ'] },
        confirmed: { quotes: ['AAPL'] },
        refused: [
          {
            channel: 'quotes',
            symbol: 'XYZ',
            code: 410,
            meaning: 'Invalid subscribe action.',
            at: T0,
          },
        ],
      });
    });
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toMatch(
      /Refused by the server \(410\): XYZ\. Invalid subscribe action\./,
    );
    expect(alert.textContent).not.toMatch(/limit/);
  });
});

describe('review follow-ups', () => {
  it('a long add is summarized, not read out name by name', () => {
    const added = Array.from({ length: 400 }, (_, i) => `X${i}`);
    const said = describeAdd(added, [
      { input: 'a!', reason: 'bad' },
      { input: 'b!', reason: 'bad' },
      { input: 'c!', reason: 'bad' },
      { input: 'd!', reason: 'bad' },
    ]);
    expect(said.text).toBe(
      'Added 400 symbols: X0, X1, X2, X3, X4, X5 and 394 more. Refused: a!, b!, c!, d! (bad).',
    );
    const many = describeAdd(
      [],
      Array.from({ length: 5 }, (_, i) => ({
        input: `S${i}`,
        reason: `S${i} is already in the list`,
      })),
    );
    expect(many.text).toBe(
      'Refused: S0 is already in the list; S1 is already in the list; S2 is already in the list; and 2 more.',
    );
    expect(said.keep).toBe('a!, b!, c!, d!');
  });

  it('Retry refused symbols asks main again and says how many', async () => {
    const user = userEvent.setup();
    const api = new FakeApi().handle('subscriptions:retry-refused', () => ok({ retried: 3 }));
    await mount(['AAPL', 'XYZ'], api);
    act(() => {
      api.emit('subscriptions:update', {
        desired: { quotes: ['AAPL', 'XYZ'] },
        confirmed: { quotes: ['AAPL'] },
        refused: [{ channel: 'quotes', symbol: 'XYZ', code: 405, meaning: 'limit', at: T0 }],
      });
    });
    await user.click(screen.getByRole('button', { name: 'Retry refused symbols' }));
    expect(api.callsOf('subscriptions:retry-refused')).toEqual([{}]);
    expect(await screen.findByText('Asked the server again for 3 subscriptions.')).toBeTruthy();
  });

  it('list tabs are named with their symbol count', async () => {
    await mount(['A', 'B', 'C']);
    expect(screen.getByRole('tab', { name: /^Main ?, 3 symbols$/ })).toBeTruthy();
  });

  it('moving the selection down past the visible rows scrolls the row fully into view', async () => {
    const user = userEvent.setup();
    await mount(Array.from({ length: 100 }, (_, i) => `S${i}`));
    const area = screen.getByRole('group', { name: /Main: 100 symbols/ });
    area.focus();
    await user.keyboard('{End}');
    // 100 rows of 26 px under the header: the last row's bottom is at header + 2600.
    const header = area.querySelector('thead')?.offsetHeight ?? 0;
    expect(area.scrollTop).toBe(header + 100 * 26 - 520);
    await user.keyboard('{Home}');
    expect(area.scrollTop).toBe(0);
  });
});

describe('more details', () => {
  it('a symbol listed for a while without any data is marked "no data"', async () => {
    await mount(['AAPL', 'ZZZZ']);
    act(() => {
      useMonitor
        .getState()
        .applyFrame(makeFrame(1, [{ symbol: 'AAPL', bid: 1, receivedAt: Date.now() }]));
      useMonitor.setState({
        listedAt: new Map([
          ['AAPL', Date.now() - 60_000],
          ['ZZZZ', Date.now() - 60_000],
        ]),
      });
    });
    const [aapl, zzzz] = dataRows();
    expect(within(zzzz as HTMLElement).queryByText('no data')).not.toBeNull();
    expect(within(aapl as HTMLElement).queryByText('no data')).toBeNull();
    // Not live (a source switch, a backoff): every row would lack data, so none is marked.
    act(() => useMonitor.setState({ connection: connectionView({ state: 'backoff' }) }));
    expect(within(dataRows()[1] as HTMLElement).queryByText('no data')).toBeNull();
    act(() => useMonitor.setState({ connection: connectionView({ state: 'live', since: T0 }) }));
    expect(within(dataRows()[1] as HTMLElement).queryByText('no data')).not.toBeNull();
    // Listed just now: not yet.
    act(() => useMonitor.setState({ listedAt: new Map([['ZZZZ', Date.now()]]) }));
    expect(within(dataRows()[1] as HTMLElement).queryByText('no data')).toBeNull();
  });

  it('Alt+arrow pressed quickly counts from where the symbol is headed', async () => {
    const user = userEvent.setup();
    const api = new FakeApi();
    const answers: Array<() => void> = [];
    api.handle(
      'watchlists:move-symbol',
      (input) =>
        new Promise((resolve) => {
          answers.push(() => resolve(ok({ id: input.id, name: 'Main', symbols: ['B', 'C', 'A'] })));
        }),
    );
    await mount(['A', 'B', 'C', 'D'], api);
    const area = screen.getByRole('group', { name: /Main: 4 symbols/ });
    area.focus();
    await user.keyboard('{ArrowDown}{Alt>}{ArrowDown}{ArrowDown}{/Alt}');
    expect(api.callsOf('watchlists:move-symbol')).toEqual([
      { id: 'default', symbol: 'A', toIndex: 1 },
      { id: 'default', symbol: 'A', toIndex: 2 },
    ]);
    await act(async () => {
      for (const answer of answers) answer();
      await Promise.resolve();
    });
  });
});

describe('the accessible mirror', () => {
  function cellsOf(symbol: string): HTMLElement[] {
    const row = dataRows().find((r) => r.getAttribute('data-symbol') === symbol);
    if (row === undefined) throw new Error(`no row ${symbol}`);
    return within(row).getAllByRole('cell');
  }

  it('writes new values into the same cells at its pace: no row renders, no element is replaced', async () => {
    await mount(['AAPL']);
    act(() => {
      useMonitor.getState().applyFrame(makeFrame(1, [{ symbol: 'AAPL', bid: 100, ask: 101 }]));
    });
    await mirrorCatchUp();
    const [bid] = cellsOf('AAPL');
    const text = bid?.firstChild;
    expect(text?.textContent).toBe('100.00');
    act(() => {
      useMonitor.getState().applyFrame(makeFrame(2, [{ symbol: 'AAPL', bid: 100.25, ask: 101 }]));
    });
    // Not on every frame: within the mirror's interval.
    expect(bid?.textContent).toBe('100.00');
    await mirrorCatchUp();
    const [bidAfter] = cellsOf('AAPL');
    expect(bidAfter).toBe(bid);
    expect(bidAfter?.firstChild).toBe(text);
    expect(bidAfter?.textContent).toBe('100.25');
  });

  it('touches only the cells whose text changed', async () => {
    await mount(['AAPL']);
    act(() => {
      useMonitor
        .getState()
        .applyFrame(makeFrame(1, [{ symbol: 'AAPL', bid: 100, bidSize: 300, ask: 101 }]));
    });
    await mirrorCatchUp();
    const table = screen.getByRole('table', { name: 'Watchlist' });
    const changes: MutationRecord[] = [];
    const observer = new MutationObserver((records) => changes.push(...records));
    observer.observe(table, { subtree: true, characterData: true, childList: true });
    act(() => {
      // Only the bid size moves: the prices, the spread and the age keep their text.
      useMonitor
        .getState()
        .applyFrame(makeFrame(2, [{ symbol: 'AAPL', bid: 100, bidSize: 400, ask: 101 }]));
    });
    await mirrorCatchUp();
    changes.push(...observer.takeRecords());
    observer.disconnect();
    expect(changes.map((m) => [m.type, m.target.textContent])).toEqual([['characterData', '400']]);
  });

  it('the change cells say the change; a stale row that gets a quote loses its mark at once', async () => {
    await mount(['AAPL']);
    act(() => {
      useMonitor
        .getState()
        .applyFrame(
          makeFrame(1, [
            { symbol: 'AAPL', bid: 1, last: 110, ref: 100, receivedAt: Date.now() - 60_000 },
          ]),
        );
    });
    await mirrorCatchUp();
    const row = () => dataRows()[0] as HTMLElement;
    expect(row().className).toContain('stale');
    const change = () => cellsOf('AAPL').slice(7, 9);
    expect(change().map((c) => c.textContent)).toEqual(['+10.00', '+10.00%']);
    act(() => {
      useMonitor
        .getState()
        .applyFrame(
          makeFrame(2, [{ symbol: 'AAPL', bid: 1, last: 95, ref: 100, receivedAt: Date.now() }]),
        );
    });
    // The mark is in the symbol cell, in plain sight: it goes with the frame, not the mirror.
    expect(row().className).not.toContain('stale');
    expect(within(row()).queryByText('stale')).toBeNull();
    await mirrorCatchUp();
    expect(change().map((c) => c.textContent)).toEqual(['−5.00', '−5.00%']);
  });

  it('rows that scroll into view are filled before they are seen', async () => {
    const symbols = Array.from({ length: 200 }, (_, i) => `S${i}`);
    await mount(symbols);
    act(() => {
      useMonitor.getState().applyFrame(
        makeFrame(
          1,
          symbols.map((symbol, i) => ({ symbol, bid: 10 + i })),
        ),
      );
    });
    const area = screen.getByRole('group', { name: /Main: 200 symbols/ });
    await act(async () => {
      area.scrollTop = 150 * 26;
      area.dispatchEvent(new Event('scroll'));
      await Promise.resolve();
    });
    expect(symbolsShown()).toContain('S160');
    expect(cellsOf('S160')[0]?.textContent).toBe('170.00');
  });
});
