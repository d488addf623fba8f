/**
 * The shape every benchmark section returns to bench/run.ts, which prints the tables and writes
 * bench/results.json. A section measures; it never decides pass/fail by itself except through
 * `targets`, which state the limit from issue 5 next to the measured value.
 */

export type Cell = string | number | boolean | null;

export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
  /** One line under the table: what the numbers are, units, how many rounds. */
  readonly note?: string;
}

export interface Target {
  /** e.g. "ingest msgpack: b / a". */
  readonly name: string;
  readonly value: number;
  readonly op: '>=' | '<=';
  readonly limit: number;
  readonly unit: string;
  readonly pass: boolean;
}

export interface SectionResult {
  /** ingest | latency | frames | e2e | memory | hostile | market | fanout */
  readonly name: string;
  readonly tables: readonly Table[];
  readonly targets: readonly Target[];
  /** Raw figures for results.json (per-round values, samples summaries, settings). */
  readonly details: unknown;
}

export interface BenchContext {
  /** --quick: fewer rounds, shorter runs, the 1-minute soak. */
  readonly quick: boolean;
  /** Progress lines for the terminal (stderr); the tables are printed by the runner. */
  readonly log: (line: string) => void;
  /** Repository root (absolute). */
  readonly root: string;
}

export type Section = (ctx: BenchContext) => Promise<SectionResult>;

export function target(
  name: string,
  value: number,
  op: '>=' | '<=',
  limit: number,
  unit: string,
): Target {
  const pass = Number.isFinite(value) && (op === '>=' ? value >= limit : value <= limit);
  return { name, value, op, limit, unit, pass };
}
