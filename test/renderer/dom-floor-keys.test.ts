import { afterEach, describe, expect, it, vi } from 'vitest';
import { FLOOR_KEYS, floorPage } from '../../bench/lib/dom-floor-page.ts';

/** The floor page's body in this document, with its key script run (not its rAF writer). */
function mountFloor(rows: number): HTMLElement {
  const html = floorPage(
    {
      rows,
      columns: [
        { label: 'Symbol', numeric: false, width: 96 },
        { label: 'Bid', numeric: true, width: 78 },
      ],
      theme: 'dark',
    },
    '/app.css',
  );
  const body = /<body>([\s\S]*)<script>/.exec(html)?.[1];
  if (body === undefined) throw new Error('no body in the floor page');
  document.body.innerHTML = body;
  // Indirect eval: the script runs as the page would run it, in the global scope.
  (0, eval)(FLOOR_KEYS);
  const area = document.getElementById('watchlist-table-area');
  if (area === null) throw new Error('no table area');
  return area;
}

function press(area: HTMLElement, key: string): KeyboardEvent {
  const event = new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true });
  area.dispatchEvent(event);
  return event;
}

describe('the DOM floor page: keys', () => {
  afterEach(() => {
    vi.useRealTimers();
    document.body.innerHTML = '';
  });

  it('moves the highlighted row on ArrowDown, wrapping past the last row, and marks the paint in the next frame', () => {
    vi.useFakeTimers({ toFake: ['requestAnimationFrame'] });
    const area = mountFloor(3);
    expect(area.getAttribute('data-painted-selection')).toBe('');
    expect(document.getElementById('add-symbol-input')).not.toBeNull();

    expect(press(area, 'Home').defaultPrevented).toBe(true);
    expect(area.getAttribute('aria-activedescendant')).toBe('floor-row-0');
    // Not painted until the frame that draws it.
    expect(area.getAttribute('data-painted-selection')).toBe('');
    vi.advanceTimersToNextFrame();
    expect(area.getAttribute('data-painted-selection')).toBe('floor-row-0');

    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      press(area, 'ArrowDown');
      vi.advanceTimersToNextFrame();
      seen.push(area.dataset['paintedSelection'] ?? '');
    }
    expect(seen).toEqual(['floor-row-1', 'floor-row-2', 'floor-row-0', 'floor-row-1']);
    const marked = [...area.querySelectorAll('tr[aria-selected="true"]')].map((r) => r.id);
    expect(marked).toEqual(['floor-row-1']);
    expect(document.getElementById('floor-row-1')?.style.background).not.toBe('');
    expect(document.getElementById('floor-row-0')?.style.background).toBe('');

    press(area, 'ArrowUp');
    press(area, 'ArrowUp');
    expect(area.getAttribute('aria-activedescendant')).toBe('floor-row-2');
    press(area, 'End');
    expect(area.getAttribute('aria-activedescendant')).toBe('floor-row-2');
  });

  it('leaves other keys alone', () => {
    const area = mountFloor(2);
    expect(press(area, 'a').defaultPrevented).toBe(false);
    expect(area.getAttribute('aria-activedescendant')).toBe('');
    expect(area.querySelector('tr[aria-selected]')).toBeNull();
  });
});
