// The namespace: buckets, keys, files and their metadata under ROOT, and the multipart uploads
// in progress. It speaks buckets, keys and files; nothing here knows of HTTP or of S3 actions.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeleteType, WriteType } from '../config/config';
import { isCode } from '../errors';
import { BucketStore } from './buckets';
import { CacheDisk } from './cache';
import { TieredStore } from './cache/tiers';
import { Layout } from './layout';
import { MetadataStore } from './metadata';
import type { BucketName } from './names';
import { PosixStore } from './objects';
import { listPage, type Page, type PageRequest } from './pages';
import type { ObjectStore } from './store';
import { UploadStore } from './uploads';

export { partsContent, type FileFiller } from './assembly';
export type { BucketInfo } from './buckets';
export { KeyWalker, compareKeys, type WalkEntry } from './listing';
export type { ContentHeaders, ObjectAttributes, ObjectChecksum, Permissions, Persistence, Tag } from './metadata';
export * from './names';
export { attributesOf, type ObjectInfo } from './object-info';
export { Janitor, sweepOwnTempFiles } from './janitor';
export { Layout } from './layout';
export type { Page, PageRequest } from './pages';
export type { DeleteCondition, ObjectBody, ObjectStore, OpenedObject, WriteCondition, WriteContent } from './store';
export type { PartInfo } from './upload-parts';
export type { ClaimedUpload, CompletedUpload, UploadRecord, UploadStore } from './uploads';

export interface NamespaceOptions {
  root: string;
  /** Owner of what has no recorded owner (buckets and files made by other programs). */
  defaultOwner: string;
  listDirectories: boolean;
  fsync: boolean;
  /** Idle multipart uploads are aborted after this; parts in flight mark their upload active well within it. */
  multipartTimeoutMs: number;
  /** CompleteMultipartUpload assemblies that run at once in this process. */
  completePoolSize: number;
  /** Which tiers a write reaches, and a delete. Without a cache, THROUGH and CACHE_THROUGH write ROOT. */
  writeType: WriteType;
  deleteType: DeleteType;
  /** The cache tier on a local disk: its folder and the bytes it may hold (undefined: see CacheDisk). */
  cache?: { dir: string; capacity: number | undefined } | undefined;
}

export class Namespace {
  private constructor(
    readonly layout: Layout,
    readonly metadata: MetadataStore,
    readonly buckets: BucketStore,
    /** The objects: ROOT's, or ROOT and the cache as tiers. */
    readonly objects: ObjectStore,
    readonly uploads: UploadStore,
    /** Signs listing continuation tokens; shared through ROOT by every process serving it. */
    readonly secret: Buffer,
    private readonly listDirectories: boolean,
    /** The cache tier, when there is one. */
    readonly tiers: TieredStore | undefined,
  ) {}

  /** The same namespace whose objects are reached through `objects` (a request's guarded view of them). */
  withObjects(objects: ObjectStore): Namespace {
    return new Namespace(this.layout, this.metadata, this.buckets, objects, this.uploads, this.secret, this.listDirectories, this.tiers);
  }

  /** One page of a bucket's listing. */
  list(bucket: BucketName, request: Omit<PageRequest, 'listDirectories'>): Promise<Page> {
    return listPage(this.objects, bucket, { ...request, listDirectories: this.listDirectories });
  }

  /** Deletes an empty bucket (BucketNotEmpty while it holds objects, cache-only ones too). */
  async deleteBucket(bucket: BucketName): Promise<void> {
    await this.buckets.require(bucket);
    await this.tiers?.disk.localBuckets.delete(bucket);
    await this.buckets.delete(bucket);
  }

  /** Starts what runs in the background (the persist queue); returns what stops it. */
  startBackground(): () => Promise<void> {
    const tiers = this.tiers;
    const stopPersisting = tiers?.persistQueue.start();
    // Cache-only objects whose persist was never queued (a crash came between): now and then.
    const requeue = (): void => void tiers?.requeueOrphans().catch(() => undefined);
    requeue();
    const timer = tiers ? setInterval(requeue, 60_000) : undefined;
    timer?.unref();
    return async () => {
      clearInterval(timer);
      stopPersisting?.();
      await tiers?.disk.close();
    };
  }

  static async open(options: NamespaceOptions): Promise<Namespace> {
    const layout = await Layout.open(options.root);
    const metadata = new MetadataStore(layout);
    const buckets = new BucketStore(layout, options.defaultOwner);
    // Behind a cache the root is the under store, presumed remote: the full path's parallel calls suit it.
    const root = new PosixStore(layout, buckets, metadata, { ...options, smallObjects: !options.cache });
    await root.recoverMoves();
    let tiers: TieredStore | undefined;
    if (options.cache) {
      const disk = await CacheDisk.open({ ...options, dir: options.cache.dir, capacity: options.cache.capacity });
      tiers = new TieredStore(root, disk, {
        writeType: options.writeType,
        deleteType: options.deleteType,
        requireBucket: (bucket) => buckets.require(bucket),
      });
    }
    const uploads = new UploadStore(layout, {
      // A few times per cleaner timeout, so that no cleaner takes a slow part for an idle upload.
      activityIntervalMs: options.multipartTimeoutMs / 4,
      fsync: options.fsync,
      assemblies: options.completePoolSize,
    });
    const secret = await loadSecret(layout.internal);
    return new Namespace(layout, metadata, buckets, tiers ?? root, uploads, secret, options.listDirectories, tiers);
  }
}

async function loadSecret(internalDir: string): Promise<Buffer> {
  const path = join(internalDir, 'secret');
  try {
    await writeFile(path, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if (!isCode(e, 'EEXIST')) throw e;
  }
  // Another process may have created it a moment ago: wait until it holds the whole secret.
  for (let i = 0; ; i++) {
    const text = (await readFile(path, 'utf8')).trim();
    if (/^[0-9a-f]{64}$/.test(text)) return Buffer.from(text, 'hex');
    if (i > 50) throw new Error(`${path} does not hold a valid secret`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
