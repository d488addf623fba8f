/**
 * The message counters panel against store state: counts, rates and byte totals formatted, invalid
 * input by reason, the flow numbers that follow each folded frame, and the chart's label.
 */
import { act, render, screen, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { MessageKind } from '../../shared/metrics.ts';
import { CountersPanel, invalidRows, messageRows } from '../../renderer/panels/counters.tsx';
import { BOARD_SUMMARY_MS } from '../../renderer/quote-pace.ts';
import { useMonitor } from '../../renderer/store.ts';
import { T0, makeFrame, metricsView } from './fake-api.ts';

function panel(): HTMLElement {
  return screen.getByRole('region', { name: 'Message counters' });
}

function table(name: string): HTMLElement {
  return within(panel()).getByRole('table', { name });
}

/** Each body/foot row as [header, ...cells] texts. */
function rowsOf(tableEl: HTMLElement): string[][] {
  return within(tableEl)
    .getAllByRole('row')
    .slice(1)
    .map((row) => Array.from(row.querySelectorAll('th, td'), (c) => c.textContent));
}

/** The value next to a label in one of the panel's lists. */
function valueOf(label: string): string | null {
  const term = within(panel()).getByText(label, { selector: 'dt' });
  return term.nextElementSibling?.textContent ?? null;
}

function withCounts(counts: Partial<Record<MessageKind, number>>, total: number) {
  const base = metricsView();
  return metricsView({
    messages: { total, byKind: { ...base.messages.byKind, ...counts } },
  });
}

describe('messageRows', () => {
  it('lists quote, trade and bar always, other kinds once seen, in protocol order', () => {
    expect(messageRows(metricsView())).toEqual([
      { kind: 'quote', count: 0 },
      { kind: 'trade', count: 0 },
      { kind: 'bar', count: 0 },
    ]);
    const m = withCounts({ subscription: 2, quote: 10, status: 1, success: 3 }, 16);
    expect(messageRows(m).map((r) => r.kind)).toEqual([
      'quote',
      'trade',
      'bar',
      'status',
      'success',
      'subscription',
    ]);
  });

  it('keeps a kind this build does not know, after the known ones', () => {
    const base = metricsView();
    const byKind = { ...base.messages.byKind, quote: 1, futureKind: 7, otherNew: 0 };
    const m = metricsView({ messages: { total: 8, byKind } });
    expect(messageRows(m).slice(-2)).toEqual([
      { kind: 'bar', count: 0 },
      { kind: 'futureKind', count: 7 },
    ]);
  });
});

describe('invalidRows', () => {
  it('sorts by count, then by reason, and leaves zeros out', () => {
    const m = metricsView({
      invalid: { total: 9, byReason: { 'bad price': 2, 'bad json': 5, 'no symbol': 2, empty: 0 } },
    });
    expect(invalidRows(m)).toEqual([
      { kind: 'bad json', count: 5 },
      { kind: 'bad price', count: 2 },
      { kind: 'no symbol', count: 2 },
    ]);
  });
});

describe('CountersPanel', () => {
  it('waits for the app before the first metrics', () => {
    render(<CountersPanel />);
    expect(within(panel()).getByText('Waiting for the app…')).toBeTruthy();
    expect(within(panel()).queryByRole('table')).toBeNull();
    expect(within(panel()).getByRole('img').getAttribute('aria-label')).toBe(
      'Messages per second: no data yet',
    );
  });

  it('shows counts by type with a total, formatted', () => {
    useMonitor.setState({
      metrics: withCounts({ quote: 1_234_567, trade: 89_012, luld: 3, error: 1 }, 1_323_583),
    });
    render(<CountersPanel />);
    expect(rowsOf(table('Messages by type'))).toEqual([
      ['quote', '1,234,567'],
      ['trade', '89,012'],
      ['bar', '0'],
      ['luld', '3'],
      ['error', '1'],
      ['Total', '1,323,583'],
    ]);
  });

  it('shows message and byte rates over 1, 10 and 60 seconds', () => {
    useMonitor.setState({
      metrics: metricsView({
        rates: {
          messages: { s1: 1234, s10: 56.78, s60: 12_000 },
          bytes: { s1: 2048, s10: 512, s60: 3 * 1024 * 1024 },
        },
      }),
    });
    render(<CountersPanel />);
    const rates = table('Rates');
    expect(
      within(rates)
        .getAllByRole('columnheader')
        .map((c) => c.textContent),
    ).toEqual(['1 s', '10 s', '60 s']);
    expect(rowsOf(rates)).toEqual([
      ['Messages/s', '1,234', '56.8', '12.0K'],
      ['Bytes/s', '2.00 KiB/s', '512 B/s', '3.00 MiB/s'],
    ]);
  });

  it('shows bytes, frames and reconnects', () => {
    useMonitor.setState({
      metrics: metricsView({
        bytes: 5 * 1024 * 1024,
        frames: 45_678,
        reconnects: 4,
        reconnectsLast10m: 2,
      }),
    });
    render(<CountersPanel />);
    expect(valueOf('Bytes received')).toBe('5.00 MiB');
    expect(valueOf('Frames decoded')).toBe('45,678');
    expect(valueOf('Reconnects')).toBe('4 (2 in the last 10 min)');
  });

  it('says "none" without invalid input, and lists the reasons when there is some', () => {
    useMonitor.setState({ metrics: metricsView() });
    render(<CountersPanel />);
    expect(valueOf('Invalid input')).toBe('none');
    expect(within(panel()).queryByRole('table', { name: 'Invalid input by reason' })).toBeNull();

    act(() =>
      useMonitor.setState({
        metrics: metricsView({
          invalid: { total: 1_503, byReason: { 'not JSON': 3, 'quote without a symbol': 1_500 } },
        }),
      }),
    );
    expect(valueOf('Invalid input')).toBe('1,503');
    expect(rowsOf(table('Invalid input by reason'))).toEqual([
      ['quote without a symbol', '1,500'],
      ['not JSON', '3'],
    ]);
  });

  it('follows the frames that reach this view: frames, conflated updates, gaps', async () => {
    vi.useFakeTimers();
    useMonitor.setState({ metrics: metricsView() });
    render(<CountersPanel />);
    expect(valueOf('Frames to this view')).toBe('0');
    expect(valueOf('Sequence gaps')).toBe('0');
    expect(valueOf('Full frames asked for')).toBe('0');

    const apply = useMonitor.getState().applyFrame;
    act(() => {
      apply(makeFrame(1, [{ symbol: 'AAPL', bid: 1 }], { conflated: 1200 }), T0);
      apply(makeFrame(2, [{ symbol: 'AAPL', bid: 2 }], { conflated: 34 }), T0);
      // Seq 3 never arrives: one gap.
      apply(makeFrame(4, [{ symbol: 'AAPL', bid: 3 }]), T0);
    });
    // Paced, not per frame: nothing re-rendered yet, then the three frames at once.
    expect(valueOf('Frames to this view')).toBe('0');
    await act(() => vi.advanceTimersByTimeAsync(BOARD_SUMMARY_MS - 1));
    expect(valueOf('Frames to this view')).toBe('0');
    await act(() => vi.advanceTimersByTimeAsync(1));
    vi.useRealTimers();
    expect(valueOf('Frames to this view')).toBe('3');
    expect(valueOf('Conflated updates')).toBe('1,234 (latest wins; nothing queued)');
    const gaps = within(panel()).getByText('Sequence gaps', { selector: 'dt' }).nextElementSibling;
    expect(gaps?.textContent).toBe('1');
    expect(gaps?.className).toContain('counters-alert');
    // The gap asked main for a full frame, once.
    expect(valueOf('Full frames asked for')).toBe('1');
    const conflated = within(panel()).getByText('Conflated updates', { selector: 'dt' });
    expect(conflated.parentElement?.getAttribute('title')).toMatch(/nothing is dropped/);
  });

  it('labels the chart with the current and peak rate', () => {
    useMonitor.setState({
      metrics: metricsView(),
      rateHistory: [
        { at: T0, perSecond: 5678 },
        { at: T0 + 60_000, perSecond: 1234 },
      ],
    });
    render(<CountersPanel />);
    expect(within(panel()).getByRole('img').getAttribute('aria-label')).toBe(
      'Messages per second, last 1m 00s: now 1,234/s, peak 5,678/s',
    );
  });
});
