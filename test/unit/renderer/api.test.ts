/**
 * The browser-mode token: out of the address bar at once, still there for a reload of the tab.
 */
import { describe, expect, it } from 'vitest';
import { TOKEN_KEY, takeBridgeUrl, type TokenPlace } from '../../../renderer/api.ts';

function place(hash: string, stored?: string) {
  const items = new Map<string, string>(stored === undefined ? [] : [[TOKEN_KEY, stored]]);
  const replaced: string[] = [];
  const p: TokenPlace = {
    location: { protocol: 'http:', host: '127.0.0.1:4000', hash, pathname: '/', search: '' },
    storage: {
      getItem: (k: string) => items.get(k) ?? null,
      setItem: (k: string, v: string) => void items.set(k, v),
    },
    history: { replaceState: (_d: unknown, _t: string, url: string) => void replaced.push(url) },
  };
  return { p, items, replaced };
}

describe('takeBridgeUrl', () => {
  it('moves the token from the address into the tab storage and clears the address', () => {
    const { p, items, replaced } = place('#token=abc_DEF-123');
    expect(takeBridgeUrl(p)).toBe('ws://127.0.0.1:4000/bridge?token=abc_DEF-123');
    expect(items.get(TOKEN_KEY)).toBe('abc_DEF-123');
    expect(replaced).toEqual(['/']);
  });

  it('a reload (no token in the address) finds it in the tab storage', () => {
    const { p, replaced } = place('', 'abc_DEF-123');
    expect(takeBridgeUrl(p)).toBe('ws://127.0.0.1:4000/bridge?token=abc_DEF-123');
    expect(replaced).toEqual([]);
  });

  it('a token in the address wins over a stored one (a new run of market-monitor web)', () => {
    const { p, items } = place('#token=new', 'old');
    expect(takeBridgeUrl(p)).toBe('ws://127.0.0.1:4000/bridge?token=new');
    expect(items.get(TOKEN_KEY)).toBe('new');
  });

  it('nothing anywhere, or a stored value that is not a token: no bridge', () => {
    expect(takeBridgeUrl(place('').p)).toBeUndefined();
    expect(takeBridgeUrl(place('', 'bad token!').p)).toBeUndefined();
  });

  it('storage that throws leaves the token in the address but still connects', () => {
    const { p } = place('#token=abc');
    const throwing: TokenPlace = {
      ...p,
      storage: {
        getItem: () => {
          throw new Error('denied');
        },
        setItem: () => {
          throw new Error('denied');
        },
      },
    };
    expect(takeBridgeUrl(throwing)).toBe('ws://127.0.0.1:4000/bridge?token=abc');
    expect(takeBridgeUrl({ ...throwing, location: { ...p.location, hash: '' } })).toBeUndefined();
  });
});
