import { describe, expect, it } from 'vitest';
import type { WireItem } from '../../../electron/simulator/market-walk.ts';
import {
  MarketWalk,
  WELL_KNOWN_SYMBOLS,
  hashString,
  mulberry32,
  symbolUniverse,
} from '../../../electron/simulator/market-walk.ts';

const TIME = '2025-03-04T15:02:11.123456789Z';

function run(walk: MarketWalk, symbols: readonly string[], steps: number): WireItem[] {
  const out: WireItem[] = [];
  for (let i = 0; i < steps; i++) walk.step(symbols, TIME, out);
  return out;
}

describe('mulberry32', () => {
  it('is reproducible per seed and stays in [0, 1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    // roughly uniform: each decile holds 5-15 % of draws
    const deciles = new Array<number>(10).fill(0);
    for (const x of xs) deciles[Math.floor(x * 10)] = (deciles[Math.floor(x * 10)] ?? 0) + 1;
    for (const n of deciles) expect(n).toBeGreaterThan(50);
  });

  it('hashString depends on text and seed', () => {
    expect(hashString('AAPL', 1)).toBe(hashString('AAPL', 1));
    expect(hashString('AAPL', 1)).not.toBe(hashString('AAPL', 2));
    expect(hashString('AAPL', 1)).not.toBe(hashString('MSFT', 1));
  });
});

describe('symbolUniverse', () => {
  it('starts with the well-known tickers, then unique generated names', () => {
    expect(symbolUniverse(3)).toEqual(['AAPL', 'MSFT', 'NVDA']);
    const big = symbolUniverse(20_000);
    expect(big).toHaveLength(20_000);
    expect(new Set(big).size).toBe(20_000);
    expect(big.slice(0, WELL_KNOWN_SYMBOLS.length)).toEqual(WELL_KNOWN_SYMBOLS);
    expect(big[WELL_KNOWN_SYMBOLS.length]).toBe('XAAA');
    expect(big.every((s) => /^[A-Z]{1,5}$/.test(s))).toBe(true);
  });

  it('rejects a count it cannot make', () => {
    expect(() => symbolUniverse(0)).toThrow(RangeError);
    expect(() => symbolUniverse(1.5)).toThrow(RangeError);
    expect(() => symbolUniverse(10_000_000)).toThrow(RangeError);
  });
});

describe('MarketWalk (stocks)', () => {
  const symbols = ['AAPL', 'MSFT', 'NVDA'];

  it('gives the same items for the same seed, other items for another seed', () => {
    const a = run(new MarketWalk({ seed: 42, kind: 'stock' }), symbols, 2000);
    const b = run(new MarketWalk({ seed: 42, kind: 'stock' }), symbols, 2000);
    const c = run(new MarketWalk({ seed: 43, kind: 'stock' }), symbols, 2000);
    expect(a.length).toBeGreaterThan(2000);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('makes realistic quotes and trades inside the spread, with increasing ids', () => {
    const walk = new MarketWalk({ seed: 3, kind: 'stock', exchanges: ['V'] });
    const items = run(walk, symbols, 5000);
    const lastQuote = new Map<string, WireItem>();
    let lastId = 0;
    let trades = 0;
    for (const item of items) {
      expect(item.t).toBe(TIME);
      if (item.T === 'q') {
        const bp = item.bp as number;
        const ap = item.ap as number;
        expect(bp).toBeLessThan(ap);
        expect(ap - bp).toBeLessThanOrEqual(0.08 + 1e-9);
        expect(Math.round(bp * 100)).toBeCloseTo(bp * 100, 6); // whole cents
        expect(Number.isInteger(item.bs) && (item.bs as number) >= 1).toBe(true);
        expect(Number.isInteger(item.as) && (item.as as number) >= 1).toBe(true);
        expect(item.bx).toBe('V');
        expect(item.ax).toBe('V');
        expect(item.c).toEqual(['R']);
        expect(['A', 'B', 'C']).toContain(item.z);
        lastQuote.set(item.S as string, item);
      } else if (item.T === 't') {
        trades += 1;
        const quote = lastQuote.get(item.S as string);
        expect(quote).toBeDefined();
        expect(item.p).toBeGreaterThanOrEqual(quote?.bp as number);
        expect(item.p).toBeLessThanOrEqual(quote?.ap as number);
        expect(item.i as number).toBeGreaterThan(lastId);
        lastId = item.i as number;
        expect(Number.isInteger(item.s) && (item.s as number) >= 1).toBe(true);
        expect(item.c).toEqual((item.s as number) < 100 ? ['@', 'I'] : ['@']);
        expect(item.x).toBe('V');
      }
    }
    expect(trades).toBeGreaterThan(1500);
  });

  it('corrects and cancels earlier trades by id', () => {
    const items = run(new MarketWalk({ seed: 5, kind: 'stock' }), ['AAPL'], 50_000);
    const tradeIds = new Set(items.filter((i) => i.T === 't').map((i) => i.i));
    const corrections = items.filter((i) => i.T === 'c');
    const cancels = items.filter((i) => i.T === 'x');
    expect(corrections.length).toBeGreaterThan(5);
    expect(cancels.length).toBeGreaterThan(5);
    for (const c of corrections) {
      expect(tradeIds.has(c.oi)).toBe(true);
      expect(c.ci as number).toBeGreaterThan(c.oi as number);
      expect(Math.abs((c.cp as number) - (c.op as number))).toBeCloseTo(0.01, 6);
    }
    for (const x of cancels) {
      expect(tradeIds.has(x.i)).toBe(true);
      expect(['C', 'E']).toContain(x.a);
    }
  });

  it('closes bars that agree with the trades, corrections and cancels of their period', () => {
    const walk = new MarketWalk({ seed: 11, kind: 'stock' });
    const syms = ['AAPL', 'MSFT'];
    // live trades per symbol in the open period: id -> [price, size]; opens; extremes
    let live = new Map<string, Map<number, [number, number]>>();
    let first = new Map<string, number>();
    let extremes = new Map<string, [number, number]>();
    let periodOfId = new Map<number, number>();
    let checked = 0;
    for (let period = 0; period < 40; period++) {
      const out: WireItem[] = [];
      for (let i = 0; i < 400; i++) walk.step(syms, TIME, out);
      for (const item of out) {
        const s = item.S as string;
        const trades = live.get(s) ?? new Map<number, [number, number]>();
        live.set(s, trades);
        const widen = (p: number): void => {
          const [lo, hi] = extremes.get(s) ?? [p, p];
          extremes.set(s, [Math.min(lo, p), Math.max(hi, p)]);
        };
        if (item.T === 't') {
          trades.set(item.i as number, [item.p as number, item.s as number]);
          periodOfId.set(item.i as number, period);
          if (!first.has(s)) first.set(s, item.p as number);
          widen(item.p as number);
        } else if (item.T === 'c' && periodOfId.get(item.oi as number) === period) {
          trades.delete(item.oi as number);
          trades.set(item.ci as number, [item.cp as number, item.cs as number]);
          periodOfId.set(item.ci as number, period);
          widen(item.cp as number);
        } else if (item.T === 'x' && periodOfId.get(item.i as number) === period) {
          trades.delete(item.i as number);
        }
      }
      const bars: WireItem[] = [];
      walk.closeBars(`bar-${period}`, 'day', bars);
      for (const bar of bars.filter((b) => b.T === 'b')) {
        const s = bar.S as string;
        const trades = [...(live.get(s)?.values() ?? [])];
        const volume = trades.reduce((sum, [, size]) => sum + size, 0);
        const pv = trades.reduce((sum, [p, size]) => sum + p * size, 0);
        expect(bar.t).toBe(`bar-${period}`);
        expect(bar.v).toBe(volume);
        expect(bar.n).toBe(trades.length);
        expect(bar.o).toBe(first.get(s));
        expect(bar.h).toBe(extremes.get(s)?.[1]);
        expect(bar.l).toBe(extremes.get(s)?.[0]);
        expect(bar.vw as number).toBeCloseTo(pv / volume, 4);
        expect(bar.l as number).toBeLessThanOrEqual(bar.c as number);
        expect(bar.c as number).toBeLessThanOrEqual(bar.h as number);
        checked += 1;
      }
      // daily bars are emitted for every symbol that traded today
      expect(bars.filter((b) => b.T === 'd').map((b) => b.S)).toEqual(
        expect.arrayContaining(bars.filter((b) => b.T === 'b').map((b) => b.S)),
      );
      live = new Map();
      first = new Map();
      extremes = new Map();
      periodOfId = new Map([...periodOfId].filter(([, p]) => p === period));
    }
    expect(checked).toBeGreaterThan(60);
  });

  it('sends an updated bar when a trade of the closed period is corrected or cancelled', () => {
    const walk = new MarketWalk({ seed: 9, kind: 'stock' });
    const updated: WireItem[] = [];
    for (let period = 0; period < 400 && updated.length === 0; period++) {
      const out: WireItem[] = [];
      // few steps per period: the last trade is often still open to a fix after the close
      for (let i = 0; i < 3; i++) walk.step(['AAPL'], TIME, out);
      updated.push(...out.filter((item) => item.T === 'u'));
      walk.closeBars(`bar-${period}`, 'day', out);
    }
    expect(updated.length).toBeGreaterThan(0);
    expect(updated[0]?.t).toMatch(/^bar-\d+$/);
  });

  it('halts: after a halt status no quotes or trades until the resumption', () => {
    const items = run(new MarketWalk({ seed: 1, kind: 'stock' }), ['AAPL'], 100_000);
    const statuses = items.filter((i) => i.T === 's');
    expect(statuses.length).toBeGreaterThan(2);
    let halted = false;
    const violations: string[] = [];
    for (const item of items) {
      if (item.T === 's') {
        if (item.sc !== (halted ? 'T' : 'H')) violations.push(`status ${String(item.sc)}`);
        halted = item.sc === 'H';
      } else if ((item.T === 'q' || item.T === 't') && halted) {
        violations.push(`${item.T} while halted`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('wanders but stays near its home price over a long run', () => {
    const walk = new MarketWalk({ seed: 8, kind: 'stock' });
    const out: WireItem[] = [];
    walk.step(['AAPL'], TIME, out);
    const home = walk.quote('AAPL')?.bid ?? 0;
    let lo = home;
    let hi = home;
    for (let i = 0; i < 300_000; i++) {
      walk.step(['AAPL'], TIME, out);
      out.length = 0;
      const bid = walk.quote('AAPL')?.bid ?? 0;
      lo = Math.min(lo, bid);
      hi = Math.max(hi, bid);
    }
    expect(hi / lo).toBeGreaterThan(1.01); // it does move
    expect(hi / home).toBeLessThan(1.15);
    expect(lo / home).toBeGreaterThan(0.85);
  });

  it('LULD bands bracket the price', () => {
    const items = run(new MarketWalk({ seed: 2, kind: 'stock' }), ['AAPL'], 20_000);
    let quote: WireItem | undefined;
    let bands = 0;
    for (const item of items) {
      if (item.T === 'q') quote = item;
      if (item.T === 'l' && quote !== undefined) {
        bands += 1;
        expect(item.d as number).toBeLessThan(quote.bp as number);
        expect(item.u as number).toBeGreaterThan(quote.ap as number);
      }
    }
    expect(bands).toBeGreaterThan(10);
  });
});

describe('MarketWalk (crypto)', () => {
  it('quotes and trades have float sizes, taker sides and no stock fields', () => {
    const items = run(new MarketWalk({ seed: 4, kind: 'crypto' }), ['BTC/USD', 'ETH/USD'], 5000);
    const quotes = items.filter((i) => i.T === 'q');
    const trades = items.filter((i) => i.T === 't');
    expect(quotes.length).toBeGreaterThan(1000);
    expect(trades.length).toBeGreaterThan(500);
    for (const q of quotes) {
      expect(q.bx).toBeUndefined();
      expect(q.z).toBeUndefined();
      expect(q.bp as number).toBeLessThan(q.ap as number);
    }
    expect(trades.every((t) => t.tks === 'B' || t.tks === 'S')).toBe(true);
    expect(trades.some((t) => !Number.isInteger(t.s))).toBe(true);
    expect(items.some((i) => i.T === 'c' || i.T === 'x' || i.T === 's')).toBe(false);
    const btc = quotes.find((q) => q.S === 'BTC/USD');
    expect(btc?.bp as number).toBeGreaterThan(30_000);
  });

  it('order book deltas applied to the snapshot keep the book uncrossed', () => {
    const walk = new MarketWalk({ seed: 6, kind: 'crypto' });
    run(walk, ['BTC/USD'], 10);
    const snap = walk.bookSnapshot('BTC/USD', TIME);
    expect(snap.r).toBe(true);
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    const apply = (side: Map<number, number>, levels: unknown): void => {
      for (const { p, s } of levels as { p: number; s: number }[]) {
        if (s === 0) side.delete(p);
        else side.set(p, s);
      }
    };
    apply(bids, snap.b);
    apply(asks, snap.a);
    expect(bids.size).toBeGreaterThan(5);
    let deltas = 0;
    for (const item of run(walk, ['BTC/USD'], 3000)) {
      if (item.T !== 'o') continue;
      deltas += 1;
      expect(item.r).toBeUndefined();
      apply(bids, item.b);
      apply(asks, item.a);
      expect(Math.max(...bids.keys())).toBeLessThan(Math.min(...asks.keys()));
      expect(bids.size).toBeLessThanOrEqual(20);
      expect(asks.size).toBeLessThanOrEqual(20);
    }
    expect(deltas).toBeGreaterThan(1000);
  });
});
