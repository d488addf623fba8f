/**
 * What the stream's metrics look like from outside: the shapes main computes
 * (electron/stream/metrics.ts, histogram.ts) and every view shows. Here, not in electron/stream,
 * because the renderer reads them too and imports shared/ only.
 */
import type { ConnectionState } from './connection.ts';
import { DATA_KINDS, type ControlMessage, type DataKind } from './market.ts';

/** Count, extremes, mean and the usual percentiles, in milliseconds. */
export interface HistogramSummary {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  /** Values below zero, recorded as 0 (e.g. exchange clocks ahead of ours). */
  readonly negatives: number;
  /** Values above the histogram's range (HISTOGRAM_MAX_MS, about 67 s), recorded as that. */
  readonly overflows: number;
}

export type MessageKind = DataKind | ControlMessage['kind'];

export const MESSAGE_KINDS: readonly MessageKind[] = [
  ...DATA_KINDS,
  'success',
  'error',
  'subscription',
];

export interface Rates {
  readonly s1: number;
  readonly s10: number;
  readonly s60: number;
}

export interface MetricsSnapshot {
  /** Wall-clock ms when taken. */
  readonly at: number;
  readonly state: ConnectionState;
  readonly messages: {
    readonly total: number;
    readonly byKind: Readonly<Record<MessageKind, number>>;
  };
  readonly frames: number;
  readonly bytes: number;
  readonly invalid: { readonly total: number; readonly byReason: Readonly<Record<string, number>> };
  readonly connects: number;
  readonly reconnects: number;
  readonly reconnectsLast10m: number;
  /** Total ms spent in each state, the current stretch included. */
  readonly timeInStateMs: Readonly<Record<ConnectionState, number>>;
  readonly uptime: {
    /** Since the current live session began; null when not live. */
    readonly sessionMs: number | null;
    /** Since these metrics were created. */
    readonly metricsMs: number;
    /** Of the process. */
    readonly processMs: number;
  };
  /** Per second, averaged over the last 1 / 10 / 60 whole seconds. */
  readonly rates: { readonly messages: Rates; readonly bytes: Rates };
  readonly latency: {
    /** Exchange timestamp to receipt, sampled by the client; negatives (clock skew) recorded as 0. */
    readonly exchangeToReceipt: HistogramSummary;
    /** Receipt of a frame to the end of its dispatch. */
    readonly receiptToDispatch: HistogramSummary;
  };
  /** Ms since the last data message; null when none yet. */
  readonly lastDataAgoMs: number | null;
}

export type HealthStatus = 'healthy' | 'degraded' | 'down';

export interface Health {
  readonly status: HealthStatus;
  /** Short sentences saying what is wrong; empty when healthy. */
  readonly reasons: string[];
  /**
   * A calm remark that is not a fault: the market is closed and when it opens (the silence of
   * a closed market is not a degraded connection).
   */
  readonly note?: string | undefined;
}
