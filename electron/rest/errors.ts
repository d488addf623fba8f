/**
 * The one error every REST call rejects with: a small closed set of codes that callers switch on
 * (retry later, ask for keys, show "unknown symbol", report a server fault), the HTTP status when
 * there was one, and a short excerpt of a bad body so a log line says what the server sent.
 * Credentials never reach a RestError: they travel in headers, and excerpts are scrubbed of them.
 */

export type RestErrorCode =
  | 'unauthorized'
  | 'not-found'
  | 'rate-limited'
  | 'server'
  | 'timeout'
  | 'network'
  | 'malformed'
  | 'cancelled'
  | 'bad-request';

/** The longest excerpt of a body kept on an error. */
export const EXCERPT_CHARS = 200;

export interface RestErrorDetails {
  readonly status?: number | undefined;
  readonly excerpt?: string | undefined;
  readonly path: string;
  readonly cause?: unknown;
}

export class RestError extends Error {
  override readonly name = 'RestError';
  readonly code: RestErrorCode;
  readonly status: number | undefined;
  /** A short (at most 200 characters) excerpt of a bad body, or of the server's message. */
  readonly excerpt: string | undefined;
  /** The request path and query; credentials are never in it (they go in headers). */
  readonly path: string;

  constructor(code: RestErrorCode, message: string, details: RestErrorDetails) {
    super(
      `${message} (${code}${details.status === undefined ? '' : ` ${details.status}`}, ${details.path})`,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.code = code;
    this.status = details.status;
    this.excerpt = details.excerpt;
    this.path = details.path;
  }
}

export function isRestError(value: unknown, code?: RestErrorCode): value is RestError {
  return value instanceof RestError && (code === undefined || value.code === code);
}

/**
 * At most EXCERPT_CHARS characters of `text` on one line: control characters become spaces, so a
 * binary or multi-line body cannot break a log record, and each of `secrets` is blanked out.
 */
export function excerptOf(text: string, secrets: readonly string[] = []): string {
  let out = text.length > EXCERPT_CHARS * 4 ? text.slice(0, EXCERPT_CHARS * 4) : text;
  for (const secret of secrets) if (secret) out = out.split(secret).join('[redacted]');
  // eslint-disable-next-line no-control-regex
  out = out.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return out.length > EXCERPT_CHARS ? `${out.slice(0, EXCERPT_CHARS - 1)}…` : out;
}
