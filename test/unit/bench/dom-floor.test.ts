import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_FLOOR_COLUMNS,
  floorPage,
  floorSpecProblem,
  startFloorServer,
  type FloorServer,
  type FloorSpec,
} from '../../../bench/lib/dom-floor.ts';

const SPEC: FloorSpec = {
  rows: 12,
  columns: [
    { label: 'Symbol', numeric: false, width: 96 },
    { label: 'Name', numeric: false, width: 0 },
    { label: 'Bid', numeric: true, width: 78 },
    { label: 'Ask', numeric: true, width: 78 },
    { label: 'Chg %', numeric: true, width: 64 },
  ],
  theme: 'dark',
};

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe('floorPage', () => {
  it('holds the rows and columns asked for, with only the numeric cells as text to change', () => {
    const html = floorPage(SPEC, '/app.css');
    expect(count(html, '<tr class="quote-row" id="floor-row-')).toBe(12);
    expect(count(html, '<td class="num">')).toBe(12 * 3);
    expect(count(html, '<th scope="row" class="symbol">')).toBe(12);
    expect(count(html, '<th scope="col"')).toBe(5);
    expect(count(html, '<th scope="col" class="num">')).toBe(3);
    // Widths as measured; a 0 width is left to the table.
    expect(count(html, '<col style="width:78px">')).toBe(2);
    expect(count(html, '<col>')).toBe(1);
    expect(html).toContain('<link rel="stylesheet" href="/app.css">');
    expect(html).toContain('data-theme="dark"');
    expect(html).toContain('requestAnimationFrame(write)');
  });

  it('escapes column labels', () => {
    const html = floorPage(
      {
        ...SPEC,
        columns: [
          { label: '<b>Sym</b>', numeric: false, width: 0 },
          { label: 'A&B "x"', numeric: true, width: 0 },
        ],
      },
      '/app.css',
    );
    expect(html).not.toContain('<b>Sym</b>');
    expect(html).toContain('&#60;b&#62;Sym&#60;/b&#62;');
    expect(html).toContain('A&#38;B &#34;x&#34;');
  });

  it('refuses a spec that would measure nothing, with the reason', () => {
    expect(floorSpecProblem(SPEC)).toBeUndefined();
    expect(floorSpecProblem({ ...SPEC, rows: 0 })).toMatch(/rows/);
    expect(floorSpecProblem({ ...SPEC, rows: 1.5 })).toMatch(/rows/);
    expect(floorSpecProblem({ ...SPEC, columns: [] })).toMatch(/no columns/);
    expect(
      floorSpecProblem({ ...SPEC, columns: [{ label: 'Symbol', numeric: false, width: 1 }] }),
    ).toMatch(/no numeric/);
    expect(() => floorPage({ ...SPEC, rows: -1 }, '/app.css')).toThrow(RangeError);
    expect(floorSpecProblem({ ...SPEC, columns: DEFAULT_FLOOR_COLUMNS })).toBeUndefined();
  });
});

describe('startFloorServer', () => {
  let server: FloorServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves the CSS and each registered page on loopback, and 404s the rest', async () => {
    server = await startFloorServer('table.quotes { color: red }');
    const first = server.page(SPEC);
    const second = server.page({ ...SPEC, rows: 3 });
    expect(first).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/floor\/0$/);
    expect(second).toMatch(/\/floor\/1$/);

    const page = await fetch(second);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(count(await page.text(), '<tr class="quote-row" id="floor-row-')).toBe(3);

    const css = await fetch(new URL('/app.css', first));
    expect(css.headers.get('content-type')).toBe('text/css');
    expect(await css.text()).toBe('table.quotes { color: red }');

    expect((await fetch(new URL('/floor/2', first))).status).toBe(404);
    expect((await fetch(new URL('/etc/passwd', first))).status).toBe(404);
    expect((await fetch(first, { method: 'POST' })).status).toBe(404);
  });
});
