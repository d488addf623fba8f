import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NdjsonWriter } from '../../../electron/cli/ndjson.ts';

/** A sink that holds every write until `release()`, like a reader that stopped reading. */
function stalledSink(): { sink: Writable; text: () => string; release: () => void } {
  let text = '';
  let stalled = true;
  const held: Array<() => void> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, callback) {
      text += chunk.toString('utf8');
      if (stalled) held.push(callback);
      else callback();
    },
  });
  const release = (): void => {
    stalled = false;
    held.splice(0).forEach((cb) => cb());
  };
  return { sink, text: () => text, release };
}

describe('NdjsonWriter', () => {
  it('writes one JSON object a line, batched per turn', async () => {
    let text = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, callback) {
        text += chunk.toString('utf8');
        callback();
      },
    });
    const out = new NdjsonWriter(sink);
    out.write({ type: 'a', n: 1 });
    out.write({ type: 'b', big: 2n ** 64n });
    await out.flush();
    expect(text).toBe('{"type":"a","n":1}\n{"type":"b","big":"18446744073709551616"}\n');
  });

  it('drops and counts data past the bound when the reader stalls, never state or summary', async () => {
    const { sink, text, release } = stalledSink();
    const out = new NdjsonWriter(sink, undefined, { maxPendingBytes: 1_000 });
    out.writeData({ type: 'quote', pad: 'x'.repeat(2_000) });
    await new Promise((resolve) => setImmediate(resolve)); // first batch goes out and is held
    for (let i = 0; i < 50; i++) out.writeData({ type: 'quote', i });
    out.write({ type: 'state', state: 'stopped' }); // still behind: kept anyway
    expect(out.dropped).toBe(50);
    for (let i = 0; i < 5; i++) out.writeData({ type: 'quote', i });
    out.write({ type: 'summary' });
    release();
    await out.flush();
    const lines = text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l['type'])).toEqual([
      'quote',
      'dropped',
      'state',
      'dropped',
      'summary',
    ]);
    expect(lines[1]).toMatchObject({ count: 50, byType: { quote: 50 } });
    expect(lines[1]?.['message']).toBe('output fell behind: 50 records dropped');
    expect(lines[3]).toMatchObject({ count: 5, byType: { quote: 5 } });
    expect(out.dropped).toBe(55);
    expect(out.droppedByType()).toEqual({ quote: 55 });
  });

  it('reports drops by type on its own, at most once per interval, while the reader is behind', async () => {
    const { sink, text, release } = stalledSink();
    const out = new NdjsonWriter(sink, undefined, { maxPendingBytes: 1_000, dropReportMs: 50 });
    out.writeData({ type: 'quote', pad: 'x'.repeat(2_000) });
    await new Promise((resolve) => setImmediate(resolve));
    const started = performance.now();
    // 300 ms of droppable records of three kinds, the reader never reading.
    while (performance.now() - started < 300) {
      out.writeData({ type: 'quote' });
      out.writeData({ type: 'invalid', reason: 'wrong-type', count: 3 });
      out.writeData({ type: 'error', code: 499, count: 1 });
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await new Promise((resolve) => setTimeout(resolve, 120));
    release();
    await out.flush();
    const lines = text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const reports = lines.filter((l) => l['type'] === 'dropped');
    // Periodic (no state or summary was written to trigger them), and no more than one per 50 ms.
    expect(reports.length).toBeGreaterThanOrEqual(3);
    expect(reports.length).toBeLessThanOrEqual(Math.ceil(420 / 50) + 1);
    expect(lines.filter((l) => l['type'] !== 'dropped').map((l) => l['type'])).toEqual(['quote']);
    // Every drop is in exactly one report, by type.
    const sum = (type: string): number =>
      reports.reduce((n, r) => n + ((r['byType'] as Record<string, number>)[type] ?? 0), 0);
    expect(sum('quote') + sum('invalid') + sum('error')).toBe(out.dropped);
    expect(sum('invalid')).toBe(out.droppedByType()['invalid']);
    expect(sum('error')).toBeGreaterThan(0);
  });

  it('ends quietly when the reader goes away (EPIPE)', async () => {
    let closed = 0;
    const sink = new Writable({
      write(_chunk, _enc, callback) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const out = new NdjsonWriter(sink, () => closed++);
    out.write({ type: 'quote' });
    await out.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.closed).toBe(true);
    expect(closed).toBe(1);
    out.write({ type: 'quote' }); // no throw, nothing written
  });
});
