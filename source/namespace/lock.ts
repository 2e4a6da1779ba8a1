// Locks shared by every process that serves one directory (a cache dir, ROOT): a lock is a file created
// with O_EXCL that names its holder. A holder that died leaves a stale lock, which the next taker
// removes. Requests of one process queue in memory first, so only one of them polls the disk.
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isCode } from '../errors';
import { HOST, isAlive, uniqueSuffix } from './tmp';

/** A lock older than this is taken for abandoned whoever holds it (holds last milliseconds). */
const STALE_AFTER_MS = 60_000;

export type Release = () => Promise<void>;

export class FileLocks {
  /** The tail of each name's in-process queue. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(readonly dir: string) {}

  /** Waits until this process holds the lock `name`; the returned function releases it. */
  async acquire(name: string): Promise<Release> {
    const previous = this.queues.get(name) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    const tail = previous.then(() => mine);
    this.queues.set(name, tail);
    await previous;
    const path = join(this.dir, name);
    try {
      await takeFile(path);
    } catch (e) {
      this.finish(name, tail, done);
      throw e;
    }
    return async () => {
      await unlink(path).catch(() => undefined);
      this.finish(name, tail, done);
    };
  }

  /** Takes the lock only if nobody holds it now (in this process or another); undefined otherwise. */
  async tryAcquire(name: string): Promise<Release | undefined> {
    if (this.queues.has(name)) return undefined;
    const path = join(this.dir, name);
    if (!(await createLockFile(path))) return undefined;
    return () => unlink(path).catch(() => undefined);
  }

  private finish(name: string, tail: Promise<void>, done: () => void): void {
    if (this.queues.get(name) === tail) this.queues.delete(name);
    done();
  }
}

/** Creates the lock file; false when it exists. */
async function createLockFile(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o644);
    try {
      await handle.writeFile(`${HOST} ${process.pid}`);
    } finally {
      await handle.close();
    }
    return true;
  } catch (e) {
    if (isCode(e, 'EEXIST')) return false;
    throw e;
  }
}

async function takeFile(path: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    if (await createLockFile(path)) return;
    if (await isStale(path)) {
      // Renamed aside before removal: of several processes that found it stale, one removes it.
      const aside = `${path}.stale-${uniqueSuffix()}`;
      if (await rename(path, aside).then(() => true, () => false)) await unlink(aside).catch(() => undefined);
      continue;
    }
    await new Promise((r) => setTimeout(r, Math.min(20, 1 + attempt)));
  }
}

/** True when a lock's holder is gone: a dead process of this host, or a lock held implausibly long. */
export async function isStale(path: string): Promise<boolean> {
  const [text, stats] = await Promise.all([readFile(path, 'utf8').catch(() => undefined), stat(path).catch(() => undefined)]);
  if (text === undefined || stats === undefined) return false; // gone meanwhile: just try again
  if (Date.now() - stats.mtimeMs > STALE_AFTER_MS) return true;
  const [host, pid] = text.split(' ');
  // A holder that has not written its name yet is given a moment.
  if (pid === undefined) return Date.now() - stats.mtimeMs > 1000;
  return host === HOST && !isAlive(Number(pid));
}
