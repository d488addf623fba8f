/**
 * views.ts: the mapping from the core's types to the view types, and the redaction between them.
 * Also the spread alert's arithmetic and rate limit (a pure function of quotes and a clock).
 */
import { describe, expect, it } from 'vitest';
import { LogRing, ringLogger, type LogRecord } from '../../../electron/stream/log.ts';
import {
  connectionView,
  errorMeaning,
  handlerView,
  levelName,
  logEntry,
  REDACTED,
  Redactor,
  subscriptionsView,
  type ConnectionFacts,
} from '../../../electron/core/views.ts';
import { spreadPct } from '../../../electron/alerts/spread.ts';
import { ALPACA_ERRORS, CHANNELS, type Channel } from '../../../shared/market.ts';
import { DEFAULT_SOURCE } from '../../../shared/api.ts';

const KEY = 'PKA1B2C3D4E5F6G7H8I9';
const SECRET = 'sEcReT/with+chars=0123456789abcdefghij';

function redactor(): Redactor {
  const r = new Redactor();
  r.add(KEY, SECRET);
  return r;
}

describe('Redactor', () => {
  it('scrubs every occurrence of every known value', () => {
    const r = redactor();
    expect(r.scrub(`key ${KEY} and ${SECRET}, again ${KEY}`)).toBe(
      `key ${REDACTED} and ${REDACTED}, again ${REDACTED}`,
    );
    expect(r.scrub('nothing here')).toBe('nothing here');
  });

  it('ignores short and missing values, and keeps no duplicates', () => {
    const r = new Redactor();
    r.add('abc', undefined, '', 'abcd', 'abcd');
    expect(r.size).toBe(1);
    expect(r.scrub('abc abcd')).toBe(`abc ${REDACTED}`);
  });

  it('censors a value that contains another one whole', () => {
    const r = new Redactor();
    r.add('1234', 'xx1234yy');
    expect(r.scrub('a xx1234yy b 1234')).toBe(`a ${REDACTED} b ${REDACTED}`);
  });

  it('clean() censors credential-named fields at any depth and scrubs strings', () => {
    const r = redactor();
    const cleaned = r.clean({
      a: { b: { secret: 'short', 'APCA-API-KEY-ID': 'x', keep: `url?k=${KEY}` } },
      list: [{ key_id: 'k' }, 7, null, true],
      deep: { er: { still: { apiKey: 'a', api_key: 'b', secret_key: 'c', Password: 'd' } } },
      big: 10n,
    });
    expect(cleaned).toEqual({
      a: { b: { secret: REDACTED, 'APCA-API-KEY-ID': REDACTED, keep: `url?k=${REDACTED}` } },
      list: [{ key_id: REDACTED }, 7, null, true],
      deep: {
        er: {
          still: { apiKey: REDACTED, api_key: REDACTED, secret_key: REDACTED, Password: REDACTED },
        },
      },
      big: '10',
    });
  });

  it('clean() bounds depth and breadth', () => {
    const r = new Redactor();
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 10; i++) deep = { next: deep };
    expect(JSON.stringify(r.clean(deep))).toContain('[nested too deep]');
    const wide = r.clean(Array.from({ length: 60 }, (_, i) => i)) as unknown[];
    expect(wide).toHaveLength(51);
    expect(wide[50]).toBe('[10 more]');
  });
});

describe('logEntry', () => {
  it('maps a real pino record: level name, module, message, error with stack, small fields', () => {
    const ring = new LogRing();
    const log = ringLogger(ring).child({ module: 'stream-client' });
    log.error(
      { err: new Error('boom'), attempt: 3, ok: false, nothing: null, nested: { a: [1, 2] } },
      'it failed',
    );
    const record = ring.records()[0]!;
    const entry = logEntry(record, 7, new Redactor());
    expect(entry.seq).toBe(7);
    expect(entry.level).toBe('error');
    expect(entry.module).toBe('stream-client');
    expect(entry.msg).toBe('it failed');
    expect(entry.at).toBe(record['time']);
    expect(entry.err?.message).toBe('boom');
    expect(entry.err?.stack).toContain('views.test.ts');
    expect(entry.fields).toEqual({ attempt: 3, ok: false, nothing: null, nested: '{"a":[1,2]}' });
  });

  it('censors credentials by field name and by value, everywhere in the entry', () => {
    const r = redactor();
    const record: LogRecord = {
      level: 40,
      time: 1,
      msg: `auth with ${KEY}`,
      module: 'x',
      secret: 'a-secret-under-its-own-name',
      headers: { 'APCA-API-SECRET-KEY': 'whatever', host: 'h' },
      url: `wss://host/?secret=${SECRET}`,
      err: {
        type: 'Error',
        message: `bad key ${KEY}`,
        stack: `Error: bad key ${KEY}\n at ${SECRET}`,
      },
    };
    const entry = logEntry(record, 1, r);
    const text = JSON.stringify(entry);
    expect(text).not.toContain(KEY);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('a-secret-under-its-own-name');
    expect(text).not.toContain('whatever');
    expect(entry.fields['secret']).toBe(REDACTED);
    expect(entry.fields['headers']).toBe(`{"APCA-API-SECRET-KEY":"${REDACTED}","host":"h"}`);
    expect(entry.msg).toBe(`auth with ${REDACTED}`);
    expect(entry.err).toEqual({
      message: `bad key ${REDACTED}`,
      stack: `Error: bad key ${REDACTED}\n at ${REDACTED}`,
    });
  });

  it('drops pino process noise, clips long text, and survives odd values', () => {
    const record: LogRecord = {
      level: 35,
      time: 5,
      pid: 1,
      hostname: 'h',
      app: 'market-monitor',
      long: 'x'.repeat(2_000),
      err: 'a plain string',
    };
    const entry = logEntry(record, 1, new Redactor());
    expect(entry.level).toBe('info');
    expect(entry.msg).toBe('');
    expect(Object.keys(entry.fields)).toEqual(['long']);
    expect((entry.fields['long'] as string).length).toBe(500);
    expect(entry.err).toEqual({ message: 'a plain string', stack: undefined });
  });

  it('names pino levels', () => {
    expect([10, 20, 30, 40, 50, 60, 70].map(levelName)).toEqual([
      'trace',
      'debug',
      'info',
      'warn',
      'error',
      'fatal',
      'fatal',
    ]);
  });
});

describe('connectionView', () => {
  const facts: ConnectionFacts = {
    state: 'failed',
    previous: 'authenticating',
    reason: `auth failed for ${KEY}`,
    since: 100,
    attempt: 1,
    retryAt: 500,
    lastError: { code: 402, message: 'auth failed' },
    source: DEFAULT_SOURCE,
    url: `ws://127.0.0.1:1/v2/iex?k=${KEY}`,
    stale: false,
  };

  it('gives the protocol meaning of the error, scrubs text, and keeps retryAt only in backoff', () => {
    const view = connectionView(facts, (t) => redactor().scrub(t));
    expect(view.lastError).toEqual({
      code: 402,
      message: 'auth failed',
      meaning: ALPACA_ERRORS[402]!.meaning,
    });
    expect(view.reason).toBe(`auth failed for ${REDACTED}`);
    expect(view.url).not.toContain(KEY);
    expect(view.retryAt).toBeUndefined();
    expect(connectionView({ ...facts, state: 'backoff' }).retryAt).toBe(500);
  });

  it('does not read handshake statuses or close codes as Alpaca codes', () => {
    expect(errorMeaning({ code: 401, message: 'handshake refused with HTTP 401' })).toContain(
      'handshake',
    );
    expect(errorMeaning({ code: 401, message: 'not authenticated' })).toBe(
      ALPACA_ERRORS[401]!.meaning,
    );
    expect(errorMeaning({ code: 1006, message: 'connection closed (1006)' })).toBeUndefined();
    expect(errorMeaning({ message: 'no pong' })).toBeUndefined();
  });
});

describe('subscriptionsView', () => {
  it('leaves empty channels out and explains refusals', () => {
    const empty = Object.fromEntries(CHANNELS.map((c) => [c, [] as string[]])) as Record<
      Channel,
      string[]
    >;
    const view = subscriptionsView({
      desired: { ...empty, quotes: ['AAPL', 'MSFT'], trades: ['AAPL'] },
      confirmed: { ...empty, quotes: ['AAPL'] },
      refused: [
        { channel: 'quotes', symbol: 'MSFT', code: 405, at: 1 },
        { channel: 'trades', symbol: 'ZZZ', code: 0, at: 2 },
      ],
    });
    expect(view.desired).toEqual({ quotes: ['AAPL', 'MSFT'], trades: ['AAPL'] });
    expect(view.confirmed).toEqual({ quotes: ['AAPL'] });
    expect(view.refused[0]).toEqual({
      channel: 'quotes',
      symbol: 'MSFT',
      code: 405,
      meaning: ALPACA_ERRORS[405]!.meaning,
      at: 1,
    });
    expect(view.refused[1]?.meaning).toContain('did not confirm');
  });
});

describe('handlerView', () => {
  it('keeps the inspector fields and scrubs the last error', () => {
    const view = handlerView(
      {
        id: 'h1',
        name: 'n',
        kind: 'quote',
        symbol: '*',
        builtin: false,
        calls: 3,
        errors: 1,
        lastError: { message: `leaked ${SECRET}`, stack: `at ${SECRET}`, at: 9 },
        totalMs: 3,
        maxMs: 2,
        meanMs: 1,
        registeredAt: 1,
        lastCalledAt: 2,
      },
      (t) => redactor().scrub(t),
    );
    expect(view).toEqual({
      id: 'h1',
      name: 'n',
      kind: 'quote',
      symbol: '*',
      builtin: false,
      calls: 3,
      errors: 1,
      lastError: { message: `leaked ${REDACTED}`, stack: `at ${REDACTED}`, at: 9 },
      meanMs: 1,
      maxMs: 2,
      registeredAt: 1,
      lastCalledAt: 2,
    });
  });
});

describe('spread', () => {
  it('measures the spread against the mid price; one-sided or crossed quotes have none', () => {
    expect(spreadPct(99, 101)).toBeCloseTo(2);
    expect(spreadPct(0, 101)).toBeNaN();
    expect(spreadPct(101, 99)).toBeNaN();
  });
});
