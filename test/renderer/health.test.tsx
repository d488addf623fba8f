/**
 * The connection health panel against store state: what it says in each state, the backoff
 * countdown under a fake clock, uptime that ticks between metrics events, and the buttons' calls
 * and disabled rules.
 */
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SETTINGS } from '../../shared/api.ts';
import { CONNECTION_STATES, type ConnectionState } from '../../shared/connection.ts';
import {
  HealthPanel,
  canConnect,
  canDisconnect,
  codecLabel,
  sessionUptime,
  sourceLabel,
  withoutCode,
} from '../../renderer/panels/health.tsx';
import { useMonitor } from '../../renderer/store.ts';
import { FakeApi, T0, connectionView, metricsView } from './fake-api.ts';

afterEach(() => {
  vi.useRealTimers();
});

function panel(): HTMLElement {
  return screen.getByRole('region', { name: 'Connection health' });
}

/** The value cell next to a label in the panel's description list. */
function valueOf(label: string): HTMLElement {
  const term = within(panel()).getByText(label, { selector: 'dt' });
  const value = term.nextElementSibling;
  if (!(value instanceof HTMLElement)) throw new Error(`no value for ${label}`);
  return value;
}

function button(name: 'Connect' | 'Disconnect'): HTMLButtonElement {
  const el = within(panel()).getByRole('button', { name });
  if (!(el instanceof HTMLButtonElement)) throw new Error('not a button');
  return el;
}

describe('HealthPanel', () => {
  it('says it is waiting while the app has not answered yet, with no buttons', () => {
    render(<HealthPanel />);
    expect(within(panel()).getByText('Waiting for the app…')).toBeTruthy();
    expect(within(panel()).queryByRole('button')).toBeNull();
  });

  it('shows a live session: state, since, source, codec, server, no error, health', () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0 + 5000);
    useMonitor.setState({
      connection: connectionView({ state: 'live', previous: 'subscribing', since: T0 }),
      metrics: metricsView({ at: T0 + 5000, connects: 3, reconnects: 2, reconnectsLast10m: 1 }),
      health: { status: 'healthy', reasons: [] },
      settings: DEFAULT_SETTINGS,
    });
    render(<HealthPanel />);

    const state = within(valueOf('State')).getByText('live');
    expect(state.className).toContain('health-state-live');
    expect(valueOf('State').textContent).toContain('(5.0 s ago)');
    expect(valueOf('Previous').textContent).toBe('subscribing');
    expect(within(panel()).queryByText('Reason', { selector: 'dt' })).toBeNull();
    expect(valueOf('Source').textContent).toBe('Built-in simulator');
    expect(valueOf('Codec').textContent).toBe('MessagePack');
    const url = within(valueOf('Server')).getByText('ws://127.0.0.1:40000/v2/iex');
    expect(url.getAttribute('title')).toBe('ws://127.0.0.1:40000/v2/iex');
    expect(valueOf('Last error').textContent).toBe('none');
    expect(valueOf('Next attempt').textContent).toBe('—');
    expect(within(panel()).queryByRole('timer')).toBeNull();
    expect(valueOf('Connects').textContent).toBe('3');
    expect(valueOf('Reconnects').textContent).toBe('2 (1 in the last 10 min)');
    expect(within(valueOf('Health')).getByText('healthy').className).toContain(
      'health-status-healthy',
    );
    expect(within(panel()).queryByRole('list', { name: 'Health reasons' })).toBeNull();
    expect(valueOf('Health').textContent).not.toContain('stale');
  });

  it('shows the last error with its meaning, the reason, and a down verdict with its reasons', () => {
    useMonitor.setState({
      connection: connectionView({
        state: 'failed',
        previous: 'authenticating',
        reason: 'authentication refused',
        attempt: 4,
        lastError: { code: 402, message: 'auth failed', meaning: 'The key or secret is wrong.' },
        stale: true,
      }),
      metrics: metricsView({ uptime: { sessionMs: null, metricsMs: 0, processMs: 0 } }),
      health: { status: 'down', reasons: ['Not connected.', 'Last error: 402 auth failed.'] },
    });
    render(<HealthPanel />);

    expect(within(valueOf('State')).getByText('failed').className).toContain('health-state-failed');
    expect(valueOf('Reason').textContent).toBe('authentication refused');
    expect(valueOf('Attempt').textContent).toBe('4');
    const error = valueOf('Last error');
    expect(within(error).getByText('402')).toBeTruthy();
    expect(error.textContent).toContain('auth failed');
    expect(within(error).getByText('The key or secret is wrong.')).toBeTruthy();
    expect(valueOf('Session uptime').textContent).toBe('not live');
    expect(within(valueOf('Health')).getByText('down').className).toContain('health-status-down');
    const reasons = within(panel()).getByRole('list', { name: 'Health reasons' });
    expect(
      within(reasons)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual(['Not connected.', 'Last error: 402 auth failed.']);
    expect(valueOf('Health').textContent).toContain('stale data');
  });

  it('an error without a code or meaning still reads', () => {
    useMonitor.setState({
      connection: connectionView({
        state: 'backoff',
        lastError: { code: undefined, message: 'socket closed', meaning: undefined },
      }),
    });
    render(<HealthPanel />);
    expect(valueOf('Last error').textContent).toBe('socket closed');
  });

  it('counts down to the next attempt in backoff, and says "now" once it is due', () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    useMonitor.setState({
      connection: connectionView({
        state: 'backoff',
        previous: 'live',
        since: T0,
        attempt: 2,
        retryAt: T0 + 3000,
      }),
    });
    render(<HealthPanel />);

    const timer = within(panel()).getByRole('timer', { name: 'Next attempt in' });
    expect(timer.textContent).toBe('3.0 s');
    act(() => {
      vi.advanceTimersByTime(1000);
    });
    expect(timer.textContent).toBe('2.0 s');
    act(() => {
      vi.advanceTimersByTime(1450);
    });
    expect(timer.textContent).toBe('0.6 s');
    act(() => {
      vi.advanceTimersByTime(600);
    });
    expect(timer.textContent).toBe('now');
    expect(valueOf('Attempt').textContent).toBe('2');
  });

  it('drops the countdown and its fast timer when backoff ends', () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    useMonitor.setState({ connection: connectionView({ state: 'backoff', retryAt: T0 + 5000 }) });
    render(<HealthPanel />);
    expect(within(panel()).getByRole('timer')).toBeTruthy();
    // The panel's one-second clock and the countdown's tenth-of-a-second clock.
    expect(vi.getTimerCount()).toBe(2);

    act(() => useMonitor.setState({ connection: connectionView({ state: 'connecting' }) }));
    expect(within(panel()).queryByRole('timer')).toBeNull();
    expect(valueOf('Next attempt').textContent).toBe('—');
    expect(vi.getTimerCount()).toBe(1);
  });

  it('ticks the session uptime between metrics events', () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0 + 5000);
    useMonitor.setState({
      connection: connectionView({ state: 'live' }),
      metrics: metricsView({ at: T0, uptime: { sessionMs: 60_000, metricsMs: 0, processMs: 0 } }),
    });
    render(<HealthPanel />);
    expect(valueOf('Session uptime').textContent).toBe('1m 05s');
    act(() => {
      vi.advanceTimersByTime(2000);
    });
    expect(valueOf('Session uptime').textContent).toBe('1m 07s');
  });

  it('names an Alpaca source with its feed and codec, and a pending change from settings', () => {
    useMonitor.setState({
      connection: connectionView({
        source: { kind: 'alpaca', feed: 'sip', codec: 'json' },
        url: 'wss://stream.data.alpaca.markets/v2/sip',
      }),
      settings: { ...DEFAULT_SETTINGS, source: { kind: 'alpaca', feed: 'iex', codec: 'json' } },
    });
    render(<HealthPanel />);
    expect(valueOf('Source').textContent).toBe(
      'Alpaca, SIP feed (settings: Alpaca, IEX feed, JSON; applies on the next connect)',
    );
    expect(valueOf('Codec').textContent).toBe('JSON');
  });

  it('keeps the last error readable after the connection recovers, with its code once', () => {
    const api = new FakeApi();
    useMonitor.getState().attach(api, { afterPaint: () => new Promise<void>(() => undefined) });
    const error = {
      code: 406,
      message: 'connection limit exceeded (406)',
      meaning: 'Another session holds this account’s connection; retrying slowly.',
    };
    act(() => api.emit('connection:state', connectionView({ state: 'backoff', lastError: error })));
    render(<HealthPanel />);
    expect(valueOf('Last error').textContent).toMatch(/^406connection limit exceeded/);
    expect(valueOf('Last error').textContent).not.toMatch(/\(406\)/);
    act(() =>
      api.emit('connection:state', connectionView({ state: 'live', lastError: undefined })),
    );
    expect(valueOf('Last error').textContent).toMatch(/connection limit exceeded/);
    expect(valueOf('Last error').textContent).toMatch(/cleared/);
  });

  it('withoutCode drops the code wherever the message names it', () => {
    expect(withoutCode('connection limit exceeded (406)', 406)).toBe('connection limit exceeded');
    expect(withoutCode('connection closed (1006): getaddrinfo ENOTFOUND x', 1006)).toBe(
      'connection closed: getaddrinfo ENOTFOUND x',
    );
    expect(withoutCode('auth failed', 402)).toBe('auth failed');
    expect(withoutCode('socket error (1006)', undefined)).toBe('socket error (1006)');
  });

  it('Connect and Disconnect call the app', async () => {
    const api = new FakeApi();
    useMonitor.setState({ api, connection: connectionView({ state: 'stopped' }) });
    render(<HealthPanel />);

    expect(button('Disconnect').disabled).toBe(true);
    fireEvent.click(button('Connect'));
    await act(async () => {});
    expect(api.callsOf('connection:connect')).toEqual([{}]);

    act(() => useMonitor.setState({ connection: connectionView({ state: 'live' }) }));
    expect(button('Connect').disabled).toBe(true);
    fireEvent.click(button('Disconnect'));
    await act(async () => {});
    expect(api.callsOf('connection:disconnect')).toEqual([{}]);
    expect(api.callsOf('connection:connect')).toHaveLength(1);
  });

  it('enables each button only where it has something to do', () => {
    const expected: Record<ConnectionState, { connect: boolean; disconnect: boolean }> = {
      idle: { connect: true, disconnect: false },
      connecting: { connect: false, disconnect: true },
      authenticating: { connect: false, disconnect: true },
      subscribing: { connect: false, disconnect: true },
      live: { connect: false, disconnect: true },
      backoff: { connect: false, disconnect: true },
      stopped: { connect: true, disconnect: false },
      failed: { connect: true, disconnect: true },
    };
    for (const state of CONNECTION_STATES) {
      expect({ state, connect: canConnect(state), disconnect: canDisconnect(state) }).toEqual({
        state,
        ...expected[state],
      });
    }
    render(<HealthPanel />);
    for (const state of CONNECTION_STATES) {
      act(() => useMonitor.setState({ connection: connectionView({ state }) }));
      expect({ state, connect: !button('Connect').disabled }).toEqual({
        state,
        connect: expected[state].connect,
      });
      expect({ state, disconnect: !button('Disconnect').disabled }).toEqual({
        state,
        disconnect: expected[state].disconnect,
      });
    }
  });
});

describe('health helpers', () => {
  it('labels sources and codecs', () => {
    expect(sourceLabel({ kind: 'simulator', codec: 'json' })).toBe('Built-in simulator');
    expect(sourceLabel({ kind: 'alpaca', feed: 'delayed_sip', codec: 'msgpack' })).toBe(
      'Alpaca, delayed SIP feed',
    );
    expect(sourceLabel({ kind: 'alpaca', feed: 'crypto', codec: 'json' })).toBe(
      'Alpaca, crypto feed',
    );
    // The connection view names the relay, not Alpaca.
    expect(
      sourceLabel({ kind: 'relay', url: 'ws://127.0.0.1:8765', feed: 'sip', codec: 'json' }),
    ).toBe('Relay ws://127.0.0.1:8765, SIP feed');
    expect(codecLabel('msgpack')).toBe('MessagePack');
    expect(codecLabel('json')).toBe('JSON');
  });

  it('extrapolates the uptime only while live, and never backwards', () => {
    const m = metricsView({ at: T0, uptime: { sessionMs: 1000, metricsMs: 0, processMs: 0 } });
    expect(sessionUptime(m, true, T0 + 500)).toBe(1500);
    expect(sessionUptime(m, false, T0 + 500)).toBe(1000);
    expect(sessionUptime(m, true, T0 - 500)).toBe(1000);
    expect(sessionUptime(undefined, true, T0)).toBeNull();
    const notLive = metricsView({ uptime: { sessionMs: null, metricsMs: 0, processMs: 0 } });
    expect(sessionUptime(notLive, true, T0)).toBeNull();
  });
});
