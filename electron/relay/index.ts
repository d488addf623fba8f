/**
 * The relay: one upstream Alpaca stream served, in Alpaca's own protocol, to any number of
 * Alpaca clients on this machine (relay.ts); its client keys (keys.ts); the way from the domain
 * messages back to Alpaca's wire items (wire.ts).
 */
export { isLoopback, startRelay } from './relay.ts';
export type {
  Relay,
  RelayCounters,
  RelayFootprint,
  RelayOptions,
  RelayStats,
  RelayUpstream,
} from './relay.ts';
export type { ClientInfo } from './downstream.ts';
export { StreamSource } from './source.ts';
export type { NatsSourceHealth, RelaySource, SourcePairs, SourceStats } from './source.ts';
export { DEFAULT_MAX_SYMBOLS, KeyFileError, KeyRing, loadKeyFile, parseKeyList } from './keys.ts';
export type { RelayKey } from './keys.ts';
export { channelOf, toWireItem } from './wire.ts';
