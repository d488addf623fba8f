/**
 * The stream source: the one StreamClient for the current settings and everything its life
 * needs. MonitorCore composes it with the views; this module builds, connects, replaces and tears
 * down the client, runs the embedded simulator while the source is the simulator, keeps the
 * one-socket-per-account rule, and keeps the client's subscriptions equal to the watchlists.
 *
 * Sources. The simulator source streams the simulator's stock feed (`/v2/iex`). An Alpaca source
 * streams its feed; the crypto feed takes the watchlists' crypto pairs (symbols with a `/`, like
 * BTC/USD) and the stock feeds take the rest: a stock feed would refuse a pair and the crypto
 * feed every ticker, so the symbols a source cannot serve are simply not subscribed. Every
 * streamed symbol is subscribed on quotes, trades, daily bars (volume and change) and minute bars
 * (the sparklines); on a stock feed also on trading statuses and LULD bands (halts).
 *
 * Connecting. The source remembers whether the user wants a connection (`wantConnected`, set by
 * the core). A rebuilt client (a new source, new keys) connects when that wish is on. An Alpaca
 * source without credentials builds its client but never connects it: state `idle`, the reason
 * NO_CREDENTIALS_REASON, and a notice.
 *
 * A relay source (`market-monitor relay`, or another Market Monitor serving its connection)
 * streams the relay's URL and feed path with the relay key (a credential slot of its own, never
 * the Alpaca keys), and reads REST through the relay's pass-through on the same port with the
 * same key; a relay without one answers 404 there, and the market context does without REST.
 *
 * No electron import.
 */
import type { ConnectionView, Notice, Source, WatchlistsFile } from '../../shared/api.ts';
import type { ConnectionState } from '../../shared/connection.ts';
import { ALPACA_STREAM_HOST, FEED_PATHS, type Channel, type Feed } from '../../shared/market.ts';
import {
  randomRunCredentials,
  startSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../simulator/index.ts';
import { join } from 'node:path';
import { MarketContext } from '../market/market-context.ts';
import { SymbolDirectory } from '../market/symbol-directory.ts';
import {
  AlpacaRest,
  DEFAULT_DATA_URL,
  DEFAULT_TRADING_URL,
  type AlpacaRestOptions,
} from '../rest/alpaca-rest.ts';
import { relayHttpUrl } from '../../shared/relay-url.ts';
import type { QuoteBook } from '../stream/book.ts';
import { StreamClient, type StreamClientOptions } from '../stream/client.ts';
import type { HandlerRegistry } from '../stream/handlers.ts';
import type { Logger } from '../stream/log.ts';
import type { StoredCredentials } from './types.ts';
import { connectionView } from './views.ts';
import { MAX_TOTAL_SYMBOLS, subscribableSymbols } from './watchlists.ts';

/** What the connection view says while an Alpaca source has no keys. */
export const NO_CREDENTIALS_REASON = 'no credentials: add keys in Settings';
/** What it says while a relay source has no relay key. */
export const NO_RELAY_KEY_REASON = 'no relay key: add the relay key in Settings';

/** Largest client message the embedded simulator reads (see #ensureSimulator). */
const EMBEDDED_MAX_PAYLOAD = 64 * 1024;

/**
 * Channels every streamed symbol is subscribed on. Trading statuses and LULD bands last: they are
 * sparse (a few messages a day), and the planner lists a symbol's channels in this order.
 */
export const STREAM_CHANNELS: readonly Channel[] = [
  'quotes',
  'trades',
  'dailyBars',
  'bars',
  'statuses',
  'lulds',
];

/** Channels a stock feed has and the crypto feed lacks (it would refuse them with 410). */
const STOCK_ONLY_CHANNELS: ReadonlySet<Channel> = new Set<Channel>(['statuses', 'lulds']);

/** The channels a source streams its symbols on. */
export function streamChannels(source: Source | undefined): readonly Channel[] {
  return source !== undefined && isCryptoSource(source)
    ? STREAM_CHANNELS.filter((c) => !STOCK_ONLY_CHANNELS.has(c))
    : STREAM_CHANNELS;
}

export interface StreamSourceOptions {
  /** The embedded simulator's options (tests: rate, symbols, barIntervalMs). Host is always loopback. */
  readonly simulator?: Partial<SimulatorOptions>;
  /** Default ALPACA_STREAM_HOST + FEED_PATHS[feed]; tests point it at a local server. */
  readonly alpacaUrl?: (feed: Feed) => string;
  /** Extra client options (tests: backoff, random); url, codec, keys and logger are the source's. */
  readonly client?: Partial<StreamClientOptions>;
  /**
   * REST for an Alpaca source: base URLs (tests: a local server for both) and client options.
   * Default: Alpaca's data host and the paper trading host.
   */
  readonly rest?: Partial<AlpacaRestOptions>;
  /** The market context's options (tests: poll period). */
  readonly market?: { readonly pollIntervalMs?: number };
  /** Where the symbol directories cache their asset lists (the user-data folder); none: no cache. */
  readonly cacheDir?: string;
}

/** What the source needs from the core that composes it. */
export interface SourceHost {
  /** The root logger (the client and the simulator log through it). */
  readonly logger: Logger;
  readonly book: QuoteBook;
  /** The keys for an Alpaca source: stored, else the environment's; undefined when none. */
  credentials(): Promise<StoredCredentials | undefined>;
  /** The relay key for a relay source; undefined when none (absent: never any). */
  relayCredentials?(): Promise<StoredCredentials | undefined>;
  watchlists(): WatchlistsFile;
  /** The id of the watchlist the user is looking at (settings), whose symbols stream first. */
  activeWatchlist(): string | undefined;
  setNotice(id: string, level: Notice['level'], message: string): void;
  dropNotice(id: string): void;
  /** The connection view changed (a state, staleness, a new client). */
  connectionChanged(): void;
  /** The subscription sets changed (coalesce: called per echo). */
  subscriptionsChanged(): void;
  /** Handlers were added or removed, or a new client brought its own. */
  handlersChanged(): void;
  /** The market view changed (session, polled set). */
  marketChanged(): void;
  /** Sparkline series changed. */
  seriesChanged(): void;
  /** Whether the core is closed (a slow start must then change nothing). */
  isClosed(): boolean;
  /**
   * Registers the alert rules on a new client's handlers (after the book's, so that a rule reads
   * the book's figures after they took the same message in); returns the detach.
   */
  attachAlerts(handlers: HandlerRegistry): () => void;
  /** The streamed symbols changed (the alert rules' per-symbol state follows them). */
  streamedChanged(symbols: ReadonlySet<string>): void;
  /**
   * Registers the core's own handlers (the tape) on each new client's registry, as the book's
   * are; returns their disposer.
   */
  attachHandlers?(handlers: HandlerRegistry): () => void;
}

/**
 * A new client, built but not yet attached or connected, and why it may not connect. Built before
 * anything is torn down, so that a failure (the simulator will not start, a bad URL) changes nothing.
 */
export interface PreparedSource {
  readonly source: Source;
  readonly client: StreamClient;
  readonly blocked: string | undefined;
  /** REST for the same account and host; undefined without keys. */
  readonly rest: AlpacaRest | undefined;
  /** Where that REST goes and with which keys (a relay served by the app passes REST on there). */
  readonly restTarget: RestTarget | undefined;
}

/** A REST host pair and its keys. */
export interface RestTarget {
  readonly dataUrl: string;
  readonly tradingUrl: string;
  readonly keyId: string;
  readonly secret: string;
}

/** Crypto pairs (BTC/USD) go to the crypto feed, everything else to the stock feeds. */
function isCryptoSource(source: Source): boolean {
  return source.kind !== 'simulator' && source.feed === 'crypto';
}

export class StreamSource {
  readonly #options: StreamSourceOptions;
  readonly #host: SourceHost;
  readonly #log: Logger;

  #client: StreamClient | undefined;
  #source: Source | undefined;
  #market: MarketContext | undefined;
  /**
   * One directory per market: Alpaca's asset list and the simulator's are different lists, and
   * switching sources must not show one's names (or refusals) for the other's symbols.
   */
  readonly #directories = {
    alpaca: undefined as SymbolDirectory | undefined,
    simulator: undefined as SymbolDirectory | undefined,
    relay: undefined as SymbolDirectory | undefined,
  };
  /** Told of every installed client (the relay the app serves follows it). */
  readonly #installed = new Set<(client: StreamClient, source: Source) => void>();
  #restTarget: RestTarget | undefined;
  /** The embedded simulator's keys: random per run unless the options name them (see prepare). */
  readonly #simKeys: { readonly key: string; readonly secret: string };
  /** Undoes everything attached to the current client (listeners, the book's handlers). */
  #detach: (() => void)[] = [];
  #sim: Simulator | undefined;
  /** The symbols subscribed on the current client (one reference each, on STREAM_CHANNELS). */
  #streamed = new Set<string>();
  /** Why the current client may not connect (no credentials), if so. */
  #blocked: string | undefined;
  #wantConnected = false;
  /**
   * Settles when every client we let go of has closed its socket. Alpaca counts connections per
   * account (406 beyond the plan's one), so every connect waits for it: a chain, because a client
   * replaced before it ever opened a socket says "closed" while an older one is still closing.
   */
  #socketsFree: Promise<void> = Promise.resolve();
  /** Replaced clients whose sockets are still closing; 0 = connect at once. */
  #closingClients = 0;
  #conn: {
    previous: ConnectionState;
    since: number;
    retryAt: number | undefined;
    stale: boolean;
  } = { previous: 'idle', since: Date.now(), retryAt: undefined, stale: false };

  constructor(options: StreamSourceOptions, host: SourceHost) {
    this.#options = options;
    this.#host = host;
    this.#log = host.logger.child({ module: 'core' });
    // Any local process can find the simulator's loopback port: a random pair known only to this
    // process keeps them out (a demo simulator would take any key).
    const run = randomRunCredentials();
    this.#simKeys = {
      key: options.simulator?.key ?? run.key,
      secret: options.simulator?.secret ?? run.secret,
    };
  }

  /** The symbol directory of the installed source's market, if it has REST. */
  get directory(): SymbolDirectory | undefined {
    const kind = this.#source?.kind;
    return kind === undefined ? undefined : this.#directories[kind];
  }

  /** The market context of the current client (session, polling); there is one from install() on. */
  get market(): MarketContext | undefined {
    return this.#market;
  }

  /** The current client; there is one from the first install() on. */
  get client(): StreamClient {
    if (!this.#client) throw new Error('the stream source has no client yet');
    return this.#client;
  }

  get hasClient(): boolean {
    return this.#client !== undefined;
  }

  get simulator(): Simulator | undefined {
    return this.#sim;
  }

  /** Why the current client may not connect, if so. */
  get blocked(): string | undefined {
    return this.#blocked;
  }

  /** The symbols subscribed on the current client. */
  get streamed(): ReadonlySet<string> {
    return this.#streamed;
  }

  /** The installed source (the settings' may be newer while one is being prepared). */
  get source(): Source | undefined {
    return this.#source;
  }

  /** Where the installed client's REST goes, with its keys; undefined without REST access. */
  get restTarget(): RestTarget | undefined {
    return this.#restTarget;
  }

  /** `listener` hears of each client install() puts in place; returns the unsubscribe. */
  onInstalled(listener: (client: StreamClient, source: Source) => void): () => void {
    this.#installed.add(listener);
    return () => void this.#installed.delete(listener);
  }

  get wantConnected(): boolean {
    return this.#wantConnected;
  }

  set wantConnected(want: boolean) {
    this.#wantConnected = want;
  }

  /** The user asked to connect: remembered, and done once no older socket is open or closing. */
  connect(): void {
    this.#wantConnected = true;
    if (this.#blocked === undefined && this.#client) this.#connectWhenFree(this.#client);
  }

  disconnect(reason: string): void {
    this.#wantConnected = false;
    this.#client?.disconnect(reason);
  }

  /** Starts the simulator or reads the keys, and builds the client: nothing is torn down yet. */
  async prepare(source: Source): Promise<PreparedSource> {
    let url: string;
    let key: string | undefined;
    let secret: string | undefined;
    let blocked: string | undefined;
    let rest: AlpacaRest | undefined;
    let restTarget: RestTarget | undefined;
    if (source.kind === 'simulator') {
      const sim = await this.#ensureSimulator();
      url = sim.urlFor('iex');
      key = this.#simKeys.key;
      secret = this.#simKeys.secret;
      // The simulator serves Alpaca's REST API on the same port.
      ({ rest, restTarget } = this.#restAt(sim.url.replace(/^ws/, 'http'), key, secret));
    } else if (source.kind === 'relay') {
      url = `${source.url}${FEED_PATHS[source.feed]}`;
      const credentials = await this.#host.relayCredentials?.();
      if (credentials) {
        key = credentials.keyId;
        secret = credentials.secret;
        // The relay passes market-data GETs on at its http:// address, with the same key.
        ({ rest, restTarget } = this.#restAt(relayHttpUrl(source.url), key, secret));
      } else {
        blocked = NO_RELAY_KEY_REASON;
      }
    } else {
      url = this.#alpacaUrl(source.feed);
      const credentials = await this.#host.credentials();
      if (credentials) {
        key = credentials.keyId;
        secret = credentials.secret;
        rest = new AlpacaRest({
          logger: this.#host.logger,
          ...this.#options.rest,
          keyId: key,
          secret,
        });
        restTarget = {
          dataUrl: this.#options.rest?.dataUrl ?? DEFAULT_DATA_URL,
          tradingUrl: this.#options.rest?.tradingUrl ?? DEFAULT_TRADING_URL,
          keyId: key,
          secret,
        };
      } else {
        blocked = NO_CREDENTIALS_REASON;
      }
    }
    const client = new StreamClient({
      ...this.#options.client,
      url,
      codec: source.codec,
      logger: this.#host.logger,
      ...(key !== undefined ? { key } : {}),
      ...(secret !== undefined ? { secret } : {}),
    });
    return { source, client, blocked, rest, restTarget };
  }

  /** A REST client, and its target for the CLI, for a server that answers both APIs at `base`. */
  #restAt(
    base: string,
    keyId: string,
    secret: string,
  ): { rest: AlpacaRest; restTarget: RestTarget } {
    const rest = new AlpacaRest({
      logger: this.#host.logger,
      ...this.#options.rest,
      dataUrl: base,
      tradingUrl: base,
      keyId,
      secret,
    });
    return { rest, restTarget: { dataUrl: base, tradingUrl: base, keyId, secret } };
  }

  /** Throws away a prepared client that will not be installed. */
  discard(prepared: PreparedSource): void {
    prepared.client.dispose();
    prepared.rest?.close();
  }

  /**
   * Replaces the client (synchronous, so no event of the old one can interleave): disposes the
   * old one, clears the book (every view's next frame is full), subscribes the watchlists on the
   * new one, connects if wanted.
   */
  install(prepared: PreparedSource): void {
    const { source, client, blocked } = prepared;
    const book = this.#host.book;
    const hadClient = this.#detach.length > 0;
    // Not awaited: #connectWhenFree waits on the same chain.
    void this.#teardownClient('replaced by a new client (source or keys changed)');
    if (hadClient) book.clear();
    this.#client = client;
    this.#source = source;
    this.#blocked = blocked;
    this.#restTarget = prepared.restTarget;
    this.#streamed = new Set();
    this.#conn = { previous: 'idle', since: Date.now(), retryAt: undefined, stale: false };

    this.#detach.push(
      client.on('state', (change) => {
        this.#conn.previous = change.previous;
        this.#conn.since = change.at;
        this.#conn.retryAt = change.retryAt;
        this.#host.connectionChanged();
      }),
      client.on('stale', (stale) => {
        this.#conn.stale = stale;
        this.#host.connectionChanged();
      }),
      client.on('subscription', () => this.#host.subscriptionsChanged()),
      client.subscriptions.onChange((change) => {
        if (change !== 'in-flight') this.#host.subscriptionsChanged();
      }),
      client.handlers.onChange(() => this.#host.handlersChanged()),
      book.attach(client.handlers),
    );
    if (this.#host.attachHandlers) this.#detach.push(this.#host.attachHandlers(client.handlers));
    const cacheDir = this.#options.cacheDir;
    const directory = (this.#directories[source.kind] ??= new SymbolDirectory({
      logger: this.#host.logger.child({ module: 'directory' }),
    }));
    const market = new MarketContext({
      rest: prepared.rest,
      ...(cacheDir !== undefined
        ? {
            directory: {
              directory,
              cacheDir: source.kind === 'alpaca' ? cacheDir : join(cacheDir, source.kind),
            },
          }
        : {}),
      unavailableReason: blocked ?? 'no REST access',
      book,
      client,
      feed: source.kind === 'simulator' ? 'iex' : source.feed,
      logger: this.#host.logger,
      ...(this.#options.market?.pollIntervalMs !== undefined
        ? { pollIntervalMs: this.#options.market.pollIntervalMs }
        : {}),
      onChange: () => this.#host.marketChanged(),
      onSeries: () => this.#host.seriesChanged(),
    });
    this.#detach.push(() => {
      market.close();
      prepared.rest?.close();
    });
    // The alert rules (the wide-spread alert among them) outlive clients: the core's engine.
    this.#detach.push(this.#host.attachAlerts(client.handlers));
    this.syncSubscriptions();
    this.#market = market;
    market.start(this.#streamed);

    if (blocked) {
      this.#host.setNotice(
        'no-credentials',
        'warning',
        source.kind === 'relay'
          ? 'No relay key: add the key and secret the relay gave you in Settings, or switch the source.'
          : 'No Alpaca API keys: add them in Settings, or switch the source to the simulator.',
      );
    } else {
      this.#host.dropNotice('no-credentials');
    }
    this.#log.info(
      { source: source.kind, codec: source.codec, url: client.url, blocked },
      'stream client ready',
    );
    for (const listener of [...this.#installed]) {
      try {
        listener(client, source);
      } catch (err) {
        this.#log.error({ err }, 'a listener of the new client failed');
      }
    }
    this.#host.connectionChanged();
    this.#host.subscriptionsChanged();
    this.#host.handlersChanged();
    if (this.#wantConnected && !blocked) this.#connectWhenFree(client);
  }

  /**
   * Makes the client's desired set equal the watchlists: only the difference is sent. The order
   * (the active list first) becomes the planner's priority: over the plan's symbol limit the
   * first symbols are streamed on every channel and the rest polled. A new order alone sends
   * nothing; it decides what is subscribed next (after a drop, on 'subscriptions:retry-refused').
   */
  syncSubscriptions(): void {
    const client = this.#client;
    if (!client) return;
    const next = this.#wantedSymbols();
    client.subscriptions.setPriority([...next]);
    const added: string[] = [];
    const removed: string[] = [];
    for (const s of next) if (!this.#streamed.has(s)) added.push(s);
    for (const s of this.#streamed) if (!next.has(s)) removed.push(s);
    const channels = streamChannels(this.#source);
    if (added.length > 0) {
      for (const channel of channels) client.subscribe(channel, added);
    }
    if (removed.length > 0) {
      for (const channel of channels) client.unsubscribe(channel, removed);
    }
    this.#streamed = next;
    this.#host.book.retain(next);
    this.#host.streamedChanged(next);
    this.#market?.setSymbols(next);
  }

  /** Closes the simulator when `current` (the source in the settings) does not use it. */
  async releaseSimulator(current: Source): Promise<void> {
    if (current.kind === 'simulator') return;
    const sim = this.#sim;
    if (!sim) return;
    this.#sim = undefined;
    try {
      await sim.close();
      this.#log.info('embedded simulator stopped');
    } catch (err) {
      this.#log.error({ err }, 'closing the simulator failed');
    }
  }

  /** `source` is the one in the settings (what the user chose, shown even before it is installed). */
  connectionView(source: Source, scrub: (text: string) => string): ConnectionView {
    const client = this.client;
    const blocked = this.#blocked !== undefined && client.state === 'idle';
    return connectionView(
      {
        state: client.state,
        previous: this.#conn.previous,
        reason: blocked ? this.#blocked : client.reason,
        since: this.#conn.since,
        attempt: client.attempt,
        retryAt: this.#conn.retryAt,
        lastError: client.lastError,
        source,
        url: client.url,
        stale: this.#conn.stale,
      },
      scrub,
    );
  }

  /**
   * Disconnects and disposes the client and closes the simulator. The socket's close handshake is
   * awaited (bounded: 2 s, then terminate) so that quitting never leaves Alpaca's one connection
   * slot held by a half-closed socket.
   */
  async close(reason: string): Promise<void> {
    const market = this.#market;
    const clientClosed = this.#teardownClient(reason);
    const sim = this.#sim;
    this.#sim = undefined;
    if (sim) {
      await sim.close().catch((err: unknown) => {
        this.#log.error({ err }, 'closing the simulator failed');
      });
    }
    await Promise.all([clientClosed, market?.settled()]);
  }

  #alpacaUrl(feed: Feed): string {
    return this.#options.alpacaUrl?.(feed) ?? `${ALPACA_STREAM_HOST}${FEED_PATHS[feed]}`;
  }

  async #ensureSimulator(): Promise<Simulator> {
    if (this.#sim) return this.#sim;
    const options = this.#options.simulator ?? {};
    const sim = await startSimulator({
      // Its one client (ours) sends subscribes chunked under 16 KiB: anything much larger is
      // someone else's, refused from the frame header before a byte of it is buffered.
      maxPayload: EMBEDDED_MAX_PAYLOAD,
      // Compression on loopback saves nothing and costs a zlib context per connection, which a
      // process reconnecting in a loop would churn.
      perMessageDeflate: false,
      ...options,
      // Any local process can find the loopback port: only this run's random pair gets in.
      key: this.#simKeys.key,
      secret: this.#simKeys.secret,
      host: '127.0.0.1',
      port: options.port ?? 0,
      logger: options.logger ?? this.#host.logger,
    });
    if (this.#host.isClosed()) {
      await sim.close();
      throw new Error('MonitorCore closed while the simulator was starting');
    }
    this.#sim = sim;
    this.#log.info({ url: sim.url }, 'embedded simulator started');
    return sim;
  }

  /** Connects `client` once no older socket is open or closing, if it is still wanted then. */
  #connectWhenFree(client: StreamClient): void {
    const go = (): void => {
      if (
        this.#client === client &&
        this.#wantConnected &&
        this.#blocked === undefined &&
        !this.#host.isClosed()
      )
        client.connect();
    };
    // Synchronously when nothing is closing, so the command's answer already shows `connecting`.
    if (this.#closingClients === 0) go();
    else void this.#socketsFree.then(go);
  }

  #teardownClient(reason: string): Promise<void> {
    this.#market = undefined;
    for (const off of this.#detach.splice(0)) {
      try {
        off();
      } catch (err) {
        this.#log.error({ err }, 'detaching from the old client failed');
      }
    }
    const client = this.#client;
    if (!client) return Promise.resolve();
    client.disconnect(reason);
    client.dispose();
    const previous = this.#socketsFree;
    this.#closingClients++;
    const closed = client.closed().finally(() => this.#closingClients--);
    this.#socketsFree = Promise.all([previous, closed]).then(() => undefined);
    return this.#socketsFree;
  }

  /** The symbols the current source can stream, from every watchlist, the active list first. */
  #wantedSymbols(): Set<string> {
    const source = this.#source;
    const crypto = source !== undefined && isCryptoSource(source);
    // The first MAX_TOTAL_SYMBOLS in list order: addSymbols refuses more, but a file edited by
    // hand can hold more, and those must be named, not dropped silently.
    const { symbols, beyond } = subscribableSymbols(
      this.#host.watchlists(),
      (symbol) => symbol.includes('/') === crypto,
      MAX_TOTAL_SYMBOLS,
      this.#host.activeWatchlist(),
    );
    if (beyond > 0) {
      this.#host.setNotice(
        'symbol-limit',
        'warning',
        `Your watchlists hold ${beyond} more symbols than the limit of ${MAX_TOTAL_SYMBOLS}; those are not streamed. Remove some to see them.`,
      );
    } else {
      this.#host.dropNotice('symbol-limit');
    }
    return symbols;
  }
}
