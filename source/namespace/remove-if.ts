// Removing a file only if its version passes a check (a conditional DeleteObject), decided on the
// very version removed. The check runs first on the version found; the file is then taken aside by
// one rename, so the version removed is the one renamed, whatever a writer does meanwhile; if a
// newer version slipped in between the check and the rename, that one is checked, and put back
// with link(2) when it fails (unless a newer one still took the name: that one stands).
import type { BigIntStats } from 'node:fs';
import { link, lstat, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isCode } from '../errors';
import type { Layout } from './layout';
import type { ObjectInfo } from './object-info';
import { HIDDEN_TEMP_PREFIX, tempName } from './tmp';

/**
 * A conditional delete (If-Match, x-amz-if-match-last-modified-time / -size): throws
 * (PreconditionFailed) unless the current version may go. An absent object is deleted as ever.
 */
export type DeleteCondition = (current: ObjectInfo) => void;

const sameVersion = (a: BigIntStats, b: BigIntStats): boolean => a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.size === b.size;

/**
 * Removes the file at `path` (found as `found`) if `accept` takes its version, moving it aside
 * through a free name on the same filesystem (.sluice/tmp, or a hidden name beside it). Returns
 * the version removed, or undefined if the file was gone already; throws what `accept` throws,
 * leaving the file in place.
 */
export async function removeFileIf(
  path: string,
  found: BigIntStats,
  layout: Layout,
  describe: (stats: BigIntStats) => Promise<ObjectInfo>,
  accept: DeleteCondition,
): Promise<BigIntStats | undefined> {
  accept(await describe(found));
  const aside =
    found.dev === BigInt(layout.tmpDevice) ? join(layout.tmp, tempName()) : join(dirname(path), HIDDEN_TEMP_PREFIX + tempName());
  try {
    await rename(path, aside);
  } catch (e) {
    if (isCode(e, 'ENOENT')) return undefined; // deleted meanwhile: nothing is left to decide
    throw e;
  }
  const taken = await lstat(aside, { bigint: true });
  if (!sameVersion(taken, found)) {
    try {
      accept(await describe(taken));
    } catch (e) {
      await link(aside, path).catch((linkError: unknown) => {
        if (!isCode(linkError, 'EEXIST')) throw linkError;
      });
      await unlink(aside);
      throw e;
    }
  }
  await unlink(aside);
  return taken;
}
