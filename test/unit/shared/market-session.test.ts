import { describe, expect, it } from 'vitest';
import type { CalendarDay, TradingDay } from '../../../shared/market-session.ts';
import {
  addDays,
  easterSunday,
  nyLocalToEpoch,
  nyTime,
  nyseCalendar,
  nyseHolidays,
  sessionAt,
  tradingDayFromCalendar,
} from '../../../shared/market-session.ts';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

function days(from: string, to: string): TradingDay[] {
  return nyseCalendar(from, to).map(tradingDayFromCalendar);
}

const YEAR_2026 = days('2026-01-01', '2026-12-31');

describe('New York time', () => {
  it('reads the offset on both sides of each daylight-saving change', () => {
    expect(nyTime(at('2026-03-08T06:59:59Z')).offsetMinutes).toBe(-300);
    expect(nyTime(at('2026-03-08T07:00:00Z')).offsetMinutes).toBe(-240);
    expect(nyTime(at('2026-11-01T05:59:59Z')).offsetMinutes).toBe(-240);
    expect(nyTime(at('2026-11-01T06:00:00Z')).offsetMinutes).toBe(-300);
    const t = nyTime(at('2026-07-03T03:30:15Z'));
    expect([t.date, t.hour, t.minute, t.second, t.weekday]).toEqual(['2026-07-02', 23, 30, 15, 4]);
  });

  it('turns local times into instants across the changes', () => {
    // pre-market at 04:00 New York: 09:00Z in winter, 08:00Z in summer
    expect(iso(nyLocalToEpoch('2026-03-06', '04:00'))).toBe('2026-03-06T09:00:00.000Z');
    expect(iso(nyLocalToEpoch('2026-03-09', '04:00'))).toBe('2026-03-09T08:00:00.000Z');
    expect(iso(nyLocalToEpoch('2026-10-30', '04:00'))).toBe('2026-10-30T08:00:00.000Z');
    expect(iso(nyLocalToEpoch('2026-11-02', '04:00'))).toBe('2026-11-02T09:00:00.000Z');
    // the change days themselves
    expect(iso(nyLocalToEpoch('2026-03-08', '00:00'))).toBe('2026-03-08T05:00:00.000Z');
    expect(iso(nyLocalToEpoch('2026-03-08', '04:00'))).toBe('2026-03-08T08:00:00.000Z');
    expect(iso(nyLocalToEpoch('2026-11-01', '00:00'))).toBe('2026-11-01T04:00:00.000Z');
    expect(iso(nyLocalToEpoch('2026-11-01', '04:00'))).toBe('2026-11-01T09:00:00.000Z');
    // skipped hour lands after the jump; repeated hour takes its first pass
    expect(iso(nyLocalToEpoch('2026-03-08', '02:30'))).toBe('2026-03-08T07:30:00.000Z');
    expect(iso(nyLocalToEpoch('2026-11-01', '01:30'))).toBe('2026-11-01T05:30:00.000Z');
    // 24:00 is the next midnight, also on a 23-hour day; the wire's HHMM form is read too
    expect(iso(nyLocalToEpoch('2026-03-08', '24:00'))).toBe('2026-03-09T04:00:00.000Z');
    expect(nyLocalToEpoch('2026-03-09', '2000')).toBe(nyLocalToEpoch('2026-03-09', '20:00'));
  });

  it('rejects what is not a date or a time', () => {
    expect(() => nyLocalToEpoch('2026-02-30', '09:30')).toThrow(RangeError);
    expect(() => nyLocalToEpoch('2026-2-3', '09:30')).toThrow(RangeError);
    expect(() => nyLocalToEpoch('2026-02-03', '9:30')).toThrow(RangeError);
    expect(() => nyLocalToEpoch('2026-02-03', '24:01')).toThrow(RangeError);
    expect(() => nyLocalToEpoch('2026-02-03', '10:60')).toThrow(RangeError);
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
  });

  it('rejects a calendar day out of order', () => {
    const bad: CalendarDay = {
      date: '2026-03-09',
      open: '16:00',
      close: '09:30',
      sessionOpen: '04:00',
      sessionClose: '20:00',
    };
    expect(() => tradingDayFromCalendar(bad)).toThrow(RangeError);
  });
});

describe('nyseCalendar', () => {
  it('knows the 2026 holidays, Good Friday by the computus', () => {
    expect(easterSunday(2026)).toEqual([4, 5]);
    expect(easterSunday(2024)).toEqual([3, 31]);
    expect(easterSunday(2019)).toEqual([4, 21]);
    const dates = new Set(nyseCalendar('2026-01-01', '2026-12-31').map((d) => d.date));
    const closed = [
      '2026-01-01',
      '2026-01-19',
      '2026-02-16',
      '2026-04-03', // Good Friday
      '2026-05-25',
      '2026-06-19',
      '2026-07-03', // Independence Day on a Saturday: observed Friday
      '2026-09-07',
      '2026-11-26',
      '2026-12-25',
    ];
    for (const date of closed) expect(dates.has(date), date).toBe(false);
    expect(dates.has('2026-04-02')).toBe(true);
    expect(dates.has('2026-04-06')).toBe(true);
    expect(dates.size).toBe(251);
  });

  it('moves Juneteenth off weekends and starts it in 2022', () => {
    expect(nyseHolidays(2021).has('2021-06-18')).toBe(false);
    expect(nyseHolidays(2022).has('2022-06-20')).toBe(true); // Sunday -> Monday
    expect(nyseHolidays(2027).has('2027-06-18')).toBe(true); // Saturday -> Friday
    const june2022 = nyseCalendar('2022-06-17', '2022-06-21').map((d) => d.date);
    expect(june2022).toEqual(['2022-06-17', '2022-06-21']);
  });

  it("does not close on New Year's Eve when New Year's Day is a Saturday", () => {
    expect(nyseHolidays(2022).has('2021-12-31')).toBe(false);
    expect(nyseCalendar('2021-12-31', '2022-01-03').map((d) => d.date)).toEqual([
      '2021-12-31',
      '2022-01-03',
    ]);
    expect(nyseHolidays(2023).has('2023-01-02')).toBe(true); // Sunday -> Monday
  });

  it('closes early at 13:00 with after-hours to 17:00', () => {
    const early = nyseCalendar('2025-01-01', '2026-12-31').filter((d) => d.close === '13:00');
    expect(early.map((d) => d.date)).toEqual([
      '2025-07-03',
      '2025-11-28',
      '2025-12-24',
      '2026-11-27',
      '2026-12-24',
    ]);
    expect(early.every((d) => d.sessionClose === '17:00' && d.open === '09:30')).toBe(true);
  });
});

describe('sessionAt', () => {
  it('walks a summer day through every boundary instant', () => {
    const d = '2026-06-10';
    const cases: [string, string][] = [
      ['03:59', 'closed'],
      ['04:00', 'pre'],
      ['09:29', 'pre'],
      ['09:30', 'regular'],
      ['15:59', 'regular'],
      ['16:00', 'post'],
      ['19:59', 'post'],
      ['20:00', 'closed'],
    ];
    for (const [time, session] of cases) {
      expect(sessionAt(nyLocalToEpoch(d, time), YEAR_2026).session, time).toBe(session);
    }
    const open = nyLocalToEpoch(d, '09:30');
    expect(sessionAt(open - 1, YEAR_2026).session).toBe('pre');
    expect(sessionAt(open, YEAR_2026).session).toBe('regular');
    const s = sessionAt(open, YEAR_2026);
    expect(iso(s.since)).toBe('2026-06-10T13:30:00.000Z');
    expect(iso(s.until)).toBe('2026-06-10T20:00:00.000Z');
    expect(iso(s.nextClose)).toBe('2026-06-10T20:00:00.000Z');
    expect(iso(s.nextOpen)).toBe('2026-06-11T13:30:00.000Z');
    expect(s.day?.date).toBe(d);
    const close = nyLocalToEpoch(d, '16:00');
    expect(sessionAt(close - 1, YEAR_2026).session).toBe('regular');
    expect(sessionAt(close, YEAR_2026).session).toBe('post');
    expect(iso(sessionAt(close, YEAR_2026).until)).toBe('2026-06-11T00:00:00.000Z');
  });

  it('follows the spring-forward week (pre-market 09:00Z Friday, 08:00Z Monday)', () => {
    expect(sessionAt(at('2026-03-06T08:59:59.999Z'), YEAR_2026).session).toBe('closed');
    expect(sessionAt(at('2026-03-06T09:00:00Z'), YEAR_2026).session).toBe('pre');
    const weekend = sessionAt(at('2026-03-08T12:00:00Z'), YEAR_2026);
    expect(weekend.session).toBe('closed');
    expect(iso(weekend.since)).toBe('2026-03-07T01:00:00.000Z'); // Friday 20:00 EST
    expect(iso(weekend.until)).toBe('2026-03-09T08:00:00.000Z'); // Monday 04:00 EDT
    expect(iso(weekend.nextOpen)).toBe('2026-03-09T13:30:00.000Z');
    expect(weekend.day).toBeUndefined();
    expect(sessionAt(at('2026-03-09T07:59:59.999Z'), YEAR_2026).session).toBe('closed');
    expect(sessionAt(at('2026-03-09T08:00:00Z'), YEAR_2026).session).toBe('pre');
    expect(sessionAt(at('2026-03-09T13:30:00Z'), YEAR_2026).session).toBe('regular');
  });

  it('follows the fall-back week (pre-market 08:00Z Friday, 09:00Z Monday)', () => {
    expect(sessionAt(at('2026-10-30T08:00:00Z'), YEAR_2026).session).toBe('pre');
    expect(sessionAt(at('2026-10-30T13:30:00Z'), YEAR_2026).session).toBe('regular');
    expect(sessionAt(at('2026-11-02T08:30:00Z'), YEAR_2026).session).toBe('closed');
    expect(sessionAt(at('2026-11-02T09:00:00Z'), YEAR_2026).session).toBe('pre');
    expect(sessionAt(at('2026-11-02T14:29:59.999Z'), YEAR_2026).session).toBe('pre');
    expect(sessionAt(at('2026-11-02T14:30:00Z'), YEAR_2026).session).toBe('regular');
    expect(sessionAt(at('2026-11-02T21:00:00Z'), YEAR_2026).session).toBe('post');
  });

  it('closes early the day after Thanksgiving', () => {
    const s = sessionAt(nyLocalToEpoch('2026-11-27', '12:59'), YEAR_2026);
    expect(s.session).toBe('regular');
    expect(iso(s.nextClose)).toBe('2026-11-27T18:00:00.000Z');
    const post = sessionAt(nyLocalToEpoch('2026-11-27', '13:00'), YEAR_2026);
    expect(post.session).toBe('post');
    expect(iso(post.until)).toBe('2026-11-27T22:00:00.000Z'); // 17:00 EST
    expect(sessionAt(nyLocalToEpoch('2026-11-27', '16:59'), YEAR_2026).session).toBe('post');
    const after = sessionAt(nyLocalToEpoch('2026-11-27', '17:00'), YEAR_2026);
    expect(after.session).toBe('closed');
    expect(iso(after.nextOpen)).toBe('2026-11-30T14:30:00.000Z');
  });

  it('is closed on Christmas and opens next on Monday 2026-12-28 09:30', () => {
    const s = sessionAt(nyLocalToEpoch('2026-12-25', '10:00'), YEAR_2026);
    expect(s.session).toBe('closed');
    expect(s.day).toBeUndefined();
    expect(iso(s.nextOpen)).toBe(iso(nyLocalToEpoch('2026-12-28', '09:30')));
    expect(iso(s.nextOpen)).toBe('2026-12-28T14:30:00.000Z');
    expect(iso(s.since)).toBe('2026-12-24T22:00:00.000Z'); // Christmas Eve's after-hours end
    expect(iso(s.until)).toBe('2026-12-28T09:00:00.000Z');
  });

  it('has no session on Good Friday 2026-04-03', () => {
    const s = sessionAt(nyLocalToEpoch('2026-04-03', '11:00'), YEAR_2026);
    expect(s.session).toBe('closed');
    expect(iso(s.nextOpen)).toBe(iso(nyLocalToEpoch('2026-04-06', '09:30')));
  });

  it('observes Juneteenth 2022 on Monday the 20th', () => {
    const june = days('2022-06-01', '2022-06-30');
    expect(sessionAt(nyLocalToEpoch('2022-06-20', '11:00'), june).session).toBe('closed');
    expect(sessionAt(nyLocalToEpoch('2022-06-17', '11:00'), june).session).toBe('regular');
    expect(iso(sessionAt(nyLocalToEpoch('2022-06-20', '11:00'), june).nextOpen)).toBe(
      iso(nyLocalToEpoch('2022-06-21', '09:30')),
    );
  });

  it('is unknown outside the calendar it is given, closed in its gaps', () => {
    const june = days('2026-06-01', '2026-06-30');
    expect(sessionAt(at('2026-05-29T15:00:00Z'), june).session).toBe('unknown');
    expect(sessionAt(at('2026-07-01T15:00:00Z'), june).session).toBe('unknown');
    expect(sessionAt(at('2026-06-15T15:00:00Z'), []).session).toBe('unknown');
    // after the last day's after-hours: closed, with nothing known past it
    const last = sessionAt(nyLocalToEpoch('2026-06-30', '21:00'), june);
    expect(last.session).toBe('closed');
    expect(last.until).toBeUndefined();
    expect(last.nextOpen).toBeUndefined();
    // a range makes the weekend before the first listed day known
    const monday = days('2026-06-08', '2026-06-12');
    expect(sessionAt(at('2026-06-06T15:00:00Z'), monday).session).toBe('unknown');
    const ranged = sessionAt(at('2026-06-06T15:00:00Z'), monday, {
      from: '2026-06-06',
      to: '2026-06-12',
    });
    expect(ranged.session).toBe('closed');
    expect(ranged.since).toBeUndefined();
    expect(iso(ranged.nextOpen)).toBe('2026-06-08T13:30:00.000Z');
  });

  it('merges whole-day sessions that meet at midnight', () => {
    const allDay = ['2026-06-06', '2026-06-07', '2026-06-08'].map((date) =>
      tradingDayFromCalendar({
        date,
        open: '00:00',
        close: '24:00',
        sessionOpen: '00:00',
        sessionClose: '24:00',
      }),
    );
    const s = sessionAt(at('2026-06-07T15:00:00Z'), allDay);
    expect(s.session).toBe('regular');
    expect(s.since).toBeUndefined(); // began at the start of what is known
    expect(s.until).toBeUndefined();
    expect(iso(s.nextClose)).toBe('2026-06-08T04:00:00.000Z');
    expect(iso(s.nextOpen)).toBe('2026-06-08T04:00:00.000Z');
    expect(sessionAt(at('2026-06-08T04:00:00Z'), allDay).session).toBe('regular');
  });
});
