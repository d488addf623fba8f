/**
 * The e2e section's CPU profile reading: a source map's `mappings` decoded from a string built by
 * hand (each segment's expected position worked out from the base64 VLQ rules, and checked once
 * against the source-map-js consumer), a map on disk looked up the way profile frames are, and a
 * small profile's self time attributed, split into idle, GC and (program), and placed in sources.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeMappings,
  sourceMapsFor,
  topFunctions,
  type CpuProfile,
  type ProfileNode,
} from '../../../bench/lib/cpu-profile.ts';

// Line 0: AAAA -> [0,0,0,0]; KAAC -> column +5, source column +1.
// Line 1: the column restarts at 0; AACA -> source line +1 (source column carries over);
//         gBCAD -> column +16 (two digits), source +1, column -1 (D is -1).
// Line 2: empty. Line 3: E is a column-only segment (+2, not kept), then CAAA -> column 3, in
//         source 1 at line 1 still: only the generated column restarts on a new line.
const MAPPINGS = 'AAAA,KAAC;AACA,gBCAD;;E,CAAA';

describe('decodeMappings', () => {
  it('decodes segments per generated line, with source fields carried across lines', () => {
    expect(decodeMappings(MAPPINGS)).toEqual([
      [
        [0, 0, 0, 0],
        [5, 0, 0, 1],
      ],
      [
        [0, 0, 1, 1],
        [16, 1, 1, 0],
      ],
      [],
      [[3, 1, 1, 0]],
    ]);
  });

  it('gives one empty line for an empty string', () => {
    expect(decodeMappings('')).toEqual([[]]);
  });
});

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A built renderer folder holding assets/index.js.map with MAPPINGS over two sources. */
function staticDirWithMap(): string {
  dir = mkdtempSync(join(tmpdir(), 'cpu-profile-test-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(
    join(dir, 'assets', 'index.js.map'),
    JSON.stringify({
      version: 3,
      sources: ['../../renderer/store.ts', '../../renderer/panels/watchlist.tsx'],
      names: [],
      mappings: MAPPINGS,
    }),
  );
  return dir;
}

const BUNDLE = 'http://127.0.0.1:5173/assets/index.js';

describe('sourceMapsFor', () => {
  it("finds the segment at or before a column, naming the source's 1-based line", () => {
    const maps = sourceMapsFor(staticDirWithMap());
    const mapped = maps(BUNDLE);
    expect(mapped?.lookup(1, 15)).toBe('renderer/store.ts:2');
    expect(mapped?.lookup(1, 16)).toBe('renderer/panels/watchlist.tsx:2');
    expect(mapped?.lookup(0, 4)).toBe('renderer/store.ts:1');
    expect(mapped?.lookup(2, 0)).toBeUndefined();
    expect(mapped?.lookup(9, 0)).toBeUndefined();
  });

  it('is undefined for a script without a map', () => {
    const maps = sourceMapsFor(staticDirWithMap());
    expect(maps('http://127.0.0.1:5173/assets/missing.js')).toBeUndefined();
  });
});

function node(id: number, functionName: string, url = '', lineNumber = 0, columnNumber = 0) {
  return { id, callFrame: { functionName, url, lineNumber, columnNumber } } satisfies ProfileNode;
}

describe('topFunctions', () => {
  const profile: CpuProfile = {
    nodes: [
      node(1, '(root)'),
      node(2, '(idle)'),
      node(3, 'tick', BUNDLE, 1, 16),
      node(4, '(garbage collector)'),
      node(5, '(program)'),
      node(6, ''),
      node(7, 'other', 'http://127.0.0.1:5173/assets/missing.js', 0, 0),
    ],
    startTime: 0,
    endTime: 3_600,
    samples: [3, 3, 2, 4, 5, 3, 7, 6],
    // Each sample takes the gap after it (the next delta); the last, with none after, its own.
    timeDeltas: [100, 200, 300, 400, 500, 600, 700, 100],
  };

  it('adds self time per function, source-mapped, as a share of the busy time', () => {
    const hot = topFunctions(profile, sourceMapsFor(staticDirWithMap()), 3);
    // tick: 200 + 300 + 700; idle 400; GC 500; (program) 600; other 100; (anonymous) 100, its
    // own delta. Busy: 2,900 - 400 idle = 2,500 µs.
    expect(hot.totalMs).toBeCloseTo(2.9, 9);
    expect(hot.idleMs).toBeCloseTo(0.4, 9);
    expect(hot.gcMs).toBeCloseTo(0.5, 9);
    expect(hot.programMs).toBeCloseTo(0.6, 9);
    expect(hot.top.map((h) => [h.fn, h.where])).toEqual([
      ['tick', 'renderer/panels/watchlist.tsx:2'],
      ['(program)', '(native)'],
      ['(garbage collector)', '(native)'],
    ]);
    expect(hot.top[0]?.selfMs).toBeCloseTo(1.2, 9);
    expect(hot.top[0]?.pct).toBeCloseTo(48, 9);
    expect(hot.top[1]?.pct).toBeCloseTo(24, 9);
  });

  it('keeps an unmapped script by its path and names an anonymous function', () => {
    const hot = topFunctions(profile, sourceMapsFor(staticDirWithMap()), 10);
    expect(hot.top.slice(3).map((h) => [h.fn, h.where, h.selfMs])).toEqual([
      ['other', 'assets/missing.js', 0.1],
      ['(anonymous)', '(native)', 0.1],
    ]);
  });
});
