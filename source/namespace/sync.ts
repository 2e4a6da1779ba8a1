// Durability under --fsync: a rename is on disk only once its directory is synced (and a change of
// a file's own times, such as a move's sequence number, once the file is).
import { open } from 'node:fs/promises';

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Opening and syncing works for a file as for a directory. */
export const syncFile = syncDirectory;
