// The mounts the bench makes (the tmpfs of the servers' roots, bind mounts of cached key sets, the
// slow FUSE under store) and their removal on every exit path. Each is recorded when made;
// unmountAll() is synchronous, so an exit or signal handler can run it, and takes down everything
// mounted under each (deepest first). Mounts of a run that was killed are found and removed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

/** Mount points the bench made, in order. */
const made: string[] = [];

/** /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Mount points at dir or under it, deepest first (a point mounted twice is listed twice). */
export function mountsUnder(dir: string): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((field): field is string => field !== undefined)
    .map(unescapeMountPath)
    .filter((point) => point === dir || point.startsWith(`${dir}/`))
    .sort((a, b) => b.split('/').length - a.split('/').length);
}

export function isMountPoint(dir: string): boolean {
  return mountsUnder(dir).includes(dir);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** umount(8), retried while busy (a server that is stopping), then lazily; why it failed, if it did. */
function umount(point: string): string | undefined {
  let last = '';
  for (let attempt = 0; attempt < 10; attempt++) {
    const r = spawnSync('umount', [point], { encoding: 'utf8' });
    if (r.status === 0 || !isMountPoint(point)) return undefined;
    last = (r.stderr ?? r.error?.message ?? '').trim();
    if (!/busy/i.test(last)) break;
    sleepSync(200);
  }
  const lazy = spawnSync('umount', ['-l', point], { encoding: 'utf8' });
  if (lazy.status === 0) return `${point} was busy (${last}): detached lazily`;
  return `${point} could not be unmounted: ${last} / ${(lazy.stderr ?? '').trim()}`;
}

/** Unmounts everything at dir and under it; the problems, if any. */
export function unmountTree(dir: string): string[] {
  const problems: string[] = [];
  for (let round = 0; round < 3; round++) {
    const points = mountsUnder(dir);
    if (points.length === 0) break;
    for (const point of points) {
      const why = umount(point);
      if (why !== undefined && !problems.includes(why)) problems.push(why);
    }
  }
  return problems;
}

/** Records a mount made by another process (the FUSE daemon), so every exit path removes it. */
export function recordMount(point: string): void {
  made.push(point);
}

function mount(args: string[], point: string): void {
  mkdirSync(point, { recursive: true });
  const r = spawnSync('mount', [...args, point], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount ${args.join(' ')} ${point}: ${(r.stderr ?? r.error?.message ?? '').trim() || `exit ${r.status}`}`);
  recordMount(point);
}

export function mountTmpfs(point: string, bytes: number): void {
  mount(['-t', 'tmpfs', '-o', `size=${Math.ceil(bytes / (1024 * 1024))}m,mode=0755`, 'tmpfs'], point);
}

export function bindMount(source: string, point: string): void {
  mount(['--bind', source], point);
}

/** Unmounts what the bench mounted, newest first, and everything under it; the problems, if any. */
export function unmountAll(): string[] {
  const problems: string[] = [];
  while (made.length > 0) problems.push(...unmountTree(made.pop() as string));
  return problems;
}

/** Unmounts a mount of ours now (a bind mount given back, the FUSE store after its workload). */
export function unmountNow(point: string): string[] {
  const at = made.lastIndexOf(point);
  if (at >= 0) made.splice(at, 1);
  return unmountTree(point);
}

/** Processes whose command line names a path under dir: servers and slowfs.py of a killed bench. */
function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').some((arg) => arg === dir || arg.startsWith(`${dir}/`))) pids.push(Number(entry));
    } catch {
      // ended while we looked
    }
  }
  return pids;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/**
 * What a bench that was killed (SIGKILL: no handler runs) left under outDir, in `tmpfs-PID` or
 * `run-PID-N` of a process that is gone: its servers and slow store, still running on those roots,
 * are stopped, then the mounts removed. Returns what was done, for the log.
 */
export function unmountStale(outDir: string): string[] {
  const done: string[] = [];
  const owners = new Set<string>();
  for (const point of mountsUnder(outDir)) {
    const owner = /^\/((?:tmpfs|run)-(\d+))/.exec(point.slice(outDir.length));
    if (owner === null || existsSync(`/proc/${owner[2]}`) || owners.has(owner[1] as string)) continue;
    owners.add(owner[1] as string);
    const top = join(outDir, owner[1] as string);
    const strays = processesUsing(top);
    for (const pid of strays) signal(pid, 'SIGTERM');
    if (strays.length > 0) sleepSync(1000);
    for (const pid of strays) signal(pid, 'SIGKILL');
    const problems = unmountTree(top);
    const stopped = strays.length > 0 ? ` (stopped its ${strays.length} process(es) still running there: ${strays.join(', ')})` : '';
    done.push(problems.length === 0 ? `unmounted what bench process ${owner[2]} left under ${top}${stopped}` : problems.join('; '));
  }
  return done;
}

/** The tmpfs of the servers' roots at outDir/tmpfs-PID, or why it could not be mounted. */
export function mountRootsTmpfs(outDir: string, bytes: number): { dir: string } | { why: string } {
  if (process.getuid?.() !== 0) return { why: 'mounting a tmpfs needs root' };
  const dir = join(outDir, `tmpfs-${process.pid}`);
  try {
    mountTmpfs(dir, bytes);
    return { dir };
  } catch (err) {
    try {
      rmdirSync(dir);
    } catch {
      // not made, or not empty: left for the next run's clean-up
    }
    return { why: (err as Error).message };
  }
}
