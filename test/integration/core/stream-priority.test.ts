/**
 * Over the plan's symbol limit, through the real core on the embedded simulator: the active
 * watchlist's symbols get the stream on every channel, the others are polled, the same ones
 * after a reconnect; switching the active list changes nothing until the user's retry, which
 * then gives the new list's symbols the stream.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../shared/api.ts';
import { STREAM_CHANNELS } from '../../../electron/core/stream-source.ts';
import { call, runCleanups, setup, value } from './harness.ts';

afterEach(runCleanups);

type View = Awaited<ReturnType<typeof setup>>['view'];

/** Polls the core until `condition` holds; says what it last saw when it does not. */
async function waitUntil<T>(
  read: () => Promise<T>,
  condition: (seen: T) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await read();
    if (condition(seen)) return seen;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(seen)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether the server confirmed exactly these symbols, on every stream channel. */
function streams(snap: Snapshot, symbols: readonly string[]): boolean {
  const want = [...symbols].sort().join();
  return STREAM_CHANNELS.every(
    (c) => [...(snap.subscriptions.confirmed[c] ?? [])].sort().join() === want,
  );
}

function snapshot(view: View): Promise<Snapshot> {
  return value(view, 'diagnostics:snapshot', {});
}

/** The symbols refused on quotes, sorted. */
function refusedQuotes(snap: Snapshot): string[] {
  return snap.subscriptions.refused
    .filter((r) => r.channel === 'quotes')
    .map((r) => r.symbol)
    .sort();
}

describe('stream priority over the plan symbol limit (embedded simulator)', () => {
  it('the active list first on every channel, the rest polled, stable across drops; a new active list wins at the retry', async () => {
    const { view } = await setup({
      core: {
        simulator: { rate: 200, symbols: 40, session: 'regular' },
        market: { pollIntervalMs: 200 },
      },
      settings: { activeWatchlist: 'tech' },
      watchlists: [
        { id: 'main', name: 'Main', symbols: ['AAPL', 'MSFT', 'NVDA'] },
        { id: 'tech', name: 'Tech', symbols: ['META', 'GOOGL', 'AMZN'] },
      ],
    });
    await waitUntil(
      () => snapshot(view),
      (s) =>
        s.connection.state === 'live' &&
        streams(s, ['AAPL', 'MSFT', 'NVDA', 'META', 'GOOGL', 'AMZN']),
      'live with every symbol',
    );
    // Two symbols' (channel, symbol) pairs, on every stream channel. The drop makes the new
    // session subscribe everything again, under the limit.
    await value(view, 'simulator:control', {
      action: 'symbol-limit',
      limit: 2 * STREAM_CHANNELS.length,
    });
    await value(view, 'simulator:control', { action: 'drop' });
    const limited = await waitUntil(
      () => snapshot(view),
      (s) => s.connection.state === 'live' && streams(s, ['META', 'GOOGL']),
      "the active list's first two symbols on every channel",
    );
    expect(refusedQuotes(limited)).toEqual(['AAPL', 'AMZN', 'MSFT', 'NVDA']);
    expect(limited.subscriptions.refused.every((r) => r.code === 405)).toBe(true);
    await waitUntil(
      () => value(view, 'market:status', {}),
      (m) => m.polled === 4,
      'the four others polled',
    );

    // After another drop, the same two again (the refusals are remembered: nothing over the
    // limit is asked for again).
    const since = limited.connection.since;
    await value(view, 'simulator:control', { action: 'drop' });
    const again = await waitUntil(
      () => snapshot(view),
      (s) =>
        s.connection.state === 'live' &&
        s.connection.since > since &&
        streams(s, ['META', 'GOOGL']),
      'the same two after a reconnect',
    );
    expect(refusedQuotes(again)).toEqual(['AAPL', 'AMZN', 'MSFT', 'NVDA']);

    // The user opens the Main tab: remembered, and nothing unsubscribed.
    const settings = await value(view, 'watchlists:set-active', { id: 'main' });
    expect(settings.activeWatchlist).toBe('main');
    expect((await value(view, 'settings:get', {})).activeWatchlist).toBe('main');
    const switched = await snapshot(view);
    expect(streams(switched, ['META', 'GOOGL'])).toBe(true);
    expect(refusedQuotes(switched)).toEqual(['AAPL', 'AMZN', 'MSFT', 'NVDA']);

    // The retry fills the limit in the new order: Main's first two.
    const { retried } = await value(view, 'subscriptions:retry-refused', {});
    // Four refused symbols, each on every stream channel.
    expect(retried).toBe(4 * STREAM_CHANNELS.length);
    const retriedSnap = await waitUntil(
      () => snapshot(view),
      (s) => streams(s, ['AAPL', 'MSFT']) && refusedQuotes(s).length === 4,
      "Main's first two on every channel",
    );
    expect(refusedQuotes(retriedSnap)).toEqual(['AMZN', 'GOOGL', 'META', 'NVDA']);
    await waitUntil(
      () => value(view, 'market:status', {}),
      (m) => m.polled === 4,
      'the four others polled',
    );

    // An id no list has is refused, changing nothing.
    const bad = await call(view, 'watchlists:set-active', { id: 'gone' });
    expect(bad.ok ? 'ok' : bad.error.code).toBe('not-found');
    expect((await value(view, 'settings:get', {})).activeWatchlist).toBe('main');
  });
});
