/**
 * Gathers what arrives within one synchronous run (the handlers of one upstream frame's decode)
 * and hands it on together in a microtask: one downstream send per upstream frame, not per
 * message. The relay's fan-out and the NATS publisher both batch this way.
 */
export class MicrotaskBatch<T> {
  #items: T[] = [];
  #scheduled = false;
  readonly #flush: (items: T[]) => void;

  constructor(flush: (items: T[]) => void) {
    this.#flush = flush;
  }

  push(item: T): void {
    this.#items.push(item);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      const items = this.#items;
      this.#items = [];
      this.#flush(items);
    });
  }
}
