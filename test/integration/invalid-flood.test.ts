/**
 * A hostile server sending malformed items and long error messages at full speed (issue 15,
 * finding 2). Bounded, whatever it sends:
 * - the client's log: the first of each reason at once, then one summary per interval, while its
 *   counters stay exact (in process, a short interval);
 * - `market-monitor stream` as a user runs it (a child process, RSS read from /proc): its stdout
 *   lines per second, and its RSS under a reader that reads slowly, as a ratio of its own warm idle
 *   figure.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { StreamClient } from '../../electron/stream/client.ts';
import { LogRing, ringLogger } from '../../electron/stream/log.ts';
import {
  alpacaSession,
  startScriptedServer,
  type ScriptedServer,
} from '../support/scripted-server.ts';
import { waitFor, waitForState } from '../support/wait.ts';

const BIN = fileURLToPath(new URL('../../bin/market-monitor.js', import.meta.url));
const T = '2025-03-04T15:02:11.123456789Z';

/** One frame of 200 bad items, five reasons in equal parts. */
const BAD_ITEMS = [
  '{"T":"q","S":"AAPL"}', // missing-field
  '{"T":"zz","S":"AAPL"}', // unknown-type
  `{"T":"q","S":"AAPL","bp":-1,"bs":1,"ap":1,"as":1,"t":"${T}"}`, // negative-value
  '5', // not-object
  `{"T":"q","S":"AAPL","bp":1e400,"bs":1,"ap":1,"as":1,"t":"${T}"}`, // wrong-type
];
const REASONS = 5;
const ITEMS_PER_FRAME = 200;
const BAD_FRAME = `[${Array.from({ length: ITEMS_PER_FRAME }, (_, i) => BAD_ITEMS[i % REASONS]).join(',')}]`;
/** An error code that does not end the session, with a 1,000-character message. */
const ERROR_FRAME = JSON.stringify([{ T: 'error', code: 499, msg: 'x'.repeat(1_000) }]);

interface Flood {
  on: boolean;
  items: number;
  errors: number;
}

/** An Alpaca session that, once flooding is on, sends bad frames as fast as the socket takes them. */
function hostile(flood: Flood): (ws: WebSocket) => void {
  return (ws) => {
    alpacaSession(ws);
    let n = 0;
    const pump = (): void => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (flood.on) {
        // Full speed, but never more than 1 MiB queued here: the test process must not balloon.
        while (ws.bufferedAmount < 1024 * 1024) {
          ws.send(BAD_FRAME);
          flood.items += ITEMS_PER_FRAME;
          if (++n % 10 === 0) {
            ws.send(ERROR_FRAME);
            flood.errors++;
          }
        }
      }
      setTimeout(pump, 1);
    };
    pump();
  };
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function server(flood: Flood): Promise<ScriptedServer> {
  const s = await startScriptedServer(hostile(flood));
  cleanups.push(() => s.close());
  return s;
}

describe('the client log under a flood of bad input', () => {
  it('logs each reason once at once, then one summary per interval; counters stay exact', async () => {
    const flood: Flood = { on: false, items: 0, errors: 0 };
    const s = await server(flood);
    const ring = new LogRing(100_000);
    const client = new StreamClient({
      url: s.url,
      key: 'k',
      secret: 's',
      staleAfterMs: 0,
      logSummaryIntervalMs: 200,
      logger: ringLogger(ring, 'info'),
    });
    cleanups.push(() => client.dispose());
    client.subscribe('quotes', ['AAPL']);
    client.connect();
    await waitForState(client, 'live');
    const started = performance.now();
    flood.on = true;
    await waitFor(() => flood.items >= 60_000, {
      what: '60,000 bad items sent',
      timeoutMs: 15_000,
    });
    flood.on = false;
    const sent = flood.items;
    await waitFor(() => client.metrics.snapshot().invalid.total === sent, {
      what: 'every bad item counted',
      timeoutMs: 15_000,
    });
    const elapsed = performance.now() - started;
    client.dispose(); // logs the counts still pending
    const records = ring.records();
    const invalid = records.filter((r) => String(r.msg).startsWith('invalid input dropped'));
    const errors = records.filter((r) => String(r.msg).startsWith('server error'));
    // Per reason: one at once, then at most one per interval (and a final one at dispose).
    const intervals = Math.ceil(elapsed / 200) + 2;
    expect(invalid.length).toBeLessThanOrEqual(REASONS * (intervals + 1));
    expect(errors.length).toBeLessThanOrEqual(intervals + 1);
    // The log adds up to the counters, which count every item.
    const byReason = client.metrics.snapshot().invalid.byReason;
    expect(Object.values(byReason).reduce((a, b) => a + b, 0)).toBe(sent);
    for (const reason of Object.keys(byReason)) {
      const logged = invalid
        .filter((r) => r['reason'] === reason)
        .reduce((n, r) => n + (typeof r['count'] === 'number' ? r['count'] : 1), 0);
      expect(logged, reason).toBe(byReason[reason]);
    }
    expect(Object.keys(byReason).sort()).toEqual([
      'missing-field',
      'negative-value',
      'not-object',
      'unknown-type',
      'wrong-type',
    ]);
    // Excerpts show the wire text; server messages are clipped.
    const wrongType = invalid.find((r) => r['reason'] === 'wrong-type');
    expect(String(wrongType?.['excerpt'])).toContain('"bp":1e400');
    for (const r of errors) expect(String(r['serverMsg']).length).toBeLessThanOrEqual(200);
  });
});

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!m) throw new Error('no VmRSS');
  return Number(m[1]);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('market-monitor stream under a flood of bad input', () => {
  it('prints a few summary lines a second and keeps its RSS near idle under a slow reader', async () => {
    const flood: Flood = { on: false, items: 0, errors: 0 };
    const s = await server(flood);
    const child: ChildProcessWithoutNullStreams = spawn(
      process.execPath,
      [BIN, 'stream', '--url', s.url, '--quotes', 'AAPL'],
      { env: { ...process.env, APCA_API_KEY_ID: '', APCA_API_SECRET_KEY: '' } },
    );
    cleanups.push(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stderrLines = 0;
    child.stderr.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 10) stderrLines++;
    });
    const lines: Array<Record<string, unknown>> = [];
    let partial = '';
    const take = (chunk: Buffer): void => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const part of parts) lines.push(JSON.parse(part) as Record<string, unknown>);
    };
    child.stdout.on('data', take);
    await waitFor(() => lines.some((l) => l['type'] === 'state' && l['state'] === 'live'), {
      what: 'the CLI live',
      timeoutMs: 10_000,
    });

    // Warm idle: live, nothing arriving.
    await sleep(1_000);
    const idleSamples: number[] = [];
    for (let i = 0; i < 5; i++) {
      idleSamples.push(await rssKiB(child.pid!));
      await sleep(100);
    }
    const idle = Math.max(...idleSamples);

    // 1. Full speed, stdout read as fast as it comes: lines a second stay few.
    flood.on = true;
    const before = lines.length;
    const stderrBefore = stderrLines;
    await sleep(2_000);
    const fastLines = lines.slice(before);
    const perSecond = fastLines.length / 2;
    // Five reasons and one error code, each at most twice a second, and a `dropped` line.
    expect(perSecond, JSON.stringify(fastLines.slice(0, 5))).toBeLessThanOrEqual(
      (REASONS + 1) * 2 + 1,
    );
    expect(fastLines.some((l) => l['type'] === 'invalid')).toBe(true);
    expect(stderrLines - stderrBefore).toBeLessThanOrEqual((REASONS + 1) * 2);
    for (const l of fastLines) {
      if (l['type'] === 'error') expect(String(l['message']).length).toBeLessThanOrEqual(200);
    }

    // 2. The reader slows down to 4 KiB every 100 ms: RSS stays near its idle figure.
    child.stdout.off('data', take);
    child.stdout.pause();
    let peak = idle;
    const slowUntil = performance.now() + 4_000;
    while (performance.now() < slowUntil) {
      const chunk =
        (child.stdout.read(4096) as Buffer | null) ?? (child.stdout.read() as Buffer | null);
      if (chunk) take(chunk);
      peak = Math.max(peak, await rssKiB(child.pid!));
      await sleep(100);
    }
    flood.on = false;
    const itemsSent = flood.items;
    // Stated bound: peak RSS under the flood at most 1.5x the warm idle RSS (an unbounded output
    // buffer grew it by tens of MiB a second).
    expect(peak / idle, `idle ${idle} KiB, peak ${peak} KiB`).toBeLessThanOrEqual(1.5);
    expect(itemsSent).toBeGreaterThan(20_000); // the flood did flood

    // 3. Stop: the summary's counters agree with the lines.
    child.stdout.on('data', take);
    child.stdout.resume();
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    const summary = lines.at(-1);
    expect(summary?.['type']).toBe('summary');
    const counted = (summary?.['metrics'] as { invalid: { total: number } }).invalid.total;
    const printed = lines
      .filter((l) => l['type'] === 'invalid')
      .reduce((n, l) => n + (l['count'] as number), 0);
    const dropped = ((summary?.['droppedByType'] as Record<string, number> | undefined) ?? {})[
      'invalid'
    ];
    expect(dropped ?? 0).toBe(0); // a few lines a second never fall 16 MiB behind
    expect(printed).toBe(counted);
    expect(counted).toBeGreaterThan(20_000);
  }, 30_000);
});
