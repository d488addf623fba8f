/**
 * Domain types for normalized Alpaca market-data messages. The wire format uses one-letter field
 * names that differ per type; everything past the codec sees these names instead. Main and the
 * renderer both import this file, so it has no platform imports.
 *
 * Conventions:
 * - `time` is the RFC 3339 timestamp with the precision the server sent (0 to 9 fractional digits).
 *   `Date` keeps milliseconds only, so the string is the source of truth; see `timeToEpochNs`.
 *   `timeMs` is the same instant as epoch milliseconds (the fraction keeps microseconds; NaN when
 *   the text is not a valid timestamp), computed once by the decoder so that consumers (the book,
 *   latency sampling) never parse the text again: that parse cost more per message than the rest
 *   of the book's work.
 * - Trade ids (`TradeId`) are the number the server sent while it is exact (below 2^53), and text
 *   otherwise (crypto trade ids exceed 2^53; they are re-decoded exactly, see the decoder). Turning
 *   every id into text cost about 6% of the client's CPU at feed rate. News ids are text.
 * - Fields the server may omit for some feeds (crypto has no exchange, conditions or tape) are
 *   `T | undefined` rather than optional, so every object of a kind has the same shape.
 */

/** Kinds of normalized data messages, one per wire `T` letter. */
export type DataKind =
  | 'quote'
  | 'trade'
  | 'bar'
  | 'dailyBar'
  | 'updatedBar'
  | 'status'
  | 'luld'
  | 'correction'
  | 'cancelError'
  | 'imbalance'
  | 'orderbook'
  | 'news';

export const DATA_KINDS: readonly DataKind[] = [
  'quote',
  'trade',
  'bar',
  'dailyBar',
  'updatedBar',
  'status',
  'luld',
  'correction',
  'cancelError',
  'imbalance',
  'orderbook',
  'news',
];

/** Subscription channels as the server names them in actions and echoes. */
export type Channel =
  | 'trades'
  | 'quotes'
  | 'bars'
  | 'updatedBars'
  | 'dailyBars'
  | 'statuses'
  | 'lulds'
  | 'imbalances'
  | 'orderbooks'
  | 'news';

/** Channels a client may ask for. Corrections and cancel/errors follow `trades` on the server. */
export const CHANNELS: readonly Channel[] = [
  'trades',
  'quotes',
  'bars',
  'updatedBars',
  'dailyBars',
  'statuses',
  'lulds',
  'imbalances',
  'orderbooks',
  'news',
];

/** Echo-only channels: the server adds them for every symbol in `trades`. */
export type DerivedChannel = 'corrections' | 'cancelErrors';

/** A trade id: the wire number when exact (|id| < 2^53), else its exact decimal text. */
export type TradeId = number | string;

export interface Quote {
  readonly kind: 'quote';
  readonly symbol: string;
  readonly bidExchange: string | undefined;
  readonly bidPrice: number;
  readonly bidSize: number;
  readonly askExchange: string | undefined;
  readonly askPrice: number;
  readonly askSize: number;
  readonly conditions: readonly string[] | undefined;
  readonly time: string;
  /** `time` as epoch ms (see the module comment). */
  readonly timeMs: number;
  readonly tape: string | undefined;
}

export interface Trade {
  readonly kind: 'trade';
  readonly symbol: string;
  readonly id: TradeId;
  readonly exchange: string | undefined;
  readonly price: number;
  readonly size: number;
  readonly conditions: readonly string[] | undefined;
  readonly time: string;
  /** `time` as epoch ms (see the module comment). */
  readonly timeMs: number;
  readonly tape: string | undefined;
  /** Crypto only: `B` buyer or `S` seller was the taker. */
  readonly takerSide: string | undefined;
}

export interface Bar {
  readonly kind: 'bar' | 'dailyBar' | 'updatedBar';
  readonly symbol: string;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly tradeCount: number | undefined;
  readonly vwap: number | undefined;
  /** Start of the bar. */
  readonly time: string;
  /** `time` as epoch ms (see the module comment). */
  readonly timeMs: number;
}

export interface TradingStatus {
  readonly kind: 'status';
  readonly symbol: string;
  readonly statusCode: string;
  readonly statusMessage: string;
  readonly reasonCode: string;
  readonly reasonMessage: string;
  readonly time: string;
  /** `time` as epoch ms (see the module comment). */
  readonly timeMs: number;
  readonly tape: string | undefined;
}

export interface Luld {
  readonly kind: 'luld';
  readonly symbol: string;
  readonly limitUp: number;
  readonly limitDown: number;
  readonly indicator: string;
  readonly time: string;
  /** `time` as epoch ms (see the module comment). */
  readonly timeMs: number;
  readonly tape: string | undefined;
}

export interface TradeCorrection {
  readonly kind: 'correction';
  readonly symbol: string;
  readonly exchange: string | undefined;
  readonly originalId: TradeId;
  readonly originalPrice: number;
  readonly originalSize: number;
  readonly originalConditions: readonly string[] | undefined;
  readonly correctedId: TradeId;
  readonly correctedPrice: number;
  readonly correctedSize: number;
  readonly correctedConditions: readonly string[] | undefined;
  readonly time: string;
  /** `time` as epoch ms (see the module comment). */
  readonly timeMs: number;
  readonly tape: string | undefined;
}

export interface TradeCancelError {
  readonly kind: 'cancelError';
  readonly symbol: string;
  readonly id: TradeId;
  readonly exchange: string | undefined;
  readonly price: number;
  readonly size: number;
  /** `C` cancel, `E` error. */
  readonly action: string;
  readonly time: string;
  /** `time` as epoch ms (see the module comment). */
  readonly timeMs: number;
  readonly tape: string | undefined;
}

export interface Imbalance {
  readonly kind: 'imbalance';
  readonly symbol: string;
  readonly price: number;
  readonly time: string;
  /** `time` as epoch ms (see the module comment). */
  readonly timeMs: number;
  readonly tape: string | undefined;
}

export interface BookLevel {
  readonly price: number;
  /** 0 deletes the level. */
  readonly size: number;
}

export interface OrderBook {
  readonly kind: 'orderbook';
  readonly symbol: string;
  readonly time: string;
  /** `time` as epoch ms (see the module comment). */
  readonly timeMs: number;
  readonly bids: readonly BookLevel[];
  readonly asks: readonly BookLevel[];
  /** True when this message replaces the whole book. */
  readonly reset: boolean;
}

export interface News {
  readonly kind: 'news';
  readonly id: string;
  /** News items name many symbols; `symbol` is the first, for handler routing. */
  readonly symbol: string;
  readonly symbols: readonly string[];
  readonly headline: string;
  readonly summary: string;
  readonly author: string;
  readonly content: string;
  readonly url: string;
  readonly source: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly time: string;
  /** `time` as epoch ms (see the module comment). */
  readonly timeMs: number;
}

export type DataMessage =
  | Quote
  | Trade
  | Bar
  | TradingStatus
  | Luld
  | TradeCorrection
  | TradeCancelError
  | Imbalance
  | OrderBook
  | News;

/** `[{"T":"success","msg":"connected"}]` and `authenticated`. */
export interface SuccessMessage {
  readonly kind: 'success';
  readonly msg: string;
}

export interface ErrorMessage {
  readonly kind: 'error';
  readonly code: number;
  readonly msg: string;
}

/** The set of symbols per channel. */
export type ChannelSets = Readonly<Record<Channel, readonly string[]>>;

/** The server's echo of the WHOLE current subscription after every change. */
export interface SubscriptionMessage {
  readonly kind: 'subscription';
  readonly channels: ChannelSets;
  readonly corrections: readonly string[];
  readonly cancelErrors: readonly string[];
}

export type ControlMessage = SuccessMessage | ErrorMessage | SubscriptionMessage;

export type MarketMessage = DataMessage | ControlMessage;

export type Codec = 'json' | 'msgpack';

export type Feed = 'iex' | 'sip' | 'delayed_sip' | 'test' | 'crypto';

/** Paths on the stream host per feed. */
export const FEED_PATHS: Readonly<Record<Feed, string>> = {
  iex: '/v2/iex',
  sip: '/v2/sip',
  delayed_sip: '/v2/delayed_sip',
  test: '/v2/test',
  crypto: '/v1beta3/crypto/us',
};

/** Live Alpaca market-data stream host. */
export const ALPACA_STREAM_HOST = 'wss://stream.data.alpaca.markets';

/** Alpaca's error codes with what they mean for the client. */
export const ALPACA_ERRORS: Readonly<
  Record<number, { readonly msg: string; readonly meaning: string }>
> = {
  400: { msg: 'invalid syntax', meaning: 'The client sent a message the server could not parse.' },
  401: { msg: 'not authenticated', meaning: 'An action was sent before authentication.' },
  402: { msg: 'auth failed', meaning: 'The API key or secret was refused. Check the credentials.' },
  403: {
    msg: 'already authenticated',
    meaning: 'A second auth on an authenticated session; harmless.',
  },
  404: { msg: 'auth timeout', meaning: 'Authentication did not arrive in time; reconnecting.' },
  405: {
    msg: 'symbol limit exceeded',
    meaning: 'Your plan allows fewer symbols; some were refused.',
  },
  406: {
    msg: 'connection limit exceeded',
    meaning: 'Another session holds this account’s connection; retrying slowly.',
  },
  407: {
    msg: 'slow client',
    meaning: 'The client fell behind the feed and will be dropped; reconnecting.',
  },
  409: { msg: 'insufficient subscription', meaning: 'Your plan does not include this feed.' },
  410: {
    msg: 'invalid subscribe action for this feed',
    meaning: 'This channel does not exist on this feed.',
  },
  411: { msg: 'insufficient scope', meaning: 'The credentials lack the scope for this stream.' },
  412: {
    msg: 'option messages are only available in MsgPack format',
    meaning: 'Switch the codec to msgpack.',
  },
  413: {
    msg: 'star subscription is not allowed for option quotes',
    meaning: 'Subscribe to option quotes by symbol.',
  },
  500: { msg: 'internal error', meaning: 'The server failed; reconnecting with backoff.' },
};

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Nanoseconds since the epoch for an RFC 3339 timestamp, without losing the digits that `Date`
 * drops. Returns undefined for text that is not RFC 3339.
 */
export function timeToEpochNs(time: string): bigint | undefined {
  const m = RFC3339.exec(time);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  const frac = (m[2] ?? '').padEnd(9, '0');
  return BigInt(ms) * 1_000_000n + BigInt(frac);
}

/**
 * Milliseconds since the epoch as a float that keeps microseconds (a double holds ~15.9 digits, so
 * nanoseconds of a current date are past its precision). For latency arithmetic.
 *
 * Runs once per quote in the conflation book, so the common shape (UTC, `Z`, the second shared with
 * the previous call) takes a fast path: the whole-second part is cached by its 19-character text
 * and only the fraction's digits are read. Anything else takes the general parse.
 */
export function timeToEpochMs(time: string): number {
  const len = time.length;
  if (
    len >= 20 &&
    cachedPrefixMs === cachedPrefixMs && // not NaN
    time.charCodeAt(len - 1) === 90 && // 'Z'
    time.startsWith(cachedPrefix)
  ) {
    if (len === 20) return cachedPrefixMs;
    if (time.charCodeAt(19) === 46 && len <= 30) {
      // '.', then 1-9 digits, then 'Z'
      let n = 0;
      let i = 20;
      for (; i < len - 1; i++) {
        const d = time.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        n = n * 10 + d;
      }
      if (i === len - 1 && i > 20) return cachedPrefixMs + (n / POW10[i - 20]!) * 1000;
    }
  }
  return parseEpochMs(time);
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
let cachedPrefix = '\0';
let cachedPrefixMs = Number.NaN;

function parseEpochMs(time: string): number {
  const m = RFC3339.exec(time);
  if (!m) return Number.NaN;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (m[3] === 'Z' && !Number.isNaN(ms)) {
    cachedPrefix = m[1]!;
    cachedPrefixMs = ms;
  }
  const frac = m[2];
  return frac === undefined ? ms : ms + Number(`0.${frac}`) * 1000;
}

// Messages in one batch share their second: cache its text instead of building a Date each time.
let cachedSeconds = Number.NaN;
let cachedBase = '';

/** RFC 3339 UTC text for seconds + nanoseconds since the epoch (as the msgpack timestamp carries). */
export function formatEpoch(seconds: number, nanoseconds: number): string {
  if (seconds !== cachedSeconds) {
    cachedBase = new Date(seconds * 1000).toISOString().slice(0, 19); // 2025-03-04T15:02:11
    cachedSeconds = seconds;
  }
  if (nanoseconds === 0) return `${cachedBase}Z`;
  return `${cachedBase}.${String(nanoseconds).padStart(9, '0')}Z`;
}
