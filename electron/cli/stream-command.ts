/**
 * `market-monitor stream`: runs the StreamClient against Alpaca, any URL, or (with no URL and no
 * keys) the embedded simulator, and writes what happens as NDJSON: state changes, quotes, trades,
 * bars, errors, and a final summary. Exit 0 when the duration or message count is reached or on
 * SIGINT/SIGTERM, 1 when the client ends `failed`, 2 on a usage error.
 *
 * Invalid input and server errors are summarized (throttle.ts): the first of each reason or code
 * is printed at once, then one line per reason or code per second with the count and the first
 * excerpt, so a server sending garbage at full speed gets a few lines a second, not one a message.
 */
import { parseArgs } from 'node:util';
import {
  ALPACA_STREAM_HOST,
  FEED_PATHS,
  type Bar,
  type Channel,
  type Codec,
  type Feed,
  type Quote,
  type Trade,
} from '../../shared/market.ts';
import type { MarketView } from '../../shared/api.ts';
import { MarketContext } from '../market/market-context.ts';
import { AlpacaRest } from '../rest/alpaca-rest.ts';
import { QuoteBook } from '../stream/book.ts';
import { StreamClient } from '../stream/client.ts';
import { createLogger } from '../stream/log.ts';
import type { InvalidItem } from '../stream/protocol/index.ts';
import { Throttle, type ThrottleClock } from '../stream/throttle.ts';
import { startSimulator, type Simulator } from '../simulator/index.ts';
import { NdjsonWriter } from './ndjson.ts';
import { UsageError, parseChoice, parsePositive, parseSymbols } from './args.ts';
import { isoOrNull, restBaseUrl } from './rest-target.ts';
import type { Writable } from 'node:stream';

export const STREAM_USAGE = `usage: market-monitor stream [--url URL | --feed iex|sip|test|crypto] [--key K --secret S]
       [--quotes A,B] [--trades A,B] [--bars A,B] [--codec json|msgpack]
       [--duration SEC] [--max-messages N] [--stale-after SEC] [--deflate] [--log-level LEVEL]
Keys also come from APCA_API_KEY_ID / APCA_API_SECRET_KEY. With no --url and no keys it streams
from an in-process simulator. Output: NDJSON on stdout; logs on stderr. A "market" line gives the
session (from the same host's REST API; Alpaca's with Alpaca) at start and at every change;
"stale" lines say data stopped (--stale-after, default 30; 0 = off; never while closed).`;

const FEEDS = ['iex', 'sip', 'delayed_sip', 'test', 'crypto'] as const satisfies readonly Feed[];
const CODECS = ['json', 'msgpack'] as const satisfies readonly Codec[];
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface StreamPlan {
  readonly url: string | undefined;
  readonly feed: Feed;
  readonly key: string | undefined;
  readonly secret: string | undefined;
  readonly codec: Codec;
  readonly channels: Partial<Record<Channel, string[]>>;
  readonly durationMs: number | undefined;
  readonly maxMessages: number | undefined;
  readonly logLevel: (typeof LEVELS)[number];
  /** Silence on a live connection after which data counts as stale; 0 = off; default the client's. */
  readonly staleAfterMs: number | undefined;
  /** Ask for permessage-deflate (less bandwidth, 2.5x-10x more client CPU per message). */
  readonly deflate: boolean;
}

/** Turns argv and the environment into a plan; throws UsageError for anything wrong. */
export function parseStreamArgs(argv: readonly string[], env: NodeJS.ProcessEnv): StreamPlan {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      url: { type: 'string' },
      feed: { type: 'string' },
      key: { type: 'string' },
      secret: { type: 'string' },
      quotes: { type: 'string' },
      trades: { type: 'string' },
      bars: { type: 'string' },
      codec: { type: 'string' },
      duration: { type: 'string' },
      'max-messages': { type: 'string' },
      'log-level': { type: 'string' },
      'stale-after': { type: 'string' },
      deflate: { type: 'boolean' },
    },
  });
  if (values.url !== undefined && values.feed !== undefined) {
    throw new UsageError('give either --url or --feed, not both');
  }
  let url: string | undefined;
  if (values.url !== undefined) {
    const parsed = URL.parse(values.url);
    if (!parsed || (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')) {
      throw new UsageError(
        `--url must be a ws:// or wss:// URL, got ${JSON.stringify(values.url)}`,
      );
    }
    url = values.url;
  }
  const feed = parseChoice('--feed', values.feed, FEEDS) ?? 'iex';
  // An empty variable counts as unset: `APCA_API_KEY_ID= market-monitor stream` means no keys.
  const key = values.key ?? (env['APCA_API_KEY_ID'] || undefined);
  const secret = values.secret ?? (env['APCA_API_SECRET_KEY'] || undefined);
  if ((key === undefined) !== (secret === undefined)) {
    throw new UsageError(
      'give both a key and a secret (--key/--secret or APCA_API_KEY_ID/APCA_API_SECRET_KEY)',
    );
  }
  const channels: Partial<Record<Channel, string[]>> = {};
  for (const channel of ['quotes', 'trades', 'bars'] as const) {
    const list = values[channel];
    if (list !== undefined) channels[channel] = parseSymbols(`--${channel}`, list);
  }
  if (Object.keys(channels).length === 0) {
    // Something should flow when nothing was asked for: a few liquid names per feed.
    const defaults =
      feed === 'crypto'
        ? ['BTC/USD', 'ETH/USD']
        : feed === 'test'
          ? ['FAKEPACA']
          : ['AAPL', 'MSFT', 'NVDA'];
    channels.quotes = defaults;
    channels.trades = defaults;
  }
  const duration = parsePositive('--duration', values.duration, { integer: false });
  const maxMessages = parsePositive('--max-messages', values['max-messages'], { integer: true });
  const staleAfter = parsePositive('--stale-after', values['stale-after'], {
    integer: false,
    allowZero: true,
  });
  return {
    url,
    feed,
    key,
    secret,
    codec: parseChoice('--codec', values.codec, CODECS) ?? 'json',
    channels,
    durationMs: duration === undefined ? undefined : duration * 1000,
    maxMessages,
    logLevel: parseChoice('--log-level', values['log-level'], LEVELS) ?? 'warn',
    staleAfterMs: staleAfter === undefined ? undefined : Math.round(staleAfter * 1000),
    deflate: values.deflate ?? false,
  };
}

/** Alpaca's REST hosts stand for Alpaca's stream host; any other host serves both itself. */
export const ALPACA_REST = 'alpaca';

/**
 * Where REST goes for a stream URL: `alpaca` for Alpaca's stream host (its REST is on other
 * hosts, `data.alpaca.markets` and the paper trading host), else the same host over http(s)
 * (ws -> http, wss -> https, the feed path dropped): the simulator and relays serve both there.
 */
export function restBaseForStream(url: string): string {
  const parsed = new URL(url);
  if (parsed.host === new URL(ALPACA_STREAM_HOST).host) return ALPACA_REST;
  return restBaseUrl('--url', url);
}

/** The feed a stream URL's path names (`/v2/sip` is sip); `fallback` for a path of no feed. */
export function feedOfUrl(url: string, fallback: Feed): Feed {
  const path = new URL(url).pathname.replace(/\/+$/, '');
  for (const [feed, feedPath] of Object.entries(FEED_PATHS) as [Feed, string][]) {
    if (feedPath === path) return feed;
  }
  return fallback;
}

/** The `market` line: the session and its bounds as ISO times (null where unknown). */
export function marketRecord(view: MarketView): Record<string, unknown> {
  return { type: 'market', ...marketFields(view) };
}

function marketFields(view: MarketView): Record<string, unknown> {
  return {
    session: view.session,
    since: isoOrNull(view.since),
    until: isoOrNull(view.until),
    nextOpen: isoOrNull(view.nextOpen),
    nextClose: isoOrNull(view.nextClose),
    feed: view.feed,
    quiet: view.quiet,
    ...(view.detail !== undefined ? { detail: view.detail } : {}),
  };
}

/**
 * How long the first `market` line waits for the clock: it is printed as soon as the session is
 * known (or known to be unknowable), and as `unknown` after this if REST is still retrying.
 */
const MARKET_WAIT_MS = 3_000;

export interface StreamIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM in the real CLI). */
  readonly stopSignal: Promise<string>;
}

type EndReason = 'duration' | 'max-messages' | 'signal' | 'failed' | 'output-closed';

/** Invalid-input and server-error lines: at most one per reason (or code) per this many ms. */
export const OUTPUT_SUMMARY_MS = 1_000;
/** The longest excerpt, detail or server message in an output line. */
export const MAX_OUTPUT_TEXT = 200;

/** Real time; a summary timer alone does not keep the CLI alive. */
const cliClock: ThrottleClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

function clipText(text: string): string {
  return text.length <= MAX_OUTPUT_TEXT ? text : `${text.slice(0, MAX_OUTPUT_TEXT - 1)}…`;
}

export async function runStream(argv: readonly string[], io: StreamIo): Promise<number> {
  const plan = parseStreamArgs(argv, io.env);
  let resolveEnd!: (reason: EndReason) => void;
  const ended = new Promise<EndReason>((resolve) => (resolveEnd = resolve));
  let done = false;
  function finish(reason: EndReason): void {
    if (done) return;
    done = true;
    resolveEnd(reason);
  }

  const out = new NdjsonWriter(io.stdout, () => finish('output-closed'));
  const logger = createLogger({ level: plan.logLevel, destination: io.stderr });

  let simulator: Simulator | undefined;
  let url = plan.url;
  if (url === undefined && plan.key === undefined) {
    simulator = await startSimulator({ logger });
    url = simulator.urlFor(plan.feed);
  }
  url ??= `${ALPACA_STREAM_HOST}${FEED_PATHS[plan.feed]}`;

  const client = new StreamClient({
    url,
    codec: plan.codec,
    perMessageDeflate: plan.deflate,
    logger,
    // No keys only happens against a --url or the simulator; a demo simulator takes any key.
    key: plan.key ?? 'demo',
    secret: plan.secret ?? 'demo',
    ...(plan.staleAfterMs !== undefined ? { staleAfterMs: plan.staleAfterMs } : {}),
  });

  const restBase = restBaseForStream(url);
  const rest = new AlpacaRest({
    logger,
    ...(restBase === ALPACA_REST ? {} : { dataUrl: restBase, tradingUrl: restBase }),
    ...(plan.key !== undefined && plan.secret !== undefined
      ? { keyId: plan.key, secret: plan.secret }
      : {}),
  });
  let printedMarket: string | undefined;
  /** Prints the market line when the session (or its next open or close) changed. */
  const printMarket = (evenIfPending: boolean, evenIfDone = false): void => {
    // `market` is set before anything can call this: it reports only after start().
    if (done && !evenIfDone) return;
    const view = market.view();
    // Not yet known: no answer and no failure yet (the view says why when REST failed).
    const pending = !view.crypto && view.session === 'unknown' && view.detail === undefined;
    if (pending && !evenIfPending) return;
    const key = `${view.session} ${view.nextOpen} ${view.nextClose}`;
    if (key === printedMarket) return;
    printedMarket = key;
    out.write(marketRecord(view));
  };
  const market: MarketContext = new MarketContext({
    rest,
    // The CLI prints the stream, not a book: this one is never read, only required.
    book: new QuoteBook({ logger }),
    client,
    feed: feedOfUrl(url, plan.feed),
    logger,
    onChange: () => printMarket(false),
  });

  let printed = 0;
  const counts = { quote: 0, trade: 0, bar: 0 };
  const countMessage = (): void => {
    printed++;
    if (plan.maxMessages !== undefined && printed >= plan.maxMessages) finish('max-messages');
  };
  const handlerOptions = { name: 'cli-output' };
  client.handlers.on(
    'quote',
    '*',
    (q: Quote) => {
      if (done) return;
      counts.quote++;
      out.writeData({
        type: 'quote',
        symbol: q.symbol,
        bidPrice: q.bidPrice,
        bidSize: q.bidSize,
        askPrice: q.askPrice,
        askSize: q.askSize,
        time: q.time,
      });
      countMessage();
    },
    handlerOptions,
  );
  client.handlers.on(
    'trade',
    '*',
    (t: Trade) => {
      if (done) return;
      counts.trade++;
      out.writeData({
        type: 'trade',
        symbol: t.symbol,
        price: t.price,
        size: t.size,
        time: t.time,
        // Text, as before the domain kept exact ids as numbers: one type per field in the output.
        id: String(t.id),
      });
      countMessage();
    },
    handlerOptions,
  );
  const onBar = (b: Bar): void => {
    if (done) return;
    counts.bar++;
    out.writeData({
      type: 'bar',
      kind: b.kind,
      symbol: b.symbol,
      open: b.open,
      high: b.high,
      low: b.low,
      close: b.close,
      volume: b.volume,
      time: b.time,
    });
    countMessage();
  };
  client.handlers.on('bar', '*', onBar, handlerOptions);
  client.handlers.on('updatedBar', '*', onBar, handlerOptions);
  client.handlers.on('dailyBar', '*', onBar, handlerOptions);

  client.on('state', (change) => {
    const record: Record<string, unknown> = { type: 'state', state: change.state };
    if (change.reason !== undefined) record['reason'] = change.reason;
    // The error belongs on the line of the state it caused, not on every later one.
    const causedByError = change.state === 'backoff' || change.state === 'failed';
    if (causedByError && change.error?.code !== undefined) record['code'] = change.error.code;
    if (change.state === 'backoff') {
      record['attempt'] = change.attempt;
      record['retryInMs'] = change.retryInMs;
    }
    out.write(record);
    if (change.state === 'failed') finish('failed');
  });
  const serverErrors = new Throttle<{ code: number; message: string; meaning?: string }>({
    intervalMs: OUTPUT_SUMMARY_MS,
    clock: cliClock,
    emit: ({ first, count, intervalMs }) => {
      const record: Record<string, unknown> = {
        type: 'error',
        code: first.code,
        message: first.message,
      };
      if (first.meaning !== undefined) record['meaning'] = first.meaning;
      record['count'] = count;
      record['intervalMs'] = intervalMs;
      out.writeData(record);
    },
  });
  const invalidInput = new Throttle<InvalidItem>({
    intervalMs: OUTPUT_SUMMARY_MS,
    clock: cliClock,
    emit: ({ first, count, intervalMs }) =>
      out.writeData({
        type: 'invalid',
        reason: first.reason,
        count,
        excerpt: clipText(first.excerpt),
        detail: clipText(first.detail),
        intervalMs,
      }),
  });
  client.on('server-error', (e) => {
    const event: { code: number; message: string; meaning?: string } = {
      code: e.code,
      message: clipText(e.message),
    };
    if (e.meaning !== undefined) event.meaning = e.meaning;
    serverErrors.add(String(e.code), event);
  });
  client.on('invalid', (item) => invalidInput.add(item.reason, item));
  client.on('stale', (stale) => out.write({ type: 'stale', stale }));

  for (const [channel, symbols] of Object.entries(plan.channels) as [Channel, string[]][]) {
    client.subscribe(channel, symbols);
  }
  out.write({ type: 'state', state: client.state });
  client.connect();
  // The session only (no symbols): snapshots and polling would fill a book nobody reads, with REST
  // requests that count against the same budget as the app's.
  market.start(new Set());
  const marketWait = setTimeout(() => printMarket(true), MARKET_WAIT_MS);

  const timer =
    plan.durationMs === undefined
      ? undefined
      : setTimeout(() => finish('duration'), plan.durationMs);
  void io.stopSignal.then(() => finish('signal'));

  const reason = await ended;
  if (timer) clearTimeout(timer);
  clearTimeout(marketWait);
  // A run too short for the clock's answer (a failed handshake, a few messages) still says it.
  if (printedMarket === undefined) printMarket(true, true);
  const marketView = market.view();
  market.close();
  rest.close();
  const failed = client.state === 'failed';
  // Stop first, so that the last state line and the summary agree on the final state.
  client.disconnect(reason === 'signal' ? 'stopped by signal' : `stopped: ${reason} reached`);
  const snapshot = client.snapshot();
  client.dispose();
  // The counts not printed yet, so that the lines add up to the summary's counters.
  invalidInput.flush();
  serverErrors.flush();
  out.write({
    type: 'summary',
    reason,
    state: snapshot.state,
    ...(snapshot.lastError ? { lastError: snapshot.lastError } : {}),
    printed: { ...counts, total: printed },
    ...(out.dropped > 0 ? { droppedOutput: out.dropped, droppedByType: out.droppedByType() } : {}),
    metrics: snapshot.metrics,
    health: snapshot.health,
    subscriptions: snapshot.subscriptions,
    market: marketFields(marketView),
  });
  await out.flush();
  await simulator?.close();
  logger.flush();
  return failed ? 1 : 0;
}
