/**
 * Argument checks shared by the CLI commands. A bad argument is a UsageError: the CLI prints its
 * one-line message on stderr and exits 2, before anything connects or listens.
 */

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseChoice<T extends string>(
  flag: string,
  value: string | undefined,
  choices: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(
    `${flag} must be one of ${choices.join(', ')}; got ${JSON.stringify(value)}`,
  );
}

export function parsePositive(
  flag: string,
  value: string | undefined,
  { integer, allowZero = false }: { integer: boolean; allowZero?: boolean },
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const ok =
    value.trim() !== '' &&
    Number.isFinite(n) &&
    (allowZero ? n >= 0 : n > 0) &&
    (!integer || Number.isInteger(n));
  if (!ok) {
    const what = integer
      ? allowZero
        ? 'a whole number >= 0'
        : 'a whole number > 0'
      : 'a number > 0';
    throw new UsageError(`${flag} must be ${what}; got ${JSON.stringify(value)}`);
  }
  return n;
}

/** ASCII only, either case: checked before upper-casing, which maps `ıbm` to `IBM`. */
const SYMBOL = /^(?:\*|[A-Za-z0-9][A-Za-z0-9./-]{0,30})$/;

/** A comma-separated symbol list: trimmed, checked, upper-cased, de-duplicated. */
export function parseSymbols(flag: string, value: string): string[] {
  const typed = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (typed.length === 0) throw new UsageError(`${flag} needs at least one symbol`);
  const bad = [...new Set(typed.filter((s) => !SYMBOL.test(s)))];
  if (bad.length > 0)
    throw new UsageError(`${flag}: not a symbol: ${bad.map((s) => JSON.stringify(s)).join(', ')}`);
  return [...new Set(typed.map((s) => s.toUpperCase()))];
}
