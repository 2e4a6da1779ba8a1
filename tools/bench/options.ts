// The harness's settings: sizes and durations of a full or quick run, read from BENCH_* variables
// and the command line (`--disk`).
import { resolve } from 'node:path';

/** floor: the Node floor (tools/bench/node-floor.ts), plain node:http on files, the yardstick. */
export const SERVER_NAMES = ['sluice', 's3rver', 'nginx', 'floor'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

/** nginx and the Node floor store and serve files; only sluice and s3rver list and do multipart. */
export function speaksS3(name: ServerName): boolean {
  return name === 'sluice' || name === 's3rver';
}

export const WORKLOADS = [1, 2, 3, 4, 5, 6, 7, 8] as const;

export interface BenchOptions {
  quick: boolean;
  runs: number;
  /** Minutes a whole run may take (BENCH_BUDGET_MIN, 0: no limit): no further run starts that would end past it. */
  budgetMinutes: number;
  /** apt-get install nginx, wrk and the FUSE bits (python3-fusepy, fuse3) when they are missing (BENCH_INSTALL=1). */
  install: boolean;
  /** Roots on the real disk (`--disk`, BENCH_DISK=1) instead of a tmpfs the bench mounts. */
  disk: boolean;
  /** Size of that tmpfs, in bytes: room for the largest workload (BENCH_TMPFS_MIB overrides). */
  tmpfsBytes: number;
  /** Servers to run (BENCH_SERVERS=sluice,nginx); all by default. */
  servers: ServerName[];
  /** Workloads to run (BENCH_ONLY=1,2,6); all by default. */
  workloads: Set<number>;
  /** Extra node flags for sluice (BENCH_SLUICE_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/p'). */
  sluiceNodeArgs: string[];
  /** Workload 1 and the streams of workload 6: one object of this size. */
  bigBytes: number;
  /** Workload 4: this many objects of concurrentBytes each, all at once. */
  concurrentCount: number;
  concurrentBytes: number;
  /** Workload 5: an upload of multipartParts parts of multipartBytes / multipartParts each. */
  multipartBytes: number;
  multipartParts: number;
  smallBytes: number;
  /** Workload 2: distinct keys the 4 KiB requests cycle through. */
  smallKeys: number;
  connections: number;
  loadSeconds: number;
  /** Workload 3: the two bucket sizes whose first pages are compared. */
  listSmall: number;
  listLarge: number;
  listRepeats: number;
  fairnessConnections: number;
  fairnessSeconds: number;
  /** Workload 8: the hot set, cacheKeys objects of cacheBytes, read again and again. */
  cacheKeys: number;
  cacheBytes: number;
  /** Workload 8: the sleep of the slow under store before each lookup, open and read (BENCH_UFS_LATENCY_MS). */
  ufsLatencyMs: number;
  /** Workload 8: how long the kernel keeps the slow store's attributes and names (BENCH_UFS_ATTR_CACHE_S). */
  ufsAttrCacheS: number;
  /** tools/bench/out: results, run roots and the cache of key trees. */
  outDir: string;
  cacheDir: string;
}

const MiB = 1024 * 1024;

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not ${JSON.stringify(raw)}`);
  return n;
}

function nonNegative(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number ≥ 0, not ${JSON.stringify(raw)}`);
  return n;
}

function flag(name: string): boolean {
  const raw = process.env[name];
  return raw !== undefined && raw !== '' && raw !== '0' && raw.toLowerCase() !== 'false';
}

function serverList(): ServerName[] {
  const raw = process.env.BENCH_SERVERS;
  if (raw === undefined || raw === '') return [...SERVER_NAMES];
  const names = raw.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!(SERVER_NAMES as readonly string[]).includes(n)) throw new Error(`BENCH_SERVERS: unknown server ${n} (known: ${SERVER_NAMES.join(', ')})`);
  }
  return names as ServerName[];
}

function workloadList(): Set<number> {
  const raw = process.env.BENCH_ONLY;
  if (raw === undefined || raw === '') return new Set<number>(WORKLOADS);
  return new Set(raw.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n)));
}

/** The command line: `--disk` alone (the rest is set by BENCH_* variables). */
function diskArgument(argv: string[]): boolean {
  for (const arg of argv) {
    if (arg !== '--disk') throw new Error(`unknown argument ${JSON.stringify(arg)}: the only option is --disk (roots on the real disk); the rest is set by BENCH_* variables (tools/bench/README.md)`);
  }
  return argv.length > 0;
}

/**
 * Room on the tmpfs for the largest workload with a margin: the 16 concurrent objects, the two
 * fairness streams (each an object and its replacement being written), a multipart upload's parts
 * and its assembly; whatever a workload writes is deleted before the next server's turn.
 */
function tmpfsBytes(o: Pick<BenchOptions, 'bigBytes' | 'concurrentCount' | 'concurrentBytes' | 'multipartBytes'>): number {
  const override = process.env.BENCH_TMPFS_MIB;
  if (override !== undefined && override !== '') return positiveInt('BENCH_TMPFS_MIB', 1) * MiB;
  const largest = Math.max(4 * o.bigBytes, 1.25 * o.concurrentCount * o.concurrentBytes, 2 * o.multipartBytes);
  return Math.ceil((largest + 512 * MiB) / (1024 * MiB)) * 1024 * MiB;
}

export function readOptions(repoRoot: string, argv: string[]): BenchOptions {
  const quick = flag('BENCH_QUICK');
  const outDir = resolve(repoRoot, 'tools/bench/out');
  const sizes = {
    bigBytes: (quick ? 256 : 1024) * MiB,
    concurrentCount: 16,
    concurrentBytes: (quick ? 64 : 256) * MiB,
    multipartBytes: (quick ? 256 : 1024) * MiB,
  };
  return {
    quick,
    runs: positiveInt('BENCH_RUNS', quick ? 1 : 3),
    budgetMinutes: process.env.BENCH_BUDGET_MIN === '0' ? 0 : positiveInt('BENCH_BUDGET_MIN', 30),
    install: flag('BENCH_INSTALL'),
    disk: diskArgument(argv) || flag('BENCH_DISK'),
    tmpfsBytes: tmpfsBytes(sizes),
    servers: serverList(),
    workloads: workloadList(),
    sluiceNodeArgs: (process.env.BENCH_SLUICE_NODE_ARGS ?? '').split(' ').filter((s) => s !== ''),
    ...sizes,
    multipartParts: 16,
    smallBytes: 4096,
    smallKeys: 1000,
    connections: 64,
    loadSeconds: positiveInt('BENCH_SECONDS', quick ? 3 : 5),
    listSmall: 10_000,
    listLarge: quick ? 100_000 : 1_000_000,
    listRepeats: 7,
    fairnessConnections: 8,
    fairnessSeconds: positiveInt('BENCH_SECONDS', quick ? 3 : 5),
    cacheKeys: 1000,
    cacheBytes: 64 * 1024,
    ufsLatencyMs: nonNegative('BENCH_UFS_LATENCY_MS', 2),
    ufsAttrCacheS: nonNegative('BENCH_UFS_ATTR_CACHE_S', 1),
    outDir,
    cacheDir: resolve(outDir, 'cache'),
  };
}

/** 1 GiB, 256 MiB, 100k, 1M: sizes and counts as labels. */
export function sizeLabel(bytes: number): string {
  if (bytes >= 1024 * MiB && bytes % (1024 * MiB) === 0) return `${bytes / (1024 * MiB)} GiB`;
  if (bytes >= MiB) return `${Math.round(bytes / MiB)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}

export function countLabel(n: number): string {
  if (n >= 1_000_000 && n % 1_000_000 === 0) return `${n / 1_000_000}M`;
  if (n >= 1000 && n % 1000 === 0) return `${n / 1000}k`;
  return String(n);
}
