/** The connection states live in shared/ (the renderer shows them); re-exported for the core. */
export { CONNECTION_STATES, type ConnectionState } from '../../shared/connection.ts';
