/**
 * One client under test, in a process of its own: forked once per (client, codec) and kept alive
 * across rounds, so that JIT warm-up happens once and every round measures a warm process.
 *
 * Clients:
 * - floor: a bare `ws` client that only decodes (JSON.parse, or msgpackr's Unpackr with plain
 *   objects) and counts data items. It does the auth + subscribe handshake like any client.
 * - ours: StreamClient with the app's whole pipeline (decode, validate, normalize, metrics,
 *   HandlerRegistry) and the built-in handlers as MonitorCore installs them: the QuoteBook
 *   attached to the registry, the alert engine with the default wide-spread rule, one open book cursor taking a frame every
 *   16 ms (one window pulling frames), the symbols subscribed through the client.
 * - sdk: the official @alpacahq/alpaca-trade-api v4 StockDataStream, counting in its listeners.
 *
 * Measuring: 'arm' {expect N} zeroes the count and takes t0 (performance.now) and cpu0
 * (process.cpuUsage, this process: every thread, GC included); when the N-th data message has been
 * counted the run ends with its elapsed ms and CPU microseconds (user + system). 'result' waits for
 * that. In latency mode (ours only) a last handler on the marker symbol stamps each frame's end of
 * dispatch with process.hrtime.bigint().
 *
 * Static imports stay minimal: each client is loaded on demand, so the floor process never loads
 * our msgpack timestamp extension (msgpackr's extension table is process-wide) and the SDK process
 * never loads our code.
 */
import { fileURLToPath } from 'node:url';
import { ChildHandle, serveParent, type ForkOptions } from './blaster.ts';
import type { Codec } from '../shared/market.ts';

export type ClientKind = 'floor' | 'ours' | 'sdk';

export const CLIENT_LABELS: Readonly<Record<ClientKind, string>> = {
  floor: 'a: floor (ws + decode only)',
  ours: 'b: ours (StreamClient + book + handlers)',
  sdk: 'c: official SDK (StockDataStream)',
};

export interface WorkerInit {
  readonly client: ClientKind;
  readonly codec: Codec;
  readonly url: string;
  readonly symbols: readonly string[];
  /** Latency mode (ours only): stamp the dispatch of this symbol's marker trades. */
  readonly marker?: string;
}

export interface RunResult {
  /** The N-th message was counted before the deadline. */
  readonly complete: boolean;
  readonly count: number;
  readonly expect: number;
  readonly elapsedMs: number;
  readonly cpuUs: number;
  /** Anything the client reported while it ran (errors, state changes away from live). */
  readonly problems: readonly string[];
}

export interface LatencyResult {
  readonly complete: boolean;
  /** Marker dispatch stamps by frame seq; -1 where none arrived. */
  readonly received: BigInt64Array;
  readonly markers: number;
  readonly messages: number;
  readonly problems: readonly string[];
}

const WORKER_PATH = fileURLToPath(import.meta.url);
const KEY = 'PKBENCH';
const SECRET = 'bench-secret';

export interface IngestWorker {
  readonly name: string;
  readonly handle: ChildHandle;
  arm(expect: number): Promise<void>;
  result(timeoutMs: number): Promise<RunResult>;
  latencyArm(capacity: number): Promise<void>;
  latencyResult(frames: number, timeoutMs: number): Promise<LatencyResult>;
  close(): Promise<void>;
}

/** Forks a worker and waits until its client is connected, authenticated and subscribed. */
export async function startIngestWorker(
  init: WorkerInit,
  options: ForkOptions = {},
): Promise<IngestWorker> {
  const name = `${init.client}-${init.codec}${init.marker === undefined ? '' : '-latency'}`;
  const handle = new ChildHandle(name, WORKER_PATH, options);
  try {
    await handle.request('init', init, 60_000);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return {
    name,
    handle,
    arm: (expect) => handle.request<void>('arm', { expect }),
    result: (timeoutMs) => handle.request<RunResult>('result', { timeoutMs }, timeoutMs + 10_000),
    latencyArm: (capacity) => handle.request<void>('latency-arm', { capacity }),
    latencyResult: (frames, timeoutMs) =>
      handle.request<LatencyResult>('latency-result', { frames, timeoutMs }, timeoutMs + 10_000),
    close: () => handle.close(),
  };
}

// ------------------------------------------------------------------ the child

/** What a connected client leaves behind: how to tear it down. */
type Teardown = () => void | Promise<void>;

// The count lives in module variables: the per-message increment is as cheap as it gets and the
// same for every client, so it does not tilt the comparison.
let count = 0;
let expect = Number.POSITIVE_INFINITY;
let t0 = 0;
let cpu0: NodeJS.CpuUsage = { user: 0, system: 0 };
let finished: { elapsedMs: number; cpuUs: number } | undefined;
let onFinish: (() => void) | undefined;
const problems: string[] = [];

function finish(): void {
  if (finished !== undefined) return;
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  finished = { elapsedMs, cpuUs: cpu.user + cpu.system };
  onFinish?.();
}

/** One data message counted (ours, sdk). */
function counted(): void {
  if (++count === expect) finish();
}

// Latency mode: frame seq -> hrtime of the marker's dispatch.
let received = new BigInt64Array(0);
let markers = 0;
let onMarker: (() => void) | undefined;

function markerSeen(seq: number): void {
  const at = process.hrtime.bigint();
  if (seq >= 0 && seq < received.length) received[seq] = at;
  markers++;
  onMarker?.();
}

function problem(text: string): void {
  if (problems.length < 20) problems.push(text);
}

async function startFloor(init: WorkerInit): Promise<Teardown> {
  const { WebSocket } = await import('ws');
  const { Packr, Unpackr } = await import('msgpackr');
  // Plain objects, no records: what a bare client decoding Alpaca's msgpack would use.
  const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
  const packr = new Packr({ useRecords: false });
  const msgpack = init.codec === 'msgpack';
  const ws = new WebSocket(init.url, {
    perMessageDeflate: false,
    ...(msgpack ? { headers: { 'Content-Type': 'application/msgpack' } } : {}),
  });
  const send = (action: Record<string, unknown>): void => {
    ws.send(msgpack ? packr.pack(action) : JSON.stringify(action));
  };
  await new Promise<void>((resolve, reject) => {
    let live = false;
    ws.on('error', (err) => (live ? problem(err.message) : reject(err)));
    ws.on('close', () => {
      if (live) problem('socket closed');
      else reject(new Error('socket closed during the handshake'));
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const batch = (
        msgpack && isBinary ? unpackr.unpack(data) : JSON.parse(data.toString())
      ) as Record<string, unknown>[];
      let n = 0;
      for (let i = 0; i < batch.length; i++) {
        const T = (batch[i] as Record<string, unknown>).T;
        // Data types are one letter; success / error / subscription are words.
        if (typeof T === 'string' && T.length === 1) n++;
        else if (!live) {
          const item = batch[i] as Record<string, unknown>;
          if (T === 'success' && item.msg === 'connected') {
            send({ action: 'auth', key: KEY, secret: SECRET });
          } else if (T === 'success' && item.msg === 'authenticated') {
            send({
              action: 'subscribe',
              quotes: init.symbols,
              trades: init.symbols,
              bars: init.symbols,
              dailyBars: init.symbols,
            });
          } else if (T === 'subscription') {
            live = true;
            resolve();
          } else if (T === 'error') reject(new Error(`server error ${String(item.code)}`));
        }
      }
      if (n > 0) {
        count += n;
        if (count >= expect) finish();
      }
    });
  });
  return () => {
    ws.terminate();
  };
}

async function startOurs(init: WorkerInit): Promise<Teardown> {
  const [
    { StreamClient },
    { QuoteBook },
    { AlertEngine },
    { DEFAULT_ALERTS },
    { silentLogger },
    { MAX_TOTAL_SYMBOLS },
    { capYoungGeneration },
  ] = await Promise.all([
    import('../electron/stream/client.ts'),
    import('../electron/stream/book.ts'),
    import('../electron/alerts/engine.ts'),
    import('../shared/api.ts'),
    import('../electron/stream/log.ts'),
    import('../electron/core/watchlists.ts'),
    import('../electron/core/young-generation.ts'),
  ]);
  // As MonitorCore runs the process: V8's young generation held at its ceiling (16 MiB).
  const releaseYoungGeneration = capYoungGeneration();
  const logger = silentLogger();
  const client = new StreamClient({
    url: init.url,
    codec: init.codec,
    key: KEY,
    secret: SECRET,
    logger,
    // Between its runs a worker idles for seconds while the others are measured; the staleness
    // watchdog (a timer, nothing per message) would take that for a dead link and reconnect.
    staleAfterMs: 0,
  });
  // As MonitorCore: the book's built-in handlers, then the alert engine with a new user's rules
  // (the default wide-spread rule on every quote: the per-message work every app does).
  const book = new QuoteBook({
    logger: logger.child({ module: 'book' }),
    maxSymbols: MAX_TOTAL_SYMBOLS,
  });
  const detachBook = book.attach(client.handlers);
  const alerts = new AlertEngine({
    logger,
    figure: (symbol, column) => book.value(symbol, column),
    session: () => 'regular',
    live: () => client.state === 'live',
    onFired: () => undefined,
    onChange: () => undefined,
  });
  alerts.setRules(DEFAULT_ALERTS.rules);
  const detachAlerts = alerts.attach(client.handlers);
  // One window: a cursor that takes a frame every 16 ms when something changed.
  const cursor = book.cursor();
  const frameTimer = setInterval(() => {
    if (cursor.dirty) cursor.take();
  }, 16);
  const symbols = init.marker === undefined ? [...init.symbols] : [...init.symbols, init.marker];
  // As MonitorCore#syncSubscriptions (which adds bars here: the bench stream carries them).
  for (const channel of ['quotes', 'trades', 'bars', 'dailyBars'] as const) {
    client.subscribe(channel, symbols);
  }
  book.retain(new Set(symbols));
  alerts.retain(new Set(symbols));
  // The count runs after the built-in handlers, so a message counts once all of them have seen it.
  client.handlers.on('*', '*', counted, { name: 'bench: count' });
  if (init.marker !== undefined) {
    // Registered last: for the frame's final item it is the last code of the dispatch.
    client.handlers.on('trade', init.marker, (t) => markerSeen(Number(t.id)), {
      name: 'bench: latency marker',
    });
  }
  client.on('invalid', (item) => problem(`invalid item: ${item.reason}`));
  client.on('server-error', (e) => problem(`server error ${e.code}`));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not live after 30 s (state ${client.state})`)),
      30_000,
    );
    let live = false;
    client.on('state', (change) => {
      if (change.state === 'live') {
        live = true;
        clearTimeout(timer);
        resolve();
      } else if (live) problem(`state ${change.state}: ${change.reason ?? ''}`);
      else if (change.state === 'failed')
        reject(new Error(`client failed: ${change.reason ?? ''}`));
    });
    client.connect();
  });
  const confirmed = client.snapshot().subscriptions.confirmed;
  if ((confirmed.quotes?.length ?? 0) < symbols.length) {
    throw new Error(
      `live with ${confirmed.quotes?.length ?? 0} of ${symbols.length} quotes confirmed`,
    );
  }
  return async () => {
    clearInterval(frameTimer);
    cursor.close();
    detachAlerts();
    alerts.close();
    detachBook();
    client.dispose();
    await client.closed();
    releaseYoungGeneration();
  };
}

async function startSdk(init: WorkerInit): Promise<Teardown> {
  const { streaming } = await import('@alpacahq/alpaca-trade-api');
  const sdk = new streaming.StockDataStream({
    url: init.url,
    credentials: { keyId: KEY, secret: SECRET },
    reconnect: false,
  });
  if (init.codec === 'json') {
    // v4's MarketDataStream constructor forces codec 'msgpack'. Its socket factory (no msgpack
    // Content-Type), decode() (JSON.parse) and send() (JSON.stringify) all have a JSON branch
    // keyed on this field, read at connect time: setting it before connect() is the SDK on JSON.
    (sdk as unknown as { codec: Codec }).codec = 'json';
  }
  const symbols = [...init.symbols];
  sdk.onQuote(counted);
  sdk.onTrade(counted);
  sdk.onBar(counted);
  sdk.onDailyBar(counted);
  sdk.onError((e) => problem(`sdk error: ${String(e)}`));
  sdk.subscribeForQuotes(symbols);
  sdk.subscribeForTrades(symbols);
  sdk.subscribeForBars(symbols);
  sdk.subscribeForDailyBars(symbols);
  const subscribed = new Promise<void>((resolve) => {
    const check = (): void => {
      const subs = sdk.getSubscriptions();
      if (subs.quotes.length >= symbols.length && subs.dailyBars.length >= symbols.length)
        resolve();
      else sdk.once('subscription', check);
    };
    sdk.once('subscription', check);
  });
  sdk.connect();
  if (!(await sdk.waitForAuthentication(30_000))) throw new Error('the SDK did not authenticate');
  await Promise.race([
    subscribed,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error('the SDK saw no subscription echo')), 30_000),
    ),
  ]);
  return () => {
    sdk.disconnect();
  };
}

function childMain(): void {
  let teardown: Teardown | undefined;
  serveParent(
    {
      init: async (init: WorkerInit) => {
        if (init.marker !== undefined && init.client !== 'ours') {
          throw new Error('latency mode is for our client only');
        }
        teardown =
          init.client === 'floor'
            ? await startFloor(init)
            : init.client === 'ours'
              ? await startOurs(init)
              : await startSdk(init);
        return { pid: process.pid };
      },
      arm: ({ expect: n }: { expect: number }) => {
        count = 0;
        finished = undefined;
        problems.length = 0;
        expect = n;
        cpu0 = process.cpuUsage();
        t0 = performance.now();
      },
      result: async ({ timeoutMs }: { timeoutMs: number }): Promise<RunResult> => {
        if (finished === undefined) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, timeoutMs);
            onFinish = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          onFinish = undefined;
        }
        // A moment for anything past N to show up: the count must be exact, not at least N.
        await new Promise((resolve) => setTimeout(resolve, 20));
        const done = finished;
        return {
          complete: done !== undefined,
          count,
          expect,
          elapsedMs: done?.elapsedMs ?? Number.NaN,
          cpuUs: done?.cpuUs ?? Number.NaN,
          problems: [...problems],
        };
      },
      'latency-arm': ({ capacity }: { capacity: number }) => {
        received = new BigInt64Array(capacity).fill(-1n);
        markers = 0;
        count = 0;
        expect = Number.POSITIVE_INFINITY;
        problems.length = 0;
      },
      'latency-result': async ({
        frames,
        timeoutMs,
      }: {
        frames: number;
        timeoutMs: number;
      }): Promise<LatencyResult> => {
        if (markers < frames) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, timeoutMs);
            onMarker = () => {
              if (markers < frames) return;
              clearTimeout(timer);
              resolve();
            };
          });
          onMarker = undefined;
        }
        return {
          complete: markers >= frames,
          received: received.slice(0, Math.min(frames, received.length)),
          markers,
          messages: count,
          problems: [...problems],
        };
      },
    },
    () => teardown?.(),
  );
}

if (process.argv[1] === WORKER_PATH) childMain();
