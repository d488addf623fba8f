/**
 * The simulator's fault switches and the corrupt frames it can interleave with real data. Every
 * fault is a plain value so a test, the CLI or the UI can set it at start or flip it at run time.
 */
import type { Codec, Feed } from '../../shared/market.ts';
import { framePackr } from '../stream/protocol/index.ts';

export interface SimulatorFaults {
  /** Answer every auth (message or headers) with 402 `auth failed`, then close. */
  readonly refuseAuth: boolean;
  /**
   * Authenticated connections allowed at once on one path (Alpaca allows one per endpoint and
   * account). An auth past it gets 406 `connection limit exceeded` and the socket is closed.
   * `undefined`: no limit.
   */
  readonly connectionLimit: number | undefined;
  /**
   * How long an authenticated connection still holds its slot after it ended (Alpaca keeps a
   * half-dead session for up to about 90 s). Counts only while `connectionLimit` is set. 0: none.
   */
  readonly connectionLingerMs: number;
  /**
   * Most (channel, symbol) pairs one connection may hold; `*` counts as one symbol. A subscribe
   * that would pass it is refused whole with 405 `symbol limit exceeded` and no echo.
   * `undefined`: no limit.
   */
  readonly symbolLimit: number | undefined;
  /**
   * Terminate a connection (no close frame) once it has been sent this many data messages.
   * Applies to every connection, new ones too, until cleared. `undefined`: never.
   */
  readonly dropAfterMessages: number | undefined;
  /**
   * A hung server: nothing is sent (data, replies, `connected`) and pings go unanswered. Actions
   * that arrive are counted and reported to `onAction`, then dropped unprocessed.
   */
  readonly stalled: boolean;
  /**
   * After every this-many data frames, one corrupt frame, cycling through GARBAGE_KINDS.
   * `undefined`: none.
   */
  readonly garbageEvery: number | undefined;
  /**
   * When a connection's `bufferedAmount` (bytes queued, not yet taken by the client) exceeds this,
   * send 407 `slow client` and close it. `undefined`: never.
   */
  readonly slowClientBytes: number | undefined;
  /** Feeds whose auth is answered with 409 `insufficient subscription` and a close (e.g. `sip`). */
  readonly insufficientSubscription: readonly Feed[];
}

/**
 * No faults, except that a client 32 MiB behind is dropped with 407 as Alpaca would: otherwise a
 * client that stops reading would grow the simulator's memory without bound.
 */
export const DEFAULT_FAULTS: SimulatorFaults = {
  refuseAuth: false,
  connectionLimit: undefined,
  connectionLingerMs: 0,
  symbolLimit: undefined,
  dropAfterMessages: undefined,
  stalled: false,
  garbageEvery: undefined,
  slowClientBytes: 32 * 1024 * 1024,
  insufficientSubscription: [],
};

/** Checks a fault patch; throws RangeError naming the first bad field. */
export function checkFaults(faults: Partial<SimulatorFaults>): void {
  const positive = (name: string, value: number | undefined, min: number): void => {
    if (value !== undefined && (!Number.isFinite(value) || value < min)) {
      throw new RangeError(`${name} must be a number >= ${min}`);
    }
  };
  positive('connectionLimit', faults.connectionLimit, 0);
  positive('connectionLingerMs', faults.connectionLingerMs, 0);
  positive('symbolLimit', faults.symbolLimit, 0);
  positive('dropAfterMessages', faults.dropAfterMessages, 1);
  positive('garbageEvery', faults.garbageEvery, 1);
  positive('slowClientBytes', faults.slowClientBytes, 0);
}

/** The corrupt frames the list names; `bad-item` is a real batch with bad items inside. */
export type GarbageKind = 'empty' | 'not-json' | 'partial' | 'null' | 'empty-array' | 'bad-item';

export const GARBAGE_KINDS: readonly GarbageKind[] = [
  'empty',
  'not-json',
  'partial',
  'null',
  'empty-array',
  'bad-item',
];

/** A whole corrupt frame of a kind other than `bad-item`, in the connection's codec. */
export function garbageFrame(
  kind: Exclude<GarbageKind, 'bad-item'>,
  codec: Codec,
): string | Buffer {
  if (codec === 'json') {
    switch (kind) {
      case 'empty':
        return '';
      case 'not-json':
        return 'not json';
      case 'partial':
        return '{"partial": ';
      case 'null':
        return 'null';
      case 'empty-array':
        return '[]';
    }
  }
  switch (kind) {
    case 'empty':
      return Buffer.alloc(0);
    case 'not-json':
      // 0xc1 is the one byte msgpack never uses
      return Buffer.from([0xc1, 0x6e, 0x6f, 0x74]);
    case 'partial': {
      const whole = framePackr.pack([{ T: 'q', S: 'AAPL', bp: 1.5, ap: 1.51 }]);
      return Buffer.from(whole.subarray(0, whole.length - 6));
    }
    case 'null':
      return Buffer.from([0xc0]);
    case 'empty-array':
      return Buffer.from([0x90]);
  }
}

const BAD_ITEMS: readonly unknown[] = [
  { T: 'q', S: 42, bp: 'cheap', ap: null },
  7,
  { T: 'zz', S: 'AAPL' },
  { T: 't', S: 'AAPL' },
  'not an object',
];

/** The `n`-th bad item to put inside an otherwise good batch. */
export function badItem(n: number): unknown {
  return BAD_ITEMS[n % BAD_ITEMS.length];
}
