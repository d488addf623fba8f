/**
 * How numbers, times and sizes read on screen. One place, so that every panel agrees, and pure, so
 * that the rules are tested without a page. A missing value (NaN, undefined, null) is an em dash,
 * never "NaN" or "0".
 *
 * The watchlist formats a few thousand values per frame: every formatter here is an
 * Intl.NumberFormat built once, never `toLocaleString` with options (which builds a formatter on
 * every call: some 40 times the cost of formatting with a built one).
 */

export const MISSING = '—';

const PRICE = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const SMALL_PRICE = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 2,
  maximumSignificantDigits: 4,
  roundingPriority: 'morePrecision',
});
const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const ONE_DECIMAL = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});

function finite(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** -0 reads as 0: a minus sign on nothing is noise. */
function unsignedZero(value: number): number {
  return value === 0 ? 0 : value;
}

/**
 * `value` scaled into the largest unit it reaches, rounded to 3 significant figures (at least the
 * integer part), moving up a unit when rounding reaches the next one (999,999 is 1.00M, not 1000K).
 */
function scaled(
  value: number,
  units: ReadonlyArray<readonly [string, number]>,
): { text: string; unit: string } {
  const abs = Math.abs(value);
  for (let u = 0; u < units.length; u++) {
    const [unit, scale] = units[u]!;
    if (abs < scale && u < units.length - 1) continue;
    const n = value / scale;
    const digitsFor = (x: number) => (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2);
    let text = n.toFixed(digitsFor(n));
    // 99.996 rounds to "100.00": print it as 100 would be (three significant figures).
    if (digitsFor(Number(text)) !== digitsFor(n)) text = n.toFixed(digitsFor(Number(text)));
    const bigger = units[u - 1];
    if (bigger !== undefined && Math.abs(Number(text)) * scale >= bigger[1]) {
      return { text: (value / bigger[1]).toFixed(2), unit: bigger[0] };
    }
    return { text, unit };
  }
  return { text: String(value), unit: '' };
}

/** Prices: two decimals at 1 and above; four significant digits below (sub-dollar, crypto). */
export function formatPrice(value: number | null | undefined): string {
  if (!finite(value)) return MISSING;
  const v = unsignedZero(value);
  return Math.abs(v) >= 1 || v === 0 ? PRICE.format(v) : SMALL_PRICE.format(v);
}

/** Sizes and volumes: exact below 10,000, then 12.3K, 4.56M, 1.2B. Fractional crypto sizes keep 4 digits. */
export function formatSize(value: number | null | undefined): string {
  if (!finite(value)) return MISSING;
  const v = unsignedZero(value);
  const abs = Math.abs(v);
  if (abs < 10_000) {
    return Number.isInteger(v) ? INTEGER.format(v) : SMALL_PRICE.format(v);
  }
  const { text, unit } = scaled(v, SIZE_UNITS);
  return `${text}${unit}`;
}

const SIZE_UNITS = [
  ['B', 1e9],
  ['M', 1e6],
  ['K', 1e3],
] as const;

/** A signed change: `+1.23` / `−0.40` (a true minus sign, the same width as the plus). */
export function formatSigned(value: number | null | undefined, digits = 2): string {
  if (!finite(value)) return MISSING;
  // Rounded first, so that what rounds to zero ("-0.001") reads as zero, without a sign.
  const rounded = Number(value.toFixed(digits));
  const body = fixedFormat(digits).format(Math.abs(rounded));
  if (rounded === 0) return body;
  return `${rounded > 0 ? '+' : '−'}${body}`;
}

/** Intl formatters with exactly `digits` decimals, built once per digit count. */
const FIXED_FORMATS = new Map<number, Intl.NumberFormat>();

function fixedFormat(digits: number): Intl.NumberFormat {
  let format = FIXED_FORMATS.get(digits);
  if (format === undefined) {
    format = new Intl.NumberFormat('en-US', {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    FIXED_FORMATS.set(digits, format);
  }
  return format;
}

export function formatPercent(value: number | null | undefined): string {
  if (!finite(value)) return MISSING;
  return `${formatSigned(value, 2)}%`;
}

/** Counts: 1,234,567. */
export function formatCount(value: number | null | undefined): string {
  return finite(value) ? INTEGER.format(unsignedZero(value)) : MISSING;
}

/** Rates per second: one decimal below 100, whole numbers above, with K/M past 10,000. */
export function formatRate(value: number | null | undefined): string {
  if (!finite(value)) return MISSING;
  const v = unsignedZero(value);
  if (Math.abs(v) >= 10_000) return formatSize(v);
  return Math.abs(v) < 100 ? ONE_DECIMAL.format(v) : INTEGER.format(v);
}

/** Bytes in binary units: 512 B, 1.5 KiB, 23.4 MiB, 1.20 GiB. */
export function formatBytes(value: number | null | undefined): string {
  if (!finite(value)) return MISSING;
  const v = unsignedZero(value);
  if (Math.abs(v) < 1024) return `${INTEGER.format(v)} B`;
  const { text, unit } = scaled(v, BYTE_UNITS);
  return `${text} ${unit}`;
}

const BYTE_UNITS = [
  ['TiB', 1024 ** 4],
  ['GiB', 1024 ** 3],
  ['MiB', 1024 ** 2],
  ['KiB', 1024],
] as const;

/**
 * A duration: `850 ms`, `4.2 s`, `59 s`, `3m 07s`, `2h 05m`, `3d 04h`. Negative durations read as
 * zero (a clock a little ahead is not worth a minus sign).
 */
export function formatDuration(ms: number | null | undefined): string {
  if (!finite(ms)) return MISSING;
  const v = Math.max(0, ms);
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 10_000) return `${(Math.floor(v / 100) / 10).toFixed(1)} s`;
  const s = Math.floor(v / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${String(h % 24).padStart(2, '0')}h`;
}

/** Latencies: `0.42 ms`, `3.1 ms`, `48 ms`, then as durations. */
export function formatLatency(ms: number | null | undefined): string {
  if (!finite(ms)) return MISSING;
  const v = Math.max(0, ms);
  if (v < 1) return `${v.toFixed(2)} ms`;
  if (v < 10) return `${v.toFixed(1)} ms`;
  if (v < 1000) return `${Math.round(v)} ms`;
  return formatDuration(v);
}

/** Age of the last update: `0.4 s`, `12 s`, `3m 10s`; `—` before any update. */
export function formatAge(receivedAt: number, now: number): string {
  if (!finite(receivedAt)) return MISSING;
  const age = Math.max(0, now - receivedAt);
  if (age < 10_000) return `${(Math.floor(age / 100) / 10).toFixed(1)} s`;
  return formatDuration(age);
}

/**
 * The backoff countdown: seconds to the next attempt with one decimal (`2.4 s`), `now` once due.
 * Rounded up, so it never shows 0.0 while still waiting.
 */
export function formatCountdown(retryAt: number | null | undefined, now: number): string {
  if (!finite(retryAt)) return MISSING;
  const left = retryAt - now;
  if (left <= 0) return 'now';
  return `${(Math.ceil(left / 100) / 10).toFixed(1)} s`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Local wall-clock time `HH:MM:SS` (with `.mmm` when asked). */
export function formatClock(epochMs: number | null | undefined, millis = false): string {
  if (!finite(epochMs)) return MISSING;
  const d = new Date(epochMs);
  if (Number.isNaN(d.getTime())) return MISSING; // beyond the Date range
  const base = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  return millis ? `${base}.${String(d.getMilliseconds()).padStart(3, '0')}` : base;
}

/** `14:03:22 (3m 10s ago)`. */
export function formatSince(epochMs: number | null | undefined, now: number): string {
  if (!finite(epochMs)) return MISSING;
  return `${formatClock(epochMs)} (${formatDuration(now - epochMs)} ago)`;
}
