/**
 * useRowWindow in a DOM (happy-dom): the rows its owner mounts follow a scroll block by block,
 * under StrictMode's double mount too; a scroll inside the block renders nothing; a new count
 * renders; an unmounted owner hears no more scrolls.
 */
import { StrictMode, type ReactNode } from 'react';
import { act, render } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useRowWindow } from '../../renderer/grid/row-window.ts';

const ROW = 26;
/** The scroll area's height: ten rows. */
const HEIGHT = 10 * ROW;

let renders = 0;
/** Moves of the block the window told its owner of (through `urgent`). */
let heard = 0;

function List({ count }: { count: number }): ReactNode {
  renders += 1;
  const window = useRowWindow({
    count,
    getScrollElement: () => document.getElementById('area'),
    rowHeight: ROW,
    overscan: 8,
    initialRect: { width: 400, height: HEIGHT },
    urgent: () => {
      heard += 1;
      return false;
    },
  });
  const items = window.getVirtualItems();
  return (
    <div id="area" data-total={window.getTotalSize()}>
      {items.map((item) => (
        <p key={item.index} data-row={item.index} />
      ))}
    </div>
  );
}

/** The first and last row the owner mounted. */
function mounted(): [number, number] {
  const rows = [...document.querySelectorAll('[data-row]')].map((p) =>
    Number(p.getAttribute('data-row')),
  );
  return [rows[0] ?? -1, rows.at(-1) ?? -1];
}

function area(): HTMLElement {
  const el = document.getElementById('area');
  if (el === null) throw new Error('no area');
  return el;
}

// happy-dom lays nothing out: the area is ten rows tall, 400 pixels wide.
const saved = new Map<string, PropertyDescriptor | undefined>();
beforeAll(() => {
  for (const [name, size] of [
    ['clientHeight', HEIGHT],
    ['clientWidth', 400],
  ] as const) {
    saved.set(name, Object.getOwnPropertyDescriptor(HTMLElement.prototype, name));
    Object.defineProperty(HTMLElement.prototype, name, {
      configurable: true,
      get(this: HTMLElement) {
        return this.id === 'area' ? size : 0;
      },
    });
  }
});
afterAll(() => {
  for (const [name, descriptor] of saved)
    if (descriptor !== undefined) Object.defineProperty(HTMLElement.prototype, name, descriptor);
});

async function scrollTo(top: number): Promise<void> {
  await act(async () => {
    const el = area();
    el.scrollTop = top;
    el.dispatchEvent(new Event('scroll'));
    // The owner's render is a state update: let React run it.
    await new Promise((resolve) => setTimeout(resolve, 0));
  });
}

afterEach(() => {
  renders = 0;
  heard = 0;
});

describe('useRowWindow', () => {
  it('follows a scroll block by block, and under StrictMode (mounted twice) too', async () => {
    for (const strict of [false, true]) {
      const view = render(
        strict ? (
          <StrictMode>
            <List count={200} />
          </StrictMode>
        ) : (
          <List count={200} />
        ),
      );
      area();
      // Rows 0-9 on screen, 8 more, out to the block's edge: 0-23.
      expect(mounted()).toEqual([0, 23]);
      await scrollTo(50 * ROW);
      // Rows 50-59 on screen: 42-67, out to 40-71.
      expect(mounted()).toEqual([40, 71]);
      view.unmount();
    }
  });

  it('renders its owner when the block moves, not for a scroll inside it', async () => {
    render(<List count={200} />);
    area();
    await scrollTo(20 * ROW);
    expect(mounted()).toEqual([8, 39]);
    const before = renders;
    // 21: the margin 13..38 stays in the blocks 8..39.
    await scrollTo(21 * ROW);
    expect(renders).toBe(before);
    await scrollTo(25 * ROW);
    expect(mounted()).toEqual([16, 47]);
    expect(renders).toBeGreaterThan(before);
  });

  it('a new count: the rows and the height follow, the block alike or not', async () => {
    const view = render(<List count={200} />);
    area();
    await scrollTo(50 * ROW);
    view.rerender(<List count={70} />);
    expect(mounted()).toEqual([40, 69]);
    expect(document.getElementById('area')?.getAttribute('data-total')).toBe(String(70 * ROW));
    view.rerender(<List count={5} />);
    expect(mounted()).toEqual([0, 4]);
    expect(document.getElementById('area')?.getAttribute('data-total')).toBe(String(5 * ROW));
  });

  it('an unmounted owner is rendered no more by its area', async () => {
    const view = render(<List count={200} />);
    const el = area();
    // Heard while mounted...
    await scrollTo(40 * ROW);
    expect(heard).toBeGreaterThan(0);
    view.unmount();
    const before = { renders, heard };
    // ...and not once unmounted: its listeners went with it.
    el.scrollTop = 80 * ROW;
    el.dispatchEvent(new Event('scroll'));
    await act(() => new Promise((resolve) => setTimeout(resolve, 200)));
    expect({ renders, heard }).toEqual(before);
  });
});
