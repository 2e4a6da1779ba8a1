// Multipart uploads, all state on disk under .sluice/uploads so that any process serving ROOT can
// continue an upload another one started, and a restart loses nothing:
//
//   uploads/<id>/upload.json             the upload: bucket, key, owner, what the object will carry
//   uploads/<id>/parts/<n>.<md5>[.<alg>.<checksum>]   a part; its name records its ETag
//   uploads/<id>.claimed-<rand>/         an upload a CompleteMultipartUpload is assembling
//   uploads/<id>.aborted-<rand>/         an upload being removed
//   uploads/<id>.done.json               the result of a completed upload, for repeated completes
//
// An upload moves between these states by renames only, so exactly one complete or abort wins.
// The cleaner (upload-cleaner.ts) removes leftovers of crashed processes and old done records.
// The files of the parts are written and read by upload-parts.ts.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { S3Error, isCode, noSuchUpload } from '../errors';
import type { ChecksumAlgorithm, ChecksumType } from '../streams/checksums';
import { AssemblyPool } from './assembly';
import type { Layout } from './layout';
import { compareKeys } from './listing';
import type { ContentHeaders, ObjectChecksum, Permissions, Tag } from './metadata';
import type { BucketName, ObjectKey } from './names';
import { PartFiles, type PartDigest, type PartInfo } from './upload-parts';
import { uniqueSuffix, tempName } from './tmp';

const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface UploadRecord {
  uploadId: string;
  bucket: BucketName;
  key: ObjectKey;
  owner: string;
  initiated: string;
  /** Microseconds since the epoch, strictly increasing per process: orders uploads of one key
   * created within the same millisecond, which `initiated` cannot. */
  initiatedUs?: number;
  headers: ContentHeaders;
  userMeta: Record<string, string>;
  tags: Tag[];
  /** What the object gets when the upload completes (x-amz-acl, or the defaults then). */
  permissions?: Permissions;
  checksumAlgorithm?: ChecksumAlgorithm;
  /** How the object's checksum is made from the parts' (with checksumAlgorithm). */
  checksumType?: ChecksumType;
}

export type UploadState = { state: 'pending' | 'claimed'; record: UploadRecord } | { state: 'done'; result: CompletedUpload };

export interface CompletedUpload {
  bucket: BucketName;
  key: ObjectKey;
  etag: string;
  checksum?: ObjectChecksum;
}

/** A claimed upload, being assembled: its parts are frozen. */
export interface ClaimedUpload {
  record: UploadRecord;
  parts: PartInfo[];
  /** Keeps the claim fresh so no cleaner takes it for abandoned. */
  touch(): Promise<void>;
  /** Gives the upload back (the complete failed before writing anything). */
  release(): Promise<void>;
  /**
   * Records the result; the parts are removed in the background. Freeing gigabytes of freshly
   * written parts takes a noticeable time, and once the result is recorded nobody needs them:
   * the client gets its answer first. A removal cut short by a crash is finished by the cleaner.
   */
  finish(result: CompletedUpload): Promise<void>;
}

let lastStamp = 0;

/** Wall-clock microseconds, never repeating nor going back within this process. */
function initiationStamp(): number {
  lastStamp = Math.max(Math.round((performance.timeOrigin + performance.now()) * 1000), lastStamp + 1);
  return lastStamp;
}

function initiationOrder(record: UploadRecord): number {
  return record.initiatedUs ?? Date.parse(record.initiated) * 1000;
}

export interface UploadStoreOptions {
  /**
   * While a part streams in, the upload is marked active this often, so the cleaner never takes
   * a slow part for an idle upload. A few times per cleaner timeout is enough.
   */
  activityIntervalMs?: number;
  /** fsync each part before UploadPart is acknowledged (--fsync). */
  fsync?: boolean;
  /** At most this many uploads are assembled at once in this process. */
  assemblies?: number;
}

export class UploadStore {
  private readonly partFiles: PartFiles;
  /** Slots for CompleteMultipartUpload's assembly (Alluxio's complete pool). */
  readonly assemblies: AssemblyPool;

  constructor(
    private readonly layout: Layout,
    options: UploadStoreOptions = {},
  ) {
    this.partFiles = new PartFiles(layout, Math.max(50, options.activityIntervalMs ?? 60_000), options.fsync ?? false);
    this.assemblies = new AssemblyPool(options.assemblies ?? 20);
  }

  private dirOf(uploadId: string): string {
    if (!UPLOAD_ID.test(uploadId)) throw noSuchUpload(uploadId);
    return join(this.layout.uploads, uploadId);
  }

  async create(record: Omit<UploadRecord, 'uploadId' | 'initiated' | 'initiatedUs'>): Promise<UploadRecord> {
    const uploadId = randomUUID();
    const initiatedUs = initiationStamp();
    const full: UploadRecord = { uploadId, initiated: new Date(Math.floor(initiatedUs / 1000)).toISOString(), initiatedUs, ...record };
    // Built aside and renamed into place: an upload is visible whole or not at all.
    const staging = join(this.layout.tmp, tempName());
    await mkdir(join(staging, 'parts'), { recursive: true });
    try {
      await writeFile(join(staging, 'upload.json'), JSON.stringify(full));
      await rename(staging, this.dirOf(uploadId));
    } catch (e) {
      await rm(staging, { recursive: true, force: true });
      throw e;
    }
    return full;
  }

  private async readRecord(dir: string, uploadId: string): Promise<UploadRecord> {
    try {
      return JSON.parse(await readFile(join(dir, 'upload.json'), 'utf8')) as UploadRecord;
    } catch (e) {
      if (isCode(e, 'ENOENT', 'ENOTDIR')) throw noSuchUpload(uploadId);
      throw e;
    }
  }

  /** The upload, checked to belong to this bucket and key. */
  async get(uploadId: string, bucket: BucketName, key: ObjectKey): Promise<UploadRecord> {
    const record = await this.readRecord(this.dirOf(uploadId), uploadId);
    if (record.bucket !== bucket || record.key !== key) throw noSuchUpload(uploadId);
    return record;
  }

  /** Streams a part into the upload (PartFiles.write): NoSuchUpload if it was completed or aborted meanwhile. */
  async writePart(
    record: UploadRecord,
    partNumber: number,
    source: Readable,
    finish: () => PartDigest | Promise<PartDigest>,
  ): Promise<PartInfo> {
    return this.partFiles.write(this.dirOf(record.uploadId), record.uploadId, partNumber, source, finish);
  }

  /** The current parts of an upload in part-number order (the newest file of each number). */
  async parts(dir: string): Promise<PartInfo[]> {
    return this.partFiles.current(dir);
  }

  async listParts(uploadId: string, bucket: BucketName, key: ObjectKey): Promise<{ record: UploadRecord; parts: PartInfo[] }> {
    const record = await this.get(uploadId, bucket, key);
    const parts = await this.parts(this.dirOf(uploadId)).catch((e: unknown) => {
      if (isCode(e, 'ENOENT')) throw noSuchUpload(uploadId);
      throw e;
    });
    return { record, parts };
  }

  /** Every upload in progress in a bucket, in key then initiation order. */
  async list(bucket: BucketName): Promise<UploadRecord[]> {
    const names = await readdir(this.layout.uploads);
    const records = await Promise.all(
      names.filter((n) => UPLOAD_ID.test(n)).map((n) => this.readRecord(join(this.layout.uploads, n), n).catch(() => undefined)),
    );
    return records
      .filter((r): r is UploadRecord => r !== undefined && r.bucket === bucket)
      .sort((a, b) => compareKeys(a.key, b.key) || initiationOrder(a) - initiationOrder(b) || a.uploadId.localeCompare(b.uploadId));
  }

  private donePath(uploadId: string): string {
    return join(this.layout.uploads, `${uploadId}.done.json`);
  }

  /** The recorded result of an upload that was already completed, if any. */
  async completed(uploadId: string): Promise<CompletedUpload | undefined> {
    if (!UPLOAD_ID.test(uploadId)) return undefined;
    try {
      return JSON.parse(await readFile(this.donePath(uploadId), 'utf8')) as CompletedUpload;
    } catch {
      return undefined;
    }
  }

  /**
   * Where an upload of this bucket and key stands: in progress, being assembled by some process,
   * or completed (with its result). NoSuchUpload when it is none of these (unknown, aborted,
   * another key's). The three states are read from two listings that agree, because an upload
   * moves between them by renames that a single listing could straddle.
   */
  async locate(uploadId: string, bucket: BucketName, key: ObjectKey): Promise<UploadState> {
    const dir = this.dirOf(uploadId);
    for (let attempt = 0; ; attempt++) {
      const before = await this.entriesOf(uploadId);
      const folder = before.pending ? dir : before.claimed ? join(this.layout.uploads, before.claimed) : undefined;
      const record = folder ? await this.readRecord(folder, uploadId).catch(() => undefined) : undefined;
      const done = before.done ? await this.completed(uploadId) : undefined;
      const after = await this.entriesOf(uploadId);
      const owned = (r: { bucket: string; key: string }): boolean => r.bucket === bucket && r.key === key;
      // Done is final: no later rename can change it.
      if (done) {
        if (owned(done)) return { state: 'done', result: done };
        throw noSuchUpload(uploadId);
      }
      const stable = before.pending === after.pending && before.claimed === after.claimed && before.done === after.done;
      if (stable && record) {
        if (owned(record)) return { state: before.pending ? 'pending' : 'claimed', record };
        throw noSuchUpload(uploadId);
      }
      if ((stable && !folder) || attempt >= 10) throw noSuchUpload(uploadId);
      await new Promise((r) => setTimeout(r, 5)); // moved while it was read: look again
    }
  }

  private async entriesOf(uploadId: string): Promise<{ pending: boolean; claimed: string | undefined; done: boolean }> {
    const names = await readdir(this.layout.uploads);
    return {
      pending: names.includes(uploadId),
      claimed: names.find((n) => n.startsWith(`${uploadId}.claimed-`)),
      done: names.includes(`${uploadId}.done.json`),
    };
  }

  /**
   * Takes an upload for completion by renaming its folder: exactly one complete (or abort) can
   * win, and parts arriving later find no upload. Undefined when it is not in progress (being
   * assembled elsewhere, done, aborted): `locate` tells which.
   */
  async claim(uploadId: string, bucket: BucketName, key: ObjectKey): Promise<ClaimedUpload | undefined> {
    const dir = this.dirOf(uploadId);
    let record: UploadRecord;
    try {
      record = await this.get(uploadId, bucket, key);
    } catch (e) {
      if (e instanceof S3Error) return undefined;
      throw e;
    }
    const claimed = `${dir}.claimed-${uniqueSuffix()}`;
    try {
      await rename(dir, claimed);
    } catch (e) {
      if (isCode(e, 'ENOENT')) return undefined;
      throw e;
    }
    const parts = await this.parts(claimed);
    return {
      record,
      parts,
      touch: async () => {
        const now = new Date();
        await utimes(claimed, now, now).catch(() => undefined);
      },
      release: async () => {
        await rename(claimed, dir);
      },
      finish: async (result) => {
        await writeFile(this.donePath(uploadId), JSON.stringify(result));
        void rm(claimed, { recursive: true, force: true }).catch(() => undefined);
      },
    };
  }

  async abort(uploadId: string, bucket: BucketName, key: ObjectKey): Promise<void> {
    await this.get(uploadId, bucket, key);
    await this.discard(uploadId);
  }

  /** Removes an upload in progress, whoever it belongs to (NoSuchUpload when it is not). */
  async discard(uploadId: string): Promise<void> {
    const dir = this.dirOf(uploadId);
    const doomed = `${dir}.aborted-${uniqueSuffix()}`;
    try {
      await rename(dir, doomed);
    } catch (e) {
      if (isCode(e, 'ENOENT')) throw noSuchUpload(uploadId);
      throw e;
    }
    await rm(doomed, { recursive: true, force: true });
  }

  /**
   * What lies in the uploads folder: uploads in progress, and what completed, claimed or aborted
   * uploads leave (done records, folders of a process that died), with their age.
   */
  async entries(): Promise<{ uploadId: string; inProgress: boolean; lastActivityMs: number; path: string }[]> {
    const names = await readdir(this.layout.uploads);
    const found = await Promise.all(
      names.map(async (name) => {
        const uploadId = name.slice(0, 36);
        if (!UPLOAD_ID.test(uploadId)) return undefined;
        const path = join(this.layout.uploads, name);
        // An upload is active when its folder is touched (a part in flight) or a part lands.
        const [own, parts] = await Promise.all([stat(path).catch(() => undefined), stat(join(path, 'parts')).catch(() => undefined)]);
        if (!own) return undefined;
        return { uploadId, inProgress: name === uploadId, lastActivityMs: Math.max(own.mtimeMs, parts?.mtimeMs ?? 0), path };
      }),
    );
    return found.filter((e) => e !== undefined);
  }

  /** How many uploads are in progress (one readdir: cheap enough for every metrics scrape). */
  async countOpen(): Promise<number> {
    return (await readdir(this.layout.uploads)).filter((name) => UPLOAD_ID.test(name)).length;
  }

  /** Removes a leftover found by `entries` (never an upload in progress: `discard` is for those). */
  async removeLeftover(path: string): Promise<void> {
    await rm(path, { recursive: true, force: true });
  }
}
