/**
 * A small latency distribution as plain DOM bars: one flex column per histogram group, its height
 * the group's share of the tallest. No canvas, so it follows the theme's colours and needs no
 * resize handling; with ~24 bars it costs nothing to re-render once a second.
 *
 * The whole chart is one image for assistive technology: its label says what a sighted user reads
 * off the shape (how many samples, the range, where most of them sit).
 */
import type { ReactNode } from 'react';
import { formatCount, formatLatency } from '../model/format.ts';

export interface LatencyBar {
  /** Upper bound of the group, ms. */
  readonly upTo: number;
  readonly count: number;
}

/** A sentence describing the bars, for the chart's accessible name. */
export function describeBars(what: string, bars: readonly LatencyBar[]): string {
  const total = bars.reduce((sum, b) => sum + b.count, 0);
  const first = bars[0];
  const last = bars[bars.length - 1];
  if (total === 0 || first === undefined || last === undefined) return `${what}: no samples yet`;
  let peak = first;
  for (const b of bars) if (b.count > peak.count) peak = b;
  return (
    `${what}: ${formatCount(total)} samples up to ${formatLatency(last.upTo)}, ` +
    `most at or below ${formatLatency(peak.upTo)}`
  );
}

export function LatencyChart({
  bars,
  label,
}: {
  readonly bars: readonly LatencyBar[];
  /** What is measured, e.g. "Main to screen latency distribution". */
  readonly label: string;
}): ReactNode {
  const tallest = bars.reduce((max, b) => Math.max(max, b.count), 0);
  const first = bars[0];
  const last = bars[bars.length - 1];
  return (
    <figure className="latency-chart">
      <div className="latency-bars" role="img" aria-label={describeBars(label, bars)}>
        {tallest === 0 ? (
          <span className="latency-chart-empty">no samples</span>
        ) : (
          bars.map((b) => (
            <span
              key={b.upTo}
              className="latency-bar"
              title={`≤ ${formatLatency(b.upTo)}: ${formatCount(b.count)}`}
              // A non-empty group keeps a sliver, so a rare slow outlier still shows.
              style={{ height: `${b.count === 0 ? 0 : Math.max(3, (b.count / tallest) * 100)}%` }}
            />
          ))
        )}
      </div>
      {first !== undefined && last !== undefined ? (
        <figcaption className="latency-axis num" aria-hidden="true">
          <span>{formatLatency(first.upTo)}</span>
          <span>{formatLatency(last.upTo)}</span>
        </figcaption>
      ) : null}
    </figure>
  );
}
