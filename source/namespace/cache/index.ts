// The cache tier's disk: a directory on a fast local disk, shared by every sluice process of the
// host that names it, holding (all state on disk, as for ROOT):
//
//   local/      cache-only objects (MUST_CACHE; ASYNC_THROUGH until persisted), ROOT's own layout
//   copies/     copies of under-store objects, by key hash (see copies.ts)
//   .sluice/    ledger.json and reservations/ (capacity), locks/, fills/ (read fills running),
//               persist/ (the ASYNC_THROUGH queue), tmp/ (files being filled), users/ (live processes)
import { mkdir, readFile, readdir, rm, stat, statfs, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { INTERNAL_DIR, Layout } from '../layout';
import { FileLocks, isStale } from '../lock';
import { MetadataStore } from '../metadata';
import type { BucketName, ObjectKey } from '../names';
import { PosixStore, type StoreOptions } from '../objects';
import { HOST, PROCESS_ID, isLiveProcess, sweepTempFiles } from '../tmp';
import { CopyStore, keyHash, keyLockName } from './copies';
import { sweepStaleFills, type FillParts } from './fill';
import { Ledger } from './ledger';
import { CacheBuckets } from './local';

export interface CacheOptions extends StoreOptions {
  dir: string;
  /**
   * Bytes the cache may hold at most (data of copies and cache-only objects). Undefined: the size
   * chosen when the cache was first used, kept in `.sluice/capacity`, else 80% of what its disk
   * has free plus what the cache holds (so that every restart, and every process, agree on it).
   */
  capacity: number | undefined;
}

export class CacheDisk implements FillParts {
  private constructor(
    readonly root: string,
    readonly tmp: string,
    readonly fills: string,
    readonly persistDir: string,
    readonly locks: FileLocks,
    readonly ledger: Ledger,
    readonly copies: CopyStore,
    readonly localBuckets: CacheBuckets,
    /** The cache-only objects. */
    readonly local: PosixStore,
    private readonly userFile: string,
  ) {}

  static async open(options: CacheOptions): Promise<CacheDisk> {
    await mkdir(options.dir, { recursive: true });
    const root = resolve(options.dir);
    const state = join(root, INTERNAL_DIR);
    const dirs = ['tmp', 'fills', 'locks', 'persist', 'reservations', 'users'].map((d) => join(state, d));
    await Promise.all(dirs.map((d) => mkdir(d, { recursive: true })));
    const [tmp, fills, lockDir, persistDir, , users] = dirs as [string, string, string, string, string, string];
    const locks = new FileLocks(lockDir);
    const copies = await CopyStore.open(join(root, 'copies'));
    const ledger = new Ledger({
      dir: state,
      capacity: await capacityOf(root, state, options.capacity),
      locks,
      evictable: () => copies.evictable((hash) => locks.tryAcquire(keyLockName(hash))),
    });
    const layout = await Layout.open(join(root, 'local'));
    const localBuckets = new CacheBuckets(layout);
    const local = new PosixStore(layout, localBuckets, new MetadataStore(layout), options);
    const userFile = join(users, `${HOST}.${PROCESS_ID}`);
    const disk = new CacheDisk(root, tmp, fills, persistDir, locks, ledger, copies, localBuckets, local, userFile);
    await disk.recover(layout, users);
    return disk;
  }

  /**
   * Removes what dead processes left, and recounts the ledger if no other process uses the cache.
   * Processes starting together take turns (the recovery lock): the first, alone, recounts; the
   * others find it alive and trust the ledger.
   */
  private async recover(layout: Layout, users: string): Promise<void> {
    const release = await this.locks.acquire('recovery');
    try {
      let othersAlive = false;
      for (const name of await readdir(users)) {
        const [host, id] = name.split('.');
        if (host === HOST && id === PROCESS_ID) continue;
        if (host !== HOST || isLiveProcess(id ?? '')) othersAlive = true;
        else await unlink(join(users, name)).catch(() => undefined);
      }
      await writeFile(this.userFile, '');
      await Promise.all([
        sweepTempFiles(this.tmp),
        sweepTempFiles(layout.tmp),
        sweepStaleFills(this.fills),
        this.sweepStaleLocks(),
        sweepAbandoned(this.root),
      ]);
      await this.local.recoverMoves();
      const count = async (): Promise<number> => (await this.copies.totalBytes()) + (await bytesBelow(layout.root, layout.internal));
      if (!othersAlive) await this.ledger.reconcile(count);
    } finally {
      await release();
    }
  }

  private async sweepStaleLocks(): Promise<void> {
    for (const name of await readdir(this.locks.dir)) {
      const path = join(this.locks.dir, name);
      if (await isStale(path)) await rm(path, { force: true });
    }
  }

  /** The key's lock, held while what the cache has of the key (its cache-only version, its copy) changes. */
  lockKey(bucket: BucketName, key: ObjectKey): Promise<() => Promise<void>> {
    return this.locks.acquire(keyLockName(keyHash(bucket, key)));
  }

  /** The key's copy goes (only the one with data file `ino`, if named), and its space. Key lock held. */
  async removeCopyLocked(bucket: BucketName, key: ObjectKey, ino?: string): Promise<void> {
    await this.ledger.forget(await this.copies.remove(bucket, key, ino));
  }

  /** This process no longer uses the cache (it stops). */
  async close(): Promise<void> {
    await unlink(this.userFile).catch(() => undefined);
  }
}

async function capacityOf(root: string, state: string, requested: number | undefined): Promise<number> {
  const file = join(state, 'capacity');
  if (requested !== undefined) {
    await writeFile(file, String(requested));
    return requested;
  }
  const kept = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (Number.isSafeInteger(kept) && kept > 0) return kept;
  const [fs, used] = await Promise.all([statfs(root), readFile(join(state, 'ledger.json'), 'utf8').catch(() => '{}')]);
  let held = 0;
  try {
    held = Number((JSON.parse(used) as { used?: unknown }).used) || 0;
  } catch {
    // a torn ledger: counted as empty, recounted by recovery
  }
  const capacity = Math.floor((fs.bavail * fs.bsize + held) * 0.8);
  await writeFile(file, String(capacity));
  return capacity;
}

/** Half-written records and queue entries (`*.json.<suffix>`, `.*.tmp`) left by a crash, an hour on. */
async function sweepAbandoned(root: string): Promise<void> {
  const copies = (await readdir(join(root, 'copies'))).map((d) => join(root, 'copies', d));
  const dirs = [join(root, INTERNAL_DIR), join(root, INTERNAL_DIR, 'persist'), ...copies];
  for (const dir of dirs) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!/\.json\.[A-Za-z0-9_-]+$|^\..*\.tmp$/.test(name)) continue;
      const stats = await stat(join(dir, name)).catch(() => undefined);
      if (stats && Date.now() - stats.mtimeMs > 3_600_000) await unlink(join(dir, name)).catch(() => undefined);
    }
  }
}

/** Bytes of the files below `dir`, leaving out `skip`. */
async function bytesBelow(dir: string, skip: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (path === skip) continue;
    if (entry.isDirectory()) total += await bytesBelow(path, skip);
    else if (entry.isFile()) total += (await stat(path).catch(() => undefined))?.size ?? 0;
  }
  return total;
}
