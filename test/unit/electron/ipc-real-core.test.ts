/**
 * The IPC layer on the real MonitorCore (embedded simulator on loopback, a temp user-data
 * folder, in-memory secrets): only Electron is faked. Checks that the shell and the core agree on
 * the contract: Results over invoke, events and structured-cloned frames over the port, and a
 * view that ends with its window.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WebContents } from 'electron';
import { afterEach, describe, expect, it } from 'vitest';
import { createCoreLogger } from '../../../electron/core/logging.ts';
import { MemorySecretStore } from '../../../electron/core/memory-secrets.ts';
import { MonitorCore } from '../../../electron/core/monitor-core.ts';
import { registerIpc } from '../../../electron/ipc/commands.ts';
import { APP_ENTRY_URL, APP_ORIGIN } from '../../../electron/ipc/origin.ts';
import { ViewManager } from '../../../electron/ipc/views.ts';
import { DEFAULT_SETTINGS, type Result, type Watchlist } from '../../../shared/api.ts';
import { IPC, type PortMessage } from '../../../shared/channels.ts';
import {
  FakeIpcMain,
  FakeMessageChannelMain,
  FakeSession,
  FakeWebContents,
  type FakeMessagePortMain,
} from '../../support/fake-electron.ts';
import { FrameReader, type ReadFrame } from '../../support/frame-reader.ts';
import { waitFor } from '../../support/wait.ts';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'mm-ipc-core-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'settings.json'), JSON.stringify(DEFAULT_SETTINGS));
  await writeFile(
    join(dir, 'watchlists.json'),
    JSON.stringify({
      version: 1,
      watchlists: [{ id: 'default', name: 'Main', symbols: ['AAPL', 'MSFT'] }],
    }),
  );
  const { logger, ring } = createCoreLogger({ level: 'warn' });
  const core = await MonitorCore.create({
    userDataDir: dir,
    secrets: new MemorySecretStore(),
    app: { name: 'market-monitor', version: '0.0.0-test', platform: 'linux', runtime: 'node' },
    logger,
    logRing: ring,
    simulator: { rate: 200, symbols: 20 },
    client: { backoff: { baseMs: 20, capMs: 100 }, random: () => 0.5 },
    metricsIntervalMs: 50,
  });
  cleanups.push(() => core.close());

  const origins = [APP_ORIGIN];
  const views = new ViewManager({
    openView: (sink) => core.openView(sink),
    createChannel: () => new FakeMessageChannelMain(),
    origins,
    log: logger,
  });
  const ipc = new FakeIpcMain();
  registerIpc(ipc, { views, origins, log: logger });
  const contents = new FakeWebContents(new FakeSession());
  contents.commit(APP_ENTRY_URL);
  views.track(contents as unknown as WebContents);
  const invoke = (channel: string, ...args: unknown[]) =>
    ipc.invoke(channel, contents, contents.mainFrame, ...args) as Promise<Result<unknown>>;
  return { core, contents, invoke };
}

describe('IPC on the real core', () => {
  it('attaches a window, answers commands with Results, pushes events and frames, and ends with the window', async () => {
    const { core, contents, invoke } = await setup();
    expect(await invoke(IPC.ready)).toMatchObject({ ok: true });
    expect(core.viewCount).toBe(1);

    const port = contents.posted[0]!.transfer[0] as FakeMessagePortMain;
    const received: PortMessage[] = [];
    port.on('message', (e: { data: PortMessage }) => received.push(e.data));
    port.start();

    expect(await invoke('watchlists:create', { name: '' })).toMatchObject({
      ok: false,
      error: { code: 'bad-request' },
    });
    expect(await invoke('watchlists:create', { name: 'Tech', owner: 'me' })).toMatchObject({
      ok: false,
      error: { code: 'bad-request' },
    });
    const listed = (await invoke('watchlists:list', {})) as Result<readonly Watchlist[]>;
    expect(listed.ok && listed.value.map((w) => w.name)).toEqual(['Main']);

    expect(await invoke('watchlists:create', { name: 'Tech' })).toMatchObject({
      ok: true,
      value: { name: 'Tech' },
    });
    await waitFor(
      () => received.some((m) => m.type === 'event' && m.event === 'watchlists:update'),
      { what: 'a watchlists:update event on the port' },
    );

    // Pull frames as the preload does until the simulator's quotes show up.
    let id = 0;
    let found: ReadFrame | undefined;
    // One reader for the view's frames, in order, as the page keeps its symbol table.
    const reader = new FrameReader();
    let read = 0;
    await waitFor(
      () => {
        const answered = received.filter((m) => m.type === 'frame');
        for (; read < answered.length && found === undefined; read++) {
          const m = answered[read]!;
          if (m.type !== 'frame') continue;
          const frame = reader.read(m.frame);
          if (frame.symbols.includes('AAPL')) found = frame;
        }
        if (found === undefined && answered.length === id)
          port.postMessage({ type: 'frame', id: ++id });
        return found !== undefined;
      },
      { timeoutMs: 10_000, what: 'a frame with AAPL' },
    );
    if (found === undefined) throw new Error('unreachable');
    const row = found.symbols.indexOf('AAPL');
    expect(found.bidPrice.length).toBe(found.symbols.length);
    expect(Number.isFinite(found.bidPrice[row]) || Number.isFinite(found.lastPrice[row])).toBe(
      true,
    );

    contents.destroy();
    expect(core.viewCount).toBe(0);
    expect(port.closed).toBe(true);
  });
});
