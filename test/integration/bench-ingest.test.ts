/**
 * The ingest and latency benchmark harnesses, run small: real blaster and worker processes on
 * loopback, all three clients on both codecs. What is checked is that the harness measures what it
 * claims to (every client counts exactly the messages sent, every latency frame is matched, both
 * codecs carry the same stream); never how fast anything is.
 */
import { describe, expect, it } from 'vitest';
import { decodeToArray } from '../../electron/stream/protocol/index.ts';
import { encodeFrame, feedSymbols, generateFeed, MARKER_SYMBOL } from '../../bench/feed.ts';
import { ingestResult, measureIngest } from '../../bench/ingest.ts';
import { latencyResult, measureLatency } from '../../bench/latency.ts';

describe('bench feed', () => {
  it('is deterministic, and JSON and msgpack carry the same messages', () => {
    const a = generateFeed({ messages: 2000, symbols: 50, seed: 7 });
    const b = generateFeed({ messages: 2000, symbols: 50, seed: 7 });
    expect(a.messages).toBe(2000);
    expect(a.frames.map((f) => encodeFrame(f, 'json'))).toEqual(
      b.frames.map((f) => encodeFrame(f, 'json')),
    );
    expect(a.mix.quotes + a.mix.trades + a.mix.bars + a.mix.dailyBars).toBe(2000);
    expect(a.mix.quotes).toBeGreaterThan(a.mix.trades);
    expect(feedSymbols(50, 7)).not.toContain(MARKER_SYMBOL);

    for (const frame of a.frames.slice(0, 10)) {
      expect(frame.length).toBeGreaterThan(0);
      expect(frame.length).toBeLessThanOrEqual(150);
      const json = decodeToArray(encodeFrame(frame, 'json'), false, 'json');
      const msgpack = decodeToArray(encodeFrame(frame, 'msgpack'), true, 'msgpack');
      expect(json.invalid).toEqual([]);
      expect(msgpack.invalid).toEqual([]);
      expect(json.messages).toHaveLength(frame.length);
      expect(msgpack.messages).toEqual(json.messages);
    }
  });
});

describe('bench harness', () => {
  it('ingest: every client counts exactly the messages sent, on both codecs', async () => {
    const m = await measureIngest({ messages: 3000, rounds: 1, warmupRounds: 0, symbols: 200 });
    expect(m.messages).toBe(3000);
    expect(m.runs.map((r) => `${r.client}-${r.codec}`).sort()).toEqual([
      'floor-json',
      'floor-msgpack',
      'ours-json',
      'ours-msgpack',
      'sdk-json',
      'sdk-msgpack',
    ]);
    for (const run of m.runs) {
      expect(run.count, `${run.client}-${run.codec}`).toBe(3000);
      expect(run.elapsedMs).toBeGreaterThan(0);
      expect(run.cpuUs).toBeGreaterThan(0);
    }
    const result = ingestResult(m, true);
    expect(result.tables[0]?.rows).toHaveLength(6);
    expect(result.targets.map((t) => t.name)).toEqual([
      'ingest json: b/a',
      'ingest msgpack: b/a',
      'ingest json: b/c',
      'ingest msgpack: b/c',
    ]);
  }, 90_000);

  it('latency: every paced frame is matched with its dispatch', async () => {
    const options = { rates: [2000], durationMs: 1000, warmupMs: 0, symbols: 200 };
    const runs = await measureLatency(options);
    const run = runs[0]!;
    expect(run.framesSent).toBeGreaterThan(100);
    expect(run.matched).toBe(run.framesSent);
    expect(run.messagesCounted).toBe(run.messagesSent);
    expect(run.latency.count).toBe(run.framesSent);
    expect(run.latency.p50).toBeGreaterThan(0);
    expect(latencyResult(runs, options, true).targets).toHaveLength(1);
  }, 60_000);
});
