/**
 * The connection states. Their names are part of the CLI's NDJSON output and the UI, so they
 * are a contract: add, never rename.
 */
export type ConnectionState =
  | 'idle'
  | 'connecting'
  | 'authenticating'
  | 'subscribing'
  | 'live'
  | 'backoff'
  | 'stopped'
  | 'failed';

export const CONNECTION_STATES: readonly ConnectionState[] = [
  'idle',
  'connecting',
  'authenticating',
  'subscribing',
  'live',
  'backoff',
  'stopped',
  'failed',
];
