/**
 * Which MonitorApi this view talks to. The UI is the same in both places, so it holds only the
 * interface:
 * - in Electron, the preload exposes `window.monitor` (contextBridge) before any script runs;
 * - in a browser tab opened from `market-monitor web`, the URL's `#token=...` names the local
 *   WebSocket bridge, and the bridge client implements the same interface.
 * Anything else (the built files opened directly, a URL without its token) gets a sentence that
 * says what to do, never a blank page.
 */
import type { MonitorApi } from '../shared/api.ts';
import { bridgeUrlFromLocation, connectBridge } from './bridge-client.ts';
import { requestRead } from './paint-clock.ts';
import { WorkerSocket, workersAvailable } from './worker-socket.ts';

export type ApiMode = 'electron' | 'browser';

export type OpenedApi =
  | {
      readonly ok: true;
      readonly mode: ApiMode;
      readonly api: MonitorApi;
      /** Lets go of the bridge socket; nothing to do in Electron (the window owns the port). */
      readonly close: () => void;
      /**
       * Calls `listener` once if the link to the app is lost for good (the browser-mode bridge
       * closed: its session and frame cursor died with it, so only a reload helps). Never in
       * Electron, where the window lives and dies with the app. Returns the unsubscribe.
       */
      readonly onLost: (listener: (why: string) => void) => () => void;
    }
  | { readonly ok: false; readonly message: string };

export const NO_API_MESSAGE =
  'Market Monitor is not connected to its app. Start the desktop app, or run ' +
  '`market-monitor web` and open the address it prints (the part after # is the access token).';

/**
 * Whether `value` looks like the preload's object. Checked by shape rather than declared on
 * Window, so that a page where something else set `monitor` does not pass for Electron.
 */
function isMonitorApi(value: unknown): value is MonitorApi {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Record<keyof MonitorApi, unknown>>;
  return (
    typeof candidate.invoke === 'function' &&
    typeof candidate.on === 'function' &&
    typeof candidate.nextFrame === 'function'
  );
}

/** The Electron preload's API, when this page runs in the desktop app's window. */
export function electronApi(target: object = globalThis): MonitorApi | undefined {
  const monitor: unknown = (target as { monitor?: unknown }).monitor;
  return isMonitorApi(monitor) ? monitor : undefined;
}

type PageLocation = Parameters<typeof bridgeUrlFromLocation>[0] & {
  readonly pathname: string;
  readonly search: string;
};

/** Where the tab keeps the bridge token after it left the address bar. */
export const TOKEN_KEY = 'market-monitor.bridge-token';

export interface TokenPlace {
  readonly location: PageLocation;
  /** sessionStorage's part we use (declared here: tests type-check this file without DOM types). */
  readonly storage:
    { getItem(key: string): string | null; setItem(key: string, value: string): void } | undefined;
  readonly history: { replaceState(data: unknown, unused: string, url: string): void } | undefined;
}

/**
 * The bridge URL for this tab. The token arrives in the address's `#token=`; it is moved into this
 * tab's sessionStorage and taken out of the address bar (and so out of the history, bookmarks and
 * screen shares), while a reload of the same tab still finds it. A new tab needs the printed
 * address again: sessionStorage is per tab, and ends with it.
 */
export function takeBridgeUrl(place: TokenPlace): string | undefined {
  const { location, storage, history } = place;
  const fromAddress = bridgeUrlFromLocation(location);
  if (fromAddress !== undefined) {
    const token = new URL(fromAddress).searchParams.get('token');
    try {
      if (token !== null) storage?.setItem(TOKEN_KEY, token);
      history?.replaceState(null, '', `${location.pathname}${location.search}`);
    } catch {
      // Storage refused (private mode quotas, disabled): the token simply stays in the address.
    }
    return fromAddress;
  }
  let stored: string | null;
  try {
    stored = storage?.getItem(TOKEN_KEY) ?? null;
  } catch {
    stored = null;
  }
  if (stored === null) return undefined;
  return bridgeUrlFromLocation({ ...location, hash: `#token=${stored}` });
}

function pagePlace(): TokenPlace {
  const page = globalThis as unknown as {
    location: PageLocation;
    sessionStorage?: TokenPlace['storage'];
    history?: TokenPlace['history'];
  };
  return { location: page.location, storage: page.sessionStorage, history: page.history };
}

export async function openApi(
  target: object = globalThis,
  place: TokenPlace = pagePlace(),
): Promise<OpenedApi> {
  const preload = electronApi(target);
  if (preload) {
    return {
      ok: true,
      mode: 'electron',
      api: preload,
      close: () => undefined,
      onLost: () => () => undefined,
    };
  }

  const url = takeBridgeUrl(place);
  if (url === undefined) return { ok: false, message: NO_API_MESSAGE };
  try {
    const client = await connectBridge({ url, openSocket: bridgeSocket });
    return {
      ok: true,
      mode: 'browser',
      api: client,
      close: () => client.close(),
      onLost: (listener) =>
        client.onClose((info) =>
          listener(`the bridge closed (${info.code}${info.reason ? `: ${info.reason}` : ''})`),
        ),
    };
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      message:
        `Could not reach the Market Monitor bridge (${detail}). Is \`market-monitor web\` still ` +
        'running? Its address changes every run: open the one it printed last.',
    };
  }
}

/**
 * The bridge's socket, read in a worker where the browser has workers (worker-socket.ts: the
 * frames then skip the page's busy main thread until their one message, or, on a page that may
 * share memory, until the animation frame that draws them). WorkerSocket has the part of
 * WebSocket's interface the bridge client uses, which is all it is given here.
 */
function bridgeSocket(url: string): WebSocket {
  if (!workersAvailable()) return new WebSocket(url);
  return new WorkerSocket(url, { readBeforePaint: requestRead }) as unknown as WebSocket;
}
