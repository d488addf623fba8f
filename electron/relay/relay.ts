/**
 * The relay: ONE upstream (Alpaca with the user's keys, the simulator, or NATS fed by another
 * relay; source.ts) served to any number of Alpaca clients on the same paths and protocol as
 * Alpaca's, so that the official SDKs, our CLI and the app connect to it unchanged. Alpaca allows
 * one stream connection per key; the relay is how a desktop app, a bot and a notebook share it.
 *
 * The upstream holds the union of the clients' sets reference-counted: a pair is subscribed
 * upstream when its first client asks and unsubscribed when its last lets go, and a reconnect
 * resubscribes the union without the clients noticing. Data is re-encoded once per message per
 * codec and sent, one frame per upstream frame, to the clients that hold its (channel, symbol) or
 * `*`. Client faults (bad keys, garbage, floods, not reading)
 * end that client alone, with Alpaca's codes; the bounds reuse the simulator's (limits.ts).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Channel, Codec, DataMessage, Feed } from '../../shared/market.ts';
import { CHANNELS, FEED_PATHS } from '../../shared/market.ts';
import {
  ConnectionGate,
  DEFAULT_LIMITS,
  InboundBudget,
  OutboundBudget,
  pauseReading,
  type SimulatorLimits,
} from '../simulator/limits.ts';
import { silentLogger, type Logger } from '../stream/log.ts';
import { decodeClientAction, encodeServerItem } from '../stream/protocol/index.ts';
import type { ClientHost, ClientInfo, OutPart, UpstreamView } from './downstream.ts';
import { RelayClient } from './downstream.ts';
import { KeyRing, type RelayKey } from './keys.ts';
import { NatsPublisher, type NatsPublish, type NatsPublisherStats } from './nats-publisher.ts';
import { NatsSource, type NatsUpstream } from './nats-source.ts';
import { StreamSource, type RelaySource, type RelayUpstream, type SourceStats } from './source.ts';
import { channelOf, toWireItem } from './wire.ts';
import { RestProxy, type RestProxyOptions } from './rest-proxy.ts';
import type { RelayUpstreamClient } from './attached-upstream.ts';
import { MicrotaskBatch } from './microtask-batch.ts';

export type { RelayUpstream } from './source.ts';

export interface RelayOptions {
  /**
   * An Alpaca-protocol stream to open (Alpaca, the simulator), one that exists (attached-upstream.ts:
   * the app's own client), or NATS fed by a relay that publishes.
   */
  readonly upstream: RelayUpstream | RelayUpstreamClient | NatsUpstream;
  /** Also publish every data message to NATS, and take downstream relays' interest from it. */
  readonly publish?: NatsPublish;
  /** The feed served; its path is Alpaca's (`/v2/iex`, ...). Default iex. */
  readonly feed?: Feed;
  /** Default 127.0.0.1. Any other address needs client keys. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** The relay's own client keys. Empty: any key (demo mode), on loopback only. */
  readonly keys?: readonly RelayKey[];
  /** Clients at once; one more gets 406. Default 64. */
  readonly maxClients?: number;
  /** Bytes queued per client; past it 407 (or conflation). Default 4 MiB. */
  readonly maxBufferBytes?: number;
  /** Bytes queued for all clients together; the one furthest behind gets 407. Default 256 MiB. */
  readonly maxTotalBufferBytes?: number;
  /** Keep the latest quote per symbol for a lagging client instead of closing it. Default false. */
  readonly conflate?: boolean;
  /** Default 10 000, as Alpaca. */
  readonly authTimeoutMs?: number;
  /** A subscribe waits this long for the upstream before it is echoed anyway. Default 5 000. */
  readonly settleTimeoutMs?: number;
  /** Largest client message; bigger closes that client with 400. Default 256 KiB. */
  readonly maxMessageBytes?: number;
  /** Bytes read per second from all clients; senders past it wait. Default 4 MiB. */
  readonly maxInboundBytesPerSecond?: number;
  readonly logger?: Logger;
  /** REST pass-through on the same port (rest-proxy.ts); none: REST paths get 404. */
  readonly rest?: Omit<RestProxyOptions, 'authorize' | 'logger'>;
}

export interface RelayCounters {
  connectionsAccepted: number;
  connectionsRejected: number;
  authOk: number;
  authFailed: number;
  /** Data messages from the upstream. */
  messagesIn: number;
  /** Data messages sent to clients (one per client it went to). */
  messagesOut: number;
  /** Encodings made: at most one per message and codec. */
  encodes: { json: number; msgpack: number };
  errorsSent: Record<string, number>;
  /** Client messages that were not an action, or too big. */
  invalidMessages: number;
}

export interface RelayStats {
  readonly clients: number;
  readonly authenticated: number;
  readonly upstream: SourceStats;
  /** With `publish`: the NATS side of the holder. */
  readonly publish?: NatsPublisherStats;
  readonly counters: RelayCounters;
}

/** Sizes of the relay's maps: all back to zero when no client is connected. */
export interface RelayFootprint {
  readonly clients: number;
  readonly routes: number;
  readonly starRoutes: number;
  readonly waiting: number;
  readonly upstreamPairs: number;
}

export interface Relay {
  /** `ws://HOST:PORT`, no path; see `urlFor`. */
  readonly url: string;
  readonly port: number;
  readonly feed: Feed;
  /** `ws://HOST:PORT/v2/iex` and so on: the path clients connect to. */
  urlFor(feed?: Feed): string;
  readonly upstream: RelaySource;
  /** The REST pass-through, when the relay has an upstream for it. */
  readonly rest: RestProxy | undefined;
  stats(): RelayStats;
  clients(): ClientInfo[];
  footprint(): RelayFootprint;
  /** Closes every client (close frame), the upstream and the listener. Idempotent. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Whether an address is loopback only. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\./.test(host);
}

/** Largest message before authentication: an auth is well under 1 KiB (as the simulator's). */
const MAX_UNAUTHENTICATED_BYTES = 16 * 1024;

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

function checkCount(name: string, value: number | undefined, min: number): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) {
    throw new RangeError(`${name} must be a whole number >= ${min}`);
  }
}

/** A data message with its encodings, made on first use. */
class Part implements OutPart {
  readonly quoteSymbol: string | undefined;
  readonly #msg: DataMessage;
  readonly #counters: RelayCounters;
  #item: Record<string, unknown> | undefined;
  #json: string | undefined;
  #msgpack: Buffer | undefined;

  constructor(msg: DataMessage, counters: RelayCounters) {
    this.#msg = msg;
    this.#counters = counters;
    this.quoteSymbol = msg.kind === 'quote' ? msg.symbol : undefined;
  }

  encoded(codec: Codec): string | Buffer {
    this.#item ??= toWireItem(this.#msg);
    if (codec === 'json') {
      if (this.#json === undefined) {
        this.#json = encodeServerItem(this.#item, 'json') as string;
        this.#counters.encodes.json += 1;
      }
      return this.#json;
    }
    if (this.#msgpack === undefined) {
      this.#msgpack = encodeServerItem(this.#item, 'msgpack') as Buffer;
      this.#counters.encodes.msgpack += 1;
    }
    return this.#msgpack;
  }
}

class RelayServer implements Relay, ClientHost {
  url = '';
  port = 0;
  readonly feed: Feed;
  readonly upstream: RelaySource;
  readonly keys: KeyRing;
  readonly logger: Logger;
  readonly authTimeoutMs: number;
  readonly settleTimeoutMs: number;
  readonly maxBufferBytes: number;
  readonly conflate: boolean;
  readonly maxSymbolLength = DEFAULT_LIMITS.maxSymbolLength;
  readonly counters: RelayCounters = {
    connectionsAccepted: 0,
    connectionsRejected: 0,
    authOk: 0,
    authFailed: 0,
    messagesIn: 0,
    messagesOut: 0,
    encodes: { json: 0, msgpack: 0 },
    errorsSent: {},
    invalidMessages: 0,
  };
  readonly upstreamView: UpstreamView;
  readonly rest: RestProxy | undefined;
  readonly publisher: NatsPublisher | undefined;

  readonly #host: string;
  readonly #requestedPort: number;
  readonly #maxMessageBytes: number;
  readonly #limits: SimulatorLimits;
  readonly #gate: ConnectionGate;
  readonly #inbound: InboundBudget;
  readonly #budget: OutboundBudget;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #clients = new Map<number, RelayClient>();
  /** channel -> symbol -> clients that receive it (echoed pairs only). */
  readonly #routes = new Map<Channel, Map<string, Set<RelayClient>>>();
  /** channel -> clients holding `*` on it. */
  readonly #stars = new Map<Channel, Set<RelayClient>>();
  readonly #waiting = new Set<RelayClient>();
  /** Upstream refusals already passed on, by `channel symbol`. */
  readonly #reported = new Map<string, number>();
  #confirmed = new Map<Channel, Set<string>>();
  #refused = new Map<string, number>();
  #viewDirty = true;
  #reconcileScheduled = false;
  /** What one upstream frame carried, sent on together (#flush). */
  readonly #batch = new MicrotaskBatch<DataMessage>((batch) => this.#flush(batch));
  #nextId = 1;
  #closing: Promise<void> | undefined;

  constructor(options: RelayOptions) {
    checkCount('port', options.port, 0);
    if ((options.port ?? 0) > 65_535) throw new RangeError('port must be at most 65535');
    checkCount('maxClients', options.maxClients, 1);
    checkCount('maxBufferBytes', options.maxBufferBytes, 1024);
    checkCount('maxTotalBufferBytes', options.maxTotalBufferBytes, 1024);
    checkCount('authTimeoutMs', options.authTimeoutMs, 1);
    checkCount('settleTimeoutMs', options.settleTimeoutMs, 1);
    checkCount('maxMessageBytes', options.maxMessageBytes, 1024);
    checkCount('maxInboundBytesPerSecond', options.maxInboundBytesPerSecond, 1024);
    this.#host = options.host ?? '127.0.0.1';
    const keys = options.keys ?? [];
    if (keys.length === 0 && !isLoopback(this.#host)) {
      throw new RangeError(
        `a relay on ${this.#host} (not loopback) needs client keys: anyone who can reach it would use the upstream`,
      );
    }
    this.keys = new KeyRing(keys);
    this.feed = options.feed ?? 'iex';
    this.#requestedPort = options.port ?? 0;
    this.logger = (options.logger ?? silentLogger()).child({ module: 'relay' });
    this.authTimeoutMs = options.authTimeoutMs ?? 10_000;
    this.settleTimeoutMs = options.settleTimeoutMs ?? 5_000;
    this.maxBufferBytes = options.maxBufferBytes ?? 4 * 1024 * 1024;
    this.conflate = options.conflate ?? false;
    this.#maxMessageBytes = options.maxMessageBytes ?? 256 * 1024;
    this.#limits = {
      ...DEFAULT_LIMITS,
      maxConnections: options.maxClients ?? 64,
      maxBufferedBytes: options.maxTotalBufferBytes ?? 256 * 1024 * 1024,
      maxInboundBytesPerSecond: options.maxInboundBytesPerSecond ?? 4 * 1024 * 1024,
    };
    this.#gate = new ConnectionGate(() => this.#limits);
    this.#inbound = new InboundBudget(() => this.#limits);
    this.#budget = new OutboundBudget(
      () => this.#limits,
      () => this.#clients.values(),
    );
    for (const channel of CHANNELS) {
      this.#routes.set(channel, new Map());
      this.#stars.set(channel, new Set());
    }

    const up = options.upstream;
    if ('nats' in up && options.publish !== undefined) {
      throw new RangeError('a relay fed by NATS cannot also publish to NATS: it would feed itself');
    }
    this.upstream =
      'nats' in up ? new NatsSource(up, this.feed, this.logger) : new StreamSource(up, this.logger);
    this.publisher =
      options.publish === undefined
        ? undefined
        : new NatsPublisher(this.upstream, this.feed, options.publish, this.logger);
    this.upstream.onData((msg) => this.#batch.push(msg), 'relay-fan-out');
    this.upstream.onChange(() => {
      this.#viewDirty = true;
      this.#scheduleReconcile();
    });
    this.upstreamView = {
      confirmed: (channel, symbol) => this.#view().confirmed.get(channel)?.has(symbol) ?? false,
      refused: (channel, symbol) => this.#view().refused.get(`${channel} ${symbol}`),
    };

    this.#wss = new WebSocketServer({
      noServer: true,
      // Past maxMessageBytes a client gets a 400 and a close; ws cuts anything past twice that.
      maxPayload: 2 * this.#maxMessageBytes,
      perMessageDeflate: false,
    });
    this.rest =
      options.rest &&
      new RestProxy({
        ...options.rest,
        authorize: (key, secret) => this.keys.check(key, secret) !== undefined,
        logger: this.logger,
      });
    // A request's headers (an upgrade's too) get as long as a client's auth, not Node's minute:
    // the connection slots are few, and slow senders would hold them all.
    const slow = this.authTimeoutMs;
    const serverOptions = {
      headersTimeout: slow,
      requestTimeout: slow,
      connectionsCheckingInterval: Math.min(1000, slow),
    };
    this.#http = createServer(serverOptions, (req, res) => {
      const known = pathnameOf(req.url) === FEED_PATHS[this.feed];
      if (!known && this.rest !== undefined) return this.rest.handle(req, res);
      res.writeHead(known ? 426 : 404, { 'Content-Type': 'text/plain' });
      res.end(known ? 'websocket upgrade required\n' : 'not found\n');
    });
    this.#http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#upgrade(req, socket, head),
    );
    this.#http.maxConnections = 2 * this.#limits.maxConnections + 16;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.#http.once('error', onError);
      this.#http.listen(this.#requestedPort, this.#host, () => {
        this.#http.off('error', onError);
        resolve();
      });
    });
    this.#http.on('error', (err) => this.logger.error({ err }, 'http server error'));
    const address = this.#http.address();
    this.port =
      typeof address === 'object' && address !== null ? address.port : this.#requestedPort;
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    this.url = `ws://${host}:${this.port}`;
    this.upstream.start();
    this.publisher?.start();
    this.logger.info({ url: this.url, feed: this.feed }, 'relay listening');
  }

  urlFor(feed: Feed = this.feed): string {
    return `${this.url}${FEED_PATHS[feed]}`;
  }

  // ---------------------------------------------------------------- ClientHost

  hold(channel: Channel, symbols: readonly string[]): void {
    this.upstream.hold(channel, symbols);
  }

  release(channel: Channel, symbols: readonly string[]): void {
    this.upstream.release(channel, symbols);
  }

  route(client: RelayClient, channel: Channel, symbols: readonly string[], on: boolean): void {
    const bySymbol = this.#routes.get(channel);
    const stars = this.#stars.get(channel);
    if (bySymbol === undefined || stars === undefined) return;
    for (const symbol of symbols) {
      if (symbol === '*') {
        if (on) stars.add(client);
        else stars.delete(client);
        continue;
      }
      let set = bySymbol.get(symbol);
      if (on) {
        if (set === undefined) bySymbol.set(symbol, (set = new Set()));
        set.add(client);
      } else if (set !== undefined) {
        set.delete(client);
        if (set.size === 0) bySymbol.delete(symbol);
      }
    }
  }

  mayQueue(client: RelayClient): boolean {
    return this.#budget.mayQueue(client, undefined);
  }

  countError(code: number): void {
    this.counters.errorsSent[code] = (this.counters.errorsSent[code] ?? 0) + 1;
  }

  countAuth(ok: boolean): void {
    if (ok) this.counters.authOk += 1;
    else this.counters.authFailed += 1;
  }

  waiting(client: RelayClient, on: boolean): void {
    if (on) this.#waiting.add(client);
    else this.#waiting.delete(client);
  }

  // ---------------------------------------------------------------- reports

  stats(): RelayStats {
    let authenticated = 0;
    for (const c of this.#clients.values()) if (c.authenticated) authenticated += 1;
    return {
      clients: this.#clients.size,
      authenticated,
      upstream: this.upstream.stats(),
      ...(this.publisher !== undefined ? { publish: this.publisher.stats() } : {}),
      counters: {
        ...this.counters,
        encodes: { ...this.counters.encodes },
        errorsSent: { ...this.counters.errorsSent },
      },
    };
  }

  clients(): ClientInfo[] {
    return [...this.#clients.values()].map((c) => c.info());
  }

  footprint(): RelayFootprint {
    let routes = 0;
    for (const bySymbol of this.#routes.values())
      for (const set of bySymbol.values()) routes += set.size;
    let starRoutes = 0;
    for (const set of this.#stars.values()) starRoutes += set.size;
    return {
      clients: this.#clients.size,
      routes,
      starRoutes,
      waiting: this.#waiting.size,
      upstreamPairs: this.upstream.subscriptions.footprint().desired,
    };
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  // ---------------------------------------------------------------- upstream

  #view(): { confirmed: Map<Channel, Set<string>>; refused: Map<string, number> } {
    if (this.#viewDirty) {
      this.#viewDirty = false;
      const subs = this.upstream.subscriptions;
      const confirmed = new Map<Channel, Set<string>>();
      const sets = subs.confirmed();
      for (const channel of CHANNELS) confirmed.set(channel, new Set(sets[channel]));
      const refused = new Map<string, number>();
      for (const r of subs.refused()) refused.set(`${r.channel} ${r.symbol}`, r.code);
      this.#confirmed = confirmed;
      this.#refused = refused;
    }
    return { confirmed: this.#confirmed, refused: this.#refused };
  }

  #scheduleReconcile(): void {
    if (this.#reconcileScheduled) return;
    this.#reconcileScheduled = true;
    setImmediate(() => {
      this.#reconcileScheduled = false;
      try {
        this.#reconcile();
      } catch (err) {
        this.logger.error({ err }, 'reconciling with the upstream failed');
      }
    });
  }

  /** Passes new upstream refusals to the clients holding those pairs, and settles waiting ones. */
  #reconcile(): void {
    const { refused } = this.#view();
    for (const [key, code] of refused) {
      if (this.#reported.get(key) === code) continue;
      this.#reported.set(key, code);
      const space = key.indexOf(' ');
      const channel = key.slice(0, space) as Channel;
      const symbol = key.slice(space + 1);
      this.logger.info({ channel, symbol, code }, 'upstream refused a pair');
      const holders =
        symbol === '*' ? this.#stars.get(channel) : this.#routes.get(channel)?.get(symbol);
      for (const client of [...(holders ?? [])]) client.refusedLater(channel, symbol, code);
    }
    for (const key of this.#reported.keys()) if (!refused.has(key)) this.#reported.delete(key);
    for (const client of [...this.#waiting]) client.upstreamChanged();
  }

  #flush(batch: DataMessage[]): void {
    this.counters.messagesIn += batch.length;
    const perClient = new Map<RelayClient, Part[]>();
    for (const msg of batch) {
      const channel = channelOf(msg);
      const stars = this.#stars.get(channel);
      const bySymbol = this.#routes.get(channel);
      let part: Part | undefined;
      const add = (client: RelayClient): void => {
        part ??= new Part(msg, this.counters);
        let list = perClient.get(client);
        if (list === undefined) perClient.set(client, (list = []));
        // A news item naming two symbols a client holds goes to it once.
        if (list[list.length - 1] !== part) list.push(part);
      };
      if (stars !== undefined) for (const c of stars) add(c);
      if (bySymbol !== undefined) {
        if (msg.kind === 'news') {
          for (const s of msg.symbols) for (const c of bySymbol.get(s) ?? []) add(c);
        } else {
          for (const c of bySymbol.get(msg.symbol) ?? []) if (!stars?.has(c)) add(c);
        }
      }
    }
    for (const [client, parts] of perClient) {
      this.counters.messagesOut += parts.length;
      try {
        client.deliver(parts);
      } catch (err) {
        this.logger.error({ err, client: client.id }, 'sending to a client failed');
      }
    }
  }

  // ---------------------------------------------------------------- clients

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (err) => this.logger.debug({ err }, 'socket error during upgrade'));
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    const path = pathnameOf(req.url);
    if (path !== FEED_PATHS[this.feed]) {
      this.counters.connectionsRejected += 1;
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // Without client keys any key passes, and a browser lets every page it shows open
    // ws://127.0.0.1: a page would stream on the user's Alpaca account. Browsers always send an
    // Origin; SDKs and our StreamClient send none, so an Origin is refused here.
    if (this.keys.size === 0 && req.headers.origin !== undefined) {
      this.counters.connectionsRejected += 1;
      this.logger.info('upgrade from a web page refused: a relay without client keys');
      const body = 'a relay without client keys does not serve web pages\n';
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return;
    }
    if (!this.#gate.admitUpgrade(socket, this.#clients.size)) {
      this.counters.connectionsRejected += 1;
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req));
  }

  #accept(ws: WebSocket, req: IncomingMessage): void {
    const contentType = req.headers['content-type'] ?? '';
    const codec: Codec = contentType.toLowerCase().includes('application/msgpack')
      ? 'msgpack'
      : 'json';
    if (!this.#gate.admit(ws, codec, this.#clients.size)) {
      this.counters.connectionsRejected += 1;
      this.countError(406);
      this.logger.info('client refused: connection limit (406)');
      return;
    }
    const id = this.#nextId++;
    const client = new RelayClient(ws, this, id, codec);
    this.#clients.set(id, client);
    this.counters.connectionsAccepted += 1;
    this.logger.debug({ client: id, codec }, 'client connected');
    ws.on('message', (data, isBinary) => {
      const bytes = rawLength(data);
      try {
        this.#onClientMessage(client, data, isBinary, bytes);
      } catch (err) {
        this.logger.error({ err, client: id }, 'client message handling failed');
      }
      pauseReading(ws, this.#inbound.took(bytes));
    });
    ws.on('error', (err) => this.logger.debug({ err, client: id }, 'client socket error'));
    ws.on('close', () => {
      client.dispose();
      this.#clients.delete(id);
      this.#waiting.delete(client);
      this.logger.debug({ client: id }, 'client closed');
    });
    try {
      client.start(req.headers);
    } catch (err) {
      this.logger.error({ err, client: id }, 'client start failed');
      client.terminate();
    }
  }

  #onClientMessage(client: RelayClient, data: RawData, isBinary: boolean, bytes: number): void {
    if (client.ended) return;
    if (!client.authenticated && bytes > MAX_UNAUTHENTICATED_BYTES) {
      this.counters.invalidMessages += 1;
      client.fail(400, `message of ${bytes} bytes before auth`);
      return;
    }
    if (bytes > this.#maxMessageBytes) {
      this.counters.invalidMessages += 1;
      client.fail(400, `message of ${bytes} bytes; the limit is ${this.#maxMessageBytes}`);
      return;
    }
    const decoded = decodeClientAction(data, isBinary, client.codec);
    if (!decoded.ok) {
      this.counters.invalidMessages += 1;
      // An Alpaca client never sends what does not parse: this is not one, so it goes.
      client.fail(400, `invalid syntax: ${decoded.reason}`.slice(0, 120));
      return;
    }
    client.onAction(decoded.action, bytes);
  }

  async #shutdown(): Promise<void> {
    for (const client of this.#clients.values()) client.goAway();
    // The clients get a second to finish their close handshakes; the rest are cut.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      const check = (): void => {
        if (this.#clients.size === 0) {
          clearTimeout(timer);
          resolve();
        } else setTimeout(check, 10);
      };
      check();
    });
    this.rest?.close();
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
    await this.publisher?.close();
    await this.upstream.close();
    this.logger.info('relay closed');
  }
}

/** Starts a relay: listens, then connects its upstream. */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  const relay = new RelayServer(options);
  await relay.listen();
  return relay;
}
