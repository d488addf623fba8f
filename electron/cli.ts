/**
 * The `market-monitor` command: `stream` (the client to NDJSON), `snapshot`, `clock` and `bars`
 * (market context from the REST API, as NDJSON), `simulate` (the embedded Alpaca-protocol
 * simulator as a standalone server), `web` (the app in a browser tab: browser mode). Runs in plain
 * Node: no electron import.
 */
import { UsageError } from './cli/args.ts';
import { BARS_USAGE, runBars } from './cli/bars-command.ts';
import { CLOCK_USAGE, runClock } from './cli/clock-command.ts';
import { runSimulate, SIMULATE_USAGE } from './cli/simulate-command.ts';
import { runSnapshot, SNAPSHOT_USAGE } from './cli/snapshot-command.ts';
import { runStream, STREAM_USAGE } from './cli/stream-command.ts';
import { runWeb, WEB_USAGE } from './cli/web-command.ts';

const COMMAND_USAGE = {
  stream: STREAM_USAGE,
  snapshot: SNAPSHOT_USAGE,
  clock: CLOCK_USAGE,
  bars: BARS_USAGE,
  simulate: SIMULATE_USAGE,
  web: WEB_USAGE,
} as const;

const COMMAND_LIST = 'stream, snapshot, clock, bars, simulate or web';

type CommandName = keyof typeof COMMAND_USAGE;

function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMAND_USAGE, name);
}

const USAGE = `usage: market-monitor <command> [options]

commands:
  stream     stream market data as NDJSON (Alpaca, any URL, or the built-in simulator)
  snapshot   each symbol's last trade, quote, day and change against the previous close
  clock      the market clock: open or not, the session, the next open and close
  bars       historical bars (every page followed) as NDJSON
  simulate   run the built-in Alpaca-protocol simulator
  web        open the app in a browser (serves it on 127.0.0.1 and prints the address)
market-monitor <command> --help (or -h) prints one command's options.

${STREAM_USAGE}

${SNAPSHOT_USAGE}

${CLOCK_USAGE}

${BARS_USAGE}

${SIMULATE_USAGE}

${WEB_USAGE}`;

/** A promise that resolves on the first SIGINT or SIGTERM. */
function signalPromise(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/**
 * Whether a command's arguments ask for help: `--help` or `-h` anywhere before a `--`. It wins over
 * everything else in the line, as in most tools, so `market-monitor simulate --port 1 --help` shows
 * the options instead of starting a server. (A `-h` cannot be meant as a flag's value: node:util's
 * parseArgs refuses a value that starts with a dash unless it is written `--flag=-h`.)
 */
export function asksForHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (isCommand(command) && asksForHelp(rest)) {
    process.stdout.write(`${COMMAND_USAGE[command]}\n`);
    return 0;
  }
  try {
    switch (command) {
      case 'stream':
        return await runStream(rest, {
          stdout: process.stdout,
          stderr: process.stderr,
          env: process.env,
          stopSignal: signalPromise(),
        });
      case 'snapshot':
        return await runSnapshot(rest, restIo());
      case 'clock':
        return await runClock(rest, restIo());
      case 'bars':
        return await runBars(rest, restIo());
      case 'simulate':
        return await runSimulate(rest, {
          stdout: process.stdout,
          stderr: process.stderr,
          stopSignal: signalPromise(),
        });
      case 'web':
        return await runWeb(rest, {
          stdout: process.stdout,
          stderr: process.stderr,
          env: process.env,
          stopSignal: signalPromise(),
        });
      case 'help':
      case '--help':
      case '-h': {
        // `market-monitor help simulate` is `market-monitor simulate --help`.
        const topic = rest[0];
        if (topic !== undefined && !isCommand(topic)) {
          throw new UsageError(
            `no help for ${JSON.stringify(topic)}: the commands are ${COMMAND_LIST.replace(' or ', ' and ')}`,
          );
        }
        process.stdout.write(`${topic === undefined ? USAGE : COMMAND_USAGE[topic]}\n`);
        return 0;
      }
      case undefined:
        throw new UsageError(
          `missing command (${COMMAND_LIST}); see market-monitor --help`,
        );
      default:
        throw new UsageError(
          `unknown command ${JSON.stringify(command)} (${COMMAND_LIST}); see market-monitor --help`,
        );
    }
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      process.stderr.write(`market-monitor: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}

/** The REST commands are one-shot: no stop signal, Ctrl-C ends them as any command. */
function restIo(): { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream; env: NodeJS.ProcessEnv } {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** node:util parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown or bad flags. */
function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}
