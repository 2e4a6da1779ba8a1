// --workers N: N processes accept on one port (node:cluster). They share nothing but ROOT, which
// holds all state, so any worker can serve any request; the primary only forks, restarts a worker
// that dies, and runs the one idle-upload cleaner.
import cluster from 'node:cluster';
import type { Config } from '../config/config';
import { Namespace } from '../namespace';
import { processUser, startCleaner } from './serve';

export async function runPrimary(config: Config, announce: (port: number) => void): Promise<void> {
  const namespace = await Namespace.open({ root: config.root, defaultOwner: processUser(), listDirectories: config.listDirectories, fsync: config.fsync });
  const stopCleaner = startCleaner(config, namespace);
  let stopping = false;
  let announced = false;
  cluster.on('listening', (_worker, address) => {
    if (!announced) announce(address.port);
    announced = true;
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    process.stderr.write(`sluice: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
    cluster.fork();
  });
  for (let i = 0; i < config.workers; i++) cluster.fork();
  const stop = (): void => {
    stopping = true;
    stopCleaner();
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 2000).unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
