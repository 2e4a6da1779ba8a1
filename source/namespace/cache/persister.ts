// The work of the persist queue (persist.ts): a cache-only version of ASYNC_THROUGH written to
// the under store, then adopted as the key's copy; and, at start, the cache-only objects waiting
// for a persist whose job a crash lost, queued again.
import { S3Error } from '../../errors';
import { log } from '../../log';
import type { BucketName, ObjectKey } from '../names';
import { attributesOf, type ObjectInfo } from '../object-info';
import type { PosixStore } from '../objects';
import type { VersionStamp } from '../store';
import { keyHash, sameBytes, stampOf, type CopyRecord } from './copies';
import type { CacheDisk } from './index';
import { persists } from './metrics';
import { PersistQueue, type PersistJob } from './persist';
import { persisted, unlessNotFound, type UnderStore } from './under-store';

/** Persist failures worth trying again: the under store was busy, full or failing, not refusing the key. */
const RETRIED = new Set(['SlowDown', 'InsufficientStorage', 'InternalError', 'ServiceUnavailable', 'RequestTimeout']);

export class Persister {
  readonly queue: PersistQueue;

  constructor(
    private readonly under: UnderStore,
    private readonly disk: CacheDisk,
    onFailure: ((job: PersistJob, error: unknown) => void) | undefined,
  ) {
    this.queue = new PersistQueue({
      dir: disk.persistDir,
      work: (job) => this.persist(job),
      ...(onFailure ? { onFailure } : {}),
    });
  }

  private get local(): PosixStore {
    return this.disk.local;
  }

  /**
   * Persists one cache-only version (ASYNC_THROUGH); a version overwritten or deleted meanwhile is
   * skipped. A failure the under store will give again (a key it cannot hold) is permanent: the
   * object stays cache-only, NOT_PERSISTED, and says so; others are retried by the queue.
   */
  private async persist(job: PersistJob): Promise<void> {
    const { bucket, key } = job;
    const isJobVersion = (v: { ino: string; mtimeNs: string } | undefined): boolean => v?.ino === job.ino && v.mtimeNs === job.mtimeNs;
    const opened = await unlessNotFound(this.local.open(bucket, key));
    if (!opened?.body || !isJobVersion({ ino: String(opened.info.stats.ino), mtimeNs: String(opened.info.stats.mtimeNs) })) {
      await opened?.body?.close();
      return;
    }
    const SUPERSEDED = new Error('superseded');
    const source = opened.body.stream(0, opened.info.size);
    let release: (() => Promise<void>) | undefined;
    try {
      const info = await this.under.write(bucket, key, { source, size: opened.info.size }, opened.info.owner, async () => {
        release = await this.disk.lockKey(bucket, key);
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
      if (!release) release = await this.disk.lockKey(bucket, key);
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
    const queued = await this.queue.versionsQueued();
    let requeued = 0;
    for (const bucket of await this.disk.localBuckets.names()) {
      const cursor = await this.local.keys(bucket, { prefix: '' }).catch(() => undefined);
      for (let entry = await cursor?.next(); entry; entry = await cursor?.next()) {
        if (entry.kind !== 'file') continue;
        const info = await entry.describe();
        if (info?.persistence !== 'TO_BE_PERSISTED') continue;
        const job = { bucket, key: info.key, ino: String(info.stats.ino), mtimeNs: String(info.stats.mtimeNs) };
        if (queued.has(`${keyHash(bucket, info.key)}:${job.ino}:${job.mtimeNs}`)) continue;
        await this.queue.enqueue(job);
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
