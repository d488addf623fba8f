/**
 * Diagnostics, the relay part: when the source is a relay, which relay and whether a relay key is
 * stored (never the key); and when this app serves a relay, its clients with their counters.
 *
 * A relay client cannot see the relay's per-client counters through Alpaca's protocol, so none are
 * shown for a Relay source: the relay's own status lines (`market-monitor relay` prints them) have
 * them. The served relay is this app's, so its clients are listed here, read again every few
 * seconds while it runs (clients come and go without an event).
 */
import { useEffect, type ReactNode } from 'react';
import type { RelayClientView, RelayView, Source } from '../../shared/api.ts';
import { formatCount } from '../model/format.ts';
import { useMonitor } from '../store.ts';
import { useRelayView } from './settings-relay.tsx';

/** How often the served relay's clients are read while it listens. */
export const RELAY_REFRESH_MS = 2_000;

function kib(bytes: number): string {
  return `${formatCount(Math.ceil(bytes / 1024))} KiB`;
}

function ClientRow({ client }: { readonly client: RelayClientView }): ReactNode {
  return (
    <tr>
      <td className="num">{client.id}</td>
      <td>{client.codec}</td>
      <td>{client.authenticated ? 'yes' : 'no'}</td>
      <td className="num">{formatCount(client.pairs)}</td>
      <td className="num">{formatCount(client.messages)}</td>
      <td className="num">{kib(client.bytes)}</td>
      <td className="num">{kib(client.bufferedAmount)}</td>
      <td>{client.lagging ? 'lagging' : 'ok'}</td>
      <td className="num">{formatCount(client.conflated)}</td>
      <td className="num">{formatCount(client.dropped)}</td>
    </tr>
  );
}

export function RelayDiagnostics(): ReactNode {
  const api = useMonitor((s) => s.api);
  const source = useMonitor((s) => s.settings?.source);
  const [relay, setRelay] = useRelayView();
  const listening = relay?.server.state === 'listening';

  useEffect(() => {
    if (api === undefined || !listening) return undefined;
    const timer = setInterval(() => {
      void api.invoke('relay:status', {}).then((out) => {
        if (out.ok) setRelay(out.value);
      });
    }, RELAY_REFRESH_MS);
    return () => clearInterval(timer);
  }, [api, listening, setRelay]);

  const relaySource = source?.kind === 'relay' ? source : undefined;
  if (relaySource === undefined && (relay === undefined || relay.server.state === 'off'))
    return null;
  return (
    <section className="diag-section">
      <h3>Relay</h3>
      {relaySource !== undefined ? <SourceRelay source={relaySource} relay={relay} /> : null}
      {relay !== undefined && relay.server.state !== 'off' ? <ServedRelay relay={relay} /> : null}
    </section>
  );
}

function SourceRelay({
  source,
  relay,
}: {
  readonly source: Extract<Source, { kind: 'relay' }>;
  readonly relay: RelayView | undefined;
}): ReactNode {
  return (
    <p className="diag-summary">
      The source is a relay: <code>{source.url}</code> ({source.feed} feed, {source.codec}). Relay
      key stored: {relay === undefined ? 'unknown' : relay.keys.stored ? 'yes' : 'no'}.{' '}
      <span className="diag-hint">
        Its per-client counters are the relay's own (its status output), not visible to a client.
      </span>
    </p>
  );
}

function ServedRelay({ relay }: { readonly relay: RelayView }): ReactNode {
  const server = relay.server;
  const c = server.counters;
  return (
    <>
      <p className="diag-summary num">
        This app serves a relay:{' '}
        {server.state === 'listening' ? (
          <code>{server.streamUrl ?? server.url}</code>
        ) : (
          server.state
        )}
        {server.error !== undefined ? ` (${server.error})` : ''} · {server.clients.length} client
        {server.clients.length === 1 ? '' : 's'} · {formatCount(server.upstreamPairs)} pairs held on
        the app's connection · accepted {formatCount(c.accepted)}, refused {formatCount(c.rejected)}
        , bad keys {formatCount(c.authFailed)}, messages out {formatCount(c.messagesOut)}, REST
        requests {formatCount(c.restRequests)}
      </p>
      {server.clients.length > 0 ? (
        <div className="diag-scroll">
          <table aria-label="Relay clients" className="diag-table">
            <thead>
              <tr>
                <th>Client</th>
                <th>Codec</th>
                <th>Authenticated</th>
                <th>Pairs</th>
                <th>Messages</th>
                <th>Sent</th>
                <th>Buffered</th>
                <th>State</th>
                <th>Conflated</th>
                <th>Dropped</th>
              </tr>
            </thead>
            <tbody>
              {server.clients.map((client) => (
                <ClientRow key={client.id} client={client} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
