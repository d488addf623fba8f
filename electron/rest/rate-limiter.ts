/**
 * The client-side rate limit of one REST host: a token bucket of `requestsPerMinute` tokens in
 * which each spent token comes back exactly one window (60 s) after it was spent. Unlike a bucket
 * refilled continuously (which lets a full burst plus a minute's refill, nearly twice the limit,
 * start within one minute), this one guarantees that no 60 s window ever holds more than
 * `requestsPerMinute` starts, which is how Alpaca counts. The server's own view, from the
 * X-RateLimit-* headers, is folded in when it is stricter, and a 429 blocks the host until the
 * time it names. Pure: every method takes the current time, so tests drive it with plain numbers.
 */

export const RATE_WINDOW_MS = 60_000;

/**
 * How far ahead a server's reset time is believed. Alpaca's window is a minute; a reset further
 * out than that comes from a skewed clock (ours or the server's), and believing it would stall the
 * host for as long as the skew.
 */
const MAX_SERVER_HORIZON_MS = RATE_WINDOW_MS + 5_000;

export class TokenBucket {
  readonly capacity: number;
  readonly windowMs: number;
  /** Start times of the last `capacity` requests, oldest at `#head` (a ring). */
  readonly #spent: Float64Array;
  #head = 0;
  #count = 0;
  #last = Number.NEGATIVE_INFINITY;
  /** The server's count of requests left, believed until `#serverUntil`. */
  #serverRemaining = 0;
  #serverUntil = Number.NEGATIVE_INFINITY;
  #blockedUntil = Number.NEGATIVE_INFINITY;

  constructor(requestsPerMinute: number, windowMs = RATE_WINDOW_MS) {
    if (!Number.isInteger(requestsPerMinute) || requestsPerMinute < 1)
      throw new RangeError(
        `requestsPerMinute must be a positive integer, not ${requestsPerMinute}`,
      );
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, not ${windowMs}`);
    this.capacity = requestsPerMinute;
    this.windowMs = windowMs;
    this.#spent = new Float64Array(requestsPerMinute);
  }

  /** Tokens that could be taken at `now`. */
  available(now: number): number {
    const t = this.#time(now);
    if (t < this.#blockedUntil) return 0;
    this.#expire(t);
    const local = this.capacity - this.#count;
    return t < this.#serverUntil ? Math.max(0, Math.min(local, this.#serverRemaining)) : local;
  }

  /** Milliseconds from `now` until a token can be taken; 0 when one can be taken now. */
  delay(now: number): number {
    const t = this.#time(now);
    let until = t;
    this.#expire(t);
    if (this.#count >= this.capacity) until = this.#spent[this.#head]! + this.windowMs;
    if (t < this.#serverUntil && this.#serverRemaining <= 0)
      until = Math.max(until, this.#serverUntil);
    until = Math.max(until, this.#blockedUntil);
    return Math.max(0, until - t);
  }

  /** Takes a token if one is available at `now`. */
  tryTake(now: number): boolean {
    const t = this.#time(now);
    if (this.available(t) < 1) return false;
    this.#last = t;
    const tail = (this.#head + this.#count) % this.capacity;
    this.#spent[tail] = t;
    this.#count++;
    if (t < this.#serverUntil) this.#serverRemaining--;
    return true;
  }

  /**
   * Folds in a response's X-RateLimit-Remaining and X-RateLimit-Reset (as epoch ms). The server is
   * believed only when it says fewer remain than we think (our own log already keeps us under the
   * limit otherwise), and only until its reset. A reset later than the one believed so far starts
   * a new server window, so an old low count does not outlive it.
   */
  observe(remaining: number | undefined, resetAt: number | undefined, now: number): void {
    if (remaining === undefined || !Number.isFinite(remaining)) return;
    const t = this.#time(now);
    const until = Math.min(
      resetAt !== undefined && Number.isFinite(resetAt) ? resetAt : t + this.windowMs,
      t + MAX_SERVER_HORIZON_MS,
    );
    if (until <= t) return;
    if (until > this.#serverUntil) this.#serverUntil = Number.NEGATIVE_INFINITY;
    if (remaining < this.available(t)) {
      this.#serverRemaining = Math.max(0, Math.floor(remaining));
      this.#serverUntil = until;
    }
  }

  /** No token until `until` (a 429's Retry-After or reset), bounded like a server reset. */
  block(until: number, now: number): void {
    const t = this.#time(now);
    this.#blockedUntil = Math.max(this.#blockedUntil, Math.min(until, t + MAX_SERVER_HORIZON_MS));
  }

  /** A clock that steps back (a wall clock set back) must not reopen spent tokens early. */
  #time(now: number): number {
    return now < this.#last ? this.#last : now;
  }

  #expire(t: number): void {
    while (this.#count > 0 && this.#spent[this.#head]! + this.windowMs <= t) {
      this.#head = (this.#head + 1) % this.capacity;
      this.#count--;
    }
  }
}
