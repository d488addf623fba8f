/**
 * The hottest functions of a page's CPU profile (Chrome's Profiler domain) by self time, each
 * placed in the renderer's own sources through the bundle's source maps: a small decoder of a map's
 * `mappings` (base64 VLQ) and a lookup by generated line and column, enough for the bench's tables.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
    readonly columnNumber: number;
  };
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A source map's `mappings`, decoded per generated line: [genCol, source, line, col]. */
export type Segment = readonly [number, number, number, number];

export function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let source = 0;
  let line = 0;
  let col = 0;
  for (const text of mappings.split(';')) {
    const segments: Segment[] = [];
    let genCol = 0;
    for (const seg of text.split(',')) {
      if (seg === '') continue;
      const values: number[] = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const digit = B64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      genCol += values[0] ?? 0;
      if (values.length >= 4) {
        source += values[1] ?? 0;
        line += values[2] ?? 0;
        col += values[3] ?? 0;
        segments.push([genCol, source, line, col]);
      }
    }
    lines.push(segments);
  }
  return lines;
}

export interface SourceMapped {
  lookup(line: number, column: number): string | undefined;
}

/** The renderer bundle's source maps (Vite writes them next to the bundle), for profile frames. */
export function sourceMapsFor(staticDir: string): (url: string) => SourceMapped | undefined {
  const cache = new Map<string, SourceMapped | undefined>();
  return (url) => {
    if (cache.has(url)) return cache.get(url);
    let mapped: SourceMapped | undefined;
    try {
      const path = join(staticDir, new URL(url).pathname);
      const map = JSON.parse(readFileSync(`${path}.map`, 'utf8')) as {
        sources: string[];
        mappings: string;
      };
      const lines = decodeMappings(map.mappings);
      mapped = {
        lookup(line, column) {
          const segs = lines[line];
          if (segs === undefined || segs.length === 0) return undefined;
          let lo = 0;
          let hi = segs.length - 1;
          while (lo < hi) {
            const mid = (lo + hi + 1) >> 1;
            if ((segs[mid] as Segment)[0] <= column) lo = mid;
            else hi = mid - 1;
          }
          const s = segs[lo] as Segment;
          const source = (map.sources[s[1]] ?? '?').replace(/^(\.\.\/)+/, '');
          return `${source}:${s[2] + 1}`;
        },
      };
    } catch {
      mapped = undefined;
    }
    cache.set(url, mapped);
    return mapped;
  };
}

export interface HotFunction {
  readonly fn: string;
  readonly where: string;
  readonly selfMs: number;
  readonly pct: number;
}

export function topFunctions(
  profile: CpuProfile,
  maps: (url: string) => SourceMapped | undefined,
  count: number,
): { totalMs: number; idleMs: number; gcMs: number; programMs: number; top: HotFunction[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i] is the time before sample i: attribute the gap to the NEXT sample's node, as
  // DevTools does (each sample stands for the interval that ends at it).
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0));
  }
  const byFunction = new Map<string, { fn: string; where: string; us: number }>();
  let total = 0;
  let idle = 0;
  let gc = 0;
  let program = 0;
  for (const [id, us] of self) {
    total += us;
    const node = byId.get(id);
    if (node === undefined) continue;
    const f = node.callFrame;
    if (f.functionName === '(idle)') {
      idle += us;
      continue;
    }
    if (f.functionName === '(garbage collector)') gc += us;
    if (f.functionName === '(program)') program += us;
    let where = f.url === '' ? '(native)' : f.url.replace(/^https?:\/\/[^/]+\//, '');
    if (f.url.startsWith('http')) {
      const mapped = maps(f.url)?.lookup(f.lineNumber, f.columnNumber);
      if (mapped !== undefined) where = mapped;
    }
    const fn = f.functionName === '' ? '(anonymous)' : f.functionName;
    const key = `${fn}|${where}`;
    const entry = byFunction.get(key) ?? { fn, where, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
  }
  const busy = Math.max(1, total - idle);
  const top = [...byFunction.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, count)
    .map((e) => ({ fn: e.fn, where: e.where, selfMs: e.us / 1000, pct: (e.us / busy) * 100 }));
  return {
    totalMs: total / 1000,
    idleMs: idle / 1000,
    gcMs: gc / 1000,
    programMs: program / 1000,
    top,
  };
}
