/**
 * US equity market sessions in New York time: which session an instant falls in (pre-market,
 * regular, after-hours, closed), when that changes, and the NYSE trading calendar by rule. Pure and
 * platform-free (the renderer may use it too): New York time comes from `Intl` with the
 * `America/New_York` zone, so daylight saving follows the runtime's time-zone data without a
 * library. Alpaca's `/v2/calendar` is authoritative in the app; `nyseCalendar` is what the
 * simulator serves and what tests compare against.
 */

/** The session an instant falls in. `unknown`: the calendar given does not cover the instant. */
export type MarketSession = 'pre' | 'regular' | 'post' | 'closed' | 'unknown';

/**
 * One trading day of `GET /v2/calendar`, New York local times as the wire has them (`HH:MM`;
 * `24:00` is accepted as the end of the day); early closes have an earlier `close`; holidays are
 * absent.
 */
export interface CalendarDay {
  /** YYYY-MM-DD (New York). */
  readonly date: string;
  readonly open: string;
  readonly close: string;
  /** Pre-market start (`04:00`). */
  readonly sessionOpen: string;
  /** After-hours end (`20:00`). */
  readonly sessionClose: string;
}

/** A trading day's boundaries as epoch milliseconds: pre from preOpen, regular from open, post from close. */
export interface TradingDay {
  readonly date: string;
  readonly preOpen: number;
  readonly open: number;
  readonly close: number;
  readonly postClose: number;
}

export interface SessionState {
  readonly session: MarketSession;
  /** When the current session began; undefined when that is before the calendar's coverage. */
  readonly since: number | undefined;
  /** The next instant the session changes; undefined when that is past the calendar's coverage. */
  readonly until: number | undefined;
  /** The next regular-session open after now (a later day's when the market is open now). */
  readonly nextOpen: number | undefined;
  /** The next regular-session close after now. */
  readonly nextClose: number | undefined;
  /** The trading day of now's New York date, when that date is one. */
  readonly day: TradingDay | undefined;
}

/** The dates a calendar answer covers (its query's start and end): gaps inside are closed days. */
export interface CalendarRange {
  readonly from: string;
  readonly to: string;
}

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{2}):?(\d{2})$/;

// One formatter for the process: constructing one costs far more than formatting with it.
const NY_FORMAT = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** An instant's New York wall-clock reading. */
export interface NyTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** YYYY-MM-DD. */
  readonly date: string;
  /** 0 = Sunday ... 6 = Saturday. */
  readonly weekday: number;
  /** Minutes to add to UTC for New York time: -240 in summer (EDT), -300 in winter (EST). */
  readonly offsetMinutes: number;
}

// New York's offset changes twice a year at most, on the hour, months apart. So a month whose
// first and last hours read the same offset has it throughout; only the months with a change are
// read day by day, and the days with one hour by hour. That keeps calendar work over decades to a
// few thousand formatter calls. The caches are bounded (cleared when full).
const monthOffsets = new Map<number, number>();
const fineOffsets = new Map<number, number>();
const CACHE_MAX = 50_000;
const HOUR_MS = 3_600_000;

function readOffset(probe: number): number {
  const parts: Record<string, number> = {};
  for (const part of NY_FORMAT.formatToParts(probe)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(
    parts.year ?? 0,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return Math.round((asUtc - probe) / 60_000);
}

/** The offset over [from, to) when it is constant there, else NaN; cached under `key`. */
function spanOffset(cache: Map<number, number>, key: number, from: number, to: number): number {
  let value = cache.get(key);
  if (value === undefined) {
    const first = readOffset(from);
    value = readOffset(to - HOUR_MS) === first ? first : Number.NaN;
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(key, value);
  }
  return value;
}

function offsetMinutesAt(epochMs: number): number {
  const d = new Date(epochMs);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  const monthStart = Date.UTC(year, month, 1);
  const byMonth = spanOffset(
    monthOffsets,
    year * 12 + month,
    monthStart,
    Date.UTC(year, month + 1, 1),
  );
  if (!Number.isNaN(byMonth)) return byMonth;
  const dayStart = Math.floor(epochMs / DAY_MS) * DAY_MS;
  // Day keys are negative so that they never meet the hour keys in the shared map.
  const byDay = spanOffset(fineOffsets, -1 - dayStart / DAY_MS, dayStart, dayStart + DAY_MS);
  if (!Number.isNaN(byDay)) return byDay;
  const hour = Math.floor(epochMs / HOUR_MS);
  return spanOffset(fineOffsets, hour, hour * HOUR_MS, (hour + 1) * HOUR_MS);
}

export function nyTime(epochMs: number): NyTime {
  if (!Number.isFinite(epochMs)) throw new RangeError(`not an instant: ${epochMs}`);
  const offsetMinutes = offsetMinutesAt(epochMs);
  const local = new Date(epochMs + offsetMinutes * 60_000);
  const year = local.getUTCFullYear();
  const month = local.getUTCMonth() + 1;
  const day = local.getUTCDate();
  return {
    year,
    month,
    day,
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
    date: formatDate(year, month, day),
    weekday: local.getUTCDay(),
    offsetMinutes,
  };
}

/** The New York date (YYYY-MM-DD) of an instant. */
export function nyDate(epochMs: number): string {
  return nyTime(epochMs).date;
}

function formatDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Parses YYYY-MM-DD into a UTC-midnight day number base; throws RangeError when it is no date. */
function parseDate(date: string): { year: number; month: number; day: number; utc: number } {
  const m = DATE.exec(date);
  if (m === null) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(date)}`);
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const utc = Date.UTC(year, month - 1, day);
  const check = new Date(utc);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    throw new RangeError(`no such date: ${JSON.stringify(date)}`);
  }
  return { year, month, day, utc };
}

/** The date `days` after `date` (negative: before). */
export function addDays(date: string, days: number): string {
  const d = new Date(parseDate(date).utc + days * DAY_MS);
  return formatDate(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

/**
 * The instant of a New York wall-clock time, correct on both sides of a daylight-saving change.
 * `time` is `HH:MM` (or `HHMM`, as the calendar's session fields are on the wire); `24:00` is the
 * next midnight. A time that does not exist (02:30 on the spring-forward Sunday) lands an hour
 * later; one that happens twice (01:30 on the fall-back Sunday) is the first.
 */
export function nyLocalToEpoch(date: string, time: string): number {
  const { year, month, day } = parseDate(date);
  const t = TIME.exec(time);
  const hour = Number(t?.[1]);
  const minute = Number(t?.[2]);
  if (t === null || minute > 59 || hour > 24 || (hour === 24 && minute !== 0)) {
    throw new RangeError(`not an HH:MM time: ${JSON.stringify(time)}`);
  }
  if (hour === 24) return nyLocalToEpoch(addDays(date, 1), '00:00');
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // The offset at the wall time read as UTC is within a few hours of the answer; one correction
  // lands on the right side of a change, a second settles the hour that is skipped or repeated.
  const first = wall - offsetMinutesAt(wall) * 60_000;
  const second = wall - offsetMinutesAt(first) * 60_000;
  if (second === first) return first;
  const third = wall - offsetMinutesAt(second) * 60_000;
  // A candidate is right when New York's clock reads the asked time at it.
  const reads = (t: number): boolean => t + offsetMinutesAt(t) * 60_000 === wall;
  const valid = [second, third].filter(reads);
  // Both read right: the repeated hour, take the first. Neither: the skipped hour, take the later.
  return valid.length > 0 ? Math.min(...valid) : Math.max(second, third);
}

/** A calendar day's boundaries as instants; throws RangeError for bad times or an order that is not pre <= open <= close <= post. */
export function tradingDayFromCalendar(day: CalendarDay): TradingDay {
  const out: TradingDay = {
    date: day.date,
    preOpen: nyLocalToEpoch(day.date, day.sessionOpen),
    open: nyLocalToEpoch(day.date, day.open),
    close: nyLocalToEpoch(day.date, day.close),
    postClose: nyLocalToEpoch(day.date, day.sessionClose),
  };
  if (!(out.preOpen <= out.open && out.open <= out.close && out.close <= out.postClose)) {
    throw new RangeError(`calendar day ${day.date} is out of order`);
  }
  return out;
}

interface Segment {
  readonly session: 'pre' | 'regular' | 'post' | 'closed';
  readonly start: number;
  readonly end: number;
}

/** The day's non-empty sessions in order. */
function daySegments(d: TradingDay): Segment[] {
  const out: Segment[] = [];
  if (d.open > d.preOpen) out.push({ session: 'pre', start: d.preOpen, end: d.open });
  if (d.close > d.open) out.push({ session: 'regular', start: d.open, end: d.close });
  if (d.postClose > d.close) out.push({ session: 'post', start: d.close, end: d.postClose });
  return out;
}

/**
 * Every session from the gap before day `k` on, closed gaps included, in time order; the last
 * closed gap runs to `coverEnd`.
 */
function* segmentsForward(
  days: readonly TradingDay[],
  k: number,
  coverStart: number,
  coverEnd: number,
): Generator<Segment> {
  let prevEnd = k > 0 ? (days[k - 1]?.postClose ?? coverStart) : coverStart;
  for (let i = k; i < days.length; i++) {
    const d = days[i];
    if (d === undefined) break;
    if (d.preOpen > prevEnd) yield { session: 'closed', start: prevEnd, end: d.preOpen };
    yield* daySegments(d);
    prevEnd = Math.max(prevEnd, d.postClose);
  }
  if (coverEnd > prevEnd) yield { session: 'closed', start: prevEnd, end: coverEnd };
}

/** The same walk backwards from the gap before day `k` (day k-1's sessions, then earlier). */
function* segmentsBackward(
  days: readonly TradingDay[],
  k: number,
  coverStart: number,
): Generator<Segment> {
  for (let i = k - 1; i >= 0; i--) {
    const d = days[i];
    if (d === undefined) break;
    yield* daySegments(d).reverse();
    const before = i > 0 ? (days[i - 1]?.postClose ?? coverStart) : coverStart;
    if (d.preOpen > before) yield { session: 'closed', start: before, end: d.preOpen };
  }
}

const UNKNOWN: SessionState = {
  session: 'unknown',
  since: undefined,
  until: undefined,
  nextOpen: undefined,
  nextClose: undefined,
  day: undefined,
};

/** Index of the first day whose after-hours end is after `now` (days.length when none). */
function firstEndingAfter(days: readonly TradingDay[], now: number): number {
  let lo = 0;
  let hi = days.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((days[mid]?.postClose ?? Infinity) > now) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The session at `now` given trading days in ascending date order. Boundaries belong to the
 * session they start (09:30:00.000 is regular). Adjacent sessions of the same kind (a day that
 * ends at 24:00 and the next that starts at 00:00) are one session for `since` / `until`.
 * `range` names the dates the list covers (the calendar query's start and end); without it the
 * first and last day's dates do. Outside the coverage the answer is `unknown`.
 */
export function sessionAt(
  now: number,
  days: readonly TradingDay[],
  range?: CalendarRange,
): SessionState {
  const first = days[0];
  const last = days[days.length - 1];
  const from = range?.from ?? first?.date;
  const to = range?.to ?? last?.date;
  if (from === undefined || to === undefined || !Number.isFinite(now)) return UNKNOWN;
  const coverStart = Math.min(nyLocalToEpoch(from, '00:00'), first?.preOpen ?? Infinity);
  const coverEnd = Math.max(nyLocalToEpoch(to, '24:00'), last?.postClose ?? -Infinity);
  if (now < coverStart || now >= coverEnd) return UNKNOWN;

  const k = firstEndingAfter(days, now);
  // Segments are contiguous from the gap before day k: the first ending after now holds it.
  const before: Segment[] = [];
  let current: Segment | undefined;
  let until: number | undefined;
  for (const seg of segmentsForward(days, k, coverStart, coverEnd)) {
    if (current === undefined) {
      if (now < seg.end) {
        current = seg;
        until = seg.end;
      } else {
        before.push(seg);
      }
    } else if (seg.session === current.session) {
      until = seg.end;
    } else {
      break;
    }
  }
  if (current === undefined || until === undefined) return UNKNOWN;
  if (until >= coverEnd) until = undefined;

  let since: number | undefined = current.start;
  const backward = function* (): Generator<Segment> {
    yield* before.reverse();
    yield* segmentsBackward(days, k, coverStart);
  };
  for (const seg of backward()) {
    if (seg.session !== current.session) break;
    since = seg.start;
  }
  if (since <= coverStart) since = undefined;

  let nextOpen: number | undefined;
  let nextClose: number | undefined;
  for (let i = k; i < days.length && (nextOpen === undefined || nextClose === undefined); i++) {
    const d = days[i];
    if (d === undefined || d.close <= d.open) continue;
    if (nextOpen === undefined && d.open > now) nextOpen = d.open;
    if (nextClose === undefined && d.close > now) nextClose = d.close;
  }

  const today = nyDate(now);
  let day: TradingDay | undefined;
  for (let i = Math.max(0, k - 1); i <= Math.min(days.length - 1, k + 1); i++) {
    if (days[i]?.date === today) day = days[i];
  }
  return { session: current.session, since, until, nextOpen, nextClose, day };
}

// ------------------------------------------------------------------ the NYSE calendar by rule

function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

/** The date of the n-th (1-based) given weekday of a month; n = -1 for the last. */
function nthWeekday(year: number, month: number, weekday: number, n: number): number {
  if (n > 0) {
    const firstWeekday = weekdayOf(year, month, 1);
    return 1 + ((weekday - firstWeekday + 7) % 7) + (n - 1) * 7;
  }
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const lastWeekday = weekdayOf(year, month, lastDay);
  return lastDay - ((lastWeekday - weekday + 7) % 7);
}

/** Easter Sunday (Gregorian), by the anonymous computus; returns [month, day]. */
export function easterSunday(year: number): [number, number] {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return [month, day];
}

/** A fixed-date holiday's observed date: Saturday moves to Friday, Sunday to Monday. */
function observed(year: number, month: number, day: number): string {
  const wd = weekdayOf(year, month, day);
  const utc = Date.UTC(year, month - 1, day) + (wd === 6 ? -DAY_MS : wd === 0 ? DAY_MS : 0);
  const d = new Date(utc);
  return formatDate(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

/** The NYSE full-day holidays of a year, observed dates (YYYY-MM-DD). */
export function nyseHolidays(year: number): Set<string> {
  const out = new Set<string>();
  const add = (month: number, day: number): void => {
    out.add(formatDate(year, month, day));
  };
  // New Year's Day: Sunday moves to Monday; on a Saturday it is not observed (the NYSE does not
  // close on the last trading day of the old year).
  if (weekdayOf(year, 1, 1) !== 6) out.add(observed(year, 1, 1));
  if (year >= 1998) add(1, nthWeekday(year, 1, 1, 3)); // Martin Luther King Jr. Day
  add(2, nthWeekday(year, 2, 1, 3)); // Washington's Birthday
  const [em, ed] = easterSunday(year);
  const goodFriday = new Date(Date.UTC(year, em - 1, ed) - 2 * DAY_MS);
  out.add(formatDate(year, goodFriday.getUTCMonth() + 1, goodFriday.getUTCDate()));
  add(5, nthWeekday(year, 5, 1, -1)); // Memorial Day
  if (year >= 2022) out.add(observed(year, 6, 19)); // Juneteenth
  out.add(observed(year, 7, 4)); // Independence Day
  add(9, nthWeekday(year, 9, 1, 1)); // Labor Day
  add(11, nthWeekday(year, 11, 4, 4)); // Thanksgiving
  out.add(observed(year, 12, 25)); // Christmas
  return out;
}

/** The 13:00 closes of a year: July 3, the day after Thanksgiving, Christmas Eve (weekdays that trade). */
function nyseEarlyCloses(year: number, holidays: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  const consider = (month: number, day: number): void => {
    const wd = weekdayOf(year, month, day);
    const date = formatDate(year, month, day);
    if (wd !== 0 && wd !== 6 && !holidays.has(date)) out.add(date);
  };
  consider(7, 3);
  consider(11, nthWeekday(year, 11, 4, 4) + 1);
  consider(12, 24);
  return out;
}

/** Widest span served in one call: Alpaca's calendar covers 1970-2029; this allows a margin. */
const MAX_CALENDAR_DAYS = 100 * 366;

// Years already worked out (about 250 small objects each); bounded to a few centuries.
const yearCache = new Map<number, readonly CalendarDay[]>();
const YEAR_CACHE_MAX = 400;

function nyseYear(year: number): readonly CalendarDay[] {
  let days = yearCache.get(year);
  if (days !== undefined) return days;
  const holidays = nyseHolidays(year);
  const early = nyseEarlyCloses(year, holidays);
  const out: CalendarDay[] = [];
  const end = Date.UTC(year + 1, 0, 1);
  for (let utc = Date.UTC(year, 0, 1); utc < end; utc += DAY_MS) {
    const d = new Date(utc);
    const wd = d.getUTCDay();
    if (wd === 0 || wd === 6) continue;
    const date = formatDate(year, d.getUTCMonth() + 1, d.getUTCDate());
    if (holidays.has(date)) continue;
    const short = early.has(date);
    out.push({
      date,
      open: '09:30',
      close: short ? '13:00' : '16:00',
      sessionOpen: '04:00',
      sessionClose: short ? '17:00' : '20:00',
    });
  }
  days = out;
  if (yearCache.size >= YEAR_CACHE_MAX) yearCache.clear();
  yearCache.set(year, days);
  return days;
}

/**
 * NYSE trading days from `from` to `to` inclusive (YYYY-MM-DD): weekdays minus the holidays by
 * rule, regular hours 09:30-16:00 with pre-market from 04:00 and after-hours to 20:00; early
 * closes at 13:00 with after-hours to 17:00. One-off closures (days of mourning, storms) are not
 * known. Throws RangeError for a bad date or a span over a century.
 */
export function nyseCalendar(from: string, to: string): CalendarDay[] {
  const start = parseDate(from);
  const end = parseDate(to);
  if (end.utc < start.utc) return [];
  if ((end.utc - start.utc) / DAY_MS > MAX_CALENDAR_DAYS) {
    throw new RangeError('calendar span too long (at most a century)');
  }
  const out: CalendarDay[] = [];
  for (let year = start.year; year <= end.year; year++) {
    for (const day of nyseYear(year)) {
      if (day.date >= from && day.date <= to) out.push(day);
    }
  }
  return out;
}
