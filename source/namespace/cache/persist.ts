// The persist queue of ASYNC_THROUGH: one file per object version waiting to reach the under
// store, kept in the cache dir, so that a restart or a crash resumes it. Every process serving
// the cache works the queue; a job is taken by renaming it (one process wins), and a job taken
// by a process that died goes back to the queue. A job names the version it is for: an object
// overwritten or deleted meanwhile is not persisted in its old form (the work checks).
import { readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BucketName, ObjectKey } from '../names';
import { HOST, PROCESS_ID, isLiveProcess, uniqueSuffix } from '../tmp';
import { keyHash } from './copies';

export interface PersistJob {
  bucket: BucketName;
  key: ObjectKey;
  /** The cache-only version to persist: its data file's inode and mtime. */
  ino: string;
  mtimeNs: string;
}

const JOB = /^(\d{16})\.([0-9a-f]{40})\.([A-Za-z0-9_-]+)\.job$/;
const CLAIMED = '.claimed.';

let lastStamp = 0;

/** Microseconds, increasing within the process: jobs are worked in the order they were queued. */
function stamp(): string {
  lastStamp = Math.max(Date.now() * 1000, lastStamp + 1);
  return String(lastStamp).padStart(16, '0');
}

export interface PersistOptions {
  dir: string;
  /** Persists the job's version; resolves when it is in the under store or no longer wanted. */
  work: (job: PersistJob) => Promise<void>;
  /** Told of a job that failed (it is retried later). */
  onFailure?: (job: PersistJob, error: unknown) => void;
  /** How often the queue is looked at when idle (others may have queued). */
  pollMs?: number;
}

export class PersistQueue {
  private running = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  /** Jobs that failed here, and when they may be tried again. */
  private readonly retryAt = new Map<string, { at: number; delay: number }>();

  constructor(private readonly options: PersistOptions) {}

  async enqueue(job: PersistJob): Promise<void> {
    const name = `${stamp()}.${keyHash(job.bucket, job.key)}.${uniqueSuffix()}.job`;
    const temp = join(this.options.dir, `.${name}.tmp`);
    await writeFile(temp, JSON.stringify(job));
    await rename(temp, join(this.options.dir, name));
    this.kick();
  }

  /** Jobs waiting or being worked, in this cache. */
  async pending(): Promise<number> {
    return (await this.versionsQueued()).size;
  }

  /** The versions with a job, waiting or being worked: `<key hash>:<ino>:<mtimeNs>`. */
  async versionsQueued(): Promise<Set<string>> {
    const versions = new Set<string>();
    for (const name of await readdir(this.options.dir)) {
      const match = JOB.exec(name.split(CLAIMED)[0]!);
      if (!match) continue;
      const job = await readFile(join(this.options.dir, name), 'utf8').then((t) => JSON.parse(t) as PersistJob, () => undefined);
      if (job) versions.add(`${match[2]}:${job.ino}:${job.mtimeNs}`);
    }
    return versions;
  }

  /** Starts working the queue; returns what stops it. */
  start(): () => void {
    this.stopped = false;
    this.kick();
    return () => {
      this.stopped = true;
      if (this.timer) clearTimeout(this.timer);
    };
  }

  /** Works the queue now (new jobs, or a look after a pause). */
  kick(): void {
    if (this.stopped || this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.running = true;
    void this.drain().finally(() => {
      this.running = false;
      if (!this.stopped) {
        this.timer = setTimeout(() => this.kick(), this.options.pollMs ?? 1000);
        this.timer.unref();
      }
    });
  }

  /** Gives back the jobs of processes that died while working them. */
  async recover(): Promise<number> {
    let returned = 0;
    for (const name of await readdir(this.options.dir)) {
      const cut = name.indexOf(CLAIMED);
      if (cut < 0) continue;
      const [host, id] = name.slice(cut + CLAIMED.length).split('.');
      if (host !== HOST || isLiveProcess(id ?? '')) continue;
      if (await rename(join(this.options.dir, name), join(this.options.dir, name.slice(0, cut))).then(() => true, () => false)) returned++;
    }
    return returned;
  }

  private async drain(): Promise<void> {
    await this.recover().catch(() => undefined);
    for (;;) {
      if (this.stopped) return;
      const now = Date.now();
      const names = (await readdir(this.options.dir).catch(() => [] as string[]))
        .filter((n) => JOB.test(n) && (this.retryAt.get(n)?.at ?? 0) <= now)
        .sort();
      if (names.length === 0) return;
      let worked = false;
      for (const name of names) {
        if (this.stopped) return;
        if (await this.workOne(name)) worked = true;
      }
      if (!worked) return;
    }
  }

  /** Takes a job and works it; false if another process took it first. */
  private async workOne(name: string): Promise<boolean> {
    const path = join(this.options.dir, name);
    const claimed = `${path}${CLAIMED}${HOST}.${PROCESS_ID}`;
    if (!(await rename(path, claimed).then(() => true, () => false))) return false;
    let job: PersistJob;
    try {
      job = JSON.parse(await readFile(claimed, 'utf8')) as PersistJob;
    } catch {
      await unlink(claimed).catch(() => undefined); // torn by a crash before it was renamed in: never queued
      return true;
    }
    try {
      await this.options.work(job);
      this.retryAt.delete(name);
      await unlink(claimed);
    } catch (error) {
      // The under store failed (full, unreachable): back to the queue, tried again later.
      const delay = Math.min(60_000, (this.retryAt.get(name)?.delay ?? 500) * 2);
      this.retryAt.set(name, { at: Date.now() + delay, delay });
      this.options.onFailure?.(job, error);
      await rename(claimed, path).catch(() => undefined);
    }
    return true;
  }
}
