/**
 * Halts on demand in the simulator's walk: the band and the halt status, silence for the halted
 * symbol (the others keep trading), the resume with a republished band, a held symbol for a new
 * connection, and nothing for crypto.
 */
import { describe, expect, it } from 'vitest';
import { MarketWalk, type WireItem } from '../../../electron/simulator/market-walk.ts';

const TIME = '2026-01-05T15:00:00.000000000Z';

function run(walk: MarketWalk, symbols: readonly string[], steps: number): WireItem[] {
  const out: WireItem[] = [];
  for (let i = 0; i < steps; i++) walk.step(symbols, TIME, out);
  return out;
}

describe('MarketWalk halts on demand', () => {
  it('halts one symbol until resumed; the others keep trading', () => {
    const walk = new MarketWalk({ seed: 3, kind: 'stock' });
    run(walk, ['AAPL', 'MSFT'], 50);
    const out: WireItem[] = [];
    walk.setHalt('AAPL', true, TIME, out);
    expect(out.map((i) => i.T)).toEqual(['l', 's']);
    const [band, halt] = out;
    expect(halt).toMatchObject({ T: 's', S: 'AAPL', sc: 'H', rc: 'LUDP', t: TIME });
    expect(band).toMatchObject({ T: 'l', S: 'AAPL', i: 'A' });
    const mid = walk.quote('AAPL')!;
    expect(band!.u as number).toBeGreaterThan(mid.ask);
    expect(band!.d as number).toBeLessThan(mid.bid);

    const during = run(walk, ['AAPL', 'MSFT'], 2_000);
    expect(during.filter((i) => i.S === 'AAPL')).toEqual([]);
    expect(during.some((i) => i.S === 'MSFT' && i.T === 'q')).toBe(true);

    const resume: WireItem[] = [];
    walk.setHalt('AAPL', false, TIME, resume);
    expect(resume.map((i) => [i.T, i.S, i.sc ?? i.i])).toEqual([
      ['s', 'AAPL', 'T'],
      ['l', 'AAPL', 'B'],
    ]);
    const after = run(walk, ['AAPL'], 20);
    expect(after.some((i) => i.S === 'AAPL' && i.T === 'q')).toBe(true);
  });

  it('hold() halts silently (a connection opened during a halt); crypto has no halts', () => {
    const walk = new MarketWalk({ seed: 3, kind: 'stock' });
    walk.hold('AAPL');
    expect(run(walk, ['AAPL'], 500)).toEqual([]);
    const crypto = new MarketWalk({ seed: 3, kind: 'crypto' });
    const out: WireItem[] = [];
    crypto.setHalt('BTC/USD', true, TIME, out);
    crypto.hold('BTC/USD');
    expect(out).toEqual([]);
    expect(run(crypto, ['BTC/USD'], 5).some((i) => i.T === 'q')).toBe(true);
  });
});
