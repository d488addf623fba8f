/**
 * NDJSON output for the CLI: one JSON object a line on stdout. Lines are batched per turn of the
 * event loop (a full feed prints tens of thousands of lines a second), and a closed pipe (`| head`)
 * ends output quietly instead of crashing with EPIPE.
 *
 * A reader slower than the feed cannot slow the feed down (the server would drop us with 407),
 * so past a bound of unwritten output, records are dropped and counted, and a line says so once
 * the reader catches up: memory stays bounded and nothing is lost silently.
 */
import type { Writable } from 'node:stream';

export class NdjsonWriter {
  readonly #out: Writable;
  #buffer: string[] = [];
  #scheduled = false;
  #closed = false;
  #onClosed: (() => void) | undefined;
  readonly #maxPendingBytes: number;
  #dropped = 0;
  #droppedReported = 0;

  constructor(out: Writable, onClosed?: () => void, maxPendingBytes = 16 * 1024 * 1024) {
    this.#maxPendingBytes = maxPendingBytes;
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

  /** Records dropped because the reader fell behind. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * A record that must reach the reader (state, error, summary): never dropped. Any drops not yet
   * reported are reported first, so the reader always learns of them before the summary.
   */
  write(record: Record<string, unknown>): void {
    if (this.#closed) return;
    this.#reportDrops();
    this.#push(record);
  }

  /**
   * A market-data record (quote, trade, bar): dropped and counted while the reader is more than
   * the bound behind.
   */
  writeData(record: Record<string, unknown>): void {
    if (this.#closed) return;
    if (this.#out.writableLength > this.#maxPendingBytes) {
      this.#dropped++;
      return;
    }
    this.#reportDrops();
    this.#push(record);
  }

  #reportDrops(): void {
    if (this.#dropped === this.#droppedReported) return;
    const n = this.#dropped - this.#droppedReported;
    this.#droppedReported = this.#dropped;
    this.#push({ type: 'error', message: `output fell behind: ${n} records dropped` });
  }

  #push(record: Record<string, unknown>): void {
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
