/**
 * The desktop app's stderr destination: a stream that fails (a packaged GUI app on Windows has no
 * usable stderr) must never become an exception in the main process, and the log ring keeps
 * every record regardless.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createCoreLogger, quietStreamDestination } from '../../../electron/core/logging.ts';

describe('quietStreamDestination', () => {
  it('swallows a stream that errors asynchronously and one that throws', async () => {
    const failing = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('bad file descriptor'), { code: 'EBADF' }));
      },
    });
    const throwing = {
      on: () => throwing,
      write: () => {
        throw new Error('write after end');
      },
    } as unknown as NodeJS.WritableStream;
    for (const stream of [failing, throwing]) {
      const { logger, ring } = createCoreLogger({ destination: quietStreamDestination(stream) });
      for (let i = 0; i < 20; i++) logger.info({ i }, 'written nowhere');
      // The asynchronous failure surfaces on a later turn; an unhandled 'error' would throw there.
      for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
      expect(ring.records().filter((r) => r.msg === 'written nowhere')).toHaveLength(20);
    }
    expect(failing.destroyed).toBe(true);
  });

  it('passes every line to a working stream', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString('utf8'));
        callback();
      },
    });
    const { logger } = createCoreLogger({ destination: quietStreamDestination(sink) });
    logger.info('one');
    logger.warn('two');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['one', 'two']);
  });
});

describe('createCoreLogger levels', () => {
  function sink() {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString('utf8'));
        callback();
      },
    });
    const msgs = () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    return { destination: quietStreamDestination(stream), msgs };
  }

  it('a quiet terminal (warn) still leaves info records in the ring, for the event log', () => {
    const out = sink();
    const { logger, ring } = createCoreLogger({ level: 'warn', destination: out.destination });
    logger.debug('chatter');
    logger.info('reconnect scheduled');
    logger.warn('socket error');
    expect(out.msgs()).toEqual(['socket error']);
    expect(ring.records().map((r) => r.msg)).toEqual(['reconnect scheduled', 'socket error']);
  });

  it('a verbose level reaches both; silent reaches neither', () => {
    const out = sink();
    const debug = createCoreLogger({ level: 'debug', destination: out.destination });
    debug.logger.debug('detail');
    expect(out.msgs()).toEqual(['detail']);
    expect(debug.ring.records().map((r) => r.msg)).toEqual(['detail']);

    const quiet = sink();
    const silent = createCoreLogger({ level: 'silent', destination: quiet.destination });
    silent.logger.error('nothing');
    expect(quiet.msgs()).toEqual([]);
    expect(silent.ring.records()).toEqual([]);
  });
});
