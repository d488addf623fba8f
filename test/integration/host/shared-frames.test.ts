/**
 * The shared frame slot under a hostile stream (renderer/frame-slot.ts, socket-relay.ts,
 * worker-socket.ts): a real WebSocket server sends text and binary messages back to back, some
 * binaries larger than the slot, while the page's "animation frames" come at seeded random
 * moments or not at all (a hidden tab). Whatever way each frame reaches the page (the slot at an
 * animation frame, the slot at the worker's notice, or a posted message), the page must see the
 * server's messages exactly: same order, none lost, none twice, no frame mixing two frames' bytes.
 * The worker is a Node MessageChannel running the real relay, as in the host tests.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { FRAME_SLOT_BYTES } from '../../../renderer/frame-slot.ts';
import { relaySocket, type RelayPort } from '../../../renderer/socket-relay.ts';
import { WorkerSocket, type RelayWorker } from '../../../renderer/worker-socket.ts';
import { waitFor } from '../../support/wait.ts';

const servers: WebSocketServer[] = [];
const sockets: WorkerSocket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          for (const client of server.clients) client.terminate();
          server.close(() => resolve());
        }),
    ),
  );
});

/** A small seeded generator (mulberry32): the same run every time, and a seed to quote. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Sent = { readonly text: string } | { readonly frame: number; readonly length: number };

/** A binary message whose every byte says which message it is: a torn one shows two numbers. */
function frameBytes(index: number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  bytes.fill(index & 0xff);
  if (length >= 4) bytes.writeUInt32LE(index, 0);
  return bytes;
}

/** What the page saw, in the same terms as what was sent (a torn frame is reported as such). */
function describeReceived(data: unknown): string {
  if (typeof data === 'string') return `text ${data}`;
  if (!(data instanceof ArrayBuffer)) return `unexpected ${typeof data}`;
  const bytes = new Uint8Array(data);
  const index = bytes.length >= 4 ? new DataView(data).getUint32(0, true) : -1;
  for (let i = 4; i < bytes.length; i++) {
    if (bytes[i] !== (index & 0xff)) return `torn frame ${index} at byte ${i}`;
  }
  return `frame ${index} (${bytes.length} bytes)`;
}

function describeSent(sent: Sent): string {
  return 'text' in sent ? `text ${sent.text}` : `frame ${sent.frame} (${sent.length} bytes)`;
}

/** A seeded script: mostly small frames, some text between them, now and then a frame too big. */
function script(seed: number, count: number): Sent[] {
  const next = random(seed);
  const out: Sent[] = [];
  for (let i = 0; i < count; i++) {
    const roll = next();
    if (roll < 0.35) out.push({ text: `t${i}` });
    else if (roll < 0.38)
      out.push({ frame: i, length: FRAME_SLOT_BYTES + 1 + Math.floor(next() * 64) });
    else out.push({ frame: i, length: 4 + Math.floor(next() * 3000) });
  }
  return out;
}

/** A server that plays `sent` to its one client when the client says "go", in bursts. */
async function scriptedServer(sent: readonly Sent[], seed: number): Promise<string> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(server);
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const next = random(seed ^ 0x5eed);
  server.on('connection', (socket: ServerSocket) => {
    let started = false;
    socket.on('message', () => {
      // The first message starts the script; the page's later sends are only there to be sent.
      if (started) return;
      started = true;
      let at = 0;
      const burst = (): void => {
        // Back to back, then a pause: some frames meet a full slot, some an empty one.
        const size = 1 + Math.floor(next() * 6);
        for (let i = 0; i < size && at < sent.length; i++, at++) {
          const item = sent[at]!;
          if ('text' in item) socket.send(item.text);
          else socket.send(frameBytes(item.frame, item.length), { binary: true });
        }
        if (at < sent.length) setTimeout(burst, Math.floor(next() * 3));
      };
      burst();
    });
  });
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** How the relay passed binary messages on: in the slot (a notice) or posted. */
interface Ways {
  slot: number;
  posted: number;
}

/** The page's end over a MessageChannel whose far end runs the real relay. */
function channelWorker(ways: Ways): RelayWorker {
  const { port1, port2 } = new MessageChannel();
  port1.addEventListener('message', (e) => {
    const m = (e as MessageEvent).data as { op: string; data?: unknown };
    if (m.op === 'slot') ways.slot += 1;
    else if (m.op === 'message' && m.data instanceof ArrayBuffer) ways.posted += 1;
  });
  relaySocket(port2 as unknown as RelayPort, WebSocket);
  port2.start();
  port1.start();
  return {
    postMessage: (message) => port1.postMessage(message),
    addEventListener: (type: string, listener: (event: never) => void) => {
      if (type === 'message') port1.addEventListener('message', listener as never);
    },
    terminate: () => {
      port1.close();
      port2.close();
    },
  };
}

/**
 * "Animation frames" at seeded random moments: each runs what was asked to read before it, then
 * its microtasks, as a browser does; `hidden` runs none.
 */
function animationFrames(
  seed: number,
  hidden: boolean,
): {
  readBeforePaint: (read: () => void) => void;
  stop: () => void;
  looks: () => number;
} {
  const next = random(seed ^ 0xf4a3e);
  let asked: Array<() => void> = [];
  let looks = 0;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    const now = asked;
    asked = [];
    for (const read of now) {
      looks += 1;
      read();
    }
    setTimeout(tick, Math.floor(next() * 4));
  };
  if (!hidden) setTimeout(tick, 0);
  return {
    readBeforePaint: (read) => {
      asked.push(read);
    },
    stop: () => {
      stopped = true;
    },
    looks: () => looks,
  };
}

async function run(seed: number, hidden: boolean): Promise<void> {
  const sent = script(seed, 400);
  const url = await scriptedServer(sent, seed);
  const frames = animationFrames(seed, hidden);
  const ways: Ways = { slot: 0, posted: 0 };
  const socket = new WorkerSocket(url, {
    createWorker: () => channelWorker(ways),
    shareMemory: true,
    readBeforePaint: frames.readBeforePaint,
  });
  sockets.push(socket);
  expect(socket.sharesFrames).toBe(true);
  const seen: string[] = [];
  socket.addEventListener('message', (e) => {
    seen.push(describeReceived((e as MessageEvent).data));
    // The page keeps sending (invokes, frame requests), so it keeps looking at its frames.
    if (seen.length % 7 === 0) socket.send('more');
  });
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('close', () => reject(new Error('closed before open')), { once: true });
  });
  socket.send('go');
  try {
    await waitFor(() => seen.length >= sent.length, {
      what: `all ${sent.length} messages (seed ${seed})`,
      timeoutMs: 20_000,
    });
    // And nothing more after them (a frame delivered twice would come late).
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    frames.stop();
  }
  expect(seen).toEqual(sent.map(describeSent));
  // Both ways were taken: the slot, and posting (a full slot, a frame too big for it).
  expect(ways.slot).toBeGreaterThan(20);
  expect(ways.posted).toBeGreaterThan(20);
  if (!hidden) expect(frames.looks()).toBeGreaterThan(0);
}

describe('shared frames keep the socket`s stream exact', () => {
  for (const seed of [1, 2, 3]) {
    it(`under animation frames at random moments (seed ${seed})`, async () => {
      await run(seed, false);
    });
  }

  it('in a hidden tab, where no animation frame runs: the notices deliver every frame', async () => {
    await run(4, true);
  });
});
