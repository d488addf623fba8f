/**
 * The settings panel: the source select maps to the right Source object, keys are write-only
 * (cleared after save whatever the answer, never in the DOM), and theme, startup and the insecure
 * storage consent go through settings:update.
 */
import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type {
  CredentialStatus,
  RelayServerView,
  RelayView,
  Settings,
  UpdateStatus,
} from '../../shared/api.ts';
import { DEFAULT_SETTINGS, fail, ok } from '../../shared/api.ts';
import {
  SettingsPanel,
  lastCheckText,
  sourceChoice,
  sourceOf,
} from '../../renderer/panels/settings.tsx';
import { useMonitor } from '../../renderer/store.ts';
import { FakeApi, snapshot } from './fake-api.ts';

const NO_KEYS: CredentialStatus = {
  stored: false,
  storage: 'none',
  backend: 'gnome_libsecret',
  secure: true,
  detail: 'No keys stored.',
};

const ENCRYPTED: CredentialStatus = {
  stored: true,
  storage: 'encrypted',
  backend: 'gnome_libsecret',
  secure: true,
  detail: 'Keys are encrypted by the system keyring.',
};

/** A FakeApi whose settings commands answer like main: the patch applied to the current settings. */
async function setup(
  settings: Settings = DEFAULT_SETTINGS,
  credentials: CredentialStatus = NO_KEYS,
): Promise<FakeApi> {
  let current = settings;
  const api = new FakeApi(snapshot({ settings, credentials }))
    .handle('source:set', ({ source }) => {
      current = { ...current, source };
      return ok(current);
    })
    .handle('settings:update', (patch) => {
      current = {
        ...current,
        ...(patch.theme !== undefined ? { theme: patch.theme } : {}),
        ...(patch.autoConnect !== undefined ? { autoConnect: patch.autoConnect } : {}),
        ...(patch.allowInsecureCredentialStorage !== undefined
          ? { allowInsecureCredentialStorage: patch.allowInsecureCredentialStorage }
          : {}),
      };
      return ok(current);
    });
  useMonitor.getState().attach(api, { afterPaint: () => new Promise(() => {}) });
  render(<SettingsPanel />);
  await screen.findByRole('heading', { name: 'Source' });
  return api;
}

describe('SettingsPanel', () => {
  it('says it is loading until settings arrive', () => {
    render(<SettingsPanel />);
    const panel = screen.getByRole('region', { name: 'Settings' });
    expect(within(panel).getByRole('status').textContent).toBe('Loading settings…');
    expect(screen.queryByLabelText('Source')).toBeNull();
  });

  it('sends source:set with the Source the selects stand for', async () => {
    const user = userEvent.setup();
    const api = await setup();
    const source = screen.getByLabelText('Source');
    expect(
      within(source)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual([
      'Built-in simulator',
      'Alpaca (iex)',
      'Alpaca (sip)',
      'Alpaca (delayed_sip)',
      'Alpaca (test)',
      'Alpaca (crypto)',
      'Relay',
    ]);
    const apply = screen.getByRole<HTMLButtonElement>('button', { name: 'Apply source' });
    // Nothing to apply while the selects show the saved source.
    expect(apply.disabled).toBe(true);
    expect(screen.queryByText(/No API keys are stored/)).toBeNull();

    await user.selectOptions(source, 'Alpaca (sip)');
    await user.selectOptions(screen.getByLabelText('Codec'), 'JSON');
    expect(screen.getByText(/No API keys are stored/)).toBeTruthy();
    await user.click(apply);
    expect(api.callsOf('source:set')).toEqual([
      { source: { kind: 'alpaca', feed: 'sip', codec: 'json' } },
    ]);
    const done = await screen.findByText('Source set: Alpaca (sip), JSON.');
    expect(done.getAttribute('role')).toBe('status');
    expect(useMonitor.getState().settings?.source).toEqual({
      kind: 'alpaca',
      feed: 'sip',
      codec: 'json',
    });
    expect(apply.disabled).toBe(true);

    await user.selectOptions(source, 'Built-in simulator');
    expect(screen.queryByText(/No API keys are stored/)).toBeNull();
    await user.click(apply);
    expect(api.callsOf('source:set')[1]).toEqual({ source: { kind: 'simulator', codec: 'json' } });
  });

  it('does not warn about keys for Alpaca when keys are stored, and shows a refusal', async () => {
    const user = userEvent.setup();
    const api = await setup(DEFAULT_SETTINGS, ENCRYPTED);
    api.handle('source:set', () => fail('storage', 'settings.json is read-only'));
    await user.selectOptions(screen.getByLabelText('Source'), 'Alpaca (iex)');
    expect(screen.queryByText(/No API keys are stored/)).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Apply source' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Change source: settings.json is read-only (storage)',
    );
  });

  it('maps every select value to a Source and back', () => {
    for (const choice of ['simulator', 'alpaca:iex', 'alpaca:delayed_sip', 'alpaca:crypto']) {
      const source = sourceOf(choice, 'msgpack');
      expect(source).toBeDefined();
      expect(sourceChoice(source!)).toBe(choice);
    }
    expect(sourceOf('alpaca:nope', 'json')).toBeUndefined();
    // A relay needs its address and feed.
    expect(sourceOf('relay', 'json')).toBeUndefined();
    const relay = sourceOf('relay', 'json', { url: 'ws://127.0.0.1:1', feed: 'sip' });
    expect(relay).toEqual({ kind: 'relay', url: 'ws://127.0.0.1:1', feed: 'sip', codec: 'json' });
    expect(sourceChoice(relay!)).toBe('relay');
  });

  it('sends the keys once, clears both inputs, and never puts the secret in the DOM', async () => {
    const user = userEvent.setup();
    const api = await setup();
    api.handle('credentials:set', () => ok(ENCRYPTED));
    const keyId = screen.getByLabelText<HTMLInputElement>('API key ID');
    const secret = screen.getByLabelText<HTMLInputElement>('API secret');
    expect(secret.type).toBe('password');
    expect(keyId.getAttribute('autocomplete')).toBe('off');
    expect(keyId.getAttribute('spellcheck')).toBe('false');

    await user.type(keyId, 'PKTESTKEY123');
    await user.type(secret, 'sEcReT-value-42');
    // Uncontrolled inputs: the typed value is not mirrored into an attribute.
    expect(document.body.innerHTML).not.toContain('sEcReT-value-42');
    await user.click(
      screen.getByRole<HTMLInputElement>('checkbox', { name: 'Keep only until the app quits' }),
    );
    await user.click(screen.getByRole('button', { name: 'Save keys' }));

    expect(api.callsOf('credentials:set')).toEqual([
      { keyId: 'PKTESTKEY123', secret: 'sEcReT-value-42', memoryOnly: true },
    ]);
    expect(keyId.value).toBe('');
    expect(secret.value).toBe('');
    expect(await screen.findByText('Keys saved.')).toBeTruthy();
    expect(
      screen.getByText(
        /^Keys stored: yes · storage: encrypted · backend: gnome_libsecret · secure$/,
      ),
    ).toBeTruthy();
    expect(document.body.innerHTML).not.toContain('sEcReT-value-42');
    expect(document.body.innerHTML).not.toContain('PKTESTKEY123');
  });

  it('clears the inputs when saving fails too, and leaves out memoryOnly unless asked', async () => {
    const user = userEvent.setup();
    const api = await setup();
    api.handle('credentials:set', () => fail('storage', 'keyring locked'));
    const keyId = screen.getByLabelText<HTMLInputElement>('API key ID');
    const secret = screen.getByLabelText<HTMLInputElement>('API secret');
    await user.type(keyId, 'PKOTHER');
    await user.type(secret, 'another-secret{Enter}');
    expect(api.callsOf('credentials:set')).toEqual([
      { keyId: 'PKOTHER', secret: 'another-secret' },
    ]);
    expect(keyId.value).toBe('');
    expect(secret.value).toBe('');
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Save keys: keyring locked (storage)',
    );
    expect(document.body.innerHTML).not.toContain('another-secret');
  });

  it('asks for both keys before sending anything', async () => {
    const user = userEvent.setup();
    const api = await setup();
    await user.type(screen.getByLabelText('API key ID'), 'PKONLY');
    await user.click(screen.getByRole('button', { name: 'Save keys' }));
    expect(screen.getByRole('alert').textContent).toBe(
      'Enter both the API key ID and the API secret.',
    );
    expect(api.callsOf('credentials:set')).toEqual([]);
  });

  it('clears stored keys', async () => {
    const user = userEvent.setup();
    const api = await setup(DEFAULT_SETTINGS, ENCRYPTED);
    api.handle('credentials:clear', () => ok(NO_KEYS));
    expect(screen.getByText(/^Keys stored: yes/)).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Clear keys' }));
    expect(api.callsOf('credentials:clear')).toEqual([{}]);
    expect(await screen.findByText(/^Keys stored: no · storage: none/)).toBeTruthy();
    expect(screen.getByText('No keys stored.')).toBeTruthy();
  });

  it('asks for consent to obfuscated storage only where storage is not secure', async () => {
    const user = userEvent.setup();
    const api = await setup(DEFAULT_SETTINGS, {
      stored: false,
      storage: 'none',
      backend: 'basic_text',
      secure: false,
      detail: 'No keyring found: keys are kept in memory until the app quits.',
    });
    expect(screen.getByText(/backend: basic_text · not secure$/)).toBeTruthy();
    const consent = screen.getByRole<HTMLInputElement>('checkbox', {
      name: 'Store keys obfuscated (not encrypted) on this machine',
    });
    expect(consent.checked).toBe(false);
    expect(screen.getByText(/can be recovered by anyone/)).toBeTruthy();
    await user.click(consent);
    expect(api.callsOf('settings:update')).toEqual([{ allowInsecureCredentialStorage: true }]);
    await screen.findByRole('checkbox', { name: /Store keys obfuscated/, checked: true });
  });

  it('has no consent checkbox where keys are encrypted', async () => {
    await setup(DEFAULT_SETTINGS, ENCRYPTED);
    expect(screen.queryByRole('checkbox', { name: /Store keys obfuscated/ })).toBeNull();
  });

  it('switches the theme through a radio group', async () => {
    const user = userEvent.setup();
    const api = await setup();
    const group = screen.getByRole('radiogroup', { name: 'Theme' });
    const dark = within(group).getByRole<HTMLInputElement>('radio', { name: 'Dark' });
    const light = within(group).getByRole<HTMLInputElement>('radio', { name: 'Light' });
    expect(dark.checked).toBe(true);
    await user.click(light);
    expect(api.callsOf('settings:update')).toEqual([{ theme: 'light' }]);
    expect(light.checked).toBe(true);
    expect(useMonitor.getState().settings?.theme).toBe('light');
  });

  it('binds "Connect when the app starts" to autoConnect', async () => {
    const user = userEvent.setup();
    const api = await setup();
    const box = screen.getByRole<HTMLInputElement>('checkbox', {
      name: 'Connect when the app starts',
    });
    expect(box.checked).toBe(true);
    await user.click(box);
    expect(api.callsOf('settings:update')).toEqual([{ autoConnect: false }]);
    await screen.findByRole('checkbox', { name: 'Connect when the app starts', checked: false });
  });
});

describe('SettingsPanel: updates', () => {
  const IDLE: UpdateStatus = {
    state: 'idle',
    currentVersion: '1.2.3',
    availableVersion: undefined,
    percent: undefined,
    lastCheckedAt: undefined,
    detail: 'Not checked yet.',
  };

  function updatesSection(): HTMLElement {
    const heading = screen.getByRole('heading', { name: 'Updates' });
    return heading.closest('section') as HTMLElement;
  }

  it('browser mode: the version and that updates are a desktop feature, no button', async () => {
    await setup();
    const section = updatesSection();
    expect(await within(section).findByText('Updates are a desktop feature.')).toBeTruthy();
    expect(within(section).getByText('Version 0.1.0')).toBeTruthy();
    expect(within(section).queryByRole('button')).toBeNull();
  });

  it('desktop: shows version and last check; the button checks; a download offers the restart', async () => {
    const user = userEvent.setup();
    const checkedAt = Date.UTC(2026, 11, 7, 9, 0, 0);
    const api = new FakeApi(snapshot({ settings: DEFAULT_SETTINGS, credentials: NO_KEYS }))
      .handle('update:status', () => ok(IDLE))
      .handle('update:check', () =>
        ok({ ...IDLE, state: 'none', lastCheckedAt: checkedAt, detail: 'Up to date.' }),
      )
      .handle('update:restart', () => fail('internal', 'The update could not be installed: x'));
    useMonitor.getState().attach(api, { afterPaint: () => new Promise(() => {}) });
    render(<SettingsPanel />);
    const section = await screen
      .findByRole('heading', { name: 'Updates' })
      .then((h) => h.closest('section') as HTMLElement);
    expect(await within(section).findByText('Version 1.2.3 · last checked: never')).toBeTruthy();

    await user.click(within(section).getByRole('button', { name: 'Check for updates' }));
    expect(
      await within(section).findByText(`Version 1.2.3 · last checked: ${lastCheckText(checkedAt)}`),
    ).toBeTruthy();
    expect(within(section).getByText('Up to date.')).toBeTruthy();
    expect(within(section).queryByRole('button', { name: 'Restart to update' })).toBeNull();

    // main pushes the finished download
    act(() =>
      api.emit('update:status', {
        ...IDLE,
        state: 'downloaded',
        availableVersion: '1.3.0',
        lastCheckedAt: checkedAt,
        detail: 'Version 1.3.0 is ready.',
      }),
    );
    const restart = await within(section).findByRole('button', { name: 'Restart to update' });
    expect(
      within(section).getByRole('button', { name: 'Check for updates' }).hasAttribute('disabled'),
    ).toBe(true);
    await user.click(restart);
    expect((await within(section).findByRole('alert')).textContent).toBe(
      'The update could not be installed: x',
    );
    expect(api.calls.map((c) => c.command)).toEqual(
      expect.arrayContaining(['update:status', 'update:check', 'update:restart']),
    );
  });
});

describe('SettingsPanel: relay', () => {
  const SERVER_OFF: RelayServerView = {
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
  const RELAY_NO_KEY: RelayView = {
    keys: { ...NO_KEYS, detail: 'No relay keys saved.' },
    server: SERVER_OFF,
  };

  async function relaySetup(settings: Settings = DEFAULT_SETTINGS): Promise<FakeApi> {
    const api = await setup(settings);
    api.handle('relay:status', () => ok(RELAY_NO_KEY));
    // The panel read the status before the handler existed: it reads again on the next event.
    act(() => api.emit('relay:update', RELAY_NO_KEY));
    return api;
  }

  it('a Relay source: the address picks the feed, and source:set gets the base address', async () => {
    const user = userEvent.setup();
    const api = await relaySetup();
    await user.selectOptions(screen.getByLabelText('Source'), 'Relay');
    const address = screen.getByLabelText<HTMLInputElement>('Relay address');
    const feed = screen.getByLabelText<HTMLSelectElement>('Relay feed');
    expect(feed.value).toBe('iex');
    expect(screen.getByText(/No relay key is stored/)).toBeTruthy();
    await user.type(address, 'ws://127.0.0.1:8765/v2/sip');
    expect(feed.value).toBe('sip');
    await user.click(screen.getByRole('button', { name: 'Apply source' }));
    expect(api.callsOf('source:set')).toEqual([
      { source: { kind: 'relay', url: 'ws://127.0.0.1:8765', feed: 'sip', codec: 'msgpack' } },
    ]);
    expect(
      await screen.findByText('Source set: Relay at ws://127.0.0.1:8765 (sip), MessagePack.'),
    ).toBeTruthy();
  });

  it('a typo in the relay address is named in the form and nothing is sent', async () => {
    const user = userEvent.setup();
    const api = await relaySetup();
    await user.selectOptions(screen.getByLabelText('Source'), 'Relay');
    const address = screen.getByLabelText<HTMLInputElement>('Relay address');
    await user.type(address, 'http://127.0.0.1:8765');
    await user.click(screen.getByRole('button', { name: 'Apply source' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'A relay streams over WebSocket: write ws://127.0.0.1:8765 instead of http://.',
    );
    expect(address.getAttribute('aria-invalid')).toBe('true');
    expect(api.callsOf('source:set')).toEqual([]);
    // Typing again clears the complaint; a good address goes through.
    await user.clear(address);
    expect(screen.queryByRole('alert')).toBeNull();
    await user.type(address, 'wss://relay.lan:9000');
    await user.click(screen.getByRole('button', { name: 'Apply source' }));
    expect(api.callsOf('source:set')).toEqual([
      { source: { kind: 'relay', url: 'wss://relay.lan:9000', feed: 'iex', codec: 'msgpack' } },
    ]);
  });

  it('shows a saved relay source in the form', async () => {
    await relaySetup({
      ...DEFAULT_SETTINGS,
      source: { kind: 'relay', url: 'ws://10.0.0.2:7000', feed: 'crypto', codec: 'json' },
    });
    expect(screen.getByLabelText<HTMLSelectElement>('Source').value).toBe('relay');
    expect(screen.getByLabelText<HTMLInputElement>('Relay address').value).toBe(
      'ws://10.0.0.2:7000',
    );
    expect(screen.getByLabelText<HTMLSelectElement>('Relay feed').value).toBe('crypto');
    expect(screen.getByText('Current: Relay at ws://10.0.0.2:7000 (crypto), JSON')).toBeTruthy();
  });

  it('the relay key is write-only: sent once, inputs cleared, never in the DOM', async () => {
    const user = userEvent.setup();
    const api = await relaySetup();
    api.handle('relay:keys-set', () =>
      ok({ ...RELAY_NO_KEY, keys: { ...ENCRYPTED, detail: 'relay keys are saved encrypted.' } }),
    );
    const keyId = screen.getByLabelText<HTMLInputElement>('Relay key ID');
    const secret = screen.getByLabelText<HTMLInputElement>('Relay secret');
    expect(secret.type).toBe('password');
    await user.type(keyId, 'desk-key');
    await user.type(secret, 'relay-SECRET-77');
    expect(document.body.innerHTML).not.toContain('relay-SECRET-77');
    await user.click(screen.getByRole('button', { name: 'Save relay key' }));
    expect(api.callsOf('relay:keys-set')).toEqual([
      { keyId: 'desk-key', secret: 'relay-SECRET-77' },
    ]);
    expect(keyId.value).toBe('');
    expect(secret.value).toBe('');
    expect(await screen.findByText('Relay key saved.')).toBeTruthy();
    expect(screen.getByText(/^Relay key stored: yes/)).toBeTruthy();
    expect(document.body.innerHTML).not.toContain('relay-SECRET-77');
  });

  it('serving: the new client key is shown once with copy buttons, then gone', async () => {
    const user = userEvent.setup();
    const api = await relaySetup();
    const listening: RelayServerView = {
      ...SERVER_OFF,
      enabled: true,
      state: 'listening',
      url: 'ws://127.0.0.1:45000',
      streamUrl: 'ws://127.0.0.1:45000/v2/iex',
      feed: 'iex',
      hasKey: true,
    };
    api.handle('relay:serve', ({ enabled }) =>
      ok({
        relay: { ...RELAY_NO_KEY, server: enabled ? listening : SERVER_OFF },
        generated: enabled ? { keyId: 'mmrelay-abc', secret: 'generated-secret-1' } : undefined,
      }),
    );
    const box = screen.getByRole<HTMLInputElement>('checkbox', {
      name: "Serve this app's connection as a relay",
    });
    expect(box.checked).toBe(false);
    await user.click(box);
    expect(api.callsOf('relay:serve')).toEqual([{ enabled: true, port: 0 }]);
    const shown = await screen.findByRole('group', { name: 'New relay client key' });
    expect(within(shown).getByText('mmrelay-abc')).toBeTruthy();
    expect(within(shown).getByText('generated-secret-1')).toBeTruthy();
    expect(screen.getByText('Listening at ws://127.0.0.1:45000/v2/iex · 0 clients')).toBeTruthy();
    await user.click(within(shown).getByRole('button', { name: 'Copy secret' }));
    expect(await navigator.clipboard.readText()).toBe('generated-secret-1');
    expect(within(shown).getByText('secret copied.')).toBeTruthy();
    await user.click(within(shown).getByRole('button', { name: 'I have copied it' }));
    expect(screen.queryByRole('group', { name: 'New relay client key' })).toBeNull();
    expect(document.body.innerHTML).not.toContain('generated-secret-1');
  });

  it('a bad port is refused in the form; a taken one is told by main', async () => {
    const user = userEvent.setup();
    const api = await relaySetup();
    api.handle('relay:serve', ({ port }) =>
      ok({
        relay: {
          ...RELAY_NO_KEY,
          server: {
            ...SERVER_OFF,
            enabled: true,
            port: port ?? 0,
            state: 'failed',
            error: `Port ${port ?? 0} is taken by another program: choose another port, or 0 for any free one.`,
          },
        },
        generated: undefined,
      }),
    );
    const port = screen.getByLabelText<HTMLInputElement>('Relay port');
    await user.clear(port);
    await user.type(port, '99999');
    await user.click(screen.getByRole('button', { name: 'Apply port' }));
    expect(screen.getByRole('alert').textContent).toBe('The port is at most 65535.');
    expect(port.getAttribute('aria-invalid')).toBe('true');
    await user.clear(port);
    await user.type(port, '8765');
    await user.click(
      screen.getByRole('checkbox', { name: "Serve this app's connection as a relay" }),
    );
    expect(api.callsOf('relay:serve')).toEqual([{ enabled: true, port: 8765 }]);
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Not running: Port 8765 is taken by another program: choose another port, or 0 for any free one.',
    );
  });
});
