/**
 * RestHttp: the one pipeline every Alpaca REST GET goes through, on Node's built-in `fetch` (the
 * official SDK is only a dev dependency here: it is axios-based, bundles far more than the few
 * read-only endpoints we call, cannot cancel a single request, and its errors are hard to map onto
 * what the app needs to tell the user). Per call it waits for the host's rate limiter, sends the
 * credential headers, bounds each attempt with a timeout, reads the body fully under a size cap,
 * retries what is worth retrying with jittered backoff, and shares one fetch between identical GETs
 * in flight. Everything that waits (limiter, backoff, a 429's pause) goes through the injected
 * clock and honours the caller's AbortSignal; attempt timeouts are real timers, so a fake clock in
 * tests cannot keep a real socket open forever.
 */
import { performance } from 'node:perf_hooks';
import { backoffDelay, type BackoffPolicy } from '../stream/backoff.ts';
import { Histogram, type HistogramSummary } from '../stream/histogram.ts';
import { silentLogger, type Logger } from '../stream/log.ts';
import { RestError, excerptOf, type RestErrorCode } from './errors.ts';
import { TokenBucket } from './rate-limiter.ts';

/** Wall-clock time (epoch ms: X-RateLimit-Reset is unix seconds) and waiting, injectable. */
export interface RestClock {
  now(): number;
  /** Resolves after `ms`, or early once `signal` aborts (the caller checks the signal after). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: RestClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    }),
};

export interface RestHttpOptions {
  readonly keyId?: string | undefined;
  readonly secret?: string | undefined;
  /** Per host; default 200 (Alpaca's free plan). */
  readonly requestsPerMinute?: number | undefined;
  /** Per attempt, from sending the request to the last byte of the body; default 10 s. */
  readonly timeoutMs?: number | undefined;
  /** Attempts in all, the first included; default 3. */
  readonly maxAttempts?: number | undefined;
  /** Largest body read; default 64 MiB (the asset list is a few MB). */
  readonly maxBodyBytes?: number | undefined;
  readonly clock?: RestClock | undefined;
  /** Draws in [0, 1) for backoff jitter; default Math.random. */
  readonly random?: (() => number) | undefined;
  readonly fetch?: typeof fetch | undefined;
  readonly logger?: Logger | undefined;
}

export interface RestRateLimitState {
  readonly limit: number | undefined;
  readonly remaining: number | undefined;
  /** Epoch ms. */
  readonly resetAt: number | undefined;
}

export interface RestMetrics {
  /** HTTP requests sent (each attempt counts). */
  readonly requests: number;
  /** Failed requests by RestErrorCode (a shared request counts once; a caller leaving one, once). */
  readonly errors: Readonly<Record<string, number>>;
  /** 429 answers seen. */
  readonly rateLimited: number;
  readonly retries: number;
  /** Per host, the last X-RateLimit-* headers seen. */
  readonly rateLimit: Readonly<Record<string, RestRateLimitState>>;
  /** Per attempt that got an answer, ms from sending to the end of the body. */
  readonly latency: HistogramSummary;
  /** Requests under way (after sharing), including those waiting for the limiter or a backoff. */
  readonly inFlight: number;
}

export const REST_DEFAULTS = {
  requestsPerMinute: 200,
  timeoutMs: 10_000,
  maxAttempts: 3,
  maxBodyBytes: 64 * 1024 * 1024,
} as const;

/** Backoff of 5xx, 408, timeouts and network errors: full jitter under 0.5 s, 1 s, 2 s ... 8 s. */
export const REST_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 8_000 };

/**
 * The longest a 429 makes us wait. Alpaca's window is a minute, so its Retry-After or reset is
 * within one; a bigger value is a skewed clock or a bad header and must not park the app for an hour.
 */
export const MAX_RATE_WAIT_MS = 65_000;

/** An error answer's body is read only this far, for its message. */
const ERROR_BODY_BYTES = 64 * 1024;

/** Query parameters never put in a path we log or keep (we send none: credentials go in headers). */
const SECRET_PARAMS =
  /^(apca-api-key-id|apca-api-secret-key|key|key_id|secret|token|access_token)$/i;

const PATH_CHARS = 200;

type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      readonly error: RestError;
      readonly retry: boolean;
      /** A 429: the host's limiter is blocked until the pause is over, so no separate sleep. */
      readonly limitedForMs?: number;
    };

interface SharedRequest {
  readonly url: string;
  readonly controller: AbortController;
  promise: Promise<unknown>;
  refs: number;
  settled: boolean;
}

class BodyError extends Error {
  readonly kind: 'too-large' | 'cut';
  readonly partial: string;
  constructor(kind: 'too-large' | 'cut', partial: string, cause?: unknown) {
    super(kind === 'too-large' ? 'body too large' : 'body cut short', { cause });
    this.kind = kind;
    this.partial = partial;
  }
}

export class RestHttp {
  readonly #headers: Record<string, string>;
  readonly #secrets: readonly string[];
  readonly #requestsPerMinute: number;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #maxBodyBytes: number;
  readonly #clock: RestClock;
  readonly #random: () => number;
  readonly #fetch: typeof fetch;
  readonly #log: Logger;
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #rateLimit = new Map<string, RestRateLimitState>();
  readonly #inflight = new Map<string, SharedRequest>();
  readonly #closer = new AbortController();
  readonly #latency = new Histogram();
  readonly #errors: Record<string, number> = {};
  #requests = 0;
  #rateLimited = 0;
  #retries = 0;
  #active = 0;

  constructor(options: RestHttpOptions = {}) {
    const keyId = options.keyId ?? '';
    const secret = options.secret ?? '';
    if ((keyId === '') !== (secret === ''))
      throw new TypeError('REST credentials need both a key id and a secret, or neither');
    this.#headers = { Accept: 'application/json' };
    if (keyId !== '') {
      this.#headers['APCA-API-KEY-ID'] = keyId;
      this.#headers['APCA-API-SECRET-KEY'] = secret;
    }
    this.#secrets = [keyId, secret].filter((s) => s !== '');
    this.#requestsPerMinute = positiveInteger(
      'requestsPerMinute',
      options.requestsPerMinute ?? REST_DEFAULTS.requestsPerMinute,
    );
    this.#timeoutMs = positiveInteger('timeoutMs', options.timeoutMs ?? REST_DEFAULTS.timeoutMs);
    this.#maxAttempts = positiveInteger(
      'maxAttempts',
      options.maxAttempts ?? REST_DEFAULTS.maxAttempts,
    );
    this.#maxBodyBytes = positiveInteger(
      'maxBodyBytes',
      options.maxBodyBytes ?? REST_DEFAULTS.maxBodyBytes,
    );
    this.#clock = options.clock ?? realClock;
    this.#random = options.random ?? Math.random;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#log = options.logger ? options.logger.child({ module: 'rest' }) : silentLogger();
  }

  get closed(): boolean {
    return this.#closer.signal.aborted;
  }

  /**
   * GETs `url` (absolute) and resolves with its parsed JSON body, or rejects with a RestError.
   * An identical GET already in flight is joined rather than repeated; leaving it (by `signal`)
   * cancels the fetch only when no other caller still waits for it.
   */
  getJson(
    url: string,
    options: { readonly signal?: AbortSignal | undefined } = {},
  ): Promise<unknown> {
    const path = this.describePath(url);
    const signal = options.signal;
    if (this.closed) return Promise.reject(this.#cancelled(path));
    if (signal?.aborted) {
      this.#countError('cancelled');
      return Promise.reject(this.#cancelled(path));
    }
    const entry = this.#inflight.get(url) ?? this.#start(url, path);
    return this.#join(entry, path, signal);
  }

  /** The path and query of `url` for logs and errors: credential-named parameters blanked, capped. */
  describePath(url: string): string {
    let text: string;
    try {
      const parsed = new URL(url);
      for (const name of [...parsed.searchParams.keys()])
        if (SECRET_PARAMS.test(name)) parsed.searchParams.set(name, '[redacted]');
      text = `${parsed.pathname}${parsed.search}`;
    } catch {
      text = url;
    }
    text = excerptOf(text, this.#secrets);
    return text.length > PATH_CHARS ? `${text.slice(0, PATH_CHARS - 1)}…` : text;
  }

  metrics(): RestMetrics {
    return {
      requests: this.#requests,
      errors: { ...this.#errors },
      rateLimited: this.#rateLimited,
      retries: this.#retries,
      rateLimit: Object.fromEntries(this.#rateLimit),
      latency: this.#latency.summary(),
      inFlight: this.#active,
    };
  }

  /** Cancels everything in flight (each caller gets 'cancelled'); later calls are refused. */
  close(): void {
    if (this.closed) return;
    this.#closer.abort();
    this.#inflight.clear();
  }

  #start(url: string, path: string): SharedRequest {
    const controller = new AbortController();
    const unlink = link(this.#closer.signal, controller);
    const entry: SharedRequest = {
      url,
      controller,
      promise: Promise.resolve(),
      refs: 0,
      settled: false,
    };
    const settle = (): void => {
      entry.settled = true;
      unlink();
      this.#active--;
      if (this.#inflight.get(url) === entry) this.#inflight.delete(url);
    };
    this.#active++;
    this.#inflight.set(url, entry);
    entry.promise = this.#run(url, path, controller.signal);
    entry.promise.then(settle, (err: unknown) => {
      this.#countError(err instanceof RestError ? err.code : 'network');
      settle();
    });
    return entry;
  }

  #join(entry: SharedRequest, path: string, signal: AbortSignal | undefined): Promise<unknown> {
    entry.refs++;
    return new Promise<unknown>((resolve, reject) => {
      let done = false;
      const leave = (): boolean => {
        if (done) return false;
        done = true;
        signal?.removeEventListener('abort', onAbort);
        entry.refs--;
        return true;
      };
      const onAbort = (): void => {
        if (!leave()) return;
        if (entry.refs === 0 && !entry.settled) {
          // The last caller left: stop the fetch (its rejection is counted as 'cancelled').
          if (this.#inflight.get(entry.url) === entry) this.#inflight.delete(entry.url);
          entry.controller.abort();
        } else {
          this.#countError('cancelled');
        }
        reject(this.#cancelled(path));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      entry.promise.then(
        (value) => {
          if (leave()) resolve(value);
        },
        (err: unknown) => {
          if (leave()) reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  async #run(url: string, path: string, signal: AbortSignal): Promise<unknown> {
    const host = hostOf(url);
    for (let attempt = 1; ; attempt++) {
      await this.#acquire(host, path, signal);
      const outcome = await this.#attempt(url, path, host, attempt, signal);
      if (outcome.ok) return outcome.value;
      const { error } = outcome;
      if (!outcome.retry || attempt >= this.#maxAttempts || signal.aborted) {
        if (signal.aborted) throw this.#cancelled(path);
        if (outcome.retry)
          this.#log.warn(
            { host, path, attempt, code: error.code, status: error.status },
            'REST request failed; giving up',
          );
        throw error;
      }
      this.#retries++;
      const delayMs =
        outcome.limitedForMs ?? backoffDelay(REST_BACKOFF, attempt, 0, this.#random());
      this.#log.warn(
        { host, path, attempt, code: error.code, status: error.status, delayMs },
        'REST request failed; retrying',
      );
      // After a 429 the host's limiter is blocked for the pause; acquiring a token waits it out.
      if (outcome.limitedForMs === undefined) await this.#sleep(delayMs, signal, path);
    }
  }

  /** Waits for a token of `host`'s bucket. */
  async #acquire(host: string, path: string, signal: AbortSignal): Promise<void> {
    const bucket = this.#bucket(host);
    for (;;) {
      if (signal.aborted) throw this.#cancelled(path);
      const now = this.#clock.now();
      if (bucket.tryTake(now)) return;
      await this.#sleep(Math.max(1, bucket.delay(now)), signal, path);
    }
  }

  async #attempt(
    url: string,
    path: string,
    host: string,
    attempt: number,
    signal: AbortSignal,
  ): Promise<Outcome> {
    const controller = new AbortController();
    const unlink = link(signal, controller);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    const started = performance.now();
    let status: number | undefined;
    let outcome: Outcome | undefined;
    this.#requests++;
    // Why a fetch or body read failed: our caller, our timer, or the network.
    const failure = (err: unknown, networkMessage: string): Outcome => {
      if (signal.aborted) return { ok: false, error: this.#cancelled(path), retry: false };
      if (timedOut)
        return {
          ok: false,
          retry: true,
          error: new RestError('timeout', `no complete answer within ${this.#timeoutMs} ms`, {
            status,
            path,
            cause: err,
          }),
        };
      return {
        ok: false,
        retry: true,
        error: new RestError('network', `${networkMessage}: ${errorText(err)}`, {
          status,
          path,
          cause: err,
        }),
      };
    };
    try {
      let response: Response;
      try {
        response = await this.#fetch(url, {
          method: 'GET',
          headers: this.#headers,
          signal: controller.signal,
          // Alpaca never redirects; following one off-host would hand our key headers to it.
          redirect: 'manual',
        });
      } catch (err) {
        outcome = failure(err, 'request failed');
        return outcome;
      }
      status = response.status;
      this.#observeHeaders(host, response.headers, status);
      if (status >= 200 && status < 300) {
        let text: string;
        try {
          text = await readBody(response, this.#maxBodyBytes);
        } catch (err) {
          outcome = this.#bodyFailure(err, path, status, failure);
          return outcome;
        }
        try {
          outcome = { ok: true, value: JSON.parse(text) as unknown };
        } catch (err) {
          outcome = {
            ok: false,
            retry: false,
            error: new RestError('malformed', `the body is not JSON: ${errorText(err)}`, {
              status,
              path,
              excerpt: excerptOf(text, this.#secrets),
            }),
          };
        }
        return outcome;
      }
      let text = '';
      try {
        text = await readBody(response, ERROR_BODY_BYTES);
      } catch (err) {
        // The status says enough; a cut or huge error body only loses its message.
        if (err instanceof BodyError) text = err.partial;
      }
      if (signal.aborted) {
        outcome = { ok: false, error: this.#cancelled(path), retry: false };
        return outcome;
      }
      outcome = this.#statusFailure(status, text, path, host, attempt, response.headers);
      return outcome;
    } finally {
      clearTimeout(timer);
      unlink();
      const ms = performance.now() - started;
      if (status !== undefined) this.#latency.record(ms);
      this.#log.debug(
        {
          host,
          path,
          attempt,
          status,
          ms: Math.round(ms * 10) / 10,
          ...(outcome && !outcome.ok ? { code: outcome.error.code } : {}),
        },
        'REST request',
      );
    }
  }

  #bodyFailure(
    err: unknown,
    path: string,
    status: number,
    failure: (err: unknown, networkMessage: string) => Outcome,
  ): Outcome {
    if (err instanceof BodyError && err.kind === 'too-large')
      return {
        ok: false,
        retry: false,
        error: new RestError('malformed', `the body is over ${this.#maxBodyBytes} bytes`, {
          status,
          path,
          excerpt: excerptOf(err.partial, this.#secrets),
        }),
      };
    const base = failure(err, 'body cut short');
    if (base.ok || base.error.code !== 'network') return base;
    // A body cut short is a dropped connection, so it is retried; if the last attempt is cut too,
    // the caller learns the body was unusable, with what did arrive.
    return {
      ok: false,
      retry: true,
      error: new RestError('malformed', `the body was cut short: ${errorText(err)}`, {
        status,
        path,
        excerpt: excerptOf(err instanceof BodyError ? err.partial : '', this.#secrets),
        cause: err,
      }),
    };
  }

  #statusFailure(
    status: number,
    text: string,
    path: string,
    host: string,
    attempt: number,
    headers: Headers,
  ): Outcome {
    const message = serverMessage(text);
    const excerpt = text === '' ? undefined : excerptOf(message ?? text, this.#secrets);
    const said = message === undefined ? '' : `: ${excerptOf(message, this.#secrets)}`;
    const error = (code: RestErrorCode, what: string): RestError =>
      new RestError(code, `${what}${said}`, { status, path, excerpt });
    if (status === 401 || status === 403)
      return { ok: false, retry: false, error: error('unauthorized', 'credentials refused') };
    if (status === 404) return { ok: false, retry: false, error: error('not-found', 'not found') };
    if (status === 429) {
      this.#rateLimited++;
      const now = this.#clock.now();
      let wait = retryAfterMs(headers.get('retry-after'), now);
      const resetAt = this.#rateLimit.get(host)?.resetAt;
      if (wait === undefined && resetAt !== undefined && resetAt > now) wait = resetAt - now;
      wait ??= backoffDelay(REST_BACKOFF, attempt, 0, this.#random());
      wait = Math.min(Math.max(0, wait), MAX_RATE_WAIT_MS);
      this.#bucket(host).block(now + wait, now);
      return {
        ok: false,
        retry: true,
        limitedForMs: wait,
        error: error('rate-limited', 'rate limited'),
      };
    }
    if (status === 408)
      return { ok: false, retry: true, error: error('timeout', 'server timed out') };
    if (status === 425 || status >= 500)
      return { ok: false, retry: true, error: error('server', 'server error') };
    if (status >= 300 && status < 400)
      return { ok: false, retry: false, error: error('bad-request', 'unexpected redirect') };
    return { ok: false, retry: false, error: error('bad-request', 'request refused') };
  }

  #observeHeaders(host: string, headers: Headers, status: number): void {
    const limit = intHeader(headers, 'x-ratelimit-limit');
    const remaining = intHeader(headers, 'x-ratelimit-remaining');
    const reset = intHeader(headers, 'x-ratelimit-reset');
    if (limit === undefined && remaining === undefined && reset === undefined) return;
    const resetAt = reset === undefined ? undefined : reset * 1000;
    this.#rateLimit.set(host, { limit, remaining, resetAt });
    // A 429 blocks the bucket itself, for its Retry-After first (#statusFailure), which is the
    // server's word on this refusal and may be shorter than the window's reset.
    if (status !== 429) this.#bucket(host).observe(remaining, resetAt, this.#clock.now());
  }

  #bucket(host: string): TokenBucket {
    let bucket = this.#buckets.get(host);
    if (!bucket) {
      bucket = new TokenBucket(this.#requestsPerMinute);
      this.#buckets.set(host, bucket);
    }
    return bucket;
  }

  /** Sleeps on the injected clock; rejects 'cancelled' if `signal` aborts before or during. */
  async #sleep(ms: number, signal: AbortSignal, path: string): Promise<void> {
    if (signal.aborted) throw this.#cancelled(path);
    if (ms > 0) {
      // Raced with the signal too, so a clock whose sleep ignores it cannot hold a cancel up.
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        signal.addEventListener('abort', done, { once: true });
        this.#clock.sleep(ms, signal).then(done, done);
      });
    }
    if (signal.aborted) throw this.#cancelled(path);
  }

  #cancelled(path: string): RestError {
    return new RestError('cancelled', this.closed ? 'client closed' : 'request cancelled', {
      path,
    });
  }

  #countError(code: RestErrorCode): void {
    this.#errors[code] = (this.#errors[code] ?? 0) + 1;
  }
}

/** Reads a body to the end as UTF-8, refusing more than `cap` bytes. */
async function readBody(response: Response, cap: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > cap) {
    await response.body?.cancel().catch(() => undefined);
    throw new BodyError('too-large', '');
  }
  if (!response.body) return '';
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const sofar = (): string => Buffer.concat(chunks, size).toString('utf8');
  for (;;) {
    let read: Awaited<ReturnType<typeof reader.read>>;
    try {
      read = await reader.read();
    } catch (err) {
      throw new BodyError('cut', sofar(), err);
    }
    if (read.done) break;
    if (size + read.value.byteLength > cap) {
      reader.cancel().catch(() => undefined);
      throw new BodyError('too-large', sofar());
    }
    chunks.push(read.value);
    size += read.value.byteLength;
  }
  return sofar();
}

/** Alpaca's error bodies are `{"message": "..."}` or `{"code": ..., "message": "..."}`. */
function serverMessage(text: string): string | undefined {
  if (text === '') return undefined;
  try {
    const body = JSON.parse(text) as unknown;
    if (body !== null && typeof body === 'object' && 'message' in body) {
      const message = body.message;
      if (typeof message === 'string' && message !== '') return message;
    }
  } catch {
    // Not JSON: the raw text serves as the excerpt.
  }
  return undefined;
}

/** Retry-After as seconds or an HTTP date, in ms from `now`. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function intHeader(headers: Headers, name: string): number | undefined {
  const value = headers.get(name);
  if (value === null || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Aborts `child` when `parent` does; returns the unlink, so no listener outlives the child. */
function link(parent: AbortSignal, child: AbortController): () => void {
  if (parent.aborted) {
    child.abort();
    return () => undefined;
  }
  const onAbort = (): void => child.abort();
  parent.addEventListener('abort', onAbort, { once: true });
  return () => parent.removeEventListener('abort', onAbort);
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici's "fetch failed" hides the useful part (ECONNREFUSED, "other side closed") in `cause`.
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, not ${value}`);
  return value;
}
