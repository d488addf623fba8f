/**
 * The shared frame slot (renderer/frame-slot.ts): one frame at a time from the worker's end to the
 * page's, taken only in its turn among the messages posted before it.
 */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import {
  canShareMemory,
  createFrameSlot,
  FrameSlotReader,
  FrameSlotWriter,
  isFrameSlot,
} from '../../../renderer/frame-slot.ts';

function bytes(...values: number[]): ArrayBuffer {
  return new Uint8Array(values).buffer;
}

function pair(capacity = 64): { writer: FrameSlotWriter; reader: FrameSlotReader } {
  const memory = createFrameSlot(capacity);
  return { writer: new FrameSlotWriter(memory), reader: new FrameSlotReader(memory) };
}

describe('the shared frame slot', () => {
  it('hands over a frame once, as a copy the page owns', () => {
    const { writer, reader } = pair();
    expect(reader.take(0)).toBeUndefined();
    expect(writer.put(bytes(1, 2, 3), 0)).toBe(true);
    const frame = reader.take(0);
    expect(frame).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(frame!)]).toEqual([1, 2, 3]);
    // Taken: the same frame is not handed over twice.
    expect(reader.take(0)).toBeUndefined();
    // And the slot is free for the next one, which may be shorter.
    expect(writer.put(bytes(9), 0)).toBe(true);
    expect([...new Uint8Array(reader.take(0)!)]).toEqual([9]);
  });

  it('refuses a frame while the last is untaken, or one larger than the slot', () => {
    const { writer, reader } = pair(4);
    expect(writer.put(bytes(1), 0)).toBe(true);
    expect(writer.put(bytes(2), 0)).toBe(false);
    expect([...new Uint8Array(reader.take(0)!)]).toEqual([1]);
    expect(writer.put(bytes(1, 2, 3, 4, 5), 0)).toBe(false);
    expect(writer.put(bytes(1, 2, 3, 4), 0)).toBe(true);
  });

  it('waits until the page has handled the messages posted before the frame', () => {
    const { writer, reader } = pair();
    expect(writer.put(bytes(7), 3)).toBe(true);
    expect(reader.take(2)).toBeUndefined();
    expect(reader.take(3)).toBeDefined();
  });

  it('counts modulo 2^32 on both ends', () => {
    const { writer, reader } = pair();
    // Posted just past the top of an int32; handled one more, also wrapped.
    expect(writer.put(bytes(1), 0x7fff_ffff)).toBe(true);
    expect(reader.take(0x7fff_fffe)).toBeUndefined();
    expect(reader.take((0x7fff_ffff + 1) | 0)).toBeDefined();
  });

  it('says which memory is a slot, and whether this scope may share memory', () => {
    expect(isFrameSlot(createFrameSlot(8))).toBe(true);
    expect(isFrameSlot(new ArrayBuffer(64))).toBe(false);
    expect(isFrameSlot(new SharedArrayBuffer(8))).toBe(false);
    expect(isFrameSlot(undefined)).toBe(false);
    expect(canShareMemory({ crossOriginIsolated: true })).toBe(true);
    expect(canShareMemory({ crossOriginIsolated: false })).toBe(false);
    expect(canShareMemory({})).toBe(false);
  });
});

/**
 * The worker's end in a thread of its own, as in a browser: it puts `count` frames as fast as the
 * slot takes them, each filled with its own number and of a length that changes every time, while
 * the page's end takes them on this thread. A frame with two numbers in it was torn.
 */
const WRITER_THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.url).then(({ FrameSlotWriter }) => {
  const writer = new FrameSlotWriter(workerData.memory);
  let refused = 0;
  for (let i = 1; i <= workerData.count; i++) {
    const length = 1 + ((i * 7919) % workerData.capacity);
    const frame = new Uint8Array(length).fill(i & 0xff);
    while (!writer.put(frame.buffer, 0)) refused += 1;
  }
  parentPort.postMessage(refused);
});
`;

describe('the shared frame slot across threads', () => {
  it('never hands over a torn frame, nor one twice, nor out of order', async () => {
    const capacity = 4096;
    const count = 3000;
    const memory = createFrameSlot(capacity);
    const reader = new FrameSlotReader(memory);
    const thread = new Worker(WRITER_THREAD, {
      eval: true,
      workerData: {
        url: new URL('../../../renderer/frame-slot.ts', import.meta.url).href,
        memory,
        count,
        capacity,
      },
    });
    const done = new Promise<number>((resolve, reject) => {
      thread.once('message', (refused: number) => resolve(refused));
      thread.once('error', reject);
    });
    try {
      const problems: string[] = [];
      const deadline = Date.now() + 20_000;
      let expected = 1;
      // A busy loop on purpose: the page's end reads while the other thread writes.
      while (expected <= count && Date.now() < deadline) {
        const frame = reader.take(0);
        if (frame === undefined) continue;
        const bytes = new Uint8Array(frame);
        const want = 1 + ((expected * 7919) % capacity);
        if (bytes.length !== want)
          problems.push(`frame ${expected}: ${bytes.length} bytes, not ${want}`);
        if (bytes.some((b) => b !== (expected & 0xff))) problems.push(`frame ${expected} is torn`);
        expected += 1;
      }
      expect(problems).toEqual([]);
      expect(expected - 1).toBe(count);
      // The writer met a full slot, many times: the two ends really did overlap.
      expect(await done).toBeGreaterThan(0);
      expect(reader.take(0)).toBeUndefined();
    } finally {
      await thread.terminate();
    }
  });
});
