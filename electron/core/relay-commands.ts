/**
 * The relay commands of the core: the relay key a Relay source connects with, and the relay this
 * app can serve on its own core so that the desktop app is the household's one Alpaca connection.
 *
 * Keys. The relay key is a credential slot of its own (a second SecretStore: in the app an
 * encrypted file beside the Alpaca keys', in browser mode memory), stored, redacted and never
 * answered as the Alpaca keys are. The served relay's client key is a third slot: made here on
 * the first start (random, 24 bytes of secret), answered ONCE by 'relay:serve', and kept only to
 * check clients with; a lost one (kept in memory on a desktop without a keyring) is never made
 * again behind the user's back, since every client would then be refused without knowing why:
 * the relay stays off and says so until the user asks for a new key.
 *
 * The served relay fans out the app's existing client through AttachedUpstream (no second
 * socket: Alpaca allows one per key) on 127.0.0.1 only, and passes REST on to wherever the app's
 * REST goes. It follows the app's source: a new client of the same feed is taken over without
 * dropping the relay's clients; another feed restarts the relay on the new feed's path.
 *
 * No electron import.
 */
import { randomBytes } from 'node:crypto';
import {
  DEFAULT_RELAY_SERVER,
  fail,
  ok,
  type CredentialStatus,
  type RelayClientView,
  type RelayServerView,
  type RelayView,
  type Result,
  type Settings,
  type Source,
} from '../../shared/api.ts';
import { errorMessage } from '../../shared/errors.ts';
import type { Feed } from '../../shared/market.ts';
import { AttachedUpstream } from '../relay/attached-upstream.ts';
import { DEFAULT_MAX_SYMBOLS } from '../relay/keys.ts';
import { startRelay, type Relay } from '../relay/relay.ts';
import type { Logger } from '../stream/log.ts';
import type { CommandGroup } from './commands.ts';
import type { SecretStore, StoredCredentials } from './types.ts';
import type { StreamSource } from './stream-source.ts';

export type RelayCommandName =
  'relay:keys-set' | 'relay:keys-clear' | 'relay:status' | 'relay:serve';

/** The two credential slots besides the Alpaca keys. */
export interface RelaySecretStores {
  /** The relay key this app connects with when its source is a relay. */
  readonly client: SecretStore;
  /** The client key of the relay this app serves. */
  readonly server: SecretStore;
}

export interface RelayCommandsHost {
  readonly logger: Logger;
  readonly source: StreamSource;
  readonly secrets: RelaySecretStores;
  settings(): Settings;
  saveSettings(next: Settings): Promise<Result<Settings>>;
  /** Teaches the core's Redactor values to censor. */
  learn(...values: readonly (string | undefined)[]): void;
  scrub(text: string): string;
  /** 'relay:update' to every view. */
  changed(view: RelayView): void;
  setNotice(id: string, level: 'info' | 'warning' | 'error', message: string): void;
  dropNotice(id: string): void;
  closed(): boolean;
  /** Tests: the served relay's options (timeouts, limits). */
  readonly relayOptions?: { readonly authTimeoutMs?: number; readonly settleTimeoutMs?: number };
}

const SERVER_NOTICE = 'relay-server';
/** The served relay binds loopback only: other machines use `market-monitor relay` with keys. */
const SERVE_HOST = '127.0.0.1';

/** Words for a relay key's slot: the stores' sentences speak of "API keys". */
function relabel(status: CredentialStatus): CredentialStatus {
  return { ...status, detail: status.detail.replaceAll('API keys', 'relay keys') };
}

function feedOf(source: Source): Feed {
  return source.kind === 'simulator' ? 'iex' : source.feed;
}

/**
 * Host names (as the URL parser writes them) that reach a socket on 127.0.0.1: besides the usual
 * ones, an IPv4-mapped IPv6 address does, and so does any 127/8 address on some systems.
 */
const LOOPBACK_NAMES = new Set([
  'localhost',
  'localhost.',
  '[::1]',
  '0.0.0.0',
  '[::ffff:7f00:1]',
  '[::ffff:0:0]',
]);

function isLoopback(hostname: string): boolean {
  return LOOPBACK_NAMES.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * Whether `source` is the relay this app serves on `port`: the app would then be its own
 * upstream, every subscription waiting on itself and no data ever coming.
 */
export function servesItself(source: Source, port: number): boolean {
  if (source.kind !== 'relay') return false;
  let url: URL;
  try {
    url = new URL(source.url);
  } catch {
    return false;
  }
  return isLoopback(url.hostname) && Number(url.port) === port;
}

const SELF_LOOP =
  "The source is this app's own relay: it would wait on itself. Choose another source, or stop serving.";

/** A new client key for the served relay: an id to tell it apart and 192 random bits. */
function newServerKey(): StoredCredentials {
  return {
    keyId: `mmrelay-${randomBytes(6).toString('hex')}`,
    secret: randomBytes(24).toString('base64url'),
  };
}

export class RelayCommands {
  readonly #host: RelayCommandsHost;
  readonly #log: Logger;
  #keys: CredentialStatus = {
    stored: false,
    storage: 'none',
    backend: 'unknown',
    secure: false,
    detail: 'Not read yet.',
  };
  #relay: Relay | undefined;
  #upstream: AttachedUpstream | undefined;
  #state: RelayServerView['state'] = 'off';
  #error: string | undefined;
  #hasKey = false;
  /** Start and stop run one after another. */
  #queue: Promise<unknown> = Promise.resolve();
  readonly #offInstalled: () => void;

  constructor(host: RelayCommandsHost) {
    this.#host = host;
    this.#log = host.logger.child({ module: 'relay-app' });
    this.#offInstalled = host.source.onInstalled((_client, source) => {
      const relay = this.#relay;
      if (relay === undefined) return;
      // Same feed: the adapter has already moved to the new client. Another feed: another path.
      // A source that is this relay itself: stopped (with why), before it waits on itself.
      if (relay.feed !== feedOf(source) || servesItself(source, relay.port)) {
        // Nobody awaits this one: a failure is logged here, never an unhandled rejection.
        this.#serial(() => this.#restart()).catch((err: unknown) =>
          this.#log.error({ err }, 'restarting the served relay after a source change failed'),
        );
      }
    });
  }

  /** The relay key for a Relay source; undefined when none is stored (or it cannot be read). */
  async credentials(): Promise<StoredCredentials | undefined> {
    let stored: StoredCredentials | undefined;
    try {
      stored = await this.#host.secrets.client.get();
    } catch (err) {
      this.#log.error({ err }, 'reading the relay key failed');
      this.#host.setNotice(
        'relay-key-unreadable',
        'error',
        `The stored relay key could not be read (${this.#host.scrub(errorMessage(err))}). Enter it again in Settings.`,
      );
    }
    if (stored) this.#host.learn(stored.keyId, stored.secret);
    return stored;
  }

  /** At start: the key's status, and the served relay when the settings have it on. */
  async start(): Promise<void> {
    await this.#refreshKeys();
    const server = this.#host.settings().relayServer ?? DEFAULT_RELAY_SERVER;
    if (server.enabled) await this.#serial(() => this.#startServer(server.port));
    else this.#hasKey = (await this.#serverKey()) !== undefined;
  }

  /** The settings' consent to obfuscated storage, for both slots. Never rejects. */
  async applyConsent(allowInsecure: boolean): Promise<void> {
    for (const store of [this.#host.secrets.client, this.#host.secrets.server]) {
      try {
        await store.setConsent(allowInsecure);
      } catch (err) {
        this.#log.error({ err }, 'applying the consent to a relay key slot failed');
      }
    }
    await this.#refreshKeys();
  }

  view(): RelayView {
    return { keys: this.#keys, server: this.#serverView() };
  }

  /** The served relay, for tests and diagnostics. */
  get relay(): Relay | undefined {
    return this.#relay;
  }

  async close(): Promise<void> {
    this.#offInstalled();
    await this.#serial(() => this.#stopServer());
  }

  table(): CommandGroup<RelayCommandName, unknown> {
    return {
      'relay:status': async () => {
        await this.#refreshKeys();
        return ok(this.view());
      },
      'relay:keys-set': async ({ keyId, secret, memoryOnly }) => {
        this.#host.learn(keyId, secret);
        try {
          this.#keys = relabel(
            await this.#host.secrets.client.set(
              { keyId, secret },
              { memoryOnly: memoryOnly ?? false },
            ),
          );
        } catch (err) {
          this.#log.warn({ err }, 'storing the relay key failed');
          return fail('storage', this.#host.scrub(errorMessage(err)));
        }
        this.#host.dropNotice('relay-key-unreadable');
        await this.#reinstallRelaySource();
        return ok(this.#changed());
      },
      'relay:keys-clear': async () => {
        try {
          this.#keys = relabel(await this.#host.secrets.client.clear());
        } catch (err) {
          this.#log.warn({ err }, 'clearing the relay key failed');
          return fail('storage', this.#host.scrub(errorMessage(err)));
        }
        await this.#reinstallRelaySource();
        return ok(this.#changed());
      },
      'relay:serve': async ({ enabled, port, newKey }) => {
        const current = this.#host.settings().relayServer ?? DEFAULT_RELAY_SERVER;
        const next = { enabled, port: port ?? current.port };
        const saved = await this.#host.saveSettings({
          ...this.#host.settings(),
          relayServer: next,
        });
        if (!saved.ok) return saved;
        let generated: StoredCredentials | undefined;
        if (newKey === true || (enabled && (await this.#serverKey()) === undefined)) {
          const made = await this.#makeServerKey();
          if (!made.ok) return made;
          generated = made.value;
        }
        await this.#serial(async () => {
          await this.#stopServer();
          if (enabled && !this.#host.closed()) await this.#startServer(next.port);
        });
        const relay = this.#changed();
        return ok({
          relay,
          generated:
            generated === undefined
              ? undefined
              : { keyId: generated.keyId, secret: generated.secret },
        });
      },
    };
  }

  // ---------------------------------------------------------------- internals

  #serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(step, step);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #changed(): RelayView {
    const view = this.view();
    this.#host.changed(view);
    return view;
  }

  async #refreshKeys(): Promise<void> {
    try {
      this.#keys = relabel(await this.#host.secrets.client.status());
    } catch (err) {
      this.#log.error({ err }, 'reading the relay key status failed');
    }
  }

  /** A relay source whose key changed gets a client with the new key. */
  async #reinstallRelaySource(): Promise<void> {
    const source = this.#host.settings().source;
    if (source.kind !== 'relay') return;
    const prepared = await this.#host.source.prepare(source);
    if (this.#host.closed()) {
      this.#host.source.discard(prepared);
      return;
    }
    this.#host.source.install(prepared);
  }

  async #serverKey(): Promise<StoredCredentials | undefined> {
    try {
      const key = await this.#host.secrets.server.get();
      if (key) this.#host.learn(key.keyId, key.secret);
      return key;
    } catch (err) {
      this.#log.error({ err }, "reading the served relay's client key failed");
      return undefined;
    }
  }

  async #makeServerKey(): Promise<Result<StoredCredentials>> {
    const key = newServerKey();
    // Censored before the store (or anything) can log it.
    this.#host.learn(key.keyId, key.secret);
    try {
      await this.#host.secrets.server.set(key, { memoryOnly: false });
    } catch (err) {
      this.#log.warn({ err }, "storing the served relay's client key failed");
      return fail('storage', this.#host.scrub(errorMessage(err)));
    }
    this.#hasKey = true;
    this.#log.info('a new client key for the served relay was made');
    return ok(key);
  }

  async #startServer(port: number): Promise<void> {
    if (this.#relay !== undefined || this.#host.closed()) return;
    const key = await this.#serverKey();
    this.#hasKey = key !== undefined;
    if (key === undefined) {
      this.#state = 'failed';
      this.#error =
        "The relay's client key is gone (it was kept in memory only, or could not be read): make a new key to start the relay.";
      this.#host.setNotice(SERVER_NOTICE, 'warning', this.#error);
      return;
    }
    const source = this.#host.source;
    const upstream = new AttachedUpstream({
      current: () => (source.hasClient ? source.client : undefined),
      onReplaced: (listener) => source.onInstalled((client) => listener(client)),
    });
    this.#state = 'starting';
    this.#error = undefined;
    const installed = source.source ?? this.#host.settings().source;
    try {
      const relay = await startRelay({
        upstream,
        feed: feedOf(installed),
        host: SERVE_HOST,
        port,
        keys: [{ key: key.keyId, secret: key.secret, maxSymbols: DEFAULT_MAX_SYMBOLS }],
        rest: { upstream: () => source.restTarget },
        logger: this.#host.logger,
        ...(this.#host.relayOptions ?? {}),
      });
      if (this.#host.closed()) {
        await relay.close();
        return;
      }
      if (servesItself(source.source ?? installed, relay.port)) {
        await relay.close();
        this.#state = 'failed';
        this.#error = SELF_LOOP;
        this.#host.setNotice(SERVER_NOTICE, 'warning', SELF_LOOP);
        return;
      }
      this.#relay = relay;
      this.#upstream = upstream;
      this.#state = 'listening';
      this.#host.dropNotice(SERVER_NOTICE);
      this.#log.info({ url: relay.url, feed: relay.feed }, 'serving the app connection as a relay');
    } catch (err) {
      upstream.dispose();
      this.#state = 'failed';
      const code = (err as NodeJS.ErrnoException).code;
      this.#error =
        code === 'EADDRINUSE'
          ? `Port ${port} is taken by another program: choose another port, or 0 for any free one.`
          : `The relay could not start: ${this.#host.scrub(errorMessage(err))}`;
      this.#log.warn({ err, port }, 'the served relay could not start');
      this.#host.setNotice(SERVER_NOTICE, 'warning', this.#error);
    }
  }

  async #stopServer(): Promise<void> {
    const relay = this.#relay;
    this.#relay = undefined;
    this.#upstream = undefined;
    this.#state = 'off';
    this.#error = undefined;
    this.#host.dropNotice(SERVER_NOTICE);
    if (relay === undefined) return;
    try {
      // Its clients get close frames; the app's own connection stays as it is.
      await relay.close();
      this.#log.info('the served relay stopped');
    } catch (err) {
      this.#log.error({ err }, 'closing the served relay failed');
    }
  }

  async #restart(): Promise<void> {
    const server = this.#host.settings().relayServer ?? DEFAULT_RELAY_SERVER;
    await this.#stopServer();
    if (server.enabled) await this.#startServer(server.port);
    this.#changed();
  }

  #serverView(): RelayServerView {
    const settings = this.#host.settings().relayServer ?? DEFAULT_RELAY_SERVER;
    const relay = this.#relay;
    const stats = relay?.stats();
    const clients: RelayClientView[] = (relay?.clients() ?? []).map((c) => ({
      id: c.id,
      codec: c.codec,
      authenticated: c.key !== undefined,
      pairs: c.pairs,
      messages: c.messages,
      bytes: c.bytes,
      bufferedAmount: c.bufferedAmount,
      lagging: c.lagging,
      conflated: c.conflated,
      dropped: c.dropped,
      connectedAt: c.connectedAt,
    }));
    return {
      enabled: settings.enabled,
      port: settings.port,
      state: this.#state,
      url: relay?.url,
      streamUrl: relay?.urlFor(),
      feed: relay?.feed,
      hasKey: this.#hasKey,
      error: this.#error,
      upstreamPairs: this.#upstream?.pairs ?? 0,
      clients,
      counters: {
        accepted: stats?.counters.connectionsAccepted ?? 0,
        rejected: stats?.counters.connectionsRejected ?? 0,
        authFailed: stats?.counters.authFailed ?? 0,
        messagesOut: stats?.counters.messagesOut ?? 0,
        restRequests: relay?.rest?.counters().requests ?? 0,
      },
    };
  }
}
