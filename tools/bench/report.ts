// The harness's output: the table of medians with sluice's ratio to the peer and to the limits,
// the issue's targets (met, missed or not measured), and the JSON file that keeps it all.
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

const TARGETS: TargetSpec[] = [
  { text: '1 GiB GET ≥ 0.9 × nginx sendfile GET', bound: 0.9, unit: '×', cmp: '>=', measure: (_v, r) => r('get1g', 'nginx'), missing: 'needs workload 1 on sluice and nginx' },
  { text: '1 GiB PUT ≥ 0.8 × nginx PUT', bound: 0.8, unit: '×', cmp: '>=', measure: (_v, r) => r('put1g', 'nginx'), missing: 'needs workload 1 on sluice and nginx' },
  { text: '1 GiB PUT ≥ 0.6 × single-core MD5 rate', bound: 0.6, unit: '×', cmp: '>=', measure: (_v, r) => r('put1g', 'limit'), missing: 'needs workload 1' },
  { text: '4 KiB GET ops/s ≥ 3 × s3rver', bound: 3, unit: '×', cmp: '>=', measure: (_v, r) => r('get4k', 's3rver'), missing: 'needs workload 2 on sluice and s3rver' },
  { text: '4 KiB PUT ops/s ≥ 2 × s3rver', bound: 2, unit: '×', cmp: '>=', measure: (_v, r) => r('put4k', 's3rver'), missing: 'needs workload 2 on sluice and s3rver' },
  { text: '4 KiB PUT ops/s ≥ 0.8 × nginx PUT', bound: 0.8, unit: '×', cmp: '>=', measure: (_v, r) => r('put4k', 'nginx'), missing: 'needs workload 2 on sluice and nginx' },
  { text: 'ListObjectsV2 first page: large bucket ≤ 2 × 10k bucket', bound: 2, unit: '×', cmp: '<=', measure: (v) => v('listRatio', 'sluice'), missing: 'needs workload 3' },
  { text: 'peak RSS under workload 4 ≤ 150 MB', bound: 150, unit: 'MB', cmp: '<=', measure: (v) => v('rss16', 'sluice'), missing: 'needs workload 4' },
  { text: 'idle RSS ≤ 60 MB', bound: 60, unit: 'MB', cmp: '<=', measure: (v) => v('idleRss', 'sluice'), missing: 'sluice did not start' },
  { text: 'start to first answered request ≤ 0.5 s', bound: 0.5, unit: 's', cmp: '<=', measure: (v) => ms(v('startup', 'sluice')), missing: 'sluice did not start' },
  { text: 'complete of the multipart object ≤ 1.3 × cat', bound: 1.3, unit: '×', cmp: '<=', measure: (_v, r) => r('complete', 'limit'), missing: 'needs workload 5' },
  { text: 'fairness: 4 KiB GET p99 while two big PUTs stream ≤ 5 × p99 alone', bound: 5, unit: '×', cmp: '<=', measure: (v) => v('fairness', 'sluice'), missing: 'needs workload 6' },
  { text: '--workers 2: 4 KiB GET ops/s ≥ 1.4 × one worker', bound: 1.4, unit: '×', cmp: '>=', measure: (v) => v('workersRatio', 'sluice'), missing: 'needs workload 7 and sluice serve --workers' },
];

function ms(v: number | undefined): number | undefined {
  return v === undefined ? undefined : v / 1000;
}

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
  const header = ['figure', 'unit', 'sluice', 's3rver', 'nginx', 'limit', '÷s3rver', '÷nginx', '÷limit'];
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
      formatValue(f.values.limit),
      formatRatio(f.ratios.s3rver),
      formatRatio(f.ratios.nginx),
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
