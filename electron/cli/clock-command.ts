/**
 * `market-monitor clock`: the market clock as one NDJSON line: whether the market is open, the
 * session (pre, regular, post or closed, from `/v2/clock` and `/v2/calendar` through sessionAt,
 * the same computation the app's market context makes), and the next open and close.
 */
import { parseArgs } from 'node:util';
import {
  addDays,
  nyDate,
  sessionAt,
  tradingDayFromCalendar,
  type CalendarDay,
  type TradingDay,
} from '../../shared/market-session.ts';
import type { AlpacaRest } from '../rest/alpaca-rest.ts';
import { RestError } from '../rest/errors.ts';
import {
  REST_TARGET_OPTIONS,
  isoOrNull,
  parseRestTarget,
  runRestCommand,
  type RestIo,
  type RestTarget,
} from './rest-target.ts';

export const CLOCK_USAGE = `usage: market-monitor clock [--url BASE] [--key K --secret S] [--log-level LEVEL]
One line: {"type":"clock","time","isOpen","session","nextOpen","nextClose"}; session is pre,
regular, post or closed (New York hours, holidays and early closes from the calendar). --url is
the REST base (the simulator's http://127.0.0.1:PORT); keys also come from APCA_API_KEY_ID /
APCA_API_SECRET_KEY; with neither, an in-process simulator.`;

export function parseClockArgs(argv: readonly string[], env: NodeJS.ProcessEnv): RestTarget {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: REST_TARGET_OPTIONS,
  });
  return parseRestTarget(values, env);
}

/** As the market context reads it: a week behind (a long weekend), two ahead (the next open). */
const CALENDAR_BEHIND_DAYS = 7;
const CALENDAR_AHEAD_DAYS = 14;

export async function runClock(argv: readonly string[], io: RestIo): Promise<number> {
  const target = parseClockArgs(argv, io.env);
  return runRestCommand(target, io, async ({ rest, out }) => {
    const clock = await rest.clock();
    const today = nyDate(clock.time);
    const from = addDays(today, -CALENDAR_BEHIND_DAYS);
    const to = addDays(today, CALENDAR_AHEAD_DAYS);
    const days = await tradingDays(rest, from, to);
    // The server's time, not ours: the session is the one the clock's answer describes.
    const state = sessionAt(clock.time, days, { from, to });
    out.write({
      type: 'clock',
      time: isoOrNull(clock.time),
      isOpen: clock.isOpen,
      session: state.session,
      nextOpen: isoOrNull(clock.nextOpen),
      nextClose: isoOrNull(clock.nextClose),
    });
    return 0;
  });
}

/** The calendar from..to as trading days; a day out of order is a malformed answer. */
export async function tradingDays(
  rest: Pick<AlpacaRest, 'calendar'>,
  from: string,
  to: string,
): Promise<TradingDay[]> {
  const calendar: CalendarDay[] = await rest.calendar({ start: from, end: to });
  try {
    return calendar.map(tradingDayFromCalendar).sort((a, b) => a.preOpen - b.preOpen);
  } catch (err) {
    throw new RestError('malformed', (err as Error).message, { path: '/v2/calendar' });
  }
}
