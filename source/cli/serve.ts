// Starting sluice: open the namespace under ROOT, then listen.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import type { Config } from '../config/config';
import { createS3Server } from '../http/server';
import { Namespace } from '../namespace';
import { startUploadCleaner } from '../namespace/upload-cleaner';
import { UploadStore } from '../namespace/uploads';

export interface Running {
  server: Server;
  namespace: Namespace;
  port: number;
  close(): Promise<void>;
}

export function processUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'sluice');
  }
}

export async function serve(config: Config): Promise<Running> {
  const defaultUser = processUser();
  const namespace = await Namespace.open({
    root: config.root,
    defaultOwner: defaultUser,
    listDirectories: config.listDirectories,
    fsync: config.fsync,
  });
  const server = createS3Server({ config, namespace, defaultUser });
  const stopCleaner = startUploadCleaner(new UploadStore(namespace.layout), {
    timeoutMs: config.multipart.timeoutMs,
    retryCount: config.multipart.cleanerRetryCount,
    retryDelayMs: config.multipart.cleanerRetryDelayMs,
    poolSize: config.multipart.cleanerPoolSize,
    onAbort: (id) => process.stdout.write(`${new Date().toISOString()} cleaner aborted idle multipart upload ${id}\n`),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    namespace,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        stopCleaner();
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
