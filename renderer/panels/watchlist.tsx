/**
 * The watchlist: named lists as tabs, an add-symbol form, and a virtualized, sortable quote table.
 *
 * Hot path. Under a full feed every visible row changes on every frame (1,000 symbols, 200 rows
 * on screen), so the quote values do not go through React at all. React renders the table's
 * structure: which rows (virtualized with @tanstack/react-virtual, spacer rows above and below keep
 * real table semantics), their order, the selection and the row marks (stale, refused, no data),
 * and it renders nothing per frame. The frame pass (QuoteCells) writes the values: once per folded
 * frame (a store subscription to `quotesVersion`), it walks the mounted rows and, for each row
 * whose version moved, formats only the values that changed and sets a cell's Text node only when
 * its text did. A changed price's cell wears an up/down tint class for FLASH_MS after its latest
 * change, paler for the second half (set and cleared by the same pass, with a timer for when
 * frames stop), not a restarted animation: under a stream a cell keeps a steady tint instead of
 * repainting a fade on every frame.
 *
 * What else keeps a frame cheap in the page: fixed row height and column widths (table-layout:
 * fixed), and quote cells without overflow clipping (a clip per cell is a paint chunk per cell).
 *
 * Sorting by a live column re-sorts at most once a second: rows that jump on every tick cannot be
 * read, and a trader scanning "top movers" wants an order that holds still long enough to read.
 *
 * Keyboard (the table's scroll area takes focus): ↑/↓ move the selection, PageUp/PageDown by a
 * screen, Home/End to the ends, Delete removes the selected symbol, Alt+↑/↓ moves it within the list
 * (in the list's own order only).
 */
import {
  memo,
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useReducer,
  useRef,
  useState,
} from 'react';
import type { FormEvent, KeyboardEvent, ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { RefusedView, Watchlist } from '../../shared/api.ts';
import {
  FLASH_MS,
  STALE_AFTER_MS,
  changeOf,
  flashOf,
  freshnessOf,
  spreadOf,
  type FlashField,
  type Freshness,
  type QuoteBoard,
  type QuoteRow,
} from '../model/board.ts';
import { COLUMNS, sortSymbols, type ColumnId, type SortState } from '../model/columns.ts';
import {
  formatAge,
  formatCount,
  formatPercent,
  formatPrice,
  formatSigned,
  formatSize,
} from '../model/format.ts';
import { tabAfterKey, useNow } from '../hooks.ts';
import { useMonitor } from '../store.ts';
import { Panel } from './panel.tsx';
import './watchlist.css';

export const ROW_HEIGHT = 26;

// ------------------------------------------------------------------------------ list tabs

function ListTabs(): ReactNode {
  const watchlists = useMonitor((s) => s.watchlists);
  const activeId = useMonitor((s) => s.activeWatchlistId);
  const selectWatchlist = useMonitor((s) => s.selectWatchlist);
  const refs = useRef(new Map<string, HTMLButtonElement>());

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const next = tabAfterKey(
      event.key,
      watchlists.findIndex((l) => l.id === activeId),
      watchlists.length,
    );
    if (next === undefined) return;
    event.preventDefault();
    const target = watchlists[next];
    if (target === undefined) return;
    selectWatchlist(target.id);
    refs.current.get(target.id)?.focus();
  };

  // The active tab stays in view however many lists there are (the strip scrolls sideways).
  // Also when the tabs first appear: a list remembered from the last visit may be far right.
  const tabCount = watchlists.length;
  useEffect(() => {
    if (activeId !== undefined)
      refs.current.get(activeId)?.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
  }, [activeId, tabCount]);

  return (
    <div className="list-tabs" role="tablist" aria-label="Watchlists" onKeyDown={onKeyDown}>
      {watchlists.map((list) => {
        const selected = list.id === activeId;
        return (
          <button
            key={list.id}
            ref={(el) => {
              if (el === null) refs.current.delete(list.id);
              else refs.current.set(list.id, el);
            }}
            type="button"
            role="tab"
            id={`list-tab-${list.id}`}
            aria-selected={selected}
            aria-controls="watchlist-tabpanel"
            tabIndex={selected ? 0 : -1}
            className="list-tab"
            title={list.name}
            onClick={() => selectWatchlist(list.id)}
          >
            <span className="list-name">{list.name}</span>
            <span className="list-count">
              <span className="visually-hidden">, </span>
              {formatCount(list.symbols.length)}
              <span className="visually-hidden"> symbols</span>
            </span>
          </button>
        );
      })}
    </div>
  );
}

type ListEditKind = 'new' | 'rename' | 'delete';
/** An open form, with the list it acts on fixed when it opened (tabs stay clickable meanwhile). */
type ListEdit = { kind: ListEditKind; target: Watchlist | undefined } | undefined;

/**
 * New / rename / delete for lists, as small inline forms (no modal dialogs to trap focus). Focus
 * goes into the form when it opens and back to the button that opened it when it closes.
 */
function ListActions({ list }: { list: Watchlist | undefined }): ReactNode {
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

// ------------------------------------------------------------------------------ add symbols

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

function AddSymbolForm({ list }: { list: Watchlist }): ReactNode {
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

// ------------------------------------------------------------------------------ refusals

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

function Refusals({ symbols }: { symbols: readonly string[] }): ReactNode {
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

// ------------------------------------------------------------------------------ table

/**
 * What React renders per row: structure and marks only. The quote values are not props: the
 * frame pass (QuoteCells below) writes them into the row's cells, so a frame re-renders no row.
 */
interface RowProps {
  readonly symbol: string;
  readonly selected: boolean;
  readonly refused: boolean;
  /** As of the one-second tick (the frame pass asks for a render when a frame changes it). */
  readonly freshness: Freshness;
  /** Listed a while (while live) and never a value: the feed may not carry it. */
  readonly noData: boolean;
  readonly sorted: boolean;
  readonly rowIndex: number;
  readonly onSelect: (symbol: string) => void;
  readonly onRemove: (symbol: string) => void;
  readonly onMove: (symbol: string, delta: number) => void;
}

/** The DOM id of a symbol's row (aria-activedescendant points at it). */
function rowId(symbol: string): string {
  return `quote-row-${symbol}`;
}

/**
 * The row buttons are for the mouse (the keyboard has Delete and Alt+arrows): a click must not
 * move focus onto them, or the table's keys would stop working until the user tabs back.
 */
function keepFocus(event: { preventDefault(): void }): void {
  event.preventDefault();
}

/** A row's mouse button: out of the tab order, keeps focus on the table, does not select the row. */
function RowButton({
  label,
  disabled = false,
  onPress,
  children,
}: {
  label: string;
  disabled?: boolean;
  onPress: () => void;
  children: ReactNode;
}): ReactNode {
  return (
    <button
      type="button"
      className="quiet icon"
      tabIndex={-1}
      onMouseDown={keepFocus}
      aria-label={label}
      disabled={disabled}
      onClick={(e) => {
        e.stopPropagation();
        onPress();
      }}
    >
      {children}
    </button>
  );
}

/**
 * The quote cells, in column order after the symbol. React renders each as an empty <td> (a price
 * cell holds an empty <span class="cell price">, the box its flash tints) and never touches their
 * content or classes again (those className props never change): the frame pass owns the text,
 * the flash classes and the change cells' direction classes.
 */
const VALUE_CELLS = [
  { id: 'bid', td: 'num', price: true },
  { id: 'bidSize', td: 'num size', price: false },
  { id: 'ask', td: 'num', price: true },
  { id: 'askSize', td: 'num size', price: false },
  { id: 'spread', td: 'num', price: false },
  { id: 'last', td: 'num', price: true },
  { id: 'lastSize', td: 'num size', price: false },
  { id: 'change', td: 'num', price: false },
  { id: 'changePct', td: 'num', price: false },
  { id: 'volume', td: 'num', price: false },
  { id: 'age', td: 'num age', price: false },
] as const satisfies ReadonlyArray<{
  id: Exclude<ColumnId, 'symbol'>;
  td: string;
  price: boolean;
}>;

const PRICE_CELL = 'cell price';

const QuoteTableRow = memo(function QuoteTableRow(props: RowProps): ReactNode {
  const { symbol, selected, freshness } = props;
  const classes = ['quote-row'];
  if (selected) classes.push('selected');
  if (freshness === 'stale') classes.push('stale');
  if (props.refused) classes.push('refused');
  return (
    <tr
      id={rowId(symbol)}
      className={classes.join(' ')}
      aria-selected={selected}
      aria-rowindex={props.rowIndex + 2}
      data-symbol={symbol}
      onClick={() => props.onSelect(symbol)}
    >
      <th scope="row" className="symbol">
        {symbol}
        {freshness === 'stale' ? (
          <span className="tag stale-tag" title="No update for 15 s or more">
            stale
          </span>
        ) : null}
        {props.refused ? (
          <span className="tag refused-tag" title="Refused by the server">
            refused
          </span>
        ) : null}
        {props.noData ? (
          <span
            className="tag nodata-tag"
            title="No data since it was added: the feed may not carry this symbol"
          >
            no data
          </span>
        ) : null}
      </th>
      {VALUE_CELLS.map((cell) => (
        <td
          key={cell.id}
          className={cell.id === 'age' && freshness === 'stale' ? `${cell.td} stale-age` : cell.td}
        >
          {cell.price ? <span className={PRICE_CELL} /> : null}
        </td>
      ))}
      <td className="actions">
        <RowButton
          label={`Move ${symbol} up`}
          disabled={props.sorted}
          onPress={() => props.onMove(symbol, -1)}
        >
          ↑
        </RowButton>
        <RowButton
          label={`Move ${symbol} down`}
          disabled={props.sorted}
          onPress={() => props.onMove(symbol, 1)}
        >
          ↓
        </RowButton>
        <RowButton label={`Remove ${symbol}`} onPress={() => props.onRemove(symbol)}>
          ×
        </RowButton>
      </td>
    </tr>
  );
});

// ------------------------------------------------------------------------------ frame pass

/** One quote cell as the frame pass sees it: what it shows and what that was formatted from. */
interface Slot {
  readonly td: HTMLElement;
  /** Where the text and the flash class go: the price span, or the cell itself. */
  readonly box: HTMLElement;
  readonly text: Text;
  shown: string;
  /** The value last formatted (undefined: none yet, so the first pass always writes). */
  value: number | undefined;
  /** The class last written (span for prices, td for change cells), '' when React's own. */
  mark: string;
}

/** A mounted row's cells and what the pass last wrote into them. */
interface RowCells {
  readonly symbol: string;
  readonly slots: readonly Slot[];
  /** The QuoteRow last written (a new board or a re-added symbol brings a new object). */
  row: QuoteRow | undefined;
  version: number;
  /** The tick and receipt time the age cell was last written for. */
  ageNow: number;
  ageOf: number;
  /** When the next flash step of this row is due (Infinity: none lit). */
  flashUntil: number;
}

const BID = 0;
const BID_SIZE = 1;
const ASK = 2;
const ASK_SIZE = 3;
const SPREAD = 4;
const LAST = 5;
const LAST_SIZE = 6;
const CHANGE = 7;
const CHANGE_PCT = 8;
const VOLUME = 9;
const AGE = 10;
const PRICE_SLOTS = [
  [BID, 'bid'],
  [ASK, 'ask'],
  [LAST, 'last'],
] as const satisfies ReadonlyArray<readonly [number, FlashField]>;

/** When a flash turns paler (ms after the change). */
const FLASH_FADES_AT = FLASH_MS / 2;
const FLASH_UP = `${PRICE_CELL} flash-up`;
const FLASH_DOWN = `${PRICE_CELL} flash-down`;

/** A spacer row, or anything else in the body that is not a quote row. */
const NOT_A_QUOTE_ROW = 'not a quote row';

function put(slot: Slot, text: string): void {
  if (slot.shown === text) return;
  slot.shown = text;
  slot.text.data = text;
}

/** Formats `value` into `slot` unless it is the value already shown (formatting is the cost). */
function putNumber(slot: Slot, value: number, format: (value: number) => string): void {
  if (Object.is(slot.value, value)) return;
  slot.value = value;
  put(slot, format(value));
}

/**
 * Writes quote values into the visible rows' cells, outside React: once per folded frame (a store
 * subscription), after every commit of the table (rows that just mounted are empty), on the
 * one-second tick (ages) and when a flash is due to go out.
 *
 * Per row it does nothing unless the row's version moved; per cell it formats only a value that
 * changed and touches the DOM (Text.data, className) only when the text or class did. So a frame
 * costs one pass over ~200 rows in script and, in the page, only the cells whose text changed: no
 * component renders, no element is created, no animation restarts.
 */
class QuoteCells {
  readonly #cells = new WeakMap<HTMLTableRowElement, RowCells | typeof NOT_A_QUOTE_ROW>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #body: HTMLTableSectionElement | null = null;
  /** The freshness React rendered each visible row with. */
  #rendered: ReadonlyMap<string, Freshness> = new Map();
  #tick = 0;
  readonly #board: () => QuoteBoard;
  readonly #onFreshness: () => void;
  readonly #clock: () => number;

  /**
   * `onFreshness`: a row's freshness moved away from what React rendered (a first quote, a stale
   * row that came back): the table renders again for its marks.
   */
  constructor(
    board: () => QuoteBoard,
    onFreshness: () => void,
    clock: () => number = () => Date.now(),
  ) {
    this.#board = board;
    this.#onFreshness = onFreshness;
    this.#clock = clock;
  }

  /** What the table last rendered: its body, its one-second tick, each visible row's freshness. */
  rendered(
    body: HTMLTableSectionElement | null,
    tick: number,
    freshness: ReadonlyMap<string, Freshness>,
  ): void {
    this.#body = body;
    this.#tick = tick;
    this.#rendered = freshness;
  }

  /** One pass over the mounted rows. */
  write(): void {
    const body = this.#body;
    if (body === null) return;
    const board = this.#board();
    const now = this.#clock();
    const tick = this.#tick;
    let flashDue = Infinity;
    let freshnessMoved = false;
    // children, not rows/cells: the same here, and happy-dom has only these.
    const rows = body.children;
    for (let r = 0; r < rows.length; r++) {
      const tr = rows[r];
      if (!(tr instanceof HTMLTableRowElement)) continue;
      let cells = this.#cells.get(tr);
      if (cells === undefined) {
        cells = cellsOf(tr);
        this.#cells.set(tr, cells);
      }
      if (cells === NOT_A_QUOTE_ROW) continue;
      const row = board.get(cells.symbol);
      const moved = row !== cells.row || (row?.version ?? -1) !== cells.version;
      if (moved) {
        cells.row = row;
        cells.version = row?.version ?? -1;
        writeValues(cells.slots, row);
      }
      const receivedAt = row?.receivedAt ?? NaN;
      if (cells.ageNow !== tick || !Object.is(cells.ageOf, receivedAt)) {
        cells.ageNow = tick;
        cells.ageOf = receivedAt;
        put(cells.slots[AGE] as Slot, formatAge(receivedAt, tick));
      }
      if (moved || cells.flashUntil <= now) cells.flashUntil = writeFlashes(cells.slots, row, now);
      if (cells.flashUntil < flashDue) flashDue = cells.flashUntil;
      const shown = this.#rendered.get(cells.symbol);
      if (shown !== undefined && shown !== freshnessOf(receivedAt, tick)) freshnessMoved = true;
    }
    this.#schedule(flashDue, now);
    if (freshnessMoved) this.#onFreshness();
  }

  /** A lit flash must go out on time even when no frame comes: one timer for the earliest. */
  #schedule(due: number, now: number): void {
    if (due === Infinity || due >= this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = due;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Infinity;
        this.write();
      },
      Math.max(0, due - now) + 1,
    );
  }

  /** Stops the flash timer (the table unmounts; a later write would start it again). */
  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }
}

/** The slots of a quote row as React rendered it (see VALUE_CELLS), or NOT_A_QUOTE_ROW. */
function cellsOf(tr: HTMLTableRowElement): RowCells | typeof NOT_A_QUOTE_ROW {
  const symbol = tr.getAttribute('data-symbol');
  if (symbol === null || !tr.classList.contains('quote-row')) return NOT_A_QUOTE_ROW;
  const slots: Slot[] = [];
  for (let i = 0; i < VALUE_CELLS.length; i++) {
    // cells[0] is the symbol's row header.
    const td = tr.children[i + 1];
    const box = VALUE_CELLS[i]?.price === true ? td?.firstElementChild : td;
    if (!(td instanceof HTMLElement) || !(box instanceof HTMLElement)) return NOT_A_QUOTE_ROW;
    const text = document.createTextNode('');
    box.append(text);
    slots.push({ td, box, text, shown: '', value: undefined, mark: '' });
  }
  return {
    symbol,
    slots,
    row: undefined,
    version: -2,
    ageNow: NaN,
    ageOf: NaN,
    flashUntil: Infinity,
  };
}

function writeValues(slots: readonly Slot[], row: QuoteRow | undefined): void {
  const s = (i: number) => slots[i] as Slot;
  putNumber(s(BID), row?.bid ?? NaN, formatPrice);
  putNumber(s(BID_SIZE), row?.bidSize ?? NaN, formatSize);
  putNumber(s(ASK), row?.ask ?? NaN, formatPrice);
  putNumber(s(ASK_SIZE), row?.askSize ?? NaN, formatSize);
  putNumber(s(SPREAD), row === undefined ? NaN : spreadOf(row), formatPrice);
  putNumber(s(LAST), row?.last ?? NaN, formatPrice);
  putNumber(s(LAST_SIZE), row?.lastSize ?? NaN, formatSize);
  putNumber(s(VOLUME), row?.volume ?? NaN, formatSize);
  const change = row === undefined ? { abs: NaN, pct: NaN } : changeOf(row);
  putNumber(s(CHANGE), change.abs, formatSigned);
  putNumber(s(CHANGE_PCT), change.pct, formatPercent);
  const direction = change.abs > 0 ? 'num up' : change.abs < 0 ? 'num down' : 'num';
  markCell(s(CHANGE), direction);
  markCell(s(CHANGE_PCT), direction);
}

/** Sets a change cell's class (colour by direction) when it is not already that. */
function markCell(slot: Slot, className: string): void {
  if (slot.mark === className) return;
  slot.mark = className;
  slot.td.className = className;
}

/**
 * Lights, dims or clears the price cells' flashes; returns when the next of them is due to step.
 * A flash is a tint for FLASH_MS after the latest change, paler for its second half: a fade in two
 * steps, which costs one class change per step where a CSS fade would run (and dispatch events)
 * on every lit cell.
 */
function writeFlashes(slots: readonly Slot[], row: QuoteRow | undefined, now: number): number {
  let due = Infinity;
  for (const [i, field] of PRICE_SLOTS) {
    const slot = slots[i] as Slot;
    const cell = row?.flash[field];
    const flash = cell === undefined ? undefined : flashOf(cell, now);
    let mark = '';
    if (cell !== undefined && flash !== undefined) {
      const fading = now - cell.at >= FLASH_FADES_AT;
      mark = flash === 'up' ? FLASH_UP : FLASH_DOWN;
      if (fading) mark += ' fading';
      due = Math.min(due, cell.at + (fading ? FLASH_MS : FLASH_FADES_AT));
    }
    if (slot.mark !== mark) {
      slot.mark = mark;
      slot.box.className = mark === '' ? PRICE_CELL : mark;
    }
  }
  return due;
}

function ariaSort(
  sort: SortState | undefined,
  column: ColumnId,
): 'ascending' | 'descending' | 'none' {
  if (sort?.column !== column) return 'none';
  return sort.direction === 'asc' ? 'ascending' : 'descending';
}

/** Where the selection goes for a key, or undefined when the key is not a move. */
export function selectionAfterKey(
  key: string,
  index: number,
  count: number,
  page: number,
): number | undefined {
  if (count === 0) return undefined;
  const from = index < 0 ? -1 : index;
  switch (key) {
    case 'ArrowDown':
      return Math.min(count - 1, from + 1);
    case 'ArrowUp':
      return from < 0 ? 0 : Math.max(0, from - 1);
    case 'PageDown':
      return Math.min(count - 1, Math.max(0, from) + page);
    case 'PageUp':
      return Math.max(0, from - page);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return undefined;
  }
}

function QuoteTable({ list }: { list: Watchlist }): ReactNode {
  const board = useMonitor((s) => s.board);
  // No subscription to quotesVersion here: frames reach the cells through the frame pass.
  const sort = useMonitor((s) => s.sort);
  const toggleSort = useMonitor((s) => s.toggleSort);
  const selected = useMonitor((s) => s.selectedSymbol);
  const selectSymbol = useMonitor((s) => s.selectSymbol);
  const removeSymbol = useMonitor((s) => s.removeSymbol);
  const moveSymbol = useMonitor((s) => s.moveSymbol);
  const refusedList = useMonitor((s) => s.subscriptions?.refused);
  // A closed market (or a thin extended session on IEX): silence is expected, no stale marks.
  const quiet = useMonitor((s) => s.market?.quiet ?? false);
  const listedAt = useMonitor((s) => s.listedAt);
  // "No data" counts only while live: without a connection every row would say it.
  const liveSince = useMonitor((s) =>
    s.connection?.state === 'live' ? s.connection.since : Infinity,
  );
  const now = useNow(1000);

  const refused = useMemo(() => new Set((refusedList ?? []).map((r) => r.symbol)), [refusedList]);

  // Sorted by a live column: re-sort on the one-second tick, not on every frame.
  const liveSortTick = sort !== undefined && sort.column !== 'symbol' ? now : 0;
  const order = useMemo(
    () => sortSymbols(list.symbols, sort, (symbol) => board.get(symbol)),
    // liveSortTick is the point: it re-runs the sort once a second while sorted by a live column.
    [list.symbols, sort, board, liveSortTick],
  );

  const scrollRef = useRef<HTMLDivElement>(null);
  const headRef = useRef<HTMLTableSectionElement>(null);
  const bodyRef = useRef<HTMLTableSectionElement>(null);

  // The frame pass: values into the mounted rows' cells, outside React.
  const [, refresh] = useReducer((n: number) => n + 1, 0);
  const [cells] = useState(() => new QuoteCells(() => useMonitor.getState().board, refresh));
  useEffect(() => {
    const off = useMonitor.subscribe((state, previous) => {
      if (state.quotesVersion !== previous.quotesVersion) cells.write();
    });
    return () => {
      off();
      cells.dispose();
    };
  }, [cells]);
  const virtualizer = useVirtualizer({
    count: order.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    initialRect: { width: 1000, height: 600 },
  });

  const selectedIndex = selected === undefined ? -1 : order.indexOf(selected);

  const onSelect = useCallback((symbol: string) => selectSymbol(symbol), [selectSymbol]);
  // Where a symbol is headed while its moves are on their way: Alt+arrow pressed quickly (key
  // repeat) counts from there, not from the list as main last sent it, so no press is lost.
  const heading = useRef(new Map<string, { to: number; pending: number }>());
  const onMove = useCallback(
    (symbol: string, delta: number) => {
      const pending = heading.current.get(symbol);
      const index = pending?.to ?? list.symbols.indexOf(symbol);
      const to = index + delta;
      if (index < 0 || to < 0 || to >= list.symbols.length) return;
      heading.current.set(symbol, { to, pending: (pending?.pending ?? 0) + 1 });
      void moveSymbol(list.id, symbol, to).finally(() => {
        const now = heading.current.get(symbol);
        if (now === undefined) return;
        if (now.pending <= 1) heading.current.delete(symbol);
        else heading.current.set(symbol, { to: now.to, pending: now.pending - 1 });
      });
    },
    [list.id, list.symbols, moveSymbol],
  );

  // Removals on their way to main: Delete held down (auto-repeat) must not send one per repeat.
  const removing = useRef(new Set<string>());
  const removeOnce = useCallback(
    async (symbol: string) => {
      if (removing.current.has(symbol)) return undefined;
      removing.current.add(symbol);
      try {
        return await removeSymbol(list.id, symbol);
      } finally {
        removing.current.delete(symbol);
      }
    },
    [list.id, removeSymbol],
  );

  const onRemove = useCallback((symbol: string) => void removeOnce(symbol), [removeOnce]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.target !== event.currentTarget) return;
    if (event.altKey && (event.key === 'ArrowUp' || event.key === 'ArrowDown')) {
      event.preventDefault();
      if (selected !== undefined && sort === undefined)
        onMove(selected, event.key === 'ArrowUp' ? -1 : 1);
      return;
    }
    if ((event.key === 'Delete' || event.key === 'Backspace') && selected !== undefined) {
      event.preventDefault();
      // The neighbour in the order on screen (sorted or not) takes the selection.
      const next = order[selectedIndex + 1] ?? order[selectedIndex - 1];
      void removeOnce(selected).then((out) => {
        if (out?.ok === true) selectSymbol(next);
      });
      return;
    }
    if (event.key === 'Escape') {
      selectSymbol(undefined);
      return;
    }
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 300) / ROW_HEIGHT) - 1);
    const next = selectionAfterKey(event.key, selectedIndex, order.length, page);
    if (next === undefined) return;
    event.preventDefault();
    const symbol = order[next];
    if (symbol === undefined) return;
    selectSymbol(symbol);
    revealRow(next);
  };

  /**
   * Scrolls just enough that row `index` is wholly visible below the sticky header (the
   * virtualizer's own scrollToIndex does not know the header covers the top of the area).
   */
  const revealRow = (index: number) => {
    const area = scrollRef.current;
    if (area === null) return;
    const header = headRef.current?.offsetHeight ?? 0;
    const top = header + index * ROW_HEIGHT;
    const bottom = top + ROW_HEIGHT;
    if (top - header < area.scrollTop) area.scrollTop = top - header;
    else if (bottom > area.scrollTop + area.clientHeight)
      area.scrollTop = bottom - area.clientHeight;
  };

  const items = virtualizer.getVirtualItems();
  const first = items[0];
  const last = items[items.length - 1];
  const padTop = first?.start ?? 0;
  const padBottom = last === undefined ? 0 : virtualizer.getTotalSize() - last.end;
  const sorted = sort !== undefined;

  // Each visible row's marks as of the tick; the frame pass asks for a render when a frame moves
  // one (a first quote, a stale row that came back).
  const freshness = new Map<string, Freshness>();
  const rowElements: ReactNode[] = [];
  for (const item of items) {
    const symbol = order[item.index];
    if (symbol === undefined) continue;
    const receivedAt = board.get(symbol)?.receivedAt ?? NaN;
    // While the market sleeps, old values are the last session's, not a stalled feed.
    const rowFreshness = quiet
      ? Number.isFinite(receivedAt)
        ? 'fresh'
        : 'waiting'
      : freshnessOf(receivedAt, now);
    freshness.set(symbol, rowFreshness);
    const isRefused = refused.has(symbol);
    const since = Math.max(listedAt.get(symbol) ?? now, liveSince);
    rowElements.push(
      <QuoteTableRow
        key={symbol}
        symbol={symbol}
        selected={symbol === selected}
        refused={isRefused}
        freshness={rowFreshness}
        noData={!quiet && rowFreshness === 'waiting' && !isRefused && now - since >= STALE_AFTER_MS}
        sorted={sorted}
        rowIndex={item.index}
        onSelect={onSelect}
        onRemove={onRemove}
        onMove={onMove}
      />,
    );
  }

  // After every commit: rows that just mounted are empty until the pass fills them (before paint).
  useLayoutEffect(() => {
    cells.rendered(bodyRef.current, now, freshness);
    cells.write();
  });

  return (
    <div
      id="watchlist-table-area"
      ref={scrollRef}
      className="table-scroll"
      tabIndex={0}
      role="group"
      aria-label={`${list.name}: ${formatCount(order.length)} symbols. Arrow keys select, Delete removes, Alt+arrows reorder.`}
      aria-activedescendant={
        selected !== undefined && selectedIndex >= 0 ? rowId(selected) : undefined
      }
      onKeyDown={onKeyDown}
    >
      <span className="visually-hidden" aria-live="polite">
        {selected !== undefined && selectedIndex >= 0
          ? `${selected} selected, ${selectedIndex + 1} of ${order.length}`
          : ''}
      </span>
      <table className="quotes" aria-label="Watchlist" aria-rowcount={order.length + 1}>
        {/* Fixed widths: a virtualized table must not re-measure its columns as rows scroll by. */}
        <colgroup>
          {COLUMNS.map((column) => (
            <col key={column.id} className={`col-${column.id}`} />
          ))}
          <col className="col-actions" />
        </colgroup>
        <thead ref={headRef}>
          <tr aria-rowindex={1}>
            {COLUMNS.map((column) => (
              <th
                key={column.id}
                scope="col"
                className={column.numeric ? 'num' : undefined}
                aria-sort={ariaSort(sort, column.id)}
                title={column.title}
              >
                <button type="button" className="sort" onClick={() => toggleSort(column.id)}>
                  {column.short === undefined ? (
                    column.label
                  ) : (
                    // Seen: the abbreviation; heard (and named): the full name.
                    <>
                      <span aria-hidden="true">{column.short}</span>
                      <span className="visually-hidden">{column.label}</span>
                    </>
                  )}
                  <span className="sort-mark" aria-hidden="true">
                    {sort?.column === column.id ? (sort.direction === 'asc' ? '▲' : '▼') : ''}
                  </span>
                </button>
              </th>
            ))}
            <th scope="col" className="actions">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody ref={bodyRef}>
          {padTop > 0 ? (
            <tr className="spacer" aria-hidden="true" style={{ height: padTop }}>
              <td colSpan={COLUMNS.length + 1} />
            </tr>
          ) : null}
          {rowElements}
          {padBottom > 0 ? (
            <tr className="spacer" aria-hidden="true" style={{ height: padBottom }}>
              <td colSpan={COLUMNS.length + 1} />
            </tr>
          ) : null}
        </tbody>
      </table>
      {order.length === 0 ? (
        <p className="empty">No symbols in this list yet: add one above.</p>
      ) : null}
    </div>
  );
}

// ------------------------------------------------------------------------------ panel

export function WatchlistPanel(): ReactNode {
  const watchlists = useMonitor((s) => s.watchlists);
  const activeId = useMonitor((s) => s.activeWatchlistId);
  const sort = useMonitor((s) => s.sort);
  const setSort = useMonitor((s) => s.setSort);
  const list = watchlists.find((l) => l.id === activeId) ?? watchlists[0];

  // A selection that left the list (removed elsewhere, another window) is dropped.
  const selected = useMonitor((s) => s.selectedSymbol);
  const selectSymbol = useMonitor((s) => s.selectSymbol);
  useEffect(() => {
    if (selected !== undefined && list !== undefined && !list.symbols.includes(selected))
      selectSymbol(undefined);
  }, [list, selected, selectSymbol]);

  return (
    <Panel
      id="watchlist"
      title="Watchlist"
      className="watchlist-panel"
      actions={
        sort !== undefined ? (
          <button type="button" className="quiet" onClick={() => setSort(undefined)}>
            List order
          </button>
        ) : undefined
      }
    >
      <div className="watchlist-bar">
        <ListTabs />
        <ListActions list={list} />
      </div>
      {list === undefined ? (
        <p className="empty">Loading watchlists…</p>
      ) : (
        <div
          className="watchlist-tabpanel"
          id="watchlist-tabpanel"
          role="tabpanel"
          aria-labelledby={`list-tab-${list.id}`}
        >
          <AddSymbolForm key={list.id} list={list} />
          <Refusals symbols={list.symbols} />
          <QuoteTable list={list} />
        </div>
      )}
    </Panel>
  );
}
