import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
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

describe('timeToEpochMs fast path (cached second)', () => {
  /** The general parse, restated: what the fast path must equal bit for bit. */
  function reference(time: string): number {
    const m = /^(.{19})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(time);
    if (!m) return Number.NaN;
    const ms = Date.parse(`${m[1]}${m[3]}`);
    return m[2] === undefined ? ms : ms + Number(`0.${m[2]}`) * 1000;
  }

  it('equals the general parse for any second, fraction length and zone, in any order', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            second: fc.integer({ min: 0, max: 4_102_444_799 }), // up to 2099
            digits: fc.integer({ min: 0, max: 9 }),
            fraction: fc.integer({ min: 0, max: 999_999_999 }),
            zone: fc.constantFrom('Z', 'Z', 'Z', '+02:00', '-05:30'),
            repeat: fc.integer({ min: 1, max: 3 }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        (stamps) => {
          for (const { second, digits, fraction, zone, repeat } of stamps) {
            const base = new Date(second * 1000).toISOString().slice(0, 19);
            const frac =
              digits === 0 ? '' : `.${String(fraction).padStart(9, '0').slice(0, digits)}`;
            const text = `${base}${frac}${zone}`;
            for (let i = 0; i < repeat; i++)
              expect(Object.is(timeToEpochMs(text), reference(text))).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('does not take the fast path for text that only starts like the cached second', () => {
    expect(timeToEpochMs('2025-03-04T15:02:11.5Z')).toBe(Date.parse('2025-03-04T15:02:11Z') + 500);
    for (const bad of [
      '2025-03-04T15:02:11.Z',
      '2025-03-04T15:02:11.12a4Z',
      '2025-03-04T15:02:11.1234567890Z',
      '2025-03-04T15:02:11xZ',
      '2025-03-04T15:02:11.5',
    ]) {
      expect(timeToEpochMs(bad), bad).toBeNaN();
    }
  });
});
