/**
 * The simulator's market hours: the calendar it serves on `/v2/calendar`, the session it is in,
 * and the trading days its history is made of. `auto` follows the NYSE calendar and the real New
 * York clock. A forced session keeps "now" real and bends the calendar around it instead, so that
 * any client computing the session from `/v2/clock` and `/v2/calendar` (sessionAt) gets the forced
 * one:
 * - past dates are always the NYSE calendar, so history looks real;
 * - `regular`: today and every later date trade 00:00-24:00 with no extended hours, so adjacent
 *   days meet and the market never closes;
 * - `pre`: today and later dates are pre-market 00:00-23:59 with a one-minute regular session at
 *   23:59 (the calendar cannot express a day without one, and the clock needs a next open);
 * - `post`: a one-minute regular session at 00:00, then after-hours to 24:00;
 * - `closed`: the NYSE calendar without today's date, so the next open is the next real one.
 * The served calendar depends on today's New York date; a client that refetches it when the date
 * changes (or at the session's `until`) always agrees with the simulator. Everything here (stream
 * rate, clock, snapshots, bars) follows sessionAt over the served calendar, so the simulator agrees
 * with itself even in the one-minute windows above.
 */
import type { CalendarDay, SessionState, TradingDay } from '../../shared/market-session.ts';
import {
  addDays,
  nyDate,
  nyLocalToEpoch,
  nyseCalendar,
  sessionAt,
  tradingDayFromCalendar,
} from '../../shared/market-session.ts';

export type SessionMode = 'auto' | 'pre' | 'regular' | 'post' | 'closed';
export const SESSION_MODES: readonly SessionMode[] = ['auto', 'pre', 'regular', 'post', 'closed'];

/** The first date served; Alpaca's calendar starts here too. */
export const CALENDAR_FIRST = '1970-01-01';
/** Alpaca's calendar ends in 2029; the simulator keeps at least a year ahead of today. */
const CALENDAR_LAST = '2029-12-31';

type Template = Omit<CalendarDay, 'date'>;
const TEMPLATES: Readonly<Record<'pre' | 'regular' | 'post', Template>> = {
  regular: { sessionOpen: '00:00', open: '00:00', close: '24:00', sessionClose: '24:00' },
  pre: { sessionOpen: '00:00', open: '23:59', close: '24:00', sessionClose: '24:00' },
  post: { sessionOpen: '00:00', open: '00:00', close: '00:01', sessionClose: '24:00' },
};

/**
 * A trading day as the history uses it: its boundaries, the daily bar's timestamp (New York
 * midnight for stocks, UTC midnight for crypto) and the previous trading day's date.
 */
export interface SimDay extends TradingDay {
  readonly barTime: number;
  readonly prevDate: string;
}

/** The last date served for a given today. */
export function calendarLast(today: string): string {
  const ahead = addDays(today, 400);
  return ahead > CALENDAR_LAST ? ahead : CALENDAR_LAST;
}

/** The calendar served in `mode` for dates from..to (inclusive) when it is `today` in New York. */
export function servedCalendar(
  mode: SessionMode,
  from: string,
  to: string,
  today: string,
): CalendarDay[] {
  if (mode === 'auto') return nyseCalendar(from, to);
  if (mode === 'closed') return nyseCalendar(from, to).filter((d) => d.date !== today);
  const template = TEMPLATES[mode];
  const before = addDays(today, -1);
  const out = from <= before ? nyseCalendar(from, before < to ? before : to) : [];
  for (let date = from > today ? from : today; date <= to; date = addDays(date, 1)) {
    out.push({ date, ...template });
  }
  return out;
}

/** The clock of `/v2/clock`, epoch ms. */
export interface ClockState {
  readonly timestamp: number;
  readonly isOpen: boolean;
  readonly nextOpen: number;
  readonly nextClose: number;
}

/** What `simulator.session()` reports. */
export interface MarketSessionInfo {
  readonly requested: SessionMode;
  readonly session: SessionState['session'];
  readonly since: number | undefined;
  readonly until: number | undefined;
  readonly clock: ClockState;
}

const CONVERTED_MAX = 40_000;
/** How long a computed session is reused at most (it is also dropped at its `until`). */
const STATE_TTL_MS = 1000;

export class MarketHours {
  readonly #now: () => number;
  #mode: SessionMode;
  readonly #converted = new Map<string, TradingDay & { readonly barTime: number }>();
  #cached: { mode: SessionMode; at: number; expires: number; state: SessionState } | undefined;

  constructor(mode: SessionMode, now: () => number) {
    this.#mode = mode;
    this.#now = now;
  }

  get mode(): SessionMode {
    return this.#mode;
  }

  set mode(mode: SessionMode) {
    if (!SESSION_MODES.includes(mode)) {
      throw new RangeError(`session must be one of ${SESSION_MODES.join(', ')}`);
    }
    this.#mode = mode;
    this.#cached = undefined;
  }

  now(): number {
    return this.#now();
  }

  /** The served calendar for from..to, clipped to what is served. */
  calendar(from: string, to: string, at = this.#now()): CalendarDay[] {
    const today = nyDate(at);
    const first = from < CALENDAR_FIRST ? CALENDAR_FIRST : from;
    const lastServed = calendarLast(today);
    const last = to > lastServed ? lastServed : to;
    if (last < first) return [];
    return servedCalendar(this.#mode, first, last, today);
  }

  /** The session at `at` (default now) over the served calendar. */
  state(at = this.#now()): SessionState {
    const c = this.#cached;
    if (c !== undefined && c.mode === this.#mode && at >= c.at && at < c.expires) return c.state;
    const today = nyDate(at);
    const from = addDays(today, -10);
    const to = addDays(today, 40);
    const days = this.calendar(from, to, at).map((d) => this.#convert(d));
    const state = sessionAt(at, days, { from, to });
    // Reuse until the answer changes or the New York date does (the served calendar follows it).
    const midnight = nyLocalToEpoch(today, '24:00');
    const expires = Math.min(state.until ?? Infinity, midnight, at + STATE_TTL_MS);
    this.#cached = { mode: this.#mode, at, expires, state };
    return state;
  }

  /** `/v2/clock` at `at`. */
  clock(at = this.#now()): ClockState {
    const state = this.state(at);
    return {
      timestamp: at,
      isOpen: state.session === 'regular',
      // Past the calendar's window nothing is known; a day ahead keeps the shape valid.
      nextOpen: state.nextOpen ?? at + 86_400_000,
      nextClose: state.nextClose ?? at + 86_400_000,
    };
  }

  info(at = this.#now()): MarketSessionInfo {
    const state = this.state(at);
    return {
      requested: this.#mode,
      session: state.session,
      since: state.since,
      until: state.until,
      clock: this.clock(at),
    };
  }

  /**
   * The stock trading days whose dates lie in from..to, each with the date before it; the served
   * calendar's, so a forced session's history has the days its calendar says.
   */
  stockDays(from: string, to: string, at = this.#now()): SimDay[] {
    const calendar = this.calendar(addDays(from, -10), to, at);
    const out: SimDay[] = [];
    for (let i = 1; i < calendar.length; i++) {
      const d = calendar[i];
      const prev = calendar[i - 1];
      if (d === undefined || prev === undefined || d.date < from) continue;
      out.push({ ...this.#convert(d), prevDate: prev.date });
    }
    return out;
  }

  /** The stock day in session at `at`, or the last one before it; undefined before any. */
  stockSessionDay(at = this.#now()): SimDay | undefined {
    const today = nyDate(at);
    const days = this.stockDays(addDays(today, -10), today, at);
    for (let i = days.length - 1; i >= 0; i--) {
      const d = days[i];
      if (d !== undefined && d.preOpen <= at) return d;
    }
    return undefined;
  }

  #convert(day: CalendarDay): TradingDay & { readonly barTime: number } {
    const key = `${day.date}|${day.sessionOpen}|${day.open}|${day.close}|${day.sessionClose}`;
    let out = this.#converted.get(key);
    if (out === undefined) {
      out = { ...tradingDayFromCalendar(day), barTime: nyLocalToEpoch(day.date, '00:00') };
      if (this.#converted.size >= CONVERTED_MAX) this.#converted.clear();
      this.#converted.set(key, out);
    }
    return out;
  }
}

const DAY_MS = 86_400_000;

function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Crypto trades around the clock: one day per UTC date, all of it regular. */
export function cryptoDays(from: string, to: string): SimDay[] {
  const out: SimDay[] = [];
  const start = Date.parse(`${from < CALENDAR_FIRST ? CALENDAR_FIRST : from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = start; t <= end; t += DAY_MS) {
    out.push({
      date: utcDate(t),
      preOpen: t,
      open: t,
      close: t + DAY_MS,
      postClose: t + DAY_MS,
      barTime: t,
      prevDate: utcDate(t - DAY_MS),
    });
  }
  return out;
}

/** The crypto day at `at`. */
export function cryptoSessionDay(at: number): SimDay {
  const date = utcDate(at);
  const [day] = cryptoDays(date, date);
  if (day === undefined) throw new RangeError('no crypto day');
  return day;
}

export { utcDate };
