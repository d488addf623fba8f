/**
 * Interfaces of the main-process core (no electron import): what Electron's ipc layer and the
 * browser-mode host attach to, and the storage seams they plug in.
 */
import type {
  CredentialStatus,
  EventMap,
  EventName,
  Result,
  UpdateStatus,
} from '../../shared/api.ts';
import type { QuoteFrame } from '../../shared/frame.ts';

/** Where a view (one window, one browser tab) receives pushed events. */
export interface ViewSink {
  emit<E extends EventName>(event: E, payload: EventMap[E]): void;
}

/** One attached view: its commands, its own frame cursor. */
export interface ViewSession {
  readonly id: string;
  /**
   * Validates the command name and payload (zod), runs it, answers with the envelope. Never
   * rejects: a thrown error becomes `internal`, logged with its stack.
   */
  invoke(command: string, payload: unknown): Promise<Result<unknown>>;
  /**
   * The next frame for this view: resolves at once when something changed since the previous
   * one, else when something does. A second call while one is pending rejects the first with
   * nothing lost (the new call gets the changes). After close(), rejects.
   */
  nextFrame(): Promise<QuoteFrame>;
  /** Releases everything the view held (cursor, listeners, pending frame). Idempotent. */
  close(): void;
}

export interface StoredCredentials {
  readonly keyId: string;
  readonly secret: string;
}

/**
 * What a change of consent (settings.allowInsecureCredentialStorage) did to the stored keys:
 * - 'none': nothing to move.
 * - 'kept-in-memory': consent withdrawn; the obfuscated file was read, deleted, and the keys are
 *   held in memory until the app quits.
 * - 'deleted': an obfuscated file was deleted without its keys being kept: found with no consent
 *   on record (at start: it is not even read), or unreadable when consent was withdrawn.
 * - 'saved': consent given; keys held in memory only for want of a secure keyring are now saved
 *   obfuscated, as the status had promised ("allow obfuscated storage to keep them").
 */
export type ConsentEffect = 'none' | 'kept-in-memory' | 'deleted' | 'saved';

export interface ConsentChange {
  readonly status: CredentialStatus;
  readonly effect: ConsentEffect;
}

/**
 * Credentials at rest. Electron: safeStorage (electron/secrets.ts). Browser mode and tests: memory.
 * Implementations never log or return the secret except through get().
 *
 * Consent to obfuscated storage is state of the store, set by setConsent() at start and whenever
 * the setting changes; until told, a store assumes there is none. set() saves obfuscated only with
 * consent, and get()/status() never use an obfuscated file without it (they delete it unread).
 */
export interface SecretStore {
  status(): Promise<CredentialStatus>;
  set(
    credentials: StoredCredentials,
    options: { readonly memoryOnly: boolean },
  ): Promise<CredentialStatus>;
  get(): Promise<StoredCredentials | undefined>;
  /** Forgets the keys, deletes the saved file and any backups of it. */
  clear(): Promise<CredentialStatus>;
  /**
   * Records the user's current answer and applies it to stored keys at once (see ConsentEffect).
   * The answer is recorded even when applying it fails; the promise then rejects with an Error
   * that says what is left on disk (never the keys).
   */
  setConsent(allowInsecure: boolean): Promise<ConsentChange>;
}

/**
 * The desktop app's self-update as the core serves it to every view (electron/updater.ts
 * UpdateService). Browser mode has none: the core answers that updates are a desktop feature.
 */
export interface UpdatesPort {
  status(): UpdateStatus;
  /** Checks now; resolves with the state after the check. Never rejects. */
  check(): Promise<UpdateStatus>;
  /** Restarts into the downloaded version; `conflict` when none is downloaded. */
  restart(): Result<UpdateStatus>;
  /** Returns the unsubscribe. */
  onStatus(listener: (status: UpdateStatus) => void): () => void;
}
