/**
 * Small fakes of the Electron objects the shell uses (the electron binary cannot run in tests).
 * Each fake does only what our code calls, and behaves the way electron.d.ts documents it where
 * that matters to a test:
 * - ipcMain.handle throws on a second handler for a channel; invoking a channel without a handler
 *   rejects, as Electron does;
 * - MessagePortMain queues messages until start(), structured-clones what it posts (so a payload
 *   that would not cross a real port fails here too), and emits 'close' on the other end;
 * - navigation events carry `{ url, isMainFrame, isSameDocument }` and preventDefault();
 * - a committed main-frame document emits `did-navigate` (error pages `did-fail-provisional-load`
 *   and, unless aborted, `did-fail-load`), an in-page navigation `did-navigate-in-page`, and a
 *   navigation that never commits nothing at all, as Electron's DidFinishNavigation does;
 * - every BrowserWindow is announced with app 'browser-window-created', and can receive the
 *   Windows-only 'session-end';
 * - powerMonitor takes listeners at any time (the wait for `ready` went in Electron 25) and wires
 *   its Linux shutdown handling the way Electron's lib/browser/api/power-monitor.ts does: only if a
 *   'shutdown' listener is already there when the FIRST listener of any kind is added. Without it,
 *   'shutdown' never reaches JavaScript. Modelled on every host, so a test catches it anywhere;
 * - a closed MessagePortMain emits 'close' on itself and on its other end;
 * - protocol.registerSchemesAsPrivileged refuses a second call and a call after ready.
 *
 * `createFakeElectron()` returns a fresh set; `.module` is what `vi.doMock('electron', ...)` hands
 * to the code under test.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IpcMainInvokeEvent } from 'electron';
import type { ViewSession, ViewSink } from '../../electron/core/types.ts';
import { fail, isCommandName, ok, parseCommand, type Result } from '../../shared/api.ts';
import { buildFrame, type QuoteFrame } from '../../shared/frame.ts';

// ------------------------------------------------------------------------------ events

export class FakeEvent {
  defaultPrevented = false;
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

export interface NavigationDetails {
  readonly url: string;
  readonly isMainFrame?: boolean;
  readonly isSameDocument?: boolean;
}

export class FakeNavigationEvent extends FakeEvent {
  readonly url: string;
  readonly isMainFrame: boolean;
  readonly isSameDocument: boolean;
  readonly frame = null;
  constructor(details: NavigationDetails) {
    super();
    this.url = details.url;
    this.isMainFrame = details.isMainFrame ?? true;
    this.isSameDocument = details.isSameDocument ?? false;
  }
}

// ------------------------------------------------------------------------------ frames, contents, session

let nextRoutingId = 100;

export class FakeFrame {
  url: string;
  readonly parent: FakeFrame | null;
  readonly processId: number;
  readonly routingId: number;
  detached = false;
  constructor(
    url: string,
    options: { parent?: FakeFrame | null; processId?: number; routingId?: number } = {},
  ) {
    this.url = url;
    this.parent = options.parent ?? null;
    this.processId = options.processId ?? 1;
    this.routingId = options.routingId ?? nextRoutingId++;
  }
  /** Another WebFrameMain object for the same frame (Electron may hand out distinct ones). */
  alias(): FakeFrame {
    const copy = new FakeFrame(this.url, {
      parent: this.parent,
      processId: this.processId,
      routingId: this.routingId,
    });
    copy.detached = this.detached;
    return copy;
  }
  /** A sub-frame of this frame at `url`. */
  child(url: string): FakeFrame {
    return new FakeFrame(url, { parent: this, processId: this.processId });
  }
}

type PermissionRequestHandler = (
  contents: unknown,
  permission: string,
  callback: (granted: boolean) => void,
  details: unknown,
) => void;

export class FakeSession {
  requestHandler: PermissionRequestHandler | null = null;
  checkHandler: ((...args: unknown[]) => boolean) | null = null;
  deviceHandler: ((...args: unknown[]) => boolean) | null = null;
  setPermissionRequestHandler(handler: PermissionRequestHandler | null): void {
    this.requestHandler = handler;
  }
  setPermissionCheckHandler(handler: ((...args: unknown[]) => boolean) | null): void {
    this.checkHandler = handler;
  }
  setDevicePermissionHandler(handler: ((...args: unknown[]) => boolean) | null): void {
    this.deviceHandler = handler;
  }
}

let nextContentsId = 1;

export interface PostedMessage {
  readonly channel: string;
  readonly message: unknown;
  readonly transfer: readonly FakeMessagePortMain[];
}

export class FakeWebContents extends EventEmitter {
  readonly id = nextContentsId++;
  readonly session: FakeSession;
  mainFrame: FakeFrame;
  destroyed = false;
  windowOpenHandler: ((details: { url: string }) => { action: string }) | undefined;
  readonly posted: PostedMessage[] = [];
  readonly loaded: string[] = [];

  constructor(session: FakeSession, url = 'about:blank') {
    super();
    this.session = session;
    this.mainFrame = new FakeFrame(url);
  }

  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }

  postMessage(channel: string, message: unknown, transfer: FakeMessagePortMain[] = []): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.posted.push({ channel, message, transfer });
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  /**
   * The page committed a document at `url` in a new main frame (a load or a reload): the frame is
   * replaced, then `did-navigate` is emitted with Electron's arguments (-1 and '' for a non-HTTP
   * URL).
   */
  commit(url: string): void {
    this.mainFrame = new FakeFrame(url, { processId: this.mainFrame.processId });
    const http = /^https?:/i.test(url);
    this.emit('did-navigate', new FakeEvent(), url, http ? 200 : -1, http ? 'OK' : '');
  }

  /**
   * A main-frame navigation to `url` failed and Chromium committed its error page in its place
   * (connection refused, DNS, ...): what Electron emits from DidFinishNavigation then.
   */
  commitErrorPage(url: string, errorCode = -102, description = 'ERR_CONNECTION_REFUSED'): void {
    this.mainFrame = new FakeFrame('chrome-error://chromewebdata/', {
      processId: this.mainFrame.processId,
    });
    const { processId, routingId } = this.mainFrame;
    this.emit(
      'did-fail-provisional-load',
      new FakeEvent(),
      errorCode,
      description,
      url,
      true,
      processId,
      routingId,
    );
    if (errorCode !== -3) {
      this.emit(
        'did-fail-load',
        new FakeEvent(),
        errorCode,
        description,
        url,
        true,
        processId,
        routingId,
      );
    }
  }

  /**
   * The current document's load failed without another document committing (Electron's
   * DidFailLoad, or loadURL() of an invalid URL): `did-fail-load` only, the frame stays.
   */
  failLoad(url: string, errorCode = -3, description = 'ERR_ABORTED', isMainFrame = true): void {
    const { processId, routingId } = this.mainFrame;
    this.emit(
      'did-fail-load',
      new FakeEvent(),
      errorCode,
      description,
      url,
      isMainFrame,
      processId,
      routingId,
    );
  }

  /** A same-document navigation (hash, pushState): the document and its frame stay. */
  navigateInPage(url: string, isMainFrame = true): void {
    if (isMainFrame) this.mainFrame.url = url;
    const { processId, routingId } = this.mainFrame;
    this.emit('did-navigate-in-page', new FakeEvent(), url, isMainFrame, processId, routingId);
  }

  /** Emits a navigation event the way Electron does; returns whether a listener prevented it. */
  emitNavigation(
    name: 'did-start-navigation' | 'will-navigate' | 'will-frame-navigate' | 'will-redirect',
    details: NavigationDetails,
  ): boolean {
    const event = new FakeNavigationEvent(details);
    this.emit(name, event, event.url, false, event.isMainFrame, 1, 1);
    return event.defaultPrevented;
  }

  /** The page asks for a new window (window.open, target=_blank). */
  openWindow(url: string): { action: string } | undefined {
    return this.windowOpenHandler?.({ url });
  }

  crash(reason = 'crashed'): void {
    this.emit('render-process-gone', new FakeEvent(), { reason, exitCode: 1 });
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('destroyed');
  }

  loadURL(url: string): Promise<void> {
    this.loaded.push(url);
    this.commit(url);
    return Promise.resolve();
  }
}

// ------------------------------------------------------------------------------ ports

export class FakeMessagePortMain extends EventEmitter {
  other: FakeMessagePortMain | undefined;
  started = false;
  closed = false;
  /** Everything posted on this port (clones), in order. */
  readonly sent: unknown[] = [];
  readonly #queue: unknown[] = [];

  postMessage(message: unknown): void {
    if (this.closed) return;
    const clone: unknown = structuredClone(message);
    this.sent.push(clone);
    this.other?.deliver(clone);
  }

  deliver(data: unknown): void {
    if (this.closed) return;
    if (!this.started) {
      this.#queue.push(data);
      return;
    }
    this.emit('message', { data, ports: [] });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const data of this.#queue.splice(0)) this.emit('message', { data, ports: [] });
  }

  /** Electron emits 'close' on the port closed here and on its entangled other end. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const other = this.other;
    if (other !== undefined && !other.closed) {
      other.closed = true;
      other.emit('close');
    }
    this.emit('close');
  }
}

export class FakeMessageChannelMain {
  readonly port1 = new FakeMessagePortMain();
  readonly port2 = new FakeMessagePortMain();
  constructor() {
    this.port1.other = this.port2;
    this.port2.other = this.port1;
  }
}

// ------------------------------------------------------------------------------ ipcMain

export type InvokeHandler = (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown;

export interface FakeInvokeEvent {
  readonly sender: FakeWebContents;
  readonly senderFrame: FakeFrame | null;
  readonly frameId: number;
  readonly processId: number;
  readonly type: 'frame';
}

export class FakeIpcMain {
  readonly handlers = new Map<string, InvokeHandler>();

  handle(channel: string, handler: InvokeHandler): void {
    if (this.handlers.has(channel)) {
      throw new Error(`Attempted to register a second handler for '${channel}'`);
    }
    this.handlers.set(channel, handler);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }

  /**
   * What ipcRenderer.invoke(channel, ...args) from `sender`'s `frame` does: the handler's value,
   * or a rejection when no handler is registered.
   */
  async invoke(
    channel: string,
    sender: FakeWebContents,
    frame: FakeFrame | null,
    ...args: unknown[]
  ): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (handler === undefined) {
      throw new Error(
        `Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`,
      );
    }
    const event: FakeInvokeEvent = {
      sender,
      senderFrame: frame,
      frameId: frame?.routingId ?? 0,
      processId: frame?.processId ?? 0,
      type: 'frame',
    };
    const electronEvent = event as unknown as IpcMainInvokeEvent;
    return structuredClone(await handler(electronEvent, ...args.map((a) => structuredClone(a))));
  }
}

// ------------------------------------------------------------------------------ the module

export interface CustomScheme {
  readonly scheme: string;
  readonly privileges?: Record<string, boolean>;
}

export type FakeBrowserWindowClass = ReturnType<typeof createFakeElectron>['BrowserWindow'];
export type FakeBrowserWindow = InstanceType<FakeBrowserWindowClass>;

export function createFakeElectron() {
  const defaultSession = new FakeSession();
  const windows: FakeBrowserWindowInstance[] = [];
  const app = new FakeApp();

  interface FakeBrowserWindowInstance extends EventEmitter {
    readonly options: Record<string, unknown>;
    readonly webContents: FakeWebContents;
  }

  class BrowserWindow extends EventEmitter implements FakeBrowserWindowInstance {
    readonly options: Record<string, unknown>;
    readonly webContents: FakeWebContents;
    shown = false;
    focused = false;
    minimized = false;
    maximized = false;
    destroyed = false;
    /** The normal (not maximized) bounds: the constructor's, then what the user makes them. */
    bounds: { x: number; y: number; width: number; height: number };

    constructor(options: Record<string, unknown>) {
      super();
      this.options = options;
      const num = (key: string, fallback: number): number =>
        typeof options[key] === 'number' ? options[key] : fallback;
      this.bounds = {
        x: num('x', 0),
        y: num('y', 0),
        width: num('width', 800),
        height: num('height', 600),
      };
      this.webContents = new FakeWebContents(defaultSession);
      windows.push(this);
      app.emit('web-contents-created', new FakeEvent(), this.webContents);
      app.emit('browser-window-created', new FakeEvent(), this);
    }

    /** Test: Windows ends the user's session (shutdown, restart, log-off): 'session-end'. */
    endSession(reasons: readonly string[] = ['shutdown']): void {
      const event = Object.assign(new FakeEvent(), { reasons: [...reasons] });
      this.emit('session-end', event);
    }

    static getAllWindows(): BrowserWindow[] {
      return windows.filter((w): w is BrowserWindow => w instanceof BrowserWindow && !w.destroyed);
    }

    loadURL(url: string): Promise<void> {
      return this.webContents.loadURL(url);
    }
    show(): void {
      this.shown = true;
    }
    focus(): void {
      this.focused = true;
    }
    isMinimized(): boolean {
      return this.minimized;
    }
    /** Like Electron: shows the window as well. */
    maximize(): void {
      this.maximized = true;
      this.shown = true;
      this.emit('maximize');
    }
    isMaximized(): boolean {
      return this.maximized;
    }
    getNormalBounds(): { x: number; y: number; width: number; height: number } {
      return { ...this.bounds };
    }
    /** Test: the user moves or resizes the window. */
    setBounds(bounds: { x: number; y: number; width: number; height: number }): void {
      this.bounds = { ...bounds };
      this.emit('move');
    }
    restore(): void {
      this.minimized = false;
    }
    isDestroyed(): boolean {
      return this.destroyed;
    }
    close(): void {
      if (this.destroyed) return;
      this.emit('close', new FakeEvent());
      this.destroyed = true;
      this.webContents.destroy();
      this.emit('closed');
    }
  }

  const protocol = {
    privileged: undefined as CustomScheme[] | undefined,
    handlers: new Map<string, (request: Request) => Response | Promise<Response>>(),
    registerSchemesAsPrivileged(schemes: CustomScheme[]): void {
      if (app.isReady)
        throw new Error('registerSchemesAsPrivileged must be called before app is ready');
      if (this.privileged !== undefined)
        throw new Error('registerSchemesAsPrivileged can only be called once');
      this.privileged = schemes;
    },
    handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void {
      if (!app.isReady) throw new Error('protocol.handle must be called after app is ready');
      this.handlers.set(scheme, handler);
    },
  };

  const shell = {
    opened: [] as string[],
    openExternal(url: string): Promise<void> {
      this.opened.push(url);
      return Promise.resolve();
    },
  };

  const Menu = {
    applicationMenu: undefined as { template: unknown[] } | undefined,
    buildFromTemplate(template: unknown[]): { template: unknown[] } {
      return { template };
    },
    setApplicationMenu(menu: { template: unknown[] } | null): void {
      this.applicationMenu = menu ?? undefined;
    },
  };

  const dialog = {
    errors: [] as Array<{ title: string; content: string }>,
    showErrorBox(title: string, content: string): void {
      this.errors.push({ title, content });
    },
  };

  const contextBridge = {
    exposed: [] as Array<{ key: string; api: unknown }>,
    exposeInMainWorld(key: string, api: unknown): void {
      this.exposed.push({ key, api });
    },
  };

  /** Electron's Notification: records what was shown; `click()` plays the user's click. */
  class Notification extends EventEmitter {
    static supported = true;
    static readonly shown: Notification[] = [];
    static isSupported(): boolean {
      return Notification.supported;
    }
    readonly options: { title: string; body: string; silent?: boolean };
    constructor(options: { title: string; body: string; silent?: boolean }) {
      super();
      this.options = options;
    }
    show(): void {
      Notification.shown.push(this);
    }
    click(): void {
      this.emit('click', new FakeEvent());
    }
  }
  /** Displays as Electron's `screen` reports them; a test replaces the list. */
  const screen = {
    displays: [{ id: 1, workArea: { x: 0, y: 25, width: 1920, height: 1055 } }] as Array<{
      id: number;
      workArea: { x: number; y: number; width: number; height: number };
    }>,
    getAllDisplays() {
      return [...this.displays];
    },
    getPrimaryDisplay() {
      const primary = this.displays[0];
      if (primary === undefined) throw new Error('no display');
      return primary;
    },
    /** The display with the largest overlap, else the primary one, as Electron answers. */
    getDisplayMatching(rect: { x: number; y: number; width: number; height: number }) {
      let best = this.getPrimaryDisplay();
      let bestArea = 0;
      for (const d of this.displays) {
        const a = d.workArea;
        const w = Math.min(rect.x + rect.width, a.x + a.width) - Math.max(rect.x, a.x);
        const h = Math.min(rect.y + rect.height, a.y + a.height) - Math.max(rect.y, a.y);
        if (w > 0 && h > 0 && w * h > bestArea) {
          best = d;
          bestArea = w * h;
        }
      }
      return best;
    },
  };

  const ipcMain = new FakeIpcMain();
  const ipcRenderer = new FakeIpcRenderer();
  const powerMonitor = new FakePowerMonitor();

  const module = {
    app,
    BrowserWindow,
    ipcMain,
    ipcRenderer,
    MessageChannelMain: FakeMessageChannelMain,
    protocol,
    session: { defaultSession },
    shell,
    Menu,
    dialog,
    safeStorage: {},
    contextBridge,
    powerMonitor,
    Notification,
    screen,
  };

  return {
    module,
    app,
    BrowserWindow,
    windows: () => BrowserWindow.getAllWindows(),
    ipcMain,
    ipcRenderer,
    protocol,
    defaultSession,
    shell,
    Menu,
    dialog,
    contextBridge,
    powerMonitor,
    Notification,
    screen,
  };
}

/**
 * powerMonitor, with Electron's Linux wiring: the native shutdown handler (a logind delay lock and
 * the PrepareForShutdown signal) is told whether anyone listens for 'shutdown' once, when the first
 * listener of any kind is added, counting the 'shutdown' listeners there were BEFORE it; later
 * changes are followed only from then on. So a 'shutdown' listener added first leaves the handler
 * off for good, and 'shutdown' is never emitted. Electron passes an event that can be prevented,
 * although its typings declare a listener without arguments.
 */
export class FakePowerMonitor extends EventEmitter {
  /** What Electron's native side was last told: whether 'shutdown' has listeners. */
  listeningForShutdown = false;
  /** Whether the first-listener wiring has run. */
  wired = false;

  constructor() {
    super();
    this.once('newListener', () => {
      this.wired = true;
      this.listeningForShutdown = this.listenerCount('shutdown') > 0;
      this.on('newListener', (name: string | symbol) => {
        if (name === 'shutdown') this.listeningForShutdown = true;
      });
      this.on('removeListener', (name: string | symbol) => {
        if (name === 'shutdown') this.listeningForShutdown = this.listenerCount('shutdown') > 0;
      });
    });
  }

  /**
   * Test: the system is about to shut down or reboot. Returns whether a listener delayed it;
   * undefined when the native handler is off, so no listener heard of it at all.
   */
  shutdown(): boolean | undefined {
    if (!this.listeningForShutdown) return undefined;
    const event = new FakeEvent();
    this.emit('shutdown', event);
    return event.defaultPrevented;
  }
}

export class FakeApp extends EventEmitter {
  isReady = false;
  /** False as under `electron .` / `npm start`; a test sets it for an installed app. */
  isPackaged = false;
  hasLock = true;
  quitCalls = 0;
  exitCode: number | undefined;
  /** Set once a quit went through (no before-quit listener prevented it). */
  quitted = false;
  readonly #ready: Promise<void>;
  #resolveReady!: () => void;

  constructor() {
    super();
    this.#ready = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
  }

  requestSingleInstanceLock(): boolean {
    return this.hasLock;
  }

  aboutPanel: Record<string, unknown> | undefined;
  setAboutPanelOptions(options: Record<string, unknown>): void {
    this.aboutPanel = options;
  }

  /** Schemes registered with setAsDefaultProtocolClient; `protocolClientOk` is its answer. */
  readonly protocolClients: string[] = [];
  protocolClientOk = true;
  setAsDefaultProtocolClient(scheme: string): boolean {
    this.protocolClients.push(scheme);
    return this.protocolClientOk;
  }

  whenReady(): Promise<void> {
    return this.#ready;
  }

  /** Test: the app becomes ready. */
  becomeReady(): void {
    this.isReady = true;
    this.emit('ready');
    this.#resolveReady();
  }

  quit(): void {
    this.quitCalls += 1;
    const event = new FakeEvent();
    this.emit('before-quit', event);
    if (!event.defaultPrevented) this.quitted = true;
  }

  exit(code = 0): void {
    this.exitCode = code;
  }

  /**
   * A fresh temp folder per app, made on first use: main.ts writes there (window positions), so it
   * must be a real place a test owns. Tests remove it with `removePaths()`.
   */
  #root: string | undefined;
  getPath(name: string): string {
    this.#root ??= mkdtempSync(join(tmpdir(), 'fake-electron-'));
    return join(this.#root, name);
  }
  /** Test: deletes the folders getPath() handed out. */
  removePaths(): void {
    if (this.#root !== undefined) rmSync(this.#root, { recursive: true, force: true });
    this.#root = undefined;
  }
  getName(): string {
    return 'Market Monitor';
  }
  getVersion(): string {
    return '0.0.0-test';
  }
}

// ------------------------------------------------------------------------------ renderer side

/** The DOM MessagePort the preload receives (renderer side of the channel). */
export class FakePagePort {
  onmessage: ((event: { data: unknown }) => void) | null = null;
  readonly posted: unknown[] = [];
  started = false;
  closed = false;

  postMessage(message: unknown): void {
    if (this.closed) return;
    this.posted.push(structuredClone(message));
  }
  start(): void {
    this.started = true;
  }
  close(): void {
    this.closed = true;
  }
  /** Test: main posts `data` to the page. */
  deliver(data: unknown): void {
    if (this.closed) return;
    this.onmessage?.({ data: structuredClone(data) });
  }
}

export class FakeIpcRenderer {
  readonly invocations: Array<{ channel: string; args: unknown[] }> = [];
  readonly listeners = new Map<
    string,
    Array<(event: { ports: unknown[] }, ...args: unknown[]) => void>
  >();
  /** What invoke answers; the default answers every channel with `{ ok: true, value: null }`. */
  answer: (channel: string, args: unknown[]) => Promise<unknown> = () =>
    Promise.resolve({ ok: true, value: null });

  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invocations.push({ channel, args: args.map((a) => structuredClone(a)) });
    return this.answer(channel, args);
  }

  on(channel: string, listener: (event: { ports: unknown[] }, ...args: unknown[]) => void): this {
    const list = this.listeners.get(channel) ?? [];
    list.push(listener);
    this.listeners.set(channel, list);
    return this;
  }

  /** Test: main sends `channel` with ports (webContents.postMessage). */
  receive(channel: string, ports: unknown[], message: unknown = null): void {
    for (const listener of this.listeners.get(channel) ?? []) listener({ ports }, message);
  }
}

// ------------------------------------------------------------------------------ the core, as the shell sees it

/**
 * A stand-in for MonitorCore's views with the real contract where the shell depends on it:
 * invoke() validates with shared/api.ts parseCommand BEFORE its handler runs (and records only
 * the calls that reached the handler), nextFrame() resolves with the next pushed frame and
 * rejects a superseded or closed request, close() is idempotent.
 */
export class FakeCore {
  readonly sessions: FakeViewSession[] = [];
  /** Commands that reached a handler (after validation). */
  readonly calls: Array<{
    readonly view: string;
    readonly command: string;
    readonly args: unknown;
  }> = [];
  closeCalls = 0;
  /** What close() resolves after; tests replace it to hold or fail a shutdown. */
  closing: () => Promise<void> = () => Promise.resolve();

  get openSessions(): number {
    return this.sessions.filter((s) => !s.closed).length;
  }

  openView(sink: ViewSink): FakeViewSession {
    const session = new FakeViewSession(`v${this.sessions.length + 1}`, sink, this);
    this.sessions.push(session);
    return session;
  }

  close(): Promise<void> {
    this.closeCalls += 1;
    return this.closing();
  }
}

export class FakeViewSession implements ViewSession {
  readonly id: string;
  readonly sink: ViewSink;
  closed = false;
  readonly #core: FakeCore;
  readonly #frames: QuoteFrame[] = [];
  #pending: { resolve: (frame: QuoteFrame) => void; reject: (err: Error) => void } | undefined;

  constructor(id: string, sink: ViewSink, core: FakeCore) {
    this.id = id;
    this.sink = sink;
    this.#core = core;
  }

  invoke(command: string, payload: unknown): Promise<Result<unknown>> {
    if (this.closed) return Promise.resolve(fail('conflict', 'view closed'));
    if (!isCommandName(command))
      return Promise.resolve(fail('unknown-command', `unknown command: ${command}`));
    const parsed = parseCommand(command, payload);
    if (!parsed.ok) return Promise.resolve(parsed);
    this.#core.calls.push({ view: this.id, command, args: parsed.value });
    return Promise.resolve(ok({ handled: command }));
  }

  nextFrame(): Promise<QuoteFrame> {
    if (this.closed) return Promise.reject(new Error('view closed'));
    this.#pending?.reject(new Error('superseded'));
    this.#pending = undefined;
    const ready = this.#frames.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
    });
  }

  /** Test: the core has a new frame for this view. */
  pushFrame(frame: QuoteFrame): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined) pending.resolve(frame);
    else this.#frames.push(frame);
  }

  get waiting(): boolean {
    return this.#pending !== undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#pending?.reject(new Error('view closed'));
    this.#pending = undefined;
  }
}

/** A small QuoteFrame with real typed-array columns. */
export function makeFrame(seq: number, symbols: readonly string[]): QuoteFrame {
  return buildFrame(
    { seq, builtAt: 1_700_000_000_000 + seq, full: seq === 1 },
    symbols.map((symbol, i) => ({
      symbol,
      values: {
        bidPrice: 100 + i,
        bidSize: 1 + i,
        askPrice: 101 + i,
        askSize: 2 + i,
        quoteTime: 1_700_000_000_000 + i,
        lastPrice: 100.5 + i,
        lastSize: 10 + i,
        tradeTime: 1_700_000_000_000 + i,
        volume: 1_000 + i,
        refPrice: 99 + i,
        receivedAt: 1_700_000_000_001 + i,
        prevClose: 99 + i,
        dayOpen: 99.5 + i,
        dayHigh: 102 + i,
        dayLow: 97 + i,
      },
    })),
  );
}
