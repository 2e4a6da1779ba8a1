// Sidecar metadata: one JSON record per data file, named by the file's inode and checked against
// its size and mtime, so a record is never applied to bytes it does not describe (another program
// rewrote the file, a concurrent writer replaced it). Records of directories mark folder objects
// and the directories sluice created.
import type { BigIntStats } from 'node:fs';
import { open, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { isCode } from '../errors';
import type { ChecksumAlgorithm, ChecksumType } from '../streams/checksums';
import { readAt } from '../streams/read-at';
import type { Layout } from './layout';
import { fileRecordText, parseVersioned, recordPathOf } from './record-files';
import { RetireList } from './retire';
import { smallIo } from './small-io';
import { uniqueSuffix } from './tmp';

export interface ContentHeaders {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  cacheControl?: string;
  contentLanguage?: string;
  expires?: string;
}

export type Tag = { key: string; value: string };

export interface ObjectChecksum {
  algorithm: ChecksumAlgorithm;
  /** Base64; a composite ends in `-N`. */
  value: string;
  type?: ChecksumType;
}

/**
 * Who may do what with a bucket or an object besides its owner, in Alluxio's terms: POSIX mode
 * bits (owner, group, other: every named user but the owner; sluice has no groups, so group bits
 * are kept but match no one), the bits of requests that name no user (S3's AllUsers, --auth sigv4),
 * and named users' bits (how S3's bucket-owner-read and -full-control name a bucket's owner; 7 is
 * full control, which includes changing these permissions).
 */
export interface Permissions {
  mode: number;
  anonymous: number;
  users?: Record<string, number>;
}

/** What S3 knows of an object beyond its bytes. */
export interface ObjectAttributes {
  /** The ETag without quotes: the MD5 of the bytes, or of the parts' MD5s with `-N`. */
  etag: string;
  headers: ContentHeaders;
  /** x-amz-meta-* with the prefix removed, names in lower case. */
  userMeta: Record<string, string>;
  tags: Tag[];
  owner: string;
  /** Recorded since permissions exist; a version without them gets the defaults (s3/permissions.ts). */
  permissions?: Permissions;
  /** Sizes of the parts of a multipart object, for GetObject with partNumber. */
  partSizes?: number[];
  /** The checksum the client sent or asked for; without a type, a single PUT's (FULL_OBJECT). */
  checksum?: ObjectChecksum;
  /** The parts' checksums (base64, of the object's algorithm) of a multipart object that has one. */
  partChecksums?: string[];
  /** Set on cache-only objects: not in the under store yet (ASYNC_THROUGH) or never (MUST_CACHE). */
  persistence?: Persistence;
}

/** Alluxio's persistence states; an object without one is PERSISTED (it is in the under store). */
export type Persistence = 'PERSISTED' | 'TO_BE_PERSISTED' | 'NOT_PERSISTED';

interface FileSidecar extends ObjectAttributes {
  v: 1;
  kind: 'file';
  ino: string;
  size: number;
  mtimeNs: string;
}

export interface DirectoryMarks {
  /** Created as a `dir/` folder object: listed even under S3 semantics. */
  folder: boolean;
  /** Created by sluice as a parent of a key: removed again once empty. */
  implicit: boolean;
  owner?: string;
  tags?: Tag[];
  permissions?: Permissions;
}

interface DirSidecar extends DirectoryMarks {
  v: 1;
  kind: 'dir';
  ino: string;
}

type Sidecar = FileSidecar | DirSidecar;

/** Records kept in memory (the oldest go first), and the largest kept: 8 MB at most. */
const CACHED_RECORDS = 4096;
const CACHED_RECORD_BYTES = 2048;

interface CachedRecord {
  ino: number;
  ctimeMs: number;
  mtimeMs: number;
  size: number;
  record: Sidecar;
}

export class MetadataStore {
  /** Records recently read, checked against the file's identity before each use. */
  private readonly cache = new Map<string, CachedRecord>();
  /** Records of replaced versions, removed a little later even across a crash. */
  private readonly retirements: RetireList;

  constructor(private readonly layout: Layout) {
    this.retirements = new RetireList(layout.retire, layout.meta, (paths) => this.removePaths(paths));
  }

  /**
   * A record is named by its inode and the version of the file: the mtime of a file, the birth
   * time of a directory. Inode numbers are reused as soon as a file is gone, so the inode alone
   * would let one version's cleanup remove the record of a newer file that got the same number.
   */
  private pathOf(stats: BigIntStats): string {
    const directory = stats.isDirectory();
    return recordPathOf(this.layout.meta, { ino: stats.ino, versionNs: directory ? stats.birthtimeNs : stats.mtimeNs, directory });
  }

  private async read(stats: BigIntStats): Promise<Sidecar | undefined> {
    const path = this.pathOf(stats);
    try {
      const cached = this.cache.get(path);
      if (cached) {
        // One stat instead of open, read and close. A record is rewritten only by a rename, so
        // the same inode, size and times mean the same content, whichever process wrote it.
        const now = await stat(path);
        if (now.ino === cached.ino && now.ctimeMs === cached.ctimeMs && now.mtimeMs === cached.mtimeMs && now.size === cached.size)
          return cached.record;
        this.cache.delete(path);
      }
      const { text, ino, ctimeMs, mtimeMs, size } = await readRecordFile(path);
      const record = parseVersioned<Sidecar>(text);
      if (record && size <= CACHED_RECORD_BYTES) this.remember(path, { ino, ctimeMs, mtimeMs, size, record });
      return record;
    } catch (e) {
      this.cache.delete(path);
      if (isCode(e, 'ENOENT')) return undefined;
      throw e;
    }
  }

  private remember(path: string, entry: CachedRecord): void {
    if (this.cache.size >= CACHED_RECORDS) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(path, entry);
  }

  /** The attributes recorded for exactly this version of a file, if any. */
  async readFile(stats: BigIntStats): Promise<ObjectAttributes | undefined> {
    return matchingFile(await this.read(stats), stats);
  }

  /**
   * Records attributes for a file version. `atomic` is needed when the file is already visible;
   * a new file written before it is renamed into place can take the record directly.
   */
  async writeFile(stats: BigIntStats, attributes: ObjectAttributes, atomic: boolean): Promise<void> {
    await this.write(stats, fileRecordText(stats.ino, stats.size, stats.mtimeNs, JSON.stringify(attributes)), atomic);
  }

  /** The attributes in a record read by someone else (the small-object worker), if it is this version's. */
  parseFileRecord(text: string | undefined, stats: BigIntStats): ObjectAttributes | undefined {
    return text === undefined ? undefined : matchingFile(parseVersioned<Sidecar>(text), stats);
  }

  async readDirectory(stats: BigIntStats): Promise<DirectoryMarks | undefined> {
    const record = await this.read(stats);
    if (record?.kind !== 'dir' || record.ino !== String(stats.ino)) return undefined;
    return record;
  }

  async writeDirectory(stats: BigIntStats, marks: DirectoryMarks): Promise<void> {
    const record: DirSidecar = { v: 1, kind: 'dir', ino: String(stats.ino), ...marks };
    await this.write(stats, JSON.stringify(record), true);
  }

  /**
   * Removes the record of a version that was replaced or deleted, a little later: a reader that
   * opened that version a moment ago still reads its record after opening the file. Resolves once
   * the removal is on the process's retire list (retire.ts), so a crash cannot lose it.
   */
  async retire(stats: BigIntStats): Promise<void> {
    // Never fails: the version it retires is already gone, and its caller's write has succeeded.
    await this.retirements.add(this.pathOf(stats)).catch(() => undefined);
  }

  /** Removes the record of exactly this version (a newer file with the same inode keeps its own). */
  async remove(stats: BigIntStats): Promise<void> {
    await this.removePath(this.pathOf(stats));
  }

  /** Removes many records in one trip to a small-io thread (one by one if that fails). */
  private async removePaths(paths: string[]): Promise<void> {
    for (const path of paths) this.cache.delete(path);
    await smallIo.unlink(paths).catch(() => Promise.all(paths.map((path) => this.removePath(path))));
  }

  private async removePath(path: string): Promise<void> {
    this.cache.delete(path);
    await unlink(path).catch((e: unknown) => {
      if (!isCode(e, 'ENOENT')) throw e;
    });
  }

  private async write(stats: BigIntStats, text: string, atomic: boolean): Promise<void> {
    const target = this.pathOf(stats);
    this.cache.delete(target);
    if (!atomic) {
      await writeFile(target, text);
      return;
    }
    const temp = `${target}.${uniqueSuffix()}`;
    try {
      await writeFile(temp, text);
      await rename(temp, target);
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw e;
    }
  }
}

/** A file record's attributes, if it describes exactly this version. */
function matchingFile(record: Sidecar | undefined, stats: BigIntStats): ObjectAttributes | undefined {
  if (record?.kind !== 'file') return undefined;
  if (record.ino !== String(stats.ino) || record.size !== Number(stats.size) || record.mtimeNs !== String(stats.mtimeNs)) {
    return undefined;
  }
  return record;
}

/**
 * Reads a record and the identity of the file it came from (to check a cached copy against). A
 * record is whole before anyone looks for it (renamed into place, or written before the version it
 * describes is), so its size sizes the read.
 */
async function readRecordFile(path: string): Promise<{ text: string; ino: number; ctimeMs: number; mtimeMs: number; size: number }> {
  const handle = await open(path, 'r');
  try {
    const { ino, ctimeMs, mtimeMs, size } = await handle.stat();
    const bytes = Buffer.allocUnsafe(size);
    const read = await readAt(handle, bytes, 0);
    return { text: bytes.toString('utf8', 0, read), ino, ctimeMs, mtimeMs, size };
  } finally {
    await handle.close();
  }
}
