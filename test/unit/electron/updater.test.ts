/**
 * UpdateService against a fake of electron-updater's AppUpdater that emits its events in the
 * order the real one does (checking-for-update, then update-not-available or update-available,
 * download-progress, update-downloaded; or 'error' AND a rejected checkForUpdates() for the same
 * failure). Every path: none, available (background download), downloaded (restart when asked),
 * error (shown, never thrown), plus the schedule on a fake clock and the development build.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  FIRST_CHECK_DELAY_MS,
  UPDATE_CHECK_INTERVAL_MS,
  UpdateService,
  type UpdaterLike,
} from '../../../electron/updater.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';
import type { UpdateStatus } from '../../../shared/api.ts';

type Outcome =
  | { readonly kind: 'none' }
  | { readonly kind: 'available'; readonly version: string; readonly download: 'ok' | 'fail' }
  | { readonly kind: 'error'; readonly message: string };

class FakeUpdater extends EventEmitter implements UpdaterLike {
  autoDownload = false;
  autoInstallOnAppQuit = false;
  checks = 0;
  installs: Array<{ isSilent?: boolean; isForceRunAfter?: boolean }> = [];
  /** What the next check finds. */
  next: Outcome = { kind: 'none' };
  /** Lets a test hold a check open. */
  gate: Promise<void> = Promise.resolve();

  async checkForUpdates(): Promise<unknown> {
    this.checks += 1;
    this.emit('checking-for-update');
    await this.gate;
    const outcome = this.next;
    if (outcome.kind === 'error') {
      const err = new Error(outcome.message);
      this.emit('error', err, err.message);
      throw err;
    }
    if (outcome.kind === 'none') {
      this.emit('update-not-available', { version: '1.0.0' });
      return { isUpdateAvailable: false };
    }
    this.emit('update-available', { version: outcome.version });
    // The download runs on in the background after the check has answered.
    setImmediate(() => {
      if (!this.autoDownload) return;
      this.emit('download-progress', { percent: 41.6 });
      if (outcome.download === 'fail') {
        this.emit('error', new Error('sha512 checksum mismatch\nexpected ... got ...'));
        return;
      }
      this.emit('update-downloaded', { version: outcome.version, downloadedFile: '/tmp/x' });
    });
    return { isUpdateAvailable: true };
  }

  quitAndInstall(isSilent?: boolean, isForceRunAfter?: boolean): void {
    this.installs.push({
      ...(isSilent !== undefined ? { isSilent } : {}),
      ...(isForceRunAfter !== undefined ? { isForceRunAfter } : {}),
    });
  }
}

const NOW = 1_760_000_000_000;

function setup(
  options: { updater?: FakeUpdater | undefined; restart?: (i: () => void) => void } = {},
) {
  const updater = 'updater' in options ? options.updater : new FakeUpdater();
  const ring = new LogRing();
  const service = new UpdateService({
    updater,
    currentVersion: '1.0.0',
    log: ringLogger(ring),
    now: () => NOW,
    ...(options.restart ? { restart: options.restart } : {}),
  });
  const seen: UpdateStatus[] = [];
  service.onStatus((s) => seen.push(s));
  return { updater, service, seen, ring };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.useRealTimers();
});

describe('UpdateService', () => {
  it('turns on the background download and install-on-quit, and starts idle', () => {
    const { updater, service } = setup();
    expect(updater?.autoDownload).toBe(true);
    expect(updater?.autoInstallOnAppQuit).toBe(true);
    expect(service.status()).toMatchObject({ state: 'idle', currentVersion: '1.0.0' });
  });

  it('none: up to date, with the time of the check', async () => {
    const { service, seen } = setup();
    const status = await service.check();
    expect(status).toMatchObject({
      state: 'none',
      lastCheckedAt: NOW,
      availableVersion: undefined,
    });
    expect(status.detail).toBe('Market Monitor 1.0.0 is the latest version.');
    expect(seen.map((s) => s.state)).toEqual(['checking', 'none']);
  });

  it('available: downloads in the background, then waits for the user; restart installs', async () => {
    const { updater, service, seen } = setup();
    updater!.next = { kind: 'available', version: '1.1.0', download: 'ok' };
    const status = await service.check();
    expect(status).toMatchObject({ state: 'downloading', availableVersion: '1.1.0', percent: 0 });
    await settle();
    expect(seen.map((s) => s.state)).toEqual([
      'checking',
      'downloading',
      'downloading',
      'downloaded',
    ]);
    expect(seen[2]).toMatchObject({ percent: 42, detail: 'Downloading 1.1.0: 42%.' });
    expect(service.status()).toMatchObject({ state: 'downloaded', availableVersion: '1.1.0' });
    expect(updater!.installs).toEqual([]); // nothing installs behind the user's back

    // Downloaded: a check has nothing to do until the restart.
    await service.check();
    expect(updater!.checks).toBe(1);

    expect(service.restart()).toMatchObject({ ok: true });
    expect(updater!.installs).toEqual([{ isSilent: false, isForceRunAfter: true }]);
  });

  it('restart goes through the given close first (main closes the core, then installs)', async () => {
    const order: string[] = [];
    const { updater, service } = setup({
      restart: (install) => {
        order.push('close the core');
        install();
        order.push('installed');
      },
    });
    updater!.next = { kind: 'available', version: '1.1.0', download: 'ok' };
    await service.check();
    await settle();
    service.restart();
    expect(order).toEqual(['close the core', 'installed']);
    expect(updater!.installs).toHaveLength(1);
  });

  it('restart before a download is refused', async () => {
    const { updater, service } = setup();
    expect(service.restart()).toMatchObject({ ok: false, error: { code: 'conflict' } });
    await service.check();
    expect(service.restart()).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(updater!.installs).toEqual([]);
  });

  it('error: shown and logged once, never thrown; the next check can succeed', async () => {
    const { updater, service, ring } = setup();
    updater!.next = { kind: 'error', message: 'net::ERR_INTERNET_DISCONNECTED\n<html>...' };
    const status = await service.check(); // resolves, does not reject
    expect(status.state).toBe('error');
    expect(status.detail).toBe(
      'Could not check for updates: net::ERR_INTERNET_DISCONNECTED. The app carries on; it will try again later.',
    );
    expect(status.lastCheckedAt).toBe(NOW);
    // 'error' and the rejection are the same failure: one log record.
    expect(ring.records().filter((r) => r.msg === 'update check or download failed')).toHaveLength(
      1,
    );
    updater!.next = { kind: 'none' };
    expect((await service.check()).state).toBe('none');
  });

  it('a failed download is an error too', async () => {
    const { updater, service } = setup();
    updater!.next = { kind: 'available', version: '1.1.0', download: 'fail' };
    await service.check();
    await settle();
    expect(service.status()).toMatchObject({ state: 'error' });
    expect(service.status().detail).toContain('sha512 checksum mismatch.');
  });

  it('a failure after a finished download keeps the download', async () => {
    const { updater, service } = setup();
    updater!.next = { kind: 'available', version: '1.1.0', download: 'ok' };
    await service.check();
    await settle();
    updater!.emit('error', new Error('late failure'));
    expect(service.status().state).toBe('downloaded');
    expect(service.restart().ok).toBe(true);
  });

  it('a thrown listener or quitAndInstall is contained', async () => {
    const { updater, service, ring } = setup();
    service.onStatus(() => {
      throw new Error('listener bug');
    });
    await service.check();
    expect(service.status().state).toBe('none');
    expect(ring.records().some((r) => r.msg === 'an update status listener threw')).toBe(true);

    updater!.next = { kind: 'available', version: '1.1.0', download: 'ok' };
    await service.check();
    await settle();
    expect(service.status().state).toBe('downloaded');
    updater!.quitAndInstall = () => {
      throw new Error('installer missing');
    };
    expect(service.restart()).toEqual({
      ok: false,
      error: { code: 'internal', message: 'The update could not be installed: installer missing' },
    });
    expect(service.status().state).toBe('downloaded');
  });

  it('one check at a time: a click during the periodic check joins it', async () => {
    const { updater, service } = setup();
    let open!: () => void;
    updater!.gate = new Promise((resolve) => (open = resolve));
    const first = service.check();
    const second = service.check();
    open();
    expect(await first).toBe(await second);
    expect(updater!.checks).toBe(1);
  });

  it('checks after the start delay, then every interval', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { updater, service } = setup();
    service.start();
    service.start(); // idempotent
    await vi.advanceTimersByTimeAsync(FIRST_CHECK_DELAY_MS - 1);
    expect(updater!.checks).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(updater!.checks).toBe(1);
    await vi.advanceTimersByTimeAsync(UPDATE_CHECK_INTERVAL_MS);
    expect(updater!.checks).toBe(2);
    await vi.advanceTimersByTimeAsync(UPDATE_CHECK_INTERVAL_MS);
    expect(updater!.checks).toBe(3);
    service.dispose();
    await vi.advanceTimersByTimeAsync(UPDATE_CHECK_INTERVAL_MS * 3);
    expect(updater!.checks).toBe(3);
  });

  it('a development build (no updater): disabled, checks nothing, restart refused', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { service, seen } = setup({ updater: undefined });
    service.start();
    await vi.advanceTimersByTimeAsync(UPDATE_CHECK_INTERVAL_MS);
    expect(service.status().state).toBe('disabled');
    expect((await service.check()).state).toBe('disabled');
    expect(service.restart()).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(seen).toEqual([]);
  });
});
