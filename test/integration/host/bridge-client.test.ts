/**
 * The renderer's bridge client against the real host, over Node 24's global WebSocket (the same
 * WHATWG WebSocket a browser has). Node sends no Origin header, a browser always does; the socket
 * used here adds the page's Origin, as the browser would for a page the host served.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  bridgeUrlFromLocation,
  connectBridge,
  type BridgeClient,
} from '../../../renderer/bridge-client.ts';
import { startHost, type Host } from '../../../electron/host/server.ts';
import type { Notice } from '../../../shared/api.ts';
import { readFrame } from '../../support/frame-reader.ts';
import { originSocket } from '../../support/page-bridge.ts';
import { waitFor } from '../../support/wait.ts';
import { FakeCore, makeFrame } from './fake-core.ts';

const hosts: Host[] = [];
const clients: BridgeClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

/**
 * A WebSocket that sends `origin` as its Origin header, as a browser does for the page, and keeps
 * in `sent` every text message the client sends.
 */
function socketFrom(origin: string, sent: string[] = []): typeof WebSocket {
  return class extends originSocket(origin) {
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (typeof data === 'string') sent.push(data);
      super.send(data);
    }
  };
}

async function setup(): Promise<{
  host: Host;
  core: FakeCore;
  client: BridgeClient;
  /** The frame requests the client sent, in order. */
  frameRequests: () => unknown[];
}> {
  const core = new FakeCore();
  // The static folder does not matter here: the bridge works whether the renderer is built or not.
  const host = await startHost({ core, staticDir: 'does-not-exist' });
  hosts.push(host);
  const url = bridgeUrlFromLocation(new URL(host.url));
  expect(url).toBe(`ws://127.0.0.1:${host.port}/bridge?token=${host.token}`);
  const sent: string[] = [];
  const client = await connectBridge({ url: url!, WebSocketImpl: socketFrom(host.origin, sent) });
  clients.push(client);
  await waitFor(() => core.opened === 1, { what: 'a view' });
  const frameRequests = (): unknown[] =>
    sent.map((text) => JSON.parse(text) as { type: string }).filter((m) => m.type === 'frame');
  return { host, core, client, frameRequests };
}

function notice(id: string): Notice[] {
  return [{ id, level: 'info', message: `notice ${id}`, at: 1 }];
}

describe('connectBridge', () => {
  it('invokes commands and resolves with their Result', async () => {
    const { client } = await setup();
    expect(client.status).toBe('open');
    const list = await client.invoke('watchlists:list', {});
    expect(list.ok && list.value[0]?.id).toBe('default');
    const created = await client.invoke('watchlists:create', { name: 'Tech' });
    expect(created).toEqual({ ok: true, value: { id: 'w2', name: 'Tech', symbols: [] } });
    const bad = await client.invoke('watchlists:create', { name: '' });
    expect(bad.ok === false && bad.error.code).toBe('bad-request');
    const unknown = await client.invoke('no:such' as 'watchlists:list', {});
    expect(unknown.ok === false && unknown.error.code).toBe('unknown-command');
    // Many in flight at once: each answer reaches its own call.
    const names = Array.from({ length: 20 }, (_v, i) => `List ${i}`);
    const answers = await Promise.all(
      names.map((name) => client.invoke('watchlists:create', { name })),
    );
    expect(answers.map((a) => a.ok && a.value.name)).toEqual(names);
  });

  it('resolves a payload that is not JSON with bad-request instead of throwing', async () => {
    const { client, core } = await setup();
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const result = await client.invoke('watchlists:create', cyclic as never);
    expect(result.ok === false && result.error.code).toBe('bad-request');
    expect(core.sessions[0]!.invoked).toHaveLength(0);
  });

  it('delivers events to each listener until it unsubscribes; a throwing listener spoils nothing', async () => {
    const { client, core } = await setup();
    const sink = core.sessions[0]!.sink;
    const seen: string[] = [];
    const other: string[] = [];
    const off = client.on('notices:update', (n) => seen.push(n[0]!.id));
    client.on('notices:update', () => {
      throw new Error('listener bug');
    });
    client.on('notices:update', (n) => other.push(n[0]!.id));
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      sink.emit('notices:update', notice('a'));
      await waitFor(() => other.length === 1, { what: 'the first event' });
      off();
      sink.emit('notices:update', notice('b'));
      await waitFor(() => other.length === 2, { what: 'the second event' });
    } finally {
      console.error = original;
    }
    expect(seen).toEqual(['a']);
    expect(other).toEqual(['a', 'b']);
    expect(errors).toHaveLength(2);
  });

  it('pulls frames: nextFrame resolves with the decoded frame; a newer call supersedes a pending one', async () => {
    const { client, core, frameRequests } = await setup();
    const session = core.sessions[0]!;
    const frame = makeFrame(1, ['AAPL', 'MSFT', 'BRK.B', 'BTC/USD']);
    session.push(frame); // ready before the request: answered at once
    const got = readFrame(await client.nextFrame());
    const sent = readFrame(frame);
    expect(got.seq).toBe(1);
    expect(got.full).toBe(true);
    expect(got.conflated).toBe(3);
    expect(got.symbols).toEqual(['AAPL', 'MSFT', 'BRK.B', 'BTC/USD']);
    expect([...got.bidPrice]).toEqual([...sent.bidPrice]);
    expect([...got.receivedAt]).toEqual([...sent.receivedAt]);
    expect(got.quoteTime.every((v) => Number.isNaN(v))).toBe(true);

    const first = client.nextFrame();
    const firstFailed = first.then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    await waitFor(() => session.waiting, { what: 'the first request at the core' });
    const second = client.nextFrame();
    expect(await firstFailed).toMatch(/superseded/);
    // The newer call took over the request in flight: nothing new went to the host.
    expect(frameRequests()).toHaveLength(2);
    session.push(makeFrame(2, ['SPY']));
    expect(readFrame(await second).symbols).toEqual(['SPY']);
    expect(frameRequests()).toHaveLength(2);
  });

  it('a frame the host already took for a superseded call goes to the newer call (a restarted pull loop)', async () => {
    const { client, core, frameRequests } = await setup();
    const session = core.sessions[0]!;
    const first = client.nextFrame();
    const firstFailed = first.then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    await waitFor(() => session.waiting, { what: 'the first request at the core' });
    // The core answers the request now (the host encodes and sends it); the page has not seen it yet.
    session.push(makeFrame(1, ['AAPL', 'MSFT']));
    const second = client.nextFrame();
    expect(await firstFailed).toMatch(/superseded/);
    const got = readFrame(await second);
    expect({ seq: got.seq, full: got.full, symbols: got.symbols }).toEqual({
      seq: 1,
      full: true,
      symbols: ['AAPL', 'MSFT'],
    });
    expect(frameRequests()).toEqual([{ type: 'frame', id: expect.any(Number) as unknown }]);
    // Answered: the next call asks again.
    const third = client.nextFrame();
    await waitFor(() => session.waiting, { what: 'the next request at the core' });
    expect(frameRequests()).toHaveLength(2);
    session.push(makeFrame(2, ['SPY']));
    expect((await third).seq).toBe(2);
  });

  it('an error answer to a taken-over request rejects the newer call; the next call asks again', async () => {
    const { client, core, frameRequests } = await setup();
    const session = core.sessions[0]!;
    const first = client.nextFrame();
    first.catch(() => undefined);
    await waitFor(() => session.waiting, { what: 'the first request at the core' });
    const second = client.nextFrame();
    await expect(first).rejects.toThrow(/superseded/);
    // The core ends the view under the host: the host answers the request with an error result.
    session.close();
    await expect(second).rejects.toThrow(/view closed/);
    // Answered: the next call sends a request of its own (and gets its own answer).
    await expect(client.nextFrame()).rejects.toThrow(/view closed/);
    expect(frameRequests()).toHaveLength(2);
  });

  it('a superseded call nobody listens to is not reported as an unhandled rejection', async () => {
    const { client, core } = await setup();
    const session = core.sessions[0]!;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      void client.nextFrame(); // a stopped loop that no longer awaits its call
      const second = client.nextFrame();
      session.push(makeFrame(1, ['AAPL']));
      expect((await second).seq).toBe(1);
      // Node reports unhandled rejections after the microtask queue drains.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it('settles everything when the host goes away: invokes resolve disconnected, a frame rejects', async () => {
    const { host, client, core } = await setup();
    core.sessions[0]!.held.add('diagnostics:export');
    const closes: number[] = [];
    client.onClose((info) => closes.push(info.code));
    const pendingInvoke = client.invoke('diagnostics:export', {});
    const pendingFrame = client.nextFrame().then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    await waitFor(() => core.sessions[0]!.invoked.length === 1 && core.sessions[0]!.waiting, {
      what: 'both requests at the core',
    });
    await host.close();
    expect(await pendingInvoke).toEqual({
      ok: false,
      error: { code: 'internal', message: 'bridge disconnected' },
    });
    expect(await pendingFrame).toBe('bridge disconnected');
    await waitFor(() => closes.length === 1, { what: 'onClose' });
    expect(closes).toEqual([1001]);
    expect(client.status).toBe('closed');
    expect((await client.invoke('watchlists:list', {})).ok).toBe(false);
    await expect(client.nextFrame()).rejects.toThrow('bridge disconnected');
    // A late onClose listener still hears about it.
    const late = await new Promise<number>((resolve) =>
      client.onClose((info) => resolve(info.code)),
    );
    expect(late).toBe(1001);
  });

  it('close() settles at once and the host closes the view', async () => {
    const { client, core } = await setup();
    core.sessions[0]!.held.add('diagnostics:export');
    const pending = client.invoke('diagnostics:export', {});
    await waitFor(() => core.sessions[0]!.invoked.length === 1);
    client.close();
    client.close();
    expect(client.status).toBe('closed');
    expect((await pending).ok).toBe(false);
    await waitFor(() => core.sessions[0]!.closed, { what: 'the view closed at the host' });
  });

  it('rejects when the host refuses the page: wrong token, or no Origin', async () => {
    const core = new FakeCore();
    const host = await startHost({ core, staticDir: 'does-not-exist' });
    hosts.push(host);
    await expect(
      connectBridge({
        url: `ws://127.0.0.1:${host.port}/bridge?token=wrong-token-wrong-token`,
        WebSocketImpl: socketFrom(host.origin),
      }),
    ).rejects.toThrow(/did not open/);
    // Node's own WebSocket sends no Origin: refused like a foreign page.
    await expect(
      connectBridge({ url: `ws://127.0.0.1:${host.port}/bridge?token=${host.token}` }),
    ).rejects.toThrow(/did not open/);
    await expect(
      connectBridge({
        url: `ws://127.0.0.1:${host.port}/bridge?token=${host.token}`,
        WebSocketImpl: socketFrom('http://evil.example'),
      }),
    ).rejects.toThrow(/did not open/);
    expect(core.opened).toBe(0);
  });
});

describe('bridgeUrlFromLocation', () => {
  it('reads the token from the fragment', () => {
    expect(
      bridgeUrlFromLocation({
        protocol: 'http:',
        host: '127.0.0.1:5000',
        hash: '#token=abc_DEF-123',
      }),
    ).toBe('ws://127.0.0.1:5000/bridge?token=abc_DEF-123');
    expect(
      bridgeUrlFromLocation({ protocol: 'http:', host: 'localhost:5000', hash: '#x=1&token=t0k' }),
    ).toBe('ws://localhost:5000/bridge?token=t0k');
    expect(bridgeUrlFromLocation({ protocol: 'https:', host: 'h:1', hash: '#token=t' })).toBe(
      'wss://h:1/bridge?token=t',
    );
  });

  it.each([
    ['no fragment', { protocol: 'http:', host: '127.0.0.1:5000', hash: '' }],
    ['no token', { protocol: 'http:', host: '127.0.0.1:5000', hash: '#other=1' }],
    ['empty token', { protocol: 'http:', host: '127.0.0.1:5000', hash: '#token=' }],
    [
      'a token that would change the URL',
      { protocol: 'http:', host: '127.0.0.1:5000', hash: '#token=a%26b%3Dc' },
    ],
    ['an Electron window', { protocol: 'app:', host: 'renderer', hash: '#token=abc' }],
    ['a file', { protocol: 'file:', host: '', hash: '#token=abc' }],
  ])('gives undefined for %s', (_what, location) => {
    expect(bridgeUrlFromLocation(location)).toBeUndefined();
  });
});
