/**
 * The simulator's price history, made on demand from the seed: nothing is stored, so years of
 * bars cost no memory and the same seed always gives the same past. A symbol's daily close is a
 * seeded draw around its price level; each day's minute path is a seeded Brownian bridge from the
 * previous close to that day's close (or, today, to the live walk's last trade, so that history
 * meets the stream). Minute bars are aggregated into the requested timeframe. Pure.
 */
import { hashString, mulberry32 } from './market-walk.ts';
import type { SimDay } from './market-hours.ts';
import { isCryptoSymbol, listingOf } from './reference.ts';

/** A bar with its start time in epoch ms; `toWire` gives Alpaca's `t o h l c v n vw`. */
export interface Bar {
  readonly t: number;
  readonly o: number;
  readonly h: number;
  readonly l: number;
  readonly c: number;
  readonly v: number;
  readonly n: number;
  readonly vw: number;
}

/** Where the stream's walk is now for a symbol: today's path ends here. */
export interface LivePoint {
  readonly price: number;
  /** Epoch ms of the trade. */
  readonly time: number;
}

export type Timeframe =
  { readonly unit: 'min'; readonly minutes: number } | { readonly unit: 'day' };

const TIMEFRAME = /^(\d{1,3})(Min|T|Hour|H|Day|D)$/;

/**
 * `1Min`..`59Min`, `1Hour`..`23Hour` and `1Day` (Alpaca's spellings, and its `T` / `H` / `D`
 * short forms). Weeks, months and multi-day bars are not simulated: RangeError, as for bad text.
 */
export function parseTimeframe(text: string): Timeframe {
  const m = TIMEFRAME.exec(text);
  const n = Number(m?.[1]);
  const unit = m?.[2];
  if (m !== null && n >= 1) {
    if ((unit === 'Min' || unit === 'T') && n <= 59) return { unit: 'min', minutes: n };
    if ((unit === 'Hour' || unit === 'H') && n <= 23) return { unit: 'min', minutes: n * 60 };
    if ((unit === 'Day' || unit === 'D') && n === 1) return { unit: 'day' };
  }
  throw new RangeError(
    `invalid timeframe ${JSON.stringify(text)}: the simulator serves 1-59Min, 1-23Hour and 1Day`,
  );
}

/** Decimal places of a symbol's prices: cents for stocks; for crypto they follow the price level. */
export function priceDecimals(symbol: string, level: number): number {
  if (!isCryptoSymbol(symbol)) return 2;
  return level >= 1000 ? 2 : level >= 1 ? 4 : level >= 0.01 ? 6 : 9;
}

function roundTo(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/** The sum of bars, stamped `t`; undefined for none. */
export function aggregate(bars: readonly Bar[], t: number, decimals = 4): Bar | undefined {
  const first = bars[0];
  const last = bars[bars.length - 1];
  if (first === undefined || last === undefined) return undefined;
  let h = -Infinity;
  let l = Infinity;
  let v = 0;
  let n = 0;
  let pv = 0;
  for (const b of bars) {
    if (b.h > h) h = b.h;
    if (b.l < l) l = b.l;
    v += b.v;
    n += b.n;
    pv += b.vw * b.v;
  }
  return {
    t,
    o: first.o,
    h,
    l,
    c: last.c,
    v: roundTo(v, 8),
    n,
    vw: v > 0 ? roundTo(pv / v, decimals) : last.c,
  };
}

type BarVisitor = (
  t: number,
  o: number,
  h: number,
  l: number,
  c: number,
  v: number,
  n: number,
  vw: number,
) => void;

interface SymbolTraits {
  readonly level: number;
  readonly decimals: number;
  /** Standard deviation of the log daily close around the level. */
  readonly dailyVol: number;
  /** Per-minute log volatility in the regular session (extended hours: less). */
  readonly minuteVol: number;
  /** Shares (coins for crypto) in a typical regular-session minute. */
  readonly volume: number;
}

const STABLE = new Set(['USDT/USD', 'USDC/USD']);
/** Whole past days' bars kept (about 100 bytes each): a watchlist's year of dailies, many times. */
const DAY_CACHE_MAX = 50_000;

/** One reusable buffer for day paths: a day has at most 1,440 minutes (1,500 across a DST change). */
let scratchBuffer = new Float64Array(1501);
function scratch(length: number): Float64Array {
  if (scratchBuffer.length < length) scratchBuffer = new Float64Array(length);
  return scratchBuffer;
}

export class History {
  readonly #seed: number;
  readonly #traits = new Map<string, SymbolTraits>();
  readonly #dayCache = new Map<string, Bar>();

  constructor(seed: number) {
    this.#seed = seed >>> 0;
  }

  #traitsOf(symbol: string): SymbolTraits {
    let t = this.#traits.get(symbol);
    if (t !== undefined) return t;
    const level = listingOf(symbol, this.#seed).price;
    const crypto = isCryptoSymbol(symbol);
    const stable = STABLE.has(symbol);
    const rng = mulberry32(hashString(symbol, this.#seed ^ 0x9e3779b9));
    const dailyVol = stable ? 0.0004 : crypto ? 0.025 : 0.01 + rng() * 0.01;
    t = {
      level,
      decimals: priceDecimals(symbol, level),
      dailyVol,
      minuteVol: dailyVol / Math.sqrt(crypto ? 1440 : 390),
      // about $50k a minute on crypto; stocks from a few hundred to tens of thousands of shares
      volume: crypto ? 50_000 / level : Math.round(300 + rng() * rng() * 30_000),
    };
    // Bounded by the universe (the REST layer refuses unknown symbols).
    this.#traits.set(symbol, t);
    return t;
  }

  /** A symbol's price level (its listing price). */
  level(symbol: string): number {
    return this.#traitsOf(symbol).level;
  }

  /** The close of `date`: a seeded draw around the level, the same whatever asked first. */
  dailyClose(symbol: string, date: string): number {
    const tr = this.#traitsOf(symbol);
    const rng = mulberry32(hashString(`${symbol}@${date}`, this.#seed));
    const z = gauss(rng);
    return roundTo(tr.level * Math.exp(tr.dailyVol * z), tr.decimals);
  }

  /**
   * The minute bars of `day` that start at or before `until`. The path opens at the previous
   * close; it ends at the day's close, or, when `live` falls inside the day, at the live price in
   * the live trade's minute (no bars after it). Extended-hours minutes often have no bar, as on
   * IEX; the minute that ends at a pinned price always has one.
   */
  minuteBars(symbol: string, day: SimDay, until: number, live?: LivePoint): Bar[] {
    const out: Bar[] = [];
    this.#walkDay(symbol, day, until, live, (t, o, h, l, c, v, n, vw) => {
      out.push({ t, o, h, l, c, v, n, vw });
    });
    return out;
  }

  /**
   * The day's bar so far (all of it once the day is over), stamped `day.barTime`: the sum of its
   * minute bars, without making them. Whole days are kept in a bounded cache.
   */
  dayBar(symbol: string, day: SimDay, until: number, live?: LivePoint): Bar | undefined {
    const pinned = live !== undefined && live.time >= day.preOpen && live.time < day.postClose;
    const whole = until >= day.postClose && !pinned;
    const key = `${symbol}|${day.date}|${day.preOpen}|${day.open}|${day.close}|${day.postClose}`;
    if (whole) {
      const cached = this.#dayCache.get(key);
      if (cached !== undefined) return cached;
    }
    let o = 0;
    let h = -Infinity;
    let l = Infinity;
    let c = 0;
    let v = 0;
    let n = 0;
    let pv = 0;
    let any = false;
    this.#walkDay(symbol, day, until, live, (_t, bo, bh, bl, bc, bv, bn, bvw) => {
      if (!any) o = bo;
      any = true;
      if (bh > h) h = bh;
      if (bl < l) l = bl;
      c = bc;
      v += bv;
      n += bn;
      pv += bvw * bv;
    });
    if (!any) return undefined;
    const decimals = this.#traitsOf(symbol).decimals + 2;
    const bar: Bar = {
      t: day.barTime,
      o,
      h,
      l,
      c,
      v: roundTo(v, 8),
      n,
      vw: v > 0 ? roundTo(pv / v, decimals) : c,
    };
    if (whole) {
      if (this.#dayCache.size >= DAY_CACHE_MAX) this.#dayCache.clear();
      this.#dayCache.set(key, bar);
    }
    return bar;
  }

  #walkDay(
    symbol: string,
    day: SimDay,
    until: number,
    live: LivePoint | undefined,
    visit: BarVisitor,
  ): void {
    const tr = this.#traitsOf(symbol);
    const minutes = Math.round((day.postClose - day.preOpen) / 60_000);
    if (minutes <= 0 || until < day.preOpen) return;
    const open = this.dailyClose(symbol, day.prevDate);
    let pinIndex = minutes;
    let pinPrice = this.dailyClose(symbol, day.date);
    if (live !== undefined && live.time >= day.preOpen && live.time < day.postClose) {
      pinIndex = Math.floor((live.time - day.preOpen) / 60_000) + 1;
      pinPrice = live.price;
    }
    const emit = Math.min(pinIndex, Math.floor((until - day.preOpen) / 60_000) + 1);
    if (emit <= 0) return;

    // Every draw comes from the (symbol, date) stream in a fixed order: the whole day's path
    // first, then four per minute for the bar's shape, so what is emitted never shifts the path.
    const rng = mulberry32(hashString(`${symbol}#${day.date}`, this.#seed));
    const walk = scratch(minutes + 1);
    const regularFrom = Math.ceil((day.open - day.preOpen) / 60_000);
    const regularTo = Math.ceil((day.close - day.preOpen) / 60_000);
    const extendedVol = tr.minuteVol * 0.4;
    const normal = gaussian(rng);
    walk[0] = 0;
    for (let i = 0; i < minutes; i++) {
      const vol = i >= regularFrom && i < regularTo ? tr.minuteVol : extendedVol;
      walk[i + 1] = (walk[i] ?? 0) + vol * normal();
    }
    const x0 = Math.log(open);
    const drift = Math.log(pinPrice) - x0 - (walk[pinIndex] ?? 0);
    const decimals = tr.decimals;
    const f = 10 ** decimals;
    const tick = 1 / f;
    const crypto = isCryptoSymbol(symbol);
    const session = day.close - day.open;
    let o = open;
    for (let i = 0; i < emit; i++) {
      const c =
        i + 1 === pinIndex
          ? pinPrice
          : Math.round(Math.exp(x0 + (walk[i + 1] ?? 0) + ((i + 1) / pinIndex) * drift) * f) / f;
      const uh = rng();
      const ul = rng();
      const uv = rng();
      const skip = rng();
      const t = day.preOpen + i * 60_000;
      const inRegular = i >= regularFrom && i < regularTo;
      const barO = o;
      o = c;
      // The first minute always prints, so the day opens exactly at the previous close.
      if (!crypto && !inRegular && skip < 0.6 && i !== 0 && i !== pinIndex - 1) continue;
      const vol = inRegular ? tr.minuteVol : extendedVol;
      const hi = Math.max(barO, c);
      const lo = Math.min(barO, c);
      const h = Math.max(hi, Math.round((hi * (1 + uh * vol) + tick / 2) * f) / f);
      const l = Math.min(lo, Math.max(tick, Math.round((lo * (1 - ul * vol) - tick / 2) * f) / f));
      let mult = 1;
      if (!crypto) {
        // U-shaped through the regular session; a trickle outside it
        const at = session > 0 ? (t - day.open) / session : 0.5;
        mult = inRegular ? 0.6 + 2.4 * (2 * at - 1) ** 2 : 0.05;
      }
      const raw = tr.volume * mult * (0.5 + uv);
      const v = crypto ? roundTo(raw, 6) : Math.max(1, Math.round(raw));
      const n = crypto ? 1 + Math.floor(uv * 40) : Math.max(1, Math.round(v / (60 + uv * 80)));
      const vw = roundTo((barO + h + l + c) / 4, decimals + 2);
      visit(t, barO, h, l, c, v, n, vw);
    }
  }

  decimals(symbol: string): number {
    return this.#traitsOf(symbol).decimals;
  }
}

/** Standard normal draws (Box-Muller, both of each pair: half the logs and roots). */
function gaussian(rng: () => number): () => number {
  let spare = Number.NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const z = spare;
      spare = Number.NaN;
      return z;
    }
    const r = Math.sqrt(-2 * Math.log(1 - rng()));
    const a = 2 * Math.PI * rng();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
}

/** One standard normal draw. */
function gauss(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/**
 * A symbol's bars of one timeframe, in time order, with `start <= t <= end`, made day by day as
 * the caller reads (stop reading and nothing more is made). `days` are the symbol's trading days
 * in order; `now` bounds today (no bar starts after it).
 */
export function* barsOf(
  history: History,
  symbol: string,
  days: readonly SimDay[],
  timeframe: Timeframe,
  start: number,
  end: number,
  now: number,
  live: LivePoint | undefined,
): Generator<Bar> {
  const until = Math.min(end, now);
  const decimals = history.decimals(symbol) + 2;
  if (timeframe.unit === 'day') {
    for (const day of days) {
      if (day.barTime < start) continue;
      if (day.barTime > end || day.preOpen > now) break;
      const bar = history.dayBar(symbol, day, now, live);
      if (bar !== undefined) yield bar;
    }
    return;
  }
  const size = timeframe.minutes * 60_000;
  // A bucket may straddle two days (a 7-minute bucket over midnight): it is held until the next
  // day's first bucket shows whether they merge.
  let pending: Bar[] = [];
  let pendingT = Number.NaN;
  const flush = function* (): Generator<Bar> {
    if (pending.length > 0 && pendingT >= start && pendingT <= end) {
      const bar = aggregate(pending, pendingT, decimals);
      if (bar !== undefined) yield bar;
    }
    pending = [];
  };
  for (const day of days) {
    if (day.postClose <= start) continue;
    if (day.preOpen > until) break;
    for (const bar of history.minuteBars(symbol, day, until, live)) {
      const t = Math.floor(bar.t / size) * size;
      if (t !== pendingT) {
        yield* flush();
        pendingT = t;
      }
      pending.push(bar);
    }
  }
  yield* flush();
}

/** A bar as Alpaca writes it. */
export function barJson(bar: Bar): Record<string, unknown> {
  return {
    t: new Date(bar.t).toISOString().replace('.000Z', 'Z'),
    o: bar.o,
    h: bar.h,
    l: bar.l,
    c: bar.c,
    v: bar.v,
    n: bar.n,
    vw: bar.vw,
  };
}
