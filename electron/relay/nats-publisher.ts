/**
 * The holder's side of NATS (`relay --publish nats://...`): every data message of the relay's
 * upstream goes to its subject (nats-wire.ts), and downstream relays' announcements become leases
 * held on that same upstream through the reference-counted hold/release the local clients use,
 * so the upstream holds the union. A lease ends with its relay's goodbye or a lease after its last
 * renewal; each announcement, and each change of its pairs upstream, is answered with the relay's
 * state (confirmed, refused with Alpaca's code). While NATS is down no renewal can arrive, so no
 * lease expires: each gets a new term on reconnect, and the holder asks for every announcement.
 */
import type { Channel, DataMessage, Feed } from '../../shared/market.ts';
import type { Logger } from '../stream/log.ts';
import { normalizeSymbol } from '../stream/subscriptions.ts';
import { NatsLink, type NatsLinkState } from './nats-link.ts';
import {
  DEFAULT_NATS_PREFIX,
  MAX_ANNOUNCED_PAIRS,
  MAX_LEASES,
  NatsSubjects,
  encodeControl,
  newRelayId,
  packMessages,
  pairKey,
  readHello,
  readInterest,
  type Announce,
  type PairSets,
} from './nats-wire.ts';
import type { RelaySource } from './source.ts';
import { MicrotaskBatch } from './microtask-batch.ts';

export interface NatsPublish {
  /** `nats://HOST:PORT`. */
  readonly nats: string;
  /** Subject prefix; default `alpaca`. */
  readonly prefix?: string;
  /** The NATS client's wait between reconnect attempts. Default 1 000 ms. */
  readonly reconnectWaitMs?: number;
  /**
   * Pairs held for all downstream relays together (a pair two relays want counts twice); an
   * announcement past it is ignored. Default DEFAULT_MAX_LEASED_PAIRS.
   */
  readonly maxLeasedPairs?: number;
}

/**
 * Ten relays at their announcement limit. Without a total, anyone on NATS could make the holder
 * keep MAX_LEASES x MAX_ANNOUNCED_PAIRS (20 million) pairs, and the upstream subscribe them.
 */
export const DEFAULT_MAX_LEASED_PAIRS = 10 * MAX_ANNOUNCED_PAIRS;

export interface NatsPublisherStats {
  readonly connection: NatsLinkState;
  readonly server: string;
  readonly holder: string;
  readonly reconnects: number;
  /** NATS messages published (one per subject per upstream frame). */
  readonly published: number;
  /** Data messages in them. */
  readonly messages: number;
  /** Data messages not published because NATS was down. */
  readonly dropped: number;
  /** Downstream relays with a live lease, and the pairs they hold. */
  readonly leases: number;
  readonly leasedPairs: number;
  /** Announcements taken (renewals included). */
  readonly announcements: number;
  readonly expired: number;
  /** Messages on the interest subject that were not an announcement (ignored, counted). */
  readonly badInterest: number;
}

/** The holder's upstream pairs, looked up per lease. */
interface HolderView {
  readonly confirmed: Map<Channel, Set<string>>;
  readonly refused: Map<string, number>;
}

interface Lease {
  readonly relay: string;
  pairs: Map<Channel, Set<string>>;
  count: number;
  seq: number;
  leaseMs: number;
  timer: NodeJS.Timeout | undefined;
  /** The last state sent, to send only changes. */
  sent: string;
}

export class NatsPublisher {
  readonly id = newRelayId();
  readonly #source: RelaySource;
  readonly #subjects: NatsSubjects;
  readonly #link: NatsLink;
  readonly #log: Logger;
  readonly #leases = new Map<string, Lease>();
  readonly #maxLeasedPairs: number;
  /** What one upstream frame carried, sent on together (#flush). */
  readonly #batch = new MicrotaskBatch<DataMessage>((batch) => this.#flush(batch));
  #stateScheduled = false;
  #closed = false;
  #published = 0;
  #messages = 0;
  #dropped = 0;
  #expired = 0;
  #announcements = 0;
  #badInterest = 0;

  constructor(source: RelaySource, feed: Feed, options: NatsPublish, logger: Logger) {
    this.#source = source;
    this.#subjects = new NatsSubjects(options.prefix ?? DEFAULT_NATS_PREFIX, feed);
    this.#log = logger.child({ nats: 'publish' });
    const max = options.maxLeasedPairs;
    if (max !== undefined && (!Number.isSafeInteger(max) || max < 1))
      throw new RangeError('maxLeasedPairs must be a whole number >= 1');
    this.#maxLeasedPairs = max ?? DEFAULT_MAX_LEASED_PAIRS;
    this.#link = new NatsLink({
      url: options.nats,
      name: `market-monitor relay holder ${this.id}`,
      logger: this.#log,
      ...(options.reconnectWaitMs !== undefined
        ? { reconnectWaitMs: options.reconnectWaitMs }
        : {}),
      onUp: (_nc, first) => this.#up(first),
      onDown: () => this.#down(),
    });
    source.onData((msg) => this.#batch.push(msg), 'relay-nats-publish');
    source.onChange(() => this.#scheduleStates());
  }

  start(): void {
    this.#link.start();
  }

  stats(): NatsPublisherStats {
    let leasedPairs = 0;
    for (const lease of this.#leases.values()) leasedPairs += lease.count;
    return {
      connection: this.#link.state,
      server: this.#link.server,
      holder: this.id,
      reconnects: this.#link.reconnects,
      published: this.#published,
      messages: this.#messages,
      dropped: this.#dropped,
      leases: this.#leases.size,
      leasedPairs,
      announcements: this.#announcements,
      expired: this.#expired,
      badInterest: this.#badInterest,
    };
  }

  /** Gives back every lease's pairs and closes the connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const relay of [...this.#leases.keys()]) this.#drop(relay);
    await this.#link.close();
  }

  // ---------------------------------------------------------------- data

  #flush(batch: DataMessage[]): void {
    if (this.#link.state !== 'connected') {
      this.#dropped += batch.length;
      return;
    }
    const bySubject = new Map<string, DataMessage[]>();
    for (const msg of batch) {
      const subject = this.#subjects.forMessage(msg);
      const list = bySubject.get(subject);
      if (list === undefined) bySubject.set(subject, [msg]);
      else list.push(msg);
    }
    for (const [subject, messages] of bySubject) {
      if (this.#link.publish(subject, packMessages(messages))) {
        this.#published += 1;
        this.#messages += messages.length;
      } else {
        this.#dropped += messages.length;
      }
    }
  }

  // ---------------------------------------------------------------- connection

  #up(first: boolean): void {
    if (this.#closed) return;
    if (first) {
      this.#link.subscribe(this.#subjects.interest, (data) => this.#onInterest(data));
      this.#link.subscribe(this.#subjects.hello, (data) => this.#onHello(data));
    }
    // Renewals could not arrive while NATS was down: every lease starts a whole new term.
    for (const lease of this.#leases.values()) this.#arm(lease);
    this.#link.publish(this.#subjects.hello, encodeControl({ v: 1, holder: this.id }));
  }

  #down(): void {
    for (const lease of this.#leases.values()) {
      clearTimeout(lease.timer);
      lease.timer = undefined;
    }
  }

  #onHello(data: Uint8Array): void {
    const hello = readHello(data);
    if (hello.ok && hello.value.holder !== this.id) {
      this.#log.warn(
        { other: hello.value.holder },
        'another relay publishes the same feed on this NATS subject prefix: clients get data twice',
      );
    }
  }

  // ---------------------------------------------------------------- leases

  #onInterest(data: Uint8Array): void {
    if (this.#closed) return;
    const read = readInterest(data);
    if (!read.ok) {
      this.#badInterest += 1;
      this.#log.warn(
        { reason: read.reason, bytes: data.byteLength },
        'ignored a bad interest message',
      );
      return;
    }
    const message = read.value;
    if ('bye' in message) {
      if (this.#leases.has(message.relay))
        this.#log.info({ relay: message.relay }, 'downstream relay left');
      this.#drop(message.relay);
      return;
    }
    this.#announce(message);
  }

  #announce(message: Announce): void {
    this.#announcements += 1;
    const wanted = new Map<Channel, Set<string>>();
    let count = 0;
    for (const [channel, symbols] of Object.entries(message.pairs) as [Channel, string[]][]) {
      const set = new Set<string>();
      for (const raw of symbols) {
        const symbol = normalizeSymbol(raw);
        if (symbol !== undefined) set.add(symbol);
      }
      if (set.size === 0) continue;
      wanted.set(channel, set);
      count += set.size;
    }
    if (count > MAX_ANNOUNCED_PAIRS) {
      this.#badInterest += 1;
      this.#log.warn(
        { relay: message.relay, count },
        `announcement of more than ${MAX_ANNOUNCED_PAIRS} pairs ignored`,
      );
      return;
    }
    let lease = this.#leases.get(message.relay);
    let others = 0;
    for (const l of this.#leases.values()) if (l !== lease) others += l.count;
    if (others + count > this.#maxLeasedPairs) {
      this.#badInterest += 1;
      this.#log.warn(
        { relay: message.relay, count, others },
        `announcement past ${this.#maxLeasedPairs} leased pairs in all ignored`,
      );
      // A known relay keeps what it held until its lease runs out.
      if (lease !== undefined) this.#arm(lease);
      return;
    }
    if (lease === undefined && this.#leases.size >= MAX_LEASES) {
      this.#badInterest += 1;
      this.#log.warn(
        { relay: message.relay },
        `more than ${MAX_LEASES} downstream relays: ignored`,
      );
      return;
    }
    if (lease === undefined) {
      lease = {
        relay: message.relay,
        pairs: new Map(),
        count: 0,
        seq: message.seq,
        leaseMs: message.leaseMs,
        timer: undefined,
        sent: '',
      };
      this.#leases.set(message.relay, lease);
      this.#log.info({ relay: message.relay, pairs: count }, 'downstream relay announced');
    } else if (message.seq < lease.seq) {
      // An older announcement overtaken by a newer one (NATS keeps order per publisher; a
      // restarted relay has a new id): nothing to do but renew.
      this.#arm(lease);
      return;
    }
    // Hold the new pairs before releasing the old, so a pair in both never leaves upstream.
    for (const [channel, set] of wanted) {
      const had = lease.pairs.get(channel);
      const added = [...set].filter((s) => had?.has(s) !== true);
      if (added.length > 0) this.#hold(channel, added);
    }
    for (const [channel, had] of lease.pairs) {
      const now = wanted.get(channel);
      const gone = [...had].filter((s) => now?.has(s) !== true);
      if (gone.length > 0) this.#source.release(channel, gone);
    }
    lease.pairs = wanted;
    lease.count = count;
    lease.seq = message.seq;
    lease.leaseMs = message.leaseMs;
    this.#arm(lease);
    // Every announcement gets an answer: it is also how the relay knows the holder is there.
    lease.sent = '';
    this.#sendState(lease, this.#view());
  }

  #hold(channel: Channel, symbols: string[]): void {
    try {
      this.#source.hold(channel, symbols);
    } catch (err) {
      // The symbols were normalized above; a throw here is a bug, logged, not a crash.
      this.#log.error({ err, channel }, 'holding announced pairs failed');
    }
  }

  #arm(lease: Lease): void {
    clearTimeout(lease.timer);
    lease.timer = undefined;
    if (this.#link.state !== 'connected' || this.#closed) return;
    lease.timer = setTimeout(() => {
      lease.timer = undefined;
      this.#expired += 1;
      this.#log.info(
        { relay: lease.relay, leaseMs: lease.leaseMs },
        'downstream relay lease expired',
      );
      this.#drop(lease.relay);
    }, lease.leaseMs);
  }

  #drop(relay: string): void {
    const lease = this.#leases.get(relay);
    if (lease === undefined) return;
    clearTimeout(lease.timer);
    this.#leases.delete(relay);
    for (const [channel, set] of lease.pairs)
      if (set.size > 0) this.#source.release(channel, [...set]);
  }

  // ---------------------------------------------------------------- state

  #scheduleStates(): void {
    if (this.#stateScheduled || this.#leases.size === 0) return;
    this.#stateScheduled = true;
    setImmediate(() => {
      this.#stateScheduled = false;
      if (this.#closed) return;
      const view = this.#view();
      for (const lease of this.#leases.values()) this.#sendState(lease, view);
    });
  }

  #view(): HolderView {
    const subs = this.#source.subscriptions;
    const confirmed = new Map<Channel, Set<string>>();
    for (const [channel, symbols] of Object.entries(subs.confirmed()) as [Channel, string[]][]) {
      confirmed.set(channel, new Set(symbols));
    }
    const refused = new Map<string, number>();
    for (const r of subs.refused()) refused.set(pairKey(r.channel, r.symbol), r.code);
    return { confirmed, refused };
  }

  #sendState(lease: Lease, view: HolderView): void {
    const confirmed: PairSets = {};
    const refused: [Channel, string, number][] = [];
    for (const [channel, set] of lease.pairs) {
      const up = view.confirmed.get(channel);
      const list: string[] = [];
      for (const symbol of set) {
        const code = view.refused.get(pairKey(channel, symbol));
        if (code !== undefined) refused.push([channel, symbol, code]);
        else if (up?.has(symbol) === true) list.push(symbol);
      }
      if (list.length > 0) confirmed[channel] = list;
    }
    const state = { v: 1 as const, holder: this.id, seq: lease.seq, confirmed, refused };
    const text = JSON.stringify(state);
    if (text === lease.sent) return;
    if (this.#link.publish(this.#subjects.state(lease.relay), encodeControl(state)))
      lease.sent = text;
  }
}
