/**
 * registerIpc + ViewManager against fake Electron objects and a core whose views validate with
 * shared/api.ts parseCommand: the sender guard runs before anything, only known channels exist,
 * bad payloads never reach a handler, and each window's view lives exactly as long as its page.
 */
import type { WebContents } from 'electron';
import { describe, expect, it } from 'vitest';
import { registerIpc, HANDLED_CHANNELS } from '../../../electron/ipc/commands.ts';
import { APP_ENTRY_URL, APP_ORIGIN } from '../../../electron/ipc/origin.ts';
import { ViewManager, isFrameRequest } from '../../../electron/ipc/views.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';
import { COMMAND_NAMES, type ConnectionView, type Result } from '../../../shared/api.ts';
import { IPC, type PortMessage } from '../../../shared/channels.ts';
import {
  FakeCore,
  type FakeFrame,
  FakeIpcMain,
  FakeMessageChannelMain,
  type FakeMessagePortMain,
  FakeSession,
  FakeWebContents,
  makeFrame,
} from '../../support/fake-electron.ts';
import { readFrame } from '../../support/frame-reader.ts';
import { waitFor } from '../../support/wait.ts';

function setup() {
  const ring = new LogRing();
  const log = ringLogger(ring);
  const core = new FakeCore();
  const origins = [APP_ORIGIN];
  const views = new ViewManager({
    openView: (sink) => core.openView(sink),
    createChannel: () => new FakeMessageChannelMain(),
    origins,
    log,
  });
  const ipc = new FakeIpcMain();
  const dispose = registerIpc(ipc, { views, origins, log });
  const session = new FakeSession();

  /** A window of ours showing `url`. */
  const window = (url = APP_ENTRY_URL): FakeWebContents => {
    const contents = new FakeWebContents(session);
    contents.commit(url);
    views.track(contents as unknown as WebContents);
    return contents;
  };

  /** The page's end of the port main sent with the last IPC.port, started, recording messages. */
  const pagePort = (contents: FakeWebContents) => {
    const posted = contents.posted.filter((p) => p.channel === IPC.port).at(-1);
    if (posted === undefined) throw new Error('no port was sent');
    expect(posted.transfer).toHaveLength(1);
    const port = posted.transfer[0] as FakeMessagePortMain;
    const received: PortMessage[] = [];
    port.on('message', (e: { data: PortMessage }) => received.push(e.data));
    port.start();
    return { port, received };
  };

  const ready = (contents: FakeWebContents, frame: FakeFrame | null = contents.mainFrame) =>
    ipc.invoke(IPC.ready, contents, frame) as Promise<Result<{ viewId: string }>>;

  const invoke = (contents: FakeWebContents, command: string, ...args: unknown[]) =>
    ipc.invoke(command, contents, contents.mainFrame, ...args) as Promise<Result<unknown>>;

  const refusals = () => ring.records().filter((r) => r.msg === 'refused an IPC message');

  return { ring, core, views, ipc, dispose, session, window, pagePort, ready, invoke, refusals };
}

const connectionView = { state: 'live', previous: 'subscribing' } as unknown as ConnectionView;

describe('registerIpc: channels', () => {
  it('registers exactly IPC.ready and one handler per command, and removes them all', async () => {
    const t = setup();
    expect([...t.ipc.handlers.keys()].sort()).toEqual([IPC.ready, ...COMMAND_NAMES].sort());
    expect(HANDLED_CHANNELS).toHaveLength(COMMAND_NAMES.length + 1);

    const contents = t.window();
    await expect(t.invoke(contents, 'settings:delete-everything', {})).rejects.toThrow(
      /No handler registered/,
    );
    await expect(t.invoke(contents, IPC.port)).rejects.toThrow(/No handler registered/);

    t.dispose();
    expect(t.ipc.handlers.size).toBe(0);
  });
});

describe('registerIpc: the sender guard runs first', () => {
  it('refuses ready and commands from a webContents that is not one of our windows', async () => {
    const t = setup();
    const stranger = new FakeWebContents(t.session);
    stranger.commit(APP_ENTRY_URL); // right origin, but we never created it
    const verdict = await t.ready(stranger);
    expect(verdict).toMatchObject({
      ok: false,
      error: { code: 'forbidden', message: 'not one of our windows' },
    });
    expect(await t.invoke(stranger, 'settings:get', {})).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(t.core.sessions).toHaveLength(0);
    expect(stranger.posted).toHaveLength(0);
    expect(t.refusals()).toHaveLength(2);
  });

  it('refuses a sub-frame, a vanished frame, a foreign origin and a destroyed window', async () => {
    const t = setup();

    const ours = t.window();
    const sub = ours.mainFrame.child(APP_ENTRY_URL);
    expect(await t.ready(ours, sub)).toMatchObject({
      ok: false,
      error: { message: 'sent from a sub-frame' },
    });
    expect(await t.ready(ours, null)).toMatchObject({
      ok: false,
      error: { message: 'the sending frame is gone' },
    });

    for (const url of [
      'https://evil.example/',
      'file:///tmp/index.html',
      'app://other/index.html',
    ]) {
      const foreign = t.window(url);
      expect(await t.ready(foreign), url).toMatchObject({
        ok: false,
        error: { message: 'foreign origin' },
      });
    }

    const gone = t.window();
    gone.destroyed = true; // destroyed, 'destroyed' not yet emitted
    expect(await t.ready(gone)).toMatchObject({
      ok: false,
      error: { message: 'the sending window is gone' },
    });

    expect(t.core.sessions).toHaveLength(0);
    expect(t.refusals()).toHaveLength(6);
  });

  it('refuses the previous document of a window whose main frame was replaced', async () => {
    const t = setup();
    const contents = t.window();
    const oldFrame = contents.mainFrame;
    contents.commit(APP_ENTRY_URL);
    expect(await t.ready(contents, oldFrame)).toMatchObject({
      ok: false,
      error: { message: 'not the main frame of the window' },
    });
    expect(await t.ready(contents, contents.mainFrame.alias())).toMatchObject({ ok: true });
  });

  it('a refused command never reaches the core, even with a valid payload', async () => {
    const t = setup();
    const contents = t.window();
    expect(await t.ready(contents)).toMatchObject({ ok: true });
    const sub = contents.mainFrame.child(APP_ENTRY_URL);
    const verdict = await t.ipc.invoke('watchlists:create', contents, sub, {
      name: 'From an iframe',
    });
    expect(verdict).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(t.core.calls).toHaveLength(0);
  });
});

describe('registerIpc: commands', () => {
  it('answers a command before IPC.ready with conflict, without touching the core', async () => {
    const t = setup();
    const contents = t.window();
    expect(await t.invoke(contents, 'settings:get', {})).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    expect(t.core.calls).toHaveLength(0);
  });

  it('refuses bad payloads with bad-request before any core handler runs', async () => {
    const t = setup();
    const contents = t.window();
    await t.ready(contents);

    const bad: Array<[string, unknown]> = [
      ['watchlists:create', { name: '' }],
      ['watchlists:create', { name: 'ok', extra: true }],
      ['watchlists:create', 'not an object'],
      ['watchlists:remove-symbol', { id: 'default', symbol: 'not a symbol!' }],
      ['simulator:control', { action: 'format-disk' }],
      ['log:recent', { limit: 1e9 }],
    ];
    for (const [command, payload] of bad) {
      const verdict = await t.invoke(contents, command, payload);
      expect(verdict, `${command} ${JSON.stringify(payload)}`).toMatchObject({
        ok: false,
        error: { code: 'bad-request' },
      });
    }
    expect(t.core.calls).toHaveLength(0);

    // A second argument is refused too: one payload per command.
    expect(await t.invoke(contents, 'settings:get', {}, { sneaky: true })).toMatchObject({
      ok: false,
      error: { code: 'bad-request' },
    });
    expect(t.core.calls).toHaveLength(0);

    // And a good one goes through, to this window's own view.
    expect(await t.invoke(contents, 'watchlists:create', { name: '  Tech  ' })).toMatchObject({
      ok: true,
    });
    expect(t.core.calls).toEqual([
      { view: 'v1', command: 'watchlists:create', args: { name: 'Tech' } },
    ]);
  });

  it('routes each window to its own view', async () => {
    const t = setup();
    const a = t.window();
    const b = t.window();
    await t.ready(a);
    await t.ready(b);
    await t.invoke(b, 'settings:get', {});
    await t.invoke(a, 'settings:get');
    expect(t.core.calls.map((c) => c.view)).toEqual(['v2', 'v1']);
  });
});

describe('ViewManager: events and frames over the port', () => {
  it('opens a view on ready and sends the page one port', async () => {
    const t = setup();
    const contents = t.window();
    expect(await t.ready(contents)).toEqual({ ok: true, value: { viewId: 'v1' } });
    expect(t.core.openSessions).toBe(1);
    expect(contents.posted.map((p) => p.channel)).toEqual([IPC.port]);
    expect(contents.posted[0]?.message).toBeNull();
  });

  it('posts core events as { type: "event" } messages, including those sent before the page started its port', async () => {
    const t = setup();
    const contents = t.window();
    await t.ready(contents);
    const session = t.core.sessions[0]!;
    session.sink.emit('connection:state', connectionView);
    const { received } = t.pagePort(contents);
    session.sink.emit('notices:update', []);
    expect(received).toEqual([
      { type: 'event', event: 'connection:state', payload: connectionView },
      { type: 'event', event: 'notices:update', payload: [] },
    ]);
  });

  it('answers a frame request with the frame, typed arrays intact, one request at a time', async () => {
    const t = setup();
    const contents = t.window();
    await t.ready(contents);
    const session = t.core.sessions[0]!;
    const { port, received } = t.pagePort(contents);

    port.postMessage({ type: 'frame', id: 7 });
    await waitFor(() => session.waiting, { what: 'the view to be asked for a frame' });
    expect(received).toHaveLength(0);

    session.pushFrame(makeFrame(1, ['AAPL', 'MSFT']));
    await waitFor(() => received.length === 1, { what: 'the frame to arrive' });
    const message = received[0]!;
    expect(message.type).toBe('frame');
    if (message.type !== 'frame') return;
    expect(message.id).toBe(7);
    const frame = readFrame(message.frame);
    expect(frame.symbols).toEqual(['AAPL', 'MSFT']);
    expect(message.frame.values).toBeInstanceOf(Float64Array);
    expect([...frame.askPrice]).toEqual([101, 102]);
  });

  it('a newer frame request supersedes an unanswered one: only the newer is answered', async () => {
    const t = setup();
    const contents = t.window();
    await t.ready(contents);
    const session = t.core.sessions[0]!;
    const { port, received } = t.pagePort(contents);
    port.postMessage({ type: 'frame', id: 1 });
    port.postMessage({ type: 'frame', id: 2 });
    await waitFor(() => session.waiting);
    session.pushFrame(makeFrame(1, ['AAPL']));
    await waitFor(() => received.length === 1);
    expect(received.map((m) => (m.type === 'frame' ? m.id : undefined))).toEqual([2]);
  });

  it('ignores malformed port messages without asking the view for anything', async () => {
    const t = setup();
    const contents = t.window();
    await t.ready(contents);
    const { port } = t.pagePort(contents);
    for (const junk of [
      null,
      'frame',
      { type: 'frame' },
      { type: 'frame', id: -1 },
      { type: 'frame', id: 1.5 },
      { type: 'invoke', command: 'x' },
    ]) {
      port.postMessage(junk);
    }
    await waitFor(
      () =>
        t.ring.records().filter((r) => r.msg === 'ignored a malformed port message').length === 6,
    );
    expect(t.core.sessions[0]!.waiting).toBe(false);
    expect(isFrameRequest({ type: 'frame', id: 0 })).toBe(true);
  });

  it('logs an event that cannot be cloned instead of throwing into the core', async () => {
    const t = setup();
    const contents = t.window();
    await t.ready(contents);
    const session = t.core.sessions[0]!;
    expect(() => session.sink.emit('notices:update', [{ bad: () => 1 }] as never)).not.toThrow();
    expect(t.ring.records().some((r) => r.msg === 'could not post to a window')).toBe(true);
  });
});

describe('ViewManager: a view lives as long as its page', () => {
  it('a reload releases the view when the new document commits, not when it starts; the new page attaches a new one', async () => {
    const t = setup();
    const contents = t.window();
    await t.ready(contents);
    const first = t.core.sessions[0]!;
    const { port } = t.pagePort(contents);

    contents.emitNavigation('did-start-navigation', { url: APP_ENTRY_URL });
    expect(first.closed).toBe(false); // only started: the old page is still there
    expect(port.closed).toBe(false);

    contents.commit(APP_ENTRY_URL);
    expect(first.closed).toBe(true);
    expect(port.closed).toBe(true);
    expect(t.core.openSessions).toBe(0);
    expect(t.views.session(contents.id)).toBeUndefined();
    expect(
      t.ring
        .records()
        .some((r) => r.msg === 'view released' && r.reason === 'another document committed'),
    ).toBe(true);

    expect(await t.ready(contents)).toMatchObject({ ok: true, value: { viewId: 'v2' } });
    expect(t.core.openSessions).toBe(1);
  });

  it('a navigation that starts but never commits (cancelled, refused redirect) leaves the page fully working', async () => {
    const t = setup();
    const contents = t.window();
    await t.ready(contents);
    const session = t.core.sessions[0]!;
    const { port, received } = t.pagePort(contents);

    // Electron emits nothing from DidFinishNavigation for a navigation that did not commit; a
    // did-fail-load for the document in place (window.stop(), an invalid loadURL) changes nothing.
    contents.emitNavigation('did-start-navigation', { url: APP_ENTRY_URL });
    contents.failLoad(APP_ENTRY_URL);
    contents.failLoad(APP_ENTRY_URL, -105, 'ERR_NAME_NOT_RESOLVED');

    expect(t.views.session(contents.id)).toBe(session);
    expect(port.closed).toBe(false);
    expect(await t.invoke(contents, 'settings:get', {})).toMatchObject({ ok: true });
    expect(t.core.calls.map((c) => c.command)).toEqual(['settings:get']);
    session.sink.emit('notices:update', []);
    port.postMessage({ type: 'frame', id: 1 });
    await waitFor(() => session.waiting, { what: 'the frame request to reach the view' });
    session.pushFrame(makeFrame(1, ['AAPL']));
    await waitFor(() => received.some((m) => m.type === 'frame'), { what: 'the frame' });
    expect(received.map((m) => m.type)).toEqual(['event', 'frame']);
  });

  it('a failed navigation whose error page commits releases the view (the old page is gone)', async () => {
    const t = setup();
    const contents = t.window();
    await t.ready(contents);
    const { port } = t.pagePort(contents);
    contents.emitNavigation('did-start-navigation', { url: APP_ENTRY_URL });
    contents.commitErrorPage(APP_ENTRY_URL);
    expect(t.core.openSessions).toBe(0);
    expect(port.closed).toBe(true);
    expect(
      t.ring
        .records()
        .some((r) => r.msg === 'view released' && r.reason === 'an error page committed (-102)'),
    ).toBe(true);
    // The error page is not ours: it cannot attach.
    expect(await t.ready(contents)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // The next reload that works attaches again.
    contents.commit(APP_ENTRY_URL);
    expect(await t.ready(contents)).toMatchObject({ ok: true, value: { viewId: 'v2' } });
  });

  it('keeps the view on navigations that do not replace the page', async () => {
    const t = setup();
    const contents = t.window();
    await t.ready(contents);
    // Prevented by window.ts (did-start-navigation fires before will-navigate can prevent it).
    contents.emitNavigation('did-start-navigation', { url: 'https://evil.example/' });
    // In-page (hash / pushState) and sub-frame navigations.
    contents.emitNavigation('did-start-navigation', {
      url: `${APP_ENTRY_URL}#settings`,
      isSameDocument: true,
    });
    contents.navigateInPage(`${APP_ENTRY_URL}#settings`);
    contents.emitNavigation('did-start-navigation', { url: APP_ENTRY_URL, isMainFrame: false });
    contents.navigateInPage(`${APP_ENTRY_URL}#frame`, false);
    contents.emit(
      'did-fail-provisional-load',
      {},
      -102,
      'ERR_CONNECTION_REFUSED',
      APP_ENTRY_URL,
      false,
      1,
      2,
    );
    expect(t.core.openSessions).toBe(1);
    expect(t.views.session(contents.id)).toBe(t.core.sessions[0]);
    expect(await t.invoke(contents, 'settings:get', {})).toMatchObject({ ok: true });
  });

  it('a document committed off our origins still releases the view, with a warning', async () => {
    const t = setup();
    const contents = t.window();
    await t.ready(contents);
    contents.commit('https://evil.example/path?token=secret');
    expect(t.core.openSessions).toBe(0);
    const warning = t.ring.records().find((r) => r.msg === 'a window left our origins');
    expect(warning?.url).toBe('https://evil.example/path');
  });

  it('many reloads add no listeners to the window and leave exactly one view and one open port', async () => {
    const t = setup();
    const contents = t.window();
    t.views.track(contents as unknown as WebContents); // idempotent
    const listeners = () =>
      Object.fromEntries(contents.eventNames().map((n) => [String(n), contents.listenerCount(n)]));
    const before = listeners();
    expect(before).toMatchObject({
      'did-navigate': 1,
      'did-fail-provisional-load': 1,
      'render-process-gone': 1,
      destroyed: 1,
    });
    const ports: FakeMessagePortMain[] = [];
    for (let i = 0; i < 40; i++) {
      expect(await t.ready(contents)).toMatchObject({ ok: true });
      ports.push(t.pagePort(contents).port);
      contents.emitNavigation('did-start-navigation', { url: APP_ENTRY_URL });
      if (i % 4 === 3) contents.emitNavigation('did-start-navigation', { url: APP_ENTRY_URL }); // superseded
      if (i % 5 === 4) contents.commitErrorPage(APP_ENTRY_URL);
      contents.commit(APP_ENTRY_URL);
      expect(t.views.openViews).toBe(0);
    }
    expect(await t.ready(contents)).toMatchObject({ ok: true, value: { viewId: 'v41' } });
    expect(listeners()).toEqual(before);
    expect(t.views.openViews).toBe(1);
    expect(t.core.openSessions).toBe(1);
    expect(ports.every((p) => p.closed)).toBe(true);
    expect(t.pagePort(contents).port.closed).toBe(false);
  });

  it('a second ready from the same window replaces the view', async () => {
    const t = setup();
    const contents = t.window();
    await t.ready(contents);
    await t.ready(contents);
    expect(t.core.sessions).toHaveLength(2);
    expect(t.core.sessions[0]!.closed).toBe(true);
    expect(t.core.openSessions).toBe(1);
    expect(contents.posted.filter((p) => p.channel === IPC.port)).toHaveLength(2);
    const firstPort = contents.posted[0]!.transfer[0]!;
    expect(firstPort.closed).toBe(true);
  });

  it('main closing a port (its own "close" fires too) releases once and spares the new view', async () => {
    const t = setup();
    const contents = t.window();
    await t.ready(contents);
    const firstPort = contents.posted[0]!.transfer[0]!;
    const closes: string[] = [];
    firstPort.on('close', () => closes.push('page end'));
    await t.ready(contents); // replaces the view: main closes the old port
    expect(closes).toEqual(['page end']);
    t.views.release(contents.id, 'test'); // and this one's own 'close' must not run release twice
    expect(t.core.openSessions).toBe(0);
    expect(t.ring.records().filter((r) => r.msg === 'view released')).toHaveLength(2);
    expect(t.ring.records().filter((r) => r.reason === 'port closed by the page')).toHaveLength(0);
  });

  it('sendTo: an attached window gets the event now, a new one when its page attaches', async () => {
    const t = setup();
    const attached = t.window();
    await t.ready(attached);
    const { received } = t.pagePort(attached);
    expect(t.views.sendTo(attached.id, 'deeplink:symbol', { symbol: 'AAPL' })).toBe(true);
    await waitFor(() => received.length === 1);
    expect(received[0]).toEqual({
      type: 'event',
      event: 'deeplink:symbol',
      payload: { symbol: 'AAPL' },
    });

    const fresh = t.window(); // its page has not said ready yet
    expect(t.views.sendTo(fresh.id, 'deeplink:symbol', { symbol: 'MSFT' })).toBe(true);
    expect(t.views.sendTo(fresh.id, 'deeplink:symbol', { symbol: 'TSLA' })).toBe(true);
    await t.ready(fresh);
    const late = t.pagePort(fresh).received;
    await waitFor(() => late.length === 1);
    expect(late).toEqual([
      { type: 'event', event: 'deeplink:symbol', payload: { symbol: 'TSLA' } }, // the latest only
    ]);

    const stranger = new FakeWebContents(t.session);
    expect(t.views.sendTo(stranger.id, 'deeplink:symbol', { symbol: 'X' })).toBe(false);
    const gone = t.window();
    t.views.sendTo(gone.id, 'deeplink:symbol', { symbol: 'IBM' });
    gone.destroy();
    expect(t.views.sendTo(gone.id, 'deeplink:symbol', { symbol: 'IBM' })).toBe(false);
  });

  it('releases the view when the render process goes', async () => {
    const t = setup();
    const contents = t.window();
    await t.ready(contents);
    contents.crash('oom');
    expect(t.core.openSessions).toBe(0);
    expect(
      t.ring
        .records()
        .some((r) => r.msg === 'view released' && r.reason === 'render process gone (oom)'),
    ).toBe(true);
  });

  it('releases the view when the page closes its port', async () => {
    const t = setup();
    const contents = t.window();
    await t.ready(contents);
    const { port } = t.pagePort(contents);
    port.close();
    expect(t.core.openSessions).toBe(0);
  });

  it('releases the view and forgets the window when it is destroyed', async () => {
    const t = setup();
    const contents = t.window();
    await t.ready(contents);
    contents.destroy();
    expect(t.core.openSessions).toBe(0);
    expect(t.views.isOurWindow(contents.id)).toBe(false);
    contents.destroyed = false; // even if a late message claimed otherwise
    expect(await t.ready(contents)).toMatchObject({
      ok: false,
      error: { message: 'not one of our windows' },
    });
  });

  it('a frame that resolves after the view was released is dropped', async () => {
    const t = setup();
    const contents = t.window();
    await t.ready(contents);
    const session = t.core.sessions[0]!;
    const { port, received } = t.pagePort(contents);
    port.postMessage({ type: 'frame', id: 1 });
    await waitFor(() => session.waiting);
    t.views.release(contents.id, 'test');
    session.pushFrame(makeFrame(1, ['AAPL'])); // closed: nothing pending any more
    expect(received).toHaveLength(0);
  });

  it('releaseAll closes every view', async () => {
    const t = setup();
    const a = t.window();
    const b = t.window();
    await t.ready(a);
    await t.ready(b);
    expect(t.views.openViews).toBe(2);
    t.views.releaseAll('quitting');
    expect(t.views.openViews).toBe(0);
    expect(t.core.openSessions).toBe(0);
  });

  it('a core that refuses to open a view gives the page internal, and no port', () => {
    const t = setup();
    const log = ringLogger(new LogRing());
    const views = new ViewManager({
      openView: () => {
        throw new Error('MonitorCore is closed');
      },
      createChannel: () => new FakeMessageChannelMain(),
      origins: [APP_ORIGIN],
      log,
    });
    const contents = new FakeWebContents(t.session);
    contents.commit(APP_ENTRY_URL);
    views.track(contents as unknown as WebContents);
    expect(views.attach(contents as unknown as WebContents)).toMatchObject({
      ok: false,
      error: { code: 'internal' },
    });
    expect(contents.posted).toHaveLength(0);
  });
});
