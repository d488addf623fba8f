/**
 * From the streaming core's own types to the view types of shared/api.ts, and the redaction that
 * stands between the two. Everything a view receives is built here, so this is also the one place
 * that decides what a view may NOT see: credentials.
 *
 * Redaction is two-layered, because either layer alone misses cases:
 * - by field name: pino already censors REDACT_PATHS at the logger (electron/stream/log.ts), but
 *   only at the depths those paths name and only for loggers made by createLogger; a record from
 *   elsewhere (a caller's logger, a nested object) may still carry a `secret` two levels down. So
 *   every field named like a credential is censored here again, at any depth.
 * - by value: an error message, a URL or a server's text may quote a key without naming it. The
 *   core tells the Redactor every credential it learns (environment, store, `credentials:set`)
 *   before using it, and every string that reaches a view is scrubbed of those values.
 *
 * No electron import: used by the core in Electron, in browser mode and in tests.
 */
import type {
  ConnectionErrorView,
  ConnectionView,
  HandlerView,
  HealthView,
  LogEntry,
  LogLevel,
  MetricsEvent,
  MetricsView,
  RefusedView,
  Source,
  SubscriptionsView,
} from '../../shared/api.ts';
import type { ConnectionState } from '../../shared/connection.ts';
import { ALPACA_ERRORS, CHANNELS, type Channel } from '../../shared/market.ts';
import type { SubscriptionEvent, Health } from '../stream/client.ts';
import type { HandlerStats } from '../stream/handlers.ts';
import type { LogRecord } from '../stream/log.ts';
import type { ConnectionError } from '../stream/machine.ts';
import type { MetricsSnapshot } from '../stream/metrics.ts';

export const REDACTED = '[redacted]';

/**
 * Field names (compared lower-cased, dashes and underscores ignored) whose values never reach a
 * view, wherever they appear: the credential names of the client and the protocol, plus the usual
 * suspects (a browser-mode token, an Authorization header).
 */
const SECRET_FIELDS: ReadonlySet<string> = new Set([
  'key',
  'keyid',
  'secret',
  'secretkey',
  'apikey',
  'apcaapikeyid',
  'apcaapisecretkey',
  'authorization',
  'token',
  'password',
]);

export function isSecretField(name: string): boolean {
  return SECRET_FIELDS.has(name.toLowerCase().replace(/[-_]/g, ''));
}

/**
 * Values shorter than this are not scrubbed from text: a one-letter "secret" would censor that
 * letter in every log line and protect nothing (real Alpaca keys are 20 characters and more).
 * Field-name redaction still applies to them.
 */
export const MIN_SCRUB_LENGTH = 4;

/** Remembers credential values and censors them in any text. */
export class Redactor {
  /** Longest first, so that a value containing another is censored whole. */
  #values: string[] = [];

  /** Adds values to censor from now on; short, empty and undefined ones are ignored. */
  add(...values: readonly (string | undefined)[]): void {
    let changed = false;
    for (const value of values) {
      if (value === undefined || value.length < MIN_SCRUB_LENGTH) continue;
      if (this.#values.includes(value)) continue;
      this.#values.push(value);
      changed = true;
    }
    if (changed) this.#values.sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.#values.length;
  }

  /** `text` with every known value replaced by REDACTED. */
  scrub(text: string): string {
    let out = text;
    for (const value of this.#values) {
      if (out.includes(value)) out = out.split(value).join(REDACTED);
    }
    return out;
  }

  /**
   * A JSON-safe deep copy of `value` with credential-named fields censored and known values
   * scrubbed from every string. Depth and breadth are bounded (log fields are small by intent;
   * a huge object becomes a placeholder rather than a slow event).
   */
  clean(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.scrub(value);
    if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
    if (typeof value === 'bigint') return value.toString();
    if (typeof value !== 'object') return undefined;
    if (depth >= 6) return '[nested too deep]';
    if (Array.isArray(value)) {
      const items = value.slice(0, 50).map((v) => this.clean(v, depth + 1));
      if (value.length > 50) items.push(`[${value.length - 50} more]`);
      return items;
    }
    const out: Record<string, unknown> = {};
    let n = 0;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (++n > 50) {
        out['…'] = 'more fields left out';
        break;
      }
      out[k] = isSecretField(k) ? REDACTED : this.clean(v, depth + 1);
    }
    return out;
  }
}

// ------------------------------------------------------------------------------ connection

/** Close and handshake codes are not Alpaca error codes: say what they mean separately. */
const HANDSHAKE_MEANINGS: Readonly<Record<number, string>> = {
  401: 'The server refused the API key or secret at the handshake. Check the credentials.',
  403: 'The server refused the API key or secret at the handshake. Check the credentials.',
  404: 'There is no stream at this address: check the feed.',
  429: 'Too many connection attempts; retrying slowly.',
};

/** What an error code means for the user, from the protocol table (or the handshake's). */
export function errorMeaning(error: ConnectionError): string | undefined {
  const code = error.code;
  if (code === undefined) return undefined;
  if (error.message.startsWith('handshake refused')) return HANDSHAKE_MEANINGS[code];
  // WebSocket close codes (1000-4999) share no numbers with Alpaca's 4xx/5xx table.
  return ALPACA_ERRORS[code]?.meaning;
}

export function connectionErrorView(
  error: ConnectionError | undefined,
  scrub: (text: string) => string = identity,
): ConnectionErrorView | undefined {
  if (error === undefined) return undefined;
  return { code: error.code, message: scrub(error.message), meaning: errorMeaning(error) };
}

/** What the core knows about the connection at a moment, in the core's terms. */
export interface ConnectionFacts {
  readonly state: ConnectionState;
  readonly previous: ConnectionState;
  readonly reason: string | undefined;
  /** Epoch ms when `state` began. */
  readonly since: number;
  readonly attempt: number;
  readonly retryAt: number | undefined;
  readonly lastError: ConnectionError | undefined;
  readonly source: Source;
  readonly url: string;
  readonly stale: boolean;
}

export function connectionView(
  facts: ConnectionFacts,
  scrub: (text: string) => string = identity,
): ConnectionView {
  return {
    state: facts.state,
    previous: facts.previous,
    reason: facts.reason === undefined ? undefined : scrub(facts.reason),
    since: facts.since,
    attempt: facts.attempt,
    retryAt: facts.state === 'backoff' ? facts.retryAt : undefined,
    lastError: connectionErrorView(facts.lastError, scrub),
    source: facts.source,
    url: scrub(facts.url),
    stale: facts.stale,
  };
}

// ------------------------------------------------------------------------------ metrics

export function metricsView(snapshot: MetricsSnapshot): MetricsView {
  // The snapshot is already a fresh plain object of exactly the view's shape.
  return snapshot;
}

export function healthView(health: Health, note?: string): HealthView {
  return {
    status: health.status,
    reasons: [...health.reasons],
    ...(note !== undefined ? { note } : {}),
  };
}

export function metricsEvent(
  snapshot: MetricsSnapshot,
  health: Health,
  note?: string,
): MetricsEvent {
  return { metrics: metricsView(snapshot), health: healthView(health, note) };
}

// ------------------------------------------------------------------------------ subscriptions

/** Code 0 is the planner's own: the echo did not list a symbol that was asked for. */
export function refusalMeaning(code: number): string | undefined {
  if (code === 0) return 'The server did not confirm this subscription (its echo left it out).';
  return ALPACA_ERRORS[code]?.meaning;
}

function nonEmpty(
  sets: Readonly<Record<Channel, readonly string[]>>,
): Partial<Record<Channel, readonly string[]>> {
  const out: Partial<Record<Channel, readonly string[]>> = {};
  for (const channel of CHANNELS) {
    const symbols = sets[channel];
    if (symbols.length > 0) out[channel] = [...symbols];
  }
  return out;
}

/** Channels without symbols are left out: most of the ten are empty in a watchlist app. */
export function subscriptionsView(event: SubscriptionEvent): SubscriptionsView {
  const refused: RefusedView[] = event.refused.map((r) => ({
    channel: r.channel,
    symbol: r.symbol,
    code: r.code,
    meaning: refusalMeaning(r.code),
    at: r.at,
  }));
  return { desired: nonEmpty(event.desired), confirmed: nonEmpty(event.confirmed), refused };
}

// ------------------------------------------------------------------------------ handlers

export function handlerView(
  stats: HandlerStats,
  scrub: (text: string) => string = identity,
): HandlerView {
  const e = stats.lastError;
  return {
    id: stats.id,
    name: stats.name,
    kind: stats.kind,
    symbol: stats.symbol,
    builtin: stats.builtin,
    calls: stats.calls,
    errors: stats.errors,
    lastError:
      e === undefined
        ? undefined
        : {
            message: scrub(e.message),
            stack: e.stack === undefined ? undefined : scrub(e.stack),
            at: e.at,
          },
    meanMs: stats.meanMs,
    maxMs: stats.maxMs,
    registeredAt: stats.registeredAt,
    lastCalledAt: stats.lastCalledAt,
  };
}

// ------------------------------------------------------------------------------ log

/** pino's numeric levels. */
export function levelName(level: number): LogLevel {
  if (level >= 60) return 'fatal';
  if (level >= 50) return 'error';
  if (level >= 40) return 'warn';
  if (level >= 30) return 'info';
  if (level >= 20) return 'debug';
  return 'trace';
}

/** Keys of a record that are shown elsewhere in the entry, or are pino's process noise. */
const RECORD_KEYS: ReadonlySet<string> = new Set([
  'level',
  'time',
  'msg',
  'module',
  'err',
  'pid',
  'hostname',
  'app',
]);
/** Longest text of one field; the log panel shows a line, not a document. */
const MAX_FIELD_CHARS = 500;
const MAX_FIELDS = 24;
const MAX_MESSAGE_CHARS = 2_000;
const MAX_STACK_CHARS = 8_000;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function errorOf(
  value: unknown,
  redactor: Redactor,
): { readonly message: string; readonly stack: string | undefined } | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const message =
      typeof o['message'] === 'string' ? o['message'] : JSON.stringify(redactor.clean(o));
    const stack = typeof o['stack'] === 'string' ? o['stack'] : undefined;
    return {
      message: clip(redactor.scrub(message), MAX_MESSAGE_CHARS),
      stack: stack === undefined ? undefined : clip(redactor.scrub(stack), MAX_STACK_CHARS),
    };
  }
  const text =
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    typeof value === 'bigint'
      ? String(value)
      : `a ${typeof value} was logged as the error`;
  return { message: clip(redactor.scrub(text), MAX_MESSAGE_CHARS), stack: undefined };
}

/**
 * A log record as the log panel shows it: level by name, the error's message and stack apart,
 * other fields flattened to scalars (objects as JSON text), credentials censored by name and value.
 */
export function logEntry(record: LogRecord, seq: number, redactor: Redactor): LogEntry {
  const fields: Record<string, string | number | boolean | null> = {};
  let n = 0;
  for (const [key, value] of Object.entries(record)) {
    if (RECORD_KEYS.has(key) || value === undefined) continue;
    if (n >= MAX_FIELDS) break;
    n++;
    if (isSecretField(key)) {
      fields[key] = REDACTED;
    } else if (value === null || typeof value === 'number' || typeof value === 'boolean') {
      fields[key] = value;
    } else if (typeof value === 'string') {
      fields[key] = clip(redactor.scrub(value), MAX_FIELD_CHARS);
    } else if (typeof value === 'bigint') {
      fields[key] = value.toString();
    } else {
      let text: string;
      try {
        text = JSON.stringify(redactor.clean(value)) ?? `[${typeof value}]`;
      } catch {
        text = '[unserializable]';
      }
      fields[key] = clip(text, MAX_FIELD_CHARS);
    }
  }
  const time = record['time'];
  const module = record.module;
  return {
    seq,
    at: typeof time === 'number' ? time : Date.now(),
    level: levelName(typeof record.level === 'number' ? record.level : 30),
    module: typeof module === 'string' ? redactor.scrub(module) : undefined,
    msg: clip(redactor.scrub(typeof record.msg === 'string' ? record.msg : ''), MAX_MESSAGE_CHARS),
    err: errorOf(record['err'], redactor),
    fields,
  };
}

function identity(text: string): string {
  return text;
}
