/**
 * Section 1, ingest throughput: the same pre-generated Alpaca stream (bench/feed.ts) through
 * (a) the floor, a bare ws client that only decodes; (b) our StreamClient with its whole pipeline
 * and the app's built-in handlers; (c) the official SDK's StockDataStream; each on JSON and on
 * msgpack. One blaster process sends, six worker processes (client x codec) receive. A set of
 * workers runs one warm-up round (not counted) and then `roundsPerWorker` counted rounds, and is
 * replaced by fresh processes (full mode: four sets of two rounds), so that no client's figure
 * rests on one process's luck; rounds go in rotating order so that no client always goes first
 * (or always right after the same neighbour). A run is N messages blasted
 * to one worker as fast as its socket takes them: msgs/s = N / (time from arm to the N-th message
 * counted), CPU = the worker's own process.cpuUsage() over the same span. Reported: per client and
 * codec the medians over rounds, and the ratios b/a and b/c of those medians (per-round ratios in
 * details). Every run must count exactly N, else the section fails.
 */
import { median } from './lib/stats.ts';
import { target, type Section, type SectionResult, type Table } from './lib/report.ts';
import { startBlaster, type BlastStats, type Blaster } from './blaster.ts';
import { DEFAULT_SEED, DEFAULT_SYMBOLS, feedSymbols } from './feed.ts';
import {
  CLIENT_LABELS,
  startIngestWorker,
  type ClientKind,
  type IngestWorker,
  type RunResult,
} from './ingest-worker.ts';
import type { Codec } from '../shared/market.ts';

export const CLIENTS: readonly ClientKind[] = ['floor', 'ours', 'sdk'];
export const CODECS: readonly Codec[] = ['json', 'msgpack'];

export interface IngestOptions {
  /** Messages per run. */
  readonly messages: number;
  /** Counted rounds. */
  readonly rounds: number;
  /** Rounds run first and thrown away (JIT, caches, socket buffers), by every set of workers. */
  readonly warmupRounds: number;
  /**
   * Counted rounds per set of worker processes (default: all of them in one set). The same code
   * runs measurably faster or slower in one process than in another (JIT and GC decisions made
   * early stick for the process's life: the floor's own CPU per message ranged 0.80 to 1.34 us
   * between runs of this section, with a few % within one), so the workers are replaced by fresh
   * ones every this many rounds, and the medians span several processes per client.
   */
  readonly roundsPerWorker?: number;
  readonly symbols?: number;
  readonly seed?: number;
  readonly clients?: readonly ClientKind[];
  readonly codecs?: readonly Codec[];
  readonly log?: (line: string) => void;
  /** Extra Node flags per worker, e.g. --cpu-prof for ours. */
  readonly execArgv?: (client: ClientKind, codec: Codec) => readonly string[];
}

export interface IngestRun {
  readonly round: number;
  readonly client: ClientKind;
  readonly codec: Codec;
  readonly msgsPerSec: number;
  readonly cpuUsPerMsg: number;
  readonly elapsedMs: number;
  readonly cpuUs: number;
  readonly count: number;
  readonly blaster: Pick<BlastStats, 'ms' | 'cpuUs' | 'maxBuffered'>;
}

export interface IngestMeasurement {
  readonly messages: number;
  readonly frames: number;
  readonly symbols: number;
  readonly mix: Blaster['ready']['mix'];
  readonly bytes: Blaster['ready']['bytes'];
  readonly rounds: number;
  readonly warmupRounds: number;
  /** Counted rounds per set of worker processes. */
  readonly roundsPerWorker: number;
  readonly runs: readonly IngestRun[];
  readonly warmup: readonly IngestRun[];
}

const key = (client: ClientKind, codec: Codec): string => `${client}-${codec}`;

/**
 * Runs the harness: starts the blaster and the workers, runs the rounds, stops every process
 * (also on failure). Throws if any run did not count exactly what was sent.
 */
export async function measureIngest(options: IngestOptions): Promise<IngestMeasurement> {
  const log = options.log ?? (() => undefined);
  const seed = options.seed ?? DEFAULT_SEED;
  const symbolCount = options.symbols ?? DEFAULT_SYMBOLS;
  const clients = options.clients ?? CLIENTS;
  const codecs = options.codecs ?? CODECS;
  const symbols = feedSymbols(symbolCount, seed);
  const combos = clients.flatMap((client) => codecs.map((codec) => ({ client, codec })));

  let blaster: Blaster | undefined;
  const workers = new Map<string, IngestWorker>();
  try {
    log(`ingest: generating ${options.messages.toLocaleString('en-US')} messages per codec`);
    blaster = await startBlaster({
      seed,
      symbols: symbolCount,
      messages: options.messages,
      paceItems: 0,
    });
    const ready = blaster.ready;
    log(
      `ingest: stream of ${ready.frames} frames (${ready.messages} messages; json ${mb(ready.bytes.json)}, msgpack ${mb(ready.bytes.msgpack)}) in ${Math.round(ready.generateMs)} ms`,
    );
    const b = blaster;
    const startWorkers = async (): Promise<void> => {
      // Started together: their imports and handshakes overlap.
      const started = await Promise.allSettled(
        combos.map(({ client, codec }) =>
          startIngestWorker(
            { client, codec, url: b.url(key(client, codec)), symbols },
            { execArgv: options.execArgv?.(client, codec) ?? [] },
          ).then((w) => workers.set(key(client, codec), w)),
        ),
      );
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
    };
    const stopWorkers = async (): Promise<void> => {
      const all = [...workers.values()];
      workers.clear();
      await Promise.all(all.map((w) => w.close()));
    };

    const runs: IngestRun[] = [];
    const warmup: IngestRun[] = [];
    const perSet = Math.max(1, options.roundsPerWorker ?? options.rounds);
    let r = 0; // every round run, warm-ups included: it drives the rotation
    let counted = 0;
    let set = 0;
    while (counted < options.rounds) {
      set++;
      if (set > 1) await stopWorkers();
      await startWorkers();
      const countedHere = Math.min(perSet, options.rounds - counted);
      for (let i = 0; i < options.warmupRounds + countedHere; i++, r++) {
        const isCounted = i >= options.warmupRounds;
        // Rotate the order each round: each combo takes every position in turn.
        const order = combos.map((_, j) => combos[(j + r) % combos.length]!);
        for (const { client, codec } of order) {
          const worker = workers.get(key(client, codec))!;
          const run = await runOnce(b, worker, client, codec, ready.messages, r);
          (isCounted ? runs : warmup).push(run);
        }
        if (isCounted) counted++;
        const label = isCounted
          ? `round ${counted}/${options.rounds} (workers #${set})`
          : `warm-up (workers #${set})`;
        log(
          `ingest: ${label}: ` +
            (isCounted ? runs : warmup)
              .filter((x) => x.round === r)
              .map((x) => `${key(x.client, x.codec)} ${kmsgs(x.msgsPerSec)}`)
              .join(', '),
        );
      }
    }
    return {
      messages: ready.messages,
      frames: ready.frames,
      symbols: symbolCount,
      mix: ready.mix,
      bytes: ready.bytes,
      rounds: options.rounds,
      warmupRounds: options.warmupRounds,
      roundsPerWorker: perSet,
      runs,
      warmup,
    };
  } finally {
    await Promise.all([...workers.values()].map((w) => w.close()));
    await blaster?.close();
  }
}

async function runOnce(
  blaster: Blaster,
  worker: IngestWorker,
  client: ClientKind,
  codec: Codec,
  messages: number,
  round: number,
): Promise<IngestRun> {
  await worker.arm(messages);
  const sent = await blaster.blast(key(client, codec));
  if (sent.messages !== messages) {
    throw new Error(`the blaster sent ${sent.messages} messages, not ${messages}`);
  }
  // The slowest client takes a few times the blast: allow a minute past it.
  const result: RunResult = await worker.result(60_000 + sent.ms * 20);
  if (!result.complete || result.count !== messages) {
    throw new Error(
      `${key(client, codec)} round ${round}: counted ${result.count} of ${messages} messages` +
        (result.complete ? ' (more than sent)' : ' (timed out)') +
        (result.problems.length > 0 ? `; ${result.problems.join('; ')}` : ''),
    );
  }
  if (result.problems.length > 0) {
    throw new Error(`${key(client, codec)} round ${round}: ${result.problems.join('; ')}`);
  }
  return {
    round,
    client,
    codec,
    msgsPerSec: messages / (result.elapsedMs / 1000),
    cpuUsPerMsg: result.cpuUs / messages,
    elapsedMs: result.elapsedMs,
    cpuUs: result.cpuUs,
    count: result.count,
    blaster: { ms: sent.ms, cpuUs: sent.cpuUs, maxBuffered: sent.maxBuffered },
  };
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function kmsgs(rate: number): string {
  return `${Math.round(rate / 1000)}k/s`;
}

interface Summary {
  readonly client: ClientKind;
  readonly codec: Codec;
  readonly msgsPerSec: number;
  readonly cpuUsPerMsg: number;
  readonly minMsgsPerSec: number;
  readonly maxMsgsPerSec: number;
  readonly blasterMsgsPerSec: number;
}

function summarize(runs: readonly IngestRun[], client: ClientKind, codec: Codec): Summary {
  const mine = runs.filter((r) => r.client === client && r.codec === codec);
  const rates = mine.map((r) => r.msgsPerSec);
  return {
    client,
    codec,
    msgsPerSec: median(rates),
    cpuUsPerMsg: median(mine.map((r) => r.cpuUsPerMsg)),
    minMsgsPerSec: Math.min(...rates),
    maxMsgsPerSec: Math.max(...rates),
    blasterMsgsPerSec: median(mine.map((r) => r.count / (r.blaster.ms / 1000))),
  };
}

/** Per round, b's rate over the other client's rate in the same round. */
function roundRatios(
  runs: readonly IngestRun[],
  codec: Codec,
  over: ClientKind,
): { round: number; ratio: number }[] {
  const out: { round: number; ratio: number }[] = [];
  for (const b of runs.filter((r) => r.client === 'ours' && r.codec === codec)) {
    const other = runs.find((r) => r.client === over && r.codec === codec && r.round === b.round);
    if (other) out.push({ round: b.round, ratio: b.msgsPerSec / other.msgsPerSec });
  }
  return out;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
const range = (xs: readonly number[]): string =>
  `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;

/** Tables, targets and details from a measurement. */
export function ingestResult(m: IngestMeasurement, quick: boolean): SectionResult {
  const summaries = CODECS.flatMap((codec) =>
    CLIENTS.map((client) => summarize(m.runs, client, codec)),
  );
  const get = (client: ClientKind, codec: Codec): Summary =>
    summaries.find((s) => s.client === client && s.codec === codec)!;

  const throughput: Table = {
    title: 'Ingest throughput (one stream, three clients, two codecs)',
    columns: [
      'client',
      'codec',
      'msgs/s (median)',
      'min',
      'max',
      'CPU us/msg (median)',
      'vs floor',
    ],
    rows: summaries.map((s) => [
      CLIENT_LABELS[s.client],
      s.codec,
      Math.round(s.msgsPerSec),
      Math.round(s.minMsgsPerSec),
      Math.round(s.maxMsgsPerSec),
      round2(s.cpuUsPerMsg),
      round2(s.msgsPerSec / get('floor', s.codec).msgsPerSec),
    ]),
    note:
      `${m.messages.toLocaleString('en-US')} messages per run (${m.frames} frames, ${m.symbols} symbols; ` +
      `${m.mix.quotes} quotes, ${m.mix.trades} trades, ${m.mix.bars} minute bars, ${m.mix.dailyBars} daily bars), ` +
      `${m.rounds} rounds in rotating order, by ${Math.ceil(m.rounds / m.roundsPerWorker)} set(s) of fresh worker processes ` +
      `(${m.warmupRounds} warm-up round per set, not counted); medians over rounds; ` +
      `CPU = the client process's user+system time per message${quick ? ' (quick mode)' : ''}`,
  };

  const ratioRows = CODECS.map((codec) => {
    const a = get('floor', codec);
    const b = get('ours', codec);
    const c = get('sdk', codec);
    const ba = roundRatios(m.runs, codec, 'floor').map((x) => x.ratio);
    const bc = roundRatios(m.runs, codec, 'sdk').map((x) => x.ratio);
    return [
      codec,
      round2(b.msgsPerSec / a.msgsPerSec),
      range(ba),
      round2(b.msgsPerSec / c.msgsPerSec),
      range(bc),
      round2(b.cpuUsPerMsg / a.cpuUsPerMsg),
      round2(b.cpuUsPerMsg / c.cpuUsPerMsg),
    ];
  });
  const ratios: Table = {
    title: 'Ingest ratios (b = ours, a = floor, c = SDK)',
    columns: [
      'codec',
      'b/a msgs/s',
      'b/a per round',
      'b/c msgs/s',
      'b/c per round',
      'b/a CPU per msg',
      'b/c CPU per msg',
    ],
    rows: ratioRows,
    note: 'msgs/s ratios are ratios of the medians; "per round" is the range of the same ratio within each round; CPU ratios below 1 mean b spends less per message',
  };

  const targets = [
    target(
      'ingest json: b/a',
      get('ours', 'json').msgsPerSec / get('floor', 'json').msgsPerSec,
      '>=',
      0.8,
      'x',
    ),
    target(
      'ingest msgpack: b/a',
      get('ours', 'msgpack').msgsPerSec / get('floor', 'msgpack').msgsPerSec,
      '>=',
      0.8,
      'x',
    ),
    target(
      'ingest json: b/c',
      get('ours', 'json').msgsPerSec / get('sdk', 'json').msgsPerSec,
      '>=',
      1.2,
      'x',
    ),
    target(
      'ingest msgpack: b/c',
      get('ours', 'msgpack').msgsPerSec / get('sdk', 'msgpack').msgsPerSec,
      '>=',
      1.5,
      'x',
    ),
  ];

  return {
    name: 'ingest',
    tables: [throughput, ratios],
    targets,
    details: {
      settings: {
        messages: m.messages,
        frames: m.frames,
        symbols: m.symbols,
        mix: m.mix,
        bytes: m.bytes,
        rounds: m.rounds,
        warmupRounds: m.warmupRounds,
        roundsPerWorker: m.roundsPerWorker,
        quick,
      },
      summaries,
      ratiosPerRound: Object.fromEntries(
        CODECS.map((codec) => [
          codec,
          {
            'b/a': roundRatios(m.runs, codec, 'floor'),
            'b/c': roundRatios(m.runs, codec, 'sdk'),
          },
        ]),
      ),
      runs: m.runs,
      warmup: m.warmup,
    },
  };
}

/**
 * Full: 1.5M messages a run (the floor decodes about 0.8-1.3M/s on the 2-core machine this was
 * written on, so its runs last 1-2 s), 7 rounds; quick: 400k messages, 3 rounds.
 */
export const run: Section = async (ctx) => {
  const m = await measureIngest({
    messages: ctx.quick ? 400_000 : 1_000_000,
    rounds: ctx.quick ? 3 : 8,
    warmupRounds: 1,
    // Full: four sets of fresh worker processes, two counted rounds each (see roundsPerWorker).
    roundsPerWorker: ctx.quick ? 3 : 2,
    log: ctx.log,
    ...profileOption(),
  });
  return ingestResult(m, ctx.quick);
};

/**
 * BENCH_PROFILE_DIR=dir: our client's workers run under --cpu-prof and leave their profiles
 * there (written when the worker exits at the end of the section).
 */
function profileOption(): Pick<IngestOptions, 'execArgv'> {
  const dir = process.env['BENCH_PROFILE_DIR'];
  if (!dir) return {};
  return {
    execArgv: (client, codec) =>
      client === 'ours'
        ? [
            '--cpu-prof',
            '--cpu-prof-dir',
            dir,
            '--cpu-prof-name',
            `ingest-ours-${codec}.cpuprofile`,
          ]
        : [],
  };
}
