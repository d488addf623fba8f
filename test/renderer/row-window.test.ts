import { describe, expect, it } from 'vitest';
import { blockIndexes } from '../../renderer/grid/row-window.ts';

const range = (startIndex: number, endIndex: number, count: number, overscan = 8) => ({
  startIndex,
  endIndex,
  count,
  overscan,
});

describe('blockIndexes', () => {
  it('mounts the rows on screen and the margin, out to the edges of their blocks', () => {
    const rows = blockIndexes(range(10, 25, 1000), 8);
    // Margin 2..33, widened to blocks: 0..39.
    expect(rows[0]).toBe(0);
    expect(rows.at(-1)).toBe(39);
    expect(rows).toHaveLength(40);
  });

  it('keeps the same rows while a scroll stays inside the block, and moves by a whole block', () => {
    const at = (first: number) => {
      const rows = blockIndexes(range(first, first + 15, 1000), 8);
      return [rows[0], rows.at(-1)];
    };
    expect(at(20)).toEqual([8, 47]);
    expect(at(21)).toEqual([8, 47]);
    expect(at(24)).toEqual([16, 47]);
    expect(at(25)).toEqual([16, 55]);
  });

  it('stays within the list', () => {
    expect(blockIndexes(range(0, 5, 6), 8)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(blockIndexes(range(990, 999, 1000), 8).at(-1)).toBe(999);
    expect(blockIndexes(range(0, -1, 0), 8)).toEqual([]);
  });

  it('treats a block under one row as one row (the plain overscan)', () => {
    expect(blockIndexes(range(10, 12, 100, 2), 0)).toEqual([8, 9, 10, 11, 12, 13, 14]);
  });
});
