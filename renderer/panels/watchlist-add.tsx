/**
 * The add-symbol form: a combobox that suggests symbols from the directory (ticker prefix or name
 * words; arrows, Enter and Escape, as in any combobox), and what it says after main answered
 * (added, refused and why: a symbol the directory does not know is refused by main).
 */
import { useEffect, useRef, useState } from 'react';
import type { FormEvent, KeyboardEvent, ReactNode } from 'react';
import type { SymbolInfo, Watchlist } from '../../shared/api.ts';
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

/** The token being typed: what follows the last separator, and where it starts. */
export function lastToken(text: string): { token: string; at: number } {
  const match = /[^\s,;]*$/.exec(text);
  const token = match?.[0] ?? '';
  return { token, at: text.length - token.length };
}

/** How long typing pauses before the directory is asked (one search per pause, not per key). */
export const SEARCH_DELAY_MS = 120;
const SUGGESTIONS = 8;

export function AddSymbolForm({ list }: { list: Watchlist }): ReactNode {
  const [text, setText] = useState('');
  const [note, setNote] = useState<{ text: string; problem: boolean } | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [options, setOptions] = useState<readonly SymbolInfo[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const addSymbols = useMonitor((s) => s.addSymbols);
  const searchSymbols = useMonitor((s) => s.searchSymbols);
  const asked = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => () => clearTimeout(timer.current), []);

  /** Asks the directory about the token being typed, after a pause; older answers are dropped. */
  const suggest = (value: string) => {
    clearTimeout(timer.current);
    const { token } = lastToken(value);
    const ask = ++asked.current;
    if (token.trim() === '') {
      setOptions([]);
      setOpen(false);
      return;
    }
    timer.current = setTimeout(() => {
      void searchSymbols(token, SUGGESTIONS).then((out) => {
        if (ask !== asked.current) return;
        const found = out.ok ? out.value : [];
        setOptions(found);
        setOpen(found.length > 0);
        setActive(-1);
      });
    }, SEARCH_DELAY_MS);
  };

  const pick = (option: SymbolInfo) => {
    const { at } = lastToken(text);
    setText(`${text.slice(0, at)}${option.symbol}`);
    asked.current += 1; // a search on its way is about the token just replaced
    setOptions([]);
    setOpen(false);
    setActive(-1);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (options.length === 0) return;
      event.preventDefault();
      if (!open) {
        setOpen(true);
        setActive(event.key === 'ArrowDown' ? 0 : options.length - 1);
        return;
      }
      const step = event.key === 'ArrowDown' ? 1 : -1;
      // -1 (the field itself) sits between the last option and the first, as in a browser.
      const next = active + step;
      setActive(next < -1 ? options.length - 1 : next >= options.length ? -1 : next);
      return;
    }
    if (event.key === 'Enter' && open && active >= 0) {
      const option = options[active];
      if (option === undefined) return;
      event.preventDefault();
      pick(option);
      return;
    }
    if (event.key === 'Escape' && open) {
      event.preventDefault();
      setOpen(false);
      setActive(-1);
    }
  };

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    clearTimeout(timer.current);
    asked.current += 1;
    setOpen(false);
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

  const shown = open && options.length > 0;
  const optionId = (i: number) => `add-symbol-option-${i}`;

  return (
    <form className="add-symbol" onSubmit={(event) => void submit(event)}>
      <label htmlFor="add-symbol-input">Add symbol</label>
      <span className="combo">
        <input
          id="add-symbol-input"
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={shown}
          aria-controls="add-symbol-options"
          aria-activedescendant={shown && active >= 0 ? optionId(active) : undefined}
          value={text}
          onChange={(event) => {
            setText(event.target.value);
            suggest(event.target.value);
            // What the note said was about the previous input.
            if (note !== undefined) setNote(undefined);
          }}
          onKeyDown={onKeyDown}
          onBlur={() => setOpen(false)}
          placeholder="e.g. JPM, BRK.B, or a name"
          autoComplete="off"
          spellCheck={false}
          title="One or more symbols, separated by spaces or commas; type a name to search"
          aria-describedby={note !== undefined ? 'add-symbol-note' : undefined}
        />
        <ul
          id="add-symbol-options"
          role="listbox"
          aria-label="Matching symbols"
          className="combo-options"
          hidden={!shown}
        >
          {shown
            ? options.map((option, i) => (
                <li
                  key={option.symbol}
                  id={optionId(i)}
                  role="option"
                  aria-selected={i === active}
                  className={i === active ? 'active' : undefined}
                  // Keeps the focus (and so the open list) in the field while clicking.
                  onMouseDown={(e) => e.preventDefault()}
                  onClick={() => pick(option)}
                >
                  <span className="option-symbol">{option.symbol}</span>
                  <span className="option-name">{option.name}</span>
                  <span className="option-exchange">
                    {option.exchange}
                    {option.tradable ? '' : ' · not tradable'}
                  </span>
                </li>
              ))
            : null}
        </ul>
      </span>
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
