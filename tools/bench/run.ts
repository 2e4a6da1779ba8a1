// `make bench`: starts sluice, s3rver and nginx side by side on 127.0.0.1, runs the workloads of
// issue 5 against each, several times, and prints (and saves as JSON and SVG) the medians, sluice's
// ratios to the peer and the limits, and which of the issue's targets are met.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { svgChart } from './chart';
import { workers } from './cluster';
import { BUCKET, sourceFile, type Bench } from './context';
import { catalogue, medians, RunRecord } from './figures';
import { returnLent } from './keys';
import { nodeMd5Rate, opensslMd5Rate } from './limits';
import { readOptions, sizeLabel, type BenchOptions } from './options';
import { rssMb, run, sleep, which } from './proc';
import { evaluateTargets, table, targetLines, writeJson, type BenchReport } from './report';
import { fairness, listings, prepareListings, smallObjects } from './requests';
import { startNginx, startS3rver, startSluice, type Programs, type Server } from './servers';
import { bigObject, manyAtOnce, multipart } from './transfers';

const REPO = resolve(__dirname, '../../..');
const log = (line: string): void => void process.stdout.write(`${line}\n`);
const running = new Set<Server>();

/** nginx and wrk are optional: installed on request (BENCH_INSTALL=1), otherwise the run goes on without them. */
async function optionalTools(o: BenchOptions): Promise<{ nginx: string | undefined; wrk: string | undefined }> {
  let nginx = which('nginx');
  let wrk = which('wrk');
  const missing = [nginx === undefined ? 'nginx' : '', wrk === undefined ? 'wrk' : ''].filter((s) => s !== '');
  if (missing.length > 0 && o.install) {
    log(`BENCH_INSTALL=1: apt-get install -y ${missing.join(' ')}`);
    const apt = (args: string[]) => (process.getuid?.() === 0 ? run('apt-get', args) : run('sudo', ['apt-get', ...args]));
    await apt(['update']);
    const out = await apt(['install', '-y', ...missing]);
    if (out.code !== 0) log(`  apt-get failed: ${out.stderr.trim().split('\n').pop() ?? ''}`);
    nginx = which('nginx');
    wrk = which('wrk');
  } else if (missing.length > 0) {
    log(`Not installed: ${missing.join(', ')}. To include ${missing.length > 1 ? 'them' : 'it'}: apt-get install -y ${missing.join(' ')}  (or: make bench BENCH_INSTALL=1)`);
  }
  if (nginx === undefined) log('  nginx is missing: the raw-HTTP limit (sendfile GET, WebDAV PUT) is not measured in this run.');
  if (wrk === undefined) log('  wrk is missing: the 4 KiB load comes from tools/bench/loadgen (a Node keep-alive client, slower than wrk).');
  return { nginx, wrk };
}

function s3rverBin(): string | undefined {
  try {
    return require.resolve('s3rver/bin/s3rver.js', { paths: [REPO] });
  } catch {
    return undefined;
  }
}

/** Run roots of runs that ended without cleaning up (killed): removed when their process is gone. */
function removeStaleRunDirs(outDir: string): void {
  if (!existsSync(outDir)) return;
  for (const name of readdirSync(outDir)) {
    const match = /^run-(\d+)-\d+$/.exec(name);
    if (match === null || existsSync(`/proc/${match[1]}`)) continue;
    rmSync(join(outDir, name), { recursive: true, force: true });
  }
}

async function startAll(o: BenchOptions, programs: Programs, runDir: string, record: RunRecord): Promise<Server[]> {
  const servers: Server[] = [];
  const starters: Record<string, () => Promise<Server>> = {
    // One process, like the peers; workload 7 measures --workers.
    sluice: () => startSluice(programs, join(runDir, 'sluice'), { nodeArgs: o.sluiceNodeArgs, workers: 1 }),
    s3rver: () => startS3rver(programs, join(runDir, 's3rver')),
    nginx: () => startNginx(programs, join(runDir, 'nginx-root'), join(runDir, 'nginx-conf')),
  };
  for (const name of o.servers) {
    if (name === 'nginx' && programs.nginx === undefined) continue;
    try {
      const server = await (starters[name] as () => Promise<Server>)();
      running.add(server);
      servers.push(server);
      await server.createBucket(BUCKET);
      record.set('startup', server.name, server.startupMs);
    } catch (err) {
      record.note(`${name} did not start: ${(err as Error).message}`);
      log(`  ! ${name} did not start: ${(err as Error).message}`);
    }
  }
  await sleep(1000);
  for (const s of servers) record.set('idleRss', s.name, rssMb(s.pid));
  return servers;
}

async function stopAll(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
  running.clear();
}

async function oneRun(o: BenchOptions, programs: Programs, wrk: string | undefined, files: Bench['files'], index: number): Promise<RunRecord> {
  const record = new RunRecord();
  const runDir = join(o.outDir, `run-${process.pid}-${index}`);
  mkdirSync(runDir, { recursive: true });
  try {
    record.load.start = loadavg()[0];
    log(`\n── run ${index} of ${o.runs} ── (load average ${record.load.start?.toFixed(1)} on ${cpus().length} cores)`);
    record.set('md5', 'limit', nodeMd5Rate());
    record.set('md5openssl', 'limit', await opensslMd5Rate());
    const servers = await startAll(o, programs, runDir, record);
    for (const s of servers) log(`  ${s.name}: first answer after ${s.startupMs.toFixed(0)} ms, idle RSS ${record.get('idleRss', s.name)?.toFixed(1)} MB`);
    const b: Bench = { o, servers, runDir, files, tools: { wrk, loadgen: join(__dirname, 'loadgen.js'), scriptDir: runDir }, record, log };
    const workloads: [number, string, () => Promise<void>][] = [
      [1, `one ${sizeLabel(o.bigBytes)} PUT then GET`, () => bigObject(b)],
      [2, `${sizeLabel(o.smallBytes)} PUT, GET, HEAD with ${o.connections} connections`, () => smallObjects(b)],
      [3, 'ListObjectsV2 first pages', () => listings(b)],
      [4, `${o.concurrentCount} × ${sizeLabel(o.concurrentBytes)} PUT then GET at once`, () => manyAtOnce(b)],
      [5, `CompleteMultipartUpload of ${sizeLabel(o.multipartBytes)} in ${o.multipartParts} parts`, () => multipart(b)],
      [6, 'fairness: 4 KiB GET latency alone and beside two big PUTs', () => fairness(b)],
      [7, 'sluice --workers 1 and 2', () => workers(b, programs)],
    ];
    for (const [n, what, fn] of workloads) {
      if (!o.workloads.has(n)) continue;
      const started = Date.now();
      log(`workload ${n}: ${what}`);
      try {
        await fn();
      } catch (err) {
        record.note(`workload ${n} stopped: ${(err as Error).message}`);
        log(`  ! workload ${n} stopped: ${(err as Error).message}`);
      }
      log(`  (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
  } finally {
    record.load.end = loadavg()[0];
    await stopAll();
    returnLent();
    rmSync(runDir, { recursive: true, force: true });
  }
  return record;
}

async function revision(): Promise<string> {
  const head = await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO }).catch(() => undefined);
  if (head === undefined || head.code !== 0) return 'unknown';
  const dirty = await run('git', ['status', '--porcelain', '--', 'source'], { cwd: REPO });
  return `${head.stdout.trim()}${dirty.stdout.trim() === '' ? '' : '+dirty'}`;
}

function stamp(): string {
  return new Date().toISOString().replace(/[:]/g, '').replace(/\..*$/, '');
}

async function main(): Promise<void> {
  const o = readOptions(REPO);
  const startedAll = Date.now();
  if (which('curl') === undefined) throw new Error('curl is needed for the big transfers: apt-get install -y curl');
  const { nginx, wrk } = await optionalTools(o);
  const programs: Programs = { sluiceMain: join(REPO, 'dist/source/cli/main.js'), s3rverBin: s3rverBin(), nginx };
  if (programs.s3rverBin === undefined) log('s3rver is missing (npm ci installs it, a devDependency): the peer is not measured.');
  if (!existsSync(programs.sluiceMain)) throw new Error(`${programs.sluiceMain} is missing: run make build`);
  mkdirSync(o.cacheDir, { recursive: true });
  removeStaleRunDirs(o.outDir);
  const sluiceRevision = await revision();
  log(`sluice benchmark: ${o.quick ? 'quick' : 'full'}, ${o.runs} run(s), servers: ${o.servers.join(', ')}; sluice ${sluiceRevision}; ${cpus().length} cores, node ${process.version}`);
  log('Figures are medians over the runs; a ratio is sluice ÷ the other, taken within each run. MB = 10^6 bytes.');
  const files = {
    big: sourceFile(o.cacheDir, o.bigBytes),
    concurrent: sourceFile(o.cacheDir, o.concurrentBytes),
    part: sourceFile(o.cacheDir, o.multipartBytes / o.multipartParts),
  };
  if (o.workloads.has(3)) await prepareListings(o, o.servers, log);
  const setupSeconds = (Date.now() - startedAll) / 1000;
  if (setupSeconds > 10) log(`(setup: ${setupSeconds.toFixed(0)} s, not counted in the time budget of the runs)`);
  const runsStarted = Date.now();
  const records: RunRecord[] = [];
  for (let i = 1; i <= o.runs; i++) {
    records.push(await oneRun(o, programs, wrk, files, i));
    const elapsed = Date.now() - runsStarted;
    if (i < o.runs && o.budgetMinutes > 0 && elapsed + elapsed / i > o.budgetMinutes * 60_000) {
      const line = `stopped after ${i} of ${o.runs} runs: another would end past the ${o.budgetMinutes}-minute budget (BENCH_BUDGET_MIN; 0 lifts it)`;
      log(`\n${line}`);
      records[0]?.note(line);
      break;
    }
  }

  const figures = medians(catalogue(o), records);
  const notes = [...new Set(records.flatMap((r) => r.notes))];
  const targets = evaluateTargets(figures, notes);
  const minutes = (Date.now() - startedAll) / 60_000;
  log(`\n${table(figures)}\n`);
  log(`Targets of issue 5${o.quick ? ' (quick run: smaller objects and buckets than the targets name)' : ''}:`);
  log(targetLines(targets));
  const loads = records.map((r) => `${r.load.start?.toFixed(1) ?? '?'}→${r.load.end?.toFixed(1) ?? '?'}`).join(', ');
  log(`\nLoad average during the runs (start→end, ${cpus().length} cores): ${loads}; above the core count, other work shared the machine.`);
  if (notes.length > 0) log(`\nNotes:\n${notes.map((n) => `  - ${n}`).join('\n')}`);

  const report: BenchReport = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, platform: `${process.platform} ${process.arch}` },
    options: { ...o, workloads: [...o.workloads], runsDone: records.length },
    tools: { load: wrk === undefined ? 'tools/bench/loadgen (node)' : wrk, nginx: nginx ?? 'missing', s3rver: programs.s3rverBin ?? 'missing' },
    sluiceRevision,
    figures,
    targets,
    notes,
    runs: records.map((r) => ({ values: r.values, notes: r.notes, load: r.load })),
  };
  const name = `bench-${o.quick ? 'quick-' : ''}${stamp()}`;
  const jsonPath = join(o.outDir, `${name}.json`);
  const svgPath = join(o.outDir, `${name}.svg`);
  writeJson(jsonPath, report);
  const subtitle = `${o.quick ? 'quick' : 'full'} run, median of ${records.length}; sluice ${sluiceRevision}; ${cpus().length} cores (load average ${loads}), node ${process.version}; client: ${wrk === undefined ? 'node loadgen' : 'wrk'}; ${report.date}`;
  writeFileSync(svgPath, svgChart('sluice against s3rver (peer), nginx and the machine (limits)', subtitle, figures, targets));
  writeJson(join(o.outDir, 'latest.json'), report);
  writeFileSync(join(o.outDir, 'latest.svg'), svgChart('sluice against s3rver (peer), nginx and the machine (limits)', subtitle, figures, targets));
  log(`\nSaved ${jsonPath} and ${svgPath} (also latest.json, latest.svg) in ${minutes.toFixed(1)} min.`);
}

function interrupted(signal: NodeJS.Signals): void {
  log(`\n${signal}: stopping the servers`);
  void stopAll().finally(() => {
    returnLent();
    process.exit(130);
  });
}
process.once('SIGINT', interrupted);
process.once('SIGTERM', interrupted);

main().catch(async (err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  await stopAll();
  returnLent();
  process.exit(1);
});
