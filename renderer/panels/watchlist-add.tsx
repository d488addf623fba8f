/**
 * The add-symbol form and what it says after main answered (added, refused and why).
 */
import { useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import type { Watchlist } from '../../shared/api.ts';
import { useMonitor } from '../store.ts';

/**
 * What the add form says after main answered: a sentence, whether it is a problem, and what stays
 * in the field (only the refused inputs, so that fixing a typo does not re-send what was added).
 * Main names duplicates among the refusals ("AAPL is already in the list").
 */
export function describeAdd(
  added: readonly string[],
  rejected: ReadonlyArray<{ readonly input: string; readonly reason: string }>,
): { text: string; problem: boolean; keep: string } {
  const parts: string[] = [];
  if (added.length === 1) parts.push(`Added ${added[0]}.`);
  else if (added.length > 1) parts.push(`Added ${added.length} symbols: ${sample(added)}.`);
  if (rejected.length > 0) {
    // One entry per reason ("a!, b! (not a symbol: ...)"); a reason that names its symbol
    // ("AAPL is already in the list") stands alone.
    const byReason = new Map<string, string[]>();
    for (const r of rejected) {
      const inputs = byReason.get(r.reason);
      if (inputs === undefined) byReason.set(r.reason, [r.input]);
      else inputs.push(r.input);
    }
    const entries = [...byReason].map(([reason, inputs]) =>
      inputs.length === 1 && reason.toUpperCase().includes(inputs[0]!.toUpperCase())
        ? reason
        : `${sample(inputs)} (${reason})`,
    );
    const shown = entries.slice(0, REFUSALS_NAMED);
    const more = entries.length - shown.length;
    parts.push(`Refused: ${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}.`);
  }
  if (parts.length === 0) parts.push('Nothing to add.');
  return {
    text: parts.join(' '),
    problem: rejected.length > 0 || added.length === 0,
    // A symbol already listed needs no second try; the others are there to be corrected.
    keep: rejected
      .filter((r) => !/already in the list|listed more than once/.test(r.reason))
      .map((r) => r.input)
      .join(', '),
  };
}

/** How many symbols and refusals a message names before it says "and N more". */
const SYMBOLS_NAMED = 6;
const REFUSALS_NAMED = 3;

function sample(symbols: readonly string[]): string {
  if (symbols.length <= SYMBOLS_NAMED) return symbols.join(', ');
  return `${symbols.slice(0, SYMBOLS_NAMED).join(', ')} and ${symbols.length - SYMBOLS_NAMED} more`;
}

export function AddSymbolForm({ list }: { list: Watchlist }): ReactNode {
  const [text, setText] = useState('');
  const [note, setNote] = useState<{ text: string; problem: boolean } | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const addSymbols = useMonitor((s) => s.addSymbols);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    try {
      const out = await addSymbols(list.id, text);
      if (!out.ok) {
        setNote({ text: out.message, problem: true });
        return;
      }
      const said = describeAdd(out.value.added, out.value.rejected);
      setNote(said);
      setText(said.keep);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="add-symbol" onSubmit={(event) => void submit(event)}>
      <label htmlFor="add-symbol-input">Add symbol</label>
      <input
        id="add-symbol-input"
        value={text}
        onChange={(event) => {
          setText(event.target.value);
          // What the note said was about the previous input.
          if (note !== undefined) setNote(undefined);
        }}
        placeholder="e.g. JPM, BRK.B"
        autoComplete="off"
        spellCheck={false}
        title="One or more symbols, separated by spaces or commas"
        aria-describedby={note !== undefined ? 'add-symbol-note' : undefined}
      />
      <button type="submit" disabled={busy || text.trim() === ''}>
        Add
      </button>
      {note !== undefined ? (
        <span
          id="add-symbol-note"
          className={note.problem ? 'note problem-note' : 'note ok-note'}
          role={note.problem ? 'alert' : 'status'}
        >
          {note.text}
        </span>
      ) : null}
    </form>
  );
}
