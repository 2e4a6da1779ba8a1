// The bytes of an object that is a local file, read through its open handle: the version that
// was opened is the one read, whatever replaces the file meanwhile.
import type { FileHandle } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { FILE_IO_BYTES } from '../streams/buffer-sizes';
import { sendFileRange } from '../streams/send-file';
import type { ObjectBody } from './store';

export class FileBody implements ObjectBody {
  private handle: FileHandle | undefined;

  constructor(handle: FileHandle) {
    this.handle = handle;
  }

  sendRange(start: number, length: number, out: Writable): Promise<void> {
    if (length === 0) {
      out.end();
      return Promise.resolve();
    }
    return sendFileRange(this.live(), start, length, out);
  }

  stream(start: number, length: number): Readable {
    if (length === 0) return Readable.from([]);
    const handle = this.live();
    this.handle = undefined; // the stream closes it
    return handle.createReadStream({ start, end: start + length - 1, highWaterMark: FILE_IO_BYTES, autoClose: true });
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  private live(): FileHandle {
    if (!this.handle) throw new Error('The object body was read or closed already.');
    return this.handle;
  }
}

/** The bytes of a small object read whole when it was opened (small-io.ts): the version opened, as with a handle. */
export class BufferBody implements ObjectBody {
  constructor(private readonly bytes: Buffer) {}

  sendRange(start: number, length: number, out: Writable): Promise<void> {
    // As sendFileRange sends a small range: one write with the headers, then end (not end(bytes),
    // which would make Node re-encode a Content-Disposition header).
    out.cork();
    if (length > 0) out.write(this.bytes.subarray(start, start + length));
    out.end();
    out.uncork();
    return Promise.resolve();
  }

  stream(start: number, length: number): Readable {
    return Readable.from(length === 0 ? [] : [this.bytes.subarray(start, start + length)]);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
