/**
 * The hardened window, after Electron's security checklist
 * (electronjs.org/docs/latest/tutorial/security):
 * - the renderer runs sandboxed, context-isolated, without Node, with web security on
 *   (secureWebPreferences);
 * - the app is served from a privileged custom scheme, `app://market-monitor/`, never `file://`
 *   (registerAppScheme, handleAppProtocol), with a strict Content-Security-Policy on every
 *   response;
 * - no new windows, no navigation away from our origin, no `<webview>`, no permission grants
 *   (hardenWebContents, hardenSession); links to a short list of https hosts open in the user's
 *   browser instead (isAllowedExternal);
 * - every window is registered with the IPC sender guard (views.track).
 *
 * Electron's runtime objects come in as parameters (only types are imported), so every function
 * here runs in tests against small fakes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  BrowserWindow,
  BrowserWindowConstructorOptions,
  Protocol,
  Session,
  WebContents,
  WebPreferences,
} from 'electron';
import { contentSecurityPolicy, contentTypeFor, resolveStaticFile } from './core/static-files.ts';
import { APP_HOST, APP_SCHEME, isOurUrl } from './ipc/origin.ts';
import type { Logger } from './stream/log.ts';
import type { Placement } from './window-state.ts';

// ------------------------------------------------------------------------------ build layout

export interface BuildPaths {
  /** The sandboxed preload script (one CommonJS file). */
  readonly preload: string;
  /** The built renderer served under app://market-monitor/. */
  readonly rendererDir: string;
}

/**
 * Where the Vite build puts things, relative to the folder of the main bundle
 * (`.vite/build/main.js`): the preload next to it, the renderer in `.vite/renderer/<name>/`
 * (the Forge Vite plugin's layout; the renderer's name is `main_window`).
 */
export function buildPaths(mainDir: string, rendererName = 'main_window'): BuildPaths {
  return {
    preload: join(mainDir, 'preload.js'),
    rendererDir: join(mainDir, '..', 'renderer', rendererName),
  };
}

// ------------------------------------------------------------------------------ web preferences

/**
 * The webPreferences of every window. Each flag is spelled out even where it is Electron 45's
 * default, so that a changed default or a stray edit shows up in review and in the test.
 */
export function secureWebPreferences(
  preloadPath: string,
  options: { readonly devTools: boolean },
): WebPreferences {
  return {
    preload: preloadPath,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    plugins: false,
    safeDialogs: true,
    devTools: options.devTools,
  };
}

// ------------------------------------------------------------------------------ external links

/**
 * Hosts whose https pages the app may open in the user's browser: Alpaca (sign-up, keys,
 * market-data docs) and the project's home. Exact host names: a subdomain is not implied.
 */
export const ALLOWED_EXTERNAL_HOSTS: readonly string[] = [
  'alpaca.markets',
  'app.alpaca.markets',
  'docs.alpaca.markets',
  'github.com',
];

/**
 * The URL to hand to shell.openExternal for `url`, or undefined when it may not go there: https, an
 * allowlisted host, the default port, no credentials. Everything else (`file:`, `javascript:`,
 * custom handlers such as `ms-msdt:`, other hosts) is refused: openExternal gives the URL to the OS,
 * which runs whatever it names. The answer is the parser's canonical form, so the string the OS gets
 * is the one that was checked; raw text the parser would forgive (spaces, tabs, newlines, NUL and
 * other control characters anywhere) is refused outright, since no honest link carries it.
 */
export function externalUrl(url: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u0020\u007f]/.test(url)) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const allowed =
    parsed.protocol === 'https:' &&
    parsed.port === '' &&
    parsed.username === '' &&
    parsed.password === '' &&
    ALLOWED_EXTERNAL_HOSTS.includes(parsed.hostname);
  return allowed ? parsed.href : undefined;
}

/** Whether `url` may go to shell.openExternal (see externalUrl). */
export function isAllowedExternal(url: string): boolean {
  return externalUrl(url) !== undefined;
}

// ------------------------------------------------------------------------------ app:// protocol

/**
 * Declares app:// as a standard, secure scheme that supports fetch. Electron allows this only
 * before the app's `ready` event, and only once.
 * - standard: relative URLs resolve, and the page gets a real origin (`app://market-monitor`);
 * - secure: a secure context, like https;
 * - supportFetchAPI: same-origin module scripts (Vite's `crossorigin` scripts) load.
 * Not `bypassCSP` (our CSP must apply), not `corsEnabled` (no other origin may read our files).
 */
export function registerAppScheme(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

/** The renderer's CSP: scripts and connections from the app itself only; no eval, no inline. */
export const RENDERER_CSP = contentSecurityPolicy({ connectSrc: [] });

function baseHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': RENDERER_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  };
}

function plain(status: number, text: string, extra: Record<string, string> = {}): Response {
  return new Response(text, {
    status,
    headers: { ...baseHeaders(), 'Content-Type': 'text/plain; charset=utf-8', ...extra },
  });
}

/**
 * Answers one app:// request from the files under `rendererDir`. 404 for another host, a path
 * that static-files refuses (traversal in any encoding, dotfiles, backslashes, a symlink out of
 * the folder) and missing files: the answer never says which. Only GET and HEAD. Never rejects.
 */
export async function appProtocolResponse(
  request: Request,
  rendererDir: string,
  log?: Logger,
): Promise<Response> {
  try {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return plain(405, 'Method not allowed', { Allow: 'GET, HEAD' });
    }
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return plain(404, 'Not found');
    }
    if (
      url.protocol !== `${APP_SCHEME}:` ||
      url.host !== APP_HOST ||
      url.username !== '' ||
      url.password !== ''
    ) {
      return plain(404, 'Not found');
    }
    const file = await resolveStaticFile(rendererDir, url.pathname);
    if (file === undefined) return plain(404, 'Not found');
    const headers = { ...baseHeaders(), 'Content-Type': contentTypeFor(file.path) };
    if (request.method === 'HEAD') return new Response(null, { status: 200, headers });
    const body = await readFile(file.path);
    return new Response(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), {
      status: 200,
      headers,
    });
  } catch (err) {
    log?.error({ err, url: request.url }, 'app:// request failed');
    return plain(500, 'Internal error');
  }
}

/** Serves app://market-monitor/ from the built renderer (call after `ready`). */
export function handleAppProtocol(
  protocol: Pick<Protocol, 'handle'>,
  rendererDir: string,
  log: Logger,
): void {
  protocol.handle(APP_SCHEME, (request) => appProtocolResponse(request, rendererDir, log));
}

// ------------------------------------------------------------------------------ webContents and session

export interface HardeningPolicy {
  /** Our origins (origin.ts appOrigins): the only places a frame may navigate to. */
  readonly origins: readonly string[];
  /** shell.openExternal; called only with URLs isAllowedExternal accepts. */
  readonly openExternal: (url: string) => Promise<void>;
  readonly log: Logger;
}

const hardenedContents = new WeakSet<WebContents>();
const hardenedSessions = new WeakSet<Session>();

/** Opens an allowlisted link in the user's browser; logs and drops anything else. */
function openOutside(url: string, policy: HardeningPolicy): void {
  const checked = externalUrl(url);
  if (checked === undefined) {
    policy.log.warn(
      { url: JSON.stringify(url.slice(0, 200)) },
      'refused to open a link outside the allowlist',
    );
    return;
  }
  policy.openExternal(checked).catch((err: unknown) => {
    policy.log.error({ err, url: checked }, 'could not open a link in the browser');
  });
}

/**
 * Locks down one webContents, ours or not (main.ts calls this from `web-contents-created`, so it
 * also covers anything Electron or a page creates): no window.open / target=_blank windows, no
 * navigation or redirect of any frame off our origins, no `<webview>`. Idempotent.
 */
export function hardenWebContents(contents: WebContents, policy: HardeningPolicy): void {
  if (hardenedContents.has(contents)) return;
  hardenedContents.add(contents);
  const { log } = policy;

  contents.setWindowOpenHandler((details) => {
    openOutside(details.url, policy);
    return { action: 'deny' };
  });

  contents.on('will-navigate', (event) => {
    if (isOurUrl(event.url, policy.origins)) return;
    event.preventDefault();
    log.warn({ url: event.url.slice(0, 200) }, 'prevented a navigation off the app');
    openOutside(event.url, policy);
  });
  contents.on('will-frame-navigate', (event) => {
    if (isOurUrl(event.url, policy.origins)) return;
    event.preventDefault();
    // The main frame's case was logged by will-navigate.
    if (!event.isMainFrame)
      log.warn({ url: event.url.slice(0, 200) }, 'prevented a sub-frame navigation');
  });
  contents.on('will-redirect', (event) => {
    if (isOurUrl(event.url, policy.origins)) return;
    event.preventDefault();
    log.warn({ url: event.url.slice(0, 200) }, 'prevented a redirect off the app');
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    log.warn('prevented a <webview>');
  });
}

/**
 * Denies every permission request and check (camera, microphone, notifications, geolocation,
 * clipboard reads, HID/USB/serial devices, ...): the app needs none. Idempotent.
 */
export function hardenSession(session: Session, log: Logger): void {
  if (hardenedSessions.has(session)) return;
  hardenedSessions.add(session);
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    log.warn({ permission }, 'denied a permission request');
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}

// ------------------------------------------------------------------------------ windows

export interface WindowDeps {
  /** Electron's BrowserWindow class (a fake in tests). */
  readonly BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindow;
  /** The IPC view registry: every window is tracked as one of ours. */
  readonly views: { track(contents: WebContents): void };
  readonly hardening: HardeningPolicy;
  readonly preloadPath: string;
  /** DevTools only in development. */
  readonly devTools: boolean;
}

export interface WindowOptions {
  /** app://market-monitor/index.html, or the dev server's URL in development. */
  readonly url: string;
  /** Where it opens (window-state.ts); without one, WINDOW_OPTIONS' size, centred. */
  readonly placement?: Placement;
}

/** The window's own options, without webPreferences. */
export const WINDOW_OPTIONS: Readonly<BrowserWindowConstructorOptions> = {
  width: 1280,
  height: 820,
  minWidth: 720,
  minHeight: 480,
  title: 'Market Monitor',
  backgroundColor: '#0f1115',
  // Shown on ready-to-show: no white flash before the first paint.
  show: false,
};

/** Creates a hardened, tracked window and starts loading the app into it. */
export function createWindow(deps: WindowDeps, options: WindowOptions): BrowserWindow {
  const win = new deps.BrowserWindow({
    ...WINDOW_OPTIONS,
    ...options.placement?.bounds,
    webPreferences: secureWebPreferences(deps.preloadPath, { devTools: deps.devTools }),
  });
  const contents = win.webContents;
  hardenWebContents(contents, deps.hardening);
  hardenSession(contents.session, deps.hardening.log);
  deps.views.track(contents);
  // maximize() shows the window too (and keeps the saved size as the one to restore to); waiting
  // for the first paint either way avoids a white flash.
  win.once('ready-to-show', () => {
    if (options.placement?.maximized === true) win.maximize();
    else win.show();
  });
  win.loadURL(options.url).catch((err: unknown) => {
    deps.hardening.log.error({ err, url: options.url }, 'the window failed to load');
    // Show it anyway: a visible error page beats an invisible window.
    if (!win.isDestroyed()) win.show();
  });
  return win;
}
