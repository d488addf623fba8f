/**
 * JsonFileStore against what users and crashes do to its files (issue 15, findings 4, 6 and 7):
 * an editor's byte-order mark, thousands of saves that change nothing, and temp files left by a
 * save that was killed halfway, with a real kill -9 of a real child process in the middle of
 * saving.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_SETTINGS, settingsSchema, type Settings } from '../../../shared/api.ts';
import * as jsonStore from '../../../electron/core/json-store.ts';
import { JsonFileStore, keepAsBackup } from '../../../electron/core/json-store.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'json-store-hard-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function settingsStore(path = join(dir, 'settings.json')) {
  const ring = new LogRing();
  const store = new JsonFileStore<Settings>({
    path,
    schema: settingsSchema,
    defaults: () => ({ ...DEFAULT_SETTINGS }),
    logger: ringLogger(ring),
    label: 'settings',
  });
  const writes = (): number => ring.records().filter((r) => r.msg === 'written').length;
  return { store, ring, path, writes };
}

const LIGHT: Settings = { ...DEFAULT_SETTINGS, theme: 'light' };

/** The pid of a process that has exited (not reused within a test's lifetime in practice). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  const pid = child.pid;
  await once(child, 'exit');
  if (pid === undefined) throw new Error('no pid');
  return pid;
}

describe('a UTF-8 byte-order mark (finding 4)', () => {
  it('loads a settings file that starts with a BOM as it is, and moves nothing aside', async () => {
    const { store, path } = settingsStore();
    await writeFile(path, `\uFEFF${JSON.stringify(LIGHT, null, 2)}\n`, 'utf8');
    const outcome = await store.load();
    expect(outcome.problem).toBeUndefined();
    expect(outcome.value).toEqual(LIGHT);
    expect(await readdir(dir)).toEqual(['settings.json']);
  });

  it('still calls a file that is only a BOM empty', async () => {
    const { store, path } = settingsStore();
    await writeFile(path, '\uFEFF', 'utf8');
    const outcome = await store.load();
    expect(outcome.problem?.reason).toBe('it was empty');
  });
});

describe('saves that change nothing (finding 6)', () => {
  it('3,000 saves of the value on disk write nothing and touch nothing', async () => {
    const { store, path, writes } = settingsStore();
    await store.save(LIGHT);
    expect(writes()).toBe(1);
    const before = await stat(path);
    for (let i = 0; i < 3000; i++) await store.save({ ...LIGHT });
    expect(writes()).toBe(1);
    const after = await stat(path);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(await readdir(dir)).toEqual(['settings.json']);
  });

  it('a value loaded and saved unchanged is not written', async () => {
    const first = settingsStore();
    await first.store.save(LIGHT);
    const second = settingsStore();
    expect((await second.store.load()).value).toEqual(LIGHT);
    await second.store.save(LIGHT);
    expect(second.writes()).toBe(0);
  });

  it('a change is written, and so is a change back', async () => {
    const { store, path, writes } = settingsStore();
    await store.save(LIGHT);
    await store.save(DEFAULT_SETTINGS);
    await store.save(LIGHT);
    expect(writes()).toBe(3);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(LIGHT);
  });

  it('writes again when another program replaced the file, or it was moved aside or deleted', async () => {
    const { store, path, writes } = settingsStore();
    await store.save(LIGHT);
    // Another program rewrites it (same value, different text).
    await writeFile(path, JSON.stringify(DEFAULT_SETTINGS));
    await store.save(LIGHT);
    expect(writes()).toBe(2);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(LIGHT);
    // Moved aside (what the credentials store does with a file it cannot use).
    await keepAsBackup(path);
    await store.save(LIGHT);
    expect(writes()).toBe(3);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(LIGHT);
    // Deleted.
    await rm(path);
    await store.save(LIGHT);
    expect(writes()).toBe(4);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(LIGHT);
  });

  it('after remove(), the same value is written again', async () => {
    const { store, path, writes } = settingsStore();
    await store.save(LIGHT);
    await store.remove();
    await store.save(LIGHT);
    expect(writes()).toBe(2);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(LIGHT);
  });
});

describe('temp files left by an interrupted save (finding 7)', () => {
  it('load() removes stale temp files of this file only, and keeps a live process’s young one', async () => {
    const { store, path, ring } = settingsStore();
    await writeFile(path, JSON.stringify(LIGHT));
    const dead = await deadPid();
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const live = sleeper.pid!;
      const names = {
        deadPid: `.settings.json.${dead}.0a1b2c3d.tmp`,
        livePidYoung: `.settings.json.${live}.0a1b2c3e.tmp`,
        livePidOld: `.settings.json.${live}.0a1b2c3f.tmp`,
        otherFile: `.watchlists.json.${dead}.0a1b2c40.tmp`,
        notOurs1: '.settings.json.tmp',
        notOurs2: `settings.json.${dead}.0a1b2c41.tmp`,
        notOurs3: `.settings.json.${dead}.XYZ.tmp`,
      };
      for (const name of Object.values(names)) await writeFile(join(dir, name), '{"half":');
      // Through the namespace, so that this file still loads against a store without the constant.
      const staleMs = (jsonStore as { STALE_TEMP_MS?: number }).STALE_TEMP_MS ?? 600_000;
      const old = (Date.now() - staleMs - 60_000) / 1000;
      await utimes(join(dir, names.livePidOld), old, old);

      const outcome = await store.load();
      expect(outcome.problem).toBeUndefined();
      expect(outcome.value).toEqual(LIGHT);
      const left = (await readdir(dir)).sort();
      expect(left).toEqual(
        [
          'settings.json',
          names.livePidYoung,
          names.otherFile,
          names.notOurs1,
          names.notOurs2,
          names.notOurs3,
        ].sort(),
      );
      expect(
        ring.records().some((r) => r.msg === 'removed temp files left by an interrupted save'),
      ).toBe(true);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('kill -9 while saving: every acknowledged save survives, and the next load leaves no temp file', async () => {
    const path = join(dir, 'settings.json');
    const script = fileURLToPath(new URL('../../support/json-store-saver.ts', import.meta.url));
    let lastAcked = -1;
    for (let run = 0; run < 3; run++) {
      const child = spawn(process.execPath, [script, path, String(run * 1_000_000)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const lines = createInterface({ input: child.stdout });
      let acked = 0;
      await new Promise<void>((resolve) => {
        lines.on('line', (line) => {
          lastAcked = Number(line);
          // Kill at a different point of the save loop each run.
          if (++acked === 40 + run * 37) {
            child.kill('SIGKILL');
            resolve();
          }
        });
        child.once('exit', () => resolve());
      });
      await once(child, 'exit').catch(() => undefined);
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
      expect(child.signalCode).toBe('SIGKILL');

      const store = new JsonFileStore<{ n: number }>({
        path,
        schema: z.strictObject({ n: z.number().int() }),
        defaults: () => ({ n: -1 }),
        label: 'counter',
      });
      const outcome = await store.load();
      expect(outcome.problem).toBeUndefined();
      // The child acknowledges only after save() resolved: that value or a later one is there.
      expect(outcome.value.n).toBeGreaterThanOrEqual(lastAcked);
      expect(lastAcked).toBeGreaterThanOrEqual(run * 1_000_000);
      expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    }
  }, 20_000);
});
