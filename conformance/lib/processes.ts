// Processes as /proc shows them, for the suites about workers, footprint, shutdown and crashes;
// requests spread over a cluster's workers; and leftovers of a process that really died, planted
// in a ROOT the way sluice names them.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { REPO, simpleAuth, type RawResponse } from './harness';

/** The pids of the processes whose parent is `pid`. */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/** Running (a zombie waiting to be reaped counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z';
  } catch {
    return false;
  }
}

/** Resident memory of a process now (VmRSS), in bytes. */
export function residentBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

/** The exit code (or signal) of a child, and when it came. */
export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode, at: Date.now() });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
}

/**
 * Leaves in ROOT what a process that died leaves (it runs, writes, and kills itself with SIGKILL):
 * a temp file and the staging folder of a CreateMultipartUpload, named by sluice's own tempName.
 * Returns their names.
 */
export function leftoversOfADeadProcess(root: string): string[] {
  const tmp = join(REPO, 'dist', 'source', 'namespace', 'tmp.js');
  const script = `
    const { mkdirSync, writeFileSync } = require('node:fs');
    const { join } = require('node:path');
    const { tempName } = require(${JSON.stringify(tmp)});
    const dir = ${JSON.stringify(join(root, '.sluice', 'tmp'))};
    const file = tempName(), staging = tempName();
    writeFileSync(join(dir, file), 'half an object');
    mkdirSync(join(dir, staging, 'parts'), { recursive: true });
    writeFileSync(join(dir, staging, 'upload.json'), '{}');
    process.stdout.write(JSON.stringify([file, staging]), () => process.kill(process.pid, 'SIGKILL'));`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  if (run.signal !== 'SIGKILL') throw new Error(`the short-lived process did not die as planned: ${run.stderr}`);
  return JSON.parse(run.stdout) as string[];
}

/** A request on a connection of its own, so that a cluster spreads such requests over its workers. */
export function onOwnConnection(port: number, method: string, path: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers: { Authorization: simpleAuth() } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString() });
      });
    });
    req.on('error', reject);
    // A connection node:cluster hands to a worker that was just killed is never answered.
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer`)));
    req.end();
  });
}
