/**
 * The preload, loaded as Electron would load it (module side effects at import) against a fake
 * `electron`: what it exposes, what it refuses, and how port messages reach the page.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COMMAND_NAMES, type MonitorApi } from '../../../shared/api.ts';
import { IPC } from '../../../shared/channels.ts';
import type * as PreloadModule from '../../../electron/preload.ts';
import { FakePagePort, createFakeElectron, makeFrame } from '../../support/fake-electron.ts';
import { QuoteBook } from '../../../electron/stream/book.ts';
import { FRAME_COLUMNS } from '../../../shared/frame.ts';
import { readFrame } from '../../support/frame-reader.ts';

type Fake = ReturnType<typeof createFakeElectron>;

let fake: Fake;

async function loadPreload(): Promise<{ api: MonitorApi; module: typeof PreloadModule }> {
  vi.resetModules();
  vi.doMock('electron', () => fake.module);
  const module = await import('../../../electron/preload.ts');
  const exposed = fake.contextBridge.exposed[0];
  if (exposed === undefined) throw new Error('nothing exposed');
  return { api: exposed.api as MonitorApi, module };
}

/** Main sends the page a port (webContents.postMessage(IPC.port, null, [port2])). */
function sendPort(): FakePagePort {
  const port = new FakePagePort();
  fake.ipcRenderer.receive(IPC.port, [port]);
  return port;
}

beforeEach(() => {
  fake = createFakeElectron();
});

afterEach(() => {
  vi.doUnmock('electron');
  vi.restoreAllMocks();
});

describe('preload: what the page gets', () => {
  it('exposes exactly { invoke, on, nextFrame } as window.monitor, once, and nothing of Electron', async () => {
    const { api } = await loadPreload();
    expect(fake.contextBridge.exposed).toHaveLength(1);
    expect(fake.contextBridge.exposed[0]!.key).toBe('monitor');
    expect(Object.keys(api).sort()).toEqual(['invoke', 'nextFrame', 'on']);
    for (const value of Object.values(api)) expect(value).toBeTypeOf('function');
    const electronObjects: unknown[] = [
      fake.ipcRenderer,
      Reflect.get(fake.ipcRenderer, 'invoke'),
      Reflect.get(fake.ipcRenderer, 'on'),
      fake.contextBridge,
    ];
    for (const value of Object.values(api)) expect(electronObjects).not.toContain(value);
  });

  it('says it is ready once at load and listens for its port', async () => {
    await loadPreload();
    expect(fake.ipcRenderer.invocations).toEqual([{ channel: IPC.ready, args: [] }]);
    expect(fake.ipcRenderer.listeners.get(IPC.port)).toHaveLength(1);
  });

  it('logs when main refuses the window', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    fake.ipcRenderer.answer = () =>
      Promise.resolve({ ok: false, error: { code: 'forbidden', message: 'foreign origin' } });
    await loadPreload();
    await vi.waitFor(() =>
      expect(error).toHaveBeenCalledWith(expect.stringContaining('foreign origin')),
    );
  });

  it('imports nothing at run time but electron and shared/channels.ts (no zod in the bundle)', async () => {
    const source = await readFile(
      join(import.meta.dirname, '../../../electron/preload.ts'),
      'utf8',
    );
    const runtimeImports = [
      ...source.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms),
    ].map((m) => m[1]);
    expect(runtimeImports.sort()).toEqual(['../shared/channels.ts', 'electron']);
    const channels = await readFile(
      join(import.meta.dirname, '../../../shared/channels.ts'),
      'utf8',
    );
    expect([...channels.matchAll(/^import\s+(?!type\b)/gm)]).toHaveLength(0);
  });
});

describe('preload: invoke', () => {
  it('its command list is exactly shared/api.ts COMMANDS', async () => {
    const { module } = await loadPreload();
    expect([...module.PRELOAD_COMMANDS].sort()).toEqual([...COMMAND_NAMES].sort());
  });

  it('forwards a known command with its payload and hands back main’s Result', async () => {
    fake.ipcRenderer.answer = (channel, args) =>
      Promise.resolve(
        channel === IPC.ready
          ? { ok: true, value: { viewId: 'v1' } }
          : { ok: true, value: { echo: args[0] } },
      );
    const { api } = await loadPreload();
    const result = await api.invoke('watchlists:create', { name: 'Tech' });
    expect(result).toEqual({ ok: true, value: { echo: { name: 'Tech' } } });
    expect(fake.ipcRenderer.invocations.at(-1)).toEqual({
      channel: 'watchlists:create',
      args: [{ name: 'Tech' }],
    });
  });

  it('refuses names that are not commands without asking main, including our own channels', async () => {
    const { api } = await loadPreload();
    const before = fake.ipcRenderer.invocations.length;
    for (const name of [
      IPC.ready,
      IPC.port,
      'settings:delete',
      '__proto__',
      'constructor',
      'toString',
      '',
      42,
      null,
    ]) {
      const result = await api.invoke(name as never, {} as never);
      expect(result, String(name)).toMatchObject({ ok: false, error: { code: 'unknown-command' } });
    }
    expect(fake.ipcRenderer.invocations).toHaveLength(before);
  });

  it('turns a rejected invoke (no handler, uncloneable payload) into a Result, never a rejection', async () => {
    const { api } = await loadPreload();
    fake.ipcRenderer.answer = () =>
      Promise.reject(new Error("No handler registered for 'settings:get'"));
    await expect(api.invoke('settings:get', {})).resolves.toMatchObject({
      ok: false,
      error: { code: 'internal' },
    });
    fake.ipcRenderer.answer = () => {
      throw new Error('An object could not be cloned.');
    };
    await expect(api.invoke('settings:get', {})).resolves.toMatchObject({
      ok: false,
      error: {
        code: 'internal',
        message: expect.stringContaining('could not be cloned') as unknown,
      },
    });
  });
});

describe('preload: events', () => {
  it('routes event messages on the port to the listeners of that event only', async () => {
    const { api } = await loadPreload();
    const port = sendPort();
    expect(port.started).toBe(true);
    const states: unknown[] = [];
    const notices: unknown[] = [];
    const off = api.on('connection:state', (view) => states.push(view));
    api.on('notices:update', (list) => notices.push(list));

    port.deliver({ type: 'event', event: 'connection:state', payload: { state: 'live' } });
    port.deliver({ type: 'event', event: 'log:entry', payload: { msg: 'x' } });
    expect(states).toEqual([{ state: 'live' }]);
    expect(notices).toEqual([]);

    off();
    off();
    port.deliver({ type: 'event', event: 'connection:state', payload: { state: 'backoff' } });
    expect(states).toHaveLength(1);
  });

  it('a deep link that arrives before the page subscribes is kept for its first listener', async () => {
    const { api } = await loadPreload();
    const port = sendPort();
    port.deliver({ type: 'event', event: 'deeplink:symbol', payload: { symbol: 'MSFT' } });
    port.deliver({ type: 'event', event: 'deeplink:symbol', payload: { symbol: 'AAPL' } });
    port.deliver({ type: 'event', event: 'connection:state', payload: { state: 'live' } });
    const links: unknown[] = [];
    const states: unknown[] = [];
    api.on('connection:state', (view) => states.push(view));
    api.on('deeplink:symbol', (link) => links.push(link));
    expect(links).toEqual([]); // not inside on()
    await Promise.resolve();
    expect(links).toEqual([{ symbol: 'AAPL' }]); // the latest, once
    expect(states).toEqual([]); // state events are not held: the page reads state itself
    const second: unknown[] = [];
    api.on('deeplink:symbol', (link) => second.push(link));
    await Promise.resolve();
    expect(second).toEqual([]);
    port.deliver({ type: 'event', event: 'deeplink:symbol', payload: { symbol: 'TSLA' } });
    expect(links).toEqual([{ symbol: 'AAPL' }, { symbol: 'TSLA' }]);
    expect(second).toEqual([{ symbol: 'TSLA' }]);
  });

  it('a throwing listener does not keep the others from their event', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { api } = await loadPreload();
    const port = sendPort();
    const seen: unknown[] = [];
    api.on('metrics:update', () => {
      throw new Error('render bug');
    });
    api.on('metrics:update', (m) => seen.push(m));
    port.deliver({ type: 'event', event: 'metrics:update', payload: { n: 1 } });
    expect(seen).toEqual([{ n: 1 }]);
    expect(error).toHaveBeenCalled();
  });

  it('ignores junk on the port', async () => {
    const { api } = await loadPreload();
    const port = sendPort();
    const seen: unknown[] = [];
    api.on('connection:state', (v) => seen.push(v));
    for (const junk of [null, 42, 'event', { type: 'nope' }, { type: 'frame', id: 99 }])
      port.deliver(junk);
    expect(seen).toEqual([]);
  });

  it('refuses a listener that is not a function', async () => {
    const { api } = await loadPreload();
    expect(() => api.on('connection:state', 'nope' as never)).toThrow(TypeError);
  });
});

describe('preload: nextFrame', () => {
  it('waits for the port, asks once, and resolves with the matching frame', async () => {
    const { api } = await loadPreload();
    const first = api.nextFrame();
    const port = sendPort();
    expect(port.posted).toEqual([{ type: 'frame', id: 1 }]);

    port.deliver({ type: 'frame', id: 0, frame: makeFrame(9, ['STALE']) }); // not ours: ignored
    port.deliver({ type: 'frame', id: 1, frame: makeFrame(1, ['AAPL', 'MSFT']) });
    const frame = readFrame(await first);
    expect(frame.seq).toBe(1);
    expect(frame.symbols).toEqual(['AAPL', 'MSFT']);
    expect([...frame.bidPrice]).toEqual([100, 101]);

    const next = api.nextFrame();
    expect(port.posted).toEqual([
      { type: 'frame', id: 1 },
      { type: 'frame', id: 2 },
    ]);
    port.deliver({ type: 'frame', id: 2, frame: makeFrame(2, []) });
    expect((await next).seq).toBe(2);
  });

  it("gives the ids of main's one-buffer frame a buffer of their own before they reach the page", async () => {
    const { api } = await loadPreload();
    const port = sendPort();
    const book = new QuoteBook({ now: () => 1 });
    const cursor = book.cursor();
    const quote = (symbol: string, bid: number) => ({
      kind: 'quote' as const,
      symbol,
      bidExchange: undefined,
      bidPrice: bid,
      bidSize: 1,
      askExchange: undefined,
      askPrice: bid + 1,
      askSize: 2,
      conditions: undefined,
      time: '2025-03-04T15:00:00Z',
      timeMs: 1741100400000,
      tape: undefined,
    });
    book.applyQuote(quote('AAPL', 10));
    book.applyQuote(quote('MSFT', 20));
    const built = cursor.take();
    // As main builds it: ids and values are two views of one buffer.
    expect(built.rows.buffer).toBe(built.values.buffer);
    const pending = api.nextFrame();
    port.deliver({ type: 'frame', id: 1, frame: built });
    const got = await pending;
    // The ids alone: contextBridge would otherwise copy the whole buffer for them.
    expect(got.rows.buffer.byteLength).toBe(2 * 4);
    expect([...got.rows]).toEqual([...built.rows]);
    // The values are all but the ids' 8 bytes of the buffer: they keep it (no copy here).
    expect(got.values.buffer.byteLength).toBe(8 + FRAME_COLUMNS.length * 2 * 8);
    expect([...got.values]).toEqual([...built.values]);
    const frame = readFrame(got);
    expect([...frame.bidPrice]).toEqual([10, 20]);
    expect(frame.symbols).toEqual(['AAPL', 'MSFT']);
    expect(frame.seq).toBe(built.seq);
  });

  it('a call while one is pending takes over its request: the earlier one rejects, the answer goes to the newer', async () => {
    const { api } = await loadPreload();
    const port = sendPort();
    const first = api.nextFrame();
    const second = api.nextFrame();
    await expect(first).rejects.toThrow(/superseded/);
    // No second request: main may already have taken the view's changes for the first one.
    expect(port.posted).toEqual([{ type: 'frame', id: 1 }]);
    port.deliver({ type: 'frame', id: 1, frame: makeFrame(1, ['AAPL']) });
    expect(readFrame(await second).symbols).toEqual(['AAPL']);
    // Answered: the next call asks again.
    const third = api.nextFrame();
    expect(port.posted).toEqual([
      { type: 'frame', id: 1 },
      { type: 'frame', id: 2 },
    ]);
    port.deliver({ type: 'frame', id: 2, frame: makeFrame(2, ['MSFT']) });
    expect(readFrame(await third).symbols).toEqual(['MSFT']);
  });

  it('a restarted pull loop (StrictMode double effect) gets the full first frame; nothing is dropped', async () => {
    const { api } = await loadPreload();
    const port = sendPort();
    const received: Array<{ loop: number; seq: number }> = [];
    const errors: Array<{ loop: number; message: string }> = [];
    /** renderer/app.tsx's loop, reduced to what matters here. */
    const startLoop = (loop: number): (() => void) => {
      let stopped = false;
      void (async () => {
        while (!stopped) {
          try {
            const frame = await api.nextFrame();
            received.push({ loop, seq: frame.seq });
          } catch (err) {
            if (!stopped) errors.push({ loop, message: (err as Error).message });
            return;
          }
        }
      })();
      return () => {
        stopped = true;
      };
    };
    const stop1 = startLoop(1);
    stop1();
    const stop2 = startLoop(2);
    port.deliver({ type: 'frame', id: 1, frame: makeFrame(1, ['AAPL', 'MSFT']) });
    await vi.waitFor(() => expect(port.posted).toHaveLength(2));
    port.deliver({ type: 'frame', id: 2, frame: makeFrame(2, ['AAPL']) });
    await vi.waitFor(() => expect(received).toHaveLength(2));
    stop2();
    expect(received).toEqual([
      { loop: 2, seq: 1 },
      { loop: 2, seq: 2 },
    ]);
    expect(errors).toEqual([]);
    expect(port.posted).toEqual([
      { type: 'frame', id: 1 },
      { type: 'frame', id: 2 },
      { type: 'frame', id: 3 },
    ]);
  });

  it('a superseded call nobody listens to is not reported as an unhandled rejection', async () => {
    const { api } = await loadPreload();
    const port = sendPort();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      void api.nextFrame(); // a stopped loop that no longer awaits its call
      const second = api.nextFrame();
      port.deliver({ type: 'frame', id: 1, frame: makeFrame(1, ['AAPL']) });
      expect((await second).seq).toBe(1);
      // Node reports unhandled rejections after the microtask queue drains.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it('a call before the port arrives, superseded before it: one request on the port, to the newer call', async () => {
    const { api } = await loadPreload();
    const first = api.nextFrame();
    const second = api.nextFrame();
    await expect(first).rejects.toThrow(/superseded/);
    const port = sendPort();
    expect(port.posted).toEqual([{ type: 'frame', id: 1 }]);
    port.deliver({ type: 'frame', id: 1, frame: makeFrame(1, ['AAPL']) });
    expect((await second).seq).toBe(1);
  });

  it('a new port from main replaces the old one and the pending request is asked again on it', async () => {
    const { api } = await loadPreload();
    const oldPort = sendPort();
    const pending = api.nextFrame();
    expect(oldPort.posted).toEqual([{ type: 'frame', id: 1 }]);

    const newPort = sendPort();
    expect(oldPort.closed).toBe(true);
    expect(newPort.posted).toEqual([{ type: 'frame', id: 2 }]);
    oldPort.deliver({ type: 'frame', id: 1, frame: makeFrame(1, ['OLD']) }); // closed: never arrives
    newPort.deliver({ type: 'frame', id: 1, frame: makeFrame(1, ['STALE-ID']) });
    newPort.deliver({ type: 'frame', id: 2, frame: makeFrame(1, ['NEW']) });
    expect(readFrame(await pending).symbols).toEqual(['NEW']);
  });

  it('a port message without ports is ignored', async () => {
    await loadPreload();
    expect(() => fake.ipcRenderer.receive(IPC.port, [])).not.toThrow();
  });
});
