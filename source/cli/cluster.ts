// --workers N: N processes accept on one port (node:cluster). They share nothing but ROOT, which
// holds all state, so any worker can serve any request. The primary stays light (no S3, no
// request handling loaded): it forks, restarts a worker that dies, runs the one janitor of the
// host (temp sweeps, retire lists, the idle-upload cleaner), passes signals on, sums the workers'
// metrics, and serves --admin-port if asked.
import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config/config';
import type { Server } from 'node:http';
import { log, setLogLevel } from '../log';
import { counter, cumulativeOnly, gauge, mergeSnapshots, registry, startProcessMetrics, type Snapshot } from '../metrics';
import { Layout } from '../namespace/layout';
import { UploadStore } from '../namespace/uploads';
import { SNAPSHOT_TIMEOUT_MS, isMessage, type ToPrimary, type ToWorker } from './ipc';
import { startJanitor } from './maintenance';
import { countOpenUploads, metricsSource, readiness } from './ops';
import { listen } from './startup';

const restarts = counter('sluice_worker_restarts_total', 'Workers that died and were replaced');

/** After this long past --shutdown-timeout, workers that are still there are killed. */
const STOP_GRACE_MS = 10_000;

export type Announce = (root: string, port: number, adminPort: number | undefined) => void;

export async function runPrimary(config: Config, announce: Announce, reload: () => Config): Promise<void> {
  startProcessMetrics();
  const layout = await Layout.open(config.root);
  const uploads = new UploadStore(layout);
  const janitor = await startJanitor(config, layout, uploads);
  let stopping = false;
  let announced = false;
  const listening = new Set<Worker>();
  gauge('sluice_workers', 'Worker processes serving', { collect: () => listening.size });
  const workers = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);

  // Metrics: the last snapshot of each worker, and what workers that are gone had counted.
  const last = new Map<Worker, Snapshot>();
  let departed: Snapshot = [];
  let nextId = 0;
  const waiting = new Map<string, (snapshot: Snapshot) => void>();
  const snapshotOf = (worker: Worker): Promise<Snapshot> =>
    new Promise((resolve) => {
      const id = ++nextId;
      const key = `${worker.id}:${id}`;
      const settle = (snapshot: Snapshot | undefined): void => {
        clearTimeout(timer);
        waiting.delete(key);
        if (snapshot && listening.has(worker)) last.set(worker, snapshot);
        resolve(snapshot ?? last.get(worker) ?? []);
      };
      // Without an answer in time (or a worker on its way out, with no channel), its last snapshot stands in.
      const timer = setTimeout(() => settle(undefined), SNAPSHOT_TIMEOUT_MS);
      if (!worker.isConnected()) return settle(undefined);
      waiting.set(key, settle);
      worker.send({ sluice: 'snapshot', id } satisfies ToWorker, (error: Error | null) => {
        if (error) settle(undefined);
      });
    });
  const clusterSnapshot = async (): Promise<Snapshot> =>
    mergeSnapshots([await registry.snapshot('shared'), departed, ...(await Promise.all([...listening].map(snapshotOf)))]);

  let adminServer: Server | undefined;
  const stop = (code: number, reason: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${reason}: stopping ${workers().length} worker(s) (waiting up to ${config.shutdownTimeoutMs} ms for requests in flight)`);
    void janitor.stop();
    adminServer?.close();
    for (const worker of workers()) {
      const bySignal = (): void => void worker.process.kill('SIGTERM');
      if (worker.isConnected()) worker.send({ sluice: 'stop', reason } satisfies ToWorker, (error: Error | null) => error && bySignal());
      else bySignal();
    }
    const exit = (): void => {
      log.info('stopped');
      process.exit(code);
    };
    setTimeout(() => {
      for (const worker of workers()) worker.process.kill('SIGKILL');
      exit();
    }, config.shutdownTimeoutMs + STOP_GRACE_MS).unref();
    if (workers().length === 0) exit();
    cluster.on('exit', () => {
      if (workers().length === 0) exit();
    });
  };

  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isMessage<ToPrimary>(message)) return;
    if (message.sluice === 'snapshot') {
      waiting.get(`${worker.id}:${message.id}`)?.(message.snapshot);
    } else if (message.sluice === 'cluster-metrics') {
      const id = message.id;
      void clusterSnapshot().then((snapshot) => {
        if (worker.isConnected()) worker.send({ sluice: 'cluster-metrics', id, snapshot } satisfies ToWorker, () => undefined);
      });
    } else if (message.sluice === 'fatal') {
      // One worker cannot start (port taken, certificate unreadable): another would fail alike.
      if (stopping) return;
      log.error(message.message);
      stop(1, 'a worker could not start');
    }
  });
  cluster.on('listening', (worker, address) => {
    listening.add(worker);
    if (!announced) announce(layout.root, address.port, adminServer ? adminPortOf(adminServer) : undefined);
    announced = true;
  });
  cluster.on('exit', (worker, code, signal) => {
    const snapshot = last.get(worker);
    if (snapshot) departed = mergeSnapshots([departed, cumulativeOnly(snapshot)]);
    last.delete(worker);
    const wasListening = listening.delete(worker);
    if (stopping) return;
    if (!wasListening) {
      log.error(`a worker could not start (${signal ?? code}); stopping`);
      stop(1, 'a worker could not start');
      return;
    }
    restarts.inc();
    log.warn(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    fork();
  });

  if (config.adminPort !== undefined) {
    countOpenUploads(() => uploads.countOpen());
    const { createOpsServer } = await import('../http/ops'); // node:http, only when it serves
    adminServer = createOpsServer({
      notReady: readiness(layout.root, layout.tmp, () => stopping, () => (listening.size === 0 ? 'no worker is serving' : undefined)),
      metrics: metricsSource(clusterSnapshot),
    });
    await listen(adminServer, config.adminPort, config.host, 'admin port');
  }

  // libuv's file-system threads (4 by default) are shared out among the workers rather than
  // multiplied: more threads than cores only add context switches to every small request
  // (measured: 4 KiB GETs with two workers, 3,077/s with 4 threads each, 3,583/s with 2).
  // With a cache tier, main.ts set a larger pool, for the under store's slow calls: kept per worker.
  const env = { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? String(Math.max(2, Math.ceil(4 / config.workers))) };
  // A worker's channel can break as it dies (EPIPE on a send): that is its exit's business, not a crash here.
  const fork = (): void => void cluster.fork(env).on('error', () => undefined);
  for (let i = 0; i < config.workers; i++) fork();
  // SIGHUP: the log level here, and the workers re-read theirs and the credentials. Only to
  // workers that are up: one still starting reads the files anyway.
  process.on('SIGHUP', () => {
    try {
      setLogLevel(reload().logLevel);
    } catch (e) {
      log.warn(`kept the previous log level: ${(e as Error).message}`);
    }
    for (const worker of listening) worker.process.kill('SIGHUP');
  });
  process.on('SIGINT', () => stop(0, 'SIGINT'));
  process.on('SIGTERM', () => stop(0, 'SIGTERM'));
}

function adminPortOf(server: Server): number | undefined {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : undefined;
}
