/**
 * The connection state machine: a pure function `(state, event) -> { state, effects }`.
 *
 * It owns every decision about the connection (when to open a socket, when to authenticate, when
 * to give up, when to back off and for how long a floor) and nothing else: no sockets, no timers,
 * no randomness. `client.ts` is the shell that performs the effects and turns socket callbacks
 * into events. Because it is pure, every transition is tested without sockets or timers.
 *
 * Concurrency in a single-threaded runtime means interleavings: a close from a socket we already
 * abandoned, a backoff timer firing after `disconnect()`, a second `connect()` while the first is
 * still connecting. Every socket and timer event therefore carries the generation of the socket it
 * belongs to, and the machine ignores any event whose generation is not the current one or that
 * arrives in a state that owns no socket. That is the whole "lock" story.
 */
import type { ConnectionState } from './states.ts';

/** Why the connection is not (or no longer) live, for the UI and the CLI. */
export interface ConnectionError {
  /** Alpaca error code, or the HTTP status of a refused handshake. */
  readonly code?: number;
  readonly message: string;
}

export interface MachineState {
  readonly name: ConnectionState;
  /** Generation of the socket this state belongs to; bumped for every new socket. */
  readonly generation: number;
  /** Failed attempts since the last complete auth + subscribe. */
  readonly attempt: number;
  /** A lower bound on the next backoff delay (grows after 406 connection-limit refusals). */
  readonly floorMs: number;
  /** Why we are in this state (human text), where there is a reason. */
  readonly reason: string | undefined;
  /** The error that ended the last connection, kept until the next live session. */
  readonly lastError: ConnectionError | undefined;
}

export type MachineEvent =
  /** The user (or the shell) wants a connection. */
  | { readonly type: 'connect' }
  /** The user wants no connection. */
  | { readonly type: 'disconnect'; readonly reason?: string }
  | { readonly type: 'socket-open'; readonly generation: number }
  /** The handshake was refused with an HTTP status (ws's unexpected-response). */
  | { readonly type: 'handshake-rejected'; readonly generation: number; readonly status: number }
  | {
      readonly type: 'socket-closed';
      readonly generation: number;
      readonly code: number;
      readonly reason: string;
    }
  /** `[{"T":"success","msg":"connected"}]` */
  | { readonly type: 'server-connected'; readonly generation: number }
  /** `[{"T":"success","msg":"authenticated"}]` */
  | { readonly type: 'authenticated'; readonly generation: number }
  /** The desired subscriptions are confirmed (or reconciled) by the server. */
  | { readonly type: 'subscribed'; readonly generation: number }
  | {
      readonly type: 'server-error';
      readonly generation: number;
      readonly code: number;
      readonly message: string;
    }
  /** No pong within the deadline: the link is dead even if TCP says otherwise. */
  | { readonly type: 'pong-timeout'; readonly generation: number }
  /** A handshake step (open, auth, subscription echo) took too long. */
  | { readonly type: 'step-timeout'; readonly generation: number; readonly step: string }
  /** The data watchdog asks for one forced reconnect. */
  | { readonly type: 'stale'; readonly generation: number; readonly silentMs: number }
  | { readonly type: 'backoff-elapsed'; readonly generation: number };

export type Effect =
  | { readonly type: 'open-socket'; readonly generation: number }
  /** Close (`terminate` for a link we no longer trust) and forget the socket of this generation. */
  | {
      readonly type: 'close-socket';
      readonly generation: number;
      readonly terminate: boolean;
      readonly code: number;
      readonly reason: string;
    }
  | { readonly type: 'send-auth'; readonly generation: number }
  | { readonly type: 'start-subscribing'; readonly generation: number }
  | {
      readonly type: 'schedule-reconnect';
      readonly generation: number;
      readonly attempt: number;
      readonly floorMs: number;
    }
  | { readonly type: 'cancel-reconnect' };

export interface Transition {
  readonly state: MachineState;
  readonly effects: readonly Effect[];
}

export interface MachineOptions {
  /** Send `{"action":"auth"}` after `connected` ('message'), or rely on handshake headers. */
  readonly authMode: 'message' | 'headers';
}

/** The first 406 floor, and its cap: Alpaca keeps a half-dead session for up to about 90 s. */
export const CONNECTION_LIMIT_FLOOR_MS = 5_000;
export const CONNECTION_LIMIT_FLOOR_CAP_MS = 90_000;

/** Alpaca error codes that end the session for good: retrying cannot help. */
export const FATAL_CODES: ReadonlySet<number> = new Set([402, 409, 411, 412]);
/** Codes after which the server drops us (or we must drop): reconnect with backoff. */
export const RECONNECT_CODES: ReadonlySet<number> = new Set([401, 404, 406, 407, 500]);

export const INITIAL_STATE: MachineState = {
  name: 'idle',
  generation: 0,
  attempt: 0,
  floorMs: 0,
  reason: undefined,
  lastError: undefined,
};

const NO_EFFECTS: readonly Effect[] = [];

function stay(state: MachineState): Transition {
  return { state, effects: NO_EFFECTS };
}

/** States that own a socket of the current generation. */
function ownsSocket(name: ConnectionState): boolean {
  return (
    name === 'connecting' || name === 'authenticating' || name === 'subscribing' || name === 'live'
  );
}

function describeCode(code: number, message: string): string {
  return `${message} (${code})`;
}

/** Leave the current socket and wait before the next attempt. */
function toBackoff(
  state: MachineState,
  error: ConnectionError,
  options: { terminate: boolean; closeCode?: number; floorMs?: number },
): Transition {
  const attempt = state.attempt + 1;
  const floorMs = options.floorMs ?? 0;
  return {
    state: {
      ...state,
      name: 'backoff',
      attempt,
      floorMs,
      reason: error.message,
      lastError: error,
    },
    effects: [
      {
        type: 'close-socket',
        generation: state.generation,
        terminate: options.terminate,
        code: options.closeCode ?? 4000,
        reason: error.message,
      },
      { type: 'schedule-reconnect', generation: state.generation, attempt, floorMs },
    ],
  };
}

function toFailed(state: MachineState, error: ConnectionError): Transition {
  return {
    state: { ...state, name: 'failed', reason: error.message, lastError: error, floorMs: 0 },
    effects: [
      {
        type: 'close-socket',
        generation: state.generation,
        terminate: false,
        code: 1000,
        reason: error.message,
      },
      { type: 'cancel-reconnect' },
    ],
  };
}

/** The floor after one more "too many connections" refusal (406, or HTTP 429): doubling, capped. */
function nextFloor(state: MachineState): number {
  return Math.min(
    CONNECTION_LIMIT_FLOOR_CAP_MS,
    state.floorMs > 0 ? state.floorMs * 2 : CONNECTION_LIMIT_FLOOR_MS,
  );
}

function onServerError(state: MachineState, code: number, message: string): Transition {
  const error: ConnectionError = { code, message: describeCode(code, message) };
  if (FATAL_CODES.has(code)) return toFailed(state, error);
  if (code === 406) {
    // Another session holds the account's one connection. Retrying fast only extends the
    // refusal, so every 406 in a row raises a floor under the jittered delay.
    return toBackoff(state, error, {
      terminate: false,
      closeCode: 1000,
      floorMs: nextFloor(state),
    });
  }
  if (RECONNECT_CODES.has(code)) {
    // 401 "not authenticated" can only be our own ordering bug; a fresh session is the safe fix.
    return toBackoff(state, error, { terminate: false, closeCode: 1000 });
  }
  // 400, 403, 405, 410, 413 and unknown codes do not end the session: the client logs them and
  // the subscription manager reconciles 405 / 410 / 413.
  return stay(state);
}

/**
 * The transition function. Total over every (state, event) pair: an event that means nothing in a
 * state leaves the state as it is, with no effects.
 */
export function transition(
  state: MachineState,
  event: MachineEvent,
  options: MachineOptions,
): Transition {
  switch (event.type) {
    case 'connect': {
      if (state.name === 'idle' || state.name === 'stopped' || state.name === 'failed') {
        const generation = state.generation + 1;
        // A user's connect after `failed` is a fresh start: the old attempt count and floor go.
        return {
          state: {
            ...state,
            name: 'connecting',
            generation,
            attempt: 0,
            floorMs: 0,
            reason: undefined,
          },
          effects: [{ type: 'open-socket', generation }],
        };
      }
      return stay(state); // already connecting, connected or waiting to retry: idempotent
    }

    case 'disconnect': {
      if (state.name === 'idle' || state.name === 'stopped' || state.name === 'failed')
        return stay(state);
      const reason = event.reason ?? 'disconnected by the user';
      const effects: Effect[] = [{ type: 'cancel-reconnect' }];
      if (ownsSocket(state.name)) {
        effects.unshift({
          type: 'close-socket',
          generation: state.generation,
          terminate: false,
          code: 1000,
          reason,
        });
      }
      return { state: { ...state, name: 'stopped', attempt: 0, floorMs: 0, reason }, effects };
    }

    case 'backoff-elapsed': {
      if (state.name !== 'backoff' || event.generation !== state.generation) return stay(state);
      const generation = state.generation + 1;
      return {
        state: {
          ...state,
          name: 'connecting',
          generation,
          reason: `reconnecting (attempt ${state.attempt + 1})`,
        },
        effects: [{ type: 'open-socket', generation }],
      };
    }

    case 'socket-open': {
      if (state.name !== 'connecting' || event.generation !== state.generation) return stay(state);
      return {
        state: { ...state, name: 'authenticating', reason: undefined },
        effects: NO_EFFECTS,
      };
    }

    case 'server-connected': {
      if (state.name !== 'authenticating' || event.generation !== state.generation)
        return stay(state);
      if (options.authMode === 'headers') return stay(state); // the server authenticates from the handshake
      return { state, effects: [{ type: 'send-auth', generation: state.generation }] };
    }

    case 'authenticated': {
      if (state.name !== 'authenticating' || event.generation !== state.generation)
        return stay(state);
      return {
        state: { ...state, name: 'subscribing' },
        effects: [{ type: 'start-subscribing', generation: state.generation }],
      };
    }

    case 'subscribed': {
      if (state.name !== 'subscribing' || event.generation !== state.generation) return stay(state);
      // Only a complete auth + subscribe proves the link works: now, and not on TCP open, the
      // backoff counter and the 406 floor reset.
      return {
        state: {
          ...state,
          name: 'live',
          attempt: 0,
          floorMs: 0,
          reason: undefined,
          lastError: undefined,
        },
        effects: NO_EFFECTS,
      };
    }

    case 'server-error': {
      if (!ownsSocket(state.name) || event.generation !== state.generation) return stay(state);
      return onServerError(state, event.code, event.message);
    }

    case 'handshake-rejected': {
      if (state.name !== 'connecting' || event.generation !== state.generation) return stay(state);
      const error: ConnectionError = {
        code: event.status,
        message: `handshake refused with HTTP ${event.status}`,
      };
      // 401 / 403 at the handshake are bad credentials (header auth): retrying cannot help.
      // 404 means a wrong URL or feed path: also a configuration error.
      if (event.status === 401 || event.status === 403 || event.status === 404)
        return toFailed(state, error);
      if (event.status === 429)
        return toBackoff(state, error, { terminate: true, floorMs: nextFloor(state) });
      return toBackoff(state, error, { terminate: true });
    }

    case 'socket-closed': {
      if (!ownsSocket(state.name) || event.generation !== state.generation) return stay(state);
      const why = event.reason ? `: ${event.reason}` : '';
      return toBackoff(
        state,
        { code: event.code, message: `connection closed (${event.code})${why}` },
        { terminate: true },
      );
    }

    case 'pong-timeout': {
      if (!ownsSocket(state.name) || event.generation !== state.generation) return stay(state);
      return toBackoff(
        state,
        { message: 'no pong from the server: link presumed dead' },
        { terminate: true },
      );
    }

    case 'step-timeout': {
      if (!ownsSocket(state.name) || event.generation !== state.generation) return stay(state);
      return toBackoff(state, { message: `timed out while ${event.step}` }, { terminate: true });
    }

    case 'stale': {
      if (state.name !== 'live' || event.generation !== state.generation) return stay(state);
      const seconds = Math.round(event.silentMs / 1000);
      return toBackoff(
        state,
        { message: `no data for ${seconds} s: forcing a reconnect` },
        { terminate: true },
      );
    }

    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
