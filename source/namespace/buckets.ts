// Buckets: top-level directories of ROOT (or `a:b:c` sub-directories), each with a small record
// under .sluice/buckets holding its owner, permissions, creation date and tags. A directory made by
// another program is a bucket too, owned by the server's user; a sub-directory bucket that was never
// created as one belongs to whoever the bucket it lies in belongs to.
import { lstat, mkdir, open, readdir, realpath, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bucketAlreadyExists, bucketAlreadyOwnedByYou, bucketNotEmpty, isCode, noSuchBucket } from '../errors';
import type { Layout } from './layout';
import { INTERNAL_DIR } from './layout';
import type { Permissions, Tag } from './metadata';
import { bucketSegments, isSubDirectoryBucket, isValidS3BucketName, type BucketName } from './names';
import { HIDDEN_TEMP_PREFIX, uniqueSuffix } from './tmp';

export interface BucketInfo {
  name: BucketName;
  owner: string;
  created: Date;
  tags: Tag[];
  /** As recorded; absent for directories sluice did not create (and records older than permissions). */
  permissions?: Permissions | undefined;
}

interface BucketRecord {
  owner: string;
  created: string;
  tags: Tag[];
  permissions?: Permissions | undefined;
}

/** Bucket records kept in memory, checked against their file before each use. */
const CACHED_RECORDS = 1024;

export class BucketStore {
  private readonly records = new Map<string, { ino: number; mtimeMs: number; size: number; record: BucketRecord }>();

  constructor(
    private readonly layout: Layout,
    private readonly defaultOwner: string,
  ) {}

  directoryOf(bucket: BucketName): string {
    return join(this.layout.root, ...bucketSegments(bucket));
  }

  private recordPath(bucket: BucketName): string {
    return join(this.layout.buckets, `${bucket}.json`);
  }

  private async readRecord(bucket: BucketName): Promise<BucketRecord | undefined> {
    const path = this.recordPath(bucket);
    try {
      // Every authorized request reads its bucket's record: one stat says whether the copy read
      // before is still it (a record is replaced only by a rename, in any process).
      const now = await stat(path);
      const cached = this.records.get(path);
      if (cached && cached.ino === now.ino && cached.mtimeMs === now.mtimeMs && cached.size === now.size) return cached.record;
      const handle = await open(path, 'r');
      try {
        const read = await handle.stat(); // of the very file read: a rename since the stat above cannot mix them
        const record = JSON.parse(await handle.readFile('utf8')) as BucketRecord;
        if (this.records.size >= CACHED_RECORDS) this.records.delete(this.records.keys().next().value!);
        this.records.set(path, { ino: read.ino, mtimeMs: read.mtimeMs, size: read.size, record });
        return record;
      } finally {
        await handle.close();
      }
    } catch {
      this.records.delete(path);
      return undefined;
    }
  }

  private async writeRecord(bucket: BucketName, record: BucketRecord): Promise<void> {
    const target = this.recordPath(bucket);
    const temp = `${target}.${uniqueSuffix()}`;
    await writeFile(temp, JSON.stringify(record));
    await rename(temp, target);
  }

  /** The bucket's directory, or NoSuchBucket. Symlinked buckets must stay inside ROOT. */
  async require(bucket: BucketName): Promise<string> {
    return (await this.requireWithDevice(bucket)).dir;
  }

  /** As `require`, with the device the bucket's directory is on. */
  async requireWithDevice(bucket: BucketName): Promise<{ dir: string; device: number }> {
    const dir = this.directoryOf(bucket);
    const segments = bucketSegments(bucket);
    if (segments.length === 1) {
      // A plain directory right under ROOT (whose own path is resolved at start) is inside it by
      // construction: one lstat answers. Only a link needs resolving.
      const own = await lstat(dir).catch(() => undefined);
      if (own?.isDirectory()) return { dir, device: own.dev };
      if (!own?.isSymbolicLink()) throw noSuchBucket(bucket);
    }
    const stats = await stat(dir).catch(() => undefined);
    if (!stats?.isDirectory()) throw noSuchBucket(bucket);
    const real = await realpath(dir).catch(() => undefined); // gone since the stat: no bucket
    if (real === undefined || !this.layout.isServable(real)) throw noSuchBucket(bucket);
    return { dir, device: stats.dev };
  }

  async info(bucket: BucketName): Promise<BucketInfo> {
    const dir = await this.require(bucket);
    const record = await this.readRecord(bucket);
    if (record) {
      const { owner, created, tags, permissions } = record;
      return { name: bucket, owner, created: new Date(created), tags, permissions };
    }
    const stats = await stat(dir);
    const created = stats.birthtimeMs > 0 ? stats.birthtime : stats.mtime;
    const segments = bucketSegments(bucket);
    if (segments.length > 1) {
      // `a:b` is a view of the directory b of bucket a: it is that bucket's owner's, with its permissions.
      const parent = await this.info(segments.slice(0, -1).join(':') as BucketName);
      return { ...parent, name: bucket, created, tags: [] };
    }
    return { name: bucket, owner: this.defaultOwner, created, tags: [] };
  }

  async create(bucket: BucketName, owner: string, permissions: Permissions): Promise<void> {
    const dir = this.directoryOf(bucket);
    if (isSubDirectoryBucket(bucket)) {
      const parent = join(dir, '..');
      const parentStats = await stat(parent).catch(() => undefined);
      // stat follows links: a parent that resolves outside ROOT (or into .sluice) is no parent.
      const realParent = parentStats?.isDirectory() ? await realpath(parent).catch(() => undefined) : undefined;
      if (realParent === undefined || !this.layout.isServable(realParent)) {
        throw noSuchBucket(bucket, `The parent directory of sub-directory bucket "${bucket}" does not exist.`);
      }
    }
    try {
      await mkdir(dir);
    } catch (e) {
      if (!isCode(e, 'EEXIST')) throw e;
      const existing = await this.info(bucket).catch(() => undefined);
      if (existing?.owner === owner) throw bucketAlreadyOwnedByYou(bucket);
      throw bucketAlreadyExists(bucket);
    }
    await this.writeRecord(bucket, { owner, created: new Date().toISOString(), tags: [], permissions });
  }

  /** Top-level buckets (never `a:b:c` ones, as in Alluxio) owned by `owner`, in name order. */
  async list(owner: string): Promise<BucketInfo[]> {
    const entries = await readdir(this.layout.root, { withFileTypes: true });
    const names = entries
      .filter((e) => e.name !== INTERNAL_DIR && (e.isDirectory() || e.isSymbolicLink()) && isValidS3BucketName(e.name))
      .map((e) => e.name as BucketName)
      .sort();
    const infos = await Promise.all(names.map((name) => this.info(name).catch(() => undefined)));
    return infos.filter((b): b is BucketInfo => b !== undefined && b.owner === owner);
  }

  async delete(bucket: BucketName): Promise<void> {
    const dir = await this.require(bucket);
    const entries = await readdir(dir);
    if (entries.some((name) => !name.startsWith(HIDDEN_TEMP_PREFIX))) {
      throw bucketNotEmpty(bucket);
    }
    try {
      await rmdir(dir);
    } catch (e) {
      if (isCode(e, 'ENOTEMPTY', 'EEXIST')) {
        throw bucketNotEmpty(bucket);
      }
      throw e;
    }
    await unlink(this.recordPath(bucket)).catch(() => undefined);
  }

  async setTags(bucket: BucketName, tags: Tag[]): Promise<void> {
    await this.update(bucket, (record) => ({ ...record, tags }));
  }

  async setPermissions(bucket: BucketName, permissions: Permissions): Promise<void> {
    await this.update(bucket, (record) => ({ ...record, permissions }));
  }

  /** Rewrites the record (made from what `info` says, for a bucket that has none). */
  private async update(bucket: BucketName, change: (record: BucketRecord) => BucketRecord): Promise<void> {
    const { owner, created, tags, permissions } = await this.info(bucket);
    await this.writeRecord(bucket, change({ owner, created: created.toISOString(), tags, permissions }));
  }
}
