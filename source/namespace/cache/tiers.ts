// The tiers: the under store (the truth every host shares) and this host's cache, combined as one
// object store by Alluxio's write and delete types.
//
// Reads look for a cache-only object first, then for a copy that still matches the under-store
// version (one stat of it), then read the under store, filling a copy on the way. Writes go where
// the write type says: THROUGH the under store; CACHE_THROUGH both, before the answer; MUST_CACHE
// the cache only, for good; ASYNC_THROUGH the cache, then the persist queue. Deletes go from the
// cache, and from the under store too unless the delete type is ALLUXIO_ONLY.
//
// Every change of one key that involves a cache-only version holds the key's lock while it is
// placed, so a persist never puts an older version over a newer one, nor brings back a deleted one.
import type { DeleteType, WriteType } from '../../config/config';
import { preconditionFailed } from '../../errors';
import { pump } from '../../streams/pump';
import type { ObjectAttributes, Permissions } from '../metadata';
import type { BucketName, ObjectKey } from '../names';
import { attributesOf, describeRecorded, type ObjectInfo } from '../object-info';
import type { PosixStore } from '../objects';
import type {
  DeleteCondition,
  KeyCursor,
  ObjectStore,
  OpenedObject,
  VersionStamp,
  WriteCondition,
  WriteContent,
  WriteFinish,
} from '../store';
import { CacheOnly } from './cache-only';
import { CachingBody } from './caching-body';
import { sameBytes, stampOf, type CopyRecord, type OpenCopy } from './copies';
import { CacheTee, FillSink } from './fill';
import type { CacheDisk } from './index';
import { MergedKeys } from './merged-keys';
import { cacheGauges, hits, misses } from './metrics';
import type { PersistJob, PersistQueue } from './persist';
import { Persister } from './persister';
import { UnderFills } from './under-fills';
import { persisted, unlessNotFound, type UnderStore } from './under-store';

export interface TierOptions {
  writeType: WriteType;
  deleteType: DeleteType;
  /** NoSuchBucket unless the under store has the bucket (buckets live there only). */
  requireBucket: (bucket: BucketName) => Promise<unknown>;
  /** Told of a persist that failed (it is retried). */
  onPersistFailure?: (job: PersistJob, error: unknown) => void;
}

export class TieredStore implements ObjectStore {
  readonly persistQueue: PersistQueue;
  private readonly persister: Persister;
  private readonly cacheOnly: CacheOnly;
  private readonly fills: UnderFills;

  constructor(
    private readonly under: UnderStore,
    readonly disk: CacheDisk,
    private readonly options: TierOptions,
  ) {
    cacheGauges(disk, () => this.persistQueue.pending());
    this.persister = new Persister(under, disk, options.onPersistFailure);
    this.persistQueue = this.persister.queue;
    this.cacheOnly = new CacheOnly(under, disk, this.persistQueue, options.requireBucket);
    this.fills = new UnderFills(under, disk);
  }

  private get local(): PosixStore {
    return this.disk.local;
  }

  async open(bucket: BucketName, key: ObjectKey): Promise<OpenedObject> {
    const [localResult, copyResult, versionResult] = await Promise.allSettled([
      this.cacheOnly.open(bucket, key),
      this.disk.copies.open(bucket, key),
      this.under.version(bucket, key, false),
    ]);
    const local = localResult.status === 'fulfilled' ? localResult.value : undefined;
    const copy = copyResult.status === 'fulfilled' ? copyResult.value : undefined;
    const failed = [localResult, copyResult, versionResult].find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // One lookup failed (the under store is unreachable, say): release what the others opened.
      await local?.body?.close();
      await copy?.body.close();
      throw failed.reason;
    }
    const version = (versionResult as PromiseFulfilledResult<VersionStamp | undefined>).value;
    if (local) {
      await copy?.body.close();
      return local;
    }
    if (copy) {
      const record = version && sameBytes(copy.record.origin, version) ? await this.current(bucket, key, copy, version) : undefined;
      if (record) {
        hits.inc();
        return { info: describeCopy(key, copy, record), body: copy.body };
      }
      await copy.body.close();
      // Stale: the under store holds another version, or none. (Only this copy goes, not a newer one.)
      const stale = !version || !sameBytes(copy.record.origin, version);
      if (stale) void this.dropCopy(bucket, key, String(copy.stats.ino)).catch(() => undefined);
    }
    const opened = await this.under.open(bucket, key);
    if (!opened.body) return opened;
    misses.inc();
    return { info: opened.info, body: new CachingBody(this.fills, bucket, key, opened.info, opened.body) };
  }

  /** The copy's record, with its attributes refreshed if they changed in the under store (tags). */
  private async current(bucket: BucketName, key: ObjectKey, copy: OpenCopy, version: VersionStamp): Promise<CopyRecord | undefined> {
    if (copy.record.origin.ctimeNs === version.ctimeNs) return copy.record;
    const info = await this.under.head(bucket, key).catch(() => undefined);
    if (!info || !sameBytes(stampOf(info.stats), version)) return undefined;
    const record: CopyRecord = { ...copy.record, origin: version, foreign: info.foreign, attributes: persisted(attributesOf(info)) };
    await this.disk.copies.writeRecord(record).catch(() => undefined);
    return record;
  }

  async head(bucket: BucketName, key: ObjectKey): Promise<ObjectInfo> {
    return (await this.cacheOnly.head(bucket, key)) ?? this.under.head(bucket, key);
  }

  async write(
    bucket: BucketName,
    key: ObjectKey,
    content: WriteContent,
    owner: string,
    finish: WriteFinish,
    condition?: WriteCondition,
  ): Promise<ObjectInfo> {
    switch (this.options.writeType) {
      case 'THROUGH':
      case 'CACHE_THROUGH':
        return this.writeThrough(bucket, key, content, owner, finish, condition);
      case 'MUST_CACHE':
        return this.cacheOnly.write(bucket, key, content, owner, finish, 'NOT_PERSISTED', condition);
      case 'ASYNC_THROUGH':
        return this.cacheOnly.write(bucket, key, content, owner, finish, 'TO_BE_PERSISTED', condition);
    }
  }

  /** THROUGH and CACHE_THROUGH: the under store, and (CACHE_THROUGH) a copy filled on the way. */
  private async writeThrough(
    bucket: BucketName,
    key: ObjectKey,
    content: WriteContent,
    owner: string,
    finish: WriteFinish,
    condition: WriteCondition | undefined,
  ): Promise<ObjectInfo> {
    const cached = this.options.writeType === 'CACHE_THROUGH';
    let source = content.source;
    let sink: FillSink | undefined;
    if (cached && typeof source !== 'function') {
      const started = await FillSink.start(this.disk, bucket, key, content.size);
      sink = started instanceof FillSink ? started : undefined;
      if (sink) {
        const tee = new CacheTee(sink);
        pump(source, tee).catch(() => undefined); // a failure reaches the under store's write through `tee`
        source = tee;
      }
    }
    // The under store reads the condition when it places the file, after `finish`: where a
    // cache-only version is current, the condition is decided against it, under the key's lock.
    const effective: WriteCondition | undefined = condition ? { ...condition } : undefined;
    let release: (() => Promise<void>) | undefined;
    try {
      const info = await this.under.write(
        bucket,
        key,
        { source, size: content.size },
        owner,
        async () => {
          const attributes = persisted(await finish());
          release = await this.disk.lockKey(bucket, key);
          const local = effective ? await this.cacheOnly.head(bucket, key) : undefined;
          if (effective && local) {
            if (effective.createOnly) throw preconditionFailed('If-None-Match');
            effective.check?.(local);
            effective.createOnly = false;
            effective.check = undefined;
          }
          return attributes;
        },
        effective,
      );
      // Placed: a cache-only version of the key, and an older copy, are gone.
      await this.cacheOnly.removeLocked(bucket, key);
      const stamp = sink ? await this.under.version(bucket, key) : undefined;
      if (sink && stamp && sameBytes(stamp, stampOf(info.stats))) {
        await sink.finish({ origin: stamp, foreign: false, attributes: attributesOf(info) }, { locked: true });
      } else {
        await sink?.abort();
        await this.disk.removeCopyLocked(bucket, key);
      }
      await release?.();
      release = undefined;
      // An assembly (CompleteMultipartUpload) was written by the kernel: copy it now, from the fresh file.
      if (cached && typeof content.source === 'function') await this.fills.fillFromUnder(bucket, key, info);
      return info;
    } catch (e) {
      await sink?.abort();
      throw e;
    } finally {
      await release?.();
    }
  }

  async createFolder(
    bucket: BucketName,
    key: ObjectKey,
    owner: string,
    tags: ObjectAttributes['tags'],
    permissions?: Permissions,
  ): Promise<ObjectInfo> {
    // A folder without bytes has none to cache: it is made in the under store, except under MUST_CACHE.
    await this.options.requireBucket(bucket);
    if (this.options.writeType === 'MUST_CACHE') await this.disk.localBuckets.requireWithDevice(bucket);
    const release = await this.disk.lockKey(bucket, key);
    try {
      // It replaces the bytes the key held (written as `dir/` through the cache), and their copy.
      await this.disk.removeCopyLocked(bucket, key);
      if (this.options.writeType !== 'MUST_CACHE') {
        await this.cacheOnly.removeLocked(bucket, key);
        return await this.under.createFolder(bucket, key, owner, tags, permissions);
      }
      const replaced = (await this.local.version(bucket, key))?.size ?? 0;
      const info = await this.local.createFolder(bucket, key, owner, tags, permissions);
      await this.disk.ledger.forget(replaced);
      return info;
    } finally {
      await release();
    }
  }

  async updateAttributes(
    bucket: BucketName,
    key: ObjectKey,
    update: (current: ObjectAttributes) => ObjectAttributes,
  ): Promise<ObjectInfo> {
    // Under the key's lock: a cache-only object may be being persisted (and then adopted as a copy).
    const release = await this.disk.lockKey(bucket, key);
    try {
      if (await this.cacheOnly.head(bucket, key)) return await this.local.updateAttributes(bucket, key, update);
      // Copies of this version notice the change by the file's ctime and refresh their attributes.
      return await this.under.updateAttributes(bucket, key, (current) => persisted(update(current)));
    } finally {
      await release();
    }
  }

  async delete(bucket: BucketName, key: ObjectKey, condition?: DeleteCondition): Promise<void> {
    const release = await this.disk.lockKey(bucket, key);
    try {
      // A condition is about the current object: the cache-only version if there is one (which
      // goes first, if it may), else the under store's, whose delete decides before the copy goes.
      let pending = condition;
      if (pending && (await this.cacheOnly.head(bucket, key))) {
        await this.cacheOnly.removeLocked(bucket, key, pending);
        pending = undefined;
      }
      if (this.options.deleteType === 'ALLUXIO_AND_UFS') {
        await this.under.delete(bucket, key, pending);
      } else {
        await this.options.requireBucket(bucket);
        if (pending) {
          const current = await unlessNotFound(this.under.head(bucket, key));
          if (current) pending(current);
        }
      }
      await this.cacheOnly.removeLocked(bucket, key);
      await this.disk.removeCopyLocked(bucket, key);
    } finally {
      await release();
    }
  }

  async keys(bucket: BucketName, options: { prefix: string; after?: string | undefined }): Promise<KeyCursor> {
    const under = await this.under.keys(bucket, options);
    const local = await unlessNotFound(this.local.keys(bucket, options));
    return local ? new MergedKeys(local, under) : under;
  }

  private async dropCopy(bucket: BucketName, key: ObjectKey, ino: string): Promise<void> {
    const release = await this.disk.lockKey(bucket, key);
    try {
      await this.disk.removeCopyLocked(bucket, key, ino);
    } finally {
      await release();
    }
  }

  /** Queues the cache-only objects waiting for a persist that has no job (a crash came between). */
  requeueOrphans(): Promise<number> {
    return this.persister.requeueOrphans();
  }
}

/** A copy's description: its recorded attributes, and the under-store version's time and size. */
function describeCopy(key: ObjectKey, copy: OpenCopy, record: CopyRecord): ObjectInfo {
  const info = describeRecorded(key, copy.stats, record.attributes);
  info.lastModified = new Date(Number(BigInt(record.origin.mtimeNs) / 1_000_000n));
  info.foreign = record.foreign;
  return info;
}
