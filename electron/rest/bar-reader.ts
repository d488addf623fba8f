/**
 * One bar of a bars page, read by hand rather than through zod. Bars come by the hundred thousand
 * (the sparklines' startup asks for every watchlist symbol's session of 1-minute bars), and zod's
 * parse of one, with its output object, its context and the time's match array, allocated about
 * 1.8 KB against the 0.2 KB JSON.parse had spent on the bar itself: 1,000 symbols' sessions made
 * main collect well over a gigabyte and promote a few hundred megabytes of it (bench e2e,
 * 2026-12-07). This reader allocates the RestBar and nothing else on the usual path.
 *
 * It takes and refuses exactly what `wireBar` in schemas.ts does (a test holds the two to that):
 * an object whose `t` is an RFC 3339 time, `o h l c v` numbers not below zero, and `n`, `vw`
 * absent, null or such numbers; other keys are ignored.
 */
import { parseTime } from './rfc3339.ts';
import type { RestBar } from './types.ts';

/** Why a bar was refused: the key at fault (empty: the bar itself) and what was wrong. */
export interface BarProblem {
  readonly key: string;
  readonly message: string;
}

/** `2024-05-01T13:30:00Z`: what Alpaca sends for bars, and all a plain Date.parse needs. */
const PLAIN_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

function timeOf(text: string): number | undefined {
  if (text.length === 20 && PLAIN_UTC.test(text)) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return parseTime(text);
}

/**
 * What zod calls a value it did not expect: a number that is not finite by its value (JSON's
 * `1e999` parses to Infinity), an object of a class by the class (a caller's Date, say).
 */
function describe(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? 'number' : String(value);
  if (typeof value !== 'object') return typeof value;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const made = (value as { readonly constructor?: unknown }).constructor;
  if (Object.getPrototypeOf(value) === Object.prototype || !made) return 'object';
  return String((made as { readonly name?: unknown }).name);
}

/** zod's words for a number that is missing, not finite, of another type, or below zero. */
function amountProblem(key: string, value: unknown): BarProblem | undefined {
  if (typeof value === 'number' && Number.isFinite(value))
    return value < 0 ? { key, message: 'Too small: expected number to be >=0' } : undefined;
  return { key, message: `Invalid input: expected number, received ${describe(value)}` };
}

/** The bar, or the first thing wrong with it (checked in wireBar's key order). */
export function readBar(value: unknown): RestBar | BarProblem {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return {
      key: '',
      message: `Invalid input: expected object, received ${describe(value)}`,
    };
  const w = value as Record<string, unknown>;
  const t = w['t'];
  if (typeof t !== 'string')
    return { key: 't', message: `Invalid input: expected string, received ${describe(t)}` };
  const time = timeOf(t);
  if (time === undefined) return { key: 't', message: `not an RFC 3339 time: ${t.slice(0, 40)}` };
  const { o, h, l, c, v, n, vw } = w;
  const problem =
    amountProblem('o', o) ??
    amountProblem('h', h) ??
    amountProblem('l', l) ??
    amountProblem('c', c) ??
    amountProblem('v', v) ??
    (n === undefined || n === null ? undefined : amountProblem('n', n)) ??
    (vw === undefined || vw === null ? undefined : amountProblem('vw', vw));
  if (problem !== undefined) return problem;
  return {
    time,
    open: o as number,
    high: h as number,
    low: l as number,
    close: c as number,
    volume: v as number,
    tradeCount: (n as number | null | undefined) ?? undefined,
    vwap: (vw as number | null | undefined) ?? undefined,
  };
}

export function isBarProblem(read: RestBar | BarProblem): read is BarProblem {
  return 'message' in read;
}
