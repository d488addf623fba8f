/**
 * The simulator's resource bounds: how many connections, how many subscriptions per connection and
 * in all, how long a symbol, and how many bytes may wait for clients. The embedded simulator
 * listens on a loopback port any local process can find, and `simulate` is a demo server that
 * takes any key, so every bound is on by default; `simulate` has flags to raise them. Past a
 * bound a client gets Alpaca's code for it where one fits (406 connection limit, 405 symbol limit,
 * 400 invalid syntax, 407 slow client) and nothing is kept: memory stays bounded whatever clients
 * send or fail to read.
 *
 * The server and sessions keep the bookkeeping here and call it at a few points: the upgrade
 * (ConnectionGate), each subscription change (SubscriptionLedger), each send (OutboundBudget).
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Codec } from '../../shared/market.ts';
import { ALPACA_ERRORS } from '../../shared/market.ts';
import { encodeServerFrame } from '../stream/protocol/index.ts';

export interface SimulatorLimits {
  /**
   * WebSocket connections open at once, authenticated or not. One more gets 406 `connection limit
   * exceeded` and is closed; sockets beyond twice this are refused before the WebSocket handshake
   * (HTTP 503), so that even refusals cost a bounded amount.
   */
  readonly maxConnections: number;
  /**
   * (channel, symbol) pairs one connection may hold; `*` counts as one symbol. A subscribe that
   * would pass it is refused whole with 405 and no echo. The app's own client holds up to 20,000
   * symbols on three channels, hence 60,000 by default. The `symbolLimit` fault can only lower it.
   */
  readonly maxSymbolsPerConnection: number;
  /** Longest symbol in a subscribe or unsubscribe, in UTF-16 units. Longer: 400, nothing applied. */
  readonly maxSymbolLength: number;
  /** (channel, symbol) pairs held by all connections together. A subscribe past it gets 405. */
  readonly maxSubscriptions: number;
  /**
   * Bytes queued for all clients together (ws `bufferedAmount`). Past it, the client furthest
   * behind gets 407 `slow client` and is closed, as one past `slowClientBytes` is.
   */
  readonly maxBufferedBytes: number;
  /**
   * Bytes of client messages read per second, over all connections. Past it, a connection that
   * sends is no longer read until the budget refills: TCP pushes back on the sender, and nothing is
   * refused. Decoding a 1 MiB subscribe leaves several MB of garbage; without this, clients flooding
   * large messages set the simulator's (and the app's) garbage rate, and RSS follows.
   */
  readonly maxInboundBytesPerSecond: number;
}

export const DEFAULT_LIMITS: SimulatorLimits = {
  maxConnections: 64,
  maxSymbolsPerConnection: 60_000,
  // Alpaca's longest symbols are 21-character option symbols; the CLI accepts up to 31 characters.
  maxSymbolLength: 32,
  maxSubscriptions: 120_000,
  maxBufferedBytes: 32 * 1024 * 1024,
  maxInboundBytesPerSecond: 1024 * 1024,
};

/** Checks a limits patch; throws RangeError naming the first bad field. */
export function checkLimits(limits: Partial<SimulatorLimits>): void {
  for (const [name, value] of Object.entries(limits)) {
    if (!Object.hasOwn(DEFAULT_LIMITS, name)) throw new RangeError(`unknown limit ${name}`);
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
      throw new RangeError(`${name} must be a whole number >= 1`);
    }
  }
}

/** A key pair for one run of an embedded simulator, for it and its one client alone. */
export function randomRunCredentials(): { readonly key: string; readonly secret: string } {
  return { key: `SIM${randomBytes(12).toString('hex')}`, secret: randomBytes(32).toString('hex') };
}

/** Close code for a session ended after an error message (policy violation), as Session uses. */
const CLOSE_CODE = 1008;
/** A refused socket that does not finish the close handshake in this long is cut. */
const REFUSAL_GRACE_MS = 1000;

/**
 * Admission of connections. `open` is the number of sessions the server holds. Over the limit a
 * socket is still upgraded, told 406 in its codec and closed, as an Alpaca client expects; only
 * when that many refusals are themselves still closing is the next socket cut at the upgrade.
 */
export class ConnectionGate {
  readonly #limits: () => SimulatorLimits;
  #refusing = 0;

  constructor(limits: () => SimulatorLimits) {
    this.#limits = limits;
  }

  /** Before the handshake: false when the socket was answered 503 and closed. */
  admitUpgrade(socket: Duplex, open: number): boolean {
    const max = this.#limits().maxConnections;
    if (open < max || this.#refusing < max) return true;
    socket.end(
      'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
    );
    return false;
  }

  /**
   * After the handshake: true when a session may start. Else the socket gets
   * `[{"T":"error","code":406,...}]`, a close, and a terminate if the close stalls.
   */
  admit(ws: WebSocket, codec: Codec, open: number): boolean {
    if (open < this.#limits().maxConnections) return true;
    this.#refusing += 1;
    let settled = false;
    const done = (): void => {
      if (settled) return;
      settled = true;
      this.#refusing -= 1;
      clearTimeout(timer);
    };
    const timer = setTimeout(() => {
      ws.terminate();
      done();
    }, REFUSAL_GRACE_MS);
    ws.once('close', done);
    ws.on('error', () => undefined);
    const msg = ALPACA_ERRORS[406]?.msg ?? 'connection limit exceeded';
    ws.send(encodeServerFrame([{ T: 'error', code: 406, msg }], codec));
    ws.close(CLOSE_CODE, msg);
    return false;
  }
}

/** The (channel, symbol) pairs all sessions hold, against `maxSubscriptions`. */
export class SubscriptionLedger {
  #held = 0;

  get held(): number {
    return this.#held;
  }

  /** Whether a session holding `now` pairs may go to `after` without passing `max` in all. */
  allows(now: number, after: number, max: number): boolean {
    return after <= now || this.#held - now + after <= max;
  }

  /** A session's holding changed from `before` to `after` pairs. */
  change(before: number, after: number): void {
    this.#held += after - before;
  }
}

/**
 * A token bucket over the bytes of client messages, shared by all connections. `took` is called
 * after each message with its size; when the bucket is in debt, that socket is paused until the
 * debt is paid back at the configured rate (at most a second's worth is ever owed).
 */
const MAX_DEBT_S = 4;

export class InboundBudget {
  readonly #limits: () => SimulatorLimits;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  constructor(limits: () => SimulatorLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
    this.#tokens = limits().maxInboundBytesPerSecond;
    this.#at = now();
  }

  /** Accounts `bytes` just read; returns how long to stop reading this socket, in ms (0: none). */
  took(bytes: number): number {
    const rate = this.#limits().maxInboundBytesPerSecond;
    const now = this.#now();
    this.#tokens = Math.min(rate, this.#tokens + ((now - this.#at) * rate) / 1000);
    this.#at = now;
    // Debt is owed, not forgiven (many sockets resuming at once each read a chunk more), but at
    // most MAX_DEBT_S seconds of it, so that a client sending after a flood is not held for long.
    this.#tokens = Math.max(-MAX_DEBT_S * rate, this.#tokens - bytes);
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / rate);
  }
}

/** Pauses `ws` for `ms` (reading only) unless it closes first. */
export function pauseReading(ws: WebSocket, ms: number): void {
  if (ms <= 0 || ws.isPaused) return;
  ws.pause();
  const timer = setTimeout(() => ws.resume(), ms);
  ws.once('close', () => clearTimeout(timer));
}

/** What the budget needs of a session. */
export interface Queued {
  readonly bufferedAmount: number;
  readonly ended: boolean;
  /** Ends the session with 407 `slow client`. */
  slow(): void;
  /** Ends the socket at once, queue and all. */
  terminate(): void;
}

/**
 * Bytes queued for clients, against `slowClientBytes` per connection and `maxBufferedBytes` in all.
 * A session asks before each send. Summing every session's queue per send would cost O(sessions);
 * a client that reads keeps its queue near zero, so the sum is taken only when the asking session
 * itself holds more than SUM_ABOVE bytes: only a session that is behind can push the total up.
 */
export class OutboundBudget {
  static readonly SUM_ABOVE = 256 * 1024;

  readonly #limits: () => SimulatorLimits;
  readonly #sessions: () => Iterable<Queued>;

  constructor(limits: () => SimulatorLimits, sessions: () => Iterable<Queued>) {
    this.#limits = limits;
    this.#sessions = sessions;
  }

  /**
   * Whether `session` may queue more. False when it is past `perConnection` (it gets 407) or when
   * the total is past the limit and it is the session furthest behind (it gets 407). When another
   * session is furthest behind, that one gets the 407 and this one may go on.
   */
  mayQueue(session: Queued, perConnection: number | undefined): boolean {
    const own = session.bufferedAmount;
    if (perConnection !== undefined && own > perConnection) {
      session.slow();
      return false;
    }
    if (own <= OutboundBudget.SUM_ABOVE) return true;
    return this.enforceTotal() !== session;
  }

  /**
   * Brings the total within the limit and returns the first session ended for it. Sessions that
   * already ended (closing after an error, usually an earlier 407) go first and are cut at once:
   * their queue will not be read, and leaving it for the close grace would let reconnecting
   * clients hold a new budget's worth each second. Then live sessions furthest behind get 407.
   */
  enforceTotal(): Queued | undefined {
    const max = this.#limits().maxBufferedBytes;
    let total = 0;
    const all: Queued[] = [];
    for (const s of this.#sessions()) {
      total += s.bufferedAmount;
      all.push(s);
    }
    if (total <= max) return undefined;
    // Ended ones first, then by queue length.
    all.sort((a, b) =>
      a.ended !== b.ended ? (a.ended ? -1 : 1) : b.bufferedAmount - a.bufferedAmount,
    );
    let first: Queued | undefined;
    for (const s of all) {
      if (total <= max) break;
      total -= s.bufferedAmount;
      if (s.ended) {
        s.terminate();
      } else {
        first ??= s;
        s.slow();
      }
    }
    return first;
  }
}
