// The body of an under-store object whose read missed the cache: a whole read fills a copy on its
// way to the client (or follows another read's fill of the same version); a ranged read starts a
// whole fill in the background (under-fills.ts).
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { FILE_IO_BYTES } from '../../streams/buffer-sizes';
import { pump } from '../../streams/pump';
import type { BucketName, ObjectKey } from '../names';
import type { ObjectInfo } from '../object-info';
import type { ObjectBody, VersionStamp } from '../store';
import { stampOf } from './copies';
import { CacheTee, FillSink, followFill, runningFill } from './fill';
import type { UnderFills } from './under-fills';

/** The body of an under-store object that missed the cache: a whole read fills a copy on the way. */
export class CachingBody implements ObjectBody {
  constructor(
    private readonly fills: UnderFills,
    private readonly bucket: BucketName,
    private readonly key: ObjectKey,
    private readonly info: ObjectInfo,
    private readonly body: ObjectBody,
  ) {}

  async sendRange(start: number, length: number, out: Writable): Promise<void> {
    const { disk } = this.fills;
    const whole = start === 0 && length === this.info.size && length > 0 && length <= disk.ledger.capacity;
    if (!whole) {
      if (length < this.info.size) this.fills.backgroundFill(this.bucket, this.key, this.info);
      return this.body.sendRange(start, length, out);
    }
    const origin = stampOf(this.info.stats);
    // Another read is filling this very version: follow it rather than read the under store again.
    const filling = await runningFill(disk, this.bucket, this.key, origin);
    if (filling) return this.follow(filling, length, out);
    const sink = await FillSink.start(disk, this.bucket, this.key, length, origin);
    if (sink === 'busy') return this.followOrRead(origin, length, out); // another read began its fill just now
    if (!sink) return this.body.sendRange(0, length, out);
    try {
      // Inside: a body closed already (a copy that failed meanwhile) throws here, and the fill goes.
      const bytes = this.body.stream(0, length);
      return await pump(bytes, new CacheTee(sink, this.fills.readFillDone(sink, this.bucket, this.key, this.info, origin)), out);
    } catch (e) {
      await sink.abort();
      throw e;
    }
  }

  private follow(temp: string, length: number, out: Writable): Promise<void> {
    const rest = (offset: number): Readable => this.body.stream(offset, length - offset);
    return pump(followFill(this.fills.disk, this.bucket, this.key, temp, length, rest), out);
  }

  private async followOrRead(origin: VersionStamp, length: number, out: Writable): Promise<void> {
    const filling = await runningFill(this.fills.disk, this.bucket, this.key, origin);
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
