/**
 * One simulator connection: the Alpaca session protocol (connected, auth by message or headers,
 * subscribe / unsubscribe with the whole-set echo, the error codes) and the data this connection
 * is sent. Each session runs its own seeded walk, so what a connection receives depends only on
 * the seed and its own actions. The server drives `tick()` from one shared timer.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import type { Channel, Codec, Feed } from '../../shared/market.ts';
import { ALPACA_ERRORS } from '../../shared/market.ts';
import type { Logger } from '../stream/log.ts';
import { decodeClientAction, encodeServerFrame } from '../stream/protocol/index.ts';
import { WallClock, formatPeriodStart } from './clock.ts';
import type { SimulatorFaults } from './faults.ts';
import { GARBAGE_KINDS, badItem, garbageFrame } from './faults.ts';
import type { LatestItems, WireItem } from './market-walk.ts';
import type { OutboundBudget, SimulatorLimits, SubscriptionLedger } from './limits.ts';
import { MarketWalk, SIP_EXCHANGES } from './market-walk.ts';
import {
  CRYPTO_CHANNELS,
  STOCK_CHANNELS,
  echoItem,
  errorItem,
  readDelta,
  successItem,
} from './protocol-messages.ts';

export { CRYPTO_CHANNELS, STOCK_CHANNELS } from './protocol-messages.ts';

const CHANNEL_OF_TYPE: Readonly<Record<string, Channel>> = {
  q: 'quotes',
  t: 'trades',
  c: 'trades',
  x: 'trades',
  b: 'bars',
  u: 'updatedBars',
  d: 'dailyBars',
  s: 'statuses',
  l: 'lulds',
  i: 'imbalances',
  o: 'orderbooks',
};

const DAY_MS = 86_400_000;
/** Channels with a message on most market events; the others (bars, statuses, ...) are sparse. */
const FREQUENT_CHANNELS: ReadonlySet<Channel> = new Set<Channel>([
  'quotes',
  'trades',
  'orderbooks',
]);
/** One step in this many moves any active symbol; the rest move symbols on frequent channels. */
const BACKGROUND_EVERY = 4;
/** A closing socket that does not finish the close handshake in this long is terminated. */
const CLOSE_GRACE_MS = 1000;
/** Close code for a session the server ends after an error message (policy violation). */
const CLOSE_CODE = 1008;
/** Echo bytes one session sends change by change in one turn; see #queueEcho. */
const ECHO_BYTES_PER_TURN = 256 * 1024;
/**
 * Largest message accepted before authentication: an auth message is well under 1 KiB. A bigger
 * one is not from an Alpaca client, and decoding up to maxPayload for anyone who connects would
 * let any local process keep the simulator (and the app's event loop) busy without a key.
 */
const MAX_UNAUTHENTICATED_BYTES = 16 * 1024;

/** What every session shares, fixed at start. */
export interface SessionConfig {
  /** Both set: the only keys accepted. Both undefined: demo mode, any key accepted. */
  readonly key: string | undefined;
  readonly secret: string | undefined;
  readonly authTimeoutMs: number;
  readonly batchSize: number;
  readonly barIntervalMs: number;
  readonly seed: number;
  universe(feed: Feed): readonly string[];
  /** Where a symbol's walk starts on a feed (the previous close); undefined: the walk's own. */
  startPrice(feed: Feed, symbol: string): number | undefined;
}

/** Counters the server reports in `stats()`; sessions add to them. */
export interface Counters {
  connectionsAccepted: number;
  connectionsRejected: number;
  authOk: number;
  authFailed: number;
  actions: Record<string, number>;
  messagesSent: number;
  controlMessagesSent: number;
  framesSent: number;
  garbageFramesSent: number;
  bytesSent: number;
  errorsSent: Record<string, number>;
  terminated: number;
}

/** The server as a session sees it. */
export interface SessionHost {
  readonly config: SessionConfig;
  readonly counters: Counters;
  readonly logger: Logger;
  faults(): SimulatorFaults;
  /** Data messages per second per connection. */
  rate(): number;
  /** Stock symbols halted on demand now (a new session's walk starts with them halted). */
  halted(): readonly string[];
  /**
   * The share of `rate` a feed streams in the market session now: 1 in regular hours, less in
   * extended hours, 0 when closed (then no data messages at all, bars included).
   */
  dataFactor(feed: Feed): number;
  /** True when the connection limit leaves no slot on this session's path. */
  slotTaken(session: Session): boolean;
  /** The resource bounds (limits.ts). */
  limits(): SimulatorLimits;
  /** The pairs all sessions hold. */
  readonly ledger: SubscriptionLedger;
  /** The bytes queued for all sessions. */
  readonly budget: OutboundBudget;
  notifyAction(session: Session, action: Readonly<Record<string, unknown>>): void;
}

/** What `connections()` reports per connection. */
export interface ConnectionInfo {
  readonly id: number;
  readonly path: string;
  readonly feed: Feed;
  readonly codec: Codec;
  readonly authenticated: boolean;
  /** The whole set per channel as the server holds it, shaped like the echo (without `T`). */
  readonly subscriptions: Readonly<Record<string, readonly string[]>>;
  /** Data messages sent (control messages not included). */
  readonly messagesSent: number;
  readonly framesSent: number;
  readonly bufferedAmount: number;
  /** Epoch milliseconds. */
  readonly connectedAt: number;
}

export interface SessionInit {
  readonly id: number;
  readonly path: string;
  readonly feed: Feed;
  readonly codec: Codec;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function rawLength(data: RawData): number {
  return Array.isArray(data)
    ? data.reduce((sum, part) => sum + part.byteLength, 0)
    : data.byteLength;
}

function byteLength(frame: string | Buffer): number {
  // Our JSON is ASCII, so the length is the byte count without a UTF-8 pass.
  return typeof frame === 'string' ? frame.length : frame.byteLength;
}

export class Session {
  readonly id: number;
  readonly path: string;
  readonly feed: Feed;
  readonly codec: Codec;
  readonly connectedAt = Date.now();

  readonly #ws: WebSocket;
  readonly #host: SessionHost;
  readonly #log: Logger;
  readonly #channels: readonly Channel[];
  readonly #subs = new Map<Channel, Set<string>>();
  readonly #starChannels = new Set<Channel>();
  readonly #universe: readonly string[];
  readonly #known: ReadonlySet<string>;
  readonly #walk: MarketWalk;
  readonly #clock: WallClock;
  readonly #scratch: WireItem[] = [];

  #authenticated = false;
  /** Closing or closed: nothing more is processed or sent. */
  #ended = false;
  #active: readonly string[] = [];
  #busy: readonly string[] = [];
  #steps = 0;
  #budget = 0;
  #lastTick: number | undefined;
  #barEndMs: number;
  #messagesSent = 0;
  #framesSent = 0;
  #dataFrames = 0;
  #garbageCount = 0;
  #authTimer: NodeJS.Timeout | undefined;
  #killTimer: NodeJS.Timeout | undefined;
  /** (channel, symbol) pairs held, as counted in the host's ledger. */
  #pairs = 0;
  /** A change was applied and its echo not sent yet (see #queueEcho). */
  #echoDue = false;
  /** Echo bytes sent in this turn, and whether the reset at its end is scheduled. */
  #echoBytes = 0;
  #echoTurn = false;

  constructor(ws: WebSocket, host: SessionHost, init: SessionInit) {
    this.id = init.id;
    this.path = init.path;
    this.feed = init.feed;
    this.codec = init.codec;
    this.#ws = ws;
    this.#host = host;
    this.#log = host.logger.child({ connection: init.id, path: init.path });
    const crypto = init.feed === 'crypto';
    this.#channels = crypto ? CRYPTO_CHANNELS : STOCK_CHANNELS;
    for (const channel of this.#channels) this.#subs.set(channel, new Set());
    this.#universe = host.config.universe(init.feed);
    this.#known = new Set(this.#universe);
    const feed = init.feed;
    this.#walk = new MarketWalk({
      seed: host.config.seed,
      kind: crypto ? 'crypto' : 'stock',
      exchanges: feed === 'iex' || feed === 'test' ? ['V'] : SIP_EXCHANGES,
      startPrice: (symbol) => host.config.startPrice(feed, symbol),
    });
    if (!crypto) for (const symbol of host.halted()) this.#walk.hold(symbol);
    this.#clock = new WallClock(init.feed === 'delayed_sip' ? -15 * 60_000 : 0);
    const interval = host.config.barIntervalMs;
    this.#barEndMs = (Math.floor(this.#clock.now().ms / interval) + 1) * interval;
  }

  get authenticated(): boolean {
    return this.#authenticated;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The newest trade and quote this connection's walk made for a symbol. */
  latest(symbol: string): LatestItems | undefined {
    return this.#walk.latest(symbol);
  }

  /** Bytes queued for this client and not yet taken by it. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** Ends the session with 407 `slow client` (the outbound budget calls this). */
  slow(): void {
    if (this.#ended) return;
    this.#log.info({ bufferedAmount: this.#ws.bufferedAmount }, 'client fell behind: 407');
    this.#fail(407);
  }

  /** Greets the client and, when the handshake carried keys, authenticates at once. */
  start(headers: IncomingHttpHeaders): void {
    this.#sendControl(successItem('connected'));
    const key = firstHeader(headers['apca-api-key-id']);
    const secret = firstHeader(headers['apca-api-secret-key']);
    // A stalled server handles nothing, header credentials included.
    const stalled = this.#host.faults().stalled;
    if (!stalled && (key !== undefined || secret !== undefined)) this.#authenticate(key, secret);
    if (!this.#authenticated && !this.#ended) {
      this.#authTimer = setTimeout(() => this.#authTimedOut(), this.#host.config.authTimeoutMs);
    }
  }

  onMessage(data: RawData, isBinary: boolean): void {
    if (this.#ended) return;
    const host = this.#host;
    if (!this.#authenticated && rawLength(data) > MAX_UNAUTHENTICATED_BYTES) {
      host.counters.actions.invalid = (host.counters.actions.invalid ?? 0) + 1;
      this.#log.info({ bytes: rawLength(data) }, 'oversized message before auth: 400');
      if (!host.faults().stalled) this.#fail(400);
      return;
    }
    const decoded = decodeClientAction(data, isBinary, this.codec);
    if (!decoded.ok) {
      host.counters.actions.invalid = (host.counters.actions.invalid ?? 0) + 1;
      this.#log.debug({ reason: decoded.reason }, 'unparseable client message');
      if (!host.faults().stalled) this.#sendError(400);
      return;
    }
    const action = decoded.action;
    const kind = String(action.action);
    host.counters.actions[kind] = (host.counters.actions[kind] ?? 0) + 1;
    host.notifyAction(this, action);
    if (host.faults().stalled) return;
    switch (kind) {
      case 'auth':
        this.#authenticate(action.key, action.secret);
        return;
      case 'subscribe':
      case 'unsubscribe':
        this.#subscription(action, kind === 'subscribe');
        return;
      default:
        this.#sendError(400);
    }
  }

  /** ws answers pings itself unless told not to; the server turns that off so a stall can be silent. */
  onPing(data: Buffer): void {
    if (this.#ended || this.#host.faults().stalled || this.#ws.readyState !== this.#ws.OPEN) return;
    this.#ws.pong(data);
  }

  /** An error message on demand (the server's `sendError`). */
  sendError(code: number, msg?: string): void {
    if (!this.#ended) this.#sendError(code, msg);
  }

  /**
   * Halts or resumes a stock symbol on this connection's walk, and sends the band and the status
   * to a client subscribed to them. Returns false for a crypto connection (no trading statuses).
   */
  setHalt(symbol: string, halted: boolean): boolean {
    if (this.#ended || this.feed === 'crypto') return false;
    const items: WireItem[] = [];
    this.#walk.setHalt(symbol, halted, this.#clock.now().text, items);
    // A stalled server sends nothing; the walk is halted all the same.
    if (this.#authenticated && !this.#host.faults().stalled) {
      const wanted = items.filter((item) => this.#wants(item));
      if (wanted.length > 0) this.#sendItems(wanted, false);
    }
    return true;
  }

  /** Ends the socket at once, no close frame: a dropped connection as the client sees it. */
  terminate(): void {
    if (this.#ws.readyState === this.#ws.CLOSED) return;
    this.#ended = true;
    this.#clearTimers();
    this.#release();
    this.#host.counters.terminated += 1;
    this.#ws.terminate();
  }

  /** The socket closed: release timers. */
  dispose(): void {
    this.#ended = true;
    this.#clearTimers();
    this.#release();
  }

  info(): ConnectionInfo {
    const { T: _type, ...subscriptions } = this.#echo();
    return {
      id: this.id,
      path: this.path,
      feed: this.feed,
      codec: this.codec,
      authenticated: this.#authenticated,
      subscriptions: subscriptions as Record<string, readonly string[]>,
      messagesSent: this.#messagesSent,
      framesSent: this.#framesSent,
      bufferedAmount: this.#ws.bufferedAmount,
      connectedAt: this.connectedAt,
    };
  }

  /**
   * Sends this connection its share of data for the time since the last tick: `rate` messages a
   * second, generated for its subscribed symbols only, batched `batchSize` to a frame.
   */
  tick(nowMs: number): void {
    if (!this.#authenticated || this.#ended) return;
    const ws = this.#ws;
    if (ws.readyState !== ws.OPEN) return;
    const host = this.#host;
    const faults = host.faults();
    if (faults.slowClientBytes !== undefined && ws.bufferedAmount > faults.slowClientBytes) {
      this.slow();
      return;
    }
    const last = this.#lastTick ?? nowMs;
    this.#lastTick = nowMs;
    if (faults.stalled) return;
    const factor = host.dataFactor(this.feed);
    if (factor <= 0) {
      // Market closed: bar periods still end (so bars restart cleanly later) but nothing is sent.
      this.#budget = 0;
      const discard: WireItem[] = [];
      this.#closeBarsUntil(this.#clock.now().ms, discard);
      return;
    }

    const limit = faults.dropAfterMessages;
    if (limit !== undefined && this.#messagesSent >= limit) {
      // set at run time below what this connection already had
      this.#log.info({ messagesSent: this.#messagesSent }, 'dropping connection after N messages');
      this.terminate();
      return;
    }
    const rate = host.rate() * factor;
    const batchSize = host.config.batchSize;
    // At most a second of backlog: after an event-loop stall, catch up but do not flood.
    this.#budget = Math.min(
      this.#budget + (rate * (nowMs - last)) / 1000,
      Math.max(rate, batchSize),
    );
    let need = Math.floor(this.#budget);
    if (limit !== undefined) need = Math.min(need, Math.max(0, limit - this.#messagesSent));

    const items: WireItem[] = [];
    this.#closeBarsUntil(this.#clock.now().ms, items);
    const active = this.#active;
    if (active.length > 0) {
      // Some subscriptions make few messages per step (bars only, statuses only): bound the work.
      const maxSteps = need * 3 + 8;
      const scratch = this.#scratch;
      const busy = this.#busy.length > 0 ? this.#busy : active;
      for (let steps = 0; items.length < need && steps < maxSteps; steps++) {
        const at = this.#clock.now();
        if (at.ms >= this.#barEndMs) this.#closeBarsUntil(at.ms, items);
        const background = busy !== active && ++this.#steps % BACKGROUND_EVERY === 0;
        this.#walk.step(background ? active : busy, at.text, scratch);
        for (const item of scratch) if (this.#wants(item)) items.push(item);
        scratch.length = 0;
      }
    }
    this.#budget -= Math.max(need, items.length);
    if (items.length === 0) return;
    let drop = false;
    if (limit !== undefined && this.#messagesSent + items.length >= limit) {
      items.length = Math.max(0, limit - this.#messagesSent);
      drop = true;
    }
    this.#sendItems(items, drop);
  }

  /** Gives this session's pairs back to the ledger: an ended session sends nothing more. */
  #release(): void {
    this.#host.ledger.change(this.#pairs, 0);
    this.#pairs = 0;
  }

  #clearTimers(): void {
    clearTimeout(this.#authTimer);
    clearTimeout(this.#killTimer);
    this.#authTimer = undefined;
    this.#killTimer = undefined;
  }

  #authTimedOut(): void {
    this.#authTimer = undefined;
    // A hung server times nothing out either.
    if (this.#ended || this.#authenticated || this.#host.faults().stalled) return;
    this.#log.info('auth timeout');
    this.#fail(404);
  }

  #authenticate(key: unknown, secret: unknown): void {
    if (this.#authenticated) {
      this.#sendError(403);
      return;
    }
    const host = this.#host;
    const { key: wantKey, secret: wantSecret } = host.config;
    const faults = host.faults();
    const valid =
      typeof key === 'string' &&
      typeof secret === 'string' &&
      (wantKey === undefined || (key === wantKey && secret === wantSecret));
    if (!valid || faults.refuseAuth) {
      host.counters.authFailed += 1;
      this.#log.info({ refused: faults.refuseAuth }, 'auth failed');
      this.#fail(402);
      return;
    }
    if (faults.insufficientSubscription.includes(this.feed)) {
      host.counters.authFailed += 1;
      this.#fail(409);
      return;
    }
    if (host.slotTaken(this)) {
      host.counters.authFailed += 1;
      this.#log.info('connection limit: 406');
      this.#fail(406);
      return;
    }
    this.#authenticated = true;
    clearTimeout(this.#authTimer);
    this.#authTimer = undefined;
    host.counters.authOk += 1;
    this.#sendControl(successItem('authenticated'));
  }

  #subscription(action: Record<string, unknown>, add: boolean): void {
    if (!this.#authenticated) {
      this.#sendError(401);
      return;
    }
    // See readDelta for what counts as no change, 400 and 410.
    const read = readDelta(action, this.#channels, this.#host.limits().maxSymbolLength);
    if (!read.ok) {
      this.#sendError(read.code);
      return;
    }
    const delta = read.delta;
    if (add) {
      const limits = this.#host.limits();
      const fault = this.#host.faults().symbolLimit;
      const perConnection = Math.min(fault ?? Infinity, limits.maxSymbolsPerConnection);
      const after = this.#pairsAfter(delta);
      if (
        after > perConnection ||
        !this.#host.ledger.allows(this.#pairs, after, limits.maxSubscriptions)
      ) {
        this.#sendError(405);
        return;
      }
    }
    const newBooks: string[] = [];
    for (const [channel, symbols] of delta) {
      const set = this.#subs.get(channel);
      if (set === undefined) continue;
      for (const symbol of symbols) {
        if (add) {
          if (channel === 'orderbooks' && !set.has(symbol)) newBooks.push(symbol);
          set.add(symbol);
        } else {
          set.delete(symbol);
        }
      }
      if (set.has('*')) this.#starChannels.add(channel);
      else this.#starChannels.delete(channel);
    }
    this.#recount();
    this.#recomputeActive();
    this.#queueEcho();
    if (newBooks.length > 0) this.#sendBooks(newBooks);
  }

  /** (channel, symbol) pairs held if the delta were added: O(delta), not O(held). */
  #pairsAfter(delta: ReadonlyMap<Channel, readonly string[]>): number {
    let pairs = this.#pairs;
    for (const [channel, adding] of delta) {
      const set = this.#subs.get(channel);
      if (set === undefined) continue;
      const fresh = new Set<string>();
      for (const symbol of adding) if (!set.has(symbol)) fresh.add(symbol);
      pairs += fresh.size;
    }
    return pairs;
  }

  /** Counts the pairs held and tells the ledger. */
  #recount(): void {
    let pairs = 0;
    for (const set of this.#subs.values()) pairs += set.size;
    this.#host.ledger.change(this.#pairs, pairs);
    this.#pairs = pairs;
  }

  /**
   * The echo is the whole set, so its size grows with what the connection holds while a change can
   * be one symbol: a client pipelining tiny subscribes would make the server encode and queue a
   * full echo per message (about 20 ms and 1 MB each at the app's 60,000 pairs). So each change is
   * echoed at once, as Alpaca does, until the echoes of this turn pass ECHO_BYTES_PER_TURN; later
   * changes in the same turn share one echo, sent at the end of the turn or before anything else
   * is sent, so that the order of messages (echo before data for the new symbols, echo before a
   * later error) stays what it would have been. Small sets therefore always get one echo per change.
   */
  #queueEcho(): void {
    if (this.#echoDue) return;
    if (this.#echoBytes < ECHO_BYTES_PER_TURN) {
      this.#sendEcho();
      return;
    }
    this.#echoDue = true;
    setImmediate(() => this.#flushEcho());
  }

  #flushEcho(): void {
    if (!this.#echoDue) return;
    this.#echoDue = false;
    if (!this.#ended) this.#sendEcho();
  }

  #sendEcho(): void {
    this.#echoBytes += this.#sendControl(this.#echo());
    if (this.#echoTurn) return;
    this.#echoTurn = true;
    setImmediate(() => {
      this.#echoBytes = 0;
      this.#echoTurn = false;
    });
  }

  /**
   * The symbols the walk moves: every known symbol some channel holds (`*` = all of them). The busy
   * ones are those a per-event channel (quotes, trades, ...) holds; bar-only symbols still trade,
   * so their bars are real, but get only every BACKGROUND_EVERY-th step, else a few bars on `*`
   * would starve a watchlist's quotes.
   */
  #recomputeActive(): void {
    this.#active = this.#symbolsOf(this.#channels);
    const busy = this.#symbolsOf(this.#channels.filter((c) => FREQUENT_CHANNELS.has(c)));
    this.#busy = busy.length === this.#active.length ? this.#active : busy;
  }

  #symbolsOf(channels: readonly Channel[]): readonly string[] {
    const wanted = new Set<string>();
    for (const channel of channels) {
      if (this.#starChannels.has(channel)) return this.#universe;
      for (const symbol of this.#subs.get(channel) ?? []) {
        if (this.#known.has(symbol)) wanted.add(symbol);
      }
    }
    // universe order, not subscription order, so the walk's choices depend only on the set
    return this.#universe.filter((symbol) => wanted.has(symbol));
  }

  #echo(): WireItem {
    return echoItem(this.feed, this.#subs);
  }

  #wants(item: WireItem): boolean {
    const channel = CHANNEL_OF_TYPE[item.T as string];
    if (channel === undefined) return false;
    const set = this.#subs.get(channel);
    if (set === undefined || set.size === 0) return false;
    return this.#starChannels.has(channel) || set.has(item.S as string);
  }

  /** Closes every bar period that ended by `ms`; periods with no events in between are skipped. */
  #closeBarsUntil(ms: number, out: WireItem[]): void {
    if (ms < this.#barEndMs) return;
    const interval = this.#host.config.barIntervalMs;
    const startMs = this.#barEndMs - interval;
    const dayStart = Math.floor(startMs / DAY_MS) * DAY_MS;
    const newDay = Math.floor(ms / DAY_MS) * DAY_MS !== dayStart;
    const scratch = this.#scratch;
    this.#walk.closeBars(formatPeriodStart(startMs), formatPeriodStart(dayStart), scratch, newDay);
    for (const item of scratch) if (this.#wants(item)) out.push(item);
    scratch.length = 0;
    this.#barEndMs = (Math.floor(ms / interval) + 1) * interval;
  }

  #sendBooks(symbols: readonly string[]): void {
    this.#flushEcho();
    const all = symbols.includes('*') ? this.#universe : symbols.filter((s) => this.#known.has(s));
    const time = this.#clock.now().text;
    const items = all.map((symbol) => this.#walk.bookSnapshot(symbol, time));
    if (items.length > 0) this.#sendItems(items, false);
  }

  /** Data frames, `batchSize` items each, garbage interleaved when that fault is on. */
  #sendItems(items: readonly WireItem[], dropAfter: boolean): void {
    this.#flushEcho();
    const host = this.#host;
    if (this.#ended || !host.budget.mayQueue(this, host.faults().slowClientBytes)) return;
    const batchSize = host.config.batchSize;
    const frames: (string | Buffer)[] = [];
    for (let i = 0; i < items.length; i += batchSize) {
      const chunk = items.length <= batchSize ? items : items.slice(i, i + batchSize);
      let wire: readonly unknown[] = chunk;
      let garbage: string | Buffer | undefined;
      const every = host.faults().garbageEvery;
      if (every !== undefined && ++this.#dataFrames % every === 0) {
        const kind = GARBAGE_KINDS[this.#garbageCount++ % GARBAGE_KINDS.length] ?? 'empty';
        host.counters.garbageFramesSent += 1;
        if (kind === 'bad-item') {
          const mixed: unknown[] = [...chunk];
          mixed.splice(Math.floor(mixed.length / 2), 0, badItem(this.#garbageCount));
          wire = mixed;
        } else {
          garbage = garbageFrame(kind, this.codec);
        }
      }
      frames.push(encodeServerFrame(wire as readonly Record<string, unknown>[], this.codec));
      if (garbage !== undefined) frames.push(garbage);
    }
    this.#messagesSent += items.length;
    host.counters.messagesSent += items.length;
    const ws = this.#ws;
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i] ?? '';
      this.#framesSent += 1;
      host.counters.framesSent += 1;
      host.counters.bytesSent += byteLength(frame);
      if (dropAfter && i === frames.length - 1) {
        // Terminate once the last frame reached the kernel, so the client gets exactly N first.
        this.#ended = true;
        this.#log.info(
          { messagesSent: this.#messagesSent },
          'dropping connection after N messages',
        );
        ws.send(frame, () => this.terminate());
      } else {
        ws.send(frame);
      }
    }
  }

  /**
   * Sends one control message; returns its size in bytes (0 when nothing was sent). `force`: the
   * error that ends the session is sent even past the outbound budget.
   */
  #sendControl(item: WireItem, force = false): number {
    if (this.#host.faults().stalled || this.#ws.readyState !== this.#ws.OPEN) return 0;
    if (item.T !== 'subscription') this.#flushEcho();
    if (!force) {
      const host = this.#host;
      if (!host.budget.mayQueue(this, host.faults().slowClientBytes)) return 0;
      if (this.#ended) return 0;
    }
    const frame = encodeServerFrame([item], this.codec);
    const bytes = byteLength(frame);
    const counters = this.#host.counters;
    counters.controlMessagesSent += 1;
    counters.framesSent += 1;
    counters.bytesSent += bytes;
    this.#framesSent += 1;
    this.#ws.send(frame);
    return bytes;
  }

  #sendError(code: number, msg?: string, force = false): void {
    const counters = this.#host.counters;
    counters.errorsSent[code] = (counters.errorsSent[code] ?? 0) + 1;
    this.#sendControl(errorItem(code, msg), force);
  }

  /** An error that ends the session: the message, a close, and a terminate if the close stalls. */
  #fail(code: number): void {
    // Ended first: the error's own send must not ask the budget, which may be what called this.
    this.#ended = true;
    this.#release();
    this.#sendError(code, undefined, true);
    this.#clearTimers();
    const ws = this.#ws;
    if (ws.readyState === ws.OPEN) ws.close(CLOSE_CODE, ALPACA_ERRORS[code]?.msg ?? 'error');
    this.#killTimer = setTimeout(() => this.terminate(), CLOSE_GRACE_MS);
  }
}
