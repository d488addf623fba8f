/**
 * A plain `ws` test client for the simulator tests: records every frame decoded (JSON or msgpack),
 * keeps corrupt frames apart, and waits for conditions with a deadline instead of sleeping.
 */
import { afterEach } from 'vitest';
import { WebSocket } from 'ws';
import {
  startSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../../../electron/simulator/index.ts';
import type { Codec } from '../../../shared/market.ts';
import { framePackr, frameUnpackr } from '../../../electron/stream/protocol/index.ts';

export type Item = Record<string, unknown>;

export interface TestClient {
  readonly ws: WebSocket;
  /** Every item of every well-formed array frame, in arrival order. */
  readonly items: Item[];
  /** Frames that were not a non-empty array: kept raw. */
  readonly corrupt: (string | Buffer)[];
  /** Items inside array frames that are not valid messages. */
  readonly badItems: unknown[];
  /** Frame count, well-formed or not. */
  frames: number;
  /** Resolves with the close code when the socket closes. */
  readonly closed: Promise<number>;
  send(action: Item): void;
  /** Items of type T (e.g. 'q'). */
  ofType(type: string): Item[];
  /** Data items: everything but success / error / subscription. */
  data(): Item[];
}

export interface ClientOptions {
  readonly codec?: Codec;
  readonly headers?: Record<string, string>;
  /** Default true: send an auth message after connecting. */
  readonly auth?: boolean;
}

const CONTROL = new Set(['success', 'error', 'subscription']);
const DATA = new Set(['q', 't', 'b', 'd', 'u', 's', 'l', 'c', 'x', 'i', 'o']);

/** A rough shape check, enough to tell the simulator's planted bad items from real ones. */
function validItem(v: unknown): v is Item {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const item = v as Item;
  const type = item.T;
  if (typeof type !== 'string') return false;
  if (CONTROL.has(type)) return true;
  if (!DATA.has(type) || typeof item.S !== 'string' || typeof item.t !== 'string') return false;
  if (type === 'q') return typeof item.bp === 'number' && typeof item.ap === 'number';
  if (type === 't') return typeof item.p === 'number' && typeof item.s === 'number';
  return true;
}

export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export async function connect(url: string, options: ClientOptions = {}): Promise<TestClient> {
  const codec = options.codec ?? 'json';
  const headers: Record<string, string> = { ...options.headers };
  if (codec === 'msgpack') headers['Content-Type'] = 'application/msgpack';
  const ws = new WebSocket(url, { perMessageDeflate: false, headers });
  const items: Item[] = [];
  const corrupt: (string | Buffer)[] = [];
  const badItems: unknown[] = [];
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  const client: TestClient = {
    ws,
    items,
    corrupt,
    badItems,
    frames: 0,
    closed,
    send(action) {
      ws.send(codec === 'msgpack' ? framePackr.pack(action) : JSON.stringify(action));
    },
    ofType(type) {
      return items.filter((item) => item.T === type);
    },
    data() {
      return items.filter((item) => !CONTROL.has(item.T as string));
    },
  };
  ws.on('message', (data: Buffer, isBinary) => {
    client.frames += 1;
    let value: unknown;
    try {
      value = isBinary ? frameUnpackr.unpack(data) : JSON.parse(data.toString('utf8'));
    } catch {
      corrupt.push(isBinary ? data : data.toString('utf8'));
      return;
    }
    if (!Array.isArray(value) || value.length === 0) {
      corrupt.push(isBinary ? data : data.toString('utf8'));
      return;
    }
    for (const v of value as unknown[]) {
      if (validItem(v)) items.push(v);
      else badItems.push(v);
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  if (options.auth ?? true) client.send({ action: 'auth', key: 'demo', secret: 'demo' });
  return client;
}

/** Closes the client and waits for the close to finish. */
export async function shut(client: TestClient): Promise<void> {
  if (client.ws.readyState !== WebSocket.CLOSED) {
    client.ws.terminate();
    await client.closed;
  }
}

/** The item with its timestamp removed, for comparing runs. */
export function withoutTime(item: Item): Item {
  const { t: _t, ...rest } = item;
  return rest;
}

/**
 * Simulators and test clients for one test file: each test's are shut after it (the fixture
 * registers its own afterEach).
 */
export function simulatorFixture(): {
  sim: (options?: SimulatorOptions) => Promise<Simulator>;
  client: (...args: Parameters<typeof connect>) => Promise<TestClient>;
} {
  const sims: Simulator[] = [];
  const clients: TestClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map(shut));
    await Promise.all(sims.splice(0).map((s) => s.close()));
  });
  return {
    sim: async (options = {}) => {
      const s = await startSimulator(options);
      sims.push(s);
      return s;
    },
    client: async (...args) => {
      const c = await connect(...args);
      clients.push(c);
      return c;
    },
  };
}
