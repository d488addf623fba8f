/**
 * Halts on demand on a real simulator server: a connection opened while a symbol is halted finds
 * it silent (no quotes or trades) while the others stream; the resume reaches every stock
 * connection subscribed to statuses; a crypto connection does not take halts; a stalled server
 * sends no status; bad symbols and too many halts are refused.
 */
import { describe, expect, it } from 'vitest';
import { simulatorFixture, until, type TestClient } from './helpers.ts';

const { sim, client } = simulatorFixture();

const authed = (c: TestClient): boolean => c.items.some((i) => i.msg === 'authenticated');

describe('simulator halts', () => {
  it('a symbol halted before a connection opens is silent on it until resumed', async () => {
    const s = await sim({ port: 0, rate: 2000, session: 'regular' });
    expect(s.setHalt('AAPL', true)).toBe(0);
    expect(s.halted()).toEqual(['AAPL']);
    const c = await client(s.urlFor('iex'));
    await until(() => authed(c), 'auth');
    c.send({
      action: 'subscribe',
      quotes: ['AAPL', 'MSFT'],
      trades: ['AAPL', 'MSFT'],
      statuses: ['AAPL'],
    });
    await until(() => c.ofType('q').filter((q) => q.S === 'MSFT').length >= 50, 'MSFT quotes');
    expect(c.data().filter((i) => i.S === 'AAPL')).toEqual([]);

    expect(s.setHalt('AAPL', false)).toBe(1);
    expect(s.halted()).toEqual([]);
    await until(() => c.ofType('q').some((q) => q.S === 'AAPL'), 'AAPL quotes after the resume');
    expect(c.ofType('s').map((i) => [i.S, i.sc])).toEqual([['AAPL', 'T']]);
  });

  it('crypto connections take no halt; a stalled server sends no status', async () => {
    const s = await sim({ port: 0, rate: 0, session: 'regular' });
    const stock = await client(s.urlFor('iex'));
    const crypto = await client(s.urlFor('crypto'));
    await until(() => authed(stock) && authed(crypto), 'auth');
    stock.send({ action: 'subscribe', statuses: ['AAPL'], lulds: ['AAPL'] });
    await until(() => stock.ofType('subscription').length > 0, 'the echo');
    s.stall(true);
    expect(s.setHalt('AAPL', true)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stock.data()).toEqual([]);
    s.stall(false);
    s.setHalt('AAPL', false);
    await until(() => stock.ofType('s').length === 1, 'the resume status');
    expect(stock.ofType('l').map((i) => i.i)).toEqual(['B']);
    expect(crypto.data()).toEqual([]);
  });

  it('refuses an empty or overlong symbol', async () => {
    const s = await sim({ port: 0, rate: 0 });
    expect(() => s.setHalt('', true)).toThrow(RangeError);
    expect(() => s.setHalt('X'.repeat(40), true)).toThrow(RangeError);
    expect(s.halted()).toEqual([]);
  });
});
