/**
 * The shared frame slot (renderer/frame-slot.ts): one frame at a time from the worker's end to the
 * page's, taken only in its turn among the messages posted before it.
 */
import { describe, expect, it } from 'vitest';
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
