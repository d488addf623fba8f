/**
 * The server side of Alpaca's session protocol as plain message builders and checks, shared by the
 * simulator's sessions and the relay's downstream clients (both are Alpaca servers to their
 * clients): the error and success items, the whole-set subscription echo, and the reading of a
 * subscribe / unsubscribe delta with the codes Alpaca answers a bad one with.
 */
import type { Channel, Feed } from '../../shared/market.ts';
import { ALPACA_ERRORS, CHANNELS } from '../../shared/market.ts';

/** One server item as it goes on the wire: `T` plus the type's fields. */
export type ServerItem = Record<string, unknown>;

/** Channels a stock feed serves, in the order its echo lists them: all but crypto's and news. */
export const STOCK_CHANNELS: readonly Channel[] = CHANNELS.filter(
  (c) => c !== 'orderbooks' && c !== 'news',
);

/** Channels the crypto feed serves, in the order its echo lists them. */
export const CRYPTO_CHANNELS: readonly Channel[] = [
  'trades',
  'quotes',
  'orderbooks',
  'bars',
  'updatedBars',
  'dailyBars',
];

/** The channels a feed serves, in echo order. */
export function channelsOf(feed: Feed): readonly Channel[] {
  return feed === 'crypto' ? CRYPTO_CHANNELS : STOCK_CHANNELS;
}

/** `{"T":"error","code":N,"msg":...}`, with Alpaca's text for the code unless `msg` is given. */
export function errorItem(code: number, msg?: string): ServerItem {
  return { T: 'error', code, msg: msg ?? ALPACA_ERRORS[code]?.msg ?? 'error' };
}

/** `{"T":"success","msg":"connected"}` or `authenticated`. */
export function successItem(msg: 'connected' | 'authenticated'): ServerItem {
  return { T: 'success', msg };
}

/**
 * The echo of the whole current set: every channel of the feed in order, and on stock feeds the
 * `corrections` and `cancelErrors` lists that follow `trades`.
 */
export function echoItem(feed: Feed, subs: ReadonlyMap<Channel, ReadonlySet<string>>): ServerItem {
  const echo: ServerItem = { T: 'subscription' };
  for (const channel of channelsOf(feed)) echo[channel] = [...(subs.get(channel) ?? [])];
  if (feed !== 'crypto') {
    const trades = [...(subs.get('trades') ?? [])];
    echo.corrections = trades;
    echo.cancelErrors = [...trades];
  }
  return echo;
}

export type DeltaResult =
  | { readonly ok: true; readonly delta: Map<Channel, string[]> }
  | { readonly ok: false; readonly code: 400 | 410 };

/**
 * The symbols per channel of a subscribe or unsubscribe action. Keys outside CHANNELS are ignored
 * whatever they hold (the Go SDK sends `pricing` on every feed, alpaca-trade-api-python sends
 * `corrections` / `cancelErrors`); null or an empty list means no change on that channel (the Go
 * SDK sends every key, the unused ones as nil). A list that is not of non-empty strings up to
 * `maxSymbolLength` is 400; symbols named for a channel the feed lacks are 410.
 */
export function readDelta(
  action: Readonly<Record<string, unknown>>,
  channels: readonly Channel[],
  maxSymbolLength: number,
): DeltaResult {
  const delta = new Map<Channel, string[]>();
  let unsupported = false;
  for (const channel of CHANNELS) {
    const value = action[channel];
    if (value === undefined || value === null) continue;
    if (
      !Array.isArray(value) ||
      !value.every((s) => typeof s === 'string' && s.length > 0 && s.length <= maxSymbolLength)
    ) {
      return { ok: false, code: 400 };
    }
    if (value.length === 0) continue;
    if (!channels.includes(channel)) unsupported = true;
    else delta.set(channel, value as string[]);
  }
  return unsupported ? { ok: false, code: 410 } : { ok: true, delta };
}
