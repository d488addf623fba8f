/**
 * The update commands and event on the real MonitorCore (embedded simulator on loopback, a temp
 * user-data folder): without an updater (browser mode) they say updates are a desktop feature;
 * with one (the desktop app) they reach it, and its status changes reach every view.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCoreLogger } from '../../../electron/core/logging.ts';
import { MemorySecretStore } from '../../../electron/core/memory-secrets.ts';
import { MonitorCore, UPDATES_DESKTOP_ONLY } from '../../../electron/core/monitor-core.ts';
import type { UpdatesPort } from '../../../electron/core/types.ts';
import { fail, ok, type EventName, type UpdateStatus } from '../../../shared/api.ts';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function makeCore(updates?: UpdatesPort) {
  const dir = await mkdtemp(join(tmpdir(), 'mm-updates-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const { logger, ring } = createCoreLogger({ level: 'warn' });
  const core = await MonitorCore.create({
    userDataDir: dir,
    secrets: new MemorySecretStore(),
    app: { name: 'market-monitor', version: '2.3.4', platform: 'linux', runtime: 'node' },
    logger,
    logRing: ring,
    simulator: { rate: 20, symbols: 5 },
    ...(updates ? { updates } : {}),
  });
  cleanups.push(() => core.close());
  const events: Array<{ event: EventName; payload: unknown }> = [];
  const view = core.openView({ emit: (event, payload) => events.push({ event, payload }) });
  return { core, view, events };
}

const STATUS: UpdateStatus = {
  state: 'none',
  currentVersion: '2.3.4',
  availableVersion: undefined,
  percent: undefined,
  lastCheckedAt: 1,
  detail: 'up to date',
};

/** A port with a status the test sets, recording the calls that reach it. */
class PortStub implements UpdatesPort {
  calls: string[] = [];
  current = STATUS;
  readonly #listeners = new Set<(s: UpdateStatus) => void>();
  status(): UpdateStatus {
    return this.current;
  }
  check(): Promise<UpdateStatus> {
    this.calls.push('check');
    return Promise.resolve(this.current);
  }
  restart() {
    this.calls.push('restart');
    return this.current.state === 'downloaded' ? ok(this.current) : fail('conflict', 'nothing yet');
  }
  onStatus(listener: (s: UpdateStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  push(status: UpdateStatus): void {
    this.current = status;
    for (const l of this.#listeners) l(status);
  }
  get listeners(): number {
    return this.#listeners.size;
  }
}

describe('update commands', () => {
  it('browser mode: status is "unsupported", check and restart say it is a desktop feature', async () => {
    const { view } = await makeCore();
    expect(await view.invoke('update:status', {})).toEqual({
      ok: true,
      value: {
        state: 'unsupported',
        currentVersion: '2.3.4',
        availableVersion: undefined,
        percent: undefined,
        lastCheckedAt: undefined,
        detail: UPDATES_DESKTOP_ONLY,
      },
    });
    for (const command of ['update:check', 'update:restart']) {
      expect(await view.invoke(command, {})).toEqual({
        ok: false,
        error: { code: 'unavailable', message: UPDATES_DESKTOP_ONLY },
      });
    }
    expect(await view.invoke('update:check', { now: true })).toMatchObject({
      ok: false,
      error: { code: 'bad-request' },
    });
  });

  it('desktop: commands reach the updater, its changes reach every view, and close lets go', async () => {
    const port = new PortStub();
    const { core, view, events } = await makeCore(port);
    expect(await view.invoke('update:status', {})).toEqual({ ok: true, value: STATUS });
    expect(await view.invoke('update:check', {})).toEqual({ ok: true, value: STATUS });
    expect(await view.invoke('update:restart', {})).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    expect(port.calls).toEqual(['check', 'restart']);

    const downloaded: UpdateStatus = { ...STATUS, state: 'downloaded', availableVersion: '2.4.0' };
    port.push(downloaded);
    expect(events.filter((e) => e.event === 'update:status').map((e) => e.payload)).toEqual([
      downloaded,
    ]);
    expect(await view.invoke('update:restart', {})).toEqual({ ok: true, value: downloaded });

    await core.close();
    expect(port.listeners).toBe(0);
  });
});
