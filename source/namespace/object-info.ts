// What S3 says about one version of an object: its recorded attributes, or for a file another
// program wrote, the defaults sluice derives from the file itself.
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import type * as MimeTypes from 'mime-types';
import type { DirectoryMarks, ObjectAttributes } from './metadata';
import type { ObjectKey } from './names';

/** The MD5 of zero bytes: the true ETag of a folder object. */
const EMPTY_MD5 = 'd41d8cd98f00b204e9800998ecf8427e';

export interface ObjectInfo extends ObjectAttributes {
  key: ObjectKey;
  size: number;
  lastModified: Date;
  /** True when sluice has no record for this version (written by another program). */
  foreign: boolean;
  isFolder: boolean;
  stats: BigIntStats;
}

/**
 * A stable tag for a file sluice did not write: it changes whenever the file does, and its `-1`
 * suffix tells clients (rclone, the SDKs) that it is not the MD5 of the content.
 */
export function foreignETag(stats: BigIntStats): string {
  return `${createHash('md5').update(`${stats.ino}:${stats.size}:${stats.mtimeNs}`).digest('hex')}-1`;
}

// The type table is loaded when a file without a record is first described: idle, it is a few MB.
let mimeTypes: typeof MimeTypes | undefined;

/** The content type of a file sluice has no record for, from its name. */
export function contentTypeOf(key: ObjectKey): string {
  mimeTypes ??= require('mime-types') as typeof MimeTypes;
  return mimeTypes.lookup(key) || 'application/octet-stream';
}

/** The one way an ObjectInfo is made: the version's identity, and what S3 says of it. */
function describe(
  key: ObjectKey,
  stats: BigIntStats,
  kind: { isFolder: boolean; foreign: boolean },
  attributes: ObjectAttributes,
): ObjectInfo {
  // Field by field, not by spreading the record: a fixed shape is much cheaper on every read.
  const { etag, headers, userMeta, tags, owner, permissions, partSizes, checksum, partChecksums, persistence } = attributes;
  const size = kind.isFolder ? 0 : Number(stats.size);
  const lastModified = new Date(Number(stats.mtimeNs / 1_000_000n));
  const info: ObjectInfo = {
    key,
    size,
    lastModified,
    isFolder: kind.isFolder,
    stats,
    foreign: kind.foreign,
    etag,
    headers,
    userMeta,
    tags,
    owner,
  };
  if (permissions) info.permissions = permissions;
  if (partSizes) info.partSizes = partSizes;
  if (checksum) info.checksum = checksum;
  if (partChecksums) info.partChecksums = partChecksums;
  if (persistence) info.persistence = persistence;
  return info;
}

/** A file version sluice recorded `attributes` for. */
export function describeRecorded(key: ObjectKey, stats: BigIntStats, attributes: ObjectAttributes): ObjectInfo {
  return describe(key, stats, { isFolder: false, foreign: false }, attributes);
}

/** A file another program wrote: its type from its name, a stable non-MD5 ETag. */
export function describeForeign(key: ObjectKey, stats: BigIntStats, owner: string): ObjectInfo {
  const attributes = { etag: foreignETag(stats), headers: { contentType: contentTypeOf(key) }, userMeta: {}, tags: [], owner };
  return describe(key, stats, { isFolder: false, foreign: true }, attributes);
}

/** A folder object `dir/`: a directory, with the tags and owner its marks record. */
export function describeFolder(key: ObjectKey, stats: BigIntStats, marks: DirectoryMarks | undefined, defaultOwner: string): ObjectInfo {
  const attributes = {
    etag: EMPTY_MD5,
    headers: { contentType: 'application/x-directory' },
    userMeta: {},
    tags: marks?.tags ?? [],
    owner: marks?.owner ?? defaultOwner,
    ...(marks?.permissions ? { permissions: marks.permissions } : {}),
  };
  return describe(key, stats, { isFolder: true, foreign: false }, attributes);
}

/** The recordable part of an object's description. */
export function attributesOf(info: ObjectInfo): ObjectAttributes {
  const { etag, headers, userMeta, tags, owner, permissions, partSizes, checksum, partChecksums, persistence } = info;
  return {
    etag,
    headers,
    userMeta,
    tags,
    owner,
    ...(permissions ? { permissions } : {}),
    ...(partSizes ? { partSizes } : {}),
    ...(checksum ? { checksum } : {}),
    ...(partChecksums ? { partChecksums } : {}),
    ...(persistence ? { persistence } : {}),
  };
}
