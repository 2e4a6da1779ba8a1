// Folder objects (`dir/`): a directory on disk, marked as a folder in its record; bytes written
// to such a key, if any, are a file inside it (FOLDER_BYTES, never listed). PosixStore leaves
// describing, telling and deleting them to this.
import { lstat, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isCode, noSuchKey } from '../errors';
import type { Layout } from './layout';
import type { MetadataStore } from './metadata';
import { FOLDER_BYTES, type ObjectKey } from './names';
import { describeFolder, type ObjectInfo } from './object-info';
import { isServablePath, type Parents } from './parents';
import { fileOnly, lstatProbe, statProbe } from './probes';
import { syncDirectory } from './sync';

export class FolderObjects {
  constructor(
    private readonly layout: Layout,
    private readonly metadata: MetadataStore,
    private readonly parents: Parents,
    private readonly options: { listDirectories: boolean; fsync: boolean; defaultOwner: string },
  ) {}

  /** A folder object `dir/` that holds no bytes: the directory itself. */
  async describe(key: ObjectKey, path: string): Promise<ObjectInfo> {
    const stats = await stat(path, { bigint: true }).catch(() => undefined);
    if (!stats?.isDirectory()) throw noSuchKey(key);
    const marks = await this.metadata.readDirectory(stats);
    if (!this.options.listDirectories && !marks?.folder) throw noSuchKey(key);
    return describeFolder(key, stats, marks, this.options.defaultOwner);
  }

  /** True when the directory at `path` is a folder object: marked as one, or holding a folder object's bytes. */
  async isFolder(path: string): Promise<boolean> {
    const stats = await stat(path, { bigint: true }).catch(() => undefined);
    if (stats === undefined) return false;
    if ((await this.metadata.readDirectory(stats))?.folder === true) return true;
    return fileOnly(await statProbe(join(path, FOLDER_BYTES))) !== undefined; // a folder object with bytes
  }

  /** The bytes a folder object held go (it is deleted, or replaced by zero bytes). */
  async removeBytes(dir: string): Promise<void> {
    const bytes = fileOnly(await lstatProbe(join(dir, FOLDER_BYTES)));
    if (!bytes) return;
    await unlink(bytes.path).catch((e: unknown) => {
      if (!isCode(e, 'ENOENT')) throw e;
    });
    await this.metadata.retire(bytes.stats);
  }

  /** Deletes the folder object at `path` (if `check` passes); its directory stays while objects remain below. */
  async delete(bucketDir: string, path: string, check?: () => Promise<void>): Promise<void> {
    const stats = await lstat(path, { bigint: true }).catch(() => undefined);
    if (!stats?.isDirectory() || !(await isServablePath(this.layout, path, stats))) return;
    await check?.();
    await this.removeBytes(path);
    await this.metadata.remove(stats);
    try {
      await rmdir(path);
    } catch (e) {
      if (!isCode(e, 'ENOTEMPTY', 'EEXIST')) throw e;
      // Objects remain below: the directory stays, as a plain parent sluice may later remove
      // (or give back as a file, if it holds only the object named like it).
      await this.metadata.writeDirectory(stats, { folder: false, implicit: true });
      await this.parents.prune(bucketDir, path);
      return;
    }
    if (this.options.fsync) await syncDirectory(dirname(path));
    await this.parents.prune(bucketDir, dirname(path));
  }
}
