// The namespace: buckets, keys, files and their metadata under ROOT, and the multipart uploads
// in progress. It speaks buckets, keys and files; nothing here knows of HTTP or of S3 actions.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isCode } from '../errors';
import { BucketStore } from './buckets';
import { Layout } from './layout';
import { MetadataStore } from './metadata';
import { ObjectStore } from './objects';
import { UploadStore } from './uploads';

export { partsContent, type FileFiller } from './assembly';
export type { BucketInfo } from './buckets';
export { KeyWalker, compareKeys, type WalkEntry } from './listing';
export type { ContentHeaders, ObjectAttributes, Tag } from './metadata';
export * from './names';
export { attributesOf, type ObjectInfo } from './object-info';
export { Janitor, sweepOwnTempFiles } from './janitor';
export { Layout } from './layout';
export type { WriteCondition } from './objects';
export type { ClaimedUpload, CompletedUpload, PartInfo, UploadRecord, UploadStore } from './uploads';

export interface NamespaceOptions {
  root: string;
  /** Owner of what has no recorded owner (buckets and files made by other programs). */
  defaultOwner: string;
  listDirectories: boolean;
  fsync: boolean;
  /** Idle multipart uploads are aborted after this; parts in flight mark their upload active well within it. */
  multipartTimeoutMs: number;
  /** CompleteMultipartUpload assemblies that run at once in this process. */
  completePoolSize: number;
}

export class Namespace {
  private constructor(
    readonly layout: Layout,
    readonly metadata: MetadataStore,
    readonly buckets: BucketStore,
    readonly objects: ObjectStore,
    readonly uploads: UploadStore,
    /** Signs listing continuation tokens; shared through ROOT by every process serving it. */
    readonly secret: Buffer,
  ) {}

  static async open(options: NamespaceOptions): Promise<Namespace> {
    const layout = await Layout.open(options.root);
    const metadata = new MetadataStore(layout);
    const buckets = new BucketStore(layout, options.defaultOwner);
    const objects = new ObjectStore(layout, buckets, metadata, options);
    const uploads = new UploadStore(layout, {
      // A few times per cleaner timeout, so that no cleaner takes a slow part for an idle upload.
      activityIntervalMs: options.multipartTimeoutMs / 4,
      fsync: options.fsync,
      assemblies: options.completePoolSize,
    });
    return new Namespace(layout, metadata, buckets, objects, uploads, await loadSecret(layout.internal));
  }
}

async function loadSecret(internalDir: string): Promise<Buffer> {
  const path = join(internalDir, 'secret');
  try {
    await writeFile(path, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if (!isCode(e, 'EEXIST')) throw e;
  }
  // Another process may have created it a moment ago: wait until it holds the whole secret.
  for (let i = 0; ; i++) {
    const text = (await readFile(path, 'utf8')).trim();
    if (/^[0-9a-f]{64}$/.test(text)) return Buffer.from(text, 'hex');
    if (i > 50) throw new Error(`${path} does not hold a valid secret`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
