// The cleaner: aborts multipart uploads idle longer than the timeout, in the background, with the
// retry count, delay and pool size of Alluxio's cleaner properties.
import { S3Error } from '../errors';
import { counter } from '../metrics';
import type { UploadStore } from './uploads';

const cleanerRuns = counter('sluice_upload_cleaner_runs_total', 'Sweeps of the idle multipart upload cleaner');
const cleanerAborted = counter('sluice_upload_cleaner_aborted_total', 'Idle multipart uploads the cleaner aborted');

export interface CleanerOptions {
  timeoutMs: number;
  retryCount: number;
  retryDelayMs: number;
  poolSize: number;
  /** Told of each upload it aborts. */
  onAbort?: (uploadId: string) => void;
}

/**
 * One sweep: aborts uploads idle for longer than the timeout (retrying a failed removal), and
 * removes what finished or crashed uploads left behind once it is as old. Returns the ids aborted.
 */
export async function sweepUploads(store: UploadStore, options: CleanerOptions): Promise<string[]> {
  const now = Date.now();
  const aborted: string[] = [];
  const queue = (await store.entries()).filter((e) => now - e.lastActivityMs > options.timeoutMs);
  const abort = async (uploadId: string): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await store.discard(uploadId);
        aborted.push(uploadId);
        return;
      } catch (e) {
        // NoSuchUpload: completed or aborted meanwhile, nothing left to do.
        if (e instanceof S3Error || attempt >= options.retryCount) return;
        await new Promise((r) => setTimeout(r, options.retryDelayMs));
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, options.poolSize) }, async () => {
      for (let entry = queue.shift(); entry; entry = queue.shift()) {
        await (entry.inProgress ? abort(entry.uploadId) : store.removeLeftover(entry.path)).catch(() => undefined);
      }
    }),
  );
  return aborted;
}

/** Starts sweeping; returns a function that stops it. The timer never keeps the process alive. */
export function startUploadCleaner(store: UploadStore, options: CleanerOptions): () => void {
  // Sweep a few times per timeout so an idle upload goes soon after it expires, but at most once a minute.
  const period = Math.min(60_000, Math.max(100, Math.floor(options.timeoutMs / 4)));
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    cleanerRuns.inc();
    sweepUploads(store, options)
      .then((aborted) => {
        cleanerAborted.inc(aborted.length);
        aborted.forEach((id) => options.onAbort?.(id));
      })
      .catch(() => undefined)
      .finally(() => (running = false));
  }, period);
  timer.unref();
  return () => clearInterval(timer);
}
