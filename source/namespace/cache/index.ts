// The cache tier's disk: a directory on a fast local disk, shared by every sluice process of the
// host that names it, holding (all state on disk, as for ROOT):
//
//   local/      cache-only objects (MUST_CACHE; ASYNC_THROUGH until persisted), ROOT's own layout
//   copies/     copies of under-store objects, by key hash (see copies.ts)
//   .sluice/    ledger.json and reservations/ (capacity), locks/, fills/ (read fills running),
//               persist/ (the ASYNC_THROUGH queue), tmp/ (files being filled), users/ (live processes)
import { mkdir, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { INTERNAL_DIR, Layout } from '../layout';
import { FileLocks, isStale } from '../lock';
import { MetadataStore } from '../metadata';
import { PosixStore, type StoreOptions } from '../objects';
import { HOST, isAlive, sweepTempFiles } from '../tmp';
import { CopyStore } from './copies';
import { sweepStaleFills, type FillParts } from './fill';
import { Ledger } from './ledger';
import { CacheBuckets } from './local';

export interface CacheOptions extends StoreOptions {
  dir: string;
  /** Bytes the cache may hold at most (data of copies and cache-only objects). */
  capacity: number;
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
      capacity: options.capacity,
      locks,
      evictable: () => copies.evictable((hash) => locks.tryAcquire(`key.${hash}`)),
    });
    const layout = await Layout.open(join(root, 'local'));
    const localBuckets = new CacheBuckets(layout);
    const local = new PosixStore(layout, localBuckets, new MetadataStore(layout), options);
    const userFile = join(users, `${HOST}.${process.pid}`);
    const disk = new CacheDisk(root, tmp, fills, persistDir, locks, ledger, copies, localBuckets, local, userFile);
    await disk.recover(layout, users);
    return disk;
  }

  /** Removes what dead processes left; recounts the ledger if no other process uses the cache. */
  private async recover(layout: Layout, users: string): Promise<void> {
    let othersAlive = false;
    for (const name of await readdir(users)) {
      const [host, pid] = name.split('.');
      if (host === HOST && Number(pid) === process.pid) continue;
      if (host !== HOST || isAlive(Number(pid))) othersAlive = true;
      else await unlink(join(users, name)).catch(() => undefined);
    }
    await writeFile(this.userFile, '');
    await Promise.all([sweepTempFiles(this.tmp), sweepTempFiles(layout.tmp), sweepStaleFills(this.fills), this.sweepStaleLocks()]);
    await this.local.recoverMoves();
    if (!othersAlive) await this.ledger.reconcile((await this.copies.totalBytes()) + (await bytesBelow(layout.root, layout.internal)));
  }

  private async sweepStaleLocks(): Promise<void> {
    for (const name of await readdir(this.locks.dir)) {
      const path = join(this.locks.dir, name);
      if (await isStale(path)) await rm(path, { force: true });
    }
  }

  /** This process no longer uses the cache (it stops). */
  async close(): Promise<void> {
    await unlink(this.userFile).catch(() => undefined);
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
