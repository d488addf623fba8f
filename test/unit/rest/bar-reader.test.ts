/**
 * The hand-written bar reader against the zod schema it stands in for: for every bar here, good or
 * bad, both take or refuse it alike, give the same RestBar, and name the same key with the same
 * words, so a page of bars reads as it did before the reader replaced zod there.
 */
import { describe, expect, it } from 'vitest';
import { isBarProblem, readBar } from '../../../electron/rest/bar-reader.ts';
import { formatIssuePath, parseBarsPage, toBar, wireBar } from '../../../electron/rest/schemas.ts';

const GOOD = {
  t: '2021-05-11T19:59:00Z',
  o: 125.6,
  h: 126,
  l: 125.5,
  c: 125.91,
  v: 5050,
  n: 61,
  vw: 125.8,
};

const BARS: readonly unknown[] = [
  GOOD,
  { ...GOOD, n: null, vw: null },
  { t: GOOD.t, o: 1, h: 1, l: 1, c: 1, v: 0 },
  { ...GOOD, extra: 'ignored', x: [1, 2] },
  { ...GOOD, t: '2021-05-11T19:59:00.123456789Z' },
  { ...GOOD, t: '2021-05-11T15:59:00-04:00' },
  { ...GOOD, t: '2021-05-11T19:59:00.5+02:00' },
  { ...GOOD, v: 0, o: 0 },
  // Refused:
  null,
  7,
  'bar',
  [GOOD],
  {},
  { ...GOOD, t: undefined },
  { ...GOOD, t: 1620763140000 },
  { ...GOOD, t: '2021-05-11' },
  { ...GOOD, t: 'May 11 2021' },
  { ...GOOD, t: '2021-13-45T99:99:99Z' },
  { ...GOOD, t: '2021-05-11T19:59:00' },
  { ...GOOD, o: null },
  { ...GOOD, h: '126' },
  { ...GOOD, l: -0.01 },
  { ...GOOD, c: undefined },
  { ...GOOD, v: true },
  { ...GOOD, n: -1 },
  { ...GOOD, vw: 'x' },
  { ...GOOD, o: -1, h: null },
  { ...GOOD, t: 'x'.repeat(100) },
  // A number too large for a double parses to Infinity: JSON can carry it, and zod names it.
  JSON.parse('{"t":"2021-05-11T19:59:00Z","o":1e999,"h":1,"l":1,"c":1,"v":1}'),
  JSON.parse('{"t":"2021-05-11T19:59:00Z","o":1,"h":1,"l":-1e999,"c":1,"v":1}'),
  JSON.parse('{"t":"2021-05-11T19:59:00Z","o":1,"h":1,"l":1,"c":1,"v":1,"vw":1e400}'),
  // Not from JSON, but a caller's object: zod names NaN and a value's class.
  { ...GOOD, n: Number.NaN },
  { ...GOOD, t: new Date(0) },
  { ...GOOD, c: Object(5) as unknown },
  new (class Bar {
    readonly t = 5;
  })(),
  { ...GOOD, v: new (class {})() },
  Object.assign(Object.create(null) as object, { ...GOOD, o: -0 }),
];

/** What zod said of a bar: the RestBar, or the first issue's path and message. */
function viaZod(value: unknown): unknown {
  const parsed = wireBar.safeParse(value);
  if (parsed.success) return toBar(parsed.data);
  const issue = parsed.error.issues[0];
  return { where: formatIssuePath(issue?.path ?? []), message: issue?.message };
}

function viaReader(value: unknown): unknown {
  const read = readBar(value);
  return isBarProblem(read) ? { where: read.key, message: read.message } : read;
}

describe('readBar', () => {
  it.each(BARS.map((bar, i) => [i, bar] as const))('bar %i: as wireBar reads it', (_, bar) => {
    expect(viaReader(bar)).toEqual(viaZod(bar));
  });

  it('keeps the page its skips and their first location', () => {
    const page = parseBarsPage({
      bars: { AAPL: [GOOD, { ...GOOD, vw: -2 }, GOOD, 5], MSFT: null, TSLA: [] },
      next_page_token: null,
    });
    expect(page.value.bars.get('AAPL')).toHaveLength(2);
    expect(page.value.bars.get('MSFT')).toEqual([]);
    expect(page.value.bars.get('TSLA')).toEqual([]);
    expect(page.skipped).toBe(2);
    expect(page.firstSkip).toBe('bars.AAPL[1].vw: Too small: expected number to be >=0');
  });

  it('words a number JSON cannot hold as zod did', () => {
    const body: unknown = JSON.parse(
      '{"bars":{"AAPL":[{"t":"2021-05-11T19:59:00Z","o":1,"h":1e999,"l":1,"c":1,"v":1}]}}',
    );
    expect(parseBarsPage(body).firstSkip).toBe(
      'bars.AAPL[0].h: Invalid input: expected number, received Infinity',
    );
  });

  it('locates a bar that is not an object at the bar itself', () => {
    const page = parseBarsPage({ bars: { AAPL: ['x'] } });
    expect(page.firstSkip).toBe('bars.AAPL[0]: Invalid input: expected object, received string');
  });
});
