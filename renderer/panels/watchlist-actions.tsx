/**
 * New / rename / delete for watchlists, as small inline forms beside the tabs.
 */
import { useEffect, useRef, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import type { Watchlist } from '../../shared/api.ts';
import { useMonitor } from '../store.ts';

type ListEditKind = 'new' | 'rename' | 'delete';
/** An open form, with the list it acts on fixed when it opened (tabs stay clickable meanwhile). */
type ListEdit = { kind: ListEditKind; target: Watchlist | undefined } | undefined;

/**
 * New / rename / delete for lists, as small inline forms (no modal dialogs to trap focus). Focus
 * goes into the form when it opens and back to the button that opened it when it closes.
 */
export function ListActions({ list }: { list: Watchlist | undefined }): ReactNode {
  const [edit, setEdit] = useState<ListEdit>(undefined);
  const [name, setName] = useState('');
  const [note, setNote] = useState<string | undefined>(undefined);
  const createWatchlist = useMonitor((s) => s.createWatchlist);
  const renameWatchlist = useMonitor((s) => s.renameWatchlist);
  const deleteWatchlist = useMonitor((s) => s.deleteWatchlist);
  const listCount = useMonitor((s) => s.watchlists.length);
  const openers = useRef(new Map<ListEditKind, HTMLButtonElement>());
  const returnTo = useRef<ListEditKind | undefined>(undefined);

  useEffect(() => {
    if (edit !== undefined || returnTo.current === undefined) return;
    const opener = openers.current.get(returnTo.current);
    returnTo.current = undefined;
    // Delete's button may now be disabled (one list left): then New list takes the focus.
    if (opener !== undefined && !opener.disabled) opener.focus();
    else openers.current.get('new')?.focus();
  }, [edit]);

  const open = (kind: ListEditKind) => {
    setNote(undefined);
    setName(kind === 'rename' ? (list?.name ?? '') : '');
    setEdit({ kind, target: list });
  };

  const close = () => {
    if (edit !== undefined) returnTo.current = edit.kind;
    setEdit(undefined);
    setName('');
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (edit === undefined) return;
    const target = edit.target;
    const out =
      edit.kind === 'new'
        ? await createWatchlist(name)
        : target === undefined
          ? undefined
          : edit.kind === 'rename'
            ? await renameWatchlist(target.id, name)
            : await deleteWatchlist(target.id);
    if (out === undefined) return;
    if (out.ok) {
      setNote(undefined);
      close();
    } else {
      setNote(out.message);
    }
  };

  const opener = (kind: ListEditKind) => (el: HTMLButtonElement | null) => {
    if (el === null) openers.current.delete(kind);
    else openers.current.set(kind, el);
  };

  if (edit === undefined) {
    return (
      <div className="list-actions">
        <button type="button" className="quiet" ref={opener('new')} onClick={() => open('new')}>
          New list
        </button>
        <button
          type="button"
          className="quiet"
          ref={opener('rename')}
          disabled={list === undefined}
          onClick={() => open('rename')}
        >
          Rename list
        </button>
        <button
          type="button"
          className="quiet"
          ref={opener('delete')}
          disabled={list === undefined || listCount <= 1}
          title={listCount <= 1 ? 'The last list cannot be deleted' : undefined}
          onClick={() => open('delete')}
        >
          Delete list
        </button>
        {note !== undefined ? (
          <span className="note" role="alert">
            {note}
          </span>
        ) : null}
      </div>
    );
  }

  return (
    <form
      className="list-actions"
      onSubmit={(e) => void submit(e)}
      onKeyDown={(e) => {
        if (e.key === 'Escape') close();
      }}
    >
      {edit.kind === 'delete' ? (
        <span>
          Delete “{edit.target?.name}” and its {edit.target?.symbols.length ?? 0} symbols?
        </span>
      ) : (
        <>
          <label htmlFor="list-name-input">
            {edit.kind === 'new' ? 'New watchlist name' : `New name for “${edit.target?.name}”`}
          </label>
          <input
            id="list-name-input"
            value={name}
            // Opened by a click on purpose: typing is what comes next.
            autoFocus
            maxLength={60}
            onChange={(e) => setName(e.target.value)}
          />
        </>
      )}
      <button
        type="submit"
        autoFocus={edit.kind === 'delete'}
        disabled={edit.kind !== 'delete' && name.trim() === ''}
      >
        {edit.kind === 'new' ? 'Create' : edit.kind === 'rename' ? 'Save' : 'Delete'}
      </button>
      <button type="button" className="quiet" onClick={close}>
        Cancel
      </button>
      {note !== undefined ? (
        <span className="note" role="alert">
          {note}
        </span>
      ) : null}
    </form>
  );
}
