/**
 * Exactly-once accounting and per-client latency for paced streams (the fan-out section): the
 * sender knows how many items each frame held and when it sent it; a receiver records, per marker
 * (the last item of each frame, its id the frame's sequence number), when it was dispatched and
 * how many items came since the marker before. Comparing the two frame by frame finds any item
 * lost or duplicated, even when a relay in between cuts the stream into other frames. Pure.
 */

/** What one receiver recorded over a paced run. */
export interface ReceiverRecord {
  /** hrtime (ns) of the dispatch of marker `seq`; -1 when it never came. */
  readonly received: BigInt64Array;
  /** Items counted up to and including marker `seq` since the marker before (added up if twice). */
  readonly counts: Int32Array;
  /** Data items after the last marker (a paced stream ends with one: any is extra). */
  readonly trailing: number;
}

export interface Delivery {
  /** Items the sender paced. */
  readonly expected: number;
  /** Items the receiver counted. */
  readonly counted: number;
  /** Items missing, frame by frame. */
  readonly lost: number;
  /** Items too many, frame by frame (a marker seen twice brings its frame's count twice). */
  readonly duplicated: number;
  /** Frames whose marker never came. */
  readonly missingMarkers: number;
}

/** Frame-by-frame comparison of what was paced (`sizes`, markers included) and what arrived. */
export function checkDelivery(sizes: Int32Array, record: ReceiverRecord): Delivery {
  let expected = 0;
  let counted = record.trailing;
  let lost = 0;
  let duplicated = record.trailing;
  let missingMarkers = 0;
  for (let seq = 0; seq < sizes.length; seq++) {
    const size = sizes[seq] as number;
    const count = seq < record.counts.length ? (record.counts[seq] as number) : 0;
    expected += size;
    counted += count;
    if (count < size) lost += size - count;
    else duplicated += count - size;
    if (seq >= record.received.length || (record.received[seq] as bigint) < 0n) missingMarkers++;
  }
  return { expected, counted, lost, duplicated, missingMarkers };
}

/**
 * Latency samples in ms (receive - send) of the frames sent at or after `fromNs` whose marker
 * came; frames sent earlier are warm-up.
 */
export function latencySamples(
  sent: BigInt64Array,
  received: BigInt64Array,
  fromNs: bigint,
): number[] {
  const out: number[] = [];
  const n = Math.min(sent.length, received.length);
  for (let seq = 0; seq < n; seq++) {
    const at = received[seq] as bigint;
    const from = sent[seq] as bigint;
    if (at < 0n || from < fromNs) continue;
    out.push(Number(at - from) / 1e6);
  }
  return out;
}

/**
 * Per client, the p99 through the relay minus the p99 of the same client straight from the
 * upstream; pairs by index. The difference of percentiles, not a percentile of differences:
 * the two runs' frames are not the same frames, only the same clients and load.
 */
export function addedLatency(direct: readonly number[], relayed: readonly number[]): number[] {
  if (direct.length !== relayed.length) {
    throw new RangeError(`${direct.length} direct and ${relayed.length} relayed clients`);
  }
  return relayed.map((r, i) => r - (direct[i] as number));
}

/** checkDelivery for a path that keeps each subject's order but not the order across subjects. */
export interface UnorderedDelivery {
  /** lost and duplicated: the net difference of the totals (see checkDeliveryUnordered). */
  readonly delivery: Delivery;
  /** Items counted under another frame's marker than their own, neither lost nor doubled. */
  readonly displaced: number;
  /** The furthest the running count got from the paced one, in items (either way). */
  readonly maxDrift: number;
}

/**
 * The accounting for a path that may move items across markers without losing any: NATS keeps
 * order per subject (type and symbol), and the holder publishes one message per subject for
 * everything it read at once, which can be several upstream frames. An item of frame n+1 may then
 * come before marker n, and frame by frame it would look lost from one frame and doubled in the
 * next. Here lost and duplicated are the totals' net difference, the frame-by-frame mismatch that
 * cancels out is `displaced`. A loss and an equal duplication elsewhere would cancel too: the
 * markers, which share one subject, still say whether a frame's marker was missed or doubled.
 */
export function checkDeliveryUnordered(
  sizes: Int32Array,
  record: ReceiverRecord,
): UnorderedDelivery {
  const exact = checkDelivery(sizes, record);
  let drift = 0;
  let maxDrift = Math.abs(record.trailing);
  for (let seq = 0; seq < sizes.length; seq++) {
    const count = seq < record.counts.length ? (record.counts[seq] as number) : 0;
    drift += count - (sizes[seq] as number);
    if (Math.abs(drift) > maxDrift) maxDrift = Math.abs(drift);
  }
  const net = exact.counted - exact.expected;
  return {
    delivery: { ...exact, lost: Math.max(0, -net), duplicated: Math.max(0, net) },
    displaced: Math.min(exact.lost, exact.duplicated),
    maxDrift,
  };
}
