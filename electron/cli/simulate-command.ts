/**
 * `market-monitor simulate`: the embedded Alpaca-protocol simulator as a standalone server, for
 * trying any Alpaca client against it, and for the benchmarks' load in a separate process.
 * Prints one `listening` line with its URL when ready and runs until SIGINT/SIGTERM. With
 * `--control-stdin` it also takes control lines on stdin (`halt AAPL`, `resume AAPL`), so that a
 * script can halt and resume a symbol while clients are connected, and answers each with one JSON
 * line on stdout.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { normalizeSymbol } from '../../shared/api.ts';
import type { Feed } from '../../shared/market.ts';
import {
  DEFAULT_LIMITS,
  SESSION_MODES,
  startSimulator,
  type RestFaults,
  type SimulatorFaults,
  type Simulator,
  type SimulatorLimits,
  type SimulatorOptions,
} from '../simulator/index.ts';
import { capYoungGeneration } from '../core/young-generation.ts';
import { createLogger } from '../stream/log.ts';
import { UsageError, parseChoice, parsePositive, parseSymbols } from './args.ts';

export const SIMULATE_USAGE = `usage: market-monitor simulate [--host 127.0.0.1] [--port 0] [--symbols N | --symbol-list A,B]
       [--rate MSGS_PER_SEC] [--seed N] [--batch-size N] [--key K --secret S]
       [--session auto|pre|regular|post|closed] [--log-level LEVEL] [--control-stdin]
       [fault options]
--session: the market session (default regular: streams all the time); auto follows New York's
clock. Stock feeds send nothing when closed and a tenth of --rate in pre/post; /v2/clock and
/v2/calendar agree with the session. The REST API (snapshots, bars, clock, calendar, assets) is on
the same port as the streams.
--control-stdin: read control lines from stdin while running: \`halt SYMBOL\` halts trading in a
stock symbol (its LULD band and a status message to subscribed clients, no quotes or trades until
resumed), \`resume SYMBOL\` resumes it. Each line is answered with one JSON line on stdout.
fault options:
  --refuse-auth                 answer every auth with 402
  --connection-limit N          authenticated connections at once per feed; more get 406
  --connection-linger MS        a closed connection still holds its slot this long
  --symbol-limit N              (channel, symbol) pairs per connection; more get 405
  --drop-after N                terminate a connection after N data messages
  --stall                       send nothing and answer no pings
  --garbage-every N             one corrupt frame after every N data frames
  --slow-client-bytes N         407 and close when this many bytes are queued for a client
  --insufficient-subscription F  feeds (comma list, e.g. sip) answered with 409
  --rest-rate-limit N           REST requests per minute; more get 429 with Retry-After
  --rest-500 P                  answer REST requests with 500, with probability P (1: always)
  --rest-slow-ms MS             delay every REST answer
  --rest-malformed              answer REST requests with truncated JSON
limits (on by default; raise them for load tests):
  --max-connections N           connections at once; more get 406 (default ${DEFAULT_LIMITS.maxConnections})
  --max-symbols N               (channel, symbol) pairs per connection; more get 405 (default ${DEFAULT_LIMITS.maxSymbolsPerConnection})
  --max-symbol-length N         longest symbol; longer get 400 (default ${DEFAULT_LIMITS.maxSymbolLength})
  --max-subscriptions N         pairs over all connections; more get 405 (default ${DEFAULT_LIMITS.maxSubscriptions})
  --max-buffered-bytes N        bytes queued for all clients; the one furthest behind gets 407 (default ${DEFAULT_LIMITS.maxBufferedBytes})
  --max-inbound-rate N          bytes per second read from all clients; senders past it wait (default ${DEFAULT_LIMITS.maxInboundBytesPerSecond})
With no --key it is in demo mode: any key is accepted.`;

/** Limit flags and the SimulatorLimits field each sets. */
const LIMIT_FLAGS = {
  'max-connections': 'maxConnections',
  'max-symbols': 'maxSymbolsPerConnection',
  'max-symbol-length': 'maxSymbolLength',
  'max-subscriptions': 'maxSubscriptions',
  'max-buffered-bytes': 'maxBufferedBytes',
  'max-inbound-rate': 'maxInboundBytesPerSecond',
} as const satisfies Record<string, keyof SimulatorLimits>;

const FEEDS = ['iex', 'sip', 'delayed_sip', 'test', 'crypto'] as const satisfies readonly Feed[];

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface SimulatePlan {
  readonly options: SimulatorOptions;
  readonly logLevel: (typeof LEVELS)[number];
  /** Read control lines (`halt AAPL`, `resume AAPL`) from stdin. */
  readonly controlStdin: boolean;
}

/** Turns argv into simulator options; throws UsageError for anything wrong. */
export function parseSimulateArgs(argv: readonly string[]): SimulatePlan {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      symbols: { type: 'string' },
      'symbol-list': { type: 'string' },
      rate: { type: 'string' },
      seed: { type: 'string' },
      'batch-size': { type: 'string' },
      key: { type: 'string' },
      secret: { type: 'string' },
      'log-level': { type: 'string' },
      'refuse-auth': { type: 'boolean' },
      'connection-limit': { type: 'string' },
      'connection-linger': { type: 'string' },
      'symbol-limit': { type: 'string' },
      'drop-after': { type: 'string' },
      stall: { type: 'boolean' },
      'garbage-every': { type: 'string' },
      'slow-client-bytes': { type: 'string' },
      'insufficient-subscription': { type: 'string' },
      session: { type: 'string' },
      'rest-rate-limit': { type: 'string' },
      'rest-500': { type: 'string' },
      'rest-slow-ms': { type: 'string' },
      'rest-malformed': { type: 'boolean' },
      'max-connections': { type: 'string' },
      'max-symbols': { type: 'string' },
      'max-symbol-length': { type: 'string' },
      'max-subscriptions': { type: 'string' },
      'max-buffered-bytes': { type: 'string' },
      'max-inbound-rate': { type: 'string' },
      'control-stdin': { type: 'boolean' },
    },
  });
  if (values.symbols !== undefined && values['symbol-list'] !== undefined) {
    throw new UsageError('give either --symbols or --symbol-list, not both');
  }
  if ((values.key === undefined) !== (values.secret === undefined)) {
    throw new UsageError('give both --key and --secret, or neither (demo mode)');
  }
  const port = parsePositive('--port', values.port, { integer: true, allowZero: true });
  if (port !== undefined && port > 65_535)
    throw new UsageError(`--port must be at most 65535; got ${port}`);

  const faults: { -readonly [K in keyof SimulatorFaults]?: SimulatorFaults[K] } = {};
  if (values['refuse-auth']) faults.refuseAuth = true;
  if (values.stall) faults.stalled = true;
  const connectionLimit = parsePositive('--connection-limit', values['connection-limit'], {
    integer: true,
  });
  if (connectionLimit !== undefined) faults.connectionLimit = connectionLimit;
  const linger = parsePositive('--connection-linger', values['connection-linger'], {
    integer: true,
    allowZero: true,
  });
  if (linger !== undefined) faults.connectionLingerMs = linger;
  const symbolLimit = parsePositive('--symbol-limit', values['symbol-limit'], {
    integer: true,
    allowZero: true,
  });
  if (symbolLimit !== undefined) faults.symbolLimit = symbolLimit;
  const dropAfter = parsePositive('--drop-after', values['drop-after'], { integer: true });
  if (dropAfter !== undefined) faults.dropAfterMessages = dropAfter;
  const garbage = parsePositive('--garbage-every', values['garbage-every'], { integer: true });
  if (garbage !== undefined) faults.garbageEvery = garbage;
  const slow = parsePositive('--slow-client-bytes', values['slow-client-bytes'], { integer: true });
  if (slow !== undefined) faults.slowClientBytes = slow;
  if (values['insufficient-subscription'] !== undefined) {
    faults.insufficientSubscription = values['insufficient-subscription']
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f !== '')
      .map((f) => parseChoice('--insufficient-subscription', f, FEEDS) as Feed);
  }

  const restFaults: { -readonly [K in keyof RestFaults]?: RestFaults[K] } = {};
  const restLimit = parsePositive('--rest-rate-limit', values['rest-rate-limit'], {
    integer: true,
  });
  if (restLimit !== undefined) restFaults.rateLimitPerMinute = restLimit;
  const chance = parsePositive('--rest-500', values['rest-500'], {
    integer: false,
    allowZero: true,
  });
  if (chance !== undefined) {
    if (chance > 1)
      throw new UsageError(`--rest-500 must be a probability from 0 to 1; got ${chance}`);
    restFaults.error500 = chance >= 1 ? true : chance;
  }
  const slowMs = parsePositive('--rest-slow-ms', values['rest-slow-ms'], {
    integer: false,
    allowZero: true,
  });
  if (slowMs !== undefined) {
    if (slowMs > 120_000)
      throw new UsageError(`--rest-slow-ms must be at most 120000; got ${slowMs}`);
    restFaults.slowMs = slowMs;
  }
  if (values['rest-malformed']) restFaults.malformed = true;

  const limits: { -readonly [K in keyof SimulatorLimits]?: SimulatorLimits[K] } = {};
  for (const [flag, field] of Object.entries(LIMIT_FLAGS) as [
    keyof typeof LIMIT_FLAGS,
    keyof SimulatorLimits,
  ][]) {
    const value = parsePositive(`--${flag}`, values[flag], { integer: true });
    if (value !== undefined) limits[field] = value;
  }

  const options: { -readonly [K in keyof SimulatorOptions]: SimulatorOptions[K] } = {
    faults,
    restFaults,
    limits,
  };
  const session = parseChoice('--session', values.session, SESSION_MODES);
  if (session !== undefined) options.session = session;
  if (values.host !== undefined) options.host = values.host;
  if (port !== undefined) options.port = port;
  const symbols = parsePositive('--symbols', values.symbols, { integer: true });
  if (symbols !== undefined) options.symbols = symbols;
  if (values['symbol-list'] !== undefined)
    options.symbolList = parseSymbols('--symbol-list', values['symbol-list']);
  const rate = parsePositive('--rate', values.rate, { integer: false, allowZero: true });
  if (rate !== undefined) options.rate = rate;
  const seed = parsePositive('--seed', values.seed, { integer: true, allowZero: true });
  if (seed !== undefined) options.seed = seed;
  const batchSize = parsePositive('--batch-size', values['batch-size'], { integer: true });
  if (batchSize !== undefined) options.batchSize = batchSize;
  if (values.key !== undefined && values.secret !== undefined) {
    options.key = values.key;
    options.secret = values.secret;
  }
  return {
    options,
    logLevel: parseChoice('--log-level', values['log-level'], LEVELS) ?? 'warn',
    controlStdin: values['control-stdin'] === true,
  };
}

export interface SimulateIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stopSignal: Promise<string>;
  /** Where `--control-stdin` reads its lines (the process's stdin). */
  readonly stdin?: Readable;
}

/** Longest control line read; anything longer is refused whole (a line is a verb and a symbol). */
const MAX_CONTROL_LINE = 256;

/**
 * One control line, applied: the JSON line that answers it. A bad line is answered with the reason
 * and changes nothing.
 */
export function applyControlLine(simulator: Pick<Simulator, 'setHalt'>, line: string): string {
  const text = line.trim();
  const refuse = (message: string): string =>
    JSON.stringify({ type: 'control-error', line: text.slice(0, 80), message });
  if (text.length > MAX_CONTROL_LINE)
    return refuse(`a control line is at most ${MAX_CONTROL_LINE} characters`);
  const [verb, target, ...extra] = text.split(/\s+/);
  if (verb !== 'halt' && verb !== 'resume')
    return refuse('the control lines are `halt SYMBOL` and `resume SYMBOL`');
  if (target === undefined || extra.length > 0) return refuse(`\`${verb}\` takes one symbol`);
  const symbol = normalizeSymbol(target);
  if (!symbol.ok) return refuse(`not a symbol (${symbol.reason})`);
  if (symbol.symbol.includes('/')) return refuse('crypto pairs have no trading halts');
  try {
    const n = simulator.setHalt(symbol.symbol, verb === 'halt');
    return JSON.stringify({
      type: 'control',
      applied: `${symbol.symbol} ${verb === 'halt' ? 'halted' : 'resumed'}`,
      connections: n,
    });
  } catch (err) {
    return refuse(err instanceof Error ? err.message : String(err));
  }
}

export async function runSimulate(argv: readonly string[], io: SimulateIo): Promise<number> {
  const { options, logLevel, controlStdin } = parseSimulateArgs(argv);
  const logger = createLogger({ level: logLevel, destination: io.stderr });
  let simulator;
  try {
    simulator = await startSimulator({ ...options, logger });
  } catch (err) {
    // A taken port or an address we cannot bind is the user's to fix: one line, exit 2.
    const code = (err as NodeJS.ErrnoException).code;
    const userCodes = ['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN'];
    if ((code !== undefined && userCodes.includes(code)) || err instanceof RangeError) {
      throw new UsageError(`cannot start the simulator: ${(err as Error).message}`);
    }
    throw err;
  }
  // As in the app's core: the simulator's garbage is short-lived (one frame, one client message),
  // and without the ceiling a flood of large client messages doubles new space up to 128 MB.
  const releaseYoungGeneration = capYoungGeneration();
  const { session, clock } = simulator.session();
  io.stdout.write(
    `${JSON.stringify({
      type: 'listening',
      url: simulator.url,
      restUrl: simulator.restUrl,
      session,
      isOpen: clock.isOpen,
    })}\n`,
  );
  const lines =
    controlStdin && io.stdin !== undefined
      ? createInterface({ input: io.stdin, crlfDelay: Infinity })
      : undefined;
  lines?.on('line', (line) => {
    if (line.trim() === '') return;
    io.stdout.write(`${applyControlLine(simulator, line)}\n`);
  });
  await io.stopSignal;
  lines?.close();
  releaseYoungGeneration();
  await simulator.close();
  logger.flush();
  return 0;
}
