// The optional programs of the bench: nginx (the raw-HTTP limit), wrk (the load) and the FUSE bits
// of workload 8's slow under store (python3-fusepy, fuse3). Installed with apt-get when asked
// (BENCH_INSTALL=1); otherwise the run goes on without them and says how to install them.
import type { BenchOptions } from './options';
import { run, which } from './proc';
import { FUSE_PACKAGES, fusePython } from './slow-ufs';

export interface OptionalTools {
  nginx: string | undefined;
  wrk: string | undefined;
}

/** Debian packages of what is missing, for the workloads this run will do. */
function missingPackages(o: BenchOptions): string[] {
  const missing: string[] = [];
  if (which('nginx') === undefined) missing.push('nginx');
  if (which('wrk') === undefined) missing.push('wrk');
  if (o.workloads.has(8) && (fusePython() === undefined || (which('fusermount3') === undefined && which('fusermount') === undefined))) missing.push(...FUSE_PACKAGES);
  return missing;
}

export async function optionalTools(o: BenchOptions, log: (line: string) => void): Promise<OptionalTools> {
  const missing = missingPackages(o);
  if (missing.length > 0 && o.install) {
    log(`BENCH_INSTALL=1: apt-get install -y ${missing.join(' ')}`);
    const apt = (args: string[]) => (process.getuid?.() === 0 ? run('apt-get', args) : run('sudo', ['apt-get', ...args]));
    await apt(['update']);
    const out = await apt(['install', '-y', ...missing]);
    if (out.code !== 0) log(`  apt-get failed: ${out.stderr.trim().split('\n').pop() ?? ''}`);
  } else if (missing.length > 0) {
    log(`Not installed: ${missing.join(', ')}. To include ${missing.length > 1 ? 'them' : 'it'}: apt-get install -y ${missing.join(' ')}  (or: make bench BENCH_INSTALL=1)`);
  }
  const tools = { nginx: which('nginx'), wrk: which('wrk') };
  if (tools.nginx === undefined) log('  nginx is missing: the raw-HTTP limit (sendfile GET, WebDAV PUT) is not measured in this run.');
  if (tools.wrk === undefined) log('  wrk is missing: the 4 KiB load comes from tools/bench/loadgen (a Node keep-alive client, slower than wrk).');
  if (o.workloads.has(8) && fusePython() === undefined) log('  python3-fusepy is missing: workload 8 has no slow under store and measures both paths on one filesystem.');
  return tools;
}
