/**
 * Market sessions and REST faults from the command line: `simulate --session closed` as a real
 * child process (its listening line, a closed clock, silent stock feeds), and the flags of
 * `simulate` and `web` as parsed.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../electron/cli/args.ts';
import { parseSimulateArgs } from '../../../electron/cli/simulate-command.ts';
import { parseWebArgs } from '../../../electron/cli/web-command.ts';
import { connect, shut, until } from './helpers.ts';

const BIN = fileURLToPath(new URL('../../../bin/market-monitor.js', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('simulate --session', () => {
  it('closed: prints its listening line with the REST URL; the clock is closed and stocks are silent', async () => {
    const child = spawn(process.execPath, [BIN, 'simulate', '--port', '0', '--session', 'closed'], {
      env: { ...process.env, APCA_API_KEY_ID: '', APCA_API_SECRET_KEY: '' },
    });
    children.push(child);
    const lines = createInterface({ input: child.stdout });
    const [line] = (await once(lines, 'line')) as [string];
    const listening = JSON.parse(line) as Record<string, unknown>;
    expect(listening).toMatchObject({ type: 'listening', session: 'closed', isOpen: false });
    expect(String(listening.url)).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const restUrl = String(listening.restUrl);
    expect(restUrl).toBe(String(listening.url).replace('ws://', 'http://'));

    const clock = (await (await fetch(`${restUrl}/v2/clock`)).json()) as Record<string, unknown>;
    expect(clock.is_open).toBe(false);
    expect(Date.parse(String(clock.next_open))).toBeGreaterThan(Date.now());

    const client = await connect(`${String(listening.url)}/v2/iex`);
    client.send({ action: 'subscribe', quotes: ['*'], trades: ['*'] });
    await until(() => client.ofType('subscription').length === 1, 'the echo');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(client.data()).toEqual([]);
    await shut(client);

    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it('a bad session is a usage error (exit 2) before anything listens', async () => {
    const child = spawn(process.execPath, [BIN, 'simulate', '--session', 'lunch']);
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(stderr).toMatch(/--session must be one of auto, pre, regular, post, closed/);
  });
});

describe('session and REST fault flags', () => {
  it('simulate takes --session and the --rest-* faults', () => {
    const plan = parseSimulateArgs([
      '--session',
      'pre',
      '--rest-rate-limit',
      '200',
      '--rest-500',
      '0.25',
      '--rest-slow-ms',
      '1500',
      '--rest-malformed',
    ]);
    expect(plan.options.session).toBe('pre');
    expect(plan.options.restFaults).toEqual({
      rateLimitPerMinute: 200,
      error500: 0.25,
      slowMs: 1500,
      malformed: true,
    });
    expect(parseSimulateArgs(['--rest-500', '1']).options.restFaults).toEqual({ error500: true });
    expect(parseSimulateArgs([]).options.session).toBeUndefined();
    for (const bad of [
      ['--session', 'lunch'],
      ['--rest-rate-limit', '0'],
      ['--rest-rate-limit', '1.5'],
      ['--rest-500', '2'],
      ['--rest-slow-ms=-1'],
      ['--rest-slow-ms', '999999'],
    ]) {
      expect(() => parseSimulateArgs(bad), bad.join(' ')).toThrow(UsageError);
    }
  });

  it('web takes --session for its embedded simulator', () => {
    expect(parseWebArgs(['--session', 'auto'], {}).session).toBe('auto');
    expect(parseWebArgs([], {}).session).toBeUndefined();
    expect(() => parseWebArgs(['--session', 'overnight'], {})).toThrow(UsageError);
  });
});
