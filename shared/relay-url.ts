/**
 * The address of a relay (`market-monitor relay`, or another Market Monitor's), as a user types
 * it in Settings and as settings.json keeps it. Users copy the relay's `listening` line
 * (`ws://127.0.0.1:PORT`) or a client's stream URL (`ws://127.0.0.1:PORT/v2/iex`); both are
 * accepted, the feed path picking the feed. What is stored is the base alone (`ws://HOST:PORT`),
 * the feed beside it, so that the two never disagree. Shared by the settings schema (main) and the
 * settings form (renderer): no platform imports.
 */
import { FEED_PATHS, type Feed } from './market.ts';

export type RelayUrlCheck =
  | { readonly ok: true; readonly url: string; readonly feed: Feed | undefined }
  | { readonly ok: false; readonly reason: string };

const MAX_URL_CHARS = 2048;

/** The feed whose stream path `path` is, if any. */
function feedOfPath(path: string): Feed | undefined {
  for (const [feed, feedPath] of Object.entries(FEED_PATHS) as [Feed, string][]) {
    if (path === feedPath || path === `${feedPath}/`) return feed;
  }
  return undefined;
}

/**
 * Checks a typed relay URL: ws:// or wss://, a host, no user or password, no query or fragment,
 * and either no path or one of Alpaca's feed paths. Answers the base and the feed of the path.
 */
export function parseRelayUrl(input: string): RelayUrlCheck {
  const text = input.trim();
  if (text === '')
    return { ok: false, reason: 'Enter the relay address, e.g. ws://127.0.0.1:8765.' };
  if (text.length > MAX_URL_CHARS)
    return { ok: false, reason: `The address is longer than ${MAX_URL_CHARS} characters.` };
  // `127.0.0.1:8765` would parse with `127.0.0.1:` as its scheme: say what is missing instead.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text))
    return {
      ok: false,
      reason: `"${text.slice(0, 80)}" has no ws:// or wss:// in front: write it as ws://HOST:PORT (e.g. ws://127.0.0.1:8765).`,
    };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return {
      ok: false,
      reason: `"${text.slice(0, 80)}" is not a URL: write it as ws://HOST:PORT (e.g. ws://127.0.0.1:8765).`,
    };
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    const ws = url.protocol === 'https:' ? 'wss' : 'ws';
    return {
      ok: false,
      reason: `A relay streams over WebSocket: write ${ws}://${url.host} instead of ${url.protocol}//.`,
    };
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
    return {
      ok: false,
      reason: `A relay address starts with ws:// or wss://, not ${url.protocol}//.`,
    };
  if (url.hostname === '') return { ok: false, reason: 'The address has no host.' };
  if (url.username !== '' || url.password !== '')
    return {
      ok: false,
      reason: 'Put the relay key in the key fields, not in the address (no user:password@).',
    };
  if (url.search !== '' || url.hash !== '')
    return { ok: false, reason: 'A relay address has no ?query or #fragment.' };
  const path = url.pathname;
  let feed: Feed | undefined;
  if (path !== '' && path !== '/') {
    feed = feedOfPath(path);
    if (feed === undefined)
      return {
        ok: false,
        reason: `${path} is not a feed path: use ws://HOST:PORT, or add /v2/iex, /v2/sip, /v2/delayed_sip, /v2/test or /v1beta3/crypto/us.`,
      };
  }
  return { ok: true, url: `${url.protocol}//${url.host}`, feed };
}

/** Whether `url` is a stored relay base: what parseRelayUrl answers for it, unchanged. */
export function relayBaseProblem(url: string): string | undefined {
  const parsed = parseRelayUrl(url);
  if (!parsed.ok) return parsed.reason;
  if (parsed.url !== url)
    return `store the relay's base address only (${parsed.url}); the feed is chosen beside it`;
  return undefined;
}

/** The relay's http:// (or https://) address, where its REST pass-through answers. */
export function relayHttpUrl(base: string): string {
  return base.replace(/^ws/, 'http');
}
