/**
 * Interfaces of the main-process core (no electron import): what Electron's ipc layer and the
 * browser-mode host attach to, and the storage seams they plug in.
 */
import type { CredentialStatus, EventMap, EventName, Result } from '../../shared/api.ts';
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
 * Credentials at rest. Electron: safeStorage (electron/secrets.ts). Browser mode and tests: memory.
 * Implementations never log or return the secret except through get().
 */
export interface SecretStore {
  status(): Promise<CredentialStatus>;
  set(
    credentials: StoredCredentials,
    options: { readonly memoryOnly: boolean; readonly allowInsecure: boolean },
  ): Promise<CredentialStatus>;
  get(): Promise<StoredCredentials | undefined>;
  clear(): Promise<CredentialStatus>;
}
