// Small objects' file steps in one round trip (small-io-worker.ts does them): a 4 KiB GET or PUT
// is otherwise six to ten trips through libuv's thread pool, each waking the event loop, and that
// (not the bytes) is what a small request costs under load. The thread starts under load and never
// keeps the process alive; a thread that dies fails its jobs, and the callers take the full path.
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  STAT_FIELDS,
  type CopyReply,
  type ReadReply,
  type SmallJob,
  type SmallReply,
  type StatValues,
  type Tree,
  type WriteReply,
} from './small-io-jobs';

/** Objects up to this size are read and written whole by a small-io thread. */
export const SMALL_OBJECT_BYTES = 128 * 1024;

type Pending = { resolve: (reply: SmallReply) => void; reject: (error: Error) => void };

/** Distributes the job shapes over the union without their id, which the pool assigns. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/**
 * A thread whose jobs take this long each (on average, as it times them) waits on a slow disk:
 * further jobs go the full way, where libuv's four threads wait side by side. Jobs on a fast disk
 * or the page cache take tens of microseconds, and a millisecond or two on a loaded machine (the
 * thread waits for a core then, and the full path, costlier, would not help).
 */
const SLOW_JOB_MS = 5;
/** The thread, idle this long, ends: it holds about 10 MB. */
const IDLE_MS = 5_000;
/**
 * The thread starts when this many small jobs come within BUSY_WINDOW_MS (200 a second): below
 * that, a request's trips through libuv's pool cost less than the thread's memory is worth, and a
 * sidecar at rest or serving a trickle stays one thread of ~57 MB.
 */
const BUSY_JOBS = 20;
const BUSY_WINDOW_MS = 100;

/** Why a job was not taken: the caller takes the full path (no stack: declining is routine). */
const DECLINED = Object.assign(Object.create(Error.prototype) as Error, { message: 'The small-io thread declined the job.' });

class SmallIoThread {
  readonly pending = new Map<number, Pending>();
  private readonly worker: Worker;
  private idle: NodeJS.Timeout | undefined;
  /** How long its recent jobs took, a moving average (ms). */
  private jobMs = 0;
  dead = false;

  constructor(private readonly onDeath: () => void) {
    // Its heap holds one job's messages at a time: a small one keeps the thread to a few MB.
    this.worker = new Worker(join(__dirname, 'small-io-worker.js'), {
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 8 },
    });
    this.worker.unref();
    this.worker.on('message', (reply: SmallReply) => {
      const job = this.pending.get(reply.id);
      if (!job) return;
      this.pending.delete(reply.id);
      this.jobMs = 0.8 * this.jobMs + 0.2 * (reply.ms ?? 0);
      if (this.pending.size === 0) {
        this.worker.unref();
        this.idle = setTimeout(() => {
          this.die(new Error('The small-io thread ended, idle.'));
          void this.worker.terminate();
        }, IDLE_MS).unref();
      }
      job.resolve(reply);
    });
    this.worker.on('error', (error) => this.die(error));
    this.worker.on('exit', (code) => this.die(new Error(`The small-io worker exited with code ${code}.`)));
  }

  /** Busy, on jobs that wait on the filesystem (or for a core). */
  get stalled(): boolean {
    return this.pending.size > 0 && this.jobMs > SLOW_JOB_MS;
  }

  run(job: SmallJob, transfer: ArrayBuffer[]): Promise<SmallReply> {
    return new Promise((resolve, reject) => {
      if (this.dead) {
        reject(new Error('The small-io worker is gone.'));
        return;
      }
      if (this.pending.size === 0) {
        clearTimeout(this.idle);
        this.worker.ref();
      }
      this.pending.set(job.id, { resolve, reject });
      this.worker.postMessage(job, transfer);
    });
  }

  private die(error: Error): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.idle);
    this.onDeath();
    for (const job of this.pending.values()) job.reject(error);
    this.pending.clear();
  }
}

/**
 * One thread, started when small jobs come fast and ended when they stop. A job it declines (the
 * thread not started, or stalled) rejects at once, and the caller takes the full path: one thread
 * keeps up with a fast disk, and a slow one is better waited on by libuv's pool than queued here.
 */
export class SmallIo {
  private thread: SmallIoThread | undefined;
  private nextId = 1;
  private windowStart = 0;
  private jobsInWindow = 0;

  /** The object at `path` (or nested inside it as `nested`) with its record and bytes, if it is at most `maxBytes`. */
  async read(tree: Tree, bucketDir: string, path: string, nested: string, maxBytes: number): Promise<ReadReply> {
    const reply = await this.run({ kind: 'read', tree, bucketDir, path, nested, maxBytes }, []);
    return reply.kind === 'found' || reply.kind === 'elsewhere' ? reply : { id: reply.id, kind: 'elsewhere' };
  }

  /** Writes a new version (see WriteJob); `data` is handed over and must not be used again. */
  async write(
    tree: Tree,
    where: { bucketDir: string; tempName: string; target: string; parent?: string | undefined },
    data: Uint8Array,
    attributesJson: string,
  ): Promise<WriteReply> {
    const reply = await this.run({ kind: 'write', tree, ...where, data, attributesJson }, [
      data.buffer as ArrayBuffer,
    ]);
    return reply.kind === 'placed' || reply.kind === 'written' || reply.kind === 'failed'
      ? reply
      : { id: reply.id, kind: 'failed', code: 'EIO' };
  }

  /** The cache copy at `path` and its record's text, if it is a file of at most `maxBytes`. */
  async readCopy(path: string, maxBytes: number): Promise<CopyReply> {
    const reply = await this.run({ kind: 'copy', path, maxBytes }, []);
    return reply.kind === 'copy' || reply.kind === 'elsewhere' ? reply : { id: reply.id, kind: 'elsewhere' };
  }

  /** Removes the files at `paths` (absent ones too); rejects if any other error stopped it. */
  async unlink(paths: string[]): Promise<void> {
    const reply = await this.run({ kind: 'unlink', paths }, []);
    if (reply.kind !== 'unlinked') throw new Error(reply.kind === 'error' ? reply.message : 'The small-io worker did not unlink.');
  }

  private run(job: WithoutId<SmallJob>, transfer: ArrayBuffer[]): Promise<SmallReply> {
    const now = performance.now();
    if (now - this.windowStart > BUSY_WINDOW_MS) {
      this.windowStart = now;
      this.jobsInWindow = 0;
    }
    this.jobsInWindow++;
    if (!this.thread && this.jobsInWindow >= BUSY_JOBS) this.thread = new SmallIoThread(() => (this.thread = undefined));
    if (!this.thread || this.thread.stalled) return Promise.reject(DECLINED);
    return this.thread.run({ ...job, id: this.nextId++ } as SmallJob, transfer);
  }
}

/** The process's pool, shared by every store. */
export const smallIo = new SmallIo();

/** A BigIntStats rebuilt from the values a small-io thread sent. */
export function statsOf(values: StatValues): BigIntStats {
  const stats = Object.create(STATS_PROTOTYPE) as Record<string, unknown>;
  STAT_FIELDS.forEach((field, i) => (stats[field] = values[i]));
  for (const time of ['atime', 'mtime', 'ctime', 'birthtime'] as const) {
    const ns = values[STAT_FIELDS.indexOf(`${time}Ns`)]!;
    stats[`${time}Ms`] = ns / 1_000_000n;
    stats[time] = new Date(Number(ns / 1_000_000n));
  }
  return stats as unknown as BigIntStats;
}

/** isFile(), isDirectory() and the rest, which read the file type from `mode`, as Node's own BigIntStats do. */
const FILE_TYPES = {
  isFile: 0o100000n,
  isDirectory: 0o040000n,
  isSymbolicLink: 0o120000n,
  isFIFO: 0o010000n,
  isSocket: 0o140000n,
  isBlockDevice: 0o060000n,
  isCharacterDevice: 0o020000n,
};
const STATS_PROTOTYPE = Object.fromEntries(
  Object.entries(FILE_TYPES).map(([name, type]) => [
    name,
    function (this: { mode: bigint }): boolean {
      return (this.mode & 0o170000n) === type;
    },
  ]),
);
