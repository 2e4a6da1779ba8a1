// Locks shared by every process of this host that serves one directory (a cache dir, ROOT): a lock is a file created
// with O_EXCL that names its holder (host, process identity, and a token of this acquisition). A
// holder that died leaves a stale lock, which the next taker removes; requests of one process
// queue in memory first, so only one of them polls the disk.
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isCode } from '../errors';
import { HOST, PROCESS_ID, isLiveProcess, uniqueSuffix } from './tmp';

export type Release = () => Promise<void>;

/** A lock file still empty this long was left by a taker that died between creating and writing it. */
const EMPTY_STALE_MS = 5_000;
/** A breaker file (see `breakStale`) older than this was left by a process that died breaking. */
const BREAKER_STALE_MS = 10_000;

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
    let token: string;
    try {
      token = await takeFile(path);
    } catch (e) {
      this.finish(name, tail, done);
      throw e;
    }
    return async () => {
      await releaseFile(path, token);
      this.finish(name, tail, done);
    };
  }

  /** Takes the lock only if nobody holds it now (in this process or another); undefined otherwise. */
  async tryAcquire(name: string): Promise<Release | undefined> {
    if (this.queues.has(name)) return undefined;
    const path = join(this.dir, name);
    let token = await createLockFile(path);
    if (token === undefined && (await breakStale(path))) token = await createLockFile(path);
    if (token === undefined) return undefined;
    const taken = token;
    return () => releaseFile(path, taken);
  }

  private finish(name: string, tail: Promise<void>, done: () => void): void {
    if (this.queues.get(name) === tail) this.queues.delete(name);
    done();
  }
}

/** Creates the lock file naming this acquisition; undefined when it exists. */
async function createLockFile(path: string): Promise<string | undefined> {
  const token = `${HOST} ${PROCESS_ID} ${uniqueSuffix()}`;
  try {
    const handle = await open(path, 'wx', 0o644);
    try {
      await handle.writeFile(token);
    } finally {
      await handle.close();
    }
    return token;
  } catch (e) {
    if (isCode(e, 'EEXIST')) return undefined;
    throw e;
  }
}

/** Removes the lock only if it is still this acquisition's (a holder judged dead may come back). */
async function releaseFile(path: string, token: string): Promise<void> {
  if ((await readFile(path, 'utf8').catch(() => undefined)) === token) await unlink(path).catch(() => undefined);
}

async function takeFile(path: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const token = await createLockFile(path);
    if (token !== undefined) return token;
    if (await breakStale(path)) continue;
    await new Promise((r) => setTimeout(r, Math.min(20, 1 + attempt)));
  }
}

/**
 * Removes a stale lock; true if it did (or the lock went meanwhile). One process at a time breaks
 * a lock, holding `<lock>.break`, and re-reads the lock while it holds it: of several processes
 * that found the lock stale, one removes it, and none removes a fresh lock taken meanwhile.
 */
async function breakStale(path: string): Promise<boolean> {
  const judged = await holderOf(path);
  if (judged === undefined) return true;
  if (!judged.stale) return false;
  const breaker = `${path}.break`;
  const mine = await createLockFile(breaker);
  if (mine === undefined) {
    const age = await stat(breaker).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > BREAKER_STALE_MS) await unlink(breaker).catch(() => undefined);
    return false;
  }
  try {
    const now = await holderOf(path);
    if (now === undefined) return true;
    if (now.stale && now.ino === judged.ino && now.text === judged.text) await unlink(path).catch(() => undefined);
    return true;
  } finally {
    await releaseFile(breaker, mine);
  }
}

/** Who holds a lock file, and whether that holder is gone; undefined when there is no lock. */
async function holderOf(path: string): Promise<{ text: string; ino: number; stale: boolean } | undefined> {
  const [text, stats] = await Promise.all([readFile(path, 'utf8').catch(() => undefined), stat(path).catch(() => undefined)]);
  if (text === undefined || stats === undefined) return undefined;
  return { text, ino: stats.ino, stale: isStaleHolder(text, stats.mtimeMs) };
}

/** True when a lock's holder is gone: a dead process of this host, or a taker that never wrote its name. */
export function isStaleHolder(text: string, mtimeMs: number): boolean {
  const [host, id] = text.split(' ');
  if (id === undefined) return Date.now() - mtimeMs > EMPTY_STALE_MS;
  return host === HOST && !isLiveProcess(id);
}

/** True when the lock file at `path` was left by a holder that is gone. */
export async function isStale(path: string): Promise<boolean> {
  return (await holderOf(path))?.stale ?? false;
}
