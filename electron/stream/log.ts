/**
 * Scoped logging. Every module takes a pino child logger (`{ module: 'client' }` and so on) so a
 * record says where it came from. Errors are logged as error objects under `err`, which pino
 * serializes with their stack: the Python client this project replaces logged bare messages and
 * lost every stack. Credentials are redacted at the logger, whatever a caller passes in.
 */
import { Writable } from 'node:stream';
import {
  pino,
  stdSerializers,
  type DestinationStream,
  type Logger,
  type LevelWithSilent,
} from 'pino';

export type { Logger };

/**
 * Field names whose values are credentials: the client's and protocol's own, and the usual ones
 * of other code (an Authorization header, a token, an API key under its common spellings).
 */
const SECRET_FIELDS = [
  'key',
  'secret',
  'keyId',
  'key_id',
  'secretKey',
  'secret_key',
  'apiKey',
  'api_key',
  'token',
  'password',
  'authorization',
  'Authorization',
];

/** Alpaca's credential headers, whose names need the bracket syntax. */
const SECRET_HEADERS = ['headers["APCA-API-KEY-ID"]', 'headers["APCA-API-SECRET-KEY"]'];

/**
 * Paths pino censors in a record. Pino's paths name fixed depths (a `*` is one level, there is no
 * "any depth"), so each name is listed at the top level and one and two levels down: a record's
 * own field, a field of an object it logs (`{ req: { token } }`), and one more level
 * (`{ options: { auth: { secret } } }`). Deeper ones are not censored here; on their way to a
 * view, electron/core/views.ts censors credential field names at any depth.
 */
export const REDACT_PATHS: string[] = [
  ...[...SECRET_FIELDS, ...SECRET_HEADERS].flatMap((name) => [name, `*.${name}`, `*.*.${name}`]),
];

export interface LoggerOptions {
  readonly level?: LevelWithSilent;
  /** Where records go; stderr by default, so that a CLI's stdout stays machine-readable. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { app: 'market-monitor' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: stdSerializers.err, error: stdSerializers.err },
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything: the default where a caller gives none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** One parsed log record. */
export type LogRecord = Record<string, unknown> & { level: number; msg?: string; module?: string };

/**
 * Keeps the last `capacity` records in memory: the diagnostics panel's event log, and what tests
 * read to see that a stack reached the log.
 */
export class LogRing {
  readonly capacity: number;
  readonly #records: LogRecord[] = [];
  readonly #listeners = new Set<(record: LogRecord) => void>();

  constructor(capacity = 1000) {
    this.capacity = capacity;
  }

  /** A pino destination that feeds this ring. */
  stream(): DestinationStream {
    return new Writable({
      write: (chunk: Buffer | string, _encoding, callback) => {
        for (const line of String(chunk).split('\n')) {
          if (line) this.push(JSON.parse(line) as LogRecord);
        }
        callback();
      },
    });
  }

  push(record: LogRecord): void {
    this.#records.push(record);
    if (this.#records.length > this.capacity)
      this.#records.splice(0, this.#records.length - this.capacity);
    for (const listener of this.#listeners) listener(record);
  }

  records(): readonly LogRecord[] {
    return this.#records;
  }

  subscribe(listener: (record: LogRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** A synchronous logger writing into a ring, for tests and the in-app log. */
export function ringLogger(ring: LogRing, level: LevelWithSilent = 'debug'): Logger {
  const sink: DestinationStream = {
    write(line: string) {
      for (const part of line.split('\n')) if (part) ring.push(JSON.parse(part) as LogRecord);
    },
  };
  return createLogger({ level, destination: sink });
}
