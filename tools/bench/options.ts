// The harness's settings: sizes and durations of a full or quick run, read from BENCH_* variables.
import { resolve } from 'node:path';

export const SERVER_NAMES = ['sluice', 's3rver', 'nginx'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

export interface BenchOptions {
  quick: boolean;
  runs: number;
  /** Minutes a whole run may take (BENCH_BUDGET_MIN, 0: no limit): no further run starts that would end past it. */
  budgetMinutes: number;
  /** apt-get install nginx and wrk when they are missing (BENCH_INSTALL=1). */
  install: boolean;
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
  if (raw === undefined || raw === '') return new Set([1, 2, 3, 4, 5, 6, 7]);
  return new Set(raw.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n)));
}

export function readOptions(repoRoot: string): BenchOptions {
  const quick = flag('BENCH_QUICK');
  const outDir = resolve(repoRoot, 'tools/bench/out');
  return {
    quick,
    runs: positiveInt('BENCH_RUNS', quick ? 1 : 3),
    budgetMinutes: process.env.BENCH_BUDGET_MIN === '0' ? 0 : positiveInt('BENCH_BUDGET_MIN', 15),
    install: flag('BENCH_INSTALL'),
    servers: serverList(),
    workloads: workloadList(),
    sluiceNodeArgs: (process.env.BENCH_SLUICE_NODE_ARGS ?? '').split(' ').filter((s) => s !== ''),
    bigBytes: (quick ? 256 : 1024) * MiB,
    concurrentCount: 16,
    concurrentBytes: (quick ? 64 : 256) * MiB,
    multipartBytes: (quick ? 256 : 1024) * MiB,
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
