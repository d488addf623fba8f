/**
 * The DOM floor's page (see dom-floor.ts): a static table shaped like the watchlist, whose numeric
 * cells all get new text in every animation frame. Pure text with no Node imports, so that a DOM
 * test can run the page's own scripts.
 *
 * The page takes the desk's keys too, with the least work a key can ask of such a page: ArrowDown
 * (and ArrowUp, Home, End) in the focused table moves a highlighted row, and the add box is a bare
 * input. What a key costs there, under the same feed, is the floor of the app's key-to-paint.
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
 * The floor's keys, run in the page. A move highlights the new row at once (its style, the
 * attributes a screen reader follows) and marks `data-painted-selection` in the next animation
 * frame, as the canvas watchlist marks the frame that paints it, so the bench's paint marks read
 * both pages alike. The page holds only the rows on screen: a move past the last wraps to the
 * first instead of scrolling (a floor, so the cheaper of the two).
 */
export const FLOOR_KEYS = `(() => {
  const area = document.getElementById('watchlist-table-area');
  const rows = [...area.querySelectorAll('tbody tr')];
  let selected = -1;
  area.addEventListener('keydown', (event) => {
    const n = rows.length;
    const to = event.key === 'ArrowDown' ? (selected + 1) % n
      : event.key === 'ArrowUp' ? (selected <= 0 ? n - 1 : selected - 1)
      : event.key === 'Home' ? 0 : event.key === 'End' ? n - 1 : -1;
    if (to < 0 || n === 0) return;
    event.preventDefault();
    const before = rows[selected];
    if (before !== undefined) {
      before.removeAttribute('aria-selected');
      before.style.background = '';
    }
    selected = to;
    const row = rows[to];
    row.setAttribute('aria-selected', 'true');
    row.style.background = 'rgba(90, 140, 255, 0.28)';
    area.setAttribute('aria-activedescendant', row.id);
    requestAnimationFrame(() => { area.dataset.paintedSelection = row.id; });
  });
})();`;

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
    rows.push(`<tr class="quote-row" id="floor-row-${r}">${cells.join('')}</tr>`);
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
})();
${FLOOR_KEYS}`;
  return `<!doctype html>
<html lang="en" data-theme="${spec.theme}">
<head><meta charset="utf-8"><title>DOM floor</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="${escapeHtml(cssHref)}"></head>
<body><input id="add-symbol-input" aria-label="Add symbol" autocomplete="off"
 style="position:fixed;top:0;right:0;width:12em;z-index:1">
<div id="watchlist-table-area" class="table-scroll" tabindex="0" style="height:100vh"
 aria-activedescendant="" data-painted-selection="">
<table class="quotes"><colgroup>${cols}</colgroup><thead><tr>${head}</tr></thead>
<tbody>${rows.join('')}</tbody></table></div>
<script>${script}</script></body></html>`;
}
