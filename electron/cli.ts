/**
 * The `market-monitor` command: `stream` (the client to NDJSON), `simulate` (the embedded
 * Alpaca-protocol simulator as a standalone server), `web` (the app in a browser tab: browser
 * mode). Runs in plain Node: no electron import.
 */
import { UsageError } from './cli/args.ts';
import { runSimulate, SIMULATE_USAGE } from './cli/simulate-command.ts';
import { runStream, STREAM_USAGE } from './cli/stream-command.ts';
import { runWeb, WEB_USAGE } from './cli/web-command.ts';

const USAGE = `usage: market-monitor <command> [options]

commands:
  stream     stream market data as NDJSON (Alpaca, any URL, or the built-in simulator)
  simulate   run the built-in Alpaca-protocol simulator
  web        open the app in a browser (serves it on 127.0.0.1 and prints the address)

${STREAM_USAGE}

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

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'stream':
        return await runStream(rest, {
          stdout: process.stdout,
          stderr: process.stderr,
          env: process.env,
          stopSignal: signalPromise(),
        });
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
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        return 0;
      case undefined:
        throw new UsageError(
          'missing command (stream, simulate or web); see market-monitor --help',
        );
      default:
        throw new UsageError(
          `unknown command ${JSON.stringify(command)} (stream, simulate or web); see market-monitor --help`,
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

/** node:util parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown or bad flags. */
function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}
