/**
 * The alert rules on disk (`alerts.json` in the user-data folder, beside settings and watchlists)
 * and the edits the commands make to them. Edits are pure functions from one file to the next, so
 * the core saves first and only then lets the engine and the views see the new rules (as it does
 * for watchlists): an edit that could not be saved changes nothing. The file goes through
 * JsonFileStore: atomic writes, and a damaged file kept as a backup rather than overwritten.
 *
 * No electron import.
 */
import { join } from 'node:path';
import {
  alertsFileSchema,
  alertValueProblem,
  DEFAULT_ALERTS,
  fail,
  MAX_ALERT_RULES,
  ok,
  type AlertCondition,
  type AlertRule,
  type AlertsFile,
  type CommandArgs,
  type Result,
} from '../../shared/api.ts';
import { JsonFileStore } from '../core/json-store.ts';
import type { Logger } from '../stream/log.ts';

export const ALERTS_FILE = 'alerts.json';

export function alertsFileStore(userDataDir: string, logger: Logger): JsonFileStore<AlertsFile> {
  return new JsonFileStore<AlertsFile>({
    path: join(userDataDir, ALERTS_FILE),
    schema: alertsFileSchema,
    defaults: () => structuredClone(DEFAULT_ALERTS),
    logger,
    label: 'alerts',
  });
}

export interface RuleEdit {
  readonly file: AlertsFile;
  readonly rule: AlertRule;
}

function sameRule(
  a: Pick<AlertRule, 'symbol' | 'condition' | 'value'>,
  b: Pick<AlertRule, 'symbol' | 'condition' | 'value'>,
): boolean {
  return a.symbol === b.symbol && a.condition === b.condition && a.value === b.value;
}

export function createRule(
  file: AlertsFile,
  input: CommandArgs<'alerts:create'>,
  id: string,
  now: number,
): Result<RuleEdit> {
  if (file.rules.length >= MAX_ALERT_RULES)
    return fail(
      'limit',
      `You have ${MAX_ALERT_RULES} alert rules, the most there can be; delete one first.`,
    );
  const twin = file.rules.find((r) => sameRule(r, input));
  if (twin) return fail('conflict', 'This alert exists already.');
  const rule: AlertRule = {
    id,
    symbol: input.symbol,
    condition: input.condition,
    value: input.value,
    paused: input.paused ?? false,
    notify: input.notify ?? true,
    createdAt: now,
  };
  return ok({ file: { ...file, rules: [...file.rules, rule] }, rule });
}

/** An edit of the stored fields (`rearm` is the engine's, not the file's). */
export function updateRule(
  file: AlertsFile,
  patch: CommandArgs<'alerts:update'>,
): Result<RuleEdit> {
  const old = file.rules.find((r) => r.id === patch.id);
  if (!old) return fail('not-found', `There is no alert with id ${JSON.stringify(patch.id)}.`);
  const condition: AlertCondition = patch.condition ?? old.condition;
  const value = patch.value ?? old.value;
  const problem = alertValueProblem(condition, value);
  if (problem !== undefined) return fail('bad-request', `alerts:update: value: ${problem}`);
  const rule: AlertRule = {
    ...old,
    symbol: patch.symbol ?? old.symbol,
    condition,
    value,
    paused: patch.paused ?? old.paused,
    notify: patch.notify ?? old.notify,
  };
  if (!sameRule(rule, old) && file.rules.some((r) => r.id !== rule.id && sameRule(r, rule)))
    return fail('conflict', 'Another alert is already exactly this one.');
  return ok({
    file: { ...file, rules: file.rules.map((r) => (r.id === rule.id ? rule : r)) },
    rule,
  });
}

export function deleteRule(file: AlertsFile, id: string): Result<AlertsFile> {
  if (!file.rules.some((r) => r.id === id))
    return fail('not-found', `There is no alert with id ${JSON.stringify(id)}.`);
  return ok({ ...file, rules: file.rules.filter((r) => r.id !== id) });
}
