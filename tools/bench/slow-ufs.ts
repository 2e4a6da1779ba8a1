// Workload 8's slow under store: tools/bench/slowfs.py, a FUSE passthrough that sleeps before each
// lookup, open, create, read and readdir, mounted over a backing directory by the bench and taken
// down after the workload and on every exit path (the mount is recorded before it exists).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { recordMount, isMountPoint, unmountNow } from './mounts';
import { sleep, which } from './proc';

export const FUSE_PACKAGES = ['python3-fusepy', 'fuse3'];

/** tools/bench/slowfs.py, run from the source tree (it is not built). */
export const SLOWFS = resolve(__dirname, '../../../tools/bench/slowfs.py');

/** The python3 that has fusepy: Debian's, where python3-fusepy installs it, else the one on PATH. */
export function fusePython(): string | undefined {
  for (const python of ['/usr/bin/python3', which('python3')]) {
    if (python === undefined || !existsSync(python)) continue;
    if (spawnSync(python, [SLOWFS, '--check'], { stdio: 'ignore' }).status === 0) return python;
  }
  return undefined;
}

/** Why the slow store cannot be mounted here, or undefined when it can be tried. */
export function fuseUnavailable(): string | undefined {
  if (!existsSync('/dev/fuse')) return '/dev/fuse is missing (no FUSE in this kernel or container)';
  if (process.getuid?.() !== 0) return 'mounting FUSE needs root here';
  if (fusePython() === undefined) return `python3-fusepy is not installed (apt-get install -y ${FUSE_PACKAGES.join(' ')}, or BENCH_INSTALL=1)`;
  return undefined;
}

export interface SlowUfs {
  mountpoint: string;
  /** Unmounts, waits for the daemon to end; the problems, if any. */
  stop(): Promise<string[]>;
}

export async function mountSlowUfs(backing: string, mountpoint: string, latencyMs: number, attrCacheS: number): Promise<SlowUfs> {
  const python = fusePython();
  if (python === undefined) throw new Error('python3-fusepy is not installed');
  mkdirSync(backing, { recursive: true });
  mkdirSync(mountpoint, { recursive: true });
  recordMount(mountpoint);
  const args = [SLOWFS, backing, mountpoint, String(latencyMs), String(attrCacheS)];
  const daemon = spawn(python, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  daemon.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
  let spawnError = '';
  const ended = new Promise<void>((resolvePromise) => {
    daemon.once('error', (err) => {
      spawnError = err.message;
      resolvePromise();
    });
    daemon.once('close', () => resolvePromise());
  });
  const stop = async (): Promise<string[]> => {
    const problems = unmountNow(mountpoint);
    const kill = setTimeout(() => daemon.kill('SIGKILL'), 5000);
    await ended;
    clearTimeout(kill);
    return problems;
  };
  const deadline = Date.now() + 10_000;
  while (!isMountPoint(mountpoint)) {
    if (spawnError !== '' || daemon.exitCode !== null || daemon.signalCode !== null || Date.now() > deadline) {
      await stop();
      const why = spawnError || stderr.trim().split('\n').slice(-3).join(' / ') || 'not mounted within 10 s';
      throw new Error(`slowfs.py did not mount ${mountpoint}: ${why}`);
    }
    await sleep(20);
  }
  return { mountpoint, stop };
}
