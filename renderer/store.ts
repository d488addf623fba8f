/**
 * The renderer's one store: zustand, in slices (session, connection, quotes, watchlists, metrics,
 * handlers, settings, diagnostics), each with its actions beside its state. Components read with
 * selectors and call actions; none of them touches the transport. `attach(api)` is the only place
 * that subscribes to the MonitorApi's events and runs the frame pull loop.
 *
 * Quotes are the hot path and never go through React state one by one: the pull loop folds each
 * frame into the QuoteBoard (mutable, outside React) and bumps `quotesVersion` once. The watchlist
 * subscribes to that counter outside React and draws the changed cells of its visible rows on its
 * canvas in the next animation frame (renderer/grid); React renders only the table's structure.
 * The loop asks for the next frame only after that frame's painters have drawn,
 * which is the renderer's half of pull-based flow control (main conflates in between).
 *
 * Tests call `resetMonitorStore()` between cases: it detaches any api and restores every slice.
 */
import { create } from 'zustand';
import { afterPaint as afterCanvasPaint } from './paint-clock.ts';
import type {
  AddSymbolsResult,
  ApiError,
  ChartBar,
  CommandInput,
  CommandName,
  CommandOutput,
  ConnectionView,
  CredentialStatus,
  Credentials,
  DiagnosticsBundle,
  HandlerView,
  HealthView,
  LogEntry,
  MetricsView,
  MonitorApi,
  MarketView,
  Notice,
  Result,
  Settings,
  SimulatorControl,
  SeriesUpdate,
  Source,
  SubscriptionsView,
  SymbolInfo,
  TapeUpdate,
  Theme,
  Watchlist,
} from '../shared/api.ts';
import { MAX_FOCUS_SYMBOLS, MAX_SYMBOLS_PER_WATCHLIST, normalizeSymbol } from '../shared/api.ts';
import type { QuoteFrame } from '../shared/frame.ts';
import type { ApiMode } from './api.ts';
import {
  alertsActions,
  alertsInitialData,
  attachAlerts,
  type AlertsSlice,
} from './alerts-slice.ts';
import {
  attachTradingStatus,
  tradingStatusInitialData,
  type TradingStatusSlice,
} from './trading-status-slice.ts';
import { requestResync } from './frame-resync.ts';
import { QuoteBoard } from './model/board.ts';
import {
  SORT_COLUMNS,
  nextSort,
  normalizeColumns,
  type ColumnId,
  type SortColumn,
  type SortState,
} from './model/columns.ts';
import { SeriesBook } from './model/series.ts';
import { LatencyHistogram } from './model/latency.ts';
import { TradeTape } from './model/trade-tape.ts';

export type { ApiMode };

/** What an action reports back to the component that called it. */
export type Outcome<T = undefined> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** How many log entries the diagnostics panel keeps. */
export const LOG_LIMIT = 2000;
/** Points in the messages-per-second chart (metrics arrive 4 times a second: 2.5 minutes). */
export const RATE_HISTORY = 600;

export interface RatePoint {
  /** Epoch ms of the metrics sample. */
  readonly at: number;
  /** Messages per second over the last whole second. */
  readonly perSecond: number;
}

export interface SessionSlice {
  api: MonitorApi | undefined;
  mode: ApiMode | undefined;
  /** The last failed action or load, for the page's alert line. */
  problem: string | undefined;
  /** The link to main is gone for good (browser mode: the bridge closed). */
  lost: string | undefined;
  /**
   * Quotes or the initial state could not be loaded: stays until a restart succeeds (an unrelated
   * command that works says nothing about it, unlike `problem`).
   */
  halted: string | undefined;
  /** Binds the store to a transport: events, the initial snapshot, the pull loop. Returns detach. */
  attach: (api: MonitorApi, options?: AttachOptions) => () => void;
  setLost: (why: string) => void;
  /** Attaches the same api again: a fresh snapshot and pull loop (after `halted`). */
  restart: () => void;
  clearProblem: () => void;
}

export interface ConnectionSlice {
  connection: ConnectionView | undefined;
  /**
   * The newest connection error seen, kept after the connection recovers (the view's lastError
   * clears when it is live again), so that "what went wrong" can still be read afterwards.
   */
  lastError:
    { readonly error: NonNullable<ConnectionView['lastError']>; readonly at: number } | undefined;
  connect: () => Promise<Outcome<ConnectionView>>;
  disconnect: () => Promise<Outcome<ConnectionView>>;
}

export interface QuotesSlice {
  /** Mutable, outside React: read it during render, subscribe to `quotesVersion` for changes. */
  board: QuoteBoard;
  /** Rises once per folded frame. */
  quotesVersion: number;
  /**
   * Main's receipt to screen, per updated row on screen (the renderer's half of the latency
   * picture): see applyFrame for which rows count.
   */
  screenLatency: LatencyHistogram;
  /**
   * What main is told to keep fresh ('frames:focus'): the watchlist's rows on screen with a
   * margin, and the selection; undefined (no grid, or not yet) is every row. Their rows come in
   * every frame, the others at a slower pace: a 1,000-symbol list with 20 rows on screen no
   * longer pulls 700-row frames.
   */
  shown: readonly string[] | undefined;
  /**
   * The grid's report: `focus` for main (above), and `visible`, the rows actually on screen and
   * the selection, whose screen latency is measured.
   */
  setShown: (focus: readonly string[] | undefined, visible?: readonly string[]) => void;
  /**
   * Folds a frame (the pull loop calls this; tests may too). Returns the receipt times to measure:
   * of rows on screen that main received after they came on screen (a row received before had
   * no screen to reach yet), or of every row while the grid has said nothing. A frame that shows
   * an earlier one was lost asks main for a full frame (renderer/frame-resync.ts), which heals.
   */
  applyFrame: (frame: QuoteFrame, now?: number) => readonly number[];
  /** Sparkline series, mutable and outside React like the board; `seriesVersion` says it moved. */
  series: SeriesBook;
  seriesVersion: number;
  /** Folds a series update: `whole` for market:series's answer, else an event. */
  applySeries: (update: SeriesUpdate, whole: boolean) => void;
}

export interface SymbolsSlice {
  /** What the directory said of listed symbols (names for the watchlist). */
  symbolInfo: ReadonlyMap<string, SymbolInfo>;
  /** Asks the directory about those of `symbols` not asked about yet. */
  loadSymbolInfo: (symbols: readonly string[]) => Promise<void>;
  /** The add box's autocomplete. */
  searchSymbols: (query: string, limit?: number) => Promise<Outcome<readonly SymbolInfo[]>>;
}

export interface WatchlistsSlice {
  watchlists: readonly Watchlist[];
  /**
   * When this view first saw each listed symbol (epoch ms): a symbol that has had no data for a
   * while since then is marked "no data" (the feed may not carry it), not left as bare dashes.
   */
  listedAt: ReadonlyMap<string, number>;
  activeWatchlistId: string | undefined;
  selectedSymbol: string | undefined;
  sort: SortState | undefined;
  /** The columns each list shows, in order, by list id (a list not here shows the default). */
  columns: Readonly<Record<string, readonly ColumnId[]>>;
  setColumns: (listId: string, columns: readonly ColumnId[] | undefined) => void;
  selectWatchlist: (id: string) => void;
  selectSymbol: (symbol: string | undefined) => void;
  /** Cycles the sort of `column`: ascending, descending, the list's own order. */
  toggleSort: (column: SortColumn) => void;
  setSort: (sort: SortState | undefined) => void;
  createWatchlist: (name: string) => Promise<Outcome<Watchlist>>;
  renameWatchlist: (id: string, name: string) => Promise<Outcome<Watchlist>>;
  deleteWatchlist: (id: string) => Promise<Outcome<readonly Watchlist[]>>;
  /** `text`: one or more symbols separated by spaces or commas, as typed. */
  addSymbols: (id: string, text: string) => Promise<Outcome<AddSymbolsResult>>;
  removeSymbol: (id: string, symbol: string) => Promise<Outcome<Watchlist>>;
  moveSymbol: (id: string, symbol: string, toIndex: number) => Promise<Outcome<Watchlist>>;
}

export interface MetricsSlice {
  metrics: MetricsView | undefined;
  health: HealthView | undefined;
  rateHistory: readonly RatePoint[];
}

export interface HandlersSlice {
  handlers: readonly HandlerView[];
  removeHandler: (id: string) => Promise<Outcome<readonly HandlerView[]>>;
}

export interface SettingsSlice {
  settings: Settings | undefined;
  credentials: CredentialStatus | undefined;
  notices: readonly Notice[];
  /** Where the market stands (session, quiet): a closed market's silence is no alarm. */
  market: MarketView | undefined;
  setSource: (source: Source) => Promise<Outcome<Settings>>;
  updateSettings: (patch: CommandInput<'settings:update'>) => Promise<Outcome<Settings>>;
  setTheme: (theme: Theme) => Promise<Outcome<Settings>>;
  setCredentials: (credentials: Credentials) => Promise<Outcome<CredentialStatus>>;
  clearCredentials: () => Promise<Outcome<CredentialStatus>>;
  dismissNotice: (id: string) => Promise<Outcome<readonly Notice[]>>;
}

/** The simulator limits this view set (main does not report them back): kept across tab switches. */
export interface SimulatorFaults {
  /** null: no limit. */
  readonly symbolLimit: number | null;
  /** undefined: the simulator's own rate. */
  readonly perSecond: number | undefined;
}

export const NO_FAULTS: SimulatorFaults = {
  symbolLimit: null,
  perSecond: undefined,
};

export interface DiagnosticsSlice {
  log: readonly LogEntry[];
  subscriptions: SubscriptionsView | undefined;
  faults: SimulatorFaults;
  /** Subscribes the symbols the server refused again (after a plan change or a lifted limit). */
  retryRefused: () => Promise<Outcome<{ readonly retried: number }>>;
  exportBundle: () => Promise<Outcome<DiagnosticsBundle>>;
  simulatorControl: (control: SimulatorControl) => Promise<Outcome<{ readonly applied: string }>>;
}

/** The symbol detail pane (renderer/panels/detail.tsx) and its Times & Sales. */
export interface DetailSlice {
  /** The pane follows the selection; closing it hides it until another symbol is selected. */
  detailClosedFor: string | undefined;
  /** Mutable, outside React: the watched symbol's trades, quote and day. */
  tape: TradeTape;
  /** Rises once per folded tape batch. */
  tapeVersion: number;
  closeDetail: () => void;
  openDetail: () => void;
  /** Tells main which symbol this view's pane watches (undefined: none) and takes its tape. */
  watchTape: (symbol: string | undefined) => Promise<Outcome<TapeUpdate | null>>;
  /** The detail chart's bars (failures are the chart's to show, not the page's alert line). */
  loadBars: (input: CommandInput<'market:bars'>) => Promise<Outcome<readonly ChartBar[]>>;
  /** The directory's name, exchange and tradable flag of one symbol (undefined: not known). */
  fetchSymbolInfo: (symbol: string) => Promise<Outcome<SymbolInfo | undefined>>;
}

export type MonitorState = SessionSlice &
  DetailSlice &
  ConnectionSlice &
  QuotesSlice &
  WatchlistsSlice &
  MetricsSlice &
  HandlersSlice &
  SettingsSlice &
  DiagnosticsSlice &
  SymbolsSlice &
  AlertsSlice &
  TradingStatusSlice;

export interface AttachOptions {
  readonly mode?: ApiMode;
  /** Resolves after the next paint: the pull loop's pace. Default: requestAnimationFrame. */
  readonly afterPaint?: () => Promise<void>;
  /** Wall clock (tests pass a fake). */
  readonly now?: () => number;
}

type Data = Omit<
  MonitorState,
  {
    [K in keyof MonitorState]: MonitorState[K] extends (...args: never[]) => unknown ? K : never;
  }[keyof MonitorState]
>;

/** Where this view keeps its own choices (which list, which sort) across reloads. */
export const PREFS_KEY = 'market-monitor.view';

interface ViewPrefs {
  readonly activeWatchlistId: string | undefined;
  readonly sort: SortState | undefined;
  readonly columns: Readonly<Record<string, readonly ColumnId[]>>;
}

/** The saved view choices; anything missing, corrupt or foreign reads as no choice. */
export function loadPrefs(
  storage: Pick<Storage, 'getItem'> | undefined = pageStorage(),
): ViewPrefs {
  const none: ViewPrefs = { activeWatchlistId: undefined, sort: undefined, columns: {} };
  let raw: string | null;
  try {
    raw = storage?.getItem(PREFS_KEY) ?? null;
  } catch {
    return none;
  }
  if (raw === null) return none;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return none;
  }
  if (typeof parsed !== 'object' || parsed === null) return none;
  const { activeWatchlistId, sort, columns } = parsed as Record<string, unknown>;
  const id =
    typeof activeWatchlistId === 'string' && activeWatchlistId.length <= 64
      ? activeWatchlistId
      : undefined;
  let validSort: SortState | undefined;
  if (typeof sort === 'object' && sort !== null) {
    const { column, direction } = sort as Record<string, unknown>;
    if (
      (SORT_COLUMNS as readonly unknown[]).includes(column) &&
      (direction === 'asc' || direction === 'desc')
    )
      validSort = { column: column as SortColumn, direction };
  }
  const validColumns: Record<string, readonly ColumnId[]> = {};
  if (typeof columns === 'object' && columns !== null && !Array.isArray(columns)) {
    for (const [listId, chosen] of Object.entries(columns as Record<string, unknown>).slice(0, 500))
      if (listId.length <= 64 && Array.isArray(chosen))
        validColumns[listId] = normalizeColumns(chosen);
  }
  return { activeWatchlistId: id, sort: validSort, columns: validColumns };
}

function savePrefs(prefs: ViewPrefs): void {
  try {
    pageStorage()?.setItem(PREFS_KEY, JSON.stringify(prefs));
  } catch {
    // Storage full or refused: the choice lasts until the page closes, which is no harm.
  }
}

function pageStorage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined; // a sandboxed frame throws on access
  }
}

function initialData(): Data {
  const prefs = loadPrefs();
  return {
    api: undefined,
    mode: undefined,
    problem: undefined,
    lost: undefined,
    halted: undefined,
    connection: undefined,
    lastError: undefined,
    board: new QuoteBoard(),
    quotesVersion: 0,
    screenLatency: new LatencyHistogram(),
    shown: undefined,
    watchlists: [],
    listedAt: new Map(),
    activeWatchlistId: prefs.activeWatchlistId,
    selectedSymbol: undefined,
    sort: prefs.sort,
    columns: prefs.columns,
    series: new SeriesBook(),
    seriesVersion: 0,
    symbolInfo: new Map(),
    metrics: undefined,
    health: undefined,
    rateHistory: [],
    handlers: [],
    settings: undefined,
    credentials: undefined,
    notices: [],
    market: undefined,
    log: [],
    subscriptions: undefined,
    faults: NO_FAULTS,
    ...alertsInitialData(),
    ...tradingStatusInitialData(),
    detailClosedFor: undefined,
    tape: new TradeTape(),
    tapeVersion: 0,
  };
}

/**
 * An error for the user: main's message says what happened; the code is added only where the
 * message is generic (internal, storage), as something to quote in a bug report.
 */
function describe(error: ApiError): string {
  return error.code === 'internal' || error.code === 'storage'
    ? `${error.message} (${error.code})`
    : error.message;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The next animation frame, after its painters drew: the watchlist's canvas paints the folded frame
 * in that frame (paint-clock.ts), so `screenLatency` ends when the rows are on the canvas.
 */
function defaultAfterPaint(): Promise<void> {
  return afterCanvasPaint();
}

/** Splits typed input into candidate symbols: spaces, commas, semicolons or new lines between. */
export function splitSymbols(text: string): string[] {
  return text.split(/[\s,;]+/).filter((s) => s !== '');
}

/** Entries merged by sequence number, oldest first, at most `limit`. */
export function mergeLog(
  current: readonly LogEntry[],
  incoming: readonly LogEntry[],
  limit = LOG_LIMIT,
): LogEntry[] {
  // The common case, a newer entry arriving as an event: append without re-sorting the ring.
  const tail = current.at(-1);
  if (incoming.length === 1 && (tail === undefined || incoming[0]!.seq > tail.seq)) {
    const appended = [...current, incoming[0]!];
    return appended.length > limit ? appended.slice(appended.length - limit) : appended;
  }
  const bySeq = new Map<number, LogEntry>();
  for (const e of current) bySeq.set(e.seq, e);
  for (const e of incoming) bySeq.set(e.seq, e);
  const merged = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  return merged.length > limit ? merged.slice(merged.length - limit) : merged;
}

/** Keeps the active list valid when the lists change (deleted, first load). */
function activeAfter(lists: readonly Watchlist[], active: string | undefined): string | undefined {
  if (active !== undefined && lists.some((l) => l.id === active)) return active;
  return lists[0]?.id;
}

/** Symbols whose directory entry was asked for (answered or on the way). */
const infoAsked = new Set<string>();

/** The detach of the api attached now: a new attach, and a reset, end the previous one. */
let detachCurrent: (() => void) | undefined;
/** What `restart()` attaches again. */
let lastAttach: { api: MonitorApi; options: AttachOptions } | undefined;
/** The symbols on screen (the grid's `visible`), each with the time it came on screen. */
let visibleSince: Map<string, number> | undefined;
/** The attached transport's clock (AttachOptions.now): receipt times are on it. */
let clock: () => number = Date.now;

/** A paint wait longer than this was a hidden page, not rendering work. */
export const PAINT_WAIT_LIMIT_MS = 1000;

function visible(): boolean {
  return typeof document === 'undefined' || document.visibilityState !== 'hidden';
}

export const useMonitor = create<MonitorState>()((set, get) => {
  /** Runs a command; failures come back as a message (and land in `problem` when `report`). */
  async function call<C extends CommandName>(
    what: string,
    command: C,
    input: CommandInput<C>,
    report = true,
  ): Promise<Outcome<CommandOutput<C>>> {
    const api = get().api;
    if (api === undefined) return { ok: false, message: `${what}: not connected to the app` };
    let result: Result<CommandOutput<C>>;
    try {
      result = await api.invoke(command, input);
    } catch (err) {
      const message = `${what}: ${messageOf(err)}`;
      if (report) set({ problem: message });
      return { ok: false, message };
    }
    if (!result.ok) {
      const message = `${what}: ${describe(result.error)}`;
      if (report) set({ problem: message });
      return { ok: false, message };
    }
    if (report && get().problem !== undefined) set({ problem: undefined });
    return { ok: true, value: result.value };
  }

  /** New lists: keep the active one valid and note when each symbol first appeared. */
  function onWatchlists(lists: readonly Watchlist[]): void {
    const before = get().listedAt;
    const at = Date.now();
    const listedAt = new Map<string, number>();
    for (const list of lists)
      for (const symbol of list.symbols) listedAt.set(symbol, before.get(symbol) ?? at);
    set((s) => ({
      watchlists: lists,
      listedAt,
      activeWatchlistId: activeAfter(lists, s.activeWatchlistId),
    }));
  }

  /** A connection view arrived: keep it, remember its error, retire a connect problem once live. */
  function onConnection(view: ConnectionView): void {
    const patch: Partial<MonitorState> = { connection: view };
    if (view.lastError !== undefined) patch.lastError = { error: view.lastError, at: view.since };
    const problem = get().problem;
    if (view.state === 'live' && problem !== undefined && /^(Connect|Change source):/.test(problem))
      patch.problem = undefined;
    set(patch);
  }

  /** Settings arrived: a new source means a new simulator, without the faults set on the old. */
  function onSettings(settings: Settings): void {
    const before = get().settings;
    const sourceChanged =
      before !== undefined && JSON.stringify(before.source) !== JSON.stringify(settings.source);
    set(sourceChanged ? { settings, faults: NO_FAULTS } : { settings });
  }

  return {
    ...initialData(),

    // ---------------------------------------------------------------- session
    attach(api, options = {}) {
      const afterPaint = options.afterPaint ?? defaultAfterPaint;
      const now = options.now ?? Date.now;
      clock = now;
      detachCurrent?.();
      lastAttach = { api, options };
      set({ api, mode: options.mode ?? get().mode, problem: undefined, halted: undefined });
      let live = true;
      const seen = new Set<string>();
      const offs = [
        api.on('connection:state', (view) => {
          seen.add('connection');
          onConnection(view);
        }),
        api.on('watchlists:update', (lists) => {
          seen.add('watchlists');
          onWatchlists(lists);
        }),
        api.on('settings:update', (settings) => {
          seen.add('settings');
          onSettings(settings);
        }),
        api.on('credentials:update', (credentials) => {
          seen.add('credentials');
          set({ credentials });
        }),
        api.on('notices:update', (notices) => {
          seen.add('notices');
          set({ notices });
        }),
        api.on('market:update', (market) => {
          seen.add('market');
          set({ market });
        }),
        api.on('handlers:update', (handlers) => {
          seen.add('handlers');
          set({ handlers });
        }),
        api.on('subscriptions:update', (subscriptions) => {
          seen.add('subscriptions');
          set({ subscriptions });
        }),
        api.on('metrics:update', ({ metrics, health }) => {
          seen.add('metrics');
          set((s) => {
            const point = { at: metrics.at, perSecond: metrics.rates.messages.s1 };
            const history =
              s.rateHistory.length >= RATE_HISTORY
                ? [...s.rateHistory.slice(s.rateHistory.length - RATE_HISTORY + 1), point]
                : [...s.rateHistory, point];
            return { metrics, health, rateHistory: history };
          });
        }),
        api.on('market:series', (update) => {
          get().applySeries(update, false);
        }),
        api.on('log:entry', (entry) => {
          set((s) => ({ log: mergeLog(s.log, [entry]) }));
        }),
        api.on('tape:trades', (update) => {
          if (get().tape.apply(update)) set((s) => ({ tapeVersion: s.tapeVersion + 1 }));
        }),
      ];

      // Events first, then the snapshot: an event that lands while the snapshot is on its way is
      // newer, so the snapshot fills only what no event has filled yet.
      void api.invoke('diagnostics:snapshot', {}).then(
        (result) => {
          if (!live) return;
          if (!result.ok) {
            set({ halted: `Could not load the current state: ${describe(result.error)}` });
            return;
          }
          const snap = result.value;
          const patch: Partial<MonitorState> = {};
          if (!seen.has('connection')) onConnection(snap.connection);
          if (!seen.has('watchlists')) onWatchlists(snap.watchlists);
          if (!seen.has('settings')) onSettings(snap.settings);
          if (!seen.has('credentials')) patch.credentials = snap.credentials;
          if (!seen.has('notices')) patch.notices = snap.notices;
          if (!seen.has('market')) patch.market = snap.market;
          if (!seen.has('handlers')) patch.handlers = snap.handlers;
          if (!seen.has('subscriptions')) patch.subscriptions = snap.subscriptions;
          if (!seen.has('metrics')) {
            patch.metrics = snap.metrics;
            patch.health = snap.health;
          }
          set(patch);
        },
        (err: unknown) => {
          if (live) set({ halted: `Could not load the current state: ${messageOf(err)}` });
        },
      );
      // Sparklines: the whole copy once (events that come first wait for it in the book).
      set({ series: new SeriesBook(), seriesVersion: get().seriesVersion + 1 });
      void api.invoke('market:series', {}).then(
        (result) => {
          if (live && result.ok) get().applySeries(result.value, true);
        },
        () => undefined,
      );
      void api.invoke('log:recent', { limit: 500 }).then(
        (result) => {
          if (live && result.ok) set((s) => ({ log: mergeLog(s.log, result.value) }));
        },
        () => undefined,
      );

      // The pull loop: one frame, fold, one store bump, wait for the paint, measure, ask again.
      //
      // A restarted loop loses nothing: the transport keeps one frame request in flight and a new
      // nextFrame() takes it over (the old call is rejected, which a stopped loop ignores).
      void (async () => {
        while (live) {
          let frame: QuoteFrame;
          try {
            frame = await api.nextFrame();
          } catch (err) {
            if (live) set({ halted: `Quotes stopped: ${messageOf(err)}` });
            return;
          }
          // A frame taken from the view is folded even by a loop that was just stopped (the board
          // outlives it, and the frame is gone from main's cursor); only a replaced transport's is
          // dropped, since the new one's view starts with a full frame of its own.
          if (get().api !== api) return;
          const receivedAts = get().applyFrame(frame, now());
          if (!live) return;
          const paintWait = now();
          await afterPaint();
          if (!live) return;
          const shown = now();
          // A hidden window or tab pauses animation frames: a wait that long measured the pause,
          // not the path to the screen, so it is left out.
          if (receivedAts.length > 0 && shown - paintWait < PAINT_WAIT_LIMIT_MS && visible()) {
            const histogram = get().screenLatency;
            for (const at of receivedAts) histogram.record(shown - at);
          }
        }
      })();

      offs.push(...attachAlerts(api, set, get, () => live));
      offs.push(...attachTradingStatus(api, set, () => live));

      const detach = () => {
        if (!live) return;
        live = false;
        for (const off of offs) off();
        if (detachCurrent === detach) detachCurrent = undefined;
      };
      detachCurrent = detach;
      return detach;
    },
    setLost(why) {
      // What was on screen is no longer known: say so rather than keep showing "live, healthy".
      set({ lost: why, connection: undefined, health: undefined, metrics: undefined });
    },
    restart() {
      const last = lastAttach;
      if (last !== undefined) get().attach(last.api, last.options);
    },
    clearProblem() {
      set({ problem: undefined });
    },

    // ---------------------------------------------------------------- connection
    connect: () => call('Connect', 'connection:connect', {}),
    disconnect: () => call('Disconnect', 'connection:disconnect', {}),

    // ---------------------------------------------------------------- quotes
    setShown(focus, visible = focus) {
      const at = clock();
      if (visible === undefined) visibleSince = undefined;
      else {
        const next = new Map<string, number>();
        for (const symbol of visible) next.set(symbol, visibleSince?.get(symbol) ?? at);
        visibleSince = next;
      }
      const before = get().shown;
      if (
        focus === before ||
        (focus !== undefined &&
          before !== undefined &&
          focus.length === before.length &&
          focus.every((s, i) => s === before[i]))
      )
        return;
      set({ shown: focus });
    },
    applyFrame(frame, now = Date.now()) {
      const since = visibleSince;
      const board = get().board;
      const fold = board.apply(
        frame,
        now,
        since === undefined
          ? undefined
          : (symbol, receivedAt) => receivedAt >= (since.get(symbol) ?? Infinity),
      );
      // Asked before the loop pulls again, so the very next frame is the full one. Without an api
      // there is no view to heal: the next transport's first frame is full anyway.
      const api = get().api;
      if (fold.resync && api !== undefined) requestResync(api, board, clock);
      set((s) => ({ quotesVersion: s.quotesVersion + 1 }));
      return fold.receivedAts;
    },

    applySeries(update, whole) {
      const book = get().series;
      if (whole) book.applyWhole(update);
      else if (!book.applyEvent(update)) return;
      set((s) => ({ seriesVersion: s.seriesVersion + 1 }));
    },

    // ---------------------------------------------------------------- symbols
    async loadSymbolInfo(symbols) {
      const known = get().symbolInfo;
      const ask = symbols.filter((s) => !known.has(s) && !infoAsked.has(s));
      if (ask.length === 0) return;
      for (const s of ask) infoAsked.add(s);
      const out = await call('Symbol names', 'symbols:info', { symbols: ask }, false);
      if (!out.ok) {
        // Asked again next time (the directory may be loading still).
        for (const s of ask) infoAsked.delete(s);
        return;
      }
      const next = new Map(get().symbolInfo);
      for (const info of out.value) next.set(info.symbol, info);
      set({ symbolInfo: next });
    },
    searchSymbols: (query, limit = 8) =>
      call('Search symbols', 'symbols:search', { query, limit }, false),

    // ---------------------------------------------------------------- watchlists
    setColumns(listId, columns) {
      set((s) => {
        const next = { ...s.columns };
        if (columns === undefined) delete next[listId];
        else next[listId] = normalizeColumns(columns);
        return { columns: next };
      });
    },
    selectWatchlist(id) {
      if (get().watchlists.some((l) => l.id === id))
        set({ activeWatchlistId: id, selectedSymbol: undefined });
    },
    selectSymbol(symbol) {
      set({ selectedSymbol: symbol });
    },
    toggleSort(column) {
      set((s) => ({ sort: nextSort(s.sort, column) }));
    },
    setSort(sort) {
      set({ sort });
    },
    async createWatchlist(name) {
      const out = await call('New watchlist', 'watchlists:create', { name }, false);
      if (out.ok) set({ activeWatchlistId: out.value.id, selectedSymbol: undefined });
      return out;
    },
    renameWatchlist: (id, name) =>
      call('Rename watchlist', 'watchlists:rename', { id, name }, false),
    async deleteWatchlist(id) {
      const out = await call('Delete watchlist', 'watchlists:delete', { id }, false);
      if (out.ok) onWatchlists(out.value);
      return out;
    },
    async addSymbols(id, text) {
      const candidates = splitSymbols(text);
      if (candidates.length === 0) return { ok: false, message: 'Type a symbol first.' };
      if (candidates.length > MAX_SYMBOLS_PER_WATCHLIST) {
        return {
          ok: false,
          message: `That is ${candidates.length.toLocaleString('en-US')} symbols; a list holds at most ${MAX_SYMBOLS_PER_WATCHLIST.toLocaleString('en-US')}. Add them in parts.`,
        };
      }
      // Checked here first: a typo gets its reason at once, and only well-formed symbols travel
      // (one over-long token must not fail the whole request). Main checks again.
      const local: Array<{ input: string; reason: string }> = [];
      const send: string[] = [];
      for (const input of candidates) {
        const check = normalizeSymbol(input);
        if (check.ok) send.push(input);
        else
          local.push({
            input: input.length > 32 ? `${input.slice(0, 30)}…` : input,
            reason: `not a symbol: ${check.reason}`,
          });
      }
      if (send.length === 0) {
        return { ok: false, message: local.map((b) => `${b.input}: ${b.reason}`).join('; ') };
      }
      const out = await call('Add symbol', 'watchlists:add-symbols', { id, symbols: send }, false);
      if (!out.ok || local.length === 0) return out;
      return { ok: true, value: { ...out.value, rejected: [...local, ...out.value.rejected] } };
    },
    async removeSymbol(id, symbol) {
      const before = get().watchlists.find((l) => l.id === id)?.symbols ?? [];
      const out = await call(`Remove ${symbol}`, 'watchlists:remove-symbol', { id, symbol });
      if (out.ok && get().selectedSymbol === symbol) {
        // The selection moves to the row that took the removed one's place (in the list's own
        // order), or the one above at the end, so Delete pressed again keeps going.
        const at = before.indexOf(symbol);
        const after = out.value.symbols;
        set({ selectedSymbol: after[Math.min(Math.max(at, 0), after.length - 1)] });
      }
      return out;
    },
    moveSymbol: (id, symbol, toIndex) =>
      call(`Move ${symbol}`, 'watchlists:move-symbol', { id, symbol, toIndex }),

    // ---------------------------------------------------------------- handlers
    async removeHandler(id) {
      const out = await call('Remove handler', 'handlers:remove', { id }, false);
      if (out.ok) set({ handlers: out.value });
      return out;
    },

    // ---------------------------------------------------------------- settings
    async setSource(source) {
      const out = await call('Change source', 'source:set', { source });
      if (out.ok) onSettings(out.value);
      return out;
    },
    async updateSettings(patch) {
      const out = await call('Save settings', 'settings:update', patch);
      if (out.ok) onSettings(out.value);
      return out;
    },
    async setTheme(theme) {
      // Applied at once; main persists it and echoes settings:update. Refused: put it back.
      const settings = get().settings;
      if (settings !== undefined) set({ settings: { ...settings, theme } });
      const out = await get().updateSettings({ theme });
      if (!out.ok && settings !== undefined && get().settings?.theme === theme)
        set({ settings: { ...(get().settings ?? settings), theme: settings.theme } });
      return out;
    },
    async setCredentials(credentials) {
      const out = await call('Save keys', 'credentials:set', credentials, false);
      if (out.ok) set({ credentials: out.value });
      return out;
    },
    async clearCredentials() {
      const out = await call('Clear keys', 'credentials:clear', {}, false);
      if (out.ok) set({ credentials: out.value });
      return out;
    },
    async dismissNotice(id) {
      const out = await call('Dismiss notice', 'notices:dismiss', { id });
      if (out.ok) set({ notices: out.value });
      return out;
    },

    // ---------------------------------------------------------------- diagnostics
    retryRefused: () => call('Retry refused', 'subscriptions:retry-refused', {}, false),
    exportBundle: () => call('Export diagnostics', 'diagnostics:export', {}, false),
    async simulatorControl(control) {
      const out = await call('Simulator', 'simulator:control', control, false);
      if (out.ok) {
        const faults = get().faults;
        if (control.action === 'symbol-limit')
          set({ faults: { ...faults, symbolLimit: control.limit } });
        else if (control.action === 'rate')
          set({ faults: { ...faults, perSecond: control.perSecond } });
      }
      return out;
    },

    // ---------------------------------------------------------------- alerts
    ...alertsActions(set, get, call),
    // ---------------------------------------------------------------- detail
    closeDetail() {
      set((s) => ({ detailClosedFor: s.selectedSymbol }));
    },
    openDetail() {
      set({ detailClosedFor: undefined });
    },
    async watchTape(symbol) {
      const tape = get().tape;
      if (tape.symbol !== symbol) {
        tape.reset(symbol);
        set((s) => ({ tapeVersion: s.tapeVersion + 1 }));
      }
      const out = await call('Times & Sales', 'tape:watch', { symbol: symbol ?? null }, false);
      if (out.ok && out.value !== null && get().tape.apply(out.value))
        set((s) => ({ tapeVersion: s.tapeVersion + 1 }));
      return out;
    },
    loadBars: (input) => call('Chart', 'market:bars', input, false),
    async fetchSymbolInfo(symbol) {
      const out = await call('Symbol', 'symbols:info', { symbols: [symbol] }, false);
      return out.ok ? { ok: true, value: out.value.find((i) => i.symbol === symbol) } : out;
    },
  };
});

// The view's own choices outlive a reload (each browser profile / app install keeps its own).
useMonitor.subscribe((state, previous) => {
  // Main streams the active list's symbols first when the plan's symbol limit bites: tell it
  // which list this is, on a tab switch and when a view attaches.
  const active = state.activeWatchlistId;
  if (
    active !== undefined &&
    state.api !== undefined &&
    (active !== previous.activeWatchlistId || state.api !== previous.api)
  ) {
    void state.api.invoke('watchlists:set-active', { id: active }).catch(() => undefined);
  }
  // Main sends the rows on screen in every frame, the rest at a slower pace: tell it which rows
  // those are when they change and when a view attaches (a new view's cursor starts with no
  // focus, which is what undefined says: nothing to send then).
  if (
    state.api !== undefined &&
    (state.shown !== previous.shown || (state.api !== previous.api && state.shown !== undefined))
  ) {
    sendFocus(state.api, state.shown === undefined ? null : state.shown);
  }
  if (
    state.activeWatchlistId !== previous.activeWatchlistId ||
    state.sort !== previous.sort ||
    state.columns !== previous.columns
  )
    savePrefs({
      activeWatchlistId: state.activeWatchlistId,
      sort: state.sort,
      columns: state.columns,
    });
});

/**
 * 'frames:focus', one in flight per transport: a scroll changes the rows on screen every frame,
 * and a queue of those behind a slow command would only delay the one that matters, the latest.
 */
const focusFlights = new WeakMap<
  MonitorApi,
  { busy: boolean; next: readonly string[] | null | undefined }
>();

function sendFocus(api: MonitorApi, symbols: readonly string[] | null): void {
  let flight = focusFlights.get(api);
  if (flight === undefined) {
    flight = { busy: false, next: undefined };
    focusFlights.set(api, flight);
  }
  if (flight.busy) {
    flight.next = symbols;
    return;
  }
  flight.busy = true;
  const f = flight;
  const list = symbols === null ? null : symbols.slice(0, MAX_FOCUS_SYMBOLS);
  void api
    .invoke('frames:focus', { symbols: list })
    .catch(() => undefined)
    .finally(() => {
      f.busy = false;
      const next = f.next;
      f.next = undefined;
      if (next !== undefined) sendFocus(api, next);
    });
}

/** Detaches the api (events, pull loop) and restores every slice: tests call it between cases. */
export function resetMonitorStore(): void {
  detachCurrent?.();
  lastAttach = undefined;
  visibleSince = undefined;
  clock = Date.now;
  infoAsked.clear();
  useMonitor.setState(initialData());
}
