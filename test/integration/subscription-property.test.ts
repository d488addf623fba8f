/**
 * Property: whatever interleaving of subscribe, unsubscribe, server drops and client reconnects,
 * once things settle the server's set equals the client's desired set. Real ws server, real client.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamClient } from '../../electron/stream/client.ts';
import type { Channel } from '../../shared/market.ts';
import { alpacaSession, startScriptedServer } from '../support/scripted-server.ts';
import { waitFor } from '../support/wait.ts';

type Command =
  | { kind: 'subscribe'; channel: Channel; symbols: string[] }
  | { kind: 'unsubscribe'; channel: Channel; symbols: string[] }
  | { kind: 'drop' }
  | { kind: 'reconnect' }
  | { kind: 'pause'; ms: number };

const symbol = fc.constantFrom('AAPL', 'MSFT', 'TSLA', 'NVDA', 'SPY', 'QQQ');
const channel = fc.constantFrom<Channel>('quotes', 'trades', 'bars');
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('subscribe' as const),
      channel,
      symbols: fc.array(symbol, { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('unsubscribe' as const),
      channel,
      symbols: fc.array(symbol, { minLength: 1, maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'drop' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reconnect' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('pause' as const),
      ms: fc.integer({ min: 0, max: 30 }),
    }),
  },
);

describe('subscriptions under random interleavings (real server)', () => {
  it('the server ends with exactly the desired set', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { minLength: 1, maxLength: 25 }),
        fc.boolean(),
        async (commands, finalDrop) => {
          const sessions: Array<Map<string, Set<string>>> = [];
          const server = await startScriptedServer((ws) => sessions.push(alpacaSession(ws)));
          const client = new StreamClient({
            url: server.url,
            key: 'k',
            secret: 's',
            backoff: { baseMs: 5, capMs: 20 },
            staleAfterMs: 0,
          });
          try {
            // Each subscribe holds a reference; unsubscribes only remove what is held (like real
            // consumers: a release for each acquire).
            const held = new Map<string, number>();
            client.connect();
            for (const cmd of commands) {
              switch (cmd.kind) {
                case 'subscribe':
                  client.subscribe(cmd.channel, cmd.symbols);
                  for (const s of new Set(cmd.symbols))
                    held.set(`${cmd.channel}:${s}`, (held.get(`${cmd.channel}:${s}`) ?? 0) + 1);
                  break;
                case 'unsubscribe': {
                  const release = [...new Set(cmd.symbols)].filter(
                    (s) => (held.get(`${cmd.channel}:${s}`) ?? 0) > 0,
                  );
                  if (release.length === 0) break;
                  client.unsubscribe(cmd.channel, release);
                  for (const s of release)
                    held.set(`${cmd.channel}:${s}`, (held.get(`${cmd.channel}:${s}`) ?? 0) - 1);
                  break;
                }
                case 'drop':
                  server.sockets.at(-1)?.terminate();
                  break;
                case 'reconnect':
                  client.disconnect();
                  client.connect();
                  break;
                case 'pause':
                  await new Promise((resolve) => setTimeout(resolve, cmd.ms));
                  break;
              }
            }
            if (finalDrop) {
              // Drop a session that is fully established, so that nothing but the reconnect itself
              // can restore the set on the next one.
              await waitFor(() => client.state === 'live' && client.subscriptions.isSettled(), {
                timeoutMs: 3_000,
                what: 'live before the final drop',
              });
              const before = server.accepted();
              server.sockets.at(-1)?.terminate();
              await waitFor(() => server.accepted() > before, {
                timeoutMs: 3_000,
                what: 'a new session',
              });
            }
            const expected = (ch: Channel): string[] =>
              [...held]
                .filter(([k, n]) => n > 0 && k.startsWith(`${ch}:`))
                .map(([k]) => k.slice(ch.length + 1))
                .sort();
            const serverSet = (ch: Channel): string[] =>
              [...(sessions.at(-1)?.get(ch) ?? [])].sort();
            await waitFor(
              () =>
                client.state === 'live' &&
                client.subscriptions.isSettled() &&
                (['quotes', 'trades', 'bars'] as const).every(
                  (ch) => JSON.stringify(serverSet(ch)) === JSON.stringify(expected(ch)),
                ),
              { timeoutMs: 3_000, what: 'server set == desired set' },
            );
            for (const ch of ['quotes', 'trades', 'bars'] as const) {
              expect(client.subscriptions.desired()[ch]).toEqual(expected(ch));
            }
            expect(server.maxConcurrent()).toBe(1);
          } finally {
            client.dispose();
            await server.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
