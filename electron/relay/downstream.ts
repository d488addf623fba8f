/**
 * One relay client: the Alpaca session protocol towards an Alpaca client (connected, auth by
 * message or handshake headers, subscribe / unsubscribe with the echo of ITS OWN set, the error
 * codes) and the bounded send side (a byte budget per client: past it, 407 and close, or with
 * conflation the latest quote per symbol is kept until the client catches up).
 *
 * A subscribe is answered once the upstream has settled its new pairs: the echo when every one is
 * confirmed, or Alpaca's error (405, 410, ...) with nothing applied when the upstream refused one,
 * as Alpaca refuses a whole subscribe. Data for a pair flows only after its echo, as from Alpaca.
 * Actions that arrive meanwhile wait their turn, so the answers keep the order of the actions.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { WebSocket } from 'ws';
import type { Channel, Codec, Feed } from '../../shared/market.ts';
import { ALPACA_ERRORS } from '../../shared/market.ts';
import type { Queued } from '../simulator/limits.ts';
import {
  channelsOf,
  echoItem,
  errorItem,
  readDelta,
  successItem,
  type ServerItem,
} from '../simulator/protocol-messages.ts';
import type { Logger } from '../stream/log.ts';
import { encodeServerFrame, joinServerItems } from '../stream/protocol/index.ts';
import { normalizeSymbol } from '../stream/subscriptions.ts';
import type { KeyRing, RelayKey } from './keys.ts';

/** Close code after an error that ends the session (policy violation), as the simulator's. */
const CLOSE_CODE = 1008;
/** A closing socket that does not finish the close handshake in this long is terminated. */
const CLOSE_GRACE_MS = 1000;
/**
 * Actions waiting behind one the upstream has not settled: a bot subscribing symbol by symbol in a
 * loop queues hundreds before the first answer, so the bound is generous in count; in bytes it
 * keeps what one client can make the relay hold small. Past either, it is a flood, and closes.
 */
const MAX_QUEUED_ACTIONS = 4096;
const MAX_QUEUED_BYTES = 1024 * 1024;
/** Auth messages on one connection before it counts as a flood and is closed. */
const MAX_AUTH_MESSAGES = 4;
/** How often a lagging client (conflation) is looked at to see whether it caught up. */
const DRAIN_CHECK_MS = 25;

/** One data message, encoded at most once per codec whatever the number of clients. */
export interface OutPart {
  /** Quotes only: the symbol, the key conflation keeps the latest by. */
  readonly quoteSymbol: string | undefined;
  encoded(codec: Codec): string | Buffer;
}

/** What a client counts; the relay's status lines show them. */
export interface ClientCounters {
  messages: number;
  frames: number;
  bytes: number;
  /** Quotes held back while lagging (conflation). */
  conflated: number;
  /** Held-back quotes replaced by a newer one for the same symbol before they went out. */
  dropped: number;
}

export interface ClientInfo extends ClientCounters {
  readonly id: number;
  readonly codec: Codec;
  readonly key: string | undefined;
  readonly pairs: number;
  readonly bufferedAmount: number;
  readonly lagging: boolean;
  /** Epoch ms. */
  readonly connectedAt: number;
}

/** Settled state of upstream pairs, as the relay's one StreamClient sees it. */
export interface UpstreamView {
  confirmed(channel: Channel, symbol: string): boolean;
  /** The refusal code (0: the echo left it out), or undefined when not refused. */
  refused(channel: Channel, symbol: string): number | undefined;
}

/** The relay as a client sees it. */
export interface ClientHost {
  readonly feed: Feed;
  readonly keys: KeyRing;
  readonly logger: Logger;
  readonly authTimeoutMs: number;
  /** Time a subscribe waits for the upstream before it is echoed anyway. */
  readonly settleTimeoutMs: number;
  readonly maxBufferBytes: number;
  readonly conflate: boolean;
  readonly maxSymbolLength: number;
  readonly upstreamView: UpstreamView;
  /** Takes upstream references for pairs (first holder subscribes upstream). */
  hold(channel: Channel, symbols: readonly string[]): void;
  /** Gives them back (last holder unsubscribes upstream). */
  release(channel: Channel, symbols: readonly string[]): void;
  /** Data for these pairs goes to `client` from now on (on = true), or no more. */
  route(client: RelayClient, channel: Channel, symbols: readonly string[], on: boolean): void;
  /** The total budget over all clients; false when this client must stop (it got 407). */
  mayQueue(client: RelayClient): boolean;
  countError(code: number): void;
  countAuth(ok: boolean): void;
  /** This client waits for the upstream (true) or no longer (false). */
  waiting(client: RelayClient, on: boolean): void;
}

/** A subscribe waiting for its answer: its new pairs (held upstream), or the error it earned. */
interface PendingAction {
  readonly added: Map<Channel, string[]>;
  readonly fresh: number;
  readonly error: number | undefined;
  readonly timer: NodeJS.Timeout | undefined;
  /** The upstream took longer than settleTimeoutMs: answered with the echo anyway. */
  timedOut: boolean;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function byteLength(frame: string | Buffer): number {
  return typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
}

export class RelayClient implements Queued {
  readonly id: number;
  readonly codec: Codec;
  readonly connectedAt = Date.now();
  readonly counters: ClientCounters = {
    messages: 0,
    frames: 0,
    bytes: 0,
    conflated: 0,
    dropped: 0,
  };

  readonly #ws: WebSocket;
  readonly #host: ClientHost;
  readonly #log: Logger;
  readonly #channels: readonly Channel[];
  /** The echoed (and routed) set. */
  readonly #subs = new Map<Channel, Set<string>>();
  #pairs = 0;
  #key: RelayKey | undefined;
  #ended = false;
  #authMessages = 0;
  /** Subscribes waiting for their answers, in order (see #pump). */
  #pending: PendingAction[] = [];
  #queue: { readonly action: Record<string, unknown>; readonly bytes: number }[] = [];
  #queuedBytes = 0;
  #pumping = false;
  #authTimer: NodeJS.Timeout | undefined;
  #killTimer: NodeJS.Timeout | undefined;
  #drainTimer: NodeJS.Timeout | undefined;
  /** Conflation: the latest quote per symbol not yet sent, while lagging. */
  readonly #held = new Map<string, OutPart>();
  #lagging = false;

  constructor(ws: WebSocket, host: ClientHost, id: number, codec: Codec) {
    this.id = id;
    this.codec = codec;
    this.#ws = ws;
    this.#host = host;
    this.#log = host.logger.child({ client: id });
    this.#channels = channelsOf(host.feed);
    for (const channel of this.#channels) this.#subs.set(channel, new Set());
  }

  get authenticated(): boolean {
    return this.#key !== undefined;
  }

  get ended(): boolean {
    return this.#ended;
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** Greets the client and, when the handshake carried keys, authenticates at once. */
  start(headers: IncomingHttpHeaders): void {
    this.#sendControl(successItem('connected'));
    const key = firstHeader(headers['apca-api-key-id']);
    const secret = firstHeader(headers['apca-api-secret-key']);
    if (key !== undefined || secret !== undefined) this.#authenticate(key, secret);
    if (!this.authenticated && !this.#ended) {
      this.#authTimer = setTimeout(() => {
        this.#authTimer = undefined;
        if (!this.authenticated) this.fail(404);
      }, this.#host.authTimeoutMs);
    }
  }

  /** A decoded client action of `bytes` on the wire (the relay checked size and syntax). */
  onAction(action: Record<string, unknown>, bytes: number): void {
    if (this.#ended) return;
    if (action.action === 'auth') {
      // Answered at once even behind pending subscribes: auth has no order to keep.
      this.#authenticate(action.key, action.secret);
      return;
    }
    if (this.#queue.length >= MAX_QUEUED_ACTIONS || this.#queuedBytes + bytes > MAX_QUEUED_BYTES) {
      this.fail(400, 'too many actions waiting for the upstream');
      return;
    }
    this.#queue.push({ action, bytes });
    this.#queuedBytes += bytes;
    this.#pump();
  }

  /** The upstream's subscriptions changed: settle the action waiting for it, if any. */
  upstreamChanged(): void {
    if (this.#pending.length > 0 && !this.#ended) this.#settle();
  }

  /**
   * The upstream refused a pair this client holds (after its echo: on a reconnect, or a late
   * error). It leaves this client's set; the client gets Alpaca's code and the new echo. A pair
   * only waiting in a subscribe of this client is not in the set: that subscribe's answer says it.
   */
  refusedLater(channel: Channel, symbol: string, code: number): void {
    if (this.#ended) return;
    const set = this.#subs.get(channel);
    if (set === undefined || !set.has(symbol)) return;
    set.delete(symbol);
    this.#pairs -= 1;
    this.#host.route(this, channel, [symbol], false);
    this.#host.release(channel, [symbol]);
    if (code !== 0) this.#sendError(code);
    this.#sendControl(echoItem(this.#host.feed, this.#subs));
  }

  /** Sends data parts as one frame, within the client's byte budget. */
  deliver(parts: readonly OutPart[]): void {
    if (this.#ended || this.#ws.readyState !== this.#ws.OPEN) return;
    const host = this.#host;
    const max = host.maxBufferBytes;
    let out = parts;
    if (host.conflate) {
      if (!this.#lagging && this.#ws.bufferedAmount > max) this.#startLagging();
      if (this.#lagging) {
        out = parts.filter((part) => {
          if (part.quoteSymbol === undefined) return true;
          if (this.#held.has(part.quoteSymbol)) this.counters.dropped += 1;
          this.#held.set(part.quoteSymbol, part);
          this.counters.conflated += 1;
          return false;
        });
        // Conflation holds quotes only: a client that lets even the rest pile up is cut.
        if (this.#ws.bufferedAmount > 2 * max) {
          this.slow();
          return;
        }
      }
    } else if (this.#ws.bufferedAmount > max) {
      this.slow();
      return;
    }
    if (out.length > 0) this.#sendParts(out);
  }

  /** Ends the session with 407 `slow client` (its own budget or the total one). */
  slow(): void {
    if (this.#ended) return;
    this.#log.info({ bufferedAmount: this.#ws.bufferedAmount }, 'client fell behind: 407');
    this.fail(407);
  }

  /** An error that ends the session: the message, a close, and a terminate if the close stalls. */
  fail(code: number, msg?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#sendError(code, msg, true);
    this.#clearTimers();
    const ws = this.#ws;
    const reason = msg ?? ALPACA_ERRORS[code]?.msg ?? 'error';
    // A close reason is at most 123 bytes.
    if (ws.readyState === ws.OPEN) ws.close(CLOSE_CODE, reason.slice(0, 120));
    this.#killTimer = setTimeout(() => this.terminate(), CLOSE_GRACE_MS);
  }

  /** The relay is stopping: a clean close (1001 going away), a terminate if it stalls. */
  goAway(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#clearTimers();
    const ws = this.#ws;
    if (ws.readyState === ws.OPEN) ws.close(1001, 'relay shutting down');
    this.#killTimer = setTimeout(() => this.terminate(), CLOSE_GRACE_MS);
  }

  /** Ends the socket at once, no close frame. */
  terminate(): void {
    this.#ended = true;
    this.#clearTimers();
    if (this.#ws.readyState !== this.#ws.CLOSED) this.#ws.terminate();
  }

  /** The socket closed: give back every upstream reference and route, clear every timer. */
  dispose(): void {
    this.#ended = true;
    this.#clearTimers();
    this.#held.clear();
    this.#queue = [];
    this.#queuedBytes = 0;
    for (const pending of this.#pending.splice(0)) {
      clearTimeout(pending.timer);
      for (const [channel, symbols] of pending.added) this.#host.release(channel, symbols);
    }
    this.#host.waiting(this, false);
    for (const [channel, set] of this.#subs) {
      if (set.size === 0) continue;
      const symbols = [...set];
      this.#host.route(this, channel, symbols, false);
      this.#host.release(channel, symbols);
      set.clear();
    }
    this.#pairs = 0;
  }

  info(): ClientInfo {
    return {
      id: this.id,
      codec: this.codec,
      key: this.#key?.key,
      pairs: this.#pairs,
      bufferedAmount: this.#ws.bufferedAmount,
      lagging: this.#lagging,
      connectedAt: this.connectedAt,
      ...this.counters,
    };
  }

  // ---------------------------------------------------------------- session

  #authenticate(key: unknown, secret: unknown): void {
    this.#authMessages += 1;
    if (this.#authMessages > MAX_AUTH_MESSAGES) {
      this.fail(400, 'too many auth messages');
      return;
    }
    if (this.authenticated) {
      this.#sendError(403);
      return;
    }
    const entry = this.#host.keys.check(key, secret);
    this.#host.countAuth(entry !== undefined);
    if (entry === undefined) {
      this.#log.info('auth failed: 402');
      this.fail(402);
      return;
    }
    this.#key = entry;
    clearTimeout(this.#authTimer);
    this.#authTimer = undefined;
    this.#sendControl(successItem('authenticated'));
  }

  /**
   * Runs queued actions in order. Answers go out in the order of the actions, so while subscribes
   * wait for the upstream, later subscribes join them (their pairs are held upstream at once, so
   * that a bot subscribing symbol by symbol costs the upstream a few folded actions, not one round
   * trip each), and any other action waits until they are answered.
   */
  #pump(): void {
    // #settle calls back here; the loop below carries on, so no nesting (a deep queue, no deep stack).
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      this.#drain();
    } finally {
      this.#pumping = false;
    }
  }

  #drain(): void {
    while (this.#queue.length > 0 && !this.#ended) {
      const head = this.#queue[0];
      if (head === undefined) break;
      const subscribe = head.action.action === 'subscribe';
      if (this.#pending.length > 0 && !subscribe) break;
      this.#queue.shift();
      this.#queuedBytes -= head.bytes;
      if (subscribe) {
        this.#pending.push(this.#prepare(head.action));
        this.#host.waiting(this, true);
        this.#settle();
      } else {
        this.#run(head.action);
      }
    }
  }

  /** Any action but subscribe (those go through #prepare and #settle). */
  #run(action: Record<string, unknown>): void {
    if (action.action !== 'unsubscribe') {
      this.#sendError(400);
      return;
    }
    const delta = this.#delta(action);
    if (typeof delta === 'number') {
      this.#sendError(delta);
      return;
    }
    for (const [channel, symbols] of delta) {
      const set = this.#subs.get(channel);
      if (set === undefined) continue;
      const gone = symbols.filter((s) => set.delete(s));
      if (gone.length === 0) continue;
      this.#pairs -= gone.length;
      this.#host.route(this, channel, gone, false);
      this.#host.release(channel, gone);
    }
    this.#sendControl(echoItem(this.#host.feed, this.#subs));
  }

  /** The checked, normalized symbols per channel of an action, or the error code it earns. */
  #delta(action: Record<string, unknown>): Map<Channel, string[]> | number {
    if (this.#key === undefined) return 401;
    const read = readDelta(action, this.#channels, this.#host.maxSymbolLength);
    if (!read.ok) return read.code;
    // Symbols as the upstream planner keeps them (trimmed, upper case); one it would refuse is 400.
    const delta = new Map<Channel, string[]>();
    for (const [channel, raw] of read.delta) {
      const symbols = new Set<string>();
      for (const s of raw) {
        const symbol = normalizeSymbol(s);
        if (symbol === undefined) return 400;
        symbols.add(symbol);
      }
      delta.set(channel, [...symbols]);
    }
    return delta;
  }

  /** A subscribe as a pending answer: its error, or its new pairs taken upstream. */
  #prepare(action: Record<string, unknown>): PendingAction {
    const failed = (error: number): PendingAction => ({
      added: new Map(),
      fresh: 0,
      error,
      timer: undefined,
      timedOut: false,
    });
    const delta = this.#delta(action);
    if (typeof delta === 'number') return failed(delta);
    const added = new Map<Channel, string[]>();
    let fresh = 0;
    for (const [channel, symbols] of delta) {
      const set = this.#subs.get(channel);
      const now = symbols.filter((s) => !set?.has(s));
      if (now.length === 0) continue;
      added.set(channel, now);
      fresh += now.length;
    }
    // Pairs asked for by subscribes still waiting count too (a pair in two of them, twice: the
    // bound is never passed, at worst reached early while they wait).
    let waiting = 0;
    for (const p of this.#pending) waiting += p.fresh;
    const limit = this.#key?.maxSymbols ?? 0;
    if (this.#pairs + waiting + fresh > limit) {
      this.#log.info({ pairs: this.#pairs, waiting, fresh, limit }, 'client symbol limit: 405');
      return failed(405);
    }
    for (const [channel, symbols] of added) this.#host.hold(channel, symbols);
    const pending: PendingAction = {
      added,
      fresh,
      error: undefined,
      timer:
        fresh === 0
          ? undefined
          : setTimeout(() => {
              pending.timedOut = true;
              this.#settle();
            }, this.#host.settleTimeoutMs),
      timedOut: false,
    };
    return pending;
  }

  /**
   * Answers the pending subscribes in order, each once every one of its new pairs is confirmed or
   * one is refused upstream; one that timed out (the upstream is slow: reconnecting, say) gets its
   * echo anyway, and a later refusal takes the pair back out (refusedLater).
   */
  #settle(): void {
    const upstream = this.#host.upstreamView;
    while (this.#pending.length > 0 && !this.#ended) {
      const pending = this.#pending[0];
      if (pending === undefined) break;
      let refusal = pending.error;
      if (refusal === undefined) {
        let open = false;
        for (const [channel, symbols] of pending.added) {
          for (const symbol of symbols) {
            const code = upstream.refused(channel, symbol);
            if (code !== undefined) refusal ??= code === 0 ? 405 : code;
            else if (!upstream.confirmed(channel, symbol)) open = true;
          }
        }
        if (refusal === undefined && open && !pending.timedOut) break;
      }
      this.#pending.shift();
      clearTimeout(pending.timer);
      if (refusal !== undefined) {
        // As Alpaca: a refused subscribe changes nothing, and gets the code with no echo.
        for (const [channel, symbols] of pending.added) this.#host.release(channel, symbols);
        this.#sendError(refusal);
        continue;
      }
      for (const [channel, symbols] of pending.added) {
        const set = this.#subs.get(channel);
        if (set === undefined) continue;
        const fresh: string[] = [];
        const twice: string[] = [];
        for (const s of symbols) {
          if (set.has(s)) twice.push(s);
          else {
            set.add(s);
            fresh.push(s);
          }
        }
        this.#pairs += fresh.length;
        // An earlier waiting subscribe took these already: one reference per client is enough.
        if (twice.length > 0) this.#host.release(channel, twice);
        if (fresh.length > 0) this.#host.route(this, channel, fresh, true);
      }
      this.#sendControl(echoItem(this.#host.feed, this.#subs));
    }
    if (this.#pending.length === 0) {
      this.#host.waiting(this, false);
      this.#pump();
    }
  }

  // ---------------------------------------------------------------- sending

  #startLagging(): void {
    this.#lagging = true;
    this.#log.info(
      { bufferedAmount: this.#ws.bufferedAmount },
      'client lagging: conflating quotes',
    );
    this.#drainTimer = setInterval(() => {
      if (this.#ended) return;
      if (this.#ws.bufferedAmount > this.#host.maxBufferBytes / 2) return;
      clearInterval(this.#drainTimer);
      this.#drainTimer = undefined;
      this.#lagging = false;
      const held = [...this.#held.values()];
      this.#held.clear();
      if (held.length > 0) this.#sendParts(held);
    }, DRAIN_CHECK_MS);
  }

  #sendParts(parts: readonly OutPart[]): void {
    if (!this.#host.mayQueue(this) || this.#ended) return;
    const codec = this.codec;
    const frame = joinServerItems(
      parts.map((p) => p.encoded(codec)),
      codec,
    );
    const c = this.counters;
    c.messages += parts.length;
    c.frames += 1;
    c.bytes += byteLength(frame);
    this.#ws.send(frame);
  }

  #sendControl(item: ServerItem, force = false): void {
    const ws = this.#ws;
    if (ws.readyState !== ws.OPEN) return;
    if (!force && (this.#ended || !this.#host.mayQueue(this))) return;
    const frame = encodeServerFrame([item], this.codec);
    this.counters.frames += 1;
    this.counters.bytes += byteLength(frame);
    ws.send(frame);
  }

  #sendError(code: number, msg?: string, force = false): void {
    this.#host.countError(code);
    this.#sendControl(errorItem(code, msg), force);
  }

  #clearTimers(): void {
    clearTimeout(this.#authTimer);
    clearTimeout(this.#killTimer);
    clearInterval(this.#drainTimer);
    for (const pending of this.#pending) clearTimeout(pending.timer);
    this.#authTimer = undefined;
    this.#killTimer = undefined;
    this.#drainTimer = undefined;
  }
}
