/** The relay's client keys: file checks with the entry named, and the constant-time match. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_SYMBOLS,
  KeyFileError,
  KeyRing,
  parseKeyList,
} from '../../../electron/relay/keys.ts';

describe('relay keys', () => {
  it('accepts the right pair only, with its own symbol limit', () => {
    const ring = new KeyRing(
      parseKeyList(
        [
          { key: 'a', secret: 'sa', maxSymbols: 3 },
          { key: 'b', secret: 'sb' },
        ],
        'f',
      ),
    );
    expect(ring.check('a', 'sa')).toMatchObject({ key: 'a', maxSymbols: 3 });
    expect(ring.check('b', 'sb')).toMatchObject({ key: 'b', maxSymbols: DEFAULT_MAX_SYMBOLS });
    expect(ring.check('a', 'sb')).toBeUndefined();
    expect(ring.check('c', 'sa')).toBeUndefined();
    expect(ring.check('a', 'sa\0')).toBeUndefined();
    expect(ring.check('a', undefined)).toBeUndefined();
    expect(ring.check(42, 'sa')).toBeUndefined();
  });

  it('takes any strings with no keys (loopback demo mode), but never non-strings', () => {
    const ring = new KeyRing([]);
    expect(ring.check('x', 'y')).toMatchObject({ key: 'x', maxSymbols: DEFAULT_MAX_SYMBOLS });
    expect(ring.check('x', null)).toBeUndefined();
    expect(ring.check('x'.repeat(300), 'y')).toBeUndefined();
  });

  it.each([
    [{}, /non-empty JSON array/],
    [[], /non-empty JSON array/],
    [[null], /entry 0 is not an object/],
    [[{ key: '', secret: 's' }], /entry 0: key must be/],
    [[{ key: 'k', secret: 7 }], /entry 0: secret must be/],
    [
      [
        { key: 'k', secret: 's' },
        { key: 'k2', secret: 's', maxSymbols: 0 },
      ],
      /entry 1: maxSymbols/,
    ],
    [[{ key: 'k', secret: 's', maxSymbols: 1.5 }], /maxSymbols must be a whole number/],
  ])('refuses %j', (value, message) => {
    expect(() => parseKeyList(value, 'keys.json')).toThrow(KeyFileError);
    expect(() => parseKeyList(value, 'keys.json')).toThrow(message);
  });

  it('refuses the same key twice', () => {
    const list = parseKeyList(
      [
        { key: 'k', secret: 's' },
        { key: 'k', secret: 't' },
      ],
      'f',
    );
    expect(() => new KeyRing(list)).toThrow(/duplicate client key k/);
  });
});
