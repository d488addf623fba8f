/**
 * The user's alert rules as a file and as running handlers: loads `alerts.json`, applies every
 * edit to the file first (atomic, durable, as watchlists are) and only a saved file to the
 * engine. MonitorCore answers the alerts commands through it and keeps only the views' side
 * (events, notifications).
 *
 * No electron import.
 */
import {
  DEFAULT_ALERTS,
  DEFAULT_SPREAD_RULE_ID,
  fail,
  ok,
  type AlertsFile,
  type CommandArgs,
  type Result,
} from '../../shared/api.ts';
import type { JsonFileStore } from '../core/json-store.ts';
import type { AlertEngine } from './engine.ts';
import { createRule, deleteRule, updateRule, type RuleEdit } from './store.ts';

export interface RuleBookOptions {
  readonly store: JsonFileStore<AlertsFile>;
  readonly engine: AlertEngine;
  /** The default spread rule's value while the user has not edited the rules yet. */
  readonly spreadThresholdPct?: number;
  /** Whether the core is closed: a save that lands after close changes no handler. */
  readonly isClosed: () => boolean;
}

export class RuleBook {
  readonly #o: RuleBookOptions;
  #file: AlertsFile = DEFAULT_ALERTS;

  constructor(options: RuleBookOptions) {
    this.#o = options;
  }

  /** Reads the file and gives its rules to the engine; answers the file's problem, if any. */
  async load(): Promise<string | undefined> {
    const loaded = await this.#o.store.load();
    this.#file = this.#withSpreadDefault(loaded.value);
    this.#o.engine.setRules(this.#file.rules);
    return loaded.problem?.message;
  }

  create(
    input: CommandArgs<'alerts:create'>,
    id: string,
    now: number,
  ): Promise<Result<{ readonly id: string }>> {
    return this.#edit(createRule(this.#file, input, id, now));
  }

  async update(patch: CommandArgs<'alerts:update'>): Promise<Result<{ readonly id: string }>> {
    const saved = await this.#edit(updateRule(this.#file, patch));
    if (saved.ok && patch.rearm) this.#o.engine.rearm(patch.id);
    return saved;
  }

  /** Pauses a rule (its handler was removed in the inspector): kept, and resumable. */
  pause(id: string): Promise<Result<{ readonly id: string }>> {
    return this.#edit(updateRule(this.#file, { id, paused: true }));
  }

  async delete(id: string): Promise<Result<AlertsFile>> {
    const edit = deleteRule(this.#file, id);
    return edit.ok ? this.#save(edit.value) : edit;
  }

  flush(): Promise<void> {
    return this.#o.store.flush();
  }

  /** Without a rule of the user's yet, the default rule takes `spreadThresholdPct`. */
  #withSpreadDefault(file: AlertsFile): AlertsFile {
    const threshold = this.#o.spreadThresholdPct;
    if (threshold === undefined || !isDefault(file)) return file;
    return {
      ...file,
      rules: file.rules.map((r) =>
        r.id === DEFAULT_SPREAD_RULE_ID ? { ...r, value: threshold } : r,
      ),
    };
  }

  async #edit(edit: Result<RuleEdit>): Promise<Result<{ readonly id: string }>> {
    if (!edit.ok) return edit;
    const saved = await this.#save(edit.value.file);
    return saved.ok ? ok(edit.value.rule) : saved;
  }

  /** Saves first; only a saved file reaches the engine (as with watchlists). */
  async #save(file: AlertsFile): Promise<Result<AlertsFile>> {
    try {
      await this.#o.store.save(file);
    } catch (err) {
      return fail('storage', err instanceof Error ? err.message : String(err));
    }
    this.#file = file;
    if (!this.#o.isClosed()) this.#o.engine.setRules(file.rules);
    return ok(file);
  }
}

/** Whether `file` is the untouched default (no rule of the user's, the default rule as shipped). */
function isDefault(file: AlertsFile): boolean {
  return JSON.stringify(file) === JSON.stringify(DEFAULT_ALERTS);
}
