// The metrics registry: counting, labels, histograms, the text format, and the sums of a cluster.
import t from 'tap';
import { Registry, cumulativeOnly, mergeSnapshots, renderPrometheus } from './registry';

t.test('counters, labelled counters, gauges and histograms in the Prometheus text format', async (t) => {
  const registry = new Registry();
  const plain = registry.counter('x_total', 'Plain');
  const labelled = registry.counter('y_total', 'By action and status', ['action', 'status']);
  const gauge = registry.gauge('z', 'A gauge\nwith "quotes"');
  const histogram = registry.histogram('d_seconds', 'Latency', ['action'], [0.1, 1]);
  plain.inc();
  plain.inc(2);
  labelled.labels('GetObject', 200).inc();
  labelled.labels('GetObject', 200).inc();
  labelled.labels('PutObject', 500).inc();
  labelled.labels('We"ird\\', 404).inc();
  t.equal(labelled.labels('GetObject', 200), labelled.labels('GetObject', 200), 'the same child, found again without allocating');
  gauge.set(7);
  gauge.dec(2);
  histogram.labels('GetObject').observe(0.05);
  histogram.labels('GetObject').observe(0.1);
  histogram.labels('GetObject').observe(3);
  t.throws(() => registry.counter('x_total', 'again'), /defined twice/);
  const text = renderPrometheus(await registry.snapshot());
  t.equal(
    text,
    [
      '# HELP x_total Plain',
      '# TYPE x_total counter',
      'x_total 3',
      '# HELP y_total By action and status',
      '# TYPE y_total counter',
      'y_total{action="GetObject",status="200"} 2',
      'y_total{action="PutObject",status="500"} 1',
      'y_total{action="We\\"ird\\\\",status="404"} 1',
      '# HELP z A gauge\\nwith "quotes"',
      '# TYPE z gauge',
      'z 5',
      '# HELP d_seconds Latency',
      '# TYPE d_seconds histogram',
      'd_seconds_bucket{action="GetObject",le="0.1"} 2',
      'd_seconds_bucket{action="GetObject",le="1"} 2',
      'd_seconds_bucket{action="GetObject",le="+Inf"} 3',
      'd_seconds_sum{action="GetObject"} 3.15',
      'd_seconds_count{action="GetObject"} 3',
      '',
    ].join('\n'),
  );
});

t.test('collected gauges, local gauges and the sums of several processes', async (t) => {
  const processes = [new Registry(), new Registry()];
  let disk = 4;
  processes.forEach((registry, i) => {
    registry.counter('req_total', 'Requests', ['action']).labels('GetObject').inc(10 * (i + 1));
    registry.gauge('in_flight', 'In flight').set(i + 1);
    registry.gauge('lag', 'Worst lag', { merge: 'max' }).set(i === 0 ? 0.5 : 0.2);
    registry.gauge('rss', 'Memory', { collect: () => 100 });
    registry.gauge('uploads_open', 'On disk', { merge: 'local', collect: async () => disk++ });
    registry.histogram('d', 'Latency', ['action'], [1]).labels('GetObject').observe(i);
  });
  const shared = await Promise.all(processes.map((r) => r.snapshot('shared')));
  t.notOk(shared.some((s) => s.some((f) => f.name === 'uploads_open')), 'a local gauge is not sent for summing');
  t.equal(disk, 4, 'nor read by the processes that do not answer');
  const local = await processes[0]!.snapshot('local');
  t.same(local.map((f) => f.name), ['uploads_open']);
  const text = renderPrometheus(mergeSnapshots([...shared, local]));
  t.match(text, /^req_total\{action="GetObject"\} 30$/m, 'counters add up');
  t.match(text, /^in_flight 3$/m, 'gauges add up');
  t.match(text, /^lag 0\.5$/m, 'or take the largest');
  t.match(text, /^rss 200$/m, 'collected at snapshot time');
  t.match(text, /^uploads_open 4$/m, 'the local gauge once');
  t.match(text, /^d_bucket\{action="GetObject",le="1"\} 2$/m, 'histogram buckets add up');
  t.match(text, /^d_count\{action="GetObject"\} 2$/m);
  t.same(cumulativeOnly(shared[0]!).map((f) => f.name), ['req_total', 'd'], 'what a departed process keeps contributing');
});
