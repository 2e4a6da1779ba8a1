// Temp files: written in full, then renamed into place, so readers never see a torn object.
import { randomBytes } from 'node:crypto';
import { lstat, readdir, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isCode } from '../errors';

/** Files beside their target (a bucket on another device) carry this prefix and are never listed. */
export const HIDDEN_TEMP_PREFIX = '.sluice-tmp.';

export const HOST = hostname().replace(/[^A-Za-z0-9_-]/g, '_');

// Random per process, then counted: unique without asking the kernel for entropy on every write.
const SUFFIX_PREFIX = randomBytes(6).toString('base64url');
let suffixCounter = 0;

export function uniqueSuffix(): string {
  return `${SUFFIX_PREFIX}${(suffixCounter++).toString(36)}`;
}

/** A temp file name that says which host and process wrote it, so a restart can sweep its own. */
export function tempName(): string {
  return `${HOST}.${process.pid}.${uniqueSuffix()}`;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isCode(e, 'EPERM');
  }
}

/**
 * Removes temp files left by dead processes of this host, and any older than a day (another
 * host's crash). Files of live processes, here or elsewhere, are left alone.
 */
export async function sweepTempFiles(tmpDir: string, maxAgeMs = 86_400_000): Promise<number> {
  let removed = 0;
  for (const name of await readdir(tmpDir)) {
    const [host, pid] = name.split('.');
    const path = join(tmpDir, name);
    const mine = host === HOST && pid !== undefined && /^\d+$/.test(pid);
    let stale = mine && Number(pid) !== process.pid && !isAlive(Number(pid));
    if (!stale) {
      const stats = await lstat(path).catch(() => undefined);
      stale = stats !== undefined && Date.now() - stats.mtimeMs > maxAgeMs;
    }
    if (stale && (await unlink(path).then(() => true, () => false))) removed++;
  }
  return removed;
}
