/**
 * The app's root logger and the ring the log panel reads, made together. A pino logger's
 * destination is fixed when it is created (a child cannot add one), so the core cannot tee a
 * logger it is handed: whoever makes the root logger makes it write into the ring too, and hands
 * both to MonitorCore. This is that maker for the Electron main process and browser mode.
 */
import { pino, type DestinationStream, type Level, type LevelWithSilent } from 'pino';
import { createLogger, LogRing, type LogRecord, type Logger } from '../stream/log.ts';

export interface CoreLoggerOptions {
  /**
   * What reaches `destination`. Default 'info'. The ring keeps 'info' and up even when this is
   * quieter ('warn' for browser mode's terminal), because the diagnostics panel's event log is where
   * a user reads state changes and reconnects; 'silent' silences the ring too.
   */
  readonly level?: LevelWithSilent;
  /** Where records go besides the ring (stderr, a file). Default: the ring only. */
  readonly destination?: DestinationStream;
  /** Records the ring keeps. Default 2 000. */
  readonly capacity?: number;
  /** An existing ring to write into instead of a new one (`capacity` is then ignored). */
  readonly ring?: LogRing;
}

export interface CoreLogger {
  readonly logger: Logger;
  readonly ring: LogRing;
}

/** A DestinationStream that parses each line into the ring, synchronously. */
export function ringDestination(ring: LogRing): DestinationStream {
  return {
    write(line: string): void {
      for (const part of line.split('\n')) {
        if (!part) continue;
        try {
          ring.push(JSON.parse(part) as LogRecord);
        } catch {
          // pino writes one JSON object per line; anything else is not ours to show.
        }
      }
    },
  };
}

/** The least the ring keeps (unless the logger is silent). */
const RING_LEVEL: Level = 'info';

/** The more verbose of two levels. */
function moreVerbose(a: Level, b: Level): Level {
  return pino.levels.values[a]! <= pino.levels.values[b]! ? a : b;
}

export function createCoreLogger(options: CoreLoggerOptions = {}): CoreLogger {
  const level = options.level ?? 'info';
  const ring = options.ring ?? new LogRing(options.capacity ?? 2_000);
  const toRing = ringDestination(ring);
  if (level === 'silent') return { logger: createLogger({ level, destination: toRing }), ring };
  const ringLevel = moreVerbose(level, RING_LEVEL);
  if (options.destination === undefined) {
    return { logger: createLogger({ level: ringLevel, destination: toRing }), ring };
  }
  // The logger lets through what either stream wants; each stream then keeps its own level.
  const both = pino.multistream([
    { level: ringLevel, stream: toRing },
    { level, stream: options.destination },
  ]);
  return { logger: createLogger({ level: ringLevel, destination: both }), ring };
}

/**
 * A destination on a Node stream (the app passes process.stderr) whose failures are swallowed.
 * Not pino.destination({ fd: 2 }): a packaged GUI app on Windows has no usable stderr, sonic-boom
 * then emits EBADF (an uncaught exception in main when no one listens), and pino's exit-time
 * flushSync on that descriptor never returns, which would hang quitting. process.stderr instead is
 * Node's own: a black hole where there is no console. Every record also goes to the log ring (the
 * diagnostics panel and export), so nothing the user needs is lost with it.
 */
export function quietStreamDestination(stream: NodeJS.WritableStream): DestinationStream {
  stream.on('error', () => undefined);
  return {
    write(line: string): void {
      try {
        stream.write(line);
      } catch {
        // A destroyed or broken stream: the ring still has the record.
      }
    },
  };
}
