/**
 * Browser mode: the built renderer served over HTTP on loopback, and the same MonitorApi a window
 * gets through preload bridged over a local WebSocket. No electron import (lint enforces it): this
 * runs in the `market-monitor web` CLI and in tests, and is how the UI is tested end to end in
 * Chromium on machines without an Electron binary.
 *
 * Who can reach it, and what stops them:
 * - Only this machine: the server binds 127.0.0.1, never a wildcard address.
 * - Any web page the user visits can make the browser send requests to loopback. DNS rebinding
 *   (a name the attacker controls resolving to 127.0.0.1) is stopped by the Host check: every
 *   request, upgrades included, must name `127.0.0.1:PORT` or `localhost:PORT` (else 421).
 * - Cross-site WebSocket hijacking (a foreign page opening `ws://127.0.0.1:PORT/bridge`) is stopped
 *   twice: the Origin must be exactly this host's own origin (else 403), and the per-run token must
 *   match (else 401). The token travels in the page URL's fragment (`#token=`), which browsers never
 *   send in a request or a Referer; the page passes it in the bridge URL's query. It is compared in
 *   constant time and never logged.
 * - Static files: see electron/core/static-files.ts (no traversal, no symlink escape), served with
 *   a strict CSP and nosniff.
 *
 * ## The bridge protocol (one WebSocket per view; one ViewSession per socket)
 * Client -> host, text messages, JSON:
 *   { "type": "invoke", "id": n, "command": "watchlists:list", "payload": {...} }
 *   { "type": "frame",  "id": n }                    pull the next quote frame
 * Host -> client:
 *   text  { "type": "result", "id": n, "result": Result }   the answer to invoke n; also the answer
 *         to frame request n when no frame can come (superseded by a newer request, the view
 *         closed). A row whose symbol the codec cannot carry (a lone surrogate, over 65 535 bytes of
 *         UTF-8, empty) is left out of the frame and logged, and the rest of the frame is sent.
 *   text  { "type": "event", "event": name, "payload": ... } pushed events (EventMap)
 *   binary  [u32 LE request id][u32 zero][encodeFrame bytes]   the frame for frame request n; the
 *         8-byte header keeps the frame's float64 columns 8-aligned, so the client decodes them
 *         without a copy
 * Ids are integers 0 .. 2^32-1 chosen by the client, one sequence for both kinds of request.
 * A message the host cannot answer (binary, not JSON, no usable id) closes the socket: 1003 for
 * binary, 1008 for the rest; the client is our own code, so such a message is a bug or an attack,
 * and either way it is logged. A well-formed message with a bad field (unknown type, a command
 * that is not a string) is answered with a `bad-request` result and the socket stays open. Command
 * names and payloads are validated by the ViewSession (zod), as for a window.
 *
 * Backpressure: frames are pulled, one request in flight per view, so a slow tab asks less often
 * and gets fuller frames; the frame stream limits itself. Events are small and few and are always
 * sent. A socket whose unsent data still grows past `maxBufferedBytes` belongs to a tab that stopped
 * reading altogether; it is closed rather than allowed to hold unbounded memory. The page reads its
 * socket in a worker (renderer/worker-socket.ts), which keeps reading while the page's main thread
 * is stalled, so the worker holds the same limit against what the page has not read yet
 * (renderer/socket-relay.ts) and closes the socket (4000) past it.
 *
 * Bounds across sockets (issue 15: eight sockets pipelining `diagnostics:export` without reading
 * once took the host from 138 to 766 MiB in 6 s), each answered so that the client can tell why:
 * - Unanswered invokes: at most `maxPendingInvokes` per socket, and `maxPendingBytes` of their
 *   messages over all sockets. One more is answered at once with a `limit` error and not run: the
 *   socket stays open, since a page that sends too fast is a bug to report, not an attack to cut.
 * - Unsent bytes over all sockets: past `maxTotalBufferedBytes`, the socket furthest behind is
 *   closed as one past its own limit is (it stopped reading; the others go on).
 * - Sockets: at most `maxSockets`. One more is accepted and closed at once with 1013 "try again
 *   later" and a reason the page can show; when that many refusals are themselves still closing,
 *   the upgrade is refused with HTTP 503 before any WebSocket state exists.
 *
 * ## What is logged, and what never is
 * Every log record becomes a 'log:entry' event sent to every open socket, and lands in the log
 * ring and the diagnostics export. So:
 * - A refused message's content is never logged, only its length and, when it parses, its `type`
 *   and `command` if they are ones the protocol knows: the content may be a `credentials:set`
 *   payload, and a cut-off key no longer matches the core's value-based redaction.
 * - A socket is given up at its first failure (a failed send, a socket error, a backlog past the
 *   limit): logged once, terminated, and never sent to again. Otherwise sends to a vanished tab
 *   fail, each failure is logged, each record is sent to every other vanished tab, whose sends
 *   fail too: a loop that grows with the square of the dead sockets.
 * - Refusals before authentication (foreign Host, foreign Origin, no or wrong token, unknown path,
 *   malformed HTTP) are chosen by whoever sends them, and any web page can make the browser send
 *   them. Each kind is logged in full once, with short sanitized excerpts of the headers at fault;
 *   repeats are counted and summed up in at most one line per kind per `refusalLogIntervalMs`
 *   (see RefusalLog), so they cannot flush the real records out of the ring and the export.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { resolve as resolvePath } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { fail, isCommandName, type Result } from '../../shared/api.ts';
import { encodeFrame, symbolProblem } from '../../shared/frame-codec.ts';
import type { QuoteFrame } from '../../shared/frame.ts';
import type { ViewSession, ViewSink } from '../core/types.ts';
import { contentSecurityPolicy, contentTypeFor, resolveStaticFile } from '../core/static-files.ts';
import { silentLogger, type Logger } from '../stream/log.ts';
import { errorMessage } from '../../shared/errors.ts';

/** What the host needs of the core: MonitorCore satisfies it; tests pass a small fake. */
export interface HostCore {
  openView(sink: ViewSink): ViewSession;
}

export interface HostOptions {
  readonly core: HostCore;
  /** The built renderer (index.html and assets). Missing or empty: `/` answers 503. */
  readonly staticDir: string;
  /** Default 0: a free port, read it from `Host.port`. */
  readonly port?: number;
  /** Default: 32 random bytes, base64url. Given: at least 16 characters of [A-Za-z0-9_-]. */
  readonly token?: string;
  /** A child `{ module: 'host' }` is made. Default: silent. */
  readonly logger?: Logger;
  /** Largest client message in bytes. Default 1 MiB (a 10 000-symbol add is about 100 KiB). */
  readonly maxPayload?: number;
  /** A socket with more unsent bytes than this is closed (see above). Default 64 MiB. */
  readonly maxBufferedBytes?: number;
  /** Unsent bytes over all sockets; past it the socket furthest behind is closed. Default 32 MiB. */
  readonly maxTotalBufferedBytes?: number;
  /** Unanswered invokes per socket; more are answered with a `limit` error. Default 32. */
  readonly maxPendingInvokes?: number;
  /** Bytes of unanswered invoke messages over all sockets; past it, as above. Default 16 MiB. */
  readonly maxPendingBytes?: number;
  /** Bridge sockets open at once; one more is closed with 1013. Default 64. */
  readonly maxSockets?: number;
  /** Repeated refusals of one kind are summed up in one line per this many ms. Default 10 000. */
  readonly refusalLogIntervalMs?: number;
  /** The clock of the refusal log (tests pass a fake one). Default Date.now. */
  readonly now?: () => number;
}

export interface Host {
  /** What the user opens: `http://127.0.0.1:PORT/#token=...`. */
  readonly url: string;
  /** `http://127.0.0.1:PORT`: the Origin the bridge accepts (and `http://localhost:PORT`). */
  readonly origin: string;
  readonly port: number;
  readonly token: string;
  /** Open bridge sockets. */
  readonly connections: number;
  /** The bound address, as the server reports it (`127.0.0.1`, IPv4). */
  address(): { readonly address: string; readonly family: string; readonly port: number };
  /** Closes every bridge socket (and so every view session) and stops listening. Idempotent. */
  close(): Promise<void>;
}

/** Binary frame messages start with this many header bytes before the encoded frame. */
export const FRAME_HEADER_BYTES = 8;
export const BRIDGE_PATH = '/bridge';
const MAX_ID = 0xffff_ffff;
const MAX_COMMAND_LENGTH = 100;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,512}$/;
const NOT_BUILT = 'renderer not built: run npm run build\n';
/** Longest excerpt of a refused request's header or path that reaches the log. */
const MAX_EXCERPT = 64;
const MESSAGE_TYPES: ReadonlySet<unknown> = new Set(['invoke', 'frame']);
/** Close code for a socket over `maxSockets`: "try again later" (RFC 6455, IANA registry). */
const TRY_AGAIN_LATER = 1013;
/** A refused socket that does not finish the close handshake in this long is cut. */
const REFUSAL_GRACE_MS = 1000;
/**
 * Unsent bytes a socket holds before the total over all sockets is summed: a tab that reads keeps
 * its queue near zero, so only a socket that is behind can push the total up.
 */
const SUM_ABOVE_BYTES = 256 * 1024;

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(`${name} must be a whole number of at least 1; got ${String(value)}`);
  }
  return n;
}

/** Starts the host and resolves once it listens on 127.0.0.1. */
export async function startHost(options: HostOptions): Promise<Host> {
  const host = new BridgeHost(options);
  await host.listen(options.port ?? 0);
  return host;
}

class BridgeHost implements Host {
  url = '';
  origin = '';
  port = 0;
  readonly token: string;

  readonly #core: HostCore;
  readonly #staticDir: string;
  readonly #log: Logger;
  readonly #maxBufferedBytes: number;
  readonly #maxTotalBufferedBytes: number;
  readonly #maxPendingInvokes: number;
  readonly #maxPendingBytes: number;
  readonly #maxSockets: number;
  readonly #tokenDigest: Buffer;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  /** Open bridge sockets, each with the function that gives it up (closes it, logged once). */
  readonly #sockets = new Map<WebSocket, (why: string) => void>();
  /** Sockets over maxSockets being closed. */
  #refusing = 0;
  /** Bytes of invoke messages not answered yet, over all sockets. */
  #pendingBytes = 0;
  readonly #refusals: RefusalLog;
  /** Exact Host header values accepted; set once the port is known. */
  #hosts: ReadonlySet<string> = new Set();
  #origins: ReadonlySet<string> = new Set();
  #csp = '';
  #nextConnection = 1;
  #closing: Promise<void> | undefined;
  /** Rows left out of frames because the codec cannot carry their symbol (the first is logged). */
  #unencodableSymbols = 0;

  constructor(options: HostOptions) {
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new RangeError(`port must be a whole number from 0 to 65535; got ${String(port)}`);
    }
    if (options.token !== undefined && !TOKEN_PATTERN.test(options.token)) {
      throw new RangeError('token must be 16 to 512 characters of A-Z, a-z, 0-9, "_" and "-"');
    }
    const maxPayload = options.maxPayload ?? 1024 * 1024;
    if (!Number.isInteger(maxPayload) || maxPayload < 1024) {
      throw new RangeError('maxPayload must be a whole number of at least 1024');
    }
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 64 * 1024 * 1024;
    if (!(this.#maxBufferedBytes > 0)) throw new RangeError('maxBufferedBytes must be positive');
    this.#maxTotalBufferedBytes = positiveInteger(
      'maxTotalBufferedBytes',
      options.maxTotalBufferedBytes,
      32 * 1024 * 1024,
    );
    this.#maxPendingInvokes = positiveInteger('maxPendingInvokes', options.maxPendingInvokes, 32);
    this.#maxPendingBytes = positiveInteger(
      'maxPendingBytes',
      options.maxPendingBytes,
      16 * 1024 * 1024,
    );
    this.#maxSockets = positiveInteger('maxSockets', options.maxSockets, 64);
    this.#core = options.core;
    this.#staticDir = resolvePath(options.staticDir);
    this.#log = (options.logger ?? silentLogger()).child({ module: 'host' });
    this.#refusals = new RefusalLog({
      log: this.#log,
      intervalMs: options.refusalLogIntervalMs ?? 10_000,
      ...(options.now ? { now: options.now } : {}),
    });
    this.token = options.token ?? randomBytes(32).toString('base64url');
    this.#tokenDigest = digest(this.token);
    this.#wss = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false });
    this.#http = createServer((req, res) => {
      this.#request(req, res).catch((err: unknown) => {
        this.#log.error({ err }, 'request failed');
        if (!res.headersSent) this.#plain(res, 500, 'internal error\n');
        else res.destroy();
      });
    });
    this.#http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      try {
        this.#upgrade(req, socket, head);
      } catch (err) {
        this.#log.error({ err }, 'upgrade failed');
        socket.destroy();
      }
    });
    this.#http.on('clientError', (err, socket) => {
      // Not `err` itself: Node attaches the raw request bytes to it (rawPacket), the sender's text.
      this.#refusals.note('debug', 'malformed HTTP request', {
        code: (err as NodeJS.ErrnoException).code ?? null,
      });
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  get connections(): number {
    return this.#sockets.size;
  }

  address(): { readonly address: string; readonly family: string; readonly port: number } {
    const address = this.#http.address();
    if (typeof address !== 'object' || address === null)
      throw new Error('the host is not listening');
    return { address: address.address, family: address.family, port: address.port };
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.#http.once('error', onError);
      // Loopback only, by address: never '::' or '0.0.0.0', never a name that might resolve elsewhere.
      this.#http.listen(port, '127.0.0.1', () => {
        this.#http.off('error', onError);
        resolve();
      });
    });
    this.#http.on('error', (err) => this.#log.error({ err }, 'http server error'));
    const address = this.#http.address();
    this.port = typeof address === 'object' && address !== null ? address.port : port;
    this.origin = `http://127.0.0.1:${this.port}`;
    this.url = `${this.origin}/#token=${this.token}`;
    this.#hosts = new Set([`127.0.0.1:${this.port}`, `localhost:${this.port}`]);
    this.#origins = new Set([this.origin, `http://localhost:${this.port}`]);
    this.#csp = contentSecurityPolicy({
      connectSrc: [`ws://127.0.0.1:${this.port}`, `ws://localhost:${this.port}`],
    });
    this.#log.info(
      { origin: this.origin, staticDir: this.#staticDir },
      'browser-mode host listening',
    );
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  // ---------------------------------------------------------------------------- HTTP

  async #request(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.#hostAllowed(req)) {
      this.#refusals.note('warn', 'request refused: foreign Host header', {
        host: excerpt(req.headers.host),
        remote: req.socket.remoteAddress,
      });
      this.#plain(res, 421, 'misdirected request\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      this.#plain(res, 405, 'method not allowed\n');
      return;
    }
    const url = req.url ?? '/';
    const pathname = url.split(/[?#]/, 1)[0] ?? '';
    if (pathname === BRIDGE_PATH) {
      this.#plain(res, 426, 'websocket upgrade required\n');
      return;
    }
    const file = await resolveStaticFile(this.#staticDir, url);
    if (file === undefined) {
      if (pathname === '/' || pathname === '/index.html') {
        this.#plain(res, 503, NOT_BUILT);
      } else {
        this.#plain(res, 404, 'not found\n');
      }
      return;
    }
    this.#securityHeaders(res);
    res.writeHead(200, {
      'Content-Type': contentTypeFor(file.path),
      'Content-Length': file.size,
      // The app is rebuilt in place; a stale cached script would not match the new index.html.
      'Cache-Control': 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(file.path);
    stream.on('error', (err) => {
      this.#log.error({ err }, 'reading a static file failed');
      res.destroy();
    });
    res.on('close', () => stream.destroy());
    stream.pipe(res);
  }

  #securityHeaders(res: ServerResponse): void {
    res.setHeader('Content-Security-Policy', this.#csp);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    // With the opener policy, this makes the page cross-origin isolated: it may share memory with
    // its bridge worker (renderer/frame-slot.ts). The page loads nothing from other origins.
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('X-Frame-Options', 'DENY');
  }

  #plain(res: ServerResponse, status: number, body: string): void {
    this.#securityHeaders(res);
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
    });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  #hostAllowed(req: IncomingMessage): boolean {
    const host = req.headers.host;
    return host !== undefined && this.#hosts.has(host.toLowerCase());
  }

  // ---------------------------------------------------------------------------- upgrade

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Until ws takes the socket over; an accepted socket's errors are the connection's (#accept).
    const onError = (err: Error): void =>
      this.#refusals.note('debug', 'socket error during upgrade', { err });
    socket.on('error', onError);
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    const remote = req.socket.remoteAddress;
    if (!this.#hostAllowed(req)) {
      this.#refuse(socket, 421, 'Misdirected Request', 'foreign Host header', {
        host: excerpt(req.headers.host),
        remote,
      });
      return;
    }
    // The request target exactly: `/bridge` or `/bridge?...` (not `//host/bridge`, not `/bridge/`).
    const target = req.url ?? '';
    const queryAt = target.indexOf('?');
    const pathname = queryAt === -1 ? target : target.slice(0, queryAt);
    if (pathname !== BRIDGE_PATH) {
      this.#refuse(socket, 404, 'Not Found', 'unknown path', {
        path: excerpt(pathname),
        remote,
      });
      return;
    }
    const origin = req.headers.origin;
    if (origin === undefined || !this.#origins.has(origin)) {
      // A foreign page (or a client that sends no Origin) must not drive the app.
      this.#refuse(socket, 403, 'Forbidden', 'foreign or missing Origin', {
        origin: excerpt(origin),
        remote,
      });
      return;
    }
    const token = new URLSearchParams(queryAt === -1 ? '' : target.slice(queryAt + 1)).get('token');
    if (token === null || !timingSafeEqual(digest(token), this.#tokenDigest)) {
      this.#refuse(socket, 401, 'Unauthorized', token === null ? 'no token' : 'wrong token', {
        remote,
      });
      return;
    }
    if (this.#sockets.size >= this.#maxSockets && this.#refusing >= this.#maxSockets) {
      this.#refuse(socket, 503, 'Service Unavailable', 'too many bridge sockets', {
        open: this.#sockets.size,
        remote,
      });
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', onError);
      if (this.#sockets.size >= this.#maxSockets) this.#tooMany(ws);
      else this.#accept(ws);
    });
  }

  #refuse(
    socket: Duplex,
    status: number,
    text: string,
    why: string,
    fields: Record<string, unknown>,
  ): void {
    this.#refusals.note('warn', `bridge connection refused: ${why}`, { ...fields, status });
    const body = `${text}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  // ---------------------------------------------------------------------------- bridge

  /** A socket over maxSockets: closed at once with a reason the page can show. */
  #tooMany(ws: WebSocket): void {
    this.#refusals.note('warn', 'bridge connection refused: too many bridge sockets', {
      open: this.#sockets.size,
      max: this.#maxSockets,
    });
    this.#refusing += 1;
    let settled = false;
    const timer = setTimeout(() => ws.terminate(), REFUSAL_GRACE_MS);
    ws.on('error', () => undefined);
    ws.once('close', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.#refusing -= 1;
    });
    ws.close(
      TRY_AGAIN_LATER,
      `too many bridge connections (at most ${this.#maxSockets}); close a tab and reload`,
    );
  }

  /**
   * Past maxTotalBufferedBytes, closes sockets furthest behind until the total is within it;
   * called by a socket holding more than SUM_ABOVE_BYTES. True when `asking` itself was closed.
   */
  #enforceTotal(asking: WebSocket): boolean {
    let total = 0;
    for (const ws of this.#sockets.keys()) total += ws.bufferedAmount;
    if (total <= this.#maxTotalBufferedBytes) return false;
    const behind = [...this.#sockets.keys()].sort((a, b) => b.bufferedAmount - a.bufferedAmount);
    let closedAsking = false;
    for (const ws of behind) {
      if (total <= this.#maxTotalBufferedBytes) break;
      total -= ws.bufferedAmount;
      closedAsking ||= ws === asking;
      this.#sockets.get(ws)?.(
        `bridge clients hold ${total + ws.bufferedAmount} unsent bytes in all; closing the one furthest behind`,
      );
    }
    return closedAsking;
  }

  #accept(ws: WebSocket): void {
    const connection = this.#nextConnection++;
    const log = this.#log.child({ connection });
    // Set at the socket's first failure, which alone is logged: see "What is logged" above. A
    // dead socket's queued sends all fail later, and each would otherwise be one more record for
    // every other socket.
    let dead = false;
    const giveUp = (err: Error, message: string): void => {
      if (dead) return;
      dead = true;
      log.debug({ err }, message);
      ws.terminate();
    };
    const stopped = (why: string): void => {
      if (dead) return;
      dead = true;
      log.warn({ buffered: ws.bufferedAmount }, why);
      ws.terminate();
    };
    const send = (data: string | Uint8Array): void => {
      if (dead || ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > this.#maxBufferedBytes) {
        stopped('bridge client stopped reading; closing');
        return;
      }
      if (ws.bufferedAmount > SUM_ABOVE_BYTES && this.#enforceTotal(ws)) return;
      ws.send(data, (err) => {
        if (err) giveUp(err, 'bridge send failed');
      });
    };
    const sink: ViewSink = {
      emit: (event, payload) => send(JSON.stringify({ type: 'event', event, payload })),
    };
    let session: ViewSession;
    try {
      session = this.#core.openView(sink);
    } catch (err) {
      log.error({ err }, 'opening a view failed');
      ws.close(1011, 'cannot open a view');
      return;
    }
    this.#sockets.set(ws, stopped);
    log.info({ view: session.id }, 'bridge connected');

    const answer = (id: number, result: Result<unknown>): void =>
      send(JSON.stringify({ type: 'result', id, result }));
    const pending = { invokes: 0, lastExportAt: Number.NEGATIVE_INFINITY };

    ws.on('message', (data: RawData, isBinary: boolean) => {
      try {
        this.#message(ws, session, log, data, isBinary, answer, send, pending);
      } catch (err) {
        log.error({ err }, 'bridge message handling failed');
      }
    });
    ws.on('error', (err) => giveUp(err, 'bridge socket error'));
    ws.on('close', (code) => {
      this.#sockets.delete(ws);
      try {
        session.close();
      } catch (err) {
        log.error({ err }, 'closing a view failed');
      }
      log.info({ code }, 'bridge disconnected');
    });
  }

  #message(
    ws: WebSocket,
    session: ViewSession,
    log: Logger,
    data: RawData,
    isBinary: boolean,
    answer: (id: number, result: Result<unknown>) => void,
    send: (data: string | Uint8Array) => void,
    pending: { invokes: number; lastExportAt: number },
  ): void {
    if (isBinary) {
      log.warn({ length: rawLength(data) }, 'bridge message refused: binary');
      ws.close(1003, 'binary messages are not accepted');
      return;
    }
    const text = rawText(data);
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      // Never the text: it may be a credentials:set message (see "What is logged" above).
      log.warn({ length: text.length }, 'bridge message refused: not JSON');
      ws.close(1008, 'not JSON');
      return;
    }
    const record = isRecord(message) ? message : undefined;
    const id = record?.['id'];
    if (record === undefined || !isId(id)) {
      log.warn(
        { length: text.length, ...(record ? outline(record) : { shape: shapeOf(message) }) },
        'bridge message refused: no usable id',
      );
      ws.close(1008, 'a message needs an integer id');
      return;
    }
    switch (record['type']) {
      case 'invoke': {
        const command = record['command'];
        if (typeof command !== 'string' || command.length > MAX_COMMAND_LENGTH) {
          answer(id, fail('bad-request', 'command must be a string'));
          return;
        }
        const bytes = text.length;
        if (command === 'diagnostics:export') {
          // The largest answer by far: one a second per connection is all a person clicking
          // Export can ask for, and all a looping page or process gets.
          const now = performance.now();
          if (now - pending.lastExportAt < EXPORT_INTERVAL_MS) {
            answer(
              id,
              fail('limit', 'an export was just sent on this connection; try again in a second'),
            );
            return;
          }
          pending.lastExportAt = now;
        }
        if (
          pending.invokes >= this.#maxPendingInvokes ||
          this.#pendingBytes + bytes > this.#maxPendingBytes
        ) {
          answer(
            id,
            fail(
              'limit',
              pending.invokes >= this.#maxPendingInvokes
                ? `too many unanswered requests on this connection (at most ${this.#maxPendingInvokes}); wait for answers before sending more`
                : 'the host is busy with other requests; try again',
            ),
          );
          return;
        }
        pending.invokes += 1;
        this.#pendingBytes += bytes;
        const settle = (): void => {
          pending.invokes -= 1;
          this.#pendingBytes -= bytes;
        };
        session.invoke(command, record['payload']).then(
          (result) => {
            settle();
            if (command === 'diagnostics:export' && result.ok) send(exportText(id, result.value));
            else answer(id, result);
          },
          (err: unknown) => {
            settle();
            // ViewSession.invoke promises never to reject; if one does, the caller still gets an answer.
            log.error({ err, command }, 'invoke rejected');
            answer(id, fail('internal', 'internal error'));
          },
        );
        return;
      }
      case 'frame': {
        session.nextFrame().then(
          (frame) => {
            let body: Uint8Array;
            try {
              const encoded = encodeDeliverable(frame);
              body = encoded.bytes;
              if (encoded.dropped.length > 0) this.#dropped(log, frame.seq, encoded.dropped);
            } catch (err) {
              // Not a row's fault (a header the book never builds): nothing can be sent.
              log.error({ err, seq: frame.seq }, 'encoding a frame failed');
              answer(id, fail('internal', 'the frame could not be encoded'));
              return;
            }
            const message = new Uint8Array(FRAME_HEADER_BYTES + body.byteLength);
            new DataView(message.buffer).setUint32(0, id, true);
            message.set(body, FRAME_HEADER_BYTES);
            send(message);
          },
          (err: unknown) => {
            // Superseded by a newer request, or the view closed: the request gets a plain answer.
            answer(id, fail('conflict', `no frame: ${errorMessage(err)}`));
          },
        );
        return;
      }
      default:
        answer(id, fail('bad-request', 'type must be "invoke" or "frame"'));
    }
  }

  /**
   * Logs the first unencodable symbol at warn, later ones at debug: such a symbol stays in the
   * book until it is dropped and would otherwise be logged for every full frame of every view.
   */
  #dropped(log: Logger, seq: number, dropped: readonly string[]): void {
    const first = this.#unencodableSymbols === 0;
    this.#unencodableSymbols += dropped.length;
    const symbol = dropped[0]!;
    const fields = {
      seq,
      symbols: dropped.length,
      total: this.#unencodableSymbols,
      // An excerpt: a hostile symbol may be 64 KiB long. JSON.stringify escapes lone surrogates.
      symbol: JSON.stringify(symbol.slice(0, 32)),
      problem: symbolProblem(symbol),
    };
    const message = 'frame symbols left out (their rows are not shown): they cannot be encoded';
    if (first) log.warn(fields, `${message} (later ones are logged at debug)`);
    else log.debug(fields, message);
  }

  async #shutdown(): Promise<void> {
    this.#refusals.close();
    for (const ws of this.#wss.clients) ws.close(1001, 'host closing');
    // Sockets that do not finish the close handshake promptly are cut.
    const cut = setTimeout(() => {
      for (const ws of this.#wss.clients) ws.terminate();
    }, 1000);
    // With client tracking (the default), this resolves once every socket has closed.
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    clearTimeout(cut);
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
    this.#log.info('browser-mode host closed');
  }
}

/**
 * encodeFrame, except that a new symbol the codec cannot carry (see symbolProblem) goes as ''
 * ("not carried") rather than failing the frame: the frame has already been taken from the view's
 * cursor, so failing it would lose every other row too, and the client would stop pulling. The
 * page ignores the rows of that symbol's id, in this frame and later ones, until a full frame names
 * it again. Returns the bytes and the symbols left out. Throws what encodeFrame throws when no
 * symbol explains the failure (a bad header or values length: never in a frame from the book).
 */
function encodeDeliverable(frame: QuoteFrame): {
  readonly bytes: Uint8Array;
  readonly dropped: readonly string[];
} {
  try {
    return { bytes: encodeFrame(frame), dropped: [] };
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const dropped = frame.newSymbols.filter((symbol) => symbolProblem(symbol) !== undefined);
    if (dropped.length === 0) throw err;
    const repaired: QuoteFrame = {
      ...frame,
      newSymbols: frame.newSymbols.map((symbol) =>
        symbolProblem(symbol) === undefined ? symbol : '',
      ),
    };
    return { bytes: encodeFrame(repaired), dropped };
  }
}

export type RefusalLevel = 'warn' | 'debug';

export interface RefusalLogOptions {
  readonly log: Logger;
  /** Repeats of one kind are summed up in at most one line per this many ms. */
  readonly intervalMs: number;
  /** Default Date.now. */
  readonly now?: () => number;
}

interface RefusalKind {
  readonly level: RefusalLevel;
  /** Refusals of this kind not yet in a line. */
  count: number;
  /** When the last line about this kind was logged. */
  since: number;
  /** Writes the summary at the end of the interval when no later refusal does. */
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The log of refusals made before authentication, whose number (and text) the sender chooses. The
 * first refusal of a kind is logged in full; later ones are counted, and the count is logged in
 * one line per interval while they go on (by the refusal that ends the interval, or by a timer
 * when none comes). After a quiet interval the next one is logged in full again. So each kind
 * costs at most about two lines per interval, however many requests arrive. Kinds are the
 * host's own fixed messages, never the sender's text.
 */
export class RefusalLog {
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #kinds = new Map<string, RefusalKind>();
  #closed = false;

  constructor(options: RefusalLogOptions) {
    if (!(options.intervalMs > 0) || !Number.isFinite(options.intervalMs)) {
      throw new RangeError('the refusal log interval must be a positive number of ms');
    }
    this.#log = options.log;
    this.#intervalMs = options.intervalMs;
    this.#now = options.now ?? Date.now;
  }

  /** One refusal: `kind` is the message of its full line, `fields` that line's fields. */
  note(level: RefusalLevel, kind: string, fields: Record<string, unknown>): void {
    const now = this.#now();
    const known = this.#kinds.get(kind);
    if (known === undefined || (known.count === 0 && now - known.since >= this.#intervalMs)) {
      this.#kinds.set(kind, { level, count: 0, since: now, timer: undefined });
      this.#log[level](fields, kind);
      return;
    }
    known.count += 1;
    if (now - known.since >= this.#intervalMs) {
      this.#summarize(kind, known);
    } else if (known.timer === undefined && !this.#closed) {
      known.timer = setTimeout(
        () => this.#summarize(kind, known),
        known.since + this.#intervalMs - now,
      );
      known.timer.unref();
    }
  }

  /** Logs the counts not yet logged and stops the timers. */
  close(): void {
    this.#closed = true;
    for (const [kind, state] of this.#kinds) this.#summarize(kind, state);
  }

  #summarize(kind: string, state: RefusalKind): void {
    clearTimeout(state.timer);
    state.timer = undefined;
    if (state.count === 0) return;
    const now = this.#now();
    const seconds = Math.max(0, Math.round((now - state.since) / 1000));
    this.#log[state.level](
      { kind, count: state.count, seconds },
      `${state.count} more refusals of kind "${kind}" in ${seconds} s`,
    );
    state.count = 0;
    state.since = now;
  }
}

/**
 * A short, printable excerpt of a header or path a refused sender chose: at most MAX_EXCERPT
 * characters, anything but printable ASCII shown as "?", the full length named when it is cut.
 */
export function excerpt(value: string | undefined): string | null {
  if (value === undefined) return null;
  const printable = value.slice(0, MAX_EXCERPT).replace(/[^\x20-\x7e]/g, '?');
  return value.length > MAX_EXCERPT ? `${printable}... (${value.length} chars)` : printable;
}

/**
 * What may be logged of a refused message that parsed: its `type` and `command` when they are
 * the protocol's own words, else only what kind of value they are, and a numeric id.
 */
function outline(record: Record<string, unknown>): Record<string, unknown> {
  const { type, command, id } = record;
  return {
    type: MESSAGE_TYPES.has(type) ? type : shapeOf(type),
    ...(command === undefined
      ? {}
      : { command: isCommandName(command) ? command : shapeOf(command) }),
    id: typeof id === 'number' ? id : shapeOf(id),
  };
}

/** A value's kind, for the log, without the value. */
function shapeOf(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const kind = typeof value;
  return kind === 'object' ? 'an object' : `a ${kind}`;
}

function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.byteLength, 0);
  return data.byteLength;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_ID;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/**
 * The export's value as JSON, once per bundle object: the core hands a burst of exports the same
 * bundle (it reuses one for a second), and each answer then costs a string concatenation instead
 * of serializing a 500-entry log again (hardening: sockets pipelining exports without reading).
 * Only the export is cached: its bundle is built fresh and never changed after.
 */
const exportJson = new WeakMap<object, string>();

/** At most one diagnostics export per connection this often (see the invoke branch). */
const EXPORT_INTERVAL_MS = 1_000;

function exportText(id: number, value: unknown): string {
  if (typeof value !== 'object' || value === null) {
    return JSON.stringify({ type: 'result', id, result: { ok: true, value } });
  }
  let body = exportJson.get(value);
  if (body === undefined) {
    body = JSON.stringify(value);
    exportJson.set(value, body);
  }
  // The same text JSON.stringify gives for { type, id, result: { ok, value } }.
  return `{"type":"result","id":${id},"result":{"ok":true,"value":${body}}}`;
}
