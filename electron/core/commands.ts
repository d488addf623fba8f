/**
 * The shape of the core's command table, shared by the modules that each answer a group of
 * commands (market-commands.ts, ...). A command gets its validated arguments and the view that
 * sent it, and answers a Result; MonitorCore joins the groups into one table keyed by every
 * CommandName, so the compiler says when a command has no answer.
 */
import type { CommandArgs, CommandName, CommandOutput, Result } from '../../shared/api.ts';

export type CommandFn<C extends CommandName, V> = (
  args: CommandArgs<C>,
  view: V,
) => Promise<Result<CommandOutput<C>>> | Result<CommandOutput<C>>;

export type CommandTable<V> = { readonly [C in CommandName]: CommandFn<C, V> };

/** The answers of a group of commands. */
export type CommandGroup<K extends CommandName, V> = Pick<CommandTable<V>, K>;
