/**
 * Consent to obfuscated key storage through the real MonitorCore, the real SafeStorageSecretStore
 * and real files: on a Linux desktop without a keyring (safeStorage's basic_text backend) keys are
 * written to disk only while settings.allowInsecureCredentialStorage says so. Withdrawing it takes
 * them off the disk (usable from memory until quit), a start without it deletes an obfuscated file
 * unread, giving it saves keys that waited in memory, and credentials:clear deletes backups too.
 * Only Electron's safeStorage is faked: it cannot be had outside Electron.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCoreLogger } from '../../../electron/core/logging.ts';
import { NO_CREDENTIALS_REASON } from '../../../electron/core/monitor-core.ts';
import { SafeStorageSecretStore, type SafeStorageLike } from '../../../electron/secrets.ts';
import { startSimulator, type Simulator } from '../../../electron/simulator/index.ts';
import type { Settings } from '../../../shared/api.ts';
import { waitFor } from '../../support/wait.ts';
import { cleanups, runCleanups, setup, tempDir, value, type Recorder } from './harness.ts';

afterEach(runCleanups);

const KEY_ID = 'PKCONSENTKEYIDxq7Wm2Rz';
const SECRET = 'consent-secret-Vb9Lq2Xw8Hn4Jt6';
const KEYS = { keyId: KEY_ID, secret: SECRET };
const ALPACA = { kind: 'alpaca', feed: 'iex', codec: 'json' } as const;

/** safeStorage on a desktop without a keyring: available, backend basic_text, a public key. */
class BasicTextSafeStorage implements SafeStorageLike {
  decryptCalls = 0;
  isAsyncEncryptionAvailable(): Promise<boolean> {
    return Promise.resolve(true);
  }
  encryptStringAsync(plainText: string): Promise<Buffer> {
    return Promise.resolve(Buffer.from(`v10${Buffer.from(plainText).toString('hex')}`));
  }
  decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }> {
    this.decryptCalls++;
    const text = encrypted.toString();
    if (!text.startsWith('v10')) return Promise.reject(new Error('not basic_text ciphertext'));
    return Promise.resolve({
      result: Buffer.from(text.slice(3), 'hex').toString(),
      shouldReEncrypt: false,
    });
  }
  getSelectedStorageBackend(): string {
    return 'basic_text';
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** What anyone who can read the file recovers from it (basic_text's key is public). */
async function recover(path: string): Promise<string> {
  const file = JSON.parse(await readFile(path, 'utf8')) as { data: string };
  return Buffer.from(Buffer.from(file.data, 'base64').toString().slice(3), 'hex').toString();
}

async function keyedSimulator(): Promise<Simulator> {
  const sim = await startSimulator({ rate: 200, symbols: 20, key: KEY_ID, secret: SECRET });
  cleanups.push(() => sim.close());
  return sim;
}

/** A start of the app on `dir`: a new store over the same file, a new core. */
async function start(
  dir: string,
  sim: Simulator,
  options: { settings?: Partial<Settings>; writeFiles?: boolean; fake?: BasicTextSafeStorage } = {},
) {
  const fake = options.fake ?? new BasicTextSafeStorage();
  const filePath = join(dir, 'credentials.json');
  // One logger for the core and the store, so the no-leak checks see the store's records too.
  const { logger, ring } = createCoreLogger({ level: 'debug' });
  const setUp = await setup({
    dir,
    writeFiles: options.writeFiles ?? true,
    settings: { autoConnect: true, source: ALPACA, ...options.settings },
    core: {
      secrets: new SafeStorageSecretStore({
        safeStorage: fake,
        filePath,
        platform: 'linux',
        logger,
      }),
      logger,
      logRing: ring,
      alpacaUrl: (feed) => sim.urlFor(feed),
    },
  });
  return { ...setUp, ring, fake, filePath };
}

function connection(sink: Recorder) {
  return sink.last('connection:state');
}

async function live(sink: Recorder, sim: Simulator, authOk: number): Promise<void> {
  await waitFor(() => connection(sink)?.state === 'live' && sim.stats().authOk === authOk, {
    what: `live with ${authOk} accepted logins (now ${connection(sink)?.state ?? 'none'}, ${sim.stats().authOk})`,
  });
}

/** Any 8 characters in a row of `secret` found in `text`. */
function fragmentsIn(text: string, secret: string): string[] {
  const found: string[] = [];
  for (let i = 0; i + 8 <= secret.length; i++) {
    if (text.includes(secret.slice(i, i + 8))) found.push(secret.slice(i, i + 8));
  }
  return found;
}

describe('consent to obfuscated key storage (basic_text backend)', () => {
  it('withdrawn: the file is deleted, the keys work until quit, the next start has none', async () => {
    const dir = await tempDir();
    const sim = await keyedSimulator();
    const first = await start(dir, sim);
    const { view, sink, filePath } = first;
    const results: unknown[] = [];
    const run = async (command: string, payload: unknown) => {
      const result = await view.invoke(command, payload);
      results.push(result);
      return result;
    };

    // Opt in and save keys: obfuscated on disk, which anyone can read back.
    await run('settings:update', { allowInsecureCredentialStorage: true });
    await run('credentials:set', KEYS);
    expect((await value(view, 'credentials:status', {})).storage).toBe('obfuscated');
    expect(await recover(filePath)).toContain(SECRET);
    expect(sink.last('notices:update')?.map((n) => n.id)).toContain('insecure-credentials');
    await live(sink, sim, 1);

    // Opt out: off the disk at once, and the user is told where the keys are now.
    const updates = sink.of('credentials:update').length;
    const off = await value(view, 'settings:update', { allowInsecureCredentialStorage: false });
    expect(off.allowInsecureCredentialStorage).toBe(false);
    expect(await exists(filePath)).toBe(false);
    expect((await readdir(dir)).filter((n) => n.startsWith('credentials'))).toEqual([]);
    expect(sink.of('credentials:update').length).toBe(updates + 1);
    const status = await value(view, 'credentials:status', {});
    expect(status).toMatchObject({ stored: true, storage: 'memory', backend: 'basic_text' });
    expect(sink.last('credentials:update')).toEqual(status);
    const notices = sink.last('notices:update') ?? [];
    expect(notices.map((n) => n.id)).not.toContain('insecure-credentials');
    expect(notices.find((n) => n.id === 'credentials-consent')).toMatchObject({
      level: 'info',
      message: expect.stringContaining('kept in memory until the app quits') as unknown,
    });

    // Still usable: a new client reads them from memory and logs in again.
    await run('source:set', { source: { kind: 'simulator', codec: 'json' } });
    await run('source:set', { source: ALPACA });
    await live(sink, sim, 2);

    // Changing another setting leaves the keys alone.
    const before = sink.of('credentials:update').length;
    await run('settings:update', { theme: 'light' });
    expect(sink.of('credentials:update').length).toBe(before);

    const everything = JSON.stringify({ events: sink.events, results, log: first.ring.records() });
    expect(everything).toContain('obfuscated'); // the capture holds the statuses
    expect(everything).toContain('consent to obfuscated storage withdrawn'); // and the store's log
    expect(fragmentsIn(everything, SECRET)).toEqual([]);
    expect(fragmentsIn(everything, KEY_ID)).toEqual([]);
    await first.core.close();

    // The next start finds no keys.
    const second = await start(dir, sim, { writeFiles: false });
    const snap = await value(second.view, 'diagnostics:snapshot', {});
    expect(snap.settings.allowInsecureCredentialStorage).toBe(false);
    expect(snap.credentials).toMatchObject({ stored: false, storage: 'none' });
    expect(snap.connection.reason).toBe(NO_CREDENTIALS_REASON);
  });

  it('absent at start: an obfuscated file is deleted unread and the user is told', async () => {
    const dir = await tempDir();
    const sim = await keyedSimulator();
    // Keys saved obfuscated earlier (an older version, or a settings file reset since).
    const earlier = new SafeStorageSecretStore({
      safeStorage: new BasicTextSafeStorage(),
      filePath: join(dir, 'credentials.json'),
      platform: 'linux',
    });
    await earlier.setConsent(true);
    expect(await earlier.set(KEYS, { memoryOnly: false })).toMatchObject({ storage: 'obfuscated' });

    const { view, fake, filePath, ring } = await start(dir, sim, {
      settings: { allowInsecureCredentialStorage: false },
    });
    expect(fake.decryptCalls).toBe(0);
    expect(await exists(filePath)).toBe(false);
    const snap = await value(view, 'diagnostics:snapshot', {});
    expect(snap.credentials).toMatchObject({ stored: false, storage: 'none' });
    expect(snap.credentials.detail).toMatch(/^Saved API keys were deleted because/);
    expect(snap.notices.find((n) => n.id === 'credentials-consent')).toMatchObject({
      level: 'warning',
      message: expect.stringContaining('obfuscated (not secure) storage is not allowed') as unknown,
    });
    expect(snap.connection.reason).toBe(NO_CREDENTIALS_REASON);
    expect(sim.stats().connectionsAccepted).toBe(0);

    // Entering keys again takes the notice away.
    await value(view, 'credentials:set', KEYS);
    const after = await value(view, 'diagnostics:snapshot', {});
    expect(after.notices.map((n) => n.id)).not.toContain('credentials-consent');
    expect(after.credentials.storage).toBe('memory');
    expect(fragmentsIn(JSON.stringify(ring.records()), SECRET)).toEqual([]);
  });

  it('given while keys are in memory: they are saved now and used at the next start', async () => {
    const dir = await tempDir();
    const sim = await keyedSimulator();
    const first = await start(dir, sim);
    await value(first.view, 'credentials:set', KEYS);
    expect((await value(first.view, 'credentials:status', {})).storage).toBe('memory');
    expect(await exists(first.filePath)).toBe(false);

    await value(first.view, 'settings:update', { allowInsecureCredentialStorage: true });
    expect(first.sink.last('credentials:update')?.storage).toBe('obfuscated');
    expect(await recover(first.filePath)).toContain(SECRET);
    expect(first.sink.last('notices:update')?.map((n) => n.id)).toContain('insecure-credentials');
    await first.core.close();

    const second = await start(dir, sim, { writeFiles: false });
    await live(second.sink, sim, 2);
    const snap = await value(second.view, 'diagnostics:snapshot', {});
    expect(snap.credentials.storage).toBe('obfuscated');
    expect(snap.notices.map((n) => n.id)).toContain('insecure-credentials');
  });

  it('credentials:clear deletes the backups of unreadable key files too', async () => {
    const dir = await tempDir();
    const sim = await keyedSimulator();
    const { view, filePath } = await start(dir, sim, {
      settings: { allowInsecureCredentialStorage: true },
    });
    await value(view, 'credentials:set', KEYS);
    const keyFile = await readFile(filePath, 'utf8');
    // Two backups as the store leaves them, one holding the recoverable keys.
    const kept = join(dir, 'credentials.corrupt-2025-01-02T03-04-05-678Z.json');
    await writeFile(kept, keyFile);
    await writeFile(join(dir, 'credentials.corrupt-2025-01-02T03-04-05-678Z-2.json'), '{"ver');
    expect(await recover(kept)).toContain(SECRET);

    const status = await value(view, 'credentials:clear', {});
    expect(status).toMatchObject({ stored: false, storage: 'none' });
    expect(status.detail).toContain('2 backups of earlier unreadable key files deleted as well');
    expect((await readdir(dir)).filter((n) => n.startsWith('credentials'))).toEqual([]);
  });
});
