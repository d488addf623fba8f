/**
 * `simulator:control`: the faults and scenes a user (or an e2e test) can ask of the embedded
 * simulator from Diagnostics: drop the connections, stall, a symbol limit, a rate, an error code,
 * a halt, the market session, REST faults. Each answers what it did in a short sentence that the
 * log also gets. Only the built-in simulator takes them: with another source there is nothing to
 * control and the answer is `conflict`.
 */
import { fail, ok, type Result, type SimulatorControl } from '../../shared/api.ts';
import type { Simulator } from '../simulator/index.ts';
import type { RestFaults } from '../simulator/rest.ts';
import type { Logger } from '../stream/log.ts';

export interface SimulatorTarget {
  /** The embedded simulator when it is the source in use, else undefined. */
  readonly simulator: Simulator | undefined;
  /** A new session: the market context reads the clock again now. */
  readonly refreshMarket: () => void;
  readonly log: Logger;
}

export function applySimulatorControl(
  control: SimulatorControl,
  target: SimulatorTarget,
): Result<{ readonly applied: string }> {
  const sim = target.simulator;
  if (!sim) {
    return fail('conflict', 'The source is not the built-in simulator.');
  }
  let applied: string;
  switch (control.action) {
    case 'drop': {
      // Held: one session per account, as Alpaca; the dropped one keeps its slot for the hold
      // only (later disconnects do not linger).
      const hold = control.holdSessionMs ?? 0;
      if (hold > 0 && sim.faults().connectionLimit === undefined)
        sim.setFaults({ connectionLimit: 1 });
      const n = sim.dropAll({ holdSessionMs: hold });
      applied =
        `dropped ${n} connection${n === 1 ? '' : 's'}` +
        (hold > 0 ? `; the server holds the session for ${hold} ms` : '');
      break;
    }
    case 'stall':
      sim.stall(control.on);
      applied = control.on ? 'stalled' : 'stall lifted';
      break;
    case 'symbol-limit':
      sim.setFaults({ symbolLimit: control.limit ?? undefined });
      applied = control.limit === null ? 'symbol limit lifted' : `symbol limit ${control.limit}`;
      break;
    case 'rate':
      sim.setRate(control.perSecond);
      applied = `rate ${control.perSecond}/s`;
      break;
    case 'error': {
      const n = sim.sendError(control.code);
      applied = `sent error ${control.code} to ${n} connection${n === 1 ? '' : 's'}`;
      break;
    }
    case 'halt': {
      const n = sim.setHalt(control.symbol, control.halted);
      applied = `${control.symbol} ${control.halted ? 'halted' : 'resumed'} on ${n} connection${n === 1 ? '' : 's'}`;
      break;
    }
    case 'session':
      sim.setSession(control.session);
      // The market context reads the clock again now, not at the next boundary it knew of.
      target.refreshMarket();
      applied = `session ${control.session}`;
      break;
    case 'rest-faults': {
      // Only the fields given change; a null limit lifts it.
      const patch: { -readonly [K in keyof RestFaults]?: RestFaults[K] } = {};
      if (control.rateLimitPerMinute !== undefined)
        patch.rateLimitPerMinute = control.rateLimitPerMinute ?? undefined;
      if (control.error500 !== undefined) patch.error500 = control.error500;
      if (control.slowMs !== undefined) patch.slowMs = control.slowMs;
      if (control.malformed !== undefined) patch.malformed = control.malformed;
      sim.setRestFaults(patch);
      const f = sim.restFaults();
      applied =
        `REST: ${f.rateLimitPerMinute === undefined ? 'no limit' : `${f.rateLimitPerMinute}/min`}` +
        `, 500s ${String(f.error500)}, slow ${f.slowMs} ms${f.malformed ? ', truncated bodies' : ''}`;
      break;
    }
    default: {
      const unreachable: never = control;
      return unreachable;
    }
  }
  target.log.info({ control: control.action }, `simulator: ${applied}`);
  return ok({ applied });
}
