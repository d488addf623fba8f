import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_SETTINGS, settingsSchema, type Settings } from '../../../shared/api.ts';
import { JsonFileStore, keepAsBackup } from '../../../electron/core/json-store.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'json-store-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function settingsStore(path = join(dir, 'settings.json'), now?: () => number) {
  const ring = new LogRing();
  const store = new JsonFileStore<Settings>({
    path,
    schema: settingsSchema,
    defaults: () => ({ ...DEFAULT_SETTINGS }),
    logger: ringLogger(ring),
    label: 'settings',
    ...(now ? { now } : {}),
  });
  return { store, ring, path };
}

const LIGHT: Settings = { ...DEFAULT_SETTINGS, theme: 'light' };

async function backupsIn(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((name) => name.includes('.corrupt-')).sort();
}

describe('JsonFileStore.load', () => {
  it('gives the defaults and no problem when the file is missing, and writes nothing', async () => {
    const { store } = settingsStore();
    const outcome = await store.load();
    expect(outcome).toEqual({ value: DEFAULT_SETTINGS });
    expect(await readdir(dir)).toEqual([]);
  });

  it('reads a valid file', async () => {
    const { store, path } = settingsStore();
    await writeFile(path, JSON.stringify(LIGHT));
    const outcome = await store.load();
    expect(outcome.value).toEqual(LIGHT);
    expect(outcome.problem).toBeUndefined();
  });

  it('reads settings from before activeWatchlist as they are, and with it', async () => {
    const { store, path } = settingsStore();
    // A settings.json written by a build that had no active watchlist.
    await writeFile(
      path,
      JSON.stringify({
        version: 1,
        source: { kind: 'simulator', codec: 'msgpack' },
        theme: 'light',
        autoConnect: false,
        allowInsecureCredentialStorage: false,
      }),
    );
    const old = await store.load();
    expect(old.problem).toBeUndefined();
    expect(old.value.activeWatchlist).toBeUndefined();
    expect(old.value.theme).toBe('light');
    const active: Settings = { ...LIGHT, activeWatchlist: 'wl-2' };
    await writeFile(path, JSON.stringify(active));
    expect(await store.load()).toEqual({ value: active });
  });

  it('keeps a file that is not JSON as a backup, unchanged, and says where it went', async () => {
    const { store, path, ring } = settingsStore();
    await writeFile(path, '{"version": 1, "theme": "li');
    const outcome = await store.load();
    expect(outcome.value).toEqual(DEFAULT_SETTINGS);
    const backups = await backupsIn(dir);
    expect(backups).toHaveLength(1);
    const backupPath = join(dir, backups[0] as string);
    expect(backups[0]).toMatch(/^settings\.corrupt-.+\.json$/);
    expect(await readFile(backupPath, 'utf8')).toBe('{"version": 1, "theme": "li');
    expect(outcome.problem?.backupPath).toBe(backupPath);
    expect(outcome.problem?.message).toBe(
      `Your settings file was damaged (it is not valid JSON); it was kept as ${backupPath} and defaults are in use.`,
    );
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(ring.records().some((r) => r.level === 40 && r.backupPath === backupPath)).toBe(true);
  });

  it('never quotes the content in the reason (V8 JSON errors do)', async () => {
    const { store, path } = settingsStore();
    await writeFile(path, 'hunter2-is-my-password');
    const outcome = await store.load();
    expect(outcome.problem?.message).not.toContain('hunter2');
  });

  it('keeps a schema-invalid file and names the field', async () => {
    const { store, path } = settingsStore();
    const bad = JSON.stringify({ ...DEFAULT_SETTINGS, theme: 'purple' });
    await writeFile(path, bad);
    const outcome = await store.load();
    expect(outcome.value).toEqual(DEFAULT_SETTINGS);
    expect(outcome.problem?.reason).toMatch(/^it does not match the expected format: theme: /);
    const backups = await backupsIn(dir);
    expect(await readFile(join(dir, backups[0] as string), 'utf8')).toBe(bad);
  });

  it('keeps an empty (whitespace-only) file', async () => {
    const { store, path } = settingsStore();
    await writeFile(path, ' \n');
    const outcome = await store.load();
    expect(outcome.value).toEqual(DEFAULT_SETTINGS);
    expect(outcome.problem?.reason).toBe('it was empty');
    expect(await backupsIn(dir)).toHaveLength(1);
  });

  it('moves a folder that is in the way aside with its contents', async () => {
    const { store, path } = settingsStore();
    await mkdir(path);
    await writeFile(join(path, 'inside.txt'), 'keep me');
    const outcome = await store.load();
    expect(outcome.value).toEqual(DEFAULT_SETTINGS);
    expect(outcome.problem?.reason).toBe('a folder is where the file should be');
    const backupPath = outcome.problem?.backupPath as string;
    expect(await readFile(join(backupPath, 'inside.txt'), 'utf8')).toBe('keep me');
    // Now the path is free, and a save works.
    await store.save(LIGHT);
    expect((await store.load()).value).toEqual(LIGHT);
  });

  it('never overwrites an earlier backup, even within one millisecond', async () => {
    const { store, path } = settingsStore(undefined, () => Date.UTC(2025, 2, 4, 15, 2, 11, 123));
    await writeFile(path, 'first');
    const one = await store.load();
    await writeFile(path, 'second');
    const two = await store.load();
    await writeFile(path, 'third');
    const three = await store.load();
    const paths = [one, two, three].map((o) => o.problem?.backupPath);
    expect(new Set(paths).size).toBe(3);
    expect(paths[0]).toBe(join(dir, 'settings.corrupt-2025-03-04T15-02-11-123Z.json'));
    expect(paths[1]).toBe(join(dir, 'settings.corrupt-2025-03-04T15-02-11-123Z-2.json'));
    expect(await readFile(paths[0] as string, 'utf8')).toBe('first');
    expect(await readFile(paths[1] as string, 'utf8')).toBe('second');
    expect(await readFile(paths[2] as string, 'utf8')).toBe('third');
  });

  it('when the backup cannot be made, says so and leaves the damaged file in place', async () => {
    // A file named like the folder it should live in: reading fails (ENOTDIR), so does any rename.
    const blocker = join(dir, 'blocker');
    await writeFile(blocker, 'not a folder');
    const { store } = settingsStore(join(blocker, 'settings.json'));
    const outcome = await store.load();
    expect(outcome.value).toEqual(DEFAULT_SETTINGS);
    expect(outcome.problem?.backupPath).toBeUndefined();
    expect(outcome.problem?.message).toMatch(
      /^Your settings file was damaged \(it could not be read: .*\) and could not be kept as a backup \(.*\); defaults are in use, and the damaged file stays at .* until you change something\.$/,
    );
    expect(await readFile(blocker, 'utf8')).toBe('not a folder');
  });

  it('keepAsBackup rejects when there is nothing to move, creating nothing', async () => {
    await expect(keepAsBackup(join(dir, 'absent.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('JsonFileStore.save', () => {
  it('writes a file load() reads back, creating the folder, leaving no temp file', async () => {
    const nested = join(dir, 'a', 'b');
    const { store, path } = settingsStore(join(nested, 'settings.json'));
    await store.save(LIGHT);
    expect(await readdir(nested)).toEqual(['settings.json']);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(LIGHT);
    expect((await store.load()).value).toEqual(LIGHT);
  });

  it('writes new files with the requested mode', async () => {
    const path = join(dir, 'secret.json');
    const store = new JsonFileStore({
      path,
      schema: z.strictObject({ a: z.number() }),
      defaults: () => ({ a: 0 }),
      label: 'test',
      mode: 0o600,
    });
    await store.save({ a: 1 });
    if (process.platform !== 'win32') expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('refuses an invalid value, writing nothing and keeping the old file', async () => {
    const { store, path } = settingsStore();
    await store.save(LIGHT);
    const before = await readFile(path, 'utf8');
    const bad = { ...LIGHT, theme: 'purple' } as unknown as Settings;
    await expect(store.save(bad)).rejects.toThrow(
      /^Refusing to write an invalid settings file \(.*settings\.json\): theme: /,
    );
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(await readdir(dir)).toEqual(['settings.json']);
  });

  it('writes what the schema outputs (normalized), not the raw value', async () => {
    const path = join(dir, 'list.json');
    const schema = z.strictObject({ s: z.string().transform((v) => v.toUpperCase()) });
    const store = new JsonFileStore<{ s: string }>({
      path,
      schema,
      defaults: () => ({ s: '' }),
      label: 'list',
    });
    await store.save({ s: 'aapl' });
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ s: 'AAPL' });
  });

  it('a failing rename rejects naming the path, keeps what was there and leaves no temp file', async () => {
    const { store, path } = settingsStore();
    await mkdir(path);
    await writeFile(join(path, 'inside.txt'), 'keep me');
    const failed = store.save(LIGHT);
    await expect(failed).rejects.toThrow(`Could not save the settings file ${path}: `);
    await expect(failed).rejects.toHaveProperty('cause.code');
    expect(await readdir(dir)).toEqual(['settings.json']);
    expect(await readFile(join(path, 'inside.txt'), 'utf8')).toBe('keep me');
  });

  it('a save whose folder cannot be made rejects naming the path; the queue keeps working', async () => {
    const { store, path } = settingsStore();
    await store.save(LIGHT);
    // A file where the folder should be: mkdir fails.
    const sub = join(dir, 'sub');
    const other = new JsonFileStore<Settings>({
      path: join(sub, 'settings.json'),
      schema: settingsSchema,
      defaults: () => DEFAULT_SETTINGS,
      label: 'settings',
    });
    await writeFile(sub, 'in the way');
    await expect(other.save(LIGHT)).rejects.toThrow(
      `Could not save the settings file ${join(sub, 'settings.json')}: `,
    );
    expect(await readFile(sub, 'utf8')).toBe('in the way');
    await expect(other.save(DEFAULT_SETTINGS)).rejects.toThrow(/Could not save/);
    await rm(sub);
    await other.save(DEFAULT_SETTINGS);
    expect((await other.load()).value).toEqual(DEFAULT_SETTINGS);
    await store.save(DEFAULT_SETTINGS);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(DEFAULT_SETTINGS);
  });

  it('an unawaited failing save is logged, not an unhandled rejection', async () => {
    const { store, path, ring } = settingsStore();
    await mkdir(path);
    await writeFile(join(path, 'x'), 'x');
    void store.save(LIGHT);
    await store.flush();
    expect(
      ring.records().some((r) => r.level === 50 && r.msg === 'could not write the settings file'),
    ).toBe(true);
  });

  it('coalesces: saves made in one turn become one write of the latest value', async () => {
    const { store, path, ring } = settingsStore();
    const saves: Promise<void>[] = [];
    const themes = ['light', 'dark'] as const;
    for (let i = 0; i < 50; i++) {
      saves.push(
        store.save({
          ...DEFAULT_SETTINGS,
          theme: themes[i % 2] as Settings['theme'],
          autoConnect: i === 49,
        }),
      );
    }
    await Promise.all(saves);
    const onDisk = JSON.parse(await readFile(path, 'utf8')) as Settings;
    expect(onDisk).toEqual({ ...DEFAULT_SETTINGS, theme: 'dark', autoConnect: true });
    // The first write waits for the end of the turn: all 50 share it.
    expect(new Set(saves).size).toBe(1);
    expect(ring.records().filter((r) => r.msg === 'written')).toHaveLength(1);
    expect(await readdir(dir)).toEqual(['settings.json']);
  });

  it('coalesces: saves made while a write is in flight become one more write', async () => {
    const { store, path, ring } = settingsStore();
    const first = store.save(LIGHT);
    // Let the first write start, then pile up saves behind it.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const later = Array.from({ length: 20 }, (_, i) =>
      store.save({ ...DEFAULT_SETTINGS, autoConnect: i % 2 === 0 }),
    );
    await Promise.all([first, ...later]);
    expect(new Set(later).size).toBe(1);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      ...DEFAULT_SETTINGS,
      autoConnect: false,
    });
    expect(ring.records().filter((r) => r.msg === 'written')).toHaveLength(2);
  });

  it('flush() waits until the last pending value is on disk', async () => {
    const { store, path } = settingsStore();
    void store.save(DEFAULT_SETTINGS);
    void store.save(LIGHT);
    await store.flush();
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(LIGHT);
    // And resolves at once when nothing is pending.
    await store.flush();
  });

  it('load() reads what a pending save writes', async () => {
    const { store } = settingsStore();
    void store.save(LIGHT);
    expect((await store.load()).value).toEqual(LIGHT);
  });

  it('remove() deletes the file in order with saves', async () => {
    const { store, path } = settingsStore();
    await store.save(LIGHT);
    const removed = store.remove();
    await removed;
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    await store.remove(); // missing is fine
    void store.save(LIGHT);
    void store.remove(); // coalesced over the waiting... or after the in-flight write
    await store.flush();
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    void store.remove();
    await store.save(DEFAULT_SETTINGS);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(DEFAULT_SETTINGS);
  });
});
