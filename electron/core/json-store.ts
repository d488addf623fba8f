/**
 * One JSON file in the user-data folder (settings, watchlists, the encrypted credentials), read
 * once at start and written atomically after every change.
 *
 * Two promises to the user shape this module:
 * - Nothing is lost. A file that cannot be used (not JSON, empty, invalid per its schema, a
 *   folder where the file should be) is renamed to `<base>.corrupt-<timestamp>.json` beside it,
 *   never overwritten, and the app starts on defaults with a sentence saying where the old file
 *   went. When even that rename fails, the damaged file stays where it is and the store never
 *   writes on its own, so it survives until the user changes something.
 * - A crash never leaves half a file. A save writes a temp file in the same folder, fsyncs it and
 *   renames it over the target (a rename within one folder is atomic), then fsyncs the folder so
 *   that the rename itself survives a power cut. A failed save leaves the previous file as it was
 *   and no temp file behind.
 *
 * Saves are serialized and coalesced: one write is in flight at a time, and saves made meanwhile
 * collapse into one write of the latest value; the first write waits for the end of the current
 * turn, so saves made in one turn are one write. Dragging a symbol through a list of ten thousand
 * therefore costs one or two writes, not one per step, and an older value can never land after a
 * newer. A save whose JSON text is what the file already holds writes nothing (no temp file, no
 * fsync): the store remembers the text it last read or wrote with the file's identity (inode, size,
 * mtime) at that moment, and writes anyway when the file is no longer that one (moved aside,
 * replaced by another program, gone).
 *
 * A save killed halfway (kill -9, a power cut) can leave its temp file behind. Temp files are
 * named `.<name>.<pid>.<8 hex>.tmp`; the first load() of a store removes the ones for its file
 * whose process is gone, or that are older than STALE_TEMP_MS whoever wrote them. A temp file of a
 * live process is left alone while it is young: it may be a save in flight in another process
 * (a second app instance pointed at the same folder) that is about to be renamed into place.
 * Nothing acknowledged lives only in a temp file: a save resolves after the rename.
 *
 * A UTF-8 byte-order mark at the start of the file (some Windows editors write one) is skipped.
 *
 * No electron import: this runs in the Electron main process, in browser mode and in tests.
 */
import { randomUUID } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { z } from 'zod';
import { silentLogger, type Logger } from '../stream/log.ts';
import { errorMessage } from '../../shared/errors.ts';

export interface LoadProblem {
  /** What was wrong, as a clause ("it is not valid JSON"); never quotes the file's content. */
  readonly reason: string;
  /** A sentence for the user: what was wrong, where the old file is, that defaults are in use. */
  readonly message: string;
  /** Where the unusable file was moved; undefined when it could not be moved (it is still in place). */
  readonly backupPath: string | undefined;
}

export interface LoadOutcome<T> {
  readonly value: T;
  readonly problem?: LoadProblem;
}

export interface JsonFileStoreOptions<T> {
  readonly path: string;
  readonly schema: z.ZodType<T>;
  readonly defaults: () => T;
  readonly logger?: Logger;
  /** What the file is, for messages: 'settings' gives "Your settings file was damaged ...". */
  readonly label: string;
  /** File mode for new files (the credentials file uses 0o600). Default 0o644 (before umask). */
  readonly mode?: number;
  /** Wall clock for backup names; injectable so tests can make two backups in one millisecond. */
  readonly now?: () => number;
}

/**
 * A temp file older than this is stale whoever wrote it: a save takes milliseconds, and a process
 * stopped for longer than this cannot rename the file any more (see removeStaleTemps).
 */
export const STALE_TEMP_MS = 10 * 60_000;

/** The identity of the file at the moment its text was last read or written by this store. */
interface KnownFile {
  /** The canonical JSON text of its content (see canonicalText). */
  readonly text: string;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

type Op = { readonly kind: 'write'; readonly text: string } | { readonly kind: 'remove' };

interface PendingOp {
  op: Op;
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class JsonFileStore<T> {
  readonly path: string;
  readonly #schema: z.ZodType<T>;
  readonly #defaults: () => T;
  readonly #log: Logger;
  readonly #label: string;
  readonly #mode: number;
  readonly #now: () => number;
  /** The operation waiting for the one in flight; later saves replace its value. */
  #next: PendingOp | undefined;
  /** Settles when the pump has nothing left to do. */
  #idle: Promise<void> = Promise.resolve();
  #pumping = false;
  /** What the file holds, as far as this store knows; undefined when it does not know. */
  #known: KnownFile | undefined;
  #tempsSwept = false;

  constructor(options: JsonFileStoreOptions<T>) {
    this.path = options.path;
    this.#schema = options.schema;
    this.#defaults = options.defaults;
    this.#log = (options.logger ?? silentLogger()).child({
      module: 'json-store',
      file: options.label,
    });
    this.#label = options.label;
    this.#mode = options.mode ?? 0o644;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Reads the file. Never rejects: a missing file gives the defaults; an unusable one is kept as
   * a backup and gives the defaults with a `problem` to show the user. Waits for pending writes
   * first, so it reads what the last save wrote.
   *
   * Callers should not save the defaults right after a load with a problem whose `backupPath` is
   * undefined: that would replace the damaged file the user may still want.
   */
  async load(): Promise<LoadOutcome<T>> {
    await this.flush();
    if (!this.#tempsSwept) {
      this.#tempsSwept = true;
      await this.#sweepTemps();
    }
    this.#known = undefined;
    let text: string;
    let stats: Stats;
    try {
      ({ text, stats } = await readWithStats(this.path));
    } catch (err) {
      if (errCode(err) === 'ENOENT') return { value: this.#defaults() };
      const reason =
        errCode(err) === 'EISDIR'
          ? 'a folder is where the file should be'
          : `it could not be read: ${errorMessage(err)}`;
      return this.#damaged(reason, err);
    }
    // An editor's byte-order mark is not content (JSON.parse refuses it).
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === '') return this.#damaged('it was empty');
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      // V8's message quotes the text; the credentials file goes through here too, so say less.
      return this.#damaged('it is not valid JSON');
    }
    const parsed = this.#schema.safeParse(raw);
    if (!parsed.success)
      return this.#damaged(
        `it does not match the expected format: ${describeIssues(parsed.error)}`,
      );
    // The file as it is, not as the schema outputs it: a file the schema would change (a
    // migration, a dropped field) is written at the next save even when the value is the same.
    this.#known = knownFile(canonicalText(raw), stats);
    return { value: parsed.data };
  }

  /**
   * Writes `value` atomically. Resolves once a write holding this value (or a later one) is on
   * disk; rejects with an Error naming the path when that write fails, and at once, writing
   * nothing, when the value does not match the schema (a bug must not write a file the next start
   * would reject). A rejection nobody awaits is still logged, never unhandled.
   */
  save(value: T): Promise<void> {
    const parsed = this.#schema.safeParse(value);
    if (!parsed.success) {
      const err = new Error(
        `Refusing to write an invalid ${this.#label} file (${this.path}): ${describeIssues(parsed.error)}`,
      );
      this.#log.error({ err }, 'refused to write an invalid value');
      return Promise.reject(err);
    }
    return this.#enqueue({ kind: 'write', text: canonicalText(parsed.data) });
  }

  /**
   * Deletes the file (a missing file is fine), in order with saves: a save made before it cannot
   * bring the file back afterwards, and a save made after it wins.
   */
  remove(): Promise<void> {
    return this.#enqueue({ kind: 'remove' });
  }

  /** Resolves when no write is pending or in flight. Never rejects: save() reports failures. */
  flush(): Promise<void> {
    return this.#idle;
  }

  #enqueue(op: Op): Promise<void> {
    if (this.#next) {
      // Coalesce: the waiting write takes the newest value; its callers share one outcome.
      this.#next.op = op;
      return this.#next.promise;
    }
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Mark handled: a caller that fires and forgets must not crash the process; the log has it.
    promise.catch(() => undefined);
    this.#next = { op, promise, resolve, reject };
    if (!this.#pumping) this.#idle = this.#pump();
    return promise;
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      // The end of this turn first: saves made in the same turn become one write.
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (let job = this.#next; job; job = this.#next) {
        this.#next = undefined;
        try {
          if (job.op.kind === 'write') {
            if (!(await this.#unchanged(job.op.text))) await this.#write(job.op.text);
          } else {
            await this.#remove();
          }
          job.resolve();
        } catch (err) {
          this.#log.error(
            { err, path: this.path },
            `could not ${job.op.kind} the ${this.#label} file`,
          );
          // Whatever the file holds now, it is not known any more.
          this.#known = undefined;
          job.reject(err);
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Whether the file is still the one last read or written, holding exactly `text`. */
  async #unchanged(text: string): Promise<boolean> {
    const known = this.#known;
    if (known === undefined || known.text !== text) return false;
    try {
      const stats = await lstat(this.path);
      return (
        stats.isFile() &&
        stats.ino === known.ino &&
        stats.size === known.size &&
        stats.mtimeMs === known.mtimeMs
      );
    } catch {
      return false;
    }
  }

  /** Removes this file's stale temp files (see the module comment); never fails a load. */
  async #sweepTemps(): Promise<void> {
    try {
      const removed = await removeStaleTemps(this.path, this.#now);
      if (removed.length > 0) {
        this.#log.info({ removed }, 'removed temp files left by an interrupted save');
      }
    } catch (err) {
      this.#log.warn({ err, path: this.path }, 'could not look for stale temp files');
    }
  }

  async #write(text: string): Promise<void> {
    // Until the stat below says which file that is, the store does not know what is on disk.
    this.#known = undefined;
    await writeFileAtomic(this.path, text, { mode: this.#mode, label: this.#label });
    try {
      this.#known = knownFile(text, await lstat(this.path));
    } catch {
      // The next save writes again; nothing is lost.
    }
    this.#log.debug({ path: this.path, bytes: Buffer.byteLength(text) }, 'written');
  }

  async #remove(): Promise<void> {
    this.#known = undefined;
    try {
      await unlink(this.path);
    } catch (err) {
      if (errCode(err) === 'ENOENT') return;
      throw new Error(
        `Could not delete the ${this.#label} file ${this.path}: ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
    }
    await syncDir(dirname(this.path));
  }

  /** Keeps the unusable file as a backup and answers with the defaults and a sentence. */
  async #damaged(reason: string, cause?: unknown): Promise<LoadOutcome<T>> {
    const value = this.#defaults();
    try {
      const backupPath = await keepAsBackup(this.path, this.#now);
      this.#log.warn(
        { err: cause, path: this.path, backupPath, reason },
        `the ${this.#label} file was unusable; kept as a backup, using defaults`,
      );
      return {
        value,
        problem: {
          message: `Your ${this.#label} file was damaged (${reason}); it was kept as ${backupPath} and defaults are in use.`,
          reason,
          backupPath,
        },
      };
    } catch (err) {
      this.#log.error(
        { err, path: this.path, reason },
        `the ${this.#label} file was unusable and could not be moved aside; using defaults`,
      );
      return {
        value,
        problem: {
          message:
            `Your ${this.#label} file was damaged (${reason}) and could not be kept as a backup ` +
            `(${errorMessage(err)}); defaults are in use, and the damaged file stays at ${this.path} ` +
            'until you change something.',
          reason,
          backupPath: undefined,
        },
      };
    }
  }
}

/**
 * Writes `text` to `path` so that a crash never leaves half a file: a temp file in the same
 * folder, fsynced, renamed over the target, then the folder fsynced. A failure leaves the previous
 * file as it was and no temp file behind, and rejects with an Error naming the file (`label` says
 * what it is: "Could not save the settings file ..."). Creates the folder when missing.
 */
export async function writeFileAtomic(
  path: string,
  text: string,
  options: { readonly mode?: number; readonly label: string },
): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`);
  let created = false;
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(temp, 'wx', options.mode ?? 0o644);
    created = true;
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    created = false;
  } catch (err) {
    if (created) await unlink(temp).catch(() => undefined);
    throw new Error(`Could not save the ${options.label} file ${path}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  await syncDir(dir);
}

/**
 * Renames `path` to `<base>.corrupt-<timestamp>.json` beside it (a `-2`, `-3` ... suffix when that
 * name is taken: an earlier backup is never overwritten) and returns the new path. Rejects when the
 * rename fails; the file is then untouched.
 */
export async function keepAsBackup(path: string, now: () => number = Date.now): Promise<string> {
  const dir = dirname(path);
  const name = basename(path);
  const ext = extname(name);
  const base = ext ? name.slice(0, -ext.length) : name;
  // No ':' in the stamp: Windows forbids it in file names.
  const stamp = new Date(now()).toISOString().replace(/[:.]/g, '-');
  for (let n = 1; n <= 1000; n++) {
    const candidate = join(dir, `${base}.corrupt-${stamp}${n === 1 ? '' : `-${n}`}.json`);
    if (await exists(candidate)) continue;
    await rename(path, candidate);
    await syncDir(dir);
    return candidate;
  }
  throw new Error(`no free backup name for ${path}`);
}

/** `.<name>.<pid>.<8 hex>.tmp`: the temp files #write makes for the file `name`. */
function tempPattern(name: string): RegExp {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\.${escaped}\\.(\\d+)\\.[0-9a-f]{8}\\.tmp$`);
}

/**
 * Removes the temp files an interrupted save of `path` left beside it: only files named as this
 * module names its temp files for that path, and of those only the stale ones, whose process is
 * gone or that are older than STALE_TEMP_MS (a pid can be reused, so a live pid alone does not keep
 * a file forever). Returns the names removed. A file that vanishes meanwhile is skipped.
 */
export async function removeStaleTemps(
  path: string,
  now: () => number = Date.now,
): Promise<string[]> {
  const dir = dirname(path);
  const pattern = tempPattern(basename(path));
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = pattern.exec(name)?.[1];
    if (pid === undefined) continue;
    const temp = join(dir, name);
    try {
      const stats = await lstat(temp);
      if (!stats.isFile()) continue;
      const young = now() - stats.mtimeMs < STALE_TEMP_MS;
      if (young && processAlive(Number(pid))) continue;
      await unlink(temp);
      removed.push(name);
    } catch (err) {
      if (errCode(err) !== 'ENOENT') throw err;
    }
  }
  if (removed.length > 0) await syncDir(dir);
  return removed;
}

/** Whether a process with this id exists (signal 0 checks without sending anything). */
function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return errCode(err) === 'EPERM';
  }
}

/** The text a save writes for `value`: two-space JSON and a newline. */
function canonicalText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function knownFile(text: string, stats: Stats): KnownFile {
  return { text, ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs };
}

/**
 * Reads a file and its identity through one handle: the stats are taken before the read, so a
 * change made while it is read shows as a different mtime at the next save, never as the same one.
 */
async function readWithStats(path: string): Promise<{ text: string; stats: Stats }> {
  const handle = await open(path, 'r');
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) {
      throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read`), {
        code: 'EISDIR',
      });
    }
    return { text: await handle.readFile('utf8'), stats };
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (errCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/**
 * fsyncs a folder so that a rename or unlink in it survives a power cut. Windows cannot open a
 * folder for this and some filesystems refuse it: the write itself succeeded, so that is not an
 * error worth failing a save for.
 */
async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort, see above.
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : 'top level'}: ${i.message}`)
    .join('; ');
}

function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}
