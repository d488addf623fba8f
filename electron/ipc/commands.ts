/**
 * The invoke handlers: one per command in shared/api.ts COMMANDS, plus IPC.ready. Nothing else is
 * registered, so `ipcRenderer.invoke('anything-else')` fails in Electron itself before any of our
 * code runs.
 *
 * Every handler runs the sender guard (guard.ts) first; a refused sender never reaches the core.
 * Commands then go to the window's own ViewSession, whose invoke() validates the payload with the
 * command's zod schema before any core handler runs, and answers with the Result envelope.
 * A handler never throws across IPC: Electron would send the renderer an Error whose message can
 * carry details of main, so every failure is a Result.
 */
import type { IpcMainInvokeEvent } from 'electron';
import { COMMAND_NAMES, fail, type Result } from '../../shared/api.ts';
import { IPC } from '../../shared/channels.ts';
import type { Logger } from '../stream/log.ts';
import { guardSender, type SenderPolicy } from './guard.ts';
import type { ViewRegistry } from './views.ts';

/** The part of Electron's ipcMain this module uses. */
export interface IpcMainLike {
  handle(
    channel: string,
    listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown,
  ): void;
  removeHandler(channel: string): void;
}

export interface IpcDeps {
  readonly views: ViewRegistry;
  /** Origins whose pages may talk to main (origin.ts appOrigins). */
  readonly origins: readonly string[];
  readonly log: Logger;
}

/** Every channel registerIpc handles: IPC.ready and the command names. */
export const HANDLED_CHANNELS: readonly string[] = [IPC.ready, ...COMMAND_NAMES];

/** Registers the handlers; returns a function that removes them all. */
export function registerIpc(ipc: IpcMainLike, deps: IpcDeps): () => void {
  const { views, log } = deps;
  const policy: SenderPolicy = {
    isOurWindow: (id) => views.isOurWindow(id),
    origins: deps.origins,
  };

  ipc.handle(IPC.ready, (event) => {
    const verdict = guardSender(event, IPC.ready, policy, log);
    if (!verdict.ok) return verdict;
    try {
      return views.attach(event.sender);
    } catch (err) {
      log.error({ err }, 'attaching a window failed');
      return fail('internal', 'could not attach the window');
    }
  });

  for (const command of COMMAND_NAMES) {
    ipc.handle(command, async (event, ...args): Promise<Result<unknown>> => {
      const verdict = guardSender(event, command, policy, log);
      if (!verdict.ok) return verdict;
      if (args.length > 1) return fail('bad-request', `${command}: takes one payload argument`);
      const session = views.session(event.sender.id);
      if (session === undefined) {
        return fail('conflict', `${command}: this window has not attached yet`);
      }
      try {
        return await session.invoke(command, args[0]);
      } catch (err) {
        // ViewSession.invoke promises never to reject; this is the belt to its braces.
        log.error({ err, command }, 'a command threw');
        return fail('internal', `${command}: internal error`);
      }
    });
  }

  return () => {
    for (const channel of HANDLED_CHANNELS) ipc.removeHandler(channel);
  };
}
