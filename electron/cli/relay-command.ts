/**
 * `market-monitor relay`: one upstream stream (Alpaca with the user's keys, the built-in
 * simulator, or NATS fed by another relay) served in Alpaca's own protocol to any number of local
 * Alpaca clients, so that the app, bots and the official SDKs share the one connection Alpaca
 * allows; with --publish, also to relays on other machines through NATS. Prints one `listening`
 * line when ready, then a `status` line (clients, counters, upstream) every few seconds; logs go
 * to stderr. SIGINT/SIGTERM close every client with a close frame and exit 0.
 */
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { ALPACA_STREAM_HOST, FEED_PATHS, type Feed } from '../../shared/market.ts';
import {
  KeyFileError,
  DEFAULT_LEASE_MS,
  DEFAULT_MAX_SYMBOLS,
  DEFAULT_NATS_PREFIX,
  checkNatsUrl,
  checkPrefix,
  isLoopback,
  loadKeyFile,
  startRelay,
  type NatsPublish,
  type NatsUpstream,
  type Relay,
  type RelayKey,
  type RelayUpstream,
  type RestUpstream,
} from '../relay/index.ts';
import { DEFAULT_DATA_URL, DEFAULT_TRADING_URL } from '../rest/alpaca-rest.ts';
import { randomRunCredentials, startSimulator, type Simulator } from '../simulator/index.ts';
import { createLogger } from '../stream/log.ts';
import { UsageError, parseChoice, parsePositive } from './args.ts';
import { NdjsonWriter } from './ndjson.ts';

export const RELAY_USAGE = `usage: market-monitor relay [--upstream simulator|alpaca|nats://HOST:PORT]
       [--publish nats://HOST:PORT] [--nats-prefix alpaca] [--nats-lease SEC]
       [--feed iex|sip|delayed_sip|test|crypto]
       [--host 127.0.0.1] [--port 0] --client-key K --client-secret S [--client-keys FILE]
       [--max-symbols N] [--max-clients N] [--max-buffer-bytes N] [--conflate]
       [--status-interval SEC] [--log-level LEVEL]
Serves Alpaca's stream protocol at ws://HOST:PORT/v2/FEED from ONE upstream connection: Alpaca with
APCA_API_KEY_ID / APCA_API_SECRET_KEY (the default when they are set), else the built-in simulator.
Clients authenticate with relay keys (--client-key/--client-secret, limit --max-symbols pairs, default
${DEFAULT_MAX_SYMBOLS}; or a JSON file [{"key","secret","maxSymbols"}]); the Alpaca keys never leave the
relay. Without client keys any key is accepted, on loopback only. A client past --max-buffer-bytes
(default 4194304) gets 407 and is closed, or with --conflate keeps only the latest quote per symbol
until it catches up. Market-data REST GETs (snapshots, bars, clock, calendar, assets) pass through on
http://HOST:PORT with the same client keys (not on a relay fed from NATS: it holds no Alpaca keys).
Output: a "listening" line, then "status" lines (default every 5 s); logs on stderr.
More than one machine: the relay holding the Alpaca connection runs with --publish nats://HOST:PORT
and publishes every message to NATS (subjects PREFIX.FEED.<q|t|b|d|u|s|l|i|o|n>.<SYMBOL>); relays on
other machines run with --upstream nats://HOST:PORT and announce what their clients want, renewed
three times per --nats-lease (default ${DEFAULT_LEASE_MS / 1000} s); the holder subscribes the union and
lets a relay's pairs go a lease after it stops renewing. Both use the same --feed and --nats-prefix.`;

const FEEDS = ['iex', 'sip', 'delayed_sip', 'test', 'crypto'] as const satisfies readonly Feed[];
const UPSTREAMS = ['simulator', 'alpaca'] as const;
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface RelayPlan {
  readonly upstream: (typeof UPSTREAMS)[number] | 'nats';
  /** With upstream `nats`: the server. */
  readonly natsUpstream: string | undefined;
  /** --publish: the NATS server to publish to. */
  readonly publish: string | undefined;
  readonly natsPrefix: string;
  readonly natsLeaseMs: number;
  readonly feed: Feed;
  readonly host: string;
  readonly port: number;
  readonly alpacaKey: string | undefined;
  readonly alpacaSecret: string | undefined;
  readonly clientKeys: readonly RelayKey[];
  readonly clientKeysFile: string | undefined;
  readonly maxClients: number | undefined;
  readonly maxBufferBytes: number | undefined;
  readonly conflate: boolean;
  readonly statusIntervalMs: number;
  readonly logLevel: (typeof LEVELS)[number];
}

/** Turns argv and the environment into a plan; throws UsageError for anything wrong. */
export function parseRelayArgs(argv: readonly string[], env: NodeJS.ProcessEnv): RelayPlan {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      upstream: { type: 'string' },
      publish: { type: 'string' },
      'nats-prefix': { type: 'string' },
      'nats-lease': { type: 'string' },
      feed: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'client-key': { type: 'string' },
      'client-secret': { type: 'string' },
      'client-keys': { type: 'string' },
      'max-symbols': { type: 'string' },
      'max-clients': { type: 'string' },
      'max-buffer-bytes': { type: 'string' },
      conflate: { type: 'boolean' },
      'status-interval': { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  const alpacaKey = env['APCA_API_KEY_ID'] || undefined;
  const alpacaSecret = env['APCA_API_SECRET_KEY'] || undefined;
  if ((alpacaKey === undefined) !== (alpacaSecret === undefined)) {
    throw new UsageError('set both APCA_API_KEY_ID and APCA_API_SECRET_KEY, or neither');
  }
  if (values.upstream === 'nats') {
    throw new UsageError('--upstream nats needs its server: --upstream nats://HOST:PORT');
  }
  const natsUpstream = values.upstream?.includes('://')
    ? natsUrl('--upstream', values.upstream)
    : undefined;
  const upstream =
    natsUpstream !== undefined
      ? 'nats'
      : (parseChoice('--upstream', values.upstream, UPSTREAMS) ??
        (alpacaKey !== undefined ? 'alpaca' : 'simulator'));
  const publish = values.publish === undefined ? undefined : natsUrl('--publish', values.publish);
  if (publish !== undefined && natsUpstream !== undefined) {
    throw new UsageError(
      '--publish needs the relay that holds the Alpaca connection, not --upstream nats://',
    );
  }
  const natsPrefix = values['nats-prefix'] ?? DEFAULT_NATS_PREFIX;
  try {
    checkPrefix(natsPrefix);
  } catch (err) {
    throw new UsageError(`--nats-prefix: ${(err as Error).message}`);
  }
  const lease = parsePositive('--nats-lease', values['nats-lease'], { integer: false });
  const natsLeaseMs = lease === undefined ? DEFAULT_LEASE_MS : Math.round(lease * 1000);
  if (natsLeaseMs < 1000 || natsLeaseMs > 600_000) {
    throw new UsageError(`--nats-lease must be from 1 to 600 seconds; got ${values['nats-lease']}`);
  }
  if (upstream === 'alpaca' && alpacaKey === undefined) {
    throw new UsageError('--upstream alpaca needs APCA_API_KEY_ID and APCA_API_SECRET_KEY');
  }
  if ((values['client-key'] === undefined) !== (values['client-secret'] === undefined)) {
    throw new UsageError('give both --client-key and --client-secret');
  }
  const port = parsePositive('--port', values.port, { integer: true, allowZero: true }) ?? 0;
  if (port > 65_535) throw new UsageError(`--port must be at most 65535; got ${port}`);
  const maxSymbols =
    parsePositive('--max-symbols', values['max-symbols'], { integer: true }) ?? DEFAULT_MAX_SYMBOLS;
  const clientKeys: RelayKey[] = [];
  if (values['client-key'] !== undefined && values['client-secret'] !== undefined) {
    clientKeys.push({ key: values['client-key'], secret: values['client-secret'], maxSymbols });
  }
  const host = values.host ?? '127.0.0.1';
  const clientKeysFile = values['client-keys'];
  if (!isLoopback(host) && clientKeys.length === 0 && clientKeysFile === undefined) {
    throw new UsageError(
      `--host ${host} is reachable from other machines: give client keys (--client-key/--client-secret or --client-keys)`,
    );
  }
  const statusInterval = parsePositive('--status-interval', values['status-interval'], {
    integer: false,
  });
  return {
    upstream,
    natsUpstream,
    publish,
    natsPrefix,
    natsLeaseMs,
    feed: parseChoice('--feed', values.feed, FEEDS) ?? 'iex',
    host,
    port,
    alpacaKey,
    alpacaSecret,
    clientKeys,
    clientKeysFile,
    maxClients: parsePositive('--max-clients', values['max-clients'], { integer: true }),
    maxBufferBytes: parsePositive('--max-buffer-bytes', values['max-buffer-bytes'], {
      integer: true,
    }),
    conflate: values.conflate ?? false,
    statusIntervalMs: Math.round((statusInterval ?? 5) * 1000),
    logLevel: parseChoice('--log-level', values['log-level'], LEVELS) ?? 'warn',
  };
}

function natsUrl(flag: string, value: string): string {
  try {
    return checkNatsUrl(value);
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
}

export interface RelayIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
  readonly stopSignal: Promise<string>;
}

/** Per-client detail in a status line stops at this many clients (the counts cover all). */
const STATUS_CLIENTS = 50;

export async function runRelay(argv: readonly string[], io: RelayIo): Promise<number> {
  const plan = parseRelayArgs(argv, io.env);
  const keys = [...plan.clientKeys];
  if (plan.clientKeysFile !== undefined) {
    try {
      keys.push(...(await loadKeyFile(plan.clientKeysFile)));
    } catch (err) {
      if (err instanceof KeyFileError) throw new UsageError(err.message);
      throw err;
    }
  }
  const logger = createLogger({ level: plan.logLevel, destination: io.stderr });
  if (keys.length === 0) logger.warn('no client keys: any key is accepted (loopback only)');
  const out = new NdjsonWriter(io.stdout);

  let simulator: Simulator | undefined;
  let upstream: RelayUpstream | NatsUpstream;
  // A relay fed from NATS has no Alpaca keys: it serves no REST (its proxy answers 404).
  let rest: RestUpstream | undefined;
  if (plan.upstream === 'nats') {
    upstream = {
      nats: plan.natsUpstream ?? '',
      prefix: plan.natsPrefix,
      leaseMs: plan.natsLeaseMs,
    };
  } else if (plan.upstream === 'simulator') {
    // The embedded simulator's key is random per run: only the relay can use it.
    const run = randomRunCredentials();
    simulator = await startSimulator({ logger, key: run.key, secret: run.secret });
    upstream = { url: simulator.urlFor(plan.feed), key: run.key, secret: run.secret };
    // The simulator serves Alpaca's REST API on its stream port.
    const simHttp = simulator.url.replace(/^ws/, 'http');
    rest = { dataUrl: simHttp, tradingUrl: simHttp, keyId: run.key, secret: run.secret };
  } else {
    upstream = {
      url: `${ALPACA_STREAM_HOST}${FEED_PATHS[plan.feed]}`,
      key: plan.alpacaKey ?? '',
      secret: plan.alpacaSecret ?? '',
    };
    rest = {
      dataUrl: DEFAULT_DATA_URL,
      tradingUrl: DEFAULT_TRADING_URL,
      keyId: upstream.key,
      secret: upstream.secret,
    };
  }
  const publish: NatsPublish | undefined =
    plan.publish === undefined ? undefined : { nats: plan.publish, prefix: plan.natsPrefix };
  let relay: Relay;
  try {
    relay = await startRelay({
      upstream,
      ...(rest !== undefined ? { rest: { upstream: rest } } : {}),
      ...(publish !== undefined ? { publish } : {}),
      feed: plan.feed,
      host: plan.host,
      port: plan.port,
      keys,
      conflate: plan.conflate,
      logger,
      ...(plan.maxClients !== undefined ? { maxClients: plan.maxClients } : {}),
      ...(plan.maxBufferBytes !== undefined ? { maxBufferBytes: plan.maxBufferBytes } : {}),
    });
  } catch (err) {
    await simulator?.close();
    const code = (err as NodeJS.ErrnoException).code;
    const userCodes = ['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN'];
    if ((code !== undefined && userCodes.includes(code)) || err instanceof RangeError) {
      throw new UsageError(`cannot start the relay: ${(err as Error).message}`);
    }
    throw err;
  }
  out.write({
    type: 'listening',
    url: relay.url,
    streamUrl: relay.urlFor(),
    feed: plan.feed,
    upstream: plan.upstream,
    ...(plan.natsUpstream !== undefined ? { nats: relay.stats().upstream.url } : {}),
    ...(publish !== undefined ? { publish: relay.stats().publish?.server } : {}),
  });
  const status = (): void => {
    const clients = relay.clients();
    out.write({
      type: 'status',
      ...relay.stats(),
      clientDetail: clients.slice(0, STATUS_CLIENTS),
    });
  };
  const timer = setInterval(status, plan.statusIntervalMs);
  const signal = await io.stopSignal;
  clearInterval(timer);
  logger.info({ signal }, 'stopping');
  await relay.close();
  await simulator?.close();
  out.write({ type: 'closed', signal, ...relay.stats() });
  await out.flush();
  logger.flush();
  return 0;
}
