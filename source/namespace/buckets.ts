// Buckets: top-level directories of ROOT (or `a:b:c` sub-directories), each with a small record
// under .sluice/buckets holding its owner, creation date and tags. A directory made by another
// program is a bucket too, owned by the server's user.
import { lstat, mkdir, readFile, readdir, realpath, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bucketAlreadyExists, bucketAlreadyOwnedByYou, bucketNotEmpty, isCode, noSuchBucket } from '../errors';
import type { Layout } from './layout';
import { INTERNAL_DIR } from './layout';
import type { Tag } from './metadata';
import { bucketSegments, isSubDirectoryBucket, isValidS3BucketName, type BucketName } from './names';
import { HIDDEN_TEMP_PREFIX, uniqueSuffix } from './tmp';

export interface BucketInfo {
  name: BucketName;
  owner: string;
  created: Date;
  tags: Tag[];
}

interface BucketRecord {
  owner: string;
  created: string;
  tags: Tag[];
}

export class BucketStore {
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
    try {
      return JSON.parse(await readFile(this.recordPath(bucket), 'utf8')) as BucketRecord;
    } catch {
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
    if (record) return { name: bucket, owner: record.owner, created: new Date(record.created), tags: record.tags };
    const stats = await stat(dir);
    const created = stats.birthtimeMs > 0 ? stats.birthtime : stats.mtime;
    return { name: bucket, owner: this.defaultOwner, created, tags: [] };
  }

  async create(bucket: BucketName, owner: string): Promise<void> {
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
    await this.writeRecord(bucket, { owner, created: new Date().toISOString(), tags: [] });
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
    const info = await this.info(bucket);
    await this.writeRecord(bucket, { owner: info.owner, created: info.created.toISOString(), tags });
  }
}
