/**
 * Counters, rates, latency histograms and health for one stream connection. The client calls
 * `frame`, `message` and the latency recorders per frame or per message, so those are a few
 * additions each: no allocation, no Map, and the clock is read once per frame, not per message.
 * Rates come from a ring of per-second buckets advanced by the injected monotonic clock (no
 * timers); they cover whole seconds, so they lag by up to one second. `snapshot()` is a plain
 * JSON-serializable object for the UI (over IPC) and the CLI summary.
 *
 * Health rules (`health()`), the worst one wins:
 * - down: idle, stopped or failed; or trying to connect (connecting, authenticating, subscribing,
 *   backoff) without having been live for more than `downAfterMs` (default 30 s).
 * - degraded: trying to connect within that grace; live but no data while symbols are subscribed
 *   (the caller's `stale`); a server error the caller still reports (`lastError`); subscriptions
 *   the server refused (`refused`: 405 / 410 / 413 / 400); invalid input above `invalidRatio`
 *   (default 1 %) of the last 60 s; `reconnectLimit` (default 3) or more reconnects in the last
 *   10 minutes; any handler error in the last 60 s.
 * - healthy: none of the above; `reasons` is then empty.
 */
import {
  MESSAGE_KINDS,
  type Health,
  type HealthStatus,
  type MessageKind,
  type MetricsSnapshot,
  type Rates,
} from '../../shared/metrics.ts';
import { Histogram } from './histogram.ts';

export { MESSAGE_KINDS };
export type { Health, HealthStatus, MessageKind, MetricsSnapshot, Rates };
import type { Logger } from './log.ts';
import { CONNECTION_STATES, type ConnectionState } from './states.ts';

export interface HealthInput {
  readonly state: ConnectionState;
  /** How many (channel, symbol) subscriptions are wanted or active. */
  readonly subscribed: number;
  /** The client's data watchdog: live and subscribed, but no data for too long. */
  readonly stale: boolean;
  readonly lastError?: { readonly code?: number; readonly message: string } | undefined;
  readonly handlerErrorsLast60s?: number;
  /** (channel, symbol) pairs the server refused (405 / 410 / 413 / 400): wanted, never delivered. */
  readonly refused?: number;
}

export interface MetricsOptions {
  /** Monotonic ms (performance.now): rates, time in state, uptime. */
  readonly now?: () => number;
  /** Wall-clock ms, for the snapshot's `at`. */
  readonly wallNow?: () => number;
  /** Process uptime in ms. */
  readonly processUptime?: () => number;
  /** Trying to connect for longer than this without being live is `down`. Default 30 s. */
  readonly downAfterMs?: number;
  /** Invalid items over all items in the last 60 s at or above which health is degraded. Default 0.01. */
  readonly invalidRatio?: number;
  /** Reconnects in 10 minutes at or above which health is degraded. Default 3. */
  readonly reconnectLimit?: number;
}

const RING = 64;
const RING_MASK = RING - 1;
const TEN_MINUTES_MS = 600_000;
/** Reconnect times kept for the 10-minute count; more than this in 10 minutes reads as "this many". */
const MAX_RECONNECT_TIMES = 64;

const TRYING: ReadonlySet<ConnectionState> = new Set([
  'connecting',
  'authenticating',
  'subscribing',
  'backoff',
]);

function zeroes<K extends string>(keys: readonly K[]): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const k of keys) out[k] = 0;
  return out;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

export class Metrics {
  readonly #clock: () => number;
  readonly #wallNow: () => number;
  readonly #processUptime: () => number;
  readonly #downAfterMs: number;
  readonly #invalidRatio: number;
  readonly #reconnectLimit: number;

  readonly #byKind: Record<MessageKind, number> = zeroes(MESSAGE_KINDS);
  #messages = 0;
  #frames = 0;
  #bytes = 0;
  #invalidTotal = 0;
  readonly #invalidByReason = new Map<string, number>();
  #connects = 0;
  #reconnects = 0;
  readonly #reconnectTimes: number[] = [];

  #state: ConnectionState = 'idle';
  #stateSince: number;
  readonly #timeInState: Record<ConnectionState, number> = zeroes(CONNECTION_STATES);
  #liveSince: number | undefined;
  #liveSessions = 0;
  /** When the current stretch of trying to connect began. */
  #tryingSince: number | undefined;
  readonly #createdAt: number;

  /** Per-second ring: the second the `#cur*` accumulators belong to, then older ones by `& RING_MASK`. */
  #second: number;
  readonly #firstSecond: number;
  #curMessages = 0;
  #curBytes = 0;
  #curInvalid = 0;
  readonly #ringMessages = new Float64Array(RING);
  readonly #ringBytes = new Float64Array(RING);
  readonly #ringInvalid = new Float64Array(RING);

  readonly exchangeLatencyHistogram = new Histogram();
  readonly dispatchLatencyHistogram = new Histogram();

  /** Monotonic ms of the last data message, if the client keeps it here. */
  lastDataAt: number | undefined;

  constructor(options: MetricsOptions = {}) {
    this.#clock = options.now ?? (() => performance.now());
    this.#wallNow = options.wallNow ?? Date.now;
    this.#processUptime = options.processUptime ?? (() => process.uptime() * 1000);
    this.#downAfterMs = options.downAfterMs ?? 30_000;
    this.#invalidRatio = options.invalidRatio ?? 0.01;
    this.#reconnectLimit = options.reconnectLimit ?? 3;
    const now = this.#clock();
    this.#createdAt = now;
    this.#stateSince = now;
    this.#second = Math.floor(now / 1000);
    this.#firstSecond = this.#second;
  }

  // ---------------------------------------------------------------- hot path

  /** A frame arrived: reads the clock once, so messages counted after it land in its second. */
  /** A frame of `bytes` arrived; `atMs` is its receipt time on this clock when the caller has it. */
  frame(bytes: number, atMs: number = this.#clock()): void {
    this.#roll(atMs);
    this.#frames++;
    this.#bytes += bytes;
    this.#curBytes += bytes;
  }

  message(kind: MessageKind): void {
    this.#byKind[kind]++;
    this.#messages++;
    this.#curMessages++;
  }

  /** Receipt of a frame to the end of its dispatch, ms. */
  dispatchLatency(ms: number): void {
    this.dispatchLatencyHistogram.record(ms);
  }

  /** Exchange time to receipt, ms; negative values (clock skew) are counted and recorded as 0. */
  exchangeLatency(ms: number): void {
    this.exchangeLatencyHistogram.record(ms);
  }

  // ---------------------------------------------------------------- events

  invalid(reason: string, count = 1): void {
    this.#invalidTotal += count;
    this.#curInvalid += count;
    this.#invalidByReason.set(reason, (this.#invalidByReason.get(reason) ?? 0) + count);
  }

  /** A socket opened. */
  connected(): void {
    this.#connects++;
  }

  /** A session went live again after an earlier live session was lost: a recovery. */
  reconnected(): void {
    this.#reconnects++;
    const times = this.#reconnectTimes;
    times.push(this.#clock());
    if (times.length > MAX_RECONNECT_TIMES) times.shift();
  }

  onState(state: ConnectionState, atMonotonicMs: number): void {
    const prev = this.#state;
    this.#timeInState[prev] += Math.max(0, atMonotonicMs - this.#stateSince);
    this.#state = state;
    this.#stateSince = atMonotonicMs;
    if (state === 'live') {
      if (prev !== 'live') {
        this.#liveSince = atMonotonicMs;
        this.#liveSessions++;
      }
      this.#tryingSince = undefined;
    } else {
      this.#liveSince = undefined;
      if (!TRYING.has(state)) this.#tryingSince = undefined;
      else if (this.#tryingSince === undefined) this.#tryingSince = atMonotonicMs;
    }
  }

  get state(): ConnectionState {
    return this.#state;
  }

  // ---------------------------------------------------------------- reading

  rates(): { messages: Rates; bytes: Rates } {
    const now = this.#clock();
    this.#roll(now);
    return {
      messages: this.#rates(this.#ringMessages),
      bytes: this.#rates(this.#ringBytes),
    };
  }

  snapshot(): MetricsSnapshot {
    const now = this.#clock();
    this.#roll(now);
    const timeInStateMs = { ...this.#timeInState };
    timeInStateMs[this.#state] += Math.max(0, now - this.#stateSince);
    const byReason: Record<string, number> = {};
    for (const [reason, n] of this.#invalidByReason) byReason[reason] = n;
    return {
      at: this.#wallNow(),
      state: this.#state,
      messages: { total: this.#messages, byKind: { ...this.#byKind } },
      frames: this.#frames,
      bytes: this.#bytes,
      invalid: { total: this.#invalidTotal, byReason },
      connects: this.#connects,
      reconnects: this.#reconnects,
      reconnectsLast10m: this.#reconnectsSince(now - TEN_MINUTES_MS),
      timeInStateMs,
      uptime: {
        sessionMs: this.#liveSince === undefined ? null : now - this.#liveSince,
        metricsMs: now - this.#createdAt,
        processMs: Math.round(this.#processUptime()),
      },
      rates: { messages: this.#rates(this.#ringMessages), bytes: this.#rates(this.#ringBytes) },
      latency: {
        exchangeToReceipt: this.exchangeLatencyHistogram.summary(),
        receiptToDispatch: this.dispatchLatencyHistogram.summary(),
      },
      lastDataAgoMs: this.lastDataAt === undefined ? null : now - this.lastDataAt,
    };
  }

  /** The compact record of the periodic log line. */
  summary(): Record<string, number | string | null> {
    const now = this.#clock();
    this.#roll(now);
    const msgs = this.#rates(this.#ringMessages);
    const bytes = this.#rates(this.#ringBytes);
    const round = (n: number): number => Math.round(n * 1000) / 1000;
    return {
      state: this.#state,
      msgsPerSec1s: msgs.s1,
      msgsPerSec10s: round(msgs.s10),
      msgsPerSec60s: round(msgs.s60),
      bytesPerSec10s: round(bytes.s10),
      messages: this.#messages,
      frames: this.#frames,
      invalid: this.#invalidTotal,
      connects: this.#connects,
      reconnects: this.#reconnects,
      exchangeP99Ms: round(this.exchangeLatencyHistogram.percentile(99)),
      dispatchP99Ms: round(this.dispatchLatencyHistogram.percentile(99)),
      sessionS: this.#liveSince === undefined ? null : Math.round((now - this.#liveSince) / 1000),
    };
  }

  health(input: HealthInput): Health {
    const now = this.#clock();
    this.#roll(now);
    let status: HealthStatus = 'healthy';
    const reasons: string[] = [];
    const flag = (level: 'degraded' | 'down', reason: string): void => {
      reasons.push(reason);
      if (level === 'down' || status === 'healthy') status = level;
    };
    const err = input.lastError;
    // Messages from describeCode already name their code: "connection limit exceeded (406)",
    // "connection closed (1006): getaddrinfo ENOTFOUND ...".
    const errText = err
      ? err.code === undefined || err.message.includes(`(${err.code})`)
        ? err.message
        : `${err.message} (${err.code})`
      : undefined;

    switch (input.state) {
      case 'idle':
        flag('down', 'The stream is not started.');
        break;
      case 'stopped':
        flag('down', 'The stream is stopped.');
        break;
      case 'failed':
        flag(
          'down',
          errText
            ? `The connection failed for good: ${errText}.`
            : 'The connection failed for good.',
        );
        break;
      case 'connecting':
      case 'authenticating':
      case 'subscribing':
      case 'backoff': {
        // The state may be passed in before onState() has seen it: then the stretch starts now.
        const since = this.#tryingSince ?? now;
        const waited = now - since;
        const doing = input.state === 'backoff' ? 'waiting to reconnect' : input.state;
        if (waited > this.#downAfterMs) {
          flag('down', `Not live for ${seconds(waited)} (${doing}).`);
        } else if (this.#liveSessions > 0) {
          flag('degraded', `Reconnecting (${doing}) after the connection was lost.`);
        } else {
          flag('degraded', `Connecting (${doing}); not live yet.`);
        }
        if (errText) flag('degraded', `Last error: ${errText}.`);
        break;
      }
      case 'live':
        if (input.stale && input.subscribed > 0) {
          const quiet =
            this.lastDataAt === undefined ? '' : ` for ${seconds(now - this.lastDataAt)}`;
          flag(
            'degraded',
            `No data${quiet} although ${input.subscribed} subscriptions are active.`,
          );
        }
        if (errText) flag('degraded', `Last error: ${errText}.`);
        break;
      default: {
        const unreachable: never = input.state;
        flag('down', `Unknown state ${String(unreachable)}.`);
      }
    }

    const invalid = this.#lastMinute(this.#ringInvalid, this.#curInvalid);
    if (invalid > 0) {
      const total = invalid + this.#lastMinute(this.#ringMessages, this.#curMessages);
      const ratio = invalid / total;
      if (ratio >= this.#invalidRatio) {
        flag(
          'degraded',
          `${invalid} invalid message${invalid === 1 ? '' : 's'} in the last minute (${(ratio * 100).toFixed(1)} % of input).`,
        );
      }
    }
    const reconnects = this.#reconnectsSince(now - TEN_MINUTES_MS);
    if (reconnects >= this.#reconnectLimit)
      flag('degraded', `${reconnects} reconnects in the last 10 minutes.`);
    const refused = input.refused ?? 0;
    if (refused > 0) {
      flag(
        'degraded',
        `The server refused ${refused} subscription${refused === 1 ? '' : 's'}; no data comes for them.`,
      );
    }
    const handlerErrors = input.handlerErrorsLast60s ?? 0;
    if (handlerErrors > 0) {
      flag(
        'degraded',
        `${handlerErrors} handler error${handlerErrors === 1 ? '' : 's'} in the last minute.`,
      );
    }
    return { status, reasons };
  }

  /** Logs `summary()` at info every `intervalMs` on an unref'd timer; returns the stopper. */
  startLogging(logger: Logger, intervalMs: number): () => void {
    const timer = setInterval(() => {
      try {
        logger.info({ metrics: this.summary() }, 'metrics');
      } catch (err) {
        logger.error({ err }, 'metrics log line failed');
      }
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  // ---------------------------------------------------------------- internals

  /** Moves the accumulators into the ring when a new second has begun, zeroing skipped seconds. */
  #roll(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    const prev = this.#second;
    if (second <= prev) return;
    if (second - prev >= RING) {
      // Quiet for longer than the ring: every slot (prev's too, which would alias) is stale.
      this.#ringMessages.fill(0);
      this.#ringBytes.fill(0);
      this.#ringInvalid.fill(0);
    } else {
      const slot = prev & RING_MASK;
      this.#ringMessages[slot] = this.#curMessages;
      this.#ringBytes[slot] = this.#curBytes;
      this.#ringInvalid[slot] = this.#curInvalid;
      for (let s = prev + 1; s < second; s++) {
        const i = s & RING_MASK;
        this.#ringMessages[i] = 0;
        this.#ringBytes[i] = 0;
        this.#ringInvalid[i] = 0;
      }
    }
    this.#second = second;
    this.#curMessages = 0;
    this.#curBytes = 0;
    this.#curInvalid = 0;
  }

  /** Per-second averages over the last 1, 10 and 60 whole seconds (fewer at start-up). */
  #rates(ring: Float64Array): Rates {
    const complete = this.#second - this.#firstSecond;
    const average = (window: number): number => {
      const n = Math.min(window, complete);
      if (n <= 0) return 0;
      let sum = 0;
      for (let k = 1; k <= n; k++) sum += ring[(this.#second - k) & RING_MASK] ?? 0;
      return sum / n;
    };
    return { s1: average(1), s10: average(10), s60: average(60) };
  }

  /** The current second plus the 59 before it. */
  #lastMinute(ring: Float64Array, current: number): number {
    const n = Math.min(59, this.#second - this.#firstSecond);
    let sum = current;
    for (let k = 1; k <= n; k++) sum += ring[(this.#second - k) & RING_MASK] ?? 0;
    return sum;
  }

  #reconnectsSince(since: number): number {
    let n = 0;
    for (const t of this.#reconnectTimes) if (t > since) n++;
    return n;
  }
}
