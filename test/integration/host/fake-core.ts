/**
 * A small core for the host tests: it keeps ViewSession's promises (invoke validates with the real
 * command schemas and never rejects; nextFrame resolves at once when a frame is ready, supersedes a
 * pending call, rejects after close; close is idempotent) and counts what the host did with it, so
 * a test can see a session opened per accepted socket and closed with it.
 */
import {
  DEFAULT_WATCHLISTS,
  fail,
  isCommandName,
  ok,
  parseCommand,
  type Result,
} from '../../../shared/api.ts';
import { buildFrame, FRAME_COLUMNS, type QuoteFrame } from '../../../shared/frame.ts';
import type { ViewSession, ViewSink } from '../../../electron/core/types.ts';

export class FakeSession implements ViewSession {
  readonly id: string;
  readonly sink: ViewSink;
  closed = false;
  readonly invoked: Array<{ command: string; payload: unknown }> = [];
  /** Commands whose answer is held until release() (to see what a lost bridge does to them). */
  readonly held = new Set<string>();
  readonly #release: Array<() => void> = [];
  #ready: QuoteFrame | undefined;
  #waiting: { resolve: (f: QuoteFrame) => void; reject: (e: Error) => void } | undefined;

  constructor(id: string, sink: ViewSink) {
    this.id = id;
    this.sink = sink;
  }

  invoke(command: string, payload: unknown): Promise<Result<unknown>> {
    this.invoked.push({ command, payload });
    if (this.closed) return Promise.resolve(fail('internal', 'view closed'));
    if (!isCommandName(command)) {
      return Promise.resolve(fail('unknown-command', `no such command: ${command}`));
    }
    const args = parseCommand(command, payload);
    if (!args.ok) return Promise.resolve(args);
    if (this.held.has(command)) {
      return new Promise((resolve) => {
        this.#release.push(() => resolve(ok({ applied: command })));
      });
    }
    switch (command) {
      case 'watchlists:list':
        return Promise.resolve(ok(DEFAULT_WATCHLISTS.watchlists));
      case 'diagnostics:export':
        // Not a whole bundle: the host only forwards it (and limits how often it is asked).
        return Promise.resolve(ok({ generatedAt: new Date().toISOString() }));
      case 'watchlists:create':
        return Promise.resolve(
          ok({ id: 'w2', name: (args.value as { name: string }).name, symbols: [] }),
        );
      default:
        return Promise.resolve(fail('internal', `the fake core does not do ${command}`));
    }
  }

  nextFrame(): Promise<QuoteFrame> {
    if (this.closed) return Promise.reject(new Error('view closed'));
    if (this.#waiting) {
      this.#waiting.reject(new Error('superseded by a newer nextFrame call'));
      this.#waiting = undefined;
    }
    const ready = this.#ready;
    if (ready) {
      this.#ready = undefined;
      return Promise.resolve(ready);
    }
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  /** Answers every held invoke. */
  release(): void {
    for (const answer of this.#release.splice(0)) answer();
  }

  /** Whether a nextFrame call is waiting for a frame. */
  get waiting(): boolean {
    return this.#waiting !== undefined;
  }

  /** Hands a frame to the pending call, or keeps it for the next one (latest wins). */
  push(frame: QuoteFrame): void {
    if (this.closed) return;
    if (this.#waiting) {
      this.#waiting.resolve(frame);
      this.#waiting = undefined;
    } else {
      this.#ready = frame;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#ready = undefined;
    this.#waiting?.reject(new Error('view closed'));
    this.#waiting = undefined;
  }
}

export class FakeCore {
  readonly sessions: FakeSession[] = [];
  /** Set to make the next openView throw. */
  failNextOpen = false;

  openView(sink: ViewSink): ViewSession {
    if (this.failNextOpen) {
      this.failNextOpen = false;
      throw new Error('openView failed on purpose');
    }
    const session = new FakeSession(`view-${this.sessions.length + 1}`, sink);
    this.sessions.push(session);
    return session;
  }

  get opened(): number {
    return this.sessions.length;
  }

  get open(): FakeSession[] {
    return this.sessions.filter((s) => !s.closed);
  }
}

/** A frame with `symbols`, every column filled from `base` so that values can be checked. */
export function makeFrame(seq: number, symbols: readonly string[], base = 100): QuoteFrame {
  return buildFrame(
    { seq, builtAt: 1_700_000_000_000 + seq, conflated: seq * 3, full: seq === 1 },
    symbols.map((symbol, i) => ({
      symbol,
      values: Object.fromEntries(
        FRAME_COLUMNS.map((name, c) => [name, c === 4 ? Number.NaN : base + c * 1000 + i + 0.25]),
      ),
    })),
  );
}
