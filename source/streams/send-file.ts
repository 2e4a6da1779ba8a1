// Sending a file range to a socket. A read stream allocates a fresh buffer for every read, and
// every fresh megabyte is a few hundred page faults and garbage to collect; here two buffers take
// turns: one is read into while the other drains to the socket, and each is reused once the
// socket has taken all of it.
import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

const CHUNK_BYTES = 512 * 1024;

/**
 * Writes `length` bytes of `handle` from `start` to `out`, without ending `out`. Rejects when
 * `out` fails or closes early, or the file ends before the range does.
 */
export async function sendFileRange(handle: FileHandle, start: number, length: number, out: Writable): Promise<void> {
  const buffers = [Buffer.allocUnsafeSlow(Math.min(CHUNK_BYTES, length)), Buffer.allocUnsafeSlow(Math.min(CHUNK_BYTES, length))];
  const drained: (Promise<void> | undefined)[] = [undefined, undefined];
  // A write's callback may never come once the socket is gone: every wait also ends on 'close'.
  let onClose!: () => void;
  const closed = new Promise<never>((_, reject) => {
    onClose = () => reject(Object.assign(new Error('The connection closed before the object was sent.'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
  });
  closed.catch(() => undefined);
  out.once('close', onClose);
  try {
    let position = start;
    for (let turn = 0; position < start + length; turn ^= 1) {
      await Promise.race([drained[turn], closed]);
      const buffer = buffers[turn]!;
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, start + length - position), position);
      if (bytesRead === 0) throw new Error('The object was truncated while it was read.');
      position += bytesRead;
      drained[turn] = new Promise((resolve, reject) => {
        out.write(buffer.subarray(0, bytesRead), (error) => (error ? reject(error) : resolve()));
      });
      // The promise is awaited on its buffer's next turn; until then a failure must not go unhandled.
      drained[turn]!.catch(() => undefined);
    }
    await Promise.race([Promise.all(drained), closed]);
  } finally {
    out.off('close', onClose);
  }
}
