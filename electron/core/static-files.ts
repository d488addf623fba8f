/**
 * Serving the built renderer from a folder: which file a URL path names, what type it is, and the
 * Content-Security-Policy that goes with it. Shared by the browser-mode host (HTTP on loopback) and
 * Electron's app:// protocol handler, so that both refuse the same paths and send the same policy.
 *
 * Platform-neutral on purpose: node:path and node:fs only, no electron, no http.
 *
 * A URL path is attacker-controlled in browser mode (any local process, any web page that can make
 * the browser send a request to loopback), so the rules are strict and simple rather than clever:
 * - the path is percent-decoded exactly once, segment by segment;
 * - a segment that decodes to something containing `/`, `\`, NUL or another control character, a
 *   `:` (a Windows drive or an NTFS stream), or that starts with `.` (`.`, `..`, dotfiles) refuses
 *   the whole path; so does a raw backslash, an empty segment (`//`), or a path not starting with `/`;
 * - the joined path must stay inside the root lexically, and (resolveStaticFile) after realpath, so
 *   a symlink inside the root that points outside it is refused too.
 * Refusal is `undefined`: callers answer 404 and never say why.
 */
import { realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Longest URL path considered; the renderer's asset names are short. */
const MAX_URL_PATH = 1024;

/** Whether `text` has a control character (C0, DEL, C1): never part of a file name we serve. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/**
 * Maps a URL path (`/assets/index-3f2a.js`, as it appears in the request line: percent-encoded;
 * a query or fragment is ignored) to a file path inside `root`, or `undefined` when the path is
 * refused. `/` and any path ending in `/` name that folder's `index.html`. Lexical only: it does
 * not touch the file system; use resolveStaticFile to also follow symlinks and check the file.
 */
export function resolveStaticPath(root: string, urlPath: string): string | undefined {
  if (typeof urlPath !== 'string' || typeof root !== 'string' || root === '') return undefined;
  const cut = urlPath.search(/[?#]/);
  const raw = cut === -1 ? urlPath : urlPath.slice(0, cut);
  if (raw.length > MAX_URL_PATH || !raw.startsWith('/') || raw.includes('\\')) return undefined;

  const rawSegments = raw.slice(1).split('/');
  if (rawSegments.at(-1) === '') rawSegments[rawSegments.length - 1] = 'index.html';
  const segments: string[] = [];
  for (const rawSegment of rawSegments) {
    let segment: string;
    try {
      segment = decodeURIComponent(rawSegment);
    } catch {
      return undefined; // malformed escape such as %zz or a lone surrogate
    }
    if (
      segment === '' ||
      segment.startsWith('.') ||
      segment.includes('/') ||
      segment.includes('\\') ||
      segment.includes(':') ||
      hasControl(segment)
    ) {
      return undefined;
    }
    segments.push(segment);
  }

  const base = resolve(root);
  const joined = join(base, ...segments);
  return isInside(base, joined) ? joined : undefined;
}

export interface StaticFile {
  /** The file's real path (symlinks resolved): open this one, not the lexical path. */
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/**
 * resolveStaticPath, then the file system: the real path of the file must be inside the real path
 * of the root (a symlink leading out of the root is refused) and must be a regular file (a folder
 * is refused). Resolves `undefined` for anything refused or missing; never rejects.
 */
export async function resolveStaticFile(
  root: string,
  urlPath: string,
): Promise<StaticFile | undefined> {
  const lexical = resolveStaticPath(root, urlPath);
  if (lexical === undefined) return undefined;
  try {
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(lexical)]);
    if (!isInside(realRoot, realFile)) return undefined;
    const info = await stat(realFile);
    if (!info.isFile()) return undefined;
    return { path: realFile, size: info.size, mtimeMs: info.mtimeMs };
  } catch {
    return undefined; // missing, unreadable, a dangling link: all the same to the caller
  }
}

/** Whether `child` is `parent` itself or below it (both absolute and normalized). */
function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  if (rel === '') return true;
  return !isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`);
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
};

/**
 * The Content-Type for a file, by extension (case-insensitive). Unknown types are
 * `application/octet-stream`, which with `X-Content-Type-Options: nosniff` a browser will neither
 * run nor render.
 */
export function contentTypeFor(filePath: string): string {
  return CONTENT_TYPES[extname(filePath).toLowerCase()] ?? 'application/octet-stream';
}

export interface CspOptions {
  /** Sources allowed for fetch/WebSocket besides 'self', e.g. `ws://127.0.0.1:5123`. */
  readonly connectSrc: readonly string[];
}

/** A CSP source expression: a scheme-and-host URL or a quoted keyword, nothing that could end a directive. */
const CSP_SOURCE = /^(?:'[a-z-]+'|[a-z][a-z0-9+.-]*:(?:\/\/[A-Za-z0-9.[\]:*_-]+(?::\d{1,5})?)?)$/;

/**
 * The renderer's Content-Security-Policy. Scripts only from the app itself (no inline script, no
 * eval); nothing may frame the page, post a form, change the base URL or load plugins.
 *
 * Styles: `style-src 'self'` without 'unsafe-inline'. React's `style={...}` props are applied
 * through the CSSOM (`element.style.x = ...`), which CSP does not govern, and Vite extracts CSS into
 * files in a production build, so inline styles are not needed; a `<style>` element or a
 * `style="..."` attribute in markup would be blocked. Images also from `data:` URLs (small inline
 * icons). Throws a RangeError for a connect source that is not a plain source expression, so that a
 * caller's string can never add a directive.
 */
export function contentSecurityPolicy(options: CspOptions): string {
  for (const source of options.connectSrc) {
    if (!CSP_SOURCE.test(source)) {
      throw new RangeError(`not a CSP source expression: ${JSON.stringify(source)}`);
    }
  }
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src ${["'self'", ...options.connectSrc].join(' ')}`,
    "img-src 'self' data:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}
