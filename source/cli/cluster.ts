// --workers N: N processes accept on one port (node:cluster). They share nothing but ROOT, which
// holds all state, so any worker can serve any request; the primary only forks, restarts a worker
// that dies, passes SIGHUP on (credentials reload), and runs the one idle-upload cleaner.
import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config/config';
import { openNamespace, startCleaner } from './serve';

export async function runPrimary(config: Config, announce: (port: number) => void): Promise<void> {
  const namespace = await openNamespace(config);
  const stopCleaner = startCleaner(config, namespace);
  let stopping = false;
  let announced = false;
  const listening = new Set<Worker>();
  const workers = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  const stop = (code: number): void => {
    if (stopping) return;
    stopping = true;
    stopCleaner();
    for (const worker of workers()) worker.process.kill('SIGTERM');
    setTimeout(() => process.exit(code), 2000).unref();
    cluster.on('exit', () => {
      if (workers().length === 0) process.exit(code);
    });
  };
  cluster.on('listening', (worker, address) => {
    listening.add(worker);
    if (!announced) announce(address.port);
    announced = true;
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    if (!listening.has(worker)) {
      // It never got to listen (port taken, certificate unreadable): another would fail alike.
      process.stderr.write(`sluice: a worker could not start (${signal ?? code}); stopping\n`);
      stop(1);
      return;
    }
    listening.delete(worker);
    process.stderr.write(`sluice: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
    fork();
  });
  // libuv's file-system threads (4 by default) are shared out among the workers rather than
  // multiplied: more threads than cores only add context switches to every small request
  // (measured: 4 KiB GETs with two workers, 3,077/s with 4 threads each, 3,583/s with 2).
  // With a cache tier, main.ts set a larger pool, for the under store's slow calls: kept per worker.
  const env = { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? String(Math.max(2, Math.ceil(4 / config.workers))) };
  const fork = (): void => void cluster.fork(env);
  for (let i = 0; i < config.workers; i++) fork();
  // The workers hold the credentials: a reload is theirs (a single process reloads on SIGHUP too).
  if (config.auth === 'sigv4') {
    process.on('SIGHUP', () => {
      // Only to workers that are up: one still starting reads the file anyway, and would die of it.
      for (const worker of listening) worker.process.kill('SIGHUP');
    });
  }
  process.once('SIGINT', () => stop(0));
  process.once('SIGTERM', () => stop(0));
}
