/**
 * `npm run bench`: runs the benchmark sections in order (issue 5's, the hostile load, issue 11's
 * market context, issue 14's relay fan-out), prints each section's tables and the targets, and
 * writes bench/results.json (the figures of this run, with the machine described).
 *
 *   npm run bench                      every section, full length (the memory soak is 10 minutes)
 *   npm run bench -- --quick           shorter runs, fewer rounds, the 1-minute soak
 *   npm run bench -- ingest latency    only the named sections (ingest latency frames e2e memory
 *                                      hostile market fanout)
 *   npm run bench -- --out FILE        write the results elsewhere
 *
 * Exit status: 0 when every section ran (targets missed are reported, not fatal: a benchmark
 * measures, it does not gate), 1 when a section failed to run, 2 on a usage error.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext, Cell, Section, SectionResult, Table, Target } from './lib/report.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Section name -> module; loaded lazily so one section's imports cannot break another's run. */
const SECTIONS: Readonly<Record<string, string>> = {
  ingest: './ingest.ts',
  latency: './latency.ts',
  frames: './frames.ts',
  e2e: './e2e.ts',
  memory: './memory.ts',
  hostile: './hostile.ts',
  market: './market.ts',
  fanout: './fanout.ts',
};

const USAGE = `usage: npm run bench -- [--quick] [--out FILE] [${Object.keys(SECTIONS).join('|')} ...]`;

interface Plan {
  readonly quick: boolean;
  readonly out: string;
  readonly sections: readonly string[];
}

function parse(argv: readonly string[]): Plan | string {
  let quick = false;
  let out = join(ROOT, 'bench', 'results.json');
  const sections: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--quick') quick = true;
    else if (arg === '--out') {
      const value = argv[++i];
      if (value === undefined) return '--out needs a file';
      out = resolve(value);
    } else if (arg === '--help' || arg === '-h') return USAGE;
    else if (Object.hasOwn(SECTIONS, arg)) {
      if (!sections.includes(arg)) sections.push(arg);
    } else return `unknown argument ${JSON.stringify(arg)}\n${USAGE}`;
  }
  return { quick, out, sections: sections.length > 0 ? sections : Object.keys(SECTIONS) };
}

function cellText(cell: Cell): string {
  if (cell === null) return '-';
  if (typeof cell === 'number') {
    if (!Number.isFinite(cell)) return String(cell);
    if (Number.isInteger(cell)) return cell.toLocaleString('en-US');
    const abs = Math.abs(cell);
    const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
    return cell.toLocaleString('en-US', {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  }
  return String(cell);
}

/** A plain-text table; numbers right-aligned, text left-aligned. */
export function formatTable(table: Table): string {
  const head = table.columns.map(String);
  const body = table.rows.map((row) => row.map(cellText));
  const numeric = table.columns.map((_, c) => table.rows.every((r) => typeof r[c] !== 'string'));
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((text, c) => (numeric[c] ? text.padStart(widths[c] ?? 0) : text.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  const out = [
    table.title,
    line(head),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(line),
  ];
  if (table.note) out.push(table.note);
  return out.join('\n');
}

function targetLine(t: Target): string {
  return `${t.pass ? 'PASS' : 'MISS'}  ${t.name}: ${cellText(t.value)} ${t.unit} (target ${t.op} ${t.limit} ${t.unit})`;
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg(),
  };
}

export async function main(argv: readonly string[]): Promise<number> {
  const plan = parse(argv);
  if (typeof plan === 'string') {
    const usage = plan === USAGE;
    (usage ? process.stdout : process.stderr).write(`${plan}\n`);
    return usage ? 0 : 2;
  }
  const ctx: BenchContext = {
    quick: plan.quick,
    root: ROOT,
    log: (line) => process.stderr.write(`  ${line}\n`),
  };
  const started = new Date();
  const results: SectionResult[] = [];
  const failures: { section: string; error: string }[] = [];
  for (const name of plan.sections) {
    process.stderr.write(`\n== ${name}${plan.quick ? ' (quick)' : ''}\n`);
    const t0 = performance.now();
    try {
      const mod = (await import(SECTIONS[name] as string)) as { run: Section };
      const result = await mod.run(ctx);
      results.push(result);
      const seconds = (performance.now() - t0) / 1000;
      process.stdout.write(`\n## ${name} (${seconds.toFixed(0)} s)\n\n`);
      for (const table of result.tables) process.stdout.write(`${formatTable(table)}\n\n`);
      for (const t of result.targets) process.stdout.write(`${targetLine(t)}\n`);
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      failures.push({ section: name, error });
      process.stdout.write(`\n## ${name}: FAILED TO RUN\n${error}\n`);
    }
  }
  const targets = results.flatMap((r) => r.targets);
  process.stdout.write(
    `\n== ${targets.filter((t) => t.pass).length} of ${targets.length} targets met` +
      (failures.length > 0 ? `; ${failures.length} section(s) failed to run` : '') +
      '\n',
  );
  for (const t of targets) if (!t.pass) process.stdout.write(`${targetLine(t)}\n`);
  const report = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    quick: plan.quick,
    machine: machine(),
    sections: results,
    failures,
  };
  await writeFile(plan.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`results: ${plan.out}\n`);
  return failures.length > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
