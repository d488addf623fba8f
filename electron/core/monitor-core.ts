/**
 * MonitorCore: the main-process hub every view attaches to. Electron windows (over IPC) and
 * browser tabs (over the local WebSocket bridge) each open a ViewSession on ONE core, which owns:
 * - the stream source (stream-source.ts): the one StreamClient (Alpaca allows one connection per
 *   account and endpoint), built from `settings.source`, and the embedded simulator;
 * - the conflation book (electron/stream/book.ts), with one cursor per view: views pull frames;
 * - settings and watchlists (JSON files in the user-data folder) and the credential store;
 * - the alert rules (alerts.json, electron/alerts/): one engine for the core's life, whose rules
 *   are registered as handlers on every new client; a firing goes to every view
 *   ('alerts:fired'), to the alerts log and to the Notifier (desktop notifications in the app);
 * - the relay key of a Relay source and the relay this app can serve (relay-commands.ts);
 * - the events every view receives (connection, metrics, handlers, log, subscriptions, ...).
 *
 * Rules it keeps:
 * - Secrets never reach a view. Credentials go from the SecretStore (or the environment) into the
 *   client's options and nowhere else; every credential the core learns is given to a Redactor
 *   first, and every log entry, error text and URL a view receives passes through it (views.ts).
 * - Nothing a view does can break the core or another view: payloads are validated (zod, in
 *   shared/api.ts), a throwing command becomes `internal` (logged with its stack), a throwing sink
 *   is logged (rate-limited) and skipped.
 * - Commands that change state run one at a time (a small promise queue), so two edits can never
 *   both start from the same watchlists and one of them be lost across a save.
 * - With no views attached, no timer runs (but the no-trade alerts' check, while such a rule is
 *   active: alerts fire with every window closed); after close(), no timer, socket or server is
 *   left.
 *
 * Logging: a pino logger's destination is fixed at creation, so the core cannot tee a logger it
 * is handed. Pass `logger` together with the `logRing` it writes into (createCoreLogger in
 * logging.ts makes the pair); without a logger the core makes its own pair (ring only, 'info').
 * A logger without its ring works, but the log panel then shows nothing.
 *
 * The stream client's life (building, connecting, replacing, the simulator, the one-socket rule,
 * subscription sync) is the StreamSource's (stream-source.ts). The core tells it whether the user
 * wants a connection: `settings.autoConnect` at start, then the last `connection:connect` /
 * `connection:disconnect`; `connection:connect` answers `conflict` while an Alpaca source has no
 * keys.
 *
 * No electron import.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  DEFAULT_SETTINGS,
  DEFAULT_WATCHLISTS,
  fail,
  isCommandName,
  ok,
  parseCommand,
  settingsSchema,
  watchlistsFileSchema,
  type AlertFired,
  type AlertRuleView,
  type CommandArgs,
  type CommandName,
  type ConnectionView,
  type CredentialStatus,
  type DiagnosticsBundle,
  type EventMap,
  type EventName,
  type HandlerView,
  type LogEntry,
  type MarketView,
  type Notice,
  type RestMetricsView,
  type Result,
  type Settings,
  type Snapshot,
  type SubscriptionsView,
  type UpdateStatus,
  type WatchlistsFile,
} from '../../shared/api.ts';
import type { QuoteFrame } from '../../shared/frame.ts';
import type { Feed } from '../../shared/market.ts';
import type { SimulatorOptions } from '../simulator/index.ts';
import { capYoungGeneration } from './young-generation.ts';
import { Tape } from '../market/tape.ts';
import { TradingStatusBoard } from '../market/trading-status.ts';
import { QuoteBook, type BookCursor } from '../stream/book.ts';
import type { StreamClientOptions } from '../stream/client.ts';
import type { LogRecord, LogRing, Logger } from '../stream/log.ts';
import { JsonFileStore } from './json-store.ts';
import { createCoreLogger } from './logging.ts';
import { AlertEngine, type Notifier } from '../alerts/engine.ts';
import { RuleBook } from '../alerts/rule-book.ts';
import { alertsFileStore } from '../alerts/store.ts';
import { errorMessage } from '../../shared/errors.ts';
import type { CommandFn, CommandTable as CommandTableOf } from './commands.ts';
import { MarketCommands } from './market-commands.ts';
import { MemorySecretStore } from './memory-secrets.ts';
import { RelayCommands, type RelayCommandsHost, type RelaySecretStores } from './relay-commands.ts';
import { applySimulatorControl } from './simulator-commands.ts';
import { watchlistCommands } from './watchlist-commands.ts';
import { StreamSource, type PreparedSource, type StreamSourceOptions } from './stream-source.ts';
import type {
  ConsentEffect,
  SecretStore,
  StoredCredentials,
  UpdatesPort,
  ViewSession,
  ViewSink,
} from './types.ts';
import { handlerView, logEntry, metricsEvent, Redactor, subscriptionsView } from './views.ts';
import { MAX_TOTAL_SYMBOLS } from './watchlists.ts';

export interface MonitorCoreOptions {
  /** settings.json and watchlists.json live here. */
  readonly userDataDir: string;
  readonly secrets: SecretStore;
  readonly app: {
    readonly name: string;
    readonly version: string;
    readonly platform: string;
    readonly runtime: string;
  };
  /** The root logger; see the module comment for why it comes with its ring. */
  readonly logger?: Logger;
  /**
   * The ring `logger` writes into: the log panel's source. Without a logger, the core's own
   * logger writes into this ring (or a new one).
   */
  readonly logRing?: LogRing;
  /** The embedded simulator's options (tests: rate, symbols, barIntervalMs). Host is always loopback. */
  readonly simulator?: Partial<SimulatorOptions>;
  /** Default ALPACA_STREAM_HOST + FEED_PATHS[feed]; tests point it at a local server. */
  readonly alpacaUrl?: (feed: Feed) => string;
  /** Extra client options (tests: backoff, random); url, codec, keys and logger are the core's. */
  readonly client?: Partial<StreamClientOptions>;
  /** REST options (tests: a local server as Alpaca's hosts, retries). */
  readonly rest?: StreamSourceOptions['rest'];
  /** Market context options (tests: the poll period). */
  readonly market?: StreamSourceOptions['market'];
  /** Credentials from the environment, used when the store has none. */
  readonly env?: { readonly keyId?: string; readonly secret?: string };
  /** 'metrics:update' period while any view is attached. Default 250. */
  readonly metricsIntervalMs?: number;
  /** How often 'handlers:update' is sent while handler counts change. Default 1000. */
  readonly handlersIntervalMs?: number;
  /**
   * The wide-spread alert's threshold (% of mid) when alerts.json does not exist yet, and the
   * quiet time of every alert rule (a fired rule re-arms no sooner; default 60 s).
   */
  readonly spreadAlert?: { readonly thresholdPct?: number; readonly intervalMs?: number };
  /** Desktop notifications of fired alerts (Electron's in the app; none in browser mode). */
  readonly notifier?: Notifier;
  /** The no-trade alerts' check period (tests). Default 1000. */
  readonly alertCheckIntervalMs?: number;
  /**
   * V8's young generation of this process is held at this many bytes (see young-generation.ts;
   * default 16 MiB); false leaves V8's own growth alone.
   */
  readonly maxNewSpaceBytes?: number | false;
  /**
   * The desktop app's self-update (electron/updater.ts). Without it (browser mode) the update
   * commands answer that updates are a desktop feature.
   */
  readonly updates?: UpdatesPort;
  /**
   * The relay key slots (relay-commands.ts): the key a Relay source connects with, and the served
   * relay's client key. Default: memory (browser mode, tests).
   */
  readonly relaySecrets?: RelaySecretStores;
  /** The served relay's timeouts (tests). */
  readonly relay?: RelayCommandsHost['relayOptions'];
}

/** What the update commands say without an updater: browser mode. */
export const UPDATES_DESKTOP_ONLY =
  'Updates are a desktop feature: this browser tab runs the version its `market-monitor web` server was started from.';

export { NO_CREDENTIALS_REASON, STREAM_CHANNELS } from './stream-source.ts';

/** The notice saying what a change of consent to obfuscated key storage did to the keys. */
const CONSENT_NOTICE = 'credentials-consent';

const READ_ONLY: ReadonlySet<CommandName> = new Set<CommandName>([
  'settings:get',
  'credentials:status',
  'watchlists:list',
  'handlers:list',
  'diagnostics:snapshot',
  'diagnostics:export',
  'log:recent',
  'alerts:list',
  'alerts:log',
  // A chart's bars can take seconds over REST; they change nothing, so they wait for no edit.
  'market:bars',
  // Only the calling view's cursor: a scroll must not queue behind a slow settings save.
  'frames:focus',
  'frames:resync',
  // The updater's own state, not the core's: a check that waits on the network must not hold
  // up (or wait behind) the commands that change settings and watchlists.
  'update:status',
  'update:check',
  'update:restart',
]);

/** Trading status events (halts, LULD bands) reach the views at most this often. */
const TRADING_STATUS_EVENT_MS = 250;
/** A sink that keeps throwing is logged at most once per this many ms. */
const SINK_ERROR_LOG_MS = 5_000;
/** A diagnostics bundle is reused this long (see #recentBundle). */
const BUNDLE_REUSE_MS = 1_000;
/** Log entries a diagnostics bundle carries. */
const BUNDLE_LOG_ENTRIES = 500;
const DEFAULT_LOG_RECENT = 200;

/** One attached view. */
interface View {
  readonly id: string;
  readonly sink: ViewSink;
  readonly cursor: BookCursor;
  pending:
    | { resolve: (frame: QuoteFrame) => void; reject: (err: Error) => void; off: () => void }
    | undefined;
  closed: boolean;
  lastSinkErrorAt: number;
  suppressedSinkErrors: number;
}

type CommandTable = CommandTableOf<View>;

function sameSource(a: Settings['source'], b: Settings['source']): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A promise whose rejection is reported to whoever awaits it, and never as unhandled. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

export class MonitorCore {
  readonly #options: MonitorCoreOptions;
  readonly #releaseYoungGeneration: (() => void) | undefined;
  readonly #root: Logger;
  readonly #log: Logger;
  readonly #ring: LogRing | undefined;
  readonly #redactor = new Redactor();
  readonly #secrets: SecretStore;
  readonly #settingsStore: JsonFileStore<Settings>;
  readonly #watchlistsStore: JsonFileStore<WatchlistsFile>;
  readonly #alerts: AlertEngine;
  readonly #rules: RuleBook;
  readonly #book: QuoteBook;
  /** Times & Sales of the symbols the views' detail panes watch (market/tape.ts). */
  readonly #tape: Tape;
  /** Halts and LULD bands of the streamed symbols (market/trading-status.ts). */
  readonly #statuses: TradingStatusBoard;
  /** Market, directory, chart and tape commands (market-commands.ts). */
  readonly #market: MarketCommands;
  /** The relay key and the relay this app serves (relay-commands.ts). */
  readonly #relay: RelayCommands;
  readonly #commands: CommandTable;

  #settings: Settings = DEFAULT_SETTINGS;
  #watchlists: WatchlistsFile = DEFAULT_WATCHLISTS;
  #credentialStatus: CredentialStatus = {
    stored: false,
    storage: 'none',
    backend: 'unknown',
    secure: false,
    detail: 'Not read yet.',
  };
  #notices: Notice[] = [];

  readonly #source: StreamSource;

  #bundleCache: { readonly at: number; readonly bundle: DiagnosticsBundle } | undefined;
  /** The history version the last 'market:series' event brought views to. */
  #seriesVersion = 0;
  readonly #views = new Map<string, View>();
  #viewSeq = 0;
  #entries: LogEntry[] = [];
  #logSeq = 0;
  #logBacklog: LogRecord[] = [];
  #deliveringLog = false;
  #unsubscribeRing: (() => void) | undefined;
  #unsubscribeUpdates: (() => void) | undefined;

  #metricsTimer: NodeJS.Timeout | undefined;
  #handlersTimer: NodeJS.Timeout | undefined;
  #handlersSignature = '';
  /** Deferred steps by key (#later), each with its cancel. */
  readonly #soon = new Map<string, () => void>();
  /** When each paced step last ran (performance.now), for #later's minimum interval. */
  readonly #ranAt = new Map<string, number>();

  #lock: Promise<unknown> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(options: MonitorCoreOptions) {
    this.#options = options;
    if (options.logger) {
      this.#root = options.logger;
      this.#ring = options.logRing;
    } else {
      const made = createCoreLogger({
        level: 'info',
        ...(options.logRing ? { ring: options.logRing } : {}),
      });
      this.#root = made.logger;
      this.#ring = made.ring;
    }
    this.#log = this.#root.child({ module: 'core' });
    this.#secrets = options.secrets;
    this.#settingsStore = new JsonFileStore<Settings>({
      path: join(options.userDataDir, 'settings.json'),
      schema: settingsSchema,
      defaults: () => structuredClone(DEFAULT_SETTINGS),
      logger: this.#root,
      label: 'settings',
    });
    this.#watchlistsStore = new JsonFileStore<WatchlistsFile>({
      path: join(options.userDataDir, 'watchlists.json'),
      schema: watchlistsFileSchema,
      defaults: () => structuredClone(DEFAULT_WATCHLISTS),
      logger: this.#root,
      label: 'watchlists',
    });
    // The book holds as many rows as may be subscribed, so the two limits cannot drift apart.
    this.#book = new QuoteBook({
      logger: this.#root.child({ module: 'book' }),
      maxSymbols: MAX_TOTAL_SYMBOLS,
    });
    this.#tape = new Tape({
      logger: this.#root.child({ module: 'tape' }),
      send: (viewId, update) => {
        const view = this.#views.get(viewId);
        if (view) this.#deliver(view, 'tape:trades', update);
      },
    });
    this.#statuses = new TradingStatusBoard({
      logger: this.#root.child({ module: 'trading-status' }),
      maxSymbols: MAX_TOTAL_SYMBOLS,
      // LULD bands follow the price (hundreds of changes a second under a full feed): a view
      // needs a halt promptly, not every band step, so its events are paced while views listen.
      // Alerts run in main on every message.
      onChange: () =>
        this.#later('trading-status', () => this.#emitTradingStatus(), {
          minIntervalMs: this.#views.size === 0 ? 0 : TRADING_STATUS_EVENT_MS,
        }),
    });
    this.#source = new StreamSource(
      {
        ...(options.simulator ? { simulator: options.simulator } : {}),
        ...(options.alpacaUrl ? { alpacaUrl: options.alpacaUrl } : {}),
        ...(options.client ? { client: options.client } : {}),
        ...(options.rest ? { rest: options.rest } : {}),
        ...(options.market ? { market: options.market } : {}),
        cacheDir: options.userDataDir,
      },
      {
        logger: this.#root,
        book: this.#book,
        credentials: () => this.#credentials(),
        relayCredentials: () => this.#relay.credentials(),
        watchlists: () => this.#watchlists,
        activeWatchlist: () => this.#settings.activeWatchlist,
        setNotice: (id, level, message) => this.#setNotice(id, level, message),
        dropNotice: (id) => void this.#dropNotice(id),
        connectionChanged: () => this.#emit('connection:state', this.#connectionView()),
        subscriptionsChanged: () => this.#later('subscriptions', () => this.#onSubscriptions()),
        handlersChanged: () => this.#later('handlers', () => this.#emitHandlers()),
        seriesChanged: () => this.#later('series', () => this.#emitSeries()),
        marketChanged: () =>
          this.#later('market', () => this.#emit('market:update', this.#marketView())),
        isClosed: () => this.#closed,
        attachAlerts: (handlers) => this.#alerts.attach(handlers),
        streamedChanged: (symbols) => {
          this.#alerts.retain(symbols);
          this.#statuses.retain(symbols);
        },
        attachHandlers: (handlers) => {
          const offTape = this.#tape.attach(handlers);
          const offStatuses = this.#statuses.attach(handlers);
          return () => {
            offTape();
            offStatuses();
          };
        },
      },
    );
    this.#relay = new RelayCommands({
      logger: this.#root,
      source: this.#source,
      secrets: options.relaySecrets ?? {
        client: new MemorySecretStore(),
        server: new MemorySecretStore(),
      },
      settings: () => this.#settings,
      saveSettings: (next) => this.#saveSettings(next),
      learn: (...values) => this.#redactor.add(...values),
      scrub: (text) => this.#redactor.scrub(text),
      changed: (view) => this.#emit('relay:update', view),
      setNotice: (id, level, message) => this.#setNotice(id, level, message),
      dropNotice: (id) => void this.#dropNotice(id),
      closed: () => this.#closed,
      ...(options.relay ? { relayOptions: options.relay } : {}),
    });
    this.#market = new MarketCommands({
      source: this.#source,
      tape: this.#tape,
      statuses: this.#statuses,
      closed: () => this.#closed,
      scrub: (text) => this.#redactor.scrub(text),
      log: this.#log,
    });
    this.#alerts = new AlertEngine({
      logger: this.#root,
      figure: (symbol, column) => this.#book.value(symbol, column),
      session: () => this.#source.market?.view().session ?? 'unknown',
      live: () => this.#source.hasClient && this.#source.client.state === 'live',
      halt: (symbol) => this.#statuses.haltOf(symbol),
      ...(options.spreadAlert?.intervalMs !== undefined
        ? { quietMs: options.spreadAlert.intervalMs }
        : {}),
      ...(options.alertCheckIntervalMs !== undefined
        ? { checkIntervalMs: options.alertCheckIntervalMs }
        : {}),
      onFired: (fired) => this.#onAlertFired(fired),
      onChange: () => this.#later('alerts', () => this.#emit('alerts:update', this.#alertViews())),
    });
    this.#rules = new RuleBook({
      store: alertsFileStore(options.userDataDir, this.#root),
      engine: this.#alerts,
      ...(options.spreadAlert?.thresholdPct !== undefined
        ? { spreadThresholdPct: options.spreadAlert.thresholdPct }
        : {}),
      isClosed: () => this.#closed,
    });
    this.#commands = this.#commandTable();
    if (options.maxNewSpaceBytes !== false) {
      this.#releaseYoungGeneration = capYoungGeneration(
        options.maxNewSpaceBytes === undefined
          ? {}
          : { maxNewSpaceBytes: options.maxNewSpaceBytes },
      );
    }
  }

  /** Loads settings and watchlists, reads the keys, builds the client, connects if autoConnect. */
  static async create(options: MonitorCoreOptions): Promise<MonitorCore> {
    const core = new MonitorCore(options);
    try {
      await core.#init();
    } catch (err) {
      await core.close().catch(() => undefined);
      throw err;
    }
    return core;
  }

  /** Attaches a view: it receives every event from now on and pulls frames with its own cursor. */
  openView(sink: ViewSink): ViewSession {
    if (this.#closed) throw new Error('MonitorCore is closed');
    const view: View = {
      id: `v${++this.#viewSeq}`,
      sink,
      cursor: this.#book.cursor(),
      pending: undefined,
      closed: false,
      lastSinkErrorAt: Number.NEGATIVE_INFINITY,
      suppressedSinkErrors: 0,
    };
    this.#views.set(view.id, view);
    if (this.#views.size === 1) this.#startTimers();
    this.#log.debug({ view: view.id, views: this.#views.size }, 'view attached');
    return {
      id: view.id,
      invoke: (command, payload) => this.#invoke(view, command, payload),
      nextFrame: () => this.#nextFrame(view),
      close: () => this.#closeView(view),
    };
  }

  get viewCount(): number {
    return this.#views.size;
  }

  /** What the core holds right now: for leak checks in tests and for diagnostics. */
  resources(): {
    readonly views: number;
    readonly cursors: number;
    readonly timers: number;
    readonly simulator: boolean;
    readonly socket: boolean;
    readonly handlers: number;
  } {
    const client = this.#source.hasClient ? this.#source.client : undefined;
    return {
      views: this.#views.size,
      cursors: this.#book.cursors,
      timers:
        (this.#metricsTimer ? 1 : 0) +
        (this.#handlersTimer ? 1 : 0) +
        (this.#alerts.timerRunning ? 1 : 0) +
        (this.#tape.timerActive ? 1 : 0) +
        this.#soon.size,
      simulator: this.#source.simulator !== undefined,
      socket: client?.hasSocket ?? false,
      handlers: client?.handlers.size ?? 0,
    };
  }

  /** Idempotent: releases views, disconnects and disposes the client, closes the simulator, flushes stores. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  // ---------------------------------------------------------------- start and stop

  async #init(): Promise<void> {
    if (this.#ring) {
      for (const record of this.#ring.records()) this.#pushEntry(record);
      this.#unsubscribeRing = this.#ring.subscribe((record) => this.#onLogRecord(record));
    } else {
      this.#log.warn('no log ring was given with the logger: the log panel stays empty');
    }
    const env = this.#options.env;
    this.#redactor.add(env?.keyId, env?.secret);
    this.#unsubscribeUpdates = this.#options.updates?.onStatus((status) =>
      this.#emit('update:status', status),
    );

    const [settings, watchlists, alertsProblem] = await Promise.all([
      this.#settingsStore.load(),
      this.#watchlistsStore.load(),
      // Before the client: install() attaches the active rules to it.
      this.#rules.load(),
    ]);
    this.#settings = settings.value;
    this.#watchlists = watchlists.value;
    if (settings.problem) this.#setNotice('settings-file', 'warning', settings.problem.message);
    if (watchlists.problem)
      this.#setNotice('watchlists-file', 'warning', watchlists.problem.message);
    if (alertsProblem) this.#setNotice('alerts-file', 'warning', alertsProblem);

    // Before anything reads the keys: an obfuscated file the settings no longer allow is not used.
    await this.#applyConsent(this.#settings.allowInsecureCredentialStorage);
    await this.#refreshCredentialStatus();
    this.#source.wantConnected = this.#settings.autoConnect;
    const source = this.#settings.source;
    this.#source.install(await this.#source.prepare(source));
    // After the client: a served relay fans it out.
    await this.#relay.start();
    this.#log.info(
      {
        source: source.kind,
        codec: source.codec,
        symbols: this.#source.streamed.size,
        autoConnect: this.#settings.autoConnect,
      },
      'monitor core started',
    );
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    this.#releaseYoungGeneration?.();
    for (const view of [...this.#views.values()]) this.#closeView(view);
    this.#tape.close();
    this.#statuses.close();
    this.#stopTimers();
    for (const cancel of this.#soon.values()) cancel();
    this.#soon.clear();
    // Let a command that is already running finish its awaits; it sees #closed and changes nothing.
    await this.#lock.catch(() => undefined);
    this.#alerts.close();
    // Its clients get close frames before the connection they were served from goes.
    await this.#relay.close();
    await Promise.all([
      this.#source.close('monitor closing'),
      this.#settingsStore.flush(),
      this.#watchlistsStore.flush(),
      this.#rules.flush(),
    ]);
    this.#log.info('monitor core closed');
    this.#unsubscribeRing?.();
    this.#unsubscribeRing = undefined;
    this.#unsubscribeUpdates?.();
    this.#unsubscribeUpdates = undefined;
  }

  // ---------------------------------------------------------------- the source

  /** The stored keys, else the environment's; undefined when there are none. */
  async #credentials(): Promise<StoredCredentials | undefined> {
    let stored: StoredCredentials | undefined;
    try {
      stored = await this.#secrets.get();
    } catch (err) {
      this.#log.error({ err }, 'reading the stored credentials failed');
      this.#setNotice(
        'credentials-unreadable',
        'error',
        `The stored API keys could not be read (${this.#redactor.scrub(errorMessage(err))}). Enter them again in Settings.`,
      );
    }
    if (stored) {
      this.#redactor.add(stored.keyId, stored.secret);
      return stored;
    }
    const env = this.#options.env;
    if (env?.keyId && env.secret) return { keyId: env.keyId, secret: env.secret };
    return undefined;
  }

  #connectionView(): ConnectionView {
    return this.#source.connectionView(this.#settings.source, (text) => this.#redactor.scrub(text));
  }

  #handlerViews(): HandlerView[] {
    return this.#source.client.handlers
      .list()
      .map((s) => handlerView(s, (t) => this.#redactor.scrub(t)));
  }

  // ---------------------------------------------------------------- events

  #emit<E extends EventName>(event: E, payload: EventMap[E]): void {
    for (const view of this.#views.values()) this.#deliver(view, event, payload);
  }

  #deliver<E extends EventName>(view: View, event: E, payload: EventMap[E]): void {
    if (view.closed) return;
    try {
      view.sink.emit(event, payload);
    } catch (err) {
      const now = performance.now();
      if (now - view.lastSinkErrorAt < SINK_ERROR_LOG_MS) {
        view.suppressedSinkErrors++;
        return;
      }
      const suppressed = view.suppressedSinkErrors;
      view.suppressedSinkErrors = 0;
      view.lastSinkErrorAt = now;
      this.#log.error(
        { err, view: view.id, event, suppressed },
        'a view sink threw; the event was skipped for that view',
      );
    }
  }

  /**
   * Runs `fn` once after the current turn however often it is asked for (coalescing bursts), and
   * with `minIntervalMs`, no sooner than that after the key's previous run.
   */
  #later(key: string, fn: () => void, options: { readonly minIntervalMs?: number } = {}): void {
    if (this.#closed || this.#soon.has(key)) return;
    const run = (): void => {
      this.#soon.delete(key);
      if (this.#closed) return;
      this.#ranAt.set(key, performance.now());
      try {
        fn();
      } catch (err) {
        this.#log.error({ err, key }, 'a deferred core step failed');
      }
    };
    const min = options.minIntervalMs ?? 0;
    const wait = min > 0 ? (this.#ranAt.get(key) ?? -Infinity) + min - performance.now() : 0;
    if (wait > 0) {
      const timer = setTimeout(run, wait);
      this.#soon.set(key, () => clearTimeout(timer));
    } else {
      const immediate = setImmediate(run);
      this.#soon.set(key, () => clearImmediate(immediate));
    }
  }

  /**
   * After the planner or the server changed the subscription sets: drop book rows that messages
   * in flight when a symbol was unsubscribed brought back, and tell the views.
   */
  #onSubscriptions(): void {
    this.#book.retain(this.#source.streamed);
    if (this.#views.size === 0) return;
    this.#emit('subscriptions:update', this.#subscriptionsView());
  }

  /** From the planner directly: client.snapshot() would also build metrics and health. */
  #subscriptionsView(): SubscriptionsView {
    const subs = this.#source.client.subscriptions;
    return subscriptionsView({
      desired: subs.desired(),
      confirmed: subs.confirmed(),
      refused: subs.refused(),
    });
  }

  #emitHandlers(): void {
    if (this.#views.size === 0) return;
    const list = this.#handlerViews();
    this.#handlersSignature = signature(list);
    this.#emit('handlers:update', list);
  }

  #emitMetrics(): void {
    const client = this.#source.client;
    this.#emit(
      'metrics:update',
      metricsEvent(client.metrics.snapshot(), client.health(), this.#source.market?.note()),
    );
  }

  #startTimers(): void {
    const metricsMs = this.#options.metricsIntervalMs ?? 250;
    const handlersMs = this.#options.handlersIntervalMs ?? 1_000;
    this.#metricsTimer = setInterval(() => {
      try {
        this.#emitMetrics();
      } catch (err) {
        this.#log.error({ err }, 'building the metrics event failed');
      }
    }, metricsMs);
    this.#handlersTimer = setInterval(() => {
      try {
        const list = this.#handlerViews();
        const sig = signature(list);
        if (sig === this.#handlersSignature) return;
        this.#handlersSignature = sig;
        this.#emit('handlers:update', list);
      } catch (err) {
        this.#log.error({ err }, 'building the handlers event failed');
      }
    }, handlersMs);
  }

  #stopTimers(): void {
    if (this.#metricsTimer) clearInterval(this.#metricsTimer);
    if (this.#handlersTimer) clearInterval(this.#handlersTimer);
    this.#metricsTimer = undefined;
    this.#handlersTimer = undefined;
    const pacedStatus = this.#soon.get('trading-status');
    if (pacedStatus !== undefined) {
      pacedStatus();
      this.#soon.delete('trading-status');
      // What it held is drained now (no view hears of it; a new view reads the whole set).
      this.#statuses.takeUpdate();
    }
  }

  // ---------------------------------------------------------------- log

  #pushEntry(record: LogRecord): LogEntry {
    const entry = logEntry(record, ++this.#logSeq, this.#redactor);
    this.#entries.push(entry);
    const capacity = this.#ring?.capacity ?? 1_000;
    if (this.#entries.length > capacity) this.#entries.splice(0, this.#entries.length - capacity);
    return entry;
  }

  /**
   * Each record becomes one 'log:entry'. A record logged while entries are being delivered (a
   * sink threw and that was logged) waits for the current delivery to finish, so delivery never
   * nests; the sink-error rate limit keeps a sink that always throws from looping.
   */
  #onLogRecord(record: LogRecord): void {
    this.#logBacklog.push(record);
    if (this.#deliveringLog) return;
    this.#deliveringLog = true;
    try {
      for (let next = this.#logBacklog.shift(); next; next = this.#logBacklog.shift()) {
        const entry = this.#pushEntry(next);
        if (this.#views.size > 0) this.#emit('log:entry', entry);
      }
    } finally {
      this.#deliveringLog = false;
    }
  }

  #recentLog(limit: number): LogEntry[] {
    return this.#entries.slice(-limit);
  }

  // ---------------------------------------------------------------- notices and credentials

  #setNotice(id: string, level: Notice['level'], message: string): void {
    const existing = this.#notices.find((n) => n.id === id);
    if (existing && existing.level === level && existing.message === message) return;
    const notice: Notice = { id, level, message, at: Date.now() };
    this.#notices = [...this.#notices.filter((n) => n.id !== id), notice];
    this.#emit('notices:update', this.#notices);
  }

  #dropNotice(id: string): boolean {
    const before = this.#notices.length;
    this.#notices = this.#notices.filter((n) => n.id !== id);
    if (this.#notices.length === before) return false;
    this.#emit('notices:update', this.#notices);
    return true;
  }

  /** The store's status, saying so when the keys in use come from the environment instead. */
  #augment(status: CredentialStatus): CredentialStatus {
    const env = this.#options.env;
    if (status.stored || !env?.keyId || !env.secret) return status;
    return {
      ...status,
      detail:
        'No keys are stored; the keys from the environment (APCA_API_KEY_ID / APCA_API_SECRET_KEY) are in use.',
    };
  }

  #applyCredentialStatus(status: CredentialStatus): CredentialStatus {
    const shown = this.#augment(status);
    this.#credentialStatus = shown;
    if (shown.storage === 'obfuscated') {
      this.#setNotice(
        'insecure-credentials',
        'warning',
        'Your API keys are stored obfuscated, not encrypted: this desktop has no keyring. Anyone who can read your files can recover them.',
      );
    } else {
      this.#dropNotice('insecure-credentials');
    }
    this.#emit('credentials:update', shown);
    return shown;
  }

  /**
   * Tells the store the user's consent to obfuscated storage (at start, and when the setting
   * changes) and tells the user what that did to the keys. Never rejects: a failure becomes an
   * error notice naming what is left on disk.
   */
  async #applyConsent(allowInsecure: boolean): Promise<void> {
    await this.#relay.applyConsent(allowInsecure);
    let effect: ConsentEffect;
    try {
      const change = await this.#secrets.setConsent(allowInsecure);
      effect = change.effect;
      this.#applyCredentialStatus(change.status);
    } catch (err) {
      this.#log.error({ err }, 'applying the consent to obfuscated key storage failed');
      this.#setNotice(
        CONSENT_NOTICE,
        'error',
        `Your API keys could not be moved as the setting asks (${this.#redactor.scrub(errorMessage(err))}).`,
      );
      await this.#refreshCredentialStatus();
      return;
    }
    switch (effect) {
      case 'kept-in-memory':
        this.#setNotice(
          CONSENT_NOTICE,
          'info',
          'Obfuscated storage is off: your API keys were deleted from disk and are kept in memory until the app quits.',
        );
        break;
      case 'deleted':
        this.#setNotice(
          CONSENT_NOTICE,
          'warning',
          'Saved API keys were deleted because obfuscated (not secure) storage is not allowed in settings. Please enter your keys again in Settings.',
        );
        break;
      case 'saved':
        this.#dropNotice(CONSENT_NOTICE);
        break;
      case 'none':
        break;
    }
  }

  async #refreshCredentialStatus(): Promise<CredentialStatus> {
    try {
      return this.#applyCredentialStatus(await this.#secrets.status());
    } catch (err) {
      this.#log.error({ err }, 'reading the credential status failed');
      return this.#credentialStatus;
    }
  }

  // ---------------------------------------------------------------- views and frames

  #nextFrame(view: View): Promise<QuoteFrame> {
    if (view.closed) return handled(Promise.reject(new Error('this view is closed')));
    this.#cancelPending(view, 'superseded: a newer nextFrame() call takes the changes');
    if (view.cursor.dirty) return Promise.resolve(view.cursor.take());
    return handled(
      new Promise<QuoteFrame>((resolve, reject) => {
        const pending: NonNullable<View['pending']> = { resolve, reject, off: () => undefined };
        pending.off = view.cursor.onDirty(() => {
          pending.off();
          // The listener runs inside the book's update, mid-batch: take the frame once the
          // whole socket read has been dispatched, so it carries the batch, not its first row.
          queueMicrotask(() => {
            if (view.pending !== pending) return;
            view.pending = undefined;
            try {
              resolve(view.cursor.take());
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
          });
        });
        view.pending = pending;
      }),
    );
  }

  #cancelPending(view: View, why: string): void {
    const pending = view.pending;
    if (!pending) return;
    view.pending = undefined;
    pending.off();
    pending.reject(new Error(why));
  }

  #closeView(view: View): void {
    if (view.closed) return;
    this.#cancelPending(view, 'this view is closed');
    view.closed = true;
    view.cursor.close();
    this.#tape.release(view.id);
    this.#views.delete(view.id);
    if (this.#views.size === 0) this.#stopTimers();
    this.#log.debug({ view: view.id, views: this.#views.size }, 'view closed');
  }

  // ---------------------------------------------------------------- commands

  async #invoke(view: View, command: string, payload: unknown): Promise<Result<unknown>> {
    if (!isCommandName(command)) {
      return fail(
        'unknown-command',
        `unknown command: ${JSON.stringify(String(command)).slice(0, 80)}`,
      );
    }
    const parsed = parseCommand(command, payload);
    if (!parsed.ok) return parsed;
    if (view.closed || this.#closed) return fail('conflict', 'this view is closed');
    if (READ_ONLY.has(command)) return this.#run(command, parsed.value, view);
    const run = this.#lock.then(() =>
      this.#closed
        ? fail('conflict', 'the monitor is shutting down')
        : this.#run(command, parsed.value, view),
    );
    this.#lock = run.catch(() => undefined);
    return run;
  }

  async #run<C extends CommandName>(
    command: C,
    args: CommandArgs<C>,
    view: View,
  ): Promise<Result<unknown>> {
    try {
      const fn = this.#commands[command] as CommandFn<C, View>;
      return await fn(args, view);
    } catch (err) {
      this.#log.error({ err, command }, 'command failed');
      return fail('internal', `${command} failed unexpectedly; the log has the details.`);
    }
  }

  /** The updater's state; browser mode's says that updates are a desktop feature. */
  #updateStatus(): UpdateStatus {
    return (
      this.#options.updates?.status() ?? {
        state: 'unsupported',
        currentVersion: this.#options.app.version,
        availableVersion: undefined,
        percent: undefined,
        lastCheckedAt: undefined,
        detail: UPDATES_DESKTOP_ONLY,
      }
    );
  }

  #commandTable(): CommandTable {
    return {
      ...this.#market.table(),
      ...watchlistCommands({
        current: () => this.#watchlists,
        save: (file) => this.#watchlistsStore.save(file),
        commit: (file) => {
          // The edit is on disk: it is the answer even when the core began closing meanwhile (it
          // reappears at the next start), only the live side effects are skipped.
          this.#watchlists = file;
          if (this.#closed) return;
          this.#source.syncSubscriptions();
          this.#emit('watchlists:update', file.watchlists);
        },
        unknownSymbol: (symbol) => this.#market.unknownSymbol(symbol),
        newId: () => `wl-${randomUUID().slice(0, 8)}`,
      }),
      ...this.#relay.table(),
      'connection:connect': () => {
        this.#source.connect();
        const blocked = this.#source.blocked;
        if (blocked !== undefined) return fail('conflict', `cannot connect: ${blocked}`);
        return ok(this.#connectionView());
      },
      'connection:disconnect': () => {
        this.#source.disconnect('disconnected by the user');
        return ok(this.#connectionView());
      },
      'source:set': async ({ source }) => {
        if (sameSource(source, this.#settings.source)) return ok(this.#settings);
        let prepared: PreparedSource;
        try {
          prepared = await this.#source.prepare(source);
        } catch (err) {
          await this.#source.releaseSimulator(this.#settings.source);
          throw err;
        }
        const saved = this.#closed
          ? fail<Settings>('conflict', 'the monitor is shutting down')
          : await this.#saveSettings({ ...this.#settings, source });
        if (!saved.ok || this.#closed) {
          this.#source.discard(prepared);
          await this.#source.releaseSimulator(this.#settings.source);
          return saved;
        }
        this.#source.install(prepared);
        await this.#source.releaseSimulator(this.#settings.source);
        return saved;
      },
      'settings:get': () => ok(this.#settings),
      'settings:update': async (patch) => {
        const next: Settings = {
          ...this.#settings,
          ...(patch.theme !== undefined ? { theme: patch.theme } : {}),
          ...(patch.autoConnect !== undefined ? { autoConnect: patch.autoConnect } : {}),
          ...(patch.allowInsecureCredentialStorage !== undefined
            ? { allowInsecureCredentialStorage: patch.allowInsecureCredentialStorage }
            : {}),
        };
        const consentChanged =
          next.allowInsecureCredentialStorage !== this.#settings.allowInsecureCredentialStorage;
        const saved = await this.#saveSettings(next);
        // Only a saved answer counts: the store follows what the next start will read.
        if (saved.ok && consentChanged)
          await this.#applyConsent(next.allowInsecureCredentialStorage);
        return saved;
      },
      'credentials:set': async ({ keyId, secret, memoryOnly }) => {
        // Known to the redactor before anything (the store included) can log them.
        this.#redactor.add(keyId, secret);
        let status: CredentialStatus;
        try {
          // The store already knows the consent (#applyConsent).
          status = await this.#secrets.set({ keyId, secret }, { memoryOnly: memoryOnly ?? false });
        } catch (err) {
          this.#log.warn({ err }, 'storing the credentials failed');
          return fail('storage', this.#redactor.scrub(errorMessage(err)));
        }
        this.#dropNotice('credentials-unreadable');
        this.#dropNotice(CONSENT_NOTICE);
        const shown = this.#applyCredentialStatus(status);
        await this.#reinstallAlpaca();
        return ok(shown);
      },
      'credentials:clear': async () => {
        let status: CredentialStatus;
        try {
          status = await this.#secrets.clear();
        } catch (err) {
          this.#log.warn({ err }, 'clearing the credentials failed');
          return fail('storage', this.#redactor.scrub(errorMessage(err)));
        }
        this.#dropNotice(CONSENT_NOTICE);
        const shown = this.#applyCredentialStatus(status);
        await this.#reinstallAlpaca();
        return ok(shown);
      },
      'credentials:status': async () => ok(await this.#refreshCredentialStatus()),
      'handlers:list': () => ok(this.#handlerViews()),
      'handlers:remove': async ({ id }) => {
        const handlers = this.#source.client.handlers;
        const found = handlers.list().find((h) => h.id === id);
        if (!found) return fail('not-found', `There is no handler with id ${JSON.stringify(id)}.`);
        if (found.builtin)
          return fail('forbidden', `"${found.name}" is built in and cannot be removed.`);
        const rule = this.#alerts.ruleOfHandler(id);
        if (rule !== undefined) {
          // An alert's handler: the rule is paused, not lost (the Alerts panel can resume it),
          // and a new client does not bring the handler back.
          const paused = await this.#rules.pause(rule);
          if (!paused.ok) return paused;
          this.#log.info(
            { handler: { id, name: found.name } },
            'alert paused from the handler inspector',
          );
          return ok(this.#handlerViews());
        }
        handlers.remove(id);
        this.#log.info({ handler: { id, name: found.name } }, 'handler removed by the user');
        return ok(this.#handlerViews());
      },
      'watchlists:set-active': async ({ id }) => {
        if (!this.#watchlists.watchlists.some((w) => w.id === id))
          return fail('not-found', `There is no watchlist with id ${JSON.stringify(id)}.`);
        if (this.#settings.activeWatchlist === id) return ok(this.#settings);
        const saved = await this.#saveSettings({ ...this.#settings, activeWatchlist: id });
        // Only the order changes: the planner's priority, not a single subscription.
        if (saved.ok && !this.#closed) this.#source.syncSubscriptions();
        return saved;
      },
      'frames:focus': ({ symbols }, view) => {
        view.cursor.focus(symbols ?? undefined);
        return ok(symbols === null ? null : symbols.length);
      },
      'frames:resync': (_args, view) => {
        view.cursor.resync();
        return ok(null);
      },
      'subscriptions:retry-refused': () => {
        const retried = this.#source.client.subscriptions.clearRefused();
        this.#log.info({ retried }, 'refused subscriptions retried by the user');
        return ok({ retried });
      },
      'diagnostics:snapshot': (_args, view) => ok(this.#snapshot(view)),
      'diagnostics:export': () => ok(this.#recentBundle()),
      'log:recent': ({ limit }) => ok(this.#recentLog(limit ?? DEFAULT_LOG_RECENT)),
      'notices:dismiss': ({ id }) => {
        if (!this.#notices.some((n) => n.id === id))
          return fail('not-found', `There is no notice with id ${JSON.stringify(id)}.`);
        this.#dropNotice(id);
        return ok(this.#notices);
      },
      'simulator:control': (control) =>
        applySimulatorControl(control, {
          simulator:
            this.#settings.source.kind === 'simulator' ? this.#source.simulator : undefined,
          refreshMarket: () => this.#source.market?.refresh(),
          log: this.#log,
        }),
      'alerts:list': () => ok(this.#alertViews()),
      'alerts:create': async (input) => {
        const saved = await this.#rules.create(input, `al-${randomUUID().slice(0, 8)}`, Date.now());
        return saved.ok ? this.#alertView(saved.value.id) : saved;
      },
      'alerts:update': async (patch) => {
        const saved = await this.#rules.update(patch);
        return saved.ok ? this.#alertView(patch.id) : saved;
      },
      'alerts:delete': async ({ id }) => {
        const saved = await this.#rules.delete(id);
        return saved.ok ? ok(this.#alertViews()) : saved;
      },
      'alerts:log': ({ limit }) => ok(this.#alerts.log(limit)),
      'update:status': () => ok(this.#updateStatus()),
      'update:check': async () => {
        const updates = this.#options.updates;
        if (updates === undefined) return fail('unavailable', UPDATES_DESKTOP_ONLY);
        return ok(await updates.check());
      },
      'update:restart': () => {
        const updates = this.#options.updates;
        if (updates === undefined) return fail('unavailable', UPDATES_DESKTOP_ONLY);
        return updates.restart();
      },
    };
  }

  /** Tells the views which symbols' halts and bands changed since the last event. */
  #emitTradingStatus(): void {
    const update = this.#statuses.takeUpdate();
    if (update === undefined || this.#views.size === 0) return;
    this.#emit('market:trading-status', update);
  }

  #alertViews(): AlertRuleView[] {
    return this.#alerts.views(this.#source.streamed);
  }

  #alertView(id: string): Result<AlertRuleView> {
    const view = this.#alertViews().find((r) => r.id === id);
    // Only when the core closed meanwhile (the rules are then no longer applied).
    return view ? ok(view) : fail('conflict', 'the monitor is shutting down');
  }

  #onAlertFired(fired: AlertFired): void {
    this.#emit('alerts:fired', fired);
    if (!fired.notify) return;
    try {
      this.#options.notifier?.notify(fired);
    } catch (err) {
      this.#log.error({ err, rule: fired.ruleId }, 'the desktop notification failed');
    }
  }

  async #saveSettings(next: Settings): Promise<Result<Settings>> {
    try {
      await this.#settingsStore.save(next);
    } catch (err) {
      // The store has logged it with its stack.
      return fail('storage', errorMessage(err));
    }
    this.#settings = next;
    this.#emit('settings:update', next);
    return ok(next);
  }

  /** New keys (or none) for an Alpaca source: a client with them, connected if wanted. */
  async #reinstallAlpaca(): Promise<void> {
    const source = this.#settings.source;
    if (source.kind !== 'alpaca') return;
    const prepared = await this.#source.prepare(source);
    if (this.#closed) {
      this.#source.discard(prepared);
      return;
    }
    this.#source.install(prepared);
  }

  /** What a snapshot and a diagnostics bundle both carry. */
  #state(): Omit<Snapshot, 'notices' | 'frames' | 'market' | 'rest'> {
    const snap = this.#source.client.snapshot();
    const event = metricsEvent(snap.metrics, snap.health, this.#source.market?.note());
    return {
      connection: this.#connectionView(),
      metrics: event.metrics,
      health: event.health,
      subscriptions: subscriptionsView(snap.subscriptions),
      handlers: this.#handlerViews(),
      settings: this.#settings,
      credentials: this.#credentialStatus,
      watchlists: this.#watchlists.watchlists,
    };
  }

  /**
   * Why the directory refuses `symbol` before anything is sent: unknown to the source's asset
   * list. Accepted unchecked while the directory is not ready (no keys, not loaded yet), and for
   * crypto pairs (the list holds US equities).
   */
  /** Sends the views the sparkline points since the previous event (one cursor for all views). */
  #emitSeries(): void {
    const market = this.#source.market;
    if (!market) return;
    const update = market.seriesSince(this.#seriesVersion);
    this.#seriesVersion = update.version;
    if (this.#views.size === 0 || (update.changes.length === 0 && !update.reset)) return;
    this.#emit('market:series', update);
  }

  #marketView(): MarketView {
    return this.#market.view();
  }

  #restMetrics(): RestMetricsView | null {
    return this.#source.market?.rest?.metrics() ?? null;
  }

  #snapshot(view: View): Snapshot {
    return {
      ...this.#state(),
      market: this.#marketView(),
      rest: this.#restMetrics(),
      relay: this.#relay.view(),
      notices: this.#notices,
      frames: {
        frames: view.cursor.frames,
        conflated: view.cursor.conflated,
        symbols: this.#book.size,
      },
    };
  }

  /** What a user attaches to a bug report: state and recent log, credential STATUS only. */
  /**
   * The bundle, built at most once per BUNDLE_REUSE_MS: a bug report a moment old says the same,
   * and a page (or a local process with the token) asking in a loop must not make the core build
   * and serialize a 500-entry log at full speed (hardening: the bridge's pipelining attack).
   */
  #recentBundle(): DiagnosticsBundle {
    const now = performance.now();
    const cached = this.#bundleCache;
    if (cached && now - cached.at < BUNDLE_REUSE_MS) return cached.bundle;
    const bundle = this.#bundle();
    this.#bundleCache = { at: now, bundle };
    return bundle;
  }

  #bundle(): DiagnosticsBundle {
    return {
      generatedAt: new Date().toISOString(),
      app: { ...this.#options.app },
      ...this.#state(),
      market: this.#marketView(),
      rest: this.#restMetrics(),
      relay: this.#relay.view(),
      log: this.#recentLog(BUNDLE_LOG_ENTRIES),
    };
  }
}

/** Changes when a handler is added or removed, or any count moves. */
function signature(list: readonly HandlerView[]): string {
  let s = '';
  for (const h of list) s += `${h.id}:${h.calls}:${h.errors};`;
  return s;
}
