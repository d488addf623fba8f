import { describe, expect, it } from 'vitest';
import { EXCERPT_CHARS, RestError, excerptOf, isRestError } from '../../../electron/rest/errors.ts';

describe('RestError', () => {
  it('carries code, status, excerpt and path, and says them in its message', () => {
    const err = new RestError('bad-request', 'request refused: invalid timeframe', {
      status: 422,
      excerpt: 'invalid timeframe',
      path: '/v2/stocks/bars?timeframe=7Min',
    });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('RestError');
    expect(err.message).toBe(
      'request refused: invalid timeframe (bad-request 422, /v2/stocks/bars?timeframe=7Min)',
    );
    expect(isRestError(err, 'bad-request')).toBe(true);
    expect(isRestError(err, 'server')).toBe(false);
    expect(isRestError(new Error('x'))).toBe(false);
  });
});

describe('excerptOf', () => {
  it('keeps at most 200 characters on one line', () => {
    const text = `{"message":"${'x'.repeat(5_000)}"}\n\u0000tail`;
    const out = excerptOf(text);
    expect(out.length).toBe(EXCERPT_CHARS);
    expect(out.endsWith('…')).toBe(true);
    expect(excerptOf('line one\r\nline\ttwo')).toBe('line one line two');
  });

  it('blanks out the secrets it is given', () => {
    expect(excerptOf('bad key PKTEST123 with secret s3cr3t', ['PKTEST123', 's3cr3t'])).toBe(
      'bad key [redacted] with secret [redacted]',
    );
    expect(excerptOf('nothing to hide', [''])).toBe('nothing to hide');
  });
});
