import { describe, expect, it } from 'vitest';
import {
  chunkSymbols,
  encodeSymbol,
  followPages,
  mapConcurrent,
  type Page,
} from '../../../electron/rest/paging.ts';

const joinedLength = (chunk: readonly string[]): number => chunk.map(encodeSymbol).join(',').length;

describe('chunkSymbols', () => {
  it('splits by count, keeping order and every symbol once', () => {
    const symbols = Array.from({ length: 10_000 }, (_, i) => `S${i}`);
    const chunks = chunkSymbols(symbols, 200, 7_000);
    expect(chunks).toHaveLength(50);
    expect(chunks.every((c) => c.length === 200)).toBe(true);
    expect(chunks.flat()).toEqual(symbols);
  });

  it('splits by encoded length when that binds first', () => {
    const symbols = Array.from({ length: 10_000 }, (_, i) => `SYM${String(i).padStart(5, '0')}`);
    const chunks = chunkSymbols(symbols, 10_000, 6_000);
    expect(chunks.flat()).toEqual(symbols);
    expect(Math.max(...chunks.map(joinedLength))).toBeLessThanOrEqual(6_000);
    // Full chunks, not needlessly small ones: 9 chars each with its comma, 6,000 / 9 = 666.
    expect(chunks[0]).toHaveLength(666);
    expect(chunks).toHaveLength(Math.ceil(10_000 / 666));
  });

  it('counts a crypto slash as its encoding (%2F)', () => {
    expect(encodeSymbol('BTC/USD')).toBe('BTC%2FUSD');
    const chunks = chunkSymbols(['BTC/USD', 'ETH/USD', 'SOL/USD'], 10, 19);
    expect(chunks).toEqual([['BTC/USD', 'ETH/USD'], ['SOL/USD']]);
    expect(joinedLength(chunks[0]!)).toBe(19);
  });

  it('gives a symbol longer than the bound a chunk of its own', () => {
    expect(chunkSymbols(['A', 'LONGSYMBOL', 'B'], 10, 5)).toEqual([['A'], ['LONGSYMBOL'], ['B']]);
    expect(chunkSymbols([], 10, 5)).toEqual([]);
  });
});

describe('mapConcurrent', () => {
  it('runs at most `concurrency` at once and returns results in input order', async () => {
    let running = 0;
    let most = 0;
    const result = await mapConcurrent([30, 5, 20, 1, 10], 2, async (ms) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return ms * 2;
    });
    expect(result).toEqual([60, 10, 40, 2, 20]);
    expect(most).toBe(2);
  });

  it('rejects with the first failure, aborts the others and starts no more', async () => {
    const started: number[] = [];
    const abortedWhileRunning: number[] = [];
    const promise = mapConcurrent([0, 1, 2, 3, 4], 2, (item, signal) => {
      started.push(item);
      if (item === 1) return Promise.reject(new Error('chunk 1 failed'));
      return new Promise<number>((resolve, reject) => {
        signal.addEventListener('abort', () => {
          abortedWhileRunning.push(item);
          reject(new Error('aborted'));
        });
        setTimeout(() => resolve(item), 1_000);
      });
    });
    await expect(promise).rejects.toThrow('chunk 1 failed');
    expect(started).toEqual([0, 1]);
    expect(abortedWhileRunning).toEqual([0]);
  });

  it('hands the caller’s abort on to every worker', async () => {
    const controller = new AbortController();
    const promise = mapConcurrent(
      [1, 2],
      2,
      (_item, signal) =>
        new Promise<number>((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(new Error('cancelled'))),
        ),
      controller.signal,
    );
    controller.abort();
    await expect(promise).rejects.toThrow('cancelled');
  });
});

interface TestPage extends Page {
  readonly items: readonly string[];
}

function pages(list: readonly { items: string[]; next?: string }[]) {
  const asked: (string | undefined)[] = [];
  const fetchPage = (token: string | undefined): Promise<TestPage> => {
    asked.push(token);
    const index = asked.length - 1;
    const page = list[index];
    if (!page) return Promise.reject(new Error(`page ${index} was not expected`));
    return Promise.resolve({
      items: page.items,
      size: page.items.length,
      nextPageToken: page.next,
    });
  };
  return { asked, fetchPage };
}

describe('followPages', () => {
  it('follows tokens to the end, handing pages over in order', async () => {
    const { asked, fetchPage } = pages([
      { items: ['a', 'b'], next: 't1' },
      { items: ['c'], next: 't2' },
      { items: ['d'] },
    ]);
    const seen: string[] = [];
    const result = await followPages(fetchPage, (p) => seen.push(...p.items));
    expect(result).toEqual({ pages: 3, stop: 'end' });
    expect(asked).toEqual([undefined, 't1', 't2']);
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
  });

  it('stops on a repeated token', async () => {
    const { asked, fetchPage } = pages([
      { items: ['a'], next: 't1' },
      { items: ['b'], next: 't2' },
      { items: ['c'], next: 't1' },
    ]);
    const result = await followPages(fetchPage, () => undefined);
    expect(result).toEqual({ pages: 3, stop: 'repeated-token' });
    expect(asked).toEqual([undefined, 't1', 't2']);
  });

  it('stops on an empty token and on an empty page', async () => {
    expect(
      await followPages(pages([{ items: ['a'], next: '' }]).fetchPage, () => undefined),
    ).toEqual({ pages: 1, stop: 'end' });
    expect(
      await followPages(
        pages([
          { items: ['a'], next: 't1' },
          { items: [], next: 't2' },
        ]).fetchPage,
        () => undefined,
      ),
    ).toEqual({ pages: 2, stop: 'empty-page' });
  });

  it('rejects whatever a page fetch or onPage throws', async () => {
    const { fetchPage } = pages([{ items: ['a'], next: 't1' }]);
    await expect(followPages(fetchPage, () => undefined)).rejects.toThrow(
      'page 1 was not expected',
    );
    await expect(
      followPages(pages([{ items: ['a'] }]).fetchPage, () => {
        throw new Error('too many');
      }),
    ).rejects.toThrow('too many');
  });
});
