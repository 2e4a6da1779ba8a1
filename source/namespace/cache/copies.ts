// Copies of under-store objects, kept on the cache's fast disk. A copy is a data file named by a
// hash of its bucket and key (no directories to make or prune, no key that could clash with
// another), and a record beside it: the object's attributes, the under-store version it was
// copied from, and the identity of its own data file, so that a record is never applied to other
// bytes. A copy serves a read only while the under store still holds that very version.
import { createHash } from 'node:crypto';
import { constants as fsConstants, type BigIntStats } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { isCode } from '../../errors';
import { BufferBody, FileBody } from '../file-body';
import type { ObjectAttributes } from '../metadata';
import { bucketSegments, type BucketName, type ObjectKey } from '../names';
import { parseVersioned } from '../record-files';
import { SMALL_OBJECT_BYTES, smallIo, statsOf } from '../small-io';
import { SmallObjects } from '../small-objects';
import type { ObjectBody, VersionStamp } from '../store';
import { uniqueSuffix } from '../tmp';
import type { Evictable } from './ledger';

export interface CopyRecord {
  v: 1;
  bucket: BucketName;
  key: ObjectKey;
  /** The under-store version the bytes came from. */
  origin: VersionStamp;
  /** The copy's own data file (never changed in place: a new copy is a new file, renamed over it). */
  data: { ino: string; size: number };
  /** True when the under store has no record for it (a file another program wrote). */
  foreign: boolean;
  attributes: ObjectAttributes;
}

export interface OpenCopy {
  /** Its bytes: in memory for a small copy, else the open file (closing it closes the file). */
  body: ObjectBody;
  stats: BigIntStats;
  record: CopyRecord;
  path: string;
}

/** Reads of a copy count as a use for eviction at most this often (each touch is a system call). */
const TOUCH_EVERY_MS = 2_000;
const CACHED_RECORDS = 4096;

/** The object's path below ROOT: `a:b` + `k` and `a` + `b/k` name one file, so one copy and one lock. */
function pathKey(bucket: BucketName, key: ObjectKey): string {
  return `${bucketSegments(bucket).join('/')}/${key}`;
}

/** The name of the lock of the key whose hash (keyHash) this is. */
export const keyLockName = (hash: string): string => `key.${hash}`;

export function keyHash(bucket: BucketName, key: ObjectKey): string {
  return createHash('sha256').update(pathKey(bucket, key)).digest('hex').slice(0, 40);
}

export function stampOf(stats: BigIntStats): VersionStamp {
  return { ino: String(stats.ino), size: Number(stats.size), mtimeNs: String(stats.mtimeNs), ctimeNs: String(stats.ctimeNs) };
}

/** True when `stats` are of the data file a record describes. */
export function isDataOf(record: CopyRecord, stats: BigIntStats): boolean {
  return record.data.ino === String(stats.ino) && record.data.size === Number(stats.size);
}

/** True when two stamps name the same bytes (the attributes may still differ: see ctimeNs). */
export function sameBytes(a: Omit<VersionStamp, 'ctimeNs'>, b: Omit<VersionStamp, 'ctimeNs'>): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

export class CopyStore {
  /** Records recently read, checked by one stat of the record file before each use. */
  private readonly records = new Map<string, { ino: number; mtimeMs: number; ctimeMs: number; record: CopyRecord }>();
  /** Copies known to be too big for the small-object thread: their hits skip the trip there. */
  private readonly small = new SmallObjects();

  constructor(private readonly dir: string) {}

  static async open(dir: string): Promise<CopyStore> {
    await Promise.all(Array.from({ length: 256 }, (_, i) => mkdir(join(dir, i.toString(16).padStart(2, '0')), { recursive: true })));
    return new CopyStore(dir);
  }

  pathOf(bucket: BucketName, key: ObjectKey): string {
    const hash = keyHash(bucket, key);
    return join(this.dir, hash.slice(0, 2), hash);
  }

  /** The copy of this key and its record, if there is a whole one; the caller closes its body. */
  async open(bucket: BucketName, key: ObjectKey): Promise<OpenCopy | undefined> {
    const path = this.pathOf(bucket, key);
    // A small copy, whole with its record, in one trip to the small-object thread (if it runs).
    const small = this.small.mayHold(path) ? await smallIo.readCopy(path, SMALL_OBJECT_BYTES).catch(() => undefined) : undefined;
    if (small?.kind === 'copy') {
      const stats = statsOf(small.stats);
      const record = small.record === undefined ? undefined : parseVersioned<CopyRecord>(small.record);
      // Anything else (no record, another key's, a record of other bytes) is looked at the full way.
      if (record && this.isCopyOf(record, stats, bucket, key)) {
        this.touch(path, stats);
        return { body: new BufferBody(Buffer.from(small.data.buffer, small.data.byteOffset, small.data.byteLength)), stats, record, path };
      }
    }
    let handle: FileHandle;
    try {
      handle = await open(path, fsConstants.O_RDONLY);
    } catch (e) {
      if (isCode(e, 'ENOENT')) return undefined;
      throw e;
    }
    try {
      const [stats, record] = await Promise.all([handle.stat({ bigint: true }), this.readRecord(path)]);
      if (record && this.isCopyOf(record, stats, bucket, key)) {
        this.touch(path, stats);
        this.small.written(path, Number(stats.size));
        return { body: new FileBody(handle), stats, record, path };
      }
    } catch (e) {
      await handle.close();
      throw e;
    }
    await handle.close();
    return undefined; // between a record and its data being replaced: no copy for now
  }

  private isCopyOf(record: CopyRecord, stats: BigIntStats, bucket: BucketName, key: ObjectKey): boolean {
    return pathKey(record.bucket, record.key) === pathKey(bucket, key) && isDataOf(record, stats);
  }

  /** The mtime of a copy says when it was last used: eviction takes the oldest first. */
  private touch(path: string, stats: BigIntStats): void {
    if (Date.now() - Number(stats.mtimeMs) > TOUCH_EVERY_MS) {
      const now = new Date();
      void utimes(path, now, now).catch(() => undefined);
    }
  }

  private async readRecord(path: string): Promise<CopyRecord | undefined> {
    const file = `${path}.json`;
    try {
      const cached = this.records.get(file);
      if (cached) {
        const now = await stat(file);
        if (now.ino === cached.ino && now.mtimeMs === cached.mtimeMs && now.ctimeMs === cached.ctimeMs) return cached.record;
        this.records.delete(file);
      }
      const [text, now] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
      const record = parseVersioned<CopyRecord>(text);
      if (!record) return undefined;
      if (this.records.size >= CACHED_RECORDS) this.records.delete(this.records.keys().next().value!);
      this.records.set(file, { ino: now.ino, mtimeMs: now.mtimeMs, ctimeMs: now.ctimeMs, record });
      return record;
    } catch {
      return undefined; // none, or torn by a crash: no copy
    }
  }

  /** Writes a record at its key's path (its data file is placed next, or is in place already). */
  async writeRecord(record: CopyRecord): Promise<void> {
    const file = `${this.pathOf(record.bucket, record.key)}.json`;
    const temp = `${file}.${uniqueSuffix()}`;
    this.records.delete(file);
    await writeFile(temp, JSON.stringify(record));
    await rename(temp, file);
  }

  /**
   * Places a finished data file as the key's copy with its record. Returns the size of the copy it
   * replaced (0 if none), whose space the caller gives back. The caller holds the key's lock.
   */
  async place(tempData: string, record: CopyRecord): Promise<number> {
    const path = this.pathOf(record.bucket, record.key);
    const previous = await stat(path).catch(() => undefined);
    await this.writeRecord(record);
    await rename(tempData, path);
    return previous?.size ?? 0;
  }

  /**
   * Removes the key's copy (only the one with data file `ino`, if named: the one found stale, not
   * a newer one placed since); returns its size (0 if none went). The caller holds the key's lock.
   */
  async remove(bucket: BucketName, key: ObjectKey, ino?: string): Promise<number> {
    const path = this.pathOf(bucket, key);
    if (ino !== undefined && String((await stat(path, { bigint: true }).catch(() => undefined))?.ino) !== ino) return 0;
    return removeAt(path, this.records);
  }

  /** Every copy, for eviction; `remove` of one takes its key's lock only if it is free. */
  async evictable(tryLock: (hash: string) => Promise<(() => Promise<void>) | undefined>): Promise<Evictable[]> {
    const found: Evictable[] = [];
    for (const sub of await readdir(this.dir)) {
      const names = await readdir(join(this.dir, sub)).catch(() => [] as string[]);
      await Promise.all(
        names
          .filter((n) => /^[0-9a-f]{40}$/.test(n))
          .map(async (name) => {
            const path = join(this.dir, sub, name);
            const stats = await stat(path).catch(() => undefined);
            if (!stats) return;
            found.push({
              path,
              size: stats.size,
              usedMs: stats.mtimeMs,
              remove: async () => {
                const release = await tryLock(name);
                if (!release) return false;
                try {
                  const now = await stat(path).catch(() => undefined);
                  if (now?.ino !== stats.ino) return false; // replaced since the scan: not the one we meant
                  await removeAt(path, this.records);
                  return true;
                } finally {
                  await release();
                }
              },
            });
          }),
      );
    }
    return found;
  }

  /** Bytes held by every copy (for recovery). */
  async totalBytes(): Promise<number> {
    let total = 0;
    for (const entry of await this.evictable(async () => undefined)) total += entry.size;
    return total;
  }
}

async function removeAt(path: string, records: Map<string, unknown>): Promise<number> {
  const stats = await stat(path).catch(() => undefined);
  records.delete(`${path}.json`);
  await unlink(`${path}.json`).catch(() => undefined);
  if (!stats) return 0;
  await unlink(path).catch(() => undefined);
  return stats.size;
}
