// The harness's output: the table of medians with sluice's ratio to the peer, nginx, the Node floor
// and the limits, the issue's targets (met, missed or not measured), and the JSON file that keeps it all.
import { writeFileSync } from 'node:fs';
import { formatRatio, formatValue, type Column, type MedianFigure, type RunRecord } from './figures';

export interface TargetResult {
  text: string;
  /** The measured ratio or value compared with the bound. */
  measured: number | undefined;
  bound: number;
  unit: '×' | 'MB' | 's';
  status: 'met' | 'missed' | 'not measured';
  why?: string;
}

type Lookup = (id: string, column: Column) => number | undefined;

interface TargetSpec {
  text: string;
  bound: number;
  unit: TargetResult['unit'];
  cmp: '>=' | '<=';
  measure(v: Lookup, r: (id: string, column: Exclude<Column, 'sluice'>) => number | undefined): number | undefined;
  missing: string;
}

/** The performance issue's targets: ratios within one run, one sluice process unless named. */
const TARGETS: TargetSpec[] = [
  { text: '4 KiB PUT ≥ 1.0 × the Node floor', bound: 1, unit: '×', cmp: '>=', measure: (_v, r) => r('put4k', 'floor'), missing: 'needs workload 2 on sluice and the floor' },
  { text: '4 KiB PUT ≥ 3 × s3rver', bound: 3, unit: '×', cmp: '>=', measure: (_v, r) => r('put4k', 's3rver'), missing: 'needs workload 2 on sluice and s3rver' },
  { text: '4 KiB GET ≥ 0.15 × nginx (one process)', bound: 0.15, unit: '×', cmp: '>=', measure: (_v, r) => r('get4k', 'nginx'), missing: 'needs workload 2 on sluice and nginx' },
  { text: '4 KiB HEAD ≥ 0.15 × nginx (one process)', bound: 0.15, unit: '×', cmp: '>=', measure: (_v, r) => r('head4k', 'nginx'), missing: 'needs workload 2 on sluice and nginx' },
  { text: '4 KiB GET ≥ 0.25 × nginx with --workers 2', bound: 0.25, unit: '×', cmp: '>=', measure: (_v, r) => r('workers2', 'nginx'), missing: 'needs workloads 2 and 7, nginx and sluice serve --workers' },
  { text: '4 KiB HEAD ≥ 0.25 × nginx with --workers 2', bound: 0.25, unit: '×', cmp: '>=', measure: (_v, r) => r('workers2Head', 'nginx'), missing: 'needs workloads 2 and 7, nginx and sluice serve --workers' },
  { text: '1 GiB GET ≥ 0.9 × nginx', bound: 0.9, unit: '×', cmp: '>=', measure: (_v, r) => r('get1g', 'nginx'), missing: 'needs workload 1 on sluice and nginx' },
  { text: '1 GiB PUT ≥ 0.8 × nginx', bound: 0.8, unit: '×', cmp: '>=', measure: (_v, r) => r('put1g', 'nginx'), missing: 'needs workload 1 on sluice and nginx' },
  { text: 'peak RSS ≤ 150 MB under 16 × 256 MiB concurrent PUTs', bound: 150, unit: 'MB', cmp: '<=', measure: (v) => v('rss16', 'sluice'), missing: 'needs workload 4' },
  { text: 'idle RSS ≤ 60 MB', bound: 60, unit: 'MB', cmp: '<=', measure: (v) => v('idleRss', 'sluice'), missing: 'sluice did not start' },
  { text: 'ListObjectsV2 first page: 1M-key bucket ÷ 10k-key bucket ≤ 2', bound: 2, unit: '×', cmp: '<=', measure: (v) => v('listRatio', 'sluice'), missing: 'needs workload 3' },
  { text: 'fairness: 4 KiB GET p99 beside two big PUTs ≤ 5 × p99 alone', bound: 5, unit: '×', cmp: '<=', measure: (v) => v('fairness', 'sluice'), missing: 'needs workload 6' },
  { text: 'CompleteMultipartUpload ≤ 1.3 × cat of the parts', bound: 1.3, unit: '×', cmp: '<=', measure: (_v, r) => r('complete', 'limit'), missing: 'needs workload 5' },
  { text: 'cache: hot GET ≥ 5 × uncached GET through the slow under store', bound: 5, unit: '×', cmp: '>=', measure: (v) => v('cacheSpeedup', 'sluice'), missing: 'needs workload 8, sluice serve --cache-dir and the slow FUSE store' },
  { text: 'cache: a hit costs ≤ 1.1 × a plain GET (hit ops/s ≥ plain ÷ 1.1)', bound: 1.1, unit: '×', cmp: '<=', measure: (v) => v('cacheHitCost', 'sluice'), missing: 'needs workload 8 and sluice serve --cache-dir' },
];

export function evaluateTargets(figures: MedianFigure[], notes: string[]): TargetResult[] {
  const byId = new Map(figures.map((f) => [f.id, f]));
  const v: Lookup = (id, column) => byId.get(id)?.values[column];
  const r = (id: string, column: Exclude<Column, 'sluice'>): number | undefined => byId.get(id)?.ratios[column];
  return TARGETS.map((t) => {
    const measured = t.measure(v, r);
    if (measured === undefined) {
      const why = `not measured in this run (${t.missing}${notes.length > 0 ? '; see the notes' : ''})`;
      return { text: t.text, measured, bound: t.bound, unit: t.unit, status: 'not measured', why };
    }
    const met = t.cmp === '>=' ? measured >= t.bound : measured <= t.bound;
    return { text: t.text, measured, bound: t.bound, unit: t.unit, status: met ? 'met' : 'missed' };
  });
}

function pad(text: string, width: number, right = false): string {
  const len = [...text].length;
  return len >= width ? text : right ? ' '.repeat(width - len) + text : text + ' '.repeat(width - len);
}

/** The table as text: one row per figure, grouped by workload, ratios of sluice to each column. */
export function table(figures: MedianFigure[]): string {
  const header = ['figure', 'unit', 'sluice', 's3rver', 'nginx', 'floor', 'limit', '÷s3rver', '÷nginx', '÷floor', '÷limit'];
  const rows: string[][] = [];
  let workload = '';
  for (const f of figures) {
    if (Object.keys(f.values).length === 0) continue;
    if (f.workload !== workload) {
      workload = f.workload;
      rows.push([workload]);
    }
    const arrow = f.better === 'higher' ? '↑' : '↓';
    rows.push([
      `  ${f.label}${f.limitName !== undefined && f.values.limit !== undefined && f.values.sluice !== undefined ? ` [limit: ${f.limitName}]` : ''}`,
      `${f.unit} ${arrow}`,
      formatValue(f.values.sluice),
      formatValue(f.values.s3rver),
      formatValue(f.values.nginx),
      formatValue(f.values.floor),
      formatValue(f.values.limit),
      formatRatio(f.ratios.s3rver),
      formatRatio(f.ratios.nginx),
      formatRatio(f.ratios.floor),
      formatRatio(f.ratios.limit),
    ]);
  }
  const widths = header.map((h, i) => Math.max([...h].length, ...rows.filter((r) => r.length > 1).map((r) => [...(r[i] ?? '')].length)));
  const line = (cells: string[]): string => cells.map((c, i) => pad(c, widths[i] ?? 0, i >= 2)).join('  ');
  const out = [line(header), widths.map((w) => '─'.repeat(w)).join('  ')];
  for (const r of rows) out.push(r.length === 1 ? (r[0] ?? '') : line(r));
  return out.join('\n');
}

export function targetLines(targets: TargetResult[]): string {
  return targets
    .map((t) => {
      const mark = t.status === 'met' ? 'MET   ' : t.status === 'missed' ? 'MISSED' : 'n/a   ';
      const measured = t.measured === undefined ? t.why ?? '' : `${formatValue(t.measured)}${t.unit === '×' ? '×' : ' ' + t.unit}`;
      return `${mark}  ${t.text}: ${measured}`;
    })
    .join('\n');
}

export interface BenchReport {
  date: string;
  machine: { cpus: number; node: string; platform: string };
  options: Record<string, unknown>;
  tools: Record<string, string>;
  /** The commit sluice was built from, `+dirty` when the work tree had changes. */
  sluiceRevision: string;
  figures: MedianFigure[];
  targets: TargetResult[];
  notes: string[];
  runs: { values: RunRecord['values']; notes: string[]; load: RunRecord['load'] }[];
}

export function writeJson(path: string, report: BenchReport): void {
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}
