/**
 * Where our pages come from, as one rule used by the IPC sender guard, the navigation guards and
 * the app:// protocol handler, so that "ours" means the same thing everywhere.
 *
 * Packaged, the renderer is served from `app://market-monitor/` (a privileged standard scheme, see
 * window.ts). In development the Forge Vite plugin serves it from a dev server on loopback, and
 * that origin is ours too, but only when the build says it is a development build.
 *
 * No electron import: pure string rules, tested directly.
 */

export const APP_SCHEME = 'app';
export const APP_HOST = 'market-monitor';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** The first page every window loads when packaged. */
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * The origin of a URL as `scheme://host[:port]`, or `undefined` when the URL has none we could
 * ever call ours.
 *
 * WHATWG `URL.origin` is the string "null" for every scheme it does not know (`app:` included),
 * so it cannot tell `app://market-monitor` from `app://elsewhere`; for our scheme the origin is
 * built from the parsed host instead. `file:`, `data:`, `blob:`, `about:`, `javascript:` and the
 * like are never ours, whatever they contain.
 */
export function originOf(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.username !== '' || parsed.password !== '') return undefined;
  if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return parsed.origin;
  if (parsed.protocol === `${APP_SCHEME}:` && parsed.host !== '') {
    return `${parsed.protocol}//${parsed.host}`;
  }
  return undefined;
}

/**
 * The origins whose pages may talk to main and may be navigated to: the app's own, plus the dev
 * server's while developing (`devServerUrl` is Forge's MAIN_WINDOW_VITE_DEV_SERVER_URL, undefined
 * in a packaged build).
 */
export function appOrigins(devServerUrl: string | undefined): readonly string[] {
  if (devServerUrl === undefined) return [APP_ORIGIN];
  const dev = originOf(devServerUrl);
  if (dev === undefined)
    throw new RangeError(`not a dev server URL: ${JSON.stringify(devServerUrl)}`);
  return [APP_ORIGIN, dev];
}

/** Whether `url` belongs to one of `origins`. */
export function isOurUrl(url: string, origins: readonly string[]): boolean {
  const origin = originOf(url);
  return origin !== undefined && origins.includes(origin);
}
