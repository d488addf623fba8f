import { describe, expect, it } from 'vitest';
import {
  IntradayHistory,
  MINUTE_MS,
  SESSION_SLOTS,
  type RepairRequest,
} from '../../../electron/market/history.ts';
import type { RestBar } from '../../../electron/rest/types.ts';

/** 2025-03-10 04:00 New York (EDT, UTC-4). */
const S = Date.parse('2025-03-10T08:00:00Z');
const NEXT = S + 24 * 3_600_000;
/** Epoch ms of New York wall time `hh:mm` on the session day. */
const at = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return S + ((h - 4) * 60 + m) * MINUTE_MS;
};
const slot = (hhmm: string) => (at(hhmm) - S) / MINUTE_MS;

function bar(time: number, close: number): RestBar {
  return {
    time,
    open: close,
    high: close,
    low: close,
    close,
    volume: 100,
    tradeCount: 1,
    vwap: close,
  };
}

/** One bar a minute over `[from, to)`, closes 100, 101, 102 ... */
function bars(from: number, to: number, base = 100): RestBar[] {
  const out: RestBar[] = [];
  for (let t = from, i = 0; t < to; t += MINUTE_MS, i++) out.push(bar(t, base + i));
  return out;
}

describe('IntradayHistory: seed and live bars', () => {
  it('seeds a series from REST bars: one slot a minute from 04:00, NaN where no bar', () => {
    const h = new IntradayHistory();
    expect(h.seed('AAPL', bars(at('09:30'), at('09:35')), S)).toBe(true);
    expect(h.sessionStart).toBe(S);
    const s = h.series('AAPL')!;
    expect(s.start).toBe(S);
    expect(s.stepMs).toBe(60_000);
    expect(s.closes).toBeInstanceOf(Float32Array);
    expect(s.closes).toHaveLength(SESSION_SLOTS);
    expect(s.closes[slot('09:29')]).toBeNaN();
    expect(Array.from(s.closes.subarray(slot('09:30'), slot('09:35')))).toEqual([
      100, 101, 102, 103, 104,
    ]);
    expect(s.closes[slot('09:35')]).toBeNaN();
  });

  it('gives a copy: changing it does not change the history', () => {
    const h = new IntradayHistory();
    h.seed('AAPL', bars(at('09:30'), at('09:31')), S);
    h.series('AAPL')!.closes[slot('09:30')] = 1;
    expect(h.series('AAPL')!.closes[slot('09:30')]).toBe(100);
  });

  it('extends with live minute bars and hands views only the appended points', () => {
    const h = new IntradayHistory();
    h.seed('AAPL', bars(at('09:30'), at('09:33')), S);
    h.seed('MSFT', bars(at('09:30'), at('09:33'), 400), S);
    const first = h.series('AAPL')!;
    expect(h.changesSince(first.version)).toEqual({
      version: first.version,
      start: S,
      reset: false,
      changes: [],
    });
    expect(h.applyMinuteBar('AAPL', bar(at('09:33'), 110.5))).toBe(true);
    expect(h.applyMinuteBar('AAPL', bar(at('09:34'), 111.25))).toBe(true);
    const changes = h.changesSince(first.version);
    expect(changes.reset).toBe(false);
    expect(changes.version).toBe(h.version);
    expect(changes.changes).toEqual([
      { symbol: 'AAPL', from: slot('09:33'), closes: [110.5, 111.25] },
    ]);
    // Nothing more once caught up.
    expect(h.changesSince(changes.version).changes).toEqual([]);
  });

  it('replaces a minute when a correction of it arrives, and sends from that minute on', () => {
    const h = new IntradayHistory();
    h.seed('AAPL', bars(at('09:30'), at('09:35')), S);
    const v = h.version;
    h.applyMinuteBar('AAPL', bar(at('09:32'), 99.5));
    expect(h.series('AAPL')!.closes[slot('09:32')]).toBe(99.5);
    expect(h.changesSince(v).changes).toEqual([
      { symbol: 'AAPL', from: slot('09:32'), closes: [99.5, 103, 104] },
    ]);
  });

  it('sends a minute without a bar as null inside a delta', () => {
    const h = new IntradayHistory();
    h.seed('AAPL', bars(at('09:30'), at('09:31')), S);
    const v = h.version;
    h.applyMinuteBar('AAPL', bar(at('09:33'), 105));
    h.applyMinuteBar('AAPL', bar(at('09:31'), 101));
    expect(h.changesSince(v).changes).toEqual([
      { symbol: 'AAPL', from: slot('09:31'), closes: [101, null, 105] },
    ]);
  });

  it('creates the series of a symbol first seen on the stream', () => {
    const h = new IntradayHistory();
    h.roll(S);
    expect(h.applyMinuteBar('TSLA', bar(at('10:00'), 250))).toBe(true);
    expect(h.has('TSLA')).toBe(true);
    expect(h.series('TSLA')!.closes[slot('10:00')]).toBe(250);
  });

  it('refuses bars it cannot place, changing nothing', () => {
    const h = new IntradayHistory();
    expect(h.applyMinuteBar('AAPL', bar(at('10:00'), 1))).toBe(false); // no session yet
    expect(h.size).toBe(0);
    h.roll(S);
    const v = h.version;
    expect(h.applyMinuteBar('AAPL', bar(S - MINUTE_MS, 1))).toBe(false); // before 04:00
    expect(h.applyMinuteBar('AAPL', bar(at('20:00'), 1))).toBe(false); // after 19:59
    expect(h.applyMinuteBar('AAPL', bar(at('10:00'), Number.NaN))).toBe(false);
    expect(h.applyMinuteBar('AAPL', bar(Number.NaN, 1))).toBe(false);
    expect(h.version).toBe(v);
    expect(h.size).toBe(0);
    h.seed('AAPL', [bar(at('19:59'), 5), bar(at('20:00'), 6), bar(S - 1, 7)], S);
    const closes = h.series('AAPL')!.closes;
    expect(closes[SESSION_SLOTS - 1]).toBe(5);
    expect(closes.filter((c) => !Number.isNaN(c))).toHaveLength(1);
  });

  it('ignores a seed for an older session and rolls to a newer one', () => {
    const h = new IntradayHistory();
    h.seed('AAPL', bars(at('09:30'), at('09:31')), S);
    expect(
      h.seed('AAPL', bars(S - 24 * 3_600_000, S - 24 * 3_600_000 + MINUTE_MS), S - 86_400_000),
    ).toBe(false);
    expect(h.sessionStart).toBe(S);
    expect(h.series('AAPL')!.closes[slot('09:30')]).toBe(100);
    h.seed('MSFT', bars(NEXT, NEXT + MINUTE_MS, 400), NEXT);
    expect(h.sessionStart).toBe(NEXT);
    // AAPL's old session is gone; the symbol stays, empty, for the next seed or repair.
    expect(h.has('AAPL')).toBe(true);
    expect(h.series('AAPL')!.closes.every((c) => Number.isNaN(c))).toBe(true);
    expect(h.series('MSFT')!.closes[0]).toBe(400);
  });

  it('holds no more than maxSymbols series', () => {
    const h = new IntradayHistory({ maxSymbols: 2 });
    expect(h.seed('A', [], S)).toBe(true);
    expect(h.seed('B', [], S)).toBe(true);
    expect(h.seed('C', [], S)).toBe(false);
    expect(h.applyMinuteBar('D', bar(at('10:00'), 1))).toBe(false);
    expect(h.symbols()).toEqual(['A', 'B']);
    h.retain(['A']);
    expect(h.applyMinuteBar('D', bar(at('10:00'), 1))).toBe(true);
  });
});

describe('IntradayHistory: gaps and repair', () => {
  /** Seeded to 10:00, live 10:00–10:10, disconnected 10:10–10:20, live again 10:20–10:30. */
  function afterReconnect(symbols: string[], thin: string[] = []) {
    const h = new IntradayHistory();
    for (const s of [...symbols, ...thin]) {
      h.seed(s, s === thin[0] ? [] : bars(at('04:00'), at('10:00')), S, at('10:00'));
    }
    for (const s of symbols) {
      for (const b of bars(at('10:00'), at('10:10'))) h.applyMinuteBar(s, b);
      for (const b of bars(at('10:20'), at('10:30'))) h.applyMinuteBar(s, b);
    }
    return h;
  }
  const now = at('10:30') + 20_000;

  it('finds the minutes missed while disconnected', () => {
    const h = afterReconnect(['AAPL']);
    expect(h.gaps('AAPL', now)).toEqual([{ from: at('10:10'), to: at('10:20') }]);
  });

  it('does not count the minute in progress, nor minutes after 20:00', () => {
    const h = afterReconnect(['AAPL']);
    expect(h.gaps('AAPL', at('10:30') + 59_999)).toEqual([{ from: at('10:10'), to: at('10:20') }]);
    expect(h.gaps('AAPL', at('10:31'))).toEqual([
      { from: at('10:10'), to: at('10:20') },
      { from: at('10:30'), to: at('10:31') },
    ]);
    expect(h.gaps('AAPL', at('23:00')).at(-1)).toEqual({ from: at('10:30'), to: at('20:00') });
  });

  it('treats the minutes a seed covered as settled, bars or not', () => {
    const h = new IntradayHistory();
    h.seed('QUIET', [bar(at('09:45'), 10)], S, at('10:00'));
    expect(h.gaps('QUIET', at('10:00'))).toEqual([]);
    // Without the fetch's end, the minutes up to the last bar are settled.
    h.seed('OTHER', [bar(at('09:45'), 10)], S);
    expect(h.gaps('OTHER', at('10:00'))).toEqual([{ from: at('09:46'), to: at('10:00') }]);
  });

  it('asks only for the disconnected minutes of a thin symbol when the service marks the stream up', () => {
    const h = afterReconnect(['AAPL'], ['THIN']);
    // Without knowing the stream was up, a quiet symbol's empty minutes look missed.
    expect(h.gaps('THIN', now)).toEqual([{ from: at('10:00'), to: at('10:30') }]);
    h.markCovered(['AAPL', 'THIN', 'NOTHELD'], at('10:00'), at('10:10'));
    h.markCovered(['AAPL', 'THIN'], at('10:20'), at('10:30'));
    expect(h.gaps('THIN', now)).toEqual([{ from: at('10:10'), to: at('10:20') }]);
    expect(h.has('NOTHELD')).toBe(false);
  });

  it('plans one multi-symbol request for symbols with the same gap', () => {
    const h = afterReconnect(['AAPL', 'MSFT', 'NVDA']);
    h.seed('LATE', bars(at('04:00'), at('10:25')), S, at('10:25'));
    const plan = h.planRepair(['NVDA', 'AAPL', 'MSFT', 'LATE', 'AAPL'], now);
    expect(plan).toEqual([
      { start: at('10:10'), end: at('10:20'), symbols: ['AAPL', 'MSFT', 'NVDA'] },
      { start: at('10:25'), end: at('10:30'), symbols: ['LATE'] },
    ]);
  });

  it('plans a symbol never seen from the session start (the seed itself), and tracks it', () => {
    const h = afterReconnect(['AAPL']);
    const plan = h.planRepair(['NEW'], now);
    expect(plan).toEqual([{ start: S, end: at('10:30'), symbols: ['NEW'] }]);
    expect(h.has('NEW')).toBe(true);
    h.applyRepair(plan[0]!, new Map([['NEW', bars(at('09:30'), at('10:30'))]]));
    expect(h.series('NEW')!.closes[slot('10:29')]).toBe(159);
    expect(h.gaps('NEW', now)).toEqual([]);
    const none = new IntradayHistory();
    expect(none.planRepair(['NEW'], now)).toEqual([]); // no session yet
    expect(none.size).toBe(0);
  });

  it('skips a symbol dropped while its repair was out, and plans none over maxSymbols', () => {
    const h = new IntradayHistory({ maxSymbols: 2 });
    h.roll(S);
    const plan = h.planRepair(['A', 'B', 'C'], at('05:00'));
    expect(plan).toEqual([{ start: S, end: at('05:00'), symbols: ['A', 'B'] }]);
    h.retain(['A']);
    h.applyRepair(plan[0]!, new Map([['B', bars(S, at('05:00'))]]));
    expect(h.symbols()).toEqual(['A']);
    expect(h.gaps('A', at('05:00'))).toEqual([]);
  });

  it('a repair written page by page, then settled, ends as one applied whole', () => {
    const whole = afterReconnect(['AAPL', 'MSFT']);
    const paged = afterReconnect(['AAPL', 'MSFT']);
    const [request] = whole.planRepair(['AAPL', 'MSFT'], now) as [RepairRequest];
    expect(paged.planRepair(['AAPL', 'MSFT'], now)).toEqual([request]);
    const v = paged.version;
    whole.applyRepair(request, new Map([['AAPL', [bar(at('10:12'), 200), bar(at('10:15'), 201)]]]));
    paged.writeRepair(request, new Map([['AAPL', [bar(at('10:12'), 200)]]]));
    // A written page shows at once, and its range is not yet settled...
    expect(paged.series('AAPL')!.closes[slot('10:12')]).toBe(200);
    expect(paged.changesSince(v).changes.map((c) => c.symbol)).toEqual(['AAPL']);
    expect(paged.gaps('MSFT', now)).not.toEqual([]);
    // ...nor can a page name a symbol the request did not.
    paged.writeRepair(request, new Map([['NVDA', [bar(at('10:12'), 9)]]]));
    expect(paged.has('NVDA')).toBe(false);
    paged.writeRepair(request, new Map([['AAPL', [bar(at('10:15'), 201)]]]));
    paged.settleRepair(request);
    for (const symbol of ['AAPL', 'MSFT']) {
      expect(Array.from(paged.series(symbol)!.closes)).toEqual(
        Array.from(whole.series(symbol)!.closes),
      );
      expect(paged.gaps(symbol, now)).toEqual([]);
    }
    expect(paged.planRepair(['AAPL', 'MSFT'], now)).toEqual([]);
  });

  it('a symbol dropped and back while its repair came page by page: what it missed is asked again', () => {
    const h = new IntradayHistory();
    h.roll(S);
    const now5 = at('05:00');
    const [request] = h.planRepair(['A', 'B'], now5) as [RepairRequest];
    expect(request).toEqual({ start: S, end: now5, symbols: ['A', 'B'] });
    // A's page comes while A is on no watchlist: there is no series to write it to.
    h.retain(['B']);
    h.writeRepair(
      request,
      new Map([
        ['A', bars(S, now5)],
        ['B', bars(S, at('04:30'))],
      ]),
    );
    // A is put back; the stream's minute bar makes its series again before the last page.
    expect(h.applyMinuteBar('A', bar(at('04:59'), 7))).toBe(true);
    h.writeRepair(request, new Map([['B', bars(at('04:30'), now5)]]));
    h.settleRepair(request);
    expect(h.gaps('B', now5)).toEqual([]);
    // A's page was dropped: settling its range would leave the hole for the rest of the session.
    expect(h.gaps('A', now5)).toEqual([{ from: S, to: at('04:59') }]);
    expect(h.planRepair(['A', 'B'], now5)).toEqual([
      { start: S, end: at('04:59'), symbols: ['A'] },
    ]);
  });

  it('fills a gap from the repair and never asks for a repaired range again', () => {
    const h = afterReconnect(['AAPL', 'MSFT']);
    const [request] = h.planRepair(['AAPL', 'MSFT'], now) as [RepairRequest];
    const v = h.version;
    // Alpaca has bars for some minutes only: the others had no trades.
    const answer = new Map([
      ['AAPL', [bar(at('10:12'), 200), bar(at('10:15'), 201)]],
      ['MSFT', []],
    ]);
    h.applyRepair(request, answer);
    const closes = h.series('AAPL')!.closes;
    expect(closes[slot('10:12')]).toBe(200);
    expect(closes[slot('10:13')]).toBeNaN();
    expect(h.gaps('AAPL', now)).toEqual([]);
    expect(h.gaps('MSFT', now)).toEqual([]);
    expect(h.planRepair(['AAPL', 'MSFT'], now)).toEqual([]);
    expect(h.changesSince(v).changes).toEqual([
      {
        symbol: 'AAPL',
        from: slot('10:12'),
        closes: [
          200,
          null,
          null,
          201,
          null,
          null,
          null,
          null,
          100,
          101,
          102,
          103,
          104,
          105,
          106,
          107,
          108,
          109,
        ],
      },
    ]);
    // A later disconnect makes a new gap; only that one is asked for.
    expect(h.planRepair(['AAPL', 'MSFT'], at('10:33'))).toEqual([
      { start: at('10:30'), end: at('10:33'), symbols: ['AAPL', 'MSFT'] },
    ]);
  });

  it("leaves out a repair's bar at its end: the minute in progress, half made, stays a gap", () => {
    // A symbol just added: its whole session so far, up to the minute in progress.
    const h = new IntradayHistory();
    h.roll(S);
    const [request] = h.planRepair(['AAPL'], now) as [RepairRequest];
    // The plan stops at the minute in progress (10:30); Alpaca's `end` is inclusive, so the
    // answer may hold that minute's bar as far as it has come.
    expect(request.end).toBe(at('10:30'));
    h.applyRepair(request, new Map([['AAPL', [bar(at('10:12'), 200), bar(at('10:30'), 150)]]]));
    expect(h.series('AAPL')!.closes[slot('10:12')]).toBe(200);
    expect(h.series('AAPL')!.closes[slot('10:30')]).toBeNaN();
    // Once it is over it is asked for (a symbol the stream does not carry gets no other bar).
    expect(h.gaps('AAPL', at('10:31'))).toEqual([{ from: at('10:30'), to: at('10:31') }]);
  });

  it('asks again for a repair that was never applied (the fetch failed)', () => {
    const h = afterReconnect(['AAPL']);
    const first = h.planRepair(['AAPL'], now);
    expect(h.planRepair(['AAPL'], now)).toEqual(first);
  });

  it('merges distinct gaps into at most maxRepairRequests requests, covering every gap', () => {
    const symbols = Array.from({ length: 12 }, (_, i) => `S${i}`);
    // Each symbol settled up to 09:00 but for a five-minute hole of its own, 20 minutes apart.
    const g = new IntradayHistory({ maxRepairRequests: 3 });
    symbols.forEach((symbol, i) => {
      const holeFrom = S + (20 * i + 10) * MINUTE_MS;
      g.seed(symbol, [], S, holeFrom);
      g.markCovered([symbol], holeFrom + 5 * MINUTE_MS, at('09:00'));
    });
    const plan = g.planRepair(symbols, at('09:00'));
    expect(plan).toHaveLength(3);
    for (const symbol of symbols) {
      for (const gap of g.gaps(symbol, at('09:00'))) {
        expect(
          plan.some((r) => r.symbols.includes(symbol) && r.start <= gap.from && gap.to <= r.end),
        ).toBe(true);
      }
    }
    for (const request of plan) g.applyRepair(request, new Map());
    expect(g.planRepair(symbols, at('09:00'))).toEqual([]);
  });
});

describe('IntradayHistory: retain, roll and the change journal', () => {
  it('drops symbols no longer on any watchlist', () => {
    const h = new IntradayHistory();
    h.seed('AAPL', bars(at('09:30'), at('09:31')), S);
    h.seed('MSFT', bars(at('09:30'), at('09:31')), S);
    const v = h.version;
    h.applyMinuteBar('MSFT', bar(at('09:31'), 1));
    expect(h.retain(['AAPL', 'TSLA'])).toEqual(['MSFT']);
    expect(h.symbols()).toEqual(['AAPL']);
    expect(h.series('MSFT')).toBeUndefined();
    // Changes of a dropped symbol are not sent.
    expect(h.changesSince(v).changes).toEqual([]);
  });

  it('rolls to a new session: series emptied in place, symbols kept, views reset', () => {
    const h = new IntradayHistory();
    h.seed('AAPL', bars(at('09:30'), at('16:00')), S);
    const before = h.bytes();
    const v = h.version;
    h.roll(S); // the same session: nothing happens
    expect(h.version).toBe(v);
    h.roll(NEXT);
    expect(h.sessionStart).toBe(NEXT);
    expect(h.symbols()).toEqual(['AAPL']);
    expect(h.series('AAPL')!.start).toBe(NEXT);
    expect(h.series('AAPL')!.closes.every((c) => Number.isNaN(c))).toBe(true);
    expect(h.bytes()).toBe(before);
    expect(h.changesSince(v)).toEqual({
      version: h.version,
      start: NEXT,
      reset: true,
      changes: [],
    });
    // Every symbol is then one gap from the new session's start: the service's seed.
    expect(h.planRepair(['AAPL'], NEXT + 90 * MINUTE_MS)).toEqual([
      { start: NEXT, end: NEXT + 90 * MINUTE_MS, symbols: ['AAPL'] },
    ]);
    h.applyMinuteBar('AAPL', bar(NEXT + 5 * MINUTE_MS, 7));
    expect(h.changesSince(v)).toEqual({
      version: h.version,
      start: NEXT,
      reset: true,
      changes: [{ symbol: 'AAPL', from: 0, closes: [null, null, null, null, null, 7] }],
    });
  });

  it('answers a cursor older than the journal with a reset of whole series', () => {
    const h = new IntradayHistory({ journalCapacity: 4 });
    h.seed('AAPL', bars(at('09:30'), at('09:32')), S);
    const v = h.version;
    for (let i = 0; i < 3; i++) h.applyMinuteBar('AAPL', bar(at('09:32') + i * MINUTE_MS, 1));
    // Three changes after v, all still in a journal of four.
    expect(h.changesSince(v).reset).toBe(false);
    h.applyMinuteBar('AAPL', bar(at('09:35'), 2));
    h.applyMinuteBar('AAPL', bar(at('09:36'), 3));
    const late = h.changesSince(v);
    expect(late.reset).toBe(true);
    expect(late.changes).toEqual([
      { symbol: 'AAPL', from: 0, closes: h.changesSince(0).changes[0]!.closes },
    ]);
    expect(late.changes[0]!.closes).toHaveLength(slot('09:36') + 1);
    // A cursor within the journal still gets a delta.
    expect(h.changesSince(h.version - 2)).toEqual({
      version: h.version,
      start: S,
      reset: false,
      changes: [{ symbol: 'AAPL', from: slot('09:35'), closes: [2, 3] }],
    });
  });

  it('rejects nonsense options and session starts with a clear error', () => {
    expect(() => new IntradayHistory({ slots: 0 })).toThrow(/slots must be a positive integer/);
    expect(() => new IntradayHistory({ maxSymbols: 1.5 })).toThrow(/maxSymbols/);
    expect(() => new IntradayHistory().roll(Number.NaN)).toThrow(/sessionStart must be epoch ms/);
  });
});

describe('IntradayHistory: memory', () => {
  it('holds 2,000 full sessions in well under 20 MB, by byte count', () => {
    const h = new IntradayHistory();
    const full = bars(S, S + SESSION_SLOTS * MINUTE_MS);
    for (let i = 0; i < 2_000; i++) h.seed(`SYM${i}`, full, S, S + SESSION_SLOTS * MINUTE_MS);
    expect(h.size).toBe(2_000);
    const perSymbol = SESSION_SLOTS * 4 + (SESSION_SLOTS / 32) * 4; // 3,840 + 120
    const journal = 32_768 * (8 + 4 + 8);
    expect(h.bytes()).toBe(2_000 * perSymbol + journal);
    expect(h.bytes()).toBeLessThan(20 * 1024 * 1024);
    // 8.2 MiB (8.6 MB): the stated figure.
    expect(h.bytes() / (1024 * 1024)).toBeCloseTo(8.18, 1);
    expect(h.gaps('SYM1999', S + 2_000 * MINUTE_MS)).toEqual([]);
  });

  it('grows the heap by about the counted bytes (loose: no forced GC in vitest)', () => {
    const before = process.memoryUsage();
    const h = new IntradayHistory();
    for (let i = 0; i < 2_000; i++) h.seed(`SYM${i}`, [], S);
    const after = process.memoryUsage();
    const grown = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
    expect(h.size).toBe(2_000);
    expect(grown).toBeLessThan(20 * 1024 * 1024);
  });
});
