// Filling the cache: bytes on their way to a client (a read that missed) or to the under store
// (a CACHE_THROUGH write) are also written to a temp file in the cache, at the client's pace,
// and become a copy only once whole. A read fill announces itself in `fills/`, so that other
// reads of the same version, in this process or another on the host, follow the temp file as it
// grows instead of reading the under store again; if the fill stops short, they read the rest
// from the under store themselves.
import { open, readFile, readdir, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { isCode } from '../../errors';
import { FILE_IO_BYTES } from '../../streams/buffer-sizes';
import type { BucketName, ObjectKey } from '../names';
import type { VersionStamp } from '../store';
import { HOST, PROCESS_ID, isLiveProcess, tempName } from '../tmp';
import type { CopyRecord, CopyStore } from './copies';
import { keyHash } from './copies';
import { RESERVE_STEP, type Ledger, type Reservation } from './ledger';

/** What a fill needs of the cache. */
export interface FillParts {
  tmp: string;
  fills: string;
  ledger: Ledger;
  copies: CopyStore;
  /** The key's lock (see CacheDisk.lockKey). */
  lockKey(bucket: BucketName, key: ObjectKey): Promise<() => Promise<void>>;
}

/** What becomes of the bytes once whole: the copy's record but for its data file. */
export type CopyDetails = Omit<CopyRecord, 'v' | 'data' | 'bucket' | 'key'>;


/** A temp file in the cache being filled with an object's bytes. */
export class FillSink {
  private written = 0;
  private state: 'open' | 'finishing' | 'done' = 'open';

  private constructor(
    private readonly parts: FillParts,
    readonly bucket: BucketName,
    readonly key: ObjectKey,
    private readonly handle: FileHandle,
    readonly temp: string,
    private readonly reservation: Reservation,
    private readonly expected: number | undefined,
    /** The announcement of a read fill, removed when it ends. */
    private readonly announcement: string | undefined,
  ) {}

  /**
   * Starts filling `size` bytes (or an unknown length, reserved as it grows). Undefined when the
   * cache cannot take them; 'busy' (with `announce`) when another read is filling this key now.
   */
  static async start(
    parts: FillParts,
    bucket: BucketName,
    key: ObjectKey,
    size: number | undefined,
    announce?: VersionStamp,
  ): Promise<FillSink | 'busy' | undefined> {
    const temp = join(parts.tmp, tempName());
    let handle: FileHandle;
    try {
      handle = await open(temp, 'wx', 0o644);
    } catch {
      return undefined; // the cache disk failed: the bytes go their way uncached
    }
    const drop = async (): Promise<void> => {
      await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
    };
    // Announced once the temp file exists (a follower opens it at once), and before space is
    // taken, so that concurrent readers of one object do not each hold its size.
    const announcement = announce ? join(parts.fills, keyHash(bucket, key)) : undefined;
    const info: FillInfo = { host: HOST, process: PROCESS_ID, temp, origin: announce! };
    if (announcement && !(await claimFill(announcement, info).catch(() => false))) {
      await drop();
      return 'busy';
    }
    let reservation: Reservation;
    let sink: FillSink | undefined;
    try {
      // A copy can be made again later: its space goes to a write that must be kept, if need be.
      const giveWay = (): Promise<void> => sink?.abort() ?? Promise.resolve();
      reservation = await parts.ledger.reserve(size ?? Math.min(RESERVE_STEP, parts.ledger.capacity), giveWay);
    } catch {
      await drop();
      if (announcement) await unlink(announcement).catch(() => undefined);
      return undefined; // no room: the bytes go their way uncached
    }
    sink = new FillSink(parts, bucket, key, handle, temp, reservation, size, announcement);
    return sink;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.state !== 'open') throw new Error('The fill has ended.');
    const after = this.written + chunk.length;
    if (after > this.reservation.bytes) {
      if (this.expected !== undefined) throw new Error('More bytes than the fill expected.');
      await this.reservation.grow(Math.max(RESERVE_STEP, after - this.reservation.bytes));
    }
    for (let done = 0; done < chunk.length; ) {
      const { bytesWritten } = await this.handle.write(chunk, done, chunk.length - done, this.written + done);
      done += bytesWritten;
    }
    this.written = after;
  }

  /**
   * Makes the bytes a copy, if they are all there and (`current`, asked under the key's lock) the
   * under store still holds their version; otherwise, or on any failure, drops them.
   * `locked`: the caller holds the key's lock already.
   */
  async finish(details: CopyDetails, options: { locked?: boolean; current?: () => Promise<boolean> } = {}): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'finishing';
    try {
      await this.handle.close();
      if (this.written !== details.origin.size || (this.expected !== undefined && this.written !== this.expected)) {
        throw new Error('The fill is not whole.');
      }
      const stats = await this.statTemp();
      const release = options.locked ? undefined : await this.parts.lockKey(this.bucket, this.key);
      try {
        // A write placed a newer version while this one was read: its copy must not be replaced by an older one.
        if (options.current && !(await options.current())) throw new Error('The version changed.');
        await this.parts.ledger.commit(this.reservation, this.written);
        const record: CopyRecord = { v: 1, bucket: this.bucket, key: this.key, data: stats, ...details };
        const replaced = await this.parts.copies.place(this.temp, record).catch(async (e: unknown) => {
          await this.parts.ledger.forget(this.written);
          throw e;
        });
        await this.parts.ledger.forget(replaced);
      } finally {
        await release?.();
      }
      this.state = 'done';
    } catch {
      this.state = 'open'; // let abort clean up
      await this.abort();
    } finally {
      if (this.announcement) await unlink(this.announcement).catch(() => undefined);
    }
  }

  /** Drops what was written; nothing of it stays in the cache. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'done';
    await this.handle.close().catch(() => undefined);
    await unlink(this.temp).catch(() => undefined);
    await this.reservation.release();
    if (this.announcement) await unlink(this.announcement).catch(() => undefined);
  }

  private async statTemp(): Promise<{ ino: string; size: number }> {
    const stats = await stat(this.temp, { bigint: true });
    return { ino: String(stats.ino), size: Number(stats.size) };
  }
}

/**
 * Passes bytes on unchanged and writes them to a fill on the way, waiting for each write (the
 * cache disk paces the flow too). A failing cache never fails the bytes' own way: the fill is
 * dropped and they go on. `whole` is called once all passed (a read fill makes its copy then);
 * without it the caller finishes the sink itself (a write, whose version is known only once placed).
 */
export class CacheTee extends Transform {
  constructor(
    private sink: FillSink | undefined,
    private readonly whole?: () => Promise<void>,
  ) {
    super({ highWaterMark: FILE_IO_BYTES });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const sink = this.sink;
    if (!sink) {
      callback(null, chunk);
      return;
    }
    sink.write(chunk).then(
      () => callback(null, chunk),
      () => {
        this.sink = undefined;
        void sink.abort();
        callback(null, chunk);
      },
    );
  }

  override _flush(callback: TransformCallback): void {
    if (this.sink && this.whole) void this.whole();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Ended early (the client hung up, the source failed): no partial copy.
    if (error || !this.writableFinished) void this.sink?.abort();
    callback(error);
  }
}

interface FillInfo {
  host: string;
  /** The filling process (PROCESS_ID). */
  process: string;
  temp: string;
  origin: VersionStamp;
}

/** Announces a read fill; false if a live one of this key is announced already. */
async function claimFill(path: string, info: FillInfo): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(path, JSON.stringify(info), { flag: 'wx' });
      return true;
    } catch (e) {
      if (!isCode(e, 'EEXIST')) throw e;
    }
    const current = await readFillInfo(path);
    if (current && isLiveFill(current)) return false;
    await unlink(path).catch(() => undefined); // its filler died: a stale announcement
  }
  return false;
}

async function readFillInfo(path: string): Promise<FillInfo | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as FillInfo;
  } catch {
    return undefined;
  }
}

function isLiveFill(info: FillInfo): boolean {
  return info.host !== HOST || isLiveProcess(info.process);
}

/** Removes announcements of fills whose process died. */
export async function sweepStaleFills(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const info = await readFillInfo(join(dir, name));
    if (!info || !isLiveFill(info)) await unlink(join(dir, name)).catch(() => undefined);
  }
}

/** The read fill announced for this version of the key, if one is running. */
export async function runningFill(parts: FillParts, bucket: BucketName, key: ObjectKey, origin: VersionStamp): Promise<string | undefined> {
  const info = await readFillInfo(join(parts.fills, keyHash(bucket, key)));
  if (!info || !isLiveFill(info)) return undefined;
  const same = info.origin.ino === origin.ino && info.origin.size === origin.size && info.origin.mtimeNs === origin.mtimeNs;
  return same ? info.temp : undefined;
}

/** A follower that sees its fill not grow this long reads the rest from the under store itself. */
const FOLLOW_STALL_MS = 2_000;

/**
 * The bytes of a fill in progress, read from its temp file as it grows. If the fill ends short of
 * `size` (its client hung up, its process died), or stalls (its client stopped reading), the rest
 * comes from `rest(offset)`: a follower never waits on another reader's client.
 */
export function followFill(
  parts: FillParts,
  bucket: BucketName,
  key: ObjectKey,
  temp: string,
  size: number,
  rest: (offset: number) => Readable,
): Readable {
  const announcement = join(parts.fills, keyHash(bucket, key));
  let stopped = false;
  async function* bytes(): AsyncGenerator<Buffer> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(temp, 'r');
    } catch {
      yield* rest(0); // ended before we came: read it all ourselves
      return;
    }
    let offset = 0;
    try {
      let grewAt = Date.now();
      for (let idle = 0; offset < size && !stopped; ) {
        const buffer = Buffer.allocUnsafe(Math.min(FILE_IO_BYTES, size - offset));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        if (bytesRead > 0) {
          offset += bytesRead;
          idle = 0;
          grewAt = Date.now();
          yield buffer.subarray(0, bytesRead);
          continue;
        }
        const info = await readFillInfo(announcement);
        const ended = !info || info.temp !== temp || !isLiveFill(info);
        if (ended || Date.now() - grewAt > FOLLOW_STALL_MS) {
          // Ended whole (then the next read gets the rest), short of the size, or stalled.
          const { bytesRead: more } = await handle.read(buffer, 0, buffer.length, offset);
          if (more > 0) {
            offset += more;
            grewAt = Date.now();
            yield buffer.subarray(0, more);
            continue;
          }
          await handle.close();
          handle = undefined;
          yield* rest(offset);
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(20, ++idle)));
      }
    } finally {
      await handle?.close();
    }
  }
  const stream = Readable.from(bytes(), { objectMode: false });
  // A follower whose client hung up stops polling at once (the generator yields no more).
  stream.once('close', () => (stopped = true));
  return stream;
}
