// What /-/ready and /-/metrics report, for whichever process answers them: a single process, a
// worker (which asks its primary for the cluster's sums), or a primary serving --admin-port.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { OpsSource } from '../http/ops';
import { PROMETHEUS_CONTENT_TYPE, gauge, mergeSnapshots, registry, renderPrometheus, type Snapshot } from '../metrics';

/** A ROOT that does not answer this fast (a hung network mount) is not ready. */
const ROOT_CHECK_MS = 2_000;

/** Ready when not shutting down, ROOT (and its temp folder) can be read and written, and `more` says nothing. */
export function readiness(root: string, tmp: string, shuttingDown: () => boolean, more: () => string | undefined = () => undefined) {
  return async (): Promise<string | undefined> => {
    if (shuttingDown()) return 'shutting down';
    const other = more();
    if (other !== undefined) return other;
    let timer: NodeJS.Timeout | undefined;
    const late = `ROOT did not answer within ${ROOT_CHECK_MS} ms`;
    const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(late), ROOT_CHECK_MS)));
    const check = Promise.all([root, tmp].map((dir) => access(dir, constants.R_OK | constants.W_OK | constants.X_OK))).then(
      () => undefined,
      (e: unknown) => `ROOT is not readable and writable (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
    );
    try {
      return await Promise.race([check, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The multipart uploads in progress, counted on disk by whoever answers (every process would count the same). */
export function countOpenUploads(count: () => Promise<number>): void {
  gauge('sluice_multipart_uploads_open', 'Multipart uploads in progress under ROOT', { merge: 'local', collect: count });
}

/** The metrics of `shared` (this process's, or the cluster's sums) with this process's local ones. */
export function metricsSource(shared: () => Promise<Snapshot>): OpsSource['metrics'] {
  return async () => {
    const [sums, local] = await Promise.all([shared(), registry.snapshot('local')]);
    return { contentType: PROMETHEUS_CONTENT_TYPE, body: renderPrometheus(mergeSnapshots([sums, local])) };
  };
}
