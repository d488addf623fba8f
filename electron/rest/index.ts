/**
 * Alpaca's REST market data and trading reference: the client (AlpacaRest), its error type and
 * metrics, and the domain types it returns. Wire shapes stay inside this folder.
 */
export {
  AlpacaRest,
  DEFAULT_DATA_URL,
  DEFAULT_TRADING_URL,
  type AlpacaRestMetrics,
  type AlpacaRestOptions,
  type BarsOptions,
  type SnapshotOptions,
} from './alpaca-rest.ts';
export { RestError, isRestError, type RestErrorCode } from './errors.ts';
export {
  RestHttp,
  realClock,
  type RestClock,
  type RestHttpOptions,
  type RestMetrics,
  type RestRateLimitState,
} from './http.ts';
export { TokenBucket } from './rate-limiter.ts';
export type * from './types.ts';
export { TIMEFRAMES } from './types.ts';
