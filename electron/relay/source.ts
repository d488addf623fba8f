/**
 * What the relay needs from its upstream, whatever it is: the union of its clients' (channel,
 * symbol) interest held reference-counted, data messages out, the settled and refused pairs (so a
 * subscribe gets its echo or Alpaca's code), a state and stats for the status lines, and close.
 * One Alpaca-protocol StreamClient (Alpaca itself or the simulator, or the app's own client) is
 * one implementation (StreamSource, here); NATS fed by another relay is the other (nats-source.ts).
 */
import type { Channel, ChannelSets, Codec, DataMessage } from '../../shared/market.ts';
import { StreamClient, type Health, type StreamClientOptions } from '../stream/client.ts';
import type { Logger } from '../stream/log.ts';
import type { RefusedSymbol } from '../stream/subscriptions.ts';
import type { RelayUpstreamClient } from './attached-upstream.ts';

/** The settled side of the interest: the planner's view (the StreamClient's own planner fits). */
export interface SourcePairs {
  /** Pairs the upstream sends: a client's subscribe waits for its pairs here. */
  confirmed(): ChannelSets;
  /** Pairs the upstream refused, with Alpaca's code (0: an echo left the pair out). */
  refused(): RefusedSymbol[];
  footprint(): { readonly desired: number; readonly refused: number };
}

/** The upstream part of a relay's status line. */
export interface SourceStats {
  readonly state: string;
  /** Where it comes from, without credentials: a stream URL, or the NATS server. */
  readonly url: string;
  readonly attempt: number;
  readonly desiredPairs: number;
  readonly refused: number;
  /** A StreamClient upstream: its health (stale data, reconnects, latency). */
  readonly health?: Health;
  /** A NATS upstream: the connection, the last message and whether the holder answers. */
  readonly nats?: NatsSourceHealth;
}

export interface NatsSourceHealth {
  /** connecting, connected, reconnecting or closed. */
  readonly connection: string;
  readonly server: string;
  /** Epoch ms of the last data message from NATS, or null. */
  readonly lastMessageAt: number | null;
  /** Whether the relay holding the Alpaca connection answered within the lease. */
  readonly holderSeen: boolean;
  /** Epoch ms the holder last answered, or null. */
  readonly holderSeenAt: number | null;
  readonly reconnects: number;
  /** NATS subscriptions held for data: one per pair, one per channel for `*` and news. */
  readonly subjects: number;
  /** Payloads on the data subjects that did not decode (dropped, counted). */
  readonly badMessages: number;
}

export interface RelaySource {
  /** `live` while data can flow; anything else is a gap the clients ride out connected. */
  readonly state: string;
  readonly subscriptions: SourcePairs;
  /** One reference per pair: the first holder subscribes upstream. */
  hold(channel: Channel, symbols: readonly string[]): void;
  /** Gives them back: the last holder unsubscribes upstream. */
  release(channel: Channel, symbols: readonly string[]): void;
  /** Every data message, in order; the relay batches what arrives in one turn. */
  onData(listener: (msg: DataMessage) => void, name: string): void;
  /** The settled or refused pairs changed, or the connection was reset. */
  onChange(listener: () => void): void;
  stats(): SourceStats;
  /** Connects; called once the relay listens. */
  start(): void;
  /** Disconnects for good. Idempotent. */
  close(): Promise<void>;
}

/** An Alpaca-protocol upstream: Alpaca itself or a simulator, with keys the clients never see. */
export interface RelayUpstream {
  /** Full stream URL with the feed path, e.g. wss://stream.data.alpaca.markets/v2/iex. */
  readonly url: string;
  readonly key: string;
  readonly secret: string;
  readonly codec?: Codec;
  /** Anything else of the StreamClient's (backoff, timeouts), for tests and tuning. */
  readonly client?: Partial<Omit<StreamClientOptions, 'url' | 'key' | 'secret' | 'logger'>>;
}

/**
 * The upstream as ONE StreamClient, whose reference-counted planner holds the union: a client of
 * its own built from a RelayUpstream, or one that exists (the app's, through attached-upstream.ts).
 */
export class StreamSource implements RelaySource {
  readonly client: RelayUpstreamClient;
  readonly #logger: Logger;
  #closing: Promise<void> | undefined;

  constructor(up: RelayUpstream | RelayUpstreamClient, logger: Logger) {
    this.#logger = logger;
    this.client =
      'subscribe' in up
        ? up
        : new StreamClient({
            ...up.client,
            url: up.url,
            key: up.key,
            secret: up.secret,
            codec: up.codec ?? 'json',
            logger: logger.child({ upstream: true }),
          });
    this.client.on('state', (change) => {
      this.#logger.info({ state: change.state, reason: change.reason }, 'upstream state');
    });
  }

  get state(): string {
    return this.client.state;
  }

  get subscriptions(): SourcePairs {
    return this.client.subscriptions;
  }

  hold(channel: Channel, symbols: readonly string[]): void {
    this.client.subscribe(channel, symbols);
  }

  release(channel: Channel, symbols: readonly string[]): void {
    this.client.unsubscribe(channel, symbols);
  }

  onData(listener: (msg: DataMessage) => void, name: string): void {
    // Named, so the client's handler diagnostics tell the fan-out from the NATS publisher.
    this.client.handlers.on('*', '*', listener, { name, builtin: true });
  }

  onChange(listener: () => void): void {
    this.client.subscriptions.onChange((change) => {
      if (change === 'confirmed' || change === 'refused' || change === 'desired') listener();
    });
    // A reset (reconnect) empties the confirmed set without an echo.
    this.client.on('state', () => listener());
  }

  stats(): SourceStats {
    const up = this.client;
    const footprint = up.subscriptions.footprint();
    const url = new URL(up.url);
    return {
      state: up.state,
      url: `${url.protocol}//${url.host}${url.pathname}`,
      attempt: up.attempt,
      desiredPairs: footprint.desired,
      refused: footprint.refused,
      health: up.health(),
    };
  }

  start(): void {
    this.client.connect();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.client.disconnect('relay closed');
      await this.client.closed();
      this.client.dispose();
    })();
    return this.#closing;
  }
}
