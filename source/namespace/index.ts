// The namespace: buckets, keys, files and their metadata under ROOT. It knows nothing of HTTP.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BucketStore } from './buckets';
import { Layout } from './layout';
import { MetadataStore } from './metadata';
import { ObjectStore } from './objects';
import { sweepTempFiles } from './tmp';

export { KeyWalker, compareKeys, type WalkEntry } from './listing';
export { attributesOf, type ObjectInfo } from './object-info';
export type { WriteCondition } from './objects';
export type { BucketInfo } from './buckets';
export * from './names';
export type { ObjectAttributes, ContentHeaders, Tag, ChecksumAlgorithm } from './metadata';
export { CHECKSUM_ALGORITHMS } from './metadata';

export interface NamespaceOptions {
  root: string;
  defaultOwner: string;
  listDirectories: boolean;
  fsync: boolean;
}

export class Namespace {
  private constructor(
    readonly layout: Layout,
    readonly metadata: MetadataStore,
    readonly buckets: BucketStore,
    readonly objects: ObjectStore,
    /** Signs listing continuation tokens; shared through ROOT by every process serving it. */
    readonly secret: Buffer,
  ) {}

  static async open(options: NamespaceOptions): Promise<Namespace> {
    const layout = await Layout.open(options.root);
    await sweepTempFiles(layout.tmp);
    const metadata = new MetadataStore(layout);
    const buckets = new BucketStore(layout, options.defaultOwner);
    const objects = new ObjectStore(layout, buckets, metadata, options);
    return new Namespace(layout, metadata, buckets, objects, await loadSecret(layout.internal));
  }
}

async function loadSecret(internalDir: string): Promise<Buffer> {
  const path = join(internalDir, 'secret');
  try {
    await writeFile(path, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  // Another process may have created it a moment ago: wait until it holds the whole secret.
  for (let i = 0; ; i++) {
    const text = (await readFile(path, 'utf8')).trim();
    if (/^[0-9a-f]{64}$/.test(text)) return Buffer.from(text, 'hex');
    if (i > 50) throw new Error(`${path} does not hold a valid secret`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
