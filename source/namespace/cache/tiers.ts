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
import { PassThrough, Transform, Writable, type TransformCallback } from 'node:stream';
import type { DeleteType, WriteType } from '../../config/config';
import { S3Error, preconditionFailed } from '../../errors';
import { FILE_IO_BYTES } from '../../streams/buffer-sizes';
import { pump } from '../../streams/pump';
import { FileBody } from '../file-body';
import type { ObjectAttributes, Persistence } from '../metadata';
import type { BucketName, ObjectKey } from '../names';
import { attributesOf, describeRecorded, type ObjectInfo } from '../object-info';
import type { PosixStore } from '../objects';
import type {
  KeyCursor,
  ObjectBody,
  ObjectStore,
  OpenedObject,
  VersionStamp,
  WriteCondition,
  WriteContent,
  WriteFinish,
} from '../store';
import { keyHash, sameBytes, stampOf, type CopyRecord, type OpenCopy } from './copies';
import { CacheTee, FillSink, followFill, runningFill, type CopyDetails } from './fill';
import type { CacheDisk } from './index';
import type { Reservation } from './ledger';
import { MergedKeys } from './merged-keys';
import { PersistQueue, type PersistJob } from './persist';

/** The under store as the tiers use it: an object store that can tell a version's identity cheaply. */
export interface UnderStore extends ObjectStore {
  /** Not `exact`, a version in the middle of a move (see moves.ts) may be missed: cheaper, for hints. */
  version(bucket: BucketName, key: ObjectKey, exact?: boolean): Promise<VersionStamp | undefined>;
}

export interface TierOptions {
  writeType: WriteType;
  deleteType: DeleteType;
  /** NoSuchBucket unless the under store has the bucket (buckets live there only). */
  requireBucket: (bucket: BucketName) => Promise<unknown>;
  /** Told of a persist that failed (it is retried). */
  onPersistFailure?: (job: PersistJob, error: unknown) => void;
}

/** What the cache did, for metrics. */
export interface CacheCounters {
  hits: number;
  misses: number;
  fills: number;
  persisted: number;
}

/** Whole-object fills started in the background after ranged misses, at most, per process. */
const BACKGROUND_FILLS = 2;
/** Unknown lengths are reserved this much at a time. */
const RESERVE_STEP = 8 * 1024 * 1024;

const isNotFound = (e: unknown): boolean => e instanceof S3Error && (e.code === 'NoSuchKey' || e.code === 'NoSuchBucket');

/** Attributes for the under store: persistence is a cache-only object's, never recorded there. */
function persisted(attributes: ObjectAttributes): ObjectAttributes {
  const { persistence: _persistence, ...rest } = attributes;
  return rest;
}

export class TieredStore implements ObjectStore {
  readonly persistQueue: PersistQueue;
  readonly counters: CacheCounters = { hits: 0, misses: 0, fills: 0, persisted: 0 };
  private backgroundFills = 0;

  constructor(
    private readonly under: UnderStore,
    readonly disk: CacheDisk,
    private readonly options: TierOptions,
  ) {
    this.persistQueue = new PersistQueue({
      dir: disk.persistDir,
      work: (job) => this.persist(job),
      ...(options.onPersistFailure ? { onFailure: options.onPersistFailure } : {}),
    });
  }

  private get local(): PosixStore {
    return this.disk.local;
  }

  private lockKey(bucket: BucketName, key: ObjectKey): Promise<() => Promise<void>> {
    return this.disk.locks.acquire(`key.${keyHash(bucket, key)}`);
  }

  private async openLocal(bucket: BucketName, key: ObjectKey): Promise<OpenedObject | undefined> {
    if (!(await this.disk.localBuckets.mayHold(bucket))) return undefined;
    return this.local.open(bucket, key).catch((e: unknown) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
  }

  private async headLocal(bucket: BucketName, key: ObjectKey): Promise<ObjectInfo | undefined> {
    if (!(await this.disk.localBuckets.mayHold(bucket))) return undefined;
    return this.local.head(bucket, key).catch((e: unknown) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
  }

  async open(bucket: BucketName, key: ObjectKey): Promise<OpenedObject> {
    const [local, copy, version] = await Promise.all([
      this.openLocal(bucket, key),
      this.disk.copies.open(bucket, key),
      this.under.version(bucket, key, false),
    ]);
    if (local) {
      await copy?.handle.close();
      return local;
    }
    if (copy) {
      const record = version && sameBytes(copy.record.origin, version) ? await this.current(copy, version) : undefined;
      if (record) {
        this.counters.hits++;
        return { info: describeCopy(key, copy, record), body: new FileBody(copy.handle) };
      }
      await copy.handle.close();
      if (!version || !sameBytes(copy.record.origin, version)) void this.dropCopy(bucket, key).catch(() => undefined); // stale
    }
    const opened = await this.under.open(bucket, key);
    if (!opened.body) return opened;
    this.counters.misses++;
    return { info: opened.info, body: new CachingBody(this, bucket, key, opened.info, opened.body) };
  }

  /** The copy's record, with its attributes refreshed if they changed in the under store (tags). */
  private async current(copy: OpenCopy, version: VersionStamp): Promise<CopyRecord | undefined> {
    if (copy.record.origin.ctimeNs === version.ctimeNs) return copy.record;
    const info = await this.under.head(copy.record.bucket, copy.record.key).catch(() => undefined);
    if (!info || !sameBytes(stampOf(info.stats), version)) return undefined;
    const record: CopyRecord = { ...copy.record, origin: version, foreign: info.foreign, attributes: persisted(attributesOf(info)) };
    await this.disk.copies.writeRecord(record).catch(() => undefined);
    return record;
  }

  async head(bucket: BucketName, key: ObjectKey): Promise<ObjectInfo> {
    return (await this.headLocal(bucket, key)) ?? this.under.head(bucket, key);
  }

  async write(
    bucket: BucketName,
    key: ObjectKey,
    content: WriteContent,
    owner: string,
    finish: WriteFinish,
    condition?: WriteCondition,
  ): Promise<ObjectInfo> {
    // A condition is about the current object, which may be a cache-only one.
    const local = condition ? await this.headLocal(bucket, key) : undefined;
    if (local && condition) {
      if (condition.createOnly) throw preconditionFailed('If-None-Match');
      condition.check?.(local);
    }
    switch (this.options.writeType) {
      case 'THROUGH':
      case 'CACHE_THROUGH':
        return this.writeThrough(bucket, key, content, owner, finish, local ? undefined : condition);
      case 'MUST_CACHE':
        return this.writeLocal(bucket, key, content, owner, finish, 'NOT_PERSISTED', local ? condition : undefined, condition);
      case 'ASYNC_THROUGH':
        return this.writeLocal(bucket, key, content, owner, finish, 'TO_BE_PERSISTED', local ? condition : undefined, condition);
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
    let release: (() => Promise<void>) | undefined;
    try {
      const info = await this.under.write(
        bucket,
        key,
        { source, size: content.size },
        owner,
        async () => {
          const attributes = persisted(await finish());
          release = await this.lockKey(bucket, key);
          return attributes;
        },
        condition,
      );
      // Placed: a cache-only version of the key, and an older copy, are gone.
      await this.removeLocalLocked(bucket, key);
      const stamp = sink ? await this.under.version(bucket, key) : undefined;
      if (sink && stamp && sameBytes(stamp, stampOf(info.stats))) {
        await sink.finish({ origin: stamp, foreign: false, attributes: attributesOf(info) }, true);
      } else {
        await sink?.abort();
        await this.removeCopyLocked(bucket, key);
      }
      await release?.();
      release = undefined;
      // An assembly (CompleteMultipartUpload) was written by the kernel: copy it now, from the fresh file.
      if (cached && typeof content.source === 'function') await this.fillFromUnder(bucket, key, info);
      return info;
    } catch (e) {
      await sink?.abort();
      throw e;
    } finally {
      await release?.();
    }
  }

  /** MUST_CACHE and ASYNC_THROUGH: the cache only, pinned (never evicted) until persisted. */
  private async writeLocal(
    bucket: BucketName,
    key: ObjectKey,
    content: WriteContent,
    owner: string,
    finish: WriteFinish,
    persistence: Persistence,
    localCondition: WriteCondition | undefined,
    condition: WriteCondition | undefined,
  ): Promise<ObjectInfo> {
    await this.options.requireBucket(bucket);
    if (condition && !localCondition) {
      // No cache-only version: the condition is about the under store's.
      const current = await this.under.head(bucket, key).catch((e: unknown) => {
        if (isNotFound(e)) return undefined;
        throw e;
      });
      if (current && condition.createOnly) throw preconditionFailed('If-None-Match');
      condition.check?.(current);
    }
    if (typeof content.source === 'function' && content.size === undefined) throw new Error('An assembly must name its size.');
    const reservation = await this.disk.ledger.reserve(content.size ?? Math.min(RESERVE_STEP, this.disk.ledger.capacity));
    const meter = new Reserving(reservation, content.size === undefined);
    let source = content.source;
    if (typeof source !== 'function') {
      pump(source, meter).catch(() => undefined);
      source = meter;
    }
    let release: (() => Promise<void>) | undefined;
    let committed = 0;
    let replaced = 0;
    try {
      const info = await this.local.write(
        bucket,
        key,
        { source },
        owner,
        async () => {
          const attributes: ObjectAttributes = { ...(await finish()), persistence };
          release = await this.lockKey(bucket, key);
          replaced = (await this.local.version(bucket, key))?.size ?? 0;
          committed = typeof content.source === 'function' ? content.size! : meter.bytes;
          await this.disk.ledger.commit(reservation, committed);
          return attributes;
        },
        localCondition ? { createOnly: localCondition.createOnly ?? false } : undefined,
      );
      await this.disk.ledger.forget(replaced);
      await this.removeCopyLocked(bucket, key);
      // Zero bytes as `dir/` with no length announced: a folder object, which lives where createFolder puts it.
      if (info.isFolder && persistence === 'TO_BE_PERSISTED') {
        await this.removeLocalLocked(bucket, key);
        return await this.under.createFolder(bucket, key, owner, info.tags);
      }
      if (persistence === 'TO_BE_PERSISTED') {
        await this.persistQueue.enqueue({ bucket, key, ino: String(info.stats.ino), mtimeNs: String(info.stats.mtimeNs) });
      }
      return info;
    } catch (e) {
      if (committed > 0) await this.disk.ledger.forget(committed);
      else await reservation.release();
      throw e;
    } finally {
      await release?.();
    }
  }

  async createFolder(bucket: BucketName, key: ObjectKey, owner: string, tags: ObjectAttributes['tags']): Promise<ObjectInfo> {
    // A folder without bytes has none to cache: it is made in the under store, except under MUST_CACHE.
    await this.options.requireBucket(bucket);
    if (this.options.writeType === 'MUST_CACHE') await this.disk.localBuckets.requireWithDevice(bucket);
    const release = await this.lockKey(bucket, key);
    try {
      // It replaces the bytes the key held (written as `dir/` through the cache), and their copy.
      await this.removeCopyLocked(bucket, key);
      if (this.options.writeType !== 'MUST_CACHE') {
        await this.removeLocalLocked(bucket, key);
        return await this.under.createFolder(bucket, key, owner, tags);
      }
      const replaced = (await this.local.version(bucket, key))?.size ?? 0;
      const info = await this.local.createFolder(bucket, key, owner, tags);
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
    if (await this.headLocal(bucket, key)) return this.local.updateAttributes(bucket, key, update);
    // Copies of this version notice the change by the file's ctime and refresh their attributes.
    return this.under.updateAttributes(bucket, key, (current) => persisted(update(current)));
  }

  async delete(bucket: BucketName, key: ObjectKey): Promise<void> {
    const release = await this.lockKey(bucket, key);
    try {
      await this.removeLocalLocked(bucket, key);
      await this.removeCopyLocked(bucket, key);
      if (this.options.deleteType === 'ALLUXIO_AND_UFS') await this.under.delete(bucket, key);
      else await this.options.requireBucket(bucket);
    } finally {
      await release();
    }
  }

  async keys(bucket: BucketName, options: { prefix: string; after?: string | undefined }): Promise<KeyCursor> {
    const under = await this.under.keys(bucket, options);
    const local = await this.local.keys(bucket, options).catch((e: unknown) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
    return local ? new MergedKeys(local, under) : under;
  }

  /** The key's cache-only version goes, and its space. The caller holds the key's lock. */
  private async removeLocalLocked(bucket: BucketName, key: ObjectKey): Promise<void> {
    const size = (await this.local.version(bucket, key))?.size ?? 0;
    try {
      await this.local.delete(bucket, key);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    await this.disk.ledger.forget(size);
  }

  /** The key's copy goes, and its space. The caller holds the key's lock. */
  private async removeCopyLocked(bucket: BucketName, key: ObjectKey): Promise<void> {
    await this.disk.ledger.forget(await this.disk.copies.remove(bucket, key));
  }

  private async dropCopy(bucket: BucketName, key: ObjectKey): Promise<void> {
    const release = await this.lockKey(bucket, key);
    try {
      await this.removeCopyLocked(bucket, key);
    } finally {
      await release();
    }
  }

  /** Fills a copy of the under store's version `info` (if no read is filling it already). */
  async fillFromUnder(bucket: BucketName, key: ObjectKey, info: ObjectInfo): Promise<void> {
    const origin = stampOf(info.stats);
    if (info.size === 0 || (await runningFill(this.disk, bucket, key, origin))) return;
    const sink = await FillSink.start(this.disk, bucket, key, info.size, origin);
    if (!(sink instanceof FillSink)) return;
    let body: ObjectBody | undefined;
    try {
      const opened = await this.under.open(bucket, key);
      body = opened.body;
      if (!body || !sameBytes(stampOf(opened.info.stats), origin)) throw new Error('The version changed.');
      const sinkhole = new Writable({ write: (_chunk, _encoding, callback) => callback() });
      await pump(body.stream(0, info.size), new CacheTee(sink), sinkhole);
      await sink.finish(copyDetails(info, origin));
      this.counters.fills++;
    } catch {
      await sink.abort();
    } finally {
      await body?.close();
    }
  }

  /** After a ranged miss: a whole copy, filled in the background, a few at a time. */
  backgroundFill(bucket: BucketName, key: ObjectKey, info: ObjectInfo): void {
    if (this.backgroundFills >= BACKGROUND_FILLS || info.size > this.disk.ledger.capacity / 2) return;
    this.backgroundFills++;
    void this.fillFromUnder(bucket, key, info)
      .catch(() => undefined)
      .finally(() => this.backgroundFills--);
  }

  /** Persists one cache-only version (ASYNC_THROUGH); a version overwritten or deleted meanwhile is skipped. */
  private async persist(job: PersistJob): Promise<void> {
    const { bucket, key } = job;
    const isJobVersion = (v: { ino: string; mtimeNs: string } | undefined): boolean => v?.ino === job.ino && v.mtimeNs === job.mtimeNs;
    const opened = await this.openLocal(bucket, key);
    if (!opened?.body || !isJobVersion({ ino: String(opened.info.stats.ino), mtimeNs: String(opened.info.stats.mtimeNs) })) {
      await opened?.body?.close();
      return;
    }
    const SUPERSEDED = new Error('superseded');
    let release: (() => Promise<void>) | undefined;
    try {
      const info = await this.under.write(
        bucket,
        key,
        { source: opened.body.stream(0, opened.info.size), size: opened.info.size },
        opened.info.owner,
        async () => {
          release = await this.lockKey(bucket, key);
          if (!isJobVersion(await this.local.version(bucket, key))) throw SUPERSEDED;
          // Attributes as they are now (tags may have changed while it waited).
          return persisted(attributesOf(await this.local.head(bucket, key)));
        },
      );
      // In the under store: the cache-only version becomes its copy, evictable like any other.
      const origin = await this.under.version(bucket, key);
      if (origin && sameBytes(origin, stampOf(info.stats))) await this.adopt(bucket, key, job, origin, info);
      this.counters.persisted++;
    } catch (e) {
      if (e !== SUPERSEDED) throw e;
    } finally {
      await release?.();
      await opened.body.close();
    }
  }

  /** Turns the persisted cache-only version into the key's copy (same bytes, same file). Key lock held. */
  private async adopt(bucket: BucketName, key: ObjectKey, job: PersistJob, origin: VersionStamp, info: ObjectInfo): Promise<void> {
    const data = { ino: job.ino, size: info.size };
    const record: CopyRecord = { v: 1, bucket, key, origin, data, foreign: false, attributes: attributesOf(info) };
    const replaced = await this.disk.copies.remove(bucket, key);
    await this.disk.copies.writeRecord(record);
    if (await this.local.moveOut(bucket, key, job, this.disk.copies.pathOf(bucket, key))) await this.disk.ledger.forget(replaced);
    else await this.disk.ledger.forget(replaced + (await this.disk.copies.remove(bucket, key)));
  }
}

function copyDetails(info: ObjectInfo, origin: VersionStamp): CopyDetails {
  return { origin, foreign: info.foreign, attributes: persisted(attributesOf(info)) };
}

/** A copy's description: its recorded attributes, and the under-store version's time and size. */
function describeCopy(key: ObjectKey, copy: OpenCopy, record: CopyRecord): ObjectInfo {
  const info = describeRecorded(key, copy.stats, record.attributes);
  info.lastModified = new Date(Number(BigInt(record.origin.mtimeNs) / 1_000_000n));
  info.foreign = record.foreign;
  return info;
}

/** The body of an under-store object that missed the cache: a whole read fills a copy on the way. */
class CachingBody implements ObjectBody {
  constructor(
    private readonly tiers: TieredStore,
    private readonly bucket: BucketName,
    private readonly key: ObjectKey,
    private readonly info: ObjectInfo,
    private readonly body: ObjectBody,
  ) {}

  async sendRange(start: number, length: number, out: Writable): Promise<void> {
    const { disk } = this.tiers;
    const whole = start === 0 && length === this.info.size && length > 0 && length <= disk.ledger.capacity;
    if (!whole) {
      if (length < this.info.size) this.tiers.backgroundFill(this.bucket, this.key, this.info);
      return this.body.sendRange(start, length, out);
    }
    const origin = stampOf(this.info.stats);
    for (let attempt = 0; attempt < 3; attempt++) {
      // Another read is filling this very version: follow it rather than read the under store again.
      const filling = await runningFill(disk, this.bucket, this.key, origin);
      if (filling) {
        const rest = (offset: number) => this.body.stream(offset, length - offset);
        return pump(followFill(disk, this.bucket, this.key, filling, length, rest), out);
      }
      const sink = await FillSink.start(disk, this.bucket, this.key, length, origin);
      if (sink === 'busy') continue; // another read began its fill just now: follow it
      if (!sink) break;
      this.tiers.counters.fills++;
      return pump(this.body.stream(0, length), new CacheTee(sink, copyDetails(this.info, origin)), out);
    }
    return this.body.sendRange(start, length, out);
  }

  stream(start: number, length: number): PassThrough {
    const out = new PassThrough({ highWaterMark: FILE_IO_BYTES });
    this.sendRange(start, length, out).catch((e: Error) => out.destroy(e));
    return out;
  }

  close(): Promise<void> {
    return this.body.close();
  }
}

/** Counts the bytes of a cache-only write, growing its reservation when its length was unknown. */
class Reserving extends Transform {
  bytes = 0;
  constructor(
    private readonly reservation: Reservation,
    private readonly grows: boolean,
  ) {
    super({ highWaterMark: FILE_IO_BYTES });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes <= this.reservation.bytes) {
      callback(null, chunk);
      return;
    }
    if (!this.grows) {
      callback(new S3Error('InvalidRequest', 'The body is longer than announced.'));
      return;
    }
    this.reservation.grow(Math.max(RESERVE_STEP, this.bytes - this.reservation.bytes)).then(() => callback(null, chunk), callback);
  }
}
