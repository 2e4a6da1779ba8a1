// The cache's own buckets, for its cache-only objects (MUST_CACHE, and ASYNC_THROUGH until
// persisted): the same layout as ROOT (`<bucket>/<key>` and a `.sluice/` of its own), kept by a
// PosixStore. The buckets themselves live in the under store; here a bucket's directory is made
// when its first cache-only object is written.
import { lstat, mkdir, readdir, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { bucketNotEmpty, isCode, noSuchBucket } from '../../errors';
import { INTERNAL_DIR, type Layout } from '../layout';
import { bucketSegments, type BucketName } from '../names';
import type { BucketDirectories } from '../objects';
import { HIDDEN_TEMP_PREFIX } from '../tmp';

export class CacheBuckets implements BucketDirectories {
  /** The top-level directories of the cache's root, as of its mtime: a read of a bucket with no
   * cache-only object then costs one stat that succeeds, not two lookups that fail. */
  private known: { mtimeNs: bigint; readAt: number; names: Set<string> } | undefined;

  constructor(private readonly layout: Layout) {}

  /**
   * False when the bucket certainly holds no cache-only object. The listing is read again when the
   * root's mtime changes, and at least every second (two bucket directories made within one tick
   * of a coarse clock leave the mtime as it was).
   */
  async mayHold(bucket: BucketName): Promise<boolean> {
    const { mtimeNs } = await stat(this.layout.root, { bigint: true });
    if (this.known?.mtimeNs !== mtimeNs || Date.now() - this.known.readAt > 1000) {
      this.known = { mtimeNs, readAt: Date.now(), names: new Set(await readdir(this.layout.root)) };
    }
    return this.known.names.has(bucketSegments(bucket)[0]!);
  }

  /** The buckets that have a directory here (top-level ones; `a:b` lives inside `a`). */
  async names(): Promise<BucketName[]> {
    const names = await readdir(this.layout.root, { withFileTypes: true });
    return names.filter((e) => e.isDirectory() && e.name !== INTERNAL_DIR).map((e) => e.name as BucketName);
  }

  directoryOf(bucket: BucketName): string {
    return join(this.layout.root, ...bucketSegments(bucket));
  }

  /** The bucket's directory if it holds (or held) cache-only objects; NoSuchBucket otherwise. */
  async require(bucket: BucketName): Promise<string> {
    const dir = this.directoryOf(bucket);
    const stats = await lstat(dir).catch(() => undefined);
    if (!stats?.isDirectory()) throw noSuchBucket(bucket);
    return dir;
  }

  /** Makes the bucket's directory if needed (the under store said the bucket exists). */
  async requireWithDevice(bucket: BucketName): Promise<{ dir: string; device: number }> {
    const dir = this.directoryOf(bucket);
    await mkdir(dir, { recursive: true });
    return { dir, device: (await stat(dir)).dev };
  }

  /** BucketNotEmpty while it holds a cache-only object; otherwise its directory goes. */
  async delete(bucket: BucketName): Promise<void> {
    const dir = this.directoryOf(bucket);
    const names = await readdir(dir).catch((e: unknown) => {
      if (isCode(e, 'ENOENT', 'ENOTDIR')) return undefined;
      throw e;
    });
    if (names === undefined) return;
    if (names.some((n) => !n.startsWith(HIDDEN_TEMP_PREFIX))) throw bucketNotEmpty(bucket);
    await rmdir(dir).catch(() => undefined);
  }
}
