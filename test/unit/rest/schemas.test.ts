import { describe, expect, it } from 'vitest';
import {
  WireShapeError,
  formatIssuePath,
  parseAsset,
  parseAssets,
  parseBarsPage,
  parseCalendar,
  parseClock,
  parseSnapshots,
} from '../../../electron/rest/schemas.ts';
import { parseTime } from '../../../electron/rest/rfc3339.ts';

const AAPL = {
  latestTrade: {
    t: '2021-05-11T19:59:59.123456789Z',
    x: 'V',
    p: 125.91,
    s: 100,
    c: ['@'],
    i: 52983525029461,
    z: 'C',
  },
  latestQuote: {
    t: '2021-05-11T20:00:00.52Z',
    ax: 'V',
    ap: 126,
    as: 1,
    bx: 'V',
    bp: 125.9,
    bs: 2,
    c: ['R'],
    z: 'C',
  },
  minuteBar: {
    t: '2021-05-11T19:59:00Z',
    o: 125.6,
    h: 126,
    l: 125.5,
    c: 125.91,
    v: 5050,
    n: 61,
    vw: 125.8,
  },
  dailyBar: {
    t: '2021-05-11T04:00:00Z',
    o: 123.5,
    h: 126.27,
    l: 122.77,
    c: 125.91,
    v: 126142826,
    n: 1,
    vw: 124.9,
  },
  prevDailyBar: {
    t: '2021-05-10T04:00:00Z',
    o: 129.41,
    h: 129.54,
    l: 126.81,
    c: 126.85,
    v: 88071229,
  },
  somethingNew: { added: 'later' },
};

describe('parseTime', () => {
  it('reads RFC 3339 with nanoseconds and offsets to epoch ms', () => {
    expect(parseTime('2021-05-11T19:59:59.123456789Z')).toBe(
      Date.UTC(2021, 4, 11, 19, 59, 59, 123),
    );
    expect(parseTime('2024-05-01T09:30:00-04:00')).toBe(Date.UTC(2024, 4, 1, 13, 30));
    expect(parseTime('2021-05-11')).toBeUndefined();
    expect(parseTime('yesterday')).toBeUndefined();
  });
});

describe('parseSnapshots', () => {
  it('maps a bare stock map to domain snapshots, unknown keys dropped', () => {
    const { value, skipped } = parseSnapshots({ AAPL }, false);
    expect(skipped).toBe(0);
    expect(value.get('AAPL')).toEqual({
      symbol: 'AAPL',
      latestTrade: {
        time: Date.UTC(2021, 4, 11, 19, 59, 59, 123),
        price: 125.91,
        size: 100,
        exchange: 'V',
        conditions: ['@'],
      },
      latestQuote: {
        time: Date.UTC(2021, 4, 11, 20, 0, 0, 520),
        bidPrice: 125.9,
        bidSize: 2,
        askPrice: 126,
        askSize: 1,
        bidExchange: 'V',
        askExchange: 'V',
      },
      minuteBar: {
        time: Date.UTC(2021, 4, 11, 19, 59),
        open: 125.6,
        high: 126,
        low: 125.5,
        close: 125.91,
        volume: 5050,
        tradeCount: 61,
        vwap: 125.8,
      },
      dailyBar: expect.objectContaining({
        time: Date.UTC(2021, 4, 11, 4),
        close: 125.91,
      }) as unknown,
      prevDailyBar: {
        time: Date.UTC(2021, 4, 10, 4),
        open: 129.41,
        high: 129.54,
        low: 126.81,
        close: 126.85,
        volume: 88071229,
        tradeCount: undefined,
        vwap: undefined,
      },
    });
  });

  it('reads crypto snapshots under "snapshots", with no exchanges and a taker side', () => {
    const body = {
      snapshots: {
        'BTC/USD': {
          latestTrade: { t: '2024-05-01T14:00:00.5Z', p: 60000.5, s: 0.0123, tks: 'B', i: 1 },
          latestQuote: { t: '2024-05-01T14:00:00.6Z', bp: 60000, bs: 1.5, ap: 60001, as: 0.25 },
          dailyBar: null,
        },
      },
    };
    const snap = parseSnapshots(body, true).value.get('BTC/USD');
    expect(snap?.latestTrade).toEqual({
      time: Date.UTC(2024, 4, 1, 14, 0, 0, 500),
      price: 60000.5,
      size: 0.0123,
      exchange: undefined,
      conditions: [],
    });
    expect(snap?.latestQuote?.bidExchange).toBeUndefined();
    expect(snap?.dailyBar).toBeUndefined();
    expect(snap?.minuteBar).toBeUndefined();
  });

  it('skips and counts a malformed symbol, keeping the others', () => {
    const result = parseSnapshots(
      {
        AAPL,
        BAD: { latestTrade: { t: 'not a time', p: 1, s: 1 } },
        NEG: { dailyBar: { ...AAPL.dailyBar, v: -5 } },
      },
      false,
    );
    expect([...result.value.keys()]).toEqual(['AAPL']);
    expect(result.skipped).toBe(2);
    expect(result.firstSkip).toMatch(/^BAD\.latestTrade\.t: not an RFC 3339 time/);
  });

  it('refuses an envelope of the wrong shape with the issue path', () => {
    expect(() => parseSnapshots([AAPL], false)).toThrow(WireShapeError);
    expect(() => parseSnapshots({ AAPL }, true)).toThrow(/at snapshots:/);
    expect(() => parseSnapshots(null, false)).toThrow(/at \(root\)/);
  });

  it('treats a string where a number belongs as malformed (no coercion)', () => {
    const result = parseSnapshots({ X: { minuteBar: { ...AAPL.minuteBar, c: '125.91' } } }, false);
    expect(result.value.size).toBe(0);
    expect(result.firstSkip).toMatch(/^X\.minuteBar\.c:/);
  });
});

describe('parseBarsPage', () => {
  it('maps bars per symbol and reads the page token', () => {
    const page = parseBarsPage({
      bars: {
        AAPL: [AAPL.minuteBar, { ...AAPL.minuteBar, t: '2021-05-11T20:00:00Z' }],
        MSFT: [{ ...AAPL.minuteBar, n: null, vw: null }],
      },
      next_page_token: 'QUFQTHxNfDIwMjE=',
    });
    expect(page.value.nextPageToken).toBe('QUFQTHxNfDIwMjE=');
    expect(page.value.bars.get('AAPL')?.map((b) => b.time)).toEqual([
      Date.UTC(2021, 4, 11, 19, 59),
      Date.UTC(2021, 4, 11, 20, 0),
    ]);
    expect(page.value.bars.get('MSFT')?.[0]?.tradeCount).toBeUndefined();
  });

  it('reads a null or empty token as the last page, and null bars as none', () => {
    expect(parseBarsPage({ bars: {}, next_page_token: null }).value.nextPageToken).toBeUndefined();
    expect(parseBarsPage({ bars: null, next_page_token: '' }).value.nextPageToken).toBeUndefined();
    expect(parseBarsPage({ bars: null }).value.bars.size).toBe(0);
  });

  it('skips a bad bar with its index and keeps the rest', () => {
    const page = parseBarsPage({
      bars: { AAPL: [AAPL.minuteBar, { ...AAPL.minuteBar, o: null }, AAPL.minuteBar] },
      next_page_token: null,
    });
    expect(page.value.bars.get('AAPL')).toHaveLength(2);
    expect(page.skipped).toBe(1);
    expect(page.firstSkip).toMatch(/^bars\.AAPL\[1\]\.o:/);
  });

  it('refuses bars that are not a map of arrays', () => {
    expect(() => parseBarsPage({ bars: [] })).toThrow(/at bars:/);
    expect(() => parseBarsPage({ bars: { AAPL: {} } })).toThrow(/at bars\.AAPL:/);
    expect(() => parseBarsPage({ bars: {}, next_page_token: 7 })).toThrow(/next_page_token/);
  });
});

describe('parseClock', () => {
  it('maps the clock with New York offsets to epoch ms', () => {
    expect(
      parseClock({
        timestamp: '2024-05-01T10:43:12.123456789-04:00',
        is_open: true,
        next_open: '2024-05-02T09:30:00-04:00',
        next_close: '2024-05-01T16:00:00-04:00',
      }),
    ).toEqual({
      time: Date.UTC(2024, 4, 1, 14, 43, 12, 123),
      isOpen: true,
      nextOpen: Date.UTC(2024, 4, 2, 13, 30),
      nextClose: Date.UTC(2024, 4, 1, 20, 0),
    });
  });

  it('is all or nothing', () => {
    expect(() =>
      parseClock({ timestamp: 'x', is_open: true, next_open: 'y', next_close: 'z' }),
    ).toThrow(/at timestamp:/);
    expect(() =>
      parseClock({
        timestamp: '2024-05-01T10:43:12Z',
        is_open: 'true',
        next_open: '2024-05-02T09:30:00-04:00',
        next_close: '2024-05-01T16:00:00-04:00',
      }),
    ).toThrow(/at is_open:/);
  });
});

describe('parseCalendar', () => {
  it('keeps New York local times and puts a colon in the session bounds', () => {
    expect(
      parseCalendar([
        {
          date: '2024-11-29',
          open: '09:30',
          close: '13:00',
          session_open: '0400',
          session_close: '2000',
          settlement_date: '2024-12-02',
        },
        { date: '2024-12-02', open: '09:30', close: '16:00' },
      ]),
    ).toEqual([
      {
        date: '2024-11-29',
        open: '09:30',
        close: '13:00',
        sessionOpen: '04:00',
        sessionClose: '20:00',
      },
      {
        date: '2024-12-02',
        open: '09:30',
        close: '16:00',
        sessionOpen: '04:00',
        sessionClose: '20:00',
      },
    ]);
  });

  it('refuses the whole calendar for one bad day (a missing day would read as a holiday)', () => {
    expect(() =>
      parseCalendar([
        { date: '2024-12-02', open: '09:30', close: '16:00' },
        { date: '2024-12-03', open: '9.30', close: '16:00' },
      ]),
    ).toThrow(/at \[1\]\.open:/);
    expect(() => parseCalendar({ days: [] })).toThrow(WireShapeError);
  });
});

describe('assets', () => {
  const apple = {
    id: 'b0b6dd9d-8b9b-48a9-ba46-b9d54906e415',
    class: 'us_equity',
    exchange: 'NASDAQ',
    symbol: 'AAPL',
    name: 'Apple Inc. Common Stock',
    status: 'active',
    tradable: true,
    marginable: true,
    shortable: true,
    fractionable: true,
    attributes: [],
  };

  it('maps an asset', () => {
    expect(parseAsset(apple)).toEqual({
      symbol: 'AAPL',
      name: 'Apple Inc. Common Stock',
      exchange: 'NASDAQ',
      assetClass: 'us_equity',
      status: 'active',
      tradable: true,
    });
    expect(parseAsset({ ...apple, name: null }).name).toBe('');
    expect(() => parseAsset({ ...apple, tradable: undefined })).toThrow(/at tradable:/);
  });

  it('skips a bad entry of the directory and counts it', () => {
    const result = parseAssets([apple, { ...apple, symbol: '' }, { ...apple, symbol: 'MSFT' }]);
    expect(result.value.map((a) => a.symbol)).toEqual(['AAPL', 'MSFT']);
    expect(result.skipped).toBe(1);
    expect(result.firstSkip).toMatch(/^\[1\]\.symbol:/);
  });
});

describe('formatIssuePath', () => {
  it('writes keys with dots and indexes in brackets', () => {
    expect(formatIssuePath(['bars', 'AAPL', 0, 't'])).toBe('bars.AAPL[0].t');
    expect(formatIssuePath([2, 'open'])).toBe('[2].open');
    expect(formatIssuePath([])).toBe('');
  });
});
