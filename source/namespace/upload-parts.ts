// The parts of a multipart upload: files in the upload's parts/ folder, each streamed in through
// a temp file and named for its number and ETag (and checksum, if it came with one).
//
// A re-uploaded part lands under a new name and the older file of that number is removed, so the
// newest wins even when two uploads of one part race.
import { createWriteStream } from 'node:fs';
import { readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { isCode, noSuchUpload } from '../errors';
import { FILE_IO_BYTES } from '../streams/buffer-sizes';
import type { ChecksumAlgorithm } from '../streams/checksums';
import { pump } from '../streams/pump';
import type { Layout } from './layout';
import { tempName } from './tmp';

const PART_NAME = /^(\d{1,5})\.([0-9a-f]{32})(?:\.([a-z0-9]+)\.([A-Za-z0-9_-]+))?$/;

export interface PartInfo {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: Date;
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
  path: string;
}

/** What a part is known by once its bytes are verified: its ETag and the checksum it was sent with. */
export interface PartDigest {
  md5: string;
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

export class PartFiles {
  constructor(
    private readonly layout: Layout,
    private readonly activityIntervalMs: number,
    private readonly fsync: boolean,
  ) {}

  /**
   * Streams a part to a temp file, lets `finish` verify it and name its ETag, then moves it into
   * the upload. Fails with NoSuchUpload if the upload was completed or aborted meanwhile.
   */
  async write(
    dir: string,
    uploadId: string,
    partNumber: number,
    source: Readable,
    finish: () => PartDigest | Promise<PartDigest>,
  ): Promise<PartInfo> {
    const partsDir = join(dir, 'parts');
    // A part in flight is activity: the cleaner must not take a slow upload for an idle one.
    const now = new Date();
    await utimes(dir, now, now).catch((e: unknown) => {
      throw isCode(e, 'ENOENT') ? noSuchUpload(uploadId) : e;
    });
    const temp = join(this.layout.tmp, tempName());
    const keepActive = setInterval(() => {
      const at = new Date();
      utimes(dir, at, at).catch(() => undefined);
    }, this.activityIntervalMs);
    try {
      try {
        await pump(source, createWriteStream(temp, { flags: 'wx', mode: 0o644, highWaterMark: FILE_IO_BYTES, flush: this.fsync }));
      } finally {
        clearInterval(keepActive);
      }
      const { md5, checksum } = await finish();
      const suffix = checksum ? `.${checksum.algorithm}.${Buffer.from(checksum.value, 'base64').toString('base64url')}` : '';
      const name = `${partNumber}.${md5}${suffix}`;
      const path = join(partsDir, name);
      try {
        await rename(temp, path);
      } catch (e) {
        if (isCode(e, 'ENOENT')) throw noSuchUpload(uploadId);
        throw e;
      }
      const stats = await stat(path);
      await this.dropOlderVersions(partsDir, partNumber, name, stats.mtimeMs);
      return { partNumber, etag: md5, size: stats.size, lastModified: stats.mtime, path, ...(checksum ? { checksum } : {}) };
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw e;
    }
  }

  private async dropOlderVersions(partsDir: string, partNumber: number, keep: string, keepMtime: number): Promise<void> {
    const names = await readdir(partsDir).catch(() => [] as string[]);
    for (const name of names) {
      if (name === keep || !name.startsWith(`${partNumber}.`)) continue;
      const stats = await stat(join(partsDir, name)).catch(() => undefined);
      if (stats && stats.mtimeMs <= keepMtime) await unlink(join(partsDir, name)).catch(() => undefined);
    }
  }

  /** The current parts of an upload in part-number order (the newest file of each number). */
  async current(dir: string): Promise<PartInfo[]> {
    const partsDir = join(dir, 'parts');
    const names = await readdir(partsDir);
    const byNumber = new Map<number, PartInfo>();
    await Promise.all(
      names.map(async (name) => {
        const match = PART_NAME.exec(name);
        if (!match) return;
        const path = join(partsDir, name);
        const stats = await stat(path).catch(() => undefined);
        if (!stats) return;
        const partNumber = Number(match[1]);
        const current = byNumber.get(partNumber);
        if (current && current.lastModified.getTime() >= stats.mtimeMs) return;
        const checksum = match[3]
          ? { algorithm: match[3] as ChecksumAlgorithm, value: Buffer.from(match[4]!, 'base64url').toString('base64') }
          : undefined;
        byNumber.set(partNumber, {
          partNumber,
          etag: match[2]!,
          size: stats.size,
          lastModified: stats.mtime,
          path,
          ...(checksum ? { checksum } : {}),
        });
      }),
    );
    return [...byNumber.values()].sort((a, b) => a.partNumber - b.partNumber);
  }
}
