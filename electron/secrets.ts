/**
 * API keys at rest, through Electron's safeStorage: the OS keychain on macOS, DPAPI on Windows,
 * libsecret or KWallet on a Linux desktop. Only the async API is used (the sync one is
 * deprecated in Electron 45, and the async encryptor initializes lazily without blocking main).
 *
 * safeStorage is injected rather than imported, so this file loads without the electron binary
 * and the tests drive it with a fake; main.ts passes `safeStorage` from 'electron'.
 *
 * Where the keys go:
 * - the user asked for this session only            -> memory, and any saved keys are deleted
 * - a secure backend                                 -> encrypted file (0600), storage 'encrypted'
 * - Linux without a keyring (basic_text / unknown)   -> memory, unless the user allowed obfuscated
 *   storage in settings: then the same file, storage 'obfuscated', and status says it is not secure
 * - no encryption at all                             -> memory
 * New keys always replace old ones: keys kept in memory delete the saved file, so that keys the
 * user replaced do not come back after a restart.
 *
 * Consent to obfuscated storage (settings.allowInsecureCredentialStorage) is the store's own state,
 * given by setConsent() at start and on every change, and assumed absent until then. It holds
 * only while it lasts: an obfuscated file is never read, re-written or reported as stored without
 * it.
 * - Withdrawn (true -> false) while keys are saved obfuscated: they are read, the file is deleted,
 *   and they stay usable from memory until the app quits.
 * - Absent at start (or found absent by get()/status()) with an obfuscated file on disk: the file
 *   is deleted unread, and status() says why the keys are gone.
 * - Given (false -> true) while keys are in memory only for want of a keyring: they are saved
 *   obfuscated right away. The memory status told the user that allowing obfuscated storage keeps
 *   them across restarts, so that is what turning it on does; keys the user asked to keep in
 *   memory ('memoryOnly') stay there.
 *
 * A saved file that cannot be read or decrypted (a keyring that changed, a damaged file) is moved
 * aside as a backup, never deleted silently, and status() tells the user to enter the keys again.
 * A keyring that is only away for now (locked, not started yet) is not damage: the file stays and
 * the next get() tries again.
 * clear() deletes those backups too: an obfuscated one is as readable as the keys themselves.
 *
 * The key id and the secret appear in no log record, no error message and no status: only get()
 * returns them. Hence no zod or JSON.parse message about the decrypted text is ever passed on
 * (V8's JSON errors quote the text they failed on).
 */
import { lstat, readdir, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { z } from 'zod';
import type { CredentialStatus } from '../shared/api.ts';
import { JsonFileStore, keepAsBackup } from './core/json-store.ts';
import type { ConsentChange, SecretStore, StoredCredentials } from './core/types.ts';
import { silentLogger, type Logger } from './stream/log.ts';
import { errorMessage } from '../shared/errors.ts';

/** The part of Electron's `safeStorage` this store uses (structurally, the real object fits). */
export interface SafeStorageLike {
  isAsyncEncryptionAvailable(): Promise<boolean>;
  encryptStringAsync(plainText: string): Promise<Buffer>;
  decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }>;
  /** Linux only: 'basic_text' | 'gnome_libsecret' | 'kwallet' | 'kwallet5' | 'kwallet6' | 'unknown'. */
  getSelectedStorageBackend?(): string;
}

export interface SafeStorageSecretStoreOptions {
  readonly safeStorage: SafeStorageLike;
  /** The encrypted file, e.g. `<userData>/credentials.json`. */
  readonly filePath: string;
  readonly platform: NodeJS.Platform;
  readonly logger?: Logger;
}

/** Linux backends that protect nothing: a hard-coded password, or none chosen yet. */
const INSECURE_BACKENDS: ReadonlySet<string> = new Set(['basic_text', 'unknown']);

const credentialsFileSchema = z.strictObject({
  version: z.literal(1),
  storage: z.enum(['encrypted', 'obfuscated']),
  backend: z.string().min(1).max(64),
  /** safeStorage's ciphertext, base64. */
  data: z.base64().min(1),
});
type CredentialsFile = z.infer<typeof credentialsFileSchema>;

const plaintextSchema = z.strictObject({
  keyId: z.string().min(1),
  secret: z.string().min(1),
});

interface Security {
  readonly backend: string;
  readonly available: boolean;
  readonly secure: boolean;
}

/** Why keys are held in memory: each gets its own sentence. */
type MemoryReason = 'chosen' | 'no-keyring' | 'unavailable' | 'withdrawn';

/** A saved file opened: the keys, or why not (a clause that never quotes the decrypted text). */
type Opened =
  | {
      readonly ok: true;
      readonly credentials: StoredCredentials;
      readonly shouldReEncrypt: boolean;
    }
  | {
      readonly ok: false;
      readonly reason: string;
      readonly cause?: unknown;
      /** The keyring could not be reached just now: the file is fine, try again later. */
      readonly transient?: boolean;
    };

export class SafeStorageSecretStore implements SecretStore {
  readonly #safeStorage: SafeStorageLike;
  readonly #platform: NodeJS.Platform;
  readonly #log: Logger;
  readonly #file: JsonFileStore<CredentialsFile | null>;
  #memory: { readonly credentials: StoredCredentials; readonly reason: MemoryReason } | undefined;
  /** A sentence about saved keys that could not be read or were deleted; cleared by set() and clear(). */
  #problem: string | undefined;
  /** A sentence added to the "nothing stored" status after clear() deleted backups; cleared by set(). */
  #note: string | undefined;
  /** Whether the user allows obfuscated storage; none until setConsent() says otherwise. */
  #consent = false;
  /** Operations run one at a time: a get() never reads a file a set() is halfway through. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: SafeStorageSecretStoreOptions) {
    this.#safeStorage = options.safeStorage;
    this.#platform = options.platform;
    this.#log = (options.logger ?? silentLogger()).child({ module: 'secrets' });
    this.#file = new JsonFileStore<CredentialsFile | null>({
      path: options.filePath,
      schema: credentialsFileSchema.nullable(),
      defaults: () => null,
      logger: options.logger ?? silentLogger(),
      label: 'credentials',
      mode: 0o600,
    });
  }

  status(): Promise<CredentialStatus> {
    return this.#serial(async () =>
      this.#status(await this.#security(), this.#memory ? null : await this.#usable()),
    );
  }

  /** Saves obfuscated on an insecure backend only with consent (see setConsent). */
  set(
    credentials: StoredCredentials,
    options: { readonly memoryOnly: boolean },
  ): Promise<CredentialStatus> {
    return this.#serial(async () => {
      const { keyId, secret } = credentials;
      if (typeof keyId !== 'string' || typeof secret !== 'string' || !keyId || !secret)
        throw new Error('API keys need both a key id and a secret.');
      const copy: StoredCredentials = { keyId, secret };
      const security = await this.#security();
      const reason: MemoryReason | undefined = options.memoryOnly
        ? 'chosen'
        : !security.available
          ? 'unavailable'
          : !security.secure && !this.#consent
            ? 'no-keyring'
            : undefined;
      if (reason) {
        // Delete first: if that fails nothing has changed, and the error says why.
        await this.#file.remove();
        this.#memory = { credentials: copy, reason };
        this.#problem = undefined;
        this.#note = undefined;
        this.#log.info(
          { storage: 'memory', reason, backend: security.backend },
          'API keys kept in memory',
        );
        return this.#status(security, null);
      }
      const file = await this.#encrypt(copy, security);
      await this.#file.save(file);
      this.#memory = undefined;
      this.#problem = undefined;
      this.#note = undefined;
      this.#log.info({ storage: file.storage, backend: security.backend }, 'API keys saved');
      return this.#status(security, file);
    });
  }

  get(): Promise<StoredCredentials | undefined> {
    return this.#serial(async () => {
      if (this.#memory) return { ...this.#memory.credentials };
      const file = await this.#usable();
      if (!file) return undefined;
      const opened = await this.#open(file);
      if (!opened.ok && opened.transient) {
        // Not damage: the file stays where it is and the next get() tries it again.
        this.#problem = `The saved API keys could not be read just now (${opened.reason}); they are kept and will be tried again. Unlock your keyring, then reconnect.`;
        this.#log.warn(
          { err: opened.cause },
          'keyring unavailable; saved API keys kept for a retry',
        );
        return undefined;
      }
      if (!opened.ok) {
        await this.#unreadable(opened.reason, opened.cause);
        return undefined;
      }
      this.#problem = undefined;
      if (opened.shouldReEncrypt) await this.#reEncrypt(opened.credentials);
      return opened.credentials;
    });
  }

  /**
   * Forgets the keys and deletes the file, then the backups of earlier unreadable files
   * (`<base>.corrupt-*.json`): one of an obfuscated file holds keys anyone can recover. A backup
   * that cannot be deleted does not fail the call; the status names it so the user can.
   */
  clear(): Promise<CredentialStatus> {
    return this.#serial(async () => {
      this.#memory = undefined;
      this.#problem = undefined;
      this.#note = undefined;
      await this.#file.remove();
      const { removed, failed } = await this.#removeBackups();
      this.#log.info(
        { backupsDeleted: removed, backupsLeft: failed.map((f) => f.path) },
        'API keys cleared',
      );
      if (removed.length > 0)
        this.#note = `${count(removed.length, 'backup')} of earlier unreadable key files deleted as well.`;
      if (failed.length > 0) {
        const list = failed.map((f) => `${f.path} (${f.reason})`).join(', ');
        this.#problem = `API keys cleared, but ${count(failed.length, 'backup')} of earlier unreadable key files could not be deleted: ${list}. Please delete ${failed.length === 1 ? 'it' : 'them'} yourself.`;
      }
      return this.#status(await this.#security(), null);
    });
  }

  /**
   * Withdrawn while keys are saved obfuscated: they move to memory (until the app quits) and the
   * file is deleted; if the file cannot be opened it is deleted all the same. No consent on record
   * before (the start): an obfuscated file is deleted unread. Given while keys wait in memory for
   * want of a keyring: they are saved now. See ConsentEffect.
   */
  setConsent(allowInsecure: boolean): Promise<ConsentChange> {
    return this.#serial(async (): Promise<ConsentChange> => {
      const withdrawn = this.#consent && !allowInsecure;
      this.#consent = allowInsecure;
      const security = await this.#security();
      if (allowInsecure) return this.#consentGiven(security);
      if (this.#memory) return { status: this.#status(security, null), effect: 'none' };
      const file = await this.#peek();
      if (file?.storage !== 'obfuscated')
        return { status: this.#status(security, file), effect: 'none' };
      const opened = withdrawn ? await this.#open(file) : undefined;
      if (!opened?.ok) {
        await this.#discardUnconsented(opened ? 'withdrawn-unreadable' : 'found');
        return { status: this.#status(security, null), effect: 'deleted' };
      }
      try {
        await this.#file.remove();
      } catch (err) {
        // JsonFileStore's message names the file.
        this.#problem = `Obfuscated storage is no longer allowed, but the saved API keys could not be deleted (${errorMessage(err)}); they are no longer used. Please delete the file yourself and enter your keys again.`;
        throw new Error(`${errorMessage(err)}. Please delete it yourself.`, { cause: err });
      }
      this.#memory = { credentials: opened.credentials, reason: 'withdrawn' };
      this.#problem = undefined;
      this.#log.info(
        { storage: 'memory', reason: 'withdrawn', backend: security.backend },
        'consent to obfuscated storage withdrawn: API keys deleted from disk, kept in memory',
      );
      return { status: this.#status(security, null), effect: 'kept-in-memory' };
    });
  }

  // ---------------------------------------------------------------------------- internals

  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(operation, operation);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #security(): Promise<Security> {
    let available = false;
    try {
      available = await this.#safeStorage.isAsyncEncryptionAvailable();
    } catch (err) {
      this.#log.warn({ err }, 'safeStorage could not say whether encryption is available');
    }
    const backend = this.#backend();
    const checksBackend = this.#platform !== 'darwin' && this.#platform !== 'win32';
    const secure = available && !(checksBackend && INSECURE_BACKENDS.has(backend));
    return { backend, available, secure };
  }

  #backend(): string {
    if (this.#platform === 'darwin') return 'keychain';
    if (this.#platform === 'win32') return 'dpapi';
    try {
      return this.#safeStorage.getSelectedStorageBackend?.() ?? 'unknown';
    } catch (err) {
      this.#log.warn({ err }, 'safeStorage could not name its backend');
      return 'unknown';
    }
  }

  /** Consent given: keys in memory only because it was missing are saved now. */
  async #consentGiven(security: Security): Promise<ConsentChange> {
    const memory = this.#memory;
    const waiting = memory?.reason === 'no-keyring' || memory?.reason === 'withdrawn';
    if (!memory || !waiting || !security.available)
      return { status: this.#status(security, memory ? null : await this.#peek()), effect: 'none' };
    // Rejects on failure with the keys still in memory: nothing is lost.
    const file = await this.#encrypt(memory.credentials, security);
    await this.#file.save(file);
    this.#memory = undefined;
    this.#problem = undefined;
    this.#note = undefined;
    this.#log.info(
      { storage: file.storage, backend: security.backend },
      'consent to obfuscated storage given: API keys saved',
    );
    return { status: this.#status(security, file), effect: 'saved' };
  }

  /** The saved envelope, if this store may use it: an obfuscated one needs consent. */
  async #usable(): Promise<CredentialsFile | null> {
    const file = await this.#peek();
    if (file?.storage !== 'obfuscated' || this.#consent) return file;
    // The problem sentence says what happened, also when the delete failed.
    await this.#discardUnconsented('found').catch(() => undefined);
    return null;
  }

  /**
   * Deletes an obfuscated file that consent does not cover, without reading it, and remembers a
   * sentence for status(). Rejects when the delete fails (the file is not used either way).
   */
  async #discardUnconsented(why: 'found' | 'withdrawn-unreadable'): Promise<void> {
    const because =
      why === 'found'
        ? 'they were saved obfuscated (not secure), which settings do not allow'
        : 'obfuscated storage is no longer allowed, and they could not be read to keep them in memory';
    try {
      await this.#file.remove();
    } catch (err) {
      // JsonFileStore's message names the file.
      this.#problem = `Saved API keys are not used because ${because}, and the file could not be deleted (${errorMessage(err)}). Please delete it yourself and enter your keys again.`;
      this.#log.error({ err, why }, 'obfuscated API keys without consent could not be deleted');
      throw new Error(`${errorMessage(err)}. Please delete it yourself.`, { cause: err });
    }
    this.#problem = `Saved API keys were deleted because ${because}. Please enter your keys again.`;
    this.#log.warn({ why }, 'obfuscated API keys without consent deleted');
  }

  /** Decrypts a saved file. Never passes on text that could quote the keys. */
  async #open(file: CredentialsFile): Promise<Opened> {
    let decrypted: { result: string; shouldReEncrypt: boolean };
    try {
      decrypted = await this.#safeStorage.decryptStringAsync(Buffer.from(file.data, 'base64'));
    } catch (err) {
      if (await this.#keyringAway(err))
        return { ok: false, reason: 'the keyring is not available', cause: err, transient: true };
      return {
        ok: false,
        reason: 'they could not be decrypted; the keyring may have changed',
        cause: err,
      };
    }
    const credentials = parsePlaintext(decrypted.result);
    if (!credentials)
      return { ok: false, reason: 'they decrypted to something that is not a key pair' };
    return { ok: true, credentials, shouldReEncrypt: decrypted.shouldReEncrypt };
  }

  /**
   * Whether a decryption that rejected says the keyring is away rather than the data bad: a locked
   * or not yet started keyring (Secret Service over D-Bus, KWallet), a Keychain that is busy.
   * Chromium's async encryptor reports that as "temporarily unavailable", and encryption then also
   * reads as unavailable; only an available keyring that refuses the data counts as damage, which
   * moves the file aside and asks the user for the keys again.
   */
  async #keyringAway(err: unknown): Promise<boolean> {
    if (/temporar|unavailable|not available|locked|timed? ?out/i.test(errorMessage(err)))
      return true;
    try {
      return !(await this.#safeStorage.isAsyncEncryptionAvailable());
    } catch {
      return true; // cannot tell: keeping the file loses nothing
    }
  }

  /** Deletes the `<base>.corrupt-*.json` files beside the file (folders kept as backups stay). */
  async #removeBackups(): Promise<{
    removed: string[];
    failed: { path: string; reason: string }[];
  }> {
    const removed: string[] = [];
    const failed: { path: string; reason: string }[] = [];
    const dir = dirname(this.#file.path);
    const name = basename(this.#file.path);
    const ext = extname(name);
    const prefix = `${ext ? name.slice(0, -ext.length) : name}.corrupt-`;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (errCode(err) !== 'ENOENT') failed.push({ path: dir, reason: errorMessage(err) });
      return { removed, failed };
    }
    for (const entry of names) {
      if (!entry.startsWith(prefix) || !entry.endsWith('.json')) continue;
      const path = join(dir, entry);
      try {
        // A folder that stood where the file should be was moved aside like a damaged file; it
        // never held keys this store wrote, and deleting a user's folder is not ours to do.
        if ((await lstat(path)).isDirectory()) continue;
        await unlink(path);
        removed.push(path);
      } catch (err) {
        if (errCode(err) !== 'ENOENT') failed.push({ path, reason: errorMessage(err) });
      }
    }
    return { removed, failed };
  }

  async #encrypt(credentials: StoredCredentials, security: Security): Promise<CredentialsFile> {
    let encrypted: Buffer;
    try {
      encrypted = await this.#safeStorage.encryptStringAsync(
        JSON.stringify({ keyId: credentials.keyId, secret: credentials.secret }),
      );
    } catch (err) {
      this.#log.error({ err }, 'encrypting the API keys failed');
      throw new Error(`Could not encrypt the API keys: ${errorMessage(err)}`, { cause: err });
    }
    return {
      version: 1,
      storage: security.secure ? 'encrypted' : 'obfuscated',
      backend: security.backend,
      data: encrypted.toString('base64'),
    };
  }

  /**
   * safeStorage rotated its key: write the keys again under the new one. Failing keeps the old.
   * Never turns a file into an obfuscated one without consent (a keyring that went away since
   * the file was encrypted): the old file still decrypts, so it stays as it is.
   */
  async #reEncrypt(credentials: StoredCredentials): Promise<void> {
    try {
      const security = await this.#security();
      if (!security.secure && !this.#consent) {
        this.#log.info(
          { backend: security.backend },
          'API keys not re-encrypted: that would store them obfuscated, which settings do not allow',
        );
        return;
      }
      await this.#file.save(await this.#encrypt(credentials, security));
      this.#log.info({ backend: security.backend }, 'API keys re-encrypted after a key change');
    } catch (err) {
      this.#log.warn({ err }, 're-encrypting the API keys failed; the saved copy still works');
    }
  }

  /** The saved file's envelope (no decryption), noting a damaged one as the problem. */
  async #peek(): Promise<CredentialsFile | null> {
    const outcome = await this.#file.load();
    if (outcome.problem) {
      const where = outcome.problem.backupPath
        ? `the file was kept as ${outcome.problem.backupPath}`
        : `the file stays at ${this.#file.path}`;
      this.#problem = `The saved API keys could not be read (${outcome.problem.reason}); ${where}. Please enter your keys again.`;
    }
    return outcome.value;
  }

  /** Moves an undecryptable file aside (never deletes it) and remembers what to tell the user. */
  async #unreadable(reason: string, cause?: unknown): Promise<void> {
    try {
      const backupPath = await keepAsBackup(this.#file.path);
      this.#problem = `The saved API keys could not be read (${reason}); the file was kept as ${backupPath}. Please enter your keys again.`;
      this.#log.warn(
        { err: cause, backupPath, reason },
        'saved API keys unreadable; kept as a backup',
      );
    } catch (err) {
      this.#problem = `The saved API keys could not be read (${reason}), and the file could not be moved aside (${errorMessage(err)}); it stays at ${this.#file.path}. Please enter your keys again.`;
      this.#log.error({ err, reason }, 'saved API keys unreadable and could not be moved aside');
    }
  }

  #status(security: Security, file: CredentialsFile | null): CredentialStatus {
    const { backend, secure } = security;
    const base = { backend, secure };
    if (this.#memory)
      return {
        ...base,
        stored: true,
        storage: 'memory',
        detail: memoryDetail(this.#memory.reason, backend),
      };
    if (file?.storage === 'encrypted')
      return {
        ...base,
        stored: true,
        storage: 'encrypted',
        detail: `API keys are saved encrypted by ${describeBackend(file.backend)}.`,
      };
    if (file?.storage === 'obfuscated')
      return {
        ...base,
        stored: true,
        storage: 'obfuscated',
        detail:
          `API keys are saved obfuscated, which is not secure: this desktop has no secure keyring ` +
          `(${file.backend}) and you allowed obfuscated storage in settings. Anyone who can read ` +
          'your files can recover them.',
      };
    const next = !security.available
      ? 'Encryption is not available on this system, so keys you enter are kept in memory until the app quits.'
      : secure
        ? `Keys you enter will be saved encrypted by ${describeBackend(backend)}.`
        : `This desktop has no secure keyring (${backend}): keys you enter are kept in memory until ` +
          'the app quits, unless you allow obfuscated (not secure) storage in settings.';
    return {
      ...base,
      stored: false,
      storage: 'none',
      detail: this.#problem ?? `No API keys saved.${this.#note ? ` ${this.#note}` : ''} ${next}`,
    };
  }
}

function memoryDetail(reason: MemoryReason, backend: string): string {
  switch (reason) {
    case 'chosen':
      return 'API keys are kept in memory only, as you asked, and forgotten when the app quits.';
    case 'no-keyring':
      return (
        `This desktop has no secure keyring (${backend}), so your API keys are kept in memory ` +
        'until the app quits. To keep them across restarts, allow obfuscated (not secure) ' +
        'storage in settings.'
      );
    case 'unavailable':
      return 'Encryption is not available on this system, so your API keys are kept in memory until the app quits.';
    case 'withdrawn':
      return (
        'Obfuscated storage is no longer allowed, so your API keys were deleted from disk; they ' +
        'are kept in memory until the app quits.'
      );
  }
}

function describeBackend(backend: string): string {
  switch (backend) {
    case 'keychain':
      return 'the macOS Keychain';
    case 'dpapi':
      return 'Windows (DPAPI)';
    case 'gnome_libsecret':
      return 'the desktop keyring (libsecret)';
    case 'kwallet':
    case 'kwallet5':
    case 'kwallet6':
      return 'KWallet';
    default:
      return `the ${backend} keyring`;
  }
}

/** The decrypted text as a key pair, or undefined. Never passes on a message quoting the text. */
function parsePlaintext(text: string): StoredCredentials | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = plaintextSchema.safeParse(raw);
  return parsed.success ? { keyId: parsed.data.keyId, secret: parsed.data.secret } : undefined;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}
