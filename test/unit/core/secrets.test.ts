import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CredentialStatus } from '../../../shared/api.ts';
import { MemorySecretStore } from '../../../electron/core/memory-secrets.ts';
import { SafeStorageSecretStore, type SafeStorageLike } from '../../../electron/secrets.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';

const KEY_ID = 'PKTESTKEYID0123456789';
const SECRET = 'sEcReT-vAlUe-9f8e7d6c5b4a';
const CREDS = { keyId: KEY_ID, secret: SECRET };
const OTHER = { keyId: 'PKOTHERKEYID99', secret: 'another-secret-value-42' };

/**
 * A stand-in for Electron's safeStorage: "encrypts" reversibly (XOR under a generation prefix) and
 * can be told to be unavailable, to report a backend, to fail, or to rotate its key.
 */
class FakeSafeStorage implements SafeStorageLike {
  available = true;
  backend = 'gnome_libsecret';
  decryptThrows = false;
  encryptThrows = false;
  /** When set, decryption "succeeds" with this text instead. */
  decryptTo: string | undefined;
  /** Bumping it is a key rotation: older ciphertexts still decrypt but ask to be re-encrypted. */
  generation = 1;
  backendCalls = 0;
  decryptCalls = 0;

  isAsyncEncryptionAvailable(): Promise<boolean> {
    return Promise.resolve(this.available);
  }

  encryptStringAsync(plainText: string): Promise<Buffer> {
    if (this.encryptThrows || !this.available)
      return Promise.reject(new Error('Error while encrypting the text provided to safeStorage.'));
    return Promise.resolve(
      Buffer.concat([Buffer.from(`FAKE${this.generation}:`), xor(Buffer.from(plainText, 'utf8'))]),
    );
  }

  decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }> {
    this.decryptCalls++;
    const match = /^FAKE(\d+):/.exec(encrypted.subarray(0, 12).toString('latin1'));
    if (this.decryptThrows || !match)
      return Promise.reject(
        new Error('Error while decrypting the ciphertext provided to safeStorage.'),
      );
    const generation = Number(match[1]);
    const result = this.decryptTo ?? xor(encrypted.subarray(match[0].length)).toString('utf8');
    return Promise.resolve({ result, shouldReEncrypt: generation < this.generation });
  }

  getSelectedStorageBackend(): string {
    this.backendCalls++;
    return this.backend;
  }
}

function xor(data: Buffer): Buffer {
  return Buffer.from(data.map((b) => b ^ 0x5a));
}

/** The 8-character pieces of `value` that occur in `text`. */
function fragmentsIn(text: string, value: string): string[] {
  const found: string[] = [];
  for (let i = 0; i + 8 <= value.length; i++) {
    const piece = value.slice(i, i + 8);
    if (text.includes(piece)) found.push(piece);
  }
  return found;
}

let dir: string;
let ring: LogRing;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secrets-'));
  ring = new LogRing(10_000);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function makeStore(fake: FakeSafeStorage, platform: NodeJS.Platform = 'linux') {
  return new SafeStorageSecretStore({
    safeStorage: fake,
    filePath: join(dir, 'credentials.json'),
    platform,
    logger: ringLogger(ring),
  });
}

const filePath = () => join(dir, 'credentials.json');

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The saved envelope's storage and safeStorage's generation prefix of the ciphertext. */
async function envelope(): Promise<{ storage: string; prefix: string }> {
  const file = JSON.parse(await readFile(filePath(), 'utf8')) as { storage: string; data: string };
  const prefix = /^FAKE\d+:/.exec(Buffer.from(file.data, 'base64').toString('latin1'))?.[0] ?? '';
  return { storage: file.storage, prefix };
}

/** A basic_text store with keys saved obfuscated (consent given), as a restart finds them. */
async function obfuscatedOnDisk(): Promise<FakeSafeStorage> {
  const fake = new FakeSafeStorage();
  fake.backend = 'basic_text';
  const store = makeStore(fake);
  await store.setConsent(true);
  expect(await store.set(CREDS, SECURE)).toMatchObject({ storage: 'obfuscated' });
  fake.decryptCalls = 0;
  return fake;
}

async function backups(): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.includes('.corrupt-'));
}

const SECURE = { memoryOnly: false };
const MEMORY = { memoryOnly: true };

describe('SafeStorageSecretStore: where keys go', () => {
  it('a secure keyring: nothing stored yet, then encrypted to a 0600 file that survives a restart', async () => {
    const fake = new FakeSafeStorage();
    const store = makeStore(fake);
    expect(await store.status()).toEqual({
      stored: false,
      storage: 'none',
      backend: 'gnome_libsecret',
      secure: true,
      detail:
        'No API keys saved. Keys you enter will be saved encrypted by the desktop keyring (libsecret).',
    });
    const status = await store.set(CREDS, SECURE);
    expect(status).toMatchObject({
      stored: true,
      storage: 'encrypted',
      backend: 'gnome_libsecret',
      secure: true,
    });
    expect(status.detail).toBe('API keys are saved encrypted by the desktop keyring (libsecret).');
    const text = await readFile(filePath(), 'utf8');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(KEY_ID);
    expect(JSON.parse(text)).toMatchObject({
      version: 1,
      storage: 'encrypted',
      backend: 'gnome_libsecret',
    });
    if (process.platform !== 'win32') expect((await stat(filePath())).mode & 0o777).toBe(0o600);
    expect(await store.get()).toEqual(CREDS);

    const restarted = makeStore(fake);
    expect(await restarted.status()).toMatchObject({ stored: true, storage: 'encrypted' });
    expect(await restarted.get()).toEqual(CREDS);
  });

  it.each([
    ['darwin', 'keychain', 'the macOS Keychain'],
    ['win32', 'dpapi', 'Windows (DPAPI)'],
  ] as const)(
    '%s: backend %s, secure whatever a Linux-only call would say',
    async (platform, backend, words) => {
      const fake = new FakeSafeStorage();
      fake.backend = 'basic_text';
      const store = makeStore(fake, platform);
      const status = await store.set(CREDS, SECURE);
      expect(status).toMatchObject({ backend, secure: true, storage: 'encrypted' });
      expect(status.detail).toContain(words);
      expect(fake.backendCalls).toBe(0);
    },
  );

  it.each(['kwallet', 'kwallet5', 'kwallet6'])('Linux %s is secure', async (backend) => {
    const fake = new FakeSafeStorage();
    fake.backend = backend;
    expect(await makeStore(fake).set(CREDS, SECURE)).toMatchObject({
      backend,
      secure: true,
      storage: 'encrypted',
    });
  });

  it.each(['basic_text', 'unknown'])(
    'Linux %s without consent: memory only, nothing written, and the user is told how to keep them',
    async (backend) => {
      const fake = new FakeSafeStorage();
      fake.backend = backend;
      const store = makeStore(fake);
      const before = await store.status();
      expect(before).toMatchObject({ stored: false, storage: 'none', secure: false, backend });
      expect(before.detail).toContain(`no secure keyring (${backend})`);
      const status = await store.set(CREDS, SECURE);
      expect(status).toMatchObject({ stored: true, storage: 'memory', secure: false, backend });
      expect(status.detail).toBe(
        `This desktop has no secure keyring (${backend}), so your API keys are kept in memory until the app quits. ` +
          'To keep them across restarts, allow obfuscated (not secure) storage in settings.',
      );
      expect(await exists(filePath())).toBe(false);
      expect(await store.get()).toEqual(CREDS);
      expect(await makeStore(fake).get()).toBeUndefined();
    },
  );

  it('Linux basic_text with consent: written through safeStorage, storage obfuscated, said to be insecure', async () => {
    const fake = new FakeSafeStorage();
    fake.backend = 'basic_text';
    const store = makeStore(fake);
    await store.setConsent(true);
    const status = await store.set(CREDS, SECURE);
    expect(status).toMatchObject({
      stored: true,
      storage: 'obfuscated',
      secure: false,
      backend: 'basic_text',
    });
    expect(status.detail).toMatch(/obfuscated, which is not secure/);
    const restarted = makeStore(fake);
    await restarted.setConsent(true);
    expect(await restarted.status()).toMatchObject({ stored: true, storage: 'obfuscated' });
    expect(await restarted.get()).toEqual(CREDS);
  });

  it('no encryption at all: memory only, even with consent', async () => {
    const fake = new FakeSafeStorage();
    fake.available = false;
    const store = makeStore(fake);
    expect((await store.setConsent(true)).effect).toBe('none');
    const status = await store.set(CREDS, SECURE);
    expect(status).toMatchObject({ stored: true, storage: 'memory', secure: false });
    expect(status.detail).toMatch(/^Encryption is not available/);
    expect(await exists(filePath())).toBe(false);
    expect(await store.get()).toEqual(CREDS);
  });

  it('memoryOnly: kept in memory, and keys saved earlier are deleted so they cannot come back', async () => {
    const fake = new FakeSafeStorage();
    const store = makeStore(fake);
    await store.set(OTHER, SECURE);
    expect(await exists(filePath())).toBe(true);
    const status = await store.set(CREDS, MEMORY);
    expect(status).toMatchObject({ stored: true, storage: 'memory', secure: true });
    expect(status.detail).toMatch(/in memory only, as you asked/);
    expect(await exists(filePath())).toBe(false);
    expect(await store.get()).toEqual(CREDS);
    expect(await makeStore(fake).get()).toBeUndefined();
  });

  it('saving after memory-only keys replaces them: get() reads the file', async () => {
    const fake = new FakeSafeStorage();
    const store = makeStore(fake);
    await store.set(OTHER, MEMORY);
    expect(await store.set(CREDS, SECURE)).toMatchObject({ storage: 'encrypted' });
    expect(await store.get()).toEqual(CREDS);
  });

  it('clear() forgets memory and deletes the file', async () => {
    const fake = new FakeSafeStorage();
    const store = makeStore(fake);
    await store.set(CREDS, SECURE);
    const status = await store.clear();
    expect(status).toMatchObject({ stored: false, storage: 'none' });
    expect(await exists(filePath())).toBe(false);
    expect(await store.get()).toBeUndefined();
    await store.set(CREDS, MEMORY);
    await store.clear();
    expect(await store.get()).toBeUndefined();
    expect(await store.clear()).toMatchObject({ stored: false }); // idempotent
  });

  it('operations run in order: a get() right after a set() sees the new keys', async () => {
    const store = makeStore(new FakeSafeStorage());
    const set = store.set(CREDS, SECURE);
    const got = store.get();
    const cleared = store.clear();
    const after = store.get();
    await set;
    expect(await got).toEqual(CREDS);
    await cleared;
    expect(await after).toBeUndefined();
  });
});

describe('SafeStorageSecretStore: failures', () => {
  it('refuses empty keys', async () => {
    const store = makeStore(new FakeSafeStorage());
    await expect(store.set({ keyId: '', secret: 'x' }, SECURE)).rejects.toThrow(
      'API keys need both a key id and a secret.',
    );
  });

  it('an encryption failure rejects and leaves the saved keys as they were', async () => {
    const fake = new FakeSafeStorage();
    const store = makeStore(fake);
    await store.set(OTHER, SECURE);
    const before = await readFile(filePath(), 'utf8');
    fake.encryptThrows = true;
    await expect(store.set(CREDS, SECURE)).rejects.toThrow(/^Could not encrypt the API keys: /);
    expect(await readFile(filePath(), 'utf8')).toBe(before);
    expect(await store.get()).toEqual(OTHER);
  });

  it('a write failure rejects naming the file, and keeps nothing half-done', async () => {
    const fake = new FakeSafeStorage();
    const store = makeStore(fake);
    await mkdir(filePath());
    await writeFile(join(filePath(), 'x'), 'x');
    await expect(store.set(CREDS, SECURE)).rejects.toThrow(
      `Could not save the credentials file ${filePath()}`,
    );
  });

  it('a damaged file: get() gives nothing, the file is kept as a backup, status says so', async () => {
    await writeFile(filePath(), '{"version":1,"stora');
    const store = makeStore(new FakeSafeStorage());
    expect(await store.get()).toBeUndefined();
    const [backup] = await backups();
    expect(backup).toBeDefined();
    expect(await readFile(join(dir, backup as string), 'utf8')).toBe('{"version":1,"stora');
    const status = await store.status();
    expect(status).toMatchObject({ stored: false, storage: 'none' });
    expect(status.detail).toBe(
      `The saved API keys could not be read (it is not valid JSON); the file was kept as ${join(dir, backup as string)}. Please enter your keys again.`,
    );
    // Entering keys again clears the notice.
    expect((await store.set(CREDS, SECURE)).detail).not.toMatch(/could not be read/);
  });

  it('an undecryptable file (the keyring changed): kept as a backup, not deleted, logged without content', async () => {
    const fake = new FakeSafeStorage();
    await makeStore(fake).set(CREDS, SECURE);
    const original = await readFile(filePath(), 'utf8');
    fake.decryptThrows = true;
    const store = makeStore(fake);
    expect(await store.get()).toBeUndefined();
    expect(await exists(filePath())).toBe(false);
    const [backup] = await backups();
    expect(await readFile(join(dir, backup as string), 'utf8')).toBe(original);
    const status = await store.status();
    expect(status.detail).toMatch(
      /^The saved API keys could not be read \(they could not be decrypted; the keyring may have changed\); the file was kept as /,
    );
    const warning = ring
      .records()
      .find((r) => r.msg === 'saved API keys unreadable; kept as a backup');
    expect(warning).toBeDefined();
    expect(JSON.stringify(warning)).not.toContain((JSON.parse(original) as { data: string }).data);
  });

  it('a keyring that is away for now (locked, not started): the file is kept and the next get() reads it', async () => {
    const fake = new FakeSafeStorage();
    await makeStore(fake).set(CREDS, SECURE);
    const original = await readFile(filePath(), 'utf8');
    const store = makeStore(fake);
    // Encryption reads as unavailable while the keyring is away, and decryption rejects.
    fake.available = false;
    fake.decryptThrows = true;
    expect(await store.get()).toBeUndefined();
    expect(await readFile(filePath(), 'utf8')).toBe(original);
    expect(await backups()).toEqual([]);
    expect(
      ring.records().some((r) => r.msg === 'keyring unavailable; saved API keys kept for a retry'),
    ).toBe(true);
    // A rejection that names the cause counts as transient even while availability says yes.
    fake.available = true;
    const decrypt = fake.decryptStringAsync.bind(fake);
    fake.decryptStringAsync = () =>
      Promise.reject(new Error('Decryption failed: the encryption key is temporarily unavailable'));
    expect(await store.get()).toBeUndefined();
    expect(await backups()).toEqual([]);
    // The keyring is back: the same file opens.
    fake.decryptStringAsync = decrypt;
    fake.decryptThrows = false;
    expect(await store.get()).toEqual(CREDS);
  });

  it('decrypted text that is not a key pair is treated as damaged and never quoted', async () => {
    const fake = new FakeSafeStorage();
    const store = makeStore(fake);
    await store.set(CREDS, SECURE);
    fake.decryptTo = `garbage ${SECRET} ${KEY_ID}`;
    const fresh = makeStore(fake);
    expect(await fresh.get()).toBeUndefined();
    expect(await backups()).toHaveLength(1);
    expect((await fresh.status()).detail).toMatch(/decrypted to something that is not a key pair/);
    expect(JSON.stringify(ring.records())).not.toContain(SECRET);
  });

  it('shouldReEncrypt: the keys are written again under the new key', async () => {
    const fake = new FakeSafeStorage();
    await makeStore(fake).set(CREDS, SECURE);
    const before = JSON.parse(await readFile(filePath(), 'utf8')) as { data: string };
    expect(Buffer.from(before.data, 'base64').toString('latin1')).toMatch(/^FAKE1:/);
    fake.generation = 2;
    const store = makeStore(fake);
    expect(await store.get()).toEqual(CREDS);
    const after = JSON.parse(await readFile(filePath(), 'utf8')) as { data: string };
    expect(Buffer.from(after.data, 'base64').toString('latin1')).toMatch(/^FAKE2:/);
    expect(await makeStore(fake).get()).toEqual(CREDS);
    expect(await backups()).toEqual([]);
  });

  it('a failed re-encryption still returns the keys and keeps the old file', async () => {
    const fake = new FakeSafeStorage();
    await makeStore(fake).set(CREDS, SECURE);
    const before = await readFile(filePath(), 'utf8');
    fake.generation = 2;
    fake.encryptThrows = true;
    expect(await makeStore(fake).get()).toEqual(CREDS);
    expect(await readFile(filePath(), 'utf8')).toBe(before);
  });
});

describe('SafeStorageSecretStore: consent to obfuscated storage', () => {
  it('withdrawn: the keys are read, the file deleted, and the keys stay usable until quit', async () => {
    const fake = await obfuscatedOnDisk();
    const store = makeStore(fake);
    await store.setConsent(true);
    expect(await store.get()).toEqual(CREDS);
    const change = await store.setConsent(false);
    expect(change.effect).toBe('kept-in-memory');
    expect(change.status).toEqual({
      stored: true,
      storage: 'memory',
      backend: 'basic_text',
      secure: false,
      detail:
        'Obfuscated storage is no longer allowed, so your API keys were deleted from disk; they are kept in memory until the app quits.',
    });
    expect(await exists(filePath())).toBe(false);
    expect(await store.get()).toEqual(CREDS);
    expect(await store.status()).toEqual(change.status);
    // The next start finds nothing.
    const restarted = makeStore(fake);
    expect((await restarted.setConsent(false)).effect).toBe('none');
    expect(await restarted.get()).toBeUndefined();
  });

  it('withdrawn when the store never had to read the file: it is read for the move all the same', async () => {
    const fake = await obfuscatedOnDisk();
    const store = makeStore(fake);
    await store.setConsent(true);
    expect((await store.setConsent(false)).effect).toBe('kept-in-memory');
    expect(fake.decryptCalls).toBe(1);
    expect(await store.get()).toEqual(CREDS);
  });

  it('withdrawn with a file that cannot be decrypted: deleted (not kept as a backup), status says why', async () => {
    const fake = await obfuscatedOnDisk();
    const store = makeStore(fake);
    await store.setConsent(true);
    fake.decryptThrows = true;
    const change = await store.setConsent(false);
    expect(change.effect).toBe('deleted');
    expect(change.status).toMatchObject({ stored: false, storage: 'none' });
    expect(change.status.detail).toBe(
      'Saved API keys were deleted because obfuscated storage is no longer allowed, and they could not be read to keep them in memory. Please enter your keys again.',
    );
    expect(await exists(filePath())).toBe(false);
    expect(await backups()).toEqual([]);
    expect(await store.get()).toBeUndefined();
  });

  it('absent at start: an obfuscated file is deleted without being read', async () => {
    const fake = await obfuscatedOnDisk();
    const store = makeStore(fake);
    const change = await store.setConsent(false);
    expect(change.effect).toBe('deleted');
    expect(change.status).toMatchObject({ stored: false, storage: 'none', backend: 'basic_text' });
    expect(change.status.detail).toBe(
      'Saved API keys were deleted because they were saved obfuscated (not secure), which settings do not allow. Please enter your keys again.',
    );
    expect(fake.decryptCalls).toBe(0);
    expect(await exists(filePath())).toBe(false);
    expect(await store.get()).toBeUndefined();
    expect(await store.status()).toEqual(change.status);
    // Entering keys again replaces the sentence.
    expect((await store.set(CREDS, SECURE)).detail).not.toMatch(/deleted/);
  });

  it('never told: get() and status() do not use an obfuscated file either', async () => {
    for (const first of ['get', 'status'] as const) {
      const fake = await obfuscatedOnDisk();
      const store = makeStore(fake);
      if (first === 'get') expect(await store.get()).toBeUndefined();
      const status = await store.status();
      expect(status).toMatchObject({ stored: false, storage: 'none' });
      expect(status.detail).toMatch(
        /^Saved API keys were deleted because they were saved obfuscated/,
      );
      expect(fake.decryptCalls).toBe(0);
      expect(await exists(filePath())).toBe(false);
    }
  });

  it('an encrypted file is not affected by consent either way', async () => {
    const fake = new FakeSafeStorage();
    const store = makeStore(fake);
    await store.set(CREDS, SECURE);
    const before = await readFile(filePath(), 'utf8');
    expect(await store.setConsent(true)).toMatchObject({
      effect: 'none',
      status: { storage: 'encrypted' },
    });
    expect(await store.setConsent(false)).toMatchObject({
      effect: 'none',
      status: { storage: 'encrypted' },
    });
    const restarted = makeStore(fake);
    expect((await restarted.setConsent(false)).effect).toBe('none');
    expect(await restarted.get()).toEqual(CREDS);
    expect(await readFile(filePath(), 'utf8')).toBe(before);
  });

  it('given: keys kept in memory for want of a keyring are saved obfuscated at once', async () => {
    const fake = new FakeSafeStorage();
    fake.backend = 'basic_text';
    const store = makeStore(fake);
    await store.setConsent(false);
    expect(await store.set(CREDS, SECURE)).toMatchObject({ storage: 'memory' });
    expect(await exists(filePath())).toBe(false);
    const change = await store.setConsent(true);
    expect(change.effect).toBe('saved');
    expect(change.status).toMatchObject({ stored: true, storage: 'obfuscated', secure: false });
    expect((await envelope()).storage).toBe('obfuscated');
    const restarted = makeStore(fake);
    await restarted.setConsent(true);
    expect(await restarted.get()).toEqual(CREDS);
  });

  it('given again after a withdrawal: the keys go back to disk', async () => {
    const fake = await obfuscatedOnDisk();
    const store = makeStore(fake);
    await store.setConsent(true);
    await store.setConsent(false);
    expect(await exists(filePath())).toBe(false);
    expect((await store.setConsent(true)).effect).toBe('saved');
    expect((await envelope()).storage).toBe('obfuscated');
    expect(await store.get()).toEqual(CREDS);
  });

  it('given: keys the user asked to keep in memory stay there', async () => {
    const fake = new FakeSafeStorage();
    fake.backend = 'basic_text';
    const store = makeStore(fake);
    await store.set(CREDS, MEMORY);
    const change = await store.setConsent(true);
    expect(change.effect).toBe('none');
    expect(change.status.detail).toMatch(/in memory only, as you asked/);
    expect(await exists(filePath())).toBe(false);
  });

  it('given, but saving fails: the promise rejects and the keys stay in memory', async () => {
    const fake = new FakeSafeStorage();
    fake.backend = 'basic_text';
    const store = makeStore(fake);
    await store.set(CREDS, SECURE);
    fake.encryptThrows = true;
    await expect(store.setConsent(true)).rejects.toThrow(/^Could not encrypt the API keys: /);
    expect(await store.get()).toEqual(CREDS);
    expect(await store.status()).toMatchObject({ storage: 'memory' });
    expect(await exists(filePath())).toBe(false);
    // Consent was recorded: the next set() saves obfuscated.
    fake.encryptThrows = false;
    expect(await store.set(CREDS, SECURE)).toMatchObject({ storage: 'obfuscated' });
  });

  it('re-encryption never turns an encrypted file obfuscated without consent', async () => {
    const fake = new FakeSafeStorage();
    await makeStore(fake).set(CREDS, SECURE);
    expect(await envelope()).toEqual({ storage: 'encrypted', prefix: 'FAKE1:' });
    // The keyring went away and safeStorage asks for a re-encryption.
    fake.backend = 'basic_text';
    fake.generation = 2;
    const store = makeStore(fake);
    await store.setConsent(false);
    expect(await store.get()).toEqual(CREDS);
    expect(await envelope()).toEqual({ storage: 'encrypted', prefix: 'FAKE1:' });
    expect(ring.records().some((r) => String(r.msg).startsWith('API keys not re-encrypted'))).toBe(
      true,
    );
    // With consent it is written again, and says what it is.
    const consenting = makeStore(fake);
    await consenting.setConsent(true);
    expect(await consenting.get()).toEqual(CREDS);
    expect(await envelope()).toEqual({ storage: 'obfuscated', prefix: 'FAKE2:' });
  });

  it('set() follows the latest consent', async () => {
    const fake = new FakeSafeStorage();
    fake.backend = 'unknown';
    const store = makeStore(fake);
    await store.setConsent(true);
    await store.setConsent(false);
    expect(await store.set(CREDS, SECURE)).toMatchObject({ storage: 'memory' });
    expect(await exists(filePath())).toBe(false);
  });
});

describe('SafeStorageSecretStore: clear() and backups', () => {
  it('deletes the backups of unreadable key files, and only those; the status says how many', async () => {
    const fake = await obfuscatedOnDisk();
    const store = makeStore(fake);
    await store.setConsent(true);
    fake.decryptThrows = true;
    expect(await store.get()).toBeUndefined(); // moved aside as a backup
    fake.decryptThrows = false;
    await writeFile(filePath(), 'not json');
    expect(await store.get()).toBeUndefined(); // a second backup
    expect(await backups()).toHaveLength(2);
    await writeFile(join(dir, 'settings.corrupt-2024-01-01.json'), '{}');
    await writeFile(join(dir, 'credentials.json.bak'), 'kept');
    await mkdir(join(dir, 'credentials.corrupt-folder.json'));
    await store.set(CREDS, SECURE);

    const status = await store.clear();
    expect(status).toMatchObject({ stored: false, storage: 'none' });
    expect(status.detail).toBe(
      'No API keys saved. 2 backups of earlier unreadable key files deleted as well. ' +
        'This desktop has no secure keyring (basic_text): keys you enter are kept in memory until ' +
        'the app quits, unless you allow obfuscated (not secure) storage in settings.',
    );
    expect((await readdir(dir)).sort()).toEqual([
      'credentials.corrupt-folder.json',
      'credentials.json.bak',
      'settings.corrupt-2024-01-01.json',
    ]);
    const record = ring.records().find((r) => r.msg === 'API keys cleared');
    const deleted = (record as { backupsDeleted?: string[] } | undefined)?.backupsDeleted;
    expect(deleted).toHaveLength(2);
    expect(deleted?.every((p) => p.startsWith(join(dir, 'credentials.corrupt-')))).toBe(true);
    expect(fragmentsIn(JSON.stringify(ring.records()), SECRET)).toEqual([]);
    // The sentence lasts until keys are entered again.
    expect((await store.set(CREDS, MEMORY)).detail).not.toMatch(/backups/);
  });

  it('with no backups: the plain sentence', async () => {
    const store = makeStore(new FakeSafeStorage());
    await store.set(CREDS, SECURE);
    expect((await store.clear()).detail).toBe(
      'No API keys saved. Keys you enter will be saved encrypted by the desktop keyring (libsecret).',
    );
  });
});

describe('SafeStorageSecretStore: the keys never leak', () => {
  it('appear in no log record, error message or status on any path', async () => {
    const statuses: CredentialStatus[] = [];
    const errors: string[] = [];
    const capture = async (p: Promise<unknown>) => {
      try {
        const v = await p;
        if (v && typeof v === 'object' && 'detail' in v) statuses.push(v as CredentialStatus);
        if (v && typeof v === 'object' && 'status' in v)
          statuses.push((v as { status: CredentialStatus }).status);
      } catch (err) {
        errors.push(String(err), JSON.stringify(err), (err as Error).stack ?? '');
        const cause = (err as Error).cause;
        if (cause instanceof Error) errors.push(cause.message, cause.stack ?? '');
      }
    };

    for (const backend of ['gnome_libsecret', 'basic_text', 'unknown']) {
      for (const allowInsecure of [false, true]) {
        for (const memoryOnly of [false, true]) {
          const fake = new FakeSafeStorage();
          fake.backend = backend;
          /** A restart: a new store told the same consent. */
          const restart = async () => {
            const fresh = makeStore(fake);
            await capture(fresh.setConsent(allowInsecure));
            return fresh;
          };
          const store = await restart();
          await capture(store.status());
          await capture(store.set(CREDS, { memoryOnly }));
          await capture(store.status());
          await capture(store.get());
          fake.generation++;
          await capture((await restart()).get()); // re-encrypt path
          fake.decryptTo = `{"keyId":"${KEY_ID}","secret":"${SECRET}"`; // truncated JSON
          await capture((await restart()).get());
          await capture(store.set(CREDS, { memoryOnly }));
          fake.decryptTo = `${KEY_ID} ${SECRET}`; // not JSON at all: V8's message would quote it
          await capture((await restart()).get());
          fake.decryptTo = undefined;
          await capture(store.set(CREDS, { memoryOnly }));
          fake.decryptThrows = true;
          const broken = await restart();
          await capture(broken.get());
          await capture(broken.status());
          fake.decryptThrows = false;
          fake.encryptThrows = true;
          await capture(store.setConsent(true));
          await capture(store.set(CREDS, SECURE));
          fake.encryptThrows = false;
          // Consent withdrawn, given, and absent at a restart, with keys on disk each time.
          await capture(store.set(CREDS, SECURE));
          await capture(store.setConsent(false));
          await capture(store.status());
          await capture(store.setConsent(true));
          await capture(store.status());
          await capture(makeStore(fake).setConsent(false));
          await capture(store.setConsent(allowInsecure));
          await writeFile(
            filePath(),
            `{"version":1,"storage":"encrypted","backend":"x","data":"${SECRET}"}`,
          );
          const damaged = await restart();
          await capture(damaged.get());
          await capture(damaged.status());
          await capture(store.clear());
          await capture(store.status());
        }
      }
    }
    const unavailable = new FakeSafeStorage();
    unavailable.available = false;
    const u = makeStore(unavailable);
    await capture(u.setConsent(true));
    await capture(u.set(CREDS, SECURE));
    await capture(u.status());
    await capture(u.set({ keyId: KEY_ID, secret: '' }, SECURE));

    // The test must have seen each kind of output to mean anything.
    expect(statuses.length).toBeGreaterThan(50);
    expect(errors.length).toBeGreaterThan(0);
    expect(ring.records().some((r) => r.level >= 40)).toBe(true);
    expect(ring.records().some((r) => r.msg === 'API keys saved')).toBe(true);

    const everything = JSON.stringify({ statuses, errors, log: ring.records() });
    // Any 8 characters in a row: V8's JSON errors quote only the first 10 of the text.
    expect(fragmentsIn(everything, SECRET)).toEqual([]);
    expect(fragmentsIn(everything, KEY_ID)).toEqual([]);
  });
});

describe('MemorySecretStore', () => {
  it('holds keys in memory and says so', async () => {
    const store = new MemorySecretStore();
    expect(await store.status()).toMatchObject({
      stored: false,
      storage: 'none',
      backend: 'memory',
      secure: false,
    });
    expect(await store.get()).toBeUndefined();
    expect((await store.setConsent(true)).effect).toBe('none');
    const status = await store.set(CREDS, SECURE);
    expect(status).toMatchObject({
      stored: true,
      storage: 'memory',
      backend: 'memory',
      secure: false,
    });
    expect(status.detail).toMatch(/in memory only/);
    expect(await store.get()).toEqual(CREDS);
    expect(await store.clear()).toMatchObject({ stored: false, storage: 'none' });
    expect(await store.get()).toBeUndefined();
  });

  it('keys from the environment: status says where they came from, until replaced', async () => {
    const store = new MemorySecretStore({ initial: CREDS });
    expect(await store.get()).toEqual(CREDS);
    const status = await store.status();
    expect(status).toMatchObject({ stored: true, storage: 'memory' });
    expect(status.detail).toMatch(/came from environment variables/);
    expect((await store.set(OTHER, SECURE)).detail).not.toMatch(/environment/);
    expect(await store.get()).toEqual(OTHER);
    const serialized = JSON.stringify([status, await store.status()]);
    expect(serialized).not.toContain(SECRET);
  });

  it('hands out copies: changing what get() returned changes nothing', async () => {
    const initial = { ...CREDS };
    const store = new MemorySecretStore({ initial });
    initial.secret = 'changed';
    const got = (await store.get()) as { keyId: string; secret: string };
    got.keyId = 'changed';
    expect(await store.get()).toEqual(CREDS);
  });
});
