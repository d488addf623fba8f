/**
 * Symbols of the list the server refused (by code, with what the code means) and a retry.
 */
import { useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import type { RefusedView } from '../../shared/api.ts';
import { formatCount } from '../model/format.ts';
import { useMonitor } from '../store.ts';

/** Refusals for the symbols of `symbols`, one per symbol (the newest), grouped by code. */
export function refusalsFor(
  refused: readonly RefusedView[],
  symbols: readonly string[],
): Array<{ code: number; meaning: string | undefined; symbols: string[] }> {
  const inList = new Set(symbols);
  const bySymbol = new Map<string, RefusedView>();
  for (const r of refused) {
    if (!inList.has(r.symbol)) continue;
    const seen = bySymbol.get(r.symbol);
    if (seen === undefined || r.at >= seen.at) bySymbol.set(r.symbol, r);
  }
  const byCode = new Map<
    number,
    { code: number; meaning: string | undefined; symbols: string[] }
  >();
  for (const r of bySymbol.values()) {
    let group = byCode.get(r.code);
    if (group === undefined) {
      group = { code: r.code, meaning: r.meaning, symbols: [] };
      byCode.set(r.code, group);
    }
    group.symbols.push(r.symbol);
  }
  return [...byCode.values()].sort((a, b) => a.code - b.code);
}

export function Refusals({ symbols }: { symbols: readonly string[] }): ReactNode {
  const refused = useMonitor((s) => s.subscriptions?.refused);
  const retryRefused = useMonitor((s) => s.retryRefused);
  const [note, setNote] = useState<string | undefined>(undefined);
  const groups = useMemo(() => refusalsFor(refused ?? [], symbols), [refused, symbols]);
  if (groups.length === 0) return null;
  const retry = async () => {
    const out = await retryRefused();
    setNote(
      out.ok
        ? `Asked the server again for ${formatCount(out.value.retried)} subscriptions.`
        : out.message,
    );
  };
  return (
    <div className="refusals" role="alert">
      {groups.map((g) => (
        <p key={g.code}>
          <strong>
            Refused by the server ({g.code}
            {g.code === 405 ? ': symbol limit' : ''}):
          </strong>{' '}
          {g.symbols.slice(0, 20).join(', ')}
          {g.symbols.length > 20 ? ` and ${g.symbols.length - 20} more` : ''}. {g.meaning ?? ''}
          {g.code === 405
            ? ' They get no data: remove other symbols, or move to a plan with a higher limit,' +
              ' then retry.'
            : ''}
        </p>
      ))}
      <p className="refusals-actions">
        <button type="button" onClick={() => void retry()}>
          Retry refused symbols
        </button>
        {note !== undefined ? <span className="note">{note}</span> : null}
      </p>
    </div>
  );
}
