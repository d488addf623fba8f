/**
 * The Relay source in the settings contract: what a user may type as a relay address
 * (shared/relay-url.ts), what settings.json may hold, and that files written before the relay
 * existed still load unchanged.
 */
import { describe, expect, it } from 'vitest';
import { COMMANDS, DEFAULT_SETTINGS, parseCommand, settingsSchema } from '../../../shared/api.ts';
import { parseRelayUrl, relayBaseProblem, relayHttpUrl } from '../../../shared/relay-url.ts';

describe('parseRelayUrl', () => {
  it('takes a base address, or a stream URL whose path names the feed', () => {
    expect(parseRelayUrl('ws://127.0.0.1:8765')).toEqual({
      ok: true,
      url: 'ws://127.0.0.1:8765',
      feed: undefined,
    });
    expect(parseRelayUrl('  ws://127.0.0.1:8765/  ')).toMatchObject({ ok: true, feed: undefined });
    expect(parseRelayUrl('ws://127.0.0.1:8765/v2/sip')).toEqual({
      ok: true,
      url: 'ws://127.0.0.1:8765',
      feed: 'sip',
    });
    expect(parseRelayUrl('wss://relay.home.lan/v1beta3/crypto/us')).toEqual({
      ok: true,
      url: 'wss://relay.home.lan',
      feed: 'crypto',
    });
    expect(parseRelayUrl('WS://[::1]:9000/v2/iex')).toEqual({
      ok: true,
      url: 'ws://[::1]:9000',
      feed: 'iex',
    });
  });

  it('says what is wrong with a typo', () => {
    const reason = (text: string): string => {
      const r = parseRelayUrl(text);
      return r.ok ? 'accepted' : r.reason;
    };
    expect(reason('')).toMatch(/Enter the relay address/);
    expect(reason('127.0.0.1:8765')).toMatch(/ws:\/\/ or wss:\/\//);
    expect(reason('ws//127.0.0.1:8765')).toMatch(/has no ws:\/\/ or wss:\/\/ in front/);
    expect(reason('ws://')).toMatch(/not a URL/);
    expect(reason('http://127.0.0.1:8765')).toMatch(/write ws:\/\/127\.0\.0\.1:8765/);
    expect(reason('https://relay.example')).toMatch(/write wss:\/\/relay\.example/);
    expect(reason('ws://127.0.0.1:8765/v2/nope')).toMatch(/not a feed path/);
    expect(reason('ws://key:secret@127.0.0.1:8765')).toMatch(/not in the address/);
    expect(reason('ws://127.0.0.1:8765/?key=x')).toMatch(/no \?query/);
    expect(reason(`ws://${'a'.repeat(3000)}`)).toMatch(/longer than/);
  });

  it('a stored base must be exactly what the parser answers', () => {
    expect(relayBaseProblem('ws://127.0.0.1:1')).toBeUndefined();
    expect(relayBaseProblem('ws://127.0.0.1:1/v2/iex')).toMatch(/base address only/);
    expect(relayBaseProblem('http://127.0.0.1:1')).toMatch(/WebSocket/);
    expect(relayHttpUrl('ws://127.0.0.1:1')).toBe('http://127.0.0.1:1');
    expect(relayHttpUrl('wss://relay.lan')).toBe('https://relay.lan');
  });
});

describe('settings with the relay', () => {
  it('a file from before the relay loads unchanged (the served relay is off)', () => {
    const old = {
      version: 1,
      source: { kind: 'alpaca', feed: 'sip', codec: 'json' },
      theme: 'light',
      autoConnect: false,
      allowInsecureCredentialStorage: false,
      activeWatchlist: 'default',
    };
    const parsed = settingsSchema.parse(old);
    expect(parsed).toEqual(old);
    expect(parsed.relayServer).toBeUndefined();
    expect(settingsSchema.parse(DEFAULT_SETTINGS)).toEqual(DEFAULT_SETTINGS);
  });

  it('holds a relay source and the served relay; refuses what it must not hold', () => {
    const withRelay = {
      ...DEFAULT_SETTINGS,
      source: { kind: 'relay', url: 'ws://127.0.0.1:8765', feed: 'iex', codec: 'msgpack' },
      relayServer: { enabled: true, port: 0 },
    };
    expect(settingsSchema.parse(withRelay)).toEqual(withRelay);
    const bad = (patch: Record<string, unknown>): boolean =>
      settingsSchema.safeParse({ ...withRelay, ...patch }).success;
    expect(bad({ relayServer: { enabled: true, port: 70_000 } })).toBe(false);
    expect(bad({ relayServer: { enabled: true } })).toBe(false);
    // Keys never belong in settings.json: the strict schemas refuse the field.
    expect(
      bad({
        source: { kind: 'relay', url: 'ws://127.0.0.1:1', feed: 'iex', codec: 'json', key: 'k' },
      }),
    ).toBe(false);
    expect(
      bad({
        source: { kind: 'relay', url: 'http://127.0.0.1:1', feed: 'iex', codec: 'json' },
      }),
    ).toBe(false);
  });

  it('a hand-edited address that parses is kept in its base form, not refused', () => {
    // A refused field would send the whole settings file back to the defaults.
    const parsed = settingsSchema.parse({
      ...DEFAULT_SETTINGS,
      source: { kind: 'relay', url: ' ws://LOCALHOST:8765/v2/sip ', feed: 'sip', codec: 'json' },
    });
    expect(parsed.source).toEqual({
      kind: 'relay',
      url: 'ws://localhost:8765',
      feed: 'sip',
      codec: 'json',
    });
  });

  it('source:set and relay:serve validate their payloads', () => {
    const r = parseCommand('source:set', {
      source: { kind: 'relay', url: 'tcp://127.0.0.1:1', feed: 'iex', codec: 'json' },
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/source\.url: .*ws:\/\/ or wss:\/\//);
    expect(parseCommand('relay:serve', { enabled: true, port: -1 }).ok).toBe(false);
    expect(parseCommand('relay:serve', { enabled: true, newKey: true }).ok).toBe(true);
    expect(parseCommand('relay:keys-set', { keyId: ' ', secret: 's' }).ok).toBe(false);
    expect(Object.keys(COMMANDS)).toContain('relay:status');
  });
});
