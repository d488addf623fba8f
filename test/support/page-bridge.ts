/**
 * The page's side of browser mode in a Node test: a bridge client to a running host over a
 * WebSocket that sends the host's origin as its Origin header, as a browser does for the page it
 * loaded from that host (the host refuses any other origin).
 */
import type { Host } from '../../electron/host/server.ts';
import {
  bridgeUrlFromLocation,
  connectBridge,
  type BridgeClient,
} from '../../renderer/bridge-client.ts';

/** Node's WebSocket, sending `origin` as its Origin header, as a browser does for the page. */
export function originSocket(origin: string): typeof WebSocket {
  return class extends WebSocket {
    constructor(address: string | URL) {
      super(address, { headers: { origin } });
    }
  };
}

export function connectPage(host: Pick<Host, 'origin' | 'url'>): Promise<BridgeClient> {
  const url = bridgeUrlFromLocation(new URL(host.url));
  if (url === undefined) throw new Error(`no bridge address in ${host.url}`);
  return connectBridge({ url, WebSocketImpl: originSocket(host.origin) });
}
