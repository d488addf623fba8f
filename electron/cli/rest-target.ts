/**
 * What the REST commands (`snapshot`, `clock`, `bars`) share: where their requests go (`--url`,
 * Alpaca's hosts with keys, or an in-process simulator when there are neither, as `stream` does),
 * which keys they send, and how a failed request is reported: an NDJSON `error` line with the
 * RestError's code and exit 1. Bad arguments throw UsageError before anything is sent (exit 2).
 * Keys travel in headers only; no output line or log record carries them.
 */
import type { Writable } from 'node:stream';
import { nyLocalToEpoch } from '../../shared/market-session.ts';
import { AlpacaRest } from '../rest/alpaca-rest.ts';
import { RestError } from '../rest/errors.ts';
import type { Simulator } from '../simulator/index.ts';
import { createLogger, type Logger } from '../stream/log.ts';
import { UsageError, parseChoice } from './args.ts';
import { NdjsonWriter } from './ndjson.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The stock data feeds the REST API takes (`crypto` and `test` are stream paths, not feeds). */
export const REST_FEEDS = ['iex', 'sip', 'delayed_sip', 'otc', 'boats', 'overnight'] as const;

/** The parseArgs options every REST command takes. */
export const REST_TARGET_OPTIONS = {
  url: { type: 'string' },
  key: { type: 'string' },
  secret: { type: 'string' },
  'log-level': { type: 'string' },
} as const;

export interface RestTarget {
  /** The base of both REST APIs (data and trading), http(s), no trailing slash; undefined: Alpaca's. */
  readonly url: string | undefined;
  readonly key: string | undefined;
  readonly secret: string | undefined;
  readonly logLevel: LogLevel;
}

/** Reads `--url`, the keys (flags, else APCA_API_KEY_ID / APCA_API_SECRET_KEY) and `--log-level`. */
export function parseRestTarget(
  values: {
    readonly url?: string | undefined;
    readonly key?: string | undefined;
    readonly secret?: string | undefined;
    readonly 'log-level'?: string | undefined;
  },
  env: NodeJS.ProcessEnv,
): RestTarget {
  const url = values.url === undefined ? undefined : restBaseUrl('--url', values.url);
  // An empty variable counts as unset, as in `stream`.
  const key = values.key ?? (env['APCA_API_KEY_ID'] || undefined);
  const secret = values.secret ?? (env['APCA_API_SECRET_KEY'] || undefined);
  if ((key === undefined) !== (secret === undefined)) {
    throw new UsageError(
      'give both a key and a secret (--key/--secret or APCA_API_KEY_ID/APCA_API_SECRET_KEY)',
    );
  }
  return {
    url,
    key,
    secret,
    logLevel: parseChoice('--log-level', values['log-level'], LOG_LEVELS) ?? 'warn',
  };
}

/**
 * A REST base from `--url`: an http(s) URL is used as given (a path is a prefix, as behind a
 * proxy); a ws(s) URL, as `simulate` prints it, names the same host's REST API (ws -> http,
 * wss -> https, the stream path dropped).
 */
export function restBaseUrl(flag: string, value: string): string {
  const parsed = URL.parse(value);
  if (parsed && (parsed.protocol === 'ws:' || parsed.protocol === 'wss:')) {
    return `${parsed.protocol === 'wss:' ? 'https:' : 'http:'}//${parsed.host}`;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new UsageError(
      `${flag} must be an http(s):// (or the simulator's ws://) URL; got ${JSON.stringify(value)}`,
    );
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    throw new UsageError(
      `${flag} must be a base URL without a query; got ${JSON.stringify(value)}`,
    );
  }
  return `${parsed.origin}${parsed.pathname}`.replace(/\/+$/, '');
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/**
 * An instant from an ISO argument: a time with a zone (`2025-03-07T14:30:00Z`, `...-05:00`), or
 * a date (`2025-03-07`), which means that New York day: its start, or with `endOfDay` its last
 * millisecond (so `--end 2025-03-07` includes the 7th). A time without a zone is refused rather
 * than guessed (the machine's zone or New York's?).
 */
export function parseInstant(
  flag: string,
  value: string | undefined,
  { endOfDay = false }: { endOfDay?: boolean } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const bad = (): UsageError =>
    new UsageError(
      `${flag} must be a date (2025-03-07, New York) or a time with a zone ` +
        `(2025-03-07T14:30:00Z); got ${JSON.stringify(value)}`,
    );
  if (ISO_DATE.test(value)) {
    const [y, m, d] = value.split('-').map(Number) as [number, number, number];
    const check = new Date(Date.UTC(y, m - 1, d));
    // Date.UTC rolls 2025-02-30 over to March: a real date reads back the same.
    if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d)
      throw bad();
    return endOfDay ? nyLocalToEpoch(value, '24:00') - 1 : nyLocalToEpoch(value, '00:00');
  }
  if (!ISO_TIME.test(value)) throw bad();
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw bad();
  return ms;
}

/** An epoch-ms instant as an ISO string, or null when unknown. */
export function isoOrNull(ms: number | undefined): string | null {
  return ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString();
}

export interface RestIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
}

export interface RestCommandContext {
  readonly rest: AlpacaRest;
  readonly out: NdjsonWriter;
  readonly logger: Logger;
}

/**
 * Opens the target (starting the in-process simulator when there is neither a URL nor keys), runs
 * `body`, and closes everything. A RestError from `body` becomes an `error` line and exit 1.
 */
export async function runRestCommand(
  target: RestTarget,
  io: RestIo,
  body: (context: RestCommandContext) => Promise<number>,
): Promise<number> {
  const logger = createLogger({ level: target.logLevel, destination: io.stderr });
  const out = new NdjsonWriter(io.stdout);
  let simulator: Simulator | undefined;
  let rest: AlpacaRest | undefined;
  try {
    let base = target.url;
    if (base === undefined && target.key === undefined) {
      // As `stream` does: no keys and no URL is a try-out, answered by the built-in simulator
      // (loaded only then: most runs name a host, and the simulator is half of the start-up).
      const { startSimulator } = await import('../simulator/index.ts');
      simulator = await startSimulator({ logger });
      base = restBaseUrl('the simulator URL', simulator.url);
    }
    rest = new AlpacaRest({
      logger,
      ...(base !== undefined ? { dataUrl: base, tradingUrl: base } : {}),
      ...(target.key !== undefined && target.secret !== undefined
        ? { keyId: target.key, secret: target.secret }
        : {}),
    });
    return await body({ rest, out, logger });
  } catch (err) {
    if (!(err instanceof RestError)) throw err;
    out.write(restErrorRecord(err));
    return 1;
  } finally {
    rest?.close();
    await out.flush();
    await simulator?.close();
    logger.flush();
  }
}

/** The error line of a failed request: its code, message, and the HTTP status when there was one. */
export function restErrorRecord(err: RestError): Record<string, unknown> {
  return {
    type: 'error',
    code: err.code,
    message: err.message,
    ...(err.status !== undefined ? { status: err.status } : {}),
  };
}
