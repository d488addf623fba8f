/**
 * servesItself: every spelling of a loopback address that reaches the served relay's
 * 127.0.0.1 socket counts as the app's own relay, so that the app never waits on itself.
 */
import { describe, expect, it } from 'vitest';
import { servesItself } from '../../../electron/core/relay-commands.ts';
import type { Source } from '../../../shared/api.ts';

function relayAt(url: string): Source {
  return { kind: 'relay', url, feed: 'iex', codec: 'json' };
}

describe('servesItself', () => {
  it('knows the served port behind every loopback spelling', () => {
    for (const host of [
      '127.0.0.1',
      'localhost',
      'LOCALHOST',
      '127.1',
      '0',
      '0.0.0.0',
      '[::1]',
      '[::ffff:127.0.0.1]',
      '[::ffff:0.0.0.0]',
      'localhost.',
      '127.0.0.2',
    ]) {
      expect(servesItself(relayAt(`ws://${host}:8765`), 8765), host).toBe(true);
    }
  });

  it('leaves other ports, other hosts and other kinds alone', () => {
    expect(servesItself(relayAt('ws://127.0.0.1:8766'), 8765)).toBe(false);
    expect(servesItself(relayAt('ws://10.0.0.5:8765'), 8765)).toBe(false);
    expect(servesItself(relayAt('ws://relay.lan:8765'), 8765)).toBe(false);
    expect(servesItself({ kind: 'simulator', codec: 'json' }, 8765)).toBe(false);
  });
});
