// Buckets of many keys for the listing workload, written straight to disk as empty files (sluice
// serves files written by other programs), cached under tools/bench/out/cache and reused across runs.
// They are lent to a server by a rename on the same filesystem, or by a bind mount into a root on
// the tmpfs (two million inodes would cost the tmpfs about 2 GB of memory; a listing reads directory
// entries, which the kernel's dentry cache keeps warm wherever they are).
// Also a script: `node keys.js DIR COUNT [tree|flat] [SUFFIX]`.
import { existsSync, mkdirSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { bindMount, unmountNow } from './mounts';

export type KeyLayout = 'tree' | 'flat';

/** Keys per directory in a tree: `d0000/k000000` … `d0999/k999999`. */
export const PER_DIR = 1000;

export interface KeySet {
  count: number;
  layout: KeyLayout;
  /** Appended to every file name: s3rver keeps an object's bytes in `<key>._S3rver_object`. */
  suffix: string;
}

export function keySetName(set: KeySet): string {
  return `keys-${set.layout}-${set.count}${set.suffix === '' ? '' : '-' + set.suffix.replace(/[^A-Za-z0-9]/g, '')}`;
}

function keyPath(set: KeySet, i: number): string {
  const file = `k${String(i).padStart(6, '0')}${set.suffix}`;
  return set.layout === 'flat' ? file : join(`d${String(Math.floor(i / PER_DIR)).padStart(4, '0')}`, file);
}

/** Writes the key set's empty files under dir, at most `concurrency` creates in flight. */
export async function writeKeys(dir: string, set: KeySet, concurrency = 64): Promise<void> {
  mkdirSync(dir, { recursive: true });
  if (set.layout === 'tree') {
    for (let d = 0; d * PER_DIR < set.count; d++) await mkdir(join(dir, `d${String(d).padStart(4, '0')}`), { recursive: true });
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < set.count) {
      const i = next++;
      const handle = await open(join(dir, keyPath(set, i)), 'w');
      await handle.close();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * The cached directory of a key set, made on first use: written to `<name>.partial` and renamed
 * when complete, so an interrupted run never leaves a short set behind.
 */
export async function cachedKeys(cacheDir: string, set: KeySet, log: (line: string) => void): Promise<string> {
  const dir = join(cacheDir, keySetName(set));
  if (existsSync(dir)) return dir;
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  const started = Date.now();
  log(`  writing ${set.count} empty files (${set.layout}${set.suffix === '' ? '' : ', ' + set.suffix}) into ${dir} (once; cached for later runs)`);
  await writeKeys(partial, set);
  renameSync(partial, dir);
  log(`  … done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dir;
}

/** Key sets lent to a server right now: bucket directory → cache directory and how it was lent. */
const lent = new Map<string, { cached: string; bind: boolean }>();

/** Lends cached key sets to a server as buckets for the length of fn. */
export async function withBucketsFrom<T>(loans: { cached: string; bucketDir: string }[], fn: () => Promise<T>): Promise<T> {
  try {
    for (const { cached, bucketDir } of loans) {
      const bind = statSync(cached).dev !== statSync(dirname(bucketDir)).dev;
      if (bind) bindMount(cached, bucketDir);
      else renameSync(cached, bucketDir);
      lent.set(bucketDir, { cached, bind });
    }
    return await fn();
  } finally {
    returnLent();
  }
}

/** Puts lent key sets back in the cache (also on an interrupted run). */
export function returnLent(): void {
  for (const [bucketDir, { cached, bind }] of lent) {
    try {
      if (bind) {
        unmountNow(bucketDir);
        rmdirSync(bucketDir);
      } else {
        renameSync(bucketDir, cached);
      }
    } catch {
      // gone with its run root: it will be written again next time
    }
    lent.delete(bucketDir);
  }
}

if (require.main === module) {
  const [dir, count, layout = 'tree', suffix = ''] = process.argv.slice(2);
  if (dir === undefined || count === undefined || (layout !== 'tree' && layout !== 'flat')) {
    process.stderr.write('usage: node keys.js DIR COUNT [tree|flat] [SUFFIX]\n');
    process.exit(2);
  }
  const started = Date.now();
  writeKeys(dir, { count: Number(count), layout, suffix }).then(
    () => process.stdout.write(`${count} files in ${((Date.now() - started) / 1000).toFixed(1)} s\n`),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
