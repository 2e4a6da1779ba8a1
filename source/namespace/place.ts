// Putting a finished temp file at its key's path: renamed over the previous version, or inside
// the key's directory when the key is also a prefix; conditional writes decided at that step.
import type { BigIntStats } from 'node:fs';
import { lstat, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Error, existingObjectIsDirectory, isCode } from '../errors';
import { createOnly } from './create-only';
import { NESTED_OBJECT, isFolderKey, type ObjectKey } from './names';
import type { ObjectInfo } from './object-info';
import type { WriteCondition } from './store';

export interface Placement {
  condition: WriteCondition;
  /** Describes the version being replaced, for the condition. */
  describe: (previous: BigIntStats) => Promise<ObjectInfo>;
  /** Makes the parents again (a concurrent delete removed one); returns the new target. */
  remakeParents: () => Promise<string>;
  /** Called before an object is first put inside a directory of its key's name. */
  nesting: () => Promise<void>;
}

/**
 * Renames `temp` over the key's file: at `target`, or inside it when that is a directory (the
 * key is also a prefix). Returns the file version it replaced, if any.
 */
export async function moveIntoPlace(temp: string, target: string, key: ObjectKey, how: Placement): Promise<BigIntStats | undefined> {
  const { condition } = how;
  for (let attempt = 0; ; attempt++) {
    let at = target;
    let previous = await lstat(at, { bigint: true }).catch(() => undefined);
    if (previous?.isDirectory() && !isFolderKey(key)) {
      at = join(target, NESTED_OBJECT);
      previous = await lstat(at, { bigint: true }).catch(() => undefined);
      if (!previous) await how.nesting();
    }
    try {
      if (condition.check) condition.check(previous?.isFile() ? await how.describe(previous) : undefined);
      if (condition.createOnly) {
        await createOnly(temp, at, previous, key);
        return undefined;
      }
      await rename(temp, at);
      return previous?.isFile() ? previous : undefined;
    } catch (e) {
      // The key's path turned into a directory since we looked: its object goes inside.
      const becameDirectory = e instanceof S3Error ? e.code === 'ExistingObjectIsDirectory' : isCode(e, 'EISDIR');
      if (becameDirectory && at === target && !isFolderKey(key) && attempt < 5) continue;
      if (e instanceof S3Error) throw e;
      if (isCode(e, 'EISDIR', 'ENOTEMPTY', 'EEXIST')) throw existingObjectIsDirectory(key);
      // A concurrent delete removed an empty parent between mkdir and rename, or an unnest made
      // the key's directory a file again: make the parents again.
      if (isCode(e, 'ENOENT', 'ENOTDIR') && attempt < 5) {
        target = await how.remakeParents();
        continue;
      }
      throw e;
    }
  }
}
