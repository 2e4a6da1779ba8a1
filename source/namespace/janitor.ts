// The janitor: what crashed processes leave under .sluice is removed at start and while sluice
// runs, not only at the next restart. One per host and ROOT is enough: the single process, or the
// primary of a cluster. It sweeps temp files and staging folders of dead processes (tmp.ts),
// carries out their retire lists (retire.ts), and runs the idle-upload cleaner (upload-cleaner.ts).
import { log } from '../log';
import type { Layout } from './layout';
import { sweepRetireLists } from './retire';
import { sweepTempFiles } from './tmp';
import { startUploadCleaner, type CleanerOptions } from './upload-cleaner';
import type { UploadStore } from './uploads';

/** How often the temp folder is looked at: a readdir, and a signal 0 to each pid named there. */
const SWEEP_INTERVAL_MS = 10_000;
/** After a start that found entries of live processes of this host (orphans of a crashed primary finishing), sooner. */
const EARLY_INTERVAL_MS = 1_000;
const EARLY_SWEEPS = 10;
/** Other hosts' entries are judged by age, a stat each: rarely, on a filesystem every host shares. */
const FOREIGN_INTERVAL_MS = 3_600_000;

export interface JanitorOptions {
  uploads?: { store: UploadStore; cleaner: CleanerOptions };
}

export class Janitor {
  private timer: NodeJS.Timeout | undefined;
  private stopUploadCleaner: () => void = () => undefined;
  private running: Promise<void> = Promise.resolve();
  private lastForeign = Date.now();
  private stopped = false;

  private constructor(private readonly layout: Layout) {}

  /** Sweeps once (the temp folder before anything is served), then keeps sweeping until `stop`. */
  static async start(layout: Layout, options: JanitorOptions = {}): Promise<Janitor> {
    const janitor = new Janitor(layout);
    const { alive } = await sweepTempFiles(layout.tmp);
    janitor.running = janitor.sweepRetireLists(true);
    janitor.schedule(alive > 0 ? EARLY_SWEEPS : 0);
    if (options.uploads) janitor.stopUploadCleaner = startUploadCleaner(options.uploads.store, options.uploads.cleaner);
    return janitor;
  }

  private schedule(early: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(
      () => {
        this.running = this.sweep().finally(() => this.schedule(Math.max(0, early - 1)));
      },
      early > 0 ? EARLY_INTERVAL_MS : SWEEP_INTERVAL_MS,
    );
    this.timer.unref();
  }

  private async sweep(): Promise<void> {
    const foreign = Date.now() - this.lastForeign > FOREIGN_INTERVAL_MS;
    if (foreign) this.lastForeign = Date.now();
    try {
      const { removed } = await sweepTempFiles(this.layout.tmp, { foreign });
      if (removed > 0) log.debug(`janitor removed ${removed} temp entries of dead processes`);
    } catch (e) {
      log.warn(`janitor: cannot sweep ${this.layout.tmp}: ${(e as Error).message}`);
    }
    await this.sweepRetireLists(foreign);
  }

  private async sweepRetireLists(foreign: boolean): Promise<void> {
    try {
      const finished = await sweepRetireLists(this.layout.retire, this.layout.meta, { foreign });
      if (finished > 0) log.debug(`janitor carried out ${finished} retire lists of dead processes`);
    } catch (e) {
      log.warn(`janitor: cannot sweep ${this.layout.retire}: ${(e as Error).message}`);
    }
  }

  /** Stops sweeping; resolves when a sweep under way is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.stopUploadCleaner();
    await this.running;
  }
}

/**
 * A process that stops removes its own temp entries (after its requests are settled, so none is
 * in use): whatever an aborted write could not clean up itself.
 */
export async function sweepOwnTempFiles(layout: Layout): Promise<number> {
  return (await sweepTempFiles(layout.tmp, { foreign: false, own: true }).catch(() => ({ removed: 0 }))).removed;
}
