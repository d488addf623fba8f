/**
 * The embedded simulator: a real WebSocket server speaking Alpaca's market-data stream protocol on
 * Alpaca's paths. It is the product's default feed when the user has no credentials, and the test
 * double for every fault scenario: faults can be set at start and flipped while it runs, and what
 * it holds and sent can be read back. One timer drives data for every connection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Feed } from '../../shared/market.ts';
import { FEED_PATHS } from '../../shared/market.ts';
import type { Logger } from '../stream/log.ts';
import { silentLogger } from '../stream/log.ts';
import type { SimulatorFaults } from './faults.ts';
import { DEFAULT_FAULTS, checkFaults } from './faults.ts';
import { History } from './history.ts';
import type { MarketSessionInfo, SessionMode, SimDay } from './market-hours.ts';
import { MarketHours, SESSION_MODES, cryptoSessionDay } from './market-hours.ts';
import type { LatestItems } from './market-walk.ts';
import type { SimulatorLimits } from './limits.ts';
import {
  ConnectionGate,
  DEFAULT_LIMITS,
  InboundBudget,
  OutboundBudget,
  SubscriptionLedger,
  checkLimits,
  pauseReading,
} from './limits.ts';
import { CRYPTO_PAIRS, TEST_SYMBOL, symbolUniverse } from './market-walk.ts';
import type { AssetKind, RestFaults, RestHost } from './rest.ts';
import { DEFAULT_REST_FAULTS, RestApi, checkRestFaults } from './rest.ts';
import type { ConnectionInfo, Counters, SessionConfig, SessionHost } from './session.ts';
import { Session } from './session.ts';

export interface SimulatorOptions {
  /** Interface to listen on. Default `127.0.0.1`: loopback only. */
  readonly host?: string;
  /** Port to listen on. Default 0: a free port, read it from `Simulator.port`. */
  readonly port?: number;
  /**
   * How many stock symbols exist: the well-known tickers (AAPL, MSFT, ...) first, then generated
   * names (XAAA, XAAB, ...). Default 100. Ignored when `symbolList` is given. `/v2/test` always has
   * only FAKEPACA, and the crypto path its fixed list of pairs.
   */
  readonly symbols?: number;
  /** Exactly these stock symbols, instead of a generated universe. */
  readonly symbolList?: readonly string[];
  /**
   * Data messages per second sent to EACH authenticated connection that has subscriptions
   * (control messages not counted). Default 200, a comfortable UI rate; loopback benchmarks go to
   * 50 000 and more. Change it while running with `setRate`.
   */
  readonly rate?: number;
  /** Seed of the random walks: the same seed and the same actions give the same messages. Default 1. */
  readonly seed?: number;
  /** Most data messages in one frame. Default 100. */
  readonly batchSize?: number;
  /** Interval of the send loop in milliseconds: each tick builds one batch per connection. Default 10. */
  readonly tickMs?: number;
  /**
   * Length of a bar period in milliseconds; bars (`b`) and daily bars (`d`) are sent when one ends,
   * aligned to the wall clock. Default 60 000 (minute bars); tests shorten it.
   */
  readonly barIntervalMs?: number;
  /** With `secret`: the only credentials accepted. Without both: demo mode, any key is accepted. */
  readonly key?: string;
  /** The secret that goes with `key`; give both or neither. */
  readonly secret?: string;
  /** A connection that has not authenticated this long after connecting gets 404 and is closed. Default 10 000. */
  readonly authTimeoutMs?: number;
  /** Faults on from the start; see SimulatorFaults. Change them later with `setFaults`. */
  readonly faults?: Partial<SimulatorFaults>;
  /** Where the simulator logs (a child logger `{ module: 'simulator' }` is made). Default: silent. */
  readonly logger?: Logger;
  /** Largest client message accepted, in bytes. Default 1 MiB. */
  readonly maxPayload?: number;
  /**
   * Offer permessage-deflate, as Alpaca does; used only when the client asks for it. Default true.
   */
  readonly perMessageDeflate?: boolean;
  /**
   * The market session the simulator is in. `auto` follows the real New York clock and the NYSE
   * calendar; the others force that session (see market-hours.ts for how the served calendar and
   * clock agree with it). Stock feeds stream at `rate` in `regular`, a tenth of it in `pre` and
   * `post`, and send no data when `closed`; crypto and `/v2/test` always stream. Default
   * `regular`: the stream never pauses, as before sessions existed. Change it with `setSession`.
   */
  readonly session?: SessionMode;
  /** REST faults on from the start; see RestFaults. Change them later with `setRestFaults`. */
  readonly restFaults?: Partial<RestFaults>;
  /**
   * The market clock: the instant the sessions, `/v2/clock`, snapshots and bars history are
   * computed for. Default `Date.now`; tests fake it. Stream timestamps stay on the wall clock.
   */
  readonly now?: () => number;
  /** Resource bounds; see SimulatorLimits. Each defaults to DEFAULT_LIMITS. */
  readonly limits?: Partial<SimulatorLimits>;
}

/** A client action as the simulator received it, for tests that count upstream messages. */
export interface ActionEvent {
  readonly connectionId: number;
  readonly path: string;
  readonly feed: Feed;
  /** Whether the connection was authenticated when the action arrived. */
  readonly authenticated: boolean;
  /** The decoded message, credentials included: keep it out of logs. */
  readonly action: Readonly<Record<string, unknown>>;
}

export type ActionListener = (event: ActionEvent) => void;

export interface SimulatorStats {
  /** WebSocket connections accepted. */
  readonly connectionsAccepted: number;
  /**
   * Connections refused: an unknown path (HTTP 404), or past `maxConnections` (406 after the
   * handshake, or HTTP 503 before it when even the refusals are too many).
   */
  readonly connectionsRejected: number;
  readonly connectionsOpen: number;
  readonly authOk: number;
  /** Auths answered with 402, 406 or 409. */
  readonly authFailed: number;
  /** Client messages by `action` (`auth`, `subscribe`, `unsubscribe`, any other name), and `invalid`. */
  readonly actions: Readonly<Record<string, number>>;
  /** Data messages sent, over all connections. */
  readonly messagesSent: number;
  /** success / error / subscription messages sent. */
  readonly controlMessagesSent: number;
  readonly framesSent: number;
  readonly garbageFramesSent: number;
  readonly bytesSent: number;
  /** Error messages sent, by code. */
  readonly errorsSent: Readonly<Record<string, number>>;
  /** Sockets ended without a close handshake (drop faults, `dropAll`, a close that stalled). */
  readonly terminated: number;
}

export interface Simulator {
  /** `ws://HOST:PORT`, no path; see `urlFor`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The URL of a feed's path, e.g. `ws://127.0.0.1:PORT/v2/iex`. */
  urlFor(feed: Feed): string;
  /** Terminates every socket, clears every timer and stops listening. Idempotent. */
  close(): Promise<void>;
  /** Changes some faults; the rest stay. Takes effect at once, on existing connections too. */
  setFaults(faults: Partial<SimulatorFaults>): void;
  faults(): SimulatorFaults;
  /**
   * Terminates every connection now; returns how many. With `holdSessionMs`, each authenticated
   * one keeps its slot that long (Alpaca's half-dead session): while `connectionLimit` is set, a
   * new session on that path inside the hold gets 406. Later ends linger only by
   * `connectionLingerMs`, as before.
   */
  dropAll(options?: { readonly holdSessionMs?: number }): number;
  /** Stall (hung server) on or off; see SimulatorFaults.stalled. */
  stall(on: boolean): void;
  /**
   * Sends `[{"T":"error","code":code,"msg":msg}]` to every open connection, or to one; the message
   * defaults to Alpaca's text for the code. Does not close. Returns how many connections got it.
   */
  sendError(code: number, msg?: string, connectionId?: number): number;
  /**
   * Halts trading in a stock symbol (`halted: true`) or resumes it, on every stock connection:
   * its LULD band and a status message go to those subscribed, and a halted symbol's quotes and
   * trades stop until it resumes (connections opened meanwhile find it halted too). Returns how
   * many connections took it.
   */
  setHalt(symbol: string, halted: boolean): number;
  /** The symbols halted on demand now. */
  halted(): readonly string[];
  /** Data messages per second per connection, from now on. */
  setRate(messagesPerSecond: number): void;
  connections(): ConnectionInfo[];
  stats(): SimulatorStats;
  /** Calls `listener` for every decoded client action; returns a function that removes it. */
  onAction(listener: ActionListener): () => void;
  /** The REST API's base URL, `http://HOST:PORT` (the same port as the streams). */
  readonly restUrl: string;
  /** Forces a market session, or `auto` to follow New York's clock; takes effect at once. */
  setSession(session: SessionMode): void;
  /** The session asked for, the effective one, and the clock `/v2/clock` serves now. */
  session(): MarketSessionInfo;
  /** Changes some REST faults; the rest stay. */
  setRestFaults(faults: Partial<RestFaults>): void;
  restFaults(): RestFaults;
}

const FEED_OF_PATH: ReadonlyMap<string, Feed> = new Map(
  (Object.entries(FEED_PATHS) as [Feed, string][]).map(([feed, path]) => [path, feed]),
);

function checkNumber(name: string, value: number | undefined, min: number, integer: boolean): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new RangeError(`${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}`);
  }
}

function resolveUniverse(options: SimulatorOptions): readonly string[] {
  const list = options.symbolList;
  if (list !== undefined) {
    if (
      list.length === 0 ||
      !list.every((s) => typeof s === 'string' && s.length > 0 && s !== '*')
    ) {
      throw new RangeError('symbolList must be a non-empty list of symbols');
    }
    return [...new Set(list)];
  }
  return symbolUniverse(options.symbols ?? 100);
}

function rawLength(data: RawData): number {
  return Array.isArray(data)
    ? data.reduce((sum, part) => sum + part.byteLength, 0)
    : data.byteLength;
}

function pathnameOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return '';
  }
}

/** Extended hours stream this share of the regular rate: IEX trades little outside them. */
const EXTENDED_HOURS_FACTOR = 0.1;
/** Symbols halted on demand at once, at most: the set is the one thing a control call grows. */
const MAX_HALTED = 10_000;

class SimulatorServer implements Simulator, SessionHost, RestHost {
  readonly host: string;
  url = '';
  restUrl = '';
  port = 0;
  readonly config: SessionConfig;
  readonly counters: Counters = {
    connectionsAccepted: 0,
    connectionsRejected: 0,
    authOk: 0,
    authFailed: 0,
    actions: {},
    messagesSent: 0,
    controlMessagesSent: 0,
    framesSent: 0,
    garbageFramesSent: 0,
    bytesSent: 0,
    errorsSent: {},
    terminated: 0,
  };
  readonly logger: Logger;
  readonly ledger = new SubscriptionLedger();
  readonly budget: OutboundBudget;

  readonly #limits: SimulatorLimits;
  readonly #gate: ConnectionGate;
  readonly #inbound: InboundBudget;
  readonly #requestedPort: number;
  readonly #tickMs: number;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #sessions = new Map<number, Session>();
  readonly #listeners = new Set<ActionListener>();
  /** Stock symbols halted on demand (setHalt): a new session's walk starts with them halted. */
  readonly #halted = new Set<string>();
  /** Slots still held by authenticated connections that ended (connectionLingerMs). */
  #lingering: { path: string; until: number }[] = [];
  #faults: SimulatorFaults;
  #restFaults: RestFaults;
  readonly hours: MarketHours;
  readonly history: History;
  readonly #rest: RestApi;
  readonly #stocks: readonly string[];
  readonly #crypto: readonly string[];
  /** The stock session day, looked up at most once a second (walks ask per new symbol). */
  #openDay: { at: number; day: SimDay | undefined } | undefined;
  #rate: number;
  #nextId = 1;
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: SimulatorOptions) {
    checkNumber('port', options.port, 0, true);
    checkNumber('rate', options.rate, 0, false);
    checkNumber('batchSize', options.batchSize, 1, true);
    checkNumber('tickMs', options.tickMs, 1, false);
    checkNumber('barIntervalMs', options.barIntervalMs, 10, true);
    checkNumber('authTimeoutMs', options.authTimeoutMs, 1, false);
    checkNumber('maxPayload', options.maxPayload, 1024, true);
    checkNumber('seed', options.seed, Number.MIN_SAFE_INTEGER, true);
    if ((options.key === undefined) !== (options.secret === undefined)) {
      throw new RangeError('key and secret go together: give both, or neither for demo mode');
    }
    if ((options.port ?? 0) > 65535) throw new RangeError('port must be at most 65535');
    checkFaults(options.faults ?? {});
    checkRestFaults(options.restFaults ?? {});
    const mode = options.session ?? 'regular';
    if (!SESSION_MODES.includes(mode)) {
      throw new RangeError(`session must be one of ${SESSION_MODES.join(', ')}`);
    }
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new RangeError('now must be a function returning epoch milliseconds');
    }
    checkLimits(options.limits ?? {});
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#gate = new ConnectionGate(() => this.#limits);
    this.#inbound = new InboundBudget(() => this.#limits);
    this.budget = new OutboundBudget(
      () => this.#limits,
      () => this.#sessions.values(),
    );

    this.host = options.host ?? '127.0.0.1';
    this.#requestedPort = options.port ?? 0;
    this.#tickMs = options.tickMs ?? 10;
    this.#rate = options.rate ?? 200;
    this.#faults = { ...DEFAULT_FAULTS, ...options.faults };
    this.#restFaults = { ...DEFAULT_REST_FAULTS, ...options.restFaults };
    this.logger = (options.logger ?? silentLogger()).child({ module: 'simulator' });
    const stocks = resolveUniverse(options);
    const crypto = Object.keys(CRYPTO_PAIRS);
    const test = [TEST_SYMBOL];
    this.#stocks = stocks;
    this.#crypto = crypto;
    const now = options.now ?? Date.now;
    this.hours = new MarketHours(mode, () => now());
    this.history = new History(options.seed ?? 1);
    this.config = {
      key: options.key,
      secret: options.secret,
      authTimeoutMs: options.authTimeoutMs ?? 10_000,
      batchSize: options.batchSize ?? 100,
      barIntervalMs: options.barIntervalMs ?? 60_000,
      seed: options.seed ?? 1,
      universe: (feed) => (feed === 'crypto' ? crypto : feed === 'test' ? test : stocks),
      startPrice: (feed, symbol) => this.#startPrice(feed, symbol),
    };
    this.#rest = new RestApi(this);

    this.#wss = new WebSocketServer({
      noServer: true,
      // Pongs are sent by the session, so that a stalled server can stop answering them.
      autoPong: false,
      maxPayload: options.maxPayload ?? 1024 * 1024,
      perMessageDeflate: options.perMessageDeflate ?? true,
    });
    this.#http = createServer((req, res) => this.#request(req, res));
    this.#http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#upgrade(req, socket, head);
    });
    // Sockets of any kind (idle TCP, HTTP, WebSocket): the sessions, as many refusals, and a few
    // plain requests. Node closes connections past it at once.
    this.#http.maxConnections = 2 * this.#limits.maxConnections + 16;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.#http.once('error', onError);
      this.#http.listen(this.#requestedPort, this.host, () => {
        this.#http.off('error', onError);
        resolve();
      });
    });
    this.#http.on('error', (err) => this.logger.error({ err }, 'http server error'));
    const address = this.#http.address();
    this.port =
      typeof address === 'object' && address !== null ? address.port : this.#requestedPort;
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    this.url = `ws://${host}:${this.port}`;
    this.restUrl = `http://${host}:${this.port}`;
    this.#timer = setInterval(() => this.#tick(), this.#tickMs);
    this.logger.info(
      { url: this.url, rate: this.#rate, seed: this.config.seed },
      'simulator listening',
    );
  }

  urlFor(feed: Feed): string {
    return `${this.url}${FEED_PATHS[feed]}`;
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  setFaults(faults: Partial<SimulatorFaults>): void {
    checkFaults(faults);
    this.#faults = { ...this.#faults, ...faults };
    this.logger.info({ faults }, 'faults changed');
  }

  faults(): SimulatorFaults {
    return this.#faults;
  }

  dropAll(options: { readonly holdSessionMs?: number } = {}): number {
    const hold = options.holdSessionMs ?? 0;
    checkNumber('holdSessionMs', hold, 0, false);
    let dropped = 0;
    for (const session of this.#sessions.values()) {
      if (hold > 0 && session.authenticated)
        this.#lingering.push({ path: session.path, until: Date.now() + hold });
      session.terminate();
      dropped += 1;
    }
    this.logger.info({ dropped }, 'dropped every connection');
    return dropped;
  }

  stall(on: boolean): void {
    this.setFaults({ stalled: on });
  }

  sendError(code: number, msg?: string, connectionId?: number): number {
    let sent = 0;
    for (const session of this.#sessions.values()) {
      if (connectionId !== undefined && session.id !== connectionId) continue;
      if (session.ended) continue;
      session.sendError(code, msg);
      sent += 1;
    }
    return sent;
  }

  setHalt(symbol: string, halted: boolean): number {
    if (typeof symbol !== 'string' || symbol === '' || symbol.length > this.#limits.maxSymbolLength)
      throw new RangeError('symbol must be a non-empty string within the symbol length limit');
    if (halted && !this.#halted.has(symbol) && this.#halted.size >= MAX_HALTED)
      throw new RangeError(`at most ${MAX_HALTED} symbols can be halted at once`);
    if (halted) this.#halted.add(symbol);
    else this.#halted.delete(symbol);
    let took = 0;
    for (const session of this.#sessions.values()) {
      if (session.setHalt(symbol, halted)) took += 1;
    }
    this.logger.info(
      { symbol, halted, connections: took },
      halted ? 'symbol halted' : 'symbol resumed',
    );
    return took;
  }

  halted(): readonly string[] {
    return [...this.#halted];
  }

  setRate(messagesPerSecond: number): void {
    checkNumber('rate', messagesPerSecond, 0, false);
    this.#rate = messagesPerSecond;
  }

  rate(): number {
    return this.#rate;
  }

  limits(): SimulatorLimits {
    return this.#limits;
  }

  connections(): ConnectionInfo[] {
    return [...this.#sessions.values()].map((session) => session.info());
  }

  stats(): SimulatorStats {
    const c = this.counters;
    return {
      ...c,
      actions: { ...c.actions },
      errorsSent: { ...c.errorsSent },
      connectionsOpen: this.#sessions.size,
    };
  }

  get seed(): number {
    return this.config.seed;
  }

  get key(): string | undefined {
    return this.config.key;
  }

  get secret(): string | undefined {
    return this.config.secret;
  }

  setSession(session: SessionMode): void {
    this.hours.mode = session;
    this.#openDay = undefined;
    this.logger.info({ session }, 'market session changed');
  }

  session(): MarketSessionInfo {
    return this.hours.info();
  }

  setRestFaults(faults: Partial<RestFaults>): void {
    checkRestFaults(faults);
    this.#restFaults = { ...this.#restFaults, ...faults };
    this.logger.info({ faults }, 'REST faults changed');
  }

  restFaults(): RestFaults {
    return this.#restFaults;
  }

  stocks(): readonly string[] {
    return this.#stocks;
  }

  cryptoPairs(): readonly string[] {
    return this.#crypto;
  }

  dataFactor(feed: Feed): number {
    // Crypto trades around the clock, and Alpaca's test stream is always on.
    if (feed === 'crypto' || feed === 'test') return 1;
    switch (this.hours.state().session) {
      case 'regular':
        return 1;
      case 'pre':
      case 'post':
        return EXTENDED_HOURS_FACTOR;
      default:
        return 0;
    }
  }

  latest(symbol: string, kind: AssetKind, feed: string | undefined): LatestItems | undefined {
    let best: LatestItems | undefined;
    let bestTime = '';
    for (const session of this.#sessions.values()) {
      const f = session.feed;
      if (kind === 'crypto' ? f !== 'crypto' : f === 'crypto' || f === 'test') continue;
      if (feed !== undefined && f !== feed) continue;
      const items = session.latest(symbol);
      const time = items?.trade?.t;
      // RFC 3339 UTC text with nine fractional digits sorts as time does.
      if (typeof time === 'string' && time > bestTime) {
        best = items;
        bestTime = time;
      }
    }
    return best;
  }

  /** A walk opens where history left it: the session day's previous close (its close once over). */
  #startPrice(feed: Feed, symbol: string): number | undefined {
    if (feed === 'test') return undefined;
    const now = this.hours.now();
    if (feed === 'crypto') return this.history.dailyClose(symbol, cryptoSessionDay(now).prevDate);
    const cached = this.#openDay;
    const day =
      cached !== undefined && now >= cached.at && now < cached.at + 1000
        ? cached.day
        : this.hours.stockSessionDay(now);
    if (cached === undefined || cached.day !== day) this.#openDay = { at: now, day };
    if (day === undefined) return undefined;
    return this.history.dailyClose(symbol, now < day.postClose ? day.prevDate : day.date);
  }

  #request(req: IncomingMessage, res: ServerResponse): void {
    if (FEED_OF_PATH.has(pathnameOf(req.url))) {
      // A stream path without the upgrade.
      res.writeHead(426, { 'Content-Type': 'text/plain' });
      res.end('websocket upgrade required\n');
      return;
    }
    try {
      this.#rest.handle(req, res);
    } catch (err) {
      this.logger.error({ err }, 'REST request failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  }

  onAction(listener: ActionListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  slotTaken(session: Session): boolean {
    const limit = this.#faults.connectionLimit;
    if (limit === undefined) return false;
    const now = Date.now();
    this.#lingering = this.#lingering.filter((slot) => slot.until > now);
    let held = this.#lingering.filter((slot) => slot.path === session.path).length;
    // An authenticated session still counts while it is being dropped: Alpaca's half-dead session.
    for (const other of this.#sessions.values()) {
      if (other !== session && other.path === session.path && other.authenticated) held += 1;
    }
    return held >= limit;
  }

  notifyAction(session: Session, action: Readonly<Record<string, unknown>>): void {
    if (this.#listeners.size === 0) return;
    const event: ActionEvent = {
      connectionId: session.id,
      path: session.path,
      feed: session.feed,
      authenticated: session.authenticated,
      action,
    };
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err }, 'onAction listener threw');
      }
    }
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (err) => this.logger.debug({ err }, 'socket error during upgrade'));
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    const path = pathnameOf(req.url);
    const feed = FEED_OF_PATH.get(path);
    if (feed === undefined) {
      this.counters.connectionsRejected += 1;
      this.logger.debug({ path }, 'upgrade refused: unknown path');
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (!this.#gate.admitUpgrade(socket, this.#sessions.size)) {
      this.counters.connectionsRejected += 1;
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req, path, feed));
  }

  #accept(ws: WebSocket, req: IncomingMessage, path: string, feed: Feed): void {
    const contentType = req.headers['content-type'] ?? '';
    const codec = contentType.toLowerCase().includes('application/msgpack') ? 'msgpack' : 'json';
    if (!this.#gate.admit(ws, codec, this.#sessions.size)) {
      this.counters.connectionsRejected += 1;
      this.counters.errorsSent[406] = (this.counters.errorsSent[406] ?? 0) + 1;
      this.logger.debug({ path }, 'connection refused: connection limit (406)');
      return;
    }
    const id = this.#nextId++;
    const session = new Session(ws, this, { id, path, feed, codec });
    this.#sessions.set(id, session);
    this.counters.connectionsAccepted += 1;
    this.logger.debug({ connection: id, path, codec }, 'connection accepted');
    ws.on('message', (data, isBinary) => {
      try {
        session.onMessage(data, isBinary);
      } catch (err) {
        this.logger.error({ err, connection: id }, 'client message handling failed');
      }
      pauseReading(ws, this.#inbound.took(rawLength(data)));
    });
    ws.on('ping', (data) => session.onPing(data));
    ws.on('error', (err) => this.logger.debug({ err, connection: id }, 'socket error'));
    ws.on('close', () => {
      const linger = this.#faults.connectionLingerMs;
      if (session.authenticated && linger > 0)
        this.#lingering.push({ path, until: Date.now() + linger });
      session.dispose();
      this.#sessions.delete(id);
      this.logger.debug({ connection: id }, 'connection closed');
    });
    try {
      session.start(req.headers);
    } catch (err) {
      this.logger.error({ err, connection: id }, 'session start failed');
      session.terminate();
    }
  }

  #tick(): void {
    const now = performance.now();
    for (const session of this.#sessions.values()) {
      try {
        session.tick(now);
      } catch (err) {
        this.logger.error({ err, connection: session.id }, 'send loop failed');
      }
    }
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#rest.close();
    for (const session of this.#sessions.values()) {
      session.dispose();
    }
    for (const ws of this.#wss.clients) ws.terminate();
    // Resolves once every client socket has closed.
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
    // 'close' is emitted before libuv has released the handles; two turns of the loop let it
    // finish, so a caller that checks for open handles right after close() finds none.
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#listeners.clear();
    this.logger.info('simulator closed');
  }
}

/** Starts a simulator and resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const server = new SimulatorServer(options);
  await server.listen();
  return server;
}
