/**
 * The book's frames, pinned byte for byte: seeded random sequences of quotes, trades, daily and
 * minute bars, snapshots, poll marks, retains, clears and cursors opening, taking and closing are
 * applied to a QuoteBook, and every frame taken (as shared/frame-codec.ts encodes it, so symbols,
 * order, values, NaNs, seq, builtAt, conflated and `full` all count) and every `value()` read is
 * compared with a recording made from the columnar book before its storage became row-major
 * (test/unit/stream/book-golden.json). A change of storage must not change a single byte.
 *
 * The recording pins what each frame says, not its wire format: frames now name symbols by id
 * (shared/frame.ts, codec version 3), so each cursor's frames are read through a symbol table, as a
 * view reads them, and digested in the layout the recording was made with (codec version 2: the
 * symbol of every row, then the columns). The recording was left exactly as it was when the frame
 * format changed: the same lines prove the same symbols, order and values reach every view. Every
 * frame must also survive the version 3 codec (encode, decode, resolve) unchanged.
 *
 * To re-record after a deliberate change of the book's behaviour (never to make this pass after a
 * storage change): BOOK_GOLDEN_RECORD=1 npx vitest run test/unit/stream/book-golden.test.ts
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RestBar, SymbolSnapshot } from '../../../electron/rest/types.ts';
import { mulberry32 } from '../../../electron/simulator/market-walk.ts';
import { QuoteBook, type BookCursor } from '../../../electron/stream/book.ts';
import { decodeFrame, encodeFrame } from '../../../shared/frame-codec.ts';
import { FRAME_COLUMNS, SymbolTable, type QuoteFrame } from '../../../shared/frame.ts';
import type { Bar, Quote, Trade } from '../../../shared/market.ts';

const GOLDEN = new URL('./book-golden.json', import.meta.url);
/**
 * Seeds, each with its universe and row limit: small books conflate and overflow often; the last
 * grows its storage twice (64 rows at first) and compacts it under retain.
 */
const RUNS = [
  { seed: 1, symbols: 36, max: 28 },
  { seed: 2, symbols: 36, max: 28 },
  { seed: 42, symbols: 300, max: 240 },
] as const;
const STEPS = 2_500;
const DAY = 86_400_000;
const D0 = Date.UTC(2026, 11, 3, 5);
/** Float bits as hex, so that -0, NaN payloads and the last ulp are all compared. */
function bits(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x, true);
  return view.getBigUint64(0, true).toString(16);
}

/**
 * `frame` with its ids resolved through `table` (which learns it), in codec version 2's layout:
 * magic, version 2, flags, row count, symbol table length, seq, builtAt, conflated, then per row
 * its symbol (u16 length + bytes; the universe is ASCII), zero padding to 8, and the columns.
 */
function legacyBytes(frame: QuoteFrame, table: SymbolTable): Uint8Array {
  table.learn(frame);
  const symbols = table.symbolsOf(frame).map((s, i) => {
    if (s === undefined) throw new Error(`frame ${frame.seq} row ${i}: unknown symbol id`);
    return s;
  });
  const n = symbols.length;
  const tableBytes = symbols.reduce((sum, s) => sum + 2 + s.length, 0);
  const columnsAt = Math.ceil((40 + tableBytes) / 8) * 8;
  const buffer = new ArrayBuffer(columnsAt + FRAME_COLUMNS.length * 8 * n);
  const dv = new DataView(buffer);
  dv.setUint32(0, 0x46514d4d, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, frame.full ? 1 : 0, true);
  dv.setUint32(8, n, true);
  dv.setUint32(12, tableBytes, true);
  dv.setFloat64(16, frame.seq, true);
  dv.setFloat64(24, frame.builtAt, true);
  dv.setFloat64(32, frame.conflated, true);
  let p = 40;
  for (const s of symbols) {
    dv.setUint16(p, s.length, true);
    p += 2;
    for (let j = 0; j < s.length; j++) dv.setUint8(p++, s.charCodeAt(j));
  }
  // Version 2 wrote the columns in FRAME_COLUMNS order, n values each: the values block as it is.
  new Float64Array(buffer, columnsAt).set(frame.values);
  return new Uint8Array(buffer);
}

/** What one seeded sequence does to a book, as lines: one per frame taken and per value() read. */
function play(seed: number, symbols = 36, maxSymbols = 28): string[] {
  const random = mulberry32(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const price = (): number => Math.round((10 + random() * 90) * 100) / 100;
  let clock = Date.UTC(2026, 11, 4, 15);
  const book = new QuoteBook({ now: () => clock, maxSymbols });
  // More symbols than rows: overflow, ignored (after a retain) and compaction all happen.
  const universe = Array.from({ length: symbols }, (_, i) => `S${i}${i % 5 === 0 ? '.B' : ''}`);
  const sym = (): string => universe[int(universe.length)]!;
  const time = (): number => clock - int(5_000) + (random() < 0.05 ? -DAY : 0);
  const day = (): number => D0 + int(3) * DAY;
  const cursors: BookCursor[] = [book.cursor()];
  // Per cursor, the view's symbol table, and the same again for the frames through the codec.
  const tables = new Map<BookCursor, { direct: SymbolTable; coded: SymbolTable }>();
  const tablesOf = (cursor: BookCursor) => {
    let t = tables.get(cursor);
    if (t === undefined) {
      t = { direct: new SymbolTable(), coded: new SymbolTable() };
      tables.set(cursor, t);
    }
    return t;
  };
  const out: string[] = [];
  let largest = 0;

  const quote = (symbol: string): Quote => {
    const t = time();
    const bid = random() < 0.05 ? 0 : price();
    return {
      kind: 'quote',
      symbol,
      bidExchange: 'V',
      bidPrice: bid,
      bidSize: int(900),
      askExchange: 'Q',
      askPrice: bid + 0.01 * (1 + int(5)),
      askSize: int(900),
      conditions: undefined,
      time: new Date(t).toISOString(),
      timeMs: t,
      tape: 'C',
    };
  };
  const trade = (symbol: string): Trade => {
    const t = time();
    return {
      kind: 'trade',
      symbol,
      id: int(1e6),
      exchange: 'V',
      price: price(),
      size: 1 + int(500),
      conditions: undefined,
      time: new Date(t).toISOString(),
      timeMs: t,
      tape: 'C',
      takerSide: undefined,
    };
  };
  const bar = (symbol: string, kind: Bar['kind']): Bar => {
    const t = day();
    const open = price();
    return {
      kind,
      symbol,
      open,
      high: open + random() * 3,
      low: open - random() * 3,
      close: price(),
      volume: int(1e6),
      tradeCount: int(1000),
      vwap: open,
      time: new Date(t).toISOString(),
      timeMs: t,
    };
  };
  const restBar = (t: number): RestBar => {
    const open = price();
    return {
      time: t,
      open,
      high: open + random() * 3,
      low: open - random() * 3,
      close: price(),
      volume: int(1e6),
      tradeCount: undefined,
      vwap: undefined,
    };
  };
  const snapshot = (symbol: string): SymbolSnapshot => {
    const d = day();
    return {
      symbol,
      latestQuote:
        random() < 0.7
          ? {
              time: time(),
              bidPrice: price(),
              bidSize: int(900),
              askPrice: price(),
              askSize: int(900),
              bidExchange: undefined,
              askExchange: undefined,
            }
          : undefined,
      latestTrade:
        random() < 0.7
          ? {
              time: time(),
              price: price(),
              size: 1 + int(500),
              exchange: undefined,
              conditions: [],
            }
          : undefined,
      minuteBar: random() < 0.3 ? restBar(clock - 60_000) : undefined,
      dailyBar: random() < 0.7 ? restBar(d) : undefined,
      prevDailyBar: random() < 0.6 ? restBar(d - DAY * (1 + int(2))) : undefined,
    };
  };

  for (let step = 0; step < STEPS; step++) {
    clock += random() < 0.1 ? 0.5 : int(40);
    const r = random();
    if (r < 0.3) book.applyQuote(quote(sym()));
    else if (r < 0.55) book.applyTrade(trade(sym()));
    else if (r < 0.6) book.applyBar(bar(sym(), 'dailyBar'));
    else if (r < 0.62) book.applyBar(bar(sym(), random() < 0.5 ? 'bar' : 'updatedBar'));
    else if (r < 0.68) {
      const polled = random() < 0.4 ? clock : Number.NaN;
      out.push(`snapshot ${String(book.applySnapshot(snapshot(sym()), polled))}`);
    } else if (r < 0.7) book.markStreamed(sym());
    else if (r < 0.85) {
      const k = int(cursors.length);
      const cursor = cursors[k];
      if (cursor === undefined) continue;
      const dirty = cursor.dirty;
      const frame = cursor.take();
      const t = tablesOf(cursor);
      const legacy = legacyBytes(frame, t.direct);
      const coded = legacyBytes(decodeFrame(encodeFrame(frame)), t.coded);
      if (Buffer.compare(legacy, coded) !== 0) {
        throw new Error(`frame ${frame.seq} of cursor ${k} changed through the codec`);
      }
      const digest = createHash('sha256').update(legacy).digest('hex').slice(0, 24);
      out.push(
        `take ${k} dirty=${String(dirty)} rows=${frame.rows.length} full=${String(frame.full)} ` +
          `frames=${cursor.frames} conflated=${cursor.conflated} ${digest}`,
      );
    } else if (r < 0.93) {
      const symbol = sym();
      const column = FRAME_COLUMNS[int(FRAME_COLUMNS.length)]!;
      out.push(`value ${symbol} ${column} ${bits(book.value(symbol, column))}`);
    } else if (r < 0.945) {
      // A big book keeps nearly every symbol, so that it has rows enough to grow.
      const keep = symbols < 100 ? 0.7 : 0.98;
      const wanted = new Set(universe.filter(() => random() < keep));
      book.retain(wanted);
      out.push(`retain ${wanted.size} size=${book.size}`);
    } else if (r < 0.95) {
      // A big book is cleared seldom, so that it has time to grow.
      if (symbols < 100 || random() < 0.1) {
        book.clear();
        out.push('clear');
      }
    } else if (r < 0.97) {
      if (cursors.length < 4) cursors.push(book.cursor());
    } else if (r < 0.98) {
      if (cursors.length > 1) cursors.splice(int(cursors.length), 1)[0]?.close();
    }
    // The rest: nothing but the clock moves.
    largest = Math.max(largest, book.size);
  }
  out.push(
    `end size=${book.size} largest=${largest} ignored=${book.ignored} overflow=${book.overflow} cursors=${book.cursors}`,
  );
  return out;
}

describe('QuoteBook frames against the recording', () => {
  const recording = Object.fromEntries(
    RUNS.map((r) => [String(r.seed), play(r.seed, r.symbols, r.max)]),
  );

  if (process.env['BOOK_GOLDEN_RECORD'] === '1') {
    writeFileSync(GOLDEN, `${JSON.stringify(recording, null, 2)}\n`);
  }
  const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as Record<string, string[]>;

  it.each(RUNS)('seed $seed: every frame and every value read is byte-identical', ({ seed }) => {
    const lines = recording[String(seed)]!;
    // The sequence exercises what it claims to (a recording of nothing would pin nothing).
    expect(lines.filter((l) => l.startsWith('take ')).length).toBeGreaterThan(300);
    expect(lines.filter((l) => / full=true /.test(l)).length).toBeGreaterThan(1);
    expect(lines.some((l) => l.startsWith('retain '))).toBe(true);
    expect(lines.some((l) => l.startsWith('snapshot true'))).toBe(true);
    if (seed === 42) {
      // The storage grew past its first two capacities (64, 128 rows).
      expect(Number(/largest=(\d+)/.exec(lines.at(-1) ?? '')?.[1])).toBeGreaterThan(128);
    }
    expect(lines).toEqual(golden[String(seed)]);
  });

  it('the recording is not trivially satisfied: another seed differs', () => {
    expect(play(7)).not.toEqual(golden['1']);
  });
});
