/**
 * `market-monitor web`: the app in a browser tab. One MonitorCore (as in the desktop app), the
 * built renderer served on 127.0.0.1, and the MonitorApi bridged over a local WebSocket guarded by
 * a per-run token and an Origin check (electron/host/server.ts). Prints ONE line on stdout, the
 * address to open (the token is in its fragment), and runs until SIGINT/SIGTERM; logs go to stderr.
 *
 * Credentials: APCA_API_KEY_ID / APCA_API_SECRET_KEY from the environment, if set, are held in
 * memory (there is no OS keyring to reach from here); keys typed in Settings are held in memory too
 * and forgotten at exit. Settings and watchlists are files in the data folder, kept apart from the
 * desktop app's so that the two never write the same files at once.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SESSION_MODES, type SessionMode } from '../simulator/market-hours.ts';
import { UsageError, parseChoice, parsePositive } from './args.ts';

export const WEB_USAGE = `usage: market-monitor web [--port N] [--data-dir DIR] [--static DIR] [--log-level LEVEL]
       [--session auto|pre|regular|post|closed]
Serves the app to a browser on 127.0.0.1 and prints the address to open (it carries a one-run
access token). --port: default 0, a free port. --data-dir: settings and watchlists, default
$XDG_CONFIG_HOME/market-monitor-web or ~/.config/market-monitor-web. --static: the built renderer,
default .vite/renderer/main_window in the package (npm run build:renderer makes it). Keys come
from APCA_API_KEY_ID / APCA_API_SECRET_KEY, or Settings (kept in memory only). --session: the
built-in simulator's market session (default regular; auto follows New York's clock).`;

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The package root: this file is electron/cli/web-command.ts. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where `vite build -c vite.renderer.config.ts` writes the renderer (Forge's folder for it). */
export const DEFAULT_STATIC_DIR = join(PACKAGE_ROOT, '.vite', 'renderer', 'main_window');

export interface WebPlan {
  readonly port: number;
  readonly dataDir: string;
  readonly staticDir: string;
  readonly logLevel: (typeof LEVELS)[number];
  /** The embedded simulator's market session; undefined: its default. */
  readonly session: SessionMode | undefined;
}

/** The default data folder: XDG's config home (or ~/.config), `market-monitor-web` in it. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const xdg = env['XDG_CONFIG_HOME'];
  // XDG says a relative value is invalid and must be ignored.
  const base =
    xdg !== undefined && xdg !== '' && xdg.startsWith('/') ? xdg : join(homedir(), '.config');
  return join(base, 'market-monitor-web');
}

/** Turns argv and the environment into a plan; throws UsageError for anything wrong. */
export function parseWebArgs(argv: readonly string[], env: NodeJS.ProcessEnv): WebPlan {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      static: { type: 'string' },
      'log-level': { type: 'string' },
      session: { type: 'string' },
    },
  });
  const port = parsePositive('--port', values.port, { integer: true, allowZero: true }) ?? 0;
  if (port > 65_535) throw new UsageError(`--port must be at most 65535; got ${port}`);
  if (values['data-dir'] === '') throw new UsageError('--data-dir must not be empty');
  if (values.static === '') throw new UsageError('--static must not be empty');
  return {
    port,
    dataDir: resolve(values['data-dir'] ?? defaultDataDir(env)),
    staticDir: resolve(values.static ?? DEFAULT_STATIC_DIR),
    logLevel: parseChoice('--log-level', values['log-level'], LEVELS) ?? 'warn',
    session: parseChoice('--session', values.session, SESSION_MODES),
  };
}

export interface WebIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
  readonly stopSignal: Promise<string>;
}

async function packageVersion(): Promise<string> {
  try {
    const text = await readFile(join(PACKAGE_ROOT, 'package.json'), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function runWeb(argv: readonly string[], io: WebIo): Promise<number> {
  const plan = parseWebArgs(argv, io.env);
  // Loaded here, not at the top: `stream` and `simulate` do not need the core, and a usage error
  // is reported before any of it loads.
  const [{ MonitorCore }, { MemorySecretStore }, { createCoreLogger }, { startHost }] =
    await Promise.all([
      import('../core/monitor-core.ts'),
      import('../core/memory-secrets.ts'),
      import('../core/logging.ts'),
      import('../host/server.ts'),
    ]);
  const { logger, ring } = createCoreLogger({ level: plan.logLevel, destination: io.stderr });
  const log = logger.child({ module: 'web' });

  const keyId = io.env['APCA_API_KEY_ID'];
  const secret = io.env['APCA_API_SECRET_KEY'];
  const secrets = new MemorySecretStore(keyId && secret ? { initial: { keyId, secret } } : {});
  const core = await MonitorCore.create({
    userDataDir: plan.dataDir,
    secrets,
    app: {
      name: 'Market Monitor (browser mode)',
      version: await packageVersion(),
      platform: process.platform,
      runtime: `node ${process.version}`,
    },
    logger,
    logRing: ring,
    ...(plan.session === undefined ? {} : { simulator: { session: plan.session } }),
  });

  let host;
  try {
    host = await startHost({ core, staticDir: plan.staticDir, port: plan.port, logger });
  } catch (err) {
    await core.close();
    // A taken port is the user's to fix: one line, exit 2.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new UsageError(`cannot listen on 127.0.0.1:${plan.port}: ${(err as Error).message}`);
    }
    throw err;
  }
  try {
    await readFile(join(plan.staticDir, 'index.html'));
  } catch {
    log.warn(
      { staticDir: plan.staticDir },
      'the renderer is not built here (run npm run build:renderer); the page will say so',
    );
  }

  io.stdout.write(`Market Monitor (browser mode): ${host.url}\n`);
  const signal = await io.stopSignal;
  log.info({ signal }, 'stopping');
  await host.close();
  await core.close();
  logger.flush();
  return 0;
}
