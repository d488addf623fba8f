/**
 * The simulator's market: seeded random walks that turn into Alpaca wire items (quotes, trades,
 * corrections, cancels, minute / daily / updated bars, statuses, LULD bands, imbalances and crypto
 * order books). Pure: no timers and no clock; the caller passes each event's timestamp in, so the
 * same seed and the same calls give the same items whatever the wall clock says.
 */

/** One wire message as Alpaca writes it: an object with a `T` type letter. */
export type WireItem = Record<string, unknown>;

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/** mulberry32: a tiny 32-bit generator; plenty for market noise and cheap on the hot path. */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A 32-bit hash of text mixed with a seed (FNV-1a, then a murmur-style finalizer), so that a
 * symbol's starting price and listing depend on its name and the seed, not on subscription order.
 */
export function hashString(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Familiar tickers first, so a small universe looks like a real watchlist. */
// prettier-ignore
export const WELL_KNOWN_SYMBOLS: readonly string[] = [
  'AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'TSLA', 'AVGO', 'JPM', 'V',
  'UNH', 'XOM', 'MA', 'JNJ', 'PG', 'HD', 'COST', 'ABBV', 'MRK', 'CVX',
  'PEP', 'KO', 'ADBE', 'CRM', 'NFLX', 'AMD', 'INTC', 'CSCO', 'ORCL', 'WMT',
  'BAC', 'DIS', 'MCD', 'QCOM', 'TXN', 'IBM', 'GS', 'CAT', 'BA', 'NKE',
  'SBUX', 'PYPL', 'UBER', 'SHOP', 'PLTR', 'SPY', 'QQQ', 'IWM', 'DIA', 'F',
];

/** The one symbol Alpaca's always-on test stream (`/v2/test`) trades. */
export const TEST_SYMBOL = 'FAKEPACA';

/** Crypto pairs with a plausible starting price each. */
export const CRYPTO_PAIRS: Readonly<Record<string, number>> = {
  'BTC/USD': 64000,
  'ETH/USD': 3200,
  'SOL/USD': 150,
  'LTC/USD': 82,
  'BCH/USD': 410,
  'AVAX/USD': 31,
  'LINK/USD': 15,
  'UNI/USD': 8,
  'AAVE/USD': 105,
  'DOT/USD': 6.4,
  'DOGE/USD': 0.152,
  'XRP/USD': 0.52,
  'SHIB/USD': 0.0000245,
  'USDT/USD': 1,
  'USDC/USD': 1,
};

const MAX_GENERATED = 26 ** 3 + 26 ** 4;

function lettersOf(index: number, width: number): string {
  let out = '';
  let rest = index;
  for (let i = 0; i < width; i++) {
    out = String.fromCharCode(65 + (rest % 26)) + out;
    rest = Math.floor(rest / 26);
  }
  return out;
}

/**
 * `count` stock symbols: the well-known tickers, then generated four- and five-letter names
 * (XAAA, XAAB, ... then YAAAA, ...) that no well-known ticker collides with.
 */
export function symbolUniverse(count: number): string[] {
  if (!Number.isInteger(count) || count < 1 || count > WELL_KNOWN_SYMBOLS.length + MAX_GENERATED) {
    throw new RangeError(
      `symbols must be an integer from 1 to ${WELL_KNOWN_SYMBOLS.length + MAX_GENERATED}`,
    );
  }
  const out = WELL_KNOWN_SYMBOLS.slice(0, count);
  for (let k = 0; out.length < count; k++) {
    out.push(k < 26 ** 3 ? `X${lettersOf(k, 3)}` : `Y${lettersOf(k - 26 ** 3, 4)}`);
  }
  return out;
}

/** All exchange letters a SIP feed names. */
export const SIP_EXCHANGES: readonly string[] = [
  'V',
  'Q',
  'N',
  'P',
  'K',
  'Z',
  'B',
  'H',
  'X',
  'J',
  'Y',
  'A',
  'M',
  'U',
  'L',
];

export interface MarketWalkOptions {
  readonly seed: number;
  /** Stocks carry exchanges, conditions and tapes; crypto has float sizes, taker sides and books. */
  readonly kind: 'stock' | 'crypto';
  /** Exchange letters for quotes and trades (stocks only). The IEX feed only ever says `V`. */
  readonly exchanges?: readonly string[];
  /**
   * Where a symbol's walk starts (and the level it is pulled back to): the simulator passes the
   * previous session's close so that live data continues its history. Default: a price from the
   * symbol's name and the seed.
   */
  readonly startPrice?: (symbol: string) => number | undefined;
}

/** The newest trade and quote a walk made for a symbol, as the wire items it sent. */
export interface LatestItems {
  readonly trade: WireItem | undefined;
  readonly quote: WireItem | undefined;
}

/** Running open / high / low / close / volume, and the price-volume sum behind the VWAP. */
interface Aggregate {
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  count: number;
  pv: number;
  lastTradeId: number;
}

interface LastTrade {
  readonly id: number;
  readonly price: number;
  readonly size: number;
  readonly conditions: readonly string[] | undefined;
  readonly exchange: string | undefined;
  /** The bar period the trade went into, so a late fix knows whether to update a closed bar. */
  readonly period: number;
  readonly day: number;
  settled: boolean;
}

interface SymbolState {
  readonly symbol: string;
  /** Price = ticks / scale: integers keep printed prices free of binary-fraction noise. */
  readonly scale: number;
  readonly tape: string | undefined;
  /** Per-step log-return volatility. */
  readonly vol: number;
  /** Log of the starting mid: the walk is pulled gently back towards it. */
  readonly home: number;
  /** Order book level spacing in ticks (crypto). */
  readonly spacing: number;
  mid: number;
  bid: number;
  ask: number;
  bidSize: number;
  askSize: number;
  haltSteps: number;
  bar: Aggregate | undefined;
  prevBar: { agg: Aggregate; time: string } | undefined;
  day: Aggregate | undefined;
  last: LastTrade | undefined;
  /** The last trade and quote items sent, kept by reference for REST snapshots. */
  lastTradeItem: WireItem | undefined;
  lastQuoteItem: WireItem | undefined;
  book: { bids: Map<number, number>; asks: Map<number, number> } | undefined;
}

const P_TRADE = 0.4;
const P_CORRECTION = 0.002;
const P_CANCEL = 0.002;
const P_HALT = 0.0002;
const P_LULD = 0.003;
const P_IMBALANCE = 0.001;
const P_BOOK = 0.5;
const BOOK_DEPTH = 20;
const BOOK_MIN_DEPTH = 10;
/** Pull towards the home price per step; with the step volatility it bounds the drift to ~2 %. */
const REVERSION = 0.00001;

const TAPES = ['A', 'B', 'C'] as const;

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

function newAggregate(price: number, size: number, id: number): Aggregate {
  return {
    open: price,
    high: price,
    low: price,
    close: price,
    volume: size,
    count: 1,
    pv: price * size,
    lastTradeId: id,
  };
}

function addTrade(agg: Aggregate | undefined, price: number, size: number, id: number): Aggregate {
  if (agg === undefined) return newAggregate(price, size, id);
  if (price > agg.high) agg.high = price;
  if (price < agg.low) agg.low = price;
  agg.close = price;
  agg.volume += size;
  agg.count += 1;
  agg.pv += price * size;
  agg.lastTradeId = id;
  return agg;
}

/**
 * A cancel or correction of one trade. The high and the low cannot be narrowed again without every
 * trade of the period, so a cancel leaves them; everything else follows the fix exactly.
 */
function fixTrade(
  agg: Aggregate,
  old: LastTrade,
  replacement: { id: number; price: number; size: number } | undefined,
): void {
  agg.volume -= old.size;
  agg.pv -= old.price * old.size;
  agg.count -= 1;
  if (replacement !== undefined) {
    agg.volume += replacement.size;
    agg.pv += replacement.price * replacement.size;
    agg.count += 1;
    if (replacement.price > agg.high) agg.high = replacement.price;
    if (replacement.price < agg.low) agg.low = replacement.price;
    if (agg.lastTradeId === old.id) {
      agg.close = replacement.price;
      agg.lastTradeId = replacement.id;
    }
  }
}

/**
 * Generates market events for whichever symbols the caller names. Each symbol keeps its own price,
 * bars and book; the choice of symbol and every random draw come from one seeded generator.
 */
export class MarketWalk {
  readonly #rng: Rng;
  readonly #seed: number;
  readonly #crypto: boolean;
  readonly #exchanges: readonly string[];
  readonly #startPrice: ((symbol: string) => number | undefined) | undefined;
  readonly #states = new Map<string, SymbolState>();
  #tradeId: number;
  #period = 0;
  #day = 0;
  #spareGauss: number | undefined;

  constructor(options: MarketWalkOptions) {
    this.#seed = options.seed >>> 0;
    this.#rng = mulberry32(this.#seed);
    this.#crypto = options.kind === 'crypto';
    this.#exchanges = options.exchanges ?? SIP_EXCHANGES;
    if (this.#exchanges.length === 0) throw new RangeError('exchanges must not be empty');
    this.#startPrice = options.startPrice;
    // Trade ids look like Alpaca's: large, increasing.
    this.#tradeId =
      (this.#crypto ? 1_000_000_000_000 : 52_983_525_000_000) + (this.#seed % 100_000) * 1000;
  }

  /** The current bid and ask of a symbol the walk has touched, for tests and the UI. */
  quote(symbol: string): { readonly bid: number; readonly ask: number } | undefined {
    const st = this.#states.get(symbol);
    return st === undefined ? undefined : { bid: st.bid / st.scale, ask: st.ask / st.scale };
  }

  /** The newest trade and quote of a symbol the walk has touched. */
  latest(symbol: string): LatestItems | undefined {
    const st = this.#states.get(symbol);
    return st === undefined ? undefined : { trade: st.lastTradeItem, quote: st.lastQuoteItem };
  }

  /**
   * One market event for a symbol drawn from `symbols`, with every item stamped `time`: a quote
   * almost always, a trade often, and now and then a correction or cancel of the symbol's previous
   * trade, a status, a LULD band, an imbalance, or an order book change (crypto).
   */
  step(symbols: readonly string[], time: string, out: WireItem[]): void {
    const n = symbols.length;
    if (n === 0) return;
    const symbol = symbols[Math.floor(this.#rng() * n)];
    if (symbol === undefined) return;
    const st = this.#state(symbol);
    const rng = this.#rng;

    if (st.haltSteps > 0) {
      st.haltSteps -= 1;
      if (st.haltSteps === 0) out.push(this.#status(st, 'T', 'Trading Resumption', time));
      return;
    }

    // Crypto trades are never corrected or cancelled on Alpaca's feed.
    if (!this.#crypto && st.last !== undefined && !st.last.settled) {
      const r = rng();
      if (r < P_CORRECTION) this.#correct(st, st.last, time, out);
      else if (r < P_CORRECTION + P_CANCEL) this.#cancel(st, st.last, time, out);
    }

    this.#move(st);
    const quote = this.#quoteItem(st, time);
    st.lastQuoteItem = quote;
    out.push(quote);

    if (rng() < P_TRADE) this.#trade(st, time, out);

    if (this.#crypto) {
      if (rng() < P_BOOK) out.push(this.#bookDelta(st, time));
      return;
    }
    if (rng() < P_HALT) {
      st.haltSteps = 20 + Math.floor(rng() * 60);
      out.push(this.#status(st, 'H', 'Trading Halt', time));
    }
    if (rng() < P_LULD) out.push(this.#band(st, 'B', time));
    if (rng() < P_IMBALANCE) {
      out.push({ T: 'i', S: symbol, p: Math.round(st.mid) / st.scale, t: time, z: st.tape });
    }
  }

  /**
   * Halts a stock symbol until `setHalt(symbol, false)`: its LULD band (the pause's bounds), then
   * a status `H` (Volatility Trading Pause); no quote or trade of it meanwhile. Resuming sends the
   * status `T` and the band republished around the price. Nothing for crypto (no statuses).
   */
  setHalt(symbol: string, halted: boolean, time: string, out: WireItem[]): void {
    if (this.#crypto) return;
    const st = this.#state(symbol);
    if (halted) {
      st.haltSteps = Number.POSITIVE_INFINITY;
      out.push(this.#band(st, 'A', time));
      out.push(this.#status(st, 'H', 'Trading Halt', time));
    } else {
      st.haltSteps = 0;
      out.push(this.#status(st, 'T', 'Trading Resumption', time));
      out.push(this.#band(st, 'B', time));
    }
  }

  /** Marks a symbol halted without a message (a new connection while the symbol is halted). */
  hold(symbol: string): void {
    if (!this.#crypto) this.#state(symbol).haltSteps = Number.POSITIVE_INFINITY;
  }

  /**
   * Ends the current bar period: a minute bar (`b`, stamped `barTime`, the period's start) for every
   * symbol that traded in it, and the running daily bar (`d`, stamped `dayTime`) for every symbol
   * that traded today. `newDay` starts the daily aggregates afresh after this close.
   */
  closeBars(barTime: string, dayTime: string, out: WireItem[], newDay = false): void {
    for (const st of this.#states.values()) {
      const bar = st.bar;
      if (bar !== undefined) {
        out.push(this.#barItem('b', st, bar, barTime));
        st.prevBar = { agg: bar, time: barTime };
      } else {
        st.prevBar = undefined;
      }
      st.bar = undefined;
      if (st.day !== undefined) {
        out.push(this.#barItem('d', st, st.day, dayTime));
        if (newDay) st.day = undefined;
      }
    }
    this.#period += 1;
    if (newDay) this.#day += 1;
  }

  /** The whole order book of a crypto symbol (`r: true`), as sent when a client subscribes to it. */
  bookSnapshot(symbol: string, time: string): WireItem {
    const st = this.#state(symbol);
    const book = this.#book(st);
    const side = (levels: Map<number, number>, descending: boolean): { p: number; s: number }[] =>
      [...levels.entries()]
        .sort((a, b) => (descending ? b[0] - a[0] : a[0] - b[0]))
        .map(([p, s]) => ({ p: p / st.scale, s }));
    return {
      T: 'o',
      S: symbol,
      t: time,
      b: side(book.bids, true),
      a: side(book.asks, false),
      r: true,
    };
  }

  #state(symbol: string): SymbolState {
    let st = this.#states.get(symbol);
    if (st !== undefined) return st;
    const h = hashString(symbol, this.#seed);
    const local = mulberry32(h);
    let price: number;
    let scale: number;
    const start = this.#startPrice?.(symbol);
    if (this.#crypto) {
      // the tick size follows the pair's usual level, not where today's walk happens to start
      const level = CRYPTO_PAIRS[symbol] ?? 1 + local() * 100;
      price = start ?? level;
      scale = level >= 1000 ? 100 : level >= 1 ? 10_000 : level >= 0.01 ? 1_000_000 : 1_000_000_000;
    } else {
      // log-uniform between $8 and $600: most names cheap, a few expensive
      const drawn = 8 * Math.exp(local() * Math.log(75));
      price = start ?? drawn;
      scale = 100;
    }
    const mid = price * scale;
    st = {
      symbol,
      scale,
      tape: this.#crypto ? undefined : TAPES[h % 3],
      vol: this.#crypto ? 0.0001 + local() * 0.0001 : 0.00005 + local() * 0.0001,
      home: Math.log(mid),
      spacing: Math.max(1, Math.round(mid * 0.00005)),
      mid,
      bid: Math.floor(mid),
      ask: Math.floor(mid) + 1,
      bidSize: 1,
      askSize: 1,
      haltSteps: 0,
      bar: undefined,
      prevBar: undefined,
      day: undefined,
      last: undefined,
      lastTradeItem: undefined,
      lastQuoteItem: undefined,
      book: undefined,
    };
    this.#states.set(symbol, st);
    return st;
  }

  #gauss(): number {
    const spare = this.#spareGauss;
    if (spare !== undefined) {
      this.#spareGauss = undefined;
      return spare;
    }
    const u = 1 - this.#rng(); // (0, 1]: keeps log finite
    const v = this.#rng();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spareGauss = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  #move(st: SymbolState): void {
    const rng = this.#rng;
    const floor = this.#crypto ? 10 : 100; // no walking through zero
    // Mean-reverting in log space: prices wander a few per cent around home, however long it runs.
    const x = Math.log(st.mid);
    st.mid = Math.max(floor, Math.exp(x + REVERSION * (st.home - x) + st.vol * this.#gauss()));
    // Spreads widen with price: a cent or two on cheap stocks, more on expensive ones.
    const maxSpread = this.#crypto
      ? 1 + Math.floor(st.mid / 20_000)
      : st.mid < 5_000
        ? 2
        : st.mid < 20_000
          ? 4
          : 8;
    const spread = 1 + Math.floor(rng() * maxSpread);
    st.bid = Math.max(1, Math.floor(st.mid - spread / 2));
    st.ask = st.bid + spread;
    if (this.#crypto) {
      st.bidSize = round(0.001 + rng() * rng() * 4, 6);
      st.askSize = round(0.001 + rng() * rng() * 4, 6);
    } else {
      // round lots, mostly small
      st.bidSize = 1 + Math.floor(rng() * rng() * 12);
      st.askSize = 1 + Math.floor(rng() * rng() * 12);
    }
  }

  #exchange(): string {
    const list = this.#exchanges;
    return list[Math.floor(this.#rng() * list.length)] ?? 'V';
  }

  #quoteItem(st: SymbolState, time: string): WireItem {
    if (this.#crypto) {
      return {
        T: 'q',
        S: st.symbol,
        bp: st.bid / st.scale,
        bs: st.bidSize,
        ap: st.ask / st.scale,
        as: st.askSize,
        t: time,
      };
    }
    return {
      T: 'q',
      S: st.symbol,
      bx: this.#exchange(),
      bp: st.bid / st.scale,
      bs: st.bidSize,
      ax: this.#exchange(),
      ap: st.ask / st.scale,
      as: st.askSize,
      c: ['R'],
      z: st.tape,
      t: time,
    };
  }

  #trade(st: SymbolState, time: string, out: WireItem[]): void {
    const rng = this.#rng;
    const r = rng();
    // at the bid, at the ask, or somewhere inside the spread
    const ticks =
      r < 0.4 ? st.bid : r < 0.8 ? st.ask : st.bid + Math.floor(rng() * (st.ask - st.bid + 1));
    const price = ticks / st.scale;
    const id = ++this.#tradeId;
    let size: number;
    let conditions: string[] | undefined;
    let exchange: string | undefined;
    if (this.#crypto) {
      size = round(0.0001 + rng() * rng() * 2, 6);
    } else {
      const k = rng();
      size =
        k < 0.35
          ? 1 + Math.floor(rng() * 99)
          : k < 0.9
            ? 100 * (1 + Math.floor(rng() * 5))
            : 100 + Math.floor(rng() * 2000);
      conditions = size < 100 ? ['@', 'I'] : ['@'];
      exchange = this.#exchange();
    }
    st.bar = addTrade(st.bar, price, size, id);
    st.day = addTrade(st.day, price, size, id);
    st.last = {
      id,
      price,
      size,
      conditions,
      exchange,
      period: this.#period,
      day: this.#day,
      settled: false,
    };
    let item: WireItem;
    if (this.#crypto) {
      item = {
        T: 't',
        S: st.symbol,
        p: price,
        s: size,
        t: time,
        i: id,
        tks: rng() < 0.5 ? 'B' : 'S',
      };
    } else {
      item = {
        T: 't',
        S: st.symbol,
        i: id,
        x: exchange,
        p: price,
        s: size,
        c: conditions,
        t: time,
        z: st.tape,
      };
    }
    st.lastTradeItem = item;
    out.push(item);
  }

  /** The aggregate a trade went into: the open bar, or the closed one (then an updated bar is due). */
  #barOf(
    st: SymbolState,
    trade: LastTrade,
  ): { agg: Aggregate; closedAt: string | undefined } | undefined {
    if (trade.period === this.#period && st.bar !== undefined)
      return { agg: st.bar, closedAt: undefined };
    if (trade.period === this.#period - 1 && st.prevBar !== undefined) {
      return { agg: st.prevBar.agg, closedAt: st.prevBar.time };
    }
    return undefined;
  }

  #correct(st: SymbolState, old: LastTrade, time: string, out: WireItem[]): void {
    old.settled = true;
    const delta = this.#rng() < 0.5 ? -1 : 1;
    const replacement = {
      id: ++this.#tradeId,
      price: Math.max(1, Math.round(old.price * st.scale) + delta) / st.scale,
      size: old.size,
    };
    const where = this.#barOf(st, old);
    if (where !== undefined) fixTrade(where.agg, old, replacement);
    if (st.day !== undefined && old.day === this.#day) fixTrade(st.day, old, replacement);
    out.push({
      T: 'c',
      S: st.symbol,
      x: old.exchange,
      oi: old.id,
      op: old.price,
      os: old.size,
      oc: old.conditions,
      ci: replacement.id,
      cp: replacement.price,
      cs: replacement.size,
      cc: old.conditions,
      t: time,
      z: st.tape,
    });
    if (where?.closedAt !== undefined) out.push(this.#barItem('u', st, where.agg, where.closedAt));
  }

  #cancel(st: SymbolState, old: LastTrade, time: string, out: WireItem[]): void {
    old.settled = true;
    const where = this.#barOf(st, old);
    if (where !== undefined) fixTrade(where.agg, old, undefined);
    if (st.day !== undefined && old.day === this.#day) fixTrade(st.day, old, undefined);
    const action = this.#rng() < 0.9 ? 'C' : 'E';
    out.push({
      T: 'x',
      S: st.symbol,
      i: old.id,
      x: old.exchange,
      p: old.price,
      s: old.size,
      a: action,
      t: time,
      z: st.tape,
    });
    if (where?.closedAt !== undefined) out.push(this.#barItem('u', st, where.agg, where.closedAt));
  }

  #barItem(type: 'b' | 'd' | 'u', st: SymbolState, agg: Aggregate, time: string): WireItem {
    const volume = this.#crypto ? round(agg.volume, 8) : agg.volume;
    const vwap = agg.volume > 0 ? round(agg.pv / agg.volume, 6) : agg.close;
    return {
      T: type,
      S: st.symbol,
      o: agg.open,
      h: agg.high,
      l: agg.low,
      c: agg.close,
      v: volume,
      n: agg.count,
      vw: vwap,
      t: time,
    };
  }

  /** A LULD band 5 % either side of the mid price (Tier 1 during the day). */
  #band(st: SymbolState, indicator: string, time: string): WireItem {
    return {
      T: 'l',
      S: st.symbol,
      u: Math.ceil(st.mid * 1.05) / st.scale,
      d: Math.floor(st.mid * 0.95) / st.scale,
      i: indicator,
      t: time,
      z: st.tape,
    };
  }

  #status(st: SymbolState, code: string, message: string, time: string): WireItem {
    return {
      T: 's',
      S: st.symbol,
      sc: code,
      sm: message,
      rc: 'LUDP',
      rm: 'Volatility Trading Pause',
      t: time,
      z: st.tape,
    };
  }

  #book(st: SymbolState): { bids: Map<number, number>; asks: Map<number, number> } {
    if (st.book !== undefined) return st.book;
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    for (let k = 0; k < BOOK_MIN_DEPTH; k++) {
      bids.set(st.bid - k * st.spacing, this.#levelSize());
      asks.set(st.ask + k * st.spacing, this.#levelSize());
    }
    st.book = { bids, asks };
    return st.book;
  }

  #levelSize(): number {
    return round(0.01 + this.#rng() * 3, 6);
  }

  /**
   * A book change after the quote moved: the top levels follow the quote, levels the quote crossed
   * are deleted (`s: 0`), one deeper level changes, and each side is kept between BOOK_MIN_DEPTH
   * and BOOK_DEPTH levels.
   */
  #bookDelta(st: SymbolState, time: string): WireItem {
    const book = this.#book(st);
    const b: { p: number; s: number }[] = [];
    const a: { p: number; s: number }[] = [];
    const set = (
      levels: Map<number, number>,
      changes: { p: number; s: number }[],
      ticks: number,
      size: number,
    ): void => {
      if (size === 0) {
        if (!levels.delete(ticks)) return;
      } else {
        levels.set(ticks, size);
      }
      changes.push({ p: ticks / st.scale, s: size });
    };
    for (const p of [...book.bids.keys()]) if (p > st.bid) set(book.bids, b, p, 0);
    for (const p of [...book.asks.keys()]) if (p < st.ask) set(book.asks, a, p, 0);
    set(book.bids, b, st.bid, st.bidSize);
    set(book.asks, a, st.ask, st.askSize);
    const depth = (1 + Math.floor(this.#rng() * 15)) * st.spacing;
    const size = this.#rng() < 0.2 ? 0 : this.#levelSize();
    if (this.#rng() < 0.5) set(book.bids, b, st.bid - depth, size);
    else set(book.asks, a, st.ask + depth, size);
    // refill from the deepest level outwards, then drop the farthest past the maximum
    while (book.bids.size < BOOK_MIN_DEPTH) {
      set(book.bids, b, Math.min(...book.bids.keys()) - st.spacing, this.#levelSize());
    }
    while (book.asks.size < BOOK_MIN_DEPTH) {
      set(book.asks, a, Math.max(...book.asks.keys()) + st.spacing, this.#levelSize());
    }
    this.#trim(book.bids, b, st.scale, true);
    this.#trim(book.asks, a, st.scale, false);
    return { T: 'o', S: st.symbol, t: time, b, a };
  }

  #trim(
    levels: Map<number, number>,
    changes: { p: number; s: number }[],
    scale: number,
    bids: boolean,
  ): void {
    if (levels.size <= BOOK_DEPTH) return;
    const sorted = [...levels.keys()].sort((x, y) => (bids ? y - x : x - y));
    for (const p of sorted.slice(BOOK_DEPTH)) {
      levels.delete(p);
      changes.push({ p: p / scale, s: 0 });
    }
  }
}
