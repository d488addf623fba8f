/**
 * The relay's REST pass-through: a client that streams through the relay has only relay keys, so
 * the market-data GETs Market Monitor makes (snapshots, bars, clock, calendar, assets) are taken
 * on the relay's own port, checked against the relay's client keys, and sent on with the user's
 * Alpaca keys (or the embedded simulator's), the answer coming back with its status and
 * rate-limit headers. Nothing else passes: other methods get 405, other paths 404 (no orders, no
 * account), and an answer that is too big or too slow becomes a 502 that says so, never a
 * truncated 200. Upstream answers are held whole (bounded) before they are passed on.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage } from '../../shared/errors.ts';
import { silentLogger, type Logger } from '../stream/log.ts';

/** Where the relay's REST requests go, and with which keys. */
export interface RestUpstream {
  /** Market data: `https://data.alpaca.markets`, or the simulator's http:// base. */
  readonly dataUrl: string;
  /** Clock, calendar, assets: `https://paper-api.alpaca.markets`, or the simulator's. */
  readonly tradingUrl: string;
  /** The user's Alpaca keys: sent upstream only, never logged, never to a client. */
  readonly keyId: string;
  readonly secret: string;
}

export interface RestProxyOptions {
  /**
   * Fixed, or asked per request (a relay inside the app follows the app's source); undefined:
   * this relay has no REST access now, and REST paths answer 404 as a server without them.
   */
  readonly upstream: RestUpstream | (() => RestUpstream | undefined);
  /** Whether a client's APCA-API-KEY-ID / APCA-API-SECRET-KEY are a relay key pair. */
  readonly authorize: (key: unknown, secret: unknown) => boolean;
  /** Largest upstream body passed on; past it the client gets 502. Default 32 MiB (assets). */
  readonly maxBodyBytes?: number;
  /** Headers and body together; past it the client gets 502. Default 30 000 ms. */
  readonly timeoutMs?: number;
  /** Requests upstream at once; one more gets 503 (bounds what the relay holds). Default 8. */
  readonly maxConcurrent?: number;
  readonly fetch?: typeof fetch;
  readonly logger?: Logger;
}

export interface RestProxyCounters {
  requests: number;
  /** Answers passed on from upstream, whatever their status. */
  forwarded: number;
  /** The relay's own refusals and failures, by status (401, 404, 405, 502, 503). */
  refused: Record<string, number>;
  /** Body bytes passed on. */
  bytes: number;
}

/** Paths the app reads: the data host's stocks and crypto, the trading host's market facts. */
const DATA_PREFIXES = ['/v2/stocks/', '/v1beta3/crypto/'];
const TRADING_EXACT = new Set(['/v2/clock', '/v2/calendar', '/v2/assets']);
const TRADING_PREFIXES = ['/v2/assets/'];
/** Upstream headers a client sees besides the status: the body's type and the rate limit. */
const PASSED_HEADERS = [
  'content-type',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'retry-after',
];

export const REST_PROXY_DEFAULTS = {
  maxBodyBytes: 32 * 1024 * 1024,
  timeoutMs: 30_000,
  maxConcurrent: 8,
} as const;

/**
 * Whether a path's segments, once percent-decoded, would climb: `..%2forders` or `%2e%2e%5c` is
 * not a dot segment to the URL parser, but a server that decodes before routing reads
 * `/v2/assets/../orders`. Undecodable escapes count as climbing too. An encoded slash alone stays
 * allowed: `/v2/assets/BTC%2FUSD` is how the app asks for a crypto pair.
 */
function climbs(pathname: string): boolean {
  for (const segment of pathname.split('/')) {
    if (!segment.includes('%')) continue;
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return true;
    }
    if (decoded.split(/[/\\]/).some((part) => part === '.' || part === '..')) return true;
  }
  return false;
}

/** Which upstream base serves `pathname`, or undefined when it is not on the allow-list. */
export function restTarget(pathname: string): 'data' | 'trading' | undefined {
  if (pathname.includes('\\') || climbs(pathname)) return undefined;
  if (DATA_PREFIXES.some((p) => pathname.startsWith(p) && pathname.length > p.length))
    return 'data';
  if (TRADING_EXACT.has(pathname)) return 'trading';
  // One asset, one segment: nothing below it on the trading host is market data.
  if (
    TRADING_PREFIXES.some(
      (p) =>
        pathname.startsWith(p) && pathname.length > p.length && !pathname.includes('/', p.length),
    )
  )
    return 'trading';
  return undefined;
}

class ProxyFailure extends Error {
  override readonly name = 'ProxyFailure';
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function checkPositive(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
    throw new RangeError(`${name} must be a whole number >= 1`);
  }
}

function base(name: string, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(`${name} is not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new RangeError(`${name} must be http:// or https://`);
  }
  return `${parsed.protocol}//${parsed.host}`;
}

export class RestProxy {
  readonly #authorize: RestProxyOptions['authorize'];
  readonly #upstream: () => RestUpstream | undefined;
  readonly #maxBodyBytes: number;
  readonly #timeoutMs: number;
  readonly #maxConcurrent: number;
  readonly #fetch: typeof fetch;
  readonly #log: Logger;
  /** Aborts every request in flight when the relay closes. */
  readonly #closing = new AbortController();
  #inFlight = 0;
  readonly #counters: RestProxyCounters = { requests: 0, forwarded: 0, refused: {}, bytes: 0 };

  constructor(options: RestProxyOptions) {
    checkPositive('maxBodyBytes', options.maxBodyBytes);
    checkPositive('timeoutMs', options.timeoutMs);
    checkPositive('maxConcurrent', options.maxConcurrent);
    this.#authorize = options.authorize;
    const upstream = options.upstream;
    if (typeof upstream === 'function') {
      this.#upstream = upstream;
    } else {
      // A fixed upstream is checked once, here: a typo fails the relay's start.
      const fixed = { ...upstream, dataUrl: base('dataUrl', upstream.dataUrl) };
      base('tradingUrl', upstream.tradingUrl);
      this.#upstream = () => fixed;
    }
    this.#maxBodyBytes = options.maxBodyBytes ?? REST_PROXY_DEFAULTS.maxBodyBytes;
    this.#timeoutMs = options.timeoutMs ?? REST_PROXY_DEFAULTS.timeoutMs;
    this.#maxConcurrent = options.maxConcurrent ?? REST_PROXY_DEFAULTS.maxConcurrent;
    this.#fetch = options.fetch ?? fetch;
    this.#log = (options.logger ?? silentLogger()).child({ module: 'relay-rest' });
  }

  counters(): RestProxyCounters {
    return { ...this.#counters, refused: { ...this.#counters.refused } };
  }

  /** Requests waiting on the upstream now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Answers one request (never throws; a failure becomes a status with a message). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.#counters.requests += 1;
    this.#serve(req, res).catch((err: unknown) => {
      this.#log.error({ err }, 'the REST pass-through failed');
      this.#refuse(res, 502, 'the relay could not pass the request on');
    });
  }

  /** Aborts what is in flight; later requests are refused with 503. Idempotent. */
  close(): void {
    this.#closing.abort();
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      // Dot segments (also %2e%2e) are resolved here, before the allow-list looks at the path.
      url = new URL(req.url ?? '/', 'http://relay.invalid');
    } catch {
      this.#refuse(res, 400, 'bad request line');
      return;
    }
    const target = restTarget(url.pathname);
    if (target === undefined) {
      this.#refuse(res, 404, `not found: the relay passes on market-data GETs only`);
      return;
    }
    if (req.method !== 'GET') {
      this.#refuse(res, 405, 'method not allowed: the relay passes on GET only', { Allow: 'GET' });
      return;
    }
    const key = firstHeader(req.headers['apca-api-key-id']);
    const secret = firstHeader(req.headers['apca-api-secret-key']);
    if (!this.#authorize(key, secret)) {
      this.#refuse(
        res,
        401,
        'request is not authorized: use a relay key (APCA-API-KEY-ID / APCA-API-SECRET-KEY)',
      );
      return;
    }
    if (this.#closing.signal.aborted) {
      this.#refuse(res, 503, 'the relay is closing');
      return;
    }
    if (this.#inFlight >= this.#maxConcurrent) {
      this.#refuse(res, 503, `the relay has ${this.#inFlight} REST requests in flight; try again`, {
        'Retry-After': '1',
      });
      return;
    }
    const to = this.#upstream();
    if (to === undefined) {
      this.#refuse(res, 404, 'not found: this relay has no REST access now');
      return;
    }
    const upstream = `${base(target, target === 'data' ? to.dataUrl : to.tradingUrl)}${url.pathname}${url.search}`;
    this.#inFlight += 1;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new ProxyFailure('timeout')), this.#timeoutMs);
    const onClosing = (): void => abort.abort(new ProxyFailure('closing'));
    this.#closing.signal.addEventListener('abort', onClosing);
    // A client that hangs up needs no answer: the upstream request stops too.
    const onGone = (): void => {
      if (!res.writableEnded) abort.abort(new ProxyFailure('client gone'));
    };
    res.on('close', onGone);
    try {
      const response = await this.#fetch(upstream, {
        method: 'GET',
        headers: {
          'APCA-API-KEY-ID': to.keyId,
          'APCA-API-SECRET-KEY': to.secret,
          Accept: firstHeader(req.headers.accept) ?? 'application/json',
        },
        redirect: 'error',
        signal: abort.signal,
      });
      const body = await this.#readBody(response, abort.signal);
      const headers: Record<string, string> = { 'Content-Length': String(body.byteLength) };
      for (const name of PASSED_HEADERS) {
        const value = response.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      if (res.destroyed) return;
      res.writeHead(response.status, headers);
      res.end(body);
      this.#counters.forwarded += 1;
      this.#counters.bytes += body.byteLength;
      this.#log.debug({ path: url.pathname, status: response.status }, 'REST passed on');
    } catch (err) {
      const reason = abort.signal.reason as unknown;
      const why = reason instanceof ProxyFailure ? reason.message : undefined;
      if (why === 'client gone') return;
      // A body that ran out of time says how much came; fetch itself rejects with the reason.
      const message =
        err instanceof ProxyFailure && err !== reason
          ? err.message
          : why === 'timeout'
            ? `the upstream did not answer within ${this.#timeoutMs} ms`
            : why === 'closing'
              ? 'the relay is closing'
              : `the upstream could not be reached (${errorMessage(err)})`;
      this.#log.warn({ path: url.pathname, reason: message }, 'REST request failed upstream');
      this.#refuse(res, why === 'closing' ? 503 : 502, message);
    } finally {
      clearTimeout(timer);
      this.#closing.signal.removeEventListener('abort', onClosing);
      res.off('close', onGone);
      this.#inFlight -= 1;
    }
  }

  /** The whole body, or a ProxyFailure past maxBodyBytes (the rest is not read). */
  async #readBody(response: Response, signal: AbortSignal): Promise<Buffer> {
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(declared) && declared > this.#maxBodyBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new ProxyFailure(
        `the upstream answer of ${declared} bytes is over the relay's limit of ${this.#maxBodyBytes}`,
      );
    }
    if (response.body === null) return Buffer.alloc(0);
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > this.#maxBodyBytes) {
          throw new ProxyFailure(
            `the upstream answer is over the relay's limit of ${this.#maxBodyBytes} bytes`,
          );
        }
        chunks.push(value);
      }
    } catch (err) {
      await reader.cancel().catch(() => undefined);
      if (err instanceof ProxyFailure) throw err;
      const reason = signal.reason as unknown;
      if (reason instanceof ProxyFailure && reason.message === 'timeout') {
        throw new ProxyFailure(
          `the upstream answer did not arrive within ${this.#timeoutMs} ms (${size} bytes read)`,
        );
      }
      throw err;
    }
    return Buffer.concat(chunks);
  }

  #refuse(
    res: ServerResponse,
    status: number,
    message: string,
    extra: Record<string, string> = {},
  ): void {
    const key = String(status);
    this.#counters.refused[key] = (this.#counters.refused[key] ?? 0) + 1;
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const body = JSON.stringify({ code: status, message });
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(body)),
      ...extra,
    });
    res.end(body);
  }
}
