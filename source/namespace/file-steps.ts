// The file-system steps of a write that are not about keys: filling a new file by other means
// than a stream, putting a file in place only if its name is free, syncing a directory.
import type { BigIntStats } from 'node:fs';
import { link, lstat, open, rename, unlink } from 'node:fs/promises';
import { S3Error } from '../http/errors';
import type { ObjectKey } from './names';

export const isCode = (e: unknown, ...codes: string[]): boolean => codes.includes((e as NodeJS.ErrnoException)?.code ?? '');

/** A write whose key names a directory holding other objects. */
export function existingDirectory(key: ObjectKey): S3Error {
  return new S3Error('ExistingObjectIsDirectory', `Object "${key}" cannot be written: the key is a directory that holds other objects.`, { Key: key });
}

/**
 * Puts the temp file at `target` only if nothing is there. A hard link fails if the name exists,
 * so the test and the creation are one step; where links are not supported, a check then a rename.
 */
export async function createOnly(temp: string, target: string, previous: BigIntStats | undefined, key: ObjectKey): Promise<void> {
  const exists = (): S3Error => new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
  if (previous?.isFile()) throw exists();
  try {
    await link(temp, target);
  } catch (e) {
    if (isCode(e, 'EEXIST')) {
      const now = await lstat(target).catch(() => undefined);
      if (now?.isDirectory()) throw existingDirectory(key);
      throw exists();
    }
    if (!isCode(e, 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK')) throw e;
    if (await lstat(target).catch(() => undefined)) throw exists();
    await rename(temp, target);
    return;
  }
  await unlink(temp);
}

/**
 * Writes a new file's bytes some other way than through a stream: given the open descriptor of
 * the temp file, it fills it (CompleteMultipartUpload hands it to a kernel-side copy).
 */
export type FileFiller = (fd: number) => Promise<void>;

export async function fillFile(path: string, fill: FileFiller, fsync: boolean): Promise<void> {
  const handle = await open(path, 'wx', 0o644);
  try {
    await fill(handle.fd);
    if (fsync) await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
