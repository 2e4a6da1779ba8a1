// sluice behind a load balancer: two sluice processes on one ROOT, and Debian's nginx in front of
// them running the shipped tools/deploy/nginx-load-balancer.conf (round robin, no buffering). The
// documented transcripts replay through it; a multipart upload is split across the processes; a
// listing pages through while both take writes; bodies stream both ways; awkward keys arrive byte
// for byte, signed too.
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { failureDetail } from '../lib/replay-report';
import { aws, boto3, createBucket, lastJson, md5Hex, objectPath, putObject, run, s3, simpleAuth, startSluice, tempDir, waitFor, xmlValue, xmlValues, type Endpoint, type Sluice } from '../lib/harness';
import { MiB, inParallel, multipartETag, patternBytes, randomFile } from '../lib/multipart-helpers';
import { NGINX_INSTALL, nginxProgram, startLoadBalancer, type LoadBalancer } from '../lib/nginx';
import { replayAll } from '../replay';

interface Cluster {
  root: string;
  backends: Sluice[];
  lb: LoadBalancer;
}

/** Two sluice processes on one fresh ROOT behind nginx; everything is stopped and removed when `t` ends. */
async function startCluster(t: Test, args: string[] = []): Promise<Cluster> {
  const root = tempDir('sluice-lb-');
  const running: { stop(): Promise<void> }[] = [];
  t.teardown(async () => {
    for (const server of running.reverse()) await server.stop();
    rmSync(root, { recursive: true, force: true });
  });
  // Started together: both open the fresh ROOT (and create its state) at the same moment.
  const started = await Promise.allSettled([0, 1].map(() => startSluice({ root, args })));
  const backends = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  running.push(...backends);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  const lb = await startLoadBalancer(backends);
  running.push(lb);
  return { root, backends, lb };
}

interface SluiceLine {
  method: string;
  path: string;
  status: number;
  id: string;
  action: string;
}

/** A backend's access log: one line per request (time method path status bytes ms id user action). */
function sluiceLines(server: Endpoint): SluiceLine[] {
  return [...server.output().matchAll(/^\S+Z (\S+) (\S+) (\d{3}) \S+ \S+ ([0-9A-F]{16}) \S+ (\S+)$/gm)].map((m) => ({
    method: m[1]!,
    path: m[2]!,
    status: Number(m[3]),
    id: m[4]!,
    action: m[5]!,
  }));
}

/** The backends (by index) whose access log has the request `id`. */
function servedBy(backends: Sluice[], id: string): number[] {
  return backends.flatMap((b, i) => (sluiceLines(b).some((line) => line.id === id) ? [i] : []));
}

interface NginxLine {
  method: string;
  path: string;
  id: string;
}

/** nginx's access log (the shipped log_format): the request line as received and sluice's request id. */
function nginxLines(lb: LoadBalancer): NginxLine[] {
  return [...lb.accessLog().matchAll(/"(\S+) (\S+) HTTP\/1\.[01]" .* id=(\S+)$/gm)].map((m) => ({ method: m[1]!, path: m[2]!, id: m[3]! }));
}

/**
 * Waits until nginx's access log and the backends' name the same requests: each writes its line
 * once the response is out, so a client can be done before the last lines are.
 */
async function logsSettled(cluster: Cluster): Promise<void> {
  const difference = (): string[] => {
    const atNginx = new Set(nginxLines(cluster.lb).map((line) => line.id));
    const atSluice = new Set(cluster.backends.flatMap(sluiceLines).map((line) => line.id));
    return [...[...atNginx].filter((id) => !atSluice.has(id)).map((id) => `${id} only at nginx`), ...[...atSluice].filter((id) => !atNginx.has(id)).map((id) => `${id} only at sluice`)];
  };
  try {
    await waitFor(() => difference().length === 0, 'the access logs', 5000);
  } catch {
    throw new Error(`nginx and sluice logged different requests: ${difference().join(', ')}`);
  }
}

/** Requests whose path reached sluice other than as nginx received it (there must be none). */
async function pathsChanged(cluster: Cluster): Promise<string[]> {
  await logsSettled(cluster);
  const atSluice = new Map(cluster.backends.flatMap(sluiceLines).map((line) => [line.id, line.path]));
  return nginxLines(cluster.lb).flatMap((line) => {
    const received = line.path.split('?')[0]!;
    const seen = atSluice.get(line.id);
    return seen === received ? [] : [`${line.method} ${received} reached sluice as ${seen ?? '(no line)'}`];
  });
}

const byteOrder = (keys: string[]): string[] => [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

const missing = nginxProgram() === undefined ? `nginx is missing: ${NGINX_INSTALL} (the test runs its own nginx on loopback, never the system service)` : undefined;
if (missing) t.fail(missing);
// A fresh object for each test: tap writes into the options it is given.
const needsNginx = (): { skip: string | false } => ({ skip: missing ?? false });

t.test('the documented transcripts replay through nginx in front of two sluices on one ROOT', needsNginx(), async (t) => {
  const cluster = await startCluster(t);
  const lines: string[] = [];
  const report = await replayAll({ target: cluster.lb, log: (line) => lines.push(line) });
  t.ok(report.results.length >= 30, `all transcripts ran (${report.results.length})`);
  for (const result of [...report.results].sort((a, b) => a.transcript.name.localeCompare(b.transcript.name))) {
    t.ok(result.passed, `${result.transcript.name}: ${result.transcript.title}`, result.passed ? {} : { detail: failureDetail(result).join('\n') });
  }
  t.same(await pathsChanged(cluster), [], 'every request path reached sluice exactly as nginx received it');
  const served = cluster.backends.map((b) => sluiceLines(b).length);
  t.ok(served.every((n) => n > 20), `both processes served the replay (${served.join(' and ')} requests)`);
  t.comment(lines.filter((line) => !line.startsWith('     ')).join('\n'));
});

t.test('a multipart upload whose parts and CompleteMultipartUpload land on different processes', needsNginx(), async (t) => {
  const cluster = await startCluster(t);
  const { lb, backends } = cluster;
  await createBucket(lb, 'spread');
  const { path: file, md5: md5In, partMd5s } = await randomFile(t, 15 * MiB, 5 * MiB);
  const expectedETag = multipartETag(partMd5s);
  t.match(expectedETag, /-3$/);

  // One boto3 client, so one connection to nginx, which sends each request to the next backend.
  const result = lastJson<{ create: string; parts: string[]; complete: string; etag: string; gotETag: string; gotMd5: string; length: number; left: number }>(
    await boto3(
      lb,
      `
key = 'big/object.bin'
up = s3.create_multipart_upload(Bucket='spread', Key=key)
rid = lambda r: r['ResponseMetadata']['RequestId']
parts, part_ids = [], []
with open(${JSON.stringify(file)}, 'rb') as f:
    for n in (1, 2, 3):
        r = s3.upload_part(Bucket='spread', Key=key, UploadId=up['UploadId'], PartNumber=n, Body=f.read(5 * 1024 * 1024))
        parts.append({'PartNumber': n, 'ETag': r['ETag']})
        part_ids.append(rid(r))
done = s3.complete_multipart_upload(Bucket='spread', Key=key, UploadId=up['UploadId'], MultipartUpload={'Parts': parts})
got = s3.get_object(Bucket='spread', Key=key)
h, length = hashlib.md5(), 0
for chunk in got['Body'].iter_chunks(1 << 20):
    h.update(chunk)
    length += len(chunk)
left = s3.list_multipart_uploads(Bucket='spread').get('Uploads', [])
print(json.dumps({'create': rid(up), 'parts': part_ids, 'complete': rid(done), 'etag': done['ETag'], 'gotETag': got['ETag'],
                  'gotMd5': h.hexdigest(), 'length': length, 'left': len(left)}))
`,
    ),
  );
  t.equal(result.etag, `"${expectedETag}"`, 'CompleteMultipartUpload answers the ETag of the three parts, -3');
  t.equal(result.gotETag, `"${expectedETag}"`, 'GET through nginx has that ETag');
  t.equal(result.gotMd5, md5In, 'and the uploaded bytes');
  t.equal(result.length, 15 * MiB);
  t.equal(result.left, 0, 'no upload is left in progress');

  // Each sluice prints one line per request; the request ids the client got say who served what.
  await logsSettled(cluster);
  const where = (id: string): number => {
    const found = servedBy(backends, id);
    t.equal(found.length, 1, `request ${id} was served exactly once, by one process`);
    return found[0]!;
  };
  const partsAt = result.parts.map(where);
  const completeAt = where(result.complete);
  const lines = backends.flatMap(sluiceLines);
  t.same(
    result.parts.map((id) => lines.find((line) => line.id === id)?.action),
    ['UploadPart', 'UploadPart', 'UploadPart'],
    'the access logs name the three UploadParts',
  );
  t.equal(lines.find((line) => line.id === result.complete)?.action, 'CompleteMultipartUpload');
  t.ok(
    partsAt.some((at) => at !== completeAt),
    `a part uploaded through one process was completed by the other (parts on ${partsAt.join(', ')}, complete on ${completeAt})`,
  );
  t.equal(new Set([...partsAt, where(result.create)]).size, 2, 'both processes took part in the upload');
});

t.test('ListObjectsV2 pages in order, without duplicates, while both processes take writes', needsNginx(), async (t) => {
  const cluster = await startCluster(t);
  const { lb, backends } = cluster;
  await createBucket(lb, 'busy');
  // Keys spread over the key space, so writes land before and after the listing's position.
  const keys = Array.from({ length: 300 }, (_, i) => `${md5Hex(String(i)).slice(0, 6)}-${i}`);
  const issued = new Set<string>();
  const written = new Set<string>();
  let writing = true;
  const writes = inParallel(keys.length, 4, async (i) => {
    issued.add(keys[i]!);
    await putObject(lb, 'busy', keys[i]!, `body of ${keys[i]}`);
    written.add(keys[i]!);
  }).finally(() => (writing = false));

  const unknown: string[] = [];
  const disorder: string[] = [];
  let pages = 0;
  let crossed = 0;
  const processOf = (res: { headers: Record<string, unknown> }): string => String(res.headers['x-amz-request-id']).slice(0, 8);
  /** One pass of ListObjectsV2 pages; checks each key as it comes. */
  const listAll = async (): Promise<string[]> => {
    const listed: string[] = [];
    let token: string | undefined;
    let issuer: string | undefined;
    do {
      const query = `list-type=2&max-keys=9${token === undefined ? '' : `&continuation-token=${encodeURIComponent(token)}`}`;
      const res = await s3(lb, 'GET', `/busy?${query}`);
      if (res.status !== 200) throw new Error(`ListObjectsV2 ${query}: ${res.status} ${res.text}`);
      pages++;
      // The request ids of each process share a prefix of their own.
      if (issuer !== undefined && issuer !== processOf(res)) crossed++;
      for (const key of xmlValues(res.text, 'Key')) {
        if (!issued.has(key)) unknown.push(key);
        const previous = listed[listed.length - 1];
        if (previous !== undefined && Buffer.compare(Buffer.from(previous), Buffer.from(key)) >= 0) disorder.push(`${previous} then ${key}`);
        listed.push(key);
      }
      token = xmlValue(res.text, 'NextContinuationToken');
      issuer = processOf(res);
      if ((xmlValue(res.text, 'IsTruncated') === 'true') !== (token !== undefined)) throw new Error(`IsTruncated disagrees with the token: ${res.text}`);
    } while (token !== undefined);
    return listed;
  };
  const passes: string[][] = [];
  while (writing) passes.push(await listAll());
  await writes;
  const final = await listAll();

  t.same(unknown, [], 'every listed key is one that was written (or was being written)');
  t.same(disorder, [], 'each pass rises strictly in byte order: pages in order, no duplicates');
  t.ok(passes.length >= 2, `${passes.length} passes (${pages} pages) ran during the writes, seeing ${passes.map((p) => p.length).join(', ')} keys`);
  const lost = passes.slice(1).flatMap((pass, i) => passes[i]!.filter((key) => !pass.includes(key)));
  t.same(lost, [], 'no key seen by one pass is missing from the next');
  t.ok(passes.some((pass) => pass.length < keys.length), 'a pass saw the bucket partly written');
  t.ok(crossed > 0, `continuation tokens issued by one process were honoured by the other (${crossed} times)`);
  t.same(final, byteOrder(keys), 'at the end the listing holds every written key, in byte order');
  await logsSettled(cluster);
  const puts = backends.map((b) => sluiceLines(b).filter((line) => line.action === 'PutObject' && line.status === 200).length);
  t.ok(puts.every((n) => n > 50), `both processes took writes (${puts.join(' and ')} PutObjects)`);
});

t.test('bodies stream through nginx both ways: neither buffered in memory nor on disk', needsNginx(), async (t) => {
  const cluster = await startCluster(t);
  const { lb } = cluster;
  await createBucket(lb, 'stream');
  const size = 8 * MiB;
  const body = patternBytes(size, 7);

  // Half a body sent, the rest held back: sluice must already be writing it (nginx would hold all
  // of it first with proxy_request_buffering on).
  const req = request({ host: '127.0.0.1', port: lb.port, method: 'PUT', path: '/stream/big.bin', headers: { Authorization: simpleAuth(), 'Content-Length': size } });
  t.teardown(() => req.destroy());
  const answered = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => res.resume().on('end', () => resolve(res.statusCode ?? 0)));
    req.on('error', reject);
  });
  req.write(body.subarray(0, size / 2));
  const tmp = join(cluster.root, '.sluice', 'tmp');
  const written = (): number =>
    Math.max(0, ...readdirSync(tmp).map((name) => {
      try {
        return statSync(join(tmp, name)).size;
      } catch {
        return 0; // renamed into place meanwhile
      }
    }));
  await waitFor(() => written() >= MiB, 'sluice to write the first half while the client holds back the rest', 15_000);
  t.pass(`sluice had written ${written()} bytes before the client sent the second half`);
  req.end(body.subarray(size / 2));
  t.equal(await answered, 200, 'the PUT completes');

  // A client that stops reading for a while: nginx must not read ahead into a temp file.
  const got = await new Promise<Buffer>((resolve, reject) => {
    const get = request({ host: '127.0.0.1', port: lb.port, path: '/stream/big.bin', headers: { Authorization: simpleAuth() } }, (res) => {
      const chunks: Buffer[] = [];
      res.once('data', () => {
        res.pause();
        setTimeout(() => res.resume(), 1000);
      });
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    get.on('error', reject);
    get.end();
  });
  t.ok(got.equals(body), 'the GET, read with a pause, has the bytes');
  t.notMatch(lb.errorLog(), /buffered to a temporary file/, 'nginx buffered no request or response body to disk');
});

/** Keys that an encoder, a proxy or a path normalizer could get wrong. */
const AWKWARD = ['with space/and+plus.txt', 'literal%2Fpercent', 'ünïcödé/日本語 ☃.bin', "sub-delims!$&'()*,;=:@~", 'query?and#hash'];

t.test('keys with awkward characters pass through nginx byte for byte (raw paths)', needsNginx(), async (t) => {
  const cluster = await startCluster(t);
  const { lb } = cluster;
  await createBucket(lb, 'odd');
  // [path as sent, the key it names]: each key encoded per segment, and paths no encoder would
  // write but that name a key all the same (a bare '+', lowercase and needless escapes, raw sub-delims).
  const sent: [string, string][] = [
    ...AWKWARD.map((key): [string, string] => [objectPath('odd', key), key]),
    ['/odd/bare+plus', 'bare+plus'],
    ['/odd/%41b%20%c3%a9', 'Ab é'],
    ["/odd/raw-sub-delims!$&'()*,;=:@~", "raw-sub-delims!$&'()*,;=:@~"],
    ['/odd/slash%2Fin/a%2Fsegment', 'slash/in/a/segment'],
  ];
  const bodies = new Map(sent.map(([, key], i) => [key, Buffer.concat([Buffer.from([0, 255, i]), Buffer.from(`bytes of ${key}\r\n`)])]));
  for (const [path, key] of sent) {
    const res = await s3(lb, 'PUT', path, { body: bodies.get(key)!, headers: { 'x-amz-meta-my_field': 'under_score' } });
    t.equal(res.status, 200, `PUT ${path}`);
  }
  for (const [, key] of sent) {
    const path = objectPath('odd', key);
    const got = await s3(lb, 'GET', path);
    t.ok(got.status === 200 && got.body.equals(bodies.get(key)!), `GET ${path}: the bytes PUT as ${key}`);
    t.same(readFileSync(join(cluster.root, 'odd', key)), bodies.get(key), `on disk at the key's own path: ${key}`);
    const head = await s3(lb, 'HEAD', path);
    t.equal(head.headers['x-amz-meta-my_field'], 'under_score', 'a metadata header with an underscore survives nginx');
  }
  const listed = await s3(lb, 'GET', '/odd?list-type=2&encoding-type=url');
  const keys = xmlValues(listed.text, 'Key').map((k) => decodeURIComponent(k.replace(/\+/g, ' ')));
  t.same(keys.filter((k) => !k.endsWith('/')), byteOrder(sent.map(([, key]) => key)), 'the listing names exactly these keys');
  t.same(await pathsChanged(cluster), [], 'every path reached sluice exactly as sent: no decoding, re-encoding or merging');
});

t.test('SigV4 through nginx: the signed Host and path reach sluice unchanged (boto3, aws cli, a presigned URL)', needsNginx(), async (t) => {
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const credentials = join(dir, 'credentials');
  // The harness's clients sign as testuser with this secret.
  writeFileSync(credentials, 'testuser dummy-secret testuser\n');
  const cluster = await startCluster(t, ['--auth', 'sigv4', '--credentials', credentials]);
  const { lb, backends } = cluster;
  const anonymous = await s3(lb, 'GET', '/', { user: null });
  t.equal(anonymous.status, 403, 'unsigned requests are refused: the check below is real');

  const result = lastJson<{ md5s: Record<string, string>; meta: Record<string, string>; keys: string[]; presigned: string }>(
    await boto3(
      lb,
      `
keys = ${JSON.stringify(AWKWARD)}
s3.create_bucket(Bucket='signed')
md5s, meta = {}, {}
for i, key in enumerate(keys):
    s3.put_object(Bucket='signed', Key=key, Body=bytes([0, 255, i]) + key.encode(), Metadata={'my_field': 'under_score'})
    md5s[key] = hashlib.md5(s3.get_object(Bucket='signed', Key=key)['Body'].read()).hexdigest()
    meta[key] = s3.head_object(Bucket='signed', Key=key)['Metadata'].get('my_field', '')
listed = [o['Key'] for o in s3.list_objects_v2(Bucket='signed')['Contents']]
# SigV4 query signing (boto3's default for presigning is SigV2).
v4 = boto3.client('s3', endpoint_url=ENDPOINT, aws_access_key_id=USER, aws_secret_access_key='dummy-secret', region_name='us-east-1',
                  config=Config(signature_version='s3v4', s3={'addressing_style': 'path'}))
url = v4.generate_presigned_url('get_object', Params={'Bucket': 'signed', 'Key': keys[2]}, ExpiresIn=300)
print(json.dumps({'md5s': md5s, 'meta': meta, 'keys': listed, 'presigned': url}))
`,
    ),
  );
  AWKWARD.forEach((key, i) => {
    t.equal(result.md5s[key], md5Hex(Buffer.concat([Buffer.from([0, 255, i]), Buffer.from(key)])), `signed PUT and GET of ${key}`);
    t.equal(result.meta[key], 'under_score', `signed x-amz-meta-my_field of ${key}`);
  });
  t.same(
    result.keys.filter((k) => !k.endsWith('/')),
    byteOrder(AWKWARD),
    'signed ListObjectsV2 names the keys',
  );

  const out = join(dir, 'presigned.bin');
  const curl = await run('curl', ['-sS', '--fail-with-body', '-o', out, result.presigned]);
  t.equal(curl.code, 0, `curl of a presigned URL through nginx: ${curl.stderr}`);
  t.equal(md5Hex(readFileSync(out)), result.md5s[AWKWARD[2]!], 'the presigned GET has the bytes');

  const file = join(dir, 'cli.txt');
  writeFileSync(file, 'from the aws cli\n');
  const cp = await aws(lb, ['s3', 'cp', file, 's3://signed/aws cli/ü +%.txt', '--only-show-errors']);
  t.equal(cp.code, 0, `aws s3 cp to an awkward key: ${cp.stderr}`);
  t.same(readFileSync(join(cluster.root, 'signed', 'aws cli', 'ü +%.txt'), 'utf8'), 'from the aws cli\n', 'the aws cli object on disk');

  t.same(await pathsChanged(cluster), [], 'every signed path reached sluice exactly as sent');
  const refused = backends.flatMap(sluiceLines).filter((line) => line.status === 403);
  t.equal(refused.length, 1, 'no signed request was refused (the one 403 is the unsigned probe)');
  const both = backends.map((b) => sluiceLines(b).length);
  t.ok(both.every((n) => n > 3), `both processes verified signatures (${both.join(' and ')} requests)`);
});

t.test('an error answered before the body is read reaches the client through nginx, not a 502', needsNginx(), async (t) => {
  const { lb } = await startCluster(t);
  const file = join(tempDir('sluice-lb-body-'), 'body');
  t.teardown(() => rmSync(join(file, '..'), { recursive: true, force: true }));
  writeFileSync(file, patternBytes(20 * MiB, 2));
  // sluice refuses at once (NoSuchBucket) and drops the rest of the body before it closes; closing
  // with unread bytes would reset the connection under nginx, which still streams the body.
  const statuses: string[] = [];
  for (let i = 0; i < 12; i++) {
    const args = ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'PUT', '-H', 'Expect:', '-H', `Authorization: ${simpleAuth()}`];
    statuses.push((await run('curl', [...args, '--data-binary', `@${file}`, `${lb.url}/nosuchbucket/key`])).stdout);
  }
  t.same(statuses, Array(12).fill('404'), '20 MiB PUTs to a missing bucket: each one a 404');
});
