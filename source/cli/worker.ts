// A worker of a cluster: serves like a single process (serve.ts), answers its primary's requests
// for a metrics snapshot, asks the primary for the cluster's sums when /-/metrics is asked of it,
// and stops at once, cleaning up what it started, when the primary is gone.
import cluster from 'node:cluster';
import type { Config } from '../config/config';
import { log } from '../log';
import { registry, type Snapshot } from '../metrics';
import { SNAPSHOT_TIMEOUT_MS, isMessage, type ToPrimary, type ToWorker } from './ipc';
import { serve, setReloader, stopOnSignals } from './serve';

const send = (message: ToPrimary): void => void process.send?.(message);

export async function runWorker(config: Config, configure: () => Config): Promise<void> {
  setReloader(configure);
  const asked = new Map<number, (snapshot: Snapshot) => void>();
  let nextId = 0;
  let stopper: ReturnType<typeof stopOnSignals> | undefined;
  process.on('message', (message: unknown) => {
    if (!isMessage<ToWorker>(message)) return;
    if (message.sluice === 'snapshot') {
      const id = message.id;
      void registry.snapshot('shared').then((snapshot) => send({ sluice: 'snapshot', id, snapshot }));
    } else if (message.sluice === 'cluster-metrics') {
      asked.get(message.id)?.(message.snapshot);
    } else if (message.sluice === 'stop') {
      // Still starting: nothing in flight yet, so go at once.
      if (stopper) stopper.stop(message.reason);
      else process.exit(0);
    }
  });
  const clusterMetrics = (): Promise<Snapshot> =>
    new Promise((resolve) => {
      const id = ++nextId;
      // Without an answer (the primary busy or gone), this process's own figures rather than none.
      const timer = setTimeout(() => {
        asked.delete(id);
        void registry.snapshot('shared').then(resolve);
      }, SNAPSHOT_TIMEOUT_MS * 2);
      asked.set(id, (snapshot) => {
        clearTimeout(timer);
        asked.delete(id);
        resolve(snapshot);
      });
      send({ sluice: 'cluster-metrics', id });
    });

  const running = await serve(config, { kind: 'worker', clusterMetrics });
  stopper = stopOnSignals(running, config);
  // node:cluster exits a worker the moment its channel to the primary closes, unless the
  // disconnect was asked for: claim it was, so the worker can abort its requests and remove its
  // temp files first (a crashed primary's orphans used to leave them for the next restart).
  cluster.worker?.on('disconnect', () => {
    cluster.worker!.exitedAfterDisconnect = true;
    log.warn(`worker ${process.pid}: the primary is gone; stopping`);
    stopper!.stopNow('primary gone');
  });
}

/** A worker that cannot start tells its primary why, which says it once and stops the cluster. False: no primary to tell. */
export function reportFatal(message: string): Promise<boolean> {
  if (!process.connected || !process.send) return Promise.resolve(false);
  const report: ToPrimary = { sluice: 'fatal', message };
  return new Promise((resolve) => process.send!(report, undefined, {}, (error) => resolve(error === null)));
}
