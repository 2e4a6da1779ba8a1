// What an object store is to the rest of sluice: open, describe, write, delete and list objects
// of a bucket. The under store (ROOT, a POSIX tree today; a remote S3 store later), the cache's
// store of cache-only objects, and the tiers that combine them all speak this interface, so the
// S3 actions never know which one answers.
import type { Readable, Writable } from 'node:stream';
import type { FileFiller } from './assembly';
import type { ObjectAttributes, Permissions, Tag } from './metadata';
import type { BucketName, ObjectKey } from './names';
import type { ObjectInfo } from './object-info';
import type { DeleteCondition } from './remove-if';

export type { DeleteCondition };

/** The bytes of an opened object version. Close it in every case. */
export interface ObjectBody {
  /** Writes `length` bytes from `start` to `out` and ends it; rejects if `out` closes early. */
  sendRange(start: number, length: number, out: Writable): Promise<void>;
  /** The same bytes as a stream (a copy source); the stream releases what it reads. */
  stream(start: number, length: number): Readable;
  close(): Promise<void>;
}

/** An opened object: the version described, and its bytes (a folder object has none). */
export interface OpenedObject {
  info: ObjectInfo;
  body?: ObjectBody | undefined;
}

/** A conditional write (S3's If-None-Match / If-Match on PutObject), decided at the rename. */
export interface WriteCondition {
  /** Only if no object has the key (If-None-Match: *): checked and created in one step. */
  createOnly?: boolean;
  /** Throws (PreconditionFailed, NoSuchKey) unless the object being replaced is acceptable. */
  check?: (current: ObjectInfo | undefined) => void;
}

/** The bytes of a new version: a stream, or something that fills the file (a multipart assembly). */
export interface WriteContent {
  source: Readable | FileFiller;
  /** The size, when it is known before the bytes arrive (it must be, for a FileFiller). */
  size?: number | undefined;
}

/**
 * `finish` runs once every byte is on disk: it verifies what it must (digests, lengths) and
 * returns the attributes to record; if it throws, nothing is left behind and the previous
 * version stays.
 */
export type WriteFinish = () => ObjectAttributes | Promise<ObjectAttributes>;

/** Identity of the bytes of an object version (a file's inode, size and mtime), and of its attributes. */
export interface VersionStamp {
  ino: string;
  size: number;
  mtimeNs: string;
  /** Changes when the version's attributes are rewritten in place (tags), not only its bytes. */
  ctimeNs: string;
}

/** One entry of a listing, in key order. */
export interface ListedKey {
  /** A key; a directory's ends with `/`. */
  key: string;
  kind: 'file' | 'dir';
  /** Describes it; undefined when it vanished since it was listed. */
  describe(): Promise<ObjectInfo | undefined>;
  /** For a directory: whether it is a folder object (created as `dir/`), listed under S3 semantics. */
  isFolder(): Promise<boolean>;
}

/** Keys in UTF-8 byte order; `skip(p)` drops every further key starting with `p` (a common prefix). */
export interface KeyCursor {
  next(): Promise<ListedKey | undefined>;
  skip(prefix: string): void;
}

export interface ObjectStore {
  /** Opens an object for reading (NoSuchKey, NoSuchBucket). */
  open(bucket: BucketName, key: ObjectKey): Promise<OpenedObject>;
  head(bucket: BucketName, key: ObjectKey): Promise<ObjectInfo>;
  /** Writes a new version; see WriteFinish. */
  write(
    bucket: BucketName,
    key: ObjectKey,
    content: WriteContent,
    owner: string,
    finish: WriteFinish,
    condition?: WriteCondition,
  ): Promise<ObjectInfo>;
  /** Creates (or re-marks) a folder object `dir/`. */
  createFolder(bucket: BucketName, key: ObjectKey, owner: string, tags: Tag[], permissions?: Permissions): Promise<ObjectInfo>;
  /** Replaces the recorded attributes of the current version, without touching its bytes. */
  updateAttributes(bucket: BucketName, key: ObjectKey, update: (current: ObjectAttributes) => ObjectAttributes): Promise<ObjectInfo>;
  /** Deletes an object (if `condition` accepts it); deleting what does not exist succeeds, as in S3. */
  delete(bucket: BucketName, key: ObjectKey, condition?: DeleteCondition): Promise<void>;
  /** Keys of a bucket starting with `prefix`, after `after` (exclusive); NoSuchBucket if none. */
  keys(bucket: BucketName, options: { prefix: string; after?: string | undefined }): Promise<KeyCursor>;
}
