/**
 * Validation and normalization of one wire item (an object of a server batch) into a domain
 * message of shared/market.ts. This is the hot path: every check is a `typeof` or a comparison,
 * every message is built by one object literal of a fixed shape per kind (so V8 keeps the
 * consumers monomorphic), and a bad item is reported to the sink instead of throwing. Strict on
 * what a consumer needs (symbol, prices, sizes, time; the error code), lenient on the rest: an
 * absent or mistyped optional field becomes `undefined` (or '' / [] where the domain type has no
 * `undefined`).
 *
 * Values no market can produce are refused per item too (implausibleTime, plausibleBar): a
 * negative price or size (0 stays: Alpaca sends 0 for a missing bid or ask), a bar whose high is
 * below its low or whose open or close is outside [low, high], a negative volume, and a time
 * before 1970 or more than a day ahead of this machine's clock. The fast decoders apply the same
 * rules.
 */
import type {
  Bar,
  TradeId,
  BookLevel,
  ErrorMessage,
  Imbalance,
  Luld,
  MarketMessage,
  News,
  OrderBook,
  Quote,
  SubscriptionMessage,
  SuccessMessage,
  Trade,
  TradeCancelError,
  TradeCorrection,
  TradingStatus,
} from '../../../shared/market.ts';
import { CHANNELS, timeToEpochMs } from '../../../shared/market.ts';
import { BAD_TIMESTAMP } from './msgpack.ts';

export const INVALID_REASONS = [
  'empty-frame',
  'corrupt-json',
  'corrupt-msgpack',
  'not-array',
  'not-object',
  'missing-type',
  'unknown-type',
  'missing-field',
  'wrong-type',
  /** A price, size or volume below zero. */
  'negative-value',
  /** A bar whose high < low, or whose open or close is outside [low, high]. */
  'inconsistent-bar',
  /** A time before 1970-01-01T00:00:00Z or more than MAX_FUTURE_MS ahead of the wall clock. */
  'implausible-time',
] as const;

export type InvalidReason = (typeof INVALID_REASONS)[number];

export interface InvalidItem {
  readonly reason: InvalidReason;
  readonly detail: string;
  /** At most EXCERPT_LENGTH characters of the offending input, for the log. */
  readonly excerpt: string;
}

/**
 * Receives what a frame decodes to, in wire order. Exceptions thrown by either method propagate
 * out of the decoder: the caller decides how to isolate its own code.
 */
export interface FrameSink {
  message(msg: MarketMessage): void;
  invalid(item: InvalidItem): void;
}

export const EXCERPT_LENGTH = 120;

/**
 * How far ahead of this machine's clock an exchange time may be. A day: far more than any clock
 * skew or time zone mistake, far less than the year-9999 timestamps a broken server can send.
 */
export const MAX_FUTURE_MS = 86_400_000;

/**
 * The latest exchange time accepted, in epoch ms. Reading the clock per message would cost more
 * than the rest of the check, so the bound is cached and read again only when a time passes it: a
 * cached bound is never later than the true one (the clock moves forward), so a time under it is
 * plausible, and a time past it is looked at again against a fresh reading. (A wall clock set back
 * by hours leaves the bound that much too generous until it catches up; harmless.)
 */
export const timeBound = { latestMs: 0 };

/**
 * Whether an item's epoch ms is impossible. The hot paths inline `ms < 0 || ms > latestMs` and call
 * this only then. NaN (a time shaped like RFC 3339 that does not parse) is not judged here: it
 * stays as lenient as before.
 */
export function implausibleTime(ms: number): boolean {
  if (ms < 0) return true;
  if (ms <= timeBound.latestMs) return false;
  timeBound.latestMs = Date.now() + MAX_FUTURE_MS;
  return ms > timeBound.latestMs;
}

/**
 * Whether a bar's numbers can all be true at once: low >= 0 (so every price is), high >= low, open
 * and close in [low, high], volume >= 0. Written as one expression of comparisons, false for NaN.
 */
export function plausibleBar(
  open: number,
  high: number,
  low: number,
  close: number,
  volume: number,
): boolean {
  return (
    low >= 0 &&
    high >= low &&
    open >= low &&
    open <= high &&
    close >= low &&
    close <= high &&
    volume >= 0
  );
}

type Wire = { readonly [key: string]: unknown };

/**
 * Set when an id arrived as a number beyond 2^53, i.e. already rounded by the parser. The frame
 * decoder reads it after each item and re-decodes that frame exactly; a flag instead of a return
 * value keeps the normalizers' signatures and the hot path unchanged.
 */
export const idPrecision = { lost: false };

/** Copies a short string out of a possibly huge parent, so a kept excerpt does not pin a frame. */
export function detach(text: string): string {
  return text.length <= 12 ? text : Buffer.from(text, 'utf8').toString('utf8');
}

function excerptReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value.toString()}n`;
  // JSON.stringify would print null; say what the number was.
  if (typeof value === 'number' && value - value !== 0) return String(value);
  if (typeof value === 'symbol') return value.toString();
  return value;
}

/** A short JSON-ish rendering of any parsed value; never throws (invalid path only). */
export function excerptOf(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, excerptReplacer);
  } catch {
    text = undefined;
  }
  if (text === undefined) text = typeof value === 'symbol' ? value.toString() : typeof value;
  return detach(text.length > EXCERPT_LENGTH ? text.slice(0, EXCERPT_LENGTH) : text);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === BAD_TIMESTAMP) return 'a malformed msgpack timestamp';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : 'a string';
  return typeof value;
}

function invalid(sink: FrameSink, reason: InvalidReason, detail: string, item: unknown): undefined {
  sink.invalid({ reason, detail, excerpt: excerptOf(item) });
  return undefined;
}

/** `null` counts as missing: Go encoders write nil for an absent value. */
function fieldError(sink: FrameSink, o: Wire, key: string, expected: string): undefined {
  const value = o[key];
  const missing = value === undefined || value === null;
  const detail = `${String(o.T)}.${key}: expected ${expected}, got ${missing ? 'nothing' : describe(value)}`;
  return invalid(sink, missing ? 'missing-field' : 'wrong-type', detail, o);
}

/** A number below zero where only zero or more makes sense. */
function negative(sink: FrameSink, o: Wire, key: string, value: number): undefined {
  return invalid(sink, 'negative-value', `${String(o.T)}.${key}: ${value} is below zero`, o);
}

function badTime(sink: FrameSink, o: Wire, key: string, time: string): undefined {
  const when = time.length > 40 ? `${time.slice(0, 40)}...` : time;
  const detail = `${String(o.T)}.${key}: ${when} is before 1970 or more than a day ahead`;
  return invalid(sink, 'implausible-time', detail, o);
}

/** The epoch ms of `time`, or undefined after reporting the item when it is impossible. */
function checkedTime(sink: FrameSink, o: Wire, key: string, time: string): number | undefined {
  const ms = timeToEpochMs(time);
  if ((ms < 0 || ms > timeBound.latestMs) && implausibleTime(ms))
    return badTime(sink, o, key, time);
  return ms;
}

const A_SYMBOL = 'a non-empty string';
const A_NUMBER = 'a finite number';
const A_TIME = 'an RFC 3339 timestamp';

/** A number, or NaN. Depending on the unpackr's int64 setting msgpack integers may be bigints. */
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return Number.NaN;
}

function isSymbol(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/** Cheap shape check, not a parse: at least `YYYY-MM-DDTHH:MM:SSZ` long and starting with a digit. */
function isTime(v: unknown): v is string {
  if (typeof v !== 'string' || v.length < 20) return false;
  const c = v.charCodeAt(0);
  return c >= 48 && c <= 57;
}

function optStr(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function optNum(v: unknown): number | undefined {
  const n = num(v);
  return n - n === 0 ? n : undefined;
}

/** The array itself (no copy) when every element is a string, else undefined. */
function strings(v: unknown): readonly string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return undefined;
  return v as string[];
}

/**
 * A trade id as the domain keeps it (shared/market.ts TradeId): the number itself while exact, text
 * otherwise. A number past 2^53 was already rounded by the parser, so it is flagged for the exact
 * re-decode (which yields text or a bigint). A number that is no integer at all (1.5, 5e-324, NaN:
 * not an id any feed sends) is kept as its text, so that a numeric id is always a safe integer.
 * Anything else (absent, mistyped) is ''.
 */
function idOf(v: unknown): TradeId {
  if (typeof v === 'number') {
    if (v > Number.MAX_SAFE_INTEGER || v < -Number.MAX_SAFE_INTEGER) {
      idPrecision.lost = true;
      return String(v);
    }
    return Number.isInteger(v) ? v : String(v);
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  return '';
}

/** News ids stay text in the domain (rare messages; no cost to speak of). */
function textIdOf(v: unknown): string {
  const id = idOf(v);
  return typeof id === 'string' ? id : String(id);
}

// The three builders of the frequent kinds. The generic path (normalize) and the fast decoders
// (fast-json.ts, fast-msgpack.ts) both build through them, so a message has one shape (one hidden
// class per kind, field order included) whichever path decoded it.

export function makeQuote(
  symbol: string,
  bidExchange: string | undefined,
  bidPrice: number,
  bidSize: number,
  askExchange: string | undefined,
  askPrice: number,
  askSize: number,
  conditions: readonly string[] | undefined,
  time: string,
  timeMs: number,
  tape: string | undefined,
): Quote {
  return {
    kind: 'quote',
    symbol,
    bidExchange,
    bidPrice,
    bidSize,
    askExchange,
    askPrice,
    askSize,
    conditions,
    time,
    timeMs,
    tape,
  };
}

export function makeTrade(
  symbol: string,
  id: TradeId,
  exchange: string | undefined,
  price: number,
  size: number,
  conditions: readonly string[] | undefined,
  time: string,
  timeMs: number,
  tape: string | undefined,
  takerSide: string | undefined,
): Trade {
  return {
    kind: 'trade',
    symbol,
    id,
    exchange,
    price,
    size,
    conditions,
    time,
    timeMs,
    tape,
    takerSide,
  };
}

export function makeBar(
  kind: Bar['kind'],
  symbol: string,
  open: number,
  high: number,
  low: number,
  close: number,
  volume: number,
  tradeCount: number | undefined,
  vwap: number | undefined,
  time: string,
  timeMs: number,
): Bar {
  return { kind, symbol, open, high, low, close, volume, tradeCount, vwap, time, timeMs };
}

function quote(o: Wire, sink: FrameSink): Quote | undefined {
  const symbol = o.S;
  if (!isSymbol(symbol)) return fieldError(sink, o, 'S', A_SYMBOL);
  const bidPrice = num(o.bp);
  if (bidPrice - bidPrice !== 0) return fieldError(sink, o, 'bp', A_NUMBER);
  const bidSize = num(o.bs);
  if (bidSize - bidSize !== 0) return fieldError(sink, o, 'bs', A_NUMBER);
  const askPrice = num(o.ap);
  if (askPrice - askPrice !== 0) return fieldError(sink, o, 'ap', A_NUMBER);
  const askSize = num(o.as);
  if (askSize - askSize !== 0) return fieldError(sink, o, 'as', A_NUMBER);
  if (bidPrice < 0) return negative(sink, o, 'bp', bidPrice);
  if (bidSize < 0) return negative(sink, o, 'bs', bidSize);
  if (askPrice < 0) return negative(sink, o, 'ap', askPrice);
  if (askSize < 0) return negative(sink, o, 'as', askSize);
  const time = o.t;
  if (!isTime(time)) return fieldError(sink, o, 't', A_TIME);
  const timeMs = checkedTime(sink, o, 't', time);
  if (timeMs === undefined) return undefined;
  return makeQuote(
    symbol,
    optStr(o.bx),
    bidPrice,
    bidSize,
    optStr(o.ax),
    askPrice,
    askSize,
    strings(o.c),
    time,
    timeMs,
    optStr(o.z),
  );
}

function trade(o: Wire, sink: FrameSink): Trade | undefined {
  const symbol = o.S;
  if (!isSymbol(symbol)) return fieldError(sink, o, 'S', A_SYMBOL);
  const price = num(o.p);
  if (price - price !== 0) return fieldError(sink, o, 'p', A_NUMBER);
  const size = num(o.s);
  if (size - size !== 0) return fieldError(sink, o, 's', A_NUMBER);
  if (price < 0) return negative(sink, o, 'p', price);
  if (size < 0) return negative(sink, o, 's', size);
  const time = o.t;
  if (!isTime(time)) return fieldError(sink, o, 't', A_TIME);
  const timeMs = checkedTime(sink, o, 't', time);
  if (timeMs === undefined) return undefined;
  return makeTrade(
    symbol,
    idOf(o.i),
    optStr(o.x),
    price,
    size,
    strings(o.c),
    time,
    timeMs,
    optStr(o.z),
    optStr(o.tks),
  );
}

function bar(o: Wire, kind: Bar['kind'], sink: FrameSink): Bar | undefined {
  const symbol = o.S;
  if (!isSymbol(symbol)) return fieldError(sink, o, 'S', A_SYMBOL);
  const open = num(o.o);
  if (open - open !== 0) return fieldError(sink, o, 'o', A_NUMBER);
  const high = num(o.h);
  if (high - high !== 0) return fieldError(sink, o, 'h', A_NUMBER);
  const low = num(o.l);
  if (low - low !== 0) return fieldError(sink, o, 'l', A_NUMBER);
  const close = num(o.c);
  if (close - close !== 0) return fieldError(sink, o, 'c', A_NUMBER);
  const volume = num(o.v);
  if (volume - volume !== 0) return fieldError(sink, o, 'v', A_NUMBER);
  if (!plausibleBar(open, high, low, close, volume)) {
    if (volume < 0) return negative(sink, o, 'v', volume);
    if (low < 0) return negative(sink, o, 'l', low);
    const detail = `${String(o.T)}: o ${open}, h ${high}, l ${low}, c ${close}: needs l <= o, c <= h`;
    return invalid(sink, 'inconsistent-bar', detail, o);
  }
  const time = o.t;
  if (!isTime(time)) return fieldError(sink, o, 't', A_TIME);
  const timeMs = checkedTime(sink, o, 't', time);
  if (timeMs === undefined) return undefined;
  return makeBar(
    kind,
    symbol,
    open,
    high,
    low,
    close,
    volume,
    optNum(o.n),
    optNum(o.vw),
    time,
    timeMs,
  );
}

function status(o: Wire, sink: FrameSink): TradingStatus | undefined {
  const symbol = o.S;
  if (!isSymbol(symbol)) return fieldError(sink, o, 'S', A_SYMBOL);
  const time = o.t;
  if (!isTime(time)) return fieldError(sink, o, 't', A_TIME);
  const timeMs = checkedTime(sink, o, 't', time);
  if (timeMs === undefined) return undefined;
  return {
    kind: 'status',
    symbol,
    statusCode: str(o.sc),
    statusMessage: str(o.sm),
    reasonCode: str(o.rc),
    reasonMessage: str(o.rm),
    time,
    timeMs,
    tape: optStr(o.z),
  };
}

function luld(o: Wire, sink: FrameSink): Luld | undefined {
  const symbol = o.S;
  if (!isSymbol(symbol)) return fieldError(sink, o, 'S', A_SYMBOL);
  const limitUp = num(o.u);
  if (limitUp - limitUp !== 0) return fieldError(sink, o, 'u', A_NUMBER);
  const limitDown = num(o.d);
  if (limitDown - limitDown !== 0) return fieldError(sink, o, 'd', A_NUMBER);
  if (limitUp < 0) return negative(sink, o, 'u', limitUp);
  if (limitDown < 0) return negative(sink, o, 'd', limitDown);
  const time = o.t;
  if (!isTime(time)) return fieldError(sink, o, 't', A_TIME);
  const timeMs = checkedTime(sink, o, 't', time);
  if (timeMs === undefined) return undefined;
  return {
    kind: 'luld',
    symbol,
    limitUp,
    limitDown,
    indicator: str(o.i),
    time,
    timeMs,
    tape: optStr(o.z),
  };
}

function correction(o: Wire, sink: FrameSink): TradeCorrection | undefined {
  const symbol = o.S;
  if (!isSymbol(symbol)) return fieldError(sink, o, 'S', A_SYMBOL);
  const originalPrice = num(o.op);
  if (originalPrice - originalPrice !== 0) return fieldError(sink, o, 'op', A_NUMBER);
  const originalSize = num(o.os);
  if (originalSize - originalSize !== 0) return fieldError(sink, o, 'os', A_NUMBER);
  const correctedPrice = num(o.cp);
  if (correctedPrice - correctedPrice !== 0) return fieldError(sink, o, 'cp', A_NUMBER);
  const correctedSize = num(o.cs);
  if (correctedSize - correctedSize !== 0) return fieldError(sink, o, 'cs', A_NUMBER);
  if (originalPrice < 0) return negative(sink, o, 'op', originalPrice);
  if (originalSize < 0) return negative(sink, o, 'os', originalSize);
  if (correctedPrice < 0) return negative(sink, o, 'cp', correctedPrice);
  if (correctedSize < 0) return negative(sink, o, 'cs', correctedSize);
  const time = o.t;
  if (!isTime(time)) return fieldError(sink, o, 't', A_TIME);
  const timeMs = checkedTime(sink, o, 't', time);
  if (timeMs === undefined) return undefined;
  return {
    kind: 'correction',
    symbol,
    exchange: optStr(o.x),
    originalId: idOf(o.oi),
    originalPrice,
    originalSize,
    originalConditions: strings(o.oc),
    correctedId: idOf(o.ci),
    correctedPrice,
    correctedSize,
    correctedConditions: strings(o.cc),
    time,
    timeMs,
    tape: optStr(o.z),
  };
}

function cancelError(o: Wire, sink: FrameSink): TradeCancelError | undefined {
  const symbol = o.S;
  if (!isSymbol(symbol)) return fieldError(sink, o, 'S', A_SYMBOL);
  const price = num(o.p);
  if (price - price !== 0) return fieldError(sink, o, 'p', A_NUMBER);
  const size = num(o.s);
  if (size - size !== 0) return fieldError(sink, o, 's', A_NUMBER);
  if (price < 0) return negative(sink, o, 'p', price);
  if (size < 0) return negative(sink, o, 's', size);
  const time = o.t;
  if (!isTime(time)) return fieldError(sink, o, 't', A_TIME);
  const timeMs = checkedTime(sink, o, 't', time);
  if (timeMs === undefined) return undefined;
  return {
    kind: 'cancelError',
    symbol,
    id: idOf(o.i),
    exchange: optStr(o.x),
    price,
    size,
    action: str(o.a),
    time,
    timeMs,
    tape: optStr(o.z),
  };
}

function imbalance(o: Wire, sink: FrameSink): Imbalance | undefined {
  const symbol = o.S;
  if (!isSymbol(symbol)) return fieldError(sink, o, 'S', A_SYMBOL);
  const price = num(o.p);
  if (price - price !== 0) return fieldError(sink, o, 'p', A_NUMBER);
  if (price < 0) return negative(sink, o, 'p', price);
  const time = o.t;
  if (!isTime(time)) return fieldError(sink, o, 't', A_TIME);
  const timeMs = checkedTime(sink, o, 't', time);
  if (timeMs === undefined) return undefined;
  return {
    kind: 'imbalance',
    symbol,
    price,
    time,
    timeMs,
    tape: optStr(o.z),
  };
}

/** What `levels` found wrong with a list holding a negative price or size (size 0 removes a level). */
const NEGATIVE_LEVEL = 'negative';

/**
 * Book levels, or undefined when malformed. Strict, unlike other optional data: silently dropping
 * one level would leave the consumer's book wrong with nothing to show for it.
 */
function levels(v: unknown): BookLevel[] | undefined | typeof NEGATIVE_LEVEL {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return undefined;
  const out: BookLevel[] = [];
  for (let i = 0; i < v.length; i++) {
    const level: unknown = v[i];
    if (typeof level !== 'object' || level === null) return undefined;
    const price = num((level as Wire).p);
    const size = num((level as Wire).s);
    if (price - price !== 0 || size - size !== 0) return undefined;
    if (price < 0 || size < 0) return NEGATIVE_LEVEL;
    out.push({ price, size });
  }
  return out;
}

function levelError(
  sink: FrameSink,
  o: Wire,
  key: string,
  found: undefined | 'negative',
): undefined {
  if (found === undefined) return fieldError(sink, o, key, LEVELS);
  return invalid(
    sink,
    'negative-value',
    `${String(o.T)}.${key}: a level with a negative price or size`,
    o,
  );
}

const LEVELS = 'an array of {p, s} with finite numbers';

function orderbook(o: Wire, sink: FrameSink): OrderBook | undefined {
  const symbol = o.S;
  if (!isSymbol(symbol)) return fieldError(sink, o, 'S', A_SYMBOL);
  const time = o.t;
  if (!isTime(time)) return fieldError(sink, o, 't', A_TIME);
  const timeMs = checkedTime(sink, o, 't', time);
  if (timeMs === undefined) return undefined;
  const bids = levels(o.b);
  if (bids === undefined || bids === NEGATIVE_LEVEL) return levelError(sink, o, 'b', bids);
  const asks = levels(o.a);
  if (asks === undefined || asks === NEGATIVE_LEVEL) return levelError(sink, o, 'a', asks);
  return {
    kind: 'orderbook',
    symbol,
    time,
    timeMs,
    bids,
    asks,
    reset: o.r === true,
  };
}

const NO_SYMBOLS: readonly string[] = Object.freeze([]);

/** News symbols, keeping only the strings (rare path, so a copy is fine when needed). */
function newsSymbols(v: unknown): readonly string[] {
  if (!Array.isArray(v)) return NO_SYMBOLS;
  const all = strings(v);
  if (all !== undefined) return all;
  const out: string[] = [];
  for (let i = 0; i < v.length; i++) {
    const s: unknown = v[i];
    if (typeof s === 'string') out.push(s);
  }
  return out;
}

function news(o: Wire, sink: FrameSink): News | undefined {
  const createdAt = o.created_at;
  if (!isTime(createdAt)) return fieldError(sink, o, 'created_at', A_TIME);
  const timeMs = checkedTime(sink, o, 'created_at', createdAt);
  if (timeMs === undefined) return undefined;
  const symbols = newsSymbols(o.symbols);
  return {
    kind: 'news',
    id: textIdOf(o.id),
    symbol: symbols[0] ?? '',
    symbols,
    headline: str(o.headline),
    summary: str(o.summary),
    author: str(o.author),
    content: str(o.content),
    url: str(o.url),
    source: str(o.source),
    createdAt,
    updatedAt: str(o.updated_at),
    time: createdAt,
    timeMs,
  };
}

function success(o: Wire): SuccessMessage {
  return { kind: 'success', msg: str(o.msg) };
}

function error(o: Wire, sink: FrameSink): ErrorMessage | undefined {
  const code = num(o.code);
  if (code - code !== 0) return fieldError(sink, o, 'code', A_NUMBER);
  return { kind: 'error', code, msg: str(o.msg) };
}

/** A channel list of the echo: absent means empty; anything but strings is a broken echo. */
function channelList(v: unknown): readonly string[] | undefined {
  return v === undefined || v === null ? [] : strings(v);
}

const SYMBOL_LIST = 'an array of strings';

function subscription(o: Wire, sink: FrameSink): SubscriptionMessage | undefined {
  for (const key of CHANNELS) {
    if (channelList(o[key]) === undefined) return fieldError(sink, o, key, SYMBOL_LIST);
  }
  const corrections = channelList(o.corrections);
  if (corrections === undefined) return fieldError(sink, o, 'corrections', SYMBOL_LIST);
  const cancelErrors = channelList(o.cancelErrors);
  if (cancelErrors === undefined) return fieldError(sink, o, 'cancelErrors', SYMBOL_LIST);
  return {
    kind: 'subscription',
    channels: {
      trades: channelList(o.trades) ?? [],
      quotes: channelList(o.quotes) ?? [],
      bars: channelList(o.bars) ?? [],
      updatedBars: channelList(o.updatedBars) ?? [],
      dailyBars: channelList(o.dailyBars) ?? [],
      statuses: channelList(o.statuses) ?? [],
      lulds: channelList(o.lulds) ?? [],
      imbalances: channelList(o.imbalances) ?? [],
      orderbooks: channelList(o.orderbooks) ?? [],
      news: channelList(o.news) ?? [],
    },
    corrections,
    cancelErrors,
  };
}

/**
 * One wire item to its domain message, or undefined after reporting why it is invalid. Expects
 * parsed data (plain objects, arrays, primitives); it does not guard against throwing getters.
 */
export function normalize(item: unknown, sink: FrameSink): MarketMessage | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return invalid(sink, 'not-object', `batch item is ${describe(item)}, not an object`, item);
  }
  const o = item as Wire;
  const type = o.T;
  if (typeof type !== 'string') {
    if (type === undefined || type === null) {
      return invalid(sink, 'missing-type', 'item has no T', item);
    }
    return invalid(sink, 'wrong-type', `T: expected a string, got ${describe(type)}`, item);
  }
  switch (type) {
    case 'q':
      return quote(o, sink);
    case 't':
      return trade(o, sink);
    case 'b':
      return bar(o, 'bar', sink);
    case 'd':
      return bar(o, 'dailyBar', sink);
    case 'u':
      return bar(o, 'updatedBar', sink);
    case 's':
      return status(o, sink);
    case 'l':
      return luld(o, sink);
    case 'c':
      return correction(o, sink);
    case 'x':
      return cancelError(o, sink);
    case 'i':
      return imbalance(o, sink);
    case 'o':
      return orderbook(o, sink);
    case 'n':
      return news(o, sink);
    case 'success':
      return success(o);
    case 'error':
      return error(o, sink);
    case 'subscription':
      return subscription(o, sink);
    default:
      return invalid(sink, 'unknown-type', `unknown T ${JSON.stringify(type.slice(0, 24))}`, item);
  }
}

/** One wire object to a domain message delivered to the sink (true), or reported invalid (false). */
export function normalizeItem(item: unknown, sink: FrameSink): boolean {
  const msg = normalize(item, sink);
  if (msg === undefined) return false;
  sink.message(msg);
  return true;
}
