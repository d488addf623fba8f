/**
 * Section `fanout` (issue 14): one upstream at 20k msgs/s served by the relay to 50 clients (25
 * JSON, 25 msgpack), against the same 50 clients connected straight to the upstream in the same
 * run. Every part is its own process on loopback: the blaster (the load, paced as in the latency
 * section: one frame per ~1 ms tick, its last item a marker trade numbered by frame), the relay
 * (bench/fanout-relay.ts: startRelay, so /proc shows its CPU and memory alone) and the clients
 * (bench/fanout-clients.ts: bare ws + decode, four processes).
 *
 * Legs: `relay` (blaster -> relay -> clients) and `nats` (blaster -> holder relay publishing to a
 * nats-server started here -> downstream relay fed from NATS -> clients; left out, with the
 * reason, where there is no nats-server).
 *
 * Phases: (1) direct: the blaster paces the same frames to all 50 clients, stamping each send;
 * (2) per leg: the blaster paces its frames to the leg's upstream connection, the relay fans them
 * out. A client stamps each marker once its frame is decoded, on the same CLOCK_MONOTONIC.
 * Figures per leg: per client, p99 through the relay minus its own p99 direct (the relay's added
 * latency; target <= 5 ms for the worst client); the relay's CPU (utime + stime from /proc) per
 * message sent to a client; its heap (after gc) and RSS per client, 50 clients connected and
 * subscribed against none; items lost or duplicated, frame by frame (must be 0); the machine's
 * busy share and load average.
 *
 * Why a direct baseline rather than a stamp at the relay's receive: relay-receive to client
 * dispatch would leave out the relay's own socket read and decode (part of what it adds), and
 * put in the client's decode, which the client pays with or without a relay. The difference of
 * the same clients' p99s under the same load, through the relay and not, charges the relay with
 * exactly the hop it adds: a second socket, its decode, normalization, re-encoding and 50 sends.
 */
import os from 'node:os';
import { target, type Section, type SectionResult, type Table, type Target } from './lib/report.ts';
import {
  addedLatency,
  checkDelivery,
  checkDeliveryUnordered,
  latencySamples,
  type Delivery,
} from './lib/delivery.ts';
import { busyShare, clockTicksPerSecond, machineTicks, processTicks } from './lib/proc-cpu.ts';
import { NatsServer, natsMissing } from './lib/nats-server.ts';
import { idleRssMiB, rssMiB } from './lib/rss.ts';
import { latencySummary, median } from './lib/stats.ts';
import { startBlaster, type Blaster, type PaceManyStats } from './blaster.ts';
import { DEFAULT_SEED, DEFAULT_SYMBOLS, MARKER_SYMBOL } from './feed.ts';
import { startFanoutClients, type FanoutClients } from './fanout-clients.ts';
import {
  startRelayProcess,
  type RelayMemory,
  type RelayProcess,
  type RelaySnapshot,
} from './fanout-relay.ts';
import type { RelayUpstream } from '../electron/relay/index.ts';
import type { Codec } from '../shared/market.ts';

export const FANOUT_RATE = 20_000;
export const FANOUT_CLIENTS = 50;
/**
 * After the sender is done, clients wait for the rest while markers keep coming, and call what
 * has not come after this long without one lost.
 */
const RESULT_IDLE_MS = 5_000;
const RESULT_TIMEOUT_MS = 120_000;
/** Added p99 of the worst client, ms (issue 14). */
export const ADDED_P99_TARGET_MS = 5;

/** A process whose CPU is part of a leg's cost. */
export interface MeasuredProcess {
  readonly name: string;
  readonly kind: 'relay' | 'nats-server';
  readonly pid: number;
}

/** What a leg puts between the blaster and the clients. */
export interface LegSetup {
  /** Where the clients connect (the feed path included). */
  readonly url: string;
  /** The blaster connection the leg's upstream opened: the one that is paced. */
  readonly upstreamId: string;
  /** The relay the clients connect to: memory per client is read from it. */
  readonly serving: RelayProcess;
  /** Every relay process of the leg, upstream first: their CPU together is the relay cost. */
  readonly relays: readonly RelayProcess[];
  /** Other processes on the leg's path (the nats-server): measured, reported on their own. */
  readonly others: readonly MeasuredProcess[];
  /** Once the clients have their echo: waits until paced data reaches them (NATS: the lease). */
  settle?(): Promise<void>;
  /** Stops what the leg started besides its relays; called after they are closed. */
  close?(): Promise<void>;
}

export interface Leg {
  readonly name: string;
  readonly description: string;
  /**
   * Whether the added-p99 target applies: it is the relay's (one hop); a longer path has its
   * figure printed with what it includes, not judged against it.
   */
  readonly addedTarget: boolean;
  /** What the leg's added latency is made of, for the table's note. */
  readonly adds: string;
  /**
   * `frame`: items reach a client in the order paced, checked frame by frame; `subject`: order is
   * kept per type and symbol only (NATS subjects), lost and duplicated are the net of the totals.
   */
  readonly order: 'frame' | 'subject';
  /** Why the leg cannot run on this machine (a program missing), or undefined when it can. */
  unavailable?(): string | undefined;
  start(blaster: Blaster): Promise<LegSetup>;
}

/** Any key: the blaster takes every key, and a relay without keys runs in loopback demo mode. */
const UPSTREAM_KEY = 'PKBENCH';
const UPSTREAM_SECRET = 'bench-secret';

/** The relay's upstream on the blaster connection `id`, as the app holds Alpaca's. */
function blasterUpstream(blaster: Blaster, id: string): RelayUpstream {
  return {
    url: blaster.url(id),
    key: UPSTREAM_KEY,
    secret: UPSTREAM_SECRET,
    // The app's default codec towards Alpaca.
    codec: 'msgpack',
    // Between phases the upstream idles for seconds: no staleness reconnect meanwhile.
    client: { staleAfterMs: 0 },
  };
}

/** blaster -> relay -> 50 clients. */
export const RELAY_LEG: Leg = {
  name: 'relay',
  description: 'blaster -> relay (msgpack upstream) -> clients',
  addedTarget: true,
  order: 'frame',
  adds: "relay: the relay's socket read, decode, normalization, re-encoding and sends",
  async start(blaster) {
    const relay = await startRelayProcess('relay', {
      upstream: blasterUpstream(blaster, 'relay'),
      maxClients: 64,
    });
    return { url: relay.url, upstreamId: 'relay', serving: relay, relays: [relay], others: [] };
  },
};

const SETTLE_TIMEOUT_MS = 30_000;

/**
 * blaster -> holder relay -> nats-server -> downstream relay -> 50 clients (issue 14 part 2): the
 * holder holds the one upstream connection and publishes to a nats-server started for the leg on
 * a free loopback port; the downstream relay is fed from NATS and serves the clients, announcing
 * their interest, which the holder's lease turns into its upstream subscription.
 */
export const NATS_LEG: Leg = {
  name: 'nats',
  description:
    'blaster -> holder relay (msgpack upstream, publishes) -> nats-server -> downstream relay -> clients',
  addedTarget: false,
  // The holder publishes a message per subject for all it read at once (nats-publisher.ts).
  order: 'subject',
  adds:
    'nats: two relays and the nats-server: the holder (read, decode, normalization, msgpack per ' +
    'subject, publish), two NATS socket hops, the downstream relay (unpack, re-encoding and sends)',
  unavailable: () => natsMissing,
  async start(blaster) {
    const server = new NatsServer();
    const started: RelayProcess[] = [];
    try {
      await server.start();
      const pid = server.pid;
      if (pid === undefined) throw new Error('nats-server exited as it started');
      started.push(
        await startRelayProcess('holder', {
          upstream: blasterUpstream(blaster, 'holder'),
          publish: { nats: server.url },
        }),
      );
      const downstream = await startRelayProcess('downstream', {
        upstream: { nats: server.url },
        maxClients: 64,
      });
      started.push(downstream);
      const holder = started[0] as RelayProcess;
      return {
        url: downstream.url,
        upstreamId: 'holder',
        serving: downstream,
        relays: [holder, downstream],
        others: [{ name: 'nats-server', kind: 'nats-server', pid }],
        // A client's echo can come without the holder's answer (the relay's settle timeout):
        // data flows only once the holder leases every pair the downstream relay announces.
        async settle() {
          const deadline = Date.now() + SETTLE_TIMEOUT_MS;
          for (;;) {
            const [up, down] = await Promise.all([holder.snapshot(), downstream.snapshot()]);
            const wanted = down.stats.upstream.desiredPairs;
            const leased = up.stats.publish?.leasedPairs ?? 0;
            if (down.stats.upstream.nats?.holderSeen === true && wanted > 0 && leased === wanted) {
              return;
            }
            if (Date.now() > deadline) {
              throw new Error(
                `nats: the holder leases ${leased} of the ${wanted} pairs the downstream relay ` +
                  `wants after ${SETTLE_TIMEOUT_MS / 1000} s`,
              );
            }
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        },
        close: () => server.kill(),
      };
    } catch (err) {
      for (const r of started.reverse()) await r.close();
      await server.kill();
      throw err;
    }
  },
};

export const LEGS: readonly Leg[] = [RELAY_LEG, NATS_LEG];

export interface FanoutOptions {
  readonly rate: number;
  readonly clients: number;
  /** Client processes; even ones JSON, odd ones msgpack. */
  readonly clientProcesses: number;
  readonly durationMs: number;
  /** Frames sent in this first part of each phase count for delivery, not for latency. */
  readonly warmupMs: number;
  readonly legs: readonly Leg[];
  readonly symbols?: number;
  readonly seed?: number;
  readonly log?: (line: string) => void;
}

export interface ClientFigures {
  readonly codec: Codec;
  readonly latency: ReturnType<typeof latencySummary>;
  readonly delivery: Delivery;
  /** Items counted under another frame's marker (a `subject`-order leg; 0 elsewhere when clean). */
  readonly displaced: number;
  readonly outOfOrder: number;
  readonly problems: readonly string[];
}

export interface PhaseFigures {
  readonly label: string;
  readonly frames: number;
  readonly messages: number;
  readonly achievedRate: number;
  readonly blasterMaxBuffered: number;
  readonly clients: readonly ClientFigures[];
  /** CPU seconds of the leg's relays over the phase (none for direct). */
  readonly relayCpuS: number;
  /** CPU seconds of each measured process of the leg (relays and nats-server), in leg order. */
  readonly processCpuS: readonly {
    readonly name: string;
    readonly kind: string;
    readonly cpuS: number;
  }[];
  readonly seconds: number;
  /** Share of the whole machine busy over the phase (0..1). */
  readonly machineBusy: number;
  readonly loadAverage: number;
}

/** One process of a leg over its phase. */
export interface ProcessCost {
  readonly name: string;
  readonly kind: MeasuredProcess['kind'];
  readonly cpuS: number;
  /** CPU per message paced (what entered the leg), µs. */
  readonly usPerMessageIn: number;
  /** CPU per message the serving relay sent to a client, µs. */
  readonly usPerClientMessage: number;
  /** RSS after the data, clients still connected (one /proc reading). */
  readonly rssMiB: number;
}

/** A relay's counters over the phase. */
export interface RelayCounts {
  readonly name: string;
  readonly messagesIn: number;
  readonly messagesOut: number;
  /** Data messages a publishing relay could not publish (NATS down). */
  readonly natsDropped: number;
  readonly upstreamDrops: number;
}

export interface LegFigures {
  readonly leg: string;
  readonly description: string;
  readonly addedTarget: boolean;
  readonly adds: string;
  readonly order: Leg['order'];
  readonly phase: PhaseFigures;
  /** Per client, relayed p99 minus direct p99 (ms), in client order. */
  readonly addedP99: readonly number[];
  /** The serving relay's (the one the clients are on). */
  readonly relayMessagesIn: number;
  readonly relayMessagesOut: number;
  /** Every relay of the leg, upstream first. */
  readonly relayCounts: readonly RelayCounts[];
  readonly relayErrors: Readonly<Record<string, number>>;
  /**
   * Upstream reconnects during the phase, all relays (the StreamClient's pong timeout when it
   * falls behind; a NATS reconnect).
   */
  readonly upstreamDrops: number;
  /** CPU of the leg's relays (all of them) per message sent to a client, µs. */
  readonly cpuUsPerClientMessage: number;
  /** Every measured process, the nats-server included. */
  readonly processes: readonly ProcessCost[];
  readonly memory: {
    readonly none: RelayMemory & { readonly rssMiB: number };
    readonly connected: RelayMemory & { readonly rssMiB: number };
    readonly afterData: RelayMemory & { readonly rssMiB: number };
    readonly left: RelayMemory & { readonly rssMiB: number };
  };
}

export interface FanoutMeasurement {
  readonly options: Omit<FanoutOptions, 'legs' | 'log'> & { readonly legs: readonly string[] };
  readonly direct: PhaseFigures;
  readonly legs: readonly LegFigures[];
  /** Legs left out on this machine, and why (not a failure). */
  readonly skipped: readonly { readonly leg: string; readonly reason: string }[];
  readonly problems: readonly string[];
}

interface ClientGroup {
  readonly proc: FanoutClients;
  readonly codec: Codec;
  /** Global client numbers, in order. */
  readonly members: readonly number[];
}

/** Client k's codec and process: processes alternate codecs, clients go round the processes. */
function groupsOf(clients: number, processes: number): { codec: Codec; members: number[] }[] {
  const groups = Array.from({ length: processes }, (_, p) => {
    const codec: Codec = p % 2 === 0 ? 'json' : 'msgpack';
    return { codec, members: [] as number[] };
  });
  for (let k = 0; k < clients; k++) groups[k % processes]?.members.push(k);
  return groups;
}

async function memoryOf(relay: RelayProcess): Promise<RelayMemory & { rssMiB: number }> {
  const m = await relay.memory();
  return { ...m, rssMiB: await idleRssMiB(relay.pid, 5, 100) };
}

/** Paces one phase and gathers every client's record; `sentFor` maps client k to its send stamps. */
async function runPhase(
  label: string,
  blaster: Blaster,
  groups: readonly ClientGroup[],
  paceIds: readonly string[],
  sentFor: (paced: PaceManyStats, k: number) => BigInt64Array,
  measured: readonly MeasuredProcess[],
  order: Leg['order'],
  options: FanoutOptions,
): Promise<PhaseFigures> {
  const capacity = Math.ceil(options.durationMs * 1.5) + 64;
  await Promise.all(groups.map((g) => g.proc.arm(capacity)));
  const machine0 = machineTicks();
  const cpu0 = measured.map((p) => processTicks(p.pid) ?? Number.NaN);
  const t0 = performance.now();
  const paced = await blaster.paceMany(paceIds, options.rate, options.durationMs);
  const records = await Promise.all(
    groups.map((g) => g.proc.result(paced.frames, RESULT_IDLE_MS, RESULT_TIMEOUT_MS)),
  );
  // After the last marker reached every client: the relay's sends are part of its work.
  const cpu1 = measured.map((p) => processTicks(p.pid) ?? Number.NaN);
  const machine1 = machineTicks();
  const seconds = (performance.now() - t0) / 1000;
  const hz = clockTicksPerSecond();
  const processCpuS = measured.map((p, i) => ({
    name: p.name,
    kind: p.kind,
    cpuS: ((cpu1[i] ?? Number.NaN) - (cpu0[i] ?? Number.NaN)) / hz,
  }));
  const relayCpuS = processCpuS
    .filter((p) => p.kind === 'relay')
    .reduce((sum, p) => sum + p.cpuS, 0);

  const warmupNs = paced.start + BigInt(Math.round(options.warmupMs * 1e6));
  const clients: ClientFigures[] = [];
  const byClient = new Map<number, ClientFigures>();
  groups.forEach((g, gi) => {
    const got = records[gi] ?? [];
    g.members.forEach((k, i) => {
      const record = got[i];
      if (record === undefined) throw new Error(`${label}: no record for client ${k}`);
      const loose = checkDeliveryUnordered(paced.sizes, record);
      byClient.set(k, {
        codec: g.codec,
        latency: latencySummary(latencySamples(sentFor(paced, k), record.received, warmupNs)),
        delivery: order === 'frame' ? checkDelivery(paced.sizes, record) : loose.delivery,
        displaced: loose.displaced,
        outOfOrder: record.outOfOrder,
        problems:
          record.waited.ended === 'all'
            ? record.problems
            : [
                `stopped waiting (${record.waited.ended}) ${Math.round(record.waited.ms)} ms after the sender`,
                ...record.problems,
              ],
      });
    });
  });
  for (let k = 0; k < byClient.size; k++) clients.push(byClient.get(k) as ClientFigures);
  const last = paced.stamps[0]?.[paced.frames - 1] ?? paced.start;
  const spanS = Number(last - paced.start) / 1e9;
  const worst = Math.max(...clients.map((c) => c.latency.p99));
  const lost = clients.reduce((s, c) => s + c.delivery.lost + c.delivery.duplicated, 0);
  options.log?.(
    `fanout ${label}: ${paced.frames} frames, ${paced.messages} messages; p99 median client ` +
      `${median(clients.map((c) => c.latency.p99)).toFixed(3)} ms, worst ${worst.toFixed(3)} ms; ` +
      `lost+duplicated ${lost}; ` +
      (processCpuS.length === 0
        ? 'relay CPU 0 s'
        : `CPU ${processCpuS.map((p) => `${p.name} ${p.cpuS.toFixed(2)} s`).join(', ')}`),
  );
  return {
    label,
    frames: paced.frames,
    messages: paced.messages,
    achievedRate: spanS > 0 ? paced.messages / spanS : Number.NaN,
    blasterMaxBuffered: paced.maxBuffered,
    clients,
    relayCpuS,
    processCpuS,
    seconds,
    machineBusy: machine0 && machine1 ? busyShare(machine0, machine1) : Number.NaN,
    loadAverage: os.loadavg()[0] ?? Number.NaN,
  };
}

/** Relays downstream first (their goodbyes reach the holder), then the rest of the leg. */
async function closeLeg(setup: LegSetup): Promise<void> {
  for (const r of [...setup.relays].reverse()) await r.close();
  await setup.close?.();
}

async function connectAll(
  groups: readonly ClientGroup[],
  urlOf: (k: number) => string,
): Promise<void> {
  await Promise.all(groups.map((g) => g.proc.connect(g.members.map(urlOf), g.codec)));
}

/** The direct phase, then each leg; stops every process, also on failure. */
export async function measureFanout(options: FanoutOptions): Promise<FanoutMeasurement> {
  const log = options.log ?? (() => undefined);
  const seed = options.seed ?? DEFAULT_SEED;
  const symbols = options.symbols ?? DEFAULT_SYMBOLS;
  const problems: string[] = [];
  let blaster: Blaster | undefined;
  const groups: ClientGroup[] = [];
  const skipped: { leg: string; reason: string }[] = [];
  /** The leg running, to be stopped by the `finally` when something throws. */
  let current: LegSetup | undefined;
  try {
    blaster = await startBlaster({ seed, symbols, messages: 0, paceItems: 100_000 });
    const b = blaster;
    for (const [p, g] of groupsOf(options.clients, options.clientProcesses).entries()) {
      if (g.members.length === 0) continue;
      const proc = await startFanoutClients(`fanout-clients-${p}-${g.codec}`, MARKER_SYMBOL);
      groups.push({ proc, codec: g.codec, members: g.members });
    }

    // Phase 1: the same clients straight from the upstream.
    const directIds = Array.from({ length: options.clients }, (_, k) => `direct-${k}`);
    await connectAll(groups, (k) => b.url(directIds[k] as string));
    const direct = await runPhase(
      'direct',
      b,
      groups,
      directIds,
      (paced, k) => paced.stamps[k] as BigInt64Array,
      [],
      'frame',
      options,
    );
    await Promise.all(groups.map((g) => g.proc.disconnect()));

    const legs: LegFigures[] = [];
    for (const leg of options.legs) {
      const why = leg.unavailable?.();
      if (why !== undefined) {
        log(`fanout: leg ${leg.name} skipped: ${why}`);
        skipped.push({ leg: leg.name, reason: why });
        continue;
      }
      log(`fanout: leg ${leg.name}: ${leg.description}`);
      const setup = await leg.start(b);
      current = setup;
      const none = await memoryOf(setup.serving);
      await connectAll(groups, () => setup.url);
      await setup.settle?.();
      const connected = await memoryOf(setup.serving);
      const before = await Promise.all(setup.relays.map((r) => r.snapshot()));
      const measured: MeasuredProcess[] = [
        ...setup.relays.map((r) => ({ name: r.name, kind: 'relay' as const, pid: r.pid })),
        ...setup.others,
      ];
      const phase = await runPhase(
        leg.name,
        b,
        groups,
        [setup.upstreamId],
        (paced) => paced.stamps[0] as BigInt64Array,
        measured,
        leg.order,
        options,
      );
      const after = await Promise.all(setup.relays.map((r) => r.snapshot()));
      const rssAfter = measured.map((p) => rssMiB(p.pid) ?? Number.NaN);
      const afterData = await memoryOf(setup.serving);
      await Promise.all(groups.map((g) => g.proc.disconnect()));
      const deadline = Date.now() + 10_000;
      while ((await setup.serving.snapshot()).footprint.clients > 0) {
        if (Date.now() > deadline) {
          problems.push(`${leg.name}: clients still on the relay 10 s after they closed`);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const left = await memoryOf(setup.serving);
      const relayCounts = setup.relays.map((r, i): RelayCounts => {
        const a = after[i] as RelaySnapshot;
        const z = before[i] as RelaySnapshot;
        const drops = a.upstreamDrops - z.upstreamDrops;
        if (drops > 0) {
          problems.push(
            `${leg.name}: the ${r.name} relay's upstream left live ${drops} time(s), latest: ${a.upstreamReasons.at(-1) ?? '?'}`,
          );
        }
        const natsDropped = (a.stats.publish?.dropped ?? 0) - (z.stats.publish?.dropped ?? 0);
        if (natsDropped > 0) {
          problems.push(
            `${leg.name}: the ${r.name} relay could not publish ${natsDropped} messages`,
          );
        }
        return {
          name: r.name,
          messagesIn: a.stats.counters.messagesIn - z.stats.counters.messagesIn,
          messagesOut: a.stats.counters.messagesOut - z.stats.counters.messagesOut,
          natsDropped,
          upstreamDrops: drops,
        };
      });
      const serving = relayCounts[setup.relays.indexOf(setup.serving)] as RelayCounts;
      const servingAfter = after[setup.relays.indexOf(setup.serving)] as RelaySnapshot;
      const messagesOut = serving.messagesOut;
      const addedP99 = addedLatency(
        direct.clients.map((c) => c.latency.p99),
        phase.clients.map((c) => c.latency.p99),
      );
      log(
        `fanout ${leg.name}: added p99 median client ${median(addedP99).toFixed(3)} ms, worst ` +
          `${Math.max(...addedP99).toFixed(3)} ms` +
          (leg.addedTarget ? '' : ` (no target; it includes ${leg.adds.replace(/^\w+: /, '')})`),
      );
      const perOut = (cpuS: number): number =>
        messagesOut > 0 ? (cpuS * 1e6) / messagesOut : Number.NaN;
      legs.push({
        leg: leg.name,
        description: leg.description,
        addedTarget: leg.addedTarget,
        adds: leg.adds,
        order: leg.order,
        phase,
        addedP99,
        relayMessagesIn: serving.messagesIn,
        relayMessagesOut: messagesOut,
        relayCounts,
        relayErrors: servingAfter.stats.counters.errorsSent,
        upstreamDrops: relayCounts.reduce((sum, r) => sum + r.upstreamDrops, 0),
        cpuUsPerClientMessage: perOut(phase.relayCpuS),
        processes: phase.processCpuS.map((p, i) => ({
          name: p.name,
          kind: p.kind as MeasuredProcess['kind'],
          cpuS: p.cpuS,
          usPerMessageIn: phase.messages > 0 ? (p.cpuS * 1e6) / phase.messages : Number.NaN,
          usPerClientMessage: perOut(p.cpuS),
          rssMiB: rssAfter[i] ?? Number.NaN,
        })),
        memory: { none, connected, afterData, left },
      });
      current = undefined;
      await closeLeg(setup);
    }
    for (const phase of [direct, ...legs.map((l) => l.phase)]) {
      for (const [k, c] of phase.clients.entries()) {
        for (const text of c.problems) problems.push(`${phase.label} client ${k}: ${text}`);
        if (c.outOfOrder > 0) {
          problems.push(`${phase.label} client ${k}: ${c.outOfOrder} markers out of order`);
        }
      }
    }
    // A client process far behind, an upstream drop: said on the terminal, not only in the JSON.
    const clientProblems = problems.filter((p) => / client \d+: /.test(p)).length;
    for (const p of problems.filter((p) => !/ client \d+: /.test(p))) log(`fanout: ${p}`);
    if (clientProblems > 0) log(`fanout: ${clientProblems} client problem(s), in the results file`);
    return {
      options: {
        rate: options.rate,
        clients: options.clients,
        clientProcesses: options.clientProcesses,
        durationMs: options.durationMs,
        warmupMs: options.warmupMs,
        symbols,
        seed,
        legs: options.legs.map((l) => l.name),
      },
      direct,
      legs,
      skipped,
      problems: problems.slice(0, 50),
    };
  } finally {
    if (current !== undefined) await closeLeg(current);
    await Promise.all(groups.map((g) => g.proc.close()));
    await blaster?.close();
  }
}

const ms3 = (x: number): number => Math.round(x * 1000) / 1000;
const kib = (bytes: number): number => Math.round(bytes / 102.4) / 10;
const mib = (bytes: number): number => Math.round(bytes / 2 ** 20 / 0.1) / 10;

function lossOf(clients: readonly ClientFigures[]): {
  lost: number;
  duplicated: number;
  displaced: number;
} {
  let lost = 0;
  let duplicated = 0;
  let displaced = 0;
  for (const c of clients) {
    lost += c.delivery.lost;
    duplicated += c.delivery.duplicated;
    displaced += c.displaced;
  }
  return { lost, duplicated, displaced };
}

export function fanoutResult(m: FanoutMeasurement, quick: boolean): SectionResult {
  const o = m.options;
  const latencyRows: (string | number | null)[][] = [];
  const addRows = (label: string, phase: PhaseFigures, added: readonly number[] | undefined) => {
    for (const codec of ['json', 'msgpack', 'all'] as const) {
      const idx = phase.clients
        .map((c, k) => ({ c, k }))
        .filter(({ c }) => codec === 'all' || c.codec === codec);
      const p99s = idx.map(({ c }) => c.latency.p99);
      const adds = added === undefined ? [] : idx.map(({ k }) => added[k] as number);
      const loss = lossOf(idx.map(({ c }) => c));
      latencyRows.push([
        label,
        codec,
        idx.length,
        ms3(median(idx.map(({ c }) => c.latency.p50))),
        ms3(median(p99s)),
        ms3(Math.max(...p99s)),
        adds.length > 0 ? ms3(median(adds)) : null,
        adds.length > 0 ? ms3(Math.max(...adds)) : null,
        loss.lost,
        loss.duplicated,
        loss.displaced,
      ]);
    }
  };
  addRows('direct (baseline)', m.direct, undefined);
  for (const leg of m.legs) addRows(leg.leg, leg.phase, leg.addedP99);

  const latencyTable: Table = {
    title: `Fan-out: socket to dispatch per client, ${o.rate.toLocaleString('en-US')} msgs/s to ${o.clients} clients`,
    columns: [
      'path',
      'codec',
      'clients',
      'p50 ms (median client)',
      'p99 ms (median client)',
      'p99 ms (worst client)',
      'added p99 ms (median)',
      'added p99 ms (worst)',
      'lost',
      'duplicated',
      'displaced',
    ],
    rows: latencyRows,
    note:
      `${o.durationMs / 1000} s per phase, the first ${o.warmupMs / 1000} s left out of latency (not of ` +
      `delivery); send stamp per client connection just before ws.send (direct) or the relay's ` +
      `(relayed), receive stamp at the marker once its frame is decoded; added = the client's p99 ` +
      `relayed minus its own p99 direct; lost/duplicated: items, frame by frame against what was paced ` +
      `(${
        m.legs.some((l) => l.order === 'subject')
          ? `${m.legs
              .filter((l) => l.order === 'subject')
              .map((l) => l.leg)
              .join(', ')}: the net of the totals, as order is kept per subject only; `
          : ''
      }` +
      `displaced: items counted under a neighbouring frame's marker, neither lost nor doubled); ` +
      `clients: bare ws + decode in ${o.clientProcesses} processes${quick ? ' (quick mode)' : ''}` +
      m.legs.map((l) => `; added on ${l.adds}`).join('') +
      m.skipped.map((s) => `; leg ${s.leg} skipped: ${s.reason}`).join(''),
  };

  const costRows = m.legs.map((l) => {
    const per = (a: number, b: number): number => (a - b) / o.clients;
    const mem = l.memory;
    return [
      l.leg,
      l.phase.messages,
      l.relayMessagesOut,
      Math.round((l.phase.relayCpuS / l.phase.seconds) * 1000) / 10,
      Math.round(((l.phase.relayCpuS * 1e6) / Math.max(1, l.relayMessagesIn)) * 100) / 100,
      Math.round(l.cpuUsPerClientMessage * 1000) / 1000,
      mib(mem.none.heapUsed),
      mib(mem.connected.heapUsed),
      kib(per(mem.connected.heapUsed, mem.none.heapUsed)),
      Math.round(mem.none.rssMiB * 10) / 10,
      Math.round(mem.connected.rssMiB * 10) / 10,
      Math.round(mem.afterData.rssMiB * 10) / 10,
      kib(per(mem.connected.rssMiB * 2 ** 20, mem.none.rssMiB * 2 ** 20)),
      l.upstreamDrops,
      Math.round(l.phase.machineBusy * 1000) / 10,
    ];
  });
  const costTable: Table = {
    title: "Fan-out: the relays' cost",
    columns: [
      'leg',
      'msgs paced',
      'msgs to clients',
      'relay CPU % of a core',
      'CPU us/msg in',
      'CPU us/msg/client',
      'heap MiB 0 clients',
      `heap MiB ${o.clients}`,
      'heap KiB/client',
      'RSS MiB 0 clients',
      `RSS MiB ${o.clients}`,
      `RSS MiB ${o.clients} after data`,
      'RSS KiB/client',
      'upstream drops',
      'machine busy %',
    ],
    rows: costRows,
    note:
      `CPU: the relay processes' utime+stime from /proc over the phase (until every client had the last ` +
      `marker; a leg of two relays: both together, the nats-server apart, next table), per message in ` +
      `from the upstream and per message sent to a client; memory: the relay the clients are on; heap after 3 full ` +
      `gcs, RSS from /proc (median of 5 readings), with no client and with ${o.clients} connected and ` +
      `subscribed (before data); direct phase machine busy ${Math.round(m.direct.machineBusy * 1000) / 10} %, ` +
      `load average (1 min) ${m.direct.loadAverage.toFixed(2)} after the direct phase, ` +
      `${m.legs.map((l) => `${l.phase.loadAverage.toFixed(2)} after ${l.leg}`).join(', ')}`,
  };

  const processRows: (string | number | null)[][] = [];
  const cpuRow = (leg: string, name: string, cpuS: number, l: LegFigures, rss: number | null) => {
    processRows.push([
      leg,
      name,
      Math.round((cpuS / l.phase.seconds) * 1000) / 10,
      Math.round(((cpuS * 1e6) / Math.max(1, l.phase.messages)) * 100) / 100,
      Math.round(((cpuS * 1e6) / Math.max(1, l.relayMessagesOut)) * 1000) / 1000,
      rss === null ? null : Math.round(rss * 10) / 10,
    ]);
  };
  for (const l of m.legs) {
    for (const p of l.processes) cpuRow(l.leg, p.name, p.cpuS, l, p.rssMiB);
    if (l.processes.length > 1) {
      cpuRow(
        l.leg,
        'all',
        l.processes.reduce((sum, p) => sum + p.cpuS, 0),
        l,
        null,
      );
    }
  }
  const processTable: Table = {
    title: 'Fan-out: CPU per process on the path',
    columns: [
      'leg',
      'process',
      'CPU % of a core',
      'CPU us/msg paced',
      'CPU us/msg/client',
      'RSS MiB after data',
    ],
    rows: processRows,
    note:
      `utime+stime from /proc over the phase, per message the blaster paced and per message the ` +
      `serving relay sent to a client (${o.clients} clients; the holder and the nats-server do not ` +
      `work per client, their per-client figure is their share of the path); RSS: one /proc reading ` +
      `after the data, clients still connected`,
  };

  const targets: Target[] = [];
  for (const l of m.legs) {
    // The 5 ms is the relay's own budget: a path of two relays and a NATS server is reported in
    // the tables with what it includes, not judged against one hop's target.
    if (l.addedTarget) {
      targets.push(
        target(
          `fanout ${l.leg}: added p99, worst of ${o.clients} clients`,
          ms3(Math.max(...l.addedP99)),
          '<=',
          ADDED_P99_TARGET_MS,
          'ms',
        ),
      );
    }
    const loss = lossOf(l.phase.clients);
    targets.push(
      target(
        `fanout ${l.leg}: items lost or duplicated`,
        loss.lost + loss.duplicated,
        '<=',
        0,
        'items',
      ),
    );
  }
  return {
    name: 'fanout',
    tables: [latencyTable, costTable, processTable],
    targets,
    details: m,
  };
}

/** Full: 20 s per phase; quick: 5 s. The first second of each is warm-up for latency. */
export const run: Section = async (ctx) => {
  const m = await measureFanout({
    rate: FANOUT_RATE,
    clients: FANOUT_CLIENTS,
    clientProcesses: 4,
    durationMs: ctx.quick ? 5_000 : 20_000,
    warmupMs: 1_000,
    legs: LEGS,
    log: ctx.log,
  });
  return fanoutResult(m, ctx.quick);
};
