/**
 * The fan-out section's accounting: a paced run compared frame by frame with what a receiver
 * counted finds every lost or doubled item and marker, and the latency samples skip warm-up and
 * missing markers.
 */
import { describe, expect, it } from 'vitest';
import {
  addedLatency,
  checkDelivery,
  checkDeliveryUnordered,
  latencySamples,
} from '../../../bench/lib/delivery.ts';

const record = (received: bigint[], counts: number[], trailing = 0) => ({
  received: BigInt64Array.from(received),
  counts: Int32Array.from(counts),
  trailing,
});

describe('checkDelivery', () => {
  const sizes = Int32Array.from([3, 1, 5]);

  it('is clean when every frame arrived whole, however it was cut', () => {
    expect(checkDelivery(sizes, record([10n, 20n, 30n], [3, 1, 5]))).toEqual({
      expected: 9,
      counted: 9,
      lost: 0,
      duplicated: 0,
      missingMarkers: 0,
    });
  });

  it('counts items missing from a frame and a marker that never came', () => {
    expect(checkDelivery(sizes, record([10n, -1n, 30n], [2, 0, 5]))).toEqual({
      expected: 9,
      counted: 7,
      lost: 2,
      duplicated: 0,
      missingMarkers: 1,
    });
  });

  it('counts a frame delivered twice and items after the last marker as duplicates', () => {
    // frame 1 twice: its marker's count adds up to 2
    expect(checkDelivery(sizes, record([10n, 20n, 30n], [3, 2, 5], 4))).toMatchObject({
      counted: 14,
      lost: 0,
      duplicated: 5,
    });
  });

  it('a receiver armed with fewer slots than frames lost the rest', () => {
    expect(checkDelivery(sizes, record([10n, 20n], [3, 1]))).toMatchObject({
      lost: 5,
      missingMarkers: 1,
    });
  });
});

describe('checkDeliveryUnordered', () => {
  const sizes = Int32Array.from([3, 1, 5, 2]);

  it('takes items counted under a neighbouring marker as displaced, not lost and doubled', () => {
    // Two of frame 2's items came before marker 1, one of frame 3's before marker 2.
    const got = checkDeliveryUnordered(sizes, record([10n, 20n, 30n, 40n], [3, 3, 4, 1]));
    expect(got).toEqual({
      delivery: { expected: 11, counted: 11, lost: 0, duplicated: 0, missingMarkers: 0 },
      displaced: 2,
      maxDrift: 2,
    });
    // Frame by frame the same record reads as loss and duplication.
    expect(checkDelivery(sizes, record([10n, 20n, 30n, 40n], [3, 3, 4, 1]))).toMatchObject({
      lost: 2,
      duplicated: 2,
    });
  });

  it('still finds what is missing or too many in all', () => {
    expect(
      checkDeliveryUnordered(sizes, record([10n, 20n, -1n, 40n], [3, 2, 0, 2])).delivery,
    ).toEqual({ expected: 11, counted: 7, lost: 4, duplicated: 0, missingMarkers: 1 });
    const doubled = checkDeliveryUnordered(sizes, record([10n, 20n, 30n, 40n], [3, 1, 5, 2], 3));
    expect(doubled.delivery).toMatchObject({ lost: 0, duplicated: 3 });
    expect(doubled.displaced).toBe(0);
    expect(doubled.maxDrift).toBe(3);
  });
});

describe('latencySamples', () => {
  it('gives ms for matched frames sent from the warm-up cut on', () => {
    const sent = BigInt64Array.from([1_000_000n, 2_000_000n, 3_000_000n, 4_000_000n]);
    const received = BigInt64Array.from([1_500_000n, 4_000_000n, -1n, 4_250_000n]);
    expect(latencySamples(sent, received, 2_000_000n)).toEqual([2, 0.25]);
    expect(latencySamples(sent, received, 0n)).toEqual([0.5, 2, 0.25]);
  });
});

describe('addedLatency', () => {
  it('is relayed minus direct, client by client', () => {
    expect(addedLatency([1, 2, 0.5], [1.5, 4, 0.25])).toEqual([0.5, 2, -0.25]);
  });

  it('refuses lists of different clients', () => {
    expect(() => addedLatency([1], [1, 2])).toThrow(RangeError);
  });
});
