/**
 * The embedded simulator is for the core's own client alone (hardening finding 1): any local
 * process can find its loopback port, so it takes only this run's random key pair, and reads no
 * client message larger than its own client ever sends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { waitFor } from '../../support/wait.ts';
import { runCleanups, setup, value } from './harness.ts';

afterEach(runCleanups);

/** Opens `url`, sends `messages` once the server greets, and collects what comes back until close. */
function converse(
  url: string,
  messages: readonly string[],
): Promise<{ texts: string[]; code: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const texts: string[] = [];
    let greeted = false;
    ws.on('message', (data) => {
      texts.push(
        Buffer.isBuffer(data)
          ? data.toString('utf8')
          : Buffer.from(data as ArrayBuffer).toString('utf8'),
      );
      if (!greeted) {
        greeted = true;
        for (const m of messages) ws.send(m);
      }
    });
    ws.on('close', (code) => resolve({ texts, code }));
    ws.on('error', reject);
    setTimeout(() => ws.terminate(), 4_000);
  });
}

describe('the embedded simulator is locked to the core', () => {
  it('refuses a key other than the run key (402), while the core itself is live', async () => {
    const { view, sink } = await setup({ core: { simulator: { rate: 100, symbols: 20 } } });
    await waitFor(() => sink.last('connection:state')?.state === 'live', { what: 'live' });
    const url = (await value(view, 'diagnostics:snapshot', {})).connection.url;
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v2\/iex$/);
    const { texts } = await converse(url, [
      JSON.stringify({ action: 'auth', key: 'demo', secret: 'demo' }),
    ]);
    expect(texts.join('\n')).toContain('"code":402');
    // The core's own connection is untouched.
    expect((await value(view, 'diagnostics:snapshot', {})).connection.state).toBe('live');
  });

  it('drops a client message larger than its own client ever sends, unread', async () => {
    const { view, sink } = await setup({ core: { simulator: { rate: 100, symbols: 20 } } });
    await waitFor(() => sink.last('connection:state')?.state === 'live', { what: 'live' });
    const url = (await value(view, 'diagnostics:snapshot', {})).connection.url;
    const huge = JSON.stringify({ action: 'auth', key: 'x'.repeat(200 * 1024), secret: 'y' });
    const { code } = await converse(url, [huge]);
    expect(code).toBe(1009); // ws: message too big
  });
});
