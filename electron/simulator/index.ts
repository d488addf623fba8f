/**
 * The embedded simulator: an Alpaca market-data stream server with seeded data and fault
 * injection. The default feed when the user has no credentials, and the test double for faults.
 */
export { startSimulator } from './server.ts';
export type {
  ActionEvent,
  ActionListener,
  Simulator,
  SimulatorOptions,
  SimulatorStats,
} from './server.ts';
export { DEFAULT_FAULTS, GARBAGE_KINDS } from './faults.ts';
export type { GarbageKind, SimulatorFaults } from './faults.ts';
export { DEFAULT_LIMITS, randomRunCredentials } from './limits.ts';
export type { SimulatorLimits } from './limits.ts';
export type { ConnectionInfo } from './session.ts';
export { SESSION_MODES } from './market-hours.ts';
export type { ClockState, MarketSessionInfo, SessionMode } from './market-hours.ts';
export { DEFAULT_REST_FAULTS } from './rest.ts';
export type { RestFaults } from './rest.ts';
export { CRYPTO_CHANNELS, STOCK_CHANNELS } from './session.ts';
export {
  CRYPTO_PAIRS,
  MarketWalk,
  TEST_SYMBOL,
  WELL_KNOWN_SYMBOLS,
  mulberry32,
  symbolUniverse,
} from './market-walk.ts';
export type { MarketWalkOptions, WireItem } from './market-walk.ts';
