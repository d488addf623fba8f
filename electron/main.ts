/**
 * The Electron entry: app lifecycle and wiring, nothing else. The logic lives in testable
 * modules: window.ts (hardened windows, app:// protocol), ipc/ (guarded commands, views and their
 * ports), menu.ts, and the core (core/monitor-core.ts), which knows nothing of Electron.
 *
 * Build assumptions (vite.main.config.ts): this file is bundled as ONE ES module at
 * `.vite/build/main.js`, so `import.meta.dirname` is `.vite/build`; the preload is
 * `.vite/build/preload.js` and the renderer `.vite/renderer/main_window/`. The Forge Vite plugin
 * (or our own config) replaces MAIN_WINDOW_VITE_DEV_SERVER_URL and MAIN_WINDOW_VITE_NAME at build
 * time; `typeof` keeps an unbundled run (the tests) from throwing on them.
 *
 * Lifecycle:
 * - one instance: a second launch focuses the first one's window and exits;
 * - deep links (market-monitor://symbol/AAPL, deep-link.ts) arrive as launch arguments on Windows
 *   and Linux (this launch's, or a second instance's) and as 'open-url' on macOS;
 * - app:// is declared privileged before `ready`; served from the built renderer after it;
 * - every webContents, ours or not, is hardened when it is created;
 * - the core starts before the first window; if it cannot start, the user is told and the app exits;
 * - quitting waits (once, with a deadline) for the core to disconnect and flush its files, and so
 *   does a system shutdown, restart or log-off, which on Windows never emits 'before-quit'.
 */
import { join } from 'node:path';
import {
  BrowserWindow,
  Menu,
  Notification,
  app,
  dialog,
  powerMonitor,
  protocol,
  safeStorage,
  screen,
  session,
  shell,
} from 'electron';
import { createCoreLogger, quietStreamDestination } from './core/logging.ts';
import { MonitorCore } from './core/monitor-core.ts';
import { DEEP_LINK_SCHEME, deepLinkArgument, linkForLog, parseDeepLink } from './deep-link.ts';
import { installIpc, type InstalledIpc } from './ipc/install.ts';
import { APP_ENTRY_URL, appOrigins } from './ipc/origin.ts';
import { aboutPanelOptions, buildMenuTemplate } from './menu.ts';
import { createDesktopNotifier } from './notifier.ts';
import { SafeStorageSecretStore } from './secrets.ts';
import type { Logger } from './stream/log.ts';
import { UpdateService, type UpdaterLike } from './updater.ts';
import { WindowStates } from './window-state.ts';
import {
  buildPaths,
  createWindow,
  handleAppProtocol,
  hardenSession,
  hardenWebContents,
  externalUrl,
  registerAppScheme,
  WINDOW_OPTIONS,
  type HardeningPolicy,
} from './window.ts';
import { errorMessage } from '../shared/errors.ts';

declare const MAIN_WINDOW_VITE_DEV_SERVER_URL: string | undefined;
declare const MAIN_WINDOW_VITE_NAME: string | undefined;

/** How long quitting waits for the core to close before giving up on it. */
export const SHUTDOWN_DEADLINE_MS = 5_000;

const devServerUrl =
  typeof MAIN_WINDOW_VITE_DEV_SERVER_URL === 'string' ? MAIN_WINDOW_VITE_DEV_SERVER_URL : undefined;
const rendererName =
  typeof MAIN_WINDOW_VITE_NAME === 'string' ? MAIN_WINDOW_VITE_NAME : 'main_window';
const isDev = devServerUrl !== undefined;
const origins = appOrigins(devServerUrl);
const paths = buildPaths(import.meta.dirname, rendererName);

// stderr, for a terminal and for `npm start`; its failures are swallowed (a packaged Windows GUI
// app has none), every record is also in the log ring.
const stderr = quietStreamDestination(process.stderr);
const { logger: rootLogger, ring: logRing } = createCoreLogger({
  level: isDev ? 'debug' : 'info',
  destination: stderr,
});
const log = rootLogger.child({ module: 'main' });

const hardening: HardeningPolicy = {
  origins,
  openExternal: (url) => shell.openExternal(url),
  log: rootLogger.child({ module: 'window' }),
};

// Must happen before `ready`, and only once.
registerAppScheme(protocol);

if (!app.requestSingleInstanceLock()) {
  // Another instance owns the market-data connection (Alpaca allows one per account); it has been
  // told to show itself through 'second-instance'.
  app.quit();
} else {
  start();
}

function start(): void {
  let corePromise: Promise<MonitorCore> | undefined;
  let ipc: InstalledIpc | undefined;
  /** Set when quitting begins: a start still under way stops where it is. */
  let stopping = false;

  let windowStates: WindowStates | undefined;

  const openWindow = (): BrowserWindow | undefined => {
    // Not started yet: the first window comes with ready.
    if (ipc === undefined || windowStates === undefined) return undefined;
    const { slot, placement } = windowStates.claim();
    const win = createWindow(
      { BrowserWindow, views: ipc.views, hardening, preloadPath: paths.preload, devTools: isDev },
      { url: devServerUrl ?? APP_ENTRY_URL, placement },
    );
    windowStates.track(win, slot);
    return win;
  };

  app.on('web-contents-created', (_event, contents) => {
    hardenWebContents(contents, hardening);
    hardenSession(contents.session, hardening.log);
  });

  /** Brings the last window forward, or opens one; undefined before the app has started. */
  const showWindow = (): BrowserWindow | undefined => {
    const win = BrowserWindow.getAllWindows().at(-1);
    if (win === undefined) return openWindow();
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
    return win;
  };

  /** A symbol from a link that came before the first window; it goes to that window. */
  let pendingSymbol: string | undefined;

  /**
   * A market-monitor:// link from the OS: validated (deep-link.ts), then the window comes forward
   * and its page selects the symbol, asking before it adds one to the list. Anything else is
   * refused and logged.
   */
  const openLink = (url: string): void => {
    const link = parseDeepLink(url);
    if (!link.ok) {
      log.warn({ url: linkForLog(url), reason: link.reason }, 'refused a deep link');
      return;
    }
    log.info({ symbol: link.symbol }, 'opening a deep link');
    const win = ipc === undefined ? undefined : showWindow();
    if (win === undefined || ipc === undefined) {
      pendingSymbol = link.symbol;
      return;
    }
    ipc.views.sendTo(win.webContents.id, 'deeplink:symbol', { symbol: link.symbol });
  };

  // Windows and Linux start the app with the link as an argument.
  const launchLink = deepLinkArgument(process.argv);
  if (launchLink !== undefined) openLink(launchLink);

  app.on('second-instance', (_event, argv) => {
    const link = deepLinkArgument(argv);
    if (link === undefined) showWindow();
    else openLink(link);
  });

  // macOS hands links to the running app (or the one it starts) as 'open-url'.
  app.on('open-url', (event, url) => {
    event.preventDefault();
    openLink(url);
  });

  app.on('window-all-closed', () => {
    // macOS apps stay in the dock with no window; 'activate' opens one again.
    if (process.platform !== 'darwin') app.quit();
  });

  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) openWindow();
  });

  let updates: UpdateService | undefined;
  const shutdown = installShutdown(async () => {
    stopping = true;
    updates?.dispose();
    ipc?.dispose();
    const core = await corePromise?.catch(() => undefined);
    await Promise.all([core?.close(), windowStates?.flush()]);
  });

  app
    .whenReady()
    .then(async () => {
      if (stopping) return;
      hardenSession(session.defaultSession, hardening.log);
      handleAppProtocol(protocol, paths.rendererDir, rootLogger.child({ module: 'app-protocol' }));

      // Only an installed release updates itself; electron-updater is not even loaded otherwise.
      updates = new UpdateService({
        updater: app.isPackaged
          ? await loadUpdater(rootLogger.child({ module: 'updater' }))
          : undefined,
        currentVersion: app.getVersion(),
        log: rootLogger.child({ module: 'updates' }),
        // The same orderly close as quitting, then the installer takes over.
        restart: (install) => shutdown.closeThen('update', install),
      });
      if (stopping) return;

      const userData = app.getPath('userData');
      const states = new WindowStates({
        userDataDir: userData,
        screen,
        defaultSize: { width: WINDOW_OPTIONS.width ?? 1280, height: WINDOW_OPTIONS.height ?? 820 },
        log: rootLogger.child({ module: 'window-state' }),
      });
      // Never fatal: without saved places, windows open centred.
      await states
        .load()
        .catch((err: unknown) => log.warn({ err }, 'could not read the window positions'));
      windowStates = states;

      corePromise = MonitorCore.create({
        userDataDir: userData,
        secrets: new SafeStorageSecretStore({
          safeStorage,
          filePath: join(userData, 'credentials.json'),
          platform: process.platform,
          logger: rootLogger,
        }),
        // The relay key slots: files of their own, kept exactly as the Alpaca keys are.
        relaySecrets: {
          client: new SafeStorageSecretStore({
            safeStorage,
            filePath: join(userData, 'relay-credentials.json'),
            platform: process.platform,
            logger: rootLogger,
          }),
          server: new SafeStorageSecretStore({
            safeStorage,
            filePath: join(userData, 'relay-server-credentials.json'),
            platform: process.platform,
            logger: rootLogger,
          }),
        },
        app: {
          name: app.getName(),
          version: app.getVersion(),
          platform: process.platform,
          runtime: `Electron ${process.versions.electron ?? '?'} (Node ${process.versions.node})`,
        },
        logger: rootLogger,
        logRing,
        // Alerts run here in main: they notify with every window hidden or minimised.
        notifier: createDesktopNotifier({
          Notification,
          logger: rootLogger,
          onClick: () => void showWindow(),
        }),
        updates,
      });
      const core = await corePromise;
      if (stopping) return; // the shutdown closes the core

      ipc = installIpc({ openView: (sink) => core.openView(sink), origins, log: rootLogger });
      Menu.setApplicationMenu(
        Menu.buildFromTemplate(
          buildMenuTemplate({
            platform: process.platform,
            appName: app.getName(),
            isDev,
            newWindow: () => void openWindow(),
            openExternal: (url) => {
              const checked = externalUrl(url);
              if (checked === undefined) return;
              shell
                .openExternal(checked)
                .catch((err: unknown) => log.error({ err, url: checked }, 'could not open a link'));
            },
          }),
        ),
      );
      app.setAboutPanelOptions(
        aboutPanelOptions({
          name: app.getName(),
          version: app.getVersion(),
          versions: process.versions,
        }),
      );
      const first = openWindow();
      if (first !== undefined && pendingSymbol !== undefined) {
        ipc.views.sendTo(first.webContents.id, 'deeplink:symbol', { symbol: pendingSymbol });
        pendingSymbol = undefined;
      }
      // An installed app owns its links; a development run must not take them over (the OS would
      // then start a bare Electron for them). macOS and the .deb declare them at install as well.
      if (app.isPackaged && !app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME))
        log.warn({ scheme: DEEP_LINK_SCHEME }, 'could not register as the handler of deep links');
      updates.start();
      log.info({ dev: isDev, version: app.getVersion() }, 'started');
    })
    .catch((err: unknown) => {
      log.fatal({ err }, 'the app could not start');
      const message = errorMessage(err);
      dialog.showErrorBox('Market Monitor could not start', message);
      app.exit(1);
    });
}

/**
 * Quitting waits for `close` once: the first 'before-quit' is held (preventDefault), `close`
 * runs, then quit is asked again and goes through. A close that hangs is given up on after
 * SHUTDOWN_DEADLINE_MS so that the app always quits.
 *
 * The end of the system session starts the same close (the same once, the same deadline), since
 * 'before-quit' does not cover it everywhere:
 * - Windows emits no 'before-quit' on shutdown, restart or log-off; each BrowserWindow gets
 *   'session-end' instead, which cannot be delayed: the close is started and Windows may end the
 *   process before it finishes (best effort, as the app can do no more there);
 * - Linux and macOS: powerMonitor 'shutdown'. Preventing it asks Electron to delay the shutdown
 *   (a logind delay lock on Linux) until the app quits, which it does when the close is done. Its
 *   typings declare a listener without arguments, but Electron passes the event, so it is read
 *   defensively.
 *
 * On Linux, Electron switches its shutdown handling on only if a 'shutdown' listener already
 * exists when the FIRST powerMonitor listener of any kind is added (lib/browser/api/power-monitor.ts
 * counts the listeners before the one being added, then follows changes from then on). A
 * 'shutdown' listener added first is therefore never called. So 'suspend' and 'resume' are watched
 * first: the log then also explains a gap in the data after the machine slept. The listeners are
 * added after `ready` only because there is nothing to close before it.
 */
/**
 * electron-updater's autoUpdater, loaded on demand: the package requires 'electron' when it loads,
 * and has nothing to do in a development build. Its own log lines go to ours.
 */
async function loadUpdater(logger: Logger): Promise<UpdaterLike | undefined> {
  try {
    const loaded = await import('electron-updater');
    // A CommonJS package: its exports are the default export under Node's ESM loader.
    const autoUpdater = loaded.autoUpdater ?? loaded.default.autoUpdater;
    autoUpdater.logger = {
      info: (message?: unknown) => logger.info(String(message)),
      warn: (message?: unknown) => logger.warn(String(message)),
      error: (message?: unknown) => logger.error(String(message)),
      debug: (message: string) => logger.debug(message),
    };
    return autoUpdater;
  } catch (err) {
    // Never fatal: the app runs on without updates, and Settings says they are off.
    logger.error({ err }, 'could not load the updater');
    return undefined;
  }
}

interface Shutdown {
  /**
   * Starts the orderly close (once; a close under way is not started again) and calls `finish`
   * instead of app.quit() when it is done: restarting into an update.
   */
  closeThen(trigger: string, finish: () => void): void;
}

function installShutdown(close: () => Promise<void>): Shutdown {
  let state: 'running' | 'closing' | 'closed' = 'running';

  const closeThenQuit = (trigger: string, finish: () => void = () => app.quit()): void => {
    if (state !== 'running') return;
    state = 'closing';
    log.info({ trigger }, 'closing the core');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        log.error({ ms: SHUTDOWN_DEADLINE_MS }, 'the core did not close in time; quitting anyway');
        resolve();
      }, SHUTDOWN_DEADLINE_MS);
    });
    Promise.race([close(), deadline])
      .catch((err: unknown) => log.error({ err }, 'closing the core failed'))
      .finally(() => {
        clearTimeout(timer);
        state = 'closed';
        log.info('quitting');
        try {
          finish();
        } catch (err) {
          // The installer did not start: quit all the same, the core is closed already.
          log.error({ err, trigger }, 'could not finish the close; quitting');
          app.quit();
        }
      });
  };

  app.on('before-quit', (event) => {
    if (state === 'closed') return;
    event.preventDefault();
    closeThenQuit('quit');
  });

  app.on('browser-window-created', (_event, win) => {
    win.on('session-end', () => closeThenQuit('session end'));
  });

  app
    .whenReady()
    .then(() => {
      // Before 'shutdown', on purpose: see above.
      powerMonitor.on('suspend', () => log.info('the system is going to sleep'));
      powerMonitor.on('resume', () => log.info('the system woke up'));
      powerMonitor.on('shutdown', (event?: { preventDefault?: () => void }) => {
        if (state === 'closed') return;
        if (typeof event?.preventDefault === 'function') event.preventDefault();
        closeThenQuit('system shutdown');
      });
    })
    .catch((err: unknown) => log.error({ err }, 'could not watch for a system shutdown'));

  return { closeThen: closeThenQuit };
}
