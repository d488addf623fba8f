/**
 * The hostile loads of issue 15, each in its own process (run with node; the hostile section and
 * the hardening tests spawn it). It prints `{"type":"started"}` once every socket is attacking and
 * runs until SIGTERM or `durationMs`, then prints `{"type":"done", ...counts}`.
 *
 *   node bench/hostile-load.ts simulator '{"url":"ws://127.0.0.1:PORT/v2/iex","connections":12,"messageBytes":1048576}'
 *   node bench/hostile-load.ts bridge '{"url":"http://127.0.0.1:PORT/#token=T","sockets":8}'
 *
 * - simulator: connections that authenticate with any key (a demo simulator takes it) and then
 *   send subscribe after subscribe of about `messageBytes` of fresh symbols on `trades` (echoed three
 *   times for stocks), never reading what comes back. A socket that dies is replaced.
 * - bridge: sockets with the page's token and Origin that pipeline `command` (default
 *   diagnostics:export, the largest answer) without reading the answers. A socket that dies is
 *   replaced.
 *
 * The attacker bounds its own memory: it writes only while its own socket has less than 2 MiB
 * queued, so the pressure is on the server's reading and answering, never on this process.
 */
import { WebSocket } from 'ws';

interface SimulatorAttack {
  readonly url: string;
  readonly connections: number;
  readonly messageBytes: number;
  readonly key?: string;
  readonly secret?: string;
  readonly durationMs?: number;
}

interface BridgeAttack {
  readonly url: string;
  readonly sockets: number;
  readonly command?: string;
  readonly durationMs?: number;
}

const OWN_QUEUE_BYTES = 2 * 1024 * 1024;
/** Messages one socket writes per turn at most: a socket whose queue never grows (its peer gone
 * and the failure not yet noticed) must not keep this process in a loop making messages. */
const BURST = 8;
const RECONNECT_MS = 100;
/** This process stops itself past this RSS: it is a load generator, not a second victim. */
const OWN_RSS_LIMIT = 1024 * 1024 * 1024;

const counts = { opened: 0, closed: 0, messages: 0, bytes: 0, errors: 0 };
let stopping = false;
const sockets = new Set<WebSocket>();

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** One subscribe of about `bytes` of symbols nobody else uses: 8 characters, upper case. */
function subscribeMessage(connection: number, serial: number, bytes: number): string {
  const symbols: string[] = [];
  const prefix = `${connection.toString(36)}${serial.toString(36)}`.toUpperCase().slice(-4);
  let size = 40;
  for (let i = 0; size < bytes; i++) {
    const symbol = `${prefix}${i.toString(36).toUpperCase()}`.padEnd(8, 'Z').slice(0, 8);
    symbols.push(symbol);
    size += symbol.length + 3;
  }
  return JSON.stringify({ action: 'subscribe', trades: symbols });
}

/** Keeps `ws` written to while its own queue is short; `next` makes each message. */
function flood(ws: WebSocket, next: () => string): void {
  let failed = false;
  const pump = (): void => {
    for (
      let sent = 0;
      sent < BURST &&
      !stopping &&
      !failed &&
      ws.readyState === ws.OPEN &&
      ws.bufferedAmount < OWN_QUEUE_BYTES;
      sent++
    ) {
      const message = next();
      counts.messages += 1;
      counts.bytes += message.length;
      ws.send(message, (err) => {
        if (!err) return;
        counts.errors += 1;
        failed = true;
        ws.terminate();
      });
    }
    if (!stopping && !failed && ws.readyState === ws.OPEN) setTimeout(pump, 1);
  };
  pump();
}

function keepOpen(open: (index: number) => WebSocket, index: number, onOpen: () => void): void {
  if (stopping) return;
  const ws = open(index);
  sockets.add(ws);
  ws.on('open', () => {
    counts.opened += 1;
    onOpen();
  });
  ws.on('error', () => {
    counts.errors += 1;
  });
  ws.on('close', () => {
    counts.closed += 1;
    sockets.delete(ws);
    setTimeout(() => keepOpen(open, index, () => undefined), RECONNECT_MS);
  });
}

function startedWhen(total: number): () => void {
  let opened = 0;
  return () => {
    if (++opened === total) print({ type: 'started' });
  };
}

function attackSimulator(config: SimulatorAttack): void {
  const started = startedWhen(config.connections);
  let serial = 0;
  for (let c = 0; c < config.connections; c++) {
    keepOpen(
      (index) => {
        const ws = new WebSocket(config.url, { perMessageDeflate: false });
        ws.on('open', () => {
          ws.send(
            JSON.stringify({
              action: 'auth',
              key: config.key ?? 'demo',
              secret: config.secret ?? 'demo',
            }),
          );
          // Never read: what the server sends back stays queued on its side.
          ws.pause();
          flood(ws, () => subscribeMessage(index, serial++, config.messageBytes));
        });
        return ws;
      },
      c,
      started,
    );
  }
}

function attackBridge(config: BridgeAttack): void {
  const page = new URL(config.url);
  const token = new URLSearchParams(page.hash.slice(1)).get('token') ?? '';
  const bridge = `ws://${page.host}/bridge?token=${encodeURIComponent(token)}`;
  const command = config.command ?? 'diagnostics:export';
  const started = startedWhen(config.sockets);
  for (let s = 0; s < config.sockets; s++) {
    keepOpen(
      () => {
        const ws = new WebSocket(bridge, { perMessageDeflate: false, origin: page.origin });
        let id = 0;
        ws.on('open', () => {
          ws.pause();
          flood(ws, () => JSON.stringify({ type: 'invoke', id: id++, command, payload: {} }));
        });
        return ws;
      },
      s,
      started,
    );
  }
}

function stop(): void {
  if (stopping) return;
  stopping = true;
  for (const ws of sockets) ws.terminate();
  print({ type: 'done', ...counts });
  setTimeout(() => process.exit(0), 50);
}

const [mode, json] = process.argv.slice(2);
const config = JSON.parse(json ?? '{}') as Record<string, unknown>;
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The parent closes stdin (or dies): stop, never outlive it.
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
setInterval(() => {
  if (process.memoryUsage.rss() > OWN_RSS_LIMIT) {
    process.stderr.write('hostile-load: own RSS past 1 GiB, stopping\n');
    stop();
  }
}, 250).unref();
if (mode === 'simulator') attackSimulator(config as unknown as SimulatorAttack);
else if (mode === 'bridge') attackBridge(config as unknown as BridgeAttack);
else {
  process.stderr.write('usage: hostile-load.ts simulator|bridge JSON\n');
  process.exit(2);
}
const duration = config['durationMs'];
if (typeof duration === 'number') setTimeout(stop, duration);
