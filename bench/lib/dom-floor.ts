/**
 * The DOM floor of bench/e2e.ts: a static page with no app code, holding a table shaped like the
 * watchlist (the same visible rows, the same columns at the same widths, the app's own CSS and
 * class names), whose numeric cells all get new text in every animation frame, the way the feed
 * changes them. What that page costs is the least any DOM table of those cells can cost in the
 * same Chromium, so the app's figures read as a ratio to it. Served from 127.0.0.1 by the bench.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FloorColumn {
  readonly label: string;
  readonly numeric: boolean;
  /** CSS px; 0 = let the table decide. */
  readonly width: number;
}

export interface FloorSpec {
  /** Data rows on screen. */
  readonly rows: number;
  /** Every column, the symbol's first; only numeric ones change. */
  readonly columns: readonly FloorColumn[];
  readonly theme: 'dark' | 'light';
}

/** The watchlist's columns when the page shows none the bench can read (a fallback). */
export const DEFAULT_FLOOR_COLUMNS: readonly FloorColumn[] = [
  { label: 'Symbol', numeric: false, width: 96 },
  ...['Bid', 'Bid size', 'Ask', 'Ask size', 'Last', 'Chg', 'Chg %', 'Volume', 'Age'].map(
    (label) => ({ label, numeric: true, width: 78 }),
  ),
];

/** Why `spec` cannot make a page, or undefined. */
export function floorSpecProblem(spec: FloorSpec): string | undefined {
  if (!Number.isSafeInteger(spec.rows) || spec.rows < 1 || spec.rows > 2_000) {
    return `rows must be an integer in 1..2000, got ${String(spec.rows)}`;
  }
  if (spec.columns.length === 0) return 'no columns';
  if (!spec.columns.some((c) => c.numeric)) return 'no numeric column: nothing would change';
  for (const c of spec.columns) {
    if (!Number.isFinite(c.width) || c.width < 0) return `column ${c.label}: bad width ${c.width}`;
  }
  return undefined;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * The page. Its script writes each numeric cell's text node (`Text.data`, as the app's cell
 * writer does) once per requestAnimationFrame with a new value of the cell's kind of width, so
 * every frame changes every numeric cell on screen: at 50,000 msgs/s over 1,000 symbols nearly
 * every row changes between two frames. Throws on a spec floorSpecProblem refuses.
 */
export function floorPage(spec: FloorSpec, cssHref: string): string {
  const problem = floorSpecProblem(spec);
  if (problem !== undefined) throw new RangeError(`DOM floor page: ${problem}`);
  const cols = spec.columns
    .map((c) => `<col${c.width > 0 ? ` style="width:${c.width}px"` : ''}>`)
    .join('');
  const head = spec.columns
    .map(
      (c) =>
        `<th scope="col"${c.numeric ? ' class="num"' : ''}><button type="button" class="sort">${escapeHtml(c.label)}</button></th>`,
    )
    .join('');
  const rows: string[] = [];
  for (let r = 0; r < spec.rows; r++) {
    const cells = spec.columns.map((c, k) =>
      k === 0
        ? `<th scope="row" class="symbol">S${r}</th>`
        : c.numeric
          ? '<td class="num">0.00</td>'
          : '<td></td>',
    );
    rows.push(`<tr class="quote-row">${cells.join('')}</tr>`);
  }
  // The values cycle through a fixed table of strings, so the script allocates nothing per cell
  // beyond what the DOM does: the cost measured is Chromium's, not number formatting.
  const script = `(() => {
  const texts = [];
  for (let i = 0; i < 997; i++) texts.push((10 + (i * 7919) % 99000 / 100).toFixed(2));
  const nodes = [...document.querySelectorAll('tbody td.num')].map((td) => td.firstChild);
  let turn = 0;
  const write = () => {
    turn++;
    for (let i = 0; i < nodes.length; i++) nodes[i].data = texts[(i * 31 + turn * 13) % 997];
    requestAnimationFrame(write);
  };
  requestAnimationFrame(write);
  window.__floor = { cells: nodes.length, rows: document.querySelectorAll('tbody tr').length };
})();`;
  return `<!doctype html>
<html lang="en" data-theme="${spec.theme}">
<head><meta charset="utf-8"><title>DOM floor</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="${escapeHtml(cssHref)}"></head>
<body><div id="watchlist-table-area" class="table-scroll" tabindex="0" style="height:100vh">
<table class="quotes"><colgroup>${cols}</colgroup><thead><tr>${head}</tr></thead>
<tbody>${rows.join('')}</tbody></table></div>
<script>${script}</script></body></html>`;
}

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
