/**
 * Section `fanout` (issue 14): one upstream at 20k msgs/s served by the relay to 50 clients (25
 * JSON, 25 msgpack), against the same 50 clients connected straight to the upstream in the same
 * run. Every part is its own process on loopback: the blaster (the load, paced as in the latency
 * section: one frame per ~1 ms tick, its last item a marker trade numbered by frame), the relay
 * (bench/fanout-relay.ts: startRelay, so /proc shows its CPU and memory alone) and the clients
 * (bench/fanout-clients.ts: bare ws + decode, four processes).
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
import { addedLatency, checkDelivery, latencySamples, type Delivery } from './lib/delivery.ts';
import { busyShare, clockTicksPerSecond, machineTicks, processTicks } from './lib/proc-cpu.ts';
import { idleRssMiB } from './lib/rss.ts';
import { latencySummary, median } from './lib/stats.ts';
import { startBlaster, type Blaster, type PaceManyStats } from './blaster.ts';
import { DEFAULT_SEED, DEFAULT_SYMBOLS, MARKER_SYMBOL } from './feed.ts';
import { startFanoutClients, type FanoutClients } from './fanout-clients.ts';
import { startRelayProcess, type RelayMemory, type RelayProcess } from './fanout-relay.ts';
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

/** What a leg puts between the blaster and the clients. */
export interface LegSetup {
  /** Where the clients connect (the feed path included). */
  readonly url: string;
  /** The blaster connection the leg's upstream opened: the one that is paced. */
  readonly upstreamId: string;
  /** The relay the clients connect to: memory per client is read from it. */
  readonly serving: RelayProcess;
  /** Every relay process of the leg: their CPU together is the leg's cost. */
  readonly relays: readonly RelayProcess[];
}

export interface Leg {
  readonly name: string;
  readonly description: string;
  start(blaster: Blaster): Promise<LegSetup>;
}

/** Any key: the blaster takes every key, and a relay without keys runs in loopback demo mode. */
const UPSTREAM_KEY = 'PKBENCH';
const UPSTREAM_SECRET = 'bench-secret';

/** blaster -> relay -> 50 clients. */
export const RELAY_LEG: Leg = {
  name: 'relay',
  description: 'blaster -> relay (msgpack upstream) -> clients',
  async start(blaster) {
    const relay = await startRelayProcess('relay', {
      upstream: {
        url: blaster.url('relay'),
        key: UPSTREAM_KEY,
        secret: UPSTREAM_SECRET,
        // The app's default codec towards Alpaca.
        codec: 'msgpack',
        // Between phases the upstream idles for seconds: no staleness reconnect meanwhile.
        client: { staleAfterMs: 0 },
      },
      maxClients: 64,
    });
    return { url: relay.url, upstreamId: 'relay', serving: relay, relays: [relay] };
  },
};

// The NATS leg goes here (issue 14 part 2, branch `nats`): a holder relay on the blaster that
// publishes to NATS, startRelay({ upstream: <RelayUpstream for blaster.url('holder')>,
// publish: { nats } }), and a downstream relay fed from NATS, startRelay({ upstream: { nats } }),
// serving the clients: upstreamId 'holder', serving the downstream relay, relays both. It needs
// a nats-server on 127.0.0.1 (started here, and the leg skipped with the reason where there is none).
export const LEGS: readonly Leg[] = [RELAY_LEG];

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
  readonly seconds: number;
  /** Share of the whole machine busy over the phase (0..1). */
  readonly machineBusy: number;
  readonly loadAverage: number;
}

export interface LegFigures {
  readonly leg: string;
  readonly description: string;
  readonly phase: PhaseFigures;
  /** Per client, relayed p99 minus direct p99 (ms), in client order. */
  readonly addedP99: readonly number[];
  readonly relayMessagesIn: number;
  readonly relayMessagesOut: number;
  readonly relayErrors: Readonly<Record<string, number>>;
  /** Upstream reconnects during the phase (the StreamClient's pong timeout when it falls behind). */
  readonly upstreamDrops: number;
  /** Relay CPU per message sent to a client, µs. */
  readonly cpuUsPerClientMessage: number;
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
  relays: readonly RelayProcess[],
  options: FanoutOptions,
): Promise<PhaseFigures> {
  const capacity = Math.ceil(options.durationMs * 1.5) + 64;
  await Promise.all(groups.map((g) => g.proc.arm(capacity)));
  const machine0 = machineTicks();
  const cpu0 = relays.map((r) => processTicks(r.pid) ?? Number.NaN);
  const t0 = performance.now();
  const paced = await blaster.paceMany(paceIds, options.rate, options.durationMs);
  const records = await Promise.all(
    groups.map((g) => g.proc.result(paced.frames, RESULT_IDLE_MS, RESULT_TIMEOUT_MS)),
  );
  // After the last marker reached every client: the relay's sends are part of its work.
  const cpu1 = relays.map((r) => processTicks(r.pid) ?? Number.NaN);
  const machine1 = machineTicks();
  const seconds = (performance.now() - t0) / 1000;
  const hz = clockTicksPerSecond();
  const relayCpuS = cpu1.reduce((sum, t, i) => sum + (t - (cpu0[i] ?? Number.NaN)), 0) / hz;

  const warmupNs = paced.start + BigInt(Math.round(options.warmupMs * 1e6));
  const clients: ClientFigures[] = [];
  const byClient = new Map<number, ClientFigures>();
  groups.forEach((g, gi) => {
    const got = records[gi] ?? [];
    g.members.forEach((k, i) => {
      const record = got[i];
      if (record === undefined) throw new Error(`${label}: no record for client ${k}`);
      byClient.set(k, {
        codec: g.codec,
        latency: latencySummary(latencySamples(sentFor(paced, k), record.received, warmupNs)),
        delivery: checkDelivery(paced.sizes, record),
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
      `lost+duplicated ${lost}; relay CPU ${relayCpuS.toFixed(2)} s`,
  );
  return {
    label,
    frames: paced.frames,
    messages: paced.messages,
    achievedRate: spanS > 0 ? paced.messages / spanS : Number.NaN,
    blasterMaxBuffered: paced.maxBuffered,
    clients,
    relayCpuS,
    seconds,
    machineBusy: machine0 && machine1 ? busyShare(machine0, machine1) : Number.NaN,
    loadAverage: os.loadavg()[0] ?? Number.NaN,
  };
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
  const relays: RelayProcess[] = [];
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
      options,
    );
    await Promise.all(groups.map((g) => g.proc.disconnect()));

    const legs: LegFigures[] = [];
    for (const leg of options.legs) {
      log(`fanout: leg ${leg.name}: ${leg.description}`);
      const setup = await leg.start(b);
      relays.push(...setup.relays);
      const none = await memoryOf(setup.serving);
      await connectAll(groups, () => setup.url);
      const connected = await memoryOf(setup.serving);
      const before = await setup.serving.snapshot();
      const phase = await runPhase(
        leg.name,
        b,
        groups,
        [setup.upstreamId],
        (paced) => paced.stamps[0] as BigInt64Array,
        setup.relays,
        options,
      );
      const after = await setup.serving.snapshot();
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
      const drops = after.upstreamDrops - before.upstreamDrops;
      if (drops > 0) {
        problems.push(
          `${leg.name}: the relay's upstream left live ${drops} time(s), latest: ${after.upstreamReasons.at(-1) ?? '?'}`,
        );
      }
      const messagesOut = after.stats.counters.messagesOut - before.stats.counters.messagesOut;
      const addedP99 = addedLatency(
        direct.clients.map((c) => c.latency.p99),
        phase.clients.map((c) => c.latency.p99),
      );
      legs.push({
        leg: leg.name,
        description: leg.description,
        phase,
        addedP99,
        relayMessagesIn: after.stats.counters.messagesIn - before.stats.counters.messagesIn,
        relayMessagesOut: messagesOut,
        relayErrors: after.stats.counters.errorsSent,
        upstreamDrops: drops,
        cpuUsPerClientMessage: messagesOut > 0 ? (phase.relayCpuS * 1e6) / messagesOut : Number.NaN,
        memory: { none, connected, afterData, left },
      });
      for (const r of setup.relays) await r.close();
      relays.splice(0);
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
      problems: problems.slice(0, 50),
    };
  } finally {
    for (const r of relays) await r.close();
    await Promise.all(groups.map((g) => g.proc.close()));
    await blaster?.close();
  }
}

const ms3 = (x: number): number => Math.round(x * 1000) / 1000;
const kib = (bytes: number): number => Math.round(bytes / 102.4) / 10;
const mib = (bytes: number): number => Math.round(bytes / 2 ** 20 / 0.1) / 10;

function lossOf(clients: readonly ClientFigures[]): { lost: number; duplicated: number } {
  let lost = 0;
  let duplicated = 0;
  for (const c of clients) {
    lost += c.delivery.lost;
    duplicated += c.delivery.duplicated;
  }
  return { lost, duplicated };
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
    ],
    rows: latencyRows,
    note:
      `${o.durationMs / 1000} s per phase, the first ${o.warmupMs / 1000} s left out of latency (not of ` +
      `delivery); send stamp per client connection just before ws.send (direct) or the relay's ` +
      `(relayed), receive stamp at the marker once its frame is decoded; added = the client's p99 ` +
      `relayed minus its own p99 direct; lost/duplicated: items, frame by frame against what was paced; ` +
      `clients: bare ws + decode in ${o.clientProcesses} processes${quick ? ' (quick mode)' : ''}`,
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
    title: "Fan-out: the relay's cost",
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
      `CPU: the relay process's utime+stime from /proc over the phase (until every client had the last ` +
      `marker), per message in from the upstream and per message sent to a client; heap after 3 full ` +
      `gcs, RSS from /proc (median of 5 readings), with no client and with ${o.clients} connected and ` +
      `subscribed (before data); direct phase machine busy ${Math.round(m.direct.machineBusy * 1000) / 10} %, ` +
      `load average (1 min) ${m.direct.loadAverage.toFixed(2)} after the direct phase, ` +
      `${m.legs.map((l) => `${l.phase.loadAverage.toFixed(2)} after ${l.leg}`).join(', ')}`,
  };

  const targets: Target[] = [];
  for (const l of m.legs) {
    targets.push(
      target(
        `fanout ${l.leg}: added p99, worst of ${o.clients} clients`,
        ms3(Math.max(...l.addedP99)),
        '<=',
        ADDED_P99_TARGET_MS,
        'ms',
      ),
    );
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
    tables: [latencyTable, costTable],
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
