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
 * A saved file that cannot be read or decrypted (a keyring that changed, a damaged file) is moved
 * aside as a backup, never deleted silently, and status() tells the user to enter the keys again.
 *
 * The key id and the secret appear in no log record, no error message and no status: only get()
 * returns them. Hence no zod or JSON.parse message about the decrypted text is ever passed on
 * (V8's JSON errors quote the text they failed on).
 */
import { z } from 'zod';
import type { CredentialStatus } from '../shared/api.ts';
import { JsonFileStore, keepAsBackup } from './core/json-store.ts';
import type { SecretStore, StoredCredentials } from './core/types.ts';
import { silentLogger, type Logger } from './stream/log.ts';

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
type MemoryReason = 'chosen' | 'no-keyring' | 'unavailable';

export class SafeStorageSecretStore implements SecretStore {
  readonly #safeStorage: SafeStorageLike;
  readonly #platform: NodeJS.Platform;
  readonly #log: Logger;
  readonly #file: JsonFileStore<CredentialsFile | null>;
  #memory: { readonly credentials: StoredCredentials; readonly reason: MemoryReason } | undefined;
  /** A sentence about saved keys that could not be read; cleared by set() and clear(). */
  #problem: string | undefined;
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
      this.#status(await this.#security(), this.#memory ? null : await this.#peek()),
    );
  }

  set(
    credentials: StoredCredentials,
    options: { readonly memoryOnly: boolean; readonly allowInsecure: boolean },
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
          : !security.secure && !options.allowInsecure
            ? 'no-keyring'
            : undefined;
      if (reason) {
        // Delete first: if that fails nothing has changed, and the error says why.
        await this.#file.remove();
        this.#memory = { credentials: copy, reason };
        this.#problem = undefined;
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
      this.#log.info({ storage: file.storage, backend: security.backend }, 'API keys saved');
      return this.#status(security, file);
    });
  }

  get(): Promise<StoredCredentials | undefined> {
    return this.#serial(async () => {
      if (this.#memory) return { ...this.#memory.credentials };
      const file = await this.#peek();
      if (!file) return undefined;
      let decrypted: { result: string; shouldReEncrypt: boolean };
      try {
        decrypted = await this.#safeStorage.decryptStringAsync(Buffer.from(file.data, 'base64'));
      } catch (err) {
        await this.#unreadable('they could not be decrypted; the keyring may have changed', err);
        return undefined;
      }
      const credentials = parsePlaintext(decrypted.result);
      if (!credentials) {
        await this.#unreadable('they decrypted to something that is not a key pair');
        return undefined;
      }
      if (decrypted.shouldReEncrypt) await this.#reEncrypt(credentials);
      return credentials;
    });
  }

  clear(): Promise<CredentialStatus> {
    return this.#serial(async () => {
      this.#memory = undefined;
      this.#problem = undefined;
      await this.#file.remove();
      this.#log.info('API keys cleared');
      return this.#status(await this.#security(), null);
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

  async #encrypt(credentials: StoredCredentials, security: Security): Promise<CredentialsFile> {
    let encrypted: Buffer;
    try {
      encrypted = await this.#safeStorage.encryptStringAsync(
        JSON.stringify({ keyId: credentials.keyId, secret: credentials.secret }),
      );
    } catch (err) {
      this.#log.error({ err }, 'encrypting the API keys failed');
      throw new Error(`Could not encrypt the API keys: ${errMessage(err)}`, { cause: err });
    }
    return {
      version: 1,
      storage: security.secure ? 'encrypted' : 'obfuscated',
      backend: security.backend,
      data: encrypted.toString('base64'),
    };
  }

  /** safeStorage rotated its key: write the keys again under the new one. Failing keeps the old. */
  async #reEncrypt(credentials: StoredCredentials): Promise<void> {
    try {
      const security = await this.#security();
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
      this.#problem = `The saved API keys could not be read (${reason}), and the file could not be moved aside (${errMessage(err)}); it stays at ${this.#file.path}. Please enter your keys again.`;
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
      detail: this.#problem ?? `No API keys saved. ${next}`,
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

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
