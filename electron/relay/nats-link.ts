/**
 * One NATS connection that never gives up: the first connect is retried with the stream client's
 * backoff (a relay may start before its NATS server), and once connected the NATS client
 * reconnects by itself, forever, re-subscribing what was subscribed. The owner hears `up` on
 * every (re)connect, to announce itself again, and `down` when the connection drops. Publishing
 * while down is refused here rather than buffered: a stale burst after an outage is worse than the
 * gap an Alpaca outage leaves too.
 */
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from '../stream/backoff.ts';
import type { Logger } from '../stream/log.ts';

export type NatsLinkState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface NatsLinkOptions {
  /** `nats://HOST:PORT`. */
  readonly url: string;
  /** Shown by the NATS server's monitoring (connz). */
  readonly name: string;
  readonly logger: Logger;
  /** The NATS client's wait between reconnect attempts. Default 1 000 ms. */
  readonly reconnectWaitMs?: number;
  /** Before the first connection only. */
  readonly backoff?: BackoffPolicy;
  readonly random?: () => number;
  /** Connected (first: the first time). Subscribe here; they outlive reconnects. */
  readonly onUp: (nc: NatsConnection, first: boolean) => void;
  readonly onDown: () => void;
}

/**
 * `raw` with any user:password@ or token@ cut out: refusals are printed and logged, and the
 * credentials a NATS URL may carry must not ride along.
 */
function withoutCredentials(raw: string): string {
  return raw.replace(/^([^/]*\/\/)[^/?#]*@/, '$1***@');
}

/** Checks a `nats://HOST:PORT` URL; throws a RangeError saying what is wrong. */
export function checkNatsUrl(raw: string): string {
  const shown = withoutCredentials(raw);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RangeError(`${JSON.stringify(shown)} is not a URL: use nats://HOST:PORT`);
  }
  if (url.protocol !== 'nats:') throw new RangeError(`${shown}: use nats://HOST:PORT`);
  if (url.hostname === '') throw new RangeError(`${shown}: no host`);
  if (url.pathname !== '' && url.pathname !== '/')
    throw new RangeError(`${shown}: a NATS URL has no path`);
  // Checked here, not at the first connect, where it would be retried for ever.
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    throw new RangeError(`${shown}: the user or password has a bad %-escape`);
  }
  return raw;
}

/** The URL without credentials, for status lines and logs. */
export function displayNatsUrl(raw: string): string {
  const url = new URL(raw);
  return `nats://${url.host}`;
}

/** `nats://user:pass@host` or `nats://token@host` as the NATS client's options. */
function credentialsOf(raw: string): { user?: string; pass?: string; token?: string } {
  const url = new URL(raw);
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  if (user === '') return {};
  return pass === '' ? { token: user } : { user, pass };
}

export class NatsLink {
  readonly url: string;
  readonly server: string;
  #state: NatsLinkState = 'connecting';
  #nc: NatsConnection | undefined;
  #attempt = 0;
  #reconnects = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #options: NatsLinkOptions;
  readonly #log: Logger;

  constructor(options: NatsLinkOptions) {
    this.url = checkNatsUrl(options.url);
    this.server = displayNatsUrl(options.url);
    this.#options = options;
    this.#log = options.logger;
  }

  get state(): NatsLinkState {
    return this.#state;
  }

  get connection(): NatsConnection | undefined {
    return this.#nc;
  }

  get reconnects(): number {
    return this.#reconnects;
  }

  get attempt(): number {
    return this.#attempt;
  }

  start(): void {
    if (this.#closed || this.#timer !== undefined || this.#nc !== undefined) return;
    void this.#connect();
  }

  /** Publishes when connected; false (nothing sent) otherwise. */
  publish(subject: string, payload: Uint8Array): boolean {
    const nc = this.#nc;
    if (nc === undefined || this.#state !== 'connected' || nc.isClosed()) return false;
    try {
      nc.publish(subject, payload);
      return true;
    } catch (err) {
      this.#log.warn({ err, subject }, 'NATS publish failed');
      return false;
    }
  }

  /** A callback subscription; a throwing callback is logged, never kills the subscription. */
  subscribe(
    subject: string,
    onMessage: (data: Uint8Array, subject: string) => void,
  ): Subscription | undefined {
    const nc = this.#nc;
    if (nc === undefined || nc.isClosed()) return undefined;
    return nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err !== null) {
          this.#log.warn({ err, subject }, 'NATS subscription error');
          return;
        }
        try {
          onMessage(msg.data, msg.subject);
        } catch (error) {
          this.#log.error({ err: error, subject: msg.subject }, 'handling a NATS message failed');
        }
      },
    });
  }

  /** Sends what is buffered, then closes. `beforeClose` may publish a last word. */
  async close(beforeClose?: () => void): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const nc = this.#nc;
    if (nc !== undefined && !nc.isClosed()) {
      if (this.#state === 'connected') {
        try {
          beforeClose?.();
          await Promise.race([nc.flush(), new Promise((resolve) => setTimeout(resolve, 500))]);
        } catch (err) {
          this.#log.debug({ err }, 'NATS flush before close failed');
        }
      }
      await nc.close().catch((err: unknown) => this.#log.debug({ err }, 'NATS close failed'));
    }
    this.#state = 'closed';
  }

  async #connect(): Promise<void> {
    this.#timer = undefined;
    this.#attempt += 1;
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: this.server.slice('nats://'.length),
        ...credentialsOf(this.url),
        name: this.#options.name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: this.#options.reconnectWaitMs ?? 1000,
        reconnectJitter: Math.min(100, this.#options.reconnectWaitMs ?? 1000),
        timeout: 5000,
      });
    } catch (err) {
      if (this.#closed) return;
      const delay = backoffDelay(
        this.#options.backoff ?? DEFAULT_BACKOFF,
        this.#attempt,
        0,
        (this.#options.random ?? Math.random)(),
      );
      this.#log.warn(
        { err: (err as Error).message, server: this.server, delay },
        'NATS connect failed; retrying',
      );
      this.#timer = setTimeout(() => void this.#connect(), delay);
      return;
    }
    if (this.#closed) {
      await nc.close().catch(() => undefined);
      return;
    }
    this.#nc = nc;
    this.#attempt = 0;
    this.#state = 'connected';
    this.#log.info({ server: this.server }, 'NATS connected');
    void this.#watch(nc);
    void nc.closed().then((err) => {
      if (this.#closed) return;
      // Closed by the client or the server for good (not a drop): start over.
      this.#log.warn(
        { err: err instanceof Error ? err.message : undefined },
        'NATS connection closed; connecting again',
      );
      this.#nc = undefined;
      this.#state = 'connecting';
      this.#options.onDown();
      this.#timer = setTimeout(() => void this.#connect(), this.#options.reconnectWaitMs ?? 1000);
    });
    this.#options.onUp(nc, true);
  }

  async #watch(nc: NatsConnection): Promise<void> {
    try {
      await this.#follow(nc);
    } catch (err) {
      this.#log.error({ err }, 'reading the NATS connection status failed');
    }
  }

  async #follow(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (this.#closed || this.#nc !== nc) return;
      if (status.type === 'disconnect') {
        this.#state = 'reconnecting';
        this.#log.warn({ server: this.server }, 'NATS connection lost; reconnecting');
        this.#options.onDown();
      } else if (status.type === 'reconnect') {
        this.#state = 'connected';
        this.#reconnects += 1;
        this.#log.info({ server: this.server }, 'NATS reconnected');
        this.#options.onUp(nc, false);
      }
    }
  }
}
