/**
 * The handler inspector: rows and counts from the store, throwing handlers flagged with their stack
 * one click away, and removal offered (and sent) only for user handlers.
 */
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { fail, ok } from '../../shared/api.ts';
import { HandlersPanel, errorsFirst } from '../../renderer/panels/handlers.tsx';
import { useMonitor } from '../../renderer/store.ts';
import { FakeApi, T0, handlerView, snapshot } from './fake-api.ts';

const builtin = handlerView({
  id: 'h-book',
  name: 'book',
  kind: 'quote',
  symbol: '*',
  builtin: true,
  calls: 12_345,
  meanMs: 0.042,
  maxMs: 1.5,
  lastCalledAt: T0 + 5000,
});
const thrower = handlerView({
  id: 'h-alert',
  name: 'price-alert',
  kind: 'trade',
  symbol: 'AAPL',
  builtin: false,
  calls: 40,
  errors: 3,
  meanMs: 2.25,
  maxMs: 48,
  lastError: {
    message: 'Cannot read properties of undefined',
    stack: 'TypeError: Cannot read properties of undefined\n    at alert (user.js:3:9)',
    at: T0 + 4000,
  },
});
const quiet = handlerView({
  id: 'h-log',
  name: 'logger',
  kind: 'bar',
  symbol: 'MSFT',
  builtin: false,
  calls: 0,
});

function attach(api = new FakeApi()): FakeApi {
  useMonitor.getState().attach(api, { afterPaint: () => new Promise(() => {}) });
  return api;
}

describe('HandlersPanel', () => {
  it('lists every handler with its counts in a labelled table', () => {
    useMonitor.setState({ handlers: [builtin, thrower, quiet] });
    render(<HandlersPanel />);
    const panel = screen.getByRole('region', { name: 'Handler inspector' });
    const table = within(panel).getByRole('table', { name: 'Handlers' });
    const headers = within(table)
      .getAllByRole('columnheader')
      .map((h) => h.textContent);
    expect(headers.slice(0, 10)).toEqual([
      'Name',
      'Stream',
      'Symbol',
      'Calls',
      'Errors',
      'Mean',
      'Max',
      'Registered',
      'Last called',
      'Last error',
    ]);
    // Header row plus one per handler, in the store's order.
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(4);
    const book = within(rows[1]!)
      .getAllByRole('cell')
      .map((c) => c.textContent);
    expect(within(rows[1]!).getByRole('rowheader').textContent).toBe('book');
    expect(book.slice(0, 6)).toEqual(['quote', '*', '12,345', '0', '0.04 ms', '1.5 ms']);
    expect(book).toContain('built-in');
    const alert = within(rows[2]!)
      .getAllByRole('cell')
      .map((c) => c.textContent);
    expect(alert.slice(0, 6)).toEqual(['trade', 'AAPL', '40', '3', '2.3 ms', '48 ms']);
    // A handler never called has no mean or max yet, rather than a misleading 0.
    const logger = within(rows[3]!)
      .getAllByRole('cell')
      .map((c) => c.textContent);
    expect(logger.slice(4, 6)).toEqual(['—', '—']);
    expect(panel.textContent).toContain('3 handlers, 1 throwing');
  });

  it('flags a throwing handler and opens its last error to the stack from the keyboard', async () => {
    const user = userEvent.setup();
    useMonitor.setState({ handlers: [builtin, thrower] });
    render(<HandlersPanel />);
    const row = screen.getByRole('rowheader', { name: /price-alert/ }).closest('tr')!;
    expect(row.classList.contains('handler-failing')).toBe(true);
    expect(screen.getByRole('rowheader', { name: 'price-alert (throwing)' })).toBeTruthy();
    expect(
      screen
        .getByRole('rowheader', { name: 'book' })
        .closest('tr')!
        .classList.contains('handler-failing'),
    ).toBe(false);
    const errors = within(row).getAllByRole('cell')[3]!;
    expect(errors.textContent).toBe('3');
    expect(errors.classList.contains('down')).toBe(true);

    const details = row.querySelector('details')!;
    expect(details.open).toBe(false);
    // A native <summary>: in the tab order (browsers toggle it with Enter and Space; happy-dom
    // only with a click, so the toggle itself is clicked).
    const summary = within(row)
      .getByText('Cannot read properties of undefined')
      .closest('summary')!;
    await user.tab(); // the "Errors first" checkbox
    await user.tab();
    expect(document.activeElement).toBe(summary);
    await user.click(summary);
    expect(details.open).toBe(true);
    expect(within(row).getByText(/at alert \(user\.js:3:9\)/)).toBeTruthy();
  });

  it('can list the throwing handlers first', async () => {
    const user = userEvent.setup();
    useMonitor.setState({ handlers: [builtin, quiet, thrower] });
    render(<HandlersPanel />);
    const names = () => screen.getAllByRole('rowheader').map((h) => h.textContent);
    expect(names()).toEqual(['book', 'logger', '⚠ price-alert (throwing)']);
    await user.click(screen.getByRole('checkbox', { name: 'Errors first' }));
    expect(names()).toEqual(['⚠ price-alert (throwing)', 'book', 'logger']);
    expect(errorsFirst([builtin, quiet, thrower]).map((h) => h.id)).toEqual([
      'h-alert',
      'h-book',
      'h-log',
    ]);
  });

  it('offers removal only for user handlers and sends handlers:remove with the id', async () => {
    const user = userEvent.setup();
    const api = attach(new FakeApi(snapshot({ handlers: [builtin, thrower, quiet] }))).handle(
      'handlers:remove',
      () => ok([builtin, quiet]),
    );
    render(<HandlersPanel />);
    await screen.findByRole('rowheader', { name: 'logger' });
    expect(screen.getAllByRole('row')).toHaveLength(4);
    expect(screen.queryByRole('button', { name: 'Remove handler book' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Remove handler logger' })).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Remove handler price-alert' }));
    expect(api.callsOf('handlers:remove')).toEqual([{ id: 'h-alert' }]);
    expect(await screen.findAllByRole('row')).toHaveLength(3);
    expect(screen.queryByRole('rowheader', { name: /price-alert/ })).toBeNull();
  });

  it('says why a removal failed', async () => {
    const user = userEvent.setup();
    const api = attach(new FakeApi(snapshot({ handlers: [quiet] }))).handle('handlers:remove', () =>
      fail('not-found', 'no handler h-log'),
    );
    render(<HandlersPanel />);
    await screen.findByRole('rowheader', { name: 'logger' });
    await user.click(screen.getByRole('button', { name: 'Remove handler logger' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe('Could not remove logger: Remove handler: no handler h-log');
    expect(api.callsOf('handlers:remove')).toEqual([{ id: 'h-log' }]);
    expect(screen.getByRole('rowheader', { name: 'logger' })).toBeTruthy();
  });

  it('has an empty state', () => {
    render(<HandlersPanel />);
    expect(screen.queryByRole('table')).toBeNull();
    expect(screen.getByText(/No handlers registered/)).toBeTruthy();
  });
});
