/**
 * The dedicated worker that holds browser mode's bridge socket (worker-socket.ts says why). Its
 * whole job is socket-relay.ts's; this file only hands it the worker's scope and WebSocket.
 */
import { relaySocket, type RelayPort } from './socket-relay.ts';

// The renderer is type-checked with the DOM's globals, where `self` is a Window; in a dedicated
// worker it is the worker's scope, which has what RelayPort names.
relaySocket(self as unknown as RelayPort, WebSocket);
