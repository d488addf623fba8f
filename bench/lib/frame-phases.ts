/**
 * Late frames around a run of key presses, for bench/e2e.ts: the page's animation-frame
 * timestamps cut into before the first press, during the presses (to the last press plus a tail
 * in which their work still lands) and after, with how many frame intervals in each were longer
 * than a frame budget. A scenario whose frame interval p95 misses can then say whether the late
 * frames come from the keys or from the feed alone. Pure functions, no platform imports.
 */

export interface LateFrames {
  /** Frame intervals longer than the budget. */
  readonly late: number;
  /** Frame intervals in the span. */
  readonly frames: number;
}

export interface LateFramesAround {
  readonly before: LateFrames;
  readonly during: LateFrames;
  readonly after: LateFrames;
}

/**
 * Each interval between consecutive `raf` stamps (ascending, ms) falls in the span its end stamp
 * is in: before `firstPress`, up to `lastPress + tailMs`, or after. No presses: all "before".
 */
export function lateFramesAround(
  raf: readonly number[],
  presses: readonly number[],
  budgetMs: number,
  tailMs: number,
): LateFramesAround {
  const first = presses.length === 0 ? Infinity : Math.min(...presses);
  const end = presses.length === 0 ? Infinity : Math.max(...presses) + tailMs;
  const counts = [
    { late: 0, frames: 0 },
    { late: 0, frames: 0 },
    { late: 0, frames: 0 },
  ];
  for (let i = 1; i < raf.length; i++) {
    const at = raf[i]!;
    const span = counts[at < first ? 0 : at <= end ? 1 : 2]!;
    span.frames++;
    if (at - raf[i - 1]! > budgetMs) span.late++;
  }
  const [before, during, after] = counts as [LateFrames, LateFrames, LateFrames];
  return { before, during, after };
}

/** "late/frames" of a span, as the bench's tables print it. */
export function lateText(span: LateFrames): string {
  return `${span.late}/${span.frames}`;
}

/**
 * For each time a quote frame arrived in the page (`arrivals`, ms), the wait until the next
 * animation frame began (`raf`, ascending): the page's part of socket-to-screen, since the frame
 * is painted in that animation frame's callbacks. Arrivals with no animation frame after them in
 * `raf` are left out. Sorted ascending.
 *
 * Those of the arrivals in `atFrame` were taken from shared memory inside an animation frame, in
 * its read phase before the painters (renderer/paint-clock.ts): that frame paints them, so they
 * wait for none. Their stamp is later than that frame's own (a frame's stamp is when it began),
 * and the rule above would charge each a whole frame it never waited.
 */
export function arrivalToFrame(
  arrivals: readonly number[],
  raf: readonly number[],
  atFrame: readonly number[] = [],
): number[] {
  const inFrame = new Set(atFrame);
  const waits: number[] = [];
  for (const at of arrivals) {
    if (inFrame.has(at)) {
      waits.push(0);
      continue;
    }
    const next = raf[firstAfter(raf, at)];
    if (next !== undefined) waits.push(next - at);
  }
  return waits.sort((a, b) => a - b);
}

/**
 * For each frame's arrival, the time since the last frame request sent before it (`pulls`,
 * ascending): the request's round trip through main and the transport, and the page's wait until
 * the frame is dispatched, at a task (a busy page delays that) or at an animation frame that takes
 * it from shared memory. Arrivals with
 * no request before them are left out. Sorted ascending.
 */
export function pullRoundTrips(arrivals: readonly number[], pulls: readonly number[]): number[] {
  const trips: number[] = [];
  for (const at of arrivals) {
    // The last request at or before `at`.
    const sent = pulls[firstAfter(pulls, at) - 1];
    if (sent !== undefined) trips.push(at - sent);
  }
  return trips.sort((a, b) => a - b);
}

/** A frame request's round trip cut where main handled and answered it (see tripLegs). */
export interface TripLegs {
  /** The page's request to main's handler: the page's send, the transport, main's own queue. */
  readonly toMain: number[];
  /** Main's handler to its answer: waiting for changes (none at full feed), building the frame. */
  readonly inMain: number[];
  /** Main's answer to the frame's message event in the page: the transport and the page's queue. */
  readonly toPage: number[];
}

/**
 * Each frame request's round trip in three legs, from the page's stamps (`pulls`: requests sent,
 * `arrivals`: frames' message events, ascending ms) and main's (`stamps`: [handled, answered] per
 * request, ascending, already on the page's clock). The two processes' clocks agree to about a
 * millisecond (both are performance.timeOrigin + now() on one machine), so a stamp may seem that
 * much early: `skewMs` allows for it. A request is matched to the first stamp handled after it, and
 * that stamp to the first arrival after its answer; a request whose match is already taken or more
 * than `limitMs` away (a window's edge) is left out. Each leg sorted ascending.
 */
export function tripLegs(
  pulls: readonly number[],
  arrivals: readonly number[],
  stamps: readonly (readonly [number, number])[],
  skewMs = 2,
  limitMs = 1_000,
): TripLegs {
  const handled = stamps.map(([h]) => h);
  const legs: TripLegs = { toMain: [], inMain: [], toPage: [] };
  let lastStamp = -1;
  let lastArrival = -1;
  for (const sent of pulls) {
    const s = firstAfter(handled, sent - skewMs);
    const stamp = stamps[s];
    if (stamp === undefined || s <= lastStamp || stamp[0] - sent > limitMs) continue;
    const a = firstAfter(arrivals, stamp[1] - skewMs);
    const arrived = arrivals[a];
    if (arrived === undefined || a <= lastArrival || arrived - stamp[1] > limitMs) continue;
    lastStamp = s;
    lastArrival = a;
    legs.toMain.push(stamp[0] - sent);
    legs.inMain.push(stamp[1] - stamp[0]);
    legs.toPage.push(arrived - stamp[1]);
  }
  for (const leg of [legs.toMain, legs.inMain, legs.toPage]) leg.sort((x, y) => x - y);
  return legs;
}

/** The index of the first of `sorted` (ascending) greater than `at`; its length if none is. */
function firstAfter(sorted: readonly number[], at: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
