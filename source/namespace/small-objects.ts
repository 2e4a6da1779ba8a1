// A small object's GET and PUT in one round trip to a small-io thread (small-io.ts), for the
// common case: a file at its key's path (or nested in its directory), a new version renamed over
// the old. Whatever is not that common case is left to the full path in objects.ts, which also
// reports every error: a small read answers undefined, a small write says how far it got.
import type { BigIntStats } from 'node:fs';
import type { Readable } from 'node:stream';
import { S3Error } from '../errors';
import { collectBounded } from '../streams/collect';
import { BufferBody } from './file-body';
import type { Layout } from './layout';
import type { MetadataStore, ObjectAttributes } from './metadata';
import { NESTED_OBJECT, isFolderKey, type ObjectKey } from './names';
import { describeForeign, describeRecorded } from './object-info';
import { SMALL_OBJECT_BYTES, smallIo, statsOf } from './small-io';
import type { Tree } from './small-io-jobs';
import type { OpenedObject, WriteCondition, WriteContent } from './store';
import { HIDDEN_TEMP_PREFIX, tempName } from './tmp';

/** Paths remembered as holding a big object, at most. */
const KNOWN_BIG = 4096;

/**
 * Which paths hold objects too big for the small path: a GET of one goes the full way at once,
 * without a trip to a small-io thread that would only say so (nor the thread's start, ~10 MB, for
 * a store that holds only big objects). A stale entry costs only that: the full path answers.
 */
export class SmallObjects {
  private readonly big = new Set<string>();

  /** False when the object at `path` is known to be big. */
  mayHold(path: string): boolean {
    return !this.big.has(path);
  }

  /** The object at `path` was written or read with `size` bytes (undefined: not known). */
  written(path: string, size: number | undefined): void {
    if (size === undefined || size <= SMALL_OBJECT_BYTES) {
      this.big.delete(path);
      return;
    }
    if (this.big.size >= KNOWN_BIG) this.big.delete(this.big.values().next().value!);
    this.big.add(path);
  }
}

const trees = new WeakMap<Layout, Tree>();
function treeOf(layout: Layout): Tree {
  let tree = trees.get(layout);
  if (!tree) {
    const { root, internal, meta, tmp, tmpDevice } = layout;
    tree = { root, internal, meta, tmp, tmpDevice, hiddenPrefix: HIDDEN_TEMP_PREFIX };
    trees.set(layout, tree);
  }
  return tree;
}

/**
 * The object at `path` in the bucket at `bucketDir` with its bytes in memory, when it is small and
 * plainly there; else undefined. The bucket is checked in the same trip.
 */
export async function openSmall(
  layout: Layout,
  metadata: MetadataStore,
  defaultOwner: string,
  key: ObjectKey,
  at: { bucketDir: string; path: string },
): Promise<OpenedObject | undefined> {
  const reply = await smallIo.read(treeOf(layout), at.bucketDir, at.path, NESTED_OBJECT, SMALL_OBJECT_BYTES).catch(() => undefined);
  if (reply?.kind !== 'found') return undefined;
  const stats = statsOf(reply.stats);
  const recorded = metadata.parseFileRecord(reply.record, stats);
  // No record, and no longer linked: a writer replaced it as it was read; the full path reads the new one.
  if (!recorded && reply.unlinked) return undefined;
  const info = recorded ? describeRecorded(key, stats, recorded) : describeForeign(key, stats, defaultOwner);
  return { info, body: new BufferBody(Buffer.from(reply.data.buffer, reply.data.byteOffset, reply.data.byteLength)) };
}

/** A write the small path takes: a known small size, streamed, unconditional, not a folder object, no --fsync. */
export function isSmallWrite(key: ObjectKey, content: WriteContent, condition: WriteCondition, fsync: boolean): boolean {
  const { source, size } = content;
  return (
    typeof source !== 'function' &&
    size !== undefined &&
    size <= SMALL_OBJECT_BYTES &&
    !fsync &&
    !condition.check &&
    !condition.createOnly &&
    !isFolderKey(key)
  );
}

export type SmallWrite =
  | { kind: 'placed'; stats: BigIntStats; previous?: BigIntStats | undefined }
  | { kind: 'written'; temp: string; stats: BigIntStats }
  /** Nothing was written: the full path writes `bytes`. */
  | { kind: 'failed'; bytes: Buffer };

/**
 * Reads the (small) body whole and writes it, with its record, to a temp file, then renames that
 * to `target` if nothing stands in the way. `parent` (the target's directory, when it is not the
 * bucket's) is checked to be inside the tree; the bucket's directory to be one.
 */
export async function writeSmall(
  layout: Layout,
  source: Readable,
  attributesOf: () => ObjectAttributes | Promise<ObjectAttributes>,
  where: { bucketDir: string; target: string; parent?: string | undefined },
): Promise<{ attributes: ObjectAttributes; result: SmallWrite }> {
  // Bounded by the declared size, which the body's digest stream holds the client to.
  const bytes = await collectBounded(source, SMALL_OBJECT_BYTES, () => new S3Error('IncompleteBody'));
  const attributes = await attributesOf();
  // A copy of its own to hand over: a small Buffer is a slice of a shared pool.
  const reply = await smallIo
    .write(treeOf(layout), { ...where, tempName: tempName() }, new Uint8Array(bytes), JSON.stringify(attributes))
    .catch(() => undefined);
  if (reply?.kind === 'placed') {
    return { attributes, result: { kind: 'placed', stats: statsOf(reply.stats), previous: reply.previous && statsOf(reply.previous) } };
  }
  if (reply?.kind === 'written') return { attributes, result: { kind: 'written', temp: reply.temp, stats: statsOf(reply.stats) } };
  return { attributes, result: { kind: 'failed', bytes } };
}
