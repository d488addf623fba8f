/**
 * Settings: where quotes come from, the Alpaca keys (write-only), theme, startup behaviour, and the
 * desktop app's updates (version, last check, "Check for updates", restart into a download). A
 * Relay source takes an address (checked as typed: ws:// or wss://, a feed path picks the feed);
 * its key and serving this app as a relay are in settings-relay.tsx.
 *
 * The key inputs are uncontrolled on purpose: a controlled React input mirrors its value into the
 * `value` attribute, which would leave the secret in the DOM (and in any DOM dump) while typed.
 * Here the value lives only in the input's own state, is read once on save, and is cleared right
 * away, whatever main answers. Nothing ever reads the keys back.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { FEEDS } from '../../shared/api.ts';
import type { CredentialStatus, Settings, Source, Theme, UpdateStatus } from '../../shared/api.ts';
import type { Codec, Feed } from '../../shared/market.ts';
import { parseRelayUrl } from '../../shared/relay-url.ts';
import { useMonitor } from '../store.ts';
import { Panel } from './panel.tsx';
import { KeyPairFields, OutcomeLine, takeKeyPair, type Outcome } from './settings-fields.tsx';
import { RelayKeySection, ServeRelaySection, useRelayView } from './settings-relay.tsx';
import './settings.css';

export const SOURCE_CHOICES: ReadonlyArray<{ readonly value: string; readonly label: string }> = [
  { value: 'simulator', label: 'Built-in simulator' },
  ...FEEDS.map((feed) => ({ value: `alpaca:${feed}`, label: `Alpaca (${feed})` })),
  { value: 'relay', label: 'Relay' },
];

export const CODEC_CHOICES: ReadonlyArray<{ readonly value: Codec; readonly label: string }> = [
  { value: 'json', label: 'JSON' },
  { value: 'msgpack', label: 'MessagePack' },
];

/** The select's value for a source. */
export function sourceChoice(source: Source): string {
  if (source.kind === 'relay') return 'relay';
  return source.kind === 'simulator' ? 'simulator' : `alpaca:${source.feed}`;
}

/**
 * The Source a select value and codec stand for; undefined for a value not in SOURCE_CHOICES, or
 * 'relay' without a relay (a checked base address and a feed).
 */
export function sourceOf(
  choice: string,
  codec: Codec,
  relay?: { readonly url: string; readonly feed: Feed },
): Source | undefined {
  if (choice === 'simulator') return { kind: 'simulator', codec };
  if (choice === 'relay')
    return relay === undefined
      ? undefined
      : { kind: 'relay', url: relay.url, feed: relay.feed, codec };
  const feed = FEEDS.find((f) => `alpaca:${f}` === choice);
  return feed === undefined ? undefined : { kind: 'alpaca', feed, codec };
}

function describeSource(source: Source): string {
  const label =
    source.kind === 'relay'
      ? `Relay at ${source.url} (${source.feed})`
      : (SOURCE_CHOICES.find((c) => c.value === sourceChoice(source))?.label ?? source.kind);
  const codec = CODEC_CHOICES.find((c) => c.value === source.codec)?.label ?? source.codec;
  return `${label}, ${codec}`;
}

export function SettingsPanel(): ReactNode {
  const settings = useMonitor((s) => s.settings);
  const credentials = useMonitor((s) => s.credentials);
  const api = useMonitor((s) => s.api);
  const [relay, setRelay] = useRelayView();
  return (
    <Panel id="settings" title="Settings" className="settings-panel">
      {settings === undefined ? (
        <p className="empty" role="status">
          Loading settings…
        </p>
      ) : (
        <>
          <SourceSection
            settings={settings}
            credentials={credentials}
            relayKeyStored={relay?.keys.stored}
          />
          <CredentialsSection settings={settings} credentials={credentials} />
          <RelayKeySection api={api} relay={relay} onView={setRelay} />
          <ServeRelaySection api={api} settings={settings} relay={relay} onView={setRelay} />
          <AppearanceSection settings={settings} />
          <StartupSection settings={settings} />
          <UpdatesSection />
        </>
      )}
    </Panel>
  );
}

interface SectionProps {
  readonly settings: Settings;
  readonly credentials: CredentialStatus | undefined;
}

// ------------------------------------------------------------------------------ source

interface SourceDraft {
  readonly choice: string;
  readonly codec: Codec;
  /** The relay address as typed, and the feed picked beside it. */
  readonly relayUrl: string;
  readonly relayFeed: Feed;
}

function SourceSection({
  settings,
  credentials,
  relayKeyStored,
}: SectionProps & { readonly relayKeyStored: boolean | undefined }): ReactNode {
  const setSource = useMonitor((s) => s.setSource);
  // What the user picked and has not applied yet; undefined follows the saved source.
  const [draft, setDraft] = useState<SourceDraft | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(undefined);
  const [urlError, setUrlError] = useState<string | undefined>(undefined);
  const ids = useId();

  const saved = settings.source;
  const current: SourceDraft = {
    choice: sourceChoice(saved),
    codec: saved.codec,
    relayUrl: saved.kind === 'relay' ? saved.url : '',
    relayFeed: saved.kind === 'relay' ? saved.feed : 'iex',
  };
  const picked = draft ?? current;
  const relayPicked = picked.choice === 'relay';
  const changed =
    picked.choice !== current.choice ||
    picked.codec !== current.codec ||
    (relayPicked &&
      (picked.relayUrl.trim() !== current.relayUrl || picked.relayFeed !== current.relayFeed));
  const needsKeys = picked.choice.startsWith('alpaca:') && credentials?.stored !== true;
  const needsRelayKey = relayPicked && relayKeyStored === false;

  function typeUrl(text: string): void {
    setUrlError(undefined);
    // A stream URL names its feed: the picker follows it.
    const parsed = parseRelayUrl(text);
    const feed = parsed.ok && parsed.feed !== undefined ? parsed.feed : picked.relayFeed;
    setDraft({ ...picked, relayUrl: text, relayFeed: feed });
  }

  async function apply(e: FormEvent): Promise<void> {
    e.preventDefault();
    let relay: { url: string; feed: Feed } | undefined;
    if (relayPicked) {
      const parsed = parseRelayUrl(picked.relayUrl);
      if (!parsed.ok) {
        setUrlError(parsed.reason);
        return;
      }
      relay = { url: parsed.url, feed: parsed.feed ?? picked.relayFeed };
    }
    const source = sourceOf(picked.choice, picked.codec, relay);
    if (source === undefined) return;
    setBusy(true);
    setOutcome(undefined);
    const out = await setSource(source);
    setBusy(false);
    if (out.ok) {
      setDraft(undefined);
      setOutcome({ ok: true, text: `Source set: ${describeSource(out.value.source)}.` });
    } else {
      setOutcome({ ok: false, text: out.message });
    }
  }

  return (
    <section className="settings-section">
      <h3>Source</h3>
      <form className="settings-row" onSubmit={(e) => void apply(e)}>
        <label>
          Source
          <select
            value={picked.choice}
            onChange={(e) => setDraft({ ...picked, choice: e.currentTarget.value })}
          >
            {SOURCE_CHOICES.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Codec
          <select
            value={picked.codec}
            onChange={(e) => setDraft({ ...picked, codec: e.currentTarget.value as Codec })}
          >
            {CODEC_CHOICES.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
        </label>
        {relayPicked ? (
          <>
            <label>
              Relay address
              <input
                type="text"
                placeholder="ws://127.0.0.1:PORT"
                value={picked.relayUrl}
                autoComplete="off"
                spellCheck={false}
                aria-invalid={urlError !== undefined}
                aria-describedby={urlError !== undefined ? `${ids}-url` : undefined}
                onChange={(e) => typeUrl(e.currentTarget.value)}
              />
            </label>
            <label>
              Relay feed
              <select
                value={picked.relayFeed}
                onChange={(e) => setDraft({ ...picked, relayFeed: e.currentTarget.value as Feed })}
              >
                {FEEDS.map((feed) => (
                  <option key={feed} value={feed}>
                    {feed}
                  </option>
                ))}
              </select>
            </label>
          </>
        ) : null}
        <button
          type="submit"
          disabled={busy || !changed}
          aria-describedby={needsKeys ? `${ids}-keys` : undefined}
        >
          Apply source
        </button>
        {!changed ? (
          <span className="settings-muted">Current: {describeSource(settings.source)}</span>
        ) : null}
      </form>
      {urlError !== undefined ? (
        <p id={`${ids}-url`} role="alert" className="settings-failure">
          {urlError}
        </p>
      ) : null}
      {needsKeys ? (
        <p id={`${ids}-keys`} className="settings-warn">
          No API keys are stored: Alpaca will refuse the connection until you save keys below.
        </p>
      ) : null}
      {needsRelayKey ? (
        <p className="settings-warn">
          No relay key is stored: the app waits for one before it connects (Relay key, below).
        </p>
      ) : null}
      <OutcomeLine outcome={outcome} />
    </section>
  );
}

// ------------------------------------------------------------------------------ credentials

function storageText(status: CredentialStatus): string {
  return [
    `Keys stored: ${status.stored ? 'yes' : 'no'}`,
    `storage: ${status.storage}`,
    `backend: ${status.backend}`,
    status.secure ? 'secure' : 'not secure',
  ].join(' · ');
}

function CredentialsSection({ settings, credentials }: SectionProps): ReactNode {
  const setCredentials = useMonitor((s) => s.setCredentials);
  const clearCredentials = useMonitor((s) => s.clearCredentials);
  const updateSettings = useMonitor((s) => s.updateSettings);
  const keyInput = useRef<HTMLInputElement>(null);
  const secretInput = useRef<HTMLInputElement>(null);
  const [memoryOnly, setMemoryOnly] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(undefined);
  const [consentOutcome, setConsentOutcome] = useState<Outcome>(undefined);
  const ids = useId();

  async function save(e: FormEvent): Promise<void> {
    e.preventDefault();
    // Cleared before the answer: the keys stay on screen no longer than it takes to send them.
    const pair = takeKeyPair(keyInput, secretInput);
    if (pair === undefined) return;
    if (pair === 'empty') {
      setOutcome({ ok: false, text: 'Enter both the API key ID and the API secret.' });
      return;
    }
    const { keyId, secret } = pair;
    setBusy(true);
    setOutcome(undefined);
    const out = await setCredentials(
      memoryOnly ? { keyId, secret, memoryOnly } : { keyId, secret },
    );
    setBusy(false);
    setOutcome(
      out.ok
        ? { ok: true, text: out.value.stored ? 'Keys saved.' : 'Keys sent; none are stored.' }
        : { ok: false, text: out.message },
    );
  }

  async function clear(): Promise<void> {
    setBusy(true);
    setOutcome(undefined);
    const out = await clearCredentials();
    setBusy(false);
    setOutcome(out.ok ? { ok: true, text: 'Keys cleared.' } : { ok: false, text: out.message });
  }

  async function consent(allow: boolean): Promise<void> {
    setConsentOutcome(undefined);
    const out = await updateSettings({ allowInsecureCredentialStorage: allow });
    if (!out.ok) setConsentOutcome({ ok: false, text: out.message });
  }

  return (
    <section className="settings-section">
      <h3>Credentials</h3>
      <p className="settings-muted">
        Alpaca API keys. Write-only: once saved they are never shown again.
      </p>
      <form className="settings-creds" onSubmit={(e) => void save(e)}>
        <KeyPairFields
          keyLabel="API key ID"
          secretLabel="API secret"
          keyRef={keyInput}
          secretRef={secretInput}
        />
        <label className="settings-check">
          <input
            type="checkbox"
            checked={memoryOnly}
            onChange={(e) => setMemoryOnly(e.currentTarget.checked)}
          />
          Keep only until the app quits
        </label>
        <div className="settings-row">
          <button type="submit" disabled={busy}>
            Save keys
          </button>
          <button type="button" disabled={busy} onClick={() => void clear()}>
            Clear keys
          </button>
        </div>
      </form>
      <OutcomeLine outcome={outcome} />
      {credentials === undefined ? (
        <p className="settings-muted">Key storage: unknown yet.</p>
      ) : (
        <>
          <p role="status" className="settings-cred-status">
            {storageText(credentials)}
          </p>
          <p className="settings-muted">{credentials.detail}</p>
          {!credentials.secure ? (
            <div className="settings-insecure">
              <label className="settings-check">
                <input
                  type="checkbox"
                  checked={settings.allowInsecureCredentialStorage}
                  aria-describedby={`${ids}-risk`}
                  onChange={(e) => void consent(e.currentTarget.checked)}
                />
                Store keys obfuscated (not encrypted) on this machine
              </label>
              <p id={`${ids}-risk`} className="settings-warn">
                This system has no keyring to encrypt them. Obfuscated keys can be recovered by
                anyone or any program that can read your user files. Without this, keys are kept
                only until the app quits.
              </p>
              <OutcomeLine outcome={consentOutcome} />
            </div>
          ) : null}
        </>
      )}
    </section>
  );
}

// ------------------------------------------------------------------------------ appearance

const THEME_CHOICES: ReadonlyArray<{ readonly value: Theme; readonly label: string }> = [
  { value: 'dark', label: 'Dark' },
  { value: 'light', label: 'Light' },
];

function AppearanceSection({ settings }: { readonly settings: Settings }): ReactNode {
  const setTheme = useMonitor((s) => s.setTheme);
  const [outcome, setOutcome] = useState<Outcome>(undefined);
  const ids = useId();

  async function choose(theme: Theme): Promise<void> {
    setOutcome(undefined);
    const out = await setTheme(theme);
    if (!out.ok) setOutcome({ ok: false, text: out.message });
  }

  return (
    <section className="settings-section">
      <h3>Appearance</h3>
      <div role="radiogroup" aria-labelledby={`${ids}-theme`} className="settings-row">
        <span id={`${ids}-theme`} className="settings-label">
          Theme
        </span>
        {THEME_CHOICES.map((t) => (
          <label key={t.value} className="settings-check">
            <input
              type="radio"
              name={`${ids}-theme-choice`}
              value={t.value}
              checked={settings.theme === t.value}
              onChange={() => void choose(t.value)}
            />
            {t.label}
          </label>
        ))}
      </div>
      <OutcomeLine outcome={outcome} />
    </section>
  );
}

// ------------------------------------------------------------------------------ startup

function StartupSection({ settings }: { readonly settings: Settings }): ReactNode {
  const updateSettings = useMonitor((s) => s.updateSettings);
  const [outcome, setOutcome] = useState<Outcome>(undefined);

  async function toggle(autoConnect: boolean): Promise<void> {
    setOutcome(undefined);
    const out = await updateSettings({ autoConnect });
    if (!out.ok) setOutcome({ ok: false, text: out.message });
  }

  return (
    <section className="settings-section">
      <h3>Startup</h3>
      <label className="settings-check">
        <input
          type="checkbox"
          checked={settings.autoConnect}
          onChange={(e) => void toggle(e.currentTarget.checked)}
        />
        Connect when the app starts
      </label>
      <OutcomeLine outcome={outcome} />
    </section>
  );
}

// ------------------------------------------------------------------------------ updates

/** When the last check finished, in the user's locale; "never" before the first. */
export function lastCheckText(at: number | undefined): string {
  return at === undefined ? 'never' : new Date(at).toLocaleString();
}

function UpdatesSection(): ReactNode {
  const api = useMonitor((s) => s.api);
  const [status, setStatus] = useState<UpdateStatus | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(undefined);

  useEffect(() => {
    if (api === undefined) return undefined;
    let live = true;
    void api.invoke('update:status', {}).then((out) => {
      if (!live) return;
      if (out.ok) setStatus(out.value);
      else setOutcome({ ok: false, text: out.error.message });
    });
    const off = api.on('update:status', (next) => setStatus(next));
    return () => {
      live = false;
      off();
    };
  }, [api]);

  async function check(): Promise<void> {
    if (api === undefined) return;
    setBusy(true);
    setOutcome(undefined);
    const out = await api.invoke('update:check', {});
    setBusy(false);
    if (out.ok) setStatus(out.value);
    else setOutcome({ ok: false, text: out.error.message });
  }

  async function restart(): Promise<void> {
    if (api === undefined) return;
    setOutcome(undefined);
    const out = await api.invoke('update:restart', {});
    if (!out.ok) setOutcome({ ok: false, text: out.error.message });
  }

  const desktop = status !== undefined && status.state !== 'unsupported';
  const enabled = desktop && status.state !== 'disabled';
  return (
    <section className="settings-section">
      <h3>Updates</h3>
      {status === undefined ? null : (
        <>
          <p className="settings-muted">
            Version {status.currentVersion}
            {enabled ? ` · last checked: ${lastCheckText(status.lastCheckedAt)}` : ''}
          </p>
          <p aria-live="polite" className={status.state === 'error' ? 'settings-warn' : undefined}>
            {status.detail}
          </p>
          {enabled ? (
            <div className="settings-row">
              <button
                type="button"
                disabled={busy || status.state === 'checking' || status.state === 'downloaded'}
                onClick={() => void check()}
              >
                Check for updates
              </button>
              {status.state === 'downloaded' ? (
                <button type="button" onClick={() => void restart()}>
                  Restart to update
                </button>
              ) : null}
            </div>
          ) : null}
        </>
      )}
      <OutcomeLine outcome={outcome} />
    </section>
  );
}
