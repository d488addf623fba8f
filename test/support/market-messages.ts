/**
 * Domain messages (shared/market.ts) as the codec would hand them to the book, for tests that
 * feed a QuoteBook directly.
 */
import { timeToEpochMs, type Quote } from '../../shared/market.ts';

export const QUOTE_TIME = '2025-03-04T15:02:11.123456Z';

/** A quote: bid `bidPrice` (3 shares on V), ask `askPrice` (4 on Q), at `time`. */
export function quote(symbol: string, bidPrice = 10, askPrice = 10.5, time = QUOTE_TIME): Quote {
  return {
    kind: 'quote',
    symbol,
    bidExchange: 'V',
    bidPrice,
    bidSize: 3,
    askExchange: 'Q',
    askPrice,
    askSize: 4,
    conditions: undefined,
    time,
    timeMs: timeToEpochMs(time),
    tape: 'C',
  };
}
