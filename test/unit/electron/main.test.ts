/**
 * main.ts, imported the way Electron runs it (side effects at load) against a fake `electron`, a
 * fake core and a logger that writes into a ring: the lifecycle wiring, end to end through the
 * real window.ts, ipc/ and menu.ts.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { MenuItemConstructorOptions } from 'electron';
import { afterEach, describe, expect, it, vi, type Mock } from 'vitest';
import { APP_ENTRY_URL } from '../../../electron/ipc/origin.ts';
import { MARKET_DATA_DOCS_URL } from '../../../electron/menu.ts';
import type { UpdatesPort } from '../../../electron/core/types.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';
import { buildPaths } from '../../../electron/window.ts';
import { COMMAND_NAMES } from '../../../shared/api.ts';
import { IPC } from '../../../shared/channels.ts';
import {
  FakeCore,
  FakeEvent,
  FakeSession,
  FakeWebContents,
  createFakeElectron,
} from '../../support/fake-electron.ts';
import { waitFor } from '../../support/wait.ts';

const MAIN = '../../../electron/main.ts';
const CORE = '../../../electron/core/monitor-core.ts';
const SECRETS = '../../../electron/secrets.ts';
const LOGGING = '../../../electron/core/logging.ts';

interface Booted {
  fake: ReturnType<typeof createFakeElectron>;
  core: FakeCore;
  create: Mock<(options: unknown) => Promise<FakeCore>>;
  secrets: Array<Record<string, unknown>>;
  ring: LogRing;
}

const globals = globalThis as { MAIN_WINDOW_VITE_DEV_SERVER_URL?: string };
/** How often main.ts loaded electron-updater in the current boot. */
let updaterImports = 0;

/** electron-updater's autoUpdater as main.ts sees it (only its calls matter here). */
class FakeAutoUpdater extends EventEmitter {
  autoDownload = false;
  autoInstallOnAppQuit = false;
  logger: unknown = null;
  checks = 0;
  installs = 0;
  checkForUpdates(): Promise<null> {
    this.checks += 1;
    this.emit('checking-for-update');
    this.emit('update-available', { version: '9.9.9' });
    this.emit('update-downloaded', { version: '9.9.9' });
    return Promise.resolve(null);
  }
  quitAndInstall(): void {
    this.installs += 1;
  }
}

/** Every fake app booted in the current test, for removing their folders afterwards. */
const booted: Array<ReturnType<typeof createFakeElectron>> = [];

async function boot(
  options: {
    lock?: boolean;
    coreFails?: boolean;
    devServerUrl?: string;
    packaged?: boolean;
    updater?: FakeAutoUpdater;
  } = {},
): Promise<Booted> {
  const fake = createFakeElectron();
  booted.push(fake);
  fake.app.hasLock = options.lock ?? true;
  fake.app.isPackaged = options.packaged ?? false;
  updaterImports = 0;
  const updater = options.updater ?? new FakeAutoUpdater();
  vi.doMock('electron-updater', () => {
    updaterImports += 1;
    return { autoUpdater: updater, default: { autoUpdater: updater } };
  });
  const core = new FakeCore();
  const secrets: Array<Record<string, unknown>> = [];
  const ring = new LogRing();
  const create = vi.fn<(options: unknown) => Promise<FakeCore>>(() =>
    options.coreFails
      ? Promise.reject(new Error('settings folder is read-only'))
      : Promise.resolve(core),
  );
  if (options.devServerUrl !== undefined)
    globals.MAIN_WINDOW_VITE_DEV_SERVER_URL = options.devServerUrl;

  vi.resetModules();
  vi.doMock('electron', () => fake.module);
  vi.doMock(CORE, () => ({ MonitorCore: { create } }));
  vi.doMock(SECRETS, () => ({
    SafeStorageSecretStore: class {
      constructor(secretOptions: Record<string, unknown>) {
        secrets.push(secretOptions);
      }
    },
  }));
  vi.doMock(LOGGING, () => ({
    createCoreLogger: () => ({ logger: ringLogger(ring), ring }),
    // main.ts's stderr: everything it would get is in the ring already.
    quietStreamDestination: () => ({ write: () => undefined }),
  }));
  await import(MAIN);
  return { fake, core, create, secrets, ring };
}

async function bootReady(
  options: { devServerUrl?: string; packaged?: boolean; updater?: FakeAutoUpdater } = {},
): Promise<Booted> {
  const booted = await boot(options);
  booted.fake.app.becomeReady();
  await waitFor(() => booted.fake.windows().length === 1, { what: 'the first window' });
  return booted;
}

function menuTemplate(fake: Booted['fake']): MenuItemConstructorOptions[] {
  const menu = fake.Menu.applicationMenu;
  if (menu === undefined) throw new Error('no application menu');
  return menu.template as MenuItemConstructorOptions[];
}

function submenu(
  template: MenuItemConstructorOptions[],
  label: string,
): MenuItemConstructorOptions[] {
  const item = template.find((m) => m.label === label || m.role === label);
  return (item?.submenu ?? []) as MenuItemConstructorOptions[];
}

afterEach(async () => {
  vi.useRealTimers();
  // Let a window-position write that is under way finish before its folder goes.
  await new Promise((resolve) => setTimeout(resolve, 20));
  for (const fake of booted.splice(0)) fake.app.removePaths();
  delete globals.MAIN_WINDOW_VITE_DEV_SERVER_URL;
  for (const id of ['electron', 'electron-updater', CORE, SECRETS, LOGGING]) vi.doUnmock(id);
  vi.useRealTimers();
});

describe('main: start', () => {
  it('a second instance quits at once and starts nothing', async () => {
    const { fake, create } = await boot({ lock: false });
    expect(fake.app.quitCalls).toBe(1);
    expect(fake.app.quitted).toBe(true);
    fake.app.becomeReady();
    await new Promise((resolve) => setImmediate(resolve));
    expect(create).not.toHaveBeenCalled();
    expect(fake.windows()).toHaveLength(0);
    expect(fake.ipcMain.handlers.size).toBe(0);
  });

  it('declares app:// privileged before ready, serves it after, and opens one hardened window on the app', async () => {
    const booted = await boot();
    const { fake } = booted;
    expect(fake.protocol.privileged?.map((s) => s.scheme)).toEqual(['app']);
    expect(fake.protocol.handlers.size).toBe(0);

    fake.app.becomeReady();
    await waitFor(() => fake.windows().length === 1, { what: 'the first window' });
    expect(fake.protocol.handlers.has('app')).toBe(true);
    const win = fake.windows()[0]!;
    expect(win.webContents.loaded).toEqual([APP_ENTRY_URL]);
    const prefs = win.options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      devTools: false,
    });
    expect(prefs.preload).toBe(
      buildPaths(new URL('../../../electron', import.meta.url).pathname).preload,
    );
    expect(win.webContents.windowOpenHandler).toBeTypeOf('function');
    expect(fake.defaultSession.requestHandler).toBeTypeOf('function');
  });

  it('creates the core with the user-data folder, safeStorage-backed secrets and the app’s identity', async () => {
    const { fake, create, secrets } = await bootReady();
    expect(create).toHaveBeenCalledTimes(1);
    expect(create.mock.calls[0]![0]).toMatchObject({
      userDataDir: fake.app.getPath('userData'),
      app: { name: 'Market Monitor', version: '0.0.0-test', platform: process.platform },
    });
    // The Alpaca keys, then the relay key slots: each a file of its own, kept the same way.
    const files = ['credentials.json', 'relay-credentials.json', 'relay-server-credentials.json'];
    expect(secrets).toHaveLength(files.length);
    files.forEach((file, i) =>
      expect(secrets[i]).toMatchObject({
        safeStorage: fake.module.safeStorage,
        filePath: join(fake.app.getPath('userData'), file),
        platform: process.platform,
      }),
    );
  });

  it('registers the IPC handlers; a window attaches and commands reach its view', async () => {
    const { fake, core } = await bootReady();
    expect([...fake.ipcMain.handlers.keys()].sort()).toEqual([IPC.ready, ...COMMAND_NAMES].sort());
    const win = fake.windows()[0]!;
    const contents = win.webContents;
    expect(await fake.ipcMain.invoke(IPC.ready, contents, contents.mainFrame)).toMatchObject({
      ok: true,
    });
    expect(core.openSessions).toBe(1);
    expect(
      await fake.ipcMain.invoke('settings:get', contents, contents.mainFrame, {}),
    ).toMatchObject({ ok: true });
    expect(
      await fake.ipcMain.invoke('settings:get', contents, contents.mainFrame, { x: 1 }),
    ).toMatchObject({
      ok: false,
      error: { code: 'bad-request' },
    });
    expect(core.calls.map((c) => c.command)).toEqual(['settings:get']);
  });

  it('hardens every webContents created in the app, not only its windows', async () => {
    const { fake } = await bootReady();
    const stray = new FakeWebContents(new FakeSession(), APP_ENTRY_URL);
    fake.app.emit('web-contents-created', new FakeEvent(), stray);
    expect(stray.openWindow('https://evil.example/')).toEqual({ action: 'deny' });
    expect(stray.emitNavigation('will-navigate', { url: 'https://evil.example/' })).toBe(true);
    expect(stray.session.requestHandler).toBeTypeOf('function');
    // ...and it is not one of our windows: the guard refuses it.
    expect(await fake.ipcMain.invoke(IPC.ready, stray, stray.mainFrame)).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
  });

  it('tells the user and exits when the core cannot start', async () => {
    const { fake, ring } = await boot({ coreFails: true });
    fake.app.becomeReady();
    await waitFor(() => fake.app.exitCode !== undefined, { what: 'the app to exit' });
    expect(fake.app.exitCode).toBe(1);
    expect(fake.dialog.errors).toEqual([
      { title: 'Market Monitor could not start', content: 'settings folder is read-only' },
    ]);
    expect(fake.windows()).toHaveLength(0);
    expect(
      ring.records().some((r) => r.msg === 'the app could not start' && r.err !== undefined),
    ).toBe(true);
  });

  it('in development loads the dev server, allows DevTools, and accepts the dev origin', async () => {
    const { fake } = await bootReady({ devServerUrl: 'http://localhost:5173/' });
    const win = fake.windows()[0]!;
    expect(win.webContents.loaded).toEqual(['http://localhost:5173/']);
    expect((win.options.webPreferences as Record<string, unknown>).devTools).toBe(true);
    expect(submenu(menuTemplate(fake), '&View').some((i) => i.role === 'toggleDevTools')).toBe(
      true,
    );
    const contents = win.webContents;
    expect(await fake.ipcMain.invoke(IPC.ready, contents, contents.mainFrame)).toMatchObject({
      ok: true,
    });
  });
});

describe('main: menu and windows', () => {
  it('File > New Window (CmdOrCtrl+Shift+N) opens another window; no DevTools when packaged', async () => {
    const { fake } = await bootReady();
    const template = menuTemplate(fake);
    const file = submenu(template, '&File');
    const newWindow = file.find((i) => i.label === 'New Window');
    expect(newWindow?.accelerator).toBe('CmdOrCtrl+Shift+N');
    expect(file.some((i) => i.role === 'close')).toBe(true);
    if (process.platform !== 'darwin') expect(file.some((i) => i.role === 'quit')).toBe(true);
    const view = submenu(template, '&View');
    expect(view.map((i) => i.role).filter(Boolean)).toEqual(
      expect.arrayContaining(['reload', 'resetZoom', 'zoomIn', 'zoomOut']),
    );
    expect(view.some((i) => i.role === 'toggleDevTools')).toBe(false);

    (newWindow?.click as () => void)();
    expect(fake.windows()).toHaveLength(2);
    expect(fake.windows()[1]!.webContents.loaded).toEqual([APP_ENTRY_URL]);
  });

  it('sets the About panel with the app’s version and its runtime', async () => {
    const { fake } = await bootReady();
    expect(fake.app.aboutPanel).toMatchObject({
      applicationName: 'Market Monitor',
      applicationVersion: '0.0.0-test',
      credits: expect.stringContaining(`Node ${process.versions.node}`) as unknown,
    });
  });

  it('Help opens the market-data docs in the browser', async () => {
    const { fake } = await bootReady();
    const help = submenu(menuTemplate(fake), 'help');
    const docs = help.find((i) => i.label === 'Alpaca Market Data Documentation');
    (docs?.click as () => void)();
    expect(fake.shell.opened).toEqual([MARKET_DATA_DOCS_URL]);
  });

  it('a second launch restores and focuses the existing window', async () => {
    const { fake } = await bootReady();
    const win = fake.windows()[0]!;
    win.minimized = true;
    fake.app.emit('second-instance', new FakeEvent(), [], '/');
    expect(win.minimized).toBe(false);
    expect(win.shown).toBe(true);
    expect(win.focused).toBe(true);
    expect(fake.windows()).toHaveLength(1);
  });

  it('closing the last window quits (except on macOS)', async () => {
    const { fake } = await bootReady();
    fake.windows()[0]!.close();
    fake.app.emit('window-all-closed');
    expect(fake.app.quitCalls).toBe(process.platform === 'darwin' ? 0 : 1);
  });
});

describe('main: shutdown', () => {
  it('before-quit releases the views and awaits core.close() exactly once, then quits', async () => {
    const { fake, core } = await bootReady();
    const contents = fake.windows()[0]!.webContents;
    await fake.ipcMain.invoke(IPC.ready, contents, contents.mainFrame);
    let finishClose!: () => void;
    core.closing = () => new Promise<void>((resolve) => (finishClose = resolve));

    fake.app.quit();
    expect(fake.app.quitted).toBe(false); // held
    expect(core.openSessions).toBe(0); // views go first, synchronously
    await waitFor(() => core.closeCalls === 1, { what: 'core.close()' });
    fake.app.quit(); // the user insists: still one close
    fake.app.quit();
    expect(core.closeCalls).toBe(1);
    expect(fake.app.quitted).toBe(false);

    finishClose();
    await waitFor(() => fake.app.quitted, { what: 'the app to quit' });
    expect(core.closeCalls).toBe(1);
    expect(fake.ipcMain.handlers.size).toBe(0);
  });

  it('a failing close is logged and the app still quits', async () => {
    const { fake, core, ring } = await bootReady();
    core.closing = () => Promise.reject(new Error('disk full'));
    fake.app.quit();
    await waitFor(() => fake.app.quitted, { what: 'the app to quit' });
    expect(core.closeCalls).toBe(1);
    expect(ring.records().some((r) => r.msg === 'closing the core failed')).toBe(true);
  });

  it('a close that hangs is given up on after the deadline', async () => {
    const { fake, core } = await bootReady();
    core.closing = () => new Promise<void>(() => undefined);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { SHUTDOWN_DEADLINE_MS } = await import('../../../electron/main.ts');
    fake.app.quit();
    await vi.advanceTimersByTimeAsync(SHUTDOWN_DEADLINE_MS - 1);
    expect(fake.app.quitted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.app.quitted).toBe(true);
    expect(core.closeCalls).toBe(1);
  });

  it('a system shutdown (powerMonitor, Linux/macOS) delays it, closes the core once on the quit path, then quits', async () => {
    const { fake, core, ring } = await bootReady();
    const contents = fake.windows()[0]!.webContents;
    await fake.ipcMain.invoke(IPC.ready, contents, contents.mainFrame);
    let finishClose!: () => void;
    core.closing = () => new Promise<void>((resolve) => (finishClose = resolve));

    expect(fake.powerMonitor.listenerCount('shutdown')).toBe(1);
    expect(fake.powerMonitor.shutdown()).toBe(true); // delayed until the app quits
    expect(core.openSessions).toBe(0); // views go first, as on quit
    await waitFor(() => core.closeCalls === 1, { what: 'core.close()' });
    // Whatever else arrives meanwhile starts no second close.
    fake.app.quit();
    expect(fake.powerMonitor.shutdown()).toBe(true);
    fake.windows()[0]!.endSession();
    expect(fake.app.quitted).toBe(false);

    finishClose();
    await waitFor(() => fake.app.quitted, { what: 'the app to quit' });
    expect(core.closeCalls).toBe(1);
    expect(fake.ipcMain.handlers.size).toBe(0);
    expect(
      ring.records().some((r) => r.msg === 'closing the core' && r.trigger === 'system shutdown'),
    ).toBe(true);
    // Once closed, a late shutdown event is not held.
    expect(fake.powerMonitor.shutdown()).toBe(false);
    expect(core.closeCalls).toBe(1);
  });

  it('a Windows session end (session-end on any window) closes the core once, within the same deadline', async () => {
    const { fake, core, ring } = await bootReady();
    const newWindow = submenu(menuTemplate(fake), '&File').find((i) => i.label === 'New Window');
    (newWindow?.click as () => void)();
    expect(fake.windows()).toHaveLength(2);
    core.closing = () => new Promise<void>(() => undefined); // hangs
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { SHUTDOWN_DEADLINE_MS } = await import('../../../electron/main.ts');

    fake.windows()[1]!.endSession(['logoff']);
    fake.windows()[0]!.endSession(['logoff']); // every window gets it
    await vi.advanceTimersByTimeAsync(0);
    expect(core.closeCalls).toBe(1);
    await vi.advanceTimersByTimeAsync(SHUTDOWN_DEADLINE_MS - 1);
    expect(fake.app.quitted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.app.quitted).toBe(true);
    expect(core.closeCalls).toBe(1);
    expect(
      ring.records().some((r) => r.msg === 'closing the core' && r.trigger === 'session end'),
    ).toBe(true);
    expect(
      ring.records().some((r) => r.msg === 'the core did not close in time; quitting anyway'),
    ).toBe(true);
  });

  it('adds another powerMonitor listener before "shutdown", so Electron’s Linux handler is on', async () => {
    const { fake, ring } = await boot();
    fake.app.becomeReady();
    await waitFor(() => fake.powerMonitor.listenerCount('shutdown') === 1, {
      what: 'the shutdown listener',
    });
    // The fake wires it as Electron does: off for good if 'shutdown' had been the first listener.
    expect(fake.powerMonitor.wired).toBe(true);
    expect(fake.powerMonitor.listeningForShutdown).toBe(true);
    fake.powerMonitor.emit('suspend');
    fake.powerMonitor.emit('resume');
    expect(ring.records().map((r) => r.msg)).toEqual(
      expect.arrayContaining(['the system is going to sleep', 'the system woke up']),
    );
  });

  it('the fake models the trap: a "shutdown" listener added first is never called', () => {
    const fake = createFakeElectron();
    let heard = 0;
    fake.powerMonitor.on('shutdown', () => (heard += 1));
    fake.powerMonitor.on('resume', () => undefined);
    expect(fake.powerMonitor.shutdown()).toBeUndefined();
    expect(heard).toBe(0);
  });

  it('quitting before ready starts nothing, even if ready comes after', async () => {
    const { fake, core, create } = await boot();
    fake.app.quit();
    await waitFor(() => fake.app.quitted, { what: 'the app to quit' });
    fake.app.becomeReady();
    await new Promise((resolve) => setImmediate(resolve));
    expect(create).not.toHaveBeenCalled();
    expect(core.closeCalls).toBe(0);
    expect(fake.windows()).toHaveLength(0);
  });

  it('quitting while the core starts closes it once it exists, and opens no window', async () => {
    const { fake, core, create } = await boot();
    let finishCreate!: () => void;
    create.mockImplementation(() => new Promise((resolve) => (finishCreate = () => resolve(core))));
    fake.app.becomeReady();
    await waitFor(() => create.mock.calls.length === 1, { what: 'the core to be created' });
    fake.app.quit();
    expect(fake.app.quitted).toBe(false);
    finishCreate();
    await waitFor(() => fake.app.quitted, { what: 'the app to quit' });
    expect(core.closeCalls).toBe(1);
    expect(fake.windows()).toHaveLength(0);
    expect(fake.ipcMain.handlers.size).toBe(0);
  });
});

describe('main: updates', () => {
  function updatesOf(create: Booted['create']): UpdatesPort {
    const options = create.mock.calls[0]![0] as { updates?: UpdatesPort };
    if (options.updates === undefined) throw new Error('the core got no updates');
    return options.updates;
  }

  it('a development build does not load electron-updater; updates are disabled', async () => {
    const { create } = await bootReady();
    expect(updaterImports).toBe(0);
    const updates = updatesOf(create);
    expect(updates.status().state).toBe('disabled');
    expect((await updates.check()).state).toBe('disabled');
  });

  it('an installed app checks through electron-updater, and restart closes the core before installing', async () => {
    const updater = new FakeAutoUpdater();
    const { fake, core, create, ring } = await bootReady({ packaged: true, updater });
    expect(updaterImports).toBe(1);
    expect(updater.logger).not.toBeNull();
    const updates = updatesOf(create);
    expect(updates.status()).toMatchObject({ state: 'idle', currentVersion: '0.0.0-test' });

    expect((await updates.check()).state).toBe('downloaded');
    expect(updater.checks).toBe(1);
    let finishClose!: () => void;
    core.closing = () => new Promise<void>((resolve) => (finishClose = resolve));

    expect(updates.restart().ok).toBe(true);
    await waitFor(() => core.closeCalls === 1, { what: 'core.close()' });
    expect(updater.installs).toBe(0); // not before the core has closed
    finishClose();
    await waitFor(() => updater.installs === 1, { what: 'quitAndInstall' });
    expect(ring.records().some((r) => r.msg === 'closing the core' && r.trigger === 'update')).toBe(
      true,
    );
    // The installer quits the app itself; before-quit then goes through at once.
    fake.app.quit();
    expect(fake.app.quitted).toBe(true);
    expect(core.closeCalls).toBe(1);
  });
});

describe('main: deep links', () => {
  /** The page end of the window's port, started, collecting the events main posts. */
  async function attachedPage(fake: Booted['fake'], index = 0) {
    const contents = fake.windows()[index]!.webContents;
    await fake.ipcMain.invoke(IPC.ready, contents, contents.mainFrame);
    const posted = contents.posted.filter((p) => p.channel === IPC.port).at(-1);
    const port = posted!.transfer[0]!;
    const events: unknown[] = [];
    port.on('message', (e: { data: { type: string; event?: string; payload?: unknown } }) => {
      if (e.data.type === 'event' && e.data.event === 'deeplink:symbol')
        events.push(e.data.payload);
    });
    port.start();
    return events;
  }

  it('a second launch with a link brings the window forward and sends it the symbol', async () => {
    const { fake } = await bootReady();
    const win = fake.windows()[0]!;
    const events = await attachedPage(fake);
    win.minimized = true;
    fake.app.emit('second-instance', new FakeEvent(), [
      '/opt/Market Monitor/market-monitor',
      '--allow-file-access-from-files',
      'market-monitor://symbol/brk.b',
    ]);
    expect(win.minimized).toBe(false);
    expect(win.focused).toBe(true);
    await waitFor(() => events.length === 1, { what: 'the deep link event' });
    expect(events).toEqual([{ symbol: 'BRK.B' }]);
  });

  it('macOS open-url: the same, and the default action is prevented', async () => {
    const { fake } = await bootReady();
    const events = await attachedPage(fake);
    const event = new FakeEvent();
    fake.app.emit('open-url', event, 'market-monitor://symbol/BTC%2FUSD');
    expect(event.defaultPrevented).toBe(true);
    await waitFor(() => events.length === 1, { what: 'the deep link event' });
    expect(events).toEqual([{ symbol: 'BTC/USD' }]);
  });

  it('anything else is refused and logged, and nothing reaches the page', async () => {
    const { fake, ring } = await bootReady();
    const events = await attachedPage(fake);
    for (const url of [
      'market-monitor://symbol/AAPL?evil=1',
      'market-monitor://watchlists/delete',
      'market-monitor://symbol/..%2F..',
    ]) {
      fake.app.emit('open-url', new FakeEvent(), url);
    }
    fake.app.emit('second-instance', new FakeEvent(), ['x', 'market-monitor://symbol/A\nB']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual([]);
    const refused = ring.records().filter((r) => r.msg === 'refused a deep link');
    expect(refused).toHaveLength(4);
    expect(refused[3]!.url).toBe('"market-monitor://symbol/A\\nB"');
  });

  it('a link before the app is ready goes to the first window once its page attaches', async () => {
    const { fake } = await boot();
    fake.app.emit('open-url', new FakeEvent(), 'market-monitor://symbol/nvda');
    fake.app.becomeReady();
    await waitFor(() => fake.windows().length === 1, { what: 'the first window' });
    const events = await attachedPage(fake);
    await waitFor(() => events.length === 1, { what: 'the deep link event' });
    expect(events).toEqual([{ symbol: 'NVDA' }]);
  });

  it('the launch’s own argument (Windows, Linux) counts too', async () => {
    process.argv.push('market-monitor://symbol/AMD');
    try {
      const { fake } = await bootReady();
      const events = await attachedPage(fake);
      await waitFor(() => events.length === 1, { what: 'the deep link event' });
      expect(events).toEqual([{ symbol: 'AMD' }]);
    } finally {
      process.argv.pop();
    }
  });

  it('registers as the links’ handler only when installed', async () => {
    const dev = await bootReady();
    expect(dev.fake.app.protocolClients).toEqual([]);
    const installed = await bootReady({ packaged: true });
    expect(installed.fake.app.protocolClients).toEqual(['market-monitor']);
  });
});

describe('main: window places', () => {
  it('opens the window where it was saved, maximized when it was, and saves it on close', async () => {
    const { fake } = await boot();
    const dir = fake.app.getPath('userData');
    const { mkdir, writeFile, readFile } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    const state = {
      version: 1,
      windows: [
        { bounds: { x: 50, y: 60, width: 1000, height: 700 }, maximized: true, displayId: 1 },
      ],
    };
    await writeFile(join(dir, 'window-state.json'), JSON.stringify(state));
    fake.app.becomeReady();
    await waitFor(() => fake.windows().length === 1, { what: 'the first window' });
    const win = fake.windows()[0]!;
    expect(win.options).toMatchObject({ x: 50, y: 60, width: 1000, height: 700 });
    expect(win.maximized).toBe(false); // not before the first paint
    win.emit('ready-to-show');
    expect(win.maximized).toBe(true);

    win.setBounds({ x: 70, y: 80, width: 900, height: 600 });
    win.close();
    let text = '';
    await waitFor(
      () => {
        void readFile(join(dir, 'window-state.json'), 'utf8').then((t) => (text = t));
        return /"x":\s*70/.test(text);
      },
      { what: 'the saved place' },
    );
    expect(JSON.parse(text)).toMatchObject({
      windows: [{ bounds: { x: 70, y: 80, width: 900, height: 600 }, maximized: true }],
    });
  });
});
