/**
 * A real WebSocket server on 127.0.0.1, port 0, whose behaviour each test scripts per connection.
 * It also counts what the client does to it: connections in total and at once (the "never more
 * than one socket" promise is checked from the server's side), and every action received.
 */
import { WebSocketServer, type RawData, type ServerOptions, type WebSocket } from 'ws';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CHANNELS } from '../../shared/market.ts';

/** The text of a received frame, whatever shape ws hands it over in. */
export function frameText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

export interface ReceivedAction {
  readonly connection: number;
  readonly action: Record<string, unknown>;
}

export interface ScriptedServer {
  readonly url: string;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  /** Connections open now, and the most ever open at once. */
  readonly open: () => number;
  readonly maxConcurrent: () => number;
  readonly received: ReceivedAction[];
  readonly sockets: WebSocket[];
  close(): Promise<void>;
}

export type ConnectionScript = (ws: WebSocket, index: number, req: IncomingMessage) => void;

export async function startScriptedServer(
  script: ConnectionScript,
  serverOptions: Pick<ServerOptions, 'autoPong' | 'verifyClient' | 'perMessageDeflate'> = {},
): Promise<ScriptedServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...serverOptions });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  let accepted = 0;
  let open = 0;
  let maxConcurrent = 0;
  const received: ReceivedAction[] = [];
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws, req) => {
    const index = accepted++;
    open++;
    maxConcurrent = Math.max(maxConcurrent, open);
    sockets.push(ws);
    ws.on('close', () => open--);
    ws.on('message', (data) => {
      try {
        received.push({
          connection: index,
          action: JSON.parse(frameText(data)) as Record<string, unknown>,
        });
      } catch {
        received.push({ connection: index, action: { unparseable: frameText(data) } });
      }
    });
    script(ws, index, req);
  });
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/v2/iex`,
    accepted: () => accepted,
    open: () => open,
    maxConcurrent: () => maxConcurrent,
    received,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

/** A stock feed's channels. */
const STOCK = CHANNELS.filter((c) => c !== 'orderbooks' && c !== 'news');

/**
 * The ordinary Alpaca session in JSON: connected, auth (any key unless `refuseAuth`), subscribe /
 * unsubscribe with the whole-set echo. Returns the server-side set for assertions.
 */
export function alpacaSession(
  ws: WebSocket,
  options: {
    refuseAuth?: boolean;
    echo?: boolean;
    /** Leave out the echo of the n-th (0-based) subscription action. */
    dropEcho?: (n: number) => boolean;
    /** Answer a subscription action naming this symbol with 400, applying nothing of it. */
    rejectSymbol?: string;
  } = {},
): Map<string, Set<string>> {
  const sets = new Map<string, Set<string>>(STOCK.map((c) => [c, new Set<string>()]));
  let authed = false;
  let actions = 0;
  ws.send(JSON.stringify([{ T: 'success', msg: 'connected' }]));
  ws.on('message', (data) => {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(frameText(data)) as Record<string, unknown>;
    } catch {
      ws.send(JSON.stringify([{ T: 'error', code: 400, msg: 'invalid syntax' }]));
      return;
    }
    if (msg['action'] === 'auth') {
      if (options.refuseAuth) {
        ws.send(JSON.stringify([{ T: 'error', code: 402, msg: 'auth failed' }]));
        ws.close();
        return;
      }
      authed = true;
      ws.send(JSON.stringify([{ T: 'success', msg: 'authenticated' }]));
      return;
    }
    if (!authed) {
      ws.send(JSON.stringify([{ T: 'error', code: 401, msg: 'not authenticated' }]));
      return;
    }
    const n = actions++;
    if (
      options.rejectSymbol !== undefined &&
      JSON.stringify(msg).includes(`"${options.rejectSymbol}"`)
    ) {
      ws.send(JSON.stringify([{ T: 'error', code: 400, msg: 'invalid syntax' }]));
      return;
    }
    const add = msg['action'] === 'subscribe';
    for (const channel of STOCK) {
      const list = msg[channel];
      if (!Array.isArray(list)) continue;
      for (const symbol of list as string[]) {
        if (add) sets.get(channel)!.add(symbol);
        else sets.get(channel)!.delete(symbol);
      }
    }
    if (options.echo === false || options.dropEcho?.(n)) return;
    const echo: Record<string, unknown> = { T: 'subscription' };
    for (const channel of STOCK) echo[channel] = [...sets.get(channel)!].sort();
    echo['corrections'] = echo['trades'];
    echo['cancelErrors'] = echo['trades'];
    ws.send(JSON.stringify([echo]));
  });
  return sets;
}
