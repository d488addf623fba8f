/**
 * A 'deeplink:symbol' from main: the symbol is selected in the active list; one the list does not
 * hold is added only after the user agrees; failures are told, never silent.
 */
import { describe, expect, it } from 'vitest';
import { listenForDeepLinks, openSymbolLink } from '../../renderer/deep-link.ts';
import { useMonitor } from '../../renderer/store.ts';
import { ok, type Watchlist } from '../../shared/api.ts';
import { FakeApi, snapshot } from './fake-api.ts';

const MAIN: Watchlist = { id: 'default', name: 'Main', symbols: ['AAPL', 'MSFT'] };

function setup(lists: readonly Watchlist[] = [MAIN]) {
  const api = new FakeApi(snapshot({ watchlists: [...lists] })).handle(
    'watchlists:add-symbols',
    ({ id, symbols }) => {
      const symbol = symbols[0]!.toUpperCase();
      if (symbol === 'NOPE')
        return ok({
          watchlist: MAIN,
          added: [],
          rejected: [{ input: 'NOPE', reason: 'unknown symbol' }],
        });
      const watchlist = { ...MAIN, id, symbols: [...MAIN.symbols, symbol] };
      api.emit('watchlists:update', [watchlist]);
      return ok({ watchlist, added: [symbol], rejected: [] });
    },
  );
  useMonitor.getState().attach(api, { afterPaint: () => new Promise(() => {}) });
  const asked: string[] = [];
  const told: string[] = [];
  let answer = true;
  const ui = {
    confirm: (q: string) => {
      asked.push(q);
      return answer;
    },
    tell: (m: string) => told.push(m),
  };
  return { api, ui, asked, told, answer: (a: boolean) => (answer = a) };
}

describe('deep links in the page', () => {
  it('a symbol in the active list is selected without asking', async () => {
    const { ui, asked } = setup();
    expect(await openSymbolLink('MSFT', ui)).toBe('selected');
    expect(useMonitor.getState().selectedSymbol).toBe('MSFT');
    expect(asked).toEqual([]);
  });

  it('a new symbol is added after the user agrees, then selected', async () => {
    const { api, ui, asked } = setup();
    expect(await openSymbolLink('NVDA', ui)).toBe('added');
    expect(asked).toEqual(['A link asks to show NVDA. Add it to the list "Main"?']);
    expect(api.callsOf('watchlists:add-symbols')).toEqual([{ id: 'default', symbols: ['NVDA'] }]);
    expect(useMonitor.getState().selectedSymbol).toBe('NVDA');
  });

  it('declined: nothing is sent and nothing changes', async () => {
    const { api, ui, answer } = setup();
    answer(false);
    expect(await openSymbolLink('NVDA', ui)).toBe('declined');
    expect(api.callsOf('watchlists:add-symbols')).toEqual([]);
    expect(useMonitor.getState().selectedSymbol).toBeUndefined();
  });

  it('a symbol main refuses is told to the user', async () => {
    const { ui, told } = setup();
    expect(await openSymbolLink('NOPE', ui)).toBe('failed');
    expect(told).toEqual(['Could not add NOPE: unknown symbol']);
  });

  it('a link that arrives before the lists load waits for them; one that never gets them says so', async () => {
    const { ui, told } = setup();
    useMonitor.setState({ activeWatchlistId: undefined });
    const pending = openSymbolLink('AAPL', ui);
    useMonitor.setState({ activeWatchlistId: 'default' });
    expect(await pending).toBe('selected');
    useMonitor.setState({ activeWatchlistId: undefined });
    expect(await openSymbolLink('AAPL', ui, 20)).toBe('failed');
    expect(told).toEqual(['Could not open AAPL: the watchlists did not load.']);
  });

  it('listenForDeepLinks handles the event and stops when unsubscribed', async () => {
    const { api, ui } = setup();
    const off = listenForDeepLinks(api, ui);
    await new Promise((resolve) => setTimeout(resolve, 0));
    api.emit('deeplink:symbol', { symbol: 'AAPL' });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(useMonitor.getState().selectedSymbol).toBe('AAPL');
    off();
    api.emit('deeplink:symbol', { symbol: 'MSFT' });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(useMonitor.getState().selectedSymbol).toBe('AAPL');
  });
});
