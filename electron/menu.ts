/**
 * The application menu as a plain template (main.ts builds it with Menu.buildFromTemplate), so a
 * test can read it without Electron.
 *
 * Mostly roles: Electron implements them natively and they act on the focused window. Reload is
 * safe because a reloading page releases its view and attaches a new one (ipc/views.ts).
 * DevTools are offered only in development (webPreferences.devTools is off in a packaged build).
 */
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  readonly platform: NodeJS.Platform;
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
    ],
  };
  return [
    ...(mac ? [{ role: 'appMenu' as const }] : []),
    file,
    // Text fields need Edit for copy and paste shortcuts on macOS.
    { role: 'editMenu' },
    view,
    { role: 'windowMenu' },
    help,
  ];
}
