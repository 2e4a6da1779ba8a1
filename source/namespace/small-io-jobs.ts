// The messages between the event loop (small-io.ts) and a small-io thread (small-io-worker.ts).

/** A file's stat(2) fields in this order, as bigints: what survives a message (a BigIntStats does not). */
export const STAT_FIELDS = [
  'dev', 'ino', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'size', 'blksize', 'blocks', 'atimeNs', 'mtimeNs', 'ctimeNs', 'birthtimeNs',
] as const;
export type StatValues = bigint[];

export interface Tree {
  root: string;
  internal: string;
  meta: string;
  /** The temp folder and its device: a bucket on another device gets its temp file beside the target. */
  tmp: string;
  tmpDevice: number;
  /** What a temp file beside its target is named with, so that listings never show it. */
  hiddenPrefix: string;
}

/** Find the object at `path` (or nested inside it, named `nested`), read its record and, if small, its bytes. */
export interface ReadJob {
  kind: 'read';
  id: number;
  tree: Tree;
  /** The bucket's directory, right under ROOT: it must be one (no link), or the full path decides. */
  bucketDir: string;
  path: string;
  nested: string;
  maxBytes: number;
}

/** Write `data` to `temp` and its record, then rename it to `target` unless a step needs the event loop's care. */
export interface WriteJob {
  kind: 'write';
  id: number;
  tree: Tree;
  /** As ReadJob's. */
  bucketDir: string;
  /** The temp file's name, in the temp folder or beside the target (hidden). */
  tempName: string;
  target: string;
  /** The directory the target is in, checked to be inside the tree (not for a key at the bucket's top). */
  parent?: string | undefined;
  data: Uint8Array;
  attributesJson: string;
}

/** Remove these files (metadata records of replaced versions), each if it is there. */
export interface UnlinkJob {
  kind: 'unlink';
  id: number;
  paths: string[];
}

/** Read a cache copy whole with its record (`<path>.json`), if it is a regular file of at most `maxBytes`. */
export interface CopyJob {
  kind: 'copy';
  id: number;
  path: string;
  maxBytes: number;
}

export type SmallJob = ReadJob | WriteJob | UnlinkJob | CopyJob;

export type ReadReply =
  /** Nothing is at the path or inside it, it is outside the tree, or it is larger than asked: the full path decides. */
  | { id: number; kind: 'elsewhere' }
  | { id: number; kind: 'found'; path: string; stats: StatValues; record?: string; unlinked: boolean; data: Uint8Array };

export type WriteReply =
  /** Renamed into place; `previous` is the file version it replaced. */
  | { id: number; kind: 'placed'; stats: StatValues; previous?: StatValues }
  /** The temp file and its record are written; placing it is the event loop's (a directory, a missing parent, a failed rename). */
  | { id: number; kind: 'written'; temp: string; stats: StatValues }
  /** Nothing was left behind; the full path decides (and reports the error). */
  | { id: number; kind: 'failed'; code: string };

export type UnlinkReply = { id: number; kind: 'unlinked' };

export type CopyReply =
  /** No copy, a larger one, or something else at the path: the event loop looks itself. */
  | { id: number; kind: 'elsewhere' }
  | { id: number; kind: 'copy'; stats: StatValues; record?: string; data: Uint8Array };

/** Every reply also says how long its job took on the thread (milliseconds): how slow the disk is. */
export type SmallReply = (ReadReply | WriteReply | UnlinkReply | CopyReply | { id: number; kind: 'error'; message: string }) & {
  ms?: number;
};
