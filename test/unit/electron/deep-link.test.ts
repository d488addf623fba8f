/** The deep-link parser: what the OS may hand over, and what gets through. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deepLinkArgument, linkForLog, parseDeepLink } from '../../../electron/deep-link.ts';
import { SYMBOL_PATTERN } from '../../../shared/api.ts';

describe('parseDeepLink', () => {
  it.each([
    ['market-monitor://symbol/AAPL', 'AAPL'],
    ['market-monitor://symbol/aapl', 'AAPL'],
    ['MARKET-MONITOR://Symbol/BRK.B', 'BRK.B'],
    ['market-monitor://symbol/BTC%2FUSD', 'BTC/USD'],
    ['market-monitor://symbol/btc%2fusd', 'BTC/USD'],
    ['market-monitor://symbol/AAPL/', 'AAPL'],
  ])('accepts %s as %s', (url, symbol) => {
    expect(parseDeepLink(url)).toEqual({ ok: true, symbol });
  });

  it.each([
    ['another scheme', 'https://symbol/AAPL'],
    ['another action', 'market-monitor://watchlist/AAPL'],
    ['no symbol', 'market-monitor://symbol/'],
    ['two segments', 'market-monitor://symbol/AAPL/MSFT'],
    ['two trailing slashes', 'market-monitor://symbol/AAPL//'],
    ['a query', 'market-monitor://symbol/AAPL?x=1'],
    ['a fragment', 'market-monitor://symbol/AAPL#x'],
    ['credentials', 'market-monitor://user:pw@symbol/AAPL'],
    ['a port', 'market-monitor://symbol:80/AAPL'],
    ['no slashes', 'market-monitor:symbol/AAPL'],
    ['other escapes', 'market-monitor://symbol/%41APL'],
    ['traversal', 'market-monitor://symbol/..%2F..%2Fetc'],
    ['a space', 'market-monitor://symbol/AA PL'],
    ['a newline', 'market-monitor://symbol/AAPL\n'],
    ['a NUL', 'market-monitor://symbol/AAPL\u0000'],
    ['leading whitespace', ' market-monitor://symbol/AAPL'],
    ['a look-alike', 'market-monitor://symbol/ıbm'],
    ['too long a symbol', `market-monitor://symbol/${'A'.repeat(22)}`],
    ['a leading dot', 'market-monitor://symbol/.AAPL'],
    ['too long a link', `market-monitor://symbol/AAPL${'/'.repeat(200)}`],
  ])('refuses %s', (_what, url) => {
    expect(parseDeepLink(url).ok).toBe(false);
  });

  it('refuses what is not text', () => {
    expect(parseDeepLink(undefined)).toEqual({ ok: false, reason: 'not text' });
    expect(parseDeepLink(['market-monitor://symbol/AAPL'])).toMatchObject({ ok: false });
  });

  it('whatever it is given, it answers, and only with a valid symbol', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `market-monitor://symbol/${s}`),
          fc.webUrl(),
        ),
        (url) => {
          const out = parseDeepLink(url);
          if (out.ok) expect(SYMBOL_PATTERN.test(out.symbol)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('deepLinkArgument', () => {
  it('finds the link among a launch’s arguments, whatever Chromium added', () => {
    expect(
      deepLinkArgument([
        'C:\\Program Files\\Market Monitor\\market-monitor.exe',
        '--allow-file-access-from-files',
        'market-monitor://symbol/MSFT',
      ]),
    ).toBe('market-monitor://symbol/MSFT');
    expect(deepLinkArgument(['/usr/bin/market-monitor', 'Market-Monitor://symbol/X'])).toBe(
      'Market-Monitor://symbol/X',
    );
    expect(deepLinkArgument(['/usr/bin/market-monitor', '--no-sandbox'])).toBeUndefined();
  });

  it('quotes a refused link for the log, control characters escaped and cut short', () => {
    expect(linkForLog('market-monitor://x\n\u0000')).toBe('"market-monitor://x\\n\\u0000"');
    expect(linkForLog('a'.repeat(500))).toHaveLength(122);
    expect(linkForLog(42)).toBe('"number"');
  });
});
