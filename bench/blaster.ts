/**
 * The frame blaster: the load generator of the ingest and latency sections, in its own process so
 * that it never shares a thread with the client under test. It runs a `ws` server on 127.0.0.1
 * (port 0, no permessage-deflate) that speaks enough Alpaca for any client: `connected` on open,
 * `authenticated` after an auth action, after each subscribe/unsubscribe an echo of the whole set
 * in Alpaca's shape. The codec of a connection follows Alpaca's rule: msgpack when the handshake
 * has `Content-Type: application/msgpack`, else JSON. Connections name themselves with `?id=`.
 *
 * The parent drives it over IPC:
 * - blast: the pre-generated stream (built here from the seed) to one connection as fast as the
 *   socket takes it, with a bounded amount of unsent data (backpressure from ws's bufferedAmount
 *   and send callbacks);
 * - pace: R messages/s for D seconds, one frame per ~1 ms tick holding what is due, the frame's
 *   last item a marker trade whose id is the frame's sequence number, each frame stamped with
 *   process.hrtime.bigint() just before ws.send (the receiver stamps the marker's dispatch on the
 *   same CLOCK_MONOTONIC); pace-many does the same to several connections, a stamp per send.
 *
 * This module is also where the bench's parent/child plumbing lives (ChildHandle, serveParent).
 * Its static imports stay light (Node, ws, types): the ingest worker imports it, and the floor
 * client in that worker must not load our msgpack timestamp extension or anything else of ours.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import type { IncomingMessage } from 'node:http';
import type { Codec } from '../shared/market.ts';
import type { FeedMix } from './feed.ts';

// ------------------------------------------------------------------ parent/child plumbing

interface Request {
  readonly req: number;
  readonly type: string;
  readonly payload: unknown;
}

interface Reply {
  readonly req: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

export interface ForkOptions {
  /** Node flags for the child (e.g. --cpu-prof). Never inherited: vitest's would leak in. */
  readonly execArgv?: readonly string[];
}

/**
 * A forked bench child and a request/reply channel to it. IPC uses the 'advanced' serialization
 * so that bigint stamps and typed arrays cross intact.
 */
export class ChildHandle {
  readonly name: string;
  readonly proc: ChildProcess;
  #seq = 0;
  readonly #pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  #exit: string | undefined;
  readonly #exited: Promise<void>;

  constructor(name: string, modulePath: string, options: ForkOptions = {}) {
    this.name = name;
    this.proc = fork(modulePath, [], {
      execArgv: [...(options.execArgv ?? [])],
      serialization: 'advanced',
      // A child's stdout goes to our stderr: the runner's stdout carries the tables only.
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    this.proc.on('message', (raw) => this.#onReply(raw as Reply));
    this.#exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.#exit = `exited (code ${String(code)}, signal ${String(signal)})`;
        for (const [req, p] of this.#pending) {
          clearTimeout(p.timer);
          p.reject(new Error(`${this.name} ${this.#exit} before answering request ${req}`));
        }
        this.#pending.clear();
        resolve();
      });
    });
    // An error event (spawn failure) is followed by 'exit' or nothing; make it an exit reason.
    this.proc.on('error', (err) => {
      this.#exit ??= `failed: ${err.message}`;
    });
  }

  /** Sends a request; resolves with the child's result, rejects on its error, exit or timeout. */
  request<T>(type: string, payload: unknown = {}, timeoutMs = 30_000): Promise<T> {
    if (this.#exit !== undefined) {
      return Promise.reject(new Error(`${this.name} ${this.#exit}`));
    }
    const req = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(req);
        reject(new Error(`${this.name}: no answer to '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(req, { resolve: resolve as (v: unknown) => void, reject, timer });
      const message: Request = { req, type, payload };
      this.proc.send(message, (err) => {
        if (!err) return;
        const p = this.#pending.get(req);
        if (!p) return;
        clearTimeout(p.timer);
        this.#pending.delete(req);
        reject(new Error(`${this.name}: could not send '${type}': ${err.message}`));
      });
    });
  }

  #onReply(reply: Reply): void {
    const p = this.#pending.get(reply.req);
    if (!p) return;
    clearTimeout(p.timer);
    this.#pending.delete(reply.req);
    if (reply.ok) p.resolve(reply.result);
    else p.reject(new Error(`${this.name}: ${reply.error ?? 'failed'}`));
  }

  /**
   * Asks the child to exit (so a --cpu-prof profile gets written), then kills it if it has not
   * gone within `graceMs`. Never throws; resolves once the process is gone.
   */
  async close(graceMs = 3000): Promise<void> {
    if (this.#exit !== undefined) return;
    if (this.proc.connected) {
      this.request('exit', {}, graceMs).catch(() => undefined);
    }
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }
}

export type ChildHandlers = Record<string, (payload: never) => unknown>;

/**
 * The child side: answers each request with its handler's (awaited) result. 'exit' runs
 * `onExit`, answers, and ends the process; a parent that goes away ends it too, so a crashed
 * bench leaves no orphan behind.
 */
export function serveParent(handlers: ChildHandlers, onExit?: () => void | Promise<void>): void {
  const send = (reply: Reply): void => {
    if (process.connected) process.send?.(reply);
  };
  process.on('message', (raw) => {
    const { req, type, payload } = raw as Request;
    void (async () => {
      if (type === 'exit') {
        try {
          await onExit?.();
        } finally {
          send({ req, ok: true });
          // Let the reply flush before the process goes.
          setTimeout(() => process.exit(0), 20);
        }
        return;
      }
      const handler = handlers[type];
      if (!handler) {
        send({ req, ok: false, error: `unknown request '${type}'` });
        return;
      }
      try {
        const result = await handler(payload as never);
        send({ req, ok: true, result });
      } catch (err) {
        send({
          req,
          ok: false,
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
      }
    })();
  });
  process.on('disconnect', () => process.exit(0));
}

// ------------------------------------------------------------------ the blaster's API

export interface BlasterInit {
  readonly seed: number;
  readonly symbols: number;
  /** Messages of the pre-cut stream that `blast` sends (0: no blast stream). */
  readonly messages: number;
  /** Items encoded one by one for `pace`, cycled (0: no pacing). */
  readonly paceItems: number;
}

export interface BlasterReady {
  readonly port: number;
  readonly messages: number;
  readonly frames: number;
  readonly bytes: Readonly<Record<Codec, number>>;
  readonly mix: FeedMix;
  readonly generateMs: number;
}

export interface BlastStats {
  readonly codec: Codec;
  readonly frames: number;
  readonly messages: number;
  readonly bytes: number;
  /** From the first send to the last send callback. */
  readonly ms: number;
  /** The blaster's CPU over the blast, user + system. */
  readonly cpuUs: number;
  /** Largest ws.bufferedAmount seen (what backpressure held back). */
  readonly maxBuffered: number;
}

export interface PaceStats {
  readonly codec: Codec;
  readonly rate: number;
  readonly frames: number;
  /** Every item sent, markers included (a marker is one of the R messages per second). */
  readonly messages: number;
  /** hrtime (ns) at the start of pacing. */
  readonly start: bigint;
  /** hrtime just before ws.send of frame `seq`. */
  readonly stamps: BigInt64Array;
  /** Items per frame, marker included. */
  readonly sizes: Int32Array;
  readonly maxBuffered: number;
}

/** `pace` to several connections at once: the same frames, each stamped per connection. */
export interface PaceManyStats {
  readonly rate: number;
  readonly frames: number;
  readonly messages: number;
  readonly start: bigint;
  /** Connection ids, in the order of `stamps`. */
  readonly ids: readonly string[];
  /** Per connection: hrtime just before its ws.send of frame `seq`. */
  readonly stamps: readonly BigInt64Array[];
  readonly sizes: Int32Array;
  /** Largest ws.bufferedAmount over all the connections. */
  readonly maxBuffered: number;
}

export interface ConnectionInfo {
  readonly id: string;
  readonly codec: Codec;
  readonly authenticated: boolean;
  readonly subscribed: Readonly<Record<string, number>>;
}

const BLASTER_PATH = fileURLToPath(import.meta.url);

export interface Blaster {
  readonly handle: ChildHandle;
  readonly ready: BlasterReady;
  /** ws:// URL for a connection named `id` (Alpaca's stock feed path, so SDKs accept it). */
  url(id: string): string;
  blast(id: string, timeoutMs?: number): Promise<BlastStats>;
  pace(id: string, rate: number, durationMs: number): Promise<PaceStats>;
  paceMany(ids: readonly string[], rate: number, durationMs: number): Promise<PaceManyStats>;
  connections(): Promise<ConnectionInfo[]>;
  close(): Promise<void>;
}

/** Forks a blaster, has it generate its streams and listen; kill it with close(). */
export async function startBlaster(init: BlasterInit): Promise<Blaster> {
  const handle = new ChildHandle('blaster', BLASTER_PATH);
  try {
    const ready = await handle.request<BlasterReady>('init', init, 120_000);
    return {
      handle,
      ready,
      url: (id) => `ws://127.0.0.1:${ready.port}/v2/sip?id=${encodeURIComponent(id)}`,
      blast: (id, timeoutMs = 120_000) => handle.request<BlastStats>('blast', { id }, timeoutMs),
      pace: (id, rate, durationMs) =>
        handle.request<PaceStats>('pace', { id, rate, durationMs }, durationMs + 30_000),
      paceMany: (ids, rate, durationMs) =>
        handle.request<PaceManyStats>('pace-many', { ids, rate, durationMs }, durationMs + 30_000),
      connections: () => handle.request<ConnectionInfo[]>('connections'),
      close: () => handle.close(),
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

// ------------------------------------------------------------------ the child

/** More unsent data than this and a blast waits for send callbacks. */
const BLAST_HIGH_WATER = 1 << 20;
const BLAST_LOW_WATER = 1 << 19;
/** A paced receiver this far behind has failed the run: stop instead of buffering without end. */
const PACE_MAX_BUFFERED = 64 << 20;

interface Conn {
  readonly id: string;
  readonly ws: WebSocket;
  readonly codec: Codec;
  authenticated: boolean;
  readonly subs: Map<string, Set<string>>;
}

async function main(): Promise<void> {
  const feed = await import('./feed.ts');
  const protocol = await import('../electron/stream/protocol/index.ts');
  const { CHANNELS } = await import('../shared/market.ts');
  // The channels a stock feed echoes, in Alpaca's order (corrections and cancelErrors follow
  // trades): every channel but the crypto order books and news.
  const STOCK_CHANNELS = CHANNELS.filter((c) => c !== 'orderbooks' && c !== 'news');
  const conns = new Map<string, Conn>();
  let server: WebSocketServer | undefined;
  const stream: Record<Codec, Buffer[]> = { json: [], msgpack: [] };
  const paceItems: { json: string[]; msgpack: Buffer[] } = { json: [], msgpack: [] };
  let paceCursor = 0;
  let streamMessages = 0;

  const control = (conn: Conn, items: Record<string, unknown>[]): void => {
    conn.ws.send(
      conn.codec === 'msgpack' ? protocol.framePackr.pack(items) : JSON.stringify(items),
    );
  };

  const echo = (conn: Conn): Record<string, unknown> => {
    const out: Record<string, unknown> = { T: 'subscription' };
    for (const channel of STOCK_CHANNELS) out[channel] = [...(conn.subs.get(channel) ?? [])];
    const trades = [...(conn.subs.get('trades') ?? [])];
    out['corrections'] = trades;
    out['cancelErrors'] = [...trades];
    return out;
  };

  const onAction = (conn: Conn, data: Buffer, isBinary: boolean): void => {
    const decoded = protocol.decodeClientAction(data, isBinary, conn.codec);
    if (!decoded.ok) {
      control(conn, [{ T: 'error', code: 400, msg: 'invalid syntax' }]);
      return;
    }
    const action = decoded.action;
    if (action['action'] === 'auth') {
      if (conn.authenticated) {
        control(conn, [{ T: 'error', code: 403, msg: 'already authenticated' }]);
        return;
      }
      conn.authenticated = true;
      control(conn, [{ T: 'success', msg: 'authenticated' }]);
      return;
    }
    if (action['action'] !== 'subscribe' && action['action'] !== 'unsubscribe') {
      control(conn, [{ T: 'error', code: 400, msg: 'invalid syntax' }]);
      return;
    }
    if (!conn.authenticated) {
      control(conn, [{ T: 'error', code: 401, msg: 'not authenticated' }]);
      return;
    }
    const add = action['action'] === 'subscribe';
    for (const channel of STOCK_CHANNELS) {
      const list = action[channel];
      if (!Array.isArray(list)) continue;
      const set = conn.subs.get(channel) ?? new Set<string>();
      conn.subs.set(channel, set);
      for (const symbol of list) {
        if (typeof symbol !== 'string') continue;
        if (add) set.add(symbol);
        else set.delete(symbol);
      }
    }
    control(conn, [echo(conn)]);
  };

  const onConnection = (ws: WebSocket, req: IncomingMessage): void => {
    const url = new URL(req.url ?? '/', 'ws://127.0.0.1');
    const id = url.searchParams.get('id') ?? `anon-${conns.size}`;
    const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
    const conn: Conn = {
      id,
      ws,
      codec: contentType.includes('application/msgpack') ? 'msgpack' : 'json',
      authenticated: false,
      subs: new Map(),
    };
    conns.get(id)?.ws.terminate();
    conns.set(id, conn);
    ws.on('message', (data, isBinary) => onAction(conn, data as Buffer, isBinary));
    ws.on('close', () => {
      if (conns.get(id) === conn) conns.delete(id);
    });
    ws.on('error', () => undefined);
    control(conn, [{ T: 'success', msg: 'connected' }]);
  };

  const connOf = (id: string): Conn => {
    const conn = conns.get(id);
    if (!conn || conn.ws.readyState !== conn.ws.OPEN) throw new Error(`no open connection '${id}'`);
    return conn;
  };

  const blast = (conn: Conn): Promise<BlastStats> => {
    const frames = stream[conn.codec];
    if (frames.length === 0) throw new Error('the blaster has no blast stream (messages: 0)');
    const binary = conn.codec === 'msgpack';
    const ws = conn.ws;
    return new Promise((resolve, reject) => {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let next = 0;
      let unacked = 0;
      let bytes = 0;
      let maxBuffered = 0;
      let failed = false;
      const finish = (): void => {
        const cpu = process.cpuUsage(cpu0);
        resolve({
          codec: conn.codec,
          frames: frames.length,
          messages: streamMessages,
          bytes,
          ms: performance.now() - t0,
          cpuUs: cpu.user + cpu.system,
          maxBuffered,
        });
      };
      const sent = (err?: Error): void => {
        unacked--;
        if (failed) return;
        if (err) {
          failed = true;
          reject(err);
          return;
        }
        if (next < frames.length) {
          if (ws.bufferedAmount < BLAST_LOW_WATER) pump();
        } else if (unacked === 0) finish();
      };
      // Sends while the socket keeps up; past the high-water mark, the callbacks resume it.
      const pump = (): void => {
        while (next < frames.length) {
          const buffered = ws.bufferedAmount;
          if (buffered > maxBuffered) maxBuffered = buffered;
          if (buffered >= BLAST_HIGH_WATER) return;
          const frame = frames[next++] as Buffer;
          bytes += frame.length;
          unacked++;
          ws.send(frame, { binary }, sent);
        }
      };
      pump();
    });
  };

  /**
   * Paces the same frames to every connection of `targets`: per tick, each codec's frame is built
   * once, and each connection's send gets its own stamp just before it (so a connection served
   * later in the tick is not charged for the sends before it).
   */
  const paceMany = (
    targets: readonly Conn[],
    rate: number,
    durationMs: number,
  ): Promise<PaceManyStats> => {
    if (targets.length === 0) throw new Error('pace needs a connection');
    if (!(rate > 0) || !(durationMs > 0)) throw new Error('pace needs a rate and a duration');
    const codecs = [...new Set(targets.map((c) => c.codec))];
    for (const codec of codecs) {
      if (paceItems[codec].length === 0)
        throw new Error('the blaster has no pace items (paceItems: 0)');
    }
    let capacity = Math.ceil(durationMs * 1.5) + 64;
    let stamps = targets.map(() => new BigInt64Array(capacity));
    let sizes = new Int32Array(capacity);
    return new Promise((resolve, reject) => {
      const start = process.hrtime.bigint();
      const durationNs = BigInt(Math.round(durationMs * 1e6));
      let seq = 0;
      let sent = 0;
      let maxBuffered = 0;
      const frames: Partial<Record<Codec, Buffer | string>> = {};
      const batch: (string | Buffer)[] = [];
      const tick = (): void => {
        const now = process.hrtime.bigint();
        const elapsed = now - start;
        if (elapsed >= durationNs) {
          resolve({
            rate,
            frames: seq,
            messages: sent,
            start,
            ids: targets.map((c) => c.id),
            stamps: stamps.map((s) => s.slice(0, seq)),
            sizes: sizes.slice(0, seq),
            maxBuffered,
          });
          return;
        }
        // What is due by now, whatever the timer's lateness: the rate holds on average.
        const due = Math.floor((Number(elapsed) * rate) / 1e9) - sent;
        if (due >= 1) {
          const cursor = paceCursor;
          for (const codec of codecs) {
            const items = paceItems[codec] as (string | Buffer)[];
            batch.length = 0;
            for (let k = 0; k < due - 1; k++)
              batch.push(items[(cursor + k) % items.length] as string | Buffer);
            batch.push(feed.encodeItem(feed.markerItem(seq), codec));
            const frame = feed.joinFrame(batch, codec);
            // Text as bytes once: ws would otherwise encode the string again for every socket.
            frames[codec] =
              typeof frame === 'string' && targets.length > 1 ? Buffer.from(frame) : frame;
          }
          // Both codecs' lists hold the same items in the same order: one cursor serves both.
          paceCursor = (cursor + due - 1) % paceItems.msgpack.length;
          if (seq === capacity) {
            capacity *= 2;
            stamps = stamps.map((old) => {
              const s = new BigInt64Array(capacity);
              s.set(old);
              return s;
            });
            const z = new Int32Array(capacity);
            z.set(sizes);
            sizes = z;
          }
          sizes[seq] = due;
          for (let c = 0; c < targets.length; c++) {
            const conn = targets[c] as Conn;
            (stamps[c] as BigInt64Array)[seq] = process.hrtime.bigint();
            conn.ws.send(frames[conn.codec] as Buffer | string, {
              binary: conn.codec === 'msgpack',
            });
            const buffered = conn.ws.bufferedAmount;
            if (buffered > maxBuffered) maxBuffered = buffered;
            if (buffered > PACE_MAX_BUFFERED) {
              reject(new Error(`receiver ${conn.id} fell behind: ${buffered} bytes unsent`));
              return;
            }
          }
          seq++;
          sent += due;
        }
        setTimeout(tick, 1);
      };
      setTimeout(tick, 1);
    });
  };

  const pace = async (conn: Conn, rate: number, durationMs: number): Promise<PaceStats> => {
    const many = await paceMany([conn], rate, durationMs);
    return {
      codec: conn.codec,
      rate,
      frames: many.frames,
      messages: many.messages,
      start: many.start,
      stamps: many.stamps[0] as BigInt64Array,
      sizes: many.sizes,
      maxBuffered: many.maxBuffered,
    };
  };

  serveParent(
    {
      init: async (init: BlasterInit): Promise<BlasterReady> => {
        const t0 = performance.now();
        const options = { messages: init.messages, symbols: init.symbols, seed: init.seed };
        const bytes: Record<Codec, number> = { json: 0, msgpack: 0 };
        let mix = feed.emptyMix();
        if (init.messages > 0) {
          const json = feed.encodeFeed(options, 'json');
          // Sent as text frames from bytes: ws would otherwise encode each string on every send.
          stream.json = json.frames.map((s) => Buffer.from(s));
          bytes.json = json.bytes;
          json.frames.length = 0;
          const msgpack = feed.encodeFeed(options, 'msgpack');
          stream.msgpack = msgpack.frames;
          bytes.msgpack = msgpack.bytes;
          streamMessages = msgpack.messages;
          mix = msgpack.mix;
          if (json.messages !== msgpack.messages) throw new Error('codecs disagree on the stream');
        }
        if (init.paceItems > 0) {
          const paced = { messages: init.paceItems, symbols: init.symbols, seed: init.seed + 1 };
          paceItems.json = feed.encodeFeedItems(paced, 'json');
          paceItems.msgpack = feed.encodeFeedItems(paced, 'msgpack');
        }
        const generateMs = performance.now() - t0;
        server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
        server.on('connection', onConnection);
        await new Promise<void>((resolve, reject) => {
          server?.once('listening', resolve);
          server?.once('error', reject);
        });
        const address = server.address();
        if (address === null || typeof address === 'string') throw new Error('no port');
        return {
          port: address.port,
          messages: streamMessages,
          frames: stream.msgpack.length,
          bytes,
          mix,
          generateMs,
        };
      },
      blast: ({ id }: { id: string }) => blast(connOf(id)),
      pace: ({ id, rate, durationMs }: { id: string; rate: number; durationMs: number }) =>
        pace(connOf(id), rate, durationMs),
      'pace-many': ({
        ids,
        rate,
        durationMs,
      }: {
        ids: string[];
        rate: number;
        durationMs: number;
      }) => paceMany(ids.map(connOf), rate, durationMs),
      connections: (): ConnectionInfo[] =>
        [...conns.values()].map((c) => ({
          id: c.id,
          codec: c.codec,
          authenticated: c.authenticated,
          subscribed: Object.fromEntries([...c.subs].map(([ch, set]) => [ch, set.size])),
        })),
    },
    async () => {
      for (const conn of conns.values()) conn.ws.terminate();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  );
}

if (process.argv[1] === BLASTER_PATH) {
  main().catch((err: unknown) => {
    console.error('blaster failed:', err);
    process.exit(1);
  });
}
