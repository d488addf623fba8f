import { afterEach, describe, expect, it, vi } from 'vitest';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';
import {
  Metrics,
  type HealthInput,
  type MetricsOptions,
} from '../../../electron/stream/metrics.ts';

/** Metrics on a fake monotonic clock starting at 10 s (a whole second, so seconds line up). */
function setup(options: MetricsOptions = {}) {
  const t = { mono: 10_000, wall: 1_700_000_000_000 };
  const m = new Metrics({
    now: () => t.mono,
    wallNow: () => t.wall,
    processUptime: () => 42_000.4,
    ...options,
  });
  const advance = (ms: number): void => {
    t.mono += ms;
    t.wall += ms;
  };
  return { t, m, advance };
}

/** One frame of `n` quotes, `bytes` long. */
function frame(m: Metrics, n: number, bytes = 100): void {
  m.frame(bytes);
  for (let i = 0; i < n; i++) m.message('quote');
}

describe('Metrics counters', () => {
  it('counts messages by kind, frames, bytes, invalid input by reason, connects and reconnects', () => {
    const { m } = setup();
    m.frame(500);
    m.message('quote');
    m.message('quote');
    m.message('trade');
    m.message('subscription');
    m.frame(20);
    m.message('error');
    m.invalid('bad-json');
    m.invalid('unknown-type', 3);
    m.invalid('bad-json');
    m.connected();
    m.connected();
    m.reconnected();
    const s = m.snapshot();
    expect(s.messages.total).toBe(5);
    expect(s.messages.byKind).toMatchObject({
      quote: 2,
      trade: 1,
      subscription: 1,
      error: 1,
      success: 0,
      bar: 0,
    });
    expect(s.frames).toBe(2);
    expect(s.bytes).toBe(520);
    expect(s.invalid).toEqual({ total: 5, byReason: { 'bad-json': 2, 'unknown-type': 3 } });
    expect(s.connects).toBe(2);
    expect(s.reconnects).toBe(1);
    expect(s.reconnectsLast10m).toBe(1);
  });

  it('gives a JSON-serializable snapshot', () => {
    const { m, advance } = setup();
    m.onState('live', 10_000);
    frame(m, 3);
    m.exchangeLatency(-2);
    m.dispatchLatency(0.05);
    advance(1500);
    const s = m.snapshot();
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    expect(s.at).toBe(1_700_000_001_500);
    expect(s.uptime.processMs).toBe(42_000);
  });
});

describe('Metrics rates', () => {
  it('averages whole seconds over 1, 10 and 60 s', () => {
    const { m, advance } = setup();
    expect(m.rates().messages).toEqual({ s1: 0, s10: 0, s60: 0 });
    // 10 seconds at 50 messages (5 frames of 10) and 1,000 bytes a second.
    for (let s = 0; s < 10; s++) {
      for (let f = 0; f < 5; f++) {
        frame(m, 10, 200);
        advance(200);
      }
    }
    // Ten whole seconds seen: every window divides by what it has.
    let r = m.rates();
    expect(r.messages).toEqual({ s1: 50, s10: 50, s60: 50 });
    expect(r.bytes).toEqual({ s1: 1000, s10: 1000, s60: 1000 });

    // One busy second, then quiet.
    frame(m, 500);
    advance(1000);
    r = m.rates();
    expect(r.messages.s1).toBe(500);
    expect(r.messages.s10).toBe((9 * 50 + 500) / 10);
    expect(r.messages.s60).toBe((10 * 50 + 500) / 11);
    advance(5000);
    r = m.rates();
    expect(r.messages.s1).toBe(0);
    expect(r.messages.s10).toBe((4 * 50 + 500) / 10);
  });

  it('counts messages in the second of the frame that carried them', () => {
    const { m, advance } = setup();
    advance(999);
    frame(m, 7);
    advance(1); // the next second begins; the 7 belong to the previous one
    frame(m, 3);
    expect(m.rates().messages.s1).toBe(7);
  });

  it('forgets everything after a silence longer than the ring', () => {
    const { m, advance } = setup();
    for (let s = 0; s < 70; s++) {
      frame(m, 100);
      advance(1000);
    }
    expect(m.rates().messages.s60).toBe(100);
    for (const gap of [61_000, 64_000, 100_000, 127_000]) {
      frame(m, 100);
      advance(gap);
      const r = m.rates().messages;
      expect(r).toEqual({ s1: 0, s10: 0, s60: 0 });
    }
  });
});

describe('Metrics state and uptime', () => {
  it('adds up time in each state, the current stretch included', () => {
    const { m, t } = setup();
    m.onState('connecting', 10_000);
    m.onState('authenticating', 10_200);
    m.onState('subscribing', 10_500);
    m.onState('live', 11_000);
    m.onState('backoff', 21_000);
    m.onState('connecting', 23_000);
    m.onState('live', 23_100);
    t.mono = 24_100;
    const s = m.snapshot();
    expect(s.state).toBe('live');
    expect(s.timeInStateMs).toEqual({
      idle: 0,
      connecting: 300,
      authenticating: 300,
      subscribing: 500,
      live: 11_000,
      backoff: 2000,
      stopped: 0,
      failed: 0,
    });
    expect(s.uptime.sessionMs).toBe(1000);
    expect(s.uptime.metricsMs).toBe(14_100);
  });

  it('has no session uptime when not live', () => {
    const { m } = setup();
    m.onState('live', 10_000);
    m.onState('backoff', 12_000);
    expect(m.snapshot().uptime.sessionMs).toBeNull();
  });

  it('reports time since the last data message', () => {
    const { m, advance } = setup();
    expect(m.snapshot().lastDataAgoMs).toBeNull();
    m.lastDataAt = 10_000;
    advance(2500);
    expect(m.snapshot().lastDataAgoMs).toBe(2500);
  });
});

describe('Metrics latency', () => {
  it('records both histograms; exchange skew is clamped and counted', () => {
    const { m } = setup();
    for (let i = 1; i <= 1000; i++) m.dispatchLatency(i / 100);
    m.exchangeLatency(-5);
    m.exchangeLatency(-1);
    m.exchangeLatency(20);
    const s = m.snapshot().latency;
    expect(s.receiptToDispatch.count).toBe(1000);
    expect(s.receiptToDispatch.p99).toBeCloseTo(9.9, 1);
    expect(s.receiptToDispatch.p50).toBeCloseTo(5, 1);
    expect(s.exchangeToReceipt).toMatchObject({ count: 3, negatives: 2, min: 0, max: 20 });
  });
});

describe('Metrics health', () => {
  const live: HealthInput = { state: 'live', subscribed: 3, stale: false };

  it('is healthy when live with fresh data, with no reasons', () => {
    const { m } = setup();
    m.onState('live', 10_000);
    expect(m.health(live)).toEqual({ status: 'healthy', reasons: [] });
    expect(m.health({ ...live, subscribed: 0, stale: true })).toEqual({
      status: 'healthy',
      reasons: [],
    });
  });

  it('is down when idle, stopped or failed, saying why', () => {
    const { m } = setup();
    expect(m.health({ ...live, state: 'idle' })).toEqual({
      status: 'down',
      reasons: ['The stream is not started.'],
    });
    expect(m.health({ ...live, state: 'stopped' }).status).toBe('down');
    const failed = m.health({
      ...live,
      state: 'failed',
      lastError: { code: 402, message: 'auth failed' },
    });
    expect(failed).toEqual({
      status: 'down',
      reasons: ['The connection failed for good: auth failed (402).'],
    });
  });

  it('is degraded while connecting, and down after trying for too long without being live', () => {
    const { m, t } = setup({ downAfterMs: 30_000 });
    m.onState('connecting', 10_000);
    expect(m.health({ ...live, state: 'connecting' })).toEqual({
      status: 'degraded',
      reasons: ['Connecting (connecting); not live yet.'],
    });
    m.onState('backoff', 12_000);
    m.onState('connecting', 20_000);
    t.mono = 40_000;
    expect(m.health({ ...live, state: 'connecting' }).status).toBe('degraded');
    t.mono = 40_001;
    expect(m.health({ ...live, state: 'connecting' })).toEqual({
      status: 'down',
      reasons: ['Not live for 30 s (connecting).'],
    });
  });

  it('is degraded while reconnecting after a live session, with the last error', () => {
    const { m, t } = setup();
    m.onState('live', 10_000);
    m.onState('backoff', 50_000);
    t.mono = 51_000;
    expect(
      m.health({ ...live, state: 'backoff', lastError: { code: 500, message: 'internal error' } }),
    ).toEqual({
      status: 'degraded',
      reasons: [
        'Reconnecting (waiting to reconnect) after the connection was lost.',
        'Last error: internal error (500).',
      ],
    });
    // The grace counts from when the live session ended, not from the first attempt.
    t.mono = 81_001;
    expect(m.health({ ...live, state: 'authenticating' }).status).toBe('down');
  });

  it('is degraded when live but stale while subscribed', () => {
    const { m, t } = setup();
    m.onState('live', 10_000);
    m.lastDataAt = 10_000;
    t.mono = 55_000;
    expect(m.health({ ...live, stale: true })).toEqual({
      status: 'degraded',
      reasons: ['No data for 45 s although 3 subscriptions are active.'],
    });
  });

  it('is degraded by a server error reported while live (e.g. refused symbols)', () => {
    const { m } = setup();
    m.onState('live', 10_000);
    const h = m.health({ ...live, lastError: { code: 405, message: 'symbol limit exceeded' } });
    expect(h).toEqual({
      status: 'degraded',
      reasons: ['Last error: symbol limit exceeded (405).'],
    });
    // A message that already names its code (describeCode's form) does not get it twice.
    expect(
      m.health({ ...live, lastError: { code: 406, message: 'connection limit exceeded (406)' } })
        .reasons,
    ).toEqual(['Last error: connection limit exceeded (406).']);
    expect(
      m.health({
        ...live,
        lastError: { code: 1006, message: 'connection closed (1006): getaddrinfo ENOTFOUND x' },
      }).reasons,
    ).toEqual(['Last error: connection closed (1006): getaddrinfo ENOTFOUND x.']);
  });

  it('is degraded by invalid input above 1 % of the last minute, and recovers after it', () => {
    const { m, advance } = setup();
    m.onState('live', 10_000);
    frame(m, 1000);
    m.invalid('bad-json', 5);
    expect(m.health(live).status).toBe('healthy');
    m.invalid('bad-json', 6);
    advance(30_000);
    expect(m.health(live)).toEqual({
      status: 'degraded',
      reasons: ['11 invalid messages in the last minute (1.1 % of input).'],
    });
    advance(30_000);
    expect(m.health(live).status).toBe('healthy');
  });

  it('is degraded by 3 reconnects in 10 minutes', () => {
    const { m, advance } = setup();
    m.onState('live', 10_000);
    m.reconnected();
    advance(60_000);
    m.reconnected();
    advance(60_000);
    expect(m.health(live).status).toBe('healthy');
    m.reconnected();
    expect(m.health(live)).toEqual({
      status: 'degraded',
      reasons: ['3 reconnects in the last 10 minutes.'],
    });
    advance(480_001);
    expect(m.health(live).status).toBe('healthy');
  });

  it('is degraded by handler errors in the last minute', () => {
    const { m } = setup();
    m.onState('live', 10_000);
    expect(m.health({ ...live, handlerErrorsLast60s: 1 })).toEqual({
      status: 'degraded',
      reasons: ['1 handler error in the last minute.'],
    });
  });

  it('keeps the worst status when several rules apply', () => {
    const { m } = setup();
    m.reconnected();
    m.reconnected();
    m.reconnected();
    const h = m.health({ ...live, state: 'stopped', handlerErrorsLast60s: 2 });
    expect(h.status).toBe('down');
    expect(h.reasons).toHaveLength(3);
  });
});

describe('Metrics log line', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs a compact summary at info on an interval until stopped', () => {
    vi.useFakeTimers();
    const ring = new LogRing();
    const { m, advance } = setup();
    m.onState('live', 10_000);
    frame(m, 10);
    m.dispatchLatency(2);
    advance(1000);
    const stop = m.startLogging(ringLogger(ring), 5000);
    vi.advanceTimersByTime(4999);
    expect(ring.records()).toHaveLength(0);
    vi.advanceTimersByTime(1);
    vi.advanceTimersByTime(5000);
    expect(ring.records()).toHaveLength(2);
    const rec = ring.records()[0] as {
      level: number;
      msg: string;
      metrics: Record<string, unknown>;
    };
    expect(rec.level).toBe(30);
    expect(rec.msg).toBe('metrics');
    expect(rec.metrics).toMatchObject({
      state: 'live',
      messages: 10,
      frames: 1,
      msgsPerSec1s: 10,
      dispatchP99Ms: 2,
    });
    stop();
    vi.advanceTimersByTime(60_000);
    expect(ring.records()).toHaveLength(2);
  });
});

describe('health with refused subscriptions', () => {
  it('is degraded while the server refuses any wanted subscription', () => {
    const m = new Metrics({ now: () => 1_000 });
    m.onState('live', 1_000);
    expect(m.health({ state: 'live', subscribed: 2, stale: false, refused: 0 }).status).toBe(
      'healthy',
    );
    const h = m.health({ state: 'live', subscribed: 2, stale: false, refused: 3 });
    expect(h.status).toBe('degraded');
    expect(h.reasons.join(' ')).toContain('refused 3 subscriptions');
  });
});
