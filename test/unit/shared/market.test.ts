import { describe, expect, it } from 'vitest';
import { formatEpoch, timeToEpochMs, timeToEpochNs } from '../../../shared/market.ts';

describe('timestamps keep their precision', () => {
  it('timeToEpochNs keeps all nine fractional digits', () => {
    expect(timeToEpochNs('2025-03-04T15:02:11.123456789Z')).toBe(1741100531123456789n);
    expect(timeToEpochNs('2025-03-04T15:02:11Z')).toBe(1741100531000000000n);
    expect(timeToEpochNs('2025-03-04T15:02:11.5Z')).toBe(1741100531500000000n);
    expect(timeToEpochNs('2025-03-04T10:02:11.000000001-05:00')).toBe(1741100531000000001n);
  });

  it('timeToEpochNs and timeToEpochMs refuse text that is not RFC 3339', () => {
    for (const bad of [
      '',
      'yesterday',
      '2025-03-04',
      '2025-03-04T15:02:11.1234567890Z',
      '2025-13-45T99:99:99Z',
    ]) {
      expect(timeToEpochNs(bad)).toBeUndefined();
      expect(timeToEpochMs(bad)).toBeNaN();
    }
  });

  it('timeToEpochMs keeps microseconds', () => {
    expect(timeToEpochMs('2025-03-04T15:02:11.123456789Z')).toBeCloseTo(1741100531123.4568, 3);
  });

  it('formatEpoch round-trips through timeToEpochNs', () => {
    const text = formatEpoch(1741100531, 123456789);
    expect(text).toBe('2025-03-04T15:02:11.123456789Z');
    expect(formatEpoch(1741100531, 0)).toBe('2025-03-04T15:02:11Z');
    expect(formatEpoch(1741100532, 7)).toBe('2025-03-04T15:02:12.000000007Z'); // cache moves on
    expect(timeToEpochNs(text)).toBe(1741100531123456789n);
  });
});
