import { describe, expect, it } from 'vitest';
import {
  CONNECTION_LIMIT_FLOOR_CAP_MS,
  CONNECTION_LIMIT_FLOOR_MS,
  INITIAL_STATE,
  transition,
  type MachineEvent,
  type MachineOptions,
  type MachineState,
} from '../../../electron/stream/machine.ts';
import { CONNECTION_STATES, type ConnectionState } from '../../../electron/stream/states.ts';

const opts: MachineOptions = { authMode: 'message' };

function run(state: MachineState, ...events: MachineEvent[]): ReturnType<typeof transition> {
  let result = { state, effects: [] as ReturnType<typeof transition>['effects'] };
  for (const event of events) result = transition(result.state, event, opts);
  return result;
}

function at(name: ConnectionState, extra: Partial<MachineState> = {}): MachineState {
  return { ...INITIAL_STATE, name, generation: 3, ...extra };
}

/** Walks a fresh machine to `live` on generation 1. */
function live(): MachineState {
  return run(
    INITIAL_STATE,
    { type: 'connect' },
    { type: 'socket-open', generation: 1 },
    { type: 'server-connected', generation: 1 },
    { type: 'authenticated', generation: 1 },
    { type: 'subscribed', generation: 1 },
  ).state;
}

describe('connect', () => {
  it.each(['idle', 'stopped', 'failed'] as const)(
    'from %s opens a socket of a new generation',
    (name) => {
      const { state, effects } = transition(
        at(name, { attempt: 4, floorMs: 10_000 }),
        { type: 'connect' },
        opts,
      );
      expect(state.name).toBe('connecting');
      expect(state.generation).toBe(4);
      expect(state.attempt).toBe(0);
      expect(state.floorMs).toBe(0);
      expect(effects).toEqual([{ type: 'open-socket', generation: 4 }]);
    },
  );

  it.each(['connecting', 'authenticating', 'subscribing', 'live', 'backoff'] as const)(
    'in %s is a no-op (idempotent)',
    (name) => {
      const before = at(name);
      const { state, effects } = transition(before, { type: 'connect' }, opts);
      expect(state).toBe(before);
      expect(effects).toEqual([]);
    },
  );
});

describe('disconnect', () => {
  it.each(['connecting', 'authenticating', 'subscribing', 'live'] as const)(
    'in %s closes the socket and cancels any retry',
    (name) => {
      const { state, effects } = transition(at(name), { type: 'disconnect' }, opts);
      expect(state.name).toBe('stopped');
      expect(effects).toEqual([
        {
          type: 'close-socket',
          generation: 3,
          terminate: false,
          code: 1000,
          reason: 'disconnected by the user',
        },
        { type: 'cancel-reconnect' },
      ]);
    },
  );

  it('in backoff cancels the pending reconnect and opens nothing', () => {
    const { state, effects } = transition(
      at('backoff', { attempt: 2 }),
      { type: 'disconnect', reason: 'bye' },
      opts,
    );
    expect(state).toMatchObject({ name: 'stopped', reason: 'bye', attempt: 0 });
    expect(effects).toEqual([{ type: 'cancel-reconnect' }]);
    // the timer that was about to fire is now stale
    const late = transition(state, { type: 'backoff-elapsed', generation: 3 }, opts);
    expect(late.state.name).toBe('stopped');
    expect(late.effects).toEqual([]);
  });

  it.each(['idle', 'stopped', 'failed'] as const)('in %s is a no-op', (name) => {
    const before = at(name);
    expect(transition(before, { type: 'disconnect' }, opts)).toEqual({
      state: before,
      effects: [],
    });
  });
});

describe('the happy path', () => {
  it('goes connecting -> authenticating -> subscribing -> live, sending auth after "connected"', () => {
    let r = transition(INITIAL_STATE, { type: 'connect' }, opts);
    expect(r.state.name).toBe('connecting');
    r = transition(r.state, { type: 'socket-open', generation: 1 }, opts);
    expect(r.state.name).toBe('authenticating');
    expect(r.effects).toEqual([]);
    r = transition(r.state, { type: 'server-connected', generation: 1 }, opts);
    expect(r.effects).toEqual([{ type: 'send-auth', generation: 1 }]);
    r = transition(r.state, { type: 'authenticated', generation: 1 }, opts);
    expect(r.state.name).toBe('subscribing');
    expect(r.effects).toEqual([{ type: 'start-subscribing', generation: 1 }]);
    r = transition(r.state, { type: 'subscribed', generation: 1 }, opts);
    expect(r.state.name).toBe('live');
  });

  it('with header auth sends no auth message', () => {
    const s = run(INITIAL_STATE, { type: 'connect' }, { type: 'socket-open', generation: 1 }).state;
    expect(
      transition(s, { type: 'server-connected', generation: 1 }, { authMode: 'headers' }).effects,
    ).toEqual([]);
  });

  it('resets the attempt counter and floor only after a complete auth + subscribe', () => {
    const s = at('backoff', { attempt: 5, floorMs: 20_000, generation: 7 });
    let r = transition(s, { type: 'backoff-elapsed', generation: 7 }, opts);
    expect(r.state).toMatchObject({ name: 'connecting', generation: 8, attempt: 5 });
    r = transition(r.state, { type: 'socket-open', generation: 8 }, opts);
    expect(r.state.attempt).toBe(5); // TCP open proves nothing
    r = transition(r.state, { type: 'authenticated', generation: 8 }, opts);
    expect(r.state.attempt).toBe(5);
    r = transition(r.state, { type: 'subscribed', generation: 8 }, opts);
    expect(r.state).toMatchObject({ name: 'live', attempt: 0, floorMs: 0, lastError: undefined });
  });
});

describe('losing the connection', () => {
  it.each(['connecting', 'authenticating', 'subscribing', 'live'] as const)(
    'a close in %s backs off with attempt + 1',
    (name) => {
      const { state, effects } = transition(
        at(name, { attempt: 1 }),
        { type: 'socket-closed', generation: 3, code: 1006, reason: '' },
        opts,
      );
      expect(state).toMatchObject({ name: 'backoff', attempt: 2, lastError: { code: 1006 } });
      expect(effects).toEqual([
        expect.objectContaining({ type: 'close-socket', generation: 3, terminate: true }),
        { type: 'schedule-reconnect', generation: 3, attempt: 2, floorMs: 0 },
      ]);
    },
  );

  it('the backoff timer opens a socket of the next generation', () => {
    const r = transition(
      at('backoff', { attempt: 2 }),
      { type: 'backoff-elapsed', generation: 3 },
      opts,
    );
    expect(r.state).toMatchObject({ name: 'connecting', generation: 4 });
    expect(r.effects).toEqual([{ type: 'open-socket', generation: 4 }]);
  });

  it.each([
    [{ type: 'pong-timeout', generation: 1 }, 'no pong'],
    [
      { type: 'step-timeout', generation: 1, step: 'authenticating' },
      'timed out while authenticating',
    ],
    [{ type: 'stale', generation: 1, silentMs: 31_000 }, 'no data for 31 s'],
  ] as const)('%o terminates and backs off', (event, reason) => {
    const { state, effects } = transition(live(), event, opts);
    expect(state.name).toBe('backoff');
    expect(state.reason).toContain(reason);
    expect(effects[0]).toMatchObject({ type: 'close-socket', generation: 1, terminate: true });
  });

  it('stale is only acted on while live', () => {
    const s = at('subscribing');
    expect(transition(s, { type: 'stale', generation: 3, silentMs: 1 }, opts).state).toBe(s);
  });
});

describe('server errors', () => {
  it.each([402, 409, 411, 412])('%i is fatal: failed, no retry', (code) => {
    const { state, effects } = transition(
      at('authenticating'),
      { type: 'server-error', generation: 3, code, message: 'nope' },
      opts,
    );
    expect(state).toMatchObject({ name: 'failed', lastError: { code } });
    expect(effects.map((e) => e.type)).toEqual(['close-socket', 'cancel-reconnect']);
  });

  it.each([401, 404, 407, 500])('%i reconnects with backoff', (code) => {
    const { state, effects } = transition(
      at('live'),
      { type: 'server-error', generation: 3, code, message: 'x' },
      opts,
    );
    expect(state.name).toBe('backoff');
    expect(effects.map((e) => e.type)).toEqual(['close-socket', 'schedule-reconnect']);
  });

  it.each([400, 403, 405, 410, 413, 499])('%i keeps the session', (code) => {
    const before = at('live');
    expect(
      transition(before, { type: 'server-error', generation: 3, code, message: 'x' }, opts).state,
    ).toBe(before);
  });

  it('406 sets a floor of several seconds that doubles and is capped', () => {
    let s: MachineState = at('authenticating');
    const floors: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = transition(
        s,
        { type: 'server-error', generation: s.generation, code: 406, message: 'limit' },
        opts,
      );
      const schedule = r.effects.find((e) => e.type === 'schedule-reconnect');
      floors.push(schedule && 'floorMs' in schedule ? schedule.floorMs : -1);
      // next attempt
      const next = transition(
        r.state,
        { type: 'backoff-elapsed', generation: r.state.generation },
        opts,
      ).state;
      s = transition(next, { type: 'socket-open', generation: next.generation }, opts).state;
    }
    expect(floors[0]).toBe(CONNECTION_LIMIT_FLOOR_MS);
    expect(floors.slice(0, 4)).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect(floors.at(-1)).toBe(CONNECTION_LIMIT_FLOOR_CAP_MS);
  });
});

describe('handshake refusals', () => {
  it.each([401, 403, 404])('HTTP %i fails for good', (status) => {
    const { state } = transition(
      at('connecting'),
      { type: 'handshake-rejected', generation: 3, status },
      opts,
    );
    expect(state).toMatchObject({ name: 'failed', lastError: { code: status } });
  });

  it('HTTP 429 backs off with a floor; 502 without', () => {
    const a = transition(
      at('connecting'),
      { type: 'handshake-rejected', generation: 3, status: 429 },
      opts,
    );
    expect(a.state).toMatchObject({ name: 'backoff', floorMs: CONNECTION_LIMIT_FLOOR_MS });
    const b = transition(
      at('connecting'),
      { type: 'handshake-rejected', generation: 3, status: 502 },
      opts,
    );
    expect(b.state).toMatchObject({ name: 'backoff', floorMs: 0 });
  });
});

describe('superseded sockets and stray events', () => {
  const socketEvents = (generation: number): MachineEvent[] => [
    { type: 'socket-open', generation },
    { type: 'server-connected', generation },
    { type: 'authenticated', generation },
    { type: 'subscribed', generation },
    { type: 'socket-closed', generation, code: 1006, reason: '' },
    { type: 'server-error', generation, code: 402, message: 'auth failed' },
    { type: 'handshake-rejected', generation, status: 401 },
    { type: 'pong-timeout', generation },
    { type: 'step-timeout', generation, step: 'x' },
    { type: 'stale', generation, silentMs: 1 },
    { type: 'backoff-elapsed', generation },
  ];

  it.each(CONNECTION_STATES)('in %s, every event of an older generation is ignored', (name) => {
    const before = at(name);
    for (const event of socketEvents(2)) {
      const r = transition(before, event, opts);
      expect(r.state).toBe(before);
      expect(r.effects).toEqual([]);
    }
  });

  it.each(['idle', 'stopped', 'failed'] as const)(
    'in %s, even current-generation socket events change nothing',
    (name) => {
      const before = at(name);
      for (const event of socketEvents(3)) {
        expect(transition(before, event, opts).state).toBe(before);
      }
    },
  );

  it('a close from the previous socket after a reconnect does not knock down the new one', () => {
    const afterDrop = transition(
      live(),
      { type: 'socket-closed', generation: 1, code: 1006, reason: '' },
      opts,
    ).state;
    const reconnecting = transition(
      afterDrop,
      { type: 'backoff-elapsed', generation: 1 },
      opts,
    ).state;
    expect(reconnecting.generation).toBe(2);
    const late = transition(
      reconnecting,
      { type: 'socket-closed', generation: 1, code: 1006, reason: '' },
      opts,
    );
    expect(late.state).toBe(reconnecting);
  });

  it('every (state, event) pair yields a known state and never more than one open-socket', () => {
    const events: MachineEvent[] = [
      { type: 'connect' },
      { type: 'disconnect' },
      ...socketEvents(3),
      ...socketEvents(4),
    ];
    for (const name of CONNECTION_STATES) {
      for (const event of events) {
        const r = transition(at(name), event, opts);
        expect(CONNECTION_STATES).toContain(r.state.name);
        expect(r.effects.filter((e) => e.type === 'open-socket').length).toBeLessThanOrEqual(1);
      }
    }
  });
});
