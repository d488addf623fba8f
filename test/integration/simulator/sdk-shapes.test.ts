/**
 * Subscribe / unsubscribe messages as other official SDKs shape them. alpaca-trade-api-go's
 * getSubChangeMessage sends EVERY channel key in each change: the unused ones are nil slices
 * (JSON null, msgpack nil), and the stock client also sends `orderbooks`, `news` and `pricing`.
 * Alpaca accepts that on every feed, so the simulator must too.
 */
import { describe, expect, it } from 'vitest';
import { framePackr } from '../../../electron/stream/protocol/index.ts';
import type { Codec } from '../../../shared/market.ts';
import type { Item, TestClient } from './helpers.ts';
import { simulatorFixture, until } from './helpers.ts';

const { sim, client } = simulatorFixture();

/** Every key the Go SDK's getSubChangeMessage writes, in its source order. */
const GO_KEYS = [
  'trades',
  'quotes',
  'bars',
  'updatedBars',
  'dailyBars',
  'statuses',
  'imbalances',
  'lulds',
  'orderbooks',
  'news',
  'pricing',
] as const;

type GoKey = (typeof GO_KEYS)[number];

/**
 * A change as the Go SDK sends it: named channels carry their symbols, every other key is null.
 * `empty` keys are sent as [] instead, as a Go caller passing `[]string{}` would.
 */
function goSubChange(
  action: 'subscribe' | 'unsubscribe',
  changes: Partial<Record<GoKey, string[]>>,
  empty: readonly GoKey[] = [],
): Item {
  const msg: Item = { action };
  for (const key of GO_KEYS) msg[key] = changes[key] ?? (empty.includes(key) ? [] : null);
  return msg;
}

function errors(c: TestClient): Item[] {
  return c.ofType('error');
}

describe('simulator: the Go SDK subscription shape', () => {
  it('sends nil as msgpack nil, as the Go encoder does', () => {
    // the msgpack runs below are only meaningful if null really goes out as 0xc0
    expect([...framePackr.pack({ news: null })]).toEqual([
      0x81, 0xa4, 0x6e, 0x65, 0x77, 0x73, 0xc0,
    ]);
  });

  it.each(['json', 'msgpack'] as const)(
    'stock feed: all keys, unused ones null, orderbooks/news/pricing empty (%s)',
    async (codec: Codec) => {
      const s = await sim({ rate: 3000 });
      const c = await client(s.urlFor('iex'), { codec });
      await until(() => c.items.some((i) => i.msg === 'authenticated'), 'authenticated');
      c.send(
        goSubChange('subscribe', { trades: ['AAPL'], quotes: ['AAPL', 'MSFT'] }, [
          'orderbooks',
          'news',
          'pricing',
        ]),
      );
      await until(() => c.ofType('subscription').length === 1, 'echo');
      expect(errors(c)).toEqual([]);
      expect(c.ofType('subscription')[0]).toEqual({
        T: 'subscription',
        trades: ['AAPL'],
        quotes: ['AAPL', 'MSFT'],
        bars: [],
        updatedBars: [],
        dailyBars: [],
        statuses: [],
        lulds: [],
        imbalances: [],
        corrections: ['AAPL'],
        cancelErrors: ['AAPL'],
      });
      const quoted = (): Set<unknown> => new Set(c.ofType('q').map((q) => q.S));
      await until(
        () => quoted().size === 2 && c.ofType('t').length > 0,
        'quotes for both symbols and trades',
      );
      expect(quoted()).toEqual(new Set(['AAPL', 'MSFT']));
      const stray = c
        .data()
        .filter(
          (i) =>
            !(i.T === 'q' && (i.S === 'AAPL' || i.S === 'MSFT')) &&
            !(['t', 'c', 'x'].includes(i.T as string) && i.S === 'AAPL'),
        );
      expect(stray).toEqual([]);

      // the Go SDK's unsubscribe: only quotes named, every other key null
      c.send(goSubChange('unsubscribe', { quotes: ['MSFT'] }));
      await until(() => c.ofType('subscription').length === 2, 'second echo');
      expect(errors(c)).toEqual([]);
      expect(c.ofType('subscription')[1]).toMatchObject({
        trades: ['AAPL'],
        quotes: ['AAPL'],
        corrections: ['AAPL'],
      });
      const mark = c.items.length;
      await until(() => c.items.slice(mark).filter((i) => i.T === 'q').length >= 50, 'quotes');
      expect(new Set(c.items.slice(mark).flatMap((i) => (i.T === 'q' ? [i.S] : [])))).toEqual(
        new Set(['AAPL']),
      );
    },
  );

  it.each(['json', 'msgpack'] as const)(
    'crypto feed: stock-only keys null or empty are no change (%s)',
    async (codec: Codec) => {
      const s = await sim({ rate: 2000 });
      const c = await client(s.urlFor('crypto'), { codec });
      await until(() => c.items.some((i) => i.msg === 'authenticated'), 'authenticated');
      c.send(
        goSubChange('subscribe', { quotes: ['BTC/USD'], orderbooks: ['BTC/USD'] }, [
          'statuses',
          'news',
          'pricing',
        ]),
      );
      await until(() => c.ofType('o').length >= 2 && c.ofType('q').length >= 2, 'books, quotes');
      expect(errors(c)).toEqual([]);
      expect(c.ofType('subscription')).toEqual([
        {
          T: 'subscription',
          trades: [],
          quotes: ['BTC/USD'],
          orderbooks: ['BTC/USD'],
          bars: [],
          updatedBars: [],
          dailyBars: [],
        },
      ]);
      expect(c.ofType('o')[0]?.r).toBe(true);
      expect(new Set(c.data().map((i) => i.S))).toEqual(new Set(['BTC/USD']));
    },
  );

  it('a change with every key null changes nothing and is echoed', async () => {
    const s = await sim();
    const c = await client(s.urlFor('sip'), { codec: 'msgpack' });
    c.send({ action: 'subscribe', bars: ['AAPL'] });
    c.send(goSubChange('subscribe', {}));
    c.send(goSubChange('unsubscribe', {}));
    await until(() => c.ofType('subscription').length === 3, 'three echoes');
    expect(errors(c)).toEqual([]);
    for (const echo of c.ofType('subscription')) expect(echo.bars).toEqual(['AAPL']);
  });
});

describe('simulator: channel keys a feed lacks', () => {
  it('accepts an empty list for a channel the feed lacks; 410 once symbols are named', async () => {
    const s = await sim();
    const c = await client(s.urlFor('iex'));
    c.send({ action: 'subscribe', quotes: ['AAPL'], orderbooks: [], news: [] });
    await until(() => c.ofType('subscription').length === 1, 'echo');
    expect(errors(c)).toEqual([]);
    expect(c.ofType('subscription')[0]?.quotes).toEqual(['AAPL']);

    c.send({ action: 'subscribe', quotes: ['MSFT'], orderbooks: ['AAPL'] });
    c.send({ action: 'subscribe', news: ['AAPL'] });
    c.send({ action: 'unsubscribe', quotes: ['AAPL'], orderbooks: ['AAPL'] });
    await until(() => errors(c).length === 3, 'three 410s');
    expect(errors(c).map((e) => e.code)).toEqual([410, 410, 410]);
    expect(c.ofType('subscription')).toHaveLength(1);
    // a refused change applies nothing, not even its valid part
    expect(s.connections()[0]?.subscriptions.quotes).toEqual(['AAPL']);
  });

  it('the crypto feed likewise: lulds [] passes, lulds named is 410', async () => {
    const s = await sim();
    const c = await client(s.urlFor('crypto'), { codec: 'msgpack' });
    c.send({ action: 'subscribe', trades: ['ETH/USD'], lulds: [], statuses: null });
    await until(() => c.ofType('subscription').length === 1, 'echo');
    expect(errors(c)).toEqual([]);
    expect(c.ofType('subscription')[0]?.trades).toEqual(['ETH/USD']);
    c.send({ action: 'subscribe', lulds: ['ETH/USD'] });
    await until(() => errors(c).length === 1, '410');
    expect(errors(c)[0]?.code).toBe(410);
  });

  it('a value that is neither null nor a list of symbols is 400, on any channel', async () => {
    const s = await sim();
    const c = await client(s.urlFor('iex'));
    const bad: Item[] = [
      { action: 'subscribe', quotes: 'AAPL' },
      { action: 'subscribe', quotes: {} },
      { action: 'subscribe', quotes: [null] },
      { action: 'subscribe', quotes: [''] },
      { action: 'subscribe', trades: 5 },
      // syntax comes before support: a malformed value for a channel the feed lacks is 400
      { action: 'subscribe', orderbooks: false },
    ];
    for (const action of bad) c.send(action);
    await until(() => errors(c).length === bad.length, 'one 400 each');
    expect(errors(c).map((e) => e.code)).toEqual(bad.map(() => 400));
    expect(c.ofType('subscription')).toEqual([]);
  });

  it('ignores keys that are no channel, whatever they hold (current behaviour)', async () => {
    // The protocol doc does not say what Alpaca does with symbols under an unknown key; the
    // simulator has always ignored such keys, and old Python clients send corrections lists.
    const s = await sim();
    const c = await client(s.urlFor('iex'));
    c.send({ action: 'subscribe', quotes: ['AAPL'], pricing: [], extra: 1 });
    c.send({ action: 'subscribe', pricing: ['AAPL'], corrections: ['AAPL'], cancelErrors: null });
    await until(() => c.ofType('subscription').length === 2, 'two echoes');
    expect(errors(c)).toEqual([]);
    expect(c.ofType('subscription')[1]).toMatchObject({
      quotes: ['AAPL'],
      trades: [],
      corrections: [],
    });
  });
});
