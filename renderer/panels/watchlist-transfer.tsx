/**
 * Import and export of a watchlist as text. Export downloads the list, one ticker a line. Import
 * takes a paste or a file (one ticker a line, comma separated, or TradingView's EXCHANGE:TICKER
 * export), says what it could not read, and adds the rest through main, which refuses what the
 * directory does not know, with the reason.
 */
import { useId, useRef, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import type { Watchlist } from '../../shared/api.ts';
import { exportFileName, formatSymbolList, parseSymbolList } from '../model/symbol-list.ts';
import { useMonitor } from '../store.ts';
import { describeAdd } from './watchlist-add.tsx';

/** Files larger than this are not a watchlist (and are not read into the page). */
const IMPORT_FILE_LIMIT = 1024 * 1024;

export function ListTransfer({ list }: { list: Watchlist }): ReactNode {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState('');
  const [note, setNote] = useState<{ text: string; problem: boolean } | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const addSymbols = useMonitor((s) => s.addSymbols);
  const opener = useRef<HTMLButtonElement>(null);
  const id = useId();

  const exportList = () => {
    const blob = new Blob([formatSymbolList(list.symbols)], { type: 'text/plain' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = exportFileName(list.name);
    a.click();
    // The download has its own copy once started; the URL can go.
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  const close = () => {
    setOpen(false);
    setText('');
    opener.current?.focus();
  };

  const readFile = async (file: File | undefined) => {
    if (file === undefined) return;
    if (file.size > IMPORT_FILE_LIMIT) {
      setNote({ text: `${file.name} is larger than 1 MB: not a watchlist.`, problem: true });
      return;
    }
    try {
      setText(await file.text());
      setNote(undefined);
    } catch (err) {
      setNote({
        text: `Could not read ${file.name}: ${err instanceof Error ? err.message : String(err)}`,
        problem: true,
      });
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseSymbolList(text);
    if (parsed.symbols.length === 0) {
      setNote({
        text:
          parsed.skipped.length > 0
            ? `No symbols found; could not read ${parsed.skipped.length} entries.`
            : 'No symbols found.',
        problem: true,
      });
      return;
    }
    setBusy(true);
    try {
      const out = await addSymbols(list.id, parsed.symbols.join(' '));
      if (!out.ok) {
        setNote({ text: out.message, problem: true });
        return;
      }
      const said = describeAdd(out.value.added, [
        ...parsed.skipped.map((s) => ({ input: s.input, reason: `not a symbol: ${s.reason}` })),
        ...out.value.rejected,
      ]);
      setNote({ text: said.text, problem: said.problem });
      if (!said.problem) close();
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="list-transfer">
      <button
        ref={opener}
        type="button"
        className="quiet"
        aria-expanded={open}
        onClick={() => (open ? close() : setOpen(true))}
      >
        Import
      </button>
      <button type="button" className="quiet" onClick={exportList}>
        Export
      </button>
      {note !== undefined && !open ? (
        <span className={note.problem ? 'note problem-note' : 'note ok-note'} role="status">
          {note.text}
        </span>
      ) : null}
      {open ? (
        <form
          className="import-form"
          aria-label={`Import symbols into ${list.name}`}
          onSubmit={(e) => void submit(e)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') close();
          }}
        >
          <label htmlFor={`${id}-text`}>
            Symbols: one a line, comma separated, or TradingView EXCHANGE:TICKER
          </label>
          <textarea
            id={`${id}-text`}
            rows={5}
            value={text}
            // Opened by a click on purpose: pasting is what comes next.
            autoFocus
            spellCheck={false}
            onChange={(e) => {
              setText(e.target.value);
              setNote(undefined);
            }}
          />
          <label htmlFor={`${id}-file`}>Or read a file</label>
          <input
            id={`${id}-file`}
            type="file"
            accept=".txt,.csv,text/plain,text/csv"
            onChange={(e) => void readFile(e.target.files?.[0])}
          />
          <p className="import-actions">
            <button type="submit" disabled={busy || text.trim() === ''}>
              Import
            </button>
            <button type="button" className="quiet" onClick={close}>
              Cancel
            </button>
          </p>
          {note !== undefined ? (
            <p
              className={note.problem ? 'note problem-note' : 'note ok-note'}
              role={note.problem ? 'alert' : 'status'}
            >
              {note.text}
            </p>
          ) : null}
        </form>
      ) : null}
    </div>
  );
}
