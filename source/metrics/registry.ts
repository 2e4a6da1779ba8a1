// The metrics of a process: counters, gauges and histograms, kept as plain numbers so that the
// request path only adds to a number. A snapshot is a JSON value, so the processes of a cluster
// can send theirs to the one that answers and have them summed; that one renders the Prometheus
// text exposition format. Adding a metric is one line where it is counted:
//
//   const hits = counter('sluice_cache_hits_total', 'Reads served from the cache');   ... hits.inc();

export type MetricType = 'counter' | 'gauge' | 'histogram';

/**
 * How the processes of a cluster combine a metric: summed, the largest value, or `local`: read by
 * the answering process alone (a gauge counted on disk, which every process would see alike).
 */
export type Merge = 'sum' | 'max' | 'local';

/** A label value; numbers (status codes) are kept as numbers, so that no string is made per request. */
export type LabelValue = string | number;

export interface SampleSnapshot {
  labels: string[];
  value: number;
  /** Histograms: the count of observations at or below each bound, then the total under +Inf. */
  buckets?: number[];
  sum?: number;
}

export interface FamilySnapshot {
  name: string;
  help: string;
  type: MetricType;
  merge: Merge;
  labelNames: string[];
  bounds?: number[];
  samples: SampleSnapshot[];
}

export type Snapshot = FamilySnapshot[];

export class Counter {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

export class Gauge {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
  dec(by = 1): void {
    this.value -= by;
  }
  set(value: number): void {
    this.value = value;
  }
}

export class Histogram {
  /** Observations per bucket (not cumulative); the last one is past every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

type Metric = Counter | Gauge | Histogram;

/** The children of a labelled metric, one per combination of label values (up to three labels). */
export class Labelled<M extends Metric> {
  private readonly children = new Map<LabelValue, unknown>();

  constructor(
    readonly labelNames: readonly string[],
    private readonly make: () => M,
  ) {}

  /** The child of these label values; looked up in nested maps, so a repeat costs no allocation. */
  labels(a: LabelValue, b?: LabelValue, c?: LabelValue): M {
    const depth = this.labelNames.length;
    let level = this.children;
    for (let i = 0; i < depth - 1; i++) {
      const value = (i === 0 ? a : b) ?? '';
      let next = level.get(value) as Map<LabelValue, unknown> | undefined;
      if (next === undefined) level.set(value, (next = new Map()));
      level = next;
    }
    const last = (depth === 1 ? a : depth === 2 ? b : c) ?? '';
    let child = level.get(last) as M | undefined;
    if (child === undefined) level.set(last, (child = this.make()));
    return child;
  }

  /** Every child with its label values. */
  *entries(): Generator<[string[], M]> {
    const walk = function* (level: Map<LabelValue, unknown>, prefix: string[], depth: number): Generator<[string[], M]> {
      for (const [value, next] of level) {
        const labels = [...prefix, String(value)];
        if (depth === 1) yield [labels, next as M];
        else yield* walk(next as Map<LabelValue, unknown>, labels, depth - 1);
      }
    };
    yield* walk(this.children, [], this.labelNames.length);
  }
}

interface Family {
  name: string;
  help: string;
  type: MetricType;
  merge: Merge;
  bounds?: readonly number[];
  metric: Metric | Labelled<Metric>;
  /** Reads a gauge's value when a snapshot is taken (memory in use, uploads on disk). */
  collect?: () => number | Promise<number>;
}

export interface GaugeOptions {
  merge?: Merge;
  /** Called for the value whenever a snapshot is taken. */
  collect?: () => number | Promise<number>;
}

/** Seconds: from a cached GET (about a millisecond) to a large transfer. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export class Registry {
  private readonly families = new Map<string, Family>();

  private add<M extends Metric | Labelled<Metric>>(family: Omit<Family, 'metric'>, metric: M): M {
    if (this.families.has(family.name)) throw new Error(`metric ${family.name} is defined twice`);
    this.families.set(family.name, { ...family, metric });
    return metric;
  }

  counter(name: string, help: string): Counter;
  counter(name: string, help: string, labelNames: readonly string[]): Labelled<Counter>;
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter | Labelled<Counter> {
    const metric = labelNames.length > 0 ? new Labelled(labelNames, () => new Counter()) : new Counter();
    return this.add({ name, help, type: 'counter', merge: 'sum' }, metric);
  }

  gauge(name: string, help: string, options: GaugeOptions = {}): Gauge {
    const { merge = 'sum', collect } = options;
    return this.add({ name, help, type: 'gauge', merge, ...(collect ? { collect } : {}) }, new Gauge());
  }

  histogram(name: string, help: string, labelNames: readonly string[], bounds: readonly number[] = LATENCY_BUCKETS): Labelled<Histogram> {
    return this.add({ name, help, type: 'histogram', merge: 'sum', bounds }, new Labelled(labelNames, () => new Histogram(bounds)));
  }

  /**
   * The current values. `shared`: those another process sums (for the cluster), leaving out the
   * `local` ones, which are read only by the process that answers; `local`: only those.
   */
  async snapshot(include: 'all' | 'shared' | 'local' = 'all'): Promise<Snapshot> {
    const out: Snapshot = [];
    for (const family of this.families.values()) {
      if (include !== 'all' && (family.merge === 'local') !== (include === 'local')) continue;
      if (family.collect) {
        const value = await Promise.resolve()
          .then(family.collect)
          .catch(() => undefined);
        if (value === undefined) continue; // could not be read: better absent than wrong
        (family.metric as Gauge).set(value);
      }
      const labelNames = family.metric instanceof Labelled ? [...family.metric.labelNames] : [];
      const entries: [string[], Metric][] = family.metric instanceof Labelled ? [...family.metric.entries()] : [[[], family.metric]];
      out.push({
        name: family.name,
        help: family.help,
        type: family.type,
        merge: family.merge,
        labelNames,
        ...(family.bounds ? { bounds: [...family.bounds] } : {}),
        samples: entries.map(([labels, metric]) => sampleOf(labels, metric)),
      });
    }
    return out;
  }
}

function sampleOf(labels: string[], metric: Metric): SampleSnapshot {
  if (!(metric instanceof Histogram)) return { labels, value: metric.value };
  let cumulative = 0;
  const buckets = Array.from(metric.counts, (n) => (cumulative += n));
  return { labels, value: metric.count, buckets, sum: metric.sum };
}

/**
 * Combines the snapshots of several processes: counters and histograms add up, gauges add up or
 * take the largest (`merge`). Families keep the order in which they first appear.
 */
export function mergeSnapshots(snapshots: readonly Snapshot[]): Snapshot {
  const families = new Map<string, FamilySnapshot>();
  const samples = new Map<string, Map<string, SampleSnapshot>>();
  for (const snapshot of snapshots) {
    for (const family of snapshot) {
      let merged = families.get(family.name);
      let bySample = samples.get(family.name);
      if (!merged || !bySample) {
        merged = { ...family, samples: [] };
        bySample = new Map();
        families.set(family.name, merged);
        samples.set(family.name, bySample);
      }
      for (const sample of family.samples) {
        const key = sample.labels.join('\u0000');
        const into = bySample.get(key);
        if (!into) {
          const copy = { ...sample, ...(sample.buckets ? { buckets: [...sample.buckets] } : {}) };
          bySample.set(key, copy);
          merged.samples.push(copy);
          continue;
        }
        into.value = family.merge === 'max' ? Math.max(into.value, sample.value) : into.value + sample.value;
        if (into.buckets && sample.buckets) sample.buckets.forEach((n, i) => (into.buckets![i] = (into.buckets![i] ?? 0) + n));
        if (into.sum !== undefined && sample.sum !== undefined) into.sum += sample.sum;
      }
    }
  }
  return [...families.values()];
}

/** What of a snapshot keeps counting after its process is gone: counters and histograms. */
export function cumulativeOnly(snapshot: Snapshot): Snapshot {
  return snapshot.filter((family) => family.type !== 'gauge');
}

const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function labelText(names: readonly string[], values: readonly string[], extra?: [string, string]): string {
  const pairs = names.map((name, i) => `${name}="${escapeLabel(values[i] ?? '')}"`);
  if (extra) pairs.push(`${extra[0]}="${extra[1]}"`);
  return pairs.length > 0 ? `{${pairs.join(',')}}` : '';
}

const number = (n: number): string => (Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN');

/** The Prometheus text exposition format (version 0.0.4). */
export function renderPrometheus(snapshot: Snapshot): string {
  const lines: string[] = [];
  for (const family of snapshot) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      if (family.type !== 'histogram') {
        lines.push(`${family.name}${labelText(family.labelNames, sample.labels)} ${number(sample.value)}`);
        continue;
      }
      const bounds = family.bounds ?? [];
      (sample.buckets ?? []).forEach((n, i) => {
        const le = i < bounds.length ? String(bounds[i]) : '+Inf';
        lines.push(`${family.name}_bucket${labelText(family.labelNames, sample.labels, ['le', le])} ${n}`);
      });
      lines.push(`${family.name}_sum${labelText(family.labelNames, sample.labels)} ${number(sample.sum ?? 0)}`);
      lines.push(`${family.name}_count${labelText(family.labelNames, sample.labels)} ${sample.value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The process's registry: every layer adds its metrics here. */
export const registry = new Registry();

export function counter(name: string, help: string): Counter;
export function counter(name: string, help: string, labelNames: readonly string[]): Labelled<Counter>;
export function counter(name: string, help: string, labelNames: readonly string[] = []): Counter | Labelled<Counter> {
  return labelNames.length > 0 ? registry.counter(name, help, labelNames) : registry.counter(name, help);
}

export function gauge(name: string, help: string, options: GaugeOptions = {}): Gauge {
  return registry.gauge(name, help, options);
}

export function histogram(name: string, help: string, labelNames: readonly string[], bounds?: readonly number[]): Labelled<Histogram> {
  return registry.histogram(name, help, labelNames, bounds);
}
