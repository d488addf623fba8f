/**
 * The alert engine: the user's alert rules as handlers in the stream client's HandlerRegistry, the
 * state that makes each fire once per crossing, and the log of what fired. The core owns one engine
 * for its whole life; every new client (a source switch, new keys) gets the active rules
 * registered again through `attach`, so the rules and their fired / armed states outlive clients.
 *
 * Each active rule is ONE handler (`alert: AAPL price above 230`), on trades, quotes or statuses, for its
 * symbol or for '*'. The inspector shows its calls, errors and time like any handler's; a paused
 * rule has no handler. Handlers run at feed rate: a rule's call is a comparison and, for a symbol
 * that fired, a Map get; it allocates only when it fires or re-arms. Change % and volume are read
 * from the QuoteBook (`figure`), whose own handlers were registered first and so have already
 * applied the same trade.
 *
 * Per (rule, symbol) the state is `armed` (no entry) or `fired` (an entry with the time it fired).
 * A fired entry goes back to armed when the value is past the level by the band (rules.ts) AND the
 * quiet time (`quietMs`, default 60 s: the old wide-spread alert's interval) has passed since it
 * fired, so that a value wandering around a level brings one notification a minute at most. The
 * entries of '*' rules follow the streamed symbols (`retain`) and are capped.
 *
 * "No trade for N s" is measured by a timer (once a second) that runs only while such a rule is
 * active and a client is attached: silence counts only during the regular session and while the
 * stream is live, from the latest of the last trade, the session's start, the stream going live
 * and the rule's activation (and the resume, for a symbol that was halted: a halted symbol's
 * silence is not counted). It is the one timer the core keeps without views: alerts run in main
 * so that they fire with every window hidden.
 *
 * No electron import.
 */
import type { AlertFired, AlertRule, AlertRuleView, MarketSessionName } from '../../shared/api.ts';
import { ALERT_LOG_CAPACITY } from '../../shared/api.ts';
import type { Quote, Trade, TradingStatus } from '../../shared/market.ts';
import { spreadPct } from './spread.ts';
import { describeStatus } from '../market/trading-status.ts';
import type { Disposer, HandlerRegistry } from '../stream/handlers.ts';
import type { Logger } from '../stream/log.ts';
import { firedMessage, holds, rearms, ruleKind, ruleName } from './rules.ts';

/** What a rule's handler receives: trades, quotes, or trading statuses (halted / resumed). */
type RuleMessage = Quote | Trade | TradingStatus;

/** Tells the user of a firing outside the views (Electron's Notification in the app). */
export interface Notifier {
  notify(fired: AlertFired): void;
}

export interface AlertEngineOptions {
  readonly logger: Logger;
  /** Epoch ms. Default Date.now. */
  readonly now?: () => number;
  /** A figure of a symbol's book row (NaN when unknown): change % and volume come from here. */
  readonly figure: (symbol: string, column: 'refPrice' | 'volume') => number;
  /** The market session now (no-trade rules count only during 'regular'). */
  readonly session: () => MarketSessionName;
  /** Whether the stream is live now (silence of a dead stream is not the market's). */
  readonly live: () => boolean;
  /**
   * A symbol's halt as the trading status board holds it: a halted symbol's silence is the halt's,
   * not news, and after a resume silence counts from the resume. Default: no halts known.
   */
  readonly halt?: (
    symbol: string,
  ) => { readonly halted: boolean; readonly resumedAt: number } | undefined;
  /** A fired (rule, symbol) re-arms no sooner than this. Default 60 000. */
  readonly quietMs?: number;
  /** The no-trade check's period. Default 1000. */
  readonly checkIntervalMs?: number;
  /** Fired entries a '*' rule keeps at most. Default 20 000 (the streamed symbols' cap). */
  readonly maxSymbols?: number;
  readonly onFired: (fired: AlertFired) => void;
  /** A rule fired or re-armed, or the rules changed: the views' list is out of date. */
  readonly onChange: () => void;
}

const MAX_FIRED_LISTED = 50;

/** One rule while the engine holds it. */
interface Runtime {
  rule: AlertRule;
  readonly name: string;
  handle: (msg: RuleMessage) => void;
  handler: Disposer | undefined;
  /** Symbols in the fired state, with the epoch ms they fired; insertion order = oldest first. */
  readonly fired: Map<string, number>;
  /** no-trade: epoch ms of each symbol's latest trade. */
  readonly lastTrade: Map<string, number>;
  /** resumed: epoch ms (the feed's) each symbol was seen halted, for the halt's length. */
  readonly haltedAt: Map<string, number>;
  /** Epoch ms since when silence counts for this rule (activation, re-arm). */
  activeSince: number;
  count: number;
  lastFiredAt: number | undefined;
}

function sameDefinition(a: AlertRule, b: AlertRule): boolean {
  return a.symbol === b.symbol && a.condition === b.condition && a.value === b.value;
}

export class AlertEngine {
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #figure: AlertEngineOptions['figure'];
  readonly #session: AlertEngineOptions['session'];
  readonly #live: AlertEngineOptions['live'];
  readonly #halt: NonNullable<AlertEngineOptions['halt']>;
  readonly #quietMs: number;
  readonly #checkMs: number;
  readonly #maxSymbols: number;
  readonly #onFired: AlertEngineOptions['onFired'];
  readonly #onChange: AlertEngineOptions['onChange'];
  /** In the rules' order. */
  #runtimes = new Map<string, Runtime>();
  #registry: HandlerRegistry | undefined;
  #symbols: ReadonlySet<string> = new Set();
  readonly #fired: AlertFired[] = [];
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Epoch ms since when the session has been regular and the stream live; undefined: not now. */
  #countingSince: number | undefined;
  #closed = false;

  constructor(options: AlertEngineOptions) {
    this.#log = options.logger.child({ module: 'alerts' });
    this.#now = options.now ?? Date.now;
    this.#figure = options.figure;
    this.#session = options.session;
    this.#live = options.live;
    this.#halt = options.halt ?? (() => undefined);
    this.#quietMs = options.quietMs ?? 60_000;
    this.#checkMs = options.checkIntervalMs ?? 1_000;
    this.#maxSymbols = Math.max(1, options.maxSymbols ?? 20_000);
    this.#onFired = options.onFired;
    this.#onChange = options.onChange;
  }

  /**
   * The rules from now on (after a load or an edit). A rule whose symbol, condition and value did
   * not change keeps its state; an edited one starts armed; a removed one's handler goes.
   */
  setRules(rules: readonly AlertRule[]): void {
    const next = new Map<string, Runtime>();
    for (const rule of rules) {
      const old = this.#runtimes.get(rule.id);
      if (old && sameDefinition(old.rule, rule)) {
        old.rule = rule;
        next.set(rule.id, old);
        continue;
      }
      if (old) this.#unregister(old);
      next.set(rule.id, this.#runtime(rule));
    }
    for (const [id, old] of this.#runtimes) if (!next.has(id)) this.#unregister(old);
    this.#runtimes = next;
    for (const rt of next.values()) {
      if (rt.rule.paused) this.#unregister(rt);
      else this.#register(rt);
    }
    this.#syncTimer();
    this.#onChange();
  }

  /**
   * Registers every active rule on `registry` (a new client's); returns the detach, which removes
   * them. One registry at a time: attaching another detaches the first.
   */
  attach(registry: HandlerRegistry): () => void {
    if (this.#registry) this.#detach();
    this.#registry = registry;
    for (const rt of this.#runtimes.values()) if (!rt.rule.paused) this.#register(rt);
    this.#syncTimer();
    return () => {
      if (this.#registry === registry) this.#detach();
    };
  }

  /** The streamed symbols: '*' rules forget every other symbol, no-trade rules watch these. */
  retain(symbols: ReadonlySet<string>): void {
    this.#symbols = new Set(symbols);
    let changed = false;
    for (const rt of this.#runtimes.values()) {
      for (const symbol of rt.fired.keys()) {
        if (!symbols.has(symbol)) {
          rt.fired.delete(symbol);
          changed = true;
        }
      }
      for (const symbol of rt.lastTrade.keys())
        if (!symbols.has(symbol)) rt.lastTrade.delete(symbol);
      for (const symbol of rt.haltedAt.keys()) if (!symbols.has(symbol)) rt.haltedAt.delete(symbol);
    }
    if (changed) this.#onChange();
  }

  /** Forgets that the rule fired (every symbol): it fires again as soon as its condition holds. */
  rearm(id: string): boolean {
    const rt = this.#runtimes.get(id);
    if (!rt) return false;
    rt.fired.clear();
    rt.activeSince = this.#now();
    this.#onChange();
    return true;
  }

  /** The rule whose handler this is, if any. */
  ruleOfHandler(handlerId: string): string | undefined {
    for (const rt of this.#runtimes.values()) if (rt.handler?.id === handlerId) return rt.rule.id;
    return undefined;
  }

  views(streamed: ReadonlySet<string>): AlertRuleView[] {
    const out: AlertRuleView[] = [];
    for (const rt of this.#runtimes.values()) {
      const firedSymbols: string[] = [];
      for (const symbol of rt.fired.keys()) {
        if (firedSymbols.length >= MAX_FIRED_LISTED) break;
        firedSymbols.push(symbol);
      }
      out.push({
        ...rt.rule,
        name: rt.name,
        state: rt.rule.paused ? 'paused' : rt.fired.size > 0 ? 'fired' : 'armed',
        handlerId: rt.handler?.id,
        fired: rt.count,
        lastFiredAt: rt.lastFiredAt,
        firedSymbols,
        streamed: rt.rule.symbol === '*' || streamed.has(rt.rule.symbol),
      });
    }
    return out;
  }

  /** What fired (this run), newest first. */
  log(limit: number = ALERT_LOG_CAPACITY): AlertFired[] {
    const n = Math.max(0, Math.min(limit, this.#fired.length));
    const out: AlertFired[] = [];
    for (let i = this.#fired.length - 1; out.length < n; i--) out.push(this.#fired[i]!);
    return out;
  }

  /** Whether the no-trade timer runs (for the core's resource count). */
  get timerRunning(): boolean {
    return this.#timer !== undefined;
  }

  close(): void {
    this.#closed = true;
    this.#detach();
    this.#stopTimer();
  }

  // ---------------------------------------------------------------- internals

  #runtime(rule: AlertRule): Runtime {
    const rt: Runtime = {
      rule,
      name: ruleName(rule),
      handle: () => undefined,
      handler: undefined,
      fired: new Map(),
      lastTrade: new Map(),
      haltedAt: new Map(),
      activeSince: this.#now(),
      count: 0,
      lastFiredAt: undefined,
    };
    const condition = rule.condition;
    const level = rule.value;
    const evaluate = (symbol: string, value: number): void => {
      if (Number.isNaN(value)) return;
      // Most of the time nothing has fired: no Map lookup per message then.
      const firedAt = rt.fired.size === 0 ? undefined : rt.fired.get(symbol);
      if (firedAt !== undefined) {
        if (!rearms(condition, level, value)) return;
        if (this.#now() - firedAt < this.#quietMs) return;
        rt.fired.delete(symbol);
        this.#onChange();
        return;
      }
      if (holds(condition, level, value)) this.#fire(rt, symbol, value);
    };
    let handle: (msg: RuleMessage) => void;
    switch (condition) {
      case 'price-above':
      case 'price-below':
        handle = (msg) => evaluate(msg.symbol, (msg as Trade).price);
        break;
      case 'change-above':
      case 'change-below':
        handle = (msg) => {
          const ref = this.#figure(msg.symbol, 'refPrice');
          if (!(ref > 0)) return;
          evaluate(msg.symbol, (((msg as Trade).price - ref) / ref) * 100);
        };
        break;
      case 'spread-above':
        handle = (msg) => {
          const q = msg as Quote;
          evaluate(q.symbol, spreadPct(q.bidPrice, q.askPrice));
        };
        break;
      case 'volume-above':
        handle = (msg) => evaluate(msg.symbol, this.#figure(msg.symbol, 'volume'));
        break;
      case 'no-trade':
        handle = (msg) => {
          rt.lastTrade.set(msg.symbol, this.#now());
          // A trade ends the silence: the next one counts from here.
          if (rt.fired.delete(msg.symbol)) this.#onChange();
        };
        break;
      case 'halted':
      case 'resumed': {
        const wanted = condition === 'halted' ? 'halt' : 'resume';
        handle = (msg) => {
          const status = msg as TradingStatus;
          const { effect, text } = describeStatus(status);
          if (effect === 'none') return;
          const symbol = status.symbol;
          if (effect !== wanted) {
            // The opposite event re-arms at once; a resume rule notes when the halt began.
            if (effect === 'halt' && !rt.haltedAt.has(symbol))
              rt.haltedAt.set(symbol, status.timeMs);
            if (rt.fired.delete(symbol)) this.#onChange();
            return;
          }
          // Once per halt (or resume): a second halt status while halted says nothing new.
          if (rt.fired.size > 0 && rt.fired.has(symbol)) return;
          let value = 0;
          if (condition === 'resumed') {
            const since = rt.haltedAt.get(symbol);
            rt.haltedAt.delete(symbol);
            if (since !== undefined)
              value = Math.max(0, Math.round((status.timeMs - since) / 1000));
          }
          this.#fire(rt, symbol, value, text);
        };
        break;
      }
      default: {
        const unreachable: never = condition;
        return unreachable;
      }
    }
    // A function of its own per rule: the registry refuses one function twice on a route.
    rt.handle = handle;
    return rt;
  }

  #register(rt: Runtime): void {
    const registry = this.#registry;
    if (!registry || rt.handler || this.#closed) return;
    rt.activeSince = this.#now();
    try {
      rt.handler = registry.on(ruleKind(rt.rule.condition), rt.rule.symbol, rt.handle, {
        name: rt.name,
      });
    } catch (err) {
      // The registry's handler limit: the rule stays, shown armed without a handler.
      this.#log.error({ err, rule: rt.rule.id }, `the alert "${rt.name}" could not be registered`);
    }
  }

  #unregister(rt: Runtime): void {
    const handler = rt.handler;
    rt.handler = undefined;
    handler?.();
  }

  #detach(): void {
    for (const rt of this.#runtimes.values()) this.#unregister(rt);
    this.#registry = undefined;
    this.#syncTimer();
  }

  #fire(rt: Runtime, symbol: string, value: number, detail?: string): void {
    const at = this.#now();
    if (rt.fired.size >= this.#maxSymbols) {
      const oldest = rt.fired.keys().next();
      if (!oldest.done) rt.fired.delete(oldest.value);
    }
    rt.fired.set(symbol, at);
    rt.count++;
    rt.lastFiredAt = at;
    const fired: AlertFired = {
      seq: ++this.#seq,
      ruleId: rt.rule.id,
      name: rt.name,
      symbol,
      condition: rt.rule.condition,
      level: rt.rule.value,
      value,
      at,
      message: firedMessage(rt.rule, symbol, value, detail),
      notify: rt.rule.notify,
    };
    this.#fired.push(fired);
    if (this.#fired.length > ALERT_LOG_CAPACITY) this.#fired.shift();
    this.#log.warn(
      {
        alert: { rule: rt.rule.id, condition: rt.rule.condition, level: rt.rule.value },
        symbol,
        value,
      },
      fired.message,
    );
    try {
      this.#onFired(fired);
    } catch (err) {
      this.#log.error({ err, rule: rt.rule.id }, 'delivering a fired alert failed');
    }
    this.#onChange();
  }

  #syncTimer(): void {
    let wanted = false;
    if (this.#registry && !this.#closed) {
      for (const rt of this.#runtimes.values()) {
        if (rt.rule.condition === 'no-trade' && !rt.rule.paused) {
          wanted = true;
          break;
        }
      }
    }
    if (wanted && !this.#timer) {
      this.#timer = setInterval(() => {
        try {
          this.#check();
        } catch (err) {
          this.#log.error({ err }, 'the no-trade check failed');
        }
      }, this.#checkMs);
      this.#timer.unref?.();
    } else if (!wanted) {
      this.#stopTimer();
    }
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#countingSince = undefined;
  }

  /** The no-trade rules: fires those whose symbols have been silent long enough. */
  #check(): void {
    const now = this.#now();
    if (this.#session() !== 'regular' || !this.#live()) {
      this.#countingSince = undefined;
      return;
    }
    this.#countingSince ??= now;
    for (const rt of this.#runtimes.values()) {
      if (rt.rule.condition !== 'no-trade' || !rt.handler) continue;
      const symbols: Iterable<string> =
        rt.rule.symbol === '*'
          ? this.#symbols
          : this.#symbols.has(rt.rule.symbol)
            ? [rt.rule.symbol]
            : [];
      for (const symbol of symbols) {
        if (rt.fired.has(symbol)) continue;
        const halt = this.#halt(symbol);
        if (halt?.halted === true) continue;
        const since = Math.max(
          rt.lastTrade.get(symbol) ?? Number.NEGATIVE_INFINITY,
          this.#countingSince,
          rt.activeSince,
          halt?.resumedAt ?? Number.NEGATIVE_INFINITY,
        );
        const silent = Math.floor((now - since) / 1000);
        if (holds('no-trade', rt.rule.value, silent)) this.#fire(rt, symbol, silent);
      }
    }
  }
}
