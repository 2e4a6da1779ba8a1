// Copies filled from the under store: by a whole read that missed (caching-body.ts), in the
// background after a ranged miss, and from the fresh file after a CACHE_THROUGH assembly. Each
// places its copy only if the under store still holds the version it copied.
import { Writable } from 'node:stream';
import { pump } from '../../streams/pump';
import type { BucketName, ObjectKey } from '../names';
import { attributesOf, type ObjectInfo } from '../object-info';
import type { VersionStamp } from '../store';
import { sameBytes, stampOf } from './copies';
import { CacheTee, FillSink, runningFill, type CopyDetails } from './fill';
import type { CacheDisk } from './index';
import { fills } from './metrics';
import { persisted, type UnderStore } from './under-store';

/** Whole-object fills started in the background after ranged misses, at most, per process. */
const BACKGROUND_FILLS = 2;

export class UnderFills {
  private backgroundFills = 0;

  constructor(
    private readonly under: UnderStore,
    readonly disk: CacheDisk,
  ) {}

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
}

function copyDetails(info: ObjectInfo, origin: VersionStamp): CopyDetails {
  return { origin, foreign: info.foreign, attributes: persisted(attributesOf(info)) };
}
