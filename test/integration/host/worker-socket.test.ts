/**
 * Browser mode's bridge read in a worker (renderer/worker-socket.ts and socket-relay.ts) against
 * the real host. The worker is the one thing faked: its two ends are a Node MessageChannel, and
 * the relay runs on the far end exactly as bridge-worker.ts runs it, over a real WebSocket that
 * sends the page's Origin. Messages cross the channel by structured clone, and frames as
 * transferred ArrayBuffers, as they do between a worker and its page.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import {
  bridgeUrlFromLocation,
  connectBridge,
  type BridgeClient,
} from '../../../renderer/bridge-client.ts';
import { createFrameSlot } from '../../../renderer/frame-slot.ts';
import {
  PAGE_STOPPED_READING,
  READ_REPORT_BYTES,
  relaySocket,
  type RelayOptions,
  type RelayPort,
} from '../../../renderer/socket-relay.ts';
import { WorkerSocket, type RelayWorker } from '../../../renderer/worker-socket.ts';
import { startHost, type Host } from '../../../electron/host/server.ts';
import { readFrame } from '../../support/frame-reader.ts';
import { originSocket } from '../../support/page-bridge.ts';
import { waitFor } from '../../support/wait.ts';
import { FakeCore, makeFrame } from './fake-core.ts';

const hosts: Host[] = [];
const clients: BridgeClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

interface ChannelWorker extends RelayWorker {
  /** Fires the worker's `error` event, as a browser does when the script fails. */
  fail(): void;
  readonly terminated: boolean;
  /** What the page posted to the worker, in order. */
  readonly posted: unknown[];
}

/**
 * A "worker" whose far end runs the relay (`relay: false`: nothing runs there, as when the
 * script never loaded).
 */
function channelWorker(origin: string, relay = true, options: RelayOptions = {}): ChannelWorker {
  const { port1, port2 } = new MessageChannel();
  if (relay) {
    relaySocket(port2 as unknown as RelayPort, originSocket(origin), options);
    port2.start();
  }
  port1.start();
  const errors: Array<() => void> = [];
  const posted: unknown[] = [];
  let terminated = false;
  return {
    posted,
    get terminated() {
      return terminated;
    },
    postMessage(message) {
      posted.push(message);
      port1.postMessage(message);
    },
    addEventListener(type: 'message' | 'error' | 'messageerror', listener: (e: never) => void) {
      if (type === 'message') port1.addEventListener('message', listener as never);
      else if (type === 'error') errors.push(listener as () => void);
    },
    terminate() {
      terminated = true;
      port1.close();
      port2.close();
    },
    fail() {
      for (const listener of errors) listener();
    },
  };
}

async function start(): Promise<{ host: Host; core: FakeCore; url: string }> {
  const core = new FakeCore();
  const host = await startHost({ core, staticDir: 'does-not-exist' });
  hosts.push(host);
  const url = bridgeUrlFromLocation(new URL(host.url));
  if (url === undefined) throw new Error('no bridge address');
  return { host, core, url };
}

async function connect(
  url: string,
  socket: () => WorkerSocket,
): Promise<{ client: BridgeClient; socket: WorkerSocket }> {
  let made: WorkerSocket | undefined;
  const client = await connectBridge({
    url,
    openSocket: () => {
      made = socket();
      return made as unknown as WebSocket;
    },
  });
  clients.push(client);
  return { client, socket: made! };
}

/** A host, a bridge to it through a relay "worker", and the view it opened. */
async function throughWorker(relay: RelayOptions = {}): Promise<{
  host: Host;
  core: FakeCore;
  worker: ChannelWorker;
  client: BridgeClient;
}> {
  const { host, core, url } = await start();
  const worker = channelWorker(host.origin, true, relay);
  const { client } = await connect(
    url,
    () => new WorkerSocket(url, { createWorker: () => worker }),
  );
  await waitFor(() => core.opened === 1, { what: 'a view' });
  return { host, core, worker, client };
}

/** A page socket with the page's Origin that counts how many were made. */
function countingSocket(origin: string): {
  Socket: new (url: string) => WebSocket;
  made: () => number;
} {
  let made = 0;
  const Base = originSocket(origin);
  return {
    Socket: class extends Base {
      constructor(address: string) {
        super(address);
        made += 1;
      }
    },
    made: () => made,
  };
}

describe('the bridge through a worker-held socket', () => {
  it('invokes, gets events and pulls frames, all through the worker', async () => {
    const { host, core, url } = await start();
    const worker = channelWorker(host.origin);
    const { client, socket } = await connect(
      url,
      () => new WorkerSocket(url, { createWorker: () => worker }),
    );
    expect(socket.transport).toBe('worker');
    await waitFor(() => core.opened === 1, { what: 'a view' });

    const created = await client.invoke('watchlists:create', { name: 'Tech' });
    expect(created).toEqual({ ok: true, value: { id: 'w2', name: 'Tech', symbols: [] } });

    const notices: string[] = [];
    client.on('notices:update', (n) => notices.push(n[0]!.id));
    core.sessions[0]!.sink.emit('notices:update', [
      { id: 'n1', level: 'info', message: 'one', at: 1 },
    ]);
    await waitFor(() => notices.length === 1, { what: 'the event' });
    expect(notices).toEqual(['n1']);

    const session = core.sessions[0]!;
    const frame = makeFrame(1, ['AAPL', 'MSFT', 'BRK.B', 'BTC/USD']);
    session.push(frame);
    const got = readFrame(await client.nextFrame());
    const sent = readFrame(frame);
    expect(got.symbols).toEqual(['AAPL', 'MSFT', 'BRK.B', 'BTC/USD']);
    expect([...got.bidPrice]).toEqual([...sent.bidPrice]);
    expect([...got.receivedAt]).toEqual([...sent.receivedAt]);

    // A frame asked for before it exists comes when the core has it.
    const next = client.nextFrame();
    await waitFor(() => session.waiting, { what: 'the request at the core' });
    session.push(makeFrame(2, ['SPY']));
    expect(readFrame(await next).symbols).toEqual(['SPY']);
    // Every text message went to the worker as text; nothing was sent before the socket opened.
    expect(worker.posted[0]).toEqual({ op: 'open', url });
    expect(worker.posted.slice(1).every((m) => (m as { op: string }).op === 'send')).toBe(true);
  });

  it('the page closing the bridge closes the view at the host and ends the worker', async () => {
    const { core, worker, client } = await throughWorker();
    client.close();
    expect(client.status).toBe('closed');
    await waitFor(() => core.sessions[0]!.closed, { what: 'the view closed at the host' });
    await waitFor(() => worker.terminated, { what: 'the worker ended' });
  });

  it('the host going away reaches the page as the close the host sent', async () => {
    const { host, worker, client } = await throughWorker();
    const pending = client.nextFrame().then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    const closes: number[] = [];
    client.onClose((info) => closes.push(info.code));
    await host.close();
    expect(await pending).toBe('bridge disconnected');
    await waitFor(() => closes.length === 1, { what: 'onClose' });
    expect(closes).toEqual([1001]);
    expect(worker.terminated).toBe(true);
  });

  it('a refused page is refused through the worker too, and nothing falls back', async () => {
    const { host, core } = await start();
    const url = `ws://127.0.0.1:${host.port}/bridge?token=wrong-token-wrong-token`;
    const worker = channelWorker(host.origin);
    const { Socket: Direct, made } = countingSocket(host.origin);
    await expect(
      connect(
        url,
        () => new WorkerSocket(url, { createWorker: () => worker, DirectSocket: Direct }),
      ),
    ).rejects.toThrow(/did not open/);
    expect(made()).toBe(0);
    expect(core.opened).toBe(0);
    // A malformed address is a close from the worker as well, not an exception on the page.
    const bad = channelWorker(host.origin);
    await expect(
      connect('not a url', () => new WorkerSocket('not a url', { createWorker: () => bad })),
    ).rejects.toThrow(/did not open/);
  });

  it('opens the socket on the page when the worker cannot start, or fails before a word', async () => {
    const { host, core, url } = await start();
    const Direct = originSocket(host.origin);
    // The constructor throws (a policy that forbids workers).
    const refused = await connect(
      url,
      () =>
        new WorkerSocket(url, {
          createWorker: () => {
            throw new Error('workers are not allowed here');
          },
          DirectSocket: Direct,
        }),
    );
    expect(refused.socket.transport).toBe('page');
    expect((await refused.client.invoke('watchlists:list', {})).ok).toBe(true);

    // The script failed to load: an error event before the worker said anything.
    const silent = channelWorker(host.origin, false);
    const opening = connect(
      url,
      () => new WorkerSocket(url, { createWorker: () => silent, DirectSocket: Direct }),
    );
    silent.fail();
    const failed = await opening;
    expect(silent.terminated).toBe(true);
    expect(failed.socket.transport).toBe('page');
    await waitFor(() => core.opened === 2, { what: 'the second view' });
    core.sessions[1]!.push(makeFrame(1, ['AAPL']));
    expect(readFrame(await failed.client.nextFrame()).symbols).toEqual(['AAPL']);
  });

  it('a worker that fails after the socket opened closes the bridge (1006), no second socket', async () => {
    const { host, core, url } = await start();
    const worker = channelWorker(host.origin);
    const { Socket: Direct, made } = countingSocket(host.origin);
    const { client } = await connect(
      url,
      () => new WorkerSocket(url, { createWorker: () => worker, DirectSocket: Direct }),
    );
    await waitFor(() => core.opened === 1, { what: 'a view' });
    const closes: Array<{ code: number; reason: string }> = [];
    client.onClose((info) => closes.push(info));
    const pending = client.invoke('watchlists:list', {});
    worker.fail();
    await waitFor(() => closes.length === 1, { what: 'onClose' });
    expect(closes).toEqual([{ code: 1006, reason: 'the bridge worker failed' }]);
    expect(worker.terminated).toBe(true);
    expect(made()).toBe(0);
    // Whatever waited is settled, not left hanging.
    expect((await pending).ok).toBe(false);
  });
  it("on the page's own socket, readyState follows that socket's close at once, as WebSocket's does", async () => {
    const { host, url } = await start();
    const socket = new WorkerSocket(url, {
      createWorker: () => {
        throw new Error('workers are not allowed here');
      },
      DirectSocket: originSocket(host.origin),
    });
    await new Promise((resolve) => socket.addEventListener('open', resolve, { once: true }));
    expect(socket.readyState).toBe(WorkerSocket.OPEN);
    const closed = new Promise((resolve) =>
      socket.addEventListener('close', resolve, { once: true }),
    );
    socket.close(1000, 'closed by the page');
    // The bridge client reads readyState to decide whether to send; OPEN here would let it send
    // into a closing socket.
    expect(socket.readyState).toBe(WorkerSocket.CLOSING);
    await closed;
    expect(socket.readyState).toBe(WorkerSocket.CLOSED);
  });
});

/**
 * A channel "worker" as above, but the page's `close` waits until the relay has reported the socket
 * open and relayed `held` messages: the race where the page closes while connecting, and the
 * worker's socket opens (and the host speaks) before the worker reads that close.
 */
function racingWorker(origin: string): RelayWorker & {
  readonly relayed: FromRelayLike[];
  release(): void;
} {
  const { port1, port2 } = new MessageChannel();
  const relayed: FromRelayLike[] = [];
  const relayPort = {
    postMessage(message: FromRelayLike, transfer?: ArrayBuffer[]) {
      relayed.push(message);
      port2.postMessage(message, transfer ?? []);
    },
    addEventListener: port2.addEventListener.bind(port2),
  };
  relaySocket(relayPort as unknown as RelayPort, originSocket(origin));
  port2.start();
  port1.start();
  const held: unknown[] = [];
  let releasing = false;
  return {
    relayed,
    postMessage(message) {
      if (!releasing && message.op === 'close') held.push(message);
      else port1.postMessage(message);
    },
    addEventListener(type: 'message' | 'error' | 'messageerror', listener: (e: never) => void) {
      if (type === 'message') port1.addEventListener('message', listener as never);
    },
    terminate() {
      port1.close();
      port2.close();
    },
    release() {
      releasing = true;
      for (const message of held.splice(0)) port1.postMessage(message);
    },
  };
}

interface FromRelayLike {
  readonly op: string;
}

describe('the worker-held socket keeps to what a WebSocket promises', () => {
  it('closed while connecting, it reports no message even when the worker opened first', async () => {
    const { host, core, url } = await start();
    const worker = racingWorker(host.origin);
    const socket = new WorkerSocket(url, { createWorker: () => worker });
    const heard: string[] = [];
    for (const type of ['open', 'message', 'close']) {
      socket.addEventListener(type, () => heard.push(type));
    }
    socket.close(1000, 'changed my mind');
    expect(socket.readyState).toBe(WorkerSocket.CLOSING);
    await waitFor(() => core.opened === 1, { what: 'the worker socket at the host' });
    core.sessions[0]!.sink.emit('notices:update', [
      { id: 'n1', level: 'info', message: 'one', at: 1 },
    ]);
    await waitFor(() => worker.relayed.some((m) => m.op === 'message'), {
      what: 'the host speaking through the worker',
    });
    worker.release();
    await waitFor(() => heard.includes('close'), { what: 'the close' });
    expect(heard).toEqual(['close']);
    expect(socket.readyState).toBe(WorkerSocket.CLOSED);
  });

  it('on the page fallback, close() leaves readyState CLOSING, then CLOSED', async () => {
    const { host, url } = await start();
    const { socket } = await connect(
      url,
      () =>
        new WorkerSocket(url, {
          createWorker: () => {
            throw new Error('workers are not allowed here');
          },
          DirectSocket: originSocket(host.origin),
        }),
    );
    expect(socket.readyState).toBe(WorkerSocket.OPEN);
    socket.close(1000, 'bye');
    expect(socket.readyState).toBe(WorkerSocket.CLOSING);
    await waitFor(() => socket.readyState === WorkerSocket.CLOSED, { what: 'the close' });
  });

  it('a failed worker whose fallback socket cannot be made closes (1006), not hangs', async () => {
    const silent = channelWorker('http://127.0.0.1', false);
    let socket: WorkerSocket | undefined;
    const opening = connectBridge({
      url: 'not a url',
      openSocket: (address) => {
        socket = new WorkerSocket(address, {
          createWorker: () => silent,
          DirectSocket: WebSocket,
        });
        return socket as unknown as WebSocket;
      },
    });
    // The worker's error event must not throw out of its listener.
    expect(() => silent.fail()).not.toThrow();
    await expect(opening).rejects.toThrow(/did not open \(code 1006\)/);
    expect(silent.terminated).toBe(true);
    expect(socket?.readyState).toBe(WorkerSocket.CLOSED);
  });
});

/** An event of about `kib` KiB on the wire (a notice with a long message). */
function bigNotice(id: string, kib: number) {
  return [{ id, level: 'info' as const, message: 'x'.repeat(kib * 1024), at: 1 }];
}

describe("the worker's backpressure, which stands in for the host's own", () => {
  it('a page that stops reading is closed (4000) once it is past the limit, and its view ends', async () => {
    const { host, core, url } = await start();
    // The page's end of the channel, never reporting what it read: a main thread that stopped.
    const { port1, port2 } = new MessageChannel();
    relaySocket(port2 as unknown as RelayPort, originSocket(host.origin), {
      maxUnreadBytes: 64 * 1024,
    });
    port2.start();
    const heard: Array<{ op: string; data?: unknown; code?: number }> = [];
    port1.addEventListener('message', (e) =>
      heard.push((e as MessageEvent).data as (typeof heard)[number]),
    );
    port1.start();
    port1.postMessage({ op: 'open', url });
    await waitFor(() => core.opened === 1, { what: 'a view' });
    const sink = core.sessions[0]!.sink;
    // About 8 KiB a notice on the page's count (two bytes a character): past 64 KiB by the ninth.
    for (let i = 0; i < 40; i++) sink.emit('notices:update', bigNotice(`n${i}`, 4));
    await waitFor(() => heard.some((m) => m.op === 'close'), { what: 'the close' });
    expect(heard.find((m) => m.op === 'close')?.code).toBe(PAGE_STOPPED_READING);
    const relayed = heard.filter((m) => m.op === 'message').length;
    expect(relayed).toBeGreaterThanOrEqual(7);
    expect(relayed).toBeLessThanOrEqual(8);
    await waitFor(() => core.sessions[0]!.closed, { what: 'the view closed at the host' });
    port1.close();
  });

  it('a page that reads keeps its bridge however much goes through, and says so in steps', async () => {
    const { core, worker, client } = await throughWorker({ maxUnreadBytes: 2 * READ_REPORT_BYTES });
    const seen: string[] = [];
    client.on('notices:update', (n) => seen.push(n[0]!.id));
    const sink = core.sessions[0]!.sink;
    // 2 MiB on the page's count, four times the limit, in bursts of a quarter of it, each read
    // before the next (a burst bigger than the limit is a page that fell that far behind).
    for (let i = 0; i < 256; i++) {
      sink.emit('notices:update', bigNotice(`n${i}`, 4));
      if (i % 16 === 15) await waitFor(() => seen.length === i + 1, { what: `notice ${i}` });
    }
    expect(client.status).toBe('open');
    const reports = worker.posted.filter((m) => (m as { op: string }).op === 'read');
    expect(reports.length).toBeGreaterThanOrEqual(7);
    expect(reports.every((m) => (m as { bytes: number }).bytes >= READ_REPORT_BYTES)).toBe(true);
  });
});

describe('frames through shared memory (a cross-origin isolated page)', () => {
  it('the relay puts each frame in the slot and posts only a notice; the page gets them in order', async () => {
    const { host, core, url } = await start();
    const worker = channelWorker(host.origin);
    const heard: string[] = [];
    worker.addEventListener('message', (e: MessageEvent) => {
      const m = e.data as { op: string; data?: unknown };
      heard.push(m.op === 'message' && typeof m.data !== 'string' ? 'binary' : m.op);
    });
    const { client, socket } = await connect(
      url,
      () =>
        new WorkerSocket(url, {
          createWorker: () => worker,
          shareMemory: true,
          // No animation frames run here: every frame is taken at the worker's notice.
          readBeforePaint: () => undefined,
        }),
    );
    expect(socket.sharesFrames).toBe(true);
    await waitFor(() => core.opened === 1, { what: 'a view' });
    const session = core.sessions[0]!;
    const notices: string[] = [];
    client.on('notices:update', (n) => notices.push(n[0]!.id));
    for (let i = 1; i <= 5; i++) {
      session.push(makeFrame(i, ['AAPL', `S${i}`]));
      const frame = readFrame(await client.nextFrame());
      expect(frame.symbols).toEqual(['AAPL', `S${i}`]);
      session.sink.emit('notices:update', [{ id: `n${i}`, level: 'info', message: 'x', at: 1 }]);
    }
    await waitFor(() => notices.length === 5, { what: 'the notices' });
    expect(notices).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(heard.filter((op) => op === 'slot')).toHaveLength(5);
    expect(heard).not.toContain('binary');
  });

  it('a frame larger than the slot is posted as before', async () => {
    const { host, core, url } = await start();
    const { port1, port2 } = new MessageChannel();
    relaySocket(port2 as unknown as RelayPort, originSocket(host.origin));
    port2.start();
    const heard: Array<{ op: string; data?: unknown }> = [];
    port1.addEventListener('message', (e) => heard.push((e as MessageEvent).data as never));
    port1.start();
    port1.postMessage({ op: 'open', url });
    port1.postMessage({ op: 'slot', memory: createFrameSlot(16) });
    await waitFor(() => core.opened === 1, { what: 'a view' });
    await waitFor(() => heard.some((m) => m.op === 'open'), { what: 'open' });
    core.sessions[0]!.push(makeFrame(1, ['AAPL', 'MSFT']));
    port1.postMessage({ op: 'send', data: JSON.stringify({ type: 'frame', id: 1 }) });
    await waitFor(() => heard.some((m) => m.op === 'message'), { what: 'the frame' });
    const posted = heard.find((m) => m.op === 'message');
    expect(posted?.data).toBeInstanceOf(ArrayBuffer);
    expect(heard.some((m) => m.op === 'slot')).toBe(false);
    port1.close();
  });
});
