/**
 * Trading halts and LULD bands: the latest `statuses` and `lulds` messages of each streamed symbol,
 * turned into what a trader reads (halted or not, why, since when, the limit-up / limit-down band),
 * and the changes the views are told of. Halts are rare and a band changes a few times a day, so
 * the board keeps only symbols with something to say: a symbol that resumes with no band is
 * forgotten, and the views get the symbols that changed, not a column in every frame.
 *
 * Status codes. Alpaca passes on the SIPs' codes: CTA (tapes A and B) with digits and letters,
 * UTP (tape C) with letters; the reason codes likewise. The tables below give their meaning and
 * which codes stop trading. A code not in them keeps the feed's own text and changes nothing:
 * a halted symbol stays halted until a resume says otherwise.
 *
 * The board outlives clients as the tape does: `attach` registers its handlers on each new
 * client's registry, and a new client (another source, other keys) starts from nothing, since its
 * market is another one. A reconnect of the same client keeps what is held: Alpaca replays no
 * status, so a halt seen before a drop is still the best knowledge after it.
 *
 * No electron import.
 */
import type { LuldBandView, TradingStatusUpdate, TradingStatusView } from '../../shared/api.ts';
import type { Luld, TradingStatus } from '../../shared/market.ts';
import type { HandlerRegistry } from '../stream/handlers.ts';
import type { Logger } from '../stream/log.ts';

/** What a status code does to trading. */
export type StatusEffect = 'halt' | 'resume' | 'none';

interface CodeMeaning {
  readonly text: string;
  readonly effect: StatusEffect;
}

/**
 * Status codes: CTA's and UTP's share no code, so one table serves both. A price or range
 * indication and a quotation resumption are still halts: quotes may come back first, trades not.
 */
const STATUS_CODES: Readonly<Record<string, CodeMeaning>> = {
  // CTA
  '2': { text: 'Trading halt', effect: 'halt' },
  '3': { text: 'Resume', effect: 'resume' },
  '5': { text: 'Price indication', effect: 'halt' },
  '6': { text: 'Trading range indication', effect: 'halt' },
  '7': { text: 'Market imbalance buy', effect: 'none' },
  '8': { text: 'Market imbalance sell', effect: 'none' },
  '9': { text: 'Market on close imbalance buy', effect: 'none' },
  A: { text: 'Market on close imbalance sell', effect: 'none' },
  C: { text: 'No market imbalance', effect: 'none' },
  D: { text: 'No market on close imbalance', effect: 'none' },
  E: { text: 'Short sale restriction', effect: 'none' },
  F: { text: 'Limit up-limit down', effect: 'none' },
  // UTP
  H: { text: 'Trading halt', effect: 'halt' },
  Q: { text: 'Quotation resumption', effect: 'halt' },
  T: { text: 'Trading resumption', effect: 'resume' },
  P: { text: 'Volatility trading pause', effect: 'halt' },
};

/** Reason codes (CTA's single characters, UTP's longer codes). */
const REASON_CODES: Readonly<Record<string, string>> = {
  // CTA
  D: 'News released',
  I: 'Order imbalance',
  M: 'Limit up-limit down trading pause',
  P: 'News pending',
  X: 'Operational',
  Y: 'Sub-penny trading',
  '1': 'Market-wide circuit breaker level 1',
  '2': 'Market-wide circuit breaker level 2',
  '3': 'Market-wide circuit breaker level 3',
  // UTP
  T1: 'Halt: news pending',
  T2: 'Halt: news dissemination',
  T3: 'News and resumption times',
  T5: 'Single stock trading pause in effect',
  T6: 'Regulatory halt: extraordinary market activity',
  T7: 'Single stock trading pause / quotation-only period',
  T8: 'Halt: ETF',
  T12: 'Trading halted: information requested by Nasdaq',
  H4: 'Halt: non-compliance',
  H9: 'Halt: filings not current',
  H10: 'Halt: SEC trading suspension',
  H11: 'Halt: regulatory concern',
  O1: 'Operations halt: contact market operations',
  IPO1: 'IPO issue not yet trading',
  IPOQ: 'IPO security released for quotation',
  IPOE: 'IPO security: positioning window extension',
  M1: 'Corporate action',
  M2: 'Quotation not available',
  LUDP: 'Volatility trading pause',
  LUDS: 'Volatility trading pause: straddle condition',
  MWC0: 'Market-wide circuit breaker halt: carried over from the previous day',
  MWC1: 'Market-wide circuit breaker halt: level 1',
  MWC2: 'Market-wide circuit breaker halt: level 2',
  MWC3: 'Market-wide circuit breaker halt: level 3',
  MWCQ: 'Market-wide circuit breaker resumption',
  R4: 'Qualification issues resolved; trading to resume',
  R9: 'Filing requirements satisfied; trading to resume',
  C3: 'Issuer news not forthcoming; trading to resume',
  C4: 'Qualifications halt ended; trading to resume',
  C9: 'Qualifications halt concluded; trading to resume',
  C11: 'Halt concluded by another regulatory authority; trading to resume',
  R1: 'New issue available',
  R: 'Issue available',
};

const LULD_INDICATORS: Readonly<Record<string, string>> = {
  A: 'price band',
  B: 'republished price band',
};

/** What a status code does: halts trading, resumes it, or neither (information only). */
export function statusEffect(code: string): StatusEffect {
  return STATUS_CODES[code]?.effect ?? 'none';
}

/** A status code's meaning; for a code the table lacks, the feed's text, else the code. */
export function statusText(code: string, feedText = ''): string {
  return STATUS_CODES[code]?.text ?? (feedText !== '' ? feedText : `status ${code}`);
}

/** A reason code's meaning; for a code the table lacks, the feed's text, else the code. */
export function reasonText(code: string, feedText = ''): string {
  if (code === '' && feedText === '') return '';
  return REASON_CODES[code] ?? (feedText !== '' ? feedText : `reason ${code}`);
}

/** What a LULD indicator code means, when known. */
export function luldIndicatorText(code: string): string | undefined {
  return LULD_INDICATORS[code];
}

/** A status and its meaning, for the alert rules (which read the message, not the board). */
export function describeStatus(msg: TradingStatus): {
  readonly effect: StatusEffect;
  readonly text: string;
} {
  const status = statusText(msg.statusCode, msg.statusMessage);
  const reason = reasonText(msg.reasonCode, msg.reasonMessage);
  return {
    effect: statusEffect(msg.statusCode),
    text: reason === '' ? status : `${status}: ${reason}`,
  };
}

export interface TradingStatusBoardOptions {
  readonly logger: Logger;
  /** Something changed: read it with `takeUpdate()` (the core coalesces bursts). */
  readonly onChange: () => void;
  /** Symbols held at most (the streamed symbols' cap). Default 20 000. */
  readonly maxSymbols?: number;
}

/** One symbol as held: the view plus when its status and its band were sent. */
interface Entry {
  view: TradingStatusView;
  /** Epoch ms of the latest status message taken (older ones are late and ignored). */
  statusAt: number;
}

export class TradingStatusBoard {
  readonly #log: Logger;
  readonly #onChange: () => void;
  readonly #maxSymbols: number;
  readonly #entries = new Map<string, Entry>();
  /** When each symbol last resumed (kept after its entry goes: the no-trade alerts read it). */
  readonly #resumedAt = new Map<string, number>();
  /** The streamed symbols; undefined until the first `retain` (then everything is taken). */
  #symbols: ReadonlySet<string> | undefined;
  /** Symbols changed or cleared since the last `takeUpdate()`. */
  readonly #dirty = new Set<string>();
  #reset = false;
  #registry: HandlerRegistry | undefined;
  #offs: (() => void)[] = [];
  #everAttached = false;

  constructor(options: TradingStatusBoardOptions) {
    this.#log = options.logger;
    this.#onChange = options.onChange;
    this.#maxSymbols = Math.max(1, options.maxSymbols ?? 20_000);
  }

  /**
   * Registers the status and band handlers on a new client's registry; returns their disposer.
   * A second client means another market: what the first one said is dropped (`reset`).
   */
  attach(handlers: HandlerRegistry): () => void {
    if (this.#registry === handlers)
      throw new Error('the trading status board is already attached to this registry');
    this.#detach();
    if (this.#everAttached) this.clear();
    this.#everAttached = true;
    this.#registry = handlers;
    this.#offs = [
      handlers.on('status', '*', (msg) => this.applyStatus(msg), {
        name: 'trading status',
        builtin: true,
      }),
      handlers.on('luld', '*', (msg) => this.applyLuld(msg), { name: 'LULD bands', builtin: true }),
    ];
    let disposed = false;
    return () => {
      if (disposed) return;
      disposed = true;
      if (this.#registry === handlers) this.#detach();
    };
  }

  /** The streamed symbols: the others are forgotten (and cleared in the views). */
  retain(symbols: ReadonlySet<string>): void {
    this.#symbols = symbols;
    let changed = false;
    for (const symbol of [...this.#resumedAt.keys()])
      if (!symbols.has(symbol)) this.#resumedAt.delete(symbol);
    for (const symbol of [...this.#entries.keys()]) {
      if (symbols.has(symbol)) continue;
      this.#entries.delete(symbol);
      this.#dirty.add(symbol);
      changed = true;
    }
    if (changed) this.#onChange();
  }

  /** Forgets everything (a new source); the views are told to drop theirs. */
  clear(): void {
    this.#entries.clear();
    this.#resumedAt.clear();
    this.#dirty.clear();
    this.#reset = true;
    this.#onChange();
  }

  /** A `statuses` message: a halt, a resume, or information that changes nothing. */
  applyStatus(msg: TradingStatus): void {
    if (!this.#wanted(msg.symbol)) return;
    const effect = statusEffect(msg.statusCode);
    const held = this.#entries.get(msg.symbol);
    if (held !== undefined && msg.timeMs < held.statusAt) {
      this.#log.debug({ symbol: msg.symbol, time: msg.time }, 'late trading status ignored');
      return;
    }
    if (effect === 'none') {
      // Imbalances, short-sale restriction: nothing to mark. A halt's reason stays what it was.
      return;
    }
    const statusFields = {
      statusCode: msg.statusCode,
      statusText: statusText(msg.statusCode, msg.statusMessage),
      reasonCode: msg.reasonCode,
      reasonText: reasonText(msg.reasonCode, msg.reasonMessage),
    };
    if (effect === 'halt') {
      this.#resumedAt.delete(msg.symbol);
      const since = held?.view.halted === true ? held.view.since : msg.timeMs;
      this.#set(
        msg.symbol,
        {
          symbol: msg.symbol,
          halted: true,
          ...statusFields,
          since,
          luld: held?.view.luld,
        },
        msg.timeMs,
      );
      return;
    }
    // A resume: the mark goes; the band, if any, stays.
    if (held === undefined) return;
    if (held.view.halted) this.#resumedAt.set(msg.symbol, msg.timeMs);
    if (held.view.luld === undefined) {
      this.#entries.delete(msg.symbol);
      this.#changed(msg.symbol);
      return;
    }
    this.#set(
      msg.symbol,
      { ...held.view, halted: false, ...statusFields, since: msg.timeMs },
      msg.timeMs,
    );
  }

  /** A `lulds` message: the symbol's band from now on (a malformed band is logged and dropped). */
  applyLuld(msg: Luld): void {
    if (!this.#wanted(msg.symbol)) return;
    if (!(msg.limitDown > 0 && msg.limitUp > msg.limitDown)) {
      this.#log.warn(
        { symbol: msg.symbol, limitUp: msg.limitUp, limitDown: msg.limitDown },
        'LULD band ignored: limit down must be above 0 and below limit up',
      );
      return;
    }
    const held = this.#entries.get(msg.symbol);
    if (held?.view.luld !== undefined && msg.timeMs < held.view.luld.at) return;
    const luld: LuldBandView = {
      limitUp: msg.limitUp,
      limitDown: msg.limitDown,
      indicator: msg.indicator,
      indicatorText: luldIndicatorText(msg.indicator),
      at: msg.timeMs,
    };
    if (held !== undefined) {
      this.#set(msg.symbol, { ...held.view, luld }, held.statusAt);
      return;
    }
    this.#set(
      msg.symbol,
      {
        symbol: msg.symbol,
        halted: false,
        statusCode: '',
        statusText: '',
        reasonCode: '',
        reasonText: '',
        since: msg.timeMs,
        luld,
      },
      Number.NEGATIVE_INFINITY,
    );
  }

  get(symbol: string): TradingStatusView | undefined {
    return this.#entries.get(symbol)?.view;
  }

  /**
   * Whether a symbol is halted, and when it last resumed (epoch ms, the feed's time; -Infinity when
   * no resume was seen): the no-trade alerts count silence from the resume, not through the halt.
   */
  haltOf(symbol: string): { readonly halted: boolean; readonly resumedAt: number } | undefined {
    const halted = this.#entries.get(symbol)?.view.halted === true;
    const resumedAt = this.#resumedAt.get(symbol);
    if (!halted && resumedAt === undefined) return undefined;
    return { halted, resumedAt: resumedAt ?? Number.NEGATIVE_INFINITY };
  }

  /** Every status held, halted symbols first, then by symbol. */
  list(): TradingStatusView[] {
    return [...this.#entries.values()]
      .map((e) => e.view)
      .sort((a, b) =>
        a.halted !== b.halted
          ? a.halted
            ? -1
            : 1
          : a.symbol < b.symbol
            ? -1
            : a.symbol > b.symbol
              ? 1
              : 0,
      );
  }

  /** Symbols held. */
  get size(): number {
    return this.#entries.size;
  }

  /** What changed since the last call, or undefined when nothing did. */
  takeUpdate(): TradingStatusUpdate | undefined {
    if (!this.#reset && this.#dirty.size === 0) return undefined;
    const statuses: TradingStatusView[] = [];
    const cleared: string[] = [];
    const symbols = this.#reset ? [...this.#entries.keys()] : [...this.#dirty];
    for (const symbol of symbols) {
      const view = this.#entries.get(symbol)?.view;
      if (view !== undefined) statuses.push(view);
      else cleared.push(symbol);
    }
    const update: TradingStatusUpdate = { reset: this.#reset, statuses, cleared };
    this.#reset = false;
    this.#dirty.clear();
    return update;
  }

  close(): void {
    this.#detach();
    this.#entries.clear();
    this.#resumedAt.clear();
    this.#dirty.clear();
  }

  #wanted(symbol: string): boolean {
    return this.#symbols === undefined || this.#symbols.has(symbol);
  }

  #set(symbol: string, view: TradingStatusView, statusAt: number): void {
    if (!this.#entries.has(symbol) && this.#entries.size >= this.#maxSymbols) {
      // Only reachable with more statuses than streamed symbols: the oldest entry gives way.
      const oldest = this.#entries.keys().next();
      if (!oldest.done) {
        this.#entries.delete(oldest.value);
        this.#dirty.add(oldest.value);
      }
    }
    this.#entries.set(symbol, { view, statusAt });
    this.#changed(symbol);
  }

  #changed(symbol: string): void {
    this.#dirty.add(symbol);
    this.#onChange();
  }

  #detach(): void {
    for (const off of this.#offs.splice(0)) off();
    this.#registry = undefined;
  }
}
