/**
 * The one place that touches Electron's ipcMain and MessageChannelMain (lint keeps ipcMain inside
 * electron/ipc/): wires the real objects into the testable pieces of commands.ts and views.ts.
 */
import { MessageChannelMain, ipcMain } from 'electron';
import type { ViewSession, ViewSink } from '../core/types.ts';
import type { Logger } from '../stream/log.ts';
import { registerIpc } from './commands.ts';
import { ViewManager } from './views.ts';

export interface InstallIpcOptions {
  readonly openView: (sink: ViewSink) => ViewSession;
  readonly origins: readonly string[];
  readonly log: Logger;
}

export interface InstalledIpc {
  /** Track every window here (window.ts createWindow does). */
  readonly views: ViewManager;
  /** Removes the handlers and releases every view. */
  dispose(): void;
}

export function installIpc(options: InstallIpcOptions): InstalledIpc {
  const log = options.log.child({ module: 'ipc' });
  const views = new ViewManager({
    openView: options.openView,
    createChannel: () => new MessageChannelMain(),
    origins: options.origins,
    log,
  });
  const unregister = registerIpc(ipcMain, { views, origins: options.origins, log });
  return {
    views,
    dispose: () => {
      unregister();
      views.releaseAll('quitting');
    },
  };
}
