/**
 * The DOM floor's page (see dom-floor.ts): a static table shaped like the watchlist, whose numeric
 * cells all get new text in every animation frame. Pure text with no Node imports, so that a DOM
 * test can run the page's own scripts.
 */
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
