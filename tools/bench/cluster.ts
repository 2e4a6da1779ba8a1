// Workload 7: sluice with --workers 1 and --workers 2 (node:cluster), 4 KiB GET and HEAD ops/s of
// each, when sluice has the option; otherwise a note says it was not measured. The other servers'
// figures on these rows are theirs from workload 2 of the same round, so `--workers 2 ÷ nginx` is a
// ratio within one run.
import { join } from 'node:path';
import { rotate, smallKeys, writeKeys, type Bench } from './context';
import { run, sleep } from './proc';
import { checked, smallLoad } from './requests';
import { startSluice, type Programs } from './servers';

export async function sluiceHasFlag(programs: Programs, flag: string): Promise<boolean> {
  const help = await run(process.execPath, [programs.sluiceMain, 'serve', '--help']);
  return new RegExp(`${flag}\\b`).test(help.stdout + help.stderr);
}

/** Workload 7's rows and the workload 2 figure the other servers show on each. */
const ROWS = [
  { id: 'workers1', n: 1, method: 'GET', peer: 'get4k' },
  { id: 'workers1Head', n: 1, method: 'HEAD', peer: 'head4k' },
  { id: 'workers2', n: 2, method: 'GET', peer: 'get4k' },
  { id: 'workers2Head', n: 2, method: 'HEAD', peer: 'head4k' },
] as const;

export async function workers(b: Bench, programs: Programs): Promise<void> {
  if (!(await sluiceHasFlag(programs, '--workers'))) {
    b.record.note('workload 7: `sluice serve` has no --workers option yet; the cluster target is not measured');
    return;
  }
  for (const n of rotate([1, 2], b.round)) {
    const server = await startSluice(programs, join(b.runDir, `sluice-workers-${n}`), { nodeArgs: [], workers: n });
    try {
      await server.createBucket('bench');
      await writeKeys(server, smallKeys(b.o));
      const shown: string[] = [];
      for (const row of ROWS.filter((r) => r.n === n)) {
        await sleep(500);
        const r = checked(`--workers ${n} ${row.method}`, await smallLoad(b, server, row.method, b.o.connections, b.o.loadSeconds, 2));
        b.record.set(row.id, 'sluice', r.opsPerSecond);
        shown.push(`${row.method} ${Math.round(r.opsPerSecond)}/s`);
      }
      b.log(`  sluice --workers ${n}: ${shown.join(', ')}`);
    } finally {
      await server.stop();
    }
  }
  const one = b.record.get('workers1', 'sluice');
  const two = b.record.get('workers2', 'sluice');
  if (one !== undefined && two !== undefined && one > 0) b.record.set('workersRatio', 'sluice', two / one);
  for (const s of b.servers) {
    if (s.name === 'sluice') continue;
    for (const row of ROWS) b.record.set(row.id, s.name, b.record.get(row.peer, s.name));
  }
}
