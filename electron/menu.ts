/**
 * The application menu as a plain template (main.ts builds it with Menu.buildFromTemplate), so a
 * test can read it without Electron, and the About panel's text.
 *
 * macOS gets the standard app menu (About, Services, Hide, Hide Others, Show All, Quit, under the
 * app's name); elsewhere About is in Help. Both show Electron's native About panel, which
 * aboutPanelOptions() fills with the app's version and the Electron, Chromium and Node inside it.
 *
 * Mostly roles: Electron implements them natively and they act on the focused window. Reload is
 * safe because a reloading page releases its view and attaches a new one (ipc/views.ts).
 * DevTools are offered only in development (webPreferences.devTools is off in a packaged build).
 */
import type { AboutPanelOptionsOptions, MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  readonly platform: NodeJS.Platform;
  /** The app's name, the title of macOS's app menu. */
  readonly appName: string;
  readonly isDev: boolean;
  /** Opens another window on the same core. */
  newWindow(): void;
  /** Opens an allowlisted documentation link in the user's browser. */
  openExternal(url: string): void;
}

export const MARKET_DATA_DOCS_URL = 'https://docs.alpaca.markets/docs/about-market-data-api';

export function buildMenuTemplate(actions: MenuActions): MenuItemConstructorOptions[] {
  const mac = actions.platform === 'darwin';
  const file: MenuItemConstructorOptions = {
    label: '&File',
    submenu: [
      { label: 'New Window', accelerator: 'CmdOrCtrl+Shift+N', click: () => actions.newWindow() },
      { type: 'separator' },
      { role: 'close', label: 'Close Window' },
      // On macOS Quit lives in the app menu.
      ...(mac ? [] : [{ type: 'separator' as const }, { role: 'quit' as const }]),
    ],
  };
  const view: MenuItemConstructorOptions = {
    label: '&View',
    submenu: [
      { role: 'reload' },
      ...(actions.isDev ? [{ role: 'toggleDevTools' as const }] : []),
      { type: 'separator' },
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
    ],
  };
  const help: MenuItemConstructorOptions = {
    role: 'help',
    submenu: [
      {
        label: 'Alpaca Market Data Documentation',
        click: () => actions.openExternal(MARKET_DATA_DOCS_URL),
      },
      ...(mac
        ? []
        : [
            { type: 'separator' as const },
            { role: 'about' as const, label: `About ${actions.appName}` },
          ]),
    ],
  };
  // Spelled out rather than `role: 'appMenu'`, so the test sees what macOS users get.
  const appMenu: MenuItemConstructorOptions = {
    label: actions.appName,
    submenu: [
      { role: 'about' },
      { type: 'separator' },
      { role: 'services' },
      { type: 'separator' },
      { role: 'hide' },
      { role: 'hideOthers' },
      { role: 'unhide' },
      { type: 'separator' },
      { role: 'quit' },
    ],
  };
  return [
    ...(mac ? [appMenu] : []),
    file,
    // Text fields need Edit for copy and paste shortcuts on macOS.
    { role: 'editMenu' },
    view,
    { role: 'windowMenu' },
    help,
  ];
}

export interface AboutInfo {
  readonly name: string;
  readonly version: string;
  /** process.versions: electron, chrome and node are read. */
  readonly versions: Readonly<Record<string, string | undefined>>;
}

/** The native About panel's content (app.setAboutPanelOptions). */
export function aboutPanelOptions(info: AboutInfo): AboutPanelOptionsOptions {
  const runtime = [
    `Electron ${info.versions['electron'] ?? '?'}`,
    `Chromium ${info.versions['chrome'] ?? '?'}`,
    `Node ${info.versions['node'] ?? '?'}`,
  ].join('\n');
  return {
    applicationName: info.name,
    applicationVersion: info.version,
    // macOS shows `version` in brackets after applicationVersion: the runtime is in credits.
    version: '',
    credits: runtime,
    copyright: 'Copyright © 2025 Market Monitor contributors. MIT licence.',
  };
}
