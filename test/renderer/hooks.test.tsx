/**
 * The panels' shared hooks against React itself (a real render, fake timers): useSettled passes a
 * value on only once it has rested, however often the component that holds it renders meanwhile.
 */
import { act, render, screen } from '@testing-library/react';
import { useState } from 'react';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useSettled } from '../../renderer/hooks.ts';

afterEach(() => {
  vi.useRealTimers();
});

/**
 * Shows useSettled(value, rest) with the rest written inline, as a caller would: a new function
 * every render. It notes each time since the previous change it is asked about in `seen`;
 * `tick` re-renders it without changing the value.
 */
let tick: () => void = () => undefined;
function Settled({
  value,
  seen = [],
}: {
  readonly value: string;
  readonly seen?: number[];
}): ReactNode {
  const [, setTicks] = useState(0);
  tick = () => setTicks((n) => n + 1);
  const settled = useSettled(value, (since) => {
    seen.push(since);
    return 100;
  });
  return <output>{settled}</output>;
}

function shown(): string {
  return screen.getByRole('status').textContent ?? '';
}

describe('useSettled', () => {
  it('settles while its holder re-renders, even with a rest written inline', async () => {
    vi.useFakeTimers();
    const view = render(<Settled value="A" />);
    view.rerender(<Settled value="B" />);
    expect(shown()).toBe('A');
    // The holder re-renders every 40 ms (a quote ticking beside the value), the value stays B.
    for (let at = 40; at <= 160; at += 40) {
      await act(() => vi.advanceTimersByTimeAsync(40));
      act(() => tick());
    }
    expect(shown()).toBe('B');
  });

  it('measures the time since the value last changed, not since its holder last rendered', async () => {
    vi.useFakeTimers();
    const seen: number[] = [];
    const view = render(<Settled value="A" seen={seen} />);
    await act(() => vi.advanceTimersByTimeAsync(150));
    view.rerender(<Settled value="B" seen={seen} />);
    // Re-renders that do not change the value are not changes.
    await act(() => vi.advanceTimersByTimeAsync(50));
    act(() => tick());
    await act(() => vi.advanceTimersByTimeAsync(50));
    view.rerender(<Settled value="C" seen={seen} />);
    expect(seen.at(-1)).toBe(100);
    await act(() => vi.advanceTimersByTimeAsync(100));
    expect(shown()).toBe('C');
  });
});

describe('useSettled rest function', () => {
  it('is given the time since the last change and the gap between the two changes before', async () => {
    vi.useFakeTimers();
    const asked: [number, number][] = [];
    const rest = (since: number, before: number) => {
      asked.push([since, before]);
      return 100;
    };
    function Gaps({ value }: { readonly value: string }): ReactNode {
      return <output>{useSettled(value, rest)}</output>;
    }
    const view = render(<Gaps value="A" />);
    await act(() => vi.advanceTimersByTimeAsync(500));
    view.rerender(<Gaps value="B" />);
    await act(() => vi.advanceTimersByTimeAsync(40));
    view.rerender(<Gaps value="C" />);
    await act(() => vi.advanceTimersByTimeAsync(180));
    view.rerender(<Gaps value="D" />);
    expect(asked).toEqual([
      [Infinity, Infinity],
      [500, Infinity],
      [40, 500],
      [180, 40],
    ]);
    await act(() => vi.advanceTimersByTimeAsync(100));
    expect(shown()).toBe('D');
  });
});
