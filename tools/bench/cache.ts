// Workload 8, ready for the cache tier (`sluice serve --root UFS --cache-dir DIR --cache-size SIZE`):
// a hot set of 1000 × 64 KiB objects, read again and again with GET (a) through sluice with its
// cache on the fast filesystem (the run's tmpfs) and its root on a slow under store (slowfs.py over
// FUSE), (b) through sluice without a cache on the same slow root, (c) through plain sluice on the
// fast filesystem: today's cost of a GET, to which a hit is compared. Until sluice has --cache-dir,
// only (b) and (c) run, so the slow store is exercised all the same.
import { join } from 'node:path';
import { BUCKET, checkKeys, rotate, writeKeys, type Bench, type KeyRange } from './context';
import { sluiceHasFlag } from './cluster';
import { sizeLabel } from './options';
import { sleep } from './proc';
import { checked, smallLoad } from './requests';
import { startSluice, type Programs } from './servers';
import { fuseUnavailable, mountSlowUfs, type SlowUfs } from './slow-ufs';

interface Variant {
  id: 'cacheHit' | 'cacheUfs' | 'cachePlain';
  what: string;
  root: string;
  flags: string[];
}

export function hotSet(b: Bench): KeyRange {
  return { prefix: `/${BUCKET}/hot/k`, count: b.o.cacheKeys, bytes: b.o.cacheBytes };
}

/** The slow under store at runDir/ufs-slow, or why there is none (then the root is its plain backing directory). */
async function slowStore(b: Bench, backing: string): Promise<SlowUfs | string> {
  const why = fuseUnavailable();
  if (why !== undefined) return why;
  try {
    return await mountSlowUfs(backing, join(b.runDir, 'ufs-slow'), b.o.ufsLatencyMs, b.o.ufsAttrCacheS);
  } catch (err) {
    return (err as Error).message;
  }
}

function variants(b: Bench, hasCache: boolean, slowRoot: string, plainRoot: string, slow: boolean): Variant[] {
  const keys = hotSet(b);
  // Room for twice the hot set, in the size syntax of sluice's flags (MB = 2^20 bytes, as Alluxio).
  const cacheSize = `${Math.ceil((2 * keys.count * keys.bytes) / (1024 * 1024))}MB`;
  const cached: Variant = { id: 'cacheHit', what: '(a) cache', root: slowRoot, flags: ['--cache-dir', join(b.runDir, 'cache-tier'), '--cache-size', cacheSize] };
  return [
    ...(hasCache ? [cached] : []),
    { id: 'cacheUfs', what: slow ? '(b) no cache, slow root' : '(b) no cache, root not slowed', root: slowRoot, flags: [] },
    { id: 'cachePlain', what: '(c) plain, fast root', root: plainRoot, flags: [] },
  ];
}

/** Writes the hot set into a root through a sluice of its own (untimed), so the variants only read. */
async function fill(programs: Programs, root: string, keys: KeyRange): Promise<void> {
  const server = await startSluice(programs, root, { nodeArgs: [], workers: 1 });
  try {
    await server.createBucket(BUCKET);
    await writeKeys(server, keys);
  } finally {
    await server.stop();
  }
}

export async function cache(b: Bench, programs: Programs): Promise<void> {
  const keys = hotSet(b);
  const hasCache = await sluiceHasFlag(programs, '--cache-dir');
  if (!hasCache) {
    const line = 'workload 8: `sluice serve` has no --cache-dir: the server has no cache tier yet; only (b) no cache on the slow root and (c) plain sluice are measured';
    b.record.note(line);
    b.log(`  ${line}`);
  }
  // The hot set goes into the under store's backing directory before the slow store is mounted
  // over it: the store is slow only for what is measured (inodes and mtimes pass through the
  // mount unchanged, so sluice's records stay valid).
  const backing = join(b.runDir, 'ufs-backing');
  const plainRoot = join(b.runDir, 'cache-plain');
  const filling = Date.now();
  for (const root of [backing, plainRoot]) await fill(programs, root, keys);
  b.log(`  hot set of ${keys.count} × ${sizeLabel(keys.bytes)} written into both roots in ${((Date.now() - filling) / 1000).toFixed(1)} s`);
  const store = await slowStore(b, backing);
  const slow = typeof store !== 'string';
  if (!slow) {
    const line = `workload 8: no slow under store (${store}): both paths are measured on one filesystem, and the 5× target is not evaluated`;
    b.record.note(line);
    b.log(`  ! ${line}`);
  } else {
    b.log(`  slow root: slowfs.py over FUSE at ${store.mountpoint}, +${b.o.ufsLatencyMs} ms per lookup, open and read`);
  }
  try {
    for (const v of rotate(variants(b, hasCache, slow ? store.mountpoint : backing, plainRoot, slow), b.round)) {
      const server = await startSluice(programs, v.root, { nodeArgs: [], workers: 1, extra: v.flags });
      try {
        // Before the timed load: through the cache every key is read once (the cache is filled, no
        // miss is timed); elsewhere a sample is checked.
        const all = Array.from({ length: keys.count }, (_, i) => i);
        await checkKeys(server, keys, v.id === 'cacheHit' ? all : all.filter((i) => i % 50 === 7));
        await sleep(500);
        const r = checked(`GET ${v.what}`, await smallLoad(b, server, 'GET', b.o.connections, b.o.loadSeconds, 2, keys));
        b.record.set(v.id, 'sluice', r.opsPerSecond);
        b.log(`  ${v.what}: GET ${Math.round(r.opsPerSecond)}/s (p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms; started in ${server.startupMs.toFixed(0)} ms)`);
      } finally {
        await server.stop();
      }
    }
  } finally {
    if (slow) for (const problem of await store.stop()) b.record.note(`workload 8: ${problem}`);
  }
  const hit = b.record.get('cacheHit', 'sluice');
  const ufs = b.record.get('cacheUfs', 'sluice');
  const plain = b.record.get('cachePlain', 'sluice');
  if (hit !== undefined && ufs !== undefined && slow) b.record.set('cacheSpeedup', 'sluice', hit / ufs);
  if (hit !== undefined && plain !== undefined) b.record.set('cacheHitCost', 'sluice', plain / hit);
  if (ufs !== undefined && plain !== undefined) b.record.set('cacheUfsSlowdown', 'sluice', plain / ufs);
}
