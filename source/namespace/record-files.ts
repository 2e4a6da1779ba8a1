// Where a metadata record lives and how a file's record reads: shared by the metadata store and
// the small-object worker (small-io-worker.ts), which writes a new version's record in the same
// round trip as its bytes; how a versioned record parses, for them and the cache's copies.
import { join } from 'node:path';

/** The identity of a file version that names its record. */
export interface RecordIdentity {
  ino: bigint;
  /** The mtime of a file, the birth time of a directory: inode numbers are reused. */
  versionNs: bigint;
  directory: boolean;
}

export function recordPathOf(metaDir: string, { ino, versionNs, directory }: RecordIdentity): string {
  const version = directory ? `d${versionNs}` : `${versionNs}`;
  return join(metaDir, (ino & 0xffn).toString(16).padStart(2, '0'), `${ino}.${version}.json`);
}

/** A file version's record: its identity, then `attributesJson` (a JSON object of its attributes). */
export function fileRecordText(ino: bigint, size: bigint, mtimeNs: bigint, attributesJson: string): string {
  const rest = attributesJson.slice(1);
  return `{"v":1,"kind":"file","ino":"${ino}","size":${size},"mtimeNs":"${mtimeNs}"${rest === '}' ? '' : ','}${rest}`;
}

/** A record's text as a record of format 1; a torn one (a crash mid-write) or of another format is none. */
export function parseVersioned<T extends { v: number }>(text: string): T | undefined {
  try {
    const parsed = JSON.parse(text) as T;
    return parsed.v === 1 ? parsed : undefined;
  } catch {
    return undefined;
  }
}
