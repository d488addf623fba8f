/**
 * The relay's upstream when the relay runs inside Market Monitor: not a second connection (Alpaca
 * allows one per key) but the app's own StreamClient, whichever it is at the moment. The app
 * replaces its client when the user changes the source or the keys; this adapter moves the
 * relay's pairs and its data handler to the new client, so that the relay's clients only see a
 * gap, as after an upstream reconnect. Connecting is the app's business: connect() does nothing,
 * and disconnect() lets go of the relay's pairs without touching the app's connection.
 *
 * The relay holds each pair once on the app's client (the planner there is reference-counted:
 * a symbol both the app and a relay client want stays subscribed until both let go). Pairs the
 * app's plan refuses reach the relay's clients with the server's code, as from any upstream.
 *
 * RelayUpstreamClient is the part of a StreamClient the relay uses: a StreamClient is one, and so
 * is this adapter.
 */
import type { ConnectionState } from '../../shared/connection.ts';
import type { Channel, ChannelSets, DataMessage } from '../../shared/market.ts';
import { CHANNELS } from '../../shared/market.ts';
import type { Health, StateChange, StreamClient } from '../stream/client.ts';
import type { HandlerOptions } from '../stream/handlers.ts';
import type {
  RefusedSymbol,
  SubscriptionChange,
  SubscriptionManager,
} from '../stream/subscriptions.ts';

/** What the relay needs of its upstream (a StreamClient fits as it is). */
export interface RelayUpstreamClient {
  readonly state: ConnectionState;
  readonly url: string;
  readonly attempt: number;
  readonly handlers: {
    on(
      kind: '*',
      symbol: '*',
      fn: (msg: DataMessage) => void,
      options?: HandlerOptions,
    ): () => void;
  };
  readonly subscriptions: Pick<
    SubscriptionManager,
    'onChange' | 'confirmed' | 'refused' | 'footprint'
  >;
  on(event: 'state', listener: (change: StateChange) => void): () => void;
  health(): Health;
  subscribe(channel: Channel, symbols: readonly string[]): unknown;
  unsubscribe(channel: Channel, symbols: readonly string[]): void;
  connect(): void;
  disconnect(reason?: string): void;
  closed(): Promise<void>;
  dispose(): void;
}

/** Where the adapter finds the app's client, and hears that it was replaced. */
export interface ClientProvider {
  /** The client now; undefined before the app built its first. */
  current(): StreamClient | undefined;
  /** `listener` gets each new client once it is installed; returns the unsubscribe. */
  onReplaced(listener: (client: StreamClient) => void): () => void;
}

type Footprint = ReturnType<SubscriptionManager['footprint']>;

const NO_HEALTH_URL = 'about:blank';

export class AttachedUpstream implements RelayUpstreamClient {
  readonly #provider: ClientProvider;
  /** channel -> symbol -> the relay's references (the app's client holds one per pair). */
  readonly #held = new Map<Channel, Map<string, number>>();
  readonly #data = new Set<{ fn: (msg: DataMessage) => void; options: HandlerOptions }>();
  readonly #changes = new Set<(change: SubscriptionChange) => void>();
  readonly #states = new Set<(change: StateChange) => void>();
  #client: StreamClient | undefined;
  #detach: (() => void)[] = [];
  readonly #offReplaced: () => void;
  #released = false;

  readonly handlers: RelayUpstreamClient['handlers'];
  readonly subscriptions: RelayUpstreamClient['subscriptions'];

  constructor(provider: ClientProvider) {
    this.#provider = provider;
    for (const channel of CHANNELS) this.#held.set(channel, new Map());
    this.handlers = {
      on: (_kind, _symbol, fn, options = {}) => {
        const entry = { fn, options };
        this.#data.add(entry);
        this.#rebind();
        return () => {
          this.#data.delete(entry);
          this.#rebind();
        };
      },
    };
    this.subscriptions = {
      onChange: (listener) => {
        this.#changes.add(listener);
        return () => void this.#changes.delete(listener);
      },
      confirmed: () => this.#client?.subscriptions.confirmed() ?? emptySets(),
      refused: () => this.#ownRefused(),
      footprint: () => this.#footprint(),
    };
    this.#offReplaced = provider.onReplaced((client) => this.#attach(client));
    const first = provider.current();
    if (first !== undefined) this.#attach(first);
  }

  get state(): ConnectionState {
    return this.#client?.state ?? 'idle';
  }

  get url(): string {
    return this.#client?.url ?? NO_HEALTH_URL;
  }

  get attempt(): number {
    return this.#client?.attempt ?? 0;
  }

  /** Pairs the relay holds on the app's client. */
  get pairs(): number {
    let n = 0;
    for (const symbols of this.#held.values()) n += symbols.size;
    return n;
  }

  health(): Health {
    const client = this.#client ?? this.#provider.current();
    if (client === undefined) throw new Error('the app has no stream client yet');
    return client.health();
  }

  on(_event: 'state', listener: (change: StateChange) => void): () => void {
    this.#states.add(listener);
    return () => void this.#states.delete(listener);
  }

  subscribe(channel: Channel, symbols: readonly string[]): void {
    if (this.#released) return;
    const held = this.#held.get(channel);
    if (held === undefined) return;
    const fresh: string[] = [];
    for (const symbol of symbols) {
      const n = held.get(symbol) ?? 0;
      held.set(symbol, n + 1);
      if (n === 0) fresh.push(symbol);
    }
    if (fresh.length > 0) this.#client?.subscribe(channel, fresh);
  }

  unsubscribe(channel: Channel, symbols: readonly string[]): void {
    const held = this.#held.get(channel);
    if (held === undefined) return;
    const gone: string[] = [];
    for (const symbol of symbols) {
      const n = held.get(symbol);
      if (n === undefined) continue;
      if (n > 1) held.set(symbol, n - 1);
      else {
        held.delete(symbol);
        gone.push(symbol);
      }
    }
    if (gone.length > 0) this.#client?.unsubscribe(channel, gone);
  }

  /** The app connects its client; the relay never does. */
  connect(): void {}

  /**
   * The relay is closing: its pairs are given back to the app's client (which stays connected),
   * and nothing of the relay stays attached to it.
   */
  disconnect(): void {
    if (this.#released) return;
    this.#released = true;
    this.#offReplaced();
    const client = this.#client;
    for (const [channel, held] of this.#held) {
      if (held.size > 0) client?.unsubscribe(channel, [...held.keys()]);
      held.clear();
    }
    this.#unbind();
    this.#client = undefined;
  }

  closed(): Promise<void> {
    return Promise.resolve();
  }

  dispose(): void {
    this.disconnect();
    this.#data.clear();
    this.#changes.clear();
    this.#states.clear();
  }

  /** A new app client: the relay's pairs and data handler move to it. */
  #attach(client: StreamClient): void {
    if (this.#released || client === this.#client) return;
    this.#unbind();
    this.#client = client;
    for (const [channel, held] of this.#held) {
      if (held.size > 0) client.subscribe(channel, [...held.keys()]);
    }
    this.#bind(client);
    // The confirmed sets are the new client's now (empty until its echo).
    this.#emitChange('confirmed');
  }

  #bind(client: StreamClient): void {
    for (const { fn, options } of this.#data) {
      this.#detach.push(client.handlers.on('*', '*', fn, options));
    }
    this.#detach.push(
      client.subscriptions.onChange((change) => this.#emitChange(change)),
      client.on('state', (change) => {
        for (const listener of [...this.#states]) listener(change);
      }),
    );
  }

  #unbind(): void {
    for (const off of this.#detach.splice(0)) {
      try {
        off();
      } catch {
        // A disposed client already dropped its handlers and listeners.
      }
    }
  }

  /** Handlers were added or removed: registered again on the current client. */
  #rebind(): void {
    const client = this.#client;
    if (client === undefined || this.#released) return;
    this.#unbind();
    this.#bind(client);
  }

  #emitChange(change: SubscriptionChange): void {
    for (const listener of [...this.#changes]) listener(change);
  }

  /** The app's refusals of pairs the relay holds (the app's own are its business). */
  #ownRefused(): RefusedSymbol[] {
    const all = this.#client?.subscriptions.refused() ?? [];
    return all.filter((r) => this.#held.get(r.channel)?.has(r.symbol) === true);
  }

  #footprint(): Footprint {
    const base = this.#client?.subscriptions.footprint();
    return {
      desired: this.pairs,
      confirmed: base?.confirmed ?? 0,
      refused: this.#ownRefused().length,
      ignored: base?.ignored ?? 0,
      evicting: base?.evicting ?? 0,
      first: base?.first ?? 0,
      probes: base?.probes ?? 0,
      leftOut: base?.leftOut ?? 0,
    };
  }
}

function emptySets(): ChannelSets {
  const sets = {} as Record<Channel, readonly string[]>;
  for (const channel of CHANNELS) sets[channel] = [];
  return sets;
}
