// Positioned reads that fill a whole buffer: a read may return less than asked for before the end.
import type { FileHandle } from 'node:fs/promises';

/** Fills `buffer` from `position`; returns the bytes read, fewer only if the file ends first. */
export async function readAt(handle: FileHandle, buffer: Buffer, position: number): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}
