/**
 * NDJSON output for the CLI: one JSON object a line on stdout. Lines are batched per turn of the
 * event loop (a full feed prints tens of thousands of lines a second), and a closed pipe (`| head`)
 * ends output quietly instead of crashing with EPIPE.
 */
import type { Writable } from 'node:stream';

export class NdjsonWriter {
  readonly #out: Writable;
  #buffer: string[] = [];
  #scheduled = false;
  #closed = false;
  #onClosed: (() => void) | undefined;

  constructor(out: Writable, onClosed?: () => void) {
    this.#out = out;
    this.#onClosed = onClosed;
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
        this.#closed = true;
        const cb = this.#onClosed;
        this.#onClosed = undefined;
        cb?.();
        return;
      }
      throw err;
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(record: Record<string, unknown>): void {
    if (this.#closed) return;
    this.#buffer.push(JSON.stringify(record, bigintSafe));
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Writes what is buffered; resolves when the stream has taken it. */
  flush(): Promise<void> {
    this.#scheduled = false;
    if (this.#closed || this.#buffer.length === 0) return Promise.resolve();
    const text = this.#buffer.join('\n') + '\n';
    this.#buffer = [];
    return new Promise((resolve) => {
      this.#out.write(text, () => resolve());
    });
  }
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
