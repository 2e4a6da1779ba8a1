// Bucket names and object keys: validated before they are turned into paths.
import { S3Error, badKey, invalidBucketName } from '../errors';
import { HIDDEN_TEMP_PREFIX } from './tmp';

/** A validated bucket name; `a:b:c` names the sub-directory bucket ROOT/a/b/c. */
export type BucketName = string & { readonly __brand: 'BucketName' };
/** A validated object key: no empty, `.` or `..` segment, no NUL, at most 1024 UTF-8 bytes. */
export type ObjectKey = string & { readonly __brand: 'ObjectKey' };

export const MAX_KEY_BYTES = 1024;

/**
 * Names sluice keeps inside a key's directory, never listed and never accepted in a key: the
 * bytes of the object named like the directory (`logs` when `logs/...` also exists), and the
 * bytes of the folder object `dir/` when it holds some.
 */
export const NESTED_OBJECT = '.sluice-object';
export const FOLDER_BYTES = '.sluice-folder';

/** True for a directory entry that is sluice's own (those two, temp files and move staging) and never a key. */
export function isReservedName(name: string): boolean {
  return name === NESTED_OBJECT || name === FOLDER_BYTES || name.startsWith(HIDDEN_TEMP_PREFIX);
}

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IPV4_RE = /^\d+\.\d+\.\d+\.\d+$/;

/** S3's rules for a bucket name (3-63 characters of a-z 0-9 . -, no `..`, not an IP address). */
export function isValidS3BucketName(name: string): boolean {
  return (
    BUCKET_RE.test(name) &&
    !name.includes('..') &&
    !name.includes('.-') &&
    !name.includes('-.') &&
    !IPV4_RE.test(name) &&
    !name.startsWith('xn--') &&
    !name.startsWith('sthree-') &&
    !name.endsWith('-s3alias') &&
    !name.endsWith('--ol-s3')
  );
}

/** True when a string has an unpaired UTF-16 surrogate: UTF-8 turns it into U+FFFD, so two names would share one path. */
function hasLoneSurrogate(text: string): boolean {
  return /[\ud800-\udfff]/u.test(text.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''));
}

/** A directory name usable as a later segment of an Alluxio `a:b:c` bucket. */
function isValidSubBucketSegment(segment: string): boolean {
  return (
    segment !== '' &&
    segment !== '.' &&
    segment !== '..' &&
    !/[/\\\0]/.test(segment) &&
    !hasLoneSurrogate(segment) &&
    Buffer.byteLength(segment) <= 255
  );
}

export function parseBucketName(name: string): BucketName {
  const segments = name.split(':');
  if (!isValidS3BucketName(segments[0]!) || !segments.slice(1).every(isValidSubBucketSegment)) {
    throw invalidBucketName(name);
  }
  return name as BucketName;
}

/** The directory segments of a bucket below ROOT. */
export function bucketSegments(bucket: BucketName): string[] {
  return bucket.split(':');
}

export function isSubDirectoryBucket(bucket: BucketName): boolean {
  return bucket.includes(':');
}

export function parseObjectKey(key: string): ObjectKey {
  if (key === '') throw new S3Error('InvalidArgument', 'The object key must not be empty.');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new S3Error('KeyTooLongError', `Your key is too long: keys are at most ${MAX_KEY_BYTES} bytes.`);
  }
  // No Key field here: XML cannot carry NUL in any form, so the error document would not parse.
  if (key.includes('\0')) throw new S3Error('InvalidArgument', 'The object key must not contain NUL.');
  if (hasLoneSurrogate(key)) {
    throw new S3Error('InvalidArgument', 'The object key is not valid UTF-8.');
  }
  // A trailing `/` marks a folder object; every other segment must be a real name.
  const segments = (key.endsWith('/') ? key.slice(0, -1) : key).split('/');
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw badKey('InvalidArgument', 'Object keys may not contain empty, "." or ".." path segments.', key);
    }
    if (Buffer.byteLength(segment, 'utf8') > 255) {
      throw badKey('KeyTooLongError', 'A segment of the key between slashes is longer than 255 bytes.', key);
    }
    if (isReservedName(segment)) {
      throw badKey('InvalidArgument', `Object keys may not contain a "${segment}" path segment: sluice keeps that name for itself.`, key);
    }
  }
  return key as ObjectKey;
}

/** A folder object (`dir/`) is a directory on disk (its bytes, if it has any, are in FOLDER_BYTES inside). */
export function isFolderKey(key: ObjectKey): boolean {
  return key.endsWith('/');
}

/** The key's path segments (a folder key's trailing slash dropped). */
export function keySegments(key: ObjectKey): string[] {
  return (key.endsWith('/') ? key.slice(0, -1) : key).split('/');
}
