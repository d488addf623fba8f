/**
 * The contract between the main-process core and every user interface: Electron windows (through
 * preload and ipc), and browser tabs (through the browser-mode bridge). Everything else derives from
 * the tables here:
 * - COMMANDS: request/response calls, named `domain:action`; the zod schema is what main accepts.
 *   Every answer is a Result envelope; nothing throws across the boundary.
 * - EventMap: what main pushes to every attached view.
 * - Quote frames (shared/frame.ts): pulled with `nextFrame()` after the view has painted.
 *
 * No platform imports here: this file is loaded by main, preload, the renderer and the host.
 */
import { z } from 'zod';
import type { ConnectionState } from './connection.ts';
import type { QuoteFrame } from './frame.ts';
import type { Health, HistogramSummary, MetricsSnapshot, Rates } from './metrics.ts';
import type { Channel, Codec, Feed } from './market.ts';
import { parseRelayUrl, relayBaseProblem } from './relay-url.ts';

// ------------------------------------------------------------------------------ envelope

export type ErrorCode =
  /** The payload failed validation; the message says which field and why. */
  | 'bad-request'
  /** No such command. */
  | 'unknown-command'
  /** The caller is not allowed to do this (a built-in handler, a foreign sender). */
  | 'forbidden'
  /** The watchlist, handler, ... does not exist. */
  | 'not-found'
  /** A duplicate name or symbol, a state that does not allow it. */
  | 'conflict'
  /** A count limit (watchlists, symbols per list). */
  | 'limit'
  /** Reading or writing the user-data folder or the credential store failed. */
  | 'storage'
  /** Market data over REST is not available (no keys, an unreachable host, the server said no). */
  | 'unavailable'
  /** A bug: logged with its stack in main; the message is generic. */
  | 'internal';

export interface ApiError {
  readonly code: ErrorCode;
  readonly message: string;
}

export type Result<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ApiError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: ErrorCode, message: string): Result<T> {
  return { ok: false, error: { code, message } };
}

// ------------------------------------------------------------------------------ value schemas

/** Symbols: upper-cased, letters, digits, `.` `-` `/` (crypto pairs like BTC/USD), 1-21 chars. */
export const SYMBOL_PATTERN = /^[A-Z0-9][A-Z0-9./-]{0,20}$/;
/** What a user may type: the same in either case, ASCII only (checked before upper-casing). */
const TYPED_SYMBOL = /^[A-Za-z0-9][A-Za-z0-9./-]*$/;
export const MAX_WATCHLISTS = 50;
export const MAX_SYMBOLS_PER_WATCHLIST = 10_000;
export const MAX_WATCHLIST_NAME = 60;
/** Symbols a view may name as on screen ('frames:focus'): a wall of rows, with room to spare. */
export const MAX_FOCUS_SYMBOLS = 2_000;

/**
 * Normalizes what a user typed into a symbol, or says why it is not one. The ASCII check comes
 * before upper-casing: Unicode case mapping turns `ıbm` into `IBM` and `straße` into `STRASSE`,
 * so checking afterwards would let look-alikes through as real tickers.
 */
export function normalizeSymbol(
  input: string,
): { ok: true; symbol: string } | { ok: false; reason: string } {
  const typed = input.trim();
  if (typed === '') return { ok: false, reason: 'empty' };
  if (typed.length > 21) return { ok: false, reason: 'longer than 21 characters' };
  if (!TYPED_SYMBOL.test(typed)) {
    const ascii = /^[\x20-\x7e]*$/.test(typed);
    return {
      ok: false,
      reason: ascii
        ? 'only letters, digits, ".", "-" and "/" are allowed'
        : 'only ASCII letters A-Z, digits, ".", "-" and "/" are allowed (no look-alikes)',
    };
  }
  return { ok: true, symbol: typed.toUpperCase() };
}

export const symbolSchema = z
  .string()
  .max(64)
  .transform((s, ctx) => {
    const r = normalizeSymbol(s);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: `not a symbol (${r.reason}): ${JSON.stringify(s)}` });
      return z.NEVER;
    }
    return r.symbol;
  });

export const idSchema = z.string().min(1).max(64);

/**
 * Characters a watchlist name may not hold, each of which lets one name pass for another or
 * garble what is shown next to it: C0 and C1 controls (NUL, newlines, escapes), bidi embeddings,
 * overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the Arabic letter mark (U+061C), and
 * invisible characters: zero-width space, joiners and marks (U+200B-U+200F), word joiner and
 * invisible operators (U+2060-U+2064), the BOM / zero-width no-break space (U+FEFF), the soft
 * hyphen (U+00AD). And lone surrogates (`\p{Cs}` in a `u` pattern matches only unpaired ones):
 * broken text that no file or screen shows the same way twice.
 */
const NAME_FORBIDDEN =
  // eslint-disable-next-line no-control-regex -- controls are exactly what this pattern finds
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\p{Cs}]/u;
const NAME_FORBIDDEN_ALL = new RegExp(NAME_FORBIDDEN.source, 'gu');

function forbiddenKind(code: number): string {
  if (code >= 0xd800 && code <= 0xdfff) return 'a lone surrogate (broken text)';
  if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return 'a control character';
  if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069) || code === 0x61c)
    return 'a bidirectional-text control';
  return 'an invisible character';
}

/**
 * Checks a watchlist name as typed and returns it trimmed and in Unicode NFC, the form every
 * comparison (the duplicate check included) sees; or says why it is refused.
 */
export function checkWatchlistName(
  input: string,
): { ok: true; name: string } | { ok: false; reason: string } {
  const bad = NAME_FORBIDDEN.exec(input);
  if (bad) {
    const code = bad[0].codePointAt(0) ?? 0;
    const hex = code.toString(16).toUpperCase().padStart(4, '0');
    return {
      ok: false,
      reason: `A watchlist name cannot contain ${forbiddenKind(code)} (U+${hex} at position ${bad.index + 1}).`,
    };
  }
  const name = input.trim().normalize('NFC');
  if (name === '') return { ok: false, reason: 'A watchlist needs a name.' };
  if (name.length > MAX_WATCHLIST_NAME)
    return {
      ok: false,
      reason: `A watchlist name can have at most ${MAX_WATCHLIST_NAME} characters (this one has ${name.length}).`,
    };
  return { ok: true, name };
}

/** The key two names collide on: NFC, then case-folded as the duplicate check does. */
export function watchlistNameKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/**
 * A name from a file, made acceptable without losing the list: forbidden characters and broken
 * text removed, NFC, trimmed and clipped; `fallback` when nothing is left.
 */
export function repairWatchlistName(raw: string, fallback: string): string {
  const cleaned = raw.replace(NAME_FORBIDDEN_ALL, '').trim().normalize('NFC');
  const name = clipName(cleaned, MAX_WATCHLIST_NAME).trim();
  return name === '' ? fallback : name;
}

/** At most `max` UTF-16 units of `text`, never cutting a surrogate pair in half. */
function clipName(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.charCodeAt(max - 1);
  return text.slice(0, cut >= 0xd800 && cut <= 0xdbff ? max - 1 : max);
}

const nameSchema = z.string().transform((s, ctx) => {
  const r = checkWatchlistName(s);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.reason });
    return z.NEVER;
  }
  return r.name;
});

export const FEEDS = [
  'iex',
  'sip',
  'delayed_sip',
  'test',
  'crypto',
] as const satisfies readonly Feed[];
export const CODECS = ['json', 'msgpack'] as const satisfies readonly Codec[];
export const THEMES = ['dark', 'light'] as const;
export type Theme = (typeof THEMES)[number];

/**
 * A relay's base address, `ws://HOST:PORT` (shared/relay-url.ts parses what the user typed). An
 * address that parses but is not in its base form (a feed path, upper case, spaces: a settings
 * file edited by hand) is stored in its base form rather than refused: a refused field would make
 * the whole settings file fall back to the defaults. The `feed` beside it decides the path.
 */
const relayUrlSchema = z
  .string()
  .max(2048)
  .transform((value) => {
    const parsed = parseRelayUrl(value);
    return parsed.ok ? parsed.url : value;
  })
  .pipe(
    z.string().superRefine((url, ctx) => {
      const problem = relayBaseProblem(url);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
  );

export const sourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('simulator'), codec: z.enum(CODECS) }),
  z.strictObject({ kind: z.literal('alpaca'), feed: z.enum(FEEDS), codec: z.enum(CODECS) }),
  /**
   * A relay (`market-monitor relay`, or another Market Monitor's): Alpaca's protocol at
   * `url` + the feed's path, with a relay key (the 'relay:keys-set' slot, not the Alpaca keys).
   */
  z.strictObject({
    kind: z.literal('relay'),
    url: relayUrlSchema,
    feed: z.enum(FEEDS),
    codec: z.enum(CODECS),
  }),
]);
export type Source = z.infer<typeof sourceSchema>;
export type SourceKind = Source['kind'];

/**
 * The relay this app serves on its own core (off by default): the app's one upstream connection
 * fanned out on ws://127.0.0.1:port to the household's other Alpaca clients. Port 0: any free one.
 */
export const relayServerSettingsSchema = z.strictObject({
  enabled: z.boolean(),
  port: z.number().int().min(0).max(65_535),
});
export type RelayServerSettings = z.infer<typeof relayServerSettingsSchema>;
export const DEFAULT_RELAY_SERVER: RelayServerSettings = { enabled: false, port: 0 };

export const DEFAULT_SOURCE: Source = { kind: 'simulator', codec: 'msgpack' };

export const settingsSchema = z.strictObject({
  version: z.literal(1),
  source: sourceSchema,
  theme: z.enum(THEMES),
  /** Connect when the app starts. */
  autoConnect: z.boolean(),
  /** On a Linux desktop without a keyring: the user agreed to store keys only obfuscated. */
  allowInsecureCredentialStorage: z.boolean(),
  /**
   * The watchlist the user is looking at: its symbols come first for the stream when the plan's
   * symbol limit bites (the others are polled). Absent (files from older builds, or never set):
   * the first list. An id no list has any more counts as absent.
   */
  activeWatchlist: idSchema.optional(),
  /** Absent (files from older builds): the relay is off. */
  relayServer: relayServerSettingsSchema.optional(),
});
export type Settings = z.infer<typeof settingsSchema>;

export const DEFAULT_SETTINGS: Settings = {
  version: 1,
  source: DEFAULT_SOURCE,
  theme: 'dark',
  autoConnect: true,
  allowInsecureCredentialStorage: false,
};

export const watchlistSchema = z.strictObject({
  id: idSchema,
  name: nameSchema,
  symbols: z.array(symbolSchema).max(MAX_SYMBOLS_PER_WATCHLIST),
});
export type Watchlist = z.infer<typeof watchlistSchema>;

/**
 * A list as stored: the name is taken as it is and repaired below (a file written before names
 * were checked may hold characters the commands now refuse; the user's list must not vanish).
 */
const storedWatchlistSchema = z.strictObject({
  id: idSchema,
  name: z.string(),
  symbols: z.array(symbolSchema).max(MAX_SYMBOLS_PER_WATCHLIST),
});

export const watchlistsFileSchema = z
  .strictObject({
    version: z.literal(1),
    watchlists: z.array(storedWatchlistSchema).max(MAX_WATCHLISTS),
  })
  .transform((file) => repairWatchlists(file));
export type WatchlistsFile = z.output<typeof watchlistsFileSchema>;

/**
 * A hand-edited or half-merged watchlists.json can hold what the commands never produce: the same
 * symbol twice in a list (also as `aapl` and `AAPL`, equal once normalized), two lists with one id
 * or one name, no list at all, a name the commands would refuse (controls, bidi or invisible
 * characters, empty, too long). Each breaks a rule the model relies on (remove-symbol would leave a
 * copy behind; delete would take two lists; a look-alike name passes for another). Nothing is
 * dropped that carries information: repeated symbols collapse to their first place, a name is
 * cleaned (repairWatchlistName), a repeated id or name (after NFC, any case) gets a suffix, and an
 * empty file gets the default list.
 */
function repairWatchlists(file: {
  version: 1;
  watchlists: Array<{ id: string; name: string; symbols: string[] }>;
}): { version: 1; watchlists: Watchlist[] } {
  if (file.watchlists.length === 0) return structuredClone(DEFAULT_WATCHLISTS);
  const ids = new Set<string>();
  const names = new Set<string>();
  const unique = (
    taken: Set<string>,
    wanted: string,
    key: (s: string) => string,
    suffix: (n: number) => string,
  ): string => {
    let candidate = wanted;
    for (let n = 2; taken.has(key(candidate)); n++)
      candidate = `${clipName(wanted, MAX_WATCHLIST_NAME - 6)}${suffix(n)}`;
    taken.add(key(candidate));
    return candidate;
  };
  return {
    version: 1,
    watchlists: file.watchlists.map((list) => ({
      id: unique(
        ids,
        list.id,
        (s) => s,
        (n) => `-${n}`,
      ),
      name: unique(
        names,
        repairWatchlistName(list.name, 'Watchlist'),
        watchlistNameKey,
        (n) => ` (${n})`,
      ),
      symbols: [...new Set(list.symbols)],
    })),
  };
}

export const DEFAULT_WATCHLISTS: { version: 1; watchlists: Watchlist[] } = {
  version: 1,
  watchlists: [
    {
      id: 'default',
      name: 'Watchlist',
      symbols: ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'TSLA', 'SPY', 'QQQ', 'AMD'],
    },
  ],
};

/** Credentials as typed by the user. Write-only: no command ever returns them. */
export const credentialsSchema = z.strictObject({
  keyId: z.string().trim().min(1).max(256),
  secret: z.string().trim().min(1).max(512),
  /** Keep them only until the app quits, even where secure storage exists. */
  memoryOnly: z.boolean().optional(),
});
export type Credentials = z.infer<typeof credentialsSchema>;

export type CredentialStorage =
  /** Encrypted by the OS keychain / keyring (safeStorage with a secure backend). */
  | 'encrypted'
  /** Written through safeStorage's basic_text backend: obfuscated, not secure. The user chose it. */
  | 'obfuscated'
  /** Held in memory until the app quits. */
  | 'memory'
  | 'none';

export interface CredentialStatus {
  readonly stored: boolean;
  readonly storage: CredentialStorage;
  /** safeStorage's backend (`gnome_libsecret`, `kwallet6`, `basic_text`, `keychain`, `dpapi`, `memory`, ...). */
  readonly backend: string;
  /** Whether the backend protects keys at rest. */
  readonly secure: boolean;
  /** A sentence for the settings panel: where the keys are and what that means. */
  readonly detail: string;
}

// ------------------------------------------------------------------------------ views (outputs)

/** One client of the relay this app serves: its counters, never its key. */
export interface RelayClientView {
  readonly id: number;
  readonly codec: Codec;
  readonly authenticated: boolean;
  readonly pairs: number;
  readonly messages: number;
  readonly bytes: number;
  readonly bufferedAmount: number;
  readonly lagging: boolean;
  readonly conflated: number;
  readonly dropped: number;
  /** Epoch ms. */
  readonly connectedAt: number;
}

/** The relay this app serves (Settings and Diagnostics). */
export interface RelayServerView {
  readonly enabled: boolean;
  /** The port asked for (0: any free one). */
  readonly port: number;
  readonly state: 'off' | 'starting' | 'listening' | 'failed';
  /** `ws://127.0.0.1:PORT` while listening. */
  readonly url: string | undefined;
  /** Where a client points its stream: the url and the feed's path. */
  readonly streamUrl: string | undefined;
  readonly feed: Feed | undefined;
  /** Whether a client key exists (it is shown once, when made, and never again). */
  readonly hasKey: boolean;
  /** Why it is not listening (the port is taken, ...). */
  readonly error: string | undefined;
  /** Pairs the relay's clients hold on the app's connection. */
  readonly upstreamPairs: number;
  readonly clients: readonly RelayClientView[];
  readonly counters: {
    readonly accepted: number;
    readonly rejected: number;
    readonly authFailed: number;
    readonly messagesOut: number;
    readonly restRequests: number;
  };
}

export interface RelayView {
  /** The relay key this app uses when its source is a relay (status only, like the Alpaca keys). */
  readonly keys: CredentialStatus;
  readonly server: RelayServerView;
}

/** 'relay:serve' answers the new client key once, when it made one. */
export interface RelayServeResult {
  readonly relay: RelayView;
  readonly generated: { readonly keyId: string; readonly secret: string } | undefined;
}

export interface ConnectionErrorView {
  readonly code: number | undefined;
  readonly message: string;
  /** What the code means for the user, from the protocol's table. */
  readonly meaning: string | undefined;
}

export interface ConnectionView {
  readonly state: ConnectionState;
  readonly previous: ConnectionState;
  readonly reason: string | undefined;
  /** Epoch ms when this state began. */
  readonly since: number;
  readonly attempt: number;
  /** In backoff: epoch ms of the next attempt. */
  readonly retryAt: number | undefined;
  readonly lastError: ConnectionErrorView | undefined;
  readonly source: Source;
  /** The stream URL (the simulator's loopback URL, or Alpaca's). */
  readonly url: string;
  readonly stale: boolean;
}

export type HistogramView = HistogramSummary;

export type RatesView = Rates;

export type MetricsView = MetricsSnapshot;

export type HealthView = Health;

/** Frame-side counters of the view's own session (what pull-based flow control did). */
export interface FrameStatsView {
  readonly frames: number;
  /** Quote/trade updates folded into a newer one before any frame carried them. */
  readonly conflated: number;
  readonly symbols: number;
}

export interface MetricsEvent {
  readonly metrics: MetricsView;
  readonly health: HealthView;
}

export interface HandlerView {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly symbol: string;
  readonly builtin: boolean;
  readonly calls: number;
  readonly errors: number;
  readonly lastError:
    | { readonly message: string; readonly stack: string | undefined; readonly at: number }
    | undefined;
  readonly meanMs: number;
  readonly maxMs: number;
  readonly registeredAt: number;
  readonly lastCalledAt: number | undefined;
}

export interface RefusedView {
  readonly channel: Channel;
  readonly symbol: string;
  readonly code: number;
  /** What the code means (e.g. 405: symbol limit of the subscription plan). */
  readonly meaning: string | undefined;
  readonly at: number;
}

export interface SubscriptionsView {
  readonly desired: Readonly<Partial<Record<Channel, readonly string[]>>>;
  readonly confirmed: Readonly<Partial<Record<Channel, readonly string[]>>>;
  readonly refused: readonly RefusedView[];
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface LogEntry {
  /** Increasing per process. */
  readonly seq: number;
  readonly at: number;
  readonly level: LogLevel;
  readonly module: string | undefined;
  readonly msg: string;
  /** The error's message and stack, when the record carried one. */
  readonly err: { readonly message: string; readonly stack: string | undefined } | undefined;
  /** Other small fields of the record (secrets already redacted in main). */
  readonly fields: Readonly<Record<string, string | number | boolean | null>>;
}

export interface Notice {
  readonly id: string;
  readonly level: 'info' | 'warning' | 'error';
  readonly message: string;
  readonly at: number;
}

/** Where the market stands: the session (New York time) and what the app knows of it. */
export type MarketSessionName = 'pre' | 'regular' | 'post' | 'closed' | 'unknown';

export interface MarketView {
  readonly session: MarketSessionName;
  /** Epoch ms when this session began and when it ends (the next boundary), where known. */
  readonly since: number | undefined;
  readonly until: number | undefined;
  /** The next regular open and close, epoch ms. */
  readonly nextOpen: number | undefined;
  readonly nextClose: number | undefined;
  /** The stream's feed (`iex` carries about 2% of the volume: the UI says so). */
  readonly feed: string;
  /** Crypto trades around the clock: always in session, whatever the stock market does. */
  readonly crypto: boolean;
  /** Silence is expected now (closed, or a feed that carries nothing in this session). */
  readonly quiet: boolean;
  /** Why the session is unknown, or what REST could not do (no keys, unreachable). */
  readonly detail: string | undefined;
  /** Symbols kept fresh by snapshot polling rather than the stream, and the poll period. */
  readonly polled: number;
  readonly pollIntervalMs: number;
  /** The symbol directory: its state and size. */
  readonly directory: {
    readonly status: 'unavailable' | 'loading' | 'ready';
    readonly assets: number;
    readonly fetchedAt: number | undefined;
  };
}

/** REST counters for diagnostics (electron/rest/ keeps them). */
export interface RestMetricsView {
  readonly requests: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly rateLimited: number;
  readonly retries: number;
  readonly rateLimit: Readonly<
    Record<
      string,
      {
        readonly limit: number | undefined;
        readonly remaining: number | undefined;
        readonly resetAt: number | undefined;
      }
    >
  >;
  readonly latency: HistogramSummary;
  readonly inFlight: number;
}

/** What the directory says of one symbol. */
export interface SymbolInfo {
  readonly symbol: string;
  readonly name: string;
  readonly exchange: string;
  readonly tradable: boolean;
}

/** Sparkline points of one symbol to write over a view's copy, from slot `from` on (null: no bar). */
export interface SeriesDelta {
  readonly symbol: string;
  readonly from: number;
  readonly closes: readonly (number | null)[];
}

/**
 * The session's 1-minute closes per symbol (sparklines), sent whole once (`market:series`) and
 * then as appended points ('market:series' events). Slot i is the minute `start + i * 60 s`.
 */
export interface SeriesUpdate {
  /** Apply only updates with a version above the one a view holds. */
  readonly version: number;
  /** Epoch ms of slot 0 (04:00 New York of the session shown); undefined before any session. */
  readonly start: number | undefined;
  /** A new session (or too old a version): drop every series before applying the changes. */
  readonly reset: boolean;
  readonly changes: readonly SeriesDelta[];
}

/** One bar of the detail chart (epoch ms). */
export interface ChartBar {
  readonly time: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/** One trade of the Times & Sales tape (epoch ms). */
export interface TapeTrade {
  readonly time: number;
  readonly price: number;
  readonly size: number;
  /** The exchange code (`V` IEX, `Q` Nasdaq, ...); empty when the feed has none (crypto). */
  readonly exchange: string;
  readonly conditions: readonly string[];
}

/** The detail pane's quote: the latest quote with its exchanges, and the day so far. */
export interface TapeQuote {
  readonly bidPrice: number;
  readonly bidSize: number;
  readonly bidExchange: string;
  readonly askPrice: number;
  readonly askSize: number;
  readonly askExchange: string;
  /** Epoch ms of the quote. */
  readonly time: number;
}

/** The day of the watched symbol; null where not known (no daily bar yet, no snapshot). */
export interface TapeDay {
  readonly open: number | null;
  readonly high: number | null;
  readonly low: number | null;
  readonly volume: number | null;
  /** Volume-weighted average price of the day's daily bar; null when the feed gave none. */
  readonly vwap: number | null;
  readonly prevClose: number | null;
}

/**
 * How often the watched symbol's tape moves on screen, once, at the source: main sends a view its
 * batch of trades at most this often (electron/market/tape.ts), and the detail pane redraws what
 * the tape moved at most this often (renderer/tape-pace.ts), so a batch is drawn when it arrives
 * rather than waiting a second pace in the window. Four times a second reads as a live tape.
 */
export const TAPE_PACE_MS = 250;

/**
 * What a view watching one symbol holds: `tape:watch` answers it whole, then `tape:trades`
 * events bring the trades since (oldest first) and the quote and day when they changed.
 */
export interface TapeUpdate {
  readonly symbol: string;
  /** Oldest first. After `reset`, the whole recent tape; otherwise the trades since the last. */
  readonly trades: readonly TapeTrade[];
  /** Drop what is held first (a new source: another market's trades). */
  readonly reset: boolean;
  readonly quote: TapeQuote | undefined;
  readonly day: TapeDay | undefined;
}

/** A symbol's limit-up / limit-down band (Alpaca's `lulds` channel). */
export interface LuldBandView {
  readonly limitUp: number;
  readonly limitDown: number;
  /** The band's indicator code as sent (e.g. `A`, `B`), and what it means when known. */
  readonly indicator: string;
  readonly indicatorText: string | undefined;
  /** Epoch ms of the band's message. */
  readonly at: number;
}

/**
 * What the app knows of one symbol's trading status (Alpaca's `statuses` and `lulds` channels):
 * whether it is halted, why, since when, and its LULD band. Symbols with neither a halt nor a band
 * are not listed.
 */
export interface TradingStatusView {
  readonly symbol: string;
  readonly halted: boolean;
  /** The latest status message's code (CTA: `2` halt, `3` resume; UTP: `H`, `T`, ...). */
  readonly statusCode: string;
  /** What the status code means, from the code table (the feed's own text for unknown codes). */
  readonly statusText: string;
  readonly reasonCode: string;
  /** What the reason code means (e.g. "Volatility trading pause"); empty when none was given. */
  readonly reasonText: string;
  /** Epoch ms of the status message that halted it (or of the latest status while not halted). */
  readonly since: number;
  readonly luld: LuldBandView | undefined;
}

/**
 * A change of trading statuses: `market:trading-status` events. `reset`: drop every status held
 * first (a new source: another market). `statuses` are the symbols whose status changed, whole;
 * `cleared` the symbols that have none any more (resumed with no band, or no longer streamed).
 */
export interface TradingStatusUpdate {
  readonly reset: boolean;
  readonly statuses: readonly TradingStatusView[];
  readonly cleared: readonly string[];
}

export interface AddSymbolsResult {
  readonly watchlist: Watchlist;
  readonly added: readonly string[];
  readonly rejected: ReadonlyArray<{ readonly input: string; readonly reason: string }>;
}

export interface DiagnosticsBundle {
  readonly generatedAt: string;
  readonly app: {
    readonly name: string;
    readonly version: string;
    readonly platform: string;
    readonly runtime: string;
  };
  readonly connection: ConnectionView;
  readonly metrics: MetricsView;
  readonly health: HealthView;
  readonly subscriptions: SubscriptionsView;
  readonly handlers: readonly HandlerView[];
  readonly settings: Settings;
  readonly credentials: CredentialStatus;
  readonly watchlists: readonly Watchlist[];
  readonly market: MarketView;
  readonly rest: RestMetricsView | null;
  readonly log: readonly LogEntry[];
  /** The relay key's status and the relay this app serves (absent from older builds' bundles). */
  readonly relay?: RelayView;
}

export interface Snapshot {
  readonly connection: ConnectionView;
  readonly metrics: MetricsView;
  readonly health: HealthView;
  readonly subscriptions: SubscriptionsView;
  readonly handlers: readonly HandlerView[];
  readonly settings: Settings;
  readonly credentials: CredentialStatus;
  readonly watchlists: readonly Watchlist[];
  readonly notices: readonly Notice[];
  readonly frames: FrameStatsView;
  readonly market: MarketView;
  readonly rest: RestMetricsView | null;
  readonly relay?: RelayView;
}

// ------------------------------------------------------------------------------ alerts

/** What an alert rule watches (see electron/alerts/rules.ts for how each is measured). */
export const ALERT_CONDITIONS = [
  /** The last trade price at or above the level. */
  'price-above',
  /** The last trade price at or below the level. */
  'price-below',
  /** Change % against the previous close (the watchlist's change) at or above the bound. */
  'change-above',
  /** Change % against the previous close at or below the bound (e.g. -3). */
  'change-below',
  /** The bid/ask spread wider than this % of the mid price. */
  'spread-above',
  /** The day volume over this many shares. */
  'volume-above',
  /** No trade for this many seconds during the regular session. */
  'no-trade',
  /** The symbol was halted (a trading status message); fires once per halt. Takes no value (0). */
  'halted',
  /** Trading resumed after a halt; fires once per resume. Takes no value (0). */
  'resumed',
] as const;
export type AlertCondition = (typeof ALERT_CONDITIONS)[number];

export const MAX_ALERT_RULES = 100;
/** Alerts the core keeps in its log (newest last); `alerts:log` reads them newest first. */
export const ALERT_LOG_CAPACITY = 500;
/** The built-in wide-spread rule (every symbol): its id, so it can be told apart and named. */
export const DEFAULT_SPREAD_RULE_ID = 'wide-spread';

/** Why `value` is no bound for `condition`, or undefined when it is one. */
export function alertValueProblem(condition: AlertCondition, value: number): string | undefined {
  if (!Number.isFinite(value)) return 'the value must be a finite number';
  switch (condition) {
    case 'price-above':
    case 'price-below':
      return value > 0 && value <= 1_000_000
        ? undefined
        : 'a price level must be above 0 (at most 1,000,000)';
    case 'change-above':
    case 'change-below':
      return Math.abs(value) <= 1_000 ? undefined : 'a change bound must be within ±1000 %';
    case 'spread-above':
      return value > 0 && value <= 100
        ? undefined
        : 'a spread bound must be above 0 and at most 100 % of the mid';
    case 'volume-above':
      return value > 0 && value <= 1e12 ? undefined : 'a volume must be above 0';
    case 'no-trade':
      return Number.isInteger(value) && value >= 1 && value <= 86_400
        ? undefined
        : 'no-trade takes whole seconds from 1 to 86400';
    case 'halted':
    case 'resumed':
      return value === 0 ? undefined : `${condition} takes no value: send 0`;
    default: {
      const unreachable: never = condition;
      return unreachable;
    }
  }
}

/** A rule's symbol: one symbol, or '*' for every streamed symbol. */
export const alertSymbolSchema = z.union([z.literal('*'), symbolSchema]);

const alertFields = {
  symbol: alertSymbolSchema,
  condition: z.enum(ALERT_CONDITIONS),
  value: z.number().finite(),
};

function checkAlertValue(
  rule: { readonly condition: AlertCondition; readonly value: number },
  ctx: z.RefinementCtx,
): void {
  const problem = alertValueProblem(rule.condition, rule.value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: problem });
}

export const alertRuleSchema = z
  .strictObject({
    id: idSchema,
    ...alertFields,
    /** A paused rule has no handler and fires nothing; it keeps its place and its settings. */
    paused: z.boolean(),
    /** A desktop notification when it fires (the log and the event happen either way). */
    notify: z.boolean(),
    /** Epoch ms. */
    createdAt: z.number().int().min(0),
  })
  .superRefine(checkAlertValue);
export type AlertRule = z.infer<typeof alertRuleSchema>;

/**
 * alerts.json. Two rules with one id (a hand edit) would make one of them unreachable by
 * command: the later ones get a suffix rather than being dropped.
 */
export const alertsFileSchema = z
  .strictObject({
    version: z.literal(1),
    rules: z.array(alertRuleSchema).max(MAX_ALERT_RULES),
  })
  .transform((file) => {
    const ids = new Set<string>();
    return {
      version: 1 as const,
      rules: file.rules.map((rule) => {
        let id = rule.id;
        for (let n = 2; ids.has(id); n++) id = `${rule.id.slice(0, 56)}-${n}`;
        ids.add(id);
        return id === rule.id ? rule : { ...rule, id };
      }),
    };
  });
export type AlertsFile = z.output<typeof alertsFileSchema>;

/** The file before the user made any rule: the wide-spread alert the app always had. */
export const DEFAULT_ALERTS: AlertsFile = {
  version: 1,
  rules: [
    {
      id: DEFAULT_SPREAD_RULE_ID,
      symbol: '*',
      condition: 'spread-above',
      value: 2,
      paused: false,
      // A wide spread somewhere in a long list is common: the log says it, the desktop does not.
      notify: false,
      createdAt: 0,
    },
  ],
};

/** A rule as views see it: the stored rule and what the engine knows of it now. */
export interface AlertRuleView extends AlertRule {
  /** The handler's name in the inspector (`alert: AAPL price above 230`). */
  readonly name: string;
  /**
   * `armed`: waiting for the condition; `fired`: it fired and waits for the value to come back
   * past the level (the hysteresis band) before it can fire again; `paused`.
   */
  readonly state: 'armed' | 'fired' | 'paused';
  /** The handler in the client's registry; undefined while paused. */
  readonly handlerId: string | undefined;
  /** Times it fired since the app started. */
  readonly fired: number;
  /** Epoch ms of the latest firing (this run). */
  readonly lastFiredAt: number | undefined;
  /** Symbols that fired and are not re-armed yet (at most 50 listed). */
  readonly firedSymbols: readonly string[];
  /** Whether its symbol is streamed (on a watchlist); '*' rules always are. */
  readonly streamed: boolean;
}

/** One firing: in the alerts log and the `alerts:fired` event. */
export interface AlertFired {
  /** Increasing per process. */
  readonly seq: number;
  readonly ruleId: string;
  readonly name: string;
  readonly symbol: string;
  readonly condition: AlertCondition;
  /** The rule's level or bound. */
  readonly level: number;
  /** What was measured (a price, a change %, a spread %, a volume, seconds without a trade). */
  readonly value: number;
  /** Epoch ms. */
  readonly at: number;
  readonly message: string;
  /** Whether the rule asks for a desktop notification. */
  readonly notify: boolean;
}

const alertCreateSchema = z
  .strictObject({
    ...alertFields,
    paused: z.boolean().optional(),
    notify: z.boolean().optional(),
  })
  .superRefine(checkAlertValue);

/** An edit: the fields given change; `rearm` forgets that it fired (it may fire again at once). */
const alertUpdateSchema = z.strictObject({
  id: idSchema,
  symbol: alertSymbolSchema.optional(),
  condition: z.enum(ALERT_CONDITIONS).optional(),
  value: z.number().finite().optional(),
  paused: z.boolean().optional(),
  notify: z.boolean().optional(),
  rearm: z.literal(true).optional(),
});

// ------------------------------------------------------------------------------ commands

const empty = z.strictObject({});

export const simulatorControlSchema = z.discriminatedUnion('action', [
  /**
   * Drop every connection now (the client reconnects). With `holdSessionMs`, the server keeps
   * the dropped session's slot that long, as Alpaca does with a half-dead session: a reconnect
   * inside it is refused with 406 and the client backs off (the realistic way a drop plays out).
   */
  z.strictObject({
    action: z.literal('drop'),
    holdSessionMs: z.number().int().min(0).max(90_000).optional(),
  }),
  /** Hang (no data, no pongs) on or off. */
  z.strictObject({ action: z.literal('stall'), on: z.boolean() }),
  /** Limit subscribed symbols per connection (405 beyond it); null lifts the limit. */
  z.strictObject({
    action: z.literal('symbol-limit'),
    limit: z.number().int().positive().max(100_000).nullable(),
  }),
  /** Data messages per second per connection. */
  z.strictObject({ action: z.literal('rate'), perSecond: z.number().int().min(0).max(1_000_000) }),
  /** Send an Alpaca error code to the connection (does not close it). */
  z.strictObject({ action: z.literal('error'), code: z.number().int().min(100).max(999) }),
  /**
   * The market session the simulator plays: `auto` follows New York's clock; `closed` streams no
   * data (snapshots hold the last session); `pre` and `post` stream a tenth of the rate.
   */
  z.strictObject({
    action: z.literal('session'),
    session: z.enum(['auto', 'pre', 'regular', 'post', 'closed']),
  }),
  /**
   * Halt trading in one symbol (a `statuses` message with its LULD band first), or resume it:
   * quotes and trades of a halted symbol stop until it resumes.
   */
  z.strictObject({ action: z.literal('halt'), symbol: symbolSchema, halted: z.boolean() }),
  /** REST faults: a per-minute limit (429 beyond; null lifts it), 500s, slow or truncated answers. */
  z.strictObject({
    action: z.literal('rest-faults'),
    rateLimitPerMinute: z.number().int().positive().max(100_000).nullable().optional(),
    error500: z.union([z.boolean(), z.number().min(0).max(1)]).optional(),
    slowMs: z.number().int().min(0).max(60_000).optional(),
    malformed: z.boolean().optional(),
  }),
]);
export type SimulatorControl = z.infer<typeof simulatorControlSchema>;

/** Input schemas of every command: what main accepts. */
/**
 * The desktop app's self-update (electron/updater.ts), as the Settings panel shows it:
 * - 'unsupported': browser mode; updates are a desktop feature;
 * - 'disabled': a development build (not packaged), which has nothing to update from;
 * - 'idle': packaged, no check yet; 'checking'; 'none': up to date;
 * - 'downloading': a newer version is on its way in the background (percent);
 * - 'downloaded': ready, installed when the user restarts (or quits);
 * - 'error': the last check or download failed; the app carries on.
 */
export type UpdateState =
  | 'unsupported'
  | 'disabled'
  | 'idle'
  | 'checking'
  | 'none'
  | 'downloading'
  | 'downloaded'
  | 'error';

export interface UpdateStatus {
  readonly state: UpdateState;
  /** The running app's version. */
  readonly currentVersion: string;
  /** The newer version found, once one is. */
  readonly availableVersion: string | undefined;
  /** Download progress, 0 to 100, while downloading. */
  readonly percent: number | undefined;
  /** When the last check finished (epoch ms), whatever its outcome. */
  readonly lastCheckedAt: number | undefined;
  /** A sentence for the user. */
  readonly detail: string;
}

/** A `market-monitor://symbol/<SYMBOL>` link the app was opened with (electron/deep-link.ts). */
export interface DeepLinkSymbol {
  readonly symbol: string;
}

export const COMMANDS = {
  'connection:connect': empty,
  'connection:disconnect': empty,
  'source:set': z.strictObject({ source: sourceSchema }),
  'settings:get': empty,
  'settings:update': z.strictObject({
    theme: z.enum(THEMES).optional(),
    autoConnect: z.boolean().optional(),
    allowInsecureCredentialStorage: z.boolean().optional(),
  }),
  'credentials:set': credentialsSchema,
  'credentials:clear': empty,
  'credentials:status': empty,
  'watchlists:list': empty,
  'watchlists:create': z.strictObject({ name: nameSchema }),
  'watchlists:rename': z.strictObject({ id: idSchema, name: nameSchema }),
  'watchlists:delete': z.strictObject({ id: idSchema }),
  /** Raw user input: each is validated and normalized, bad ones come back in `rejected`. */
  'watchlists:add-symbols': z.strictObject({
    id: idSchema,
    symbols: z.array(z.string().max(64)).min(1).max(MAX_SYMBOLS_PER_WATCHLIST),
  }),
  'watchlists:remove-symbol': z.strictObject({ id: idSchema, symbol: symbolSchema }),
  'watchlists:move-symbol': z.strictObject({
    id: idSchema,
    symbol: symbolSchema,
    toIndex: z.number().int().min(0),
  }),
  'handlers:list': empty,
  'handlers:remove': z.strictObject({ id: idSchema }),
  /**
   * Forget the server's refusals (a symbol limit, an invalid action) and subscribe those symbols
   * again: after a plan upgrade, or a limit that was lifted. Refused symbols are otherwise left
   * alone, so that capacity freed later is not filled behind the user's back.
   */
  'subscriptions:retry-refused': empty,
  'diagnostics:snapshot': empty,
  'diagnostics:export': empty,
  'log:recent': z.strictObject({ limit: z.number().int().min(1).max(5000).optional() }),
  'notices:dismiss': z.strictObject({ id: idSchema }),
  /** Only while the source is the built-in simulator. */
  'simulator:control': simulatorControlSchema,
  /** Where the market stands (also pushed as 'market:update'). */
  'market:status': empty,
  /** The add box's autocomplete: ticker prefix or name words. */
  'symbols:search': z.strictObject({
    query: z.string().max(64),
    limit: z.number().int().min(1).max(50).optional(),
  }),
  /** Names, exchanges and tradable flags of the given symbols (those the directory knows). */
  'symbols:info': z.strictObject({ symbols: z.array(symbolSchema).max(MAX_SYMBOLS_PER_WATCHLIST) }),
  /** Every sparkline series whole (a view's first copy; then 'market:series' events append). */
  'market:series': empty,
  /** Every symbol's trading status held now (halts, LULD bands); then 'market:trading-status' events. */
  'market:trading-status': empty,
  /** Bars of one symbol for the detail chart. */
  'market:bars': z.strictObject({
    symbol: symbolSchema,
    timeframe: z.enum(['1Min', '5Min', '15Min', '1Hour', '1Day']),
    /** Epoch ms; default: a range that fits the timeframe (a session of minutes, a year of days). */
    start: z.number().int().min(0).optional(),
    end: z.number().int().min(0).optional(),
  }),
  /** Every alert rule with its state. */
  'alerts:list': empty,
  'alerts:create': alertCreateSchema,
  /** Edit, pause / resume, re-arm. */
  'alerts:update': alertUpdateSchema,
  'alerts:delete': z.strictObject({ id: idSchema }),
  /** The alerts that fired (this run), newest first. */
  'alerts:log': z.strictObject({
    limit: z.number().int().min(1).max(ALERT_LOG_CAPACITY).optional(),
  }),
  /**
   * The symbol this view's detail pane watches (null: none). Answers its recent trades, quote and
   * day; 'tape:trades' events follow while it is watched.
   */
  'tape:watch': z.strictObject({ symbol: symbolSchema.nullable() }),
  /**
   * The watchlist the user is looking at (a tab switch): remembered in the settings, and its
   * symbols go first for the stream when the plan's symbol limit bites. Nothing is unsubscribed:
   * the new order applies to what is subscribed next and to 'subscriptions:retry-refused'.
   */
  'watchlists:set-active': z.strictObject({ id: idSchema }),
  /**
   * The symbols this view shows now (its watchlist's rows on screen, the detail pane's symbol), or
   * null for every symbol (the default). Their changed rows come in every frame; the view's other
   * changed rows follow in quarter-second sweeps, oldest first (a row waits one or two). Answers
   * the count.
   */
  'frames:focus': z.strictObject({
    symbols: z.array(symbolSchema).max(MAX_FOCUS_SYMBOLS).nullable(),
  }),
  /**
   * This view lost a frame (a sequence gap, a row whose symbol id it was never told): its next
   * frame is full, every row with a fresh symbol table, as its first one was. Answers null.
   */
  'frames:resync': empty,
  // The desktop app's self-update; browser mode answers that updates are a desktop feature.
  'update:status': empty,
  'update:check': empty,
  'update:restart': empty,
  /** The relay key for a Relay source (write-only, stored as the Alpaca keys are). */
  'relay:keys-set': credentialsSchema,
  'relay:keys-clear': empty,
  'relay:status': empty,
  /**
   * Serve the app's connection as a relay on 127.0.0.1 (or stop). The first start makes a client
   * key and answers it once; `newKey` replaces it (clients with the old one are refused).
   */
  'relay:serve': z.strictObject({
    enabled: z.boolean(),
    port: z.number().int().min(0).max(65_535).optional(),
    newKey: z.literal(true).optional(),
  }),
} as const;

export type CommandName = keyof typeof COMMANDS;
export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

/** What the caller passes (before zod's transforms). */
export type CommandInput<C extends CommandName> = z.input<(typeof COMMANDS)[C]>;
/** What a handler in main receives (after validation and transforms). */
export type CommandArgs<C extends CommandName> = z.output<(typeof COMMANDS)[C]>;

export interface CommandOutputs {
  'connection:connect': ConnectionView;
  'connection:disconnect': ConnectionView;
  'source:set': Settings;
  'settings:get': Settings;
  'settings:update': Settings;
  'credentials:set': CredentialStatus;
  'credentials:clear': CredentialStatus;
  'credentials:status': CredentialStatus;
  'watchlists:list': readonly Watchlist[];
  'watchlists:create': Watchlist;
  'watchlists:rename': Watchlist;
  'watchlists:delete': readonly Watchlist[];
  'watchlists:add-symbols': AddSymbolsResult;
  'watchlists:remove-symbol': Watchlist;
  'watchlists:move-symbol': Watchlist;
  'handlers:list': readonly HandlerView[];
  'handlers:remove': readonly HandlerView[];
  'subscriptions:retry-refused': { readonly retried: number };
  'watchlists:set-active': Settings;
  'frames:focus': number | null;
  'frames:resync': null;
  'diagnostics:snapshot': Snapshot;
  'diagnostics:export': DiagnosticsBundle;
  'log:recent': readonly LogEntry[];
  'notices:dismiss': readonly Notice[];
  'simulator:control': { readonly applied: string };
  'market:status': MarketView;
  'symbols:search': readonly SymbolInfo[];
  'symbols:info': readonly SymbolInfo[];
  'market:bars': readonly ChartBar[];
  'market:series': SeriesUpdate;
  'market:trading-status': readonly TradingStatusView[];
  'alerts:list': readonly AlertRuleView[];
  'alerts:create': AlertRuleView;
  'alerts:update': AlertRuleView;
  'alerts:delete': readonly AlertRuleView[];
  'alerts:log': readonly AlertFired[];
  'tape:watch': TapeUpdate | null;
  'update:status': UpdateStatus;
  'update:check': UpdateStatus;
  'update:restart': UpdateStatus;
  'relay:keys-set': RelayView;
  'relay:keys-clear': RelayView;
  'relay:status': RelayView;
  'relay:serve': RelayServeResult;
}
export type CommandOutput<C extends CommandName> = CommandOutputs[C];

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.hasOwn(COMMANDS, name);
}

/** Validates a payload for a command: the one place where zod issues become an error message. */
export function parseCommand<C extends CommandName>(
  command: C,
  payload: unknown,
): Result<CommandArgs<C>> {
  const parsed = COMMANDS[command].safeParse(payload ?? {});
  if (parsed.success) return ok(parsed.data as CommandArgs<C>);
  const message = parsed.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : 'payload'}: ${i.message}`)
    .join('; ');
  return fail('bad-request', `${command}: ${message}`);
}

// ------------------------------------------------------------------------------ events

export interface EventMap {
  'connection:state': ConnectionView;
  /** A few times a second. */
  'metrics:update': MetricsEvent;
  /** When handlers are added or removed, and once a second while their counts change. */
  'handlers:update': readonly HandlerView[];
  'log:entry': LogEntry;
  /** Desired / confirmed / refused, on every echo and change. */
  'subscriptions:update': SubscriptionsView;
  'settings:update': Settings;
  'watchlists:update': readonly Watchlist[];
  'credentials:update': CredentialStatus;
  /** Things the user must be told: a corrupt settings file kept as a backup, insecure storage. */
  'notices:update': readonly Notice[];
  /** The session changed, the directory loaded, the polled set changed. */
  'market:update': MarketView;
  /** Sparkline points appended or repaired since the previous one (see SeriesUpdate). */
  'market:series': SeriesUpdate;
  /**
   * Trading statuses changed: a halt, a resume, a new LULD band (only the changed symbols: halts
   * are rare, so an event beats a frame column every view would carry for every symbol).
   */
  'market:trading-status': TradingStatusUpdate;
  /** The rules and their states: after every edit, and when one fires or re-arms. */
  'alerts:update': readonly AlertRuleView[];
  /** A rule fired (also in `alerts:log`). */
  'alerts:fired': AlertFired;
  /** The watched symbol's new trades, quote and day, batched (a few times a second at most). */
  'tape:trades': TapeUpdate;
  /** The self-update's state changed (desktop only). */
  'update:status': UpdateStatus;
  /** The app was opened with a symbol link; sent to the window that was brought forward. */
  'deeplink:symbol': DeepLinkSymbol;
  /** The relay key's status or the served relay changed (a client came or went, a start). */
  'relay:update': RelayView;
}
export type EventName = keyof EventMap;
export const EVENT_NAMES: readonly EventName[] = [
  'connection:state',
  'metrics:update',
  'handlers:update',
  'log:entry',
  'subscriptions:update',
  'settings:update',
  'watchlists:update',
  'credentials:update',
  'notices:update',
  'market:update',
  'market:series',
  'market:trading-status',
  'alerts:update',
  'alerts:fired',
  'tape:trades',
  'update:status',
  'deeplink:symbol',
  'relay:update',
];

// ------------------------------------------------------------------------------ the API

/**
 * What a view holds: `window.monitor` in Electron (preload), the bridge client in browser mode.
 * Same interface, same semantics.
 */
export interface MonitorApi {
  invoke<C extends CommandName>(
    command: C,
    input: CommandInput<C>,
  ): Promise<Result<CommandOutput<C>>>;
  /** Returns the unsubscribe. */
  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void;
  /**
   * The next quote frame: what changed since the previous one, latest per symbol. The first one
   * after attaching carries every known symbol. Resolves as soon as something changed (at once when
   * something already has); call it again after painting. One call in flight at a time. Frames name
   * symbols by id, each symbol once (shared/frame.ts): read every frame, in order, through one
   * symbol table per view.
   */
  nextFrame(): Promise<QuoteFrame>;
}
