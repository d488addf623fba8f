/**
 * Section `hostile` (issue 15): the loads an attacker on the same machine can make, against the
 * processes a user runs, each measured against the same process idle.
 *
 * - `web` (MonitorCore, the embedded simulator and the bridge in one process):
 *   1. the bridge: 8 sockets with the page's token pipelining diagnostics:export without reading;
 *   2. the embedded simulator: its loopback port found as any local process can (the listening
 *      sockets in /proc/net/tcp owned by the process), then 12 connections subscribing about
 *      1 MiB of fresh symbols per message with a guessed key (the core's is random per run),
 *      never reading.
 * - `simulate`: the same subscribe flood.
 * The loads run in their own process (bench/hostile-load.ts). RSS is read from /proc/PID/status
 * every 50 ms from outside; the bridge's answer time is measured by a socket of this process that
 * reads, invoking settings:get every 20 ms, idle and during each attack.
 *
 * Targets: peak RSS during an attack <= 2x the idle figure; the bridge's p99 answer time during
 * an attack <= 50 ms.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { WebSocket, type RawData } from 'ws';
import { target, type Section, type Table, type Target } from './lib/report.ts';
import { RssSampler, idleRssMiB } from './lib/rss.ts';

interface Phase {
  readonly process: string;
  readonly load: string;
  readonly idleRss: number;
  readonly peakRss: number;
  readonly idleP99: number | null;
  readonly attackP99: number | null;
  readonly answers: number | null;
  readonly unanswered: number | null;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Reads the first stdout line of a child. */
function firstLine(child: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!child.stdout) throw new Error('no stdout');
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${what} exited ${String(code)}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Loopback TCP ports `pid` listens on, from /proc (what any local process can find). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    const [, local, , state, , , , , , inode] = cols;
    if (state !== '0A' || local === undefined || inode === undefined) continue;
    if (!inodes.has(inode)) continue;
    ports.push(parseInt(local.split(':')[1] ?? '0', 16));
  }
  return ports;
}

/** A bridge socket that reads, invoking settings:get every `everyMs`; answer times in ms. */
class Probe {
  readonly times: number[] = [];
  #sent = new Map<number, number>();
  #id = 0;
  #timer: NodeJS.Timeout | undefined;
  #ws: WebSocket;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return;
      const text = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      const message = JSON.parse(text.toString('utf8')) as { type?: string; id?: number };
      if (message.type !== 'result' || message.id === undefined) return;
      const at = this.#sent.get(message.id);
      if (at === undefined) return;
      this.#sent.delete(message.id);
      this.times.push(performance.now() - at);
    });
  }

  static async open(pageUrl: string): Promise<Probe> {
    const page = new URL(pageUrl);
    const token = new URLSearchParams(page.hash.slice(1)).get('token') ?? '';
    const ws = new WebSocket(`ws://${page.host}/bridge?token=${encodeURIComponent(token)}`, {
      origin: page.origin,
      perMessageDeflate: false,
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Probe(ws);
  }

  /** Measures for `ms`; returns the answer times and how many went unanswered. */
  async measure(ms: number, everyMs = 20): Promise<{ times: number[]; unanswered: number }> {
    this.times.length = 0;
    this.#sent.clear();
    this.#timer = setInterval(() => {
      if (this.#ws.readyState !== this.#ws.OPEN) return;
      const id = this.#id++;
      this.#sent.set(id, performance.now());
      this.#ws.send(JSON.stringify({ type: 'invoke', id, command: 'settings:get', payload: {} }));
    }, everyMs);
    await sleep(ms);
    clearInterval(this.#timer);
    // Late answers still count, up to a second after the window.
    const deadline = Date.now() + 1000;
    while (this.#sent.size > 0 && Date.now() < deadline) await sleep(20);
    return { times: [...this.times], unanswered: this.#sent.size };
  }

  close(): void {
    this.#ws.terminate();
  }
}

function startLoad(root: string, mode: string, config: Record<string, unknown>): ChildProcess {
  return spawn(
    process.execPath,
    [join(root, 'bench', 'hostile-load.ts'), mode, JSON.stringify(config)],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
}

export const run: Section = async (ctx) => {
  const attackMs = ctx.quick ? 5000 : 12_000;
  const idleMs = ctx.quick ? 3000 : 6000;
  const bin = join(ctx.root, 'bin', 'market-monitor.js');
  const phases: Phase[] = [];
  const children: ChildProcess[] = [];
  const dataDir = await mkdtemp(join(tmpdir(), 'mm-bench-hostile-'));
  try {
    // ---- web
    ctx.log('web: starting');
    const web = spawn(process.execPath, [bin, 'web', '--data-dir', dataDir, '--port', '0'], {
      env: { ...process.env, APCA_API_KEY_ID: '', APCA_API_SECRET_KEY: '' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    children.push(web);
    const line = await firstLine(web, 'web');
    const pageUrl = line.slice(line.indexOf('http://'));
    const hostPort = Number(new URL(pageUrl).port);
    await sleep(3000);
    const probe = await Probe.open(pageUrl);
    ctx.log('web: idle');
    const [webIdleRss, idleProbe] = await Promise.all([
      idleRssMiB(web.pid!, Math.round(idleMs / 100), 100),
      probe.measure(idleMs),
    ]);
    const idleP99 = percentile(idleProbe.times, 99);

    const attackWeb = async (load: string, mode: string, config: Record<string, unknown>) => {
      ctx.log(`web: ${load}`);
      const attacker = startLoad(ctx.root, mode, { ...config, durationMs: attackMs });
      children.push(attacker);
      const sampler = new RssSampler(web.pid!, 50);
      const measured = await probe.measure(attackMs);
      const peak = sampler.stop();
      await stop(attacker);
      phases.push({
        process: 'web',
        load,
        idleRss: webIdleRss,
        peakRss: peak,
        idleP99,
        attackP99: percentile(measured.times, 99),
        answers: measured.times.length,
        unanswered: measured.unanswered,
      });
      await sleep(3000);
    };

    await attackWeb('bridge: 8 sockets pipelining diagnostics:export, not reading', 'bridge', {
      url: pageUrl,
      sockets: 8,
    });
    const simPorts = listeningPorts(web.pid!).filter((p) => p !== hostPort);
    if (simPorts.length !== 1) {
      throw new Error(`expected one simulator port in web, found ${JSON.stringify(simPorts)}`);
    }
    await attackWeb(
      'embedded simulator: 12 connections, ~1 MiB subscribes, not reading',
      'simulator',
      { url: `ws://127.0.0.1:${simPorts[0]}/v2/iex`, connections: 12, messageBytes: 1 << 20 },
    );
    probe.close();
    await stop(web);

    // ---- simulate
    ctx.log('simulate: starting');
    const sim = spawn(process.execPath, [bin, 'simulate', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    children.push(sim);
    const { url } = JSON.parse(await firstLine(sim, 'simulate')) as { url: string };
    await sleep(2000);
    const simIdle = await idleRssMiB(sim.pid!, Math.round(idleMs / 100), 100);
    for (const [load, bytes] of [
      ['12 connections, ~1 MiB subscribes, not reading', 1 << 20],
      ['12 connections, 16 KiB subscribes pipelined, not reading', 16 * 1024],
    ] as const) {
      ctx.log(`simulate: ${load}`);
      const attacker = startLoad(ctx.root, 'simulator', {
        url: `${url}/v2/iex`,
        connections: 12,
        messageBytes: bytes,
        durationMs: attackMs,
      });
      children.push(attacker);
      const sampler = new RssSampler(sim.pid!, 50);
      await sleep(attackMs);
      const peak = sampler.stop();
      await stop(attacker);
      phases.push({
        process: 'simulate',
        load,
        idleRss: simIdle,
        peakRss: peak,
        idleP99: null,
        attackP99: null,
        answers: null,
        unanswered: null,
      });
      await sleep(3000);
    }
    await stop(sim);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }

  const table: Table = {
    title:
      'Hostile loads: peak RSS and the bridge’s answer time, each against the same process idle',
    columns: [
      'process',
      'load',
      'idle RSS MiB',
      'peak RSS MiB',
      'peak / idle',
      'bridge p99 idle ms',
      'bridge p99 attack ms',
      'answers',
      'unanswered',
    ],
    rows: phases.map((p) => [
      p.process,
      p.load,
      p.idleRss,
      p.peakRss,
      p.peakRss / p.idleRss,
      p.idleP99,
      p.attackP99,
      p.answers,
      p.unanswered,
    ]),
    note:
      `${attackMs / 1000} s per attack, ${idleMs / 1000} s idle before; RSS from /proc/PID/status every 50 ms; ` +
      'the bridge probe invokes settings:get every 20 ms on a socket that reads (an unanswered one counts as a miss). ' +
      'Loads from bench/hostile-load.ts in their own process. web runs its simulator with a random key pair per run, known only to its core: the attacker does not have it.',
  };
  const targets: Target[] = [];
  for (const p of phases) {
    const short = p.load.split(':')[0] ?? p.load;
    targets.push(
      target(`hostile ${p.process} ${short}: peak RSS / idle`, p.peakRss / p.idleRss, '<=', 2, 'x'),
    );
    if (p.attackP99 !== null) {
      // An unanswered probe is a miss whatever the p99 of the answered ones.
      const p99 = (p.unanswered ?? 0) > 0 ? Number.POSITIVE_INFINITY : p.attackP99;
      targets.push(target(`hostile ${p.process} ${short}: bridge p99`, p99, '<=', 50, 'ms'));
    }
  }
  return { name: 'hostile', tables: [table], targets, details: { phases } };
};
