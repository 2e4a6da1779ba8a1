// The file steps of a small object's GET or PUT, run synchronously on a worker thread (small-io.ts):
// one round trip from the event loop instead of the six to ten that the same steps take through
// libuv's pool, each of which wakes the loop. The loop itself never waits on the filesystem; a
// slow filesystem stalls this thread's queue, as it would stall libuv's threads.
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  type BigIntStats,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { isServableIn } from './layout';
import { fileRecordText, recordPathOf } from './record-files';
import {
  STAT_FIELDS,
  type CopyJob,
  type CopyReply,
  type ReadJob,
  type ReadReply,
  type SmallJob,
  type SmallReply,
  type StatValues,
  type UnlinkJob,
  type UnlinkReply,
  type WriteJob,
  type WriteReply,
} from './small-io-jobs';

const valuesOf = (stats: BigIntStats): StatValues => STAT_FIELDS.map((field) => stats[field]);
const codeOf = (e: unknown): string => String((e as NodeJS.ErrnoException).code ?? 'EIO');

/** The regular file at `path`, opened; undefined when there is none, 'dir' for a directory. */
function openFile(path: string): { fd: number; stats: BigIntStats } | 'dir' | undefined {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted in the tree must not hang the thread (it is then no file).
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if (codeOf(e) === 'EISDIR') return 'dir';
    return undefined; // absent, or an error the full path will meet and report
  }
  const stats = fstatSync(fd, { bigint: true });
  if (stats.isFile()) return { fd, stats };
  closeSync(fd);
  return stats.isDirectory() ? 'dir' : undefined;
}

function readWhole(fd: number, size: number): Uint8Array | undefined {
  const data = new Uint8Array(size);
  let filled = 0;
  while (filled < size) {
    const read = readSync(fd, data, filled, size - filled, filled);
    if (read === 0) return undefined; // truncated meanwhile
    filled += read;
  }
  return data;
}

function readRecord(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = Number(fstatSync(fd).size);
    const data = readWhole(fd, size);
    return data && Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The bucket's directory itself (not a link to one), or undefined: the full path then decides. */
function bucketDirectory(path: string): BigIntStats | undefined {
  try {
    const stats = lstatSync(path, { bigint: true });
    return stats.isDirectory() ? stats : undefined;
  } catch {
    return undefined;
  }
}

function read(job: ReadJob): ReadReply {
  const elsewhere: ReadReply = { id: job.id, kind: 'elsewhere' };
  if (!bucketDirectory(job.bucketDir)) return elsewhere;
  let path = job.path;
  let opened = openFile(path);
  if (opened === 'dir') {
    path = join(path, job.nested);
    opened = openFile(path);
  }
  if (opened === undefined || opened === 'dir') return elsewhere;
  const { fd, stats } = opened;
  try {
    if (stats.size > BigInt(job.maxBytes)) return elsewhere;
    const real = realpathSync.native(path);
    if (!isServableIn(job.tree.root, job.tree.internal, real)) return elsewhere;
    const record = readRecord(recordPathOf(job.tree.meta, { ino: stats.ino, versionNs: stats.mtimeNs, directory: false }));
    const data = readWhole(fd, Number(stats.size));
    if (!data) return elsewhere;
    // A version without its record may have been replaced while it was opened: say if it is gone.
    const unlinked = record === undefined && fstatSync(fd, { bigint: true }).nlink === 0n;
    return { id: job.id, kind: 'found', path, stats: valuesOf(stats), ...(record === undefined ? {} : { record }), unlinked, data };
  } finally {
    closeSync(fd);
  }
}

function write(job: WriteJob): WriteReply {
  const bucket = bucketDirectory(job.bucketDir);
  if (!bucket) return { id: job.id, kind: 'failed', code: 'ENOENT' };
  const temp =
    bucket.dev === BigInt(job.tree.tmpDevice)
      ? join(job.tree.tmp, job.tempName)
      : join(dirname(job.target), job.tree.hiddenPrefix + job.tempName);
  let stats: BigIntStats;
  try {
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    try {
      for (let written = 0; written < job.data.length;) written += writeSync(fd, job.data, written);
      stats = fstatSync(fd, { bigint: true });
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    try {
      unlinkSync(temp);
    } catch {
      // never made
    }
    return { id: job.id, kind: 'failed', code: codeOf(e) };
  }
  const recordPath = recordPathOf(job.tree.meta, { ino: stats.ino, versionNs: stats.mtimeNs, directory: false });
  try {
    writeFileSync(recordPath, fileRecordText(stats.ino, stats.size, stats.mtimeNs, job.attributesJson));
  } catch (e) {
    for (const path of [temp, recordPath]) {
      try {
        unlinkSync(path);
      } catch {
        // not there
      }
    }
    return { id: job.id, kind: 'failed', code: codeOf(e) };
  }
  const written: WriteReply = { id: job.id, kind: 'written', temp, stats: valuesOf(stats) };
  try {
    if (job.parent !== undefined && !isServableIn(job.tree.root, job.tree.internal, realpathSync.native(job.parent))) return written;
    let previous: BigIntStats | undefined;
    try {
      previous = lstatSync(job.target, { bigint: true });
    } catch {
      previous = undefined;
    }
    // The key is also a prefix: its object goes inside the directory, which the event loop arranges.
    if (previous?.isDirectory()) return written;
    renameSync(temp, job.target);
    return { id: job.id, kind: 'placed', stats: written.stats, ...(previous?.isFile() ? { previous: valuesOf(previous) } : {}) };
  } catch {
    return written;
  }
}

/** A cache copy (cache/copies.ts checks it is whole and its record's): the copy dir is sluice's own. */
function readCopy(job: CopyJob): CopyReply {
  const elsewhere: CopyReply = { id: job.id, kind: 'elsewhere' };
  const opened = openFile(job.path);
  if (opened === undefined || opened === 'dir') return elsewhere;
  const { fd, stats } = opened;
  try {
    if (stats.size > BigInt(job.maxBytes)) return elsewhere;
    const data = readWhole(fd, Number(stats.size));
    if (!data) return elsewhere;
    const record = readRecord(`${job.path}.json`);
    return { id: job.id, kind: 'copy', stats: valuesOf(stats), ...(record === undefined ? {} : { record }), data };
  } finally {
    closeSync(fd);
  }
}

function unlinkAll(job: UnlinkJob): UnlinkReply {
  for (const path of job.paths) {
    try {
      unlinkSync(path);
    } catch (e) {
      if (codeOf(e) !== 'ENOENT') throw e;
    }
  }
  return { id: job.id, kind: 'unlinked' };
}

function run(job: SmallJob): SmallReply {
  switch (job.kind) {
    case 'read':
      return read(job);
    case 'write':
      return write(job);
    case 'copy':
      return readCopy(job);
    case 'unlink':
      return unlinkAll(job);
  }
}

parentPort!.on('message', (job: SmallJob) => {
  const started = performance.now();
  let reply: SmallReply;
  try {
    reply = run(job);
  } catch (e) {
    reply = { id: job.id, kind: 'error', message: e instanceof Error ? e.message : String(e) };
  }
  const transfer = reply.kind === 'found' || reply.kind === 'copy' ? [reply.data.buffer as ArrayBuffer] : [];
  reply.ms = performance.now() - started;
  parentPort!.postMessage(reply, transfer);
});
