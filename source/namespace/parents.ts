// The directories above a key: made (and marked) when a key needs them, removed again when the
// last object below a directory sluice made goes. A parent that is an object file becomes a
// directory holding it (moves.ts); one left holding only that object becomes a file again.
import type { BigIntStats } from 'node:fs';
import { lstat, mkdir, realpath, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { S3Error, accessDenied, isCode, noSuchKey, objectParentIsFile } from '../errors';
import type { Layout } from './layout';
import type { MetadataStore } from './metadata';
import type { KeyMoves } from './moves';
import type { ObjectKey } from './names';

/** A key that resolves (through a link) outside ROOT or into its internal folder. */
const outsideTree = (key: ObjectKey): S3Error => accessDenied('The key resolves outside the served tree.', { key });

/**
 * Resolves symlinks and refuses (AccessDenied) anything that lands outside ROOT or in its internal
 * folder. False when nothing is at `path` (any more: moved or deleted since it was found).
 */
export async function isServableFile(layout: Layout, path: string, key: ObjectKey): Promise<boolean> {
  const real = await realpath(path).catch(() => undefined);
  if (real === undefined) return false;
  if (!layout.isServable(real)) throw outsideTree(key);
  return true;
}

/** As isServableFile, NoSuchKey when nothing is there. */
export async function requireServable(layout: Layout, path: string, key: ObjectKey): Promise<void> {
  if (!(await isServableFile(layout, path, key))) throw noSuchKey(key);
}

/** True when `path` (its parents and, if it is a link, its target) lies inside the served tree. */
export async function isServablePath(layout: Layout, path: string, stats: BigIntStats): Promise<boolean> {
  const real = await realpath(stats.isSymbolicLink() ? path : dirname(path)).catch(() => undefined);
  return real !== undefined && layout.isServable(real);
}

export class Parents {
  constructor(
    private readonly layout: Layout,
    private readonly metadata: MetadataStore,
    private readonly moves: KeyMoves,
  ) {}

  /**
   * Creates the directories `segments` below `bucketDir` (for `key`), nesting an object file
   * that stands where one must be. Directories sluice creates are marked, so that they are
   * removed again when their last object goes. Returns the deepest.
   */
  async ensure(bucketDir: string, key: ObjectKey, segments: string[], owner: string): Promise<string> {
    // A concurrent delete may remove an empty parent we just made or found, or an unnest turn one
    // back into a file: start over a few times.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.make(bucketDir, key, segments, owner);
      } catch (e) {
        if (!isCode(e, 'ENOENT', 'ENOTDIR') || attempt >= 5) throw isCode(e, 'ENOTDIR') ? objectParentIsFile(key) : e;
      }
    }
  }

  private async make(bucketDir: string, key: ObjectKey, segments: string[], owner: string): Promise<string> {
    let dir = bucketDir;
    for (const segment of segments) {
      dir = join(dir, segment);
      for (let nested = 0; ; nested++) {
        try {
          await mkdir(dir);
          await this.metadata.writeDirectory(await stat(dir, { bigint: true }), { folder: false, implicit: true, owner });
          break;
        } catch (e) {
          if (!isCode(e, 'EEXIST')) throw e;
        }
        const stats = await stat(dir).catch(() => undefined);
        if (stats?.isDirectory()) {
          // A symlink to a directory outside ROOT must be refused before anything is made in it.
          await this.requireServable(dir, key);
          break;
        }
        // An object is where a directory must be: it moves inside (a link to a file does not).
        if (!(await lstat(dir).catch(() => undefined))?.isFile() || nested >= 5) throw objectParentIsFile(key);
        await this.moves.nest(dir, owner);
      }
    }
    // The bucket's own directory was checked by `require`.
    if (segments.length > 0) await this.requireServable(dir, key);
    return dir;
  }

  async requireServable(dir: string, key: ObjectKey): Promise<void> {
    if (!this.layout.isServable(await realpath(dir))) throw outsideTree(key);
  }

  /**
   * Removes empty directories that sluice created, from `dir` up to (not including) the bucket.
   * One that still holds its nested object alone gives it back as a plain file.
   */
  async prune(bucketDir: string, dir: string): Promise<void> {
    while (dir.length > bucketDir.length && dir.startsWith(bucketDir)) {
      const stats = await lstat(dir, { bigint: true }).catch(() => undefined);
      if (!stats?.isDirectory()) return;
      const marks = await this.metadata.readDirectory(stats);
      if (!marks?.implicit || marks.folder) return;
      if (!(await this.removeEmpty(dir, stats))) return;
      dir = dirname(dir);
    }
  }

  private async removeEmpty(dir: string, stats: BigIntStats): Promise<boolean> {
    try {
      await rmdir(dir);
    } catch {
      // Not empty (or raced with a writer): it stays, unless its nested object is all it holds.
      await this.moves.unnestIfAlone(dir, stats).catch(() => undefined);
      return false;
    }
    await this.metadata.remove(stats);
    return true;
  }
}
