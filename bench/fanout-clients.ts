/**
 * Fan-out clients: one process holding many bare Alpaca clients of one codec (a `ws` socket,
 * auth, subscribe, then decode every frame: JSON.parse, or msgpackr's Unpackr with plain objects,
 * the ingest section's floor client), so that 50 clients at 20k msgs/s each, a million items a
 * second in all, fit on the machine beside the load and the relay. Per client, each marker's
 * dispatch is stamped with process.hrtime.bigint() once its whole frame is decoded and the items
 * before it walked, and the items since the previous marker are counted (bench/lib/delivery.ts).
 *
 * The parent drives it over IPC (ChildHandle): connect {urls, codec}, arm {capacity},
 * result {frames, timeoutMs}, disconnect.
 */
import { fileURLToPath } from 'node:url';
import { ChildHandle, serveParent, type ForkOptions } from './blaster.ts';
import type { Codec } from '../shared/market.ts';

/** What one client recorded, as bench/lib/delivery.ts reads it. */
export interface FanoutClientRecord {
  readonly url: string;
  readonly received: BigInt64Array;
  readonly counts: Int32Array;
  readonly trailing: number;
  readonly markers: number;
  readonly messages: number;
  /** Markers whose seq was not the one after the previous marker's. */
  readonly outOfOrder: number;
  /** How long `result` waited after the sender was done, and why it stopped. */
  readonly waited: { readonly ms: number; readonly ended: WaitEnd };
  readonly problems: readonly string[];
}

/** Every marker came; none for idleMs; the overall limit. */
export type WaitEnd = 'all' | 'idle' | 'timeout';

export interface FanoutClients {
  readonly handle: ChildHandle;
  readonly pid: number;
  connect(urls: readonly string[], codec: Codec): Promise<void>;
  arm(capacity: number): Promise<void>;
  /** Waits for `frames` markers on every client, or idleMs without a new one, or timeoutMs. */
  result(frames: number, idleMs: number, timeoutMs: number): Promise<FanoutClientRecord[]>;
  disconnect(): Promise<void>;
  close(): Promise<void>;
}

const CLIENTS_PATH = fileURLToPath(import.meta.url);
/** Any key does for the blaster and for a relay in demo mode. */
const KEY = 'PKBENCH';
const SECRET = 'bench-secret';

export async function startFanoutClients(
  name: string,
  marker: string,
  options: ForkOptions = {},
): Promise<FanoutClients> {
  const handle = new ChildHandle(name, CLIENTS_PATH, options);
  try {
    const { pid } = await handle.request<{ pid: number }>('init', { marker }, 30_000);
    return {
      handle,
      pid,
      connect: (urls, codec) => handle.request<void>('connect', { urls, codec }, 60_000),
      arm: (capacity) => handle.request<void>('arm', { capacity }),
      result: (frames, idleMs, timeoutMs) =>
        handle.request<FanoutClientRecord[]>(
          'result',
          { frames, idleMs, timeoutMs },
          timeoutMs + 30_000,
        ),
      disconnect: () => handle.request<void>('disconnect', {}, 30_000),
      close: () => handle.close(),
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

// ------------------------------------------------------------------ the child

interface Client {
  readonly url: string;
  close(): Promise<void>;
  received: BigInt64Array;
  counts: Int32Array;
  since: number;
  markers: number;
  messages: number;
  lastSeq: number;
  outOfOrder: number;
  problems: string[];
}

async function childMain(): Promise<void> {
  const { WebSocket } = await import('ws');
  const { Packr, Unpackr } = await import('msgpackr');
  const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
  const packr = new Packr({ useRecords: false });
  let marker = '';
  let clients: Client[] = [];
  /** hrtime of the latest marker on any client of this process. */
  let lastMarkerAt = 0n;

  const open = (url: string, codec: Codec): Promise<Client> => {
    const msgpack = codec === 'msgpack';
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      ...(msgpack ? { headers: { 'Content-Type': 'application/msgpack' } } : {}),
    });
    const send = (action: Record<string, unknown>): void => {
      ws.send(msgpack ? packr.pack(action) : JSON.stringify(action));
    };
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    const client: Client = {
      url,
      close: async () => {
        if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000);
        const timer = setTimeout(() => ws.terminate(), 2000);
        await closed;
        clearTimeout(timer);
      },
      received: new BigInt64Array(0),
      counts: new Int32Array(0),
      since: 0,
      markers: 0,
      messages: 0,
      lastSeq: -1,
      outOfOrder: 0,
      problems: [],
    };
    const problem = (text: string): void => {
      if (client.problems.length < 10) client.problems.push(text);
    };
    return new Promise<Client>((resolve, reject) => {
      let live = false;
      ws.on('error', (err) => (live ? problem(err.message) : reject(err)));
      ws.on('close', (code) => {
        if (live) problem(`socket closed (${code})`);
        else reject(new Error(`socket closed (${code}) during the handshake`));
      });
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        const batch = (
          msgpack && isBinary ? unpackr.unpack(data) : JSON.parse(data.toString())
        ) as Record<string, unknown>[];
        for (let i = 0; i < batch.length; i++) {
          const item = batch[i] as Record<string, unknown>;
          const T = item.T;
          // Data types are one letter; success / error / subscription are words.
          if (typeof T === 'string' && T.length === 1) {
            client.messages++;
            client.since++;
            if (T === 't' && item.S === marker) {
              const at = process.hrtime.bigint();
              const seq = Number(item.i);
              if (seq >= 0 && seq < client.received.length) {
                client.received[seq] = at;
                client.counts[seq] = (client.counts[seq] as number) + client.since;
              } else problem(`marker ${seq} past the armed capacity`);
              if (seq !== client.lastSeq + 1) client.outOfOrder++;
              client.lastSeq = seq;
              client.since = 0;
              client.markers++;
              lastMarkerAt = at;
            }
          } else if (T === 'error') {
            problem(`server error ${String(item.code)} ${String(item.msg)}`);
            if (!live) reject(new Error(`server error ${String(item.code)}`));
          } else if (!live) {
            if (T === 'success' && item.msg === 'connected') {
              send({ action: 'auth', key: KEY, secret: SECRET });
            } else if (T === 'success' && item.msg === 'authenticated') {
              send({
                action: 'subscribe',
                quotes: ['*'],
                trades: ['*'],
                bars: ['*'],
                dailyBars: ['*'],
              });
            } else if (T === 'subscription') {
              live = true;
              resolve(client);
            }
          }
        }
      });
    });
  };

  serveParent(
    {
      init: ({ marker: m }: { marker: string }) => {
        marker = m;
        return { pid: process.pid };
      },
      connect: async ({ urls, codec }: { urls: string[]; codec: Codec }) => {
        if (clients.length > 0) throw new Error('already connected');
        const settled = await Promise.allSettled(urls.map((url) => open(url, codec)));
        clients = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
        const failed = settled.find((s) => s.status === 'rejected');
        if (failed !== undefined) {
          await Promise.all(clients.map((c) => c.close()));
          clients = [];
          throw failed.reason;
        }
      },
      arm: ({ capacity }: { capacity: number }) => {
        for (const c of clients) {
          c.received = new BigInt64Array(capacity).fill(-1n);
          c.counts = new Int32Array(capacity);
          c.since = 0;
          c.markers = 0;
          c.messages = 0;
          c.lastSeq = -1;
          c.outOfOrder = 0;
          c.problems = [];
        }
      },
      result: async ({
        frames,
        idleMs,
        timeoutMs,
      }: {
        frames: number;
        idleMs: number;
        timeoutMs: number;
      }): Promise<FanoutClientRecord[]> => {
        // Late is not lost: on a loaded machine the stream may still be on its way well after the
        // sender is done. Waits while markers keep coming; gives up after idleMs without one.
        const done = (): boolean => clients.every((c) => c.markers >= frames);
        // Polled on the monotonic clock, not left to timers: a starved process runs timers against
        // a loop time seconds old, and a 5 s timer then fires after 2 s of real time.
        const t0 = process.hrtime.bigint();
        let ended: WaitEnd = 'all';
        while (!done()) {
          const now = process.hrtime.bigint();
          const since = lastMarkerAt > t0 ? lastMarkerAt : t0;
          if (now - since > BigInt(idleMs) * 1_000_000n) {
            ended = 'idle';
            break;
          }
          if (now - t0 > BigInt(timeoutMs) * 1_000_000n) {
            ended = 'timeout';
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const waitedMs = Number(process.hrtime.bigint() - t0) / 1e6;
        // A moment for anything past the last marker (a duplicate) to show up.
        await new Promise((resolve) => setTimeout(resolve, 100));
        return clients.map((c) => ({
          url: c.url,
          received: c.received.slice(0, frames),
          counts: c.counts.slice(0, frames),
          trailing: c.since,
          markers: c.markers,
          messages: c.messages,
          outOfOrder: c.outOfOrder,
          waited: { ms: waitedMs, ended },
          problems: [...c.problems],
        }));
      },
      disconnect: async () => {
        const all = clients;
        clients = [];
        await Promise.all(all.map((c) => c.close()));
      },
    },
    async () => {
      await Promise.all(clients.map((c) => c.close()));
    },
  );
}

if (process.argv[1] === CLIENTS_PATH) {
  childMain().catch((err: unknown) => {
    console.error('fan-out clients failed:', err);
    process.exit(1);
  });
}
