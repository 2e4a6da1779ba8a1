// Starting sluice: open the namespace under ROOT, then listen.
import { constants as fsConstants, readFileSync } from 'node:fs';
import { access, mkdir, statfs } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { SigV4Authenticator, SimpleAuthenticator } from '../auth/authenticator';
import type { Config } from '../config/config';
import { createHttpServer, type HttpServer } from '../http/server';
import { Namespace } from '../namespace';
import { startUploadCleaner } from '../namespace/upload-cleaner';
import { s3Handler } from '../s3/dispatch';
import { shareHashThreads } from '../streams/hash-pool';

export interface Running {
  server: HttpServer;
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

/** Opens the namespace under ROOT (and the cache tier) with the configuration's options. */
export async function openNamespace(config: Config): Promise<Namespace> {
  return Namespace.open({
    root: config.root,
    defaultOwner: processUser(),
    listDirectories: config.listDirectories,
    fsync: config.fsync,
    multipartTimeoutMs: config.multipart.timeoutMs,
    completePoolSize: config.multipart.completePoolSize,
    writeType: config.writeType,
    deleteType: config.deleteType,
    cache: config.cache ? { dir: config.cache.dir, capacity: await cacheCapacity(config.cache) } : undefined,
  });
}

/** The cache's size: as configured, or 80% of the space free on its disk now. */
async function cacheCapacity(cache: NonNullable<Config['cache']>): Promise<number> {
  try {
    await mkdir(cache.dir, { recursive: true });
    await access(cache.dir, fsConstants.R_OK | fsConstants.W_OK);
    if (cache.sizeBytes !== undefined) return cache.sizeBytes;
    const fs = await statfs(cache.dir);
    return Math.floor(fs.bavail * fs.bsize * 0.8);
  } catch (e) {
    throw new Error(`--cache-dir ${cache.dir}: ${(e as Error).message}`);
  }
}

/** Runs the idle-upload cleaner on ROOT; returns what stops it. One per ROOT is enough per host. */
export function startCleaner(config: Config, namespace: Namespace): () => void {
  return startUploadCleaner(namespace.uploads, {
    timeoutMs: config.multipart.timeoutMs,
    retryCount: config.multipart.cleanerRetryCount,
    retryDelayMs: config.multipart.cleanerRetryDelayMs,
    poolSize: config.multipart.cleanerPoolSize,
    onAbort: (id) => process.stdout.write(`${new Date().toISOString()} cleaner aborted idle multipart upload ${id}\n`),
  });
}

/** Opens ROOT and listens. `cleaner: false` in cluster workers, whose primary runs the one cleaner. */
export async function serve(config: Config, { cleaner = true }: { cleaner?: boolean } = {}): Promise<Running> {
  shareHashThreads(config.workers);
  const namespace = await openNamespace(config);
  const auth = config.auth === 'sigv4' ? new SigV4Authenticator(config.credentials!) : new SimpleAuthenticator(processUser());
  if (auth instanceof SigV4Authenticator) {
    process.on('SIGHUP', () => {
      try {
        auth.credentials.reload();
        process.stdout.write(`sluice: reloaded ${config.credentials} (process ${process.pid})\n`);
      } catch (e) {
        process.stderr.write(`sluice: kept the previous credentials: ${(e as Error).message}\n`);
      }
    });
  }
  // Read once at start: a missing or unreadable certificate stops the server before it listens.
  const tls = config.tls ? { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) } : undefined;
  const server = createHttpServer(s3Handler({ config, namespace, auth }), {
    headersTimeoutMs: config.headersTimeoutMs,
    accessLog: config.accessLog,
    tls,
  });
  const stopCleaner = cleaner ? startCleaner(config, namespace) : () => undefined;
  const stopBackground = namespace.startBackground();
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
        server.close(() => void stopBackground().finally(resolve));
        server.closeIdleConnections();
      }),
  };
}
