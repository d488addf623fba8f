/**
 * The fan-out benchmark's harness, run small: the real blaster, relay and client processes on
 * loopback, 6 clients on both codecs at 2k msgs/s. What is checked is that it measures what it
 * claims (every client gets every paced item once, direct and through the relay; the relay's CPU,
 * memory and counters are read; the result has its tables and targets); never how fast.
 */
import { describe, expect, it } from 'vitest';
import { fanoutResult, measureFanout, RELAY_LEG } from '../../bench/fanout.ts';

describe('bench fan-out harness', () => {
  it('delivers every paced item once to every client, direct and through the relay', async () => {
    const m = await measureFanout({
      rate: 2000,
      clients: 6,
      clientProcesses: 2,
      durationMs: 1500,
      warmupMs: 500,
      legs: [RELAY_LEG],
      symbols: 200,
    });
    expect(m.problems).toEqual([]);
    const relayed = m.legs[0];
    if (relayed === undefined) throw new Error('no relay leg');
    for (const phase of [m.direct, relayed.phase]) {
      expect(phase.frames).toBeGreaterThan(100);
      expect(phase.clients.map((c) => c.codec)).toEqual([
        'json',
        'msgpack',
        'json',
        'msgpack',
        'json',
        'msgpack',
      ]);
      for (const c of phase.clients) {
        expect(c.delivery).toEqual({
          expected: phase.messages,
          counted: phase.messages,
          lost: 0,
          duplicated: 0,
          missingMarkers: 0,
        });
        expect(c.latency.count).toBeGreaterThan(50);
        expect(c.latency.p99).toBeGreaterThan(0);
      }
    }
    expect(relayed.relayMessagesIn).toBe(relayed.phase.messages);
    expect(relayed.relayMessagesOut).toBe(6 * relayed.phase.messages);
    expect(relayed.relayErrors).toEqual({});
    expect(relayed.addedP99).toHaveLength(6);
    expect(relayed.phase.relayCpuS).toBeGreaterThan(0);
    expect(relayed.cpuUsPerClientMessage).toBeGreaterThan(0);
    expect(relayed.memory.connected.heapUsed).toBeGreaterThan(0);
    expect(relayed.memory.none.rssMiB).toBeGreaterThan(10);

    const result = fanoutResult(m, true);
    expect(result.tables).toHaveLength(2);
    // direct and relay, each by json, msgpack and all
    expect(result.tables[0]?.rows).toHaveLength(6);
    expect(result.targets.map((t) => t.name)).toEqual([
      'fanout relay: added p99, worst of 6 clients',
      'fanout relay: items lost or duplicated',
    ]);
    expect(result.targets[1]?.pass).toBe(true);
  }, 90_000);
});
