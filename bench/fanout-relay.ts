/**
 * A relay under test in a process of its own (the fan-out section): startRelay from
 * electron/relay, driven over IPC, so that its CPU and memory are read from /proc and nothing
 * else of the bench runs on its thread. It runs with --expose-gc: `memory` answers with the heap
 * after full collections, the figure a per-client cost is read from.
 *
 * Requests: start {options} (RelayOptions as JSON: the leg decides the upstream), memory, stats;
 * 'exit' closes the relay (every client gets its close frame) before the process ends.
 */
import { fileURLToPath } from 'node:url';
import { ChildHandle, serveParent } from './blaster.ts';
import type {
  ClientInfo,
  RelayFootprint,
  RelayOptions,
  RelayStats,
} from '../electron/relay/index.ts';

export interface RelayMemory {
  /** After three full collections. */
  readonly heapUsed: number;
  readonly external: number;
  /** As /proc sees it (VmRSS), read by the process itself after the collections. */
  readonly rss: number;
}

export interface RelaySnapshot {
  readonly stats: RelayStats;
  readonly footprint: RelayFootprint;
  readonly clients: readonly ClientInfo[];
  /** Times the upstream left `live` since the start (each one a reconnect, and a gap). */
  readonly upstreamDrops: number;
  /** The reasons given, latest last (at most 10). */
  readonly upstreamReasons: readonly string[];
}

export interface RelayProcess {
  /** The name it was started with (the leg's name for it: relay, holder, downstream). */
  readonly name: string;
  readonly handle: ChildHandle;
  readonly pid: number;
  /** Where clients connect: `ws://127.0.0.1:PORT/v2/iex`. */
  readonly url: string;
  memory(): Promise<RelayMemory>;
  snapshot(): Promise<RelaySnapshot>;
  close(): Promise<void>;
}

const RELAY_PATH = fileURLToPath(import.meta.url);

/**
 * Forks a relay process and starts the relay with `options` (JSON-safe: no logger); resolves once
 * its upstream is live. NATS legs pass their own upstream and publish options through here.
 */
export async function startRelayProcess(
  name: string,
  options: Omit<RelayOptions, 'logger'>,
): Promise<RelayProcess> {
  const handle = new ChildHandle(name, RELAY_PATH, { execArgv: ['--expose-gc'] });
  try {
    const ready = await handle.request<{ pid: number; url: string }>('start', { options }, 60_000);
    return {
      name,
      handle,
      pid: ready.pid,
      url: ready.url,
      memory: () => handle.request<RelayMemory>('memory'),
      snapshot: () => handle.request<RelaySnapshot>('snapshot'),
      close: () => handle.close(10_000),
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

// ------------------------------------------------------------------ the child

async function childMain(): Promise<void> {
  const { startRelay, StreamSource } = await import('../electron/relay/index.ts');
  type Relay = Awaited<ReturnType<typeof startRelay>>;
  let relay: Relay | undefined;
  let upstreamDrops = 0;
  const upstreamReasons: string[] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  const live = (): Relay => {
    if (relay === undefined) throw new Error('no relay started');
    return relay;
  };

  serveParent(
    {
      start: async ({ options }: { options: RelayOptions }) => {
        if (relay !== undefined) throw new Error('already started');
        relay = await startRelay(options);
        const started = relay;
        let wasLive = false;
        const onState = (state: string, reason: string | undefined): void => {
          if (state === 'live') wasLive = true;
          else if (wasLive) {
            wasLive = false;
            upstreamDrops += 1;
            upstreamReasons.push(`${state}: ${reason ?? ''}`);
            if (upstreamReasons.length > 10) upstreamReasons.shift();
          }
        };
        // A StreamClient upstream says why it dropped; any other (NATS) only that it changed.
        const up = started.upstream;
        if (up instanceof StreamSource) up.client.on('state', (c) => onState(c.state, c.reason));
        else up.onChange(() => onState(up.state, undefined));
        const deadline = Date.now() + 30_000;
        while (started.upstream.state !== 'live') {
          if (Date.now() > deadline) {
            throw new Error(
              `the relay's upstream is not live after 30 s (${started.upstream.state})`,
            );
          }
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        return { pid: process.pid, url: started.urlFor() };
      },
      memory: (): RelayMemory => {
        if (gc === undefined) throw new Error('the relay process needs --expose-gc');
        for (let i = 0; i < 3; i++) gc();
        const m = process.memoryUsage();
        return { heapUsed: m.heapUsed, external: m.external, rss: m.rss };
      },
      snapshot: (): RelaySnapshot => {
        const r = live();
        return {
          stats: r.stats(),
          footprint: r.footprint(),
          clients: r.clients(),
          upstreamDrops,
          upstreamReasons: [...upstreamReasons],
        };
      },
    },
    async () => {
      await relay?.close();
    },
  );
}

if (process.argv[1] === RELAY_PATH) {
  childMain().catch((err: unknown) => {
    console.error('relay process failed:', err);
    process.exit(1);
  });
}
