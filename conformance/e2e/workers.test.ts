// --workers N: N processes accept on one port and share nothing but ROOT. Every worker serves,
// state written through one is seen through the others (objects, multipart uploads), a worker
// that dies is replaced, the workers go when their primary does, a worker that cannot listen
// stops the server, and SIGHUP reaches every worker.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CLI, createBucket, md5Hex, putObject, run, s3, startSluice, tempDir, waitFor, xmlValue } from '../lib/harness';
import { childrenOf, isRunning, onOwnConnection } from '../lib/processes';

/** CPU time a process has used, in clock ticks. */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

t.test('two workers serve one port and one ROOT', async (t) => {
  const server = await startSluice({ args: ['--workers', '2'] });
  t.teardown(() => server.stop());
  const primary = server.process.pid!;
  await waitFor(() => childrenOf(primary).length === 2, 'two workers');
  const workers = childrenOf(primary);
  t.equal(workers.length, 2, 'the primary forked two workers');

  await createBucket(server, 'shared');
  const body = Buffer.alloc(300_000, 'w');
  t.equal((await putObject(server, 'shared', 'a.bin', body)).status, 200);
  const ticks = workers.map(cpuTicks);
  const results = await Promise.all(Array.from({ length: 400 }, () => onOwnConnection(server.port, 'GET', '/shared/a.bin')));
  t.ok(results.every((r) => r.status === 200 && md5Hex(r.body) === md5Hex(body)), 'every GET, whichever worker took it, has the bytes');
  const used = workers.map((pid, i) => cpuTicks(pid) - ticks[i]!);
  t.ok(used.every((n) => n > 0), `both workers served (CPU ticks used: ${used.join(', ')})`);

  // A multipart upload begun on one connection, continued and completed on others.
  const created = await s3(server, 'POST', '/shared/mp.bin?uploads');
  const uploadId = xmlValue(created.text, 'UploadId')!;
  const parts = [Buffer.alloc(5 * 1024 * 1024, 1), Buffer.alloc(1000, 2)];
  const etags: string[] = [];
  for (const [i, part] of parts.entries()) {
    const res = await s3(server, 'PUT', `/shared/mp.bin?partNumber=${i + 1}&uploadId=${uploadId}`, { body: part });
    t.equal(res.status, 200, `part ${i + 1}`);
    etags.push(String(res.headers.etag));
  }
  const complete = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
  const done = await s3(server, 'POST', `/shared/mp.bin?uploadId=${uploadId}`, { body: complete });
  t.equal(done.status, 200);
  t.match(xmlValue(done.text, 'ETag'), /-2("|&quot;)$/, 'a two-part ETag');
  const whole = await onOwnConnection(server.port, 'GET', '/shared/mp.bin');
  t.equal(md5Hex(whole.body), md5Hex(Buffer.concat(parts)), 'the completed object, read through any worker');

  // A worker killed outright is replaced, and the port keeps answering meanwhile.
  process.kill(workers[0]!, 'SIGKILL');
  await waitFor(() => {
    const now = childrenOf(primary);
    return now.length === 2 && !now.includes(workers[0]!);
  }, 'a replacement worker');
  const after = await Promise.all(Array.from({ length: 20 }, () => onOwnConnection(server.port, 'GET', '/shared/a.bin')));
  t.ok(after.every((r) => r.status === 200), 'served after a worker died');

  // The workers leave with their primary, even when it is killed without warning.
  const remaining = childrenOf(primary);
  process.kill(primary, 'SIGKILL');
  await waitFor(() => remaining.every((pid) => !isRunning(pid)), 'the workers to exit');
  t.pass('no worker outlives the primary');
});

t.test('a port already taken stops the primary with an error, instead of forking forever', async (t) => {
  const first = await startSluice({ args: ['--workers', '1'] });
  t.teardown(() => first.stop());
  const root = tempDir();
  const child = spawn(process.execPath, [CLI, 'serve', '--root', root, '--host', '127.0.0.1', '--port', String(first.port), '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  t.equal(code, 1, 'exits with 1');
  t.match(output, /EADDRINUSE/, 'says why');
  t.ok((output.match(/starting another/g) ?? []).length === 0, 'without restarting workers that cannot listen');
});

t.test('SIGHUP to the primary reloads the credentials in every worker', async (t) => {
  const credentials = join(tempDir(), 'credentials');
  writeFileSync(credentials, 'AKALICE alice-secret alice\n');
  const server = await startSluice({ args: ['--workers', '2', '--auth', 'sigv4', '--credentials', credentials] });
  t.teardown(() => server.stop());
  await waitFor(() => childrenOf(server.process.pid!).length === 2, 'two workers');
  const workers = childrenOf(server.process.pid!);
  writeFileSync(credentials, 'AKALICE alice-secret alice\nAKCAROL carol-secret carol\n');
  // The primary passes SIGHUP only to workers already listening (one still starting reads the
  // file anyway): signal until each worker has said it reloaded.
  const reloaded = (): Set<number> => new Set([...server.output().matchAll(/reloaded .* \(process (\d+)\)/g)].map((m) => Number(m[1])));
  await waitFor(async () => {
    server.process.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 300));
    return workers.every((pid) => reloaded().has(pid));
  }, 'both workers to reload', 10_000);
  // Eight separate boto3 clients, each on its own connection: both workers must know carol.
  const script = `
import boto3, json
from botocore.config import Config
codes = []
for i in range(8):
    s3 = boto3.client('s3', endpoint_url=${JSON.stringify(server.url)}, aws_access_key_id='AKCAROL', aws_secret_access_key='carol-secret',
        region_name='us-east-1', config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
    codes.append(s3.list_buckets()['ResponseMetadata']['HTTPStatusCode'])
print(json.dumps(codes))`;
  const result = await run('python3', ['-c', script]);
  t.equal(result.code, 0, result.stderr);
  t.same(JSON.parse(result.stdout.trim()), Array(8).fill(200), 'carol is known to whichever worker answers');
  t.ok(childrenOf(server.process.pid!).length === 2, 'the workers are still there');
});
