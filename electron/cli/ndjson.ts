/**
 * NDJSON output for the CLI: one JSON object a line on stdout. Lines are batched per turn of the
 * event loop (a full feed prints tens of thousands of lines a second), and a closed pipe (`| head`)
 * ends output quietly instead of crashing with EPIPE.
 *
 * A reader slower than the feed cannot slow the feed down (the server would drop us with 407),
 * so past a bound of unwritten output, droppable records (market data, and the summarized invalid
 * input and server error lines) are dropped and counted by type, and a `dropped` line says so: at
 * most one a `dropReportMs`, and always before a record that is never dropped (state, summary), so
 * memory stays bounded and nothing is lost silently.
 */
import type { Writable } from 'node:stream';

export interface NdjsonOptions {
  /** Unwritten bytes past which droppable records are dropped. Default 16 MiB. */
  readonly maxPendingBytes?: number;
  /** At most one `dropped` line this often. Default 1 000 ms. */
  readonly dropReportMs?: number;
}

export class NdjsonWriter {
  readonly #out: Writable;
  #buffer: string[] = [];
  #scheduled = false;
  #closed = false;
  #onClosed: (() => void) | undefined;
  readonly #maxPendingBytes: number;
  readonly #dropReportMs: number;
  #dropped = 0;
  #droppedReported = 0;
  /** Drops by record type: the whole run, and those not reported yet. */
  readonly #droppedByType = new Map<string, number>();
  readonly #unreported = new Map<string, number>();
  #reportTimer: NodeJS.Timeout | undefined;
  #lastReportAt = performance.now();

  constructor(out: Writable, onClosed?: () => void, options: NdjsonOptions = {}) {
    this.#maxPendingBytes = options.maxPendingBytes ?? 16 * 1024 * 1024;
    this.#dropReportMs = options.dropReportMs ?? 1_000;
    this.#out = out;
    this.#onClosed = onClosed;
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
        this.#closed = true;
        this.#stopReports();
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

  /** The same, by record type. */
  droppedByType(): Record<string, number> {
    return Object.fromEntries(this.#droppedByType);
  }

  /**
   * A record that must reach the reader (state, summary): never dropped. Any drops not yet
   * reported are reported first, so the reader always learns of them before the summary.
   */
  write(record: Record<string, unknown>): void {
    if (this.#closed) return;
    this.#reportDrops();
    this.#push(record);
  }

  /**
   * A record that may be dropped (and counted by its `type`) while the reader is more than the
   * bound behind: market data, and the summarized invalid-input and server-error lines.
   */
  writeData(record: Record<string, unknown>): void {
    if (this.#closed) return;
    if (this.#out.writableLength > this.#maxPendingBytes) {
      const type = typeof record['type'] === 'string' ? record['type'] : 'other';
      this.#dropped++;
      this.#droppedByType.set(type, (this.#droppedByType.get(type) ?? 0) + 1);
      this.#unreported.set(type, (this.#unreported.get(type) ?? 0) + 1);
      this.#scheduleReport();
      return;
    }
    this.#push(record);
  }

  #scheduleReport(): void {
    if (this.#reportTimer !== undefined) return;
    const wait = Math.max(0, this.#lastReportAt + this.#dropReportMs - performance.now());
    this.#reportTimer = setTimeout(() => {
      this.#reportTimer = undefined;
      this.#reportDrops();
    }, wait);
    // Reporting alone must not keep the process alive.
    this.#reportTimer.unref();
  }

  #stopReports(): void {
    if (this.#reportTimer !== undefined) clearTimeout(this.#reportTimer);
    this.#reportTimer = undefined;
  }

  #reportDrops(): void {
    if (this.#closed || this.#dropped === this.#droppedReported) return;
    const now = performance.now();
    const count = this.#dropped - this.#droppedReported;
    this.#droppedReported = this.#dropped;
    const byType = Object.fromEntries(this.#unreported);
    this.#unreported.clear();
    this.#stopReports();
    this.#push({
      type: 'dropped',
      count,
      byType,
      intervalMs: Math.round(now - this.#lastReportAt),
      message: `output fell behind: ${count} records dropped`,
    });
    this.#lastReportAt = now;
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
