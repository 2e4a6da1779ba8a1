// Putting a finished file at a name only if the name is free (PutObject's If-None-Match: *).
import type { BigIntStats } from 'node:fs';
import { link, lstat, rename, unlink } from 'node:fs/promises';
import { existingObjectIsDirectory, isCode, preconditionFailed } from '../errors';
import type { ObjectKey } from './names';

/**
 * Puts the temp file at `target` only if nothing is there. A hard link fails if the name exists,
 * so the test and the creation are one step; where links are not supported, a check then a rename.
 */
export async function createOnly(temp: string, target: string, previous: BigIntStats | undefined, key: ObjectKey): Promise<void> {
  if (previous?.isFile()) throw preconditionFailed('If-None-Match');
  try {
    await link(temp, target);
  } catch (e) {
    if (isCode(e, 'EEXIST')) {
      const now = await lstat(target).catch(() => undefined);
      if (now?.isDirectory()) throw existingObjectIsDirectory(key);
      throw preconditionFailed('If-None-Match');
    }
    if (!isCode(e, 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK')) throw e;
    if (await lstat(target).catch(() => undefined)) throw preconditionFailed('If-None-Match');
    await rename(temp, target);
    return;
  }
  await unlink(temp);
}
