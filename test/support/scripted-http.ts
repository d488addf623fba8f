/**
 * A real HTTP server on 127.0.0.1, port 0, whose answers each test scripts per request. It keeps
 * every request it received (path, query, headers, arrival order) and counts requests whose
 * client went away before the answer was finished, so a test sees cancellation from the
 * server's side.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Hit {
  /** 0-based arrival order. */
  readonly index: number;
  readonly path: string;
  readonly query: URLSearchParams;
  /** The raw path and query as sent. */
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
}

export type HttpScript = (
  hit: Hit,
  res: ServerResponse,
  req: IncomingMessage,
) => void | Promise<void>;

export interface ScriptedHttpServer {
  readonly url: string;
  /** `127.0.0.1:port`, the key of per-host metrics. */
  readonly host: string;
  readonly hits: Hit[];
  /** Requests whose client closed the connection before the answer ended. */
  aborted(): number;
  close(): Promise<void>;
}

export async function startHttpServer(script: HttpScript): Promise<ScriptedHttpServer> {
  const hits: Hit[] = [];
  let aborted = 0;
  const server = createServer((req, res) => {
    const raw = req.url ?? '/';
    const parsed = new URL(raw, 'http://localhost');
    const hit: Hit = {
      index: hits.length,
      path: parsed.pathname,
      query: parsed.searchParams,
      url: raw,
      headers: req.headers,
    };
    hits.push(hit);
    res.on('close', () => {
      if (!res.writableFinished) aborted++;
    });
    Promise.resolve(script(hit, res, req)).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 599, { message: `script failed: ${String(err)}` });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    hits,
    aborted: () => aborted,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | number> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string | number> = {},
): void {
  res.writeHead(status, { 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Resolves after `ms` of real time (a server taking its time). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
