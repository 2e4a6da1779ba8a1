// The janitor of a ROOT, as the configuration asks for it: run by the single process, or by the
// primary of a cluster (never by its workers). Light to load: no S3, no HTTP.
import type { Config } from '../config/config';
import { log } from '../log';
import { Janitor } from '../namespace/janitor';
import type { Layout } from '../namespace/layout';
import type { UploadStore } from '../namespace/uploads';

export function startJanitor(config: Config, layout: Layout, uploads: UploadStore): Promise<Janitor> {
  return Janitor.start(layout, {
    uploads: {
      store: uploads,
      cleaner: {
        timeoutMs: config.multipart.timeoutMs,
        retryCount: config.multipart.cleanerRetryCount,
        retryDelayMs: config.multipart.cleanerRetryDelayMs,
        poolSize: config.multipart.cleanerPoolSize,
        onAbort: (id) => log.info(`cleaner aborted idle multipart upload ${id}`),
      },
    },
  });
}
