// Temp files: written in full, then renamed into place, so readers never see a torn object.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isCode } from '../errors';
import { counter } from '../metrics';

/** Files beside their target (a bucket on another device) carry this prefix and are never listed. */
export const HIDDEN_TEMP_PREFIX = '.sluice-tmp.';

export const HOST = hostname().replace(/[^A-Za-z0-9_-]/g, '_');

// Random per process, then counted: unique without asking the kernel for entropy on every write.
const SUFFIX_PREFIX = randomBytes(6).toString('base64url');
let suffixCounter = 0;

export function uniqueSuffix(): string {
  return `${SUFFIX_PREFIX}${(suffixCounter++).toString(36)}`;
}

/**
 * When a process started (clock ticks since boot, /proc/<pid>/stat's 22nd field), or undefined
 * where there is no /proc. Read synchronously: procfs is kernel memory, not a disk that could stall.
 */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * This process as names and lock files record it: its pid and when it started. A pid alone is
 * reused, and in a container it is the same after every restart (1): a process that died would
 * pass for the one that replaced it, and what it left would never be swept.
 */
export const PROCESS_ID = `${process.pid}-${startTimeOf(process.pid) ?? '0'}`;

/** True while the process that recorded `id` (PROCESS_ID, or a bare pid) runs on this host. */
export function isLiveProcess(id: string): boolean {
  const [pidText, start] = id.split('-');
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !isAlive(pid)) return false;
  if (start === undefined || start === '0') return true;
  const now = startTimeOf(pid);
  return now === undefined || now === start;
}

/** A temp file name that says which host and process wrote it, so a restart can sweep its own. */
export function tempName(): string {
  return `${HOST}.${PROCESS_ID}.${uniqueSuffix()}`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isCode(e, 'EPERM');
  }
}

/** Who made an entry named by `tempName()`: this process, another live one, a dead one, or another host's. */
export function ownerOf(name: string): 'self' | 'alive' | 'dead' | 'foreign' {
  const [host, id] = name.split('.');
  if (host !== HOST || id === undefined || !/^\d+(-\d+)?$/.test(id)) return 'foreign';
  if (id === PROCESS_ID) return 'self';
  return isLiveProcess(id) ? 'alive' : 'dead';
}

const tempEntriesSwept = counter('sluice_temp_files_swept_total', 'Temp files and folders of dead processes removed from .sluice/tmp');

export interface SweepOptions {
  /** Also look at the age of other hosts' entries (a stat each: not on every sweep of a shared filesystem). */
  foreign?: boolean;
  /** Remove this process's own entries too: it is stopping, and nothing of it is in flight any more. */
  own?: boolean;
  maxAgeMs?: number;
}

/**
 * Removes what dead processes of this host left in the temp folder (files being written, staging
 * folders of CreateMultipartUpload) and, with `foreign`, any entry older than a day (another
 * host's crash). Entries of live processes, here or elsewhere, are left alone; how many of this
 * host's were, is returned too (a crashed primary's workers may be finishing).
 */
export async function sweepTempFiles(tmpDir: string, options: SweepOptions = {}): Promise<{ removed: number; alive: number }> {
  const { foreign = true, own = false, maxAgeMs = 86_400_000 } = options;
  let removed = 0;
  let alive = 0;
  for (const name of await readdir(tmpDir)) {
    const path = join(tmpDir, name);
    const owner = ownerOf(name);
    let stale = owner === 'dead' || (own && owner === 'self');
    if (owner === 'alive') alive++;
    if (!stale && foreign && owner === 'foreign') {
      const stats = await lstat(path).catch(() => undefined);
      stale = stats !== undefined && Date.now() - stats.mtimeMs > maxAgeMs;
    }
    if (stale && (await rm(path, { recursive: true, force: true }).then(() => true, () => false))) removed++;
  }
  tempEntriesSwept.inc(removed);
  return { removed, alive };
}
