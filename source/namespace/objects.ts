// The POSIX object store: objects are plain files at their key's path. Writes stream into a temp
// file that is renamed into place; reads open the file once and describe exactly the version they
// opened (found-objects.ts). An object whose key is also a prefix lives inside that directory
// (moves.ts), a folder object's bytes inside its own (folders.ts). ROOT is one store (the under
// store); the cache keeps its cache-only objects in another.
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { createWriteStream, type BigIntStats, type WriteStream } from 'node:fs';
import { chmod, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isCode, noSuchKey } from '../errors';
import { FILE_IO_BYTES } from '../streams/buffer-sizes';
import { pump } from '../streams/pump';
import { fillFile } from './assembly';
import { FolderObjects } from './folders';
import { FoundObjects } from './found-objects';
import type { Layout } from './layout';
import { PosixKeyCursor } from './listing';
import type { MetadataStore, ObjectAttributes, Permissions } from './metadata';
import { KeyMoves, findAt } from './moves';
import { FOLDER_BYTES, NESTED_OBJECT, isFolderKey, isSubDirectoryBucket, keySegments, type BucketName, type ObjectKey } from './names';
import { attributesOf, describeRecorded, type ObjectInfo } from './object-info';
import { Parents, isServablePath, requireServable } from './parents';
import { moveIntoPlace } from './place';
import { fileOnly, lstatProbe, openProbe, openStatProbe, statProbe, type FoundFile } from './probes';
import { removeFileIf, type DeleteCondition } from './remove-if';
import { SmallObjects, isSmallWrite, openSmall, writeSmall } from './small-objects';
import type { KeyCursor, ObjectStore, OpenedObject, VersionStamp, WriteCondition, WriteContent, WriteFinish } from './store';
import { syncDirectory } from './sync';
import { HIDDEN_TEMP_PREFIX, tempName } from './tmp';

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
  /**
   * Small objects through a small-io thread (small-objects.ts); not for an under store behind a
   * cache, presumed remote, whose slow synchronous calls would queue every small request behind
   * them. Never on NFS (its attribute cache asks for the full path's care, too).
   */
  smallObjects?: boolean;
}

/** Looks again for an object whose file moved between being found and being read, this often at most. */
const MOVED_RETRIES = 10;
/** Where a write's new version goes, and how it is judged. */
interface KeyPlace {
  bucketDir: string;
  key: ObjectKey;
  /** The key's directories below the bucket (its last segment is `name`). */
  segments: string[];
  name: string;
  owner: string;
  condition: WriteCondition;
  /** The directory the version goes in: made again if a concurrent delete removed it. */
  parent: string;
}

export class PosixStore implements ObjectStore {
  private readonly moves: KeyMoves;
  private readonly parents: Parents;
  private readonly found: FoundObjects;
  private readonly folders: FolderObjects;
  /** Paths known to hold objects too big for the small path, and whether it is on at all. */
  private readonly small: SmallObjects | undefined;

  constructor(
    private readonly layout: Layout,
    private readonly buckets: BucketDirectories,
    private readonly metadata: MetadataStore,
    private readonly options: StoreOptions,
  ) {
    this.moves = new KeyMoves(layout, metadata, options.fsync);
    this.small = options.smallObjects !== false && !layout.attributesCached ? new SmallObjects() : undefined;
    this.parents = new Parents(layout, metadata, this.moves);
    this.found = new FoundObjects(layout, metadata, options);
    this.folders = new FolderObjects(layout, metadata, this.parents, options);
  }

  /** Finishes the moves of nested objects that dead processes left half done (at start). */
  recoverMoves(): Promise<number> {
    return this.moves.recoverAll();
  }

  pathOf(bucketDir: string, key: ObjectKey): string {
    return join(bucketDir, ...keySegments(key));
  }

  async head(bucket: BucketName, key: ObjectKey): Promise<ObjectInfo> {
    return (await this.find(bucket, key)).info;
  }

  /** The object and the path of its file (of its directory, for a folder object without bytes). */
  private async find(bucket: BucketName, key: ObjectKey): Promise<{ info: ObjectInfo; path: string }> {
    const path = this.pathOf(await this.buckets.require(bucket), key);
    if (!isFolderKey(key)) {
      for (let attempt = 0; attempt < MOVED_RETRIES; attempt++) {
        const described = await this.found.located(key, await this.moves.locate(path, statProbe));
        if (described) return described;
      }
      throw noSuchKey(key);
    }
    await requireServable(this.layout, path, key);
    const bytes = fileOnly(await statProbe(join(path, FOLDER_BYTES)));
    // Removed since it was seen, the folder holds none now.
    return (bytes && (await this.found.located(key, bytes))) ?? { info: await this.folders.describe(key, path), path };
  }

  /** Describes the file now at `path` (a listed key's); NoSuchKey if there is none. */
  async describeAt(key: ObjectKey, path: string): Promise<ObjectInfo> {
    const described = await this.found.located(key, fileOnly(await statProbe(path)));
    if (!described) throw noSuchKey(key);
    return described.info;
  }

  /** Opens an object for reading; the caller closes its body. A folder object without bytes has none. */
  async open(bucket: BucketName, key: ObjectKey): Promise<OpenedObject> {
    if (isFolderKey(key)) {
      const path = this.pathOf(await this.buckets.require(bucket), key);
      await requireServable(this.layout, path, key);
      const bytes = fileOnly(await openProbe(join(path, FOLDER_BYTES)));
      // Bytes removed since they were seen: the folder holds none now.
      return (bytes && (await this.found.opened(key, bytes, undefined, true))) ?? { info: await this.folders.describe(key, path) };
    }
    // The bucket is checked while the object is opened, not before: reads are the most frequent
    // request, and the two lookups overlap. Its answer is awaited before any other.
    const bucketDir = this.buckets.directoryOf(bucket);
    const path = this.pathOf(bucketDir, key);
    if (this.small?.mayHold(path) && !isSubDirectoryBucket(bucket)) {
      const small = await openSmall(this.layout, this.metadata, this.options.defaultOwner, key, { bucketDir, path });
      if (small) return small;
    }
    const bucketChecked = this.buckets.require(bucket);
    bucketChecked.catch(() => undefined); // awaited on every path below
    for (let attempt = 0; ; attempt++) {
      const found = await this.moves.locate(path, openProbe).catch(async (e: unknown) => {
        await bucketChecked;
        throw e;
      });
      if (!found) {
        await bucketChecked;
        throw noSuchKey(key);
      }
      // A link can lead back into ROOT from a bucket that is not one (a directory outside it).
      const opened = await this.found.opened(key, found, bucketChecked, attempt < MOVED_RETRIES);
      if (opened) {
        this.small?.written(path, opened.info.size);
        return opened;
      }
    }
  }

  /** Streams the content into a new version of the object (see WriteFinish). */
  async write(
    bucket: BucketName,
    key: ObjectKey,
    content: WriteContent,
    owner: string,
    finish: WriteFinish,
    condition: WriteCondition = {},
  ): Promise<ObjectInfo> {
    const segments = keySegments(key);
    // A folder object's bytes are a file in its own directory.
    const name = isFolderKey(key) ? FOLDER_BYTES : segments.pop()!;
    let source = content.source;
    this.small?.written(join(this.buckets.directoryOf(bucket), ...segments, name), content.size);
    if (this.small && isSmallWrite(key, content, condition, this.options.fsync) && !isSubDirectoryBucket(bucket)) {
      // The bucket is checked, and its parents looked for (not made), in the same trip: if one is
      // missing, the rename fails and the parents are made as the full path makes them.
      const bucketDir = this.buckets.directoryOf(bucket);
      const at: KeyPlace = { bucketDir, key, segments, name, owner, condition, parent: join(bucketDir, ...segments) };
      const where = { bucketDir, target: join(at.parent, name), parent: segments.length > 0 ? at.parent : undefined };
      const { attributes, result } = await writeSmall(this.layout, source as Readable, finish, where);
      if (result.kind === 'placed') {
        if (result.previous) await this.metadata.retire(result.previous);
        return describeRecorded(key, result.stats, attributes);
      }
      if (result.kind === 'written') {
        // Something stood in the way (a missing or outside parent, a directory at the key): make
        // and check the parents as the full path does, then place it with the full path's care.
        at.parent = await this.parents.ensure(bucketDir, key, segments, owner).catch(async (e: unknown) => {
          await unlink(result.temp).catch(() => undefined);
          await this.metadata.remove(result.stats).catch(() => undefined);
          throw e;
        });
        return this.place(at, result.temp, result.stats, attributes);
      }
      source = Readable.from([result.bytes]);
      finish = () => attributes;
    }
    const { dir: bucketDir, device: bucketDevice } = await this.buckets.requireWithDevice(bucket);
    const tempIn = (dir: string): string =>
      bucketDevice === this.layout.tmpDevice ? join(this.layout.tmp, tempName()) : join(dir, HIDDEN_TEMP_PREFIX + tempName());
    const at: KeyPlace = { bucketDir, key, segments, name, owner, condition, parent: join(bucketDir, ...segments) };
    at.parent = await this.parents.ensure(bucketDir, key, segments, owner);
    const temp = tempIn(at.parent);
    let out: WriteStream | undefined;
    let stats: BigIntStats;
    let attributes: ObjectAttributes;
    try {
      // `flush` fsyncs before close. (A FileHandle's own stream cannot be used here: closing
      // the handle after a stream with autoClose off never settles on Node 20.)
      if (typeof source === 'function') {
        await fillFile(temp, source, this.options.fsync);
      } else {
        out = createWriteStream(temp, { flags: 'wx', mode: 0o644, highWaterMark: FILE_IO_BYTES, flush: this.options.fsync });
        await pump(source, out);
      }
      attributes = await finish();
      stats = await stat(temp, { bigint: true });
      if (isFolderKey(key) && stats.size === 0n) {
        // Zero bytes: the folder object it always was, a marked directory.
        await unlink(temp);
        return await this.createFolder(bucket, key, owner, attributes.tags, attributes.permissions);
      }
      await this.metadata.writeFile(stats, attributes, false);
    } catch (e) {
      // The stream opens its file asynchronously: when the body fails first, the open may still
      // be in flight and would create the temp file after an unlink. Wait until it is closed.
      if (out && !out.closed) await once(out, 'close').catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      // Directories made for this key alone must not outlive a failed write (an aborted upload
      // would otherwise leave an empty prefix behind, visible in listings).
      await this.parents.prune(bucketDir, at.parent).catch(() => undefined);
      throw e;
    }
    return this.place(at, temp, stats, attributes);
  }

  /** Puts a written and recorded temp file in place as the key's new version; on failure, removes both. */
  private async place(at: KeyPlace, temp: string, stats: BigIntStats, attributes: ObjectAttributes): Promise<ObjectInfo> {
    const { bucketDir, key, segments, name, owner, condition } = at;
    try {
      const target = join(at.parent, name);
      const place = (): Promise<BigIntStats | undefined> =>
        moveIntoPlace(temp, target, key, {
          condition,
          describe: (version) => this.found.describe(key, version),
          remakeParents: async () => join((at.parent = await this.parents.ensure(bucketDir, key, segments, owner)), name),
          nesting: () => this.moves.flags.flag(target),
        });
      // A conditional write judges the current version: no move of it may run meanwhile.
      const previous = condition.check || condition.createOnly ? await this.moves.exclusive(target, place) : await place();
      if (previous !== undefined) await this.metadata.retire(previous);
      if (this.options.fsync) await syncDirectory(at.parent);
      return describeRecorded(key, stats, attributes);
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      await this.metadata.remove(stats).catch(() => undefined);
      await this.parents.prune(bucketDir, at.parent).catch(() => undefined);
      throw e;
    }
  }

  /** Creates (or re-marks) a folder object `dir/`: a directory on disk, holding no bytes. */
  async createFolder(
    bucket: BucketName,
    key: ObjectKey,
    owner: string,
    tags: ObjectAttributes['tags'],
    permissions?: Permissions,
  ): Promise<ObjectInfo> {
    const bucketDir = await this.buckets.require(bucket);
    const dir = await this.parents.ensure(bucketDir, key, keySegments(key), owner);
    const stats = await stat(dir, { bigint: true });
    await this.metadata.writeDirectory(stats, { folder: true, implicit: false, owner, tags, ...(permissions ? { permissions } : {}) });
    await this.folders.removeBytes(dir);
    return this.folders.describe(key, dir);
  }

  /** Replaces the recorded attributes of the current version, without touching its bytes. */
  async updateAttributes(bucket: BucketName, key: ObjectKey, update: (current: ObjectAttributes) => ObjectAttributes): Promise<ObjectInfo> {
    const { info, path } = await this.find(bucket, key);
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
      await chmod(path, Number(info.stats.mode & 0o7777n)).catch(() => undefined);
    }
    return { ...info, ...attributes };
  }

  /** The key's file as a delete or a move out finds it (a link counts as itself). */
  private fileOf(path: string, key: ObjectKey): Promise<FoundFile | undefined> {
    if (isFolderKey(key)) return lstatProbe(join(path, FOLDER_BYTES)).then(fileOnly);
    return this.moves.locate(path, lstatProbe);
  }

  /**
   * Moves the file of the object's current version to `to` (outside this store) and forgets it:
   * how the cache adopts a persisted object as its copy. False if the key holds another version.
   */
  async moveOut(bucket: BucketName, key: ObjectKey, version: { ino: string; mtimeNs: string }, to: string): Promise<boolean> {
    const bucketDir = await this.buckets.require(bucket);
    const path = this.pathOf(bucketDir, key);
    // No move of the key may carry the file off between the check and the rename.
    const moved = await this.moves.exclusive(path, async () => {
      const found = await this.fileOf(path, key);
      if (!found?.stats.isFile() || String(found.stats.ino) !== version.ino || String(found.stats.mtimeNs) !== version.mtimeNs) return;
      await rename(found.path, to);
      await this.metadata.remove(found.stats);
      return found.path;
    });
    if (moved === undefined) return false;
    await this.parents.prune(bucketDir, dirname(moved)).catch(() => undefined);
    return true;
  }

  /**
   * The identity of the version now at the key, without reading its record; undefined if there
   * is none. Not `exact`, an object in the middle of a move may be missed (one lookup less).
   */
  async version(bucket: BucketName, key: ObjectKey, exact = true): Promise<VersionStamp | undefined> {
    const path = this.pathOf(this.buckets.directoryOf(bucket), key);
    // On NFS a stat answers from the client's attribute cache; an open revalidates (close-to-open).
    const probe = this.layout.attributesCached ? openStatProbe : statProbe;
    let found: FoundFile | undefined;
    if (isFolderKey(key)) found = fileOnly(await probe(join(path, FOLDER_BYTES)));
    else found = exact ? await this.moves.locate(path, probe) : await findAt(path, probe);
    if (!found) return undefined;
    const { stats } = found;
    return { ino: String(stats.ino), size: Number(stats.size), mtimeNs: String(stats.mtimeNs), ctimeNs: String(stats.ctimeNs) };
  }

  async keys(bucket: BucketName, options: { prefix: string; after?: string | undefined }): Promise<KeyCursor> {
    const bucketDir = await this.buckets.require(bucket);
    return new PosixKeyCursor(this.layout, bucketDir, options, {
      describe: (entry) => {
        const key = entry.key as ObjectKey;
        // A file that moved since it was listed (nested or back) is looked up by its key.
        if (entry.kind === 'dir') return this.head(bucket, key).catch(() => undefined);
        return this.describeAt(key, entry.path)
          .catch(() => this.head(bucket, key))
          .catch(() => undefined);
      },
      isFolder: (entry) => this.folders.isFolder(entry.path),
      nested: {
        mayHold: (dir) => this.moves.flags.mayHold(dir),
        // One that is being moved is found where it is (or, moved back out, as the file it is again).
        find: async (dir) =>
          (fileOnly(await statProbe(join(dir, NESTED_OBJECT))) ?? (await this.moves.locateAfterMiss(dir, statProbe)))?.path,
      },
    });
  }

  /** Deletes an object (if `condition` accepts it); deleting what does not exist succeeds, as in S3. */
  async delete(bucket: BucketName, key: ObjectKey, condition?: DeleteCondition): Promise<void> {
    const bucketDir = await this.buckets.require(bucket);
    const path = this.pathOf(bucketDir, key);
    if (isFolderKey(key)) return this.folders.delete(bucketDir, path, condition && (async () => condition(await this.head(bucket, key))));
    for (let attempt = 0; attempt < 5; attempt++) {
      const found = await this.moves.locate(path, lstatProbe);
      // lstat follows links in the parents: a key through a link out of ROOT (or into .sluice)
      // names nothing sluice serves, so there is nothing to delete.
      if (!found || !(await isServablePath(this.layout, found.path, found.stats))) return;
      if (condition && found.stats.isFile()) {
        // Decided on the very version removed; undefined: it moved (or went) meanwhile, look again.
        const removed = await removeFileIf(found.path, found.stats, this.layout, (v) => this.found.describe(key, v), condition);
        if (!removed) continue;
        await this.metadata.retire(removed);
      } else {
        if (condition) condition(await this.describeAt(key, found.path)); // a link: its target's version, then the link goes
        try {
          await unlink(found.path);
        } catch (e) {
          if (isCode(e, 'ENOENT', 'ENOTDIR', 'EISDIR')) continue; // moved meanwhile (nested or back): find it again
          throw e;
        }
        await this.metadata.retire(found.stats);
      }
      if (this.options.fsync) await syncDirectory(dirname(found.path));
      await this.parents.prune(bucketDir, dirname(found.path));
      return;
    }
  }
}
