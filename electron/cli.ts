/**
 * The `market-monitor` command: `stream` (the client to NDJSON), `snapshot`, `clock` and `bars`
 * (market context from the REST API, as NDJSON), `simulate` (the embedded Alpaca-protocol
 * simulator as a standalone server), `relay` (one Alpaca stream shared with local clients), `web`
 * (the app in a browser tab: browser mode). Runs in plain Node: no electron import.
 */
import { UsageError } from './cli/args.ts';

/**
 * Each command's module, loaded only when that command runs (or its help is asked for): `clock`
 * need not load the stream client, the simulator and the web server first. That halves the start
 * of the one-shot REST commands (about 0.9 s of CPU to 0.4 s), which scripts run often.
 */
const COMMAND_MODULES = {
  stream: async () => {
    const m = await import('./cli/stream-command.ts');
    return { usage: m.STREAM_USAGE, run: m.runStream };
  },
  snapshot: async () => {
    const m = await import('./cli/snapshot-command.ts');
    return { usage: m.SNAPSHOT_USAGE, run: m.runSnapshot };
  },
  clock: async () => {
    const m = await import('./cli/clock-command.ts');
    return { usage: m.CLOCK_USAGE, run: m.runClock };
  },
  bars: async () => {
    const m = await import('./cli/bars-command.ts');
    return { usage: m.BARS_USAGE, run: m.runBars };
  },
  simulate: async () => {
    const m = await import('./cli/simulate-command.ts');
    return { usage: m.SIMULATE_USAGE, run: m.runSimulate };
  },
  relay: async () => {
    const m = await import('./cli/relay-command.ts');
    return { usage: m.RELAY_USAGE, run: m.runRelay };
  },
  web: async () => {
    const m = await import('./cli/web-command.ts');
    return { usage: m.WEB_USAGE, run: m.runWeb };
  },
} as const;

const COMMAND_LIST = 'stream, snapshot, clock, bars, simulate, relay or web';

type CommandName = keyof typeof COMMAND_MODULES;

function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMAND_MODULES, name);
}

async function usageOf(command: CommandName): Promise<string> {
  return (await COMMAND_MODULES[command]()).usage;
}

async function fullUsage(): Promise<string> {
  const all = await Promise.all(
    (Object.keys(COMMAND_MODULES) as CommandName[]).map((c) => usageOf(c)),
  );
  return `usage: market-monitor <command> [options]

commands:
  stream     stream market data as NDJSON (Alpaca, any URL, or the built-in simulator)
  snapshot   each symbol's last trade, quote, day and change against the previous close
  clock      the market clock: open or not, the session, the next open and close
  bars       historical bars (every page followed) as NDJSON
  simulate   run the built-in Alpaca-protocol simulator
  relay      share one Alpaca stream with any number of local Alpaca clients
  web        open the app in a browser (serves it on 127.0.0.1 and prints the address)
market-monitor <command> --help (or -h) prints one command's options.

${all.join('\n\n')}`;
}

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
    process.stdout.write(`${await usageOf(command)}\n`);
    return 0;
  }
  try {
    switch (command) {
      case 'stream':
        return await (
          await COMMAND_MODULES.stream()
        ).run(rest, {
          stdout: process.stdout,
          stderr: process.stderr,
          env: process.env,
          stopSignal: signalPromise(),
        });
      case 'snapshot':
      case 'clock':
      case 'bars':
        return await (await COMMAND_MODULES[command]()).run(rest, restIo());
      case 'simulate':
        return await (
          await COMMAND_MODULES.simulate()
        ).run(rest, {
          stdout: process.stdout,
          stderr: process.stderr,
          stdin: process.stdin,
          stopSignal: signalPromise(),
        });
      case 'relay':
        return await (
          await COMMAND_MODULES.relay()
        ).run(rest, {
          stdout: process.stdout,
          stderr: process.stderr,
          env: process.env,
          stopSignal: signalPromise(),
        });
      case 'web':
        return await (
          await COMMAND_MODULES.web()
        ).run(rest, {
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
        process.stdout.write(`${topic === undefined ? await fullUsage() : await usageOf(topic)}\n`);
        return 0;
      }
      case undefined:
        throw new UsageError(`missing command (${COMMAND_LIST}); see market-monitor --help`);
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
function restIo(): {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
} {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** node:util parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown or bad flags. */
function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}
