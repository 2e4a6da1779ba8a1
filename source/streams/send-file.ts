// Sending a file range as a response body. Up to SMALL_READ_BYTES, one read and one write that
// carries the headers too. Past that, a read stream would allocate a fresh buffer for every read
// (every fresh megabyte is a few hundred page faults and garbage to collect); here two buffers take
// turns: one is read into while the other drains to the socket, and each is reused once the socket
// has taken all of it.
import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { readAt } from './read-at';

/** Ranges up to this size are read whole into memory and sent with the headers. */
const SMALL_READ_BYTES = 128 * 1024;
const CHUNK_BYTES = 512 * 1024;

const truncated = (): Error => new Error('The object was truncated while it was read.');

/**
 * Writes `length` bytes of `handle` from `start` to `out` and ends it. Rejects when `out` fails or
 * closes early, or the file ends before the range does (before anything is written, if it is small).
 */
export async function sendFileRange(handle: FileHandle, start: number, length: number, out: Writable): Promise<void> {
  if (length <= SMALL_READ_BYTES) {
    const bytes = Buffer.allocUnsafe(length);
    if ((await readAt(handle, bytes, start)) < length) throw truncated();
    // write() then end(), corked: still one write with the headers. end(bytes) would make Node
    // re-encode a Content-Disposition header (it does when end() gives the length), mangling
    // the non-ASCII bytes of a stored value.
    out.cork();
    out.write(bytes);
    out.end();
    out.uncork();
    return;
  }
  const buffers = [Buffer.allocUnsafeSlow(CHUNK_BYTES), Buffer.allocUnsafeSlow(CHUNK_BYTES)];
  const drained: (Promise<void> | undefined)[] = [undefined, undefined];
  // A write's callback may never come once the socket is gone: every wait also ends on 'close'.
  let onClose!: () => void;
  const closed = new Promise<never>((_, reject) => {
    onClose = () =>
      reject(Object.assign(new Error('The connection closed before the object was sent.'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
  });
  closed.catch(() => undefined);
  out.once('close', onClose);
  try {
    let position = start;
    for (let turn = 0; position < start + length; turn ^= 1) {
      await Promise.race([drained[turn], closed]);
      const buffer = buffers[turn]!;
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, start + length - position), position);
      if (bytesRead === 0) throw truncated();
      position += bytesRead;
      drained[turn] = new Promise((resolve, reject) => {
        out.write(buffer.subarray(0, bytesRead), (error) => (error ? reject(error) : resolve()));
      });
      // The promise is awaited on its buffer's next turn; until then a failure must not go unhandled.
      drained[turn]!.catch(() => undefined);
    }
    await Promise.race([Promise.all(drained), closed]);
    out.end();
  } finally {
    out.off('close', onClose);
  }
}
