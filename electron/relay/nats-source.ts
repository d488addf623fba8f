/**
 * A relay's upstream over NATS (`relay --upstream nats://...`): its clients are served from what
 * the holder of the Alpaca connection publishes (nats-publisher.ts). The union of its clients'
 * pairs is reference-counted here (the first holder of a pair subscribes its subject, `*` the
 * channel's wildcard; the last unsubscribes) and announced whole at once on every change and again
 * every lease / 3. A pair is confirmed or refused by the holder's answer, which counts only from
 * the announcement that carried the pair: an answer about an older set cannot refuse a pair that
 * was let go and asked for again.
 */
import type { Subscription } from '@nats-io/transport-node';
import {
  CHANNELS,
  type Channel,
  type ChannelSets,
  type DataMessage,
  type Feed,
} from '../../shared/market.ts';
import type { Logger } from '../stream/log.ts';
import { normalizeSymbol, type RefusedSymbol } from '../stream/subscriptions.ts';
import { NatsLink } from './nats-link.ts';
import {
  DEFAULT_LEASE_MS,
  DEFAULT_NATS_PREFIX,
  MAX_LEASE_MS,
  MIN_LEASE_MS,
  NatsSubjects,
  encodeControl,
  newRelayId,
  pairKey,
  readHello,
  readState,
  unpackMessages,
  type HolderState,
  type PairSets,
} from './nats-wire.ts';
import type { RelaySource, SourcePairs, SourceStats } from './source.ts';

export interface NatsUpstream {
  /** `nats://HOST:PORT`. */
  readonly nats: string;
  /** Subject prefix; default `alpaca`. The holder must use the same. */
  readonly prefix?: string;
  /** How long the holder keeps this relay's interest without a renewal. Default 30 000 ms. */
  readonly leaseMs?: number;
  /** The NATS client's wait between reconnect attempts. Default 1 000 ms. */
  readonly reconnectWaitMs?: number;
}

/**
 * Hellos are answered at most this often. Anyone on NATS may send one and each costs a whole
 * announcement here and a pass over the upstream's pairs at the holder; a holder that restarts
 * says hello once, so a quarter second more before its answer costs nothing.
 */
const HELLO_ANSWER_GAP_MS = 250;

interface SubjectEntry {
  readonly channel: Channel;
  readonly star: boolean;
  count: number;
  sub: Subscription | undefined;
}

export class NatsSource implements RelaySource {
  readonly id = newRelayId();
  readonly subscriptions: SourcePairs;
  readonly #subjects: NatsSubjects;
  readonly #link: NatsLink;
  readonly #log: Logger;
  readonly #leaseMs: number;
  /** channel -> symbol -> references. */
  readonly #desired = new Map<Channel, Map<string, number>>();
  /** pair -> the announcement that first carries it (the holder's answers count from there). */
  readonly #since = new Map<string, number>();
  readonly #subs = new Map<string, SubjectEntry>();
  #confirmed = new Set<string>();
  #refused = new Map<string, { code: number; at: number }>();
  #seq = 0;
  #holder: string | undefined;
  #holderSeenAt: number | null = null;
  #lastMessageAt: number | null = null;
  #badMessages = 0;
  #announceScheduled = false;
  #renewTimer: NodeJS.Timeout | undefined;
  #helloTimer: NodeJS.Timeout | undefined;
  #helloAnsweredAt = Number.NEGATIVE_INFINITY;
  readonly #dataListeners: ((msg: DataMessage) => void)[] = [];
  readonly #changeListeners: (() => void)[] = [];
  #closing: Promise<void> | undefined;

  constructor(options: NatsUpstream, feed: Feed, logger: Logger) {
    const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    if (!Number.isSafeInteger(leaseMs) || leaseMs < MIN_LEASE_MS || leaseMs > MAX_LEASE_MS) {
      throw new RangeError(
        `leaseMs must be a whole number from ${MIN_LEASE_MS} to ${MAX_LEASE_MS}`,
      );
    }
    this.#leaseMs = leaseMs;
    this.#subjects = new NatsSubjects(options.prefix ?? DEFAULT_NATS_PREFIX, feed);
    this.#log = logger.child({ nats: 'upstream', relay: this.id });
    for (const channel of CHANNELS) this.#desired.set(channel, new Map());
    this.#link = new NatsLink({
      url: options.nats,
      name: `market-monitor relay ${this.id}`,
      logger: this.#log,
      ...(options.reconnectWaitMs !== undefined
        ? { reconnectWaitMs: options.reconnectWaitMs }
        : {}),
      onUp: (_nc, first) => this.#up(first),
      onDown: () => this.#changed(),
    });
    this.subscriptions = {
      confirmed: () => this.#confirmedSets(),
      refused: () => this.#refusedList(),
      footprint: () => ({ desired: this.#since.size, refused: this.#refusedList().length }),
    };
  }

  get state(): string {
    const state = this.#link.state;
    return state === 'connected' ? 'live' : state;
  }

  hold(channel: Channel, symbols: readonly string[]): void {
    const desired = this.#desired.get(channel);
    if (desired === undefined) return;
    let entered = false;
    for (const symbol of this.#valid(symbols)) {
      const n = desired.get(symbol) ?? 0;
      desired.set(symbol, n + 1);
      if (n > 0) continue;
      entered = true;
      this.#since.set(pairKey(channel, symbol), this.#seq + 1);
      this.#addSubject(channel, symbol);
    }
    if (entered) this.#scheduleAnnounce();
  }

  release(channel: Channel, symbols: readonly string[]): void {
    const desired = this.#desired.get(channel);
    if (desired === undefined) return;
    let left = false;
    for (const symbol of this.#valid(symbols)) {
      const n = desired.get(symbol);
      if (n === undefined) continue;
      if (n > 1) {
        desired.set(symbol, n - 1);
        continue;
      }
      desired.delete(symbol);
      const key = pairKey(channel, symbol);
      this.#since.delete(key);
      this.#confirmed.delete(key);
      this.#refused.delete(key);
      this.#removeSubject(channel, symbol);
      left = true;
    }
    if (left) {
      this.#scheduleAnnounce();
      this.#changed();
    }
  }

  onData(listener: (msg: DataMessage) => void, _name: string): void {
    this.#dataListeners.push(listener);
  }

  onChange(listener: () => void): void {
    this.#changeListeners.push(listener);
  }

  stats(): SourceStats {
    return {
      state: this.state,
      url: this.#link.server,
      attempt: this.#link.attempt,
      desiredPairs: this.#since.size,
      refused: this.#refusedList().length,
      nats: {
        connection: this.#link.state,
        server: this.#link.server,
        lastMessageAt: this.#lastMessageAt,
        holderSeen: this.#holderSeen(),
        holderSeenAt: this.#holderSeenAt,
        reconnects: this.#link.reconnects,
        subjects: this.#subs.size,
        badMessages: this.#badMessages,
      },
    };
  }

  start(): void {
    this.#link.start();
    // Renewal: two may be lost before the holder gives up on this relay.
    this.#renewTimer = setInterval(
      () => this.#announce(),
      Math.max(1, Math.floor(this.#leaseMs / 3)),
    );
  }

  /** Says goodbye (the holder lets go at once, not a lease later) and disconnects. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#renewTimer);
      clearTimeout(this.#helloTimer);
      await this.#link.close(() => {
        this.#link.publish(
          this.#subjects.interest,
          encodeControl({ v: 1, relay: this.id, bye: true }),
        );
      });
    })();
    return this.#closing;
  }

  // ---------------------------------------------------------------- pairs

  #valid(symbols: readonly string[]): string[] {
    const out: string[] = [];
    for (const raw of symbols) {
      const symbol = normalizeSymbol(raw);
      if (symbol === undefined) this.#log.warn({ symbol: raw }, 'invalid symbol ignored');
      else out.push(symbol);
    }
    return out;
  }

  #confirmedSets(): ChannelSets {
    const sets = {} as Record<Channel, string[]>;
    for (const [channel, desired] of this.#desired) {
      sets[channel] = [...desired.keys()].filter((s) => this.#confirmed.has(pairKey(channel, s)));
    }
    return sets;
  }

  #refusedList(): RefusedSymbol[] {
    const out: RefusedSymbol[] = [];
    for (const [key, r] of this.#refused) {
      const space = key.indexOf(' ');
      out.push({
        channel: key.slice(0, space) as Channel,
        symbol: key.slice(space + 1),
        code: r.code,
        at: r.at,
      });
    }
    return out;
  }

  #holderSeen(): boolean {
    return this.#holderSeenAt !== null && Date.now() - this.#holderSeenAt <= this.#leaseMs;
  }

  #changed(): void {
    for (const listener of this.#changeListeners) listener();
  }

  // ---------------------------------------------------------------- subjects

  #addSubject(channel: Channel, symbol: string): void {
    const subject = this.#subjects.forPair(channel, symbol);
    const entry = this.#subs.get(subject);
    if (entry !== undefined) {
      entry.count += 1;
      return;
    }
    const fresh: SubjectEntry = { channel, star: subject.endsWith('.*'), count: 1, sub: undefined };
    this.#subs.set(subject, fresh);
    fresh.sub = this.#subscribeData(subject, fresh);
  }

  #removeSubject(channel: Channel, symbol: string): void {
    const subject = this.#subjects.forPair(channel, symbol);
    const entry = this.#subs.get(subject);
    if (entry === undefined) return;
    entry.count -= 1;
    if (entry.count > 0) return;
    this.#subs.delete(subject);
    entry.sub?.unsubscribe();
  }

  #subscribeData(subject: string, entry: SubjectEntry): Subscription | undefined {
    const star = this.#subjects.forPair(entry.channel, '*');
    return this.#link.subscribe(subject, (data) => {
      // The channel's wildcard delivers this message too: once is enough.
      if (!entry.star && this.#subs.has(star)) return;
      this.#onPayload(data);
    });
  }

  #onPayload(data: Uint8Array): void {
    const read = unpackMessages(data);
    if (!read.ok) {
      this.#badMessages += 1;
      // Logged the first time and then now and then: a bad publisher would flood the log.
      if ((this.#badMessages & (this.#badMessages - 1)) === 0) {
        this.#log.warn(
          { reason: read.reason, count: this.#badMessages },
          'dropped a bad data payload from NATS',
        );
      }
      return;
    }
    this.#lastMessageAt = Date.now();
    for (const msg of read.messages) for (const listener of this.#dataListeners) listener(msg);
  }

  // ---------------------------------------------------------------- holder

  #up(first: boolean): void {
    if (first) {
      this.#link.subscribe(this.#subjects.state(this.id), (data) => this.#onState(data));
      this.#link.subscribe(this.#subjects.hello, (data) => this.#onHello(data));
      // A new connection (the first, or one after the old was closed for good): subscribe all.
      for (const [subject, entry] of this.#subs) entry.sub = this.#subscribeData(subject, entry);
    }
    this.#announce();
    this.#changed();
  }

  #onHello(data: Uint8Array): void {
    const hello = readHello(data);
    if (!hello.ok || this.#helloTimer !== undefined) return;
    const answer = (): void => {
      this.#helloTimer = undefined;
      this.#helloAnsweredAt = Date.now();
      this.#log.info({ holder: hello.value.holder }, 'holder asks for interest');
      this.#announce();
    };
    const wait = this.#helloAnsweredAt + HELLO_ANSWER_GAP_MS - Date.now();
    if (wait <= 0) answer();
    else this.#helloTimer = setTimeout(answer, wait);
  }

  #onState(data: Uint8Array): void {
    const read = readState(data);
    if (!read.ok) {
      this.#log.warn({ reason: read.reason }, 'ignored a bad state message');
      return;
    }
    const state: HolderState = read.value;
    if (state.holder !== this.#holder) {
      this.#log.info({ holder: state.holder }, 'holder answered');
      this.#holder = state.holder;
    }
    this.#holderSeenAt = Date.now();
    const confirmed = new Set<string>();
    for (const [channel, symbols] of Object.entries(state.confirmed) as [Channel, string[]][]) {
      for (const symbol of symbols) confirmed.add(pairKey(channel, symbol));
    }
    const refused = new Map<string, number>();
    for (const [channel, symbol, code] of state.refused)
      refused.set(pairKey(channel, symbol), code);
    const now = Date.now();
    for (const [key, since] of this.#since) {
      // An answer to an announcement older than this pair's says nothing about it.
      if (since > state.seq) continue;
      if (confirmed.has(key)) this.#confirmed.add(key);
      else this.#confirmed.delete(key);
      const code = refused.get(key);
      if (code === undefined) this.#refused.delete(key);
      else if (this.#refused.get(key)?.code !== code) this.#refused.set(key, { code, at: now });
    }
    this.#changed();
  }

  #scheduleAnnounce(): void {
    if (this.#announceScheduled) return;
    this.#announceScheduled = true;
    // What one client action changes goes in one announcement.
    setImmediate(() => {
      this.#announceScheduled = false;
      this.#announce();
    });
  }

  #announce(): void {
    if (this.#closing !== undefined) return;
    const pairs: PairSets = {};
    for (const [channel, desired] of this.#desired)
      if (desired.size > 0) pairs[channel] = [...desired.keys()];
    const message = {
      v: 1 as const,
      relay: this.id,
      seq: this.#seq + 1,
      leaseMs: this.#leaseMs,
      pairs,
    };
    if (this.#link.publish(this.#subjects.interest, encodeControl(message))) this.#seq += 1;
  }
}
