/**
 * `market-monitor relay`'s NATS flags: a NATS upstream or publish URL, the subject prefix and the
 * lease, and the command lines that make no sense refused as usage errors (exit 2).
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../electron/cli/args.ts';
import { parseRelayArgs } from '../../../electron/cli/relay-command.ts';

const ENV = {};

describe('relay NATS flags', () => {
  it('takes a NATS upstream with its prefix and lease', () => {
    const plan = parseRelayArgs(
      ['--upstream', 'nats://10.0.0.5:4222', '--nats-prefix', 'md.alpaca', '--nats-lease', '2.5'],
      ENV,
    );
    expect(plan).toMatchObject({
      upstream: 'nats',
      natsUpstream: 'nats://10.0.0.5:4222',
      publish: undefined,
      natsPrefix: 'md.alpaca',
      natsLeaseMs: 2500,
    });
  });

  it('publishes beside the simulator or Alpaca, with the defaults', () => {
    expect(parseRelayArgs(['--publish', 'nats://127.0.0.1:4222'], ENV)).toMatchObject({
      upstream: 'simulator',
      natsUpstream: undefined,
      publish: 'nats://127.0.0.1:4222',
      natsPrefix: 'alpaca',
      natsLeaseMs: 30_000,
    });
    const env = { APCA_API_KEY_ID: 'k', APCA_API_SECRET_KEY: 's' };
    expect(parseRelayArgs(['--publish', 'nats://nats.lan:4222'], env)).toMatchObject({
      upstream: 'alpaca',
      publish: 'nats://nats.lan:4222',
    });
  });

  it('refuses what cannot work, saying why', () => {
    const cases: [string[], RegExp][] = [
      [['--upstream', 'nats'], /--upstream nats:\/\/HOST:PORT/],
      [['--upstream', 'http://127.0.0.1:4222'], /--upstream: .*use nats:\/\/HOST:PORT/],
      [['--upstream', 'nats://'], /--upstream: /],
      [['--upstream', 'nats://h:4222/path'], /no path/],
      [['--publish', 'localhost:4222'], /--publish: /],
      [['--publish', 'not a url'], /--publish: .*not a URL/],
      [
        ['--upstream', 'nats://h:4222', '--publish', 'nats://h:4222'],
        /--publish needs the relay that holds the Alpaca connection/,
      ],
      [['--nats-prefix', 'a.*'], /--nats-prefix/],
      [['--nats-prefix', 'a..b'], /--nats-prefix/],
      [['--nats-lease', '0.5'], /--nats-lease must be from 1 to 600 seconds/],
      [['--nats-lease', '601'], /--nats-lease must be from 1 to 600 seconds/],
      [['--nats-lease', 'soon'], /--nats-lease/],
    ];
    for (const [argv, message] of cases) {
      let error: unknown;
      try {
        parseRelayArgs(argv, ENV);
      } catch (err) {
        error = err;
      }
      expect(error, argv.join(' ')).toBeInstanceOf(UsageError);
      expect((error as Error).message, argv.join(' ')).toMatch(message);
    }
  });

  it('never repeats a NATS password or token in its refusals', () => {
    for (const url of [
      'nats://alice:hunter22@h:4222/path',
      'tls://alice:hunter22@h:4222',
      'nats://alice:hunter22@:4222',
      'nats://alice:hunter22@h:99999',
      'nats://hunter22@h:4222/x',
      'nats://alice:hunter22%zz@h:4222',
    ]) {
      let error: unknown;
      try {
        parseRelayArgs(['--upstream', url], ENV);
      } catch (err) {
        error = err;
      }
      expect(error, url).toBeInstanceOf(UsageError);
      expect((error as Error).message, url).not.toMatch(/hunter22/);
    }
  });
});
