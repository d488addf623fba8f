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
    const out = new NdjsonWriter(sink, undefined, 1_000);
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
    expect(lines.map((l) => l['type'])).toEqual(['quote', 'error', 'state', 'error', 'summary']);
    expect(lines[1]?.['message']).toBe('output fell behind: 50 records dropped');
    expect(lines[3]?.['message']).toBe('output fell behind: 5 records dropped');
    expect(out.dropped).toBe(55);
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
