/**
 * Section 2, latency at fixed rates: our client (StreamClient + book + built-in handlers, set up
 * exactly as in the ingest section) fed by the blaster at 5k, 20k and 50k messages/s. The blaster
 * sends one frame per ~1 ms tick holding what is due, the frame's last item a marker trade whose
 * id is the frame's sequence number, and stamps each frame with process.hrtime.bigint() just
 * before ws.send. In the client a handler on the marker symbol, registered after the built-in
 * handlers, stamps the end of that frame's dispatch on the same clock (CLOCK_MONOTONIC, shared by
 * every process on the machine). Latency = receive stamp - send stamp: socket, kernel, ws framing,
 * decode, validation, normalization, metrics and every handler of every item in the frame.
 * The first second of each rate is warm-up and left out; every frame must be matched.
 */
import { latencySummary } from './lib/stats.ts';
import { target, type Section, type SectionResult, type Table } from './lib/report.ts';
import { startBlaster, type Blaster } from './blaster.ts';
import { DEFAULT_SEED, DEFAULT_SYMBOLS, MARKER_SYMBOL, feedSymbols } from './feed.ts';
import { startIngestWorker, type IngestWorker } from './ingest-worker.ts';
import type { Codec } from '../shared/market.ts';

export const RATES: readonly number[] = [5_000, 20_000, 50_000];

export interface LatencyOptions {
  /** Messages per second, markers included. */
  readonly rates: readonly number[];
  readonly durationMs: number;
  /** Frames sent in this first part of each rate are not counted. */
  readonly warmupMs: number;
  /** Default msgpack, the app's default source codec. */
  readonly codec?: Codec;
  readonly symbols?: number;
  readonly seed?: number;
  readonly log?: (line: string) => void;
  readonly execArgv?: readonly string[];
}

export interface LatencyRun {
  readonly rate: number;
  readonly codec: Codec;
  readonly durationMs: number;
  /** Frames and messages sent over the whole run (warm-up included). */
  readonly framesSent: number;
  readonly messagesSent: number;
  /** Messages our client dispatched (every kind; must equal messagesSent). */
  readonly messagesCounted: number;
  /** Frames whose marker came back (must equal framesSent). */
  readonly matched: number;
  /** Messages per second actually sent, over the whole run. */
  readonly achievedRate: number;
  /** After warm-up. */
  readonly measuredFrames: number;
  readonly measuredMessages: number;
  /** Milliseconds, after warm-up. */
  readonly latency: ReturnType<typeof latencySummary>;
  readonly meanItemsPerFrame: number;
  readonly blasterMaxBuffered: number;
  readonly problems: readonly string[];
}

/** Runs each rate in turn against one warm client; stops every process, also on failure. */
export async function measureLatency(options: LatencyOptions): Promise<LatencyRun[]> {
  const log = options.log ?? (() => undefined);
  const seed = options.seed ?? DEFAULT_SEED;
  const symbolCount = options.symbols ?? DEFAULT_SYMBOLS;
  const codec = options.codec ?? 'msgpack';
  const symbols = feedSymbols(symbolCount, seed);
  let blaster: Blaster | undefined;
  let worker: IngestWorker | undefined;
  try {
    blaster = await startBlaster({ seed, symbols: symbolCount, messages: 0, paceItems: 100_000 });
    worker = await startIngestWorker(
      { client: 'ours', codec, url: blaster.url('latency'), symbols, marker: MARKER_SYMBOL },
      { execArgv: options.execArgv ?? [] },
    );
    const runs: LatencyRun[] = [];
    for (const rate of options.rates) {
      // At most one frame per ms tick: room for every frame the blaster can send.
      await worker.latencyArm(Math.ceil(options.durationMs * 2) + 1000);
      const paced = await blaster.pace('latency', rate, options.durationMs);
      const got = await worker.latencyResult(paced.frames, 10_000);
      const warmupNs = paced.start + BigInt(Math.round(options.warmupMs * 1e6));
      const samples: number[] = [];
      let matched = 0;
      let measuredMessages = 0;
      for (let seq = 0; seq < paced.frames; seq++) {
        const at = got.received[seq] ?? -1n;
        if (at < 0n) continue;
        matched++;
        const sentAt = paced.stamps[seq] as bigint;
        if (sentAt < warmupNs) continue;
        samples.push(Number(at - sentAt) / 1e6);
        measuredMessages += paced.sizes[seq] ?? 0;
      }
      const last = paced.stamps[paced.frames - 1] ?? paced.start;
      const spanS = Number(last - paced.start) / 1e9;
      const result: LatencyRun = {
        rate,
        codec,
        durationMs: options.durationMs,
        framesSent: paced.frames,
        messagesSent: paced.messages,
        messagesCounted: got.messages,
        matched,
        achievedRate: spanS > 0 ? paced.messages / spanS : Number.NaN,
        measuredFrames: samples.length,
        measuredMessages,
        latency: latencySummary(samples),
        meanItemsPerFrame: paced.frames > 0 ? paced.messages / paced.frames : Number.NaN,
        blasterMaxBuffered: paced.maxBuffered,
        problems: got.problems,
      };
      runs.push(result);
      const l = result.latency;
      log(
        `latency: ${rate}/s: ${paced.frames} frames, p50 ${l.p50.toFixed(3)} ms, p99 ${l.p99.toFixed(3)} ms, ` +
          `p99.9 ${l.p999.toFixed(3)} ms, max ${l.max.toFixed(3)} ms`,
      );
      if (matched !== paced.frames || got.messages !== paced.messages || got.problems.length > 0) {
        throw new Error(
          `latency ${rate}/s: matched ${matched} of ${paced.frames} frames, counted ` +
            `${got.messages} of ${paced.messages} messages` +
            (got.problems.length > 0 ? `; ${got.problems.join('; ')}` : ''),
        );
      }
    }
    return runs;
  } finally {
    await worker?.close();
    await blaster?.close();
  }
}

const ms3 = (x: number): number => Math.round(x * 1000) / 1000;

export function latencyResult(
  runs: readonly LatencyRun[],
  options: LatencyOptions,
  quick: boolean,
): SectionResult {
  const table: Table = {
    title: 'Latency at fixed rates: socket to end of dispatch (our client)',
    columns: [
      'rate msgs/s',
      'achieved msgs/s',
      'frames',
      'messages',
      'msgs/frame',
      'p50 ms',
      'p99 ms',
      'p99.9 ms',
      'max ms',
    ],
    rows: runs.map((r) => [
      r.rate,
      Math.round(r.achievedRate),
      r.measuredFrames,
      r.measuredMessages,
      Math.round(r.meanItemsPerFrame * 10) / 10,
      ms3(r.latency.p50),
      ms3(r.latency.p99),
      ms3(r.latency.p999),
      ms3(r.latency.max),
    ]),
    note:
      `${runs[0]?.codec ?? 'msgpack'} codec, ${options.durationMs / 1000} s per rate, the first ` +
      `${options.warmupMs / 1000} s left out (frames and messages counted after it); one frame per ~1 ms tick, ` +
      `its last item a marker trade (counted in the rate); blaster hrtime just before ws.send to hrtime in ` +
      `the marker's handler, which runs after the built-in handlers${quick ? ' (quick mode)' : ''}`,
  };
  const at20k = runs.find((r) => r.rate === 20_000);
  return {
    name: 'latency',
    tables: [table],
    targets: [target('latency 20k/s: p99', at20k?.latency.p99 ?? Number.NaN, '<=', 2, 'ms')],
    details: {
      settings: {
        rates: options.rates,
        durationMs: options.durationMs,
        warmupMs: options.warmupMs,
        codec: runs[0]?.codec,
        quick,
      },
      runs,
    },
  };
}

/** Full: 20 s per rate; quick: 5 s. The first second is warm-up either way. */
export const run: Section = async (ctx) => {
  const dir = process.env['BENCH_PROFILE_DIR'];
  const options: LatencyOptions = {
    rates: RATES,
    durationMs: ctx.quick ? 5_000 : 20_000,
    warmupMs: 1_000,
    log: ctx.log,
    ...(dir
      ? {
          execArgv: [
            '--cpu-prof',
            '--cpu-prof-dir',
            dir,
            '--cpu-prof-name',
            'latency-ours.cpuprofile',
          ],
        }
      : {}),
  };
  const runs = await measureLatency(options);
  return latencyResult(runs, options, ctx.quick);
};
