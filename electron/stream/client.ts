/**
 * StreamClient: the imperative shell around the pure state machine. It owns the one WebSocket,
 * turns socket callbacks and timers into machine events (each tagged with the socket's
 * generation), performs the machine's effects, and runs the per-message pipeline:
 * decode -> validate -> normalize -> HandlerRegistry, with metrics along the way.
 *
 * Invariants it keeps, whatever order `connect()`, `disconnect()`, socket events and timers come in:
 * - at most one socket is ours at any time; events from any other socket are ignored;
 * - no socket survives `disconnect()` or `dispose()`, including one a backoff timer was about to open;
 * - nothing thrown by a handler, a listener or bad input escapes into ws's callbacks.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { ClientRequest, IncomingMessage } from 'node:http';
import {
  ALPACA_ERRORS,
  type Channel,
  type Codec,
  type DataMessage,
  type ErrorMessage,
  type MarketMessage,
  type SubscriptionMessage,
} from '../../shared/market.ts';
import { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from './backoff.ts';
import { Emitter } from './emitter.ts';
import { HandlerRegistry } from './handlers.ts';
import { silentLogger, type Logger } from './log.ts';
import {
  INITIAL_STATE,
  transition,
  type ConnectionError,
  type Effect,
  type MachineEvent,
  type MachineState,
} from './machine.ts';
import { Metrics, type MetricsSnapshot } from './metrics.ts';
import { decodeFrame, encodeAction, type FrameSink, type InvalidItem } from './protocol/index.ts';
import type { ConnectionState } from './states.ts';
import { SubscriptionManager, type PlannedAction } from './subscriptions.ts';
import { Throttle, type ThrottledLine } from './throttle.ts';

/** Timers and a monotonic clock, injectable so tests can drive time. */
export interface Scheduler {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realScheduler: Scheduler = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface StreamClientOptions {
  /** Full stream URL including the feed path, e.g. wss://stream.data.alpaca.markets/v2/iex. */
  readonly url: string;
  readonly key?: string;
  readonly secret?: string;
  /** Wire codec; msgpack is selected by the handshake's Content-Type. Default json. */
  readonly codec?: Codec;
  /** Authenticate by message after `connected` (default) or by handshake headers. */
  readonly authMode?: 'message' | 'headers';
  /** permessage-deflate costs 2.5x-10x client CPU per message; off unless asked for. */
  readonly perMessageDeflate?: boolean;
  /** Largest frame accepted; a bigger one closes the socket (1009). Default 16 MiB. */
  readonly maxPayload?: number;
  readonly backoff?: BackoffPolicy;
  /** Random draws in [0, 1) for backoff jitter. Default Math.random. */
  readonly random?: () => number;
  readonly scheduler?: Scheduler;
  /** Ping interval; default 10 s. 0 turns liveness checks off. */
  readonly pingIntervalMs?: number;
  /** A socket with no pong this long after a ping is terminated. Default 5 s. */
  readonly pongTimeoutMs?: number;
  /** Limit for each handshake step: opening, auth, a subscription echo. Default 10 s. */
  readonly stepTimeoutMs?: number;
  /**
   * Silence of the frequent channels (quotes, trades, order books) while they are subscribed and
   * live, after which data counts as stale. Bars, statuses and the like are sparse by nature and
   * never make a session stale. 0 = off. Default 30 s.
   */
  readonly staleAfterMs?: number;
  /** Force a reconnect when data goes stale. Default true. */
  readonly staleReconnect?: boolean;
  /**
   * At most one forced reconnect in this long. A reconnect cures a link that is open but dead; a
   * quiet market is not cured by reconnecting, so after one try we only report. Default 10 min.
   */
  readonly staleReconnectCooldownMs?: number;
  readonly maxHandlers?: number;
  /** Size limit of one subscribe action; larger deltas are chunked. */
  readonly maxActionBytes?: number;
  readonly logger?: Logger;
  /** Interval of the periodic metrics log line; 0 (default) = off. */
  readonly metricsLogIntervalMs?: number;
  /** Interval of the `metrics` event; 0 (default) = off. */
  readonly metricsEventIntervalMs?: number;
  /** Exchange-time latency needs an RFC 3339 parse; do it for one message in N. Default 16. */
  readonly latencySampleEvery?: number;
  /**
   * Invalid input and server errors are logged once per reason (or code) at once, then as one
   * summary count per this many ms while they keep coming, so that a flood of bad input cannot
   * flood the log. Counters and events stay per item. Default 10 000.
   */
  readonly logSummaryIntervalMs?: number;
}

/** The longest server error message kept in a log line or an event; Alpaca's are under 100. */
export const MAX_SERVER_MESSAGE = 200;

export interface StateChange {
  readonly state: ConnectionState;
  readonly previous: ConnectionState;
  readonly reason: string | undefined;
  readonly error: ConnectionError | undefined;
  readonly attempt: number;
  /** Epoch ms of the change. */
  readonly at: number;
  /** In backoff: the delay, and the epoch ms when the next attempt starts. */
  readonly retryInMs: number | undefined;
  readonly retryAt: number | undefined;
}

export interface ServerErrorEvent {
  readonly code: number;
  readonly message: string;
  /** What the code means for the user (from the protocol table), where known. */
  readonly meaning: string | undefined;
}

export interface SubscriptionEvent {
  readonly desired: Readonly<Record<Channel, readonly string[]>>;
  readonly confirmed: Readonly<Record<Channel, readonly string[]>>;
  readonly refused: ReadonlyArray<{ channel: Channel; symbol: string; code: number; at: number }>;
}

export interface StreamClientEvents {
  state: StateChange;
  'server-error': ServerErrorEvent;
  subscription: SubscriptionEvent;
  invalid: InvalidItem;
  metrics: MetricsSnapshot;
  /** Data went stale (true) or resumed (false). */
  stale: boolean;
}

export type Health = ReturnType<Metrics['health']>;

export interface ClientSnapshot {
  readonly url: string;
  readonly codec: Codec;
  readonly state: ConnectionState;
  readonly reason: string | undefined;
  readonly lastError: ConnectionError | undefined;
  readonly attempt: number;
  readonly retryAt: number | undefined;
  readonly stale: boolean;
  readonly health: Health;
  readonly metrics: MetricsSnapshot;
  readonly subscriptions: SubscriptionEvent;
}

export class StreamClient {
  readonly url: string;
  readonly codec: Codec;
  readonly handlers: HandlerRegistry;
  readonly metrics: Metrics;
  readonly subscriptions: SubscriptionManager;
  readonly log: Logger;

  readonly #options: StreamClientOptions;
  readonly #scheduler: Scheduler;
  readonly #random: () => number;
  readonly #backoff: BackoffPolicy;
  readonly #events: Emitter<StreamClientEvents>;
  readonly #sink: FrameSink;
  readonly #sampleEvery: number;

  #machine: MachineState = INITIAL_STATE;
  #socket: WebSocket | undefined;
  #socketGeneration = 0;
  /** Frames read from the current socket: data read since a ping proves the link alive. */
  #framesRead = 0;
  /** Sockets we have let go of that have not finished closing yet. */
  readonly #retiring = new Set<WebSocket>();
  /** An open that waits for the retiring sockets to close. */
  #pendingOpen: (() => void) | undefined;
  /** closed() callers waiting for the last socket to finish closing. */
  readonly #closedWaiters: Array<() => void> = [];
  readonly #timers: Timers;
  #retryAt: number | undefined;
  #retryInMs: number | undefined;
  #metricsTimer: NodeJS.Timeout | undefined;
  #stopMetricsLog: (() => void) | undefined;
  #flushScheduled = false;
  /** Monotonic ms when the current live session began: the watchdog's baseline. */
  #liveSince = 0;
  #stale = false;
  /** The market is closed (or this feed carries nothing now): silence is expected, not stale. */
  #quiet = false;
  /** Monotonic ms of the last quote, trade or order book message: what the watchdog watches. */
  #lastFlowAt = 0;
  #lastForcedAt: number | undefined;
  #sampleCounter = 0;
  #frameReceivedAt = 0;
  #everLive = false;
  #disposed = false;
  readonly #invalidLog: Throttle<InvalidItem>;
  readonly #serverErrorLog: Throttle<{ code: number; message: string }>;
  readonly #successLog: Throttle<string>;

  constructor(options: StreamClientOptions) {
    this.#options = options;
    this.url = options.url;
    this.codec = options.codec ?? 'json';
    this.#scheduler = options.scheduler ?? realScheduler;
    this.#random = options.random ?? Math.random;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#sampleEvery = Math.max(1, options.latencySampleEvery ?? 16);
    this.#timers = new Timers(this.#scheduler);
    // Fail fast on a URL ws cannot use: a typo is a usage error, not something to retry.
    const parsed = URL.parse(options.url);
    if (!parsed || (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')) {
      throw new Error(`not a ws:// or wss:// URL: ${options.url}`);
    }
    // Each module's logger is a child of the root, so a record carries one `module` key.
    const root = options.logger ?? silentLogger();
    this.log = root.child({ module: 'stream-client' });
    this.handlers = new HandlerRegistry({
      logger: root.child({ module: 'handlers' }),
      // The scheduler's clock, so that the frame receipt time passed to dispatch is on its base.
      clock: () => this.#scheduler.now(),
      ...(options.maxHandlers !== undefined ? { maxHandlers: options.maxHandlers } : {}),
    });
    this.metrics = new Metrics({ now: () => this.#scheduler.now() });
    this.subscriptions = new SubscriptionManager({
      logger: root.child({ module: 'subscriptions' }),
      ...(options.maxActionBytes !== undefined ? { maxActionBytes: options.maxActionBytes } : {}),
    });
    this.subscriptions.onChange(() => this.#scheduleFlush());
    this.#events = new Emitter<StreamClientEvents>((err, event) =>
      this.log.error({ err, event }, 'a client event listener threw'),
    );
    this.#sink = {
      message: (msg) => this.#onMessage(msg),
      invalid: (item) => this.#onInvalid(item),
    };
    const logInterval = options.logSummaryIntervalMs ?? 10_000;
    this.#invalidLog = new Throttle({
      intervalMs: logInterval,
      clock: this.#scheduler,
      emit: (line) => this.#logInvalid(line),
    });
    this.#serverErrorLog = new Throttle({
      intervalMs: logInterval,
      clock: this.#scheduler,
      emit: (line) => this.#logServerError(line),
    });
    this.#successLog = new Throttle({
      intervalMs: logInterval,
      clock: this.#scheduler,
      emit: (line) =>
        line.intervalMs === 0
          ? this.log.info({ msg: line.first }, 'server success message')
          : this.log.info(
              { msg: line.first, count: line.count, intervalMs: line.intervalMs },
              `server success messages: ${line.count} more; the first shown`,
            ),
    });
    this.metrics.onState('idle', this.#scheduler.now());
    if (options.metricsLogIntervalMs) {
      this.#stopMetricsLog = this.metrics.startLogging(
        root.child({ module: 'metrics' }),
        options.metricsLogIntervalMs,
      );
    }
    if (options.metricsEventIntervalMs) this.#startMetricsEvents(options.metricsEventIntervalMs);
  }

  // ---------------------------------------------------------------- public API

  get state(): ConnectionState {
    return this.#machine.name;
  }

  get reason(): string | undefined {
    return this.#machine.reason;
  }

  get lastError(): ConnectionError | undefined {
    return this.#machine.lastError;
  }

  get attempt(): number {
    return this.#machine.attempt;
  }

  /** Whether a socket is currently ours (for tests and diagnostics). */
  get hasSocket(): boolean {
    return this.#socket !== undefined;
  }

  /** Starts (or keeps) a connection. Idempotent; safe in any state. */
  connect(): void {
    if (this.#disposed) throw new Error('StreamClient is disposed');
    this.#dispatch({ type: 'connect' });
  }

  /** Ends the connection and any pending retry. Idempotent; safe in any state. */
  disconnect(reason?: string): void {
    this.#dispatch(reason === undefined ? { type: 'disconnect' } : { type: 'disconnect', reason });
  }

  /**
   * Resolves once no socket of this client is open or closing: after disconnect() or dispose(),
   * the moment a successor may open its own connection without Alpaca counting two (406).
   * Sockets that never finish their close handshake are terminated after 2 s, so this settles.
   */
  closed(): Promise<void> {
    if (!this.#socket && this.#retiring.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#closedWaiters.push(resolve));
  }

  #notifyClosed(): void {
    if (this.#socket || this.#retiring.size > 0 || this.#closedWaiters.length === 0) return;
    for (const resolve of this.#closedWaiters.splice(0)) resolve();
  }

  /** Ends the client for good: socket, every timer, every handler and listener released. */
  dispose(): void {
    if (this.#disposed) return;
    this.disconnect('client disposed');
    this.#disposed = true;
    this.#timers.clearAll();
    this.#pendingOpen = undefined;
    if (this.#metricsTimer) clearTimeout(this.#metricsTimer);
    this.#metricsTimer = undefined;
    this.#stopMetricsLog?.();
    this.#stopMetricsLog = undefined;
    // The counts not yet logged, so that the log adds up to the counters.
    this.#invalidLog.flush();
    this.#serverErrorLog.flush();
    this.#successLog.flush();
    this.handlers.clear({ includeBuiltin: true });
    this.#events.clear();
  }

  on<K extends keyof StreamClientEvents>(
    event: K,
    listener: (payload: StreamClientEvents[K]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Adds symbols to the desired set of a channel (reference-counted). Accepted in every state; it
   * goes upstream on the next tick if connected, or after the next authentication. Returns the
   * matching release.
   */
  subscribe(channel: Channel, symbols: readonly string[]): () => void {
    const own = [...symbols];
    this.subscriptions.add(channel, own);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.subscriptions.remove(channel, own);
    };
  }

  unsubscribe(channel: Channel, symbols: readonly string[]): void {
    this.subscriptions.remove(channel, symbols);
  }

  health(): Health {
    return this.metrics.health({
      state: this.#machine.name,
      subscribed: this.#wantedCount(),
      stale: this.#stale,
      lastError: this.#machine.lastError,
      handlerErrorsLast60s: this.handlers.recentErrors(),
      refused: this.subscriptions.footprint().refused,
    });
  }

  snapshot(): ClientSnapshot {
    return {
      url: this.url,
      codec: this.codec,
      state: this.#machine.name,
      reason: this.#machine.reason,
      lastError: this.#machine.lastError,
      attempt: this.#machine.attempt,
      retryAt: this.#machine.name === 'backoff' ? this.#retryAt : undefined,
      stale: this.#stale,
      health: this.health(),
      metrics: this.metrics.snapshot(),
      subscriptions: this.#subscriptionEvent(),
    };
  }

  // ---------------------------------------------------------------- machine plumbing

  #dispatch(event: MachineEvent): void {
    const before = this.#machine;
    const { state, effects } = transition(before, event, {
      authMode: this.#options.authMode ?? 'message',
    });
    this.#machine = state;
    for (const effect of effects) this.#perform(effect);
    if (state.name !== before.name || state.reason !== before.reason)
      this.#stateChanged(before, state);
  }

  #perform(effect: Effect): void {
    switch (effect.type) {
      case 'open-socket':
        this.#openSocket(effect.generation);
        return;
      case 'close-socket':
        this.#closeSocket(effect.generation, effect.terminate, effect.code, effect.reason);
        return;
      case 'send-auth':
        this.#send({
          action: 'auth',
          key: this.#options.key ?? '',
          secret: this.#options.secret ?? '',
        });
        return;
      case 'start-subscribing':
        // No step timer here: each subscription action has its own echo deadline.
        this.#timers.clear('step');
        // Deferred: settling at once (nothing desired) must not re-enter the machine while this
        // transition's own state event has not gone out yet.
        this.#scheduleMicro(() => this.#progress());
        return;
      case 'schedule-reconnect': {
        const delay = backoffDelay(this.#backoff, effect.attempt, effect.floorMs, this.#random());
        this.#retryInMs = delay;
        this.#retryAt = Date.now() + delay;
        const generation = effect.generation;
        this.#timers.set('reconnect', delay, () =>
          this.#dispatch({ type: 'backoff-elapsed', generation }),
        );
        this.log.info(
          { attempt: effect.attempt, delayMs: delay, floorMs: effect.floorMs },
          'reconnect scheduled',
        );
        return;
      }
      case 'cancel-reconnect':
        this.#timers.clear('reconnect');
        this.#retryAt = undefined;
        this.#retryInMs = undefined;
        return;
      default: {
        const unreachable: never = effect;
        return unreachable;
      }
    }
  }

  #stateChanged(before: MachineState, after: MachineState): void {
    const now = this.#scheduler.now();
    if (after.name !== before.name) this.metrics.onState(after.name, now);
    // A reconnect is coming back after losing a session; a connect the user asked for after a
    // disconnect is not one (it must not count toward "degraded: N reconnects in 10 minutes").
    if (after.name === 'stopped') this.#everLive = false;
    if (after.name === 'live') {
      if (this.#everLive) this.metrics.reconnected();
      this.#everLive = true;
      this.#liveSince = now;
      this.#timers.clear('step');
    }
    if (after.name === 'authenticating') this.#startStep('authenticating');
    const backoff = after.name === 'backoff';
    const change: StateChange = {
      state: after.name,
      previous: before.name,
      reason: after.reason,
      error: after.lastError,
      attempt: after.attempt,
      at: Date.now(),
      retryInMs: backoff ? this.#retryInMs : undefined,
      retryAt: backoff ? this.#retryAt : undefined,
    };
    const level = after.name === 'failed' ? 'error' : after.name === 'backoff' ? 'warn' : 'info';
    this.log[level](
      {
        state: after.name,
        previous: before.name,
        reason: after.reason,
        attempt: after.attempt,
        // Only on the transition that brought it: the machine keeps lastError through the states
        // that follow (connecting, authenticating...), where repeating it reads as a new failure.
        ...(after.lastError !== undefined && after.lastError !== before.lastError
          ? { errorCode: after.lastError.code, error: after.lastError.message }
          : {}),
      },
      `state ${before.name} -> ${after.name}`,
    );
    this.#events.emit('state', change);
  }

  // ---------------------------------------------------------------- the socket

  #openSocket(generation: number): void {
    // The machine never asks for a second socket while one is ours; if this ever happened it
    // would hold Alpaca's one connection slot, so be defensive and kill the old one first.
    if (this.#socket) this.#closeSocket(this.#socketGeneration, true, 1000, 'superseded');
    this.#socketGeneration = generation;
    this.#startStep('connecting');
    if (this.#retiring.size > 0) {
      // Alpaca allows one connection per account: a new socket opened while the old one is still
      // closing (disconnect() then connect() at once) would be refused with 406. Wait for it.
      this.#pendingOpen = () => {
        this.#pendingOpen = undefined;
        const m = this.#machine;
        if (m.name === 'connecting' && m.generation === generation && !this.#socket)
          this.#createSocket(generation);
      };
      return;
    }
    this.#createSocket(generation);
  }

  #createSocket(generation: number): void {
    const headers: Record<string, string> = {};
    if (this.codec === 'msgpack') headers['Content-Type'] = 'application/msgpack';
    if ((this.#options.authMode ?? 'message') === 'headers') {
      headers['APCA-API-KEY-ID'] = this.#options.key ?? '';
      headers['APCA-API-SECRET-KEY'] = this.#options.secret ?? '';
    }
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url, {
        headers,
        perMessageDeflate: this.#options.perMessageDeflate ?? false,
        maxPayload: this.#options.maxPayload ?? 16 * 1024 * 1024,
        handshakeTimeout: this.#options.stepTimeoutMs ?? 10_000,
        autoPong: true,
      });
    } catch (err) {
      // The URL was checked in the constructor, so this is unexpected: log it with its stack and
      // let the machine treat it as a lost connection (backoff), deferred out of this transition.
      this.log.error({ err, url: this.url }, 'could not create the socket');
      this.#socketGeneration = generation;
      this.#scheduleMicro(() =>
        this.#dispatch({
          type: 'socket-closed',
          generation,
          code: 1006,
          reason: 'socket creation failed',
        }),
      );
      return;
    }
    ws.binaryType = 'nodebuffer';
    this.#socket = ws;
    this.log.debug({ generation, url: this.url, codec: this.codec }, 'opening socket');

    ws.on('open', () => {
      if (generation !== this.#socketGeneration || this.#socket !== ws) return;
      this.metrics.connected();
      this.#startHeartbeat(ws, generation);
      this.#dispatch({ type: 'socket-open', generation });
    });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (this.#socket !== ws) return; // a superseded socket's data is not ours to count
      this.#framesRead++;
      this.#onFrame(data, isBinary, generation);
    });
    ws.on('pong', () => {
      if (this.#socket === ws) this.#timers.clear('pong');
    });
    ws.on('unexpected-response', (_req: ClientRequest, res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      this.log.warn({ status, generation }, 'handshake refused');
      res.resume();
      ws.terminate();
      this.#dispatch({ type: 'handshake-rejected', generation, status });
    });
    let lastError: string | undefined;
    ws.on('error', (err: Error) => {
      lastError = err.message;
      // Always listened to: an unhandled 'error' would crash the process. The close that follows
      // drives the machine; here we only keep the error with its stack.
      if (this.#socket === ws) this.log.warn({ err, generation }, 'socket error');
      else this.log.debug({ err, generation }, 'error on a retired socket');
    });
    ws.on('close', (code: number, reasonBuffer: Buffer) => {
      if (this.#socket === ws) this.#dropSocket();
      if (this.#retiring.delete(ws) && this.#retiring.size === 0) this.#pendingOpen?.();
      this.#notifyClosed();
      // A 1006 close says nothing by itself; the error before it (ECONNREFUSED, "Max payload
      // size exceeded") is what the user needs to read on the state line.
      const reason = reasonBuffer.toString('utf8') || lastError || '';
      this.#dispatch({ type: 'socket-closed', generation, code, reason });
    });
  }

  #closeSocket(generation: number, terminate: boolean, code: number, reason: string): void {
    if (generation !== this.#socketGeneration) return;
    // Also when no socket exists yet (an open still waiting for the previous socket to finish
    // closing): the pending open and the step timer belong to this generation too.
    this.#pendingOpen = undefined;
    const ws = this.#socket;
    this.#dropSocket();
    if (!ws) {
      this.#notifyClosed();
      return;
    }
    if (ws.readyState !== WebSocket.CLOSED) this.#retiring.add(ws);
    try {
      if (terminate || ws.readyState !== WebSocket.OPEN) {
        ws.terminate();
      } else {
        ws.close(code, truncateReason(reason));
        // A peer that never answers the close frame must not keep the socket (and the account's
        // one connection slot) alive.
        const timer = setTimeout(() => ws.terminate(), 2_000);
        timer.unref();
        ws.once('close', () => clearTimeout(timer));
      }
    } catch (err) {
      this.log.warn({ err, generation }, 'closing the socket failed; terminating');
      ws.terminate();
    }
    this.#notifyClosed();
  }

  /** Forgets the current socket and everything that belonged to its session. */
  #dropSocket(): void {
    this.#socket = undefined;
    this.#timers.clear('step', 'echo', 'ping', 'pong', 'watch');
    // The server's confirmed set belongs to the session: the next one starts from nothing and
    // gets the whole desired set again.
    this.subscriptions.reset();
  }

  #send(action: Parameters<typeof encodeAction>[0]): boolean {
    const ws = this.#socket;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    try {
      ws.send(encodeAction(action, this.codec));
      if (action.action !== 'auth') this.log.debug({ action }, 'sent action');
      return true;
    } catch (err) {
      this.log.error({ err, action: action.action }, 'sending an action failed');
      return false;
    }
  }

  // ---------------------------------------------------------------- the per-message pipeline

  #onFrame(data: WebSocket.RawData, isBinary: boolean, generation: number): void {
    const receivedAt = this.#scheduler.now();
    this.#frameReceivedAt = receivedAt;
    this.metrics.frame(rawLength(data), receivedAt);
    try {
      decodeFrame(data, isBinary, this.codec, this.#sink);
    } catch (err) {
      // Handlers are isolated by the registry, so this is a bug in our own control handling.
      this.log.error({ err, generation }, 'processing a frame failed');
    }
    this.metrics.dispatchLatency(this.#scheduler.now() - receivedAt);
  }

  #onMessage(msg: MarketMessage): void {
    const kind = msg.kind;
    this.metrics.message(kind);
    if (kind === 'success' || kind === 'error' || kind === 'subscription') {
      this.#onControl(msg);
      return;
    }
    const data = msg;
    this.metrics.lastDataAt = this.#frameReceivedAt;
    if (kind === 'quote' || kind === 'trade' || kind === 'orderbook') {
      this.#lastFlowAt = this.#frameReceivedAt;
      if (this.#stale) this.#setStale(false);
    }
    if (++this.#sampleCounter >= this.#sampleEvery) {
      this.#sampleCounter = 0;
      const exchangeMs = data.timeMs;
      if (!Number.isNaN(exchangeMs)) this.metrics.exchangeLatency(Date.now() - exchangeMs);
    }
    this.handlers.dispatch(data, this.#frameReceivedAt);
  }

  #onControl(msg: Exclude<MarketMessage, DataMessage>): void {
    const generation = this.#socketGeneration;
    switch (msg.kind) {
      case 'success':
        if (msg.msg === 'connected') this.#dispatch({ type: 'server-connected', generation });
        else if (msg.msg === 'authenticated') this.#dispatch({ type: 'authenticated', generation });
        else this.#successLog.add('success', clip(msg.msg, MAX_SERVER_MESSAGE));
        return;
      case 'subscription':
        this.#onEcho(msg);
        return;
      case 'error':
        this.#onServerError(msg);
        return;
      default: {
        const unreachable: never = msg;
        return unreachable;
      }
    }
  }

  #onServerError(msg: ErrorMessage): void {
    const meaning = ALPACA_ERRORS[msg.code]?.meaning;
    const message = clip(msg.msg, MAX_SERVER_MESSAGE);
    this.#serverErrorLog.add(String(msg.code), { code: msg.code, message });
    this.#events.emit('server-error', { code: msg.code, message, meaning });
    // The planner decides first whether the error is about a subscription action (400 / 405 /
    // 410 / 413): it isolates and refuses the culprit, and the session goes on. Only an error
    // that settled the action in flight ends its echo deadline; one blamed on an earlier action
    // (a late 405) leaves the in-flight action waiting for its echo.
    const outcome = this.subscriptions.onError(msg.code);
    if (outcome !== 'ignored') {
      if (outcome === 'consumed') this.#timers.clear('echo');
      this.#emitSubscription();
      this.#progress();
      return;
    }
    this.#dispatch({
      type: 'server-error',
      generation: this.#socketGeneration,
      code: msg.code,
      message,
    });
  }

  #onEcho(msg: SubscriptionMessage): void {
    this.#timers.clear('echo');
    this.subscriptions.onEcho(msg);
    this.#emitSubscription();
    this.#progress();
  }

  /** Sends the next delta if one is due, and completes `subscribing` once the server agrees. */
  #progress(): void {
    this.#flush();
    if (this.#machine.name === 'subscribing' && this.subscriptions.isSettled()) {
      this.#dispatch({ type: 'subscribed', generation: this.#socketGeneration });
    }
  }

  #onInvalid(item: InvalidItem): void {
    this.metrics.invalid(item.reason);
    this.#invalidLog.add(item.reason, item);
    this.#events.emit('invalid', item);
  }

  #logInvalid(line: ThrottledLine<InvalidItem>): void {
    const { reason, detail, excerpt } = line.first;
    if (line.intervalMs === 0) {
      this.log.warn({ reason, detail, excerpt }, 'invalid input dropped');
      return;
    }
    const seconds = Math.round(line.intervalMs / 100) / 10;
    this.log.warn(
      { reason, count: line.count, intervalMs: line.intervalMs, detail, excerpt },
      `invalid input dropped: ${line.count} more (${reason}) in ${seconds} s; the first shown`,
    );
  }

  #logServerError(line: ThrottledLine<{ code: number; message: string }>): void {
    const { code, message } = line.first;
    if (line.intervalMs === 0) {
      this.log.warn({ code, serverMsg: message }, 'server error');
      return;
    }
    const seconds = Math.round(line.intervalMs / 100) / 10;
    this.log.warn(
      { code, serverMsg: message, count: line.count, intervalMs: line.intervalMs },
      `server error: ${line.count} more (code ${code}) in ${seconds} s; the first shown`,
    );
  }

  // ---------------------------------------------------------------- subscriptions

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // setImmediate runs after every pending promise continuation, so changes made in the same
    // turn (even across awaits that resolve at once) leave as one delta.
    setImmediate(() => {
      this.#flushScheduled = false;
      try {
        this.#progress();
      } catch (err) {
        this.log.error({ err }, 'flushing subscriptions failed');
      }
    });
  }

  /** Sends the next planned delta when authenticated, the socket is open and nothing is in flight. */
  #flush(): void {
    const name = this.#machine.name;
    if (name !== 'subscribing' && name !== 'live') return;
    // A socket that is closing cannot carry the action; planning now would only spin. The close
    // that follows resets the session, and the next one sends the whole desired set.
    if (this.#socket?.readyState !== WebSocket.OPEN) return;
    if (this.subscriptions.inFlight()) return;
    const plan = this.subscriptions.next();
    if (!plan) return;
    if (!this.#send({ action: plan.action, ...plan.channels })) {
      this.subscriptions.abandonInFlight();
      return;
    }
    this.#awaitEcho(plan);
  }

  /**
   * Sets the echo deadline of the action in flight. A missing echo leaves us not knowing what the
   * server holds, and echoes carry no id: sending the action again would let a late echo be read
   * as the answer to the next action and refuse innocent symbols. So a lost echo ends the session;
   * the next one starts from nothing and sends the whole desired set, which it can trust.
   */
  #awaitEcho(plan: PlannedAction): void {
    const generation = this.#socketGeneration;
    this.#timers.set('echo', this.#options.stepTimeoutMs ?? 10_000, () => {
      this.log.warn({ plan: plan.action }, 'no subscription echo in time; reconnecting');
      this.#dispatch({
        type: 'step-timeout',
        generation,
        step: 'waiting for the subscription echo',
      });
    });
  }

  /** The subscription sets for listeners; built only when someone listens (three sorted copies). */
  #emitSubscription(): void {
    if (this.#events.has('subscription'))
      this.#events.emit('subscription', this.#subscriptionEvent());
  }

  #subscriptionEvent(): SubscriptionEvent {
    return {
      desired: this.subscriptions.desired(),
      confirmed: this.subscriptions.confirmed(),
      refused: this.subscriptions.refused(),
    };
  }

  /** (channel, symbol) pairs wanted and not refused by the server. */
  #wantedCount(): number {
    const { desired, refused } = this.subscriptions.footprint();
    return Math.max(0, desired - refused);
  }

  // ---------------------------------------------------------------- timers

  #startStep(step: 'connecting' | 'authenticating'): void {
    const generation = this.#socketGeneration;
    this.#timers.set('step', this.#options.stepTimeoutMs ?? 10_000, () => {
      if (this.#machine.name === step) this.#dispatch({ type: 'step-timeout', generation, step });
    });
  }

  #startHeartbeat(ws: WebSocket, generation: number): void {
    const interval = this.#options.pingIntervalMs ?? 10_000;
    const pongTimeout = this.#options.pongTimeoutMs ?? 5_000;
    if (interval > 0) {
      const ping = (): void => {
        if (this.#socket !== ws) return;
        if (ws.readyState === WebSocket.CLOSING) {
          // The peer began a close and never finished it: do not wait out ws's 30 s close timer.
          this.log.warn({ generation }, 'socket stuck closing: terminating');
          ws.terminate();
          return;
        }
        try {
          ws.ping();
        } catch (err) {
          this.log.warn({ err }, 'ping failed');
        }
        if (!this.#timers.has('pong')) {
          // A pong queues behind the data sent before it: a client that is behind (a busy
          // process, seconds of quotes in the socket) reads it late. Frames read meanwhile prove
          // the link alive, so the wait starts over; only a link that delivers nothing at all
          // within the timeout is presumed dead.
          let seen = this.#framesRead;
          const expire = (): void => {
            if (this.#socket !== ws) return;
            if (this.#framesRead !== seen) {
              seen = this.#framesRead;
              this.#timers.set('pong', pongTimeout, expire);
              return;
            }
            this.log.warn({ generation, pongTimeoutMs: pongTimeout }, 'no pong: terminating');
            this.#dispatch({ type: 'pong-timeout', generation });
          };
          this.#timers.set('pong', pongTimeout, expire);
        }
        this.#timers.set('ping', interval, ping);
      };
      this.#timers.set('ping', interval, ping);
    }
    const staleAfter = this.#options.staleAfterMs ?? 30_000;
    if (staleAfter > 0) {
      const period = Math.max(10, Math.min(1_000, Math.floor(staleAfter / 4)));
      const watch = (): void => {
        if (this.#socket !== ws) return;
        this.#watchData(generation, staleAfter);
        this.#timers.set('watch', period, watch);
      };
      this.#timers.set('watch', period, watch);
    }
  }

  /**
   * Tells the data watchdog whether silence is expected: the market context sets it while the
   * session is closed (Alpaca's stock feeds carry nothing then), so the night brings neither a
   * `stale` alarm nor a forced reconnect every ten minutes. Data that arrives anyway still flows.
   */
  setQuiet(quiet: boolean): void {
    if (this.#quiet === quiet) return;
    this.#quiet = quiet;
    this.log.info({ quiet }, quiet ? 'silence expected (market closed)' : 'data expected again');
    if (quiet && this.#stale) this.#setStale(false);
    // Waking up: silence is measured from now, not from the last trade of the previous session.
    if (!quiet) this.#lastFlowAt = Math.max(this.#lastFlowAt, this.#scheduler.now());
  }

  get quiet(): boolean {
    return this.#quiet;
  }

  /** The data watchdog: live, frequent channels subscribed, and silent for too long. */
  #watchData(generation: number, staleAfter: number): void {
    if (this.#machine.name !== 'live' || this.#quiet || !this.#watchesFrequentChannels()) {
      // Nothing frequent to watch (any more): silence means nothing, so stale cannot stick.
      if (this.#stale) this.#setStale(false);
      return;
    }
    const now = this.#scheduler.now();
    const silent = now - Math.max(this.#lastFlowAt, this.#liveSince);
    if (silent < staleAfter) return;
    if (!this.#stale) this.#setStale(true);
    const cooldown = this.#options.staleReconnectCooldownMs ?? 600_000;
    const allowed = this.#lastForcedAt === undefined || now - this.#lastForcedAt >= cooldown;
    if ((this.#options.staleReconnect ?? true) && allowed) {
      this.#lastForcedAt = now;
      this.#dispatch({ type: 'stale', generation, silentMs: silent });
    }
  }

  #watchesFrequentChannels(): boolean {
    const subs = this.subscriptions;
    return (
      subs.confirmedCount('quotes') +
        subs.confirmedCount('trades') +
        subs.confirmedCount('orderbooks') >
      0
    );
  }

  #setStale(stale: boolean): void {
    this.#stale = stale;
    this.log[stale ? 'warn' : 'info']({ stale }, stale ? 'data went stale' : 'data resumed');
    this.#events.emit('stale', stale);
  }

  #startMetricsEvents(intervalMs: number): void {
    // Unref'd: a metrics tick alone must not keep a CLI process alive.
    this.#metricsTimer = setInterval(() => {
      if (this.#events.has('metrics')) this.#events.emit('metrics', this.metrics.snapshot());
    }, intervalMs).unref();
  }

  #scheduleMicro(fn: () => void): void {
    queueMicrotask(() => {
      try {
        fn();
      } catch (err) {
        this.log.error({ err }, 'deferred client step failed');
      }
    });
  }
}

type TimerName = 'reconnect' | 'step' | 'echo' | 'ping' | 'pong' | 'watch';

/** Named one-shot timers on the injected scheduler; setting a name replaces its old timer. */
class Timers {
  readonly #scheduler: Scheduler;
  readonly #handles = new Map<TimerName, unknown>();

  constructor(scheduler: Scheduler) {
    this.#scheduler = scheduler;
  }

  set(name: TimerName, ms: number, fn: () => void): void {
    this.clear(name);
    const handle = this.#scheduler.setTimeout(() => {
      if (this.#handles.get(name) === handle) this.#handles.delete(name);
      fn();
    }, ms);
    this.#handles.set(name, handle);
  }

  has(name: TimerName): boolean {
    return this.#handles.has(name);
  }

  clearAll(): void {
    for (const handle of this.#handles.values()) this.#scheduler.clearTimeout(handle);
    this.#handles.clear();
  }

  clear(...names: TimerName[]): void {
    for (const name of names) {
      const handle = this.#handles.get(name);
      if (handle === undefined) continue;
      this.#scheduler.clearTimeout(handle);
      this.#handles.delete(name);
    }
  }
}

function rawLength(data: WebSocket.RawData): number {
  if (Array.isArray(data)) {
    let n = 0;
    for (const part of data) n += part.byteLength;
    return n;
  }
  return data.byteLength;
}

/** At most `max` characters of a server's text, marked when cut. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Close reasons are limited to 123 bytes by the WebSocket protocol. */
function truncateReason(reason: string): string {
  const bytes = Buffer.from(reason, 'utf8');
  return bytes.byteLength <= 123 ? reason : bytes.subarray(0, 120).toString('utf8');
}
