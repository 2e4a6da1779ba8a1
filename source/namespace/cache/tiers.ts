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
import { PassThrough, Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import type { DeleteType, WriteType } from '../../config/config';
import { S3Error, preconditionFailed } from '../../errors';
import { log } from '../../log';
import { counter, gauge } from '../../metrics';
import { FILE_IO_BYTES } from '../../streams/buffer-sizes';
import { pump } from '../../streams/pump';
import { FileBody } from '../file-body';
import type { ObjectAttributes, Permissions, Persistence } from '../metadata';
import type { BucketName, ObjectKey } from '../names';
import { attributesOf, describeRecorded, type ObjectInfo } from '../object-info';
import type { PosixStore } from '../objects';
import type {
  DeleteCondition,
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

const hits = counter('sluice_cache_hits_total', 'Reads served from a copy in the cache');
const misses = counter('sluice_cache_misses_total', 'Reads of the under store that found no valid copy');
const fills = counter('sluice_cache_fills_total', 'Copies filled into the cache (by a read, in the background, by a CACHE_THROUGH write)');
const persists = counter('sluice_cache_persisted_total', 'ASYNC_THROUGH objects persisted to the under store');

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
  private backgroundFills = 0;

  constructor(
    private readonly under: UnderStore,
    readonly disk: CacheDisk,
    private readonly options: TierOptions,
  ) {
    // The ledger and the queue are on the shared cache disk: any process can tell them, none sums them.
    gauge('sluice_cache_used_bytes', 'Bytes held by the cache (complete copies and cache-only objects)', {
      merge: 'local',
      collect: async () => (await disk.ledger.usage()).used,
    });
    gauge('sluice_cache_reserved_bytes', 'Bytes held for writes and fills in progress', {
      merge: 'local',
      collect: async () => (await disk.ledger.usage()).reserved,
    });
    gauge('sluice_cache_capacity_bytes', 'Bytes the cache may hold at most', { merge: 'local', collect: () => disk.ledger.capacity });
    gauge('sluice_cache_persist_queue', 'ASYNC_THROUGH objects waiting to be persisted', {
      merge: 'local',
      collect: () => this.persistQueue.pending(),
    });
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
    const [localResult, copyResult, versionResult] = await Promise.allSettled([
      this.openLocal(bucket, key),
      this.disk.copies.open(bucket, key),
      this.under.version(bucket, key, false),
    ]);
    const local = localResult.status === 'fulfilled' ? localResult.value : undefined;
    const copy = copyResult.status === 'fulfilled' ? copyResult.value : undefined;
    const failed = [localResult, copyResult, versionResult].find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // One lookup failed (the under store is unreachable, say): release what the others opened.
      await local?.body?.close();
      await copy?.handle.close();
      throw failed.reason;
    }
    const version = (versionResult as PromiseFulfilledResult<VersionStamp | undefined>).value;
    if (local) {
      await copy?.handle.close();
      return local;
    }
    if (copy) {
      const record = version && sameBytes(copy.record.origin, version) ? await this.current(bucket, key, copy, version) : undefined;
      if (record) {
        hits.inc();
        return { info: describeCopy(key, copy, record), body: new FileBody(copy.handle) };
      }
      await copy.handle.close();
      // Stale: the under store holds another version, or none. (Only this copy goes, not a newer one.)
      const stale = !version || !sameBytes(copy.record.origin, version);
      if (stale) void this.dropCopy(bucket, key, String(copy.stats.ino)).catch(() => undefined);
    }
    const opened = await this.under.open(bucket, key);
    if (!opened.body) return opened;
    misses.inc();
    return { info: opened.info, body: new CachingBody(this, bucket, key, opened.info, opened.body) };
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
    return (await this.headLocal(bucket, key)) ?? this.under.head(bucket, key);
  }

  /** The object a condition is about: the cache-only version if there is one, else the under store's. */
  private async currentObject(bucket: BucketName, key: ObjectKey): Promise<ObjectInfo | undefined> {
    return (
      (await this.headLocal(bucket, key)) ??
      (await this.under.head(bucket, key).catch((e: unknown) => {
        if (isNotFound(e)) return undefined;
        throw e;
      }))
    );
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
        return this.writeLocal(bucket, key, content, owner, finish, 'NOT_PERSISTED', condition);
      case 'ASYNC_THROUGH':
        return this.writeLocal(bucket, key, content, owner, finish, 'TO_BE_PERSISTED', condition);
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
          release = await this.lockKey(bucket, key);
          const local = effective ? await this.headLocal(bucket, key) : undefined;
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
      await this.removeLocalLocked(bucket, key);
      const stamp = sink ? await this.under.version(bucket, key) : undefined;
      if (sink && stamp && sameBytes(stamp, stampOf(info.stats))) {
        await sink.finish({ origin: stamp, foreign: false, attributes: attributesOf(info) }, { locked: true });
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
    condition: WriteCondition | undefined,
  ): Promise<ObjectInfo> {
    await this.options.requireBucket(bucket);
    if (typeof content.source === 'function' && content.size === undefined) throw new Error('An assembly must name its size.');
    const reservation = await this.disk.ledger.reserve(content.size ?? Math.min(RESERVE_STEP, this.disk.ledger.capacity));
    const meter = new Reserving(reservation, content.size === undefined);
    let source = content.source;
    if (typeof source !== 'function') {
      pump(source, meter).catch(() => undefined);
      source = meter;
    }
    let release: (() => Promise<void>) | undefined;
    let counted = 0; // bytes the ledger counts for this version once committed
    let replaced = 0;
    let placed = false;
    try {
      const info = await this.local.write(bucket, key, { source }, owner, async () => {
        const attributes: ObjectAttributes = { ...(await finish()), persistence };
        release = await this.lockKey(bucket, key);
        // The condition is decided under the key's lock, which every tiered write of the key holds
        // while it places its version: no other write slips in between the check and the rename.
        if (condition) {
          const current = await this.currentObject(bucket, key);
          if (current && condition.createOnly) throw preconditionFailed('If-None-Match');
          condition.check?.(current);
        }
        replaced = (await this.local.version(bucket, key))?.size ?? 0;
        const bytes = typeof content.source === 'function' ? content.size! : meter.bytes;
        await this.disk.ledger.commit(reservation, bytes);
        counted = bytes;
        return attributes;
      });
      placed = true;
      // From here the object is in place and counted: what fails now is logged, not undone. An
      // unqueued persist is found again by `requeueOrphans`.
      try {
        await this.disk.ledger.forget(replaced);
        await this.removeCopyLocked(bucket, key);
      } catch (e) {
        log.warn(`cache: after writing ${bucket}/${key}: ${(e as Error).message}`);
      }
      // Zero bytes as `dir/` with no length announced: a folder object, which lives where createFolder puts it.
      if (info.isFolder && persistence === 'TO_BE_PERSISTED') {
        await this.removeLocalLocked(bucket, key);
        return await this.under.createFolder(bucket, key, owner, info.tags);
      }
      try {
        if (persistence === 'TO_BE_PERSISTED') {
          await this.persistQueue.enqueue({ bucket, key, ino: String(info.stats.ino), mtimeNs: String(info.stats.mtimeNs) });
        }
      } catch (e) {
        log.warn(`cache: after writing ${bucket}/${key}: ${(e as Error).message}`);
      }
      return info;
    } catch (e) {
      if (!placed && counted > 0) await this.disk.ledger.forget(counted);
      else if (!placed) await reservation.release();
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
    const release = await this.lockKey(bucket, key);
    try {
      // It replaces the bytes the key held (written as `dir/` through the cache), and their copy.
      await this.removeCopyLocked(bucket, key);
      if (this.options.writeType !== 'MUST_CACHE') {
        await this.removeLocalLocked(bucket, key);
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
    const release = await this.lockKey(bucket, key);
    try {
      if (await this.headLocal(bucket, key)) return await this.local.updateAttributes(bucket, key, update);
      // Copies of this version notice the change by the file's ctime and refresh their attributes.
      return await this.under.updateAttributes(bucket, key, (current) => persisted(update(current)));
    } finally {
      await release();
    }
  }

  async delete(bucket: BucketName, key: ObjectKey, condition?: DeleteCondition): Promise<void> {
    const release = await this.lockKey(bucket, key);
    try {
      // A condition is about the current object: the cache-only version if there is one (which
      // goes first, if it may), else the under store's, whose delete decides before the copy goes.
      let pending = condition;
      if (pending && (await this.headLocal(bucket, key))) {
        await this.removeLocalLocked(bucket, key, pending);
        pending = undefined;
      }
      if (this.options.deleteType === 'ALLUXIO_AND_UFS') {
        await this.under.delete(bucket, key, pending);
      } else {
        await this.options.requireBucket(bucket);
        if (pending) {
          const current = await this.under.head(bucket, key).catch((e: unknown) => {
            if (isNotFound(e)) return undefined;
            throw e;
          });
          if (current) pending(current);
        }
      }
      await this.removeLocalLocked(bucket, key);
      await this.removeCopyLocked(bucket, key);
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

  /** The key's cache-only version goes (if `condition` accepts it), and its space. The caller holds the key's lock. */
  private async removeLocalLocked(bucket: BucketName, key: ObjectKey, condition?: DeleteCondition): Promise<void> {
    const size = (await this.local.version(bucket, key))?.size ?? 0;
    try {
      await this.local.delete(bucket, key, condition);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    await this.disk.ledger.forget(size);
  }

  /** The key's copy goes (only the one with data file `ino`, if named), and its space. Key lock held. */
  private async removeCopyLocked(bucket: BucketName, key: ObjectKey, ino?: string): Promise<void> {
    await this.disk.ledger.forget(await this.disk.copies.remove(bucket, key, ino));
  }

  private async dropCopy(bucket: BucketName, key: ObjectKey, ino: string): Promise<void> {
    const release = await this.lockKey(bucket, key);
    try {
      await this.removeCopyLocked(bucket, key, ino);
    } finally {
      await release();
    }
  }

  /** True while the under store holds the version `origin` at the key (a fill checks before it places). */
  private async stillAt(bucket: BucketName, key: ObjectKey, origin: VersionStamp): Promise<boolean> {
    const now = await this.under.version(bucket, key).catch(() => undefined);
    return now !== undefined && sameBytes(now, origin);
  }

  /** The copy a read fill of `info`'s version makes once whole, unless a newer version arrived meanwhile. */
  readFillDone(sink: FillSink, bucket: BucketName, key: ObjectKey, info: ObjectInfo, origin: VersionStamp): () => Promise<void> {
    return async () => {
      await sink.finish(copyDetails(info, origin), { current: () => this.stillAt(bucket, key, origin) });
      fills.inc();
    };
  }

  /** Fills a copy of the under store's current version of `info` (if no read is filling it already). */
  async fillFromUnder(bucket: BucketName, key: ObjectKey, info: ObjectInfo): Promise<void> {
    if (info.size === 0) return;
    const opened = await this.under.open(bucket, key).catch(() => undefined);
    const body = opened?.body;
    try {
      // The version as opened (after any rename: its ctime too), if it is still the one written.
      if (!opened || !body || opened.info.size !== info.size) return;
      const origin = stampOf(opened.info.stats);
      if (await runningFill(this.disk, bucket, key, origin)) return;
      const sink = await FillSink.start(this.disk, bucket, key, info.size, origin);
      if (!(sink instanceof FillSink)) return;
      try {
        const sinkhole = new Writable({ write: (_chunk, _encoding, callback) => callback() });
        await pump(body.stream(0, info.size), new CacheTee(sink), sinkhole);
        await this.readFillDone(sink, bucket, key, opened.info, origin)();
      } finally {
        await sink.abort(); // a no-op once finished
      }
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

  /**
   * Persists one cache-only version (ASYNC_THROUGH); a version overwritten or deleted meanwhile is
   * skipped. A failure the under store will give again (a key it cannot hold) is permanent: the
   * object stays cache-only, NOT_PERSISTED, and says so; others are retried by the queue.
   */
  private async persist(job: PersistJob): Promise<void> {
    const { bucket, key } = job;
    const isJobVersion = (v: { ino: string; mtimeNs: string } | undefined): boolean => v?.ino === job.ino && v.mtimeNs === job.mtimeNs;
    const opened = await this.local.open(bucket, key).catch((e: unknown) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
    if (!opened?.body || !isJobVersion({ ino: String(opened.info.stats.ino), mtimeNs: String(opened.info.stats.mtimeNs) })) {
      await opened?.body?.close();
      return;
    }
    const SUPERSEDED = new Error('superseded');
    const source = opened.body.stream(0, opened.info.size);
    let release: (() => Promise<void>) | undefined;
    try {
      const info = await this.under.write(bucket, key, { source, size: opened.info.size }, opened.info.owner, async () => {
        release = await this.lockKey(bucket, key);
        if (!isJobVersion(await this.local.version(bucket, key))) throw SUPERSEDED;
        // Attributes as they are now (tags may have changed while it waited).
        return persisted(attributesOf(await this.local.head(bucket, key)));
      });
      // In the under store: the cache-only version becomes its copy, evictable like any other.
      const origin = await this.under.version(bucket, key);
      if (origin && sameBytes(origin, stampOf(info.stats))) await this.adopt(bucket, key, job, origin, info);
      persists.inc();
    } catch (e) {
      if (e === SUPERSEDED) return;
      if (!(e instanceof S3Error) || RETRIED.has(e.code)) throw e;
      log.error(`cache: ${bucket}/${key} cannot be persisted, it stays in the cache only: ${e.code}: ${e.message}`);
      if (!release) release = await this.lockKey(bucket, key);
      if (isJobVersion(await this.local.version(bucket, key))) {
        await this.local.updateAttributes(bucket, key, (current) => ({ ...current, persistence: 'NOT_PERSISTED' }));
      }
    } finally {
      source.destroy();
      await release?.();
      await opened.body.close();
    }
  }

  /** Queues the cache-only objects waiting for a persist that has no job (a crash came between). */
  async requeueOrphans(): Promise<number> {
    const queued = await this.persistQueue.versionsQueued();
    let requeued = 0;
    for (const bucket of await this.disk.localBuckets.names()) {
      const cursor = await this.local.keys(bucket, { prefix: '' }).catch(() => undefined);
      for (let entry = await cursor?.next(); entry; entry = await cursor?.next()) {
        if (entry.kind !== 'file') continue;
        const info = await entry.describe();
        if (info?.persistence !== 'TO_BE_PERSISTED') continue;
        const job = { bucket, key: info.key, ino: String(info.stats.ino), mtimeNs: String(info.stats.mtimeNs) };
        if (queued.has(`${keyHash(bucket, info.key)}:${job.ino}:${job.mtimeNs}`)) continue;
        await this.persistQueue.enqueue(job);
        requeued++;
      }
    }
    return requeued;
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

/** Persist failures worth trying again: the under store was busy, full or failing, not refusing the key. */
const RETRIED = new Set(['SlowDown', 'InsufficientStorage', 'InternalError', 'ServiceUnavailable', 'RequestTimeout']);

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
    {
      // Another read is filling this very version: follow it rather than read the under store again.
      const filling = await runningFill(disk, this.bucket, this.key, origin);
      if (filling) return this.follow(filling, length, out);
      const sink = await FillSink.start(disk, this.bucket, this.key, length, origin);
      if (sink === 'busy') return this.followOrRead(origin, length, out); // another read began its fill just now
      if (!sink) return this.body.sendRange(0, length, out);
      try {
        // Inside: a body closed already (a copy that failed meanwhile) throws here, and the fill goes.
        const bytes = this.body.stream(0, length);
        return await pump(bytes, new CacheTee(sink, this.tiers.readFillDone(sink, this.bucket, this.key, this.info, origin)), out);
      } catch (e) {
        await sink.abort();
        throw e;
      }
    }
    return this.body.sendRange(start, length, out);
  }

  private follow(temp: string, length: number, out: Writable): Promise<void> {
    const rest = (offset: number): Readable => this.body.stream(offset, length - offset);
    return pump(followFill(this.tiers.disk, this.bucket, this.key, temp, length, rest), out);
  }

  private async followOrRead(origin: VersionStamp, length: number, out: Writable): Promise<void> {
    const filling = await runningFill(this.tiers.disk, this.bucket, this.key, origin);
    return filling ? this.follow(filling, length, out) : this.body.sendRange(0, length, out);
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
