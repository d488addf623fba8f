/**
 * The relay part of Diagnostics: a Relay source is named with its address and key status (no
 * invented per-client counters), the relay this app serves lists its clients and is read again
 * while it listens, and nothing shows when neither is in use.
 */
import { act, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { RelayServerView, RelayView, Settings } from '../../shared/api.ts';
import { DEFAULT_SETTINGS, ok } from '../../shared/api.ts';
import { RelayDiagnostics } from '../../renderer/panels/diagnostics-relay.tsx';
import { useMonitor } from '../../renderer/store.ts';
import { FakeApi, T0, snapshot } from './fake-api.ts';

const OFF: RelayServerView = {
  enabled: false,
  port: 0,
  state: 'off',
  url: undefined,
  streamUrl: undefined,
  feed: undefined,
  hasKey: false,
  error: undefined,
  upstreamPairs: 0,
  clients: [],
  counters: { accepted: 0, rejected: 0, authFailed: 0, messagesOut: 0, restRequests: 0 },
};

function view(server: RelayServerView = OFF, stored = true): RelayView {
  return {
    keys: {
      stored,
      storage: stored ? 'encrypted' : 'none',
      backend: 'gnome_libsecret',
      secure: true,
      detail: 'x',
    },
    server,
  };
}

const CLIENT = {
  id: 1,
  codec: 'msgpack' as const,
  authenticated: true,
  pairs: 3,
  messages: 1200,
  bytes: 40_960,
  bufferedAmount: 0,
  lagging: false,
  conflated: 0,
  dropped: 0,
  connectedAt: T0,
};

async function mount(settings: Settings, status: () => RelayView): Promise<FakeApi> {
  const api = new FakeApi(snapshot({ settings })).handle('relay:status', () => ok(status()));
  useMonitor.getState().attach(api, { afterPaint: () => new Promise(() => {}) });
  render(<RelayDiagnostics />);
  await act(async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  });
  return api;
}

describe('RelayDiagnostics', () => {
  it('shows nothing for the simulator with no served relay', async () => {
    await mount(DEFAULT_SETTINGS, () => view());
    expect(screen.queryByRole('heading', { name: 'Relay' })).toBeNull();
  });

  it('names a Relay source and its key status, without client counters', async () => {
    await mount(
      {
        ...DEFAULT_SETTINGS,
        source: { kind: 'relay', url: 'ws://10.0.0.5:8765', feed: 'sip', codec: 'json' },
      },
      () => view(OFF, true),
    );
    const section = (await screen.findByRole('heading', { name: 'Relay' })).closest(
      'section',
    ) as HTMLElement;
    expect(within(section).getByText('ws://10.0.0.5:8765')).toBeTruthy();
    expect(section.textContent).toContain('(sip feed, json). Relay key stored: yes.');
    expect(section.textContent).toContain('not visible to a client');
    expect(within(section).queryByRole('table')).toBeNull();
  });

  it('lists the served relay clients and reads them again while it listens', async () => {
    let server: RelayServerView = {
      ...OFF,
      enabled: true,
      state: 'listening',
      url: 'ws://127.0.0.1:45000',
      streamUrl: 'ws://127.0.0.1:45000/v2/iex',
      feed: 'iex',
      hasKey: true,
      upstreamPairs: 3,
      clients: [CLIENT],
      counters: { accepted: 2, rejected: 0, authFailed: 1, messagesOut: 1200, restRequests: 4 },
    };
    const api = await mount(DEFAULT_SETTINGS, () => view(server));
    const table = await screen.findByRole('table', { name: 'Relay clients' });
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(2);
    expect(rows[1]?.textContent).toContain('msgpack');
    expect(rows[1]?.textContent).toContain('40 KiB');
    expect(screen.getByText('ws://127.0.0.1:45000/v2/iex')).toBeTruthy();
    expect(screen.getByText(/bad keys 1/)).toBeTruthy();

    // A second client arrives; the panel learns it from its next read.
    server = { ...server, clients: [CLIENT, { ...CLIENT, id: 2, codec: 'json', pairs: 1 }] };
    const before = api.callsOf('relay:status').length;
    await screen.findByText(/2 clients/, {}, { timeout: 4000 });
    expect(api.callsOf('relay:status').length).toBeGreaterThan(before);
    expect(within(screen.getByRole('table')).getAllByRole('row')).toHaveLength(3);

    // Stopped (an event): the section goes.
    act(() => api.emit('relay:update', view(OFF)));
    expect(screen.queryByRole('heading', { name: 'Relay' })).toBeNull();
  });
});
