// Retiring the metadata record of a replaced version, crash-safe. The record must outlive its
// version by a few seconds (a reader that opened that version reads it next), so the removal is
// delayed; a timer alone would forget it in a crash. Each process therefore appends what it will
// remove, and when, to a list of its own under .sluice/retire, named like a temp file (host and
// pid); lists of dead processes are carried out by the janitor (janitor.ts), at start and while
// sluice runs. A list covers at most LIST_SPAN_MS of retirements and goes once they are done, so
// the folder holds a few small files at most.
import { open, readFile, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { isCode } from '../errors';
import { counter } from '../metrics';
import { ownerOf, tempName } from './tmp';

/** How long the record of a replaced version outlives it. */
export const RETIRE_DELAY_MS = 5_000;
const LIST_SPAN_MS = 10_000;
/** A line of a list: when, then the record's path under .sluice/meta (never anything else). */
const ENTRY = /^(\d+) ([0-9a-f]{2}\/\d+\.d?\d+\.json)$/;

const retired = counter('sluice_metadata_records_retired_total', 'Metadata records of replaced or deleted versions removed');

/** One list file: open while retirements are added to it, removed when all of them are done. */
class RetireFile {
  readonly started = Date.now();
  private pending = 0;
  private closed = false;
  private readonly handle: Promise<FileHandle | undefined>;
  private queued = '';
  private flushing: Promise<void> | undefined;

  constructor(readonly path: string) {
    this.handle = open(path, 'a').catch(() => undefined);
  }

  async append(line: string): Promise<void> {
    this.pending++;
    // Lines that arrive while a write is out go together in the next one: under load, one write
    // for many retirements instead of one each.
    this.queued += line;
    this.flushing ??= this.flush();
    await this.flushing;
  }

  private async flush(): Promise<void> {
    const handle = await this.handle;
    while (this.queued !== '') {
      const lines = this.queued;
      this.queued = '';
      // Without a list the retirement still happens, just not across a crash.
      await handle?.write(lines).catch(() => undefined);
    }
    this.flushing = undefined;
  }

  done(): void {
    this.pending--;
    // Past its span with nothing left: it would only wait for the next retirement to be sealed.
    if (this.pending === 0 && Date.now() - this.started > LIST_SPAN_MS) this.closed = true;
    void this.closeIfDone();
  }

  get sealed(): boolean {
    return this.closed;
  }

  /** No more entries go in; the file goes once the last one is done. */
  seal(): void {
    this.closed = true;
    void this.closeIfDone();
  }

  private async closeIfDone(): Promise<void> {
    if (!this.closed || this.pending > 0) return;
    this.pending = -1; // once
    const handle = await this.handle;
    await handle?.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }
}

export class RetireList {
  private current: RetireFile | undefined;
  /** Removals not yet due, oldest first (each is due RETIRE_DELAY_MS after it was added). */
  private readonly waiting: { due: number; path: string; file: RetireFile }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dir: string,
    private readonly metaDir: string,
    /** Removes records, many at once (one trip for all of them). */
    private readonly remove: (recordPaths: string[]) => Promise<void>,
  ) {}

  /** Removes the record at `recordPath` (under the meta folder) in RETIRE_DELAY_MS, even if this process dies first. */
  async add(recordPath: string): Promise<void> {
    if (!this.current || this.current.sealed || Date.now() - this.current.started > LIST_SPAN_MS) {
      this.current?.seal();
      this.current = new RetireFile(join(this.dir, tempName()));
    }
    const file = this.current;
    const due = Date.now() + RETIRE_DELAY_MS;
    await file.append(`${due} ${recordPath.slice(this.metaDir.length + 1).split(sep).join('/')}\n`);
    this.waiting.push({ due, path: recordPath, file });
    this.timer ??= setTimeout(() => this.removeDue(), RETIRE_DELAY_MS).unref();
  }

  /** Removes what is due, together (a batch every few milliseconds under load, not one trip each). */
  private removeDue(): void {
    this.timer = undefined;
    const now = Date.now();
    let count = 0;
    while (count < this.waiting.length && this.waiting[count]!.due <= now + 10) count++;
    const due = this.waiting.splice(0, count);
    if (due.length > 0) {
      this.remove(due.map((entry) => entry.path))
        .then(() => retired.inc(due.length), () => undefined)
        .finally(() => due.forEach((entry) => entry.file.done()));
    }
    const next = this.waiting[0];
    if (next) this.timer = setTimeout(() => this.removeDue(), Math.max(20, next.due - now)).unref();
  }
}

/**
 * Carries out the lists of dead processes of this host (and, with `foreign`, any list older than a
 * day: another host's). Entries not yet due are waited for; then the list goes. Returns how many
 * lists were finished.
 */
export async function sweepRetireLists(dir: string, metaDir: string, options: { foreign?: boolean } = {}): Promise<number> {
  let finished = 0;
  for (const name of await readdir(dir)) {
    const owner = ownerOf(name);
    const path = join(dir, name);
    if (owner !== 'dead' && !(options.foreign && owner === 'foreign' && (await olderThanADay(path)))) continue;
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const entries = text.split('\n').flatMap((line) => {
      const match = ENTRY.exec(line);
      return match ? [{ due: Number(match[1]), record: join(metaDir, ...match[2]!.split('/')) }] : [];
    });
    const wait = Math.max(0, ...entries.map((e) => e.due)) - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, Math.min(wait, RETIRE_DELAY_MS)).unref());
    for (const { record } of entries) {
      await unlink(record).then(
        () => retired.inc(),
        (e: unknown) => {
          if (!isCode(e, 'ENOENT')) throw e;
        },
      );
    }
    await unlink(path).catch(() => undefined);
    finished++;
  }
  return finished;
}

async function olderThanADay(path: string): Promise<boolean> {
  const stats = await stat(path).catch(() => undefined);
  return stats !== undefined && Date.now() - stats.mtimeMs > 86_400_000;
}
