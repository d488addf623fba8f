/**
 * The detail chart's arithmetic, apart from the charting library so it can be tested without a
 * canvas: which bars each range asks for and keeps, the chart's time axis (New York wall-clock
 * time: the exchange's day, wherever the user sits), and folding live trades into the last candle.
 */
import type { ChartBar, TapeTrade } from '../../shared/api.ts';
import { nyDate, nyTime } from '../../shared/market-session.ts';

export type ChartTimeframe = '1Min' | '5Min' | '1Hour' | '1Day';

export interface ChartRange {
  readonly id: '1D' | '5D' | '1M' | '1Y';
  /** What the button says to a screen reader. */
  readonly label: string;
  readonly timeframe: ChartTimeframe;
  /** How far back to ask: enough to reach `sessions` trading days across a long weekend. */
  readonly lookbackMs: number;
  /** Trading days (New York dates with bars) kept, newest; undefined: all that came. */
  readonly sessions: number | undefined;
}

const DAY_MS = 86_400_000;

export const CHART_RANGES: readonly ChartRange[] = [
  {
    id: '1D',
    label: 'One day, 1-minute candles',
    timeframe: '1Min',
    lookbackMs: 5 * DAY_MS,
    sessions: 1,
  },
  {
    id: '5D',
    label: 'Five days, 5-minute candles',
    timeframe: '5Min',
    lookbackMs: 10 * DAY_MS,
    sessions: 5,
  },
  {
    id: '1M',
    label: 'One month, 1-hour candles',
    timeframe: '1Hour',
    lookbackMs: 31 * DAY_MS,
    sessions: undefined,
  },
  {
    id: '1Y',
    label: 'One year, daily candles',
    timeframe: '1Day',
    lookbackMs: 366 * DAY_MS,
    sessions: undefined,
  },
];

/** The bars of the newest `sessions` New York dates (all of them when undefined), oldest first. */
export function lastSessions(bars: readonly ChartBar[], sessions: number | undefined): ChartBar[] {
  if (sessions === undefined || bars.length === 0) return [...bars];
  const dates: string[] = [];
  let cut = 0;
  for (let i = bars.length - 1; i >= 0; i--) {
    const date = nyDate(bars[i]!.time);
    if (dates.at(-1) !== date) {
      if (dates.length === sessions) {
        cut = i + 1;
        break;
      }
      dates.push(date);
    }
  }
  return bars.slice(cut);
}

/**
 * The chart's time for an instant, in seconds: New York wall-clock time written as if it were
 * UTC, since the library labels its axis in UTC. 09:30 on the axis is the open, in any time zone.
 */
export function chartTime(epochMs: number): number {
  return Math.floor((epochMs + nyTime(epochMs).offsetMinutes * 60_000) / 1000);
}

/**
 * The bars whose chart times rise strictly: the library refuses anything else, and New York
 * wall-clock time repeats an hour when daylight saving ends (a crypto pair trades through it).
 * The later of two bars at one chart time is dropped.
 */
export function risingTimes(bars: readonly ChartBar[]): ChartBar[] {
  const out: ChartBar[] = [];
  let last = Number.NEGATIVE_INFINITY;
  for (const bar of bars) {
    const t = chartTime(bar.time);
    if (t <= last) continue;
    last = t;
    out.push(bar);
  }
  return out;
}

const STEP_MS: Record<Exclude<ChartTimeframe, '1Day'>, number> = {
  '1Min': 60_000,
  '5Min': 300_000,
  '1Hour': 3_600_000,
};

/** Whether two instants fall in the same bar of `timeframe`. */
export function sameBucket(a: number, b: number, timeframe: ChartTimeframe): boolean {
  if (timeframe === '1Day') return nyDate(a) === nyDate(b);
  const step = STEP_MS[timeframe];
  return Math.floor(a / step) === Math.floor(b / step);
}

/** The start of the bar of `timeframe` that holds `epochMs` (a day: the New York midnight). */
export function bucketStart(epochMs: number, timeframe: ChartTimeframe): number {
  if (timeframe === '1Day') {
    const t = nyTime(epochMs);
    return epochMs - ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 - (epochMs % 1000);
  }
  const step = STEP_MS[timeframe];
  return Math.floor(epochMs / step) * step;
}

/**
 * Folds one trade into the chart's last bar: the same bar widened (high, low, close, volume), a
 * new bar when the trade opens the next one, or undefined for a trade older than the last bar
 * (the bars already hold it).
 */
export function foldTrade(
  last: ChartBar | undefined,
  trade: Pick<TapeTrade, 'time' | 'price' | 'size'>,
  timeframe: ChartTimeframe,
): ChartBar | undefined {
  if (!(trade.price > 0) || !Number.isFinite(trade.time)) return undefined;
  if (last !== undefined && sameBucket(last.time, trade.time, timeframe)) {
    return {
      time: last.time,
      open: last.open,
      high: Math.max(last.high, trade.price),
      low: Math.min(last.low, trade.price),
      close: trade.price,
      volume: last.volume + trade.size,
    };
  }
  if (last !== undefined && trade.time < last.time) return undefined;
  return {
    time: bucketStart(trade.time, timeframe),
    open: trade.price,
    high: trade.price,
    low: trade.price,
    close: trade.price,
    volume: trade.size,
  };
}
