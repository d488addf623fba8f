/**
 * Section 3, frames: what one frame costs to build and to structured-clone, for 500 and for 5,000
 * changed symbols, as our columnar QuoteFrame (symbol ids and one block of values, the strings sent
 * once per view: shared/frame.ts) against an array of row objects.
 *
 * How. A real QuoteBook holds 5,000 symbols and one cursor. A bench-local baseline holds the same
 * symbols as one mutable row object each, with its own dirty list, and builds its frame as an
 * array of fresh {symbol, bidPrice, ..., receivedAt} objects (a snapshot: the live rows keep
 * changing after the frame is sent). Per iteration, K distinct symbols get one fresh quote and one
 * fresh trade, applied to both (not timed, same objects, same clock reading), then each side is
 * timed separately: build (QuoteBook cursor take() / the baseline's take()) and clone
 * (structuredClone: Electron's MessagePort postMessage is the structured clone algorithm). The two
 * frames are then checked to carry the same rows and values (not timed; the columnar frame's ids
 * resolved through a SymbolTable, as a view does), so the comparison is of format only. Which side goes first alternates every round. For reference the columnar frame is
 * also encoded with shared/frame-codec.ts encodeFrame (browser mode's binary frame), and both
 * frames go through v8.serialize/deserialize as a cross-check of the clone figure; `bytes` is the
 * v8.serialize length (the structured clone wire size) or the encoded length.
 *
 * Everything runs in this process on the monotonic performance.now() clock; figures are medians
 * and p95 over many iterations, in microseconds.
 */
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { QuoteBook } from '../electron/stream/book.ts';
import { encodeFrame } from '../shared/frame-codec.ts';
import { FRAME_COLUMNS, SymbolTable, type QuoteFrame } from '../shared/frame.ts';
import { timeToEpochMs, type Quote, type Trade } from '../shared/market.ts';
import { median, percentile } from './lib/stats.ts';
import {
  target,
  type BenchContext,
  type Section,
  type SectionResult,
  type Table,
} from './lib/report.ts';

const SYMBOLS = 5_000;
const SIZES = [500, 5_000] as const;

/** One row of the object-array frame: the QuoteFrame's columns as properties. */
interface QuoteRow {
  symbol: string;
  bidPrice: number;
  bidSize: number;
  askPrice: number;
  askSize: number;
  quoteTime: number;
  lastPrice: number;
  lastSize: number;
  tradeTime: number;
  volume: number;
  refPrice: number;
  receivedAt: number;
  prevClose: number;
  dayOpen: number;
  dayHigh: number;
  dayLow: number;
  polledAt: number;
}

/** The baseline's frame: QuoteFrame's envelope around an array of row objects. */
interface ObjectFrame {
  readonly seq: number;
  readonly builtAt: number;
  readonly conflated: number;
  readonly full: boolean;
  readonly rows: QuoteRow[];
}

/**
 * The natural object design of the same book: one mutable row per symbol, a dirty list, and a
 * take() that snapshots the dirty rows as new objects. Same semantics as QuoteBook for quotes and
 * trades (latest wins, volume adds trade sizes, refPrice = first trade), so both frames match.
 */
class ObjectBook {
  readonly #rows = new Map<string, QuoteRow>();
  #dirty: QuoteRow[] = [];
  readonly #isDirty = new Set<QuoteRow>();
  #seq = 0;
  #conflated = 0;
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  #row(symbol: string): QuoteRow {
    let row = this.#rows.get(symbol);
    if (row === undefined) {
      row = {
        symbol,
        bidPrice: NaN,
        bidSize: NaN,
        askPrice: NaN,
        askSize: NaN,
        quoteTime: NaN,
        lastPrice: NaN,
        lastSize: NaN,
        tradeTime: NaN,
        volume: NaN,
        refPrice: NaN,
        receivedAt: NaN,
        prevClose: NaN,
        dayOpen: NaN,
        dayHigh: NaN,
        dayLow: NaN,
        polledAt: NaN,
      };
      this.#rows.set(symbol, row);
    }
    return row;
  }

  #touch(row: QuoteRow): void {
    if (this.#isDirty.has(row)) {
      this.#conflated++;
      return;
    }
    this.#isDirty.add(row);
    this.#dirty.push(row);
  }

  applyQuote(q: Quote): void {
    const row = this.#row(q.symbol);
    row.bidPrice = q.bidPrice;
    row.bidSize = q.bidSize;
    row.askPrice = q.askPrice;
    row.askSize = q.askSize;
    row.quoteTime = q.timeMs;
    row.receivedAt = this.#now();
    this.#touch(row);
  }

  applyTrade(t: Trade): void {
    const row = this.#row(t.symbol);
    row.lastPrice = t.price;
    row.lastSize = t.size;
    row.tradeTime = t.timeMs;
    row.volume = (Number.isNaN(row.volume) ? 0 : row.volume) + t.size;
    if (Number.isNaN(row.refPrice)) row.refPrice = t.price;
    row.receivedAt = this.#now();
    this.#touch(row);
  }

  /** The dirty rows as fresh objects, in the order they first changed. */
  take(): ObjectFrame {
    const dirty = this.#dirty;
    // Built by push, so the array is packed: structured clone writes a holey array (new Array(n))
    // as a sparse one, key by key, several times slower.
    const rows: QuoteRow[] = [];
    for (let i = 0; i < dirty.length; i++) {
      const r = dirty[i]!;
      rows.push({
        symbol: r.symbol,
        bidPrice: r.bidPrice,
        bidSize: r.bidSize,
        askPrice: r.askPrice,
        askSize: r.askSize,
        quoteTime: r.quoteTime,
        lastPrice: r.lastPrice,
        lastSize: r.lastSize,
        tradeTime: r.tradeTime,
        volume: r.volume,
        refPrice: r.refPrice,
        receivedAt: r.receivedAt,
        prevClose: r.prevClose,
        dayOpen: r.dayOpen,
        dayHigh: r.dayHigh,
        dayLow: r.dayLow,
        polledAt: r.polledAt,
      });
    }
    this.#dirty = [];
    this.#isDirty.clear();
    const conflated = this.#conflated;
    this.#conflated = 0;
    return { seq: ++this.#seq, builtAt: this.#now(), conflated, full: false, rows };
  }
}

/** A seeded generator (mulberry32), so every run applies the same updates. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** RFC 3339 with nanoseconds, as Alpaca sends it. */
function nanoTime(epochMs: number, nanos: number): string {
  const iso = new Date(Math.floor(epochMs)).toISOString();
  return `${iso.slice(0, -1)}${String(nanos % 1_000_000).padStart(6, '0')}Z`;
}

function symbolName(i: number): string {
  // Four letters, like most tickers: AAAA, AAAB, ...
  let s = '';
  let n = i;
  for (let k = 0; k < 4; k++) {
    s = String.fromCharCode(65 + (n % 26)) + s;
    n = Math.floor(n / 26);
  }
  return s;
}

function makeQuote(symbol: string, mid: number, time: string): Quote {
  return {
    kind: 'quote',
    symbol,
    bidExchange: 'V',
    bidPrice: Math.round((mid - 0.01) * 100) / 100,
    bidSize: 100,
    askExchange: 'Q',
    askPrice: Math.round((mid + 0.01) * 100) / 100,
    askSize: 300,
    conditions: ['R'],
    time,
    timeMs: timeToEpochMs(time),
    tape: 'C',
  };
}

function makeTrade(symbol: string, price: number, size: number, id: number, time: string): Trade {
  return {
    kind: 'trade',
    symbol,
    id: String(id),
    exchange: 'V',
    price: Math.round(price * 100) / 100,
    size,
    conditions: ['@'],
    time,
    timeMs: timeToEpochMs(time),
    tape: 'C',
    takerSide: undefined,
  };
}

/**
 * Throws unless both frames carry the same rows, in the same order, with the same values. `table`
 * has learned every earlier frame of the cursor; this learns `frame`.
 */
function checkSame(frame: QuoteFrame, objects: ObjectFrame, table: SymbolTable): void {
  table.learn(frame);
  const n = frame.rows.length;
  if (objects.rows.length !== n) {
    throw new Error(`frames differ: ${n} columnar rows, ${objects.rows.length} objects`);
  }
  for (let i = 0; i < n; i++) {
    const row = objects.rows[i]!;
    if (row.symbol !== table.symbolOf(frame.rows[i]!)) {
      throw new Error(`frames differ at row ${i}: symbol`);
    }
    FRAME_COLUMNS.forEach((col, k) => {
      if (!Object.is(row[col], frame.values[k * n + i])) {
        throw new Error(`frames differ at row ${i} (${row.symbol}): ${col}`);
      }
    });
  }
}

interface Samples {
  build: number[];
  clone: number[];
  total: number[];
  bytes: number;
}

function samples(): Samples {
  return { build: [], clone: [], total: [], bytes: 0 };
}

/** The cross-check pass: node:v8's serializer on both frames, and the columnar clone split. */
interface CrossCheck {
  v8Columnar: number[];
  v8Objects: number[];
  /** The ids and values: the frame's one buffer, through its values view. */
  cloneValues: number[];
  /** The K symbol strings a frame of the previous format carried on every frame, packed array. */
  cloneSymbols: number[];
}

function us(ms: number): number {
  return ms * 1000;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/**
 * A window pulls one frame per painted frame: 16 ms at 60 Hz. The paced runs take one frame per
 * PACE_MS like the app, and spend the time in between the way the app's main process does under
 * a full feed: applying quotes (to a scratch book of the same size, so the measured frame's rows
 * stay exactly K). Sleeping instead would measure an idle process waking up (CPU frequency, cold
 * caches), which main at feed rate never is. Back to back they run as fast as they can, which keeps
 * caches warm but also allocates ArrayBuffers tens of times faster than the app ever does
 * (charging the GC work that causes to the timed steps). Both are reported; the target uses the
 * paced figure.
 */
const PACE_MS = 16;

interface Measured {
  readonly columnar: Samples;
  readonly objects: Samples;
  readonly encoded: Samples;
}

export const run: Section = (ctx) => Promise.resolve(measureFrames(ctx));

function measureFrames(ctx: BenchContext): SectionResult {
  const warmup = ctx.quick ? 30 : 100;
  const rounds: Readonly<Record<number, number>> = ctx.quick
    ? { 500: 300, 5000: 120 }
    : { 500: 1500, 5000: 500 };

  // One clock for both books, set before each update, so receivedAt and builtAt match.
  let clock = Date.UTC(2025, 0, 6, 15, 0, 0);
  const now = (): number => clock;
  const book = new QuoteBook({ now, maxSymbols: SYMBOLS });
  const objects = new ObjectBook(now);
  const symbols = Array.from({ length: SYMBOLS }, (_, i) => symbolName(i));
  const mid = Float64Array.from({ length: SYMBOLS }, (_, i) => 20 + (i % 400));
  const random = rng(5);
  let tradeId = 1;

  const update = (i: number): void => {
    clock += 0.001;
    mid[i] = Math.max(1, mid[i]! + (random() - 0.5) * 0.1);
    const time = nanoTime(clock, tradeId);
    const sym = symbols[i]!;
    const q = makeQuote(sym, mid[i], time);
    const t = makeTrade(sym, mid[i], 1 + Math.floor(random() * 500), tradeId++, time);
    book.applyQuote(q);
    objects.applyQuote(q);
    book.applyTrade(t);
    objects.applyTrade(t);
  };

  // Every symbol has a row and values before the measured frames; the first (full) frame and the
  // baseline's first snapshot are taken and dropped.
  for (let i = 0; i < SYMBOLS; i++) update(i);
  const cursor = book.cursor();
  const table = new SymbolTable();
  table.learn(cursor.take());
  objects.take();

  /** Feed work between paced frames: quotes into a scratch book until `until` (performance.now). */
  const scratch = new QuoteBook({ now, maxSymbols: SYMBOLS });
  let scratchNext = 0;
  const feedUntil = (until: number): void => {
    while (performance.now() < until) {
      for (let r = 0; r < 64; r++) {
        const i = scratchNext;
        scratchNext = (scratchNext + 7919) % SYMBOLS;
        scratch.applyQuote(makeQuote(symbols[i]!, mid[i]!, nanoTime(clock, tradeId)));
      }
    }
  };

  /** K distinct symbols in random order (a partial Fisher-Yates shuffle), updated in both books. */
  const order = Array.from({ length: SYMBOLS }, (_, i) => i);
  const pick = (k: number): void => {
    for (let j = 0; j < k; j++) {
      const r = j + Math.floor(random() * (SYMBOLS - j));
      const a = order[j]!;
      order[j] = order[r]!;
      order[r] = a;
      update(order[j]!);
    }
  };

  let sink = 0;
  const timeColumnar = (into: Samples | undefined): QuoteFrame => {
    const t0 = performance.now();
    const frame = cursor.take();
    const t1 = performance.now();
    const copy = structuredClone(frame);
    const t2 = performance.now();
    sink += copy.rows.length;
    if (into) {
      into.build.push(us(t1 - t0));
      into.clone.push(us(t2 - t1));
      into.total.push(us(t2 - t0));
    }
    return frame;
  };
  const timeObjects = (into: Samples | undefined): ObjectFrame => {
    const t0 = performance.now();
    const frame = objects.take();
    const t1 = performance.now();
    const copy = structuredClone(frame);
    const t2 = performance.now();
    sink += copy.rows.length;
    if (into) {
      into.build.push(us(t1 - t0));
      into.clone.push(us(t2 - t1));
      into.total.push(us(t2 - t0));
    }
    return frame;
  };

  /** One series for K changed symbols: one frame each way per round, then the binary encoding. */
  const measure = (k: number, paceMs: number, count: number): Measured => {
    const col = samples();
    const obj = samples();
    const enc = samples();
    for (let round = 0; round < warmup + count; round++) {
      const started = performance.now();
      pick(k);
      const keep = round >= warmup;
      let frame: QuoteFrame;
      let rows: ObjectFrame;
      if (round % 2 === 0) {
        frame = timeColumnar(keep ? col : undefined);
        rows = timeObjects(keep ? obj : undefined);
      } else {
        rows = timeObjects(keep ? obj : undefined);
        frame = timeColumnar(keep ? col : undefined);
      }
      if (frame.rows.length !== k) {
        throw new Error(`expected a frame of ${k} rows, got ${frame.rows.length}`);
      }
      checkSame(frame, rows, table);

      // Browser mode's binary frame, for reference (its build is the same take()).
      const e0 = performance.now();
      const bytes = encodeFrame(frame);
      const e1 = performance.now();
      sink += bytes.byteLength;
      if (keep) {
        const b = col.build[col.build.length - 1]!;
        enc.build.push(b);
        enc.clone.push(us(e1 - e0));
        enc.total.push(b + us(e1 - e0));
        enc.bytes = bytes.byteLength;
      }
      if (paceMs > 0) feedUntil(started + paceMs);
    }
    return { columnar: col, objects: obj, encoded: enc };
  };

  /**
   * Apart from the measured rounds, so that its allocations do not lengthen the measured frames'
   * lives: node:v8's serializer on both frames (serialize is main's half of postMessage,
   * deserialize the page's), and where the columnar clone goes (its one buffer), beside what the
   * K symbol strings of the previous format cost. Also records the v8.serialize length of both
   * frames (`bytes`).
   */
  const crossCheck = (k: number, count: number, col: Samples, obj: Samples): CrossCheck => {
    const check: CrossCheck = {
      v8Columnar: [],
      v8Objects: [],
      cloneValues: [],
      cloneSymbols: [],
    };
    for (let round = 0; round < warmup + count; round++) {
      pick(k);
      const keep = round >= warmup;
      const frame = cursor.take();
      const rows = objects.take();
      table.learn(frame);
      const v0 = performance.now();
      const wireC = v8.serialize(frame);
      sink += (v8.deserialize(wireC) as QuoteFrame).rows.length;
      const v1 = performance.now();
      const wireO = v8.serialize(rows);
      sink += (v8.deserialize(wireO) as ObjectFrame).rows.length;
      const v2 = performance.now();
      const packed: string[] = [];
      for (const id of frame.rows) packed.push(table.symbolOf(id)!);
      const c0 = performance.now();
      sink += structuredClone(frame.values).length;
      const c1 = performance.now();
      sink += structuredClone(packed).length;
      const c2 = performance.now();
      if (keep) {
        check.v8Columnar.push(us(v1 - v0));
        check.v8Objects.push(us(v2 - v1));
        check.cloneValues.push(us(c1 - c0));
        check.cloneSymbols.push(us(c2 - c1));
        col.bytes = wireC.byteLength;
        obj.bytes = wireO.byteLength;
      }
    }
    return check;
  };

  const paced: Record<number, Measured> = {};
  const backToBack: Record<number, Measured> = {};
  const checks: Record<number, CrossCheck> = {};
  for (const k of SIZES) {
    ctx.log(
      `frames: ${k} changed symbols, ${rounds[k]} rounds one per ${PACE_MS} ms, then back to back (+${warmup} warm-up each)`,
    );
    paced[k] = measure(k, PACE_MS, rounds[k]!);
    backToBack[k] = measure(k, 0, rounds[k]!);
    checks[k] = crossCheck(
      k,
      Math.max(20, Math.floor(rounds[k]! / 4)),
      paced[k].columnar,
      paced[k].objects,
    );
    backToBack[k].columnar.bytes = paced[k].columnar.bytes;
    backToBack[k].objects.bytes = paced[k].objects.bytes;
  }
  if (sink < 0) ctx.log(String(sink)); // keeps every result observably used

  const summary = (s: Samples) => ({
    buildP50: median(s.build),
    buildP95: percentile(s.build, 95),
    cloneP50: median(s.clone),
    cloneP95: percentile(s.clone, 95),
    totalP50: median(s.total),
    totalP95: percentile(s.total, 95),
    bytes: s.bytes,
    n: s.total.length,
  });

  const mainRows: (string | number | null)[][] = [];
  const ratioRows: (string | number | null)[][] = [];
  const checkRows: (string | number | null)[][] = [];
  const details: Record<string, unknown> = {};
  for (const k of SIZES) {
    const p = paced[k]!;
    const b = backToBack[k]!;
    const c = summary(p.columnar);
    const o = summary(p.objects);
    const e = summary(p.encoded);
    const bc = summary(b.columnar);
    const bo = summary(b.objects);
    const be = summary(b.encoded);
    const x = checks[k]!;
    const cross = {
      v8Columnar: median(x.v8Columnar),
      v8Objects: median(x.v8Objects),
      cloneBufferOnly: median(x.cloneValues),
      cloneSymbolStrings: median(x.cloneSymbols),
      n: x.v8Columnar.length,
    };
    details[String(k)] = {
      paced: { columnar: c, objects: o, encodeFrame: e },
      backToBack: { columnar: bc, objects: bo, encodeFrame: be },
      crossCheck: cross,
    };
    const line = (
      label: string,
      second: string,
      s: ReturnType<typeof summary>,
      b2b: ReturnType<typeof summary>,
    ): (string | number | null)[] => [
      k,
      label,
      round1(s.buildP50),
      round1(s.buildP95),
      second,
      round1(s.cloneP50),
      round1(s.cloneP95),
      round1(s.totalP50),
      round1(s.totalP95),
      round1(b2b.totalP50),
      s.bytes,
    ];
    mainRows.push(line('columnar (QuoteFrame)', 'structuredClone', c, bc));
    mainRows.push(line('array of objects', 'structuredClone', o, bo));
    mainRows.push(line('columnar, binary (browser)', 'encodeFrame', e, be));
    ratioRows.push([
      k,
      round1(o.buildP50 / c.buildP50),
      round1(o.cloneP50 / c.cloneP50),
      round1(o.totalP50 / c.totalP50),
      round1(bo.totalP50 / bc.totalP50),
      round1(o.bytes / c.bytes),
    ]);
    checkRows.push([
      k,
      round1(cross.v8Columnar),
      round1(cross.v8Objects),
      round1(cross.cloneBufferOnly),
      round1(cross.cloneSymbolStrings),
    ]);
  }

  const tables: Table[] = [
    {
      title: 'Frames: build and serialize one frame (µs)',
      columns: [
        'changed',
        'format',
        'build p50',
        'build p95',
        'then',
        'p50',
        'p95',
        'build+then p50',
        'build+then p95',
        'back to back: build+then p50',
        'bytes',
      ],
      rows: mainRows,
      note:
        `Book of ${SYMBOLS} symbols, one cursor; per round K distinct symbols get a quote and a trade (not timed), ` +
        `then one frame each way, which goes first alternating. One round per ${PACE_MS} ms as a window pulls; the ` +
        `back-to-back column repeats the series with no pause. Medians / p95 over ${rounds[500]} (K=500) and ` +
        `${rounds[5000]} (K=5000) rounds after ${warmup} warm-up. "then" = structuredClone (what MessagePort ` +
        'postMessage does) or encodeFrame (browser mode). bytes = v8.serialize length or encoded length.',
    },
    {
      title: 'Frames: array of objects / columnar (medians)',
      columns: ['changed', 'build', 'clone', 'build+clone', 'build+clone back to back', 'bytes'],
      rows: ratioRows,
      note: 'Above 1 means the array of objects costs more than the columnar frame.',
    },
    {
      title: 'Frames: cross-check and where the columnar clone goes (µs, medians, back to back)',
      columns: [
        'changed',
        'v8 ser+deser columnar',
        'v8 ser+deser objects',
        'clone ids+values buffer only',
        `clone K symbol strings (previous format)`,
      ],
      rows: checkRows,
      note:
        'A separate pass (a quarter of the rounds): node:v8 serialize+deserialize of the same frames; structuredClone ' +
        "of the columnar frame's one buffer (ids and values, through its values view); and of the frame's K symbols as " +
        'a packed array of strings, which the previous format (version 2) cloned with every frame and this one sends ' +
        'once per view.',
    },
  ];

  return {
    name: 'frames',
    tables,
    targets: [
      // Issue 13's target: the paced figure (the app's rhythm), median of build + clone.
      target(
        'frames: 500 changed symbols, paced, build + clone p50',
        round1(median(paced[500]!.columnar.total)),
        '<=',
        100,
        'µs',
      ),
    ],
    details: { symbols: SYMBOLS, warmup, rounds, paceMs: PACE_MS, sizes: details },
  };
}
