/**
 * A MonitorApi for component and store tests: the transport is the one edge these tests fake (the
 * core behind it has its own integration tests, and the e2e suite runs the real thing in Chromium).
 *
 * - `invoke` answers from `handlers` (per command), default answers built from `snapshot`; every
 *   call is recorded in `calls`.
 * - `emit` delivers an event to the listeners, as main does.
 * - `pushFrame` hands a frame to the pending (or next) `nextFrame()` call.
 */
import type {
  CommandInput,
  CommandName,
  CommandOutput,
  ConnectionView,
  EventMap,
  EventName,
  HandlerView,
  MarketView,
  MetricsView,
  MonitorApi,
  Result,
  Snapshot,
} from '../../shared/api.ts';
import { DEFAULT_SETTINGS, DEFAULT_WATCHLISTS, fail, ok } from '../../shared/api.ts';
import { buildFrame, type FrameColumn, type QuoteFrame } from '../../shared/frame.ts';
import { CONNECTION_STATES, type ConnectionState } from '../../shared/connection.ts';
import { MESSAGE_KINDS, type MessageKind } from '../../shared/metrics.ts';

type Handler<C extends CommandName> = (
  input: CommandInput<C>,
) => Result<CommandOutput<C>> | Promise<Result<CommandOutput<C>>>;

export interface RecordedCall {
  readonly command: CommandName;
  readonly input: unknown;
}

export const T0 = Date.UTC(2026, 10, 26, 14, 30, 0);

export function connectionView(over: Partial<ConnectionView> = {}): ConnectionView {
  return {
    state: 'live',
    previous: 'subscribing',
    reason: undefined,
    since: T0,
    attempt: 0,
    retryAt: undefined,
    lastError: undefined,
    source: { kind: 'simulator', codec: 'msgpack' },
    url: 'ws://127.0.0.1:40000/v2/iex',
    stale: false,
    ...over,
  };
}

function summary() {
  return {
    count: 0,
    min: NaN,
    max: NaN,
    mean: NaN,
    p50: NaN,
    p90: NaN,
    p99: NaN,
    p999: NaN,
    negatives: 0,
    overflows: 0,
  };
}

export function metricsView(over: Partial<MetricsView> = {}): MetricsView {
  const byKind = Object.fromEntries(MESSAGE_KINDS.map((k) => [k, 0])) as Record<
    MessageKind,
    number
  >;
  const timeInStateMs = Object.fromEntries(CONNECTION_STATES.map((s) => [s, 0])) as Record<
    ConnectionState,
    number
  >;
  return {
    at: T0,
    state: 'live',
    messages: { total: 0, byKind },
    frames: 0,
    bytes: 0,
    invalid: { total: 0, byReason: {} },
    connects: 1,
    reconnects: 0,
    reconnectsLast10m: 0,
    timeInStateMs,
    uptime: { sessionMs: 0, metricsMs: 0, processMs: 0 },
    rates: { messages: { s1: 0, s10: 0, s60: 0 }, bytes: { s1: 0, s10: 0, s60: 0 } },
    latency: { exchangeToReceipt: summary(), receiptToDispatch: summary() },
    lastDataAgoMs: null,
    ...over,
  };
}

export function handlerView(over: Partial<HandlerView> = {}): HandlerView {
  return {
    id: 'h1',
    name: 'book',
    kind: 'quote',
    symbol: '*',
    builtin: true,
    calls: 0,
    errors: 0,
    lastError: undefined,
    meanMs: 0,
    maxMs: 0,
    registeredAt: T0,
    lastCalledAt: undefined,
    ...over,
  };
}

export function marketView(over: Partial<MarketView> = {}): MarketView {
  return {
    session: 'regular',
    since: undefined,
    until: undefined,
    nextOpen: undefined,
    nextClose: undefined,
    feed: 'iex',
    crypto: false,
    quiet: false,
    detail: undefined,
    polled: 0,
    pollIntervalMs: 5_000,
    directory: { status: 'unavailable', assets: 0, fetchedAt: undefined },
    ...over,
  };
}

export function snapshot(over: Partial<Snapshot> = {}): Snapshot {
  return {
    connection: connectionView(),
    metrics: metricsView(),
    health: { status: 'healthy', reasons: [] },
    subscriptions: { desired: {}, confirmed: {}, refused: [] },
    handlers: [handlerView()],
    settings: DEFAULT_SETTINGS,
    credentials: {
      stored: false,
      storage: 'none',
      backend: 'memory',
      secure: true,
      detail: 'No keys stored.',
    },
    watchlists: structuredClone(DEFAULT_WATCHLISTS.watchlists),
    notices: [],
    frames: { frames: 0, conflated: 0, symbols: 0 },
    market: marketView(),
    rest: null,
    ...over,
  };
}

export interface FrameRow {
  readonly symbol: string;
  readonly bid?: number;
  readonly bidSize?: number;
  readonly ask?: number;
  readonly askSize?: number;
  readonly last?: number;
  readonly lastSize?: number;
  readonly volume?: number;
  readonly ref?: number;
  readonly quoteTime?: number;
  readonly tradeTime?: number;
  readonly receivedAt?: number;
  readonly prevClose?: number;
  readonly dayOpen?: number;
  readonly dayHigh?: number;
  readonly dayLow?: number;
  readonly polledAt?: number;
}

/** A frame from rows; fields not given are NaN (no value in this frame). */
export function makeFrame(
  seq: number,
  rows: readonly FrameRow[],
  options: { full?: boolean; conflated?: number; builtAt?: number } = {},
): QuoteFrame {
  // Self-contained frames (buildFrame names every id it uses), so any board reads any of them.
  const values = (r: FrameRow): Partial<Record<FrameColumn, number>> => {
    const out: Partial<Record<FrameColumn, number>> = {};
    const set = (name: FrameColumn, v: number | undefined) => {
      if (v !== undefined) out[name] = v;
    };
    set('bidPrice', r.bid);
    set('bidSize', r.bidSize);
    set('askPrice', r.ask);
    set('askSize', r.askSize);
    set('quoteTime', r.quoteTime);
    set('lastPrice', r.last);
    set('lastSize', r.lastSize);
    set('tradeTime', r.tradeTime);
    set('volume', r.volume);
    set('refPrice', r.ref);
    set('receivedAt', r.receivedAt);
    set('prevClose', r.prevClose);
    set('dayOpen', r.dayOpen);
    set('dayHigh', r.dayHigh);
    set('dayLow', r.dayLow);
    set('polledAt', r.polledAt);
    return out;
  };
  return buildFrame(
    {
      seq,
      builtAt: options.builtAt ?? T0,
      conflated: options.conflated ?? 0,
      full: options.full ?? seq === 1,
    },
    rows.map((r) => ({ symbol: r.symbol, values: values(r) })),
  );
}

export class FakeApi implements MonitorApi {
  readonly calls: RecordedCall[] = [];
  snapshot: Snapshot;
  readonly #handlers = new Map<CommandName, Handler<CommandName>>();
  readonly #listeners = new Map<EventName, Set<(payload: never) => void>>();
  readonly #frames: QuoteFrame[] = [];
  #waiting: { resolve: (f: QuoteFrame) => void; reject: (e: Error) => void } | undefined;

  constructor(snap: Snapshot = snapshot()) {
    this.snapshot = snap;
  }

  /** Answers `command` with `handler` from now on. */
  handle<C extends CommandName>(command: C, handler: Handler<C>): this {
    this.#handlers.set(command, handler);
    return this;
  }

  async invoke<C extends CommandName>(
    command: C,
    input: CommandInput<C>,
  ): Promise<Result<CommandOutput<C>>> {
    this.calls.push({ command, input });
    const handler = this.#handlers.get(command) as Handler<C> | undefined;
    if (handler !== undefined) return handler(input);
    return this.#default(command) as Result<CommandOutput<C>>;
  }

  #default(command: CommandName): Result<unknown> {
    switch (command) {
      case 'diagnostics:snapshot':
        return ok(this.snapshot);
      case 'log:recent':
        return ok([]);
      case 'handlers:list':
        return ok(this.snapshot.handlers);
      case 'watchlists:list':
        return ok(this.snapshot.watchlists);
      case 'settings:get':
        return ok(this.snapshot.settings);
      case 'credentials:status':
        return ok(this.snapshot.credentials);
      case 'connection:connect':
      case 'connection:disconnect':
        return ok(this.snapshot.connection);
      case 'alerts:list':
      case 'alerts:log':
      case 'market:trading-status':
        return ok([]);
      case 'update:status':
        // What browser mode answers.
        return ok({
          state: 'unsupported',
          currentVersion: '0.1.0',
          availableVersion: undefined,
          percent: undefined,
          lastCheckedAt: undefined,
          detail: 'Updates are a desktop feature.',
        });
      default:
        return fail('internal', `FakeApi: no answer for ${command}`);
    }
  }

  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    const entry = listener as (payload: never) => void;
    set.add(entry);
    return () => void set.delete(entry);
  }

  /** How many listeners `event` has (a test checks detach removes them). */
  listenerCount(event: EventName): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  emit<E extends EventName>(event: E, payload: EventMap[E]): void {
    for (const listener of this.#listeners.get(event) ?? [])
      (listener as (p: EventMap[E]) => void)(payload);
  }

  nextFrame(): Promise<QuoteFrame> {
    if (this.#waiting !== undefined) {
      this.#waiting.reject(new Error('superseded'));
      this.#waiting = undefined;
    }
    const ready = this.#frames.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  /** Whether a nextFrame() call waits now. */
  get framePending(): boolean {
    return this.#waiting !== undefined;
  }

  pushFrame(frame: QuoteFrame): void {
    const waiting = this.#waiting;
    if (waiting !== undefined) {
      this.#waiting = undefined;
      waiting.resolve(frame);
    } else {
      this.#frames.push(frame);
    }
  }

  callsOf(command: CommandName): unknown[] {
    return this.calls.filter((c) => c.command === command).map((c) => c.input);
  }
}
