/**
 * Property: whatever interleaving of connect, disconnect, server drops and server errors, the
 * client never holds two connections at the server, never opens one after a final disconnect, and
 * ends in a state that matches what happened. Real ws server, real client, fast-check commands.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamClient } from '../../electron/stream/client.ts';
import { alpacaSession, startScriptedServer } from '../support/scripted-server.ts';
import { waitFor } from '../support/wait.ts';

type Command =
  | { kind: 'connect' }
  | { kind: 'disconnect' }
  | { kind: 'drop' }
  | { kind: 'error'; code: number }
  | { kind: 'pause'; ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'connect' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'disconnect' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'drop' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('error' as const),
      code: fc.constantFrom(400, 402, 404, 406, 407, 500),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('pause' as const),
      ms: fc.integer({ min: 0, max: 25 }),
    }),
  },
);

describe('connection under random interleavings (real server)', () => {
  it('one connection at most, none after the final disconnect, states consistent', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 30 }), async (commands) => {
        const server = await startScriptedServer((ws) => alpacaSession(ws));
        const client = new StreamClient({
          url: server.url,
          key: 'k',
          secret: 's',
          backoff: { baseMs: 5, capMs: 20 },
          staleAfterMs: 0,
          // No jitter: retries come as soon as the policy allows (a 406 still waits its 5 s floor,
          // which the final disconnect cancels; that cancel is part of what is checked).
          random: () => 0,
        });
        const errors: number[] = [];
        client.on('server-error', (e) => errors.push(e.code));
        try {
          client.subscribe('quotes', ['AAPL']);
          for (const cmd of commands) {
            switch (cmd.kind) {
              case 'connect':
                client.connect();
                break;
              case 'disconnect':
                client.disconnect();
                break;
              case 'drop':
                for (const ws of server.sockets) ws.terminate();
                break;
              case 'error':
                for (const ws of server.sockets) {
                  if (ws.readyState === ws.OPEN)
                    ws.send(JSON.stringify([{ T: 'error', code: cmd.code, msg: 'scripted' }]));
                }
                break;
              case 'pause':
                await new Promise((resolve) => setTimeout(resolve, cmd.ms));
                break;
            }
          }
          // Only a fatal error (402 here) may leave the client failed.
          if (client.state === 'failed') expect(errors).toContain(402);
          client.disconnect();
          const finalState = client.state;
          expect(['stopped', 'failed', 'idle']).toContain(finalState);
          // A handshake the client aborted may still complete at the server a moment later (and be
          // closed at once): let that settle before checking that nothing new ever arrives.
          await new Promise((resolve) => setTimeout(resolve, 150));
          await waitFor(() => server.open() === 0, {
            timeoutMs: 3_000,
            what: 'no connection left at the server',
          });
          const accepted = server.accepted();
          await new Promise((resolve) => setTimeout(resolve, 60)); // past any retry that was due
          expect(server.accepted()).toBe(accepted);
          expect(server.open()).toBe(0);
          expect(client.hasSocket).toBe(false);
          expect(server.maxConcurrent()).toBeLessThanOrEqual(1);
        } finally {
          client.dispose();
          await server.close();
        }
      }),
      { numRuns: 30 },
    );
  });
});
