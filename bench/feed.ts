/**
 * The benchmark's market-data stream: a deterministic, pre-generated Alpaca stock feed. The same
 * seed gives the same frames in every process, so the blaster can build the stream itself (nothing
 * but the seed crosses IPC) and every client in every round sees byte-identical input.
 *
 * Shape, modelled on Alpaca under load: frames are arrays of 1..150 items (mean about 50, drawn
 * from a clipped exponential); about 80 % quotes, 17 % trades, 3 % bars (three in four of them
 * minute bars 'b', the rest daily bars 'd'); symbols drawn with a skew, so a few names are busy and
 * the tail is quiet, as in a real tape. Timestamps advance by random microseconds and carry nine
 * fractional digits. JSON writes `t` as RFC 3339 text; msgpack writes it as the timestamp
 * extension (type -1) and trade ids past 2^32 as uint64, which is what Alpaca sends.
 */
import { formatEpoch } from '../shared/market.ts';
import { WireTimestamp, framePackr } from '../electron/stream/protocol/msgpack.ts';
import type { Codec } from '../shared/market.ts';

export const DEFAULT_SEED = 0x5eed_2025;
export const DEFAULT_SYMBOLS = 1000;
/** Generated tickers have 1-4 letters, so a 5-letter name can never collide with one of them. */
export const MARKER_SYMBOL = 'ZZZZZ';
export const MAX_BATCH = 150;
const MEAN_BATCH = 50;

/** One wire item before encoding: `t` is a timestamp object, written per codec. */
export type FeedItem = Record<string, unknown> & { readonly T: string; readonly t: WireTimestamp };

export interface FeedOptions {
  /** Data messages in the whole stream (exact). */
  readonly messages: number;
  readonly symbols?: number;
  readonly seed?: number;
}

export interface FeedMix {
  quotes: number;
  trades: number;
  bars: number;
  dailyBars: number;
}

/** mulberry32: tiny, fast, and good enough to vary a synthetic feed; same seed, same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** `count` distinct tickers of 1-4 letters (mostly 3 and 4, as on US exchanges). */
export function feedSymbols(
  count: number = DEFAULT_SYMBOLS,
  seed: number = DEFAULT_SEED,
): string[] {
  // A separate stream from the feed's, so the symbol list does not depend on the message count.
  const rand = mulberry32(seed ^ 0x9e3779b9);
  const out: string[] = [];
  const seen = new Set<string>([MARKER_SYMBOL]);
  while (out.length < count) {
    const u = rand();
    const len = u < 0.02 ? 1 : u < 0.1 ? 2 : u < 0.5 ? 3 : 4;
    let s = '';
    for (let k = 0; k < len; k++) s += LETTERS[Math.floor(rand() * 26)];
    // Only 26 one-letter names exist: a large universe must not spin looking for more.
    if (seen.has(s)) continue;
    seen.add(s);
    out.push(s);
  }
  return out;
}

const EXCHANGES = ['V', 'Q', 'K', 'P', 'Z', 'N', 'H', 'U', 'X', 'J', 'Y', 'A', 'M'];
const TAPES = ['A', 'B', 'C'];
const TRADE_CONDITIONS: readonly (readonly string[])[] = [
  ['@'],
  ['@'],
  ['@'],
  ['@', 'I'],
  ['@', 'F', 'T'],
];
/** 2025-03-04 14:30:00 UTC: the US open on a winter day. */
const START_SECONDS = Date.UTC(2025, 2, 4, 14, 30, 0) / 1000;
/** Daily bars start at midnight New York time (05:00 UTC in winter). */
const DAY_START_SECONDS = Date.UTC(2025, 2, 4, 5, 0, 0) / 1000;
/** Alpaca's trade ids are past 2^32 (hence uint64 in msgpack), still exact as a double. */
const FIRST_TRADE_ID = 52_983_525_029_461;

const cents = (x: number): number => Math.round(x * 100) / 100;

/**
 * The stream frame by frame (each call to the generator's next() builds one frame). Lazily, so
 * that a process encoding a large stream never holds all its objects at once.
 */
export function* feedFrames(options: FeedOptions): Generator<FeedItem[]> {
  const seed = options.seed ?? DEFAULT_SEED;
  const symbols = feedSymbols(options.symbols ?? DEFAULT_SYMBOLS, seed);
  const rand = mulberry32(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  // Per-symbol state: a price that walks, a tape, cumulative day volume.
  const price = symbols.map(() => Math.exp(Math.log(5) + rand() * Math.log(100))); // $5 .. $500
  const tape = symbols.map(() => pick(TAPES));
  const dayVolume = symbols.map(() => Math.floor(100_000 + rand() * 5_000_000));
  let seconds = START_SECONDS;
  let nanos = Math.floor(rand() * 1e9);
  let tradeId = FIRST_TRADE_ID;
  let left = options.messages;

  while (left > 0) {
    // Clipped exponential: 1..150 items, mean close to 50.
    const size = Math.min(
      left,
      MAX_BATCH,
      1 + Math.floor(-Math.log(1 - rand()) * (MEAN_BATCH + 2)),
    );
    const frame: FeedItem[] = new Array<FeedItem>(size);
    for (let k = 0; k < size; k++) {
      // Exchange time moves on by 0-40 us per message (about 50k messages per second).
      nanos += Math.floor(rand() * 40_000);
      if (nanos >= 1e9) {
        nanos -= 1e9;
        seconds += 1;
      }
      // Squared uniform: the first symbols are much busier than the last ones.
      const u = rand();
      const s = Math.floor(u * u * symbols.length);
      const S = symbols[s] as string;
      const z = tape[s] as string;
      const p = (price[s] as number) * (1 + (rand() - 0.5) * 0.0008);
      price[s] = p;
      const t = new WireTimestamp(seconds, nanos);
      const kind = rand();
      if (kind < 0.8) {
        const half = Math.max(0.005, cents(p * 0.0002 * (1 + rand() * 4)) / 2);
        frame[k] = {
          T: 'q',
          S,
          bx: pick(EXCHANGES),
          bp: cents(p - half),
          bs: 1 + Math.floor(rand() * 20),
          ax: pick(EXCHANGES),
          ap: cents(p + half + 0.01),
          as: 1 + Math.floor(rand() * 20),
          c: ['R'],
          z,
          t,
        };
      } else if (kind < 0.97) {
        tradeId += 1 + Math.floor(rand() * 8);
        const size =
          rand() < 0.3 ? 1 + Math.floor(rand() * 99) : 100 * (1 + Math.floor(rand() * 10));
        dayVolume[s] = (dayVolume[s] as number) + size;
        frame[k] = {
          T: 't',
          S,
          i: tradeId,
          x: pick(EXCHANGES),
          p: cents(p),
          s: size,
          c: pick(TRADE_CONDITIONS),
          z,
          t,
        };
      } else {
        const daily = rand() < 0.25;
        const o = cents(p * (1 + (rand() - 0.5) * (daily ? 0.04 : 0.002)));
        const c = cents(p);
        const h = cents(Math.max(o, c) * (1 + rand() * (daily ? 0.02 : 0.001)));
        const l = cents(Math.min(o, c) * (1 - rand() * (daily ? 0.02 : 0.001)));
        const v = daily ? (dayVolume[s] as number) : 100 + Math.floor(rand() * 50_000);
        const start = daily ? DAY_START_SECONDS : Math.floor(seconds / 60) * 60 - 60;
        frame[k] = {
          T: daily ? 'd' : 'b',
          S,
          o,
          h,
          l,
          c,
          v,
          n: Math.max(1, Math.floor(v / (50 + rand() * 150))),
          vw: cents((o + h + l + c) / 4),
          t: new WireTimestamp(start, 0),
        };
      }
    }
    left -= size;
    yield frame;
  }
}

/** A whole stream in memory, with its mix (for small streams: tests, the paced sender). */
export interface Feed {
  readonly frames: readonly (readonly FeedItem[])[];
  readonly messages: number;
  readonly mix: FeedMix;
}

export function generateFeed(options: FeedOptions): Feed {
  const frames: FeedItem[][] = [];
  const mix = emptyMix();
  let messages = 0;
  for (const frame of feedFrames(options)) {
    frames.push(frame);
    messages += frame.length;
    countMix(mix, frame);
  }
  return { frames, messages, mix };
}

export function emptyMix(): FeedMix {
  return { quotes: 0, trades: 0, bars: 0, dailyBars: 0 };
}

function countMix(mix: FeedMix, frame: readonly FeedItem[]): void {
  for (const item of frame) {
    if (item.T === 'q') mix.quotes++;
    else if (item.T === 't') mix.trades++;
    else if (item.T === 'd') mix.dailyBars++;
    else mix.bars++;
  }
}

/** The item as JSON text writes it: `t` as RFC 3339 with nine digits (whole seconds: none). */
function jsonForm(item: FeedItem): Record<string, unknown> {
  return { ...item, t: formatEpoch(item.t.seconds, item.t.nanoseconds) };
}

/** The item as Alpaca's msgpack writes it: `t` stays the extension, ids past 2^32 go as uint64. */
function msgpackForm(item: FeedItem): Record<string, unknown> {
  const id = item['i'];
  return typeof id === 'number' && id > 0xffffffff ? { ...item, i: BigInt(id) } : item;
}

/** One frame, encoded. */
export function encodeFrame(frame: readonly FeedItem[], codec: 'json'): string;
export function encodeFrame(frame: readonly FeedItem[], codec: 'msgpack'): Buffer;
export function encodeFrame(frame: readonly FeedItem[], codec: Codec): string | Buffer;
export function encodeFrame(frame: readonly FeedItem[], codec: Codec): string | Buffer {
  return codec === 'json'
    ? JSON.stringify(frame.map(jsonForm))
    : // A copy: msgpackr hands out views of its working buffer.
      Buffer.from(framePackr.pack(frame.map(msgpackForm)));
}

/** One item, encoded on its own, to be spliced into frames by `joinFrame`. */
export function encodeItem(item: FeedItem, codec: 'json'): string;
export function encodeItem(item: FeedItem, codec: 'msgpack'): Buffer;
export function encodeItem(item: FeedItem, codec: Codec): string | Buffer;
export function encodeItem(item: FeedItem, codec: Codec): string | Buffer {
  return codec === 'json'
    ? JSON.stringify(jsonForm(item))
    : Buffer.from(framePackr.pack(msgpackForm(item)));
}

export interface EncodedFeed<F> {
  readonly frames: F[];
  readonly messages: number;
  readonly bytes: number;
  readonly mix: FeedMix;
}

/** The whole stream, pre-encoded frame by frame: JSON text, or msgpack bytes. */
export function encodeFeed(options: FeedOptions, codec: 'json'): EncodedFeed<string>;
export function encodeFeed(options: FeedOptions, codec: 'msgpack'): EncodedFeed<Buffer>;
export function encodeFeed(options: FeedOptions, codec: Codec): EncodedFeed<string | Buffer>;
export function encodeFeed(options: FeedOptions, codec: Codec): EncodedFeed<string | Buffer> {
  const frames: (string | Buffer)[] = [];
  const mix = emptyMix();
  let messages = 0;
  let bytes = 0;
  for (const frame of feedFrames(options)) {
    const encoded = encodeFrame(frame, codec);
    frames.push(encoded);
    bytes += typeof encoded === 'string' ? Buffer.byteLength(encoded) : encoded.length;
    messages += frame.length;
    countMix(mix, frame);
  }
  return { frames, messages, bytes, mix };
}

/** The stream's items, each encoded alone (for frames cut to a schedule rather than pre-cut). */
export function encodeFeedItems(options: FeedOptions, codec: 'json'): string[];
export function encodeFeedItems(options: FeedOptions, codec: 'msgpack'): Buffer[];
export function encodeFeedItems(options: FeedOptions, codec: Codec): (string | Buffer)[];
export function encodeFeedItems(options: FeedOptions, codec: Codec): (string | Buffer)[] {
  const out: (string | Buffer)[] = [];
  for (const frame of feedFrames(options))
    for (const item of frame) out.push(encodeItem(item, codec));
  return out;
}

/**
 * The latency probe: a trade for the reserved symbol whose id is the frame's sequence number. It
 * goes last in its frame, so its handler runs once everything before it has been dispatched.
 */
export function markerItem(seq: number): FeedItem {
  return {
    T: 't',
    S: MARKER_SYMBOL,
    i: seq,
    x: 'V',
    p: 1,
    s: 1,
    c: ['@'],
    z: 'C',
    t: new WireTimestamp(START_SECONDS, 0),
  };
}

/** msgpack array header for `n` elements. */
function arrayHeader(n: number): Buffer {
  if (n < 16) return Buffer.of(0x90 | n);
  if (n < 0x10000) return Buffer.of(0xdc, n >>> 8, n & 0xff);
  const b = Buffer.alloc(5);
  b[0] = 0xdd;
  b.writeUInt32BE(n, 1);
  return b;
}

/**
 * A frame from items encoded alone: JSON text joins them inside brackets; msgpack writes an array
 * header and then the items' bytes, which is exactly how msgpack lays out an array.
 */
export function joinFrame(items: readonly string[], codec: 'json'): string;
export function joinFrame(items: readonly Buffer[], codec: 'msgpack'): Buffer;
export function joinFrame(items: readonly (string | Buffer)[], codec: Codec): string | Buffer;
export function joinFrame(items: readonly (string | Buffer)[], codec: Codec): string | Buffer {
  if (codec === 'json') return `[${items.join(',')}]`;
  return Buffer.concat([arrayHeader(items.length), ...(items as readonly Buffer[])]);
}
