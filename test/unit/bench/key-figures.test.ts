/**
 * The e2e section's key figures from a probe's records: which method it uses for what the page
 * has (Event Timing, the canvas's paint marks, both, neither), the presses of one tag only, and
 * the phase text of the key tables.
 */
import { describe, expect, it } from 'vitest';
import { keyFigures, phaseText } from '../../../bench/lib/key-figures.ts';
import { EVENT_THRESHOLD_MS, type ProbeData } from '../../../bench/lib/page-probe.ts';

function probe(eventTimingSupported: boolean): ProbeData {
  return {
    raf: [],
    longtasks: [],
    longtaskSupported: true,
    arrivals: [],
    arrivalsAtFrame: [],
    pulls: [],
    keys: [
      { key: 'ArrowDown', tag: 'arrow', timeStamp: 100 },
      { key: 'ArrowDown', tag: 'arrow', timeStamp: 200 },
      { key: 'ArrowDown', tag: 'arrow', timeStamp: 300 },
      { key: 'M', tag: 'type', timeStamp: 400 },
    ],
    // The third ArrowDown has no entry: it took under the threshold.
    events: [
      { name: 'keydown', startTime: 100, duration: 40, processingStart: 102, processingEnd: 110 },
      { name: 'keydown', startTime: 200, duration: 24, processingStart: 210, processingEnd: 215 },
      { name: 'keydown', startTime: 400, duration: 64, processingStart: 401, processingEnd: 402 },
    ],
    eventTimingSupported,
    // No mark follows the third ArrowDown.
    paints: [
      { selection: 'AAPL', at: 150 },
      { selection: 'MSFT', at: 230 },
    ],
  };
}

describe('keyFigures', () => {
  it('takes the later of Event Timing and the paint mark per press, with both beside it', () => {
    const k = keyFigures(probe(true), 'arrow', true);
    expect(EVENT_THRESHOLD_MS).toBe(16);
    expect(k).toEqual({
      presses: 3,
      method: 'event timing + data-painted-selection',
      // max(40, 50), max(24, 30), and no mark: never painted.
      p50: 50,
      p95: Infinity,
      max: Infinity,
      eventTiming: { p50: 24, p95: 40, max: 40 },
      perPress: { eventTiming: [40, 24, 16], marks: [50, 30, Number.NaN] },
      belowThreshold: 1,
      maxInputDelay: 10,
      phases: { inputDelay: [2, 10], handlers: [5, 8], toPaint: [9, 30] },
      attribute: { p50: 30, p95: 50, max: 50, missing: 1 },
    });
  });

  it('uses Event Timing alone where the paints are not watched', () => {
    const k = keyFigures(probe(true), 'arrow', false);
    expect(k.method).toBe('event timing');
    expect([k.p50, k.p95, k.max]).toEqual([24, 40, 40]);
    expect(k.perPress).toEqual({ eventTiming: [40, 24, 16] });
    expect(k.attribute).toBeUndefined();
  });

  it('falls back on the paint marks without Event Timing', () => {
    const k = keyFigures(probe(false), 'arrow', true);
    expect(k).toEqual({
      presses: 3,
      method: 'data-painted-selection',
      perPress: { marks: [50, 30, Number.NaN] },
      p50: 50,
      p95: Infinity,
      max: Infinity,
      belowThreshold: 0,
      maxInputDelay: Number.NaN,
      attribute: { p50: 30, p95: 50, max: 50, missing: 1 },
    });
  });

  it('says none when the page has neither', () => {
    const k = keyFigures(probe(false), 'arrow', false);
    expect(k.method).toBe('none');
    expect(k.presses).toBe(3);
    expect([k.p50, k.p95, k.max]).toEqual([Number.NaN, Number.NaN, Number.NaN]);
  });

  it("counts only the tag's presses", () => {
    const k = keyFigures(probe(true), 'type', false);
    expect(k.presses).toBe(1);
    expect([k.p50, k.max, k.belowThreshold]).toEqual([64, 64, 0]);
  });
});

describe('phaseText', () => {
  it('gives input delay / handlers / to paint at a percentile', () => {
    const { phases } = keyFigures(probe(true), 'arrow', false);
    expect(phases).toBeDefined();
    if (phases === undefined) return;
    expect(phaseText(phases, 50)).toBe('2 / 5 / 9');
    expect(phaseText(phases, 90)).toBe('10 / 8 / 30');
  });
});
