/**
 * The relay: one upstream Alpaca stream served, in Alpaca's own protocol, to any number of
 * Alpaca clients on this machine (relay.ts); its client keys (keys.ts); the way from the domain
 * messages back to Alpaca's wire items (wire.ts); its upstream (source.ts: the relay's own
 * StreamClient, the app's client through attached-upstream.ts, or NATS from another relay through
 * nats-source.ts), published for others (nats-publisher.ts, nats-wire.ts); the market-data REST
 * pass-through on the same port (rest-proxy.ts).
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
export { NatsPublisher } from './nats-publisher.ts';
export type { NatsPublish, NatsPublisherStats } from './nats-publisher.ts';
export { NatsSource } from './nats-source.ts';
export type { NatsUpstream } from './nats-source.ts';
export { checkNatsUrl } from './nats-link.ts';
export {
  DEFAULT_LEASE_MS,
  DEFAULT_NATS_PREFIX,
  NatsSubjects,
  checkPrefix,
  packMessages,
  symbolToken,
  tokenSymbol,
  unpackMessages,
} from './nats-wire.ts';
export { DEFAULT_MAX_SYMBOLS, KeyFileError, KeyRing, loadKeyFile, parseKeyList } from './keys.ts';
export type { RelayKey } from './keys.ts';
export { channelOf, toWireItem } from './wire.ts';
export { AttachedUpstream } from './attached-upstream.ts';
export type { ClientProvider, RelayUpstreamClient } from './attached-upstream.ts';
export { REST_PROXY_DEFAULTS, RestProxy, restTarget } from './rest-proxy.ts';
export type { RestProxyCounters, RestProxyOptions, RestUpstream } from './rest-proxy.ts';
