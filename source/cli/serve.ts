// A serving process: the single process of a plain `sluice serve`, or a worker of a cluster. It
// opens the namespace, listens, and stops gracefully on SIGTERM/SIGINT: no new connections, the
// requests in flight get --shutdown-timeout to finish, the rest are aborted (their writes leave
// nothing behind), then it exits 0. A worker whose primary is gone stops at once the same way.
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { SigV4Authenticator, SimpleAuthenticator } from '../auth/authenticator';
import type { Config } from '../config/config';
import { createOpsServer, type OpsSource } from '../http/ops';
import { createHttpServer, type HttpService } from '../http/server';
import { log, setLogLevel } from '../log';
import { registry, startProcessMetrics, type Snapshot } from '../metrics';
import { Namespace, sweepOwnTempFiles, type Janitor } from '../namespace';
import { s3Handler } from '../s3/dispatch';
import { shareHashThreads } from '../streams/hash-pool';
import { startJanitor } from './maintenance';
import { countOpenUploads, metricsSource, readiness } from './ops';
import { listen, readOptionFile } from './startup';

export interface Running {
  service: HttpService;
  namespace: Namespace;
  port: number;
  /** The --admin-port server, if any (and if this process serves it). */
  adminPort: number | undefined;
  /** Stops serving: in-flight requests get `timeoutMs`, then are aborted; resolves when all is settled and cleaned. */
  stop(timeoutMs: number): Promise<void>;
}

/** A single process, or a worker: a worker leaves the janitor and --admin-port to its primary and reports the cluster's metrics. */
export type Role = { kind: 'single' } | { kind: 'worker'; clusterMetrics: () => Promise<Snapshot> };

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
    cache: config.cache ? { dir: config.cache.dir, capacity: config.cache.sizeBytes } : undefined,
  });
}

/** Opens ROOT and listens. */
export async function serve(config: Config, role: Role = { kind: 'single' }): Promise<Running> {
  shareHashThreads(config.workers);
  startProcessMetrics();
  const namespace = await openNamespace(config);
  const janitor: Janitor | undefined = role.kind === 'single' ? await startJanitor(config, namespace.layout, namespace.uploads) : undefined;
  const auth =
    config.auth === 'sigv4'
      ? await readOptionFile('--credentials', config.credentials!, (path) => new SigV4Authenticator(path))
      : new SimpleAuthenticator(processUser());
  // Read once at start: a missing or unreadable certificate stops the server before it listens.
  const tls = config.tls
    ? {
        cert: await readOptionFile('--tls-cert', config.tls.cert, (path) => readFileSync(path)),
        key: await readOptionFile('--tls-key', config.tls.key, (path) => readFileSync(path)),
      }
    : undefined;
  let service: HttpService | undefined;
  countOpenUploads(() => namespace.uploads.countOpen());
  const ops: OpsSource = {
    notReady: readiness(namespace.layout.root, namespace.layout.tmp, () => service?.draining ?? true),
    metrics: metricsSource(role.kind === 'worker' ? role.clusterMetrics : () => registry.snapshot('shared')),
  };
  // With --admin-port the endpoints are served there only (by the primary, in a cluster).
  const opsHere = config.adminPort === undefined ? { source: ops, basePath: config.basePath } : undefined;
  service = createHttpServer(s3Handler({ config, namespace, auth }), {
    headersTimeoutMs: config.headersTimeoutMs,
    accessLog: config.accessLog,
    tls,
    ops: opsHere,
  });
  const stopBackground = namespace.startBackground(); // the cache's persist queue, if any
  const port = await listen(service.server, config.port, config.host);
  const admin = role.kind === 'single' && config.adminPort !== undefined ? createOpsServer(ops) : undefined;
  const adminPort = admin ? await listen(admin, config.adminPort!, config.host, 'admin port') : undefined;
  const running: Running = {
    service,
    namespace,
    port,
    adminPort,
    stop: async (timeoutMs) => {
      const { aborted } = await service!.shutdown(timeoutMs);
      if (aborted > 0) log.warn(`aborted ${aborted} request(s) still in flight after ${timeoutMs} ms (process ${process.pid})`);
      admin?.close();
      admin?.closeAllConnections();
      await Promise.all([janitor?.stop(), stopBackground()]);
      await sweepOwnTempFiles(namespace.layout);
    },
  };
  onReload(config, auth);
  return running;
}

let reloadConfig: (() => Config) | undefined;

/** How SIGHUP finds the current settings (the --conf file read again); main.ts sets it. */
export function setReloader(reload: () => Config): void {
  reloadConfig = reload;
}

/** SIGHUP: the log level (from --conf) and, in SigV4 mode, the credentials file are read again. */
function onReload(config: Config, auth: SigV4Authenticator | SimpleAuthenticator): void {
  process.on('SIGHUP', () => {
    try {
      if (reloadConfig) setLogLevel(reloadConfig().logLevel);
    } catch (e) {
      log.warn(`kept the previous log level: ${(e as Error).message}`);
    }
    if (!(auth instanceof SigV4Authenticator)) {
      log.info(`reloaded the settings (process ${process.pid})`);
      return;
    }
    try {
      auth.credentials.reload();
      log.info(`reloaded ${config.credentials} (process ${process.pid})`);
    } catch (e) {
      log.warn(`kept the previous credentials: ${(e as Error).message}`);
    }
  });
}

/**
 * Stops on SIGTERM or SIGINT (gracefully, within --shutdown-timeout), then exits 0; the same signal
 * a second time aborts what is still in flight. `stop` is the primary's request, graceful and never
 * counted as a repeat (a Ctrl-C reaches a worker from the terminal and through its primary, in
 * either order); `stopNow` aborts at once.
 */
export function stopOnSignals(running: Running, config: Config): { stop(reason: string): void; stopNow(reason: string): void } {
  let stopping = false;
  const signals = new Set<NodeJS.Signals>();
  const stop = (timeoutMs: number, reason: string): void => {
    if (stopping) {
      if (timeoutMs === 0) running.service.server.closeAllConnections();
      return;
    }
    stopping = true;
    const inFlight = running.service.inFlight();
    log.info(`${reason}: stopping (process ${process.pid}, ${inFlight} request(s) in flight, waiting up to ${timeoutMs} ms)`);
    running.stop(timeoutMs).then(
      () => {
        log.info(`stopped (process ${process.pid})`);
        process.exit(0);
      },
      (e: unknown) => {
        log.error(`stopping failed: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    const repeated = signals.has(signal);
    signals.add(signal);
    stop(repeated ? 0 : config.shutdownTimeoutMs, repeated ? `${signal} again` : signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    stop: (reason) => stop(config.shutdownTimeoutMs, reason),
    stopNow: (reason) => stop(0, reason),
  };
}
