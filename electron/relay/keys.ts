/**
 * The relay's own client keys: who may use the relay, and how many (channel, symbol) pairs each
 * may hold. They are not the user's Alpaca keys, which never leave the relay. Keys come from flags
 * or from a JSON file `[{"key":"...","secret":"...","maxSymbols":100}]`; secrets are compared in
 * constant time (as SHA-256 digests, so that their lengths do not show either).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export interface RelayKey {
  readonly key: string;
  readonly secret: string;
  /** (channel, symbol) pairs one connection with this key may hold; `*` counts as one. */
  readonly maxSymbols: number;
}

/** Pairs a key may hold when its entry says nothing: the app's own watchlists fit. */
export const DEFAULT_MAX_SYMBOLS = 10_000;
/** Keys and secrets longer than this are refused in a file and never compared from a client. */
const MAX_KEY_LENGTH = 256;

export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The keys a relay accepts. Empty: any key is accepted (loopback demo mode only). */
export class KeyRing {
  readonly #byKey = new Map<string, { readonly entry: RelayKey; readonly secret: Buffer }>();

  constructor(keys: readonly RelayKey[]) {
    for (const entry of keys) {
      if (this.#byKey.has(entry.key)) throw new KeyFileError(`duplicate client key ${entry.key}`);
      this.#byKey.set(entry.key, { entry, secret: digest(entry.secret) });
    }
  }

  get size(): number {
    return this.#byKey.size;
  }

  /**
   * The entry for a key and secret, or undefined when they do not match. In demo mode (no keys)
   * any pair of strings is accepted with the default limit.
   */
  check(key: unknown, secret: unknown): RelayKey | undefined {
    if (typeof key !== 'string' || typeof secret !== 'string') return undefined;
    if (key.length > MAX_KEY_LENGTH || secret.length > MAX_KEY_LENGTH) return undefined;
    if (this.#byKey.size === 0) return { key, secret: '', maxSymbols: DEFAULT_MAX_SYMBOLS };
    const found = this.#byKey.get(key);
    // A digest is compared even for an unknown key, so that the answer takes as long either way.
    const given = digest(secret);
    const ok = timingSafeEqual(given, found?.secret ?? digest(`${secret}\0`));
    return ok && found !== undefined ? found.entry : undefined;
  }
}

/** Checks parsed key-file content; throws KeyFileError naming the first bad entry. */
export function parseKeyList(value: unknown, source: string): RelayKey[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new KeyFileError(
      `${source}: expected a non-empty JSON array of {key, secret, maxSymbols}`,
    );
  }
  return value.map((raw: unknown, i) => {
    const o = raw as Record<string, unknown> | null;
    const where = `${source}: entry ${i}`;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) {
      throw new KeyFileError(`${where} is not an object`);
    }
    const { key, secret, maxSymbols } = o;
    if (typeof key !== 'string' || key === '' || key.length > MAX_KEY_LENGTH) {
      throw new KeyFileError(
        `${where}: key must be a non-empty string of at most ${MAX_KEY_LENGTH}`,
      );
    }
    if (typeof secret !== 'string' || secret === '' || secret.length > MAX_KEY_LENGTH) {
      throw new KeyFileError(
        `${where}: secret must be a non-empty string of at most ${MAX_KEY_LENGTH}`,
      );
    }
    if (
      maxSymbols !== undefined &&
      (typeof maxSymbols !== 'number' || !Number.isSafeInteger(maxSymbols) || maxSymbols < 1)
    ) {
      throw new KeyFileError(`${where}: maxSymbols must be a whole number >= 1`);
    }
    return { key, secret, maxSymbols: maxSymbols ?? DEFAULT_MAX_SYMBOLS };
  });
}

/** Reads and checks a key file. */
export async function loadKeyFile(path: string): Promise<RelayKey[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new KeyFileError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new KeyFileError(`${path} is not JSON: ${(err as Error).message}`);
  }
  return parseKeyList(value, path);
}
