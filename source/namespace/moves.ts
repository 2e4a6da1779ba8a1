// An object whose key is also a prefix (`logs` and `logs/2024/a`) keeps its bytes inside the
// directory, at `logs/.sluice-object`; every other object stays a plain file. The file moves in
// when a deeper key needs the directory (nest) and back out when the last deeper key goes
// (unnest), through a staging folder beside it (`.sluice-tmp.nest.<hash>`), so that the bytes
// are always in one of three places and never copied.
//
// Moves of one key are serialized across processes by a lock, and each move makes the key's
// sequence number odd while it runs and even once done (a seqlock, kept as the mtime of a small
// file under .sluice/moves). A reader that finds the object at neither place reads the sequence
// before and after looking again: the same even number means no move ran meanwhile, so the
// object is absent; otherwise it looks again. A reader that finds it never waits: one of the two
// places holds it at every instant outside a move. A process killed mid-move leaves the object
// in the staging folder and an odd sequence: the next process to start, or to touch the key,
// takes the stale lock and finishes the move.
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { link, lstat, mkdir, readdir, readFile, rename, rmdir, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { isCode } from '../errors';
import type { Layout } from './layout';
import { FileLocks, isStale } from './lock';
import type { MetadataStore } from './metadata';
import { NESTED_OBJECT } from './names';
import { NestedFlags } from './nested-flags';
import { syncDirectory, syncFile } from './sync';
import { HIDDEN_TEMP_PREFIX, uniqueSuffix } from './tmp';

/** Staging folders of moves in progress start with this (and so are never listed). */
export const STAGING_PREFIX = `${HIDDEN_TEMP_PREFIX}nest.`;

/** What a probe of one path found: the object (T), a directory (look inside it), or nothing. */
export type Probe<T> = (path: string) => Promise<T | 'dir' | undefined>;

/** A reader waits this long for a move to end before it takes the lock and finishes it. */
const SETTLE_AFTER_MS = 1_000;
/** A sequence file this long unchanged, with no move of its key running, is removed at start. */
const SEQUENCE_IDLE_MS = 10 * 60_000;
/** How long a sequence file outlives the unnest of its key (a reader may be between its two reads). */
const SEQUENCE_RETIRE_MS = 5_000;
const SEQUENCE_NAME = /^[0-9a-f]{40}$/;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The object `probe` finds at `path`, or inside it when `path` is a directory. */
export async function findAt<T>(path: string, probe: Probe<T>): Promise<T | undefined> {
  const here = await probe(path);
  if (here !== 'dir') return here;
  const nested = await probe(join(path, NESTED_OBJECT));
  return nested === 'dir' ? undefined : nested;
}

/** The staging folder of moves of the key at `path`: beside it, so on its filesystem. */
export function stagingOf(path: string): string {
  return join(dirname(path), STAGING_PREFIX + createHash('sha256').update(basename(path)).digest('hex').slice(0, 32));
}

/**
 * What holds a nested object's place in the staging folder before the object is moved there:
 * an empty file with no permissions. A rename of a directory onto a file fails, so a key that
 * turned into a directory meanwhile is never moved by mistake.
 */
function isPlaceholder(stats: BigIntStats): boolean {
  return stats.size === 0n && (stats.mode & 0o7777n) === 0n;
}

async function lstatOrNone(path: string): Promise<BigIntStats | undefined> {
  return lstat(path, { bigint: true }).catch((e: unknown) => {
    if (isCode(e, 'ENOENT', 'ENOTDIR')) return undefined;
    throw e;
  });
}

async function readSequence(file: string): Promise<number> {
  const stats = await stat(file).catch((e: unknown) => {
    if (isCode(e, 'ENOENT')) return undefined;
    throw e;
  });
  return stats ? Math.round(stats.mtimeMs / 1000) : 0;
}

/** Links `from` at `to` only if `to` is free (false if it is taken, 'gone' if its directory is). */
async function placeIfFree(from: string, to: string): Promise<boolean | 'gone'> {
  try {
    await link(from, to);
    return true;
  } catch (e) {
    if (isCode(e, 'EEXIST')) return false;
    if (isCode(e, 'ENOENT', 'ENOTDIR')) return 'gone';
    if (!isCode(e, 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK')) throw e;
  }
  // No hard links here: a check, then a rename (a writer racing it in that instant loses).
  if (await lstatOrNone(to)) return false;
  await rename(from, to);
  return true;
}

export class KeyMoves {
  private readonly locks: FileLocks;
  /** Which directories' sub-directories may hold nested objects, for listings. */
  readonly flags: NestedFlags;

  constructor(
    private readonly layout: Layout,
    private readonly metadata: MetadataStore,
    /** --fsync: the odd sequence is on disk before anything moves, the renames before it is even: a power loss leaves a move to finish. */
    private readonly fsync = false,
  ) {
    this.locks = new FileLocks(layout.moves);
    this.flags = new NestedFlags(layout);
  }

  /** The key's sequence file and lock, named by its path below the store's root. */
  private idOf(path: string): { file: string; lock: string; rel: string } {
    const hash = this.layout.idOf(path);
    return { file: join(this.layout.moves, hash), lock: `${hash}.lock`, rel: relative(this.layout.root, path) };
  }

  private async writeSequence(file: string, rel: string, value: number): Promise<void> {
    try {
      await utimes(file, value, value);
    } catch (e) {
      if (!isCode(e, 'ENOENT')) throw e;
      // Made whole aside (it names its key, for the recovery at start), then put in place.
      const temp = `${file}.${uniqueSuffix()}`;
      await writeFile(temp, rel);
      await utimes(temp, value, value);
      await rename(temp, file);
    }
  }

  /**
   * Finds the object of the key at `path` with `probe`: the file at the path, or the nested one
   * inside it. Undefined only when it is in neither place with no move of it running meanwhile.
   */
  async locate<T>(path: string, probe: Probe<T>): Promise<T | undefined> {
    return (await findAt(path, probe)) ?? this.locateAfterMiss(path, probe);
  }

  /** As `locate`, once a look at both places (findAt) found nothing. */
  async locateAfterMiss<T>(path: string, probe: Probe<T>): Promise<T | undefined> {
    const { file } = this.idOf(path);
    // No sequence file: the key has not moved for seconds (see retireSequence), so the miss was no move's doing.
    if ((await readSequence(file)) === 0) return undefined;
    for (let attempt = 0; attempt < 20; attempt++) {
      const before = await this.settledSequence(path, file);
      const found = await findAt(path, probe);
      if (found !== undefined || (await readSequence(file)) === before) return found;
    }
    // Moves never paused: look once while holding the lock, when none can run.
    return this.exclusive(path, () => findAt(path, probe));
  }

  /** The key's sequence once even (no move running), finishing a move cut short if it stays odd. */
  private async settledSequence(path: string, file: string): Promise<number> {
    let waited = 0;
    for (let step = 1; ; step = Math.min(step * 2, 16)) {
      const value = await readSequence(file);
      if (value % 2 === 0) return value;
      if (waited >= SETTLE_AFTER_MS) {
        await this.exclusive(path, async () => undefined);
        waited = 0;
        continue;
      }
      await sleep(step);
      waited += step;
    }
  }

  /**
   * Runs `fn` while no move of the key can run (conditional writes, an object moved out of the
   * store). A move cut short by a crash is finished first.
   */
  async exclusive<T>(path: string, fn: () => Promise<T>): Promise<T> {
    const { file, lock, rel } = this.idOf(path);
    const release = await this.locks.acquire(lock);
    try {
      const value = await readSequence(file);
      if (value % 2 === 1) {
        await this.recover(path);
        await this.writeSequence(file, rel, value + 1);
      }
      return await fn();
    } finally {
      await release();
    }
  }

  /** Runs a move of the key: under its lock, with its sequence odd; whatever it leaves in staging is settled after. */
  private async moving(path: string, fn: () => Promise<void>): Promise<void> {
    const { file, lock, rel } = this.idOf(path);
    const release = await this.locks.acquire(lock);
    try {
      const current = await readSequence(file);
      const odd = current % 2 === 1 ? current + 2 : current + 1;
      await this.writeSequence(file, rel, odd);
      if (this.fsync) await Promise.all([syncFile(file), syncDirectory(this.layout.moves)]);
      try {
        await this.recover(path);
        await fn();
      } finally {
        await this.recover(path);
        if (this.fsync) await this.syncMoved(path);
        await this.writeSequence(file, rel, odd + 1);
      }
    } finally {
      await release();
    }
  }

  /** The renames of a move of the key at `path` are on disk: its directory's entries, and its own if it is one now. */
  private async syncMoved(path: string): Promise<void> {
    await syncDirectory(dirname(path));
    if ((await lstatOrNone(path))?.isDirectory()) await syncDirectory(path);
  }

  /**
   * Turns the object file at `path` into a directory holding it as `.sluice-object`, so that
   * deeper keys can be written. Returns when `path` is no longer a file (nested, or changed).
   */
  async nest(path: string, owner: string): Promise<void> {
    await this.flags.flag(path);
    await this.moving(path, async () => {
      if (!(await lstatOrNone(path))?.isFile()) return;
      const staging = stagingOf(path);
      await mkdir(staging);
      await this.metadata.writeDirectory(await stat(staging, { bigint: true }), { folder: false, implicit: true, owner });
      const slot = join(staging, NESTED_OBJECT);
      await writeFile(slot, '', { flag: 'wx', mode: 0 });
      for (let attempt = 0; attempt < 5; attempt++) {
        const held = await lstat(slot, { bigint: true });
        try {
          await rename(path, slot);
        } catch (e) {
          if (isCode(e, 'ENOENT', 'ENOTDIR', 'EISDIR', 'EEXIST', 'ENOTEMPTY')) return; // deleted, or a directory already
          throw e;
        }
        if (!isPlaceholder(held)) this.metadata.retire(held); // a newer version took its place
        try {
          await rename(staging, path);
          return;
        } catch (e) {
          // A writer put a new version at the path meanwhile: nest that one instead.
          if (isCode(e, 'ENOTDIR')) continue;
          // A directory was made at the path meanwhile: `recover` puts the object inside it.
          if (isCode(e, 'ENOTEMPTY', 'EEXIST')) return;
          throw e;
        }
      }
    });
  }

  /**
   * When the directory `dir` (sluice's, `stats`) holds nothing but its nested object, moves that
   * object back to a plain file at `dir`: the prefix is gone, the object stays.
   */
  async unnestIfAlone(dir: string, stats: BigIntStats): Promise<void> {
    const nested = join(dir, NESTED_OBJECT);
    if (!(await lstatOrNone(nested))?.isFile()) return;
    await this.moving(dir, async () => {
      const now = await lstatOrNone(dir);
      if (!now?.isDirectory() || now.ino !== stats.ino) return;
      const marks = await this.metadata.readDirectory(now);
      if (!marks?.implicit || marks.folder) return;
      const names = await readdir(dir);
      if (names.length !== 1 || names[0] !== NESTED_OBJECT) return;
      const staging = stagingOf(dir);
      await mkdir(staging);
      try {
        await rename(nested, join(staging, NESTED_OBJECT));
      } catch (e) {
        if (isCode(e, 'ENOENT')) return; // deleted meanwhile
        throw e;
      }
      try {
        await rmdir(dir);
      } catch (e) {
        if (isCode(e, 'ENOTEMPTY', 'EEXIST')) return; // a deeper key arrived: `recover` puts the object back inside
        throw e;
      }
      await this.metadata.remove(now);
      // `recover` now puts the object at `dir`, a plain file again.
    });
    this.retireSequence(dir);
  }

  /**
   * Settles the staging folder of the key at `path` (under its lock): an object held there goes
   * to the path (or inside it, if the path is a directory) unless a newer version is there.
   */
  private async recover(path: string): Promise<void> {
    const staging = stagingOf(path);
    const folder = await lstatOrNone(staging);
    if (!folder?.isDirectory()) return;
    const slot = join(staging, NESTED_OBJECT);
    const held = await lstatOrNone(slot);
    if (held?.isFile() && !isPlaceholder(held)) await this.restore(slot, held, path);
    await unlink(slot).catch((e: unknown) => {
      if (!isCode(e, 'ENOENT')) throw e;
    });
    await this.metadata.remove(folder);
    await rmdir(staging);
  }

  private async restore(slot: string, held: BigIntStats, path: string): Promise<void> {
    let target = path;
    for (let attempt = 0; attempt < 8; attempt++) {
      const there = await lstatOrNone(target);
      if (there?.isDirectory() && target === path) {
        target = join(path, NESTED_OBJECT);
        continue;
      }
      if (there) {
        // A newer version is in place (or this very file, linked there before a crash).
        if (there.ino !== held.ino) this.metadata.retire(held);
        return;
      }
      const placed = await placeIfFree(slot, target);
      if (placed === true) return;
      if (placed === 'gone') target = path; // the directory went meanwhile: the object is a plain file again
    }
    throw new Error(`${path} kept changing while its object was put back`);
  }

  /** Removes the key's sequence file a while after its last move, if no move ran since. */
  private retireSequence(path: string): void {
    const { file, lock } = this.idOf(path);
    const timer = setTimeout(() => {
      void (async () => {
        const release = await this.locks.tryAcquire(lock);
        if (!release) return;
        try {
          const stats = await stat(file).catch(() => undefined);
          if (stats && Date.now() - stats.ctimeMs >= SEQUENCE_RETIRE_MS && Math.round(stats.mtimeMs / 1000) % 2 === 0) await unlink(file);
        } finally {
          await release();
        }
      })().catch(() => undefined);
    }, SEQUENCE_RETIRE_MS);
    timer.unref();
  }

  /**
   * At start: finishes the moves that dead processes left half done, and removes sequence files
   * of keys that have not moved for a long time. Returns the number of moves finished. A move
   * whose holder still seems alive (a process not yet reaped, another host's within the lock's
   * staleness) is looked at again later, until it is finished.
   */
  async recoverAll(retryMs = 2_000): Promise<number> {
    let finished = 0;
    let waiting = 0;
    for (const name of await readdir(this.layout.moves)) {
      const file = join(this.layout.moves, name);
      if (!SEQUENCE_NAME.test(name)) {
        const temp = /^[0-9a-f]{40}\.(?!lock$)/.test(name) ? await stat(file).catch(() => undefined) : undefined;
        if (temp && Date.now() - temp.mtimeMs > 60_000) await unlink(file).catch(() => undefined);
        continue;
      }
      const stats = await stat(file).catch(() => undefined);
      if (!stats) continue;
      const lockPath = join(this.layout.moves, `${name}.lock`);
      const held = await stat(lockPath).then(() => true, () => false);
      const odd = Math.round(stats.mtimeMs / 1000) % 2 === 1;
      // A lock whose holder lives is a move running now: that process finishes it.
      if (held && !(await isStale(lockPath))) {
        if (odd) waiting++;
        continue;
      }
      const path = join(this.layout.root, await readFile(file, 'utf8'));
      if (odd) {
        await this.exclusive(path, async () => undefined);
        finished++;
      } else if (Date.now() - stats.ctimeMs > SEQUENCE_IDLE_MS) {
        await this.exclusive(path, async () => {
          const now = await stat(file).catch(() => undefined);
          if (now && now.ctimeMs === stats.ctimeMs) await unlink(file);
        });
      }
    }
    if (waiting > 0) {
      const again = setTimeout(() => void this.recoverAll(Math.min(retryMs * 2, 60_000)).catch(() => undefined), retryMs);
      again.unref();
    }
    return finished;
  }
}
