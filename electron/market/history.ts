/**
 * Intraday history for sparklines: per watchlist symbol, the 1-minute closes of one session, seeded
 * from REST bars, extended by the live stream's minute bars, and repaired after a reconnect so a
 * series has no holes. It also hands the service what changed since a version, so a view gets a
 * sparkline once and then only the points that moved.
 *
 * Layout. One session window for all symbols: `slots` minutes (960 by default: 04:00 to 20:00 New
 * York, pre-market, regular and after-hours) starting at `sessionStart`, the epoch ms of 04:00 New
 * York that the service computes from the calendar. Each symbol holds a Float32Array of closes
 * (NaN where the minute has no bar) and a bitset of minutes known to be settled: a minute with a bar,
 * or one a REST fetch or the connected stream covered and found empty (a minute without trades
 * legitimately has no bar on Alpaca). Gap repair asks only for unsettled minutes, and a range it has
 * repaired is settled whatever came back, so it is never asked twice.
 *
 * Float32 keeps 7 significant digits: BTC at 65,432.17 is stored as 65,432.171875. Plenty for a
 * 60-pixel sparkline; the detail chart takes full bars through ChartBars.
 *
 * Memory (counted by `bytes()`, tested): 3,840 bytes of closes and 120 bytes of bitset a symbol,
 * 7.9 MB at 2,000 symbols, plus the change journal (655 KB at its default capacity): 8.6 MB in
 * all, with about 200 bytes of object overhead a symbol on top. At most `maxSymbols` series
 * (10,000 by default, 40 MB) are held, whatever the caller does.
 *
 * One session at a time: `roll` to a new session clears every series in place (the buffers are
 * reused). The service rolls when the next session opens, not when one closes, so that overnight
 * and at weekends the last session stays on screen.
 */
import type { RestBar } from '../rest/types.ts';
import { silentLogger, type Logger } from '../stream/log.ts';

export const MINUTE_MS = 60_000;
/** 04:00–20:00 New York: pre-market, regular and after-hours. */
export const SESSION_SLOTS = 960;
export const DEFAULT_MAX_SYMBOLS = 10_000;
/** Change records kept for `changesSince`; an older cursor gets a reset (full series). */
export const DEFAULT_JOURNAL_CAPACITY = 32_768;
/** Bars requests one repair plan may make, at most: more distinct gaps are merged. */
export const DEFAULT_MAX_REPAIR_REQUESTS = 8;

export interface IntradayHistoryOptions {
  readonly slots?: number;
  readonly maxSymbols?: number;
  readonly journalCapacity?: number;
  readonly maxRepairRequests?: number;
  readonly logger?: Logger;
}

/** One symbol's sparkline. `closes` is a copy: the history reuses its buffers in place. */
export interface SparklineSeries {
  readonly symbol: string;
  /** Epoch ms of slot 0 (the session's 04:00 New York). */
  readonly start: number;
  readonly stepMs: typeof MINUTE_MS;
  /** One close a minute, NaN where the minute has no bar; `slots` long. */
  readonly closes: Float32Array;
  /** The history's version when this was taken: pass it to `changesSince` for what follows. */
  readonly version: number;
}

/**
 * Points of one symbol to write over a view's copy, from slot `from` on. `null` where a minute has
 * no bar: the same on Electron IPC and on the browser bridge's JSON, which would turn NaN into null.
 */
export interface SparklineDelta {
  readonly symbol: string;
  readonly from: number;
  readonly closes: (number | null)[];
}

export interface SparklineChanges {
  /** The version these changes bring a view to: its next cursor. */
  readonly version: number;
  /** Epoch ms of slot 0; undefined before the first session. */
  readonly start: number | undefined;
  /**
   * True when the cursor is too old to answer with deltas (a session roll since, or the journal
   * overflowed): each delta is then a whole series from slot 0, and symbols absent are empty.
   */
  readonly reset: boolean;
  readonly changes: SparklineDelta[];
}

/** A half-open range of epoch ms, on minute boundaries: `[from, to)`. */
export interface MinuteRange {
  readonly from: number;
  readonly to: number;
}

/** One multi-symbol bars request of a repair plan: `timeframe=1Min`, `[start, end)`. */
export interface RepairRequest {
  readonly start: number;
  readonly end: number;
  readonly symbols: string[];
}

interface Series {
  readonly closes: Float32Array;
  /** A bit a slot: the minute is settled (a bar came, or a fetch or the stream covered it). */
  readonly settled: Uint32Array;
  /** Highest slot holding a close, -1 for none. */
  last: number;
}

export class IntradayHistory {
  readonly slots: number;
  readonly maxSymbols: number;
  readonly #maxRepairRequests: number;
  readonly #log: Logger;
  readonly #series = new Map<string, Series>();
  /**
   * The series each planned request was for. A symbol dropped while its repair was out and put
   * back before the repair settled has a new series that missed the pages of the dropped one:
   * its range must stay a gap, not be settled.
   */
  readonly #planned = new WeakMap<RepairRequest, ReadonlyMap<string, Series>>();
  #start: number | undefined;
  #version = 0;
  /** The version of the last roll: a cursor before it cannot be answered with deltas. */
  #resetVersion = 0;
  // The journal: a ring of (version, symbol, lowest slot changed), one record per operation.
  readonly #jVersion: Float64Array;
  readonly #jSlot: Int32Array;
  readonly #jSymbol: (string | undefined)[];
  #jHead = 0;
  #jCount = 0;
  #refusedLogged = false;

  constructor(options: IntradayHistoryOptions = {}) {
    this.slots = positiveInt(options.slots ?? SESSION_SLOTS, 'slots');
    this.maxSymbols = positiveInt(options.maxSymbols ?? DEFAULT_MAX_SYMBOLS, 'maxSymbols');
    const capacity = positiveInt(
      options.journalCapacity ?? DEFAULT_JOURNAL_CAPACITY,
      'journalCapacity',
    );
    this.#maxRepairRequests = positiveInt(
      options.maxRepairRequests ?? DEFAULT_MAX_REPAIR_REQUESTS,
      'maxRepairRequests',
    );
    this.#log = (options.logger ?? silentLogger()).child({ module: 'history' });
    this.#jVersion = new Float64Array(capacity);
    this.#jSlot = new Int32Array(capacity);
    this.#jSymbol = new Array<string | undefined>(capacity).fill(undefined);
  }

  /** Epoch ms of slot 0 of the session held; undefined before the first `roll` or `seed`. */
  get sessionStart(): number | undefined {
    return this.#start;
  }

  /** Bumped by every change; see `changesSince`. */
  get version(): number {
    return this.#version;
  }

  get size(): number {
    return this.#series.size;
  }

  has(symbol: string): boolean {
    return this.#series.has(symbol);
  }

  symbols(): string[] {
    return [...this.#series.keys()];
  }

  /**
   * Bytes held in typed arrays: every series' closes and bitset plus the journal. Object and Map
   * overhead (about 200 bytes a symbol) comes on top.
   */
  bytes(): number {
    let total = this.#jVersion.byteLength + this.#jSlot.byteLength + this.#jSymbol.length * 8;
    for (const s of this.#series.values()) total += s.closes.byteLength + s.settled.byteLength;
    return total;
  }

  /**
   * Starts session `sessionStart` (epoch ms of its 04:00 New York): every series is cleared in
   * place, symbols stay tracked (so `planRepair` then asks for all of them), and views get a reset.
   * The same start again changes nothing.
   */
  roll(sessionStart: number): void {
    if (!Number.isFinite(sessionStart))
      throw new RangeError(`sessionStart must be epoch ms, got ${sessionStart}`);
    if (sessionStart === this.#start) return;
    this.#start = sessionStart;
    for (const s of this.#series.values()) {
      s.closes.fill(Number.NaN);
      s.settled.fill(0);
      s.last = -1;
    }
    this.#version++;
    this.#resetVersion = this.#version;
    this.#jCount = 0;
    this.#jSymbol.fill(undefined);
  }

  /**
   * Fills `symbol` from REST 1-minute bars of the session starting at `sessionStart` (rolling to it
   * when it is newer than the one held). Bars outside the window are skipped; a bar replaces what a
   * slot held. `fetchedUntil` is the end of the request the bars answer (epoch ms, exclusive): the
   * minutes up to it are settled, empty or not. Without it, the minutes up to the last bar are.
   * Returns false, changing nothing, for a session older than the one held or a symbol over
   * `maxSymbols`.
   */
  seed(
    symbol: string,
    bars: readonly RestBar[],
    sessionStart: number,
    fetchedUntil?: number,
  ): boolean {
    if (this.#start !== undefined && sessionStart < this.#start) {
      this.#log.debug(
        { symbol, sessionStart, held: this.#start },
        'seed for an older session ignored',
      );
      return false;
    }
    this.roll(sessionStart);
    const series = this.#ensure(symbol);
    if (!series) return false;
    const low = this.#writeBars(series, bars);
    let until = fetchedUntil;
    if (until === undefined) {
      const lastBar = bars.reduce((max, b) => Math.max(max, b.time), Number.NEGATIVE_INFINITY);
      until = lastBar + MINUTE_MS;
    }
    this.#settle(series, sessionStart, until);
    if (low < this.slots) this.#journal(symbol, low);
    return true;
  }

  /**
   * One live minute bar (the stream's `b`, or its `u` correction of a minute already sent, which
   * replaces it). Creates the series of a symbol not yet held. Returns false when there is no
   * session yet, the bar falls outside the window, its close is not a finite number, or the symbol
   * is over `maxSymbols`.
   */
  applyMinuteBar(symbol: string, bar: Pick<RestBar, 'time' | 'close'>): boolean {
    const slot = this.#slotOf(bar.time);
    if (slot === undefined || !Number.isFinite(bar.close)) return false;
    const series = this.#ensure(symbol);
    if (!series) return false;
    series.closes[slot] = bar.close;
    setBit(series.settled, slot);
    if (slot > series.last) series.last = slot;
    this.#journal(symbol, slot);
    return true;
  }

  /**
   * Marks `[from, to)` settled for these symbols without data: the stream was connected and
   * subscribed then, so a minute without a bar had no trades. The service calls it when a
   * connection ends, with the time it was up; gap repair then asks only for the time it was down.
   */
  markCovered(symbols: Iterable<string>, from: number, to: number): void {
    for (const symbol of symbols) {
      const series = this.#series.get(symbol);
      if (series) this.#settle(series, from, to);
    }
  }

  /** A copy of `symbol`'s closes, or undefined when it is not held or there is no session. */
  series(symbol: string): SparklineSeries | undefined {
    const s = this.#series.get(symbol);
    if (!s || this.#start === undefined) return undefined;
    return {
      symbol,
      start: this.#start,
      stepMs: MINUTE_MS,
      closes: s.closes.slice(),
      version: this.#version,
    };
  }

  /**
   * What changed after `version` (a view's cursor: the `version` of its last series or changes):
   * per symbol, the closes from the lowest slot changed to the last slot held. A cursor older than
   * the journal or than the last roll gets a reset with every series whole.
   */
  changesSince(version: number): SparklineChanges {
    const start = this.#start;
    if (version >= this.#version)
      return { version: this.#version, start, reset: false, changes: [] };
    const capacity = this.#jVersion.length;
    const oldest =
      this.#jCount > 0
        ? this.#jVersion[(this.#jHead - this.#jCount + capacity) % capacity]!
        : Infinity;
    // Every change after `version` must still be in the journal: the record right after the cursor
    // (version + 1) at the latest, or the journal has lost some.
    const lost = this.#jCount === capacity && oldest > version + 1;
    if (version < this.#resetVersion || lost) {
      const changes: SparklineDelta[] = [];
      for (const [symbol, s] of this.#series) {
        if (s.last >= 0) changes.push({ symbol, from: 0, closes: toList(s.closes, 0, s.last) });
      }
      return { version: this.#version, start, reset: true, changes };
    }
    const lowest = new Map<string, number>();
    for (let n = 0; n < this.#jCount; n++) {
      const i = (this.#jHead - 1 - n + capacity) % capacity;
      if (this.#jVersion[i]! <= version) break;
      const symbol = this.#jSymbol[i]!;
      const slot = this.#jSlot[i]!;
      const seen = lowest.get(symbol);
      if (seen === undefined || slot < seen) lowest.set(symbol, slot);
    }
    const changes: SparklineDelta[] = [];
    for (const [symbol, from] of lowest) {
      const s = this.#series.get(symbol);
      // Dropped by retain since: the view no longer shows it.
      if (!s || s.last < from) continue;
      changes.push({ symbol, from, closes: toList(s.closes, from, s.last) });
    }
    return { version: this.#version, start, reset: false, changes };
  }

  /**
   * `symbol`'s unsettled minutes from the session start up to the last whole minute before `now`
   * (the current minute's bar is not out yet), as ranges of epoch ms. A symbol not held is one
   * gap from the start: it has never been fetched. Empty before the first session.
   */
  gaps(symbol: string, now: number): MinuteRange[] {
    const start = this.#start;
    if (start === undefined) return [];
    const end = Math.min(this.slots, Math.floor((now - start) / MINUTE_MS));
    const out: MinuteRange[] = [];
    const series = this.#series.get(symbol);
    if (!series) {
      if (end > 0) out.push({ from: start, to: start + end * MINUTE_MS });
      return out;
    }
    let from = -1;
    for (let slot = 0; slot < end; slot++) {
      const open = !hasBit(series.settled, slot);
      if (open && from < 0) from = slot;
      if (!open && from >= 0) {
        out.push({ from: start + from * MINUTE_MS, to: start + slot * MINUTE_MS });
        from = -1;
      }
    }
    if (from >= 0) out.push({ from: start + from * MINUTE_MS, to: start + end * MINUTE_MS });
    return out;
  }

  /**
   * The bars requests that fill every gap of these symbols: symbols with the same gap share one
   * request (after a reconnect that is usually one request for all), and when more than
   * `maxRepairRequests` distinct gaps remain, the closest are merged (a merged request may fetch
   * minutes already held: harmless, they are written again). In start order, symbols sorted.
   * Symbols not held yet are tracked from here on (all their session is one gap); over
   * `maxSymbols` they are left out.
   */
  planRepair(symbols: Iterable<string>, now: number): RepairRequest[] {
    const groups = new Map<string, { from: number; to: number; symbols: Set<string> }>();
    if (this.#start === undefined) return [];
    for (const symbol of new Set(symbols)) {
      // Planning for a symbol starts tracking it (an empty series), so that its repair lands and
      // a symbol dropped by `retain` while its request was out does not come back.
      if (!this.#ensure(symbol)) continue;
      for (const gap of this.gaps(symbol, now)) {
        const key = `${gap.from}:${gap.to}`;
        let group = groups.get(key);
        if (!group) groups.set(key, (group = { ...gap, symbols: new Set() }));
        group.symbols.add(symbol);
      }
    }
    const sorted = [...groups.values()].sort((a, b) => a.from - b.from || a.to - b.to);
    const merged = mergeClosest(sorted, this.#maxRepairRequests);
    return merged.map((g) => {
      const request = { start: g.from, end: g.to, symbols: [...g.symbols].sort() };
      const series = new Map<string, Series>();
      for (const symbol of request.symbols) {
        const s = this.#series.get(symbol);
        if (s) series.set(symbol, s);
      }
      this.#planned.set(request, series);
      return request;
    });
  }

  /**
   * Applies what a repair request brought: the bars of its symbols, and its whole range settled
   * for them, bars or not (the minutes that came back empty had no trades and are not asked again).
   * Call it only when the request succeeded; a failed one stays a gap for the next plan. Symbols
   * dropped since the plan are skipped, and so are bars outside the session (a roll since) and a
   * bar at the request's end or later (`end` is exclusive here, inclusive at Alpaca).
   */
  applyRepair(request: RepairRequest, bars: ReadonlyMap<string, readonly RestBar[]>): void {
    this.writeRepair(request, bars);
    this.settleRepair(request);
  }

  /**
   * Part of a repair's answer (one page of bars, say): its closes are written and journalled now,
   * and the range is settled by `settleRepair` once the whole answer is in. Together they do what
   * `applyRepair` does, without the answer ever being held whole.
   */
  writeRepair(request: RepairRequest, bars: ReadonlyMap<string, readonly RestBar[]>): void {
    if (this.#start === undefined) return;
    for (const symbol of request.symbols) {
      const list = bars.get(symbol);
      if (list === undefined) continue;
      const series = this.#series.get(symbol);
      if (!series) continue;
      // Alpaca's `end` is inclusive: a bar at the request's end is the minute after its range,
      // often the one in progress, half made. Settled here, it would never be asked for again.
      const low = this.#writeBars(series, list, request.end);
      if (low < this.slots) this.#journal(symbol, low);
    }
  }

  /**
   * The repaired range is settled for every symbol of the request, whatever came back; not for
   * one dropped and tracked again since the plan (a request this history planned knows), whose
   * new series may have missed a page.
   */
  settleRepair(request: RepairRequest): void {
    if (this.#start === undefined) return;
    const planned = this.#planned.get(request);
    for (const symbol of request.symbols) {
      const series = this.#series.get(symbol);
      if (!series) continue;
      if (planned !== undefined && planned.get(symbol) !== series) continue;
      this.#settle(series, request.start, request.end);
    }
  }

  /** Keeps only these symbols (the union of all watchlists); returns the ones dropped. */
  retain(symbols: Iterable<string>): string[] {
    const keep = new Set(symbols);
    const dropped: string[] = [];
    for (const symbol of this.#series.keys()) {
      if (!keep.has(symbol)) {
        this.#series.delete(symbol);
        dropped.push(symbol);
      }
    }
    if (this.#series.size < this.maxSymbols) this.#refusedLogged = false;
    return dropped;
  }

  #ensure(symbol: string): Series | undefined {
    let series = this.#series.get(symbol);
    if (series) return series;
    if (this.#series.size >= this.maxSymbols) {
      if (!this.#refusedLogged) {
        this.#refusedLogged = true;
        this.#log.warn(
          { symbol, maxSymbols: this.maxSymbols },
          'history full; no sparkline for further symbols',
        );
      }
      return undefined;
    }
    series = {
      closes: new Float32Array(this.slots).fill(Number.NaN),
      settled: new Uint32Array(Math.ceil(this.slots / 32)),
      last: -1,
    };
    this.#series.set(symbol, series);
    return series;
  }

  /**
   * Writes bars into their slots, none from `before` on; returns the lowest slot written, or
   * `slots` for none.
   */
  #writeBars(series: Series, bars: readonly RestBar[], before = Infinity): number {
    let low = this.slots;
    for (const bar of bars) {
      if (bar.time >= before) continue;
      const slot = this.#slotOf(bar.time);
      if (slot === undefined || !Number.isFinite(bar.close)) continue;
      series.closes[slot] = bar.close;
      setBit(series.settled, slot);
      if (slot > series.last) series.last = slot;
      if (slot < low) low = slot;
    }
    return low;
  }

  /** Settles the whole minutes of `[from, to)` that fall in the window. */
  #settle(series: Series, from: number, to: number): void {
    const start = this.#start;
    if (start === undefined || !Number.isFinite(from) || !Number.isFinite(to)) return;
    const first = Math.max(0, Math.ceil((from - start) / MINUTE_MS));
    const end = Math.min(this.slots, Math.floor((to - start) / MINUTE_MS));
    for (let slot = first; slot < end; slot++) setBit(series.settled, slot);
  }

  #slotOf(time: number): number | undefined {
    const start = this.#start;
    if (start === undefined || !Number.isFinite(time)) return undefined;
    const slot = Math.floor((time - start) / MINUTE_MS);
    return slot >= 0 && slot < this.slots ? slot : undefined;
  }

  #journal(symbol: string, slot: number): void {
    const capacity = this.#jVersion.length;
    this.#version++;
    this.#jVersion[this.#jHead] = this.#version;
    this.#jSlot[this.#jHead] = slot;
    this.#jSymbol[this.#jHead] = symbol;
    this.#jHead = (this.#jHead + 1) % capacity;
    if (this.#jCount < capacity) this.#jCount++;
  }
}

/**
 * Merges sorted ranges into at most `max` groups by cutting at the `max - 1` widest separations
 * between them (overlapping ranges are never cut apart), so the fewest extra minutes are fetched.
 */
function mergeClosest<G extends { from: number; to: number; symbols: Set<string> }>(
  sorted: readonly G[],
  max: number,
): { from: number; to: number; symbols: Set<string> }[] {
  if (sorted.length <= max) return [...sorted];
  const separations: { at: number; width: number }[] = [];
  let reach = sorted[0]!.to;
  for (let i = 1; i < sorted.length; i++) {
    const g = sorted[i]!;
    separations.push({ at: i, width: g.from - reach });
    reach = Math.max(reach, g.to);
  }
  const cuts = new Set(
    separations
      .filter((s) => s.width > 0)
      .sort((a, b) => b.width - a.width || a.at - b.at)
      .slice(0, max - 1)
      .map((s) => s.at),
  );
  const out: { from: number; to: number; symbols: Set<string> }[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const g = sorted[i]!;
    const current = out[out.length - 1];
    if (!current || cuts.has(i)) {
      out.push({ from: g.from, to: g.to, symbols: new Set(g.symbols) });
    } else {
      current.to = Math.max(current.to, g.to);
      for (const s of g.symbols) current.symbols.add(s);
    }
  }
  return out;
}

function toList(closes: Float32Array, from: number, last: number): (number | null)[] {
  const out: (number | null)[] = [];
  for (let i = from; i <= last; i++) {
    const v = closes[i]!;
    out.push(Number.isNaN(v) ? null : v);
  }
  return out;
}

function setBit(bits: Uint32Array, slot: number): void {
  bits[slot >>> 5]! |= 1 << (slot & 31);
}

function hasBit(bits: Uint32Array, slot: number): boolean {
  return (bits[slot >>> 5]! & (1 << (slot & 31))) !== 0;
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
