// Assembling a new object from the files of its parts (CompleteMultipartUpload). `cat` copies
// file to file inside the kernel (copy_file_range): measured here at about 3x the speed of
// streaming the bytes through Node, with no memory cost. Where no `cat` runs, a stream stands in.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, fstat } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';

const fstatAsync = promisify(fstat);

/**
 * Writes a new file's bytes some other way than through a stream: given the open descriptor of
 * the temp file, it fills it.
 */
export type FileFiller = (fd: number) => Promise<void>;

/** Creates `path` (it must not exist) and lets `fill` write it; fsyncs it if asked. */
export async function fillFile(path: string, fill: FileFiller, fsync: boolean): Promise<void> {
  const handle = await open(path, 'wx', 0o644);
  try {
    await fill(handle.fd);
    if (fsync) await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface PartFile {
  path: string;
  size: number;
}

/** The bytes of `parts` in order, as `ObjectStore.write` takes them. */
export function partsContent(parts: PartFile[]): Readable | FileFiller {
  return canUseCat() ? catInto(parts) : Readable.from(concatenate(parts), { objectMode: false });
}

/**
 * The parts' bytes in order. 512 KiB reads measured best here: smaller ones cost more hops to the
 * thread pool, larger ones more kernel time (fresh, cache-cold buffers) and more memory.
 */
async function* concatenate(parts: PartFile[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    for await (const chunk of createReadStream(part.path, { highWaterMark: 512 << 10 })) yield chunk as Buffer;
  }
}

/**
 * Fills the file by `cat`. Batches keep the argument list short; they share the descriptor, so
 * each one continues where the previous ended.
 */
function catInto(parts: PartFile[]): FileFiller {
  return async (fd) => {
    for (let i = 0; i < parts.length; i += 256) {
      const batch = parts.slice(i, i + 256).map((p) => p.path);
      const child = spawn('cat', ['--', ...batch], { stdio: ['ignore', fd, 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const [code] = (await once(child, 'close')) as [number | null];
      if (code !== 0) {
        const error: NodeJS.ErrnoException = new Error(`cat failed: ${stderr.trim()}`);
        if (/No space left|quota/i.test(stderr)) error.code = 'ENOSPC';
        throw error;
      }
    }
    // A part changed under us (it never should: the upload is claimed) must not pass unnoticed.
    const expected = parts.reduce((sum, p) => sum + p.size, 0);
    const { size } = await fstatAsync(fd);
    if (size !== expected) throw new Error(`assembled ${size} bytes, expected ${expected}`);
  };
}

let catWorks: boolean | undefined;

/** True where a `cat` can be run (every POSIX system). Asked once, at the first assembly. */
function canUseCat(): boolean {
  catWorks ??= spawnSync('cat', ['/dev/null']).status === 0;
  return catWorks;
}

/** Bounds how many assemblies run at once in this process (Alluxio's complete pool size). */
export class AssemblyPool {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  /** Waits for a free slot; returns the function that frees it. */
  async acquire(): Promise<() => void> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    return () => {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    };
  }
}
