// Looking at one path for an object's file: what moves.locate and findAt probe with. Each says
// whether the path holds a file (the object), a directory (look inside it), or nothing.
import { constants as fsConstants, type BigIntStats } from 'node:fs';
import { lstat, open, stat, type FileHandle } from 'node:fs/promises';
import { isCode } from '../errors';
import type { Probe } from './moves';

export interface FoundFile {
  path: string;
  stats: BigIntStats;
}

export interface OpenFile extends FoundFile {
  handle: FileHandle;
}

/** A probe's answer as a file: a directory (to look inside) counts as none. */
export const fileOnly = <T>(found: T | 'dir' | undefined): T | undefined => (found === 'dir' ? undefined : found);

/** A path that is not there, or cannot be (a file where a directory would be). */
const isAbsent = (e: unknown): boolean => isCode(e, 'ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP');

async function probeWith(path: string, look: typeof stat): Promise<FoundFile | 'dir' | undefined> {
  const stats = await look(path, { bigint: true }).catch((e: unknown) => {
    if (isAbsent(e)) return undefined;
    throw e;
  });
  if (!stats) return undefined;
  if (stats.isFile()) return { path, stats };
  return stats.isDirectory() ? 'dir' : undefined;
}

/** A regular file at `path`, following links. */
export const statProbe: Probe<FoundFile> = (path) => probeWith(path, stat);

/** Whatever is at `path` that is not a directory (a link counts as itself): what a delete removes. */
export const lstatProbe: Probe<FoundFile> = async (path) => {
  const stats = await lstat(path, { bigint: true }).catch((e: unknown) => {
    if (isAbsent(e)) return undefined;
    throw e;
  });
  if (!stats) return undefined;
  return stats.isDirectory() ? 'dir' : { path, stats };
};

/** A regular file at `path`, its attributes revalidated by an open (NFS's close-to-open), then closed. */
export const openStatProbe: Probe<FoundFile> = async (path) => {
  const found = await openProbe(path);
  if (found === undefined || found === 'dir') return found;
  await found.handle.close();
  return { path: found.path, stats: found.stats };
};

/** The regular file at `path`, opened (the caller closes it). */
export const openProbe: Probe<OpenFile> = async (path) => {
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO planted in the tree must not hang the read (it is then refused as no file).
    handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (e) {
    if (isAbsent(e) || isCode(e, 'EISDIR')) return undefined;
    throw e;
  }
  try {
    const stats = await handle.stat({ bigint: true });
    if (stats.isFile()) return { path, stats, handle };
    await handle.close();
    return stats.isDirectory() ? 'dir' : undefined;
  } catch (e) {
    await handle.close();
    throw e;
  }
};
