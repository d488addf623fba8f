/**
 * Deep links: `market-monitor://symbol/AAPL` opens the app on a symbol. The operating system hands
 * the link over as an argument of a new launch (Windows, Linux: main.ts reads its own argv, and a
 * second instance's through 'second-instance') or as an 'open-url' event (macOS). Anything the OS
 * passes is untrusted text from another program, so it is parsed strictly here and anything else
 * is refused (main.ts logs it, quoted and cut short); only a validated symbol goes further.
 *
 * Accepted: the scheme and the host `symbol` in any case, one path segment of 1 to 21 ASCII
 * letters, digits, `.` and `-`, with `%2F` for the `/` of a crypto pair (BTC%2FUSD), and at most
 * one trailing `/` (some launchers add one). No query, fragment, credentials, port, other escapes,
 * whitespace or control characters. The symbol comes back upper-cased (shared/api.ts normalizeSymbol).
 */
import { normalizeSymbol, SYMBOL_PATTERN } from '../shared/api.ts';

export const DEEP_LINK_SCHEME = 'market-monitor';

/** Longer than any valid link: anything past it is refused before a regex looks at it. */
const MAX_LINK_LENGTH = 100;
const LINK = /^market-monitor:\/\/symbol\/((?:[A-Za-z0-9.-]|%2[Ff]){1,63})\/?$/i;

export type DeepLink =
  { readonly ok: true; readonly symbol: string } | { readonly ok: false; readonly reason: string };

export function parseDeepLink(url: unknown): DeepLink {
  if (typeof url !== 'string') return { ok: false, reason: 'not text' };
  if (url.length > MAX_LINK_LENGTH) return { ok: false, reason: 'too long' };
  const match = LINK.exec(url);
  if (match === null)
    return { ok: false, reason: `not a ${DEEP_LINK_SCHEME}://symbol/<SYMBOL> link` };
  const typed = (match[1] ?? '').replaceAll(/%2f/gi, '/');
  const normalized = normalizeSymbol(typed);
  if (!normalized.ok) return { ok: false, reason: `not a symbol (${normalized.reason})` };
  if (!SYMBOL_PATTERN.test(normalized.symbol)) return { ok: false, reason: 'not a symbol' };
  return { ok: true, symbol: normalized.symbol };
}

/**
 * The link among a launch's arguments (Windows and Linux pass it as one), if any: the first
 * argument that starts with our scheme. Chromium may add switches of its own around it.
 */
export function deepLinkArgument(argv: readonly string[]): string | undefined {
  const prefix = `${DEEP_LINK_SCHEME}:`;
  return argv.find(
    (arg) => typeof arg === 'string' && arg.slice(0, prefix.length).toLowerCase() === prefix,
  );
}

/** A refused link as the log shows it: quoted (control characters escaped) and cut short. */
export function linkForLog(url: unknown): string {
  return JSON.stringify(typeof url === 'string' ? url.slice(0, 120) : typeof url);
}
