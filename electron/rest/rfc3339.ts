/**
 * RFC 3339 times as Alpaca's REST API writes them, read to epoch milliseconds: the one parse the
 * zod schemas (schemas.ts) and the hand-written bar reader (bar-reader.ts) share.
 */
const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Epoch ms of an RFC 3339 time, digits past the millisecond dropped, or undefined. Date.parse
 * alone would also take `2024-05-01` or `May 1`; the pattern keeps to RFC 3339, and cutting the
 * fraction to milliseconds first keeps this a regex and a Date.parse (bars come by the hundred
 * thousand; a BigInt nanosecond parse was five times slower).
 */
export function parseTime(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[2] === undefined ? '' : m[2].slice(0, 4)}${m[3]}`);
  return Number.isNaN(ms) ? undefined : ms;
}
