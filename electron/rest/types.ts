/**
 * The domain shapes of Alpaca's REST market data and trading reference, as the rest of the app
 * sees them: times as epoch ms, short wire keys spelled out, optional fields explicit. The wire
 * shapes (and their zod schemas) stay inside electron/rest/; nothing else parses Alpaca's JSON.
 */

/** A bar (`t o h l c v n vw` on the wire). `time` is the bar's start, epoch ms. */
export interface RestBar {
  readonly time: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly tradeCount: number | undefined;
  readonly vwap: number | undefined;
}

export interface RestTrade {
  readonly time: number;
  readonly price: number;
  readonly size: number;
  readonly exchange: string | undefined;
  readonly conditions: readonly string[];
}

/** A price of 0 means no active bid or ask (Alpaca's convention): kept as 0, the reader decides. */
export interface RestQuote {
  readonly time: number;
  readonly bidPrice: number;
  readonly bidSize: number;
  readonly askPrice: number;
  readonly askSize: number;
  readonly bidExchange: string | undefined;
  readonly askExchange: string | undefined;
}

/** One symbol's snapshot. Every part is optional: a thinly traded symbol may lack any of them. */
export interface SymbolSnapshot {
  readonly symbol: string;
  readonly latestTrade: RestTrade | undefined;
  readonly latestQuote: RestQuote | undefined;
  readonly minuteBar: RestBar | undefined;
  readonly dailyBar: RestBar | undefined;
  readonly prevDailyBar: RestBar | undefined;
}

/** `GET /v2/clock`. */
export interface MarketClock {
  readonly time: number;
  readonly isOpen: boolean;
  readonly nextOpen: number;
  readonly nextClose: number;
}

/**
 * One trading day of `GET /v2/calendar`. It lives in shared/market-session.ts, beside the session
 * logic that reads it (shared/ may not import electron/); re-exported here for the REST client.
 */
export type { CalendarDay } from '../../shared/market-session.ts';

/** An asset of `GET /v2/assets`. */
export interface Asset {
  readonly symbol: string;
  readonly name: string;
  readonly exchange: string;
  /** `us_equity` or `crypto`. */
  readonly assetClass: string;
  readonly status: string;
  readonly tradable: boolean;
}

/** Bar timeframes the app asks for (Alpaca accepts more). */
export const TIMEFRAMES = ['1Min', '5Min', '15Min', '1Hour', '1Day'] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];
