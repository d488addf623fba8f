/**
 * The desktop app's self-update: electron-updater (GitHub provider, electron-builder.yml
 * `publish`) driven into the state the Settings panel shows (shared/api.ts UpdateStatus). A check
 * at start and every few hours, the download in the background, and the restart when the user
 * asks for it (or the install when the app quits, electron-updater's autoInstallOnAppQuit). A
 * failed check or download is shown and logged, never thrown: the app carries on as it is.
 *
 * The updater comes in as a parameter (electron-updater's `autoUpdater` fits UpdaterLike), so this
 * file loads without Electron and the tests drive it with a fake. main.ts imports electron-updater
 * only in a packaged app; a development build gets the 'disabled' service, and browser mode none.
 */
import type { Result, UpdateState, UpdateStatus } from '../shared/api.ts';
import { fail, ok } from '../shared/api.ts';
import type { UpdatesPort } from './core/types.ts';
import type { Logger } from './stream/log.ts';
import { errorMessage } from '../shared/errors.ts';

/** A check every four hours: a release a day reaches users the same day. */
export const UPDATE_CHECK_INTERVAL_MS = 4 * 60 * 60 * 1000;
/** The first check waits a little, so it never competes with the app's own start. */
export const FIRST_CHECK_DELAY_MS = 10_000;

/** What electron-updater's events carry that is used here. */
export interface UpdateInfoLike {
  readonly version: string;
}
export interface ProgressLike {
  readonly percent: number;
}

/** The part of electron-updater's AppUpdater this uses (structurally, `autoUpdater` fits). */
export interface UpdaterLike {
  autoDownload: boolean;
  autoInstallOnAppQuit: boolean;
  checkForUpdates(): Promise<unknown>;
  quitAndInstall(isSilent?: boolean, isForceRunAfter?: boolean): void;
  on(event: 'checking-for-update', listener: () => void): unknown;
  on(event: 'update-available', listener: (info: UpdateInfoLike) => void): unknown;
  on(event: 'update-not-available', listener: (info: UpdateInfoLike) => void): unknown;
  on(event: 'download-progress', listener: (progress: ProgressLike) => void): unknown;
  on(event: 'update-downloaded', listener: (info: UpdateInfoLike) => void): unknown;
  on(event: 'error', listener: (error: Error, message?: string) => void): unknown;
}

export interface UpdateServiceOptions {
  /** electron-updater's autoUpdater; absent in a development build (the service is 'disabled'). */
  readonly updater: UpdaterLike | undefined;
  readonly currentVersion: string;
  readonly log: Logger;
  /**
   * Quits and installs. main.ts closes the core first (the same orderly close as quitting), then
   * calls updater.quitAndInstall(); by default that call alone.
   */
  readonly restart?: (install: () => void) => void;
  readonly intervalMs?: number;
  readonly firstCheckDelayMs?: number;
  readonly now?: () => number;
}

export class UpdateService implements UpdatesPort {
  readonly #updater: UpdaterLike | undefined;
  readonly #log: Logger;
  readonly #restart: (install: () => void) => void;
  readonly #intervalMs: number;
  readonly #firstDelayMs: number;
  readonly #now: () => number;
  readonly #listeners = new Set<(status: UpdateStatus) => void>();
  #status: UpdateStatus;
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<UpdateStatus> | undefined;
  /** Failures reported so far: a check that rejects after its 'error' event is reported once. */
  #failures = 0;
  #disposed = false;

  constructor(options: UpdateServiceOptions) {
    this.#updater = options.updater;
    this.#log = options.log;
    this.#intervalMs = options.intervalMs ?? UPDATE_CHECK_INTERVAL_MS;
    this.#firstDelayMs = options.firstCheckDelayMs ?? FIRST_CHECK_DELAY_MS;
    this.#now = options.now ?? Date.now;
    this.#restart = options.restart ?? ((install) => install());
    this.#status = {
      state: this.#updater === undefined ? 'disabled' : 'idle',
      currentVersion: options.currentVersion,
      availableVersion: undefined,
      percent: undefined,
      lastCheckedAt: undefined,
      detail:
        this.#updater === undefined
          ? 'Updates are off in a development build: only an installed release updates itself.'
          : 'Not checked yet.',
    };
    const updater = this.#updater;
    if (updater === undefined) return;
    // Downloads start on their own; installing waits for the user (or the next quit).
    updater.autoDownload = true;
    updater.autoInstallOnAppQuit = true;
    updater.on('checking-for-update', () =>
      this.#set('checking', { detail: 'Checking for updates…' }),
    );
    updater.on('update-not-available', () =>
      this.#set('none', {
        availableVersion: undefined,
        percent: undefined,
        lastCheckedAt: this.#now(),
        detail: `Market Monitor ${options.currentVersion} is the latest version.`,
      }),
    );
    updater.on('update-available', (info) =>
      this.#set('downloading', {
        availableVersion: info.version,
        percent: 0,
        lastCheckedAt: this.#now(),
        detail: `Version ${info.version} is available; downloading it in the background.`,
      }),
    );
    updater.on('download-progress', (progress) => {
      const percent = Math.max(0, Math.min(100, Math.round(progress.percent)));
      const version = this.#status.availableVersion ?? 'the new version';
      this.#set('downloading', { percent, detail: `Downloading ${version}: ${percent}%.` });
    });
    updater.on('update-downloaded', (info) =>
      this.#set('downloaded', {
        availableVersion: info.version,
        percent: 100,
        detail: `Version ${info.version} is ready: restart to install it (or it installs when you quit).`,
      }),
    );
    updater.on('error', (err) => this.#failed(err));
  }

  status(): UpdateStatus {
    return this.#status;
  }

  /** The first check after FIRST_CHECK_DELAY_MS, then one every intervalMs. */
  start(): void {
    if (this.#updater === undefined || this.#disposed || this.#timer !== undefined) return;
    const tick = (delay: number): void => {
      this.#timer = setTimeout(() => {
        void this.check().finally(() => {
          if (!this.#disposed) tick(this.#intervalMs);
        });
      }, delay);
      this.#timer.unref?.();
    };
    tick(this.#firstDelayMs);
  }

  check(): Promise<UpdateStatus> {
    const updater = this.#updater;
    if (updater === undefined || this.#disposed) return Promise.resolve(this.#status);
    // Downloaded: nothing more to fetch until the restart.
    if (this.#status.state === 'downloaded') return Promise.resolve(this.#status);
    // One check at a time: a click during the periodic one waits for that one.
    this.#checking ??= (async () => {
      const failuresBefore = this.#failures;
      try {
        await updater.checkForUpdates();
      } catch (err) {
        // electron-updater emits 'error' and rejects for the same failure.
        if (this.#failures === failuresBefore) this.#failed(err);
      } finally {
        this.#checking = undefined;
      }
      return this.#status;
    })();
    return this.#checking;
  }

  restart(): Result<UpdateStatus> {
    const updater = this.#updater;
    if (updater === undefined) return fail('unavailable', this.#status.detail);
    if (this.#status.state !== 'downloaded')
      return fail('conflict', 'No update has been downloaded yet.');
    this.#log.info({ version: this.#status.availableVersion }, 'restarting to install an update');
    try {
      this.#restart(() => updater.quitAndInstall(false, true));
    } catch (err) {
      // The download stays: the install on quit, or another restart, may still work.
      this.#log.error({ err }, 'restarting into the update failed');
      const message = errorMessage(err);
      return fail('internal', `The update could not be installed: ${message.slice(0, 300)}`);
    }
    return ok(this.#status);
  }

  onStatus(listener: (status: UpdateStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#listeners.clear();
  }

  #failed(err: unknown): void {
    this.#failures += 1;
    const message = errorMessage(err);
    // One line, bounded: electron-updater's messages can carry a whole HTTP response.
    const short = message.split('\n')[0]?.slice(0, 300) ?? '';
    this.#log.warn({ err }, 'update check or download failed');
    // A download already done stays usable: a later failed check does not take it away.
    if (this.#status.state === 'downloaded') return;
    this.#set('error', {
      percent: undefined,
      lastCheckedAt: this.#now(),
      detail: `Could not check for updates: ${short || 'unknown error'}. The app carries on; it will try again later.`,
    });
  }

  #set(state: UpdateState, change: Partial<Omit<UpdateStatus, 'state'>>): void {
    if (this.#disposed) return;
    this.#status = { ...this.#status, ...change, state };
    for (const listener of [...this.#listeners]) {
      try {
        listener(this.#status);
      } catch (err) {
        this.#log.error({ err }, 'an update status listener threw');
      }
    }
  }
}
