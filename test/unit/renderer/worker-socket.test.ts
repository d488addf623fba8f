/**
 * WorkerSocket's edges against a scripted worker, where the order of the worker's messages is
 * chosen by the test (test/integration/host/worker-socket.test.ts runs the real relay and host).
 */
import { describe, expect, it } from 'vitest';
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
  socket.addEventListener('message', (e) =>
    seen.push(`message ${String((e as MessageEvent).data)}`),
  );
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
