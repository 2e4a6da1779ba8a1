// Helpers of the cache-tier suites: a sluice with a cache dir, and looks into that dir.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startSluice, tempDir, type Sluice, type StartOptions } from './harness';

/** A temp dir that is removed when the test ends. */
export function scratchDir(t: { teardown(fn: () => void): void }, prefix = 'sluice-test-'): string {
  const dir = tempDir(prefix);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface CachedSluice extends Sluice {
  cacheDir: string;
}

/** A sluice serving `root` (a fresh one by default) with a cache dir (fresh by default) of `size`. */
export async function startCached(
  options: { writeType?: string; deleteType?: string; size?: string; cacheDir?: string; args?: string[] } & Omit<StartOptions, 'args'> = {},
): Promise<CachedSluice> {
  const cacheDir = options.cacheDir ?? tempDir('sluice-cache-');
  const args = [
    '--cache-dir',
    cacheDir,
    '--cache-size',
    options.size ?? '64MB',
    ...(options.writeType ? ['--write-type', options.writeType] : []),
    ...(options.deleteType ? ['--delete-type', options.deleteType] : []),
    ...(options.args ?? []),
  ];
  const server = await startSluice({ ...options, args });
  // A cache dir made here goes with the server; one given is the test's to remove.
  const stop = async (): Promise<void> => {
    await server.stop();
    if (options.cacheDir === undefined) rmSync(cacheDir, { recursive: true, force: true });
  };
  return { ...server, cacheDir, stop };
}

/** Where the cache keeps its copy of a key (a hash of its path below ROOT, see namespace/cache/copies.ts). */
export function copyPath(cacheDir: string, bucket: string, key: string): string {
  const hash = createHash('sha256').update(`${bucket.split(':').join('/')}/${key}`).digest('hex').slice(0, 40);
  return join(cacheDir, 'copies', hash.slice(0, 2), hash);
}

export function hasCopy(cacheDir: string, bucket: string, key: string): boolean {
  return existsSync(copyPath(cacheDir, bucket, key));
}

/** Where a cache-only object's bytes are. */
export function localPath(cacheDir: string, bucket: string, key: string): string {
  return join(cacheDir, 'local', bucket, ...key.split('/'));
}

/** Bytes of every data file the cache holds: copies and cache-only objects. */
export function cacheBytes(cacheDir: string): number {
  let total = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === '.sluice') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && !entry.name.endsWith('.json')) total += statSync(path).size;
    }
  };
  walk(join(cacheDir, 'copies'));
  walk(join(cacheDir, 'local'));
  return total;
}

/** What the cache's ledger says is used. */
export function ledgerUsed(cacheDir: string): number {
  return (JSON.parse(readFileSync(join(cacheDir, '.sluice', 'ledger.json'), 'utf8')) as { used: number }).used;
}

/** Jobs waiting in the persist queue (ASYNC_THROUGH). */
export function persistJobs(cacheDir: string): string[] {
  return readdirSync(join(cacheDir, '.sluice', 'persist')).filter((n) => n.includes('.job'));
}
