// The cleaner: aborts multipart uploads idle longer than the timeout, in the background, with the
// retry count, delay and pool size of Alluxio's cleaner properties.
import type { UploadStore } from './uploads';

export interface CleanerOptions {
  timeoutMs: number;
  retryCount: number;
  retryDelayMs: number;
  poolSize: number;
  /** Told of each upload it aborts. */
  onAbort?: (uploadId: string) => void;
}

/** Starts sweeping; returns a function that stops it. The timer never keeps the process alive. */
export function startUploadCleaner(store: UploadStore, options: CleanerOptions): () => void {
  // Sweep a few times per timeout so an idle upload goes soon after it expires, but at most once a minute.
  const period = Math.min(60_000, Math.max(100, Math.floor(options.timeoutMs / 4)));
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    store
      .sweep(options.timeoutMs, options.retryCount, options.retryDelayMs, options.poolSize)
      .then((aborted) => aborted.forEach((id) => options.onAbort?.(id)))
      .catch(() => undefined)
      .finally(() => (running = false));
  }, period);
  timer.unref();
  return () => clearInterval(timer);
}
