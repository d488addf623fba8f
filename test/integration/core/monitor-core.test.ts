/**
 * MonitorCore against real parts: the embedded simulator (or one the test starts, standing in for
 * Alpaca) on loopback, a real temp user-data folder, the in-memory secret store. Views are
 * recording sinks; frames are pulled as a window would.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MonitorCore,
  NO_CREDENTIALS_REASON,
  type MonitorCoreOptions,
} from '../../../electron/core/monitor-core.ts';
import { createCoreLogger } from '../../../electron/core/logging.ts';
import { MemorySecretStore } from '../../../electron/core/memory-secrets.ts';
import type { ViewSession, ViewSink } from '../../../electron/core/types.ts';
import { startSimulator, type Simulator } from '../../../electron/simulator/index.ts';
import type { LogRing } from '../../../electron/stream/log.ts';
import {
  DEFAULT_SETTINGS,
  type CommandInput,
  type CommandName,
  type CommandOutput,
  type ConnectionView,
  type EventMap,
  type EventName,
  type Result,
  type Settings,
  type Snapshot,
} from '../../../shared/api.ts';
import { FrameReader, type ReadFrame } from '../../support/frame-reader.ts';
import { waitFor } from '../../support/wait.ts';

const APP = { name: 'market-monitor', version: '0.0.0-test', platform: 'linux', runtime: 'node' };

class Recorder implements ViewSink {
  readonly events: { event: EventName; payload: unknown }[] = [];

  emit<E extends EventName>(event: E, payload: EventMap[E]): void {
    this.events.push({ event, payload });
  }

  of<E extends EventName>(event: E): EventMap[E][] {
    return this.events.filter((e) => e.event === event).map((e) => e.payload as EventMap[E]);
  }

  last<E extends EventName>(event: E): EventMap[E] | undefined {
    return this.of(event).at(-1);
  }

  states(): string[] {
    return this.of('connection:state').map((c) => c.state);
  }
}

interface Setup {
  readonly dir: string;
  readonly core: MonitorCore;
  readonly sink: Recorder;
  readonly view: ViewSession;
  readonly ring: LogRing;
  readonly secrets: MemorySecretStore;
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mm-core-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function simulator(options: Parameters<typeof startSimulator>[0] = {}): Promise<Simulator> {
  const sim = await startSimulator({ rate: 400, symbols: 40, ...options });
  cleanups.push(() => sim.close());
  return sim;
}

interface SetupOptions {
  readonly settings?: Partial<Settings>;
  /** Symbols of the one watchlist `default`. */
  readonly symbols?: readonly string[];
  /** Raw file contents that replace the ones written from `settings` / `symbols`. */
  readonly files?: Readonly<Record<string, string>>;
  readonly core?: Partial<MonitorCoreOptions>;
  readonly dir?: string;
}

async function setup(options: SetupOptions = {}): Promise<Setup> {
  const dir = options.dir ?? (await tempDir());
  const settings: Settings = { ...DEFAULT_SETTINGS, ...options.settings };
  const files: Record<string, string> = {
    'settings.json': JSON.stringify(settings),
    'watchlists.json': JSON.stringify({
      version: 1,
      watchlists: [{ id: 'default', name: 'Main', symbols: options.symbols ?? ['AAPL', 'MSFT'] }],
    }),
    ...options.files,
  };
  if (options.dir === undefined) {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  }
  const { logger, ring } = createCoreLogger({ level: 'debug' });
  const secrets = new MemorySecretStore();
  const core = await MonitorCore.create({
    userDataDir: dir,
    secrets,
    app: APP,
    logger,
    logRing: ring,
    simulator: { rate: 400, symbols: 40, barIntervalMs: 300 },
    client: { backoff: { baseMs: 20, capMs: 100 }, random: () => 0.5 },
    metricsIntervalMs: 50,
    handlersIntervalMs: 100,
    ...options.core,
  });
  cleanups.push(() => core.close());
  const sink = new Recorder();
  const view = core.openView(sink);
  return { dir, core, sink, view, ring, secrets };
}

async function call<C extends CommandName>(
  view: ViewSession,
  command: C,
  input: CommandInput<C>,
): Promise<Result<CommandOutput<C>>> {
  return (await view.invoke(command, input)) as Result<CommandOutput<C>>;
}

async function value<C extends CommandName>(
  view: ViewSession,
  command: C,
  input: CommandInput<C>,
): Promise<CommandOutput<C>> {
  const result = await call(view, command, input);
  if (!result.ok) throw new Error(`${command}: ${result.error.code}: ${result.error.message}`);
  return result.value;
}

async function snapshot(view: ViewSession): Promise<Snapshot> {
  return value(view, 'diagnostics:snapshot', {});
}

function lastConnection(sink: Recorder): ConnectionView | undefined {
  return sink.last('connection:state');
}

async function waitForState(sink: Recorder, state: string, timeoutMs = 5_000): Promise<void> {
  await waitFor(() => lastConnection(sink)?.state === state, {
    timeoutMs,
    what: `connection ${state} (now ${lastConnection(sink)?.state ?? 'none'})`,
  });
}

const readers = new WeakMap<ViewSession, FrameReader>();

/**
 * The next frame with its symbols resolved (one reader per view, as a page keeps one symbol table),
 * or an error after `ms` (the pending call is superseded by the next one).
 */
async function nextFrame(view: ViewSession, ms = 5_000): Promise<ReadFrame> {
  let reader = readers.get(view);
  if (reader === undefined) {
    reader = new FrameReader();
    readers.set(view, reader);
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no frame within ${ms} ms`)), ms);
  });
  try {
    return reader.read(await Promise.race([view.nextFrame(), timeout]));
  } finally {
    clearTimeout(timer);
  }
}

/** Pulls frames until every symbol has had a quote; returns the rows seen, latest per symbol. */
async function framesUntil(
  view: ViewSession,
  symbols: readonly string[],
  timeoutMs = 8_000,
): Promise<{ frames: ReadFrame[]; bid: Map<string, number> }> {
  const deadline = Date.now() + timeoutMs;
  const frames: ReadFrame[] = [];
  const bid = new Map<string, number>();
  while (!symbols.every((s) => Number.isFinite(bid.get(s)))) {
    const left = deadline - Date.now();
    if (left <= 0)
      throw new Error(`no quotes for ${symbols.filter((s) => !bid.has(s)).join(', ')} in time`);
    const frame = await nextFrame(view, left);
    frames.push(frame);
    frame.symbols.forEach((s, i) => {
      const price = frame.bidPrice[i]!;
      if (Number.isFinite(price)) bid.set(s, price);
    });
  }
  return { frames, bid };
}

const sorted = (list: readonly string[] | undefined): string[] => [...(list ?? [])].sort();

describe('MonitorCore: streaming to views', () => {
  it('goes live on the embedded simulator and frames carry quotes for the watchlist', async () => {
    const { view, sink } = await setup({
      symbols: ['AAPL', 'MSFT'],
      settings: { autoConnect: false },
    });
    const connecting = await value(view, 'connection:connect', {});
    expect(['connecting', 'authenticating', 'subscribing', 'live']).toContain(connecting.state);
    await waitForState(sink, 'live');
    expect(sink.states()).toEqual(['connecting', 'authenticating', 'subscribing', 'live']);
    const live = lastConnection(sink)!;
    expect(live.previous).toBe('subscribing');
    expect(live.source).toEqual(DEFAULT_SETTINGS.source);
    expect(live.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v2\/iex$/);
    expect(live.since).toBeGreaterThan(Date.now() - 60_000);

    const { frames, bid } = await framesUntil(view, ['AAPL', 'MSFT']);
    expect(frames[0]!.full).toBe(true);
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i + 1));
    expect(bid.get('AAPL')).toBeGreaterThan(0);
    for (const frame of frames) {
      for (const s of frame.symbols) expect(['AAPL', 'MSFT']).toContain(s);
    }

    await waitFor(() => (sink.last('metrics:update')?.metrics.messages.byKind['quote'] ?? 0) > 0, {
      what: 'metrics with quotes',
    });
    const metrics = sink.last('metrics:update')!;
    expect(metrics.metrics.state).toBe('live');
    expect(['healthy', 'degraded']).toContain(metrics.health.status);
    await waitFor(
      () => sorted(sink.last('subscriptions:update')?.confirmed.quotes).join() === 'AAPL,MSFT',
      { what: 'confirmed subscriptions event' },
    );
    // Logged before the view attached: in the recent log; logged after: pushed as they come.
    const recent = await value(view, 'log:recent', {});
    expect(recent.some((e) => e.msg === 'stream client ready')).toBe(true);
    expect(sink.of('log:entry').some((e) => e.msg === 'state subscribing -> live')).toBe(true);
    const seqs = recent.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  });

  it('watchlist edits change the desired set by difference, and the frames follow', async () => {
    const { core, view, sink, dir } = await setup({ symbols: ['AAPL', 'MSFT'] });
    await waitForState(sink, 'live');
    await framesUntil(view, ['AAPL', 'MSFT']);

    const added = await value(view, 'watchlists:add-symbols', {
      id: 'default',
      symbols: ['nvda', ' tsla ', 'AAPL', 'bad symbol'],
    });
    expect(added.added).toEqual(['NVDA', 'TSLA']);
    expect(added.rejected.map((r) => r.input)).toEqual(['AAPL', 'bad symbol']);
    let snap = await snapshot(view);
    for (const channel of ['quotes', 'trades', 'dailyBars', 'bars'] as const) {
      expect(sorted(snap.subscriptions.desired[channel])).toEqual(['AAPL', 'MSFT', 'NVDA', 'TSLA']);
    }
    await framesUntil(view, ['NVDA', 'TSLA']);
    expect(sink.last('watchlists:update')?.[0]?.symbols).toEqual(['AAPL', 'MSFT', 'NVDA', 'TSLA']);
    const onDisk = JSON.parse(await readFile(join(dir, 'watchlists.json'), 'utf8')) as {
      watchlists: { symbols: string[] }[];
    };
    expect(onDisk.watchlists[0]?.symbols).toEqual(['AAPL', 'MSFT', 'NVDA', 'TSLA']);

    // A symbol in two lists stays subscribed until it leaves both.
    const second = await value(view, 'watchlists:create', { name: 'Second' });
    await value(view, 'watchlists:add-symbols', { id: second.id, symbols: ['MSFT'] });
    await value(view, 'watchlists:remove-symbol', { id: 'default', symbol: 'MSFT' });
    await value(view, 'watchlists:remove-symbol', { id: 'default', symbol: 'aapl' });
    snap = await snapshot(view);
    expect(sorted(snap.subscriptions.desired.quotes)).toEqual(['MSFT', 'NVDA', 'TSLA']);
    await waitFor(
      () => sorted(sink.last('subscriptions:update')?.confirmed.quotes).join() === 'MSFT,NVDA,TSLA',
      { what: 'the server to confirm the smaller set' },
    );
    await value(view, 'watchlists:delete', { id: second.id });
    snap = await snapshot(view);
    expect(sorted(snap.subscriptions.desired.quotes)).toEqual(['NVDA', 'TSLA']);
    await waitFor(
      () => sorted(sink.last('subscriptions:update')?.confirmed.quotes).join() === 'NVDA,TSLA',
      { what: 'MSFT unsubscribed' },
    );

    // A new view's full frame holds only what is still watched.
    const other = core.openView(new Recorder());
    const full = await nextFrame(other);
    expect(full.full).toBe(true);
    expect(full.symbols.every((s) => s === 'NVDA' || s === 'TSLA')).toBe(true);
    other.close();
  });

  it('two views get full first frames and keep independent cursors', async () => {
    const { core, view: a, sink } = await setup({ symbols: ['AAPL', 'MSFT'] });
    await waitForState(sink, 'live');
    const first = await framesUntil(a, ['AAPL', 'MSFT']);
    expect(first.frames[0]!.full).toBe(true);

    const b = core.openView(new Recorder());
    expect(core.viewCount).toBe(2);
    const b1 = await nextFrame(b);
    expect(b1.seq).toBe(1);
    expect(b1.full).toBe(true);
    expect(sorted(b1.symbols)).toEqual(['AAPL', 'MSFT']);

    const a2 = await nextFrame(a);
    expect(a2.full).toBe(false);
    expect(a2.seq).toBe(first.frames.length + 1);
    const b2 = await nextFrame(b);
    expect(b2.full).toBe(false);
    expect(b2.seq).toBe(2);

    const [snapA, snapB] = await Promise.all([snapshot(a), snapshot(b)]);
    expect(snapA.frames.frames).toBe(first.frames.length + 1);
    expect(snapB.frames.frames).toBe(2);
    expect(snapB.frames.symbols).toBe(2);
    b.close();
    expect(core.viewCount).toBe(1);
  });

  it('a pending nextFrame resolves when data arrives; a second call supersedes it', async () => {
    const { core, view, sink } = await setup({ settings: { autoConnect: false } });
    const empty = await nextFrame(view);
    expect(empty).toMatchObject({ seq: 1, full: true, symbols: [] });
    expect(lastConnection(sink)?.state ?? 'idle').toBe('idle');
    // Snapshots (REST) fill the rows without a connection; then nothing moves until one.
    const seeded = new Set<string>();
    let seq = empty.seq;
    while (seeded.size < 2) {
      const f = await nextFrame(view);
      seq = f.seq;
      for (const s of f.symbols) seeded.add(s);
    }

    const superseded = view.nextFrame();
    const pending = view.nextFrame();
    await expect(superseded).rejects.toThrow(/superseded/);
    let settled = false;
    void pending.then(() => (settled = true));
    // Real time passes (metrics ticks) without data: still pending.
    const ticks = sink.of('metrics:update').length;
    await waitFor(() => sink.of('metrics:update').length >= ticks + 3, { what: 'metrics ticks' });
    expect(settled).toBe(false);

    await value(view, 'connection:connect', {});
    const frame = await pending;
    expect(frame.seq).toBe(seq + 1);
    expect(frame.rows.length).toBeGreaterThan(0);
    expect(core.resources().cursors).toBe(1);
  });

  it('closing a view rejects its pending frame and releases its cursor and timers', async () => {
    const { core, view } = await setup({ settings: { autoConnect: false } });
    await nextFrame(view);
    expect(core.resources()).toMatchObject({ views: 1, cursors: 1 });
    const pending = view.nextFrame();
    view.close();
    view.close();
    await expect(pending).rejects.toThrow(/closed/);
    await expect(view.nextFrame()).rejects.toThrow(/closed/);
    const after = await call(view, 'settings:get', {});
    expect(after.ok).toBe(false);
    expect(core.viewCount).toBe(0);
    await waitFor(() => core.resources().timers === 0, { what: 'no timers without views' });
    expect(core.resources()).toMatchObject({ views: 0, cursors: 0, timers: 0 });
  });

  it('a sink that throws is logged with its stack and breaks neither the core nor other views', async () => {
    const { core, view, sink } = await setup();
    const bad = core.openView({
      emit() {
        throw new TypeError('renderer went away');
      },
    });
    await waitForState(sink, 'live');
    const ticks = sink.of('metrics:update').length;
    await waitFor(() => sink.of('metrics:update').length >= ticks + 3, { what: 'metrics' });
    const logged = sink.of('log:entry').find((e) => e.msg.startsWith('a view sink threw'));
    expect(logged?.level).toBe('error');
    expect(logged?.err?.message).toBe('renderer went away');
    expect(logged?.err?.stack).toContain('monitor-core.test.ts');
    // Rate-limited: not one line per event.
    expect(sink.of('log:entry').filter((e) => e.msg.startsWith('a view sink threw')).length).toBe(
      1,
    );
    expect((await call(bad, 'settings:get', {})).ok).toBe(true);
    expect((await nextFrame(bad)).full).toBe(true);
    bad.close();
    await framesUntil(view, ['AAPL']);
  });
});

describe('MonitorCore: sources', () => {
  it('switching simulator msgpack -> json keeps the subscriptions and starts from a full frame', async () => {
    const { view, sink, core, dir } = await setup({ symbols: ['AAPL', 'MSFT', 'NVDA'] });
    await waitForState(sink, 'live');
    await framesUntil(view, ['AAPL', 'MSFT', 'NVDA']);
    const before = await snapshot(view);
    const url = before.connection.url;

    const n = sink.events.length;
    const settings = await value(view, 'source:set', {
      source: { kind: 'simulator', codec: 'json' },
    });
    expect(settings.source).toEqual({ kind: 'simulator', codec: 'json' });
    expect(sink.last('settings:update')?.source.codec).toBe('json');
    await waitFor(
      () =>
        sink.events
          .slice(n)
          .some(
            (e) =>
              e.event === 'connection:state' &&
              (e.payload as ConnectionView).state === 'live' &&
              (e.payload as ConnectionView).source.codec === 'json',
          ),
      { what: 'live on json' },
    );
    const after = await snapshot(view);
    expect(after.connection.url).toBe(url);
    expect(after.subscriptions.desired).toEqual(before.subscriptions.desired);
    expect(core.resources().simulator).toBe(true);

    // The book was cleared: the next frames start with a full one, then the data comes back.
    const { frames } = await framesUntil(view, ['AAPL', 'MSFT', 'NVDA']);
    expect(frames.some((f) => f.full)).toBe(true);
    const settingsOnDisk = JSON.parse(
      await readFile(join(dir, 'settings.json'), 'utf8'),
    ) as Settings;
    expect(settingsOnDisk.source).toEqual({ kind: 'simulator', codec: 'json' });
  });

  it('an Alpaca source without credentials does not connect and says why; keys fix it', async () => {
    const sim = await simulator({
      key: 'PKTEST000000000000001',
      secret: 'test-secret-000000000001',
    });
    const { view, sink, core } = await setup({
      core: { alpacaUrl: (feed) => sim.urlFor(feed) },
    });
    await waitForState(sink, 'live');

    await value(view, 'source:set', { source: { kind: 'alpaca', feed: 'iex', codec: 'json' } });
    const conn = lastConnection(sink)!;
    expect(conn.state).toBe('idle');
    expect(conn.reason).toBe(NO_CREDENTIALS_REASON);
    expect(conn.url).toBe(sim.urlFor('iex'));
    expect(sink.last('notices:update')?.some((n) => n.id === 'no-credentials')).toBe(true);
    expect(core.resources().simulator).toBe(false);

    const refused = await call(view, 'connection:connect', {});
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.error.code).toBe('conflict');
      expect(refused.error.message).toContain('no credentials');
    }
    const ticks = sink.of('metrics:update').length;
    await waitFor(() => sink.of('metrics:update').length >= ticks + 3, { what: 'time to pass' });
    expect(sim.stats().connectionsAccepted).toBe(0);
    expect(lastConnection(sink)?.state).toBe('idle');

    await value(view, 'credentials:set', {
      keyId: 'PKTEST000000000000001',
      secret: 'test-secret-000000000001',
    });
    await waitForState(sink, 'live');
    expect(sim.stats().authOk).toBe(1);
    expect(sink.last('notices:update')?.some((n) => n.id === 'no-credentials')).toBe(false);
    expect(sink.last('credentials:update')?.stored).toBe(true);
  });

  it('keys from the environment are used when the store has none', async () => {
    const sim = await simulator({ key: 'PKENV0000000000000001', secret: 'env-secret-00000000001' });
    const { view, sink } = await setup({
      settings: { source: { kind: 'alpaca', feed: 'iex', codec: 'msgpack' } },
      core: {
        alpacaUrl: (feed) => sim.urlFor(feed),
        env: { keyId: 'PKENV0000000000000001', secret: 'env-secret-00000000001' },
      },
    });
    await waitForState(sink, 'live');
    const status = await value(view, 'credentials:status', {});
    expect(status.stored).toBe(false);
    expect(status.detail).toContain('environment');
  });

  it('the crypto feed streams only the crypto pairs of the watchlists', async () => {
    const sim = await simulator({
      key: 'PKCRYPTO0000000000001',
      secret: 'crypto-secret-000000001',
    });
    const { view, sink } = await setup({
      symbols: ['AAPL', 'BTC/USD', 'ETH/USD'],
      settings: { source: { kind: 'alpaca', feed: 'crypto', codec: 'json' } },
      core: { alpacaUrl: (feed) => sim.urlFor(feed) },
    });
    expect(lastConnection(sink)?.reason ?? (await snapshot(view)).connection.reason).toBe(
      NO_CREDENTIALS_REASON,
    );
    await value(view, 'credentials:set', {
      keyId: 'PKCRYPTO0000000000001',
      secret: 'crypto-secret-000000001',
    });
    await waitForState(sink, 'live');
    const snap = await snapshot(view);
    expect(snap.connection.url).toBe(sim.urlFor('crypto'));
    expect(sorted(snap.subscriptions.desired.quotes)).toEqual(['BTC/USD', 'ETH/USD']);
    // The crypto feed has no trading statuses or LULD bands: they are not asked for.
    expect(snap.subscriptions.desired.statuses ?? []).toEqual([]);
    expect(snap.subscriptions.desired.lulds ?? []).toEqual([]);
    expect(snap.subscriptions.refused).toEqual([]);
    await framesUntil(view, ['BTC/USD', 'ETH/USD']);
  });

  it('simulator:control drop: backoff, then live again with the same symbols', async () => {
    const { view, sink } = await setup({ symbols: ['AAPL', 'MSFT'] });
    await waitForState(sink, 'live');
    await waitFor(
      () => sorted(sink.last('subscriptions:update')?.confirmed.quotes).join() === 'AAPL,MSFT',
      { what: 'confirmed' },
    );
    const n = sink.events.length;
    const result = await value(view, 'simulator:control', { action: 'drop' });
    expect(result.applied).toBe('dropped 1 connection');
    await waitFor(
      () => {
        const states = sink.events
          .slice(n)
          .filter((e) => e.event === 'connection:state')
          .map((e) => (e.payload as ConnectionView).state);
        const backoff = states.indexOf('backoff');
        return backoff >= 0 && states.indexOf('live', backoff) > backoff;
      },
      { what: 'backoff then live' },
    );
    const backoff = sink.events
      .slice(n)
      .map((e) => e.payload as ConnectionView)
      .find((c) => c.state === 'backoff')!;
    expect(backoff.retryAt).toBeGreaterThan(0);
    expect(backoff.attempt).toBe(1);
    await waitFor(
      () => sorted(sink.last('subscriptions:update')?.confirmed.quotes).join() === 'AAPL,MSFT',
      { what: 'the same symbols confirmed again' },
    );
    const snap = await snapshot(view);
    expect(snap.metrics.reconnects).toBe(1);
  });

  it('simulator:control drop holding the session: the reconnect meets 406, backs off slowly, then recovers', async () => {
    const { view, sink } = await setup({ symbols: ['AAPL', 'MSFT'] });
    await waitForState(sink, 'live');
    const n = sink.events.length;
    const result = await value(view, 'simulator:control', { action: 'drop', holdSessionMs: 1500 });
    expect(result.applied).toBe('dropped 1 connection; the server holds the session for 1500 ms');
    const states = () =>
      sink.events
        .slice(n)
        .filter((e) => e.event === 'connection:state')
        .map((e) => e.payload as ConnectionView);
    await waitFor(() => states().some((c) => c.state === 'backoff' && c.lastError?.code === 406), {
      what: 'a backoff after 406',
    });
    const slow = states().find((c) => c.state === 'backoff' && c.lastError?.code === 406)!;
    // The connection-limit floor: seconds, not the few hundred ms of a plain drop.
    expect(slow.retryAt! - slow.since).toBeGreaterThanOrEqual(5_000);
    expect(slow.lastError?.meaning).toMatch(/Another session/);
    await waitFor(() => states().at(-1)?.state === 'live', {
      what: 'live again',
      timeoutMs: 15_000,
    });
    await waitFor(
      () => sorted(sink.last('subscriptions:update')?.confirmed.quotes).join() === 'AAPL,MSFT',
      { what: 'the same symbols confirmed again' },
    );
    // A plain drop afterwards lifts the hold: straight back.
    await value(view, 'simulator:control', { action: 'drop' });
    const m = sink.events.length;
    await waitFor(
      () =>
        sink.events
          .slice(m)
          .some(
            (e) => e.event === 'connection:state' && (e.payload as ConnectionView).state === 'live',
          ),
      { what: 'live after a plain drop' },
    );
    expect(
      sink.events
        .slice(m)
        .some(
          (e) =>
            e.event === 'connection:state' && (e.payload as ConnectionView).lastError?.code === 406,
        ),
    ).toBe(false);
  }, 30_000);

  it('refusals reach the view with their meaning (simulator symbol limit)', async () => {
    const { view, sink } = await setup({ symbols: ['AAPL'] });
    await waitForState(sink, 'live');
    await value(view, 'simulator:control', { action: 'symbol-limit', limit: 3 });
    await value(view, 'watchlists:add-symbols', { id: 'default', symbols: ['MSFT'] });
    await waitFor(() => (sink.last('subscriptions:update')?.refused.length ?? 0) > 0, {
      what: 'a refusal',
    });
    const refused = sink.last('subscriptions:update')!.refused;
    expect(refused.every((r) => r.symbol === 'MSFT' && r.code === 405)).toBe(true);
    expect(refused[0]?.meaning).toContain('symbols');

    // Lifting the limit alone leaves them refused (freed capacity is not filled behind the user's
    // back); retrying subscribes them, and this time the server takes them.
    await value(view, 'simulator:control', { action: 'symbol-limit', limit: null });
    expect(sink.last('subscriptions:update')!.refused.length).toBeGreaterThan(0);
    const retried = await value(view, 'subscriptions:retry-refused', {});
    expect(retried.retried).toBeGreaterThan(0);
    await waitFor(
      () => {
        const subs = sink.last('subscriptions:update');
        return subs?.refused.length === 0 && (subs.confirmed.quotes ?? []).includes('MSFT');
      },
      { what: 'MSFT confirmed after the retry' },
    );
  });

  it('simulator:control is refused while the source is Alpaca', async () => {
    const { view } = await setup({
      settings: { source: { kind: 'alpaca', feed: 'iex', codec: 'json' } },
      core: { alpacaUrl: () => 'ws://127.0.0.1:9/v2/iex' },
    });
    const result = await call(view, 'simulator:control', { action: 'drop' });
    expect(result.ok ? 'ok' : result.error.code).toBe('conflict');
  });
});

describe('MonitorCore: commands', () => {
  it('rejects bad payloads with the field names, and unknown commands', async () => {
    const { view } = await setup({ settings: { autoConnect: false } });
    const expectBad = async (command: string, payload: unknown, ...fields: string[]) => {
      const result = await view.invoke(command, payload);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.code).toBe('bad-request');
      for (const field of fields) expect(result.error.message).toContain(field);
    };
    await expectBad('watchlists:add-symbols', { id: 'default' }, 'symbols');
    await expectBad(
      'source:set',
      { source: { kind: 'alpaca', feed: 'nasdaq', codec: 'json' } },
      'source.feed',
    );
    await expectBad('log:recent', { limit: 0 }, 'limit');
    await expectBad('watchlists:remove-symbol', { id: 'default', symbol: 'no spaces!' }, 'symbol');
    await expectBad('settings:update', { theme: 'blue', extra: 1 }, 'theme', 'extra');
    await expectBad('credentials:set', { keyId: '', secret: 'x' }, 'keyId');
    await expectBad('settings:get', 'not an object', 'payload');

    for (const name of ['nope', 'toString', '__proto__', '', 42]) {
      const result = await view.invoke(name as string, {});
      expect(result.ok ? 'ok' : result.error.code).toBe('unknown-command');
    }
  });

  it('a command that throws answers internal with a generic message; the stack is logged', async () => {
    const { view, sink } = await setup({ core: { alpacaUrl: () => 'http://not-a-stream' } });
    await waitForState(sink, 'live');
    const result = await call(view, 'source:set', {
      source: { kind: 'alpaca', feed: 'iex', codec: 'json' },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('internal');
    expect(result.error.message).not.toContain('http://not-a-stream');
    const logged = sink.of('log:entry').find((e) => e.msg === 'command failed');
    expect(logged?.err?.message).toContain('not a ws:// or wss:// URL');
    expect(logged?.err?.stack).toContain('client.ts');
    // Nothing changed: still the simulator, still live, settings untouched.
    const snap = await snapshot(view);
    expect(snap.settings.source.kind).toBe('simulator');
    expect(snap.connection.state).toBe('live');
  });

  it('handlers: the inspector lists them; built-ins are forbidden, unknown ids not found', async () => {
    const { view, sink } = await setup();
    await waitForState(sink, 'live');
    const list = await value(view, 'handlers:list', {});
    const builtin = list.filter((h) => h.builtin);
    const user = list.filter((h) => !h.builtin);
    expect(builtin.map((h) => h.name)).toEqual([
      'book: quotes',
      'book: trades',
      'book: daily bars',
      'trading status',
      'LULD bands',
      'market: sparklines',
    ]);
    expect(user.map((h) => h.name)).toEqual(['wide spread alert']);

    const forbidden = await call(view, 'handlers:remove', { id: builtin[0]!.id });
    expect(forbidden.ok ? 'ok' : forbidden.error.code).toBe('forbidden');
    const missing = await call(view, 'handlers:remove', { id: 'h999' });
    expect(missing.ok ? 'ok' : missing.error.code).toBe('not-found');

    const after = await value(view, 'handlers:remove', { id: user[0]!.id });
    expect(after.map((h) => h.name)).toEqual(builtin.map((h) => h.name));
    await waitFor(() => sink.last('handlers:update')?.length === builtin.length, {
      what: 'handlers event',
    });
    await waitFor(
      () => (sink.last('handlers:update')?.find((h) => h.name === 'book: quotes')?.calls ?? 0) > 0,
      { what: 'periodic handler counts' },
    );

    // A new client (another codec) does not bring the removed handler back.
    await value(view, 'source:set', { source: { kind: 'simulator', codec: 'json' } });
    const rebuilt = await value(view, 'handlers:list', {});
    expect(rebuilt.map((h) => h.name)).toEqual(builtin.map((h) => h.name));
  });

  it('settings and notices: updates persist; a corrupt settings file gives defaults, a backup and a notice', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'settings.json'), '{"version": 1, "source": ');
    const { view } = await setup({
      dir,
      core: { simulator: { rate: 50, symbols: 20 } },
    });
    const snap = await snapshot(view);
    expect(snap.settings).toEqual(DEFAULT_SETTINGS);
    const notice = snap.notices.find((n) => n.id === 'settings-file');
    expect(notice?.level).toBe('warning');
    const files = await readdir(dir);
    const backup = files.find((f) => /^settings\.corrupt-.*\.json$/.test(f));
    expect(backup).toBeDefined();
    expect(notice?.message).toContain(backup!);
    expect(await readFile(join(dir, backup!), 'utf8')).toBe('{"version": 1, "source": ');
    expect(snap.watchlists.map((w) => w.id)).toEqual(['default']);

    const updated = await value(view, 'settings:update', { theme: 'light' });
    expect(updated.theme).toBe('light');
    const onDisk = JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8')) as Settings;
    expect(onDisk).toEqual({ ...DEFAULT_SETTINGS, theme: 'light' });

    const remaining = await value(view, 'notices:dismiss', { id: 'settings-file' });
    expect(remaining.some((n) => n.id === 'settings-file')).toBe(false);
    const again = await call(view, 'notices:dismiss', { id: 'settings-file' });
    expect(again.ok ? 'ok' : again.error.code).toBe('not-found');
  });

  it('commands that change state run one at a time: concurrent edits are all kept', async () => {
    const { view, dir } = await setup({ settings: { autoConnect: false }, symbols: [] });
    const symbols = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'TSLA', 'AMD'];
    await Promise.all(
      symbols.map((s) => value(view, 'watchlists:add-symbols', { id: 'default', symbols: [s] })),
    );
    const list = await value(view, 'watchlists:list', {});
    expect(list[0]?.symbols).toEqual(symbols);
    const onDisk = JSON.parse(await readFile(join(dir, 'watchlists.json'), 'utf8')) as {
      watchlists: { symbols: string[] }[];
    };
    expect(onDisk.watchlists[0]?.symbols).toEqual(symbols);
  });
});

describe('MonitorCore: secrets', () => {
  it('never sends the key or the secret to a view, the log or the diagnostics export', async () => {
    const KEY = 'PKLEAKTEST9X8Y7Z6W5V4';
    const SECRET = 'leak-test-secret-QWERTYUIOPasdfghjkl0123';
    const WRONG = 'wrong-secret-ZXCVBNMzxcvbnm9876543210';
    const sim = await simulator({ key: KEY, secret: SECRET });
    const sent: string[] = [];
    sim.onAction((e) => {
      if (e.action['action'] === 'auth') sent.push(String(e.action['secret']));
    });
    const { view, sink, ring, core } = await setup({
      core: { alpacaUrl: (feed) => sim.urlFor(feed) },
    });
    const results: unknown[] = [];
    const run = async (command: string, payload: unknown): Promise<Result<unknown>> => {
      const result = await view.invoke(command, payload);
      results.push(result);
      return result;
    };
    await waitForState(sink, 'live');

    await run('credentials:set', { keyId: KEY, secret: SECRET });
    await run('source:set', { source: { kind: 'alpaca', feed: 'iex', codec: 'json' } });
    await waitFor(
      () =>
        lastConnection(sink)?.state === 'live' && lastConnection(sink)?.url === sim.urlFor('iex'),
      { what: 'live on the keyed server' },
    );
    await run('watchlists:add-symbols', { id: 'default', symbols: ['NVDA'] });
    await framesUntil(view, ['AAPL', 'NVDA']);

    // Wrong keys: a real 402 from the server, then the right ones again.
    await run('credentials:set', { keyId: KEY, secret: WRONG, memoryOnly: true });
    await waitForState(sink, 'failed');
    expect(lastConnection(sink)?.lastError?.code).toBe(402);
    await run('credentials:set', { keyId: KEY, secret: SECRET });
    await waitForState(sink, 'live');
    expect(sent).toEqual([SECRET, WRONG, SECRET]);
    expect(sim.stats().authOk).toBe(2);

    for (const [command, payload] of [
      ['credentials:status', {}],
      ['settings:get', {}],
      ['watchlists:list', {}],
      ['handlers:list', {}],
      ['diagnostics:snapshot', {}],
      ['log:recent', { limit: 5000 }],
      ['simulator:control', { action: 'drop' }],
      ['connection:disconnect', {}],
      ['connection:connect', {}],
    ] as const) {
      await run(command, payload);
    }
    await waitForState(sink, 'live');
    const exported = await run('diagnostics:export', {});
    expect(exported.ok).toBe(true);
    await core.close();

    const everything = JSON.stringify({ events: sink.events, results, ring: ring.records() });
    // The capture is real: it holds the session's log and the export.
    expect(everything).toContain('stream client ready');
    expect(everything).toContain('"generatedAt"');
    expect(everything.length).toBeGreaterThan(10_000);
    for (const secret of [KEY, SECRET, WRONG]) expect(everything).not.toContain(secret);
  });
});

describe('MonitorCore: close', () => {
  const count = (kind: string): number =>
    process.getActiveResourcesInfo().filter((r) => r === kind).length;

  it('is idempotent and leaves no timer, socket or server behind', async () => {
    const baseline = {
      servers: count('TCPServerWrap'),
      sockets: count('TCPSocketWrap'),
      timers: count('Timeout'),
      immediates: count('Immediate'),
    };
    const { core, view, sink } = await setup();
    await waitForState(sink, 'live');
    await framesUntil(view, ['AAPL']);
    expect(count('TCPServerWrap')).toBe(baseline.servers + 1);
    expect(core.resources()).toMatchObject({ views: 1, simulator: true, socket: true });
    const pending = view.nextFrame();
    const pendingAgain = view.nextFrame();

    const closing = core.close();
    expect(core.close()).toBe(closing);
    await closing;
    await core.close();
    await expect(pending).rejects.toThrow();
    await expect(pendingAgain).rejects.toThrow(/closed/);
    expect(core.resources()).toEqual({
      views: 0,
      cursors: 0,
      timers: 0,
      simulator: false,
      socket: false,
      handlers: 0,
    });
    expect(count('TCPServerWrap')).toBe(baseline.servers);
    await waitFor(
      () =>
        count('TCPSocketWrap') === baseline.sockets &&
        count('Timeout') <= baseline.timers &&
        count('Immediate') <= baseline.immediates,
      {
        what: `resources released (${process.getActiveResourcesInfo().join(', ')})`,
      },
    );
    const after = await call(view, 'settings:get', {});
    expect(after.ok ? 'ok' : after.error.code).toBe('conflict');
    expect(() => core.openView(new Recorder())).toThrow(/closed/);
  });
});
