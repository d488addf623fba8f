/**
 * The relay parts of Settings: the relay key a Relay source connects with (write-only, as the
 * Alpaca keys: uncontrolled inputs, cleared on save, never read back), and serving this app's
 * connection as a relay on this computer, whose client key main makes on the first start and
 * answers once: it is shown here with copy buttons until the user dismisses it, then never again.
 *
 * The relay's state comes from 'relay:status' and 'relay:update' through the API directly (as the
 * updates section does), so the store carries nothing for it.
 */
import { useEffect, useRef, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import type { MonitorApi, RelayServeResult, RelayView, Settings } from '../../shared/api.ts';
import { DEFAULT_RELAY_SERVER } from '../../shared/api.ts';
import { useMonitor } from '../store.ts';
import { KeyPairFields, OutcomeLine, takeKeyPair, type Outcome } from './settings-fields.tsx';

/** The relay view from main: read once, then kept by 'relay:update'. */
export function useRelayView(): [RelayView | undefined, (view: RelayView) => void] {
  const api = useMonitor((s) => s.api);
  const [view, setView] = useState<RelayView | undefined>(undefined);
  useEffect(() => {
    if (api === undefined) return undefined;
    let live = true;
    void api.invoke('relay:status', {}).then((out) => {
      if (live && out.ok) setView(out.value);
    });
    const off = api.on('relay:update', (next) => setView(next));
    return () => {
      live = false;
      off();
    };
  }, [api]);
  return [view, setView];
}

// ------------------------------------------------------------------------------ relay key

export function RelayKeySection({
  api,
  relay,
  onView,
}: {
  readonly api: MonitorApi | undefined;
  readonly relay: RelayView | undefined;
  readonly onView: (view: RelayView) => void;
}): ReactNode {
  const keyInput = useRef<HTMLInputElement>(null);
  const secretInput = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(undefined);

  async function save(e: FormEvent): Promise<void> {
    e.preventDefault();
    if (api === undefined) return;
    const pair = takeKeyPair(keyInput, secretInput);
    if (pair === undefined) return;
    if (pair === 'empty') {
      setOutcome({ ok: false, text: 'Enter both the relay key ID and the relay secret.' });
      return;
    }
    const { keyId, secret } = pair;
    setBusy(true);
    setOutcome(undefined);
    const out = await api.invoke('relay:keys-set', { keyId, secret });
    setBusy(false);
    if (out.ok) {
      onView(out.value);
      setOutcome({ ok: true, text: 'Relay key saved.' });
    } else setOutcome({ ok: false, text: `Save relay key: ${out.error.message}` });
  }

  async function clear(): Promise<void> {
    if (api === undefined) return;
    setBusy(true);
    setOutcome(undefined);
    const out = await api.invoke('relay:keys-clear', {});
    setBusy(false);
    if (out.ok) {
      onView(out.value);
      setOutcome({ ok: true, text: 'Relay key cleared.' });
    } else setOutcome({ ok: false, text: `Clear relay key: ${out.error.message}` });
  }

  return (
    <section className="settings-section">
      <h3>Relay key</h3>
      <p className="settings-muted">
        The key and secret the relay gave you (not your Alpaca keys). Write-only, stored as the
        Alpaca keys are.
      </p>
      <form className="settings-creds" onSubmit={(e) => void save(e)}>
        <KeyPairFields
          keyLabel="Relay key ID"
          secretLabel="Relay secret"
          keyRef={keyInput}
          secretRef={secretInput}
        />
        <div className="settings-row">
          <button type="submit" disabled={busy || api === undefined}>
            Save relay key
          </button>
          <button type="button" disabled={busy || api === undefined} onClick={() => void clear()}>
            Clear relay key
          </button>
        </div>
      </form>
      <OutcomeLine outcome={outcome} />
      {relay !== undefined ? (
        <p role="status" className="settings-muted">
          Relay key stored: {relay.keys.stored ? 'yes' : 'no'} · {relay.keys.detail}
        </p>
      ) : null}
    </section>
  );
}

// ------------------------------------------------------------------------------ serving

/** Writes `text` to the clipboard; false where the page may not (then the user selects it). */
async function copy(text: string): Promise<boolean> {
  try {
    if (typeof navigator.clipboard?.writeText !== 'function') return false;
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

function GeneratedKey({
  keyId,
  secret,
  onDone,
}: {
  readonly keyId: string;
  readonly secret: string;
  readonly onDone: () => void;
}): ReactNode {
  const [copied, setCopied] = useState<string | undefined>(undefined);
  async function copyOne(label: string, text: string): Promise<void> {
    setCopied((await copy(text)) ? `${label} copied.` : `Select the ${label} and copy it by hand.`);
  }
  return (
    <div className="settings-insecure" role="group" aria-label="New relay client key">
      <p className="settings-warn">
        The relay's client key, shown this once: give it to the apps that connect (APCA_API_KEY_ID /
        APCA_API_SECRET_KEY, or their key settings). It is not shown again; make a new one if it is
        lost.
      </p>
      <p>
        Key ID: <code>{keyId}</code>{' '}
        <button type="button" onClick={() => void copyOne('key ID', keyId)}>
          Copy key ID
        </button>
      </p>
      <p>
        Secret: <code>{secret}</code>{' '}
        <button type="button" onClick={() => void copyOne('secret', secret)}>
          Copy secret
        </button>
      </p>
      {copied !== undefined ? <p role="status">{copied}</p> : null}
      <button type="button" onClick={onDone}>
        I have copied it
      </button>
    </div>
  );
}

/** A port as typed: a whole number 0-65535 (0: any free one), or why not. */
export function parsePort(
  text: string,
): { ok: true; port: number } | { ok: false; reason: string } {
  const trimmed = text.trim();
  if (!/^\d{1,5}$/.test(trimmed))
    return { ok: false, reason: 'The port is a whole number from 0 to 65535 (0: any free one).' };
  const port = Number(trimmed);
  if (port > 65_535) return { ok: false, reason: 'The port is at most 65535.' };
  return { ok: true, port };
}

export function ServeRelaySection({
  api,
  settings,
  relay,
  onView,
}: {
  readonly api: MonitorApi | undefined;
  readonly settings: Settings;
  readonly relay: RelayView | undefined;
  readonly onView: (view: RelayView) => void;
}): ReactNode {
  const saved = settings.relayServer ?? DEFAULT_RELAY_SERVER;
  const [portText, setPortText] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(undefined);
  const [generated, setGenerated] = useState<RelayServeResult['generated']>(undefined);
  const shownPort = portText ?? String(saved.port);
  const server = relay?.server;

  async function serve(enabled: boolean, newKey = false): Promise<void> {
    if (api === undefined) return;
    const port = parsePort(shownPort);
    if (!port.ok) {
      setOutcome({ ok: false, text: port.reason });
      return;
    }
    setBusy(true);
    setOutcome(undefined);
    const out = await api.invoke('relay:serve', {
      enabled,
      port: port.port,
      ...(newKey ? { newKey: true as const } : {}),
    });
    setBusy(false);
    if (!out.ok) {
      setOutcome({ ok: false, text: `Relay: ${out.error.message}` });
      return;
    }
    setPortText(undefined);
    onView(out.value.relay);
    if (out.value.generated !== undefined) setGenerated(out.value.generated);
    const state = out.value.relay.server;
    // A failed start is told by the status line below (an alert there).
    setOutcome(
      state.state === 'failed'
        ? undefined
        : { ok: true, text: enabled ? `Relay ${state.state}.` : 'Relay stopped.' },
    );
  }

  function apply(e: FormEvent): void {
    e.preventDefault();
    void serve(saved.enabled);
  }

  return (
    <section className="settings-section">
      <h3>Serve as a relay</h3>
      <p className="settings-muted">
        Share this app's one Alpaca connection with bots and other apps on this computer: they
        connect to the address below with the relay's client key, as they would to Alpaca. Off by
        default; only this computer (127.0.0.1) can reach it.
      </p>
      <label className="settings-check">
        <input
          type="checkbox"
          checked={saved.enabled}
          disabled={busy || api === undefined}
          onChange={(e) => void serve(e.currentTarget.checked)}
        />
        Serve this app's connection as a relay
      </label>
      <form className="settings-row" onSubmit={apply}>
        <label>
          Relay port
          <input
            type="text"
            inputMode="numeric"
            value={shownPort}
            aria-invalid={!parsePort(shownPort).ok}
            onChange={(e) => setPortText(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy || portText === undefined}>
          Apply port
        </button>
        {saved.enabled ? (
          <button type="button" disabled={busy} onClick={() => void serve(true, true)}>
            New client key
          </button>
        ) : null}
      </form>
      <OutcomeLine outcome={outcome} />
      {generated !== undefined ? (
        <GeneratedKey
          keyId={generated.keyId}
          secret={generated.secret}
          onDone={() => setGenerated(undefined)}
        />
      ) : null}
      {server?.state === 'failed' ? (
        <p role="alert" className="settings-failure">
          Not running: {server.error ?? 'it could not start'}
        </p>
      ) : server !== undefined && server.state !== 'off' ? (
        <p className="settings-muted">
          {server.state === 'listening'
            ? `Listening at ${server.streamUrl ?? server.url ?? ''} · ${server.clients.length} client${server.clients.length === 1 ? '' : 's'}`
            : 'Starting…'}
        </p>
      ) : null}
    </section>
  );
}
