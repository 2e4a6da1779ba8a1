// The cache-only objects (MUST_CACHE; ASYNC_THROUGH until persisted): written to the cache alone,
// pinned (never evicted), their bytes counted in the ledger from the reservation a write makes
// before its first byte to the moment the version goes. Every change of one holds the key's lock
// while it is placed (tiers.ts says why).
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error, preconditionFailed } from '../../errors';
import { log } from '../../log';
import { FILE_IO_BYTES } from '../../streams/buffer-sizes';
import { pump } from '../../streams/pump';
import type { ObjectAttributes, Persistence } from '../metadata';
import type { BucketName, ObjectKey } from '../names';
import type { ObjectInfo } from '../object-info';
import type { PosixStore } from '../objects';
import type { DeleteCondition, OpenedObject, WriteCondition, WriteContent, WriteFinish } from '../store';
import type { CacheDisk } from './index';
import { RESERVE_STEP, type Reservation } from './ledger';
import type { PersistQueue } from './persist';
import { isNotFound, unlessNotFound, type UnderStore } from './under-store';


export class CacheOnly {
  constructor(
    private readonly under: UnderStore,
    private readonly disk: CacheDisk,
    private readonly persistQueue: PersistQueue,
    /** NoSuchBucket unless the under store has the bucket (buckets live there only). */
    private readonly requireBucket: (bucket: BucketName) => Promise<unknown>,
  ) {}

  private get local(): PosixStore {
    return this.disk.local;
  }

  async open(bucket: BucketName, key: ObjectKey): Promise<OpenedObject | undefined> {
    if (!(await this.disk.localBuckets.mayHold(bucket))) return undefined;
    return unlessNotFound(this.local.open(bucket, key));
  }

  async head(bucket: BucketName, key: ObjectKey): Promise<ObjectInfo | undefined> {
    if (!(await this.disk.localBuckets.mayHold(bucket))) return undefined;
    return unlessNotFound(this.local.head(bucket, key));
  }

  /** The object a condition is about: the cache-only version if there is one, else the under store's. */
  private async currentObject(bucket: BucketName, key: ObjectKey): Promise<ObjectInfo | undefined> {
    return (await this.head(bucket, key)) ?? (await unlessNotFound(this.under.head(bucket, key)));
  }

  /** MUST_CACHE and ASYNC_THROUGH: the cache only, pinned (never evicted) until persisted. */
  async write(
    bucket: BucketName,
    key: ObjectKey,
    content: WriteContent,
    owner: string,
    finish: WriteFinish,
    persistence: Persistence,
    condition: WriteCondition | undefined,
  ): Promise<ObjectInfo> {
    await this.requireBucket(bucket);
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
        release = await this.disk.lockKey(bucket, key);
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
        await this.disk.removeCopyLocked(bucket, key);
      } catch (e) {
        log.warn(`cache: after writing ${bucket}/${key}: ${(e as Error).message}`);
      }
      // Zero bytes as `dir/` with no length announced: a folder object, which lives where createFolder puts it.
      if (info.isFolder && persistence === 'TO_BE_PERSISTED') {
        await this.removeLocked(bucket, key);
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

  /** The key's cache-only version goes (if `condition` accepts it), and its space. The caller holds the key's lock. */
  async removeLocked(bucket: BucketName, key: ObjectKey, condition?: DeleteCondition): Promise<void> {
    const size = (await this.local.version(bucket, key))?.size ?? 0;
    try {
      await this.local.delete(bucket, key, condition);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    await this.disk.ledger.forget(size);
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
