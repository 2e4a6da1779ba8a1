// The POSIX object store: objects are plain files at their key's path. Writes stream into a temp
// file that is renamed into place; reads open the file once and describe exactly the version they
// opened. ROOT is one (the under store); the cache keeps its cache-only objects in another.
import { once } from 'node:events';
import { constants as fsConstants, createWriteStream, type BigIntStats, type WriteStream } from 'node:fs';
import { chmod, lstat, mkdir, open, realpath, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { S3Error, accessDenied, existingObjectIsDirectory, isCode, noSuchKey, objectParentIsFile } from '../errors';
import { FILE_IO_BYTES } from '../streams/buffer-sizes';
import { pump } from '../streams/pump';
import { fillFile } from './assembly';
import { createOnly } from './create-only';
import { FileBody } from './file-body';
import type { Layout } from './layout';
import type { MetadataStore, ObjectAttributes, Permissions, Tag } from './metadata';
import { isFolderKey, keySegments, type BucketName, type ObjectKey } from './names';
import { attributesOf, describeFolder, describeForeign, describeRecorded, type ObjectInfo } from './object-info';
import { PosixKeyCursor } from './listing';
import type { KeyCursor, ObjectStore, OpenedObject, VersionStamp, WriteCondition, WriteContent, WriteFinish } from './store';
import { syncDirectory } from './sync';
import { HIDDEN_TEMP_PREFIX, tempName } from './tmp';

/** The attributes of the file at `path` as an open revalidates them (NFS's close-to-open). */
async function statByOpen(path: string): Promise<BigIntStats> {
  const handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    return await handle.stat({ bigint: true });
  } finally {
    await handle.close();
  }
}

/** A key that resolves (through a link) outside ROOT or into its internal folder. */
const outsideTree = (key: ObjectKey): S3Error => accessDenied('The key resolves outside the served tree.', { key });

/** Where a bucket's directory is: BucketStore for ROOT; the cache makes its buckets on demand. */
export interface BucketDirectories {
  directoryOf(bucket: BucketName): string;
  /** The bucket's directory, or NoSuchBucket. */
  require(bucket: BucketName): Promise<string>;
  /** As `require`, with the device the bucket's directory is on. */
  requireWithDevice(bucket: BucketName): Promise<{ dir: string; device: number }>;
}

export interface StoreOptions {
  listDirectories: boolean;
  fsync: boolean;
  defaultOwner: string;
}

export class PosixStore implements ObjectStore {
  constructor(
    private readonly layout: Layout,
    private readonly buckets: BucketDirectories,
    private readonly metadata: MetadataStore,
    private readonly options: StoreOptions,
  ) {}

  pathOf(bucketDir: string, key: ObjectKey): string {
    return join(bucketDir, ...keySegments(key));
  }

  /** Describes a file version; `stats` must be of the file as opened or stat'ed. */
  async describe(key: ObjectKey, stats: BigIntStats): Promise<ObjectInfo> {
    const recorded = await this.metadata.readFile(stats);
    return recorded ? describeRecorded(key, stats, recorded) : describeForeign(key, stats, this.options.defaultOwner);
  }

  private async describeFolderAt(key: ObjectKey, path: string): Promise<ObjectInfo> {
    const stats = await stat(path, { bigint: true }).catch(() => undefined);
    if (!stats?.isDirectory()) throw noSuchKey(key);
    const marks = await this.metadata.readDirectory(stats);
    if (!this.options.listDirectories && !marks?.folder) throw noSuchKey(key);
    return describeFolder(key, stats, marks, this.options.defaultOwner);
  }

  /** Resolves symlinks and refuses anything that lands outside ROOT or in its internal folder. */
  private async requireServable(path: string, key: ObjectKey): Promise<void> {
    const real = await realpath(path).catch(() => undefined);
    if (real === undefined) throw noSuchKey(key);
    if (!this.layout.isServable(real)) throw outsideTree(key);
  }

  async head(bucket: BucketName, key: ObjectKey): Promise<ObjectInfo> {
    const path = this.pathOf(await this.buckets.require(bucket), key);
    if (isFolderKey(key)) {
      await this.requireServable(path, key);
      return this.describeFolderAt(key, path);
    }
    await this.requireServable(path, key);
    return this.describeAt(key, path);
  }

  /**
   * Describes the file now at `path` (NoSuchKey if there is none). A version replaced between the
   * stat and the read of its record has lost the record already; its "no record" says nothing, so
   * the version that replaced it is described instead, never the old bytes with foreign defaults.
   */
  async describeAt(key: ObjectKey, path: string): Promise<ObjectInfo> {
    for (let attempt = 0; ; attempt++) {
      const stats = await stat(path, { bigint: true }).catch((e: unknown) => {
        if (isCode(e, 'ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP')) return undefined;
        throw e;
      });
      if (!stats?.isFile()) throw noSuchKey(key);
      const info = await this.describe(key, stats);
      if (!info.foreign || attempt >= 3) return info;
      const now = await stat(path, { bigint: true }).catch(() => undefined);
      if (now?.ino === stats.ino && now.mtimeNs === stats.mtimeNs && now.size === stats.size) return info;
    }
  }

  /** Opens an object for reading; the caller closes its body. Folder objects have no body. */
  async open(bucket: BucketName, key: ObjectKey): Promise<OpenedObject> {
    if (isFolderKey(key)) {
      const path = this.pathOf(await this.buckets.require(bucket), key);
      await this.requireServable(path, key);
      return { info: await this.describeFolderAt(key, path) };
    }
    // The bucket is checked while the object is opened, not before: reads are the most frequent
    // request, and the two lookups overlap. Its answer is awaited before any other.
    const path = this.pathOf(this.buckets.directoryOf(bucket), key);
    const bucketChecked = this.buckets.require(bucket);
    bucketChecked.catch(() => undefined); // awaited on every path below
    const refuse = async (error: S3Error): Promise<never> => {
      await bucketChecked;
      throw error;
    };
    for (let attempt = 0; ; attempt++) {
      let handle: FileHandle;
      try {
        // O_NONBLOCK: a FIFO planted in the tree must not hang the read (it is then refused as no file).
        handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
      } catch (e) {
        if (isCode(e, 'ENOENT', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG', 'ELOOP')) return refuse(noSuchKey(key));
        throw e;
      }
      try {
        const stats = await handle.stat({ bigint: true });
        if (!stats.isFile()) await refuse(noSuchKey(key));
        await this.requireServable(path, key).catch((e: S3Error) => refuse(e));
        const info = await this.describe(key, stats);
        // Replaced (or deleted) while we opened it: a writer renamed a new version over it and
        // removed its record. Read the new version rather than the old bytes without their metadata.
        if (info.foreign && attempt < 3 && (await handle.stat({ bigint: true })).nlink === 0n) {
          await handle.close();
          continue;
        }
        // A link can lead back into ROOT from a bucket that is not one (a directory outside it).
        await bucketChecked;
        return { info, body: new FileBody(handle) };
      } catch (e) {
        await handle.close();
        throw e;
      }
    }
  }

  /**
   * Creates the directories above a key. Directories sluice creates are marked, so that they are
   * removed again when their last object goes.
   */
  private async ensureParents(bucketDir: string, key: ObjectKey, segments: string[], owner: string): Promise<string> {
    // A concurrent delete may remove an empty parent we just made or found: start over a few times.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.makeParents(bucketDir, key, segments, owner);
      } catch (e) {
        if (!isCode(e, 'ENOENT') || attempt >= 5) throw e;
      }
    }
  }

  private async makeParents(bucketDir: string, key: ObjectKey, segments: string[], owner: string): Promise<string> {
    let dir = bucketDir;
    for (const segment of segments) {
      dir = join(dir, segment);
      try {
        await mkdir(dir);
        await this.metadata.writeDirectory(await stat(dir, { bigint: true }), { folder: false, implicit: true, owner });
      } catch (e) {
        if (isCode(e, 'EEXIST')) {
          const stats = await stat(dir).catch(() => undefined);
          if (stats?.isDirectory()) {
            // A symlink to a directory outside ROOT must be refused before anything is made in it.
            await this.requireServableDirectory(dir, key);
            continue;
          }
        }
        if (isCode(e, 'EEXIST', 'ENOTDIR')) throw objectParentIsFile(key);
        throw e;
      }
    }
    // The bucket's own directory was checked by `require`.
    if (segments.length > 0) await this.requireServableDirectory(dir, key);
    return dir;
  }

  private async requireServableDirectory(dir: string, key: ObjectKey): Promise<void> {
    if (!this.layout.isServable(await realpath(dir))) throw outsideTree(key);
  }

  /** True when `path` (its parents and, if it is a link, its target) lies inside the served tree. */
  private async isServablePath(path: string, stats: BigIntStats): Promise<boolean> {
    const real = await realpath(stats.isSymbolicLink() ? path : dirname(path)).catch(() => undefined);
    return real !== undefined && this.layout.isServable(real);
  }

  /** Streams the content into a new version of the object (see WriteFinish). */
  async write(
    bucket: BucketName,
    key: ObjectKey,
    { source }: WriteContent,
    owner: string,
    finish: WriteFinish,
    condition: WriteCondition = {},
  ): Promise<ObjectInfo> {
    const { dir: bucketDir, device: bucketDevice } = await this.buckets.requireWithDevice(bucket);
    const segments = keySegments(key);
    const name = segments.pop()!;
    let parent = await this.ensureParents(bucketDir, key, segments, owner);
    const target = join(parent, name);
    const temp =
      bucketDevice === this.layout.tmpDevice ? join(this.layout.tmp, tempName()) : join(parent, HIDDEN_TEMP_PREFIX + tempName());
    let recorded: BigIntStats | undefined;
    let out: WriteStream | undefined;
    try {
      // `flush` fsyncs before close. (A FileHandle's own stream cannot be used here: closing
      // the handle after a stream with autoClose off never settles on Node 20.)
      if (typeof source === 'function') {
        await fillFile(temp, source, this.options.fsync);
      } else {
        out = createWriteStream(temp, { flags: 'wx', mode: 0o644, highWaterMark: FILE_IO_BYTES, flush: this.options.fsync });
        await pump(source, out);
      }
      const attributes = await finish();
      const stats = await stat(temp, { bigint: true });
      await this.metadata.writeFile(stats, attributes, false);
      recorded = stats;
      const previous = await this.moveIntoPlace(temp, target, bucketDir, key, segments, owner, (dir) => (parent = dir), condition);
      if (previous !== undefined) await this.metadata.retire(previous);
      if (this.options.fsync) await syncDirectory(parent);
      return describeRecorded(key, stats, attributes);
    } catch (e) {
      // The stream opens its file asynchronously: when the body fails first, the open may still
      // be in flight and would create the temp file after an unlink. Wait until it is closed.
      if (out && !out.closed) await once(out, 'close').catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      if (recorded !== undefined) await this.metadata.remove(recorded).catch(() => undefined);
      // Directories made for this key alone must not outlive a failed write (an aborted upload
      // would otherwise leave an empty prefix behind, visible in listings).
      await this.pruneParents(bucketDir, parent).catch(() => undefined);
      throw e;
    }
  }

  /** Renames the temp file over the target; returns the file version it replaced, if any. */
  private async moveIntoPlace(
    temp: string,
    target: string,
    bucketDir: string,
    key: ObjectKey,
    segments: string[],
    owner: string,
    parentChanged: (dir: string) => void,
    condition: WriteCondition,
  ): Promise<BigIntStats | undefined> {
    for (let attempt = 0; ; attempt++) {
      const previous = await lstat(target, { bigint: true }).catch(() => undefined);
      try {
        if (condition.check) condition.check(previous?.isFile() ? await this.describe(key, previous) : undefined);
        if (condition.createOnly) {
          await createOnly(temp, target, previous, key);
          return undefined;
        }
        await rename(temp, target);
        return previous?.isFile() ? previous : undefined;
      } catch (e) {
        if (e instanceof S3Error) throw e;
        if (isCode(e, 'EISDIR', 'ENOTEMPTY', 'EEXIST')) throw existingObjectIsDirectory(key);
        // A concurrent delete removed an empty parent between mkdir and rename: make it again.
        if (isCode(e, 'ENOENT') && attempt < 5) {
          parentChanged(await this.ensureParents(bucketDir, key, segments, owner));
          continue;
        }
        throw e;
      }
    }
  }

  /** Creates (or re-marks) a folder object `dir/`: a directory on disk. */
  async createFolder(bucket: BucketName, key: ObjectKey, owner: string, tags: Tag[], permissions?: Permissions): Promise<ObjectInfo> {
    const bucketDir = await this.buckets.require(bucket);
    const segments = keySegments(key);
    const dir = await this.ensureParents(bucketDir, key, segments, owner);
    const stats = await stat(dir, { bigint: true });
    await this.metadata.writeDirectory(stats, { folder: true, implicit: false, owner, tags, ...(permissions ? { permissions } : {}) });
    return this.describeFolderAt(key, dir);
  }

  /** Replaces the recorded attributes of the current version, without touching its bytes. */
  async updateAttributes(bucket: BucketName, key: ObjectKey, update: (current: ObjectAttributes) => ObjectAttributes): Promise<ObjectInfo> {
    const info = await this.head(bucket, key);
    const attributes = update(attributesOf(info));
    if (info.isFolder) {
      const marks = await this.metadata.readDirectory(info.stats);
      await this.metadata.writeDirectory(info.stats, {
        folder: marks?.folder ?? false,
        implicit: marks?.implicit ?? false,
        owner: info.owner,
        tags: attributes.tags,
        ...(attributes.permissions ? { permissions: attributes.permissions } : {}),
      });
    } else {
      await this.metadata.writeFile(info.stats, attributes, true);
      // The file's ctime now says its attributes changed (chmod to its own mode changes nothing
      // else): a cached copy of this version, on any host, refreshes them instead of serving the old.
      const path = this.pathOf(this.buckets.directoryOf(bucket), key);
      await chmod(path, Number(info.stats.mode & 0o7777n)).catch(() => undefined);
    }
    return { ...info, ...attributes };
  }

  /**
   * Moves the file of the object's current version to `to` (outside this store) and forgets it:
   * how the cache adopts a persisted object as its copy. False if the key holds another version.
   */
  async moveOut(bucket: BucketName, key: ObjectKey, version: { ino: string; mtimeNs: string }, to: string): Promise<boolean> {
    const bucketDir = await this.buckets.require(bucket);
    const path = this.pathOf(bucketDir, key);
    const stats = await lstat(path, { bigint: true }).catch(() => undefined);
    if (!stats?.isFile() || String(stats.ino) !== version.ino || String(stats.mtimeNs) !== version.mtimeNs) return false;
    await rename(path, to);
    await this.metadata.remove(stats);
    await this.pruneParents(bucketDir, dirname(path)).catch(() => undefined);
    return true;
  }

  /** The identity of the version now at the key, without reading its record; undefined if there is none. */
  async version(bucket: BucketName, key: ObjectKey): Promise<VersionStamp | undefined> {
    if (isFolderKey(key)) return undefined;
    const path = this.pathOf(this.buckets.directoryOf(bucket), key);
    let stats: BigIntStats;
    try {
      stats = this.layout.attributesCached ? await statByOpen(path) : await stat(path, { bigint: true });
    } catch (e) {
      // Absent is absent; anything else (EIO, ESTALE) says nothing of the version, and is told.
      if (isCode(e, 'ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP', 'EISDIR')) return undefined;
      throw e;
    }
    if (!stats.isFile()) return undefined;
    return { ino: String(stats.ino), size: Number(stats.size), mtimeNs: String(stats.mtimeNs), ctimeNs: String(stats.ctimeNs) };
  }

  async keys(bucket: BucketName, options: { prefix: string; after?: string | undefined }): Promise<KeyCursor> {
    const bucketDir = await this.buckets.require(bucket);
    return new PosixKeyCursor(this.layout, bucketDir, options, {
      describe: (entry) =>
        (entry.kind === 'dir' ? this.head(bucket, entry.key as ObjectKey) : this.describeAt(entry.key as ObjectKey, entry.path)).catch(
          () => undefined,
        ),
      isFolder: async (entry) => {
        const stats = await stat(entry.path, { bigint: true }).catch(() => undefined);
        return stats !== undefined && (await this.metadata.readDirectory(stats))?.folder === true;
      },
    });
  }

  /** Deletes an object; deleting what does not exist succeeds, as in S3. */
  async delete(bucket: BucketName, key: ObjectKey): Promise<void> {
    const bucketDir = await this.buckets.require(bucket);
    const path = this.pathOf(bucketDir, key);
    const stats = await lstat(path, { bigint: true }).catch(() => undefined);
    if (!stats) return;
    // lstat follows links in the parents: a key through a link out of ROOT (or into .sluice)
    // names nothing sluice serves, so there is nothing to delete.
    if (!(await this.isServablePath(path, stats))) return;
    if (isFolderKey(key)) {
      if (!stats.isDirectory()) return;
      await this.metadata.remove(stats);
      try {
        await rmdir(path);
      } catch (e) {
        if (!isCode(e, 'ENOTEMPTY', 'EEXIST')) throw e;
        // Objects remain below: the directory stays, as a plain parent sluice may later remove.
        await this.metadata.writeDirectory(stats, { folder: false, implicit: true });
        return;
      }
    } else {
      if (stats.isDirectory()) return;
      await unlink(path).catch((e: unknown) => {
        if (!isCode(e, 'ENOENT')) throw e;
      });
      await this.metadata.retire(stats);
    }
    if (this.options.fsync) await syncDirectory(dirname(path));
    await this.pruneParents(bucketDir, dirname(path));
  }

  /** Removes empty directories that sluice created, from `dir` up to (not including) the bucket. */
  private async pruneParents(bucketDir: string, dir: string): Promise<void> {
    while (dir.length > bucketDir.length && dir.startsWith(bucketDir)) {
      const stats = await lstat(dir, { bigint: true }).catch(() => undefined);
      if (!stats?.isDirectory()) return;
      const marks = await this.metadata.readDirectory(stats);
      if (!marks?.implicit || marks.folder) return;
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or raced with a writer): it stays
      }
      await this.metadata.remove(stats);
      dir = dirname(dir);
    }
  }
}
