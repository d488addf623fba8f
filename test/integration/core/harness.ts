/** Core test harness: a real MonitorCore on a temp folder, recording sinks, loopback servers. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WebSocket } from 'ws';
import { createCoreLogger } from '../../../electron/core/logging.ts';
import { MemorySecretStore } from '../../../electron/core/memory-secrets.ts';
import { MonitorCore, type MonitorCoreOptions } from '../../../electron/core/monitor-core.ts';
import type { ViewSession, ViewSink } from '../../../electron/core/types.ts';
import {
  DEFAULT_SETTINGS,
  type CommandInput,
  type CommandName,
  type CommandOutput,
  type EventMap,
  type EventName,
  type Result,
  type Settings,
} from '../../../shared/api.ts';
import { FrameReader, type ReadFrame } from '../../support/frame-reader.ts';

export const APP = { name: 'mm', version: '0', platform: 'linux', runtime: 'node' };

export class Recorder implements ViewSink {
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
}

export const cleanups: (() => Promise<void>)[] = [];
export async function runCleanups(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
}

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mm-review-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface SetupOptions {
  readonly settings?: Partial<Settings>;
  readonly watchlists?: { id: string; name: string; symbols: string[] }[];
  readonly core?: Partial<MonitorCoreOptions>;
  readonly dir?: string;
  readonly writeFiles?: boolean;
}

export async function setup(options: SetupOptions = {}) {
  const dir = options.dir ?? (await tempDir());
  if (options.writeFiles !== false) {
    await writeFile(
      join(dir, 'settings.json'),
      JSON.stringify({ ...DEFAULT_SETTINGS, ...options.settings }),
    );
    await writeFile(
      join(dir, 'watchlists.json'),
      JSON.stringify({
        version: 1,
        watchlists: options.watchlists ?? [
          { id: 'default', name: 'Main', symbols: ['AAPL', 'MSFT'] },
        ],
      }),
    );
  }
  const { logger, ring } = createCoreLogger({ level: 'debug' });
  const core = await MonitorCore.create({
    userDataDir: dir,
    secrets: new MemorySecretStore(),
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
  return { dir, core, sink, view, ring };
}

export async function call<C extends CommandName>(
  view: ViewSession,
  command: C,
  input: CommandInput<C>,
): Promise<Result<CommandOutput<C>>> {
  return (await view.invoke(command, input)) as Result<CommandOutput<C>>;
}

export async function value<C extends CommandName>(
  view: ViewSession,
  command: C,
  input: CommandInput<C>,
): Promise<CommandOutput<C>> {
  const r = await call(view, command, input);
  if (!r.ok) throw new Error(`${command}: ${r.error.code}: ${r.error.message}`);
  return r.value;
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timeout: ${what} (${ms} ms)`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const readers = new WeakMap<ViewSession, FrameReader>();

export async function nextFrame(view: ViewSession, ms = 5_000): Promise<ReadFrame> {
  // One reader per view, as the page keeps one symbol table: frames name symbols by id.
  let reader = readers.get(view);
  if (reader === undefined) {
    reader = new FrameReader();
    readers.set(view, reader);
  }
  return reader.read(await withTimeout(view.nextFrame(), ms, 'nextFrame'));
}

/**
 * A peer that answers the client's close frame only after `ms` (a WAN round trip, or a server
 * that is slow to close): the client's old socket stays open at the server meanwhile.
 */
export function slowCloseReply(ws: WebSocket, ms: number): void {
  const realClose = ws.close.bind(ws);
  ws.close = (code?: number, reason?: string | Buffer) => {
    setTimeout(() => realClose(code, reason), ms);
  };
}
