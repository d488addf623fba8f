/**
 * The DOM floor of bench/e2e.ts: a static page with no app code, holding a table shaped like the
 * watchlist (the same visible rows, the same columns at the same widths, the app's own CSS and
 * class names), whose numeric cells all get new text in every animation frame, the way the feed
 * changes them. What that page costs is the least any DOM table of those cells can cost in the
 * same Chromium, so the app's figures read as a ratio to it. Served from 127.0.0.1 by the bench.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { floorPage, type FloorSpec } from './dom-floor-page.ts';

export {
  DEFAULT_FLOOR_COLUMNS,
  floorPage,
  floorSpecProblem,
  type FloorColumn,
  type FloorSpec,
} from './dom-floor-page.ts';

export interface FloorServer {
  /** Registers a page for `spec`; resolves to its URL. */
  page(spec: FloorSpec): string;
  close(): Promise<void>;
}

/**
 * Serves `css` (the app's built stylesheets) at /app.css and each registered page at /floor/N on
 * 127.0.0.1, an ephemeral port. Anything else is a 404.
 */
export async function startFloorServer(css: string): Promise<FloorServer> {
  const pages: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const match = /^\/floor\/(\d+)$/.exec(path);
    const body = path === '/app.css' ? css : match ? pages[Number(match[1])] : undefined;
    if (body === undefined || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res
      .writeHead(200, {
        'content-type': path === '/app.css' ? 'text/css' : 'text/html; charset=utf-8',
        'cache-control': 'no-store',
      })
      .end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    page(spec) {
      pages.push(floorPage(spec, '/app.css'));
      return `http://127.0.0.1:${port}/floor/${pages.length - 1}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
