// Hashing off the event loop. MD5 runs at about the speed of the disk, so hashing a big body on
// the event loop halves a PUT's rate and stalls every other request behind each update. Bodies
// past a few hundred KiB are instead copied in batches to worker threads, which hash while the
// event loop goes on writing the same bytes to disk. Each job keeps a few batches in flight at
// most: that bounds its memory, and a slow hash slows the body's reading (backpressure).
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ChecksumAlgorithm, Digests } from './checksums';

/** Bytes copied per message to a worker. */
const BATCH_BYTES = 256 * 1024;
/**
 * Batches of one job handed over and not yet hashed, before its writer must wait (checked after
 * each chunk, so a chunk may add one or two more).
 */
const MAX_IN_FLIGHT = 3;

export type HashRequest =
  | { kind: 'open'; job: number; algorithms: ChecksumAlgorithm[] }
  | { kind: 'data'; job: number; buffer: ArrayBuffer; length: number }
  | { kind: 'end'; job: number }
  | { kind: 'drop'; job: number };

export type HashReply =
  | { kind: 'ack'; job: number; buffer: ArrayBuffer }
  | { kind: 'digests'; job: number; md5: Uint8Array; checksums: [ChecksumAlgorithm, Uint8Array][] };

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** One worker thread and the jobs it holds. Referenced only while it has jobs, so it never keeps a process alive. */
class HashThread {
  readonly jobs = new Map<number, OffloadedHash>();
  private readonly worker: Worker;
  dead = false;

  constructor(private readonly onDeath: (thread: HashThread) => void) {
    this.worker = new Worker(join(__dirname, 'hash-worker.js'));
    this.worker.unref();
    this.worker.on('message', (reply: HashReply) => this.jobs.get(reply.job)?.receive(reply));
    this.worker.on('error', (error) => this.die(error));
    this.worker.on('exit', (code) => this.die(new Error(`The hash worker exited with code ${code}.`)));
  }

  post(request: HashRequest, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(request, transfer);
  }

  attach(job: OffloadedHash): void {
    if (this.jobs.size === 0) this.worker.ref();
    this.jobs.set(job.id, job);
  }

  detach(job: OffloadedHash): void {
    if (this.jobs.delete(job.id) && this.jobs.size === 0) this.worker.unref();
  }

  private die(error: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.onDeath(this);
    for (const job of [...this.jobs.values()]) job.fail(error);
    this.jobs.clear();
  }
}

export class HashPool {
  private readonly threads: HashThread[] = [];
  private nextJob = 1;
  private size = 1;

  constructor(size: number) {
    this.resize(size);
  }

  /** Sets how many threads may be started (those already running stay). */
  resize(size: number): void {
    this.size = Math.max(1, size);
  }

  /** Starts hashing a body in a worker (started on first use; the least busy one). */
  start(algorithms: readonly ChecksumAlgorithm[]): OffloadedHash {
    let thread = this.threads.reduce<HashThread | undefined>((best, t) => (best && best.jobs.size <= t.jobs.size ? best : t), undefined);
    if (!thread || (thread.jobs.size > 0 && this.threads.length < this.size)) {
      thread = new HashThread((dead) => this.threads.splice(this.threads.indexOf(dead), 1));
      this.threads.push(thread);
    }
    return new OffloadedHash(thread, this.nextJob++, algorithms);
  }
}

/** The hashing of one body in a worker thread. */
export class OffloadedHash {
  private batch: Buffer | undefined;
  private filled = 0;
  private inFlight = 0;
  private readonly spare: Buffer[] = [];
  private waiting: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private result: { resolve: (digests: Digests) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly thread: HashThread,
    readonly id: number,
    algorithms: readonly ChecksumAlgorithm[],
  ) {
    thread.attach(this);
    thread.post({ kind: 'open', job: id, algorithms: [...algorithms] });
  }

  /** Hands `chunk` over (by copy). Returns a promise when the caller must wait before the next update. */
  update(chunk: Buffer): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure);
    for (let offset = 0; offset < chunk.length;) {
      this.batch ??= this.spare.pop() ?? Buffer.allocUnsafeSlow(BATCH_BYTES);
      const copied = chunk.copy(this.batch, this.filled, offset);
      this.filled += copied;
      offset += copied;
      if (this.filled === BATCH_BYTES) this.send();
    }
    if (this.inFlight < MAX_IN_FLIGHT) return undefined;
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  /** Hands over the rest and resolves with the digests of every byte. */
  finish(): Promise<Digests> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.filled > 0) this.send();
    this.batch = undefined;
    this.spare.length = 0;
    return new Promise((resolve, reject) => {
      this.result = { resolve, reject };
      this.thread.post({ kind: 'end', job: this.id });
    });
  }

  /** Gives up the job (its body failed): the worker forgets it. */
  abandon(): void {
    if (!this.thread.jobs.has(this.id)) return;
    this.thread.detach(this);
    if (!this.thread.dead) this.thread.post({ kind: 'drop', job: this.id });
  }

  private send(): void {
    const batch = this.batch!;
    this.thread.post({ kind: 'data', job: this.id, buffer: batch.buffer as ArrayBuffer, length: this.filled }, [
      batch.buffer as ArrayBuffer,
    ]);
    this.batch = undefined;
    this.filled = 0;
    this.inFlight++;
  }

  receive(reply: HashReply): void {
    if (reply.kind === 'ack') {
      this.inFlight--;
      if (this.result === undefined) this.spare.push(Buffer.from(reply.buffer));
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.resolve();
      return;
    }
    this.thread.detach(this);
    const checksums = new Map(reply.checksums.map(([algorithm, digest]) => [algorithm, asBuffer(digest)]));
    this.result?.resolve({ md5: asBuffer(reply.md5), checksums });
  }

  fail(error: Error): void {
    this.failure = error;
    this.waiting?.reject(error);
    this.result?.reject(error);
    this.waiting = this.result = undefined;
  }
}

/** The process's hash threads: by default one per core but the event loop's (see `resize`). */
export const hashPool = new HashPool(availableParallelism() - 1);

/** With N processes serving (--workers), each gets its share of the cores for hashing. */
export function shareHashThreads(processes: number): void {
  hashPool.resize(Math.floor(availableParallelism() / processes) - 1);
}
