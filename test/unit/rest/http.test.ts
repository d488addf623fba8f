import { describe, expect, it } from 'vitest';
import { AlpacaRest } from '../../../electron/rest/alpaca-rest.ts';
import { RestHttp, realClock, retryAfterMs } from '../../../electron/rest/http.ts';

describe('retryAfterMs', () => {
  const now = Date.UTC(2024, 4, 1, 14, 0, 0);

  it('reads seconds and HTTP dates, never negative', () => {
    expect(retryAfterMs('7', now)).toBe(7_000);
    expect(retryAfterMs('0.5', now)).toBe(500);
    expect(retryAfterMs('Wed, 01 May 2024 14:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Wed, 01 May 2024 13:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('-3', now)).toBe(0);
  });

  it('gives undefined for an absent or unreadable header', () => {
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('  ', now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
});

describe('RestHttp', () => {
  it('describes a path without credential-named parameters, and capped', () => {
    const http = new RestHttp({ keyId: 'PKID', secret: 'SECRETVALUE' });
    expect(http.describePath('https://h.example/v2/clock')).toBe('/v2/clock');
    expect(http.describePath('https://h.example/v2/x?symbols=A,B&token=abc&page_token=p2')).toBe(
      '/v2/x?symbols=A%2CB&token=%5Bredacted%5D&page_token=p2',
    );
    // A credential value that found its way into a URL is blanked out too.
    expect(http.describePath('https://h.example/v2/x?q=SECRETVALUE')).toBe('/v2/x?q=[redacted]');
    const long = http.describePath(`https://h.example/v2/x?symbols=${'A,'.repeat(500)}`);
    expect(long.length).toBe(200);
  });

  it('refuses half a credential pair and bad numbers, with clear errors', () => {
    expect(() => new RestHttp({ keyId: 'PKID' })).toThrow(/both a key id and a secret/);
    expect(() => new RestHttp({ secret: 's' })).toThrow(TypeError);
    expect(() => new RestHttp({ requestsPerMinute: 0 })).toThrow(/requestsPerMinute/);
    expect(() => new RestHttp({ timeoutMs: Number.NaN })).toThrow(/timeoutMs/);
    expect(() => new RestHttp({ maxAttempts: 1.5 })).toThrow(/maxAttempts/);
    expect(() => new AlpacaRest({ dataUrl: 'not a url' })).toThrow(/dataUrl is not a URL/);
    expect(() => new AlpacaRest({ tradingUrl: 'ftp://x.example' })).toThrow(/http\(s\)/);
    expect(() => new AlpacaRest({ maxSymbolsPerRequest: 0 })).toThrow(/maxSymbolsPerRequest/);
  });

  it('starts with empty metrics', () => {
    const m = new AlpacaRest().metrics();
    expect(m).toMatchObject({
      requests: 0,
      errors: {},
      rateLimited: 0,
      retries: 0,
      rateLimit: {},
      inFlight: 0,
      skipped: 0,
    });
    expect(m.latency.count).toBe(0);
  });
});

describe('realClock', () => {
  it('sleeps, and wakes early when the signal aborts', async () => {
    const t0 = Date.now();
    await realClock.sleep(20);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(15);
    const controller = new AbortController();
    const t1 = Date.now();
    const sleeping = realClock.sleep(10_000, controller.signal);
    controller.abort();
    await sleeping;
    expect(Date.now() - t1).toBeLessThan(1_000);
    await realClock.sleep(10_000, AbortSignal.abort());
  });
});
