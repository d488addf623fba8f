import { describe, expect, it } from 'vitest';
import { History, barsOf, parseTimeframe } from '../../../electron/simulator/history.ts';
import {
  MarketHours,
  cryptoDays,
  servedCalendar,
  type SessionMode,
} from '../../../electron/simulator/market-hours.ts';
import {
  nyLocalToEpoch,
  sessionAt,
  tradingDayFromCalendar,
} from '../../../shared/market-session.ts';

/** The session a client computes at `at` from the calendar served then. */
function clientSession(mode: SessionMode, at: number, today: string): string {
  const days = servedCalendar(mode, '2026-05-25', '2026-07-20', today).map(tradingDayFromCalendar);
  return sessionAt(at, days, { from: '2026-05-25', to: '2026-07-20' }).session;
}

describe('forced sessions bend the served calendar', () => {
  it('every half hour over a week, a client computes the forced session (but the edge minute)', () => {
    const hours = new MarketHours('auto', () => 0);
    for (const mode of ['regular', 'pre', 'post', 'closed'] as const) {
      hours.mode = mode;
      // Wednesday 2026-06-10 00:15 New York to the next Wednesday, in 30-minute steps
      for (
        let at = nyLocalToEpoch('2026-06-10', '00:15');
        at < nyLocalToEpoch('2026-06-17', '00:00');
        at += 30 * 60_000
      ) {
        const today = new Date(at - 4 * 3_600_000).toISOString().slice(0, 10); // EDT
        expect(clientSession(mode, at, today), `${mode} at ${new Date(at).toISOString()}`).toBe(
          mode,
        );
        expect(hours.state(at).session).toBe(mode);
      }
    }
  });

  it('names the windows the calendar cannot avoid: pre opens at 23:59, post closes at 00:01', () => {
    const today = '2026-06-10';
    expect(clientSession('pre', nyLocalToEpoch(today, '23:59'), today)).toBe('regular');
    expect(clientSession('post', nyLocalToEpoch(today, '00:00'), today)).toBe('regular');
    expect(clientSession('post', nyLocalToEpoch(today, '00:01'), today)).toBe('post');
    expect(clientSession('regular', nyLocalToEpoch(today, '23:59'), today)).toBe('regular');
  });

  it('keeps the past real and the next open real when closed', () => {
    const served = servedCalendar('regular', '2026-06-04', '2026-06-14', '2026-06-10');
    expect(served.map((d) => d.date)).toEqual([
      '2026-06-04',
      '2026-06-05',
      '2026-06-08',
      '2026-06-09',
      '2026-06-10',
      '2026-06-11',
      '2026-06-12',
      '2026-06-13',
      '2026-06-14',
    ]);
    expect(served[3]).toMatchObject({ open: '09:30', close: '16:00' });
    expect(served[4]).toMatchObject({ open: '00:00', close: '24:00' });
    const closed = servedCalendar('closed', '2026-06-08', '2026-06-12', '2026-06-10');
    expect(closed.map((d) => d.date)).toEqual([
      '2026-06-08',
      '2026-06-09',
      '2026-06-11',
      '2026-06-12',
    ]);
    const hours = new MarketHours('closed', () => nyLocalToEpoch('2026-06-10', '11:00'));
    expect(hours.clock().nextOpen).toBe(nyLocalToEpoch('2026-06-11', '09:30'));
    expect(hours.stockSessionDay()?.date).toBe('2026-06-09');
  });
});

describe('history', () => {
  const hours = new MarketHours('auto', () => nyLocalToEpoch('2026-06-10', '11:00'));
  const days = hours.stockDays('2026-06-08', '2026-06-10');

  it('reads Alpaca timeframes and refuses the rest', () => {
    expect(parseTimeframe('1Min')).toEqual({ unit: 'min', minutes: 1 });
    expect(parseTimeframe('15T')).toEqual({ unit: 'min', minutes: 15 });
    expect(parseTimeframe('1Hour')).toEqual({ unit: 'min', minutes: 60 });
    expect(parseTimeframe('4H')).toEqual({ unit: 'min', minutes: 240 });
    expect(parseTimeframe('1Day')).toEqual({ unit: 'day' });
    for (const bad of ['0Min', '60Min', '24Hour', '2Day', '1Week', '1Month', 'Min', '', '1min']) {
      expect(() => parseTimeframe(bad), bad).toThrow(RangeError);
    }
  });

  it('today ends at the live price in the live minute, and opens at the previous close', () => {
    const history = new History(1);
    const today = days.find((d) => d.date === '2026-06-10');
    if (today === undefined) throw new Error('no day');
    const live = { price: 241.37, time: nyLocalToEpoch('2026-06-10', '10:42') + 17_000 };
    const bars = history.minuteBars('AAPL', today, nyLocalToEpoch('2026-06-10', '11:00'), live);
    expect(bars.at(-1)?.c).toBe(241.37);
    expect(bars.at(-1)?.t).toBe(nyLocalToEpoch('2026-06-10', '10:42'));
    expect(bars[0]?.o).toBe(history.dailyClose('AAPL', today.prevDate));
    expect(bars[0]?.t).toBe(today.preOpen);
    // without a live point the path heads for the day's own close
    const whole = history.minuteBars('AAPL', today, today.postClose);
    expect(whole.at(-1)?.c).toBe(history.dailyClose('AAPL', today.date));
    // the same path until the pin pulls it: early minutes agree closely
    expect(Math.abs((whole[0]?.c ?? 0) - (bars[0]?.c ?? 0))).toBeLessThan(1);
  });

  it('buckets minutes into aligned bars and days into one bar per date', () => {
    const history = new History(1);
    const start = days[0]?.preOpen ?? 0;
    const end = nyLocalToEpoch('2026-06-09', '20:00');
    const now = nyLocalToEpoch('2026-06-10', '11:00');
    const hourly = [
      ...barsOf(history, 'MSFT', days, { unit: 'min', minutes: 60 }, start, end, now, undefined),
    ];
    expect(hourly.every((b) => b.t % 3_600_000 === 0)).toBe(true);
    expect(hourly).toHaveLength(32); // two days of 04:00-20:00
    const daily = [...barsOf(history, 'MSFT', days, { unit: 'day' }, 0, now, now, undefined)];
    expect(daily.map((b) => new Date(b.t).toISOString())).toEqual([
      '2026-06-08T04:00:00.000Z',
      '2026-06-09T04:00:00.000Z',
      '2026-06-10T04:00:00.000Z',
    ]);
    const crypto = [
      ...barsOf(
        history,
        'BTC/USD',
        cryptoDays('2026-06-13', '2026-06-13'),
        { unit: 'min', minutes: 7 },
        0,
        Infinity,
        Date.parse('2026-06-14T00:00:00Z'),
        undefined,
      ),
    ];
    // 7-minute buckets aligned to the epoch, partial at both ends of the day, each once
    const size = 7 * 60_000;
    const midnight = Date.parse('2026-06-13T00:00:00Z');
    const buckets =
      Math.floor((midnight + 86_400_000 - 1) / size) - Math.floor(midnight / size) + 1;
    expect(buckets).toBe(207);
    expect(crypto).toHaveLength(buckets);
    expect(new Set(crypto.map((b) => b.t)).size).toBe(buckets);
    expect(crypto[0]?.t).toBe(Math.floor(midnight / size) * size);
  });
});
