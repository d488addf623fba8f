/**
 * The host with the real MonitorCore (and its embedded simulator) behind it, reached with the
 * renderer's bridge client: what a browser tab in `market-monitor web` gets, end to end minus the
 * browser.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { MemorySecretStore } from '../../../electron/core/memory-secrets.ts';
import { MonitorCore } from '../../../electron/core/monitor-core.ts';
import { startHost, type Host } from '../../../electron/host/server.ts';
import type { ConnectionView } from '../../../shared/api.ts';
import { frameColumn } from '../../../shared/frame.ts';
import { connectPage } from '../../support/page-bridge.ts';
import { waitFor } from '../../support/wait.ts';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('a bridge client drives the real core: commands, events, frames; closing it releases the view', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'mm-host-core-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const core = await MonitorCore.create({
    userDataDir: dataDir,
    secrets: new MemorySecretStore(),
    app: { name: 'test', version: '0', platform: process.platform, runtime: process.version },
    simulator: { rate: 500, seed: 7 },
    metricsIntervalMs: 50,
  });
  cleanups.push(() => core.close());
  const host: Host = await startHost({ core, staticDir: join(dataDir, 'no-renderer') });
  cleanups.push(() => host.close());

  const client = await connectPage(host);
  const states: ConnectionView[] = [];
  let metrics = 0;
  client.on('connection:state', (view) => states.push(view));
  client.on('metrics:update', () => (metrics += 1));
  await waitFor(() => core.viewCount === 1, { what: 'the view at the core' });

  const created = await client.invoke('watchlists:create', { name: 'From the browser' });
  expect(created.ok && created.value.name).toBe('From the browser');
  const bad = await client.invoke('watchlists:create', { name: '' });
  expect(bad.ok === false && bad.error.code).toBe('bad-request');
  const snapshot = await client.invoke('diagnostics:snapshot', {});
  expect(snapshot.ok && snapshot.value.watchlists.map((w) => w.name)).toContain('From the browser');

  // The default source is the embedded simulator: the client goes live and quotes flow as frames.
  await waitFor(
    () =>
      states.some((s) => s.state === 'live') ||
      (snapshot.ok && snapshot.value.connection.state === 'live'),
    { timeoutMs: 10_000, what: 'a live connection' },
  );
  await waitFor(() => metrics > 0, { what: 'a metrics event' });
  let priced = 0;
  for (let i = 0; i < 50 && priced === 0; i++) {
    const frame = await client.nextFrame();
    expect(frame.seq).toBe(i + 1);
    priced = frameColumn(frame, 'bidPrice').filter((p) => Number.isFinite(p) && p > 0).length;
  }
  expect(priced).toBeGreaterThan(0);

  client.close();
  await waitFor(() => core.viewCount === 0, { what: 'the view released' });
  expect(host.connections).toBe(0);
});
