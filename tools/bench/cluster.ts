// Workload 7: sluice with --workers 1 and --workers 2 (node:cluster), 4 KiB GET ops/s of each,
// when sluice has the option; otherwise a note says it was not measured.
import { join } from 'node:path';
import { preloadSmall, type Bench } from './context';
import { run, sleep } from './proc';
import { smallLoad } from './requests';
import { startSluice, type Programs } from './servers';

export async function sluiceHasWorkers(programs: Programs): Promise<boolean> {
  const help = await run(process.execPath, [programs.sluiceMain, 'serve', '--help']);
  return /--workers\b/.test(help.stdout + help.stderr);
}

export async function workers(b: Bench, programs: Programs): Promise<void> {
  if (!(await sluiceHasWorkers(programs))) {
    b.record.note('workload 7: `sluice serve` has no --workers option yet; the cluster target is not measured');
    return;
  }
  const rates: number[] = [];
  for (const n of [1, 2]) {
    const server = await startSluice(programs, join(b.runDir, `sluice-workers-${n}`), { nodeArgs: [], workers: n });
    try {
      await server.createBucket('bench');
      await preloadSmall(b, server);
      await sleep(500);
      const r = await smallLoad(b, server, 'GET', b.o.connections, b.o.loadSeconds, 2);
      if (r.errors > r.requests / 100) throw new Error(`--workers ${n}: ${r.errors} of ${r.requests} requests failed`);
      rates.push(r.opsPerSecond);
      b.record.set(`workers${n}`, 'sluice', r.opsPerSecond);
      b.log(`  sluice --workers ${n}: GET ${Math.round(r.opsPerSecond)}/s`);
    } finally {
      await server.stop();
    }
  }
  const [one, two] = rates;
  if (one !== undefined && two !== undefined && one > 0) b.record.set('workersRatio', 'sluice', two / one);
}
