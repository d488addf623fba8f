/**
 * WorkerSocket's edges against a scripted worker, where the order of the worker's messages is
 * chosen by the test (test/integration/host/worker-socket.test.ts runs the real relay and host).
 */
import { describe, expect, it } from 'vitest';
import { FrameSlotWriter } from '../../../renderer/frame-slot.ts';
import type { FromRelay, ToRelay } from '../../../renderer/socket-relay.ts';
import { WorkerSocket, type RelayWorker } from '../../../renderer/worker-socket.ts';

class ScriptedWorker implements RelayWorker {
  readonly posted: ToRelay[] = [];
  terminated = false;
  readonly #listeners = new Map<string, Array<(event: MessageEvent) => void>>();

  postMessage(message: ToRelay): void {
    this.posted.push(message);
  }
  addEventListener(type: string, listener: (event: MessageEvent) => void): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }
  terminate(): void {
    this.terminated = true;
  }
  say(message: FromRelay): void {
    for (const l of this.#listeners.get('message') ?? [])
      l(new MessageEvent('message', { data: message }));
  }
  emit(type: 'error' | 'messageerror'): void {
    for (const l of this.#listeners.get(type) ?? []) l(new MessageEvent(type));
  }
}

/** A page socket that must never be made. */
class NoDirect {
  constructor() {
    throw new Error('the page opened a socket of its own');
  }
}

function events(socket: WorkerSocket): string[] {
  const seen: string[] = [];
  socket.addEventListener('open', () => seen.push('open'));
  socket.addEventListener('message', (e) => {
    const data: unknown = (e as MessageEvent).data;
    seen.push(
      data instanceof ArrayBuffer
        ? `frame ${[...new Uint8Array(data)].join(',')}`
        : `message ${String(data)}`,
    );
  });
  socket.addEventListener('close', (e) => seen.push(`close ${(e as CloseEvent).code}`));
  return seen;
}

function open(): { worker: ScriptedWorker; socket: WorkerSocket; seen: string[] } {
  const worker = new ScriptedWorker();
  const socket = new WorkerSocket('ws://127.0.0.1:1/bridge?token=t', {
    createWorker: () => worker,
    DirectSocket: NoDirect as unknown as typeof WebSocket,
  });
  return { worker, socket, seen: events(socket) };
}

/**
 * A WorkerSocket on a page that may share memory: `frame()` runs what it asked to read at the next
 * animation frame, and `writer` is the worker's end of the slot it sent.
 */
function openShared(): {
  worker: ScriptedWorker;
  socket: WorkerSocket;
  seen: string[];
  writer: FrameSlotWriter;
  frame: () => void;
  asked: () => number;
} {
  const worker = new ScriptedWorker();
  let reads: Array<() => void> = [];
  let asked = 0;
  const socket = new WorkerSocket('ws://127.0.0.1:1/bridge?token=t', {
    createWorker: () => worker,
    DirectSocket: NoDirect as unknown as typeof WebSocket,
    shareMemory: true,
    readBeforePaint: (read) => {
      asked += 1;
      reads.push(read);
    },
  });
  const slot = worker.posted.find((m) => m.op === 'slot');
  if (slot?.op !== 'slot') throw new Error('no slot was sent');
  const seen = events(socket);
  worker.say({ op: 'open' });
  return {
    worker,
    socket,
    seen,
    writer: new FrameSlotWriter(slot.memory),
    frame: () => {
      const now = reads;
      reads = [];
      for (const read of now) read();
    },
    asked: () => asked,
  };
}

function bytes(...values: number[]): ArrayBuffer {
  return new Uint8Array(values).buffer;
}

describe('WorkerSocket with a shared frame slot', () => {
  it('sends the slot after open, and without a way to read at a frame, none', () => {
    const { worker, socket } = openShared();
    expect(worker.posted.map((m) => m.op)).toEqual(['open', 'slot']);
    expect(socket.sharesFrames).toBe(true);
    const plain = new ScriptedWorker();
    const unshared = new WorkerSocket('ws://127.0.0.1:1/bridge?token=t', {
      createWorker: () => plain,
      shareMemory: true,
    });
    expect(plain.posted.map((m) => m.op)).toEqual(['open']);
    expect(unshared.sharesFrames).toBe(false);
    const isolatedNot = new ScriptedWorker();
    new WorkerSocket('ws://127.0.0.1:1/bridge?token=t', {
      createWorker: () => isolatedNot,
      shareMemory: false,
      readBeforePaint: () => undefined,
    });
    expect(isolatedNot.posted.map((m) => m.op)).toEqual(['open']);
  });

  it('takes the frame at the animation frame after a send, with no message from the worker', () => {
    const { socket, seen, writer, frame, asked } = openShared();
    socket.send('{"type":"frame","id":1}');
    expect(asked()).toBe(1);
    expect(writer.put(bytes(1, 2), 0)).toBe(true);
    frame();
    expect(seen).toEqual(['open', 'frame 1,2']);
  });

  it('or at the worker`s notice, whichever comes first, and only once', () => {
    const { worker, socket, seen, writer, frame } = openShared();
    socket.send('{"type":"frame","id":1}');
    expect(writer.put(bytes(3), 0)).toBe(true);
    worker.say({ op: 'slot' });
    frame();
    worker.say({ op: 'slot' });
    expect(seen).toEqual(['open', 'frame 3']);
  });

  it('keeps the socket`s order: a frame waits for the messages posted before it', () => {
    const { worker, socket, seen, writer, frame } = openShared();
    socket.send('x');
    // The worker posted "a", then put a frame after it; the page has not handled "a" yet.
    expect(writer.put(bytes(4), 1)).toBe(true);
    frame();
    expect(seen).toEqual(['open']);
    worker.say({ op: 'message', data: 'a' });
    expect(seen).toEqual(['open', 'message a', 'frame 4']);
    // And a frame put before a message is delivered before it.
    expect(writer.put(bytes(5), 1)).toBe(true);
    worker.say({ op: 'message', data: 'b' });
    expect(seen).toEqual(['open', 'message a', 'frame 4', 'frame 5', 'message b']);
  });

  it('looks for about two seconds of frames after a send, then leaves it to the notice', () => {
    const { worker, socket, seen, writer, frame, asked } = openShared();
    socket.send('x');
    socket.send('y');
    for (let i = 0; i < 500; i += 1) frame();
    expect(asked()).toBe(120);
    expect(writer.put(bytes(6), 0)).toBe(true);
    frame();
    expect(seen).toEqual(['open']);
    worker.say({ op: 'slot' });
    expect(seen).toEqual(['open', 'frame 6']);
    // A new send looks again.
    socket.send('z');
    expect(asked()).toBe(121);
  });

  it('delivers a frame in the slot before the close that followed it; none once the page closed', () => {
    const first = openShared();
    first.socket.send('x');
    expect(first.writer.put(bytes(7), 0)).toBe(true);
    first.worker.say({ op: 'close', code: 1001, reason: 'bye', wasClean: true });
    expect(first.seen).toEqual(['open', 'frame 7', 'close 1001']);

    const second = openShared();
    second.socket.send('x');
    expect(second.writer.put(bytes(8), 0)).toBe(true);
    second.socket.close();
    second.frame();
    second.worker.say({ op: 'slot' });
    second.worker.say({ op: 'close', code: 1000, reason: '', wasClean: true });
    expect(second.seen).toEqual(['open', 'close 1000']);
  });

  it('a slot that cannot be made or sent leaves the frames to messages, and the worker running', () => {
    // The shared memory refused after `open` went out (out of memory, or a page that says it is
    // isolated and is not: DataCloneError): the worker's socket may already be opening at the
    // host, so the constructor must not throw and leave it there, unowned.
    const worker = new ScriptedWorker();
    const post = worker.postMessage.bind(worker);
    worker.postMessage = (message: ToRelay) => {
      if (message.op === 'slot') throw new DOMException('cannot share', 'DataCloneError');
      post(message);
    };
    let asked = 0;
    const socket = new WorkerSocket('ws://127.0.0.1:1/bridge?token=t', {
      createWorker: () => worker,
      DirectSocket: NoDirect as unknown as typeof WebSocket,
      shareMemory: true,
      readBeforePaint: () => {
        asked += 1;
      },
    });
    expect(socket.sharesFrames).toBe(false);
    expect(worker.terminated).toBe(false);
    const seen = events(socket);
    worker.say({ op: 'open' });
    socket.send('x');
    // No slot to look in: no animation frame is asked for.
    expect(asked).toBe(0);
    worker.say({ op: 'message', data: bytes(1, 2) });
    expect(seen).toEqual(['open', 'frame 1,2']);
  });
});

describe('WorkerSocket', () => {
  it('closed by the page while connecting: no open and no message reach it, only the close', () => {
    const { worker, socket, seen } = open();
    socket.close(1000, 'closed by the page');
    expect(socket.readyState).toBe(WorkerSocket.CLOSING);
    worker.say({ op: 'open' });
    worker.say({ op: 'message', data: 'early' });
    worker.say({ op: 'close', code: 1000, reason: 'closed by the page', wasClean: true });
    expect(seen).toEqual(['close 1000']);
    expect(worker.terminated).toBe(true);
  });

  it('drops what arrives after the page called close(), as a closing WebSocket does', () => {
    const { worker, socket, seen } = open();
    worker.say({ op: 'open' });
    worker.say({ op: 'message', data: 'a' });
    socket.close();
    worker.say({ op: 'message', data: 'b' });
    worker.say({ op: 'close', code: 1005, reason: '', wasClean: true });
    expect(seen).toEqual(['open', 'message a', 'close 1005']);
  });

  it('a message the page cannot read ends the socket (1006), even before the first word, and opens no other', () => {
    const { worker, socket, seen } = open();
    worker.emit('messageerror');
    expect(seen).toEqual(['close 1006']);
    expect(socket.readyState).toBe(WorkerSocket.CLOSED);
    expect(socket.transport).toBe('worker');
    expect(worker.terminated).toBe(true);
    // A late word from the ended worker changes nothing.
    worker.say({ op: 'open' });
    worker.emit('messageerror');
    expect(seen).toEqual(['close 1006']);
  });

  it('throws when sent to before it is open, as a WebSocket does', () => {
    const { worker, socket } = open();
    expect(() => socket.send('x')).toThrow(/not open/);
    worker.say({ op: 'open' });
    socket.send('x');
    expect(worker.posted.at(-1)).toEqual({ op: 'send', data: 'x' });
  });
});
