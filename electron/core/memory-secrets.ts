/**
 * Credentials held in memory until the process exits: browser mode (no OS keyring to reach) and
 * tests. Nothing is written anywhere, and status() says so in words the settings panel can show.
 */
import type { CredentialStatus } from '../../shared/api.ts';
import type { ConsentChange, SecretStore, StoredCredentials } from './types.ts';

export interface MemorySecretStoreOptions {
  /**
   * Keys found in the environment at start (browser mode); status() then says where they came
   * from, so a user who never typed keys is not puzzled that some are in use.
   */
  readonly initial?: StoredCredentials;
}

export class MemorySecretStore implements SecretStore {
  #credentials: StoredCredentials | undefined;
  #fromEnvironment: boolean;

  constructor(options: MemorySecretStoreOptions = {}) {
    this.#credentials = options.initial ? { ...options.initial } : undefined;
    this.#fromEnvironment = options.initial !== undefined;
  }

  status(): Promise<CredentialStatus> {
    return Promise.resolve(this.#status());
  }

  /** memoryOnly is moot here: memory is the only place there is. */
  set(
    credentials: StoredCredentials,
    _options: { readonly memoryOnly: boolean },
  ): Promise<CredentialStatus> {
    this.#credentials = { keyId: credentials.keyId, secret: credentials.secret };
    this.#fromEnvironment = false;
    return Promise.resolve(this.#status());
  }

  get(): Promise<StoredCredentials | undefined> {
    return Promise.resolve(this.#credentials ? { ...this.#credentials } : undefined);
  }

  clear(): Promise<CredentialStatus> {
    this.#credentials = undefined;
    this.#fromEnvironment = false;
    return Promise.resolve(this.#status());
  }

  /** Consent changes nothing here: nothing is ever written, obfuscated or otherwise. */
  setConsent(_allowInsecure: boolean): Promise<ConsentChange> {
    return Promise.resolve({ status: this.#status(), effect: 'none' });
  }

  #status(): CredentialStatus {
    const base = { backend: 'memory', secure: false } as const;
    if (!this.#credentials)
      return {
        ...base,
        stored: false,
        storage: 'none',
        detail:
          'No API keys entered. Keys you enter here are kept in memory only and forgotten when the app quits.',
      };
    return {
      ...base,
      stored: true,
      storage: 'memory',
      detail: this.#fromEnvironment
        ? 'API keys came from environment variables; they are kept in memory only and nothing is written to disk.'
        : 'API keys are kept in memory only and forgotten when the app quits; nothing is written to disk.',
    };
  }
}
