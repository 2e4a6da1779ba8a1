// Processes for the harness: running commands, finding programs, and reading a server's memory
// (RSS and its peak, VmHWM) from /proc, summed over the process and its children.
import { spawn, type SpawnOptions } from 'node:child_process';
import { accessSync, constants, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a command to its end, capturing its output; never rejects on a non-zero exit. */
export function run(command: string, args: string[], options: SpawnOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      resolvePromise({ code: code ?? (signal === null ? 1 : 128), stdout, stderr, seconds });
    });
  });
}

/** Runs a command and returns its stdout, or throws with its stderr. */
export async function runChecked(command: string, args: string[], options: SpawnOptions = {}): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}: ${result.stderr.trim().slice(0, 500)}`);
  return result.stdout;
}

/** The path of a program on PATH (and in the sbin folders, where Debian puts nginx). */
export function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** pid and its descendants, read from /proc (nginx's workers, a cluster's workers). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: the fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // the process ended while we looked
    }
  }
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift() as number;
    tree.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return tree;
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

/** Resident memory in MB (10^6 bytes) of a process and its children. */
export function rssMb(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + statusKb(p, 'VmRSS'), 0) * 1024 / 1e6;
}

/** Peak resident memory (VmHWM) in MB of a process and its children since the last resetPeakRss. */
export function peakRssMb(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + statusKb(p, 'VmHWM'), 0) * 1024 / 1e6;
}

/** Resets VmHWM to the current RSS (Linux clear_refs 5), so a peak belongs to one workload. */
export function resetPeakRss(pid: number): boolean {
  let ok = true;
  for (const p of processTree(pid)) {
    try {
      writeFileSync(`/proc/${p}/clear_refs`, '5');
    } catch {
      ok = false;
    }
  }
  return ok;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Before a timed write: flush dirty pages (sync) so writeback of the previous server's bytes is not
 * charged to the next one, then a moment for the servers to go idle.
 */
export async function settle(): Promise<void> {
  await run('sync', []);
  await sleep(300);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
