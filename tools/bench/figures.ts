// What the harness measures: the catalogue of figures, the values each run records, and the
// medians over runs (of the figures, and of the ratios taken within each run).
import { countLabel, sizeLabel, type BenchOptions, type ServerName } from './options';
import { median } from './proc';

export type Column = ServerName | 'limit';
export const COLUMNS: readonly Column[] = ['sluice', 's3rver', 'nginx', 'floor', 'limit'];

export interface FigureMeta {
  id: string;
  /** The workload's heading, e.g. "1 · 1 GiB object". */
  workload: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  /** What the limit column holds for this figure, when it holds something. */
  limitName?: string;
}

export function catalogue(o: BenchOptions): FigureMeta[] {
  const big = sizeLabel(o.bigBytes);
  const each = `${o.concurrentCount} × ${sizeLabel(o.concurrentBytes)}`;
  const small = sizeLabel(o.smallBytes);
  const lo = countLabel(o.listSmall);
  const hi = countLabel(o.listLarge);
  const w0 = '0 · process';
  const w1 = `1 · one ${big} object`;
  const w2 = `2 · ${small} objects, ${o.connections} connections`;
  const w3 = `3 · ListObjectsV2 first page (1000 keys)`;
  const w4 = `4 · ${each} at once`;
  const w5 = `5 · CompleteMultipartUpload of ${sizeLabel(o.multipartBytes)} in ${o.multipartParts} parts`;
  const w6 = `6 · fairness: ${small} GET, ${o.fairnessConnections} connections`;
  const w7 = `7 · --workers (node:cluster), ${small} GET and HEAD, ${o.connections} connections (the others: workload 2)`;
  const hot = `${o.cacheKeys} × ${sizeLabel(o.cacheBytes)}`;
  const w8 = `8 · cache: GET of a hot set of ${hot}, ${o.connections} connections; slow root: +${o.ufsLatencyMs} ms per lookup, open, read`;
  return [
    { id: 'startup', workload: w0, label: 'spawn → first answer', unit: 'ms', better: 'lower' },
    { id: 'idleRss', workload: w0, label: 'idle RSS', unit: 'MB', better: 'lower' },
    { id: 'md5', workload: w0, label: 'MD5 on one core (limit: node crypto)', unit: 'MB/s', better: 'higher', limitName: 'node md5' },
    { id: 'md5openssl', workload: w0, label: 'MD5 on one core (limit: openssl speed)', unit: 'MB/s', better: 'higher', limitName: 'openssl md5' },
    { id: 'put1g', workload: w1, label: `${big} PUT`, unit: 'MB/s', better: 'higher', limitName: 'node md5, 1 core' },
    { id: 'get1g', workload: w1, label: `${big} GET`, unit: 'MB/s', better: 'higher' },
    { id: 'put4k', workload: w2, label: `${small} PUT`, unit: 'ops/s', better: 'higher' },
    { id: 'get4k', workload: w2, label: `${small} GET`, unit: 'ops/s', better: 'higher' },
    { id: 'head4k', workload: w2, label: `${small} HEAD`, unit: 'ops/s', better: 'higher' },
    { id: 'list10k', workload: w3, label: `${lo} keys, d0000/k000000 tree`, unit: 'ms', better: 'lower' },
    { id: 'listFlat10k', workload: w3, label: `${lo} keys, one flat directory`, unit: 'ms', better: 'lower' },
    { id: 'list1m', workload: w3, label: `${hi} keys, tree`, unit: 'ms', better: 'lower' },
    { id: 'listRatio', workload: w3, label: `${hi} ÷ ${lo} (tree)`, unit: '×', better: 'lower' },
    { id: 'put16', workload: w4, label: 'PUT aggregate', unit: 'MB/s', better: 'higher' },
    { id: 'get16', workload: w4, label: 'GET aggregate', unit: 'MB/s', better: 'higher' },
    { id: 'rss16', workload: w4, label: 'peak RSS (VmHWM)', unit: 'MB', better: 'lower' },
    { id: 'complete', workload: w5, label: 'complete', unit: 's', better: 'lower', limitName: 'cat parts > out' },
    { id: 'p50alone', workload: w6, label: 'p50 alone', unit: 'ms', better: 'lower' },
    { id: 'p99alone', workload: w6, label: 'p99 alone', unit: 'ms', better: 'lower' },
    { id: 'p50busy', workload: w6, label: `p50 while 2 × ${big} PUT stream`, unit: 'ms', better: 'lower' },
    { id: 'p99busy', workload: w6, label: `p99 while 2 × ${big} PUT stream`, unit: 'ms', better: 'lower' },
    { id: 'fairness', workload: w6, label: 'p99 busy ÷ p99 alone', unit: '×', better: 'lower' },
    { id: 'workers1', workload: w7, label: 'GET, --workers 1', unit: 'ops/s', better: 'higher' },
    { id: 'workers2', workload: w7, label: 'GET, --workers 2', unit: 'ops/s', better: 'higher' },
    { id: 'workers1Head', workload: w7, label: 'HEAD, --workers 1', unit: 'ops/s', better: 'higher' },
    { id: 'workers2Head', workload: w7, label: 'HEAD, --workers 2', unit: 'ops/s', better: 'higher' },
    { id: 'workersRatio', workload: w7, label: 'GET, 2 workers ÷ 1', unit: '×', better: 'higher' },
    { id: 'cacheHit', workload: w8, label: '(a) hot GET through the cache, slow root', unit: 'ops/s', better: 'higher' },
    { id: 'cacheUfs', workload: w8, label: '(b) GET without a cache, slow root', unit: 'ops/s', better: 'higher' },
    { id: 'cachePlain', workload: w8, label: '(c) GET of plain sluice, fast root', unit: 'ops/s', better: 'higher' },
    { id: 'cacheSpeedup', workload: w8, label: '(a) ÷ (b): what the cache gains', unit: '×', better: 'higher' },
    { id: 'cacheHitCost', workload: w8, label: '(c) ÷ (a): what a hit costs', unit: '×', better: 'lower' },
    { id: 'cacheUfsSlowdown', workload: w8, label: '(c) ÷ (b): how slow the slow root is', unit: '×', better: 'higher' },
  ];
}

/** One run's values: figure id → column → value. */
export type RunValues = Record<string, Partial<Record<Column, number>>>;

export class RunRecord {
  readonly values: RunValues = {};
  readonly notes: string[] = [];
  /** The 1-minute load average when the run started and ended: a busy machine makes every figure noisy. */
  readonly load: { start?: number; end?: number } = {};

  set(id: string, column: Column, value: number | undefined): void {
    if (value === undefined || !Number.isFinite(value)) return;
    (this.values[id] ??= {})[column] = value;
  }

  get(id: string, column: Column): number | undefined {
    return this.values[id]?.[column];
  }

  note(line: string): void {
    if (!this.notes.includes(line)) this.notes.push(line);
  }
}

export interface MedianFigure extends FigureMeta {
  values: Partial<Record<Column, number>>;
  /** sluice ÷ that column, the median of the ratios taken within each run. */
  ratios: Partial<Record<Exclude<Column, 'sluice'>, number>>;
  runs: number;
}

/** Medians over runs; a ratio is taken inside each run (side by side) before its median. */
export function medians(metas: FigureMeta[], runs: RunRecord[]): MedianFigure[] {
  return metas.map((meta) => {
    const values: MedianFigure['values'] = {};
    const ratios: MedianFigure['ratios'] = {};
    for (const column of COLUMNS) {
      const seen = runs.map((r) => r.get(meta.id, column)).filter((v): v is number => v !== undefined);
      if (seen.length > 0) values[column] = median(seen);
      if (column === 'sluice') continue;
      const perRun = runs
        .map((r) => {
          const s = r.get(meta.id, 'sluice');
          const other = r.get(meta.id, column);
          return s === undefined || other === undefined || other === 0 ? undefined : s / other;
        })
        .filter((v): v is number => v !== undefined);
      if (perRun.length > 0) ratios[column] = median(perRun);
    }
    const runsSeen = runs.filter((r) => r.values[meta.id] !== undefined).length;
    return { ...meta, values, ratios, runs: runsSeen };
  });
}

/** A figure as it is printed: 3 significant digits, thousands grouped. */
export function formatValue(v: number | undefined): string {
  if (v === undefined) return '–';
  const abs = Math.abs(v);
  if (abs >= 1000) return Math.round(v).toLocaleString('en-US');
  if (abs >= 100) return v.toFixed(0);
  if (abs >= 10) return v.toFixed(1);
  if (abs >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

export function formatRatio(v: number | undefined): string {
  return v === undefined ? '' : `${v >= 10 ? v.toFixed(1) : v.toFixed(2)}×`;
}
