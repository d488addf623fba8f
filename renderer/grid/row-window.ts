/**
 * Which of the watchlist's rows the DOM table mounts: the rows on screen and some either side,
 * from @tanstack/virtual-core's virtualizer, widened to whole blocks of rows so that the mounted
 * set changes once every few rows scrolled, not on every one.
 *
 * The canvas draws the rows from the order and the scroll offset (renderer/grid/quote-grid.ts);
 * the table under it holds the symbol cells, the row buttons and the accessible mirror. With
 * @tanstack/react-virtual's hook, a scroll by one row (a scrolling ArrowDown) rendered the table
 * again to mount one row and drop another, then laid it out, in a task of its own after the frame
 * that moved the selection. Here the component renders only when the block of mounted rows moves
 * (or the row count, or the list's height): once in `block` rows of a steady scroll.
 */
import { useLayoutEffect, useReducer, useState } from 'react';
import { flushSync } from 'react-dom';
import {
  Virtualizer,
  elementScroll,
  observeElementOffset,
  observeElementRect,
  type Range,
  type Rect,
  type VirtualizerOptions,
} from '@tanstack/react-virtual';

/** Rows in a block: the mounted set moves by this many at a time. */
export const ROW_BLOCK = 8;

/**
 * The indexes to mount for `range` (the rows on screen): `range.overscan` either side, then out to
 * the edges of the blocks of `block` rows they fall in, within 0..count-1.
 */
export function blockIndexes(range: Range, block: number): number[] {
  if (range.count <= 0) return [];
  const size = Math.max(1, Math.floor(block));
  const low = Math.max(0, range.startIndex - range.overscan);
  const high = Math.min(range.count - 1, range.endIndex + range.overscan);
  const start = Math.floor(low / size) * size;
  const end = Math.min(range.count - 1, (Math.floor(high / size) + 1) * size - 1);
  const out: number[] = [];
  for (let i = start; i <= end; i++) out.push(i);
  return out;
}

export interface RowWindowOptions {
  readonly count: number;
  readonly getScrollElement: () => HTMLElement | null;
  readonly rowHeight: number;
  readonly overscan: number;
  readonly initialRect?: Rect;
  readonly block?: number;
  /**
   * A move of the mounted rows (`sync`: inside a scroll event): whether to render at once
   * (flushSync) rather than in a task of React's own. Default: never at once.
   */
  readonly urgent?: (instance: Virtualizer<HTMLElement, Element>, sync: boolean) => boolean;
}

/** What the component last rendered from the window: when it differs, it must render again. */
interface Shown {
  first: number;
  last: number;
  total: number;
}

/** The virtualizer's options for `o`: blocks of `size` rows, `rerender` when `shown` is out of date. */
function windowOptions(
  o: RowWindowOptions,
  size: number,
  shown: Shown,
  rerender: () => void,
): VirtualizerOptions<HTMLElement, Element> {
  return {
    count: o.count,
    getScrollElement: o.getScrollElement,
    estimateSize: () => o.rowHeight,
    overscan: o.overscan,
    ...(o.initialRect === undefined ? {} : { initialRect: o.initialRect }),
    rangeExtractor: (range) => blockIndexes(range, size),
    observeElementRect,
    observeElementOffset,
    scrollToFn: elementScroll,
    onChange: (v, sync) => {
      const items = v.getVirtualItems();
      const first = items[0]?.index ?? 0;
      const last = items[items.length - 1]?.index ?? -1;
      if (first === shown.first && last === shown.last && v.getTotalSize() === shown.total) return;
      if (o.urgent?.(v, sync) === true) flushSync(rerender);
      else rerender();
    },
  };
}

/**
 * A virtualizer over `getScrollElement()` whose owner renders again only when the mounted block,
 * the count or the total height moved. Read `getVirtualItems()` and `getTotalSize()` in render.
 */
export function useRowWindow(options: RowWindowOptions): Virtualizer<HTMLElement, Element> {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const block = options.block ?? ROW_BLOCK;
  const [state] = useState(() => {
    const shown: Shown = { first: 0, last: -1, total: 0 };
    const instance = new Virtualizer<HTMLElement, Element>(
      windowOptions(options, block, shown, rerender),
    );
    return { instance, shown };
  });
  const { instance, shown } = state;
  // Options are read again on every render (the count, the urgent rule's closure).
  instance.setOptions(windowOptions(options, block, shown, rerender));
  // Rendering these now is what the owner shows: a later change is measured against them.
  const items = instance.getVirtualItems();
  shown.first = items[0]?.index ?? 0;
  shown.last = items[items.length - 1]?.index ?? -1;
  shown.total = instance.getTotalSize();

  useLayoutEffect(() => instance._didMount(), [instance]);
  useLayoutEffect(() => instance._willUpdate());
  return instance;
}
