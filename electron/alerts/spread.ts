/**
 * The bid/ask spread as the alert rules measure it, and the name the default wide-spread rule
 * keeps in the handler inspector (it was a standalone handler before the rules existed, and users
 * know it by that name).
 */

export const SPREAD_ALERT_NAME = 'wide spread alert';

/** The spread as a percentage of the mid price, or NaN when the quote has no two-sided market. */
export function spreadPct(bid: number, ask: number): number {
  if (!(bid > 0) || !(ask > 0) || ask < bid) return Number.NaN;
  return ((ask - bid) / ((ask + bid) / 2)) * 100;
}
