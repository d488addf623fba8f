/**
 * Reconnect delays: exponential growth with full jitter (a uniformly random delay between zero and
 * the exponential ceiling), so that many clients dropped at once do not come back in lockstep.
 * Randomness is a parameter, so tests check exact delays. A floor (after 406 connection-limit
 * refusals) is added under the jitter rather than replacing it.
 */

export interface BackoffPolicy {
  /** Ceiling of the first retry's delay. */
  readonly baseMs: number;
  /** Largest ceiling however many attempts have failed. */
  readonly capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 30_000 };

/** The ceiling for an attempt (1-based): base * 2^(attempt-1), capped. */
export function backoffCeiling(policy: BackoffPolicy, attempt: number): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  return Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
}

/**
 * The delay before attempt `attempt` (1-based). `random` is a draw in [0, 1).
 * delay = floor + random * ceiling(attempt)
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  floorMs: number,
  random: number,
): number {
  const r = Number.isFinite(random) ? Math.min(Math.max(random, 0), 1) : 0;
  return Math.round(floorMs + r * backoffCeiling(policy, attempt));
}
