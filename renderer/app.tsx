/**
 * The first real view: connection state, connect / disconnect, the first watchlist with live bid,
 * ask and last, and a form to add a symbol. The full UI (zustand store, health, counters, handler
 * inspector, diagnostics, settings) builds on this later.
 *
 * Quotes never go through React state one by one: the pull loop folds each frame into a
 * QuoteBoard (a Map outside React) and bumps one counter, so a frame costs one render whatever it
 * carries, and the loop asks for the next frame only after the browser has painted. That is the
 * renderer's half of pull-based flow control: a busy view simply pulls less often and main
 * conflates in between.
 */
import { memo, useCallback, useEffect, useRef, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { normalizeSymbol } from '../shared/api.ts';
import type {
  ApiError,
  ConnectionView,
  MonitorApi,
  Result,
  Settings,
  Watchlist,
} from '../shared/api.ts';
import type { ConnectionState } from '../shared/connection.ts';
import type { QuoteFrame } from '../shared/frame.ts';
import type { ApiMode } from './api.ts';

// ------------------------------------------------------------------------------ quote board

/** -1: fell, 0: unchanged or no earlier value, 1: rose. */
export type Move = -1 | 0 | 1;

export interface QuoteCells {
  readonly bid: number;
  readonly ask: number;
  readonly last: number;
  readonly bidMove: Move;
  readonly askMove: Move;
  readonly lastMove: Move;
}

const NO_QUOTE: QuoteCells = { bid: NaN, ask: NaN, last: NaN, bidMove: 0, askMove: 0, lastMove: 0 };

function moveOf(previous: number, next: number): Move {
  if (Number.isNaN(previous) || Number.isNaN(next) || previous === next) return 0;
  return next > previous ? 1 : -1;
}

/** NaN in a frame means "no value yet": keep what the board already has. */
function keep(previous: number, next: number | undefined): number {
  return next === undefined || Number.isNaN(next) ? previous : next;
}

/** The latest bid / ask / last per symbol, folded from quote frames. */
export class QuoteBoard {
  readonly #rows = new Map<string, QuoteCells>();
  #frames = 0;
  #conflated = 0;

  /** Folds a frame in. A `full` frame is the whole truth: symbols it leaves out are dropped. */
  apply(frame: QuoteFrame): void {
    if (frame.full) this.#rows.clear();
    this.#frames += 1;
    this.#conflated += frame.conflated;
    for (let i = 0; i < frame.symbols.length; i++) {
      const symbol = frame.symbols[i];
      if (symbol === undefined) continue;
      const before = this.#rows.get(symbol) ?? NO_QUOTE;
      const bid = keep(before.bid, frame.bidPrice[i]);
      const ask = keep(before.ask, frame.askPrice[i]);
      const last = keep(before.last, frame.lastPrice[i]);
      this.#rows.set(symbol, {
        bid,
        ask,
        last,
        bidMove: moveOf(before.bid, bid),
        askMove: moveOf(before.ask, ask),
        lastMove: moveOf(before.last, last),
      });
    }
  }

  get(symbol: string): QuoteCells {
    return this.#rows.get(symbol) ?? NO_QUOTE;
  }

  get size(): number {
    return this.#rows.size;
  }

  /** Frames folded in, and quote updates main conflated away before they reached this view. */
  get stats(): { readonly frames: number; readonly conflated: number } {
    return { frames: this.#frames, conflated: this.#conflated };
  }
}

// ------------------------------------------------------------------------------ formatting

const PRICE = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const SMALL_PRICE = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 2,
  maximumSignificantDigits: 4,
  roundingPriority: 'morePrecision',
});

export function formatPrice(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return Math.abs(value) >= 1 || value === 0 ? PRICE.format(value) : SMALL_PRICE.format(value);
}

function moveClass(move: Move): string {
  return move > 0 ? 'num up' : move < 0 ? 'num down' : 'num';
}

/** States in which a connect is already under way or done. */
const ACTIVE: ReadonlySet<ConnectionState> = new Set([
  'connecting',
  'authenticating',
  'subscribing',
  'live',
  'backoff',
]);

function describe(error: ApiError): string {
  return `${error.message} (${error.code})`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Resolves after the next paint: the pull loop's pace. */
function afterPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

// ------------------------------------------------------------------------------ components

interface RowProps {
  readonly symbol: string;
  readonly bid: number;
  readonly ask: number;
  readonly last: number;
  readonly bidMove: Move;
  readonly askMove: Move;
  readonly lastMove: Move;
  readonly onRemove: (symbol: string) => void;
}

/** Memoized on its numbers: a frame re-renders only the rows whose values changed. */
const QuoteRow = memo(function QuoteRow(props: RowProps): ReactNode {
  return (
    <tr>
      <th scope="row">{props.symbol}</th>
      <td className={moveClass(props.bidMove)}>{formatPrice(props.bid)}</td>
      <td className={moveClass(props.askMove)}>{formatPrice(props.ask)}</td>
      <td className={moveClass(props.lastMove)}>{formatPrice(props.last)}</td>
      <td className="actions">
        <button
          type="button"
          className="quiet"
          aria-label={`Remove ${props.symbol}`}
          onClick={() => props.onRemove(props.symbol)}
        >
          ×
        </button>
      </td>
    </tr>
  );
});

export interface AppProps {
  readonly api: MonitorApi;
  readonly mode: ApiMode;
  /** See OpenedApi.onLost. */
  readonly onLost: (listener: (why: string) => void) => () => void;
}

export function App({ api, mode, onLost }: AppProps): ReactNode {
  const boardRef = useRef<QuoteBoard>(null);
  boardRef.current ??= new QuoteBoard();
  const board = boardRef.current;

  const [connection, setConnection] = useState<ConnectionView | undefined>(undefined);
  const [watchlists, setWatchlists] = useState<readonly Watchlist[]>([]);
  const [settings, setSettings] = useState<Settings | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [lost, setLost] = useState<string | undefined>(undefined);
  const [, setPainted] = useState(0);

  useEffect(() => onLost(setLost), [onLost]);

  // Events first, then the snapshot: an event that lands while the snapshot is on its way is newer
  // than the snapshot, so the snapshot only fills what no event has filled yet.
  useEffect(() => {
    let live = true;
    const seen = { connection: false, watchlists: false, settings: false };
    const offs = [
      api.on('connection:state', (view) => {
        seen.connection = true;
        setConnection(view);
      }),
      api.on('watchlists:update', (lists) => {
        seen.watchlists = true;
        setWatchlists(lists);
      }),
      api.on('settings:update', (next) => {
        seen.settings = true;
        setSettings(next);
      }),
    ];
    api.invoke('diagnostics:snapshot', {}).then(
      (result) => {
        if (!live) return;
        if (!result.ok) {
          setProblem(`Could not load the current state: ${describe(result.error)}`);
          return;
        }
        if (!seen.connection) setConnection(result.value.connection);
        if (!seen.watchlists) setWatchlists(result.value.watchlists);
        if (!seen.settings) setSettings(result.value.settings);
      },
      (err: unknown) => {
        if (live) setProblem(`Could not load the current state: ${messageOf(err)}`);
      },
    );
    return () => {
      live = false;
      for (const off of offs) off();
    };
  }, [api]);

  // The pull loop: one frame, fold, one render, wait for the paint, ask again.
  //
  // A restarted loop (StrictMode runs this effect twice in development) loses nothing. The
  // transport keeps one frame request in flight and the new loop's nextFrame() takes it over: the
  // stopped loop's call is rejected and the answer (often the full first frame) reaches the new
  // loop. A frame the stopped loop did receive was taken from the view for good, so it is still
  // folded into the board, which outlives the loop: it is older than anything the new loop can
  // get, since the new loop's request goes out only after that answer came. Only a loop for an api
  // that has been replaced drops its frame: the new api's view starts with a full frame of its own.
  const loopApiRef = useRef<MonitorApi>(null);
  useEffect(() => {
    loopApiRef.current = api;
    let stopped = false;
    void (async () => {
      while (!stopped) {
        let frame: QuoteFrame;
        try {
          frame = await api.nextFrame();
        } catch (err) {
          // A stopped loop's pending call is rejected when the next one starts: not a problem.
          if (!stopped) setProblem(`Quotes stopped: ${messageOf(err)}`);
          return;
        }
        if (loopApiRef.current !== api) return;
        board.apply(frame);
        setPainted((n) => n + 1); // after an unmount, a no-op
        if (stopped) return;
        await afterPaint();
      }
    })();
    return () => {
      stopped = true;
    };
  }, [api, board]);

  useEffect(() => {
    document.documentElement.dataset['theme'] = settings?.theme ?? 'dark';
  }, [settings?.theme]);

  const run = useCallback(
    async <T,>(what: string, call: () => Promise<Result<T>>): Promise<T | undefined> => {
      try {
        const result = await call();
        if (!result.ok) {
          setProblem(`${what}: ${describe(result.error)}`);
          return undefined;
        }
        setProblem(undefined);
        return result.value;
      } catch (err) {
        setProblem(`${what}: ${messageOf(err)}`);
        return undefined;
      }
    },
    [],
  );

  const watchlist = watchlists[0];
  const state = connection?.state;

  const onConnect = () => void run('Connect', () => api.invoke('connection:connect', {}));
  const onDisconnect = () => void run('Disconnect', () => api.invoke('connection:disconnect', {}));
  const onRemove = useCallback(
    (symbol: string) => {
      if (watchlist === undefined) return;
      void run(`Remove ${symbol}`, () =>
        api.invoke('watchlists:remove-symbol', { id: watchlist.id, symbol }),
      );
    },
    [api, run, watchlist],
  );

  return (
    <div className="app">
      <header className="bar">
        <h1>Market Monitor</h1>
        <span className="mode">{mode === 'electron' ? 'Desktop' : 'Browser mode'}</span>
        <div className="connection">
          <span
            role="status"
            aria-label="Connection state"
            className={`state state-${state ?? 'unknown'}`}
          >
            {state ?? 'loading'}
          </span>
          {connection?.reason !== undefined && state !== 'live' ? (
            <span className="reason">{connection.reason}</span>
          ) : null}
          {connection?.stale === true ? <span className="reason">stale</span> : null}
          <button
            type="button"
            onClick={onConnect}
            disabled={state !== undefined && ACTIVE.has(state)}
          >
            Connect
          </button>
          <button
            type="button"
            onClick={onDisconnect}
            disabled={state === undefined || state === 'idle' || state === 'stopped'}
          >
            Disconnect
          </button>
        </div>
      </header>

      {lost !== undefined ? (
        <p role="alert" className="problem">
          Lost the link to Market Monitor: {lost}. Reload the page, or open the address that{' '}
          <code>market-monitor web</code> printed last.
        </p>
      ) : problem !== undefined ? (
        <p role="alert" className="problem">
          {problem}
        </p>
      ) : null}

      <main>
        <section className="watchlist">
          <div className="watchlist-head">
            <h2>{watchlist?.name ?? 'Watchlist'}</h2>
            {watchlist !== undefined ? <AddSymbolForm api={api} watchlist={watchlist} /> : null}
          </div>
          {watchlist === undefined ? (
            <p className="empty">No watchlist yet.</p>
          ) : (
            <table aria-label="Watchlist">
              <thead>
                <tr>
                  <th scope="col">Symbol</th>
                  <th scope="col" className="num">
                    Bid
                  </th>
                  <th scope="col" className="num">
                    Ask
                  </th>
                  <th scope="col" className="num">
                    Last
                  </th>
                  <th scope="col" className="actions">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {watchlist.symbols.map((symbol) => {
                  const q = board.get(symbol);
                  return (
                    <QuoteRow
                      key={symbol}
                      symbol={symbol}
                      bid={q.bid}
                      ask={q.ask}
                      last={q.last}
                      bidMove={q.bidMove}
                      askMove={q.askMove}
                      lastMove={q.lastMove}
                      onRemove={onRemove}
                    />
                  );
                })}
              </tbody>
            </table>
          )}
        </section>
      </main>

      <footer className="bar footer">
        <span>
          {board.stats.frames} frames · {board.stats.conflated} conflated · {board.size} symbols
        </span>
        {connection !== undefined ? <span className="url">{connection.url}</span> : null}
      </footer>
    </div>
  );
}

function AddSymbolForm({ api, watchlist }: { api: MonitorApi; watchlist: Watchlist }): ReactNode {
  const [text, setText] = useState('');
  const [note, setNote] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const normalized = normalizeSymbol(text);
    if (!normalized.ok) {
      setNote(`Not a symbol: ${normalized.reason}.`);
      return;
    }
    setBusy(true);
    try {
      const result = await api.invoke('watchlists:add-symbols', {
        id: watchlist.id,
        symbols: [normalized.symbol],
      });
      if (!result.ok) {
        setNote(describe(result.error));
      } else if (result.value.rejected.length > 0) {
        setNote(result.value.rejected.map((r) => `${r.input}: ${r.reason}`).join('; '));
      } else if (result.value.added.length === 0) {
        setNote(`${normalized.symbol} is already in the list.`);
      } else {
        setNote(undefined);
        setText('');
      }
    } catch (err) {
      setNote(messageOf(err));
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
        onChange={(event) => setText(event.target.value)}
        placeholder="e.g. JPM"
        autoComplete="off"
        spellCheck={false}
        maxLength={64}
        aria-describedby={note !== undefined ? 'add-symbol-note' : undefined}
      />
      <button type="submit" disabled={busy || text.trim() === ''}>
        Add
      </button>
      {note !== undefined ? (
        <span id="add-symbol-note" className="note" role="alert">
          {note}
        </span>
      ) : null}
    </form>
  );
}
