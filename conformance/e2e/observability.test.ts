// Observing sluice: /-/health, /-/ready and /-/metrics outside the S3 namespace (at / and under
// the base path, or on --admin-port only), the metrics a cluster sums over its workers (also
// after one dies), and the access log in its text and JSON formats.
import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createBucket, errorCode, putObject, rawRequest, s3, startSluice, waitFor, type Sluice } from '../lib/harness';
import { childrenOf, onOwnConnection } from '../lib/processes';

/** The value of one sample of a metric in a Prometheus text, e.g. `requests_total{action="GetObject",status="200"}`. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels === '' ? '' : `{${labels}}`} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

t.test('health, readiness and metrics of one process', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  for (const path of ['/-/health', '/api/v1/s3/-/health']) {
    const res = await rawRequest(server, 'GET', path);
    t.equal(res.status, 200, path);
    t.equal(res.text, 'ok\n');
  }
  const head = await rawRequest(server, 'HEAD', '/-/ready');
  t.equal(head.status, 200, 'HEAD /-/ready');
  t.equal(head.text, '', 'without a body');
  t.equal((await rawRequest(server, 'POST', '/-/health')).status, 405, 'only GET and HEAD');
  t.equal(errorCode(await s3(server, 'GET', '/-/other')), 'InvalidBucketName', 'other /-/ paths are no endpoint, and no bucket either');

  await createBucket(server, 'seen');
  const bodies = ['one', 'two two', 'three three three'];
  for (const [i, body] of bodies.entries()) await putObject(server, 'seen', `k${i}`, body);
  t.equal((await s3(server, 'GET', '/seen/k0')).status, 200);
  t.equal((await s3(server, 'GET', '/seen/k1')).status, 200);
  t.equal((await s3(server, 'HEAD', '/seen/k2')).status, 200);
  t.equal((await s3(server, 'GET', '/seen/none')).status, 404);
  t.equal((await s3(server, 'POST', '/seen/big?uploads')).status, 200);

  const scraped = await rawRequest(server, 'GET', '/api/v1/s3/-/metrics');
  t.equal(scraped.status, 200);
  t.match(String(scraped.headers['content-type']), /^text\/plain; version=0\.0\.4/, 'the Prometheus text format');
  const text = scraped.text;
  t.equal(sample(text, 'sluice_requests_total', 'action="PutObject",status="200"'), 3, 'requests by action and status');
  t.equal(sample(text, 'sluice_requests_total', 'action="GetObject",status="200"'), 2);
  t.equal(sample(text, 'sluice_requests_total', 'action="GetObject",status="404"'), 1);
  t.equal(sample(text, 'sluice_requests_total', 'action="HeadObject",status="200"'), 1);
  t.equal(sample(text, 'sluice_requests_total', 'action="Health",status="200"'), 2, 'the endpoints count too');
  t.equal(sample(text, 'sluice_request_duration_seconds_count', 'action="PutObject"'), 3, 'a latency histogram per action');
  t.equal(sample(text, 'sluice_request_duration_seconds_bucket', 'action="PutObject",le="+Inf"'), 3);
  t.ok((sample(text, 'sluice_request_duration_seconds_sum', 'action="PutObject"') ?? 0) > 0);
  const bodyBytes = bodies.join('').length;
  t.ok((sample(text, 'sluice_received_bytes_total') ?? 0) > bodyBytes, 'bytes received, headers and bodies');
  t.ok((sample(text, 'sluice_sent_bytes_total') ?? 0) > 'one'.length + 'two two'.length, 'bytes sent');
  t.equal(sample(text, 'sluice_requests_in_flight'), 1, 'in flight: this scrape');
  t.equal(sample(text, 'sluice_multipart_uploads_open'), 1, 'the upload just created');
  t.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 10 * 1024 * 1024, 'memory');
  t.ok(sample(text, 'sluice_event_loop_lag_p99_seconds') !== undefined, 'event-loop lag');
  t.equal(sample(text, 'sluice_upload_cleaner_runs_total') !== undefined, true, 'cleaner runs');
  t.equal(sample(text, 'sluice_temp_files_swept_total'), 0, 'temp files swept');

  // Not ready while ROOT cannot be written (its temp folder gone); ready again once it is back.
  const tmp = join(server.root, '.sluice', 'tmp');
  renameSync(tmp, `${tmp}.away`);
  const notReady = await rawRequest(server, 'GET', '/-/ready');
  t.equal(notReady.status, 503, 'not ready');
  t.match(notReady.text, /^not ready: ROOT is not readable and writable \(ENOENT\)/);
  renameSync(`${tmp}.away`, tmp);
  t.equal((await rawRequest(server, 'GET', '/-/ready')).status, 200, 'ready again');
});

t.test('--admin-port: the endpoints there, and only there', async (t) => {
  const server = await startSluice({ args: ['--admin-port', '0'] });
  t.teardown(() => server.stop());
  const announced = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/-\//;
  await waitFor(() => announced.test(server.output()), 'the admin port to be announced');
  const adminPort = Number(announced.exec(server.output())?.[1]);
  t.ok(adminPort > 0, `the admin port is announced (${adminPort})`);
  t.equal(errorCode(await s3(server, 'GET', '/-/health')), 'InvalidBucketName', 'not on the S3 port');
  await createBucket(server, 'admin');
  const health = await onOwnConnection(adminPort, 'GET', '/-/health');
  t.equal(health.text, 'ok\n');
  t.equal((await onOwnConnection(adminPort, 'GET', '/-/ready')).status, 200);
  t.equal((await onOwnConnection(adminPort, 'GET', '/elsewhere')).status, 404);
  const metrics = await onOwnConnection(adminPort, 'GET', '/-/metrics');
  t.equal(sample(metrics.text, 'sluice_requests_total', 'action="CreateBucket",status="200"'), 1);
  t.equal(sample(metrics.text, 'sluice_requests_total', 'action="Health",status="200"'), undefined, 'admin requests are not S3 requests');
});

async function scrape(port: number): Promise<string> {
  const res = await onOwnConnection(port, 'GET', '/-/metrics');
  if (res.status !== 200) throw new Error(`metrics: ${res.status}`);
  return res.text;
}

t.test('a cluster: any worker answers with the sums of all, and a dead worker\'s counts are kept', async (t) => {
  const server = await startSluice({ args: ['--workers', '2'] });
  t.teardown(() => server.stop());
  await waitFor(async () => sample(await scrape(server.port).catch(() => ''), 'sluice_workers') === 2, 'two workers listening', 10_000);
  await createBucket(server, 'sums');
  await putObject(server, 'sums', 'k', 'cluster');
  const gets = await Promise.all(Array.from({ length: 40 }, () => onOwnConnection(server.port, 'GET', '/sums/k')));
  t.ok(gets.every((r) => r.status === 200));
  const label = 'action="GetObject",status="200"';
  const scrapes = await Promise.all(Array.from({ length: 6 }, () => scrape(server.port)));
  t.same(scrapes.map((text) => sample(text, 'sluice_requests_total', label)), Array(6).fill(40), 'every scrape, whichever worker took it, counts all 40');
  t.equal(sample(scrapes[0]!, 'sluice_workers'), 2, 'two workers serving');
  t.equal(sample(scrapes[0]!, 'sluice_multipart_uploads_open'), 0, 'a gauge read from disk is not multiplied by the workers');

  // A worker killed outright: what it counted up to the last scrape stays in the sums.
  const [victim] = childrenOf(server.process.pid!);
  process.kill(victim!, 'SIGKILL');
  await waitFor(() => {
    const now = childrenOf(server.process.pid!);
    return now.length === 2 && !now.includes(victim!);
  }, 'a replacement worker', 10_000);
  await waitFor(async () => sample(await scrape(server.port).catch(() => ''), 'sluice_workers') === 2, 'it to listen', 10_000);
  const after = await scrape(server.port);
  t.equal(sample(after, 'sluice_requests_total', label), 40, 'the 40 GETs are still counted');
  t.equal(sample(after, 'sluice_worker_restarts_total'), 1, 'one restart');
});

t.test('the access log: text (as before) and JSON, HEAD with 0 bytes sent', async (t) => {
  const text = await startSluice();
  t.teardown(() => text.stop());
  await createBucket(text, 'logs');
  await putObject(text, 'logs', 'a/b.txt', 'twelve bytes');
  const head = await s3(text, 'HEAD', '/logs/a/b.txt');
  t.equal(head.headers['content-length'], '12');
  const id = String(head.headers['x-amz-request-id']);
  await waitFor(() => text.output().includes(id), 'the log line');
  t.match(text.output(), new RegExp(`HEAD /logs/a/b\\.txt 200 0 [\\d.]+ms ${id} testuser HeadObject`), 'HEAD sends no bytes, and says 0');

  const json = await startSluice({ args: ['--access-log', 'json'] });
  t.teardown(() => json.stop());
  await createBucket(json, 'logs');
  const put = await putObject(json, 'logs', 'dir/é.txt', 'twelve bytes');
  const get = await s3(json, 'GET', '/logs/dir/%C3%A9.txt', { user: 'reader' });
  const headJson = await s3(json, 'HEAD', '/logs/dir/%C3%A9.txt');
  const missing = await s3(json, 'GET', '/logs/none');
  const ids = [put, get, headJson, missing].map((r) => String(r.headers['x-amz-request-id']));
  await waitFor(() => ids.every((i) => json.output().includes(i)), 'the log lines');
  const records = new Map<string, Record<string, unknown>>();
  for (const line of json.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    const record = JSON.parse(line) as Record<string, unknown>;
    records.set(String(record.requestId), record);
  }
  const [putLog, getLog, headLog, missingLog] = ids.map((i) => records.get(i));
  t.match(putLog, { user: 'testuser', action: 'PutObject', bucket: 'logs', key: 'dir/é.txt', method: 'PUT', status: 200 }, 'a JSON object per line');
  t.match(getLog, { user: 'reader', action: 'GetObject', bucket: 'logs', key: 'dir/é.txt', status: 200, bytesSent: 12 });
  t.match(headLog, { action: 'HeadObject', status: 200, bytesSent: 0 });
  t.match(missingLog, { action: 'GetObject', status: 404 });
  t.ok(typeof getLog?.durationMs === 'number' && !Number.isNaN(Date.parse(String(getLog?.time))), 'with the time and the duration');
  t.notMatch(json.output(), / GET \/logs\/none 404 /, 'and no text lines');
});

t.test('the endpoints are no bucket: a bucket named "-" cannot be made', async (t) => {
  const server: Sluice = await startSluice();
  t.teardown(() => server.stop());
  t.equal(errorCode(await s3(server, 'PUT', '/-')), 'InvalidBucketName');
  mkdirSync(join(server.root, '-'));
  t.equal((await rawRequest(server, 'GET', '/-/health')).text, 'ok\n', 'a directory "-" under ROOT changes nothing');
});
