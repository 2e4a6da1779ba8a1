// `make bench`: starts sluice, s3rver, nginx and the Node floor side by side on 127.0.0.1, with
// their roots on a tmpfs the bench mounts (or on the disk: --disk), runs every workload against
// each, round by round with the servers' order turning, and prints (and saves as JSON and SVG) the
// medians, sluice's ratios to the others and to the limits, and which targets are met.
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { cache } from './cache';
import { svgChart } from './chart';
import { workers } from './cluster';
import { BUCKET, rotate, sourceFile, type Bench } from './context';
import { catalogue, medians, RunRecord } from './figures';
import { returnLent } from './keys';
import { nodeMd5Rate, opensslMd5Rate } from './limits';
import { mountRootsTmpfs, mountsUnder, unmountAll, unmountStale, unmountTree } from './mounts';
import { readOptions, sizeLabel, type BenchOptions, type ServerName } from './options';
import { rssMb, run, sleep, which } from './proc';
import { evaluateTargets, table, targetLines, writeJson, type BenchReport } from './report';
import { fairness, listings, prepareListings, smallObjects } from './requests';
import { startFloor, startNginx, startS3rver, startSluice, stopAllServers, type Programs, type Server } from './servers';
import { optionalTools } from './tools';
import { bigObject, manyAtOnce, multipart } from './transfers';

const REPO = resolve(__dirname, '../../..');
const log = (line: string): void => void process.stdout.write(`${line}\n`);

/** Where the servers' roots live this time: a tmpfs mounted by the bench, or the disk. */
interface Roots {
  dir: string;
  kind: 'tmpfs' | 'disk';
  label: string;
}
let roots: Roots | undefined;
/** Set by SIGINT or SIGTERM: no further workload or run starts. */
let stopping = false;

function chooseRoots(o: BenchOptions): Roots {
  if (o.disk) return { dir: o.outDir, kind: 'disk', label: 'roots on the disk (asked for: --disk or BENCH_DISK=1)' };
  const tmpfs = mountRootsTmpfs(o.outDir, o.tmpfsBytes);
  if ('dir' in tmpfs) return { dir: tmpfs.dir, kind: 'tmpfs', label: `roots on a ${sizeLabel(o.tmpfsBytes)} tmpfs mounted by the bench` };
  return { dir: o.outDir, kind: 'disk', label: `roots on the disk, NOT a tmpfs: ${tmpfs.why}` };
}

/** Stops every server, gives back lent key sets, unmounts all the bench mounted: every exit path. */
async function release(): Promise<void> {
  await stopAllServers();
  returnLent();
  for (const problem of unmountAll()) log(`  ! ${problem}`);
  if (roots?.kind === 'tmpfs') {
    try {
      rmdirSync(roots.dir);
    } catch {
      // still in use: the next run's clean-up removes it
    }
  }
}

function s3rverBin(): string | undefined {
  try {
    return require.resolve('s3rver/bin/s3rver.js', { paths: [REPO] });
  } catch {
    return undefined;
  }
}

/**
 * Run roots and tmpfs mount points of runs that ended without cleaning up (killed): removed when
 * their process is gone, once nothing is mounted under them (unmountStale runs first).
 */
function removeStaleRunDirs(outDir: string): void {
  if (!existsSync(outDir)) return;
  for (const name of readdirSync(outDir)) {
    const match = /^(?:run-(\d+)-\d+|tmpfs-(\d+))$/.exec(name);
    const pid = match?.[1] ?? match?.[2];
    if (pid === undefined || existsSync(`/proc/${pid}`) || mountsUnder(join(outDir, name)).length > 0) continue;
    rmSync(join(outDir, name), { recursive: true, force: true });
  }
}

/** Starts the servers in this round's order (which is also the order every workload takes them in). */
async function startAll(o: BenchOptions, programs: Programs, runDir: string, record: RunRecord, order: ServerName[]): Promise<Server[]> {
  const servers: Server[] = [];
  const starters: Record<ServerName, () => Promise<Server>> = {
    // One process, like the others; workload 7 measures --workers.
    sluice: () => startSluice(programs, join(runDir, 'sluice'), { nodeArgs: o.sluiceNodeArgs, workers: 1 }),
    s3rver: () => startS3rver(programs, join(runDir, 's3rver')),
    nginx: () => startNginx(programs, join(runDir, 'nginx-root'), join(runDir, 'nginx-conf')),
    floor: () => startFloor(programs, join(runDir, 'floor')),
  };
  for (const name of order) {
    if (name === 'nginx' && programs.nginx === undefined) continue;
    try {
      const server = await starters[name]();
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

async function oneRun(o: BenchOptions, programs: Programs, wrk: string | undefined, files: Bench['files'], index: number, rootsDir: string): Promise<RunRecord> {
  const record = new RunRecord();
  const runDir = join(rootsDir, `run-${process.pid}-${index}`);
  mkdirSync(runDir, { recursive: true });
  try {
    record.load.start = loadavg()[0];
    const order = rotate(o.servers, index);
    log(`\n── run ${index} of ${o.runs} ── (load average ${record.load.start?.toFixed(1)} on ${cpus().length} cores; order: ${order.join(', ')})`);
    record.set('md5', 'limit', nodeMd5Rate());
    record.set('md5openssl', 'limit', await opensslMd5Rate());
    const servers = await startAll(o, programs, runDir, record, order);
    for (const s of servers) log(`  ${s.name}: first answer after ${s.startupMs.toFixed(0)} ms, idle RSS ${record.get('idleRss', s.name)?.toFixed(1)} MB`);
    const b: Bench = { o, servers, round: index, runDir, files, tools: { wrk, loadgen: join(__dirname, 'loadgen.js'), scriptDir: runDir }, record, log, stopping: () => stopping };
    const workloads: [number, string, () => Promise<void>][] = [
      [1, `one ${sizeLabel(o.bigBytes)} PUT then GET`, () => bigObject(b)],
      [2, `${sizeLabel(o.smallBytes)} PUT, GET, HEAD with ${o.connections} connections`, () => smallObjects(b)],
      [3, 'ListObjectsV2 first pages', () => listings(b)],
      [4, `${o.concurrentCount} × ${sizeLabel(o.concurrentBytes)} PUT then GET at once`, () => manyAtOnce(b)],
      [5, `CompleteMultipartUpload of ${sizeLabel(o.multipartBytes)} in ${o.multipartParts} parts`, () => multipart(b)],
      [6, 'fairness: 4 KiB GET latency alone and beside two big PUTs', () => fairness(b)],
      [7, 'sluice --workers 1 and 2', () => workers(b, programs)],
      [8, `cache: GET of a hot set of ${o.cacheKeys} × ${sizeLabel(o.cacheBytes)}, through a cache on a slow root, without, and plain`, () => cache(b, programs)],
    ];
    for (const [n, what, fn] of workloads) {
      if (stopping) break;
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
    await stopAllServers();
    returnLent();
    for (const problem of unmountTree(runDir)) record.note(problem);
    // Never recurse into a mount (a lent key set, the slow store): what is still mounted stays.
    if (mountsUnder(runDir).length === 0) rmSync(runDir, { recursive: true, force: true });
    else record.note(`${runDir} was left in place: something is still mounted under it`);
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
  const o = readOptions(REPO, process.argv.slice(2));
  const startedAll = Date.now();
  if (which('curl') === undefined) throw new Error('curl is needed for the big transfers: apt-get install -y curl');
  const { nginx, wrk } = await optionalTools(o, log);
  const programs: Programs = {
    sluiceMain: join(REPO, 'dist/source/cli/main.js'),
    s3rverBin: s3rverBin(),
    nginx,
    floorMain: join(__dirname, 'node-floor.js'),
  };
  if (programs.s3rverBin === undefined) log('s3rver is missing (npm ci installs it, a devDependency): the peer is not measured.');
  if (!existsSync(programs.sluiceMain)) throw new Error(`${programs.sluiceMain} is missing: run make build`);
  mkdirSync(o.cacheDir, { recursive: true });
  for (const line of unmountStale(o.outDir)) log(line);
  removeStaleRunDirs(o.outDir);
  roots = chooseRoots(o);
  const sluiceRevision = await revision();
  log(`sluice benchmark: ${o.quick ? 'quick' : 'full'}, ${o.runs} run(s), servers: ${o.servers.join(', ')}; sluice ${sluiceRevision}; ${cpus().length} cores, node ${process.version}`);
  log(`Servers' roots: ${roots.label}${roots.kind === 'tmpfs' ? ` at ${roots.dir}` : ''}.`);
  if (roots.kind === 'disk' && !o.disk) log('  (so the disk\'s writeback takes part in every figure that writes; as root, the bench mounts a tmpfs instead)');
  log('Figures are medians over the runs (the servers take turns going first); a ratio is sluice ÷ the other, taken within each run. MB = 10^6 bytes.');
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
  for (let i = 1; i <= o.runs && !stopping; i++) {
    records.push(await oneRun(o, programs, wrk, files, i, roots.dir));
    const elapsed = Date.now() - runsStarted;
    if (i < o.runs && o.budgetMinutes > 0 && elapsed + elapsed / i > o.budgetMinutes * 60_000) {
      const line = `stopped after ${i} of ${o.runs} runs: another would end past the ${o.budgetMinutes}-minute budget (BENCH_BUDGET_MIN; 0 lifts it)`;
      log(`\n${line}`);
      records[0]?.note(line);
      break;
    }
  }

  await release();
  const figures = medians(catalogue(o), records);
  const notes = [roots.kind === 'disk' ? roots.label : '', ...new Set(records.flatMap((r) => r.notes))].filter((n) => n !== '');
  const targets = evaluateTargets(figures, notes);
  const minutes = (Date.now() - startedAll) / 60_000;
  log(`\n${table(figures)}\n`);
  log(`Targets${o.quick ? ' (quick run: smaller objects and buckets than the targets name)' : ''}:`);
  log(targetLines(targets));
  const loads = records.map((r) => `${r.load.start?.toFixed(1) ?? '?'}→${r.load.end?.toFixed(1) ?? '?'}`).join(', ');
  log(`\nLoad average during the runs (start→end, ${cpus().length} cores): ${loads}; above the core count, other work shared the machine.`);
  if (notes.length > 0) log(`\nNotes:\n${notes.map((n) => `  - ${n}`).join('\n')}`);

  const report: BenchReport = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, platform: `${process.platform} ${process.arch}` },
    options: { ...o, workloads: [...o.workloads], runsDone: records.length, roots: roots.label },
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
  const subtitle = `${o.quick ? 'quick' : 'full'} run, median of ${records.length}; ${roots.label}; sluice ${sluiceRevision}; ${cpus().length} cores (load average ${loads}), node ${process.version}; client: ${wrk === undefined ? 'node loadgen' : 'wrk'}; ${report.date}`;
  const svg = svgChart('sluice against s3rver (peer), nginx, the Node floor and the machine (limits)', subtitle, figures, targets);
  writeFileSync(svgPath, svg);
  writeJson(join(o.outDir, 'latest.json'), report);
  writeFileSync(join(o.outDir, 'latest.svg'), svg);
  log(`\nSaved ${jsonPath} and ${svgPath} (also latest.json, latest.svg) in ${minutes.toFixed(1)} min.`);
}

function interrupted(signal: NodeJS.Signals): void {
  if (stopping) return log(`${signal} again: still stopping the servers and unmounting`);
  stopping = true;
  log(`\n${signal}: stopping the servers and unmounting`);
  void release().finally(() => process.exit(130));
}
process.on('SIGINT', interrupted);
process.on('SIGTERM', interrupted);
// The last resort, synchronous: whatever ends the process, nothing it mounted stays mounted.
process.on('exit', () => {
  returnLent();
  unmountAll();
});

main().catch(async (err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  await release();
  process.exit(1);
});
