/**
 * `market-monitor simulate --control-stdin`, run in-process on a loopback port: a client
 * subscribed to statuses and LULD bands gets the band and the halt when `halt AAPL` is written to
 * stdin, and the resume after `resume AAPL`; each line is answered on stdout, bad ones with the
 * reason, and nothing stops the server.
 */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { runSimulate } from '../../../electron/cli/simulate-command.ts';
import { waitFor } from '../../support/wait.ts';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function lineReader(stream: PassThrough): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>);
      buffered = buffered.slice(nl + 1);
    }
  });
  return lines;
}

describe('simulate --control-stdin', () => {
  it('halts and resumes a symbol on demand; bad lines are answered and change nothing', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out = lineReader(stdout);
    let stop: (signal: string) => void = () => undefined;
    const stopSignal = new Promise<string>((resolve) => (stop = resolve));
    const exit = runSimulate(
      ['--port', '0', '--rate', '0', '--key', 'k', '--secret', 's', '--control-stdin'],
      { stdout, stderr, stdin, stopSignal },
    );
    cleanups.push(async () => {
      stop('SIGTERM');
      await exit;
    });
    await waitFor(() => out.some((l) => l['type'] === 'listening'), { what: 'listening' });
    const url = String(out.find((l) => l['type'] === 'listening')!['url']);

    const items: Record<string, unknown>[] = [];
    const ws = new WebSocket(`${url}/v2/iex`, {
      headers: { 'APCA-API-KEY-ID': 'k', 'APCA-API-SECRET-KEY': 's' },
    });
    cleanups.push(() => ws.terminate());
    ws.on('message', (data: Buffer) => {
      items.push(...(JSON.parse(data.toString('utf8')) as Record<string, unknown>[]));
    });
    await waitFor(() => items.some((i) => i['msg'] === 'authenticated'), { what: 'auth' });
    ws.send(JSON.stringify({ action: 'subscribe', statuses: ['AAPL'], lulds: ['AAPL'] }));
    await waitFor(() => items.some((i) => i['T'] === 'subscription'), { what: 'the echo' });

    stdin.write('halt aapl\n');
    await waitFor(() => items.some((i) => i['T'] === 's'), { what: 'the halt status' });
    expect(out.find((l) => l['type'] === 'control')).toEqual({
      type: 'control',
      applied: 'AAPL halted',
      connections: 1,
    });
    const data = items.filter((i) => i['T'] === 's' || i['T'] === 'l');
    expect(data.map((i) => [i['T'], i['S'], i['sc'] ?? i['i']])).toEqual([
      ['l', 'AAPL', 'A'],
      ['s', 'AAPL', 'H'],
    ]);

    for (const bad of [
      'jump AAPL',
      'halt',
      'halt AAPL MSFT',
      'halt BTC/USD',
      'halt a a',
      'resume $$',
    ]) {
      stdin.write(`${bad}\n`);
    }
    stdin.write('resume AAPL\n');
    await waitFor(() => items.some((i) => i['T'] === 's' && i['sc'] === 'T'), {
      what: 'the resume status',
    });
    const answers = out.filter((l) => l['type'] === 'control' || l['type'] === 'control-error');
    expect(answers.map((l) => [l['type'], l['message'] ?? l['applied']])).toEqual([
      ['control', 'AAPL halted'],
      ['control-error', 'the control lines are `halt SYMBOL` and `resume SYMBOL`'],
      ['control-error', '`halt` takes one symbol'],
      ['control-error', '`halt` takes one symbol'],
      ['control-error', 'crypto pairs have no trading halts'],
      ['control-error', '`halt` takes one symbol'],
      ['control-error', 'not a symbol (only letters, digits, ".", "-" and "/" are allowed)'],
      ['control', 'AAPL resumed'],
    ]);

    stop('SIGTERM');
    expect(await exit).toBe(0);
  });
});
